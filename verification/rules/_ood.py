r"""Decision rules of the out-of-distribution claims (C5, C7): a noise exponent and paired seed effects.

**Noise exponent** (:func:`noise_exponent_decision`, C5). Proposition 6.3's :math:`\tilde O(\sigma^2)`
read as a scaling law, without a constant: with the noise variance :math:`\sigma^2` swept over
decades, the slope :math:`b` of :math:`\log R` on :math:`\log\sigma^2` (clustered by seed,
:func:`verification.rules.rate_bounds`) says whether the risk vanishes with the noise. With a
margin :math:`\Delta`:

* "vanishes like :math:`\sigma^2`" when the lower :math:`1-\alpha` end :math:`\ge 1-\Delta`;
* "does not vanish like :math:`\sigma^2`" (:math:`R/\sigma^2` grows as :math:`\sigma\to0`) when the
  upper end :math:`< 1-\Delta`; INCONCLUSIVE when the interval straddles :math:`1-\Delta`.

The residual linear net's part claims the first, attention's the second; each errs at the boundary
:math:`b = 1-\Delta` at most :math:`\alpha/2` in each direction (calibrated in
:mod:`verification.calibration._ood`). The finding also says whether the risk does not vanish at
all (upper end :math:`\le \Delta`).

**Paired seed effects** (:func:`paired_effects`, C7). The network draw is the unit: per seed
:math:`s` the log risk ratio :math:`d_{v,s} = \log(\bar e_{v,s}/\bar e_{0,s})` of variant v
against the baseline on the same seed and test windows (:math:`\bar e` a mean over windows). Per
variant a one-sample :math:`t` test over seeds (:math:`S-1` degrees of freedom) gives one-sided
p-values for "helps" (:math:`E d < 0`) and "hurts" (:math:`E d > 0`); each direction is
Holm-adjusted over the V variants and rejected at :math:`\alpha/2`, so under a planted null the
family-wise rate of a "helps" (and of a "hurts") is at most :math:`\alpha/2`. C7 keeps it as a
diagnostic: "no significant effect" is not evidence of no effect.

**Mitigation margin** (:func:`margin_effects`, C7's decisive rule). "Variant v mitigates" is read as
"it lowers the risk by at least a fraction :math:`\Delta`": :math:`E d_v < \log(1-\Delta)`, the
factor :math:`e^{E d_v}` below :math:`1-\Delta`, just as a rate O(m^p) is decided with a margin. On
the same per-seed :math:`d_{v,s}` (seed = unit, :math:`t` with :math:`S-1` degrees of freedom):

* "mitigates" (HOLDS) when the one-sided :math:`t` test rejects :math:`E d_v \ge \log(1-\Delta)` at
  :math:`\alpha/2`, i.e. the upper end of the factor's :math:`1-\alpha` interval is below
  :math:`1-\Delta`;
* "does not mitigate" (VIOLATED) when the one-sided :math:`t` test rejects :math:`E d_v \le
  \log(1-\Delta)`, Holm-adjusted over the V variants, at :math:`\alpha/2` (unadjusted: the lower end
  above :math:`1-\Delta`);
* otherwise undecided (INCONCLUSIVE).

The claim "every variant mitigates" is a conjunction. VIOLATED needs one variant shown not to
mitigate: Holm keeps the family-wise rate of a false "does not mitigate" at most :math:`\alpha/2`
whatever the true factors. HOLDS needs every variant shown to mitigate: an intersection–union test,
each variant at :math:`\alpha/2` with no correction, whose rate of a false HOLDS is at most
:math:`\alpha/2` as soon as any one variant's factor is :math:`\ge 1-\Delta`. At a factor exactly
:math:`1-\Delta` each direction errs at most :math:`\alpha/2` (calibrated in
:mod:`verification.calibration._ood`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from verification import rules as stats
from verification.rules._intervals import _sps
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VIOLATED

__all__ = [
    "NoiseExponent",
    "exponent_seeds_for_power",
    "noise_exponent_status",
    "noise_exponent_decision",
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
    """Outcome of :func:`noise_exponent_decision`: the exponent of R in σ² with its interval."""

    status: str
    slope: float
    lo: float
    hi: float
    margin: float
    vanishes: bool
    seeds: int
    levels: int
    rule: str


def noise_exponent_status(lo, hi, *, vanishes: bool, margin: float = 0.1):
    r"""Status of "R vanishes like σ²" (``vanishes=True``) or "R does not" (``False``) from a slope
    interval [lo, hi] of log R on log σ² (arrays allowed): the threshold is :math:`1-\Delta`."""
    lo, hi = np.asarray(lo), np.asarray(hi)
    fast, slow = lo >= 1.0 - margin, hi < 1.0 - margin
    yes, no = (fast, slow) if vanishes else (slow, fast)
    out = np.where(yes, HOLDS, np.where(no, VIOLATED, INCONCLUSIVE))
    return str(out) if out.ndim == 0 else out


def exponent_seeds_for_power(
    dec: NoiseExponent, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    r"""Seeds at which the noise-exponent rule decides with probability ``power`` if the slope and the
    per-seed spread stay as observed: standardised distance :math:`|\bar b - (1-\Delta)|/\mathrm{sd}(b_s)`,
    sd recovered from the interval (:math:`\mathrm{hi}-\mathrm{lo} = 2 t_{1-\alpha/2,S-1}\mathrm{sd}/\sqrt S`),
    through :func:`seeds_for_power` (one test at α/2). 0 when not computable (one seed, or zero spread)."""
    if dec.seeds < 2 or not dec.hi > dec.lo:
        return 0
    sd = (
        (dec.hi - dec.lo)
        / 2
        / float(_sps().t.ppf(1 - alpha / 2, dec.seeds - 1))
        * np.sqrt(dec.seeds)
    )
    return seeds_for_power(abs(dec.slope - (1.0 - dec.margin)) / sd, 1, alpha=alpha, power=power)


def noise_exponent_decision(
    noise_var, risk_per_seed, *, vanishes: bool, margin: float = 0.1, alpha: float = 0.05
) -> NoiseExponent:
    r"""Decide whether a risk vanishes like the noise variance, from a (levels, seeds) table.

    ``noise_var[k]`` the noise variance :math:`\sigma_k^2` (at least 3 distinct, positive),
    ``risk_per_seed[k, s]`` the risk at that level for seed s. The slope :math:`b` of
    :math:`\log R` on :math:`\log\sigma^2` and its :math:`1-\alpha` interval come from
    :func:`verification.rules.rate_bounds` (per-seed slopes, :math:`t` interval over seeds); the
    status from :func:`noise_exponent_status`.
    """
    if not 0.0 <= float(margin) < 1.0:
        raise ValueError(f"margin: expected a margin Δ in [0, 1), got {margin!r}")
    v = np.asarray(risk_per_seed, np.float64)
    if v.ndim == 1:
        v = v[:, None]
    slope, lo, hi = (float(a) for a in stats.rate_bounds(noise_var, v, alpha=alpha))
    status = noise_exponent_status(lo, hi, vanishes=vanishes, margin=margin)
    thr = 1.0 - margin
    lvl = f"{100 * (1 - alpha):g}%"
    how = (
        f"{v.shape[1]} seeds, t interval over per-seed slopes"
        if v.shape[1] > 1
        else "one seed, regression t interval"
    )
    if lo >= thr:
        word = f"lower {lvl} end {lo:.3g} ≥ 1 − Δ = {thr:.3g}: vanishes like σ²"
    elif hi < thr:
        word = f"upper {lvl} end {hi:.3g} < 1 − Δ = {thr:.3g}: R/σ² grows as σ → 0" + (
            f" (≤ Δ = {margin:g}: does not vanish)" if hi <= margin else ""
        )
    else:
        word = f"{lvl} interval [{lo:.3g}, {hi:.3g}] straddles 1 − Δ = {thr:.3g}"
    rule = f"noise exponent of R in σ²: slope {slope:.3g}, {word} (Δ = {margin:g}; {how})"
    return NoiseExponent(
        status, slope, lo, hi, float(margin), bool(vanishes), int(v.shape[1]), int(v.shape[0]), rule
    )


# ----------------------------------------------------------------------------- paired seed effects


def seed_log_ratios(err, err_ref) -> np.ndarray:
    r""":math:`d_s = \log(\bar e_s / \bar e^{\mathrm{ref}}_s)` per seed from (..., S, N) errors on the same
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


