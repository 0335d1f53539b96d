r"""C2's rule on every neuron with the network draw as the unit: per-network failure fractions,
decided by order-free p-values (:func:`fraction_pvalues`, :func:`fraction_decision`), with a
conservative budget (:func:`fraction_seeds_for_power`). :mod:`verification.rules._laws` re-exports
them; the reasoning is in its module docstring and in :func:`fraction_pvalues`.
"""

from __future__ import annotations

import hashlib
import math
from typing import NamedTuple

import numpy as np

from verification.rules import _intervals as intervals
from verification.rules._robust import check_open_unit
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VIOLATED

__all__ = [
    "FRACTION_RULE",
    "FRACTION_BETS",
    "FRACTION_CAP",
    "FRACTION_WEIGHTS",
    "FractionDecision",
    "fraction_pvalues",
    "fraction_statuses",
    "fraction_decision",
    "fraction_seeds_for_power",
]


FRACTION_RULE = (
    "seed-level probability (every neuron: per-network failure fractions, i.i.d. over network "
    "draws; order-free: a weighted Bonferroni of an exact binomial test on Bernoulli-rounded "
    "fractions and a constant-bet betting e-value, IUT for HOLDS, Holm over widths × groups for "
    "VIOLATED)"
)
"""The name of :func:`fraction_decision` in verdicts and in docs/calibration.md."""

FRACTION_BETS = (1 / 2, 1.0)
"""Constant bets of the betting part, as fractions of the largest allowed bet
(:func:`fraction_pvalues`)."""
FRACTION_CAP = 1.0
"""Bet cap c of the fraction rule: the largest bet keeps every factor ≥ 0 (any c in (0, 1])."""
FRACTION_WEIGHTS = (0.6, 0.8)
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


def _mixture_capital(x: np.ndarray, m, alternative: str, c: float) -> np.ndarray:
    r"""Capital :math:`\frac1J\sum_j \prod_s (1 \mp \lambda_j (x_s - m))` over constant bets
    :math:`\lambda_j` = :data:`FRACTION_BETS` × the cap (c/m or c/(1 − m)): a product of factors,
    so the order of the fractions does not enter; each term is an e-value for any fixed bet.
    ``m`` (scalar or array) broadcasts against the leading axes of ``x[..., S]``."""
    m = np.asarray(m, np.float64)[..., None]
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
    r"""Statuses of :func:`fraction_decision` for replicates ``fractions[..., K, S]`` (vectorised:
    the same p-values and precedence; members of equal size S): VIOLATED when
    :math:`\min_k p^{\mathrm{Holm}}_{V,k} \le lpha/2`, else HOLDS when
    :math:`\max_k p_{H,k} \le lpha/2`, else INCONCLUSIVE."""
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
    up_ok = _mixture_capital(f, ms, "less", c) < 2 / (alpha * (1 - wh))
    lo_ok = _mixture_capital(f, ms, "greater", c) < 2 / (alpha * (1 - wv))
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
    cells = [np.sort(_unit_fractions(f).reshape(-1)) for f in fractions]  # the set, not the order
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

    >>> fraction_seeds_for_power([np.zeros(160)], delta=0.1)  # 160 at 0: p ≤ 1 - 2^(-1/160)
    40
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
