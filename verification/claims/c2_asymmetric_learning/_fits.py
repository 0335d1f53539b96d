r"""C2's fits of onsets against a scale (width m, or step size η): which onsets a fit may use, and
why it may not — censored onsets (fewer than 3 finite medians), onsets at the first record, the
same record everywhere, median onsets on consecutive records of the schedule (quantised), or
points exactly on a line (collinear: a zero-width interval). Such a fit is *uninformative*, never
decided. Numbers and statuses are decided here; the sentences come from :mod:`._words`."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from verification.claims.c2_asymmetric_learning import _words as words
from verification.rules import _laws as laws
from verification.rules import rate_decision
from verification.rules._decisions import RateDecision

MIN_POINTS = 3
"""A fit needs at least this many scale points with a finite median onset."""
ZERO_WIDTH = 1e-9
"""An interval narrower than this (relative to max(1, |slope|)) is zero-width."""


class OnsetFit(NamedTuple):
    """``rate`` the decision (None when uninformative), ``why`` uninformative ('' when decided),
    ``basis`` the values fitted (per network, or the median per scale point)."""

    rate: RateDecision | None
    why: str
    basis: str


def median_onsets(onset) -> np.ndarray:
    """The median network's onset per scale point (``onset`` (P, S)); ``inf`` where half or more
    of the networks are censored."""
    return np.median(np.asarray(onset, np.float64), axis=1)


def quantised_reading(median, steps, unit: str) -> str:
    """Why one onset per scale point (the medians), on consecutive records of the schedule (each
    step of the scale moves it by at most one record), cannot carry a slope ('' when it can)."""
    k = np.searchsorted(np.asarray(steps, np.float64), np.asarray(median, np.float64))
    if k.size >= 2 and np.all(np.abs(np.diff(k)) <= 1):
        return words.fit_quantised(median, unit)
    return ""


def fit_values(scale, onset, unit: str):
    """``(scale points, values, basis)`` to fit: every network's onset when none is censored,
    else the finite medians; None when fewer than :data:`MIN_POINTS` medians are finite."""
    onset = np.asarray(onset, np.float64)
    if onset.shape[0] < MIN_POINTS:
        return None, words.fit_too_few_points(onset.shape[0], unit)
    med = median_onsets(onset)
    ok = np.isfinite(med)
    if ok.sum() < MIN_POINTS:
        return None, words.fit_too_few(int(ok.sum()), med.size, unit)
    if np.isfinite(onset).all():
        return (scale, onset, words.PER_NETWORK), ""
    censored = int(np.sum(~np.isfinite(onset[ok])))
    return (scale[ok], med[ok][:, None], words.median_basis(unit, censored)), ""


def onset_fit(
    scale, onset, steps, *, exponent: float, margin: float, alpha: float, unit: str = "width"
) -> OnsetFit:
    r"""log onset on log ``scale`` by :func:`verification.rules.rate_decision` against
    ``exponent``, from ``onset`` (P, S) on the records ``steps``: every network's onset when none
    is censored, else the median per point. Uninformative (``rate`` None, ``why`` said) with fewer
    than 3 points or finite medians, onsets at the first record or the same record everywhere
    (:func:`verification.rules._laws.onset_fit_reading`), medians on consecutive records
    (:func:`quantised_reading`) or points exactly on a line (zero-width interval). Identical
    networks stay rate_decision's INCONCLUSIVE (zero spread).

    Three widths whose onsets sit exactly on a line (t = 2, 4, 8 at m = 16, 32, 64) give slope 1
    with a zero-width interval: uninformative, never HOLDS.

    >>> steps = np.array([0, 1, 2, 4, 5, 8, 11, 16])
    >>> fit = onset_fit(np.array([16, 32, 64]), np.array([[2], [4], [8]]), steps,
    ...                 exponent=1.0, margin=0.1, alpha=0.05)
    >>> fit.rate is None, fit.why.startswith("collinear")
    (True, True)
    """
    scale = np.asarray(scale, np.float64)
    chosen, why = fit_values(scale, onset, unit)
    if chosen is None:
        return OnsetFit(None, why, "")
    x, vals, basis = chosen
    why = laws.onset_fit_reading(vals, steps).replace("width", unit)
    if not why and vals.shape[1] == 1:  # one value per point: no spread to carry an interval
        why = quantised_reading(vals[:, 0], steps, unit)
    if why:
        return OnsetFit(None, why, basis)
    rd = rate_decision(x, vals, exponent=exponent, margin=margin, alpha=alpha)
    zero = rd.hi - rd.lo <= ZERO_WIDTH * max(1.0, abs(rd.slope))
    if zero and "zero spread" not in rd.rule:
        return OnsetFit(None, words.fit_collinear(rd.slope, x.size, unit), basis)
    return OnsetFit(rd, "", basis)