def seeds_for_power(
    effect_size: float, family: int, *, alpha: float = 0.05, power: float = 0.8, most: int = 1000
) -> int:
    r"""Fewest seeds S at which the paired test detects a standardised effect :math:`|E d|/\mathrm{sd}(d)`
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


def _paired_t(log_ratios, null: float):
    r"""One-sample :math:`t = (\bar d - d_0)/(\mathrm{sd}/\sqrt S)` of ``log_ratios[..., V, S]`` against ``null``
    (:math:`\pm\infty` when every seed agrees, 0 on the null exactly) and its Student :math:`t_{S-1}` law."""
    d = np.asarray(log_ratios, np.float64)
    S = d.shape[-1]
    if d.ndim < 2 or S < 2:
        raise ValueError(
            f"log_ratios: expected shape (..., variants, seeds) with at least 2 seeds, got {d.shape}"
        )
    if not np.all(np.isfinite(d)):
        raise ValueError("log_ratios: expected finite per-seed log risk ratios")
    shift, sd = d.mean(axis=-1) - null, d.std(axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(sd > 0, shift / (sd / np.sqrt(S)), np.sign(shift) * np.inf)
    return np.where(np.isnan(t), 0.0, t), _sps().t(S - 1)


def paired_effect_statuses(log_ratios, *, alpha: float = 0.05, correction: str = "holm"):
    r"""Vectorised core of :func:`paired_effects`: ``log_ratios[..., V, S]`` → ``(status, t, p_helps, p_hurts)``
    with Holm-adjusted one-sided p-values over the V variants (last-but-one axis)."""
    t, dist = _paired_t(log_ratios, 0.0)
    p_helps = stats.holm(dist.cdf(t), method=correction)
    p_hurts = stats.holm(dist.sf(t), method=correction)
    status = np.where(
        p_helps <= alpha / 2, HOLDS, np.where(p_hurts <= alpha / 2, VIOLATED, INCONCLUSIVE)
    )
    return status, t, p_helps, p_hurts


def paired_effects(log_ratios, *, alpha: float = 0.05, correction: str = "holm") -> EffectDecision:
    r"""Decide, per variant, whether it lowers (HOLDS: "helps") or raises (VIOLATED: "hurts") the risk.

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
        f"paired t test over {S} seeds (the network draw is the unit) on log(R_variant/R_baseline), one-sided "
        f"each way, {correction.capitalize()} over {V} variants, each direction at α/2 = {alpha / 2:g}"
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


