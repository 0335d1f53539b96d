r"""The decision rules on widths × seeds tables and failure counts (:mod:`verification.rules` is the
front):
:func:`rate_decision` (an :math:`O(m^p)` claim with equivalence margins),
:func:`probability_decision`
(failure counts against δ: Clopper–Pearson, intersection–union for HOLDS, Holm for VIOLATED) and
:func:`bounded_by` (a value against an explicit bound). Error rates on planted truths:
docs/calibration.md.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from verification.rules._intervals import _alpha, _sps, adjusted_alpha, holm
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED

__all__ = [
    "RateDecision",
    "rate_bounds",
    "rate_status",
    "rate_decision",
    "ProbabilityDecision",
    "probability_statuses",
    "probability_decision",
    "BoundDecision",
    "bounded_by",
]


# ---------------------------------------------------------------------------------------------
# Decision rules. Each returns a small NamedTuple: ``status`` (a verification.rules._verdict
# status),
# the numbers it was decided on, and ``rule``: one line naming the rule and the comparison that
# decided. Their error rates on planted truths are measured in verification.calibration._table and
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


def rate_bounds(
    widths, values, *, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Log-log slope and its :math:`1-\alpha` interval, clustered by seed; batched over leading
    axes.

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
        raise ValueError(
            f"widths: expected a 1-d array of at least 3 distinct positive widths, got "
            f"{np.asarray(widths)!r}"
        )
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


def rate_status(
    lo, hi, *, exponent: float = -0.5, margin: float = 0.1, violation_margin: float | None = None
):
    r"""Status of an O(m^p) claim from a slope interval ``[lo, hi]`` (arrays allowed).

    HOLDS when :math:`\mathrm{hi} \le p + \Delta`; VIOLATED when :math:`\mathrm{lo} > p + \Delta_v`;
    INCONCLUSIVE otherwise. Requires :math:`\Delta_v \ge \Delta \ge 0` (``None``: :math:`\Delta_v =
    \Delta`).
    """
    margin, violation_margin = _margins(margin, violation_margin)
    lo, hi = np.asarray(lo), np.asarray(hi)
    out = np.where(
        hi <= exponent + margin,
        HOLDS,
        np.where(lo > exponent + violation_margin, VIOLATED, INCONCLUSIVE),
    )
    return str(out) if out.ndim == 0 else out


def _margins(margin, violation_margin):
    margin = float(margin)
    if not (math.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin: expected a finite margin >= 0, got {margin!r}")
    violation_margin = margin if violation_margin is None else float(violation_margin)
    if not (math.isfinite(violation_margin) and violation_margin >= margin):
        raise ValueError(
            f"violation_margin: expected a finite margin >= margin = {margin:g}, got "
            f"{violation_margin!r}"
        )
    return margin, violation_margin


def rate_decision(
    widths,
    values_per_seed,
    *,
    exponent: float = -0.5,
    margin: float = 0.1,
    violation_margin: float | None = None,
    alpha: float = 0.05,
) -> RateDecision:
    r"""Decide "the quantity is :math:`O(m^{p})`" from a width × seed table, with equivalence
    margins.

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
    Heavier-tailed maxima (sub-exponential: bias about :math:`\log(\log m_1/\log
    m_0)/\log(m_1/m_0)`)
    need a larger :math:`\Delta_v`.

    ``values_per_seed`` has shape ``(widths, seeds)``; errors at each end of the interval are
    :math:`\alpha/2`. With two or more seeds whose per-seed slopes coincide (zero spread: the
    seeding is broken, the same draw repeated) the status is INCONCLUSIVE and ``rule`` says so.
    """
    margin, vm = _margins(margin, violation_margin)
    exponent = float(exponent)
    v = np.asarray(values_per_seed, np.float64)
    if v.ndim == 1:
        v = v[:, None]
    if v.ndim != 2:
        raise ValueError(
            f"values_per_seed: expected shape (widths, seeds), got {np.shape(values_per_seed)}"
        )
    slope, lo, hi = (float(a) for a in rate_bounds(widths, v, alpha=alpha))
    status = rate_status(lo, hi, exponent=exponent, margin=margin, violation_margin=vm)
    if v.shape[1] >= 2 and hi - lo <= 1e-12 * max(1.0, abs(slope)):
        rule = (
            f"slope {_fmt(slope)} with zero spread of the per-seed slopes over {v.shape[1]} seeds: "
            "identical seeds in a stochastic experiment mean the seeding is broken (the same draw "
            "repeated), so no verdict is drawn"
        )
        return RateDecision(
            INCONCLUSIVE,
            slope,
            lo,
            hi,
            exponent,
            margin,
            vm,
            int(v.shape[1]),
            int(v.shape[0]),
            rule,
        )
    how = (
        f"{v.shape[1]} seeds, t interval over per-seed slopes"
        if v.shape[1] > 1
        else "one seed, regression t interval"
    )
    lvl = f"{100 * (1 - alpha):g}%"
    if status == HOLDS:
        rule = (
            f"slope upper {lvl} end {_fmt(hi)} ≤ p + Δ = {_fmt(exponent + margin)} (p = "
            f"{exponent:g}, Δ = {margin:g}; {how})"
        )
    elif status == VIOLATED:
        rule = (
            f"slope lower {lvl} end {_fmt(lo)} > p + Δ_v = {_fmt(exponent + vm)} (p = "
            f"{exponent:g}, "
            f"Δ_v = {vm:g}; {how})"
        )
    else:
        rule = (
            f"slope {lvl} interval [{_fmt(lo)}, {_fmt(hi)}] neither ≤ p + Δ = "
            f"{_fmt(exponent + margin)} nor "
            f"> p + Δ_v = {_fmt(exponent + vm)} (Δ = {margin:g}, Δ_v = {vm:g}; {how})"
        )
    return RateDecision(
        status, slope, lo, hi, exponent, margin, vm, int(v.shape[1]), int(v.shape[0]), rule
    )


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


def _counts(failures, runs):
    k = np.asarray(failures)
    if k.ndim < 1 or k.size == 0 or not np.issubdtype(k.dtype, np.integer):
        raise ValueError(
            f"failures_per_width: expected integer counts per width, got dtype {k.dtype} shape "
            f"{k.shape}"
        )
    try:
        n = np.broadcast_to(np.asarray(runs), k.shape)
    except ValueError:
        raise ValueError(
            f"runs_per_width: expected a shape broadcastable to {k.shape}, got {np.shape(runs)}"
        ) from None
    if not np.issubdtype(n.dtype, np.integer) or np.any(n < 1):
        raise ValueError(f"runs_per_width: expected positive integer run counts, got {runs!r}")
    if np.any(k < 0) or np.any(k > n):
        raise ValueError(
            f"failures_per_width: expected 0 <= failures <= runs, got {failures!r} of {runs!r}"
        )
    return k, n


def probability_statuses(
    failures,
    runs,
    *,
    delta: float,
    alpha: float = 0.05,
    correction: str = "holm",
    adjust_holds: bool = False,
):
    r"""Vectorised core of :func:`probability_decision`.

    ``failures[..., K]`` (the family: widths, or parts × widths flattened, on the last axis),
    ``runs`` broadcastable to it. Returns ``(status, upper, lower_adjusted, p_adjusted)``: the
    Clopper–Pearson upper end :math:`\mathrm{Beta}^{-1}(1-\alpha/2;\ k+1,\ n-k)` and the one-sided
    p-value :math:`P(\mathrm{Bin}(n, \delta) \ge k)` of :math:`p \le \delta`, Holm-adjusted over the
    family.
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


