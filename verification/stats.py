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

Decision rules (each returns a ``NamedTuple`` with ``status``, its numbers and a one-line
``rule`` saying what decided; error rates on planted truths in docs/calibration.md):

* :func:`rate_decision` — an :math:`O(m^p)` claim from a width × seed table, equivalence margins
  :math:`\Delta` (HOLDS) and :math:`\Delta_v` (VIOLATED);
* :func:`bounded_by` — a value against an explicit bound (deterministic or :math:`1-\delta`);
* :func:`probability_decision` — failure counts per width against :math:`\delta`
  (Clopper–Pearson, intersection–union for HOLDS, Holm for VIOLATED), with :func:`holm`;
* :func:`resolution_check`, :func:`float_floor`, :func:`envelope_decision` — checks that cannot
  fail are VACUOUS; losses within the float floor are never breaks.

>>> lo, hi = clopper_pearson(0, 10)
>>> round(hi, 4)  # 1 - 0.025 ** (1/10)
0.3085
>>> rate_status(-0.55, -0.45)  # upper end -0.45 <= -1/2 + 0.1
'HOLDS'
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from jaxtyping import Float

from verification.verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED


def _sps():
    """``scipy.stats``, imported on first use: it takes a second or more to import, and
    ``ntk-verify --help`` imports this module."""
    from scipy import stats

    return stats

__all__ = [
    "clopper_pearson",
    "bootstrap_interval",
    "SlopeFit",
    "loglog_slope",
    "RateDecision",
    "rate_bounds",
    "rate_status",
    "rate_decision",
    "BoundDecision",
    "bounded_by",
    "ProbabilityDecision",
    "probability_statuses",
    "probability_decision",
    "holm",
    "adjusted_alpha",
    "ResolutionDecision",
    "resolution_check",
    "float_floor",
    "EnvelopeDecision",
    "envelope_decision",
]


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


# ---------------------------------------------------------------------------------------------
# Decision rules. Each returns a small NamedTuple: ``status`` (a verification.verdict status),
# the numbers it was decided on, and ``rule``: one line naming the rule and the comparison that
# decided. Their error rates on planted truths are measured in verification.calibration and
# published in docs/calibration.md.
# ---------------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return f"{x:.3g}"


class RateDecision(NamedTuple):
    """Outcome of :func:`rate_decision`: slope ``s`` of log value on log width with its interval."""

    status: str
    slope: float
    lo: float
    hi: float
    exponent: float
    margin: float
    violation_margin: float
    seeds: int
    widths: int
    rule: str


