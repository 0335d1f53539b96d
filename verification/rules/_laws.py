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

import hashlib
import math
from typing import NamedTuple

import numpy as np
from jaxtyping import Bool, Float

from verification import rules as stats
from verification.rules import _intervals as intervals
from verification.rules._robust import check_open_unit
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED

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

SEED_RULE = "seed-level probability (one designated neuron per network draw; Clopper–Pearson, IUT/Holm over widths)"
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


FRACTION_RULE = (
    "seed-level probability (every neuron: per-network failure fractions, i.i.d. over network "
    "draws; order-free: a weighted Bonferroni of an exact binomial test on Bernoulli-rounded "
    "fractions and a constant-bet betting e-value, IUT for HOLDS, Holm over widths × groups for "
    "VIOLATED)"
)
"""The name of :func:`fraction_decision` in verdicts and in docs/calibration.md."""

FRACTION_BETS = (1 / 4, 1 / 2, 1.0)
"""Constant bets of the betting part, as fractions of the largest allowed bet (:func:`fraction_pvalues`)."""
FRACTION_CAP = 1.0
"""Bet cap c of the fraction rule: the largest bet keeps every factor ≥ 0 (any c in (0, 1])."""
FRACTION_WEIGHTS = (0.5, 0.8)
"""Weight of the binomial part in the weighted Bonferroni, for HOLDS and for VIOLATED."""


class FractionDecision(NamedTuple):
    """Outcome of :func:`fraction_decision`, per member (width × group) with networks: ``seeds``
    (networks), ``mean`` (mean failure fraction), ``lower``/``upper`` (each end a one-sided
    1 − α/2 bound from the same two parts as the tests), ``p_holds`` (p of :math:`p \\ge \\delta`),
    ``p_adjusted`` (Holm-adjusted p of :math:`p \\le \\delta`), ``rejected`` (members whose adjusted
    p ≤ α/2), ``rounded`` (Bernoulli-rounded failures)."""

    status: str
    delta: float
    alpha: float
    seeds: tuple[int, ...]
    mean: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    p_holds: tuple[float, ...]
    p_adjusted: tuple[float, ...]
    rejected: tuple[int, ...]
    rule: str
    rounded: tuple[int, ...] = ()


def _fraction_args(delta, alpha, c):
    delta = check_open_unit("delta", delta, "a failure probability δ")
    alpha = check_open_unit("alpha", alpha, "a level α")
    try:
        c = float(c)
    except (TypeError, ValueError):
        c = math.nan
    if not (math.isfinite(c) and 0.0 < c <= 1.0):
        raise ValueError(
            f"c: expected a bet cap in (0, 1] (c > 1 voids the betting bound), got {c!r}"
        )
    return delta, alpha, c


def _unit_fractions(f) -> np.ndarray:
    x = np.asarray(f, np.float64)
    bad = ~((x >= 0) & (x <= 1))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"fractions: expected failure fractions in [0, 1], got {float(x[where])!r} at "
            f"index {where}"
        )
    return x


def _rounded_counts(xs: np.ndarray) -> np.ndarray:
    """Bernoulli-rounded failure counts of the *sorted* fractions ``xs[..., S]``, the uniforms
    seeded by a hash of the sorted fractions (the same set always gives the same count)."""
    flat = xs.reshape(-1, xs.shape[-1])
    out = np.empty(flat.shape[0], np.int64)
    for i, row in enumerate(flat):
        key = hashlib.blake2b(np.ascontiguousarray(row).tobytes(), digest_size=8).digest()
        u = np.random.default_rng(int.from_bytes(key, "little")).random(row.size)
        out[i] = int(np.sum(u < row))
    return out.reshape(xs.shape[:-1])


def _mixture_capital(x: np.ndarray, m: float, alternative: str, c: float) -> np.ndarray:
    r"""Capital :math:`\frac1J\sum_j \prod_s (1 \mp \lambda_j (x_s - m))` over constant bets
    :math:`\lambda_j` = :data:`FRACTION_BETS` × the cap (c/m or c/(1 − m)): a product of factors,
    so the order of the fractions does not enter; each term is an e-value for any fixed bet."""
    cap = c / m if alternative == "greater" else c / (1 - m)
    sign = 1.0 if alternative == "greater" else -1.0
    out = 0.0
    for frac in FRACTION_BETS:
        fac = np.maximum(1.0 + sign * frac * cap * (x - m), 0.0)
        with np.errstate(divide="ignore", over="ignore"):
            out = out + np.exp(np.sum(np.log(fac), axis=-1))
    return out / len(FRACTION_BETS)


