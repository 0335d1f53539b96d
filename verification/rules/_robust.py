r"""Pieces shared by the seed-level rules: argument checks, the exact sign test, zero spread.

**Why a sign test.** The per-seed statistics the OOD rules decide on (C5's per-seed noise exponent,
C7's per-seed log risk ratio) are i.i.d. over network draws but neither normal nor symmetric: the
default runs show sample skewness from −2.15 to +1.25 and a spread that depends on the noise level.
A one-sample :math:`t` test is then anti-conservative in one tail (planted log-normal skew 2: 0.08
instead of 0.025 at 5–20 seeds; a skewness-corrected :math:`t` (Hall 1992) still 0.044–0.075).
The sign test of the *median* is exact for every continuous law: with :math:`k` of :math:`S`
seeds strictly below the threshold :math:`\theta`, :math:`P(\mathrm{Bin}(S, 1/2) \ge k)` is a
valid p-value of :math:`H_0: \mathrm{median} \ge \theta` (ties at :math:`\theta` count against the
alternative, which only makes it more conservative). Its cost is seeds: it cannot reach α/2 =
0.025 below 6 seeds (:math:`2^{-5} = 0.031`), needs every seed on one side at 6–8 seeds and all
but one at 9–11 (:func:`sign_seeds_for_power` gives the budget for a given share of seeds on the
decided side).

**Zero spread.** In a stochastic experiment distinct seeds never give identical per-seed
statistics; identical ones mean the seeding is broken (the same network drawn S times), so a rule
that sees zero spread says INCONCLUSIVE and names it, never a verdict with a zero-width interval
(:func:`zero_spread_words`).
"""

from __future__ import annotations

import math

import numpy as np

from verification.rules._intervals import _sps

__all__ = [
    "ESTIMANDS",
    "seeds_for_power",
    "check_open_unit",
    "check_finite",
    "check_choice",
    "sign_pvalues",
    "sign_critical",
    "sign_seeds_for_power",
    "median_bounds",
    "hall_t",
    "zero_spread",
    "zero_spread_words",
]

ESTIMANDS = ("median", "mean")
"""What a per-seed rule decides about: the median over network draws (default: exact sign test)
or the mean (skewness-corrected t; approximate)."""


def check_open_unit(name: str, value, what: str) -> float:
    """``value`` as a float in (0, 1), else a one-line ValueError naming ``name``, ``what`` and the
    value."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected {what} in (0, 1), got {value!r}") from None
    if not (math.isfinite(x) and 0.0 < x < 1.0):
        raise ValueError(f"{name}: expected {what} in (0, 1), got {value!r}")
    return x


def check_finite(name: str, values, what: str) -> np.ndarray:
    """``values`` as a float64 array with every entry finite, else a one-line ValueError naming the
    first bad entry."""
    a = np.asarray(values, np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}: expected {what}, got {float(a[where])!r} at index {where}")
    return a


def check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def sign_pvalues(x, theta) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact one-sided sign-test p-values over the last axis of ``x`` (batched) against ``theta``:
    ``(p_below, p_above)``, ``p_below`` = :math:`P(\mathrm{Bin}(S, 1/2) \ge \#\{x < \theta\})`
    (evidence that the median is below θ), ``p_above`` likewise with :math:`x > \theta`."""
    x = np.asarray(x, np.float64)
    S = x.shape[-1]
    below = np.sum(x < theta, axis=-1)
    above = np.sum(x > theta, axis=-1)
    sf = _sps().binom.sf
    return sf(below - 1, S, 0.5), sf(above - 1, S, 0.5)


def sign_critical(S: int, level: float) -> int:
    """Fewest of ``S`` seeds on one side at which the one-sided sign test rejects at ``level``
    (``S + 1`` when even ``S`` of ``S`` does not)."""
    k = np.arange(S + 1)
    ok = k[_sps().binom.sf(k - 1, S, 0.5) <= level]
    return int(ok.min()) if ok.size else S + 1


