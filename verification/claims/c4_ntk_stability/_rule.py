r"""C4's decision from per-run numbers: the two kernel rates, the weight movement against its
explicit bound (its rate a diagnostic), :math:`\lambda_{\min}(H(t)) \ge \lambda/2`, matrix
Bernstein, and the observed onset, each decided by its own short function; :mod:`._words` phrases
what was decided.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from verification.claims._common import first_case
from verification.claims.c4_ntk_stability._words import (
    bernstein_part,
    explanation,
    lambda_part,
    observed_law,
    rate_part,
    weight_bound_part,
    weight_diagnostic_part,
)
from verification.rules import bounded_by, clopper_pearson, rate_decision
from verification.rules._decisions import BoundDecision, RateDecision
from verification.rules._verdict import (
    HOLDS,
    INCONCLUSIVE,
    VACUOUS,
    VIOLATED,
    Part,
    Verdict,
    combine_parts,
    combine_status,
)

WEIGHT_VIOLATION_MARGIN = 0.2
"""Δ_v of the weight-movement rate diagnostic: the calibrated margin that keeps a maximum over m
bounded-but-heavy-tailed terms from a false VIOLATED (docs/calibration.md, rate rows with
Δ_v = 0.2)."""


def runs_for_zero_failures(delta: float, alpha: float = 0.05) -> int:
    r"""Fewest runs S at which 0 failures make :func:`verification.rules.probability_decision` read
    HOLDS.

    The one-sided :math:`1-\alpha/2` Clopper–Pearson upper end at 0 failures in S runs is
    :math:`1-(\alpha/2)^{1/S}`; it is :math:`\le\delta` iff
    :math:`S \ge \ln(\alpha/2)/\ln(1-\delta)` (δ = 0.1, α = 0.05: 35.01 → 36; 30 runs give 0.116).

    >>> runs_for_zero_failures(0.1, 0.05)
    36
    """
    delta, alpha = float(delta), float(alpha)
    if not (0.0 < delta < 1.0 and 0.0 < alpha < 1.0):
        raise ValueError(
            "delta, alpha: expected probabilities in (0, 1), got "
            f"delta = {delta!r}, alpha = {alpha!r}"
        )
    S = max(1, math.ceil(math.log(alpha / 2) / math.log1p(-delta) - 1e-9))
    # guard the closed form against rounding
    while clopper_pearson(0, S, alpha)[1] > delta:
        S += 1
    return S


class C4Input(NamedTuple):
    """:func:`check_c4`'s per-run numbers as float64 arrays with checked shapes: ``widths`` (W,),
    ``seeds`` (S,), ``h0``, ``ht``, ``eig`` (W, S), ``wc`` and ``wb`` (W, S, R; ``wb`` None where
    no bound was computed), ``bern`` (W,)."""

    widths: np.ndarray
    seeds: np.ndarray
    h0: np.ndarray
    ht: np.ndarray
    wc: np.ndarray
    wb: np.ndarray | None
    eig: np.ndarray
    bern: np.ndarray


def c4_input(
    widths, seeds, h0_dist, ht_change, weight_change, weight_bound, min_eig, bernstein
) -> C4Input:
    """The inputs of :func:`check_c4` as a :class:`C4Input`; a weight table (W, S) is read as one
    record (W, S, 1). Shapes that do not match fail with a message naming the argument."""
    widths = np.asarray(widths, np.float64)
    seeds = np.asarray(seeds)
    W, S = len(widths), len(seeds)
    h0 = np.asarray(h0_dist, np.float64)
    ht = np.asarray(ht_change, np.float64)
    wc = np.asarray(weight_change, np.float64)
    wb = None if weight_bound is None else np.asarray(weight_bound, np.float64)
    eig = np.asarray(min_eig, np.float64)
    bern = np.asarray(bernstein, np.float64)
    for name, a in (("h0_dist", h0), ("ht_change", ht), ("min_eig", eig)):
        if a.shape != (W, S):
            raise ValueError(f"{name}: expected shape (widths, seeds) = {(W, S)}, got {a.shape}")
    if wc.ndim == 2:
        wc = wc[..., None]
        wb = None if weight_bound is None else wb.reshape(W, S, -1)
    if wc.shape[:2] != (W, S) or (wb is not None and wb.shape != wc.shape):
        raise ValueError(
            "weight_change, weight_bound: expected equal shapes (W, S, R) with "
            f"(W, S) = {(W, S)}, got {wc.shape} and {None if wb is None else wb.shape}"
        )
    if bern.shape != (W,):
        raise ValueError(f"bernstein: expected one bound per width, shape ({W},), got {bern.shape}")
    return C4Input(widths, seeds, h0, ht, wc, wb, eig, bern)


def rate_or_none(widths, vals, *, margin, violation_margin, alpha) -> RateDecision | None:
    """Decide "``vals`` = O(m^-1/2)" by :func:`rate_decision` on a (W, S) table; None when a value
    is 0 or not finite (no log-log slope: the part is INCONCLUSIVE)."""
    vals = np.asarray(vals, np.float64)
    if np.any(~np.isfinite(vals)) or np.any(vals <= 0):
        return None
    return rate_decision(
        widths, vals, exponent=-0.5, margin=margin, violation_margin=violation_margin, alpha=alpha
    )


def rate_status(d: RateDecision | BoundDecision | None) -> str:
    """The status of a part decided by ``d``; INCONCLUSIVE where nothing could be decided."""
    return INCONCLUSIVE if d is None else d.status


class LambdaHalf(NamedTuple):
    r""":math:`\lambda_{\min}(H(t)) \ge \lambda/2` decided: ``case`` one of ``"unresolved"`` (λ not
    above its resolution), ``"below"`` (a value under ``lo``), ``"holds"`` (all at or above
    ``hi``), ``"float64"`` (λ/2 under the eigenvalue error), ``"rounding"``; ``worst`` the first
    (width, seed) below."""

    status: str
    case: str
    lo: float = math.nan
    hi: float = math.nan
    worst: tuple[int, int] | None = None


def lambda_half(eig, *, lam: float, rho: float, eig_error: float) -> LambdaHalf:
    r"""VIOLATED below :math:`(\lambda-\rho)/2 - e`, HOLDS when every value is at or above
    :math:`(\lambda+\rho)/2 + e`, VACUOUS when λ is unresolved or λ/2 lies below the eigenvalue
    error e (the measured values then within it), else INCONCLUSIVE."""
    if not lam > rho:
        return LambdaHalf(VACUOUS, "unresolved")
    lo, hi = (lam - rho) / 2 - eig_error, (lam + rho) / 2 + eig_error
    bad = eig < lo
    if bad.any():
        return LambdaHalf(VIOLATED, "below", lo, hi, first_case(bad))
    if (eig >= hi).all():
        return LambdaHalf(HOLDS, "holds", lo, hi)
    if lam / 2 < eig_error:
        return LambdaHalf(VACUOUS, "float64", lo, hi)
    return LambdaHalf(INCONCLUSIVE, "rounding", lo, hi)


class ObservedRates(NamedTuple):
    """Both rates as an empirical law: ``status`` the full-range decision (INCONCLUSIVE when a
    distance has no slope), ``full`` the two full-range decisions, ``onset`` the smallest width m₀
    from which both read HOLDS on the widths ≥ m₀ (at least 3), ``fits`` the two decisions there,
    ``looseness`` named numbers."""

    status: str
    full: tuple | None = None
    onset: int | None = None
    fits: tuple | None = None
    looseness: dict | None = None


def onset_width(widths, h0, ht, *, margin, violation_margin, alpha):
    """The onset m₀ and the two decisions on the widths ≥ m₀; (None, None) when no cut point
    leaves both rates HOLDS (a descriptive scan: the status is the full-range decision)."""
    for j in range(len(widths) - 2):
        ds = tuple(
            rate_or_none(
                widths[j:], v[j:], margin=margin, violation_margin=violation_margin, alpha=alpha
            )
            for v in (h0, ht)
        )
        if all(d.status == HOLDS for d in ds):
            return int(widths[j]), ds
    return None, None


def observed_rates(widths, h0, ht, full, *, lam, margin, violation_margin, alpha):
    r"""C4's conclusion as an empirical law from the two full-range decisions ``full`` (the
    calibrated budget: docs/calibration.md, "rate" rows) and the onset. Looseness: orders of
    magnitude between m₀ and 1/λ, a lower bound on the theorem's width poly(1/λ, …)."""
    if any(d is None for d in full):
        return ObservedRates(INCONCLUSIVE)
    onset, fits = onset_width(
        widths, h0, ht, margin=margin, violation_margin=violation_margin, alpha=alpha
    )
    looseness = {
        "onset_width": onset,
        "slope_H0_minus_Hstar": full[0].slope,
        "slope_sup_Ht_minus_H0": full[1].slope,
    }
    if lam > 0 and onset is not None:
        looseness["orders_theorem_width_over_onset"] = math.log10(1.0 / lam) - math.log10(onset)
    return ObservedRates(
        combine_status(d.status for d in full), tuple(full), onset, fits, looseness
    )


