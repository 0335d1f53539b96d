r"""The kernel-regime (linearised) model at any time, from the spectrum of the NTK.

Linearising :math:`f` around :math:`w(0)`, :math:`f^{lin}(w) = f_0 + J (w - w_0)` with
:math:`J = \partial f/\partial w` at :math:`w_0` (:func:`ntk_attention.jacobian`) and
:math:`H = J J^\top = U \Lambda U^\top` (:math:`J = U S V^\top`, :math:`\Lambda = S^2`), gradient
descent on :math:`L = \frac12\sum_i (f_i - y_i)^2` with step :math:`\eta` gives, for integer
:math:`t \ge 0` (the kernel regime: Jacot et al. 2018; Lee et al. 2019, eq. 9),

.. math::

    f(t) - y = U\, g(t)\, U^\top (f_0 - y),\qquad
    w(t) = w_0 - V\, S^{+} (1 - g(t))\, U^\top (f_0 - y),

with :math:`g_i(t) = (1 - \eta\lambda_i)^t` (gradient flow: :math:`g_i(t) = e^{-t\lambda_i}`).
Directions with :math:`\lambda_i` at or below the numerical cut carry no change
(:math:`g_i = 1`, :math:`S^+_{ii} = 0`): exact for a singular :math:`H`. Powers are taken as
:math:`\mathrm{sign}\cdot e^{t \log|1-\eta\lambda_i|}` so that :math:`t` up to :math:`10^{15}` is
one exponential, and :math:`|1-\eta\lambda_i| > 1` (divergence) grows exactly, with the sign of
:math:`(1-\eta\lambda_i)^t` from the parity of :math:`t`. The loss is the modal sum
:math:`L(t) = \frac12\sum_i g_i(t)^2 c_i^2`, :math:`c = U^\top(f_0 - y)`, and ``log_loss`` its
logarithm, finite even where :math:`L` overflows.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ntk_attention import _checks
from ntk_attention.model import Params, forward
from ntk_attention.ntk import jacobian

__all__ = ["Linearized", "predict", "predict_kernel"]


class Linearized(NamedTuple):
    r"""The linearised model at times ``t`` (T of them), n outputs, m weights.

    ``t`` (T,); ``f`` (T, n) :math:`f(t)`; ``w`` (T, m) :math:`w(t)` or ``None`` (kernel given as a
    matrix); ``loss`` (T,) :math:`\frac12\|f(t)-y\|^2` (``inf`` past float range when diverging);
    ``log_loss`` (T,) :math:`\log L(t)` (``-inf`` at zero loss); ``eigenvalues`` (n,) of the kernel,
    ascending; ``cut`` the absolute eigenvalue at or below which a direction is treated as null;
    ``rcond`` the relative cut used (``cut = (rcond\, s_{max})^2`` from :math:`J`'s singular
    values, or ``rcond * lambda_max`` for a kernel matrix); ``rank`` the number of directions kept;
    ``stable`` whether every kept direction has :math:`|1-\eta\lambda_i| \le 1` (flow: always).
    """

    t: Float[Array, " T"]
    f: Float[Array, "T n"]
    w: Float[Array, "T m"] | None
    loss: Float[Array, " T"]
    log_loss: Float[Array, " T"]
    eigenvalues: Float[Array, " n"]
    cut: Float[Array, ""]
    rcond: float
    rank: Int[Array, ""]
    stable: Bool[Array, ""]


def _log_factor(lam, lr, keep):
    """(log|1 - eta lam|, sign of (1 - eta lam), zero) per mode; flow when ``lr`` is None:
    (-lam, +1)."""
    if lr is None:
        return jnp.where(keep, -lam, 0.0), jnp.ones_like(lam), jnp.zeros_like(lam, dtype=bool)
    base = 1.0 - lr * lam
    zero = keep & (base == 0)
    logb = jnp.where(keep & ~zero, jnp.log(jnp.abs(jnp.where(zero, 1.0, base))), 0.0)
    # log|1 - eta lam| by log1p where it is accurate (eta lam small): no loss of the tiny rates
    logb = jnp.where(keep & (lr * lam < 0.5), jnp.log1p(-lr * lam), logb)
    return logb, jnp.where(keep & (base < 0), -1.0, 1.0), zero


def _modal(t, logb, sign, zero, c):
    """g (T, n) and log|g c| (T, n) for every time and mode."""
    tt = t[:, None]
    odd = jnp.mod(tt, 2.0) == 1.0
    sgn = jnp.where(odd & (sign[None, :] < 0), -1.0, 1.0)
    expo = jnp.where(zero[None, :], jnp.where(tt == 0, 0.0, -jnp.inf), tt * logb[None, :])
    g = sgn * jnp.exp(expo)
    with_c = jnp.where(
        c[None, :] == 0, -jnp.inf, expo + jnp.log(jnp.abs(jnp.where(c == 0, 1.0, c)))[None, :]
    )
    return g, with_c


def _loss_terms(gc, log_gc):
    loss = 0.5 * jnp.sum(gc * gc, axis=-1)
    log_loss = jax.scipy.special.logsumexp(2.0 * log_gc, axis=-1) + jnp.log(0.5)
    return loss, log_loss


@jax.jit
def _predict_impl(J, f0, y, w0, t, lr, rcond):
    U, s, Vt = jnp.linalg.svd(J, full_matrices=False)  # s descending, U (n, k), k = min(n, m)
    s_cut = rcond * s[0]
    keep = s > s_cut
    lam = s * s
    c_full = U.T @ (f0 - y)
    logb, sign, zero = _log_factor(lam, lr, keep)
    g, log_gc = _modal(t, logb, sign, zero, c_full)
    gc = g * c_full[None, :]
    # residual outside range(U) (n > m): untouched by training
    r_out = (f0 - y) - U @ c_full
    f = y[None, :] + gc @ U.T + r_out[None, :]
    inv_s = jnp.where(keep, 1.0 / jnp.where(keep, s, 1.0), 0.0)
    dw = ((1.0 - g) * (inv_s * c_full)[None, :]) @ Vt
    w = w0[None, :] - dw
    loss, log_loss = _loss_terms(gc, log_gc)
    out2 = jnp.sum(r_out * r_out)
    loss = loss + 0.5 * out2
    log_loss = jnp.logaddexp(log_loss, jnp.log(0.5 * out2))
    lam_all = jnp.sort(jnp.concatenate([lam, jnp.zeros(J.shape[0] - lam.shape[0], lam.dtype)]))
    stable = jnp.all(~keep | (lr * lam <= 2.0)) if lr is not None else jnp.asarray(True)
    return f, w, loss, log_loss, lam_all, s_cut * s_cut, jnp.sum(keep), stable


@jax.jit
def _kernel_impl(H, f0, y, t, lr, rcond):
    lam, U = jnp.linalg.eigh(0.5 * (H + H.T))
    cut = rcond * jnp.maximum(lam[-1], 0.0)
    keep = lam > cut
    c = U.T @ (f0 - y)
    logb, sign, zero = _log_factor(lam, lr, keep)
    g, log_gc = _modal(t, logb, sign, zero, c)
    gc = g * c[None, :]
    f = y[None, :] + gc @ U.T
    loss, log_loss = _loss_terms(gc, log_gc)
    stable = jnp.all(~keep | (lr * lam <= 2.0)) if lr is not None else jnp.asarray(True)
    return f, loss, log_loss, lam, cut, jnp.sum(keep), stable


def _check_times(t, dtype, discrete: bool):
    if not _checks.is_concrete(t):  # under jit: shapes only
        if jnp.ndim(t) != 1:
            raise ValueError(
                f"t: expected a non-empty 1-D array of times, got shape {jnp.shape(t)}"
            )
        return jnp.asarray(t, dtype)
    t = (
        np.asarray(t, dtype=np.float64)
        if not hasattr(t, "dtype") or jnp.issubdtype(t.dtype, jnp.integer)
        else np.asarray(t)
    )
    if t.ndim != 1 or t.size < 1:
        raise ValueError(f"t: expected a non-empty 1-D array of times, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError(
            f"t: expected finite non-negative times, got min {np.min(t)!r}, max {np.max(t)!r}"
        )
    if discrete and np.any(t != np.round(t)):
        raise ValueError(
            "t: expected whole numbers of gradient steps (learning_rate given), "
            f"got {t[t != np.round(t)][0]!r}"
        )
    if discrete and np.max(t) > 2.0**53:
        raise ValueError(
            f"t: expected step counts <= 2**53 (exact parity in float64), got {np.max(t)!r}"
        )
    return jnp.asarray(t, dtype)


def _check_rate_and_rcond(learning_rate, rcond, default):
    lr = None if learning_rate is None else _checks.check_positive(learning_rate, "learning_rate")
    if rcond is None:
        rcond = default
    else:
        rcond = _checks.check_positive(rcond, "rcond", zero_ok=True)
        if rcond >= 1:
            raise ValueError(f"rcond: expected a relative cut in [0, 1), got {rcond!r}")
    return lr, float(rcond)


def predict(
    params: Params,
    X: Float[Array, "n d"],
    y: Float[Array, " n"],
    t,
    *,
    learning_rate: float | None = None,
    kernel: Float[Array, "n n"] | None = None,
    rcond: float | None = None,
    chunk_size: int | None = None,
) -> Linearized:
    r"""Linearised training of the network ``params`` on ``(X, y)`` at times ``t``.

    Gradient descent with step ``learning_rate`` (``t`` whole steps) or gradient flow
    (``learning_rate=None``), with :math:`H(0) = J J^\top` from the closed-form Jacobian at
    ``params``; see the module docstring for the formulas. ``rcond`` (default
    :math:`\max(n, m)\,\epsilon`) cuts singular values of :math:`J` at ``rcond * s_max``.
    With ``kernel`` (an (n, n) PSD matrix, e.g. :math:`H^*` from
    :func:`ntk_attention.infinite_ntk`) the outputs follow that kernel from :math:`f_0 = f(X; w_0)`
    and ``w`` is ``None`` (see :func:`predict_kernel`). Computation is in the dtype of ``params``
    and ``X`` (enable x64 for float64).

    >>> import jax, jax.numpy as jnp
    >>> from ntk_attention import init_params
    >>> p = init_params(jax.random.key(0), 64)
    >>> X = jax.random.normal(jax.random.key(1), (4, 3)); y = X[:, -1]
    >>> lin = predict(p, X, y, jnp.array([0.0, 10.0, 1e12]), learning_rate=0.1)
    >>> lin.f.shape, lin.w.shape, lin.loss.shape
    ((3, 4), (3, 64), (3,))
    >>> jitted = jax.jit(lambda p_, t_: predict(p_, X, y, t_, learning_rate=0.1).loss)
    >>> bool(jnp.allclose(jitted(p, jnp.array([0.0, 10.0, 1e12])), lin.loss))
    True
    """
    w0, a = _checks.check_params(params)
    X = _checks.check_windows(X)
    y = _checks.check_targets(y, X.shape[0])
    dtype = jnp.result_type(w0, X)
    f0 = forward(params, X, chunk_size=chunk_size).astype(dtype)
    y = y.astype(dtype)
    if kernel is not None:
        return predict_kernel(kernel, f0, y, t, learning_rate=learning_rate, rcond=rcond)
    n, m = X.shape[0], w0.shape[0]
    lr, rc = _check_rate_and_rcond(learning_rate, rcond, max(n, m) * float(jnp.finfo(dtype).eps))
    tt = _check_times(t, dtype, lr is not None)
    J = jacobian(params, X, chunk_size=chunk_size).astype(dtype)
    f, w, loss, log_loss, lam, cut, rank, stable = _predict_impl(
        J,
        f0,
        y,
        w0.astype(dtype),
        tt,
        None if lr is None else jnp.asarray(lr, dtype),
        jnp.asarray(rc, dtype),
    )
    return Linearized(tt, f, w, loss, log_loss, lam, cut, rc, rank, stable)


def predict_kernel(
    H: Float[Array, "n n"],
    f0: Float[Array, " n"],
    y: Float[Array, " n"],
    t,
    *,
    learning_rate: float | None = None,
    rcond: float | None = None,
) -> Linearized:
    r"""Outputs and loss of kernel gradient descent :math:`f(t) - y = (I - \eta H)^t (f_0 - y)`.

    Gradient flow (:math:`e^{-tH}`) when ``learning_rate`` is ``None``. ``H`` is symmetrised,
    eigenvalues at or below ``rcond * lambda_max`` (default :math:`n\,\epsilon`) are null
    directions. ``w`` is ``None`` in the result (a kernel has no weights).
    """
    H = _checks.as_float_array(H, "H")
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] < 1:
        raise ValueError(
            f"H: expected a non-empty square matrix (n, n), got shape {tuple(H.shape)}"
        )
    _checks.check_finite(H, "H")
    n = H.shape[0]
    f0 = _checks.as_float_array(f0, "f0")
    if f0.shape != (n,):
        raise ValueError(f"f0: expected shape ({n},) to match H, got shape {tuple(f0.shape)}")
    _checks.check_finite(f0, "f0")
    y = _checks.check_targets(y, n)
    dtype = jnp.result_type(H, f0, y)
    lr, rc = _check_rate_and_rcond(learning_rate, rcond, n * float(jnp.finfo(dtype).eps))
    tt = _check_times(t, dtype, lr is not None)
    f, loss, log_loss, lam, cut, rank, stable = _kernel_impl(
        H.astype(dtype),
        f0.astype(dtype),
        y.astype(dtype),
        tt,
        None if lr is None else jnp.asarray(lr, dtype),
        jnp.asarray(rc, dtype),
    )
    return Linearized(tt, f, None, loss, log_loss, lam, cut, rc, rank, stable)