def fraction_pvalues(
    fractions, *, delta: float, alpha: float = 0.05, c: float = FRACTION_CAP
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Order-free p-values of one member's mean failure fraction, batched over leading axes of
    ``fractions[..., S]``: ``(p_holds, p_violated, rounded)`` (``rounded`` = :math:`\sum_s B_s`).

    ``p_holds`` tests :math:`H_0: p \ge \delta`, ``p_violated`` :math:`H_0: p \le \delta`; each is
    the weighted Bonferroni :math:`\min(1, p_B/w, p_E/(1-w))` (weights :data:`FRACTION_WEIGHTS`,
    fixed in advance) of two p-values that are valid for every law of i.i.d. fractions on [0, 1]
    and are symmetric functions of the fractions (the verdict depends on their set, never their
    order; nothing is random):

    * :math:`p_B`, exact binomial on Bernoulli-rounded fractions: :math:`B_s = 1\{U_s < f_{(s)}\}`
      on the sorted fractions, the uniforms :math:`U` drawn from a generator seeded by a hash of
      the sorted fractions (so one set always gives one count, whatever the order). Given the
      fractions the :math:`B_s` are independent Bernoulli(:math:`f_s`), so with :math:`U`
      independent of the data :math:`\sum_s B_s \sim \mathrm{Bin}(S, p)` exactly for every law of
      i.i.d. fractions on [0, 1] with mean p, and :math:`P(\mathrm{Bin}(S,\delta) \le k)` (resp.
      :math:`\ge k`) is valid. The hash makes :math:`U` a pseudo-random function of the set rather
      than an independent draw — the standard reading of a seeded randomised test (a *fixed* U
      is not enough: paired with the sorted order it rounds the largest fractions the same way on
      every data set, which measured 0.043 false VIOLATED at δ on whole-group flips). Loses
      nothing on 0/1 fractions (whole groups flipping), much on concentrated ones.
    * :math:`p_E = \min(1, 1/E)`, :math:`E` the mean over :data:`FRACTION_BETS` of the capitals
      :math:`\prod_s(1 \mp \lambda_j (f_s - \delta))` with constant bets (a fraction of the cap
      :math:`c/\delta` or :math:`c/(1-\delta)`, ``c`` ≤ 1 keeping every factor ≥ 0). For a fixed
      bet each capital has expectation :math:`\le 1` under :math:`H_0` (a product of independent
      factors of mean :math:`1 \mp \lambda(p - \delta) \le 1`), an average of e-values is an
      e-value, and Markov's inequality makes :math:`1/E` valid; a product does not depend on the
      order. It adapts to the variance: concentrated fractions (a Beta law, κ = 40) decide with
      far fewer networks than :math:`p_B`.

    A sequential (WSR predictable-bet) capital was the previous rule: its maximum over time depends
    on the order of the networks (two orders of the same fractions disagreed 27–32% of the time).
    """
    delta, alpha, c = _fraction_args(delta, alpha, c)
    x = np.sort(_unit_fractions(fractions), axis=-1)
    S = x.shape[-1]
    if S < 1:
        raise ValueError(f"fractions: expected at least one network, got shape {x.shape}")
    k = _rounded_counts(x)
    binom = intervals._sps().binom
    pb_less, pb_greater = binom.cdf(k, S, delta), binom.sf(k - 1, S, delta)
    pe_less = np.minimum(1.0, 1.0 / _mixture_capital(x, delta, "less", c))
    pe_greater = np.minimum(1.0, 1.0 / _mixture_capital(x, delta, "greater", c))
    wh, wv = FRACTION_WEIGHTS
    p_hold = np.minimum(1.0, np.minimum(pb_less / wh, pe_less / (1 - wh)))
    p_viol = np.minimum(1.0, np.minimum(pb_greater / wv, pe_greater / (1 - wv)))
    return p_hold, p_viol, k


def fraction_statuses(
    fractions, *, delta: float, alpha: float = 0.05, c: float = FRACTION_CAP
) -> np.ndarray:
    """Statuses of :func:`fraction_decision` for replicates ``fractions[..., K, S]`` (vectorised:
    the same p-values and precedence; members of equal size S)."""
    p_hold, p_viol, _ = fraction_pvalues(fractions, delta=delta, alpha=alpha, c=c)
    viol = intervals.holm(p_viol)
    return np.where(
        (viol <= alpha / 2).any(-1),
        VIOLATED,
        np.where((p_hold <= alpha / 2).all(-1), HOLDS, INCONCLUSIVE),
    )


def _bounds(f: np.ndarray, k: int, alpha: float, c: float, grid: int = 1001):
    """One-sided 1 − α/2 lower and upper bounds for the mean from the two parts, inverted with
    the tests' weights (each end the tighter of Clopper–Pearson on the rounded count at level
    α w/2 and the constant-bet capital bound at α (1 − w)/2)."""
    S = f.size
    wh, wv = FRACTION_WEIGHTS
    beta = intervals._sps().beta
    cp_hi = 1.0 if k == S else float(beta.ppf(1 - alpha * wh / 2, k + 1, S - k))
    cp_lo = 0.0 if k == 0 else float(beta.ppf(alpha * wv / 2, k, S - k + 1))
    ms = np.linspace(0.0, 1.0, grid)[1:-1]
    up_ok = np.array([_mixture_capital(f, m, "less", c) < 2 / (alpha * (1 - wh)) for m in ms])
    lo_ok = np.array([_mixture_capital(f, m, "greater", c) < 2 / (alpha * (1 - wv)) for m in ms])
    step = 1.0 / (grid - 1)
    e_hi = min(1.0, float(ms[np.flatnonzero(up_ok).max()]) + step) if up_ok.any() else 1.0
    e_lo = max(0.0, float(ms[np.flatnonzero(lo_ok).min()]) - step) if lo_ok.any() else 0.0
    return max(cp_lo, e_lo), min(cp_hi, e_hi)


def fraction_decision(
    fractions, *, delta: float, alpha: float = 0.05, c: float = FRACTION_CAP
) -> FractionDecision | None:
    r""" "At every member the failure probability is :math:`\le\delta`" from per-network fractions.

    ``fractions``: one 1-D array per member (width × group) of per-network fractions in [0, 1]
    (i.i.d. over networks). Empty members are left out; None when none is left. Per member the
    order-free p-values of :func:`fraction_pvalues` (they depend on the set of fractions, never on
    their order). HOLDS when every member's p of :math:`H_0: p \ge \delta` is
    :math:`\le \alpha/2` (intersection–union, Berger 1982: false HOLDS :math:`\le\alpha/2`);
    VIOLATED when some Holm-adjusted p of :math:`H_0: p \le \delta` is :math:`\le\alpha/2`
    (false VIOLATED :math:`\le\alpha/2` over the family); INCONCLUSIVE otherwise. VIOLATED takes
    precedence should both hold. Arguments are checked: δ and α in (0, 1), the bet cap c in
    (0, 1], fractions in [0, 1] (a one-line ValueError otherwise). Identical fractions are not
    treated as broken seeding: 0 (or 1) is an outcome many networks reach.

    >>> fraction_decision([np.full(100, 0.02), np.zeros(100)], delta=0.1).status
    'HOLDS'
    >>> fraction_decision([np.zeros(3)], delta=0.1).status  # three draws cannot show it
    'INCONCLUSIVE'
    >>> fraction_decision([np.full(10, 0.6), np.zeros(10)], delta=0.1).status
    'VIOLATED'
    """
    delta, alpha, c = _fraction_args(delta, alpha, c)
    cells = [_unit_fractions(f).reshape(-1) for f in fractions]
    cells = [f for f in cells if f.size]
    if not cells:
        return None
    K = len(cells)
    res = [fraction_pvalues(f, delta=delta, alpha=alpha, c=c) for f in cells]
    p_hold = np.array([float(r[0]) for r in res])
    p_viol = np.array([float(r[1]) for r in res])
    rounded = [int(r[2]) for r in res]
    padj = intervals.holm(p_viol)
    bounds = [_bounds(f, k, alpha, c) for f, k in zip(cells, rounded)]
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    mean = np.array([float(f.mean()) for f in cells])
    rej = tuple(int(i) for i in np.flatnonzero(padj <= alpha / 2))
    how = "order-free: exact binomial on rounded fractions + constant-bet betting mixture"
    if rej:
        i = int(np.argmin(padj))
        status = VIOLATED
        rule = (
            f"mean failure fraction > δ = {delta:g}: {mean[i]:.3g} over {cells[i].size} "
            f"networks ({rounded[i]} rounded failures), adjusted p = {padj[i]:.3g} ≤ α/2 = "
            f"{alpha / 2:g} (Holm over {K}; {how}); bounds [{lo[i]:.3g}, {hi[i]:.3g}]"
        )
    elif np.all(p_hold <= alpha / 2):
        status = HOLDS
        rule = (
            f"mean failure fraction ≤ δ = {delta:g} at all {K} widths/groups (max p of p ≥ δ "
            f"{p_hold.max():.3g} ≤ α/2 = {alpha / 2:g}, intersection–union; {how}; max upper "
            f"bound {hi.max():.3g})"
        )
    else:
        status = INCONCLUSIVE
        rule = (
            f"max p of p ≥ δ {p_hold.max():.3g} > α/2 = {alpha / 2:g} (max upper bound "
            f"{hi.max():.3g}, δ = {delta:g}) and no Holm-adjusted p of p ≤ δ at α/2 (over {K}; "
            f"min {padj.min():.3g}; {how})"
        )
    return FractionDecision(
        status,
        float(delta),
        float(alpha),
        tuple(int(f.size) for f in cells),
        tuple(float(x) for x in mean),
        tuple(float(x) for x in lo),
        tuple(float(x) for x in hi),
        tuple(float(x) for x in p_hold),
        tuple(float(x) for x in padj),
        rej,
        rule,
        tuple(rounded),
    )


def fraction_seeds_for_power(
    fractions,
    *,
    delta: float,
    alpha: float = 0.05,
    power: float = 0.8,
    candidates=(8, 12, 16, 24, 32, 40, 48, 64, 96, 128, 192, 256, 384, 512),
    pilot_confidence: float = 0.5,
    reps: int | None = None,
    seed: int | None = None,
    c: float = FRACTION_CAP,
) -> int | None:
    r"""Smallest of ``candidates`` (networks per member) at which :func:`fraction_decision` says
    HOLDS with probability ≥ ``power`` under a *conservative* law; None when none does (or when
    the pilot cannot exclude a failure rate at or above δ).

    The conservative law: whole groups flipping (fractions 0 or 1, the most spread law on [0, 1]
    with a given mean, where the betting part adds nothing), at a pessimistic failure rate per
    member, the one-sided ``pilot_confidence`` Clopper–Pearson upper end of the pilot's summed
    fractions (0.5: median-unbiased; an all-zero pilot of n networks gives
    :math:`1 - 2^{-1/n}`, not 0). The HOLDS probability is then exact: every member needs
    :math:`k \le k^*(S)` rounded failures for the binomial part alone (level
    :math:`\alpha w/2`), :math:`\prod_k P(\mathrm{Bin}(S, p_k) \le k^*)`. A lower bound for any
    law with these means; concentrated fractions can need fewer networks, never more. ``reps``,
    ``seed`` are accepted for compatibility and unused.

    >>> fraction_seeds_for_power([np.zeros(160)], delta=0.1)
    48
    >>> fraction_seeds_for_power([np.zeros(10)] * 8, delta=0.1) is None  # a pilot too small
    True
    """
    delta, alpha, c = _fraction_args(delta, alpha, c)
    cells = [_unit_fractions(f).reshape(-1) for f in fractions if np.size(f)]
    if not cells:
        return None
    conf = check_open_unit("pilot_confidence", pilot_confidence, "a confidence level")
    beta, binom = intervals._sps().beta, intervals._sps().binom
    p_cons = []
    for f in cells:
        s = float(f.sum())
        p_cons.append(1.0 if s >= f.size else float(beta.ppf(conf, s + 1, f.size - s)))
    if max(p_cons) >= delta:
        return None
    level = alpha * FRACTION_WEIGHTS[0] / 2
    for S in candidates:
        k = np.arange(S + 1)
        ok = k[binom.cdf(k, S, delta) <= level]
        if not ok.size:
            continue
        prob = float(np.prod([binom.cdf(int(ok.max()), S, p) for p in p_cons]))
        if prob >= power:
            return int(S)
    return None


def seed_decision(
    failures, trials, *, delta: float, alpha: float = 0.05
) -> stats.ProbabilityDecision | None:
    r""" "At every width the designated neuron fails with probability :math:`\le\delta`", seeds as trials.

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
    r"""Where :func:`seed_decision` stays INCONCLUSIVE: the networks per width at which it would reach
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
            f"none: the observed failure rate {p_hat:.3g} is at or above δ = {delta:g}, so more seeds move "
            "toward VIOLATED, not HOLDS"
        )
    try:
        S = seeds_for_power(delta=delta, alpha=alpha, widths=int(keep.sum()), p_true=p_hat)
    except ValueError:
        return f"beyond 10000 seeds per width at the observed failure rate {p_hat:.3g}"
    return f"{S} seeds per width (power 0.8 of the seed-level rule at the observed failure rate {p_hat:.3g})"


def _binom_cdf(k: int, n: int, p: float) -> float:
    """:math:`P(\\mathrm{Bin}(n, p) \\le k)`, summed exactly (n is a seed count: small)."""
    return float(sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k + 1)))


def onset_fit_reading(first: Float[np.ndarray, "W S"], steps) -> str:
    r"""Why first-reaching times on the records ``steps`` cannot carry an exponent in m ('' when they can).

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
    r"""``(w_hold, w_fail)``: the largest :math:`|w|` of the grid up to which ``holds`` is True at every
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
    r"""Theorem 5.2's step size :math:`\eta \le O(\lambda\delta/\mathrm{poly}(n, d, e^{B^2}, \dots))`.

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
