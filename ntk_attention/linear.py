r"""The residual linear network of Proposition 6.3.

.. math::

    f_{\mathrm{lin}}(x) = \langle w_{\mathrm{lin}}, x - x_d 1_d \rangle + x_d .

The last coordinate of :math:`x - x_d 1_d` is zero, so :math:`w_{\mathrm{lin},d}` never matters;
the fitted weights keep it at 0.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ntk_attention import _checks
from ntk_attention.stability import stability_limit

__all__ = ["linear_forward", "fit_linear_lstsq", "fit_linear_gd"]


def _residual_features(X):
    return X - X[:, -1:]


def linear_forward(w_lin: Float[Array, " d"], X: Float[Array, "n d"]) -> Float[Array, " n"]:
    r""":math:`f_{\mathrm{lin}}(x_i) = \langle w_{\mathrm{lin}}, x_i - x_{i,d}1_d\rangle +
    x_{i,d}`."""
    X = _checks.check_windows(X)
    w_lin = _checks.as_float_array(w_lin, "w_lin")
    if w_lin.shape != (X.shape[1],):
        raise ValueError(
            f"w_lin: expected shape ({X.shape[1]},) to match windows of length d, "
            f"got {tuple(w_lin.shape)}"
        )
    _checks.check_finite(w_lin, "w_lin")
    dtype = jnp.result_type(w_lin, X)
    _checks.check_scale(
        "w_lin, X",
        _checks.max_abs(X) * (1.0 + _checks.max_abs(w_lin)),
        dtype,
        power=1,
        terms=2.0 * X.shape[1],
        what="<w_lin, x - x_d 1> + x_d",
    )
    X, w_lin = (
        X.astype(dtype),
        w_lin.astype(dtype),
    )  # mixed dtypes: compute in the wider one throughout
    return _residual_features(X) @ w_lin + X[:, -1]


def fit_linear_lstsq(X: Float[Array, "n d"], y: Float[Array, " n"]) -> Float[Array, " d"]:
    r"""Least squares :math:`\min_w \sum_i (f_{\mathrm{lin}}(x_i) - y_i)^2`, minimum-norm
    solution."""
    X = _checks.check_windows(X)
    y = _checks.check_targets(y, X.shape[0])
    _checks.check_scale(
        "X, y",
        _checks.max_abs(X, y),
        jnp.result_type(X, y),
        power=2,
        terms=4.0 * X.shape[0] * X.shape[1],
        what="the squared residual |Z w - (y - x_d)|^2",
    )
    Z = _residual_features(X)[:, :-1]
    w, *_ = jnp.linalg.lstsq(Z, y - X[:, -1])
    if _checks.is_concrete(w) and not bool(
        jnp.isfinite(w).all()
    ):  # |w| ~ |y - x_d| / |Z| beyond the dtype
        raise ValueError(
            f"X, y: the least-squares weights overflow {w.dtype}: "
            f"targets y - x_d up to {_checks.max_abs(y - X[:, -1]):.3g} "
            f"against window differences x_k - x_d up to {_checks.max_abs(Z):.3g}; rescale X or y"
        )
    return jnp.concatenate([w, jnp.zeros((1,), w.dtype)])


@functools.partial(jax.jit, static_argnames="steps")
def _gd(X, y, lr, steps):
    Z = _residual_features(X)
    r0 = y - X[:, -1]

    def step(w, _):
        return w - lr * (Z.T @ (Z @ w - r0)), None

    w, _ = jax.lax.scan(step, jnp.zeros(X.shape[1], X.dtype), None, length=steps)
    return w


def fit_linear_gd(
    X: Float[Array, "n d"], y: Float[Array, " n"], *, steps: int, learning_rate: float
) -> Float[Array, " d"]:
    r"""Gradient descent from :math:`w = 0` on
    :math:`\frac12\sum_i (f_{\mathrm{lin}}(x_i) - y_i)^2`.

    Converges to the least-squares solution when ``learning_rate < 2 / λ_max(Z^T Z)``,
    :math:`Z = X - x_d 1^\top`.
    """
    X = _checks.check_windows(X)
    y = _checks.check_targets(y, X.shape[0])
    steps = _checks.check_positive(steps, "steps", integer=True)
    lr = _checks.check_positive(learning_rate, "learning_rate")
    _checks.check_scale(
        "X, y",
        _checks.max_abs(X, y),
        X.dtype,
        power=2,
        terms=4.0 * X.shape[0] * X.shape[1],
        what="the gradient Z^T (Z w - r)",
    )
    w = _gd(X, y.astype(X.dtype), jnp.asarray(lr, X.dtype), steps)
    if _checks.is_concrete(w) and not bool(jnp.isfinite(w).all()):
        Z = np.asarray(_residual_features(X), np.float64)
        limit = stability_limit(np.linalg.eigvalsh(Z.T @ Z).max())
        raise ValueError(
            f"learning_rate: gradient descent diverged to non-finite weights within {steps} steps; "
            f"{lr!r} is past the stability limit 2/λ_max(Z^T Z) = {limit:.3g}"
        )
    return w