def sign_seeds_for_power(
    share: float, level: float, *, power: float = 0.8, most: int = 1000
) -> int:
    r"""Fewest seeds S at which the one-sided sign test at ``level`` rejects with probability
    ``power`` when each seed falls on the decided side with probability ``share``:
    :math:`P(\mathrm{Bin}(S, q) \ge k^*(S)) \ge` power (exact). 0 when more than ``most``."""
    q = float(share)
    if not q > 0.5:
        return 0
    for S in range(1, int(most) + 1):
        k = sign_critical(S, level)
        if k <= S and _sps().binom.sf(k - 1, S, q) >= power:
            return S
    return 0


def median_bounds(x, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Distribution-free bounds for the median over the last axis: the order statistics
    :math:`x_{(j)}, x_{(S+1-j)}` with :math:`j` the largest count whose
    :math:`P(\mathrm{Bin}(S,1/2) \le j-1) \le \alpha/2` (each end one-sided :math:`1-\alpha/2`,
    the sign test inverted); :math:`\mp\infty` when S is too small for any such j."""
    x = np.sort(np.asarray(x, np.float64), axis=-1)
    S = x.shape[-1]
    j = np.arange(1, S + 1)
    ok = j[_sps().binom.cdf(j - 1, S, 0.5) <= alpha / 2]
    if not ok.size:
        shape = x.shape[:-1]
        return np.full(shape, -np.inf), np.full(shape, np.inf)
    j = int(ok.max())
    return x[..., j - 1], x[..., S - j]


def hall_t(x, theta) -> np.ndarray:
    r"""Hall's (1992) skewness-corrected one-sample statistic over the last axis (batched):
    with :math:`u = (\bar x - \theta)/s` and :math:`\hat\gamma` the sample skewness,
    :math:`\sqrt S\,(u + \hat\gamma/(6S) + \hat\gamma u^2/3 + \hat\gamma^2 u^3/27)`, monotone in
    :math:`u`, compared with Student :math:`t_{S-1}`. Removes the first-order skewness term of the
    :math:`t` statistic; at 5–20 seeds it is not exact (module docstring)."""
    x = np.asarray(x, np.float64)
    S = x.shape[-1]
    m, s = x.mean(axis=-1), x.std(axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.mean((x - m[..., None]) ** 3, axis=-1) / s**3
        u = (m - theta) / s
        t = np.sqrt(S) * (u + g / (6 * S) + g * u**2 / 3 + g**2 * u**3 / 27)
    return np.where(s > 0, t, 0.0)


def zero_spread(x) -> np.ndarray:
    """True where the last axis (seeds, at least 2) has no spread at all."""
    x = np.asarray(x, np.float64)
    return (x.shape[-1] >= 2) & (np.ptp(x, axis=-1) == 0.0)


def zero_spread_words(what: str, seeds: int) -> str:
    return (
        f"zero spread of {what} over {seeds} seeds: identical seeds in a stochastic experiment "
        f"mean "
        f""
        "the seeding is broken (the same draw repeated), so no verdict is drawn"
    )


def seeds_for_power(
    effect_size: float, family: int, *, alpha: float = 0.05, power: float = 0.8, most: int = 1000
) -> int:
    r"""Fewest seeds S at which the paired test detects a standardised effect :math:`|E
    d|/\mathrm{sd}(d)`
    with probability ``power``: one-sided :math:`t` at :math:`\alpha/(2K)` (Holm's first step, K =
    ``family``), noncentral :math:`t` with :math:`S-1` degrees of freedom and noncentrality
    :math:`\sqrt S\,|E d|/\mathrm{sd}`. 0 when more than ``most`` would be needed."""
    es = abs(float(effect_size))
    if not np.isfinite(es) or es == 0.0:
        return 0
    level = alpha / (2 * int(family))
    for S in range(2, int(most) + 1):
        crit = _sps().t.ppf(1 - level, S - 1)
        if _sps().nct.sf(crit, S - 1, np.sqrt(S) * es) >= power:
            return S
    return 0