# ----------------------------------------------------------------------------- mitigation margin


class MarginDecision(NamedTuple):
    """Outcome of :func:`margin_effects`: per variant (the family) and for the conjunction."""

    statuses: tuple[str, ...]
    status: str
    factor: tuple[float, ...]
    lo: tuple[float, ...]
    hi: tuple[float, ...]
    p_mitigates: tuple[float, ...]
    p_not_holm: tuple[float, ...]
    effect_size: tuple[float, ...]
    mean: tuple[float, ...]
    margin: float
    seeds: int
    alpha: float
    rule: str


def _check_margin(margin) -> float:
    m = float(margin)
    if not 0.0 < m < 1.0:
        raise ValueError(
            f"margin: expected a fraction Δ in (0, 1) (a mitigation lowers the risk by at least Δ), "
            f"got {margin!r}"
        )
    return m


def margin_effect_statuses(
    log_ratios, *, margin: float = 0.1, alpha: float = 0.05, correction: str = "holm"
):
    r"""Vectorised core of :func:`margin_effects`: ``log_ratios[..., V, S]`` →
    ``(statuses[..., V], conjunction[...], p_mitigates[..., V], p_not_holm[..., V])`` (module docstring)."""
    m = _check_margin(margin)
    t, dist = _paired_t(log_ratios, np.log1p(-m))
    p_mit = dist.cdf(t)  # H0: E d ≥ log(1 − Δ); intersection–union, no correction
    p_not = stats.holm(
        dist.sf(t), method=correction
    )  # H0: E d ≤ log(1 − Δ); Holm over the variants
    status = np.where(
        p_not <= alpha / 2, VIOLATED, np.where(p_mit <= alpha / 2, HOLDS, INCONCLUSIVE)
    )
    conj = np.where(
        np.any(status == VIOLATED, axis=-1),
        VIOLATED,
        np.where(np.all(status == HOLDS, axis=-1), HOLDS, INCONCLUSIVE),
    )
    return status, conj, p_mit, p_not


