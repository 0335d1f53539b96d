r"""The data's own boundary :math:`|w|^*` and the data condition, as properties of the data process.

For a common weight :math:`w < 0` on every window, the data-averaged mass on position k is
:math:`\bar s_k(w) = \mathbb E_x[\mathrm{softmax}_k(w\,x_d x)]`. To first order in w,
:math:`\bar s_k - \bar s_d \approx \frac{|w|}{d}(\mathbb E[x_d^2] - \mathbb E[x_d x_k])`, so the
last position is least attended at small :math:`|w|` when the **data condition**
:math:`\max_{k<d}\mathbb E[x_d x_k] \le \mathbb E[x_d^2]` holds (the first-order law for small
weights). :math:`|w|^*` is the :math:`|w|` at which the gap
:math:`\min_{k<d}\bar s_k - \bar s_d` (``every``; the mean over k < d for ``average``) first
turns negative, interpolated linearly in :math:`\log|w|` between the points of :data:`W_ABS`.

Both are expectations over the data process, estimated from a :class:`ProcessSample`: windows in
independent *units* — for a synthetic source, independent draws of the data builder (each as many
windows as the training set); for a finite series, blocks of consecutive windows (overlapping
windows share values, so single windows are not independent); for a windows file, its rows. The
interval is a percentile bootstrap over the units (:func:`process_boundary`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

W_ABS = np.geomspace(1e-3, 1e3, 289)
"""The |w| grid of the process curve: 48 points per decade from 1e-3 to 1e3."""
RESAMPLES = 2000
"""Bootstrap resamples of the units."""
MASS_CHUNK = 512
"""Windows per block of the mass computation (memory: a few len(W_ABS) × MASS_CHUNK × d floats)."""
BOOT_CHUNK = 250
"""Bootstrap resamples evaluated at once (memory: BOOT_CHUNK × (units + len(W_ABS) × d) floats)."""


class ProcessSample(NamedTuple):
    """Per-unit sums over the windows of the data process: ``mass_sums`` (U, G, d) the softmax
    masses at :math:`w = -`\\ ``w_abs`` (G,), ``moment_sums`` (U, d) :math:`\\sum x_d x_k`,
    ``counts`` (U,) windows per unit; ``source`` the data source, ``unit`` what a unit is (words),
    ``how`` how the windows were drawn (words)."""

    w_abs: np.ndarray
    mass_sums: np.ndarray
    moment_sums: np.ndarray
    counts: np.ndarray
    source: str
    unit: str
    how: str


def softmax_masses(X, w_abs) -> np.ndarray:
    """Per |w| and window, :math:`\\mathrm{softmax}_k(-|w|\\,x_d x_k)`: shape (G, N, d)."""
    P = X[:, -1:] * X
    Z = -np.asarray(w_abs, np.float64)[:, None, None] * P[None]
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def sample_of_units(units, *, source: str, unit: str, how: str, w_abs=W_ABS) -> ProcessSample:
    """A :class:`ProcessSample` from ``units``: a list of (n_u, d) window arrays (or one (U, n, d)
    array), each an independent unit of the data process."""
    units = [np.asarray(u, np.float64) for u in units]
    if not units or any(u.ndim != 2 or u.shape[0] == 0 for u in units):
        raise ValueError("units: expected a non-empty list of non-empty (n_u, d) window arrays")
    X = np.concatenate(units)
    bounds = np.cumsum([0] + [u.shape[0] for u in units])
    if not np.isfinite(X).all():
        raise ValueError("units: the windows hold non-finite values")
    w_abs = np.asarray(w_abs, np.float64)
    sums = np.empty((len(units), w_abs.size, X.shape[1]))
    u = 0
    while u < len(units):
        v = u + 1
        while v < len(units) and bounds[v + 1] - bounds[u] <= MASS_CHUNK:
            v += 1
        M = softmax_masses(X[bounds[u] : bounds[v]], w_abs)
        sums[u:v] = np.add.reduceat(M, bounds[u:v] - bounds[u], axis=1).transpose(1, 0, 2)
        u = v
    moments = np.stack([(x[:, -1:] * x).sum(axis=0) for x in units])
    counts = np.diff(bounds).astype(np.float64)
    return ProcessSample(w_abs, sums, moments, counts, source, unit, how)


def first_crossing(w_abs, gap) -> np.ndarray:
    """Per row of ``gap`` (R, G) on the increasing grid ``w_abs`` (G,): the |w| at which the gap
    first turns negative, linear in log|w| between grid points; NaN when it is negative at the
    first grid point (no boundary), inf when it never is (beyond the grid).

    >>> first_crossing(np.array([1.0, 10.0, 100.0]), np.array([[1.0, 1.0, -1.0]]))
    array([31.6227766])
    """
    gap = np.atleast_2d(np.asarray(gap, np.float64))
    lw = np.log(np.asarray(w_abs, np.float64))
    neg = gap < 0
    j = np.argmax(neg, axis=1)
    out = np.full(gap.shape[0], math.inf)
    rows = np.flatnonzero(neg.any(axis=1) & (j > 0))
    a, b = gap[rows, j[rows] - 1], gap[rows, j[rows]]
    out[rows] = np.exp(lw[j[rows] - 1] + (lw[j[rows]] - lw[j[rows] - 1]) * a / (a - b))
    out[neg.any(axis=1) & (j == 0)] = math.nan
    return out


def _gap(curves, versus: str) -> np.ndarray:
    """(…, G, d) masses → the reading's gap (…, G): the other positions' min or mean minus the
    last."""
    ref = curves[..., :-1].min(axis=-1) if versus == "every" else curves[..., :-1].mean(axis=-1)
    return ref - curves[..., -1]


def _margins(moments) -> tuple[np.ndarray, np.ndarray]:
    """(…, d) second moments → the condition's margins :math:`E[x_d^2] - \\max_{k<d}E[x_d x_k]`
    (``every``) and :math:`E[x_d^2] - \\mathrm{mean}_{k<d}E[x_d x_k]` (``average``)."""
    return (
        moments[..., -1] - moments[..., :-1].max(axis=-1),
        moments[..., -1] - moments[..., :-1].mean(axis=-1),
    )


def _resampled(sample: ProcessSample, versus: str, resamples: int, rng) -> tuple:
    """Bootstrap replicates over the units: |w|* (R,), margins every/average (R,) each."""
    U, G, d = sample.mass_sums.shape
    flat = sample.mass_sums.reshape(U, G * d)
    ws, me, ma = [], [], []
    for r0 in range(0, resamples, BOOT_CHUNK):
        idx = rng.integers(0, U, size=(min(BOOT_CHUNK, resamples - r0), U))
        C = np.stack([np.bincount(i, minlength=U) for i in idx]).astype(np.float64)
        n = C @ sample.counts
        ws.append(first_crossing(sample.w_abs, _gap((C @ flat).reshape(-1, G, d), versus)))
        e, a = _margins((C @ sample.moment_sums) / n[:, None])
        me.append(e), ma.append(a)
    return np.concatenate(ws), np.concatenate(me), np.concatenate(ma)


def _interval(x, alpha: float) -> list[float]:
    """Percentile interval (order statistics: inf and the NaN-as-0 of 'no boundary' are kept)."""
    x = np.where(np.isnan(x), 0.0, x)
    return [
        float(np.quantile(x, alpha / 2, method="inverted_cdf")),
        float(np.quantile(x, 1 - alpha / 2, method="inverted_cdf")),
    ]


def margin_status(interval) -> str:
    """HOLDS when the margin's interval lies above 0, VIOLATED below, INCONCLUSIVE when it
    straddles (or touches) 0."""
    lo, hi = interval
    return "HOLDS" if lo > 0 else "VIOLATED" if hi < 0 else "INCONCLUSIVE"


def process_boundary(
    sample: ProcessSample, *, versus: str, alpha: float, seed: int = 0, resamples=RESAMPLES
) -> dict:
    r""":math:`|w|^*` and the data condition of the data process, each with its
    :math:`1-\alpha` percentile-bootstrap interval over the units of ``sample``.

    Returns ``w_star`` (NaN: no boundary, the gap is negative at the smallest |w|; inf: beyond the
    grid) and ``w_star_interval`` (a resample without a boundary counts as 0); ``margin`` =
    :math:`\mathbb E[x_d^2] - \max_{k<d}\mathbb E[x_d x_k]` with ``margin_interval`` and
    ``condition`` (:func:`margin_status`); ``gate`` the status of the condition the reading's
    first-order law needs (``every``: the max; ``average``: the mean over k < d); the counts
    (``windows``, ``units``, ``resamples``) and words (``source``, ``unit``, ``how``).
    """
    n = sample.counts.sum()
    curve = sample.mass_sums.sum(axis=0) / n
    moments = sample.moment_sums.sum(axis=0) / n
    rng = np.random.default_rng([0xC3, int(seed or 0)])
    w_r, me_r, ma_r = _resampled(sample, versus, resamples, rng)
    me, ma = _margins(moments)
    cond = margin_status(_interval(me_r, alpha))
    gate = cond if versus == "every" else margin_status(_interval(ma_r, alpha))
    k = int(np.argmax(moments[:-1]))
    return {
        "w_star": float(first_crossing(sample.w_abs, _gap(curve, versus)[None])[0]),
        "w_star_interval": _interval(w_r, alpha),
        "no_boundary_fraction": float(np.mean(np.isnan(w_r))),
        "margin": float(me),
        "margin_interval": _interval(me_r, alpha),
        "condition": cond,
        "gate": gate,
        "max_other": float(moments[k]),
        "argmax_position": k + 1,
        "last": float(moments[-1]),
        "windows": int(n),
        "units": int(sample.counts.size),
        "resamples": int(resamples),
        "confidence": 1 - alpha,
        "grid": [float(sample.w_abs[0]), float(sample.w_abs[-1])],
        "source": sample.source,
        "unit": sample.unit,
        "how": sample.how,
        "curve": curve,
    }


def data_condition(second_moments) -> dict:
    r"""The data condition behind the "every" reading on one sample of windows:
    :math:`\max_{k<d}\mathbb E[x_d x_k] \le \mathbb E[x_d^2]`.

    ``second_moments`` (d,) is :math:`\mathbb E[x_d x_k]` for k = 1..d (empirical, over the
    windows). Returns the maximum over k < d, the 1-based position k that attains it,
    :math:`\mathbb E[x_d^2]` and whether the condition holds.

    >>> data_condition([0.2, 0.4, 0.3])
    {'max_other': 0.4, 'argmax_position': 2, 'last': 0.3, 'holds': False}
    """
    s = np.asarray(second_moments, np.float64)
    if s.ndim != 1 or s.size < 2:
        raise ValueError(
            f"second_moments: expected E[x_d x_k] for k = 1..d (d >= 2), got shape {s.shape}"
        )
    k = int(np.argmax(s[:-1]))
    return {
        "max_other": float(s[k]),
        "argmax_position": k + 1,
        "last": float(s[-1]),
        "holds": bool(s[k] <= s[-1]),
    }
