r"""Intervals and multiple testing behind the verdicts (:mod:`verification.stats` is the front).

* Clopper–Pearson: for :math:`k` successes in :math:`n` trials, the two-sided level-:math:`1-\alpha`
  interval is :math:`[B(\alpha/2; k, n-k+1),\ B(1-\alpha/2; k+1, n-k)]` with :math:`B(q; a, b)` the
  Beta quantile (lower end 0 when :math:`k = 0`, upper end 1 when :math:`k = n`).
* Percentile bootstrap; log-log slope with its :math:`t` interval; Holm and Bonferroni adjustments.

A leaf: imports nothing from ``verification`` but the statuses.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from jaxtyping import Float

__all__ = ['clopper_pearson', 'bootstrap_interval', 'SlopeFit', 'loglog_slope', 'holm', 'adjusted_alpha']


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


def clopper_pearson(k, n, alpha: float = 0.05) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    r"""Exact two-sided :math:`1-\alpha` interval for a binomial proportion from ``k`` of ``n``.

    Scalars give a pair of floats; arrays (broadcast) give a pair of arrays.
    """
    alpha = _alpha(alpha)
    k_arr, n_arr = np.asarray(k), np.asarray(n)
    if not (np.issubdtype(k_arr.dtype, np.integer) and np.issubdtype(n_arr.dtype, np.integer)):
        raise ValueError(f"k, n: expected integer counts, got dtypes {k_arr.dtype} and {n_arr.dtype}")
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
    r"""Slope :math:`s` of :math:`\log y` against :math:`\log x` with its :math:`t` interval (N - 2 d.o.f.).

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
        raise ValueError(f"x: expected at least 3 points at 2 or more distinct x, got {x.size} points")
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
        raise ValueError(f"pvalues: expected a non-empty array of values in [0, 1], got {pvalues!r}")
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
    r"""Per-test level of a Bonferroni family of ``family`` tests: :math:`\alpha / K` (``"none"``: :math:`\alpha`)."""
    alpha = _alpha(alpha)
    if int(family) < 1:
        raise ValueError(f"family: expected a positive number of tests, got {family!r}")
    if method == "none":
        return alpha
    if method not in ("bonferroni", "holm"):
        raise ValueError(f"method: expected 'holm', 'bonferroni' or 'none', got {method!r}")
    return alpha / int(family)
