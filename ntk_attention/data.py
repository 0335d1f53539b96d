r"""State-space data (seed §2.2): series, next-step windows, sign-consistent splits.

.. math::

    h_{k+1} = A h_k + B u_k \in \mathbb R^N, \qquad u_{k+1} = C^\top h_{k+1},

equivalently :math:`u_k = \sum_{\kappa<k} K_{k-\kappa} u_\kappa + G_k h_1` with
:math:`K_k = C^\top A^{k-1} B` and :math:`G_k = C^\top A^{k-1}` (so :math:`u_1 = C^\top h_1`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from ntk_attention import _checks
from ntk_attention.model import softmax_moments

__all__ = [
    "SSM",
    "Process",
    "random_stable_ssm",
    "ssm_series",
    "next_step_windows",
    "sign_consistent",
    "slow_modes",
    "damped_oscillation",
    "trend_seasonal",
    "ar_process",
    "stationary_lag1",
    "process_series",
    "residual_series",
    "family_series",
    "FAMILIES",
    "DEFAULT_FAMILY",
    "series_windows",
    "lag1_autocorrelation",
    "sign_consistent_fraction",
    "corr_y_xd",
    "data_term_fraction",
]

SERIES_METHODS = ("recursive", "convolution")


class SSM(NamedTuple):
    """State-space model matrices: ``A`` (N, N), ``B`` (N,), ``C`` (N,)."""

    A: Float[Array, "N N"]
    B: Float[Array, " N"]
    C: Float[Array, " N"]


def _check_ssm(ssm: SSM) -> SSM:
    try:
        A, B, C = (_checks.as_float_array(t, f"ssm.{n}") for t, n in zip(ssm, "ABC"))
    except (TypeError, ValueError) as err:
        raise ValueError(f"ssm: expected SSM(A, B, C) of float arrays ({err})") from None
    N = B.shape[0] if B.ndim == 1 else -1
    if A.shape != (N, N) or B.shape != (N,) or C.shape != (N,):
        raise ValueError(
            f"ssm: expected A (N, N), B (N,), C (N,), got {tuple(A.shape)}, {tuple(B.shape)}, {tuple(C.shape)}"
        )
    for t, n in zip((A, B, C), "ABC"):
        _checks.check_finite(t, f"ssm.{n}")
    return SSM(A, B, C)


def random_stable_ssm(key: jax.Array, state_dim: int, *, radius: float = 1.0, dtype=None) -> SSM:
    r"""A random SSM whose closed-loop map :math:`M = A + B C^\top` has :math:`\|M\|_2 \le` ``radius``.

    The state evolves as :math:`h_{k+1} = M h_k` (the output is fed back), so stability is a
    property of :math:`M`, not of :math:`A` alone. :math:`M = \rho\, Q\, \mathrm{diag}(s)` with
    :math:`Q` Haar-orthogonal and :math:`s_j \sim U[0.95, 1]`: the series oscillates (its sign
    changes, giving sign-inconsistent windows) and decays slowly; ``radius=1`` is marginally
    stable. :math:`B, C \sim N(0, I/N)`, then :math:`A = M - B C^\top`.
    """
    key = _checks.check_key(key)
    state_dim = _checks.check_positive(state_dim, "state_dim", integer=True)
    radius = _checks.check_positive(radius, "radius")
    dtype = _checks.check_dtype(dtype)
    if radius > float(jnp.finfo(dtype).max) ** 0.5:  # B C^T and A h stay finite
        raise ValueError(f"radius: expected at most {float(jnp.finfo(dtype).max) ** 0.5:.3g} for {dtype.name}, got {radius!r}")
    kq, ks, kb, kc = jax.random.split(key, 4)
    Q, R = jnp.linalg.qr(jax.random.normal(kq, (state_dim, state_dim), dtype))
    Q = Q * jnp.sign(jnp.diag(R))[None, :]  # Haar measure
    s = jax.random.uniform(ks, (state_dim,), dtype, 0.95, 1.0)
    M = radius * Q * s[None, :]
    B = jax.random.normal(kb, (state_dim,), dtype) / jnp.sqrt(state_dim)
    C = jax.random.normal(kc, (state_dim,), dtype) / jnp.sqrt(state_dim)
    return SSM(M - jnp.outer(B, C), B, C)


def ssm_series(
    ssm: SSM,
    length: int,
    h1: Float[Array, " N"],
    *,
    method: str = "recursive",
) -> Float[Array, " length"]:
    r"""The series :math:`u_1, \dots, u_{length}` started from state :math:`h_1` (:math:`u_1 = C^\top h_1`).

    ``method="recursive"`` runs :math:`h_{k+1} = A h_k + B u_k` under :func:`jax.lax.scan`;
    ``method="convolution"`` solves :math:`u_k - \sum_{\kappa<k} K_{k-\kappa} u_\kappa = G_k h_1`,
    a unit lower-triangular Toeplitz system, with :math:`K_k = C^\top A^{k-1} B`,
    :math:`G_k = C^\top A^{k-1}`. The two are independent computations of the same series.
    """
    A, B, C = _check_ssm(ssm)
    length = _checks.check_positive(length, "length", integer=True)
    if method not in SERIES_METHODS:
        raise ValueError(f"method: expected one of {SERIES_METHODS}, got {method!r}")
    h1 = _checks.as_float_array(h1, "h1")
    if h1.shape != B.shape:
        raise ValueError(f"h1: expected shape {tuple(B.shape)} (the state dimension), got {tuple(h1.shape)}")
    _checks.check_finite(h1, "h1")
    dtype = jnp.result_type(A, h1)
    A, B, C, h1 = (t.astype(dtype) for t in (A, B, C, h1))
    if method == "recursive":
        def step(h, _):
            u = C @ h
            return A @ h + B * u, u

        _, u = jax.lax.scan(step, h1, None, length=length)
        return _check_series(u, length, "the closed-loop map A + B C^T grows faster than it holds")

    def power(P, _):  # rows C^T A^{k-1}, k = 1..length
        return P @ A, P

    _, G = jax.lax.scan(power, C, None, length=length)  # (length, N): G_k
    K = G @ B  # K_k = C^T A^{k-1} B
    k = jnp.arange(length)
    lag = k[:, None] - k[None, :]  # row k (u_{k+1}), column kappa: K_{lag}
    T = jnp.where(lag >= 1, K[jnp.clip(lag - 1, 0)], 0.0)
    rhs = G @ h1
    u = jax.scipy.linalg.solve_triangular(jnp.eye(length, dtype=dtype) - T, rhs, lower=True, unit_diagonal=True)
    _check_series(u, length, "the open-loop kernel C^T A^(k-1) B grows faster than it holds; use method='recursive'")
    if _checks.is_concrete(u):
        # forward substitution errs by about eps (|T| |u| + |G h1|): huge when A alone is unstable
        # (rho(A) > 1 is common even for a stable closed loop), while u stays O(1)
        err = float(jnp.finfo(dtype).eps * jnp.max(jnp.abs(T) @ jnp.abs(u) + jnp.abs(rhs)))
        size = float(jnp.max(jnp.abs(u)))
        if err > float(jnp.finfo(dtype).eps) ** 0.5 * max(size, float(jnp.finfo(dtype).tiny)):
            raise ValueError(
                f"method: the convolution form loses accuracy here (rounding error about {err:.2g} against a "
                f"series of size {size:.2g}: the open-loop A has spectral radius > 1, so C^T A^(k-1) B grows "
                f"over length = {length}); use method='recursive'"
            )
    return u


def _check_series(u, length, why):
    """Refuse a series that overflowed its dtype within ``length`` steps (``why``: the cause)."""
    if _checks.is_concrete(u) and not bool(jnp.isfinite(u).all()):
        k = int(jnp.argmin(jnp.isfinite(u)))
        raise ValueError(f"ssm: the series overflows {u.dtype} at step {k + 1} of length = {length}: {why}")
    return u


def next_step_windows(
    series: Float[Array, " T"],
    d: int,
    *,
    noise_std: float = 0.0,
    key: jax.Array | None = None,
) -> tuple[Float[Array, "n d"], Float[Array, " n"]]:
    r"""Sliding windows :math:`x_i = (u_{i}, \dots, u_{i+d-1})`, targets :math:`y_i = u_{i+d} + \varepsilon_i`.

    Observation noise :math:`\varepsilon_i \sim N(0, \sigma_\varepsilon^2)` (``noise_std``) is
    added to the targets only, and needs ``key``. Returns ``(X, y)`` with ``n = T - d``.
    """
    series = _checks.as_float_array(series, "series")
    d = _checks.check_positive(d, "d", integer=True)
    if series.ndim != 1:
        raise ValueError(f"series: expected a 1-D series, got shape {tuple(series.shape)}")
    if d < 2:
        raise ValueError(f"d: expected window length d >= 2, got {d}")
    if series.shape[0] < d + 1:
        raise ValueError(f"series: expected length >= d + 1 = {d + 1} for one window, got {series.shape[0]}")
    _checks.check_finite(series, "series")
    noise_std = _checks.check_positive(noise_std, "noise_std", zero_ok=True)
    n = series.shape[0] - d
    X = series[jnp.arange(n)[:, None] + jnp.arange(d)[None, :]]
    y = series[d:]
    if noise_std > 0:
        if key is None:
            raise ValueError("key: noise_std > 0 needs a PRNG key for the observation noise, got None")
        y = y + noise_std * jax.random.normal(_checks.check_key(key), y.shape, y.dtype)
        if _checks.is_concrete(y) and not bool(jnp.isfinite(y).all()):
            raise ValueError(f"noise_std: {noise_std!r} times a normal draw overflows {y.dtype}")
    return X, y


def sign_consistent(X: Float[Array, "n d"], y: Float[Array, " n"]) -> Bool[Array, " n"]:
    r"""Mask of sign-consistent examples, :math:`\mathrm{sign}(y_i) = \mathrm{sign}(x_{i,d})`."""
    X = _checks.check_windows(X)
    y = _checks.check_targets(y, X.shape[0])
    if _checks.is_concrete(X) and _checks.is_concrete(y):  # numpy: XLA on CPU flushes subnormals to 0
        return jnp.asarray(np.sign(np.asarray(y, np.float64)) == np.sign(np.asarray(X, np.float64)[:, -1]))
    return jnp.sign(y) == jnp.sign(X[:, -1])


# ----------------------------------------------------------------------------------------------
# forecasting-like families: linear-Gaussian state-space processes with controlled spectra


class Process(NamedTuple):
    r"""A driven state-space process :math:`h_{k+1} = M h_k + E\,\xi_k`, :math:`u_k = C^\top h_k`.

    ``ssm`` holds :math:`A, B, C` with closed-loop map :math:`M = A + B C^\top` (the convention of
    :func:`ssm_series`); ``innovation`` is :math:`E` (N,), the direction in which the scalar
    innovation :math:`\xi_k \sim N(0, 1)` enters. With :math:`E = 0` this is the noise-free SSM.
    """

    ssm: SSM
    innovation: Float[Array, " N"]


def _process(M, C, E) -> Process:
    M, C, E = (jnp.asarray(t) for t in (M, C, E))
    return Process(SSM(M, jnp.zeros_like(C), C), E)  # B = 0: no output feedback, A is the closed loop


def _check_prob(value, name):
    value = _checks.check_positive(value, name, zero_ok=True)
    if value >= 1:
        raise ValueError(f"{name}: expected a number in [0, 1) (a stable mode), got {value!r}")
    return value


def slow_modes(key: jax.Array, state_dim: int = 4, *, r_lo: float = 0.9, r_hi: float = 0.99, dtype=None) -> Process:
    r"""Slow real modes: :math:`M = Q\,\mathrm{diag}(\lambda)\,Q^\top`, :math:`\lambda_j \sim U[r_{lo}, r_{hi}]`.

    :math:`Q` is Haar-orthogonal, :math:`C = Q e`/‖·‖ with :math:`e = (1,\dots,1)` (every mode
    observed equally), :math:`E = C`. The observed series is a sum of AR(1) components with
    coefficients :math:`\lambda_j`, so its stationary lag-1 autocorrelation lies in
    :math:`[r_{lo}, r_{hi}]` (a weighted mean of the :math:`\lambda_j`; exact value:
    :func:`stationary_lag1`). Measured (``tests/ntk_attention/test_data.py``): 0.95 on average
    over keys for the default band.
    """
    key = _checks.check_key(key)
    state_dim = _checks.check_positive(state_dim, "state_dim", integer=True)
    r_lo, r_hi = _check_prob(r_lo, "r_lo"), _check_prob(r_hi, "r_hi")
    if r_lo > r_hi:
        raise ValueError(f"r_lo: expected r_lo <= r_hi = {r_hi!r}, got {r_lo!r}")
    dtype = _checks.check_dtype(dtype)
    kq, kl = jax.random.split(key)
    Q, R = jnp.linalg.qr(jax.random.normal(kq, (state_dim, state_dim), dtype))
    Q = Q * jnp.sign(jnp.diag(R))[None, :]
    lam = jax.random.uniform(kl, (state_dim,), dtype, r_lo, r_hi)
    C = Q @ jnp.ones(state_dim, dtype) / jnp.sqrt(state_dim)
    return _process((Q * lam[None, :]) @ Q.T, C, C)


def damped_oscillation(frequency: float = 0.05, damping: float = 0.95, *, dtype=None) -> Process:
    r"""A damped oscillation: the AR(2) :math:`u_{k+1} = 2\rho\cos(2\pi f)\, u_k - \rho^2 u_{k-1} + \xi_{k+1}`.

    ``frequency`` :math:`f` in cycles per step (:math:`0 \le f \le 1/2`), ``damping``
    :math:`\rho \in [0, 1)`: the closed loop (the companion matrix of :func:`ar_process`) has
    eigenvalues :math:`\rho e^{\pm 2\pi i f}`, a rotation by :math:`2\pi f` per step shrunk by
    :math:`\rho`. Stationary lag-1 autocorrelation :math:`2\rho\cos(2\pi f)/(1 + \rho^2)`
    (Yule–Walker; checked against :func:`stationary_lag1` in the tests).
    """
    f = _checks.check_positive(frequency, "frequency", zero_ok=True)
    if f > 0.5:
        raise ValueError(f"frequency: expected cycles per step in [0, 0.5], got {frequency!r}")
    rho = _check_prob(damping, "damping")
    return ar_process([2 * rho * np.cos(2 * np.pi * f), -rho * rho], dtype=dtype)


def trend_seasonal(period: float = 12.0, *, trend_radius: float = 0.8, season_radius: float = 0.95,
                   season_weight: float = 3.0, dtype=None) -> Process:
    r"""Damped local trend plus seasonality: block-diagonal :math:`M = \mathrm{diag}(T, S)`.

    :math:`T = \begin{pmatrix}\rho_t & 1\\ 0 & \rho_t\end{pmatrix}` (level and slope, a damped
    local linear trend; ``trend_radius`` :math:`\rho_t`), :math:`S = \rho_s R(2\pi/P)` (``period``
    :math:`P`, ``season_radius`` :math:`\rho_s`). :math:`C = (1, 0, w, 0)` with ``season_weight``
    :math:`w`; innovations :math:`E = (0, 1, 1, 0)/\sqrt2` drive the slope and the season. The
    level integrates the slope, so slow trends carry a seasonal ripple: stationary lag-1
    autocorrelation 0.87 for the defaults (0.99 already at ``trend_radius=0.9, season_weight=1``;
    :func:`stationary_lag1`, tests).
    """
    P = _checks.check_positive(period, "period")
    if P < 2:
        raise ValueError(f"period: expected a period of at least 2 steps, got {period!r}")
    rt, rs = _check_prob(trend_radius, "trend_radius"), _check_prob(season_radius, "season_radius")
    w = _checks.check_positive(season_weight, "season_weight", zero_ok=True)
    dtype = _checks.check_dtype(dtype)
    c, s = np.cos(2 * np.pi / P), np.sin(2 * np.pi / P)
    M = np.zeros((4, 4))
    M[:2, :2] = [[rt, 1.0], [0.0, rt]]
    M[2:, 2:] = rs * np.array([[c, -s], [s, c]])
    C = np.array([1.0, 0.0, w, 0.0])
    E = np.array([0.0, 1.0, 1.0, 0.0]) / np.sqrt(2.0)
    return _process(*(jnp.asarray(t, dtype) for t in (M, C, E)))


def ar_process(coefficients=(0.95,), *, dtype=None) -> Process:
    r"""AR(p) :math:`u_{k+1} = \sum_{j=1}^p \phi_j u_{k+1-j} + \xi_{k+1}` in companion form.

    :math:`h_k = (u_k, \dots, u_{k-p+1})`, :math:`M` the companion matrix (first row
    :math:`\phi`, ones below the diagonal), :math:`C = E = e_1`. Stationarity (every root of
    :math:`1 - \sum_j \phi_j z^j` outside the unit circle, i.e. spectral radius of :math:`M`
    below 1) is checked. AR(1) has lag-1 autocorrelation :math:`\phi`; AR(2)
    :math:`\phi_1/(1 - \phi_2)` (Yule–Walker; tests).
    """
    phi = np.asarray(coefficients, dtype=np.float64) if not isinstance(coefficients, str) else np.array([np.nan])
    if phi.ndim != 1 or phi.size < 1 or not np.isfinite(phi).all():
        raise ValueError(f"coefficients: expected a non-empty 1-D list of finite AR coefficients, got {coefficients!r}")
    dtype = _checks.check_dtype(dtype)
    p = phi.size
    M = np.zeros((p, p))
    M[0] = phi
    M[1:, :-1] = np.eye(p - 1)
    radius = float(np.max(np.abs(np.linalg.eigvals(M))))
    if radius >= 1:
        raise ValueError(f"coefficients: expected a stationary AR(p) (companion spectral radius < 1), "
                         f"got {phi.tolist()} with spectral radius {radius:.4g}")
    e1 = np.eye(p)[0]
    return _process(*(jnp.asarray(t, dtype) for t in (M, e1, e1)))


def _check_process(process) -> tuple:
    try:
        ssm, E = process
    except (TypeError, ValueError):
        raise ValueError(f"process: expected Process(ssm, innovation), got {type(process).__name__}") from None
    A, B, C = _check_ssm(ssm)
    E = _checks.as_float_array(E, "process.innovation")
    if E.shape != B.shape:
        raise ValueError(f"process.innovation: expected shape {tuple(B.shape)}, got {tuple(E.shape)}")
    _checks.check_finite(E, "process.innovation")
    return A + jnp.outer(B, C), C, E


def stationary_lag1(process: Process) -> float:
    r"""Stationary lag-1 autocorrelation :math:`\rho_1 = C^\top M P C / C^\top P C` (float64 numpy).

    :math:`P` is the stationary state covariance, the solution of the discrete Lyapunov equation
    :math:`P = M P M^\top + E E^\top` (solved as a linear system in :math:`\mathrm{vec}\,P`).
    Needs a stable closed loop (spectral radius of :math:`M` below 1).
    """
    M, C, E = (np.asarray(t, np.float64) for t in _check_process(process))
    radius = float(np.max(np.abs(np.linalg.eigvals(M))))
    if radius >= 1:
        raise ValueError(f"process: expected a stable closed loop (spectral radius < 1), got {radius:.4g}")
    N = M.shape[0]
    P = np.linalg.solve(np.eye(N * N) - np.kron(M, M), np.outer(E, E).ravel()).reshape(N, N)
    var = float(C @ P @ C)
    if not var > 0:
        raise ValueError("process: the observed series has zero stationary variance (C or the innovation is zero)")
    return float(C @ M @ P @ C) / var


def process_series(process: Process, length: int, key: jax.Array, *, burn_in: int = 500) -> Float[Array, " length"]:
    r"""The series :math:`u_k = C^\top h_k`, :math:`h_{k+1} = M h_k + E\,\xi_k`, :math:`\xi_k \sim N(0,1)`.

    Starts at :math:`h = 0` and discards the first ``burn_in`` steps (then close to the
    stationary law for a stable :math:`M`). Runs under :func:`jax.lax.scan`.
    """
    M, C, E = _check_process(process)
    length = _checks.check_positive(length, "length", integer=True)
    burn_in = _checks.check_positive(burn_in, "burn_in", integer=True, zero_ok=True)
    xi = jax.random.normal(_checks.check_key(key), (burn_in + length,), M.dtype)

    def step(h, x):
        return M @ h + E * x, C @ h

    _, u = jax.lax.scan(step, jnp.zeros_like(C), xi)
    return _check_series(u[burn_in:], length, "the closed loop M is unstable")


def residual_series(increments: Float[Array, " T"], start: float = 0.0) -> Float[Array, " T"]:
    r"""A *residual* SSM: :math:`u_{k+1} = u_k + \delta_{k+1}`, :math:`\delta_k = C^\top h_k` an SSM's output.

    Returns :math:`u_k = u_0 + \sum_{j \le k} \delta_j` (``start`` :math:`u_0`). The next value
    is the last value plus an increment, which is what makes :math:`x_d` the residual feature:
    :math:`y - x_d = \delta` is the SSM part. The increments come from :func:`process_series` or
    :func:`ssm_series`; the sum is nonstationary (integrated), so its sample lag-1
    autocorrelation stays high even on short stretches: 0.89 on average over draws of 32 values
    with :data:`DEFAULT_FAMILY`'s increments (docs/data.md; tests).
    """
    increments = _checks.as_float_array(increments, "increments")
    if increments.ndim != 1 or increments.shape[0] < 1:
        raise ValueError(f"increments: expected a non-empty 1-D series, got shape {tuple(increments.shape)}")
    _checks.check_finite(increments, "increments")
    return start + jnp.cumsum(increments)


FAMILIES = ("residual", "slow_modes", "oscillation", "trend_seasonal", "ar", "haar")
"""Named synthetic families of :func:`family_series`; ``"haar"`` is :func:`random_stable_ssm`."""

DEFAULT_FAMILY = ("residual", {"state_dim": 4, "r_lo": 0.9, "r_hi": 0.99})
"""The toolkit's default family and its options (chosen in docs/data.md).

