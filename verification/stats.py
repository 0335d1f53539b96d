r"""Statistics behind the verdicts: exact binomial intervals, bootstrap intervals, log-log slopes.

* Clopper–Pearson: for :math:`k` successes in :math:`n` trials, the two-sided level-:math:`1-\alpha`
  interval is :math:`[B(\alpha/2; k, n-k+1),\ B(1-\alpha/2; k+1, n-k)]` with :math:`B(q; a, b)` the
  Beta quantile (lower end 0 when :math:`k = 0`, upper end 1 when :math:`k = n`). Exact: its
  coverage is at least :math:`1-\alpha` for every true proportion.
* Percentile bootstrap: resample the observations (rows) with replacement, recompute the statistic,
  report the :math:`\alpha/2` and :math:`1-\alpha/2` quantiles.
* Log-log slope: least squares :math:`\log y = b + s \log x`, with the :math:`t` interval
  :math:`s \pm t_{1-\alpha/2,\,N-2}\,\mathrm{se}(s)`,
  :math:`\mathrm{se}(s)^2 = \frac{\sum_j r_j^2/(N-2)}{\sum_j (\log x_j - \overline{\log x})^2}`.

>>> lo, hi = clopper_pearson(0, 10)
>>> round(hi, 4)  # 1 - 0.025 ** (1/10)
0.3085
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from jaxtyping import Float
from scipy import stats as sps

__all__ = ["clopper_pearson", "bootstrap_interval", "SlopeFit", "loglog_slope"]


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
        lo = np.where(k_arr == 0, 0.0, sps.beta.ppf(alpha / 2, kf, nf - kf + 1))
        hi = np.where(k_arr == n_arr, 1.0, sps.beta.ppf(1 - alpha / 2, kf + 1, nf - kf))
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
    half = float(sps.t.ppf(1 - alpha / 2, dof)) * se
    return SlopeFit(slope, intercept, slope - half, slope + half, se, int(x.size))
