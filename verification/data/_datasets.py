r"""The shared data set every claim trains on (docs/theory.md, "Data"; docs/data.md).

``[data] source`` says where the values come from (:func:`make_dataset`):

* a synthetic family of :data:`ntk_attention.data.FAMILIES` other than ``"haar"`` — by default
  :data:`ntk_attention.data.DEFAULT_FAMILY`, the residual SSM ``residual`` with ``state_dim = 4``,
  ``r_lo = 0.9``, ``r_hi = 0.99`` (the keys of the same names): one series of
  ``max(FAMILY_LENGTH, needed)`` values drawn by :func:`ntk_attention.data.family_series` from the
  data key (so the drawn series does not change with ``n`` while the windows fit in
  :data:`FAMILY_LENGTH` values; the z-scoring uses the training values, so their scale does);
* a bundled real series (``sunspots``, ``nile``, … of
  :data:`verification.data._sources.REAL_SERIES`), ``csv:PATH[#COLUMN]`` or ``npy:PATH``
  (:func:`verification.data._sources.load_series`, detrended by ``[data] detrend``);
* ``"haar"``: the toolkit's first data set, built exactly as before the other sources existed
  (below), so that earlier results are reproduced bit for bit.

**Windows of a series** (every source but ``haar`` and a windows file), placed by ``[data]
placement`` (:func:`verification.data._windows.resolve_placement`: ``"auto"``, the default, is
``"spread"`` for a real or user series and ``"first"`` for a synthetic family). With ``"first"``
and :math:`o` = ``[data] offset``, training window :math:`i = 0, \dots, n-1` is
:math:`x_i = (u_{o+i}, \dots, u_{o+i+d-1})` with target :math:`y_i = u_{o+i+d}` (sliding windows,
values :math:`u_o \dots u_{o+n+d-1}`); test window :math:`j = 0, \dots, n_{test}-1` starts right
after the training values, at :math:`o + n + d`, so training and test sets share no value (the test
set is the series' future). With ``"spread"`` the training windows are spread evenly from the
offset to the series' last value, and the test windows are those sharing no value with them
(:func:`verification.data._windows.window_starts`). A source needs :math:`o + n + d` values, plus
:math:`n_{test} + d` with a test set; a series that holds the training windows but fewer test
windows than asked gives the test windows it holds (at least one; ``len(X_test)`` says how many),
a shorter one is refused with one line naming the source, its length and what was needed. A
windows file (``npy:`` with an (N, d + 1) array) gives its rows in order: the first ``n`` train,
the next ``n_test`` test. With ``normalize`` every value is z-scored with the mean and standard
deviation of the **training** values (window entries and targets of the training set), so no test
value leaks into the scale.

**``haar``** (the original data): a random stable SSM
(:func:`ntk_attention.data.random_stable_ssm`, closed-loop spectral norm ``radius``). A window is
:math:`x = (u_{b+1}, \dots, u_{b+d})` with target :math:`y = u_{b+d+1}`, ``b`` the burn-in. Two
ways to take windows (``[data] windows``):

* ``"independent"`` (default): every window comes from its own initial state
  :math:`h_1 \sim N(0, I_N)`, so windows are i.i.d. draws of one representation pattern. A stable
  SSM's single series decays geometrically (with ``radius = 1`` its amplitude typically falls 100×
  within a hundred steps), so the later windows of one series are near zero and a risk
  :math:`E[(f(x)-y)^2]` measured on them says nothing; independent windows keep one scale;
* ``"sliding"``: consecutive windows of one series :math:`u_1, u_2, \dots` (the paper's setting
  literally).

Window ``i`` of the training set and of the test set draw from separate key streams
(``fold_in(key, i)``), so the first ``n`` windows are the same whatever ``n`` and the test set does
not depend on ``n``. Values are divided by one scale, the root-mean-square of a fixed reference
batch of 256 windows (``normalize``), so that :math:`B = \max|x_{i,k}|` stays near 2-3 whatever the
SSM.

For every source, ``noise_std > 0`` adds :math:`N(0, \sigma_\varepsilon^2)` to the targets (after
normalisation).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ntk_attention import data as ssm_data
from verification.data._sources import Source, SourceError, load_series
from verification.data._windows import (
    ar_noise_variance,
    resolve_placement,
    window_starts,
    windows_noise_variance,
)

__all__ = [
    "Dataset",
    "make_dataset",
    "REFERENCE_WINDOWS",
    "FAMILY_LENGTH",
    "family_options",
    "needed_length",
    "family_length",
    "load_source",
    "OodWindows",
    "ood_test_windows",
    "OOD_MAX_VALUES",
]


class Dataset(NamedTuple):
    r"""Training windows ``X`` (n, d), targets ``y`` (n,), test windows/targets, the SSM (``haar``
    only).

    ``series``: for a series source, the normalised values the windows were taken from (training,
    then test part); for ``haar`` the sliding series (``windows = "sliding"``) or, for independent
    windows, the first window's values followed by its target (for display only); for a windows
    file, the first window and its target. ``source`` the ``[data] source`` and ``preprocessing``
    what was done to it, in words; ``source_length`` the values of the source (a family: the values
    drawn; a windows file: windows + d; ``haar``: the values of the sliding series, or with
    independent windows the ``(n + n_test)(d + 1)`` values of the windows and targets).

    Series sources only (else ``None`` / empty): ``whole_series`` every value of the source,
    normalised like the windows (its lag-1 is the series'); ``train_starts`` / ``test_starts`` the
    index in it of each training / test window's first value (:func:`window_starts`);
    ``placement`` the placement used, ``[data] placement`` resolved
    (:func:`verification.data._windows.resolve_placement`: ``"first"`` or ``"spread"``).

    ``noise_var``: the variance of the targets' noise, :math:`\hat\sigma^2`, in the units of ``y`` —
    for a real series or a user's file (``csv:``, ``npy:``) the residual variance of a least-squares
    AR(d) fit with intercept to the whole series (:func:`ar_noise_variance`; for a windows file, of
    the regression of ``y`` on ``X``), plus ``noise_std**2`` when noise is injected; for a synthetic
    source ``None`` (its noise is the injected ``noise_std**2``). ``noise_var_method`` says, in
    words, how it was obtained. A ratio such as C5's :math:`R/\sigma^2` should use ``noise_var``
    when it is not ``None``: the injected :math:`\sigma_\varepsilon^2` alone understates a real
    series' noise.
    """

    X: jax.Array
    y: jax.Array
    X_test: jax.Array
    y_test: jax.Array
    series: jax.Array
    ssm: ssm_data.SSM | None
    noise_std: float
    source: str = "haar"
    preprocessing: str = ""
    source_length: int = 0
    whole_series: jax.Array | None = None
    train_starts: tuple[int, ...] = ()
    test_starts: tuple[int, ...] = ()
    noise_var: float | None = None
    noise_var_method: str = ""
    placement: str | None = None


def _windows(
    ssm: ssm_data.SSM, h1s: np.ndarray, burn_in: int, d: int
) -> tuple[np.ndarray, np.ndarray]:
    """Windows ``(u_{b+1..b+d})`` and targets ``u_{b+d+1}`` of one SSM from many initial states
    (float64 numpy).

    Runs :math:`u_k = C^\\top h_k`, :math:`h_{k+1} = A h_k + B u_k` for every row of ``h1s`` at
    once (the recursion of :func:`ntk_attention.data.ssm_series`, vectorised over initial states).
    """
    A, B, C = (np.asarray(t, np.float64) for t in ssm)
    H = np.array(h1s, np.float64)
    u = np.empty((H.shape[0], burn_in + d + 1))
    for k in range(burn_in + d + 1):
        u[:, k] = H @ C
        H = H @ A.T + u[:, k : k + 1] * B[None, :]
    return u[:, burn_in : burn_in + d], u[:, burn_in + d]


def _rng(key: jax.Array, *stream: int) -> np.random.Generator:
    """A numpy generator seeded by the JAX key's data and ``stream`` (platform independent)."""
    return np.random.default_rng(
        [*(int(v) for v in np.asarray(jax.random.key_data(key)).ravel()), *stream]
    )


def _initial_states(key: jax.Array, stream: int, count: int, N: int) -> np.ndarray:
    """Row i is :math:`h_1 \\sim N(0, I_N)` from its own stream (key, stream, i): prefixes agree
    across counts."""
    return (
        np.stack([_rng(key, stream, i).standard_normal(N) for i in range(count)])
        if count
        else np.zeros((0, N))
    )


_random_ssm = jax.jit(
    ssm_data.random_stable_ssm, static_argnums=1, static_argnames=("radius", "dtype")
)
"""One compiled program for the SSM draw (op-by-op dispatch would compile each operation)."""

REFERENCE_WINDOWS = 256


FAMILY_LENGTH = 512
"""Values drawn for a synthetic family when fewer are needed (more when ``offset + n + n_test + 2d``
exceeds it)."""

FAMILY_KEYS = {
    "residual": ("state_dim", "r_lo", "r_hi"),
    "slow_modes": ("state_dim", "r_lo", "r_hi"),
    "haar": ("state_dim", "radius"),
}
"""``[data]`` keys passed to :func:`ntk_attention.data.family_series` as options, per family (the
other families use their library defaults)."""


def family_options(data_cfg: dict) -> dict:
    """The family options of ``[data]`` for its ``source`` (empty for a family without keys or a
    non-family)."""
    return {k: data_cfg[k] for k in FAMILY_KEYS.get(data_cfg["source"], ())}


def needed_length(data_cfg: dict, n: int, n_test: int = 0) -> int:
    """Values a series source needs for ``n`` training and ``n_test`` test windows:
    ``offset + n + d`` (+ ``n_test + d`` when ``n_test > 0``; see the module docstring)."""
    d = int(data_cfg["d"])
    return int(data_cfg.get("offset", 0)) + n + d + (n_test + d if n_test else 0)


def family_length(length: int | None) -> int:
    """Values a synthetic family draws for a data set needing ``length`` values: at least
    :data:`FAMILY_LENGTH`, and one more than needed (detrend ``"difference"`` drops one)."""
    return max(FAMILY_LENGTH, int(length or 0) + 1)


def load_source(data_cfg: dict, key: jax.Array, length: int | None = None):
    """The :class:`verification.data._sources.Source` of ``[data] source`` (not ``haar``), not
    normalised: a family draws ``length`` values (at least :data:`FAMILY_LENGTH`) from ``key``; a
    real series or file is read and detrended by ``[data] detrend``. Raises
    :class:`verification.data._sources.SourceError`."""
    name = data_cfg["source"]
    detrend = data_cfg.get("detrend", "none")
    if name in ssm_data.FAMILIES:
        length = family_length(length)
        try:
            u = np.asarray(
                ssm_data.family_series(name, length, key, **family_options(data_cfg)), np.float64
            )
        except ValueError as err:
            raise SourceError(f"{name}: {err}") from None
        if not np.isfinite(u).all():
            raise SourceError(
                f"{name}: the synthetic series overflowed; check the [data] family options"
            )
        how = f"synthetic family {name!r}, {length} values" + (
            f", {family_options(data_cfg)}" if family_options(data_cfg) else ""
        )
        if detrend == "difference":
            u = np.diff(u)
        elif detrend == "linear":
            t = np.arange(u.size, dtype=np.float64)
            u = u - np.polyval(np.polyfit(t, u, 1), t)
        return Source(
            name, u, None, None, how + ("" if detrend == "none" else f"; detrend {detrend!r}")
        )
    return load_series(name, d=int(data_cfg["d"]), detrend=detrend, normalize="none")


def make_dataset(
    data_cfg: dict, key: jax.Array, *, n: int, n_test: int = 0, noise_std: float = 0.0, dtype=None
) -> Dataset:
    """``n`` training and ``n_test`` test windows of ``[data] source`` (see the module docstring).

    A source too short for them raises :class:`verification.data._sources.SourceError` (one line:
    the source, its length and what was needed).
    """
    if data_cfg.get("source", "haar") == "haar":
        return _haar_dataset(data_cfg, key, n=n, n_test=n_test, noise_std=noise_std, dtype=dtype)
    dtype = jnp.zeros(()).dtype if dtype is None else dtype
    d, name = int(data_cfg["d"]), data_cfg["source"]
    k_series, k_noise = jax.random.split(key)
    need = needed_length(data_cfg, n, n_test)
    src = load_source(data_cfg, k_series, need)
    if src.series is None:  # a windows file: rows in order, first n train, next n_test test
        rows = src.X.shape[0]
        if rows < n + n_test:
            raise SourceError(
                f"{name}: the file holds {rows} windows; n = {n} training + n_test = {n_test} test "
                f"windows need {n + n_test}"
            )
        X, y = src.X[:n], src.y[:n]
        X_test, y_test = src.X[n : n + n_test], src.y[n : n + n_test]
        ref = np.concatenate([X.ravel(), y])
        series = np.concatenate([X[0], y[:1]])
        whole, train, test, placement = None, np.zeros(0, int), np.zeros(0, int), None
        noise = windows_noise_variance(src.X, src.y)
        noise_how = (
            "residual variance of the least-squares regression of y on (1, X) over the file's "
            f"{rows} windows"
        )
    else:
        u, T, o = src.series, src.series.shape[0], int(data_cfg.get("offset", 0))
        placement = resolve_placement(
            data_cfg.get("placement", "first"),
            T,
            n,
            d,
            offset=o,
            n_test=n_test,
            synthetic=name in ssm_data.FAMILIES,
        )
        try:
            train, test = window_starts(T, n, d, offset=o, n_test=n_test, placement=placement)
        except ValueError as err:
            raise SourceError(f"{name}: {err}") from None
        idx = np.arange(d)[None, :]
        X, y = u[train[:, None] + idx], u[train + d]
        X_test, y_test = u[test[:, None] + idx], u[test + d]
        covered = np.zeros(T, bool)
        for s_ in train:
            covered[s_ : s_ + d + 1] = True
        ref = u[covered]  # every training value once
        if placement == "first":
            series = u[o : (test[-1] + d + 1) if test.size else o + n + d]
        else:
            series = u[o:]
        whole = u
        noise, noise_how = None, ""
        if name not in ssm_data.FAMILIES:
            try:
                noise = ar_noise_variance(u, d)
                noise_how = (
                    f"residual variance of a least-squares AR({d}) fit with intercept to the "
                    f"whole series ({T} values)"
                )
            except ValueError:
                noise = None
    how = src.preprocessing
    if data_cfg["normalize"]:
        mean, sd = float(ref.mean()), float(ref.std())
        if not sd > 0:
            raise SourceError(
                f"{name}: the training values are constant (n = {n}, d = {d}); nothing to forecast"
            )
        X, y, X_test, y_test, series = ((t - mean) / sd for t in (X, y, X_test, y_test, series))
        whole = None if whole is None else (whole - mean) / sd
        noise = None if noise is None else noise / sd**2
        how += "; z-scored with the mean and sd of the training values"
    if noise_std > 0:
        y = y + noise_std * _rng(k_noise, 3).standard_normal(y.shape)
        y_test = y_test + noise_std * _rng(k_noise, 4).standard_normal(y_test.shape)
        if noise is not None:
            noise += noise_std**2
            noise_how += f", plus the injected noise_std^2 = {noise_std**2:g}"
    if noise is not None and data_cfg["normalize"]:
        noise_how += ", in the z-scored units of y"
    X, y, X_test, y_test, series = (jnp.asarray(t, dtype) for t in (X, y, X_test, y_test, series))
    whole = None if whole is None else jnp.asarray(whole, dtype)
    return Dataset(
        X,
        y,
        X_test,
        y_test,
        series,
        None,
        float(noise_std),
        name,
        how,
        int(src.length),
        whole,
        tuple(int(t) for t in train),
        tuple(int(t) for t in test),
        noise,
        noise_how,
        placement,
    )


def _haar_dataset(
    data_cfg: dict, key: jax.Array, *, n: int, n_test: int = 0, noise_std: float = 0.0, dtype=None
) -> Dataset:
    """``source = "haar"``: the original ``make_dataset``, unchanged (reproduces earlier
    results): ``n`` training and ``n_test`` test windows of one SSM (module docstring)."""
    dtype = jnp.zeros(()).dtype if dtype is None else dtype
    d, N, b = data_cfg["d"], data_cfg["state_dim"], data_cfg["burn_in"]
    k_ssm, k_h = jax.random.split(key)
    ssm = _random_ssm(k_ssm, N, radius=float(data_cfg["radius"]))
    if data_cfg["windows"] == "independent":
        X, y = _windows(ssm, _initial_states(k_h, 0, n, N), b, d)
        X_test, y_test = _windows(ssm, _initial_states(k_h, 1, n_test, N), b, d)
        X_ref, _ = _windows(ssm, _initial_states(k_h, 2, REFERENCE_WINDOWS, N), b, d)
        series = np.concatenate([X[0], y[:1]]) if n else np.zeros((0,))
    else:
        length = b + max(n + n_test, REFERENCE_WINDOWS) + d
        u = np.asarray(
            ssm_data.ssm_series(ssm, length, jnp.asarray(_initial_states(k_h, 0, 1, N)[0])),
            np.float64,
        )[b:]
        idx = np.arange(length - b - d)[:, None] + np.arange(d)[None, :]
        Xall, yall = u[idx], u[d:]
        X, y, X_test, y_test = Xall[:n], yall[:n], Xall[n : n + n_test], yall[n : n + n_test]
        X_ref, series = Xall[:REFERENCE_WINDOWS], u[: n + n_test + d]
    if data_cfg["normalize"]:
        rms = float(np.sqrt(np.mean(X_ref * X_ref)))
        scale = rms if rms > 0 else 1.0
        X, y, X_test, y_test, series = (t / scale for t in (X, y, X_test, y_test, series))
    if noise_std > 0:
        y = y + noise_std * _rng(k_h, 3).standard_normal(y.shape)
        y_test = y_test + noise_std * _rng(k_h, 4).standard_normal(y_test.shape)
    if not all(np.isfinite(t).all() for t in (X, y, X_test, y_test)):
        raise ValueError(
            "data: the SSM series overflowed (radius too large for this length); "
            "lower [data] radius or burn_in"
        )
    X, y, X_test, y_test, series = (jnp.asarray(t, dtype) for t in (X, y, X_test, y_test, series))
    return Dataset(
        X,
        y,
        X_test,
        y_test,
        series,
        ssm,
        float(noise_std),
        "haar",
        f"random stable SSM (state_dim {N}, radius {data_cfg['radius']}), "
        f"{data_cfg['windows']} windows",
        int(series.shape[0]) if data_cfg["windows"] == "sliding" else (n + n_test) * (d + 1),
    )


OOD_MAX_VALUES = 2**20
"""Most values :func:`ood_test_windows` draws (then it returns what it found)."""


class OodWindows(NamedTuple):
    """Sign-inconsistent test windows (noise-free targets), how many windows were scanned, and how
    they were made."""

    X: np.ndarray
    y: np.ndarray
    scanned: int
    how: str


def ood_test_windows(
    data_cfg: dict, key: jax.Array, *, n: int, want: int, max_values: int = OOD_MAX_VALUES
) -> OodWindows | None:
    r"""At least ``want`` sign-inconsistent windows,
    :math:`\mathrm{sign}(y) \ne \mathrm{sign}(x_d)`, generated from fresh stretches of a synthetic
    family's process (``None`` for other sources: their test set is the series' future,
    :func:`make_dataset`).

    A persistent series crosses zero rarely (5 of 3000 next steps on the default data), so the test
    set is drawn, not waited for: the training series' own draw (the same key: the same SSM) is
    continued past the training values and cut into stretches of the training stretch's length
    :math:`L = o + n + d` (``offset``, ``n``, ``d``); for ``residual`` (no detrending) each
    stretch's increments are re-integrated from :math:`u_0 = 0` like the training values
    (:math:`u = \sum\delta`: the same law), for other families the stretches are consecutive pieces
    of the stationary series. Windows sit where the training windows sit (from index :math:`o`), are
    z-scored with the training values' mean and sd (as :func:`make_dataset`), and the
    sign-inconsistent ones are kept in order; stretches double until ``want`` are found or
    ``max_values`` values were drawn.
    """
    name = data_cfg.get("source", "haar")
    detrend = data_cfg.get("detrend", "none")
    if name not in ssm_data.FAMILIES or name == "haar" or detrend == "linear":
        return None
    d, o = int(data_cfg["d"]), int(data_cfg.get("offset", 0))
    L = o + n + d
    k_series, _ = jax.random.split(key)
    train = load_source(data_cfg, k_series, needed_length(data_cfg, n)).series[o : o + n + d]
    mean, sd = (float(train.mean()), float(train.std())) if data_cfg["normalize"] else (0.0, 1.0)
    restart = name == "residual" and detrend == "none"
    # after the training values: the same realisation goes on with fresh innovations
    start = o + n + d
    stretches = 4096  # about 400 on the default data; one draw, one compiled scan
    while True:
        u = np.asarray(load_source(data_cfg, k_series, start + stretches * L).series)
        if restart:  # increments δ_k = u_k - u_{k-1}, re-integrated from 0 in every stretch
            chunks = np.cumsum(
                np.diff(u[start - 1 : start + stretches * L]).reshape(stretches, L), axis=1
            )
        else:
            chunks = u[start : start + stretches * L].reshape(stretches, L)
        z = (chunks - mean) / (sd if sd > 0 else 1.0)
        X = np.lib.stride_tricks.sliding_window_view(z[:, o : L - 1], d, axis=1).reshape(-1, d)
        y = z[:, o + d :].reshape(-1)
        bad = np.sign(y) != np.sign(X[:, -1])
        if bad.sum() >= want or 2 * stretches * L > max_values:
            break
        stretches *= 2
    keep = np.flatnonzero(bad)[:want]
    scanned = int(bad.size) if keep.size < want else int(keep[-1]) + 1
    how = (
        f"{keep.size} sign-inconsistent among {scanned} windows of {L}-value stretches "
        "of the training draw's continuation"
        + (" (increments re-integrated from u_0 = 0)" if restart else "")
    )
    return OodWindows(X[keep].copy(), y[keep].copy(), scanned, how)
