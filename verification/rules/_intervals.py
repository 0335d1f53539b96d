r"""Intervals and multiple testing behind the verdicts (:mod:`verification.rules` is the front).

* Clopper–Pearson: for :math:`k` successes in :math:`n` trials, the two-sided level-:math:`1-\alpha`
  interval is :math:`[B(\alpha/2; k, n-k+1),\ B(1-\alpha/2; k+1, n-k)]` with :math:`B(q; a, b)` the
  Beta quantile (lower end 0 when :math:`k = 0`, upper end 1 when :math:`k = n`).
* Percentile bootstrap; log-log slope with its :math:`t` interval; Holm and Bonferroni adjustments.
* Betting (hedged-capital) bounds for the mean of i.i.d. variables in [0, 1] (Waudby-Smith & Ramdas
  2023, "Estimating means of bounded random variables by betting", JRSS-B 86(1):1–27,
  arXiv:2010.09686): :func:`betting_pvalue`, :func:`betting_interval`.

A leaf: imports nothing from ``verification`` but the statuses.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from jaxtyping import Float

__all__ = [
    "clopper_pearson",
    "bootstrap_interval",
    "SlopeFit",
    "loglog_slope",
    "holm",
    "adjusted_alpha",
    "BET_CAP",
    "betting_pvalue",
    "betting_interval",
]


def _sps():
    """``scipy.stats``, imported on first use: it takes a second or more to import, and
    ``ntk-verify --help`` imports this module."""
    from scipy import stats

    return stats


def _alpha(alpha: float) -> float:
    alpha = float(alpha)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: expected a level in (0, 1), got {alpha!r}")
    return alpha


def clopper_pearson(
    k, n, alpha: float = 0.05
) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    r"""Exact two-sided :math:`1-\alpha` interval for a binomial proportion from ``k`` of ``n``.

    Scalars give a pair of floats; arrays (broadcast) give a pair of arrays.
    """
    alpha = _alpha(alpha)
    k_arr, n_arr = np.asarray(k), np.asarray(n)
    if not (np.issubdtype(k_arr.dtype, np.integer) and np.issubdtype(n_arr.dtype, np.integer)):
        raise ValueError(
            f"k, n: expected integer counts, got dtypes {k_arr.dtype} and {n_arr.dtype}"
        )
    if np.any(n_arr < 1):
        raise ValueError(f"n: expected trials n >= 1, got {n!r}")
    if np.any((k_arr < 0) | (k_arr > n_arr)):
        raise ValueError(f"k: expected 0 <= k <= n, got k = {k!r}, n = {n!r}")
    kf, nf = k_arr.astype(np.float64), n_arr.astype(np.float64)
    with np.errstate(invalid="ignore"):
        lo = np.where(k_arr == 0, 0.0, _sps().beta.ppf(alpha / 2, kf, nf - kf + 1))
        hi = np.where(k_arr == n_arr, 1.0, _sps().beta.ppf(1 - alpha / 2, kf + 1, nf - kf))
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def bootstrap_interval(
    samples: Float[np.ndarray, "N ..."],
    statistic=np.mean,
    *,
    alpha: float = 0.05,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    r"""Percentile bootstrap: ``(estimate, lo, hi)`` of ``statistic`` over rows of ``samples``.

    .. math::

        \hat\theta = T(x_{1:N}),\qquad
        [\mathrm{lo}, \mathrm{hi}] = \big[q_{\alpha/2},\, q_{1-\alpha/2}\big]\ \text{of}\
        \{T(x^{*b}_{1:N})\}_{b=1}^{B},\quad x^{*b}_i \sim \mathrm{Unif}\{x_1,\dots,x_N\}.

    ``statistic(rows)`` receives an array with the first axis resampled; the estimate is
    ``statistic(samples)``. Deterministic for a given ``seed`` (numpy ``default_rng``). Needs at
    least two observations: resampling one gives the zero-width interval ``[x, x]``, a certainty
    that no data supports.
    """
    alpha = _alpha(alpha)
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim < 1 or x.shape[0] < 2:
        raise ValueError(f"samples: expected at least two observations (rows), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples: expected finite values")
    if int(resamples) < 1:
        raise ValueError(f"resamples: expected a positive integer, got {resamples!r}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.shape[0], size=(int(resamples), x.shape[0]))
    boot = np.array([statistic(x[i]) for i in idx], dtype=np.float64)
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(statistic(x)), float(lo), float(hi)


class SlopeFit(NamedTuple):
    """Least-squares fit of :math:`\\log y = b + s\\log x`: slope, intercept, the t interval, N."""

    slope: float
    intercept: float
    lo: float
    hi: float
    stderr: float
    points: int


def loglog_slope(x, y, *, alpha: float = 0.05) -> SlopeFit:
    r"""Slope :math:`s` of :math:`\log y` against :math:`\log x` with its :math:`t` interval (N - 2
    d.o.f.).

    Needs at least 3 points at 2 distinct ``x`` and positive values. With replicates (several
    ``y`` at one ``x``), pass every point: the residual variance then includes the scatter.
    An exact power law gives a zero-width interval at its exponent.
    """
    alpha = _alpha(alpha)
    x = np.asarray(x, np.float64).ravel()
    y = np.asarray(y, np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"y: expected as many values as x ({x.size}), got {y.size}")
    if x.size < 3 or np.unique(x).size < 2:
        raise ValueError(
            f"x: expected at least 3 points at 2 or more distinct x, got {x.size} points"
        )
    if np.any(~np.isfinite(x)) or np.any(x <= 0) or np.any(~np.isfinite(y)) or np.any(y <= 0):
        raise ValueError("x, y: expected finite positive values for a log-log fit")
    lx, ly = np.log(x), np.log(y)
    mx = lx.mean()
    sxx = np.sum((lx - mx) ** 2)
    slope = float(np.sum((lx - mx) * (ly - ly.mean())) / sxx)
    intercept = float(ly.mean() - slope * mx)
    dof = x.size - 2
    resid = ly - (intercept + slope * lx)
    se = float(np.sqrt(np.sum(resid**2) / dof / sxx))
    half = float(_sps().t.ppf(1 - alpha / 2, dof)) * se
    return SlopeFit(slope, intercept, slope - half, slope + half, se, int(x.size))


def holm(pvalues, *, method: str = "holm") -> np.ndarray:
    r"""Family-wise adjusted p-values (batched over leading axes; the family is the last axis).

    Holm: sort :math:`p_{(1)} \le \dots \le p_{(K)}`, :math:`\tilde p_{(i)} = \max_{j \le i}
    \min(1, (K-j+1)\,p_{(j)})`. Bonferroni: :math:`\tilde p_i = \min(1, K p_i)`. ``"none"``:
    unadjusted. Rejecting :math:`\tilde p_i \le a` controls the family-wise error at :math:`a`
    (Holm 1979), under any dependence.
    """
    p = np.asarray(pvalues, np.float64)
    if p.ndim < 1 or p.shape[-1] < 1 or np.any(~(p >= 0) | ~(p <= 1)):
        raise ValueError(
            f"pvalues: expected a non-empty array of values in [0, 1], got {pvalues!r}"
        )
    K = p.shape[-1]
    if method == "none":
        return p.copy()
    if method == "bonferroni":
        return np.minimum(1.0, K * p)
    if method != "holm":
        raise ValueError(f"method: expected 'holm', 'bonferroni' or 'none', got {method!r}")
    order = np.argsort(p, axis=-1, kind="stable")
    ps = np.take_along_axis(p, order, axis=-1)
    adj = np.maximum.accumulate(np.minimum(1.0, (K - np.arange(K)) * ps), axis=-1)
    out = np.empty_like(adj)
    np.put_along_axis(out, order, adj, axis=-1)
    return out


def adjusted_alpha(alpha: float, family: int, *, method: str = "bonferroni") -> float:
    r"""Per-test level of a Bonferroni family of ``family`` tests: :math:`\alpha / K` (``"none"``:
    :math:`\alpha`)."""
    alpha = _alpha(alpha)
    if int(family) < 1:
        raise ValueError(f"family: expected a positive number of tests, got {family!r}")
    if method == "none":
        return alpha
    if method not in ("bonferroni", "holm"):
        raise ValueError(f"method: expected 'holm', 'bonferroni' or 'none', got {method!r}")
    return alpha / int(family)


BET_CAP = 0.9
r"""Truncation c of the betting fractions (:func:`betting_pvalue`): :math:`\lambda \le c/m` or
:math:`c/(1-m)`. Any c in (0, 1] is valid; WSR suggest 1/2 or 3/4 for long sequences. With few
draws the cap binds whenever the data are concentrated (the bet wants to be as large as allowed),
and c = 0.9 needs 39 draws all at 0 to put the upper end below 0.1 at α = 0.05 (Clopper–Pearson,
the least any valid bound can need there: 36; c = 3/4: 47)."""


def _prpl_bets(x: np.ndarray, alpha: float) -> np.ndarray:
    r"""Predictable plug-in bets of WSR for a sample of known size n (their fixed-n choice, §5.1 /
    App. B): :math:`\lambda_t = \sqrt{2\log(2/\alpha)/(n\,\hat\sigma^2_{t-1})}` with
    :math:`\hat\mu_t = (1/2 + \sum_{i\le t} x_i)/(t+1)`, :math:`\hat\sigma^2_t = (1/4 + \sum_{i\le
    t}
    (x_i-\hat\mu_i)^2)/(t+1)` — each uses draws before t only, so validity is untouched. (The
    anytime choice :math:`\propto 1/\sqrt{t\log(1+t)}` bets far more on the first draws and, on
    fractions that are mostly 0 with a few 1s, loses its capital before the 1s arrive.)"""
    n = x.shape[-1]
    t = np.arange(1, n + 1, dtype=np.float64)
    mu = (0.5 + np.cumsum(x, axis=-1)) / (t + 1)
    var = (0.25 + np.cumsum((x - mu) ** 2, axis=-1)) / (t + 1)
    prev = np.concatenate([np.full(x.shape[:-1] + (1,), 0.25), var[..., :-1]], axis=-1)
    return np.sqrt(2 * np.log(2 / alpha) / (n * prev))


def _capital(x: np.ndarray, m, alpha: float, c: float, alternative: str) -> np.ndarray:
    """:math:`\\max_{t\\le n} K_t(m)` (batched over leading axes of ``x`` and of ``m``,
    broadcast)."""
    lam = _prpl_bets(x, alpha)
    m = np.asarray(m, np.float64)[..., None]
    with np.errstate(divide="ignore"):
        if alternative == "greater":  # evidence for a mean above m: K = prod 1 + λ(x - m), λ <= c/m
            fac = 1 + np.minimum(lam, c / m) * (x - m)
        elif (
            alternative == "less"
        ):  # evidence for a mean below m: K = prod 1 - λ(x - m), λ <= c/(1-m)
            fac = 1 - np.minimum(lam, c / (1 - m)) * (x - m)
        else:
            raise ValueError(f"alternative: expected 'greater' or 'less', got {alternative!r}")
    return np.max(np.cumprod(np.maximum(fac, 0.0), axis=-1), axis=-1)


def _unit(x) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.ndim < 1 or x.shape[-1] < 1 or np.any(~(x >= 0) | ~(x <= 1)):
        raise ValueError(f"x: expected a non-empty array of values in [0, 1], got shape {x.shape}")
    return x


def betting_pvalue(
    x, m: float, *, alternative: str = "less", alpha: float = 0.05, c: float = BET_CAP
):
    r"""Anytime-valid p-value of a mean of i.i.d. draws ``x`` in [0, 1] (last axis; batched), by
    betting.

    ``alternative="less"`` tests :math:`H_0: \mathbb E x \ge m` with the capital
    :math:`K_t = \prod_{i\le t}(1 - \lambda_i (x_i - m))`, ``"greater"`` tests
    :math:`H_0: \mathbb E x \le m` with :math:`K_t = \prod(1 + \lambda_i (x_i - m))`; the bets
    :math:`\lambda_i` are WSR's predictable plug-in ones, truncated at :math:`c/(1-m)` (resp.
    :math:`c/m`) so every factor is :math:`\ge 0`. Under :math:`H_0` (any distribution on [0, 1],
    the boundary included) :math:`K_t` is a non-negative supermartingale with :math:`K_0 = 1`, so by
    Ville's inequality :math:`p = \min(1, 1/\max_{t\le n} K_t)` is valid (Waudby-Smith & Ramdas
    2023,
    Thm 3 and §5). ``alpha`` only tunes the bets (the level the CI is built for).

    >>> round(float(betting_pvalue(np.zeros(40), 0.1)), 4)  # 40 draws at 0, the first bets below c
    0.0224
    """
    x = _unit(x)
    return np.minimum(1.0, 1.0 / _capital(x, m, _alpha(alpha), float(c), alternative))


def betting_interval(
    x, alpha: float = 0.05, *, c: float = BET_CAP, grid: int = 2001
) -> tuple[float, float]:
    r"""Two-sided :math:`1-\alpha` hedged-capital interval for the mean of i.i.d. draws ``x`` in [0,
    1].

    WSR's hedged capital with θ = 1/2: :math:`m` is excluded when either one-sided capital of
    :func:`betting_pvalue` reaches :math:`2/\alpha` (each end one-sided :math:`1-\alpha/2`, like
    :func:`clopper_pearson`). Computed on ``grid`` equally spaced m and widened outward to the
    neighbouring grid point (conservative by at most 1/(grid − 1)). Valid for every distribution on
    [0, 1]; on concentrated draws far tighter than Hoeffding or a Bernoulli (Clopper–Pearson) worst
    case.

    >>> lo, hi = betting_interval(np.full(60, 0.03)); bool(lo < 0.03 < hi < 0.1)
    True
    """
    x = _unit(x)
    alpha = _alpha(alpha)
    if x.ndim != 1:
        raise ValueError(f"x: expected one sample (1-D), got shape {x.shape}")
    ms = np.linspace(0.0, 1.0, int(grid))
    keep = (_capital(x, ms, alpha, float(c), "greater") < 2 / alpha) & (
        _capital(x, ms, alpha, float(c), "less") < 2 / alpha
    )
    if (
        not keep.any()
    ):  # cannot happen for data in [0, 1] (the sample mean is never excluded); be safe
        mean = float(x.mean())
        return mean, mean
    i, j = int(np.argmax(keep)), int(keep.size - 1 - np.argmax(keep[::-1]))
    return float(ms[max(i - 1, 0)]), float(ms[min(j + 1, ms.size - 1)])
