r"""Where the windows of a series sit, and how noisy the series is.

:func:`window_starts` places the ``n`` training windows (consecutive from an offset, or spread over
the whole series: ``[data] placement``, :data:`PLACEMENTS`) and the test windows that share no
value with them; :func:`ar_noise_variance` estimates the series' own noise as the residual
variance of an AR(p) fit. A leaf: imports nothing from ``verification``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PLACEMENTS", "window_starts", "ar_noise_variance", "windows_noise_variance"]

PLACEMENTS = ("first", "spread")
"""``[data] placement``: where the n training windows sit in a series (:func:`window_starts`)."""


def window_starts(
    T: int, n: int, d: int, *, offset: int = 0, n_test: int = 0, placement: str = "first"
) -> tuple[np.ndarray, np.ndarray]:
    r"""Start indices of the ``n`` training and at most ``n_test`` test windows in a series of ``T``
    values.

    A window starting at :math:`s` holds :math:`u_s \dots u_{s+d-1}` and its target :math:`u_{s+d}`.

    * ``"first"``: training windows :math:`s_i = o + i` (consecutive, the first ``n`` from the
      offset :math:`o`); test windows start right after the training values, :math:`o + n + d + j`.
    * ``"spread"``: training windows evenly over the whole series from the offset,
      :math:`s_i = o + \lfloor i (T - o - d - 1)/(n - 1) \rfloor` (the first at :math:`o`, the last
      ending at :math:`u_{T-1}`); test windows are the windows that share no value with any
      training window, ``n_test`` of them evenly spaced among those (all of them when fewer).

    With ``"first"`` a series holding the training windows but fewer test windows than asked gives
    those it holds. Raises ``ValueError`` (one line with the numbers) when the training windows do
    not fit (:math:`T < o + n + d`) or ``n_test > 0`` and no test window fits.
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"placement: expected one of {PLACEMENTS}, got {placement!r}")
    if T < offset + n + d:
        raise ValueError(
            f"the series has {T} values; n = {n} training windows of length d = {d} from offset "
            f"{offset} need {offset + n + d} (offset + n + d)"
        )
    if placement == "first":
        train = offset + np.arange(n)
        t0 = offset + n + d
        test = t0 + np.arange(max(0, min(n_test, T - t0 - d)))
    else:
        span = T - offset - d - 1  # last possible start minus the first
        train = offset + (np.arange(n) * span) // max(n - 1, 1)
        covered = np.zeros(T, bool)
        for s in train:
            covered[s : s + d + 1] = True
        starts = np.arange(offset, T - d)
        # a candidate is free when none of its d + 1 values is a training value
        free = (
            starts[~np.array([covered[j : j + d + 1].any() for j in starts], bool)]
            if starts.size
            else starts
        )
        pick = (
            np.unique(np.round(np.linspace(0, free.size - 1, min(n_test, free.size))).astype(int))
            if n_test and free.size
            else []
        )
        test = free[pick] if len(pick) else np.zeros(0, int)
    if n_test and test.size == 0:
        raise ValueError(
            f"the series has {T} values; n = {n} training windows ({placement}) and "
            f"n_test = {n_test} "
            f"test windows of length d = {d} from offset {offset} need "
            + (
                f"{offset + n + d + n_test + d} (offset + n + d + n_test + d)"
                if placement == "first"
                else "a window that shares no value with a training window; there is none"
            )
        )
    return np.asarray(train, int), np.asarray(test, int)


def ar_noise_variance(u: np.ndarray, p: int) -> float:
    r"""Residual variance of the least-squares AR(p) fit with intercept,
    :math:`u_k = c + \sum_{j=1}^{p} \phi_j u_{k-j} + e_k`:
    :math:`\hat\sigma^2 = \sum_k \hat e_k^2 / (T - p - (p + 1))` (T − p equations, p + 1
    coefficients).

    The noise a forecaster cannot remove with a linear predictor of the last ``p`` values: an
    estimate of the series' own noise variance (for an AR(p) process, its innovation variance).
    ``ValueError`` when the series is too short for the fit (fewer than ``2p + 2`` values).
    """
    u = np.asarray(u, np.float64)
    rows = u.shape[0] - p
    if p < 1 or rows < p + 2:
        raise ValueError(f"u: an AR({p}) fit needs at least {2 * p + 2} values, got {u.shape[0]}")
    A = np.column_stack([np.ones(rows)] + [u[p - j : u.shape[0] - j] for j in range(1, p + 1)])
    coef, *_ = np.linalg.lstsq(A, u[p:], rcond=None)
    resid = u[p:] - A @ coef
    return float(resid @ resid / (rows - (p + 1)))


def windows_noise_variance(X: np.ndarray, y: np.ndarray) -> float | None:
    """Residual variance of the least-squares regression of ``y`` on ``(1, X)`` (None: too few
    rows)."""
    rows, d = X.shape
    if rows < d + 2:
        return None
    A = np.column_stack([np.ones(rows), X])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    return float(resid @ resid / (rows - (d + 1)))