def rate_bounds(widths, values, *, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Log-log slope and its :math:`1-\alpha` interval, clustered by seed; batched over leading axes.

    ``values[..., j, s]`` is the measurement at width ``widths[j]`` for seed ``s``. With
    :math:`c_j = (\log m_j - \overline{\log m})/\sum_k (\log m_k - \overline{\log m})^2`, seed
    :math:`s` has slope :math:`b_s = \sum_j c_j \log v_{js}`; the pooled least-squares slope is
    their mean :math:`\bar b` (every seed sees the same widths), and the seeds being independent,

    .. math:: \bar b \pm t_{1-\alpha/2,\,S-1}\ \mathrm{sd}(b_s)/\sqrt{S}

    is exact for normal :math:`b_s` and robust to any correlation *within* a seed across widths
    (a cluster-by-seed interval). With one seed (``S = 1``) the interval is the regression
    :math:`t` interval of :func:`loglog_slope` (``W - 2`` degrees of freedom), which assumes
    independent residuals across widths. Returns ``(slope, lo, hi)`` with the leading shape.
    """
    alpha = _alpha(alpha)
    m = np.asarray(widths, np.float64)
    v = np.asarray(values, np.float64)
    if m.ndim != 1 or np.unique(m).size < 3 or np.any(~np.isfinite(m)) or np.any(m <= 0):
        raise ValueError(f"widths: expected a 1-d array of at least 3 distinct positive widths, got {np.asarray(widths)!r}")
    if v.ndim < 2 or v.shape[-2] != m.size:
        raise ValueError(f"values: expected shape (..., {m.size} widths, seeds), got {v.shape}")
    if np.any(~np.isfinite(v)) or np.any(v <= 0):
        raise ValueError("values: expected finite positive measurements for a log-log slope")
    lx = np.log(m)
    dx = lx - lx.mean()
    sxx = float(np.sum(dx * dx))
    c = dx / sxx
    ly = np.log(v)
    b = np.einsum("j,...js->...s", c, ly)  # per-seed slopes
    S = v.shape[-1]
    slope = b.mean(axis=-1)
    if S >= 2:
        se = b.std(axis=-1, ddof=1) / np.sqrt(S)
        half = float(_sps().t.ppf(1 - alpha / 2, S - 1)) * se
    else:
        if m.size < 3:
            raise ValueError(f"values: one seed needs at least 3 widths, got {m.size}")
        y = ly[..., 0]
        resid = y - y.mean(axis=-1, keepdims=True) - slope[..., None] * dx
        se = np.sqrt(np.sum(resid**2, axis=-1) / (m.size - 2) / sxx)
        half = float(_sps().t.ppf(1 - alpha / 2, m.size - 2)) * se
    return slope, slope - half, slope + half


def rate_status(lo, hi, *, exponent: float = -0.5, margin: float = 0.1, violation_margin: float | None = None):
    r"""Status of an O(m^p) claim from a slope interval ``[lo, hi]`` (arrays allowed).

    HOLDS when :math:`\mathrm{hi} \le p + \Delta`; VIOLATED when :math:`\mathrm{lo} > p + \Delta_v`;
    INCONCLUSIVE otherwise. Requires :math:`\Delta_v \ge \Delta \ge 0` (``None``: :math:`\Delta_v = \Delta`).
    """
    margin, violation_margin = _margins(margin, violation_margin)
    lo, hi = np.asarray(lo), np.asarray(hi)
    out = np.where(hi <= exponent + margin, HOLDS, np.where(lo > exponent + violation_margin, VIOLATED, INCONCLUSIVE))
    return str(out) if out.ndim == 0 else out


def _margins(margin, violation_margin):
    margin = float(margin)
    if not (math.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin: expected a finite margin >= 0, got {margin!r}")
    violation_margin = margin if violation_margin is None else float(violation_margin)
    if not (math.isfinite(violation_margin) and violation_margin >= margin):
        raise ValueError(f"violation_margin: expected a finite margin >= margin = {margin:g}, got {violation_margin!r}")
    return margin, violation_margin


def rate_decision(widths, values_per_seed, *, exponent: float = -0.5, margin: float = 0.1,
                  violation_margin: float | None = None, alpha: float = 0.05) -> RateDecision:
    r"""Decide "the quantity is :math:`O(m^{p})`" from a width × seed table, with equivalence margins.

    Slope :math:`\bar b` and interval :math:`[\mathrm{lo}, \mathrm{hi}]` from :func:`rate_bounds`
    (log value on log width, clustered by seed). Then

    * HOLDS when :math:`\mathrm{hi} \le p + \Delta` (the rate is at most :math:`\Delta` worse than
      claimed: an equivalence test; a true exponent of exactly :math:`p` reaches it once the
      interval's half-width is below :math:`\Delta`);
    * VIOLATED when :math:`\mathrm{lo} > p + \Delta_v`, :math:`\Delta_v \ge \Delta` (default
      :math:`\Delta_v = \Delta = 0.1`);
    * INCONCLUSIVE otherwise.

    Why a margin for VIOLATED too: at finite widths a quantity that is exactly :math:`O(m^{p})`
    can fit a shallower slope. A maximum over :math:`m` neurons of a bounded function of Gaussian
    draws, times :math:`m^{-1/2}`, grows toward its supremum like :math:`\sqrt{2\log m}`: its
    log-log slope over :math:`m \in [m_0, m_1]` exceeds :math:`p` by about
    :math:`\log(\log m_1/\log m_0)/(2\log(m_1/m_0))` (0.076 for 64…16384; 0.078–0.084 measured on
    planted cases, docs/calibration.md). :math:`\Delta_v = 0.1` covers it, so such a quantity is
    INCONCLUSIVE (decide it by its explicit bound, :func:`bounded_by`), never VIOLATED.
    Heavier-tailed maxima (sub-exponential: bias about :math:`\log(\log m_1/\log m_0)/\log(m_1/m_0)`)
    need a larger :math:`\Delta_v`.

    ``values_per_seed`` has shape ``(widths, seeds)``; errors at each end of the interval are
    :math:`\alpha/2`.
    """
    margin, vm = _margins(margin, violation_margin)
    exponent = float(exponent)
    v = np.asarray(values_per_seed, np.float64)
    if v.ndim == 1:
        v = v[:, None]
    if v.ndim != 2:
        raise ValueError(f"values_per_seed: expected shape (widths, seeds), got {np.shape(values_per_seed)}")
    slope, lo, hi = (float(a) for a in rate_bounds(widths, v, alpha=alpha))
    status = rate_status(lo, hi, exponent=exponent, margin=margin, violation_margin=vm)
    how = f"{v.shape[1]} seeds, t interval over per-seed slopes" if v.shape[1] > 1 else "one seed, regression t interval"
    lvl = f"{100 * (1 - alpha):g}%"
    if status == HOLDS:
        rule = f"slope upper {lvl} end {_fmt(hi)} ≤ p + Δ = {_fmt(exponent + margin)} (p = {exponent:g}, Δ = {margin:g}; {how})"
    elif status == VIOLATED:
        rule = f"slope lower {lvl} end {_fmt(lo)} > p + Δ_v = {_fmt(exponent + vm)} (p = {exponent:g}, Δ_v = {vm:g}; {how})"
    else:
        rule = (f"slope {lvl} interval [{_fmt(lo)}, {_fmt(hi)}] neither ≤ p + Δ = {_fmt(exponent + margin)} nor "
                f"> p + Δ_v = {_fmt(exponent + vm)} (Δ = {margin:g}, Δ_v = {vm:g}; {how})")
    return RateDecision(status, slope, lo, hi, exponent, margin, vm, int(v.shape[1]), int(v.shape[0]), rule)


class ProbabilityDecision(NamedTuple):
    """Outcome of :func:`probability_decision`; arrays are flattened over (parts ×) widths."""

    status: str
    delta: float
    alpha: float
    correction: str
    failures: tuple[int, ...]
    runs: tuple[int, ...]
    upper: tuple[float, ...]
    lower_adjusted: tuple[float, ...]
    p_adjusted: tuple[float, ...]
    rejected: tuple[int, ...]
    rule: str


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


def _counts(failures, runs):
    k = np.asarray(failures)
    if k.ndim < 1 or k.size == 0 or not np.issubdtype(k.dtype, np.integer):
        raise ValueError(f"failures_per_width: expected integer counts per width, got dtype {k.dtype} shape {k.shape}")
    try:
        n = np.broadcast_to(np.asarray(runs), k.shape)
    except ValueError:
        raise ValueError(f"runs_per_width: expected a shape broadcastable to {k.shape}, got {np.shape(runs)}") from None
    if not np.issubdtype(n.dtype, np.integer) or np.any(n < 1):
        raise ValueError(f"runs_per_width: expected positive integer run counts, got {runs!r}")
    if np.any(k < 0) or np.any(k > n):
        raise ValueError(f"failures_per_width: expected 0 <= failures <= runs, got {failures!r} of {runs!r}")
    return k, n


def probability_statuses(failures, runs, *, delta: float, alpha: float = 0.05, correction: str = "holm",
                         adjust_holds: bool = False):
    r"""Vectorised core of :func:`probability_decision`.

    ``failures[..., K]`` (the family: widths, or parts × widths flattened, on the last axis),
    ``runs`` broadcastable to it. Returns ``(status, upper, lower_adjusted, p_adjusted)``: the
    Clopper–Pearson upper end :math:`\mathrm{Beta}^{-1}(1-\alpha/2;\ k+1,\ n-k)` and the one-sided
    p-value :math:`P(\mathrm{Bin}(n, \delta) \ge k)` of :math:`p \le \delta`, Holm-adjusted over the family.
    """
    alpha = _alpha(alpha)
    delta = float(delta)
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta: expected a failure probability in (0, 1), got {delta!r}")
    k, n = _counts(failures, runs)
    K = k.shape[-1]
    a_hold = adjusted_alpha(alpha, K, method=correction) if adjust_holds else alpha
    kf, nf = k.astype(np.float64), n.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        upper = np.where(k == n, 1.0, _sps().beta.ppf(1 - a_hold / 2, kf + 1, nf - kf))
        # one-sided p-value of H0: p <= delta, P(Bin(n, delta) >= k); adjusted over the family
        pval = np.where(k == 0, 1.0, _sps().binom.sf(k - 1, n, delta))
        a_k = adjusted_alpha(alpha, K, method="bonferroni" if correction != "none" else "none")
        lower = np.where(k == 0, 0.0, _sps().beta.ppf(a_k / 2, kf, nf - kf + 1))
    padj = holm(pval, method=correction)
    rejected = padj <= alpha / 2
    holds = np.all(upper <= delta, axis=-1)
    status = np.where(holds, HOLDS, np.where(np.any(rejected, axis=-1), VIOLATED, INCONCLUSIVE))
    return status, upper, lower, padj


def probability_decision(failures_per_width, runs_per_width, *, delta: float, alpha: float = 0.05,
                         correction: str = "holm", adjust_holds: bool = False) -> ProbabilityDecision:
    r"""Decide "at every width, a run fails with probability at most δ" from failure counts.

    ``failures_per_width`` has shape ``(widths,)`` or ``(parts, widths)`` (integers);
    ``runs_per_width`` broadcasts to it. The family is every (part, width): :math:`K` tests.

    * HOLDS when the Clopper–Pearson upper end (one-sided :math:`1-\alpha/2`) is :math:`\le \delta`
      for every member. This is an intersection–union test (Berger 1982): "holds everywhere" is
      concluded only if each "fails at rate :math:`\ge\delta` here" is rejected, so the false-HOLDS
      rate is at most :math:`\alpha/2` whatever the other members do, without adjustment
      (``adjust_holds=True`` tests each at :math:`\alpha/(2K)` instead: safer, far less power).
    * VIOLATED when, after ``correction`` (Holm or Bonferroni; ``"none"`` does not control the
      family-wise error and says so), some member's one-sided p-value of
      :math:`H_0: p \le \delta`, :math:`P(\mathrm{Bin}(n,\delta) \ge k)`, is
      :math:`\le \alpha/2`: the false-VIOLATED rate is at most :math:`\alpha/2` over the family.
      Equivalently a CP lower end at two-sided level :math:`1-\alpha/K` exceeds :math:`\delta`.
    * INCONCLUSIVE otherwise.

    Budget: a true claim reaches HOLDS only when runs are enough for the upper end to fall below
    δ. For δ = 0.1, α = 0.05 the upper end is ≤ δ iff failures ≤ 0, 1, 2, 4, 5 at 40, 60, 80, 100,
    120 runs; with p = 0.02 at 4 widths the HOLDS rate is then 0.04, 0.19, 0.38, 0.81, 0.87
    (120 runs per width is the proposed default; docs/calibration.md).
    """
    k = np.asarray(failures_per_width)
    if k.ndim not in (1, 2):
        raise ValueError(f"failures_per_width: expected shape (widths,) or (parts, widths), got {k.shape}")
    k, n = _counts(k, runs_per_width)
    k, n = k.reshape(-1), n.reshape(-1)
    status, upper, lower, padj = probability_statuses(k, n, delta=delta, alpha=alpha, correction=correction,
                                                      adjust_holds=adjust_holds)
    status = str(status)
    K = k.size
    rej = tuple(int(i) for i in np.flatnonzero(padj <= alpha / 2))
    fam = {"holm": f"Holm over {K}", "bonferroni": f"Bonferroni over {K}",
           "none": f"no adjustment over {K} (family-wise error NOT controlled)"}.get(correction, correction)
    hold_how = (f"each at α/(2K) = {alpha / (2 * K):.3g}" if adjust_holds
                else f"intersection–union, each at α/2 = {alpha / 2:g}")
    if status == HOLDS:
        rule = (f"CP upper end ≤ δ = {delta:g} at all {K} widths/parts (max {_fmt(float(upper.max()))}; {hold_how})")
    elif status == VIOLATED:
        i = rej[0]
        rule = (f"failure rate > δ = {delta:g}: {k[i]}/{n[i]} runs, adjusted p = {_fmt(float(padj[i]))} ≤ α/2 = "
                f"{alpha / 2:g} ({fam}); adjusted CP lower end {_fmt(float(lower[i]))}")
    else:
        rule = (f"max CP upper end {_fmt(float(upper.max()))} > δ = {delta:g} and no adjusted p ≤ α/2 ({fam}; "
                f"min adjusted p = {_fmt(float(padj.min()))})")
    return ProbabilityDecision(status, float(delta), float(alpha), correction, tuple(int(x) for x in k),
                               tuple(int(x) for x in n), tuple(float(x) for x in upper),
                               tuple(float(x) for x in lower), tuple(float(x) for x in padj), rej, rule)


class BoundDecision(NamedTuple):
    """Outcome of :func:`bounded_by`."""

    status: str
    max_ratio: float
    exceedances: int
    points: int
    worst: tuple[int, ...]
    delta: float
    probability: ProbabilityDecision | None
    rule: str


def bounded_by(values, bound, *, delta: float = 0.0, alpha: float = 0.05, correction: str = "holm",
               rtol: float = 1e-9, scale=None) -> BoundDecision:
    r"""Decide "value ≤ bound" where an explicit bound exists (a maximum of bounded terms, Bernstein).

    ``bound`` broadcasts to ``values``. A point exceeds when :math:`v > b\,(1 + \mathrm{rtol})`
    (``rtol`` absorbs the rounding of computing both; a value equal to its bound is within it).

    * ``scale`` (optional, broadcast like ``bound``): the value the quantity cannot exceed anyway
      (its measurement scale). When every bound is :math:`\ge` it, the check cannot fail: VACUOUS.
    * ``delta = 0``: a deterministic bound. VIOLATED at the first exceedance (a counterexample),
      HOLDS otherwise.
    * ``delta > 0``: a bound that holds with probability :math:`\ge 1-\delta` per run. ``values``
      has shape ``(widths, runs)``; the exceedances per width are decided by
      :func:`probability_decision` (CP bounds, ``correction`` over widths).
    """
    v = np.asarray(values, np.float64)
    if v.size == 0 or np.any(np.isnan(v)):
        raise ValueError(f"values: expected a non-empty array without NaN, got shape {v.shape}")
    try:
        b = np.broadcast_to(np.asarray(bound, np.float64), v.shape)
    except ValueError:
        raise ValueError(f"bound: expected a shape broadcastable to values {v.shape}, got {np.shape(bound)}") from None
    if np.any(np.isnan(b)):
        raise ValueError("bound: expected numbers, got NaN")
    delta = float(delta)
    if not 0.0 <= delta < 1.0:
        raise ValueError(f"delta: expected 0 (deterministic bound) or a probability in (0, 1), got {delta!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(b > 0, v / b, np.where(v > b, np.inf, 0.0))
    over = v > b * (1.0 + rtol) if np.all(b >= 0) else v > b + np.abs(b) * rtol
    max_ratio = float(np.max(ratio))
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), v.shape))
    count = int(over.sum())
    if scale is not None:
        sc = np.broadcast_to(np.asarray(scale, np.float64), v.shape)
        if np.all(b >= sc):
            rule = (f"bound ≥ measurement scale everywhere (min bound/scale = {_fmt(float(np.min(b / sc)))}): "
                    "the check cannot fail")
            return BoundDecision(VACUOUS, max_ratio, count, int(v.size), worst, delta, None, rule)
    if delta == 0.0:
        if count:
            first = tuple(int(i) for i in np.argwhere(over)[0])
            rule = (f"value {_fmt(float(v[first]))} > bound {_fmt(float(b[first]))} at index {first} "
                    f"({count} of {v.size} points exceed; max value/bound = {_fmt(max_ratio)})")
            return BoundDecision(VIOLATED, max_ratio, count, int(v.size), first, delta, None, rule)
        rule = f"every value ≤ its bound ({v.size} points; max value/bound = {_fmt(max_ratio)}, rtol = {rtol:g})"
        return BoundDecision(HOLDS, max_ratio, 0, int(v.size), worst, delta, None, rule)
    if v.ndim != 2:
        raise ValueError(f"values: with delta > 0 expected shape (widths, runs), got {v.shape}")
    pd = probability_decision(over.sum(axis=1).astype(np.int64), np.int64(v.shape[1]), delta=delta, alpha=alpha,
                              correction=correction)
    rule = f"exceedances of a 1-δ bound per width {list(pd.failures)} of {v.shape[1]}: {pd.rule}"
    return BoundDecision(pd.status, max_ratio, count, int(v.size), worst, delta, pd, rule)


class ResolutionDecision(NamedTuple):
    """Outcome of :func:`resolution_check`: VACUOUS (demand below resolution) or HOLDS (resolved)."""

    status: str
    demanded: float
    resolution: float
    rule: str


def resolution_check(demanded, resolution, *, what: str = "the check") -> ResolutionDecision:
    r"""VACUOUS when a check demands less than it can resolve: :math:`\text{demanded} < \text{resolution}`.

    ``demanded`` is what passing requires, in the units of ``resolution`` (e.g. the relative loss
    decrease :math:`1 - (1-\eta\lambda/2)^T` an envelope demands against a documented minimum, or a
    bound's margin below the measurement scale). A resolved check returns HOLDS, which in
    :func:`verification.verdict.combine_status` leaves the other parts to decide.
    """
    d, r = float(demanded), float(resolution)
    if math.isnan(d):
        raise ValueError(f"demanded: expected a number, got {demanded!r}")
    if not (math.isfinite(r) and r > 0):
        raise ValueError(f"resolution: expected a finite positive resolution, got {resolution!r}")
    if d < r:
        return ResolutionDecision(VACUOUS, d, r, f"{what} demands {_fmt(d)} < resolution {_fmt(r)}: it cannot fail")
    return ResolutionDecision(HOLDS, d, r, f"{what} demands {_fmt(d)} ≥ resolution {_fmt(r)}: resolved")


def float_floor(n: int, m: int, B: float, y_max: float, dtype=np.float64) -> float:
    r"""Smallest loss :math:`L = \sum_i (f_i - y_i)^2` that rounding lets a computation resolve.

    .. math:: L_{\text{floor}} = n\,\big(\epsilon\,(\sqrt{m}\,B + \max_i|y_i|)\big)^2

    Derivation: the network output :math:`f_i = m^{-1/2}\sum_r a_r V_r(x_i)` sums :math:`m`
    terms of size at most :math:`B/\sqrt m` (:math:`V_r(x_i)` is an attention average of entries
    of :math:`x_i`, so :math:`|V_r| \le B`), whose magnitudes add up to :math:`\sqrt m\,B`; each
    rounded operation errs by at most :math:`\epsilon` (machine epsilon of ``dtype``) of the
    magnitudes it combines, so the computed residual :math:`f_i - y_i` is known only to about
    :math:`\epsilon(\sqrt m B + |y_i|)` (first order, with the per-term error constants of
    pairwise summation taken as one). A residual smaller than that is rounding; the :math:`n`
    squared residuals give the floor. With :math:`L = \tfrac12\sum_i` or a mean the floor is
    smaller by 2 or :math:`n`: this one is then conservative (it excuses more).
    """
    n, m = int(n), int(m)
    if n < 1 or m < 1:
        raise ValueError(f"n, m: expected positive sizes, got n = {n!r}, m = {m!r}")
    B, y_max = float(B), float(y_max)
    if not (math.isfinite(B) and B >= 0 and math.isfinite(y_max) and y_max >= 0):
        raise ValueError(f"B, y_max: expected finite non-negative magnitudes, got B = {B!r}, y_max = {y_max!r}")
    try:
        eps = float(np.finfo(dtype).eps)
    except (TypeError, ValueError):
        raise ValueError(f"dtype: expected a floating dtype, got {dtype!r}") from None
    return n * (eps * (math.sqrt(m) * B + y_max)) ** 2


class EnvelopeDecision(NamedTuple):
    """Outcome of :func:`envelope_decision`."""

    status: str
    breaks: int
    points: int
    below_floor: int
    demanded: float
    min_decrease: float
    floor: float
    first_break: tuple[int, ...] | None
    probability: ProbabilityDecision | None
    rule: str


def envelope_decision(losses, envelope, floor: float, *, min_decrease: float = 1e-2, rtol: float = 1e-9,
                      delta: float = 0.0, alpha: float = 0.05, correction: str = "holm") -> EnvelopeDecision:
    r"""Decide ":math:`L(t) \le \mathrm{env}(t)` at every recorded t", never counting rounding as a break.

    ``losses[..., T]`` (time last) and ``envelope`` (absolute values, broadcast to ``losses``).

    * VACUOUS when the envelope demands a relative decrease
      :math:`1 - \mathrm{env}(T)/\mathrm{env}(0)` below ``min_decrease`` (default 1% of the initial
      loss) for every run: any run whose loss does not rise meets it (:func:`resolution_check`).
    * A point breaks when :math:`L > \mathrm{env}\,(1+\mathrm{rtol}) + L_{\text{floor}}`
      (``floor``, :func:`float_floor`): the excess must exceed what rounding can produce, so a loss
      at or below the float floor is never a counterexample, nor is an excess within it.
    * ``delta = 0``: VIOLATED at the first break, else HOLDS. ``delta > 0`` (the claim holds with
      probability :math:`\ge 1-\delta` per run): ``losses`` has shape ``(widths, runs, T)`` and the
      runs with a break, per width, go to :func:`probability_decision`.
    """
    L = np.asarray(losses, np.float64)
    if L.ndim < 1 or L.shape[-1] < 2 or np.any(np.isnan(L)):
        raise ValueError(f"losses: expected at least two recorded times (last axis) and no NaN, got shape {L.shape}")
    try:
        env = np.broadcast_to(np.asarray(envelope, np.float64), L.shape)
    except ValueError:
        raise ValueError(f"envelope: expected a shape broadcastable to losses {L.shape}, got {np.shape(envelope)}") from None
    if np.any(~np.isfinite(env)) or np.any(env < 0):
        raise ValueError("envelope: expected finite non-negative values")
    floor = float(floor)
    if not (math.isfinite(floor) and floor >= 0):
        raise ValueError(f"floor: expected a finite non-negative loss, got {floor!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        dem = np.where(env[..., 0] > 0, 1.0 - env[..., -1] / env[..., 0], 0.0)
    demanded = float(np.max(dem))
    below = L <= floor
    brk = L > env * (1.0 + rtol) + floor
    n_brk, n_below = int(brk.sum()), int(below.sum())
    res = resolution_check(demanded, min_decrease, what="the envelope")
    if res.status == VACUOUS:
        return EnvelopeDecision(VACUOUS, n_brk, int(L.size), n_below, demanded, float(min_decrease), floor, None, None,
                                f"{res.rule} (relative loss decrease over the run)")
    first = tuple(int(i) for i in np.argwhere(brk)[0]) if n_brk else None
    tail = f"{n_below} of {L.size} points at or below the float floor {_fmt(floor)} not counted"
    if float(delta) > 0.0:
        if L.ndim != 3:
            raise ValueError(f"losses: with delta > 0 expected shape (widths, runs, T), got {L.shape}")
        pd = probability_decision(brk.any(axis=-1).sum(axis=1).astype(np.int64), np.int64(L.shape[1]), delta=delta,
                                  alpha=alpha, correction=correction)
        return EnvelopeDecision(pd.status, n_brk, int(L.size), n_below, demanded, float(min_decrease), floor, first, pd,
                                f"runs breaking the envelope per width {list(pd.failures)}: {pd.rule}; {tail}")
    if n_brk:
        rule = (f"L = {_fmt(float(L[first]))} > envelope {_fmt(float(env[first]))} + float floor {_fmt(floor)} at index "
                f"{first} ({n_brk} breaks); {tail}")
        return EnvelopeDecision(VIOLATED, n_brk, int(L.size), n_below, demanded, float(min_decrease), floor, first, None, rule)
    rule = f"L(t) ≤ envelope at all {L.size} points (demanded decrease {_fmt(demanded)}); {tail}"
    return EnvelopeDecision(HOLDS, n_brk, int(L.size), n_below, demanded, float(min_decrease), floor, None, None, rule)