def probability_decision(
    failures_per_width,
    runs_per_width,
    *,
    delta: float,
    alpha: float = 0.05,
    correction: str = "holm",
    adjust_holds: bool = False,
) -> ProbabilityDecision:
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
        raise ValueError(
            f"failures_per_width: expected shape (widths,) or (parts, widths), got {k.shape}"
        )
    k, n = _counts(k, runs_per_width)
    k, n = k.reshape(-1), n.reshape(-1)
    status, upper, lower, padj = probability_statuses(
        k, n, delta=delta, alpha=alpha, correction=correction, adjust_holds=adjust_holds
    )
    status = str(status)
    K = k.size
    rej = tuple(int(i) for i in np.flatnonzero(padj <= alpha / 2))
    fam = {
        "holm": f"Holm over {K}",
        "bonferroni": f"Bonferroni over {K}",
        "none": f"no adjustment over {K} (family-wise error NOT controlled)",
    }.get(correction, correction)
    hold_how = (
        f"each at α/(2K) = {alpha / (2 * K):.3g}"
        if adjust_holds
        else f"intersection–union, each at α/2 = {alpha / 2:g}"
    )
    if status == HOLDS:
        rule = (
            f"CP upper end ≤ δ = {delta:g} at all {K} widths/parts (max "
            f"{_fmt(float(upper.max()))}; "
            f"{hold_how})"
        )
    elif status == VIOLATED:
        i = rej[0]
        rule = (
            f"failure rate > δ = {delta:g}: {k[i]}/{n[i]} runs, adjusted p = "
            f"{_fmt(float(padj[i]))} "
            f"≤ α/2 = "
            f"{alpha / 2:g} ({fam}); adjusted CP lower end {_fmt(float(lower[i]))}"
        )
    else:
        rule = (
            f"max CP upper end {_fmt(float(upper.max()))} > δ = {delta:g} and no adjusted p ≤ α/2 "
            f"({fam}; "
            f"min adjusted p = {_fmt(float(padj.min()))})"
        )
    return ProbabilityDecision(
        status,
        float(delta),
        float(alpha),
        correction,
        tuple(int(x) for x in k),
        tuple(int(x) for x in n),
        tuple(float(x) for x in upper),
        tuple(float(x) for x in lower),
        tuple(float(x) for x in padj),
        rej,
        rule,
    )


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


