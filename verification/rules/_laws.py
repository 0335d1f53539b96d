r"""Decision rules with the network draw as the unit, and the pieces of an observed law (C2, C3).

**Seeds, not neurons.** Theorems 5.2 and 5.3 state probabilities over the random initialisation:
:math:`\Pr[w_r(t) > 0 \mid a_r = 1] \ge 1-\delta` is, for a *fixed* neuron r, a probability over
the network draw (the seed). The m neurons of one trained network share :math:`f(t)` and the
residual :math:`y - f(t)`, so they are not independent trials: pooling 640 neurons of 2 networks as
640 Bernoulli trials gave a p-value of 1e-128 for a statement two draws cannot support. By
exchangeability every neuron has the same probability, so :func:`designated_outcomes` takes one
*designated* neuron per network (the first one that qualifies) and :func:`seed_decision` counts
the networks in which it fails: S independent Bernoulli trials per width, decided by
:func:`verification.rules.probability_decision` (Clopper–Pearson, intersection–union for HOLDS,
Holm for VIOLATED). Exact at any within-network dependence; the price is power —
:func:`seeds_for_power` gives the seeds per width at which a true claim reaches HOLDS with
probability 0.8 (36 at δ = 0.1, α = 0.05 with no failure at all). Calibrated on planted networks
with correlated neurons in :mod:`verification.calibration._seeds`.

**Every neuron, seeds as the unit.** :func:`fraction_decision` keeps the network draw as the
unit but uses all its neurons: network s contributes its *failure fraction* :math:`f_s \in [0, 1]`
(the share of its neurons of the group that fail), i.i.d. over draws whatever the dependence
within a network, with :math:`\mathbb E f_s = p`. Per member (width × group) two valid p-values
that depend on the *set* of fractions only (:func:`fraction_pvalues`): an exact binomial test on
Bernoulli-rounded fractions (whole groups flipping: fractions 0 or ≈ 1) and a constant-bet
betting e-value (concentrated fractions), combined by a weighted Bonferroni fixed in advance.
HOLDS when every member's p of :math:`p \ge \delta` is ≤ α/2 (intersection–union), VIOLATED
when a Holm-adjusted p of :math:`p \le \delta` is ≤ α/2. :func:`fraction_seeds_for_power` gives
the networks needed under a conservative law (whole-group flips at a pessimistic rate), never
the optimistic resampling of a small pilot. Calibrated in :mod:`verification.calibration._seeds`
and :mod:`verification.calibration._fractions`.

**Observed laws.** :func:`onset_fit_reading` says when first-reaching times on log-spaced records
cannot carry an exponent (reached at the first record: censored; the same record at every width:
below the record resolution); :func:`conclusion_boundary` the largest :math:`|w|` of a grid up to
which a conclusion holds; :func:`step_size_premise` the premise :math:`\eta \le O(\lambda\delta/
\mathrm{poly})` against λ, in orders of magnitude.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from jaxtyping import Bool, Float

from verification import rules as stats
from verification.rules._fractions import (
    FRACTION_RULE,
    FractionDecision,
    fraction_decision,
    fraction_pvalues,
    fraction_seeds_for_power,
    fraction_statuses,
)
from verification.rules._verdict import HOLDS, VACUOUS, VIOLATED

__all__ = [
    "SEED_RULE",
    "designated_outcomes",
    "seed_decision",
    "seeds_for_power",
    "FRACTION_RULE",
    "FractionDecision",
    "fraction_decision",
    "fraction_seeds_for_power",
    "fraction_pvalues",
    "fraction_statuses",
    "budget_words",
    "onset_fit_reading",
    "conclusion_boundary",
    "StepPremise",
    "step_size_premise",
]

SEED_RULE = (
    "seed-level probability (one designated neuron per network draw; Clopper–Pearson, IUT/Holm "
    "over "
    "widths)"
)
"""The name of :func:`seed_decision` in verdicts and in docs/calibration.md."""


def designated_outcomes(
    ok: Bool[np.ndarray, "S m"], eligible: Bool[np.ndarray, "S m"] | None = None
) -> tuple[int, int, np.ndarray]:
    r"""Failures and trials of one designated neuron per network: ``(failures, trials, index)``.

    In network s the designated neuron is :math:`r_s = \min\{r : \mathrm{eligible}_{s,r}\}` (the
    first neuron where the premise holds; every neuron when ``eligible`` is None); the trial fails
    when ``ok[s, r_s]`` is False. Networks without an eligible neuron are not trials
    (``index`` is -1 there). By exchangeability of the neurons :math:`\Pr[\neg ok_{s,r_s}]` is the
    theorem's per-neuron probability, and the S trials are independent.
    """
    ok = np.asarray(ok, bool)
    if ok.ndim != 2:
        raise ValueError(f"ok: expected shape (seeds, m), got {ok.shape}")
    el = np.ones_like(ok) if eligible is None else np.asarray(eligible, bool)
    if el.shape != ok.shape:
        raise ValueError(f"eligible: expected shape {ok.shape} like ok, got {el.shape}")
    has = el.any(axis=1)
    idx = np.where(has, np.argmax(el, axis=1), -1)
    rows = np.flatnonzero(has)
    fails = int(np.sum(~ok[rows, idx[rows]]))
    return fails, int(rows.size), idx


def seed_decision(
    failures, trials, *, delta: float, alpha: float = 0.05
) -> stats.ProbabilityDecision | None:
    r""" "At every width the designated neuron fails with probability :math:`\le\delta`", seeds as
    trials.

    ``failures``, ``trials`` (K,): per width (or width × group) the counts of
    :func:`designated_outcomes`. Members with no trial are left out; None when none is left.
    :func:`verification.rules.probability_decision` with Holm: HOLDS needs the Clopper–Pearson
    upper end (one-sided :math:`1-\alpha/2`) :math:`\le\delta` at every member — at least
    :func:`seeds_for_power` networks per width.

    >>> seed_decision([2, 2], [2, 2], delta=0.1).status  # 2 of 2 networks fail at both widths
    'VIOLATED'
    >>> seed_decision([0, 0], [2, 2], delta=0.1).status  # two draws cannot show a 1 - δ probability
    'INCONCLUSIVE'
    """
    k = np.asarray(failures, np.int64).reshape(-1)
    n = np.asarray(trials, np.int64).reshape(-1)
    if k.shape != n.shape:
        raise ValueError(f"failures, trials: expected equal shapes, got {k.shape} and {n.shape}")
    keep = n > 0
    if not keep.any():
        return None
    return stats.probability_decision(k[keep], n[keep], delta=delta, alpha=alpha, correction="holm")


def seeds_for_power(
    *,
    delta: float,
    alpha: float = 0.05,
    widths: int = 1,
    p_true: float = 0.0,
    power: float = 0.8,
    max_seeds: int = 10_000,
) -> int:
    r"""Smallest S at which :func:`seed_decision` says HOLDS with probability ≥ ``power``.

    HOLDS needs :math:`k \le k^*(S)` failures at each of ``widths`` independent widths, with
    :math:`k^*` the largest count whose Clopper–Pearson upper end is :math:`\le\delta`; the
    probability is :math:`P(\mathrm{Bin}(S, p_{true}) \le k^*)^{W}` (exact).

    >>> seeds_for_power(delta=0.1)  # 1 - 0.025**(1/S) <= 0.1
    36
    """
    if not 0 <= p_true < delta:
        raise ValueError(
            f"p_true: expected a true failure rate in [0, delta = {delta}), got {p_true!r}"
        )
    for S in range(1, max_seeds + 1):
        k = np.arange(S + 1)
        _, hi = stats.clopper_pearson(k, np.full_like(k, S), alpha)
        ok = k[np.asarray(hi) <= delta]
        if ok.size and _binom_cdf(int(ok.max()), S, p_true) ** widths >= power:
            return S
    raise ValueError(f"max_seeds: no budget up to {max_seeds} seeds reaches power {power}")


def budget_words(failures, trials, *, delta: float, alpha: float = 0.05) -> str:
    r"""Where :func:`seed_decision` stays INCONCLUSIVE: the networks per width at which it would
    reach
    HOLDS with probability 0.8, at the worst failure rate observed :math:`\hat p = \max_k f_k/n_k`.

    When :math:`\hat p \ge \delta` no budget reaches HOLDS at that rate, and the words say so.

    >>> budget_words([0, 0], [3, 3], delta=0.1)
    '36 seeds per width (power 0.8 of the seed-level rule at the observed failure rate 0)'
    """
    k = np.asarray(failures, np.float64).reshape(-1)
    n = np.asarray(trials, np.float64).reshape(-1)
    keep = n > 0
    if not keep.any():
        return "no network with a designated neuron: no budget can be stated"
    p_hat = float(np.max(k[keep] / n[keep]))
    if p_hat >= delta:
        return (
            f"none: the observed failure rate {p_hat:.3g} is at or above δ = {delta:g}, so more "
            f"seeds move "
            "toward VIOLATED, not HOLDS"
        )
    try:
        S = seeds_for_power(delta=delta, alpha=alpha, widths=int(keep.sum()), p_true=p_hat)
    except ValueError:
        return f"beyond 10000 seeds per width at the observed failure rate {p_hat:.3g}"
    return (
        f"{S} seeds per width (power 0.8 of the seed-level rule at the observed failure rate "
        f"{p_hat:.3g})"
    )


def _binom_cdf(k: int, n: int, p: float) -> float:
    """:math:`P(\\mathrm{Bin}(n, p) \\le k)`, summed exactly (n is a seed count: small)."""
    return float(sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k + 1)))


def onset_fit_reading(first: Float[np.ndarray, "W S"], steps) -> str:
    r"""Why first-reaching times on the records ``steps`` cannot carry an exponent in m ('' when
    they can).

    A first time equal to the first positive record :math:`t_1` says only "reached by :math:`t_1`"
    (censored); the same record at every width says the onsets differ by less than one record
    spacing (the fit's slope is 0 by quantisation, not by measurement); a level not reached is not
    a time.
    """
    f = np.asarray(first, np.float64)
    steps = np.asarray(steps, np.float64)
    if f.ndim == 1:
        f = f[:, None]
    pos = steps[steps > 0]
    if not np.isfinite(f).all():
        return "not reached at every width and seed"
    if pos.size and np.any(f <= pos[0]):
        return f"reached by the first record t = {int(pos[0])} (censored: only an upper bound)"
    if np.all(f == f.flat[0]):
        return f"the same record t = {int(f.flat[0])} at every width (below the record resolution)"
    return ""


def conclusion_boundary(
    w_abs: Float[np.ndarray, " G"], holds: Bool[np.ndarray, " G"]
) -> tuple[float, float]:
    r"""``(w_hold, w_fail)``: the largest :math:`|w|` of the grid up to which ``holds`` is True at
    every
    smaller grid point, and the first :math:`|w|` where it is False (inf when it never fails; w_hold
    is NaN when it fails at the smallest grid point).

    >>> conclusion_boundary(np.array([0.1, 0.5, 1.0, 2.0]), np.array([True, True, False, True]))
    (0.5, 1.0)
    """
    w = np.asarray(w_abs, np.float64)
    h = np.asarray(holds, bool)
    if w.ndim != 1 or h.shape != w.shape or np.any(np.diff(w) <= 0):
        raise ValueError(
            f"w_abs, holds: expected a strictly increasing grid and flags of its shape, got "
            f"{w.shape} and {h.shape}"
        )
    bad = np.flatnonzero(~h)
    if bad.size == 0:
        return float(w[-1]), math.inf
    j = int(bad[0])
    return (float(w[j - 1]) if j > 0 else math.nan), float(w[j])


class StepPremise(NamedTuple):
    """The premise η ≤ c_η λδ: ``status`` (HOLDS/VIOLATED, VACUOUS when λ is unresolved), ``orders``
    = log10(η/(c_η λδ)) (> 0: unmet by that many orders), ``finding``."""

    status: str
    orders: float
    finding: str


def step_size_premise(
    eta: float, lam: float, lam_resolution: float, *, delta: float, c_eta: float = 1.0
) -> StepPremise:
    r"""Theorem 5.2's step size :math:`\eta \le O(\lambda\delta/\mathrm{poly}(n, d, e^{B^2},
    \dots))`.

    The polynomial is at least 1, so :math:`\eta \le c_\eta\lambda\delta` is *necessary* with the
    unknown constant :math:`c_\eta` (default 1): VIOLATED when :math:`\eta > c_\eta\lambda\delta`
    (unmet by :math:`\log_{10}(\eta/(c_\eta\lambda\delta))` orders), HOLDS otherwise (necessary, not
    sufficient: the polynomial is unknown), VACUOUS when λ is not above its resolution.

    >>> step_size_premise(0.1, 1e-36, 1e-44, delta=0.1).orders
    36.0
    """
    if not (eta > 0 and math.isfinite(eta)):
        raise ValueError(f"eta: expected a positive finite step size, got {eta!r}")
    if lam <= lam_resolution:
        return StepPremise(
            VACUOUS,
            math.nan,
            f"λ = {lam:.3g} is not above its resolution {lam_resolution:.3g}: "
            f"η ≤ c_η λδ cannot be checked (η = {eta:.3g})",
        )
    bound = c_eta * lam * delta
    orders = math.log10(eta / bound)
    ok = eta <= bound
    return StepPremise(
        HOLDS if ok else VIOLATED,
        round(orders, 12),
        f"η = {eta:.3g} {'≤' if ok else '>'} c_η λδ = {bound:.3g} (λ = {lam:.3g}, δ = {delta:g}, "
        f"c_η = {c_eta:g}, poly ≥ 1)"
        + ("" if ok else f": unmet by {orders:.1f} orders of magnitude"),
    )