def margin_effects(
    log_ratios, *, margin: float = 0.1, alpha: float = 0.05, correction: str = "holm"
) -> MarginDecision:
    r"""Decide, per variant, whether it lowers the risk by at least a fraction Δ, and the conjunction.

    ``log_ratios`` (V, S): :math:`d_{v,s}` from :func:`seed_log_ratios`. Per variant HOLDS
    ("mitigates": factor below :math:`1-\Delta`), VIOLATED ("does not mitigate": factor above
    :math:`1-\Delta`) or INCONCLUSIVE; the conjunction VIOLATED when any variant does not mitigate,
    HOLDS when every one does (module docstring: Holm at α/2 for "does not", intersection–union at
    α/2 for "does"). The factor is :math:`\exp(\bar d_v)`, its interval
    :math:`\exp(\bar d_v \pm t_{1-\alpha/2,S-1}\,\mathrm{sd}/\sqrt S)` (each end the one-sided α/2
    bound the rule compares with :math:`1-\Delta`, unadjusted); ``p_not_holm`` the Holm-adjusted
    p-values of "does not mitigate".
    """
    m = _check_margin(margin)
    d = np.asarray(log_ratios, np.float64)
    if d.ndim != 2:
        raise ValueError(f"log_ratios: expected shape (variants, seeds), got {d.shape}")
    status, conj, p_mit, p_not = margin_effect_statuses(
        d, margin=m, alpha=alpha, correction=correction
    )
    V, S = d.shape
    mean, sd = d.mean(axis=-1), d.std(axis=-1, ddof=1)
    half = float(_sps().t.ppf(1 - alpha / 2, S - 1)) * sd / np.sqrt(S)
    gap = np.abs(mean - np.log1p(-m))
    size = np.where(sd > 0, gap / np.where(sd > 0, sd, 1.0), np.where(gap > 0, np.inf, 0.0))
    rule = (
        f"mitigation margin Δ = {m:g} (mitigates: risk × ≤ 1 − Δ = {1 - m:g}): one-sided paired t tests over {S} "
        f"seeds (the network draw is the unit) on log(R_variant/R_baseline) against log(1 − Δ); 'does not mitigate' "
        f"{correction.capitalize()} over {V} variants at α/2 = {alpha / 2:g} (one suffices for VIOLATED), "
        f"'mitigates' each at α/2 = {alpha / 2:g} with no correction (all needed for HOLDS: intersection–union)"
    )
    return MarginDecision(
        tuple(str(s) for s in status),
        str(conj),
        tuple(np.exp(mean).tolist()),
        tuple(np.exp(mean - half).tolist()),
        tuple(np.exp(mean + half).tolist()),
        tuple(p_mit.tolist()),
        tuple(p_not.tolist()),
        tuple(size.tolist()),
        tuple(mean.tolist()),
        m,
        S,
        float(alpha),
        rule,
    )


def margin_seeds_for_power(
    dec: MarginDecision, k: int, *, power: float = 0.8, most: int = 1000
) -> int:
    r"""Seeds at which variant ``k`` of ``dec`` is decided with probability ``power`` if its mean and per-seed
    spread stay as observed: toward "mitigates" (mean below :math:`\log(1-\Delta)`: one test at α/2, no
    correction) or "does not mitigate" (above: Holm's first step, α/(2V)), by :func:`seeds_for_power`.
    0 when more than ``most`` seeds would be needed (or the mean sits on the threshold)."""
    below = dec.mean[k] < np.log1p(-dec.margin)
    return seeds_for_power(
        dec.effect_size[k],
        1 if below else len(dec.statuses),
        alpha=dec.alpha,
        power=power,
        most=most,
    )