class C4Decisions(NamedTuple):
    """Every decision of :func:`check_c4`, in the order the parts are read: the two kernel rates,
    the weight bound and the weight rate (None where they could not be decided), λ_min against λ/2,
    matrix Bernstein."""

    h0: RateDecision | None
    ht: RateDecision | None
    weight_bound: BoundDecision | None
    weight_rate: RateDecision | None
    lam_half: LambdaHalf
    bernstein: BoundDecision


def decide_c4(
    x: C4Input, *, lam, lam_resolution, eig_error, delta, alpha, margin, violation_margin
):
    """The :class:`C4Decisions` on ``x``; the weight rate with Δ_v at least
    ``WEIGHT_VIOLATION_MARGIN``."""
    rate = functools.partial(rate_or_none, x.widths, margin=margin, alpha=alpha)
    return C4Decisions(
        rate(x.h0, violation_margin=violation_margin),
        rate(x.ht, violation_margin=violation_margin),
        None if x.wb is None else bounded_by(x.wc, x.wb, delta=0.0),
        rate(x.wc.max(axis=-1), violation_margin=max(violation_margin, WEIGHT_VIOLATION_MARGIN)),
        lambda_half(x.eig, lam=lam, rho=lam_resolution, eig_error=eig_error),
        bounded_by(x.h0, x.bern[:, None], delta=delta, alpha=alpha, correction="holm"),
    )


