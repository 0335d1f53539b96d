r"""The shared state-space data set every claim trains on (docs/theory.md, "Data").

The data: a random stable SSM (:func:`ntk_attention.data.random_stable_ssm`, closed-loop
spectral norm ``radius``). A window is :math:`x = (u_{b+1}, \dots, u_{b+d})` with target
:math:`y = u_{b+d+1}` (+ noise :math:`N(0, \sigma_\varepsilon^2)` when ``noise_std > 0``), ``b`` the
burn-in. Two ways to take windows (``[data] windows``):

* ``"independent"`` (default): every window comes from its own initial state
  :math:`h_1 \sim N(0, I_N)`, so windows are i.i.d. draws of one representation pattern. A stable
  SSM's single series decays geometrically (with ``radius = 1`` its amplitude typically falls 100×
  within a hundred steps), so the later windows of one series are near zero and a risk
  :math:`E[(f(x)-y)^2]` measured on them says nothing; independent windows keep one scale;
* ``"sliding"``: consecutive windows of one series :math:`u_1, u_2, \dots` (the paper's setting literally).

Window ``i`` of the training set and of the test set draw from separate key streams
(``fold_in(key, i)``), so the first ``n`` windows are the same whatever ``n`` and the test set does
not depend on ``n``. Values are divided by one scale, the root-mean-square of a fixed reference
batch of 256 windows (``normalize``), so that :math:`B = \max|x_{i,k}|` stays near 2-3 whatever the SSM.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ntk_attention import data as ssm_data

__all__ = ["Dataset", "make_dataset", "REFERENCE_WINDOWS"]


class Dataset(NamedTuple):
    """Training windows ``X`` (n, d), targets ``y`` (n,), test windows/targets, the SSM.

    ``series`` is the sliding series (``windows = "sliding"``) or, for independent windows, the
    first window's values followed by the last one's (for display only).
    """

    X: jax.Array
    y: jax.Array
    X_test: jax.Array
    y_test: jax.Array
    series: jax.Array
    ssm: ssm_data.SSM
    noise_std: float


def _windows(ssm: ssm_data.SSM, h1s: np.ndarray, burn_in: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows ``(u_{b+1..b+d})`` and targets ``u_{b+d+1}`` of one SSM from many initial states (float64 numpy).

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
    return np.random.default_rng([*(int(v) for v in np.asarray(jax.random.key_data(key)).ravel()), *stream])


def _initial_states(key: jax.Array, stream: int, count: int, N: int) -> np.ndarray:
    """Row i is :math:`h_1 \\sim N(0, I_N)` from its own stream (key, stream, i): prefixes agree across counts."""
    return np.stack([_rng(key, stream, i).standard_normal(N) for i in range(count)]) if count else np.zeros((0, N))


_random_ssm = jax.jit(ssm_data.random_stable_ssm, static_argnums=1, static_argnames=("radius", "dtype"))
"""One compiled program for the SSM draw (op-by-op dispatch would compile each operation)."""

REFERENCE_WINDOWS = 256


def make_dataset(data_cfg: dict, key: jax.Array, *, n: int, n_test: int = 0, noise_std: float = 0.0,
                 dtype=None) -> Dataset:
    """``n`` training and ``n_test`` test windows of one SSM (see the module docstring)."""
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
        u = np.asarray(ssm_data.ssm_series(ssm, length, jnp.asarray(_initial_states(k_h, 0, 1, N)[0])), np.float64)[b:]
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
        raise ValueError("data: the SSM series overflowed (radius too large for this length); lower [data] radius or burn_in")
    X, y, X_test, y_test, series = (jnp.asarray(t, dtype) for t in (X, y, X_test, y_test, series))
    return Dataset(X, y, X_test, y_test, series, ssm, float(noise_std))
