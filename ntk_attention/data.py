r"""State-space data (seed §2.2): series, next-step windows, sign-consistent splits.

.. math::

    h_{k+1} = A h_k + B u_k \in \mathbb R^N, \qquad u_{k+1} = C^\top h_{k+1},

equivalently :math:`u_k = \sum_{\kappa<k} K_{k-\kappa} u_\kappa + G_k h_1` with
:math:`K_k = C^\top A^{k-1} B` and :math:`G_k = C^\top A^{k-1}` (so :math:`u_1 = C^\top h_1`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from ntk_attention import _checks
from ntk_attention.model import softmax_moments
from ntk_attention.processes import (
    DEFAULT_FAMILY,
    FAMILIES,
    Process,
    ar_process,
    damped_oscillation,
    family_series,
    process_series,
    residual_series,
    slow_modes,
    stationary_lag1,
    trend_seasonal,
)
from ntk_attention.ssm import SERIES_METHODS, SSM, random_stable_ssm, ssm_series

__all__ = [
    "SERIES_METHODS",
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


def next_step_windows(
    series: Float[Array, " T"],
    d: int,
    *,
    noise_std: float = 0.0,
    key: jax.Array | None = None,
) -> tuple[Float[Array, "n d"], Float[Array, " n"]]:
    r"""Sliding windows :math:`x_i = (u_{i}, \dots, u_{i+d-1})`, targets
    :math:`y_i = u_{i+d} + \varepsilon_i`.

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
        raise ValueError(
            f"series: expected length >= d + 1 = {d + 1} for one window, got {series.shape[0]}"
        )
    _checks.check_finite(series, "series")
    noise_std = _checks.check_positive(noise_std, "noise_std", zero_ok=True)
    n = series.shape[0] - d
    X = series[jnp.arange(n)[:, None] + jnp.arange(d)[None, :]]
    y = series[d:]
    if noise_std > 0:
        if key is None:
            raise ValueError(
                "key: noise_std > 0 needs a PRNG key for the observation noise, got None"
            )
        y = y + noise_std * jax.random.normal(_checks.check_key(key), y.shape, y.dtype)
        if _checks.is_concrete(y) and not bool(jnp.isfinite(y).all()):
            raise ValueError(f"noise_std: {noise_std!r} times a normal draw overflows {y.dtype}")
    return X, y


def sign_consistent(X: Float[Array, "n d"], y: Float[Array, " n"]) -> Bool[Array, " n"]:
    r"""Mask of sign-consistent examples, :math:`\mathrm{sign}(y_i) = \mathrm{sign}(x_{i,d})`."""
    X = _checks.check_windows(X)
    y = _checks.check_targets(y, X.shape[0])
    if _checks.is_concrete(X) and _checks.is_concrete(
        y
    ):  # numpy: XLA on CPU flushes subnormals to 0
        return jnp.asarray(
            np.sign(np.asarray(y, np.float64)) == np.sign(np.asarray(X, np.float64)[:, -1])
        )
    return jnp.sign(y) == jnp.sign(X[:, -1])


# ----------------------------------------------------------------------------------------------
# windows and the statistics that say whether data looks like forecasting data


def series_windows(
    series: Float[Array, " T"], d: int, n: int | None = None, *, stride: int = 1
) -> tuple[Float[Array, "n d"], Float[Array, " n"]]:
    r"""Windows :math:`x_i = (u_{s i + 1}, \dots, u_{s i + d})`, targets
    :math:`y_i = u_{s i + d + 1}`.

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
        raise ValueError(
            f"n: expected at most {fit} windows "
            f"(series of length {T}, d = {d}, stride = {stride}), got {n}"
        )
    _checks.check_finite(series, "series")
    starts = stride * jnp.arange(n)
    return series[starts[:, None] + jnp.arange(d)[None, :]], series[starts + d]


def lag1_autocorrelation(series: Float[Array, " T"]) -> Float[Array, ""]:
    r"""Sample lag-1 autocorrelation :math:`\hat\rho_1 = \sum_{k<T}(u_k-\bar u)(u_{k+1}-\bar u) /
    \sum_k (u_k-\bar u)^2`.

    The usual (biased, Box–Jenkins) estimator: both sums use the full-series mean
    :math:`\bar u`. A constant series is refused (the ratio is 0/0).
    """
    u = _checks.as_float_array(series, "series")
    if u.ndim != 1 or u.shape[0] < 2:
        raise ValueError(
            f"series: expected a 1-D series of length >= 2, got shape {tuple(u.shape)}"
        )
    _checks.check_finite(u, "series")
    c = u - u.mean()
    den = jnp.sum(c * c)
    if _checks.is_concrete(den) and not float(den) > 0:
        raise ValueError(
            "series: expected a non-constant series, got one whose values are all equal"
        )
    return jnp.sum(c[:-1] * c[1:]) / den


def sign_consistent_fraction(
    X: Float[Array, "n d"], y: Float[Array, " n"], demean: bool = True
) -> Float[Array, ""]:
    r"""Fraction of windows with :math:`\mathrm{sign}(y_i - c) = \mathrm{sign}(x_{i,d} - c)`.

    :math:`c` is the mean of every entry of ``X`` when ``demean`` (the series level), else 0
    (then this is the mean of :func:`sign_consistent`).
    """
    X = _checks.check_windows(X)
    y = _checks.check_targets(y, X.shape[0])
    c = X.mean() if demean else 0.0
    return jnp.mean(sign_consistent(X - c, y - c).astype(X.dtype))


def corr_y_xd(X: Float[Array, "n d"], y: Float[Array, " n"]) -> Float[Array, ""]:
    r"""Pearson correlation of the targets with the last value,
    :math:`\mathrm{corr}(y_i, x_{i,d})`."""
    X = _checks.check_windows(X)
    y = _checks.check_targets(y, X.shape[0])
    a, b = X[:, -1] - X[:, -1].mean(), y - y.mean()
    den = jnp.sqrt(jnp.sum(a * a) * jnp.sum(b * b))
    if _checks.is_concrete(den) and not float(den) > 0:
        raise ValueError(
            "X, y: the correlation needs x_d and y that vary across windows; "
            "one of them is constant"
        )
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