def c4_parts(
    x: C4Input, d: C4Decisions, *, lam, lam_resolution, eig_error, lam_precision, alpha, delta
) -> tuple[Part, ...]:
    """The six parts: the statuses decided in ``d``, phrased by :mod:`._words`."""
    ratio = x.bern[:, None] / np.maximum(x.h0, 1e-300)
    return (
        rate_part("‖H(0) − H*‖", rate_status(d.h0), d.h0, alpha),
        rate_part("sup_t ‖H(t) − H(0)‖", rate_status(d.ht), d.ht, alpha),
        weight_bound_part(rate_status(d.weight_bound), d.weight_bound),
        weight_diagnostic_part(rate_status(d.weight_rate), d.weight_rate, alpha),
        lambda_part(
            d.lam_half, x, lam=lam, rho=lam_resolution, e=eig_error, precision=lam_precision
        ),
        bernstein_part(d.bernstein, float(ratio.min()), float(ratio.max()), delta),
    )


def counterexample(x: C4Input, d: C4Decisions, lam: float) -> dict | None:
    """The first failing case in the order the parts are read: the weight bound, λ_min, then
    Bernstein."""
    bd, lam_half, bb = d.weight_bound, d.lam_half, d.bernstein
    if bd is not None and bd.status == VIOLATED:
        wi, si = bd.worst[0], bd.worst[1]
        return {
            "width": int(x.widths[wi]),
            "seed": int(x.seeds[si]),
            "max_weight_change": float(x.wc[bd.worst]),
            "bound": float(x.wb[bd.worst]),
        }
    if lam_half.status == VIOLATED:
        wi, si = lam_half.worst
        return {
            "width": int(x.widths[wi]),
            "seed": int(x.seeds[si]),
            "min_eig_Ht": float(x.eig[wi, si]),
            "lambda_over_2": lam / 2,
        }
    if bb.status == VIOLATED:
        wi, si = bb.worst
        return {
            "width": int(x.widths[wi]),
            "seed": int(x.seeds[si]),
            "H0_minus_Hstar": float(x.h0[wi, si]),
            "bernstein_bound": float(x.bern[wi]),
        }
    return None


def _table(a) -> list[list[float]]:
    return [[float(v) for v in row] for row in a]


def measured_and_intervals(x: C4Input, d: C4Decisions) -> tuple[dict, dict]:
    """The verdict's named numbers and slope / exceedance intervals, in the order the parts are
    read."""
    measured, intervals = {}, {}
    for key, vals, r in (("H0_minus_Hstar", x.h0, d.h0), ("sup_Ht_minus_H0", x.ht, d.ht)):
        measured[key] = _table(vals)
        if r is not None:
            measured[f"slope_{key}"] = r.slope
            intervals[f"slope_{key}"] = [r.lo, r.hi]
    measured["max_weight_change"] = _table(x.wc.max(axis=-1))
    if d.weight_bound is not None:
        measured["weight_change_over_bound_max"] = d.weight_bound.max_ratio
    if d.weight_rate is not None:
        measured["slope_max_weight_change"] = d.weight_rate.slope
        intervals["slope_max_weight_change"] = [d.weight_rate.lo, d.weight_rate.hi]
    measured["min_eig_Ht"] = _table(x.eig)
    if d.bernstein.probability is not None:
        intervals["bernstein_exceedance_upper"] = list(d.bernstein.probability.upper)
    return measured, intervals