On n = 24 windows of length d = 8 (32 z-scored values), over 20 draws: lag-1 autocorrelation 0.89
on average (at least 0.81), 94% of next steps sign-consistent after demeaning (at least 88%),
data-term fraction 1.00 on every draw.
"""


def family_series(family: str, length: int, key: jax.Array, **options) -> Float[Array, " length"]:
    r"""One series of ``length`` values from a named family (:data:`FAMILIES`).

    ``"residual"``: :func:`residual_series` of :func:`slow_modes` increments (options
    ``state_dim``, ``r_lo``, ``r_hi``); ``"slow_modes"`` (same options), ``"oscillation"``
    (``frequency``, ``damping``), ``"trend_seasonal"`` (the options of :func:`trend_seasonal`),
    ``"ar"`` (``coefficients``): :func:`process_series` (option ``burn_in``); ``"haar"``:
    :func:`ssm_series` of :func:`random_stable_ssm` (``state_dim``, ``radius``) from
    :math:`h_1 \sim N(0, I)`.
    """
    if family not in FAMILIES:
        raise ValueError(f"family: expected one of {FAMILIES}, got {family!r}")
    k1, k2 = jax.random.split(_checks.check_key(key))
    burn = {"burn_in": options.pop("burn_in")} if "burn_in" in options else {}
    try:
        if family == "haar":
            ssm = random_stable_ssm(k1, options.get("state_dim", 6), radius=options.get("radius", 1.0))
            extra = set(options) - {"state_dim", "radius"}
            if extra:
                raise TypeError(f"unexpected options {sorted(extra)}")
            return ssm_series(ssm, length, jax.random.normal(k2, ssm.B.shape, ssm.B.dtype))
        if family in ("residual", "slow_modes"):
            proc = slow_modes(k1, **options)
        elif family == "oscillation":
            proc = damped_oscillation(**options)
        elif family == "trend_seasonal":
            proc = trend_seasonal(**options)
        else:
            proc = ar_process(**options)
    except TypeError as err:
        raise ValueError(f"options: bad option for family {family!r} ({err})") from None
    u = process_series(proc, length, k2, **burn)
    return residual_series(u) if family == "residual" else u


# ----------------------------------------------------------------------------------------------
# windows and the statistics that say whether data looks like forecasting data


def series_windows(series: Float[Array, " T"], d: int, n: int | None = None, *, stride: int = 1
                   ) -> tuple[Float[Array, "n d"], Float[Array, " n"]]:
    r"""Windows :math:`x_i = (u_{s i + 1}, \dots, u_{s i + d})`, targets :math:`y_i = u_{s i + d + 1}`.

    ``stride`` :math:`s` between window starts; the first ``n`` windows (all that fit when
    ``None``: :math:`\lfloor (T - d - 1)/s \rfloor + 1`). With ``stride=1`` these are the windows
    of :func:`next_step_windows`.
    """
    series = _checks.as_float_array(series, "series")
    if series.ndim != 1:
        raise ValueError(f"series: expected a 1-D series, got shape {tuple(series.shape)}")
    d = _checks.check_positive(d, "d", integer=True)
    if d < 2:
        raise ValueError(f"d: expected window length d >= 2, got {d}")
    stride = _checks.check_positive(stride, "stride", integer=True)
    T = series.shape[0]
    if T < d + 1:
        raise ValueError(f"series: expected length >= d + 1 = {d + 1} for one window, got {T}")
    fit = (T - d - 1) // stride + 1
    if n is None:
        n = fit
    n = _checks.check_positive(n, "n", integer=True)
    if n > fit:
        raise ValueError(f"n: expected at most {fit} windows (series of length {T}, d = {d}, stride = {stride}), got {n}")
    _checks.check_finite(series, "series")
    starts = stride * jnp.arange(n)
    return series[starts[:, None] + jnp.arange(d)[None, :]], series[starts + d]


def lag1_autocorrelation(series: Float[Array, " T"]) -> Float[Array, ""]:
    r"""Sample lag-1 autocorrelation :math:`\hat\rho_1 = \sum_{k<T}(u_k-\bar u)(u_{k+1}-\bar u) / \sum_k (u_k-\bar u)^2`.

    The usual (biased, Box–Jenkins) estimator: both sums use the full-series mean
    :math:`\bar u`. A constant series is refused (the ratio is 0/0).
    """
    u = _checks.as_float_array(series, "series")
    if u.ndim != 1 or u.shape[0] < 2:
        raise ValueError(f"series: expected a 1-D series of length >= 2, got shape {tuple(u.shape)}")
    _checks.check_finite(u, "series")
    c = u - u.mean()
    den = jnp.sum(c * c)
    if _checks.is_concrete(den) and not float(den) > 0:
        raise ValueError("series: expected a non-constant series, got one whose values are all equal")
    return jnp.sum(c[:-1] * c[1:]) / den


def sign_consistent_fraction(X: Float[Array, "n d"], y: Float[Array, " n"], demean: bool = True) -> Float[Array, ""]:
    r"""Fraction of windows with :math:`\mathrm{sign}(y_i - c) = \mathrm{sign}(x_{i,d} - c)`.

    :math:`c` is the mean of every entry of ``X`` when ``demean`` (the series level), else 0
    (then this is the mean of :func:`sign_consistent`).
    """
    X = _checks.check_windows(X)
    y = _checks.check_targets(y, X.shape[0])
    c = X.mean() if demean else 0.0
    return jnp.mean(sign_consistent(X - c, y - c).astype(X.dtype))


def corr_y_xd(X: Float[Array, "n d"], y: Float[Array, " n"]) -> Float[Array, ""]:
    r"""Pearson correlation of the targets with the last value, :math:`\mathrm{corr}(y_i, x_{i,d})`."""
    X = _checks.check_windows(X)
    y = _checks.check_targets(y, X.shape[0])
    a, b = X[:, -1] - X[:, -1].mean(), y - y.mean()
    den = jnp.sqrt(jnp.sum(a * a) * jnp.sum(b * b))
    if _checks.is_concrete(den) and not float(den) > 0:
        raise ValueError("X, y: the correlation needs x_d and y that vary across windows; one of them is constant")
    return jnp.sum(a * b) / den


def data_term_fraction(params, X: Float[Array, "n d"], y: Float[Array, " n"]) -> Float[Array, ""]:
    r"""Fraction of neurons with a positive data term :math:`\sum_i x_{i,d} V_r(x_i)\, y_i > 0`.

    At :math:`t = 0` (:math:`f \approx 0`) the gradient step on :math:`w_r` is
    :math:`\eta m^{-1/2} a_r \sum_i x_{i,d} V_r(x_i)(y_i - f_i)` (docs/theory.md): the data term
    pushes :math:`w_r` toward :math:`a_r` exactly when this sum is positive, so a fraction near 1
    means the mechanism of asymmetric learning is active on the data. :math:`V_r` is the softmax
    variance of :func:`ntk_attention.model.softmax_moments`.
    """
    w, _ = _checks.check_params(params)
    X = _checks.check_windows(X)
    y = _checks.check_targets(y, X.shape[0])
    V = softmax_moments(w, X).variance
    term = (X[:, -1] * y) @ V
    return jnp.mean((term > 0).astype(V.dtype))
