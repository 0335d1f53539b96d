r"""Checks that cannot fail are VACUOUS (:mod:`verification.rules` is the front):
:func:`resolution_check`
(a demanded change below what is resolved), :func:`float_floor` (losses at or below rounding) and
:func:`envelope_decision` (a loss envelope, breaks counted per width by
:func:`verification.rules._decisions.probability_decision`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from verification.rules._decisions import ProbabilityDecision, _fmt, probability_decision
from verification.rules._verdict import HOLDS, VACUOUS, VIOLATED

__all__ = [
    "ResolutionDecision",
    "resolution_check",
    "float_floor",
    "EnvelopeDecision",
    "envelope_decision",
]


class ResolutionDecision(NamedTuple):
    """Outcome of :func:`resolution_check`: VACUOUS (demand below resolution) or HOLDS
    (resolved)."""

    status: str
    demanded: float
    resolution: float
    rule: str


def resolution_check(demanded, resolution, *, what: str = "the check") -> ResolutionDecision:
    r"""VACUOUS when a check demands less than it can resolve: :math:`\text{demanded} <
    \text{resolution}`.

    ``demanded`` is what passing requires, in the units of ``resolution`` (e.g. the relative loss
    decrease :math:`1 - (1-\eta\lambda/2)^T` an envelope demands against a documented minimum, or a
    bound's margin below the measurement scale). A resolved check returns HOLDS, which in
    :func:`verification.rules._verdict.combine_status` leaves the other parts to decide.
    """
    d, r = float(demanded), float(resolution)
    if math.isnan(d):
        raise ValueError(f"demanded: expected a number, got {demanded!r}")
    if not (math.isfinite(r) and r > 0):
        raise ValueError(f"resolution: expected a finite positive resolution, got {resolution!r}")
    if d < r:
        return ResolutionDecision(
            VACUOUS, d, r, f"{what} demands {_fmt(d)} < resolution {_fmt(r)}: it cannot fail"
        )
    return ResolutionDecision(
        HOLDS, d, r, f"{what} demands {_fmt(d)} ≥ resolution {_fmt(r)}: resolved"
    )


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
        raise ValueError(
            f"B, y_max: expected finite non-negative magnitudes, got B = {B!r}, y_max = {y_max!r}"
        )
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


def envelope_decision(
    losses,
    envelope,
    floor: float,
    *,
    min_decrease: float = 1e-2,
    rtol: float = 1e-9,
    delta: float = 0.0,
    alpha: float = 0.05,
    correction: str = "holm",
) -> EnvelopeDecision:
    r"""Decide ":math:`L(t) \le \mathrm{env}(t)` at every recorded t", never counting rounding as a
    break.

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
        raise ValueError(
            f"losses: expected at least two recorded times (last axis) and no NaN, got shape "
            f"{L.shape}"
        )
    try:
        env = np.broadcast_to(np.asarray(envelope, np.float64), L.shape)
    except ValueError:
        raise ValueError(
            f"envelope: expected a shape broadcastable to losses {L.shape}, got "
            f"{np.shape(envelope)}"
        ) from None
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
        return EnvelopeDecision(
            VACUOUS,
            n_brk,
            int(L.size),
            n_below,
            demanded,
            float(min_decrease),
            floor,
            None,
            None,
            f"{res.rule} (relative loss decrease over the run)",
        )
    first = tuple(int(i) for i in np.argwhere(brk)[0]) if n_brk else None
    tail = f"{n_below} of {L.size} points at or below the float floor {_fmt(floor)} not counted"
    if float(delta) > 0.0:
        if L.ndim != 3:
            raise ValueError(
                f"losses: with delta > 0 expected shape (widths, runs, T), got {L.shape}"
            )
        pd = probability_decision(
            brk.any(axis=-1).sum(axis=1).astype(np.int64),
            np.int64(L.shape[1]),
            delta=delta,
            alpha=alpha,
            correction=correction,
        )
        return EnvelopeDecision(
            pd.status,
            n_brk,
            int(L.size),
            n_below,
            demanded,
            float(min_decrease),
            floor,
            first,
            pd,
            f"runs breaking the envelope per width {list(pd.failures)}: {pd.rule}; {tail}",
        )
    if n_brk:
        rule = (
            f"L = {_fmt(float(L[first]))} > envelope {_fmt(float(env[first]))} + float floor "
            f"{_fmt(floor)} at index "
            f"{first} ({n_brk} breaks); {tail}"
        )
        return EnvelopeDecision(
            VIOLATED,
            n_brk,
            int(L.size),
            n_below,
            demanded,
            float(min_decrease),
            floor,
            first,
            None,
            rule,
        )
    rule = f"L(t) ≤ envelope at all {L.size} points (demanded decrease {_fmt(demanded)}); {tail}"
    return EnvelopeDecision(
        HOLDS, n_brk, int(L.size), n_below, demanded, float(min_decrease), floor, None, None, rule
    )