def c4_bounds(x: C4Input, *, lam, delta, margin, violation_margin) -> dict:
    """The bounds and margins a reader needs beside the verdict."""
    return {
        "bernstein_t_delta": [float(b) for b in x.bern],
        "lambda_over_2": lam / 2,
        "delta": delta,
        "margin": margin,
        "violation_margin": violation_margin,
        "weight_violation_margin": max(violation_margin, WEIGHT_VIOLATION_MARGIN),
    }


def c4_arrays(x: C4Input) -> dict:
    """The figure data: per-run tables, the weight change and its bound maximised over records."""
    return {
        "widths": x.widths,
        "h0_dist": x.h0,
        "ht_change": x.ht,
        "weight_change": x.wc.max(axis=-1),
        **({} if x.wb is None else {"weight_bound": x.wb.max(axis=-1)}),
        "bernstein": x.bern,
        "min_eig": x.eig,
    }


def check_c4(
    *,
    widths,
    seeds,
    h0_dist,
    ht_change,
    weight_change,
    min_eig,
    lam: float,
    lam_resolution: float,
    bernstein,
    delta: float,
    weight_bound=None,
    alpha: float = 0.05,
    margin: float = 0.1,
    violation_margin: float = 0.1,
    eig_error: float = 0.0,
    lam_precision: str = "float64",
    config: dict | None = None,
    seed: int | None = None,
    steps: int | None = None,
) -> Verdict:
    r"""C4 from per-run numbers: ``h0_dist`` :math:`\|H(0)-H^*\|` (W, S), ``ht_change``
    :math:`\sup_t\|H(t)-H(0)\|` (W, S), ``weight_change`` :math:`\max_r|w_r(t)-w_r(0)|` (W, S, R)
    with its explicit bound ``weight_bound`` (same shape;
    :func:`~verification.claims.c4_ntk_stability.weight_bound`), ``min_eig``
    :math:`\min_t\lambda_{\min}(H(t))` (W, S), the Bernstein bound :math:`t_\delta(m)` (W,).

    Parts (see the claim's docstring): two rates by :func:`rate_decision` (``margin`` Δ,
    ``violation_margin`` Δ_v); weight movement by :func:`bounded_by` (deterministic), its rate a
    non-decisive diagnostic with :math:`\Delta_v` = ``WEIGHT_VIOLATION_MARGIN``;
    :math:`\lambda_{\min}(H(t)) \ge \lambda/2` (VACUOUS when λ is unresolved, or when λ/2 lies
    below the eigenvalue error ``eig_error`` and the measured values are within it); Bernstein by
    :func:`bounded_by` with δ (Holm over widths).
    """
    x = c4_input(widths, seeds, h0_dist, ht_change, weight_change, weight_bound, min_eig, bernstein)
    rule = dict(alpha=alpha, margin=margin, violation_margin=violation_margin)
    lam_args = dict(lam=lam, lam_resolution=lam_resolution, eig_error=eig_error)
    d = decide_c4(x, delta=delta, **lam_args, **rule)
    parts = c4_parts(x, d, lam_precision=lam_precision, alpha=alpha, delta=delta, **lam_args)
    # a part that cannot be read (λ below float64) is named, it does not hide the rest
    status = combine_parts(parts)
    rates = observed_rates(x.widths, x.h0, x.ht, (d.h0, d.ht), lam=lam, **rule)
    measured, intervals = measured_and_intervals(x, d)
    need = runs_for_zero_failures(delta, alpha) if status == INCONCLUSIVE else None
    S = len(x.seeds)
    return Verdict(
        claim="C4",
        status=status,
        explanation=explanation(
            status, parts, x.widths, S, d.weight_rate, d.weight_bound, need, delta, alpha
        ),
        measured=measured,
        bounds=c4_bounds(x, lam=lam, delta=delta, margin=margin, violation_margin=violation_margin),
        intervals=intervals,
        parts=parts,
        counterexample=counterexample(x, d, lam),
        tested_range={"widths": [int(w) for w in x.widths], "seeds": [int(s) for s in x.seeds]},
        config=config or {},
        seed=seed,
        observed=observed_law(rates, x.widths, S, steps, margin, violation_margin),
        arrays=c4_arrays(x),
    )
