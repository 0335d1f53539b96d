r"""C7's decisive rule, the mitigation margin (:func:`margin_effects`);
:mod:`verification.rules._ood`
re-exports it and its module docstring gives the reading. Error rates on planted truths, skewed
either way included: docs/calibration.md and :mod:`verification.calibration._robustness`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from verification import rules as stats
from verification.rules._intervals import _sps
from verification.rules._robust import (
    ESTIMANDS,
    check_choice,
    check_finite,
    check_open_unit,
    hall_t,
    median_bounds,
    seeds_for_power,
    sign_pvalues,
    sign_seeds_for_power,
    zero_spread,
    zero_spread_words,
)
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VIOLATED

__all__ = [
    "MarginDecision",
    "margin_effect_statuses",
    "margin_effects",
    "margin_seeds_for_power",
]


class MarginDecision(NamedTuple):
    """Outcome of :func:`margin_effects`: per variant (the family) and for the conjunction.

    ``p_mitigates`` unadjusted (the intersection–union parts), ``p_mitigates_holm`` Holm-adjusted
    (a variant's own "mitigates"), ``p_not_holm`` Holm-adjusted "does not mitigate"; ``basis`` says
    per variant on what its status rests (``"family (intersection–union)"``, ``"Holm"`` or ``""``);
    ``effect_size`` the share of seeds on the decided side (median) or the standardised distance
    (mean); ``degenerate`` the variants with zero spread over seeds."""

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
    p_mitigates_holm: tuple[float, ...] = ()
    basis: tuple[str, ...] = ()
    estimand: str = "median"
    degenerate: tuple[int, ...] = ()
    center: tuple[float, ...] = ()


def _check_margin(margin) -> float:
    return check_open_unit(
        "margin", margin, "a fraction Δ (a mitigation lowers the risk by at least Δ)"
    )


def _margin_input(log_ratios, alpha, estimand):
    alpha = check_open_unit("alpha", alpha, "a level α")
    check_choice("estimand", estimand, ESTIMANDS)
    d = check_finite(
        "log_ratios", log_ratios, "finite per-seed log risk ratios (a zero or infinite risk?)"
    )
    if d.ndim < 2 or d.shape[-1] < 2:
        raise ValueError(
            f"log_ratios: expected shape (..., variants, seeds) with at least 2 seeds, got "
            f"{d.shape}"
        )
    return d, alpha


def _one_sided(d, thr, estimand):
    """``(p_below, p_above)`` of the centre of ``d[..., S]`` against ``thr``."""
    if estimand == "median":
        return sign_pvalues(d, thr)
    t = hall_t(d, thr)
    dist = _sps().t(d.shape[-1] - 1)
    flat = zero_spread(d)
    p_lo, p_hi = dist.cdf(t), dist.sf(t)
    return np.where(flat, 1.0, p_lo), np.where(flat, 1.0, p_hi)


def margin_effect_statuses(
    log_ratios,
    *,
    margin: float = 0.1,
    alpha: float = 0.05,
    correction: str = "holm",
    estimand: str = "median",
):
    r"""Vectorised core of :func:`margin_effects` (the margin :math:`\log(1-\Delta)`):
    ``log_ratios[..., V, S]`` →
    ``(statuses[..., V], conjunction[...], p_mitigates[..., V], p_not_holm[..., V])`` (module
    docstring). A variant with zero spread over seeds is INCONCLUSIVE and keeps the conjunction
    from HOLDS."""
    m = _check_margin(margin)
    d, alpha = _margin_input(log_ratios, alpha, estimand)
    thr = np.log1p(-m)
    p_mit, p_above = _one_sided(d, thr, estimand)
    flat = zero_spread(d)
    p_mit = np.where(flat, 1.0, p_mit)
    p_not = stats.holm(np.where(flat, 1.0, p_above), method=correction)
    p_mit_holm = stats.holm(p_mit, method=correction)
    iut = np.all(p_mit <= alpha / 2, axis=-1, keepdims=True)
    mitigates = iut | (p_mit_holm <= alpha / 2)
    status = np.where(p_not <= alpha / 2, VIOLATED, np.where(mitigates, HOLDS, INCONCLUSIVE))
    conj = np.where(
        np.any(status == VIOLATED, axis=-1),
        VIOLATED,
        np.where(iut[..., 0], HOLDS, INCONCLUSIVE),
    )
    return status, conj, p_mit, p_not


def margin_effects(
    log_ratios,
    *,
    margin: float = 0.1,
    alpha: float = 0.05,
    correction: str = "holm",
    estimand: str = "median",
) -> MarginDecision:
    r"""Decide, per variant, whether it lowers the risk by at least a fraction Δ, and the
    conjunction.

    ``log_ratios`` (V, S): :math:`d_{v,s}` from :func:`seed_log_ratios` (finite: a zero risk or
    a −inf is a ValueError). ``estimand`` says what "lowers the risk" is about:

    * ``"median"`` (default): the median over network draws of :math:`d_v` — "on a typical draw the
      variant multiplies the risk by at most :math:`1-\Delta`". Exact one-sided sign tests against
      :math:`\log(1-\Delta)` (:mod:`verification.rules._robust`): valid for every continuous law of
      the seed noise, skewed either way, heavy-tailed or not. Needs at least 6 seeds to decide
      "mitigates" and 8 for "does not mitigate" at Holm's first step over 5 variants.
    * ``"mean"``: :math:`E d_v`, with Hall's skewness-corrected :math:`t` over seeds. No test of a
      mean is exact at a few seeds for every law; under normal noise it holds α/2, under
      log-normal skew 2 its one-sided error is 0.06–0.075 at 5–10 seeds (0.044 at 20).

    Per variant: VIOLATED ("does not mitigate") when the Holm-adjusted (over the V variants)
    p-value of "centre ≤ log(1 − Δ)" is ≤ α/2; HOLDS ("mitigates") either as a *part of the family
    decision* — every variant's unadjusted p of "centre ≥ log(1 − Δ)" ≤ α/2, the
    intersection–union test of "every variant mitigates" (Berger 1982: false HOLDS ≤ α/2 as soon as
    one variant fails the margin; when it holds every printed "mitigates" is a part of it) — or on
    its own when its Holm-adjusted p is ≤ α/2 (family-wise ≤ α/2 over the variants);
    INCONCLUSIVE otherwise. ``basis`` says which. A variant that passes α/2 unadjusted but neither
    is printed INCONCLUSIVE: no "mitigates" that the family does not support. The conjunction is
    VIOLATED when any variant does not mitigate, HOLDS when the intersection–union test passes.
    Zero spread of a variant's :math:`d` over seeds: INCONCLUSIVE, named in ``rule``.

    The factor is :math:`e^{\mathrm{centre}}`; its interval the sign-test (order-statistic) or the
    :math:`t` interval, each end one-sided :math:`1-\alpha/2`, unadjusted.
    """
    m = _check_margin(margin)
    d, alpha = _margin_input(log_ratios, alpha, estimand)
    if d.ndim != 2:
        raise ValueError(f"log_ratios: expected shape (variants, seeds), got {d.shape}")
    status, conj, p_mit, p_not = margin_effect_statuses(
        d, margin=m, alpha=alpha, correction=correction, estimand=estimand
    )
    V, S = d.shape
    thr = np.log1p(-m)
    flat = zero_spread(d)
    p_mit_holm = stats.holm(p_mit, method=correction)
    mean, sd = d.mean(axis=-1), d.std(axis=-1, ddof=1)
    if estimand == "median":
        centre = np.median(d, axis=-1)
        lo, hi = median_bounds(d, alpha)
        below = np.sum(d < thr, axis=-1)
        above = np.sum(d > thr, axis=-1)
        size = np.maximum(below, above) / S
        test = f"exact one-sided sign tests over {S} seeds on the median"
    else:
        centre = mean
        half = float(_sps().t.ppf(1 - alpha / 2, S - 1)) * sd / np.sqrt(S)
        lo, hi = mean - half, mean + half
        gap = np.abs(mean - thr)
        size = np.where(sd > 0, gap / np.where(sd > 0, sd, 1.0), np.where(gap > 0, np.inf, 0.0))
        test = f"skewness-corrected one-sided t tests (Hall 1992) over {S} seeds on the mean"
    iut = bool(str(conj) == HOLDS)
    basis = tuple(
        "family (intersection–union)"
        if (st == HOLDS and iut)
        else ("Holm" if st in (HOLDS, VIOLATED) else "")
        for st in status
    )
    rule = (
        f"mitigation margin Δ = {m:g} (mitigates: risk × ≤ 1 − Δ = {1 - m:g}): {test} "
        f"(the network draw is the unit) of log(R_variant/R_baseline) against log(1 − Δ); "
        f"'does not mitigate' {correction.capitalize()} over {V} variants at α/2 = {alpha / 2:g} "
        f"(one suffices for VIOLATED); 'every variant mitigates' by intersection–union, each at "
        f"α/2 = {alpha / 2:g} (a variant's 'mitigates' outside that family decision needs "
        f"{correction.capitalize()} at α/2)"
    )
    if flat.any():
        rule += "; " + zero_spread_words(
            "log(R_variant/R_baseline) of variant(s) "
            + ", ".join(str(int(i) + 1) for i in np.flatnonzero(flat)),
            S,
        )
    return MarginDecision(
        tuple(str(s) for s in status),
        str(conj),
        tuple(np.exp(centre).tolist()),
        tuple(np.exp(lo).tolist()),
        tuple(np.exp(hi).tolist()),
        tuple(p_mit.tolist()),
        tuple(p_not.tolist()),
        tuple(np.asarray(size, np.float64).tolist()),
        tuple(mean.tolist()),
        m,
        S,
        float(alpha),
        rule,
        tuple(p_mit_holm.tolist()),
        basis,
        estimand,
        tuple(int(i) for i in np.flatnonzero(flat)),
        tuple(centre.tolist()),
    )


def margin_seeds_for_power(
    dec: MarginDecision, k: int, *, power: float = 0.8, most: int = 1000
) -> int:
    r"""Seeds at which variant ``k`` of ``dec`` is decided with probability ``power`` if its seeds
    keep falling as observed: toward "mitigates" (centre below :math:`\log(1-\Delta)`: one test at
    α/2) or "does not mitigate" (above: Holm's first step, α/(2V)). Median: the exact sign-test
    budget (:func:`verification.rules._robust.sign_seeds_for_power`) at the share of seeds on that
    side, shrunk toward 1/2 as :math:`(k + 1/2)/(S + 1)`; mean: the noncentral t of
    :func:`seeds_for_power`. 0 when more than ``most`` seeds would be needed."""
    centre = dec.center[k] if dec.center else dec.mean[k]
    below = centre < np.log1p(-dec.margin)
    family = 1 if below else len(dec.statuses)
    if dec.estimand == "median":
        share = (dec.effect_size[k] * dec.seeds + 0.5) / (dec.seeds + 1)
        return sign_seeds_for_power(share, dec.alpha / (2 * family), power=power, most=most)
    return seeds_for_power(dec.effect_size[k], family, alpha=dec.alpha, power=power, most=most)