def bounded_by(
    values,
    bound,
    *,
    delta: float = 0.0,
    alpha: float = 0.05,
    correction: str = "holm",
    rtol: float = 1e-9,
    scale=None,
) -> BoundDecision:
    r"""Decide "value ≤ bound" where an explicit bound exists (a maximum of bounded terms,
    Bernstein).

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
        raise ValueError(
            f"bound: expected a shape broadcastable to values {v.shape}, got {np.shape(bound)}"
        ) from None
    if np.any(np.isnan(b)):
        raise ValueError("bound: expected numbers, got NaN")
    delta = float(delta)
    if not 0.0 <= delta < 1.0:
        raise ValueError(
            f"delta: expected 0 (deterministic bound) or a probability in (0, 1), got {delta!r}"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(b > 0, v / b, np.where(v > b, np.inf, 0.0))
    over = v > b * (1.0 + rtol) if np.all(b >= 0) else v > b + np.abs(b) * rtol
    max_ratio = float(np.max(ratio))
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), v.shape))
    count = int(over.sum())
    if scale is not None:
        sc = np.broadcast_to(np.asarray(scale, np.float64), v.shape)
        if np.all(b >= sc):
            rule = (
                f"bound ≥ measurement scale everywhere (min bound/scale = "
                f"{_fmt(float(np.min(b / sc)))}): "
                "the check cannot fail"
            )
            return BoundDecision(VACUOUS, max_ratio, count, int(v.size), worst, delta, None, rule)
    if delta == 0.0:
        if count:
            first = tuple(int(i) for i in np.argwhere(over)[0])
            rule = (
                f"value {_fmt(float(v[first]))} > bound {_fmt(float(b[first]))} at index {first} "
                f"({count} of {v.size} points exceed; max value/bound = {_fmt(max_ratio)})"
            )
            return BoundDecision(VIOLATED, max_ratio, count, int(v.size), first, delta, None, rule)
        rule = (
            f"every value ≤ its bound ({v.size} points; max value/bound = {_fmt(max_ratio)}, rtol "
            f"= "
            f"{rtol:g})"
        )
        return BoundDecision(HOLDS, max_ratio, 0, int(v.size), worst, delta, None, rule)
    if v.ndim != 2:
        raise ValueError(f"values: with delta > 0 expected shape (widths, runs), got {v.shape}")
    pd = probability_decision(
        over.sum(axis=1).astype(np.int64),
        np.int64(v.shape[1]),
        delta=delta,
        alpha=alpha,
        correction=correction,
    )
    rule = f"exceedances of a 1-δ bound per width {list(pd.failures)} of {v.shape[1]}: {pd.rule}"
    return BoundDecision(pd.status, max_ratio, count, int(v.size), worst, delta, pd, rule)
