r"""Decision rules of the out-of-distribution claims (C5, C7): a noise exponent and paired seed
effects; C7's margin rule lives in :mod:`verification.rules._margin` (re-exported here).

**Noise exponent** (:func:`noise_exponent_decision`, C5). Proposition 6.3's
:math:`\tilde O(\sigma^2)` read as a scaling law, without a constant: with the noise variance
:math:`\sigma^2` swept over decades, each seed's slope :math:`b_s` of :math:`\log R` on
:math:`\log\sigma^2` says whether the risk vanishes with the noise. With a margin :math:`\Delta`
and the median over network draws (default; ``estimand="mean"`` reads the mean):

* "vanishes like :math:`\sigma^2`" when the exact sign test puts the median exponent above
  :math:`1-\Delta` at :math:`\alpha/2`;
* "does not vanish like :math:`\sigma^2`" (:math:`R/\sigma^2` grows as :math:`\sigma\to0`) when it
  puts it below; INCONCLUSIVE otherwise, and always on zero spread over seeds.

The seeds are i.i.d. network draws, so the :math:`b_s` are i.i.d. whatever the noise does within a
seed — skewed, larger at one level, correlated across levels — and the sign test holds its level
for every continuous law (:mod:`verification.rules._robust`): at the boundary
:math:`b = 1-\Delta` each direction errs at most :math:`\alpha/2` (0.010–0.012 measured under
level-dependent skew ±2 at 10 seeds, docs/calibration.md). The cost: 6 seeds at least, 10 by
default (9 of 10 on one side decide). The earlier :math:`t` interval over 3 seeds erred 0.10–0.14
under that noise. The finding also says whether the risk does not vanish at all (upper end
:math:`\le \Delta`).

**Paired seed effects** (:func:`paired_effects`, C7). The network draw is the unit: per seed
:math:`s` the log risk ratio :math:`d_{v,s} = \log(\bar e_{v,s}/\bar e_{0,s})` of variant v
against the baseline on the same seed and test windows (:math:`\bar e` a mean over windows). Per
variant a one-sample :math:`t` test over seeds (:math:`S-1` degrees of freedom) gives one-sided
p-values for "helps" (:math:`E d < 0`) and "hurts" (:math:`E d > 0`); each direction is
Holm-adjusted over the V variants and rejected at :math:`\alpha/2`. C7 keeps it as a diagnostic
only ("no significant effect" is not evidence of no effect; under skewed seed noise its level is
approximate).

**Mitigation margin** (:func:`verification.rules._margin.margin_effects`, C7's decisive rule).
"Variant v mitigates" is read as "it lowers the risk by at least a fraction :math:`\Delta`": the
median (default) or mean of :math:`d_v` below :math:`\log(1-\Delta)`. Exact one-sided sign tests
over seeds for the median: "does not mitigate" Holm over the variants at :math:`\alpha/2`;
"every variant mitigates" by intersection–union, each at :math:`\alpha/2`; a single variant's
"mitigates" outside that family decision only at Holm's level, so nothing is printed that the
family does not support. See that module for the validity argument and the cost in seeds.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from verification import rules as stats
from verification.rules._intervals import _sps
from verification.rules._margin import (
    MarginDecision,
    margin_effect_statuses,
    margin_effects,
    margin_seeds_for_power,
)
from verification.rules._robust import (
    ESTIMANDS,
    check_choice,
    check_finite,
    check_open_unit,
    hall_t,
    median_bounds,
    seeds_for_power,
    sign_critical,
    sign_pvalues,
    sign_seeds_for_power,
    zero_spread,
    zero_spread_words,
)
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VIOLATED

__all__ = [
    "NoiseExponent",
    "exponent_seeds_for_power",
    "noise_exponent_status",
    "noise_exponent_decision",
    "noise_exponent_statuses",
    "ESTIMANDS",
    "seed_log_ratios",
    "EffectDecision",
    "paired_effect_statuses",
    "paired_effects",
    "seeds_for_power",
    "MarginDecision",
    "margin_effect_statuses",
    "margin_effects",
    "margin_seeds_for_power",
]


# ----------------------------------------------------------------------------- noise exponent


class NoiseExponent(NamedTuple):
    """Outcome of :func:`noise_exponent_decision`: the exponent of R in σ² with its interval
    (``slope`` the median or mean of the per-seed exponents, per ``estimand``; ``above`` the
    seeds whose exponent exceeds 1 − Δ)."""

    status: str
    slope: float
    lo: float
    hi: float
    margin: float
    vanishes: bool
    seeds: int
    levels: int
    rule: str
    estimand: str = "median"
    above: int = 0
    alpha: float = 0.05


def noise_exponent_status(lo, hi, *, vanishes: bool, margin: float = 0.1):
    r"""Status of "R vanishes like σ²" (``vanishes=True``) or "R does not" (``False``) from a slope
    interval [lo, hi] of log R on log σ² (arrays allowed): the threshold is :math:`1-\Delta`."""
    lo, hi = np.asarray(lo), np.asarray(hi)
    fast, slow = lo >= 1.0 - margin, hi < 1.0 - margin
    yes, no = (fast, slow) if vanishes else (slow, fast)
    out = np.where(yes, HOLDS, np.where(no, VIOLATED, INCONCLUSIVE))
    return str(out) if out.ndim == 0 else out


def _exponent_input(noise_var, risk_per_seed, margin, alpha, estimand):
    margin = float(margin)
    if not (np.isfinite(margin) and 0.0 <= margin < 1.0):
        raise ValueError(f"margin: expected a margin Δ in [0, 1), got {margin!r}")
    alpha = check_open_unit("alpha", alpha, "a level α")
    check_choice("estimand", estimand, ESTIMANDS)
    x = check_finite("noise_var", noise_var, "finite noise variances")
    if x.ndim != 1 or np.unique(x).size < 3 or np.any(x <= 0):
        raise ValueError(
            f"noise_var: expected at least 3 distinct positive noise variances, got {x.tolist()}"
        )
    v = check_finite("risk_per_seed", risk_per_seed, "finite risks")
    if v.ndim == 1:
        v = v[:, None]
    if v.shape[-2] != x.size:
        raise ValueError(
            f"risk_per_seed: expected shape (..., {x.size} levels, seeds), got {v.shape}"
        )
    if np.any(v <= 0):
        where = tuple(int(i) for i in np.argwhere(v <= 0)[0])
        raise ValueError(
            f"risk_per_seed: expected positive risks (a log is taken), got {float(v[where])!r} at "
            f"index {where}"
        )
    return x, v, margin, alpha


def _per_seed_exponents(x, v) -> np.ndarray:
    """Least-squares slopes of log R on log σ², one per seed: ``(..., S)``."""
    lx = np.log(x)
    c = (lx - lx.mean()) / np.sum((lx - lx.mean()) ** 2)
    return np.einsum("j,...js->...s", c, np.log(v))


def noise_exponent_statuses(
    noise_var,
    risk_per_seed,
    *,
    vanishes: bool,
    margin: float = 0.1,
    alpha: float = 0.05,
    estimand: str = "median",
):
    r"""Vectorised core of :func:`noise_exponent_decision`: ``risk_per_seed[..., K, S]`` →
    ``(status[...], centre[...], lo[...], hi[...])``, the per-seed slopes :math:`b_s` of
    :math:`\log R` on :math:`\log\sigma^2` read against :math:`1-\Delta` (median: sign test)."""
    x, v, margin, alpha = _exponent_input(noise_var, risk_per_seed, margin, alpha, estimand)
    thr = 1.0 - margin
    S = v.shape[-1]
    if S == 1 and estimand == "mean":
        slope, lo, hi = stats.rate_bounds(x, v, alpha=alpha)
        return noise_exponent_status(lo, hi, vanishes=vanishes, margin=margin), slope, lo, hi
    b = _per_seed_exponents(x, v)
    flat = zero_spread(b)
    if estimand == "median":
        centre = np.median(b, axis=-1)
        lo, hi = median_bounds(b, alpha)
        p_below, p_above = sign_pvalues(b, thr)
        fast, slow = p_above <= alpha / 2, p_below <= alpha / 2
    else:
        centre = b.mean(axis=-1)
        half = float(_sps().t.ppf(1 - alpha / 2, S - 1)) * b.std(axis=-1, ddof=1) / np.sqrt(S)
        lo, hi = centre - half, centre + half
        t = hall_t(b, thr)
        q = float(_sps().t.ppf(1 - alpha / 2, S - 1))
        fast, slow = t >= q, t <= -q
    fast, slow = fast & ~flat, slow & ~flat
    yes, no = (fast, slow) if vanishes else (slow, fast)
    status = np.where(yes, HOLDS, np.where(no, VIOLATED, INCONCLUSIVE))
    return (str(status) if status.ndim == 0 else status), centre, lo, hi


def exponent_seeds_for_power(
    dec: NoiseExponent, *, alpha: float | None = None, power: float = 0.8
) -> int:
    r"""Seeds at which the noise-exponent rule decides with probability ``power`` if the per-seed
    exponents keep falling as observed. Median: the exact sign-test budget at the share of seeds on
    the side of 1 − Δ where the centre lies, shrunk as :math:`(k + 1/2)/(S + 1)`
    (:func:`verification.rules._robust.sign_seeds_for_power`, one test at α/2); mean: the
    noncentral t at the standardised distance :math:`|\bar b - (1-\Delta)|/\mathrm{sd}(b_s)`, sd
    from the interval. 0 when not computable (one seed, zero spread, or beyond 1000 seeds)."""
    alpha = dec.alpha if alpha is None else alpha
    if dec.seeds < 2 or not dec.hi > dec.lo:
        return 0
    thr = 1.0 - dec.margin
    if dec.estimand == "median":
        k = dec.above if dec.slope >= thr else dec.seeds - dec.above
        return sign_seeds_for_power((k + 0.5) / (dec.seeds + 1), alpha / 2, power=power)
    sd = (
        (dec.hi - dec.lo)
        / 2
        / float(_sps().t.ppf(1 - alpha / 2, dec.seeds - 1))
        * np.sqrt(dec.seeds)
    )
    return seeds_for_power(abs(dec.slope - thr) / sd, 1, alpha=alpha, power=power)


def noise_exponent_decision(
    noise_var,
    risk_per_seed,
    *,
    vanishes: bool,
    margin: float = 0.1,
    alpha: float = 0.05,
    estimand: str = "median",
) -> NoiseExponent:
    r"""Decide whether a risk vanishes like the noise variance, from a (levels, seeds) table.

    ``noise_var[k]`` the noise variance :math:`\sigma_k^2` (at least 3 distinct, positive),
    ``risk_per_seed[k, s]`` the risk at that level for seed s (finite, positive: a zero risk is a
    ValueError naming it). Each seed s gives its exponent :math:`b_s`, the least-squares slope of
    :math:`\log R_{\cdot s}` on :math:`\log\sigma^2`; the seeds are i.i.d. network draws, so
    whatever the noise does across levels within a seed (skewed, larger at one level, correlated)
    the :math:`b_s` are i.i.d. ``estimand``:

    * ``"median"`` (default): the median exponent over network draws; "vanishes" when the exact
      sign test puts it above :math:`1-\Delta` at α/2 (enough seeds with :math:`b_s > 1-\Delta`),
      "does not vanish" when below. Valid for every continuous law of the :math:`b_s`
      (:mod:`verification.rules._robust`); cannot decide below 6 seeds (the default is 10: 9 of
      10 seeds on one side decide).
    * ``"mean"``: :math:`E b_s`, Hall's skewness-corrected :math:`t` over seeds (one seed: the
      regression :math:`t` interval over levels). Approximate: under level-dependent skewed noise
      its one-sided error exceeds α/2 at few seeds (docs/calibration.md).

    The interval is the median's order-statistic interval (or the :math:`t` interval), each end
    one-sided :math:`1-\alpha/2`. Zero spread of the :math:`b_s` over 2 or more seeds:
    INCONCLUSIVE, named in the rule.
    """
    x, v, margin, alpha = _exponent_input(noise_var, risk_per_seed, margin, alpha, estimand)
    if v.ndim != 2:
        raise ValueError(f"risk_per_seed: expected shape (levels, seeds), got {v.shape}")
    status, centre, lo, hi = noise_exponent_statuses(
        x, v, vanishes=vanishes, margin=margin, alpha=alpha, estimand=estimand
    )
    slope, lo, hi = float(centre), float(lo), float(hi)
    thr = 1.0 - margin
    S = v.shape[1]
    b = _per_seed_exponents(x, v)
    above = int(np.sum(b > thr))
    lvl = f"{100 * (1 - alpha):g}%"
    if estimand == "median":
        need = sign_critical(S, alpha / 2)
        how = (
            f"{S} seeds, median of the per-seed exponents, exact sign test ({above} of {S} above "
            f"1 − Δ; {need} of {S} on one side decide)"
            if need <= S
            else f"{S} seeds: a sign test cannot reach α/2 = {alpha / 2:g} below 6 seeds"
        )
    else:
        how = (
            f"{S} seeds, mean of the per-seed exponents, skewness-corrected t (approximate)"
            if S > 1
            else "one seed, regression t interval"
        )
    if zero_spread(b):
        word = zero_spread_words("the per-seed exponents", S)
    elif status == (HOLDS if vanishes else VIOLATED):
        word = f"{lvl} interval [{lo:.3g}, {hi:.3g}] above 1 − Δ = {thr:.3g}: vanishes like σ²"
    elif status == (VIOLATED if vanishes else HOLDS):
        word = (
            f"{lvl} interval [{lo:.3g}, {hi:.3g}] below 1 − Δ = {thr:.3g}: R/σ² grows as σ → 0"
            + (f" (≤ Δ = {margin:g}: does not vanish)" if hi <= margin else "")
        )
    else:
        word = f"undecided against 1 − Δ = {thr:.3g} ({lvl} interval [{lo:.3g}, {hi:.3g}])"
    rule = f"noise exponent of R in σ²: {estimand} {slope:.3g}, {word} (Δ = {margin:g}; {how})"
    return NoiseExponent(
        status,
        slope,
        lo,
        hi,
        float(margin),
        bool(vanishes),
        int(S),
        int(v.shape[0]),
        rule,
        estimand,
        above,
        float(alpha),
    )


# ----------------------------------------------------------------------------- paired seed effects


def seed_log_ratios(err, err_ref) -> np.ndarray:
    r""":math:`d_s = \log(\bar e_s / \bar e^{\mathrm{ref}}_s)` per seed from (..., S, N) errors on
    the same
    seeds and test windows (means over the last axis, the windows)."""
    e, r = np.asarray(err, np.float64), np.asarray(err_ref, np.float64)
    if e.shape != r.shape or e.ndim < 2:
        raise ValueError(
            f"err_ref: expected the shape of err {e.shape} (seeds, windows), got {r.shape}"
        )
    return np.log(e.mean(axis=-1) / r.mean(axis=-1))


class EffectDecision(NamedTuple):
    """Outcome of :func:`paired_effects`, one entry per variant (the family)."""

    statuses: tuple[str, ...]
    factor: tuple[float, ...]
    lo: tuple[float, ...]
    hi: tuple[float, ...]
    p_helps: tuple[float, ...]
    p_hurts: tuple[float, ...]
    effect_size: tuple[float, ...]
    seeds: int
    alpha: float
    rule: str


def _paired_t(log_ratios, null: float):
    r"""One-sample :math:`t = (\bar d - d_0)/(\mathrm{sd}/\sqrt S)` of ``log_ratios[..., V, S]``
    against ``null``
    (:math:`\pm\infty` when every seed agrees, 0 on the null exactly) and its Student
    :math:`t_{S-1}` law."""
    d = np.asarray(log_ratios, np.float64)
    S = d.shape[-1]
    if d.ndim < 2 or S < 2:
        raise ValueError(
            f"log_ratios: expected shape (..., variants, seeds) with at least 2 seeds, got "
            f"{d.shape}"
        )
    if not np.all(np.isfinite(d)):
        raise ValueError("log_ratios: expected finite per-seed log risk ratios")
    shift, sd = d.mean(axis=-1) - null, d.std(axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(sd > 0, shift / (sd / np.sqrt(S)), np.sign(shift) * np.inf)
    return np.where(np.isnan(t), 0.0, t), _sps().t(S - 1)


def paired_effect_statuses(log_ratios, *, alpha: float = 0.05, correction: str = "holm"):
    r"""Vectorised core of :func:`paired_effects`: ``log_ratios[..., V, S]`` → ``(status, t,
    p_helps, p_hurts)``, :math:`t = ar d\,\sqrt S/\mathrm{sd}(d)` with Holm-adjusted one-sided
    p-values over the V variants (last-but-one axis)."""
    t, dist = _paired_t(log_ratios, 0.0)
    p_helps = stats.holm(dist.cdf(t), method=correction)
    p_hurts = stats.holm(dist.sf(t), method=correction)
    status = np.where(
        p_helps <= alpha / 2, HOLDS, np.where(p_hurts <= alpha / 2, VIOLATED, INCONCLUSIVE)
    )
    return status, t, p_helps, p_hurts


def paired_effects(log_ratios, *, alpha: float = 0.05, correction: str = "holm") -> EffectDecision:
    r"""Decide, per variant, whether it lowers (HOLDS: "helps") or raises (VIOLATED: "hurts") the
    risk.

    ``log_ratios`` (V, S): :math:`d_{v,s}` from :func:`seed_log_ratios`. "Helps" when the
    Holm-adjusted one-sided :math:`t` p-value of :math:`E d_v < 0` is :math:`\le \alpha/2`,
    "hurts" likewise for :math:`E d_v > 0`, INCONCLUSIVE otherwise (module docstring). The factor
    is :math:`\exp(\bar d_v)`, its interval :math:`\exp(\bar d_v \pm t_{1-\alpha/(2V),S-1}\,
    \mathrm{sd}/\sqrt S)` (Bonferroni-simultaneous over the variants).
    """
    d = np.asarray(log_ratios, np.float64)
    if d.ndim != 2:
        raise ValueError(f"log_ratios: expected shape (variants, seeds), got {d.shape}")
    status, _, ph, pu = paired_effect_statuses(d, alpha=alpha, correction=correction)
    V, S = d.shape
    half = float(_sps().t.ppf(1 - alpha / (2 * V), S - 1)) * d.std(axis=-1, ddof=1) / np.sqrt(S)
    mean = d.mean(axis=-1)
    sd = d.std(axis=-1, ddof=1)
    size = np.where(sd > 0, np.abs(mean) / np.where(sd > 0, sd, 1.0), np.inf)
    rule = (
        f"paired t test over {S} seeds (the network draw is the unit) on "
        f"log(R_variant/R_baseline), "
        f"one-sided "
        f"each way, {correction.capitalize()} over {V} variants, each direction at α/2 = "
        f"{alpha / 2:g}"
    )
    return EffectDecision(
        tuple(str(s) for s in status),
        tuple(np.exp(mean).tolist()),
        tuple(np.exp(mean - half).tolist()),
        tuple(np.exp(mean + half).tolist()),
        tuple(ph.tolist()),
        tuple(pu.tolist()),
        tuple(size.tolist()),
        S,
        float(alpha),
        rule,
    )
