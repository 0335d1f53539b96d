r"""Where the windows of a series sit, and how noisy the series is.

:func:`window_starts` places the ``n`` training windows (consecutive from an offset, or spread over
the whole series: ``[data] placement``, :data:`PLACEMENTS`) and the test windows that share no
value with them; :func:`resolve_placement` reads ``"auto"`` (the default: spread for a real or
user series, first for a synthetic family); :func:`window_coverage` and :func:`placement_words`
say which part of the series the training windows span; :func:`ar_noise_variance` estimates the
series' own noise as the residual variance of an AR(p) fit. A leaf: imports nothing from
``verification``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "PLACEMENTS",
    "PLACEMENT_CHOICES",
    "window_starts",
    "resolve_placement",
    "window_coverage",
    "placement_words",
    "ar_noise_variance",
    "windows_noise_variance",
]

PLACEMENTS = ("first", "spread")
"""Where the n training windows sit in a series (:func:`window_starts`)."""

PLACEMENT_CHOICES = ("auto", *PLACEMENTS)
"""``[data] placement``: :data:`PLACEMENTS` or ``"auto"`` (:func:`resolve_placement`)."""


def resolve_placement(
    placement: str,
    T: int,
    n: int,
    d: int,
    *,
    offset: int = 0,
    n_test: int = 0,
    synthetic: bool = False,
) -> str:
    r"""The placement of :data:`PLACEMENTS` that ``[data] placement`` means for a series of ``T``
    values (``"first"`` and ``"spread"`` are themselves).

    ``"auto"``: ``"first"`` for a ``synthetic`` family (its series is drawn for the run, so its
    first values are as typical as any, and the windows stay those of earlier versions);
    ``"spread"`` for a real or user series, so the training windows span the whole series — unless
    a test set is asked (``n_test > 0``) and the windows that share no value with spread training
    windows are fewer than half the test windows ``"first"`` gives (a short series whose spread
    windows overlap leaves no gap for a test window: then ``"first"``, whose test set is the
    series' future).

    >>> resolve_placement("auto", 5000, 24, 8)  # a real or user series
    'spread'
    >>> resolve_placement("auto", 512, 24, 8, synthetic=True)
    'first'
    >>> resolve_placement("auto", 309, 48, 8, n_test=3000)  # spread windows overlap: no gap
    'first'
    """
    if placement != "auto":
        return placement
    if synthetic:
        return "first"
    if not n_test:
        return "spread"

    def tests(how: str) -> int:
        try:
            return int(window_starts(T, n, d, offset=offset, n_test=n_test, placement=how)[1].size)
        except ValueError:
            return 0

    spread = tests("spread")
    return "spread" if spread and 2 * spread >= tests("first") else "first"


def window_coverage(train_starts, T: int, d: int) -> dict:
    r"""Which part of a series of ``T`` values the training windows starting at ``train_starts``
    span (a window and its target: :math:`d + 1` values): ``windows``, ``first_value`` and
    ``last_value`` (0-based, inclusive), ``length`` :math:`T`, ``coverage`` = (last − first + 1)/T
    and ``values_used``, the distinct values in a training window or target.

    >>> window_coverage([0, 2491, 4991], 5000, 8)["coverage"]
    1.0
    """
    s = np.asarray(train_starts, int)
    if s.size == 0 or T <= 0:
        raise ValueError(f"train_starts: expected at least one window in T > 0 values, got {s}")
    used = np.zeros(T, bool)
    for k in s:
        used[k : k + d + 1] = True
    lo, hi = int(s.min()), int(s.max()) + d
    return {
        "windows": int(s.size),
        "first_value": lo,
        "last_value": hi,
        "length": int(T),
        "coverage": (hi - lo + 1) / T,
        "values_used": int(used.sum()),
    }


def _percent(x: float) -> str:
    """``1.0`` -> ``100%``, ``0.0064`` -> ``0.64%`` (three significant digits)."""
    return f"{100 * x:.3g}%"


def placement_words(info: dict) -> str:
    """One sentence-part saying where the training windows of a data set sit, from a
    :func:`verification.data._placement.window_placement` entry (``kind``, ``placement``,
    ``requested`` and the keys of :func:`window_coverage`).

    >>> info = {"kind": "series", "placement": "spread", "requested": "auto", "windows": 24,
    ...         "first_value": 0, "last_value": 4999, "length": 5000, "coverage": 1.0}
    >>> print(placement_words(info))  # doctest: +NORMALIZE_WHITESPACE
    24 training windows spread over values 0–4999 of 5000
    (coverage 100%; placement spread, [data] placement = "auto")
    """
    kind = info.get("kind")
    if kind == "haar":
        return f"{info['windows']} training windows of the random SSM ({info['how']})"
    n, lo, hi, T = (info[k] for k in ("windows", "first_value", "last_value", "length"))
    cov = _percent(info["coverage"])
    if kind == "windows file":
        return f"the first {n} of the file's {T} windows (file order; coverage {cov})"
    where = (
        f"{n} training windows spread over"
        if info["placement"] == "spread"
        else f"{n} consecutive training windows over"
    )
    of = f"of the {T} drawn from the synthetic process" if kind == "synthetic" else f"of {T}"
    rule = f"placement {info['placement']}"
    if info.get("requested") and info["requested"] != info["placement"]:
        rule += f', [data] placement = "{info["requested"]}"'
    return f"{where} values {lo}–{hi} {of} (coverage {cov}; {rule})"


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
    if placement not in PLACEMENTS:  # "auto" is resolved before: resolve_placement
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
