r"""Jacobian and empirical NTK :math:`H(t)` (the infinite-width :math:`H^*`: infinite.py).

With :math:`V_r(x)` the softmax-weighted variance of the window (see :mod:`ntk_attention.model`),

.. math::

    J_{ir} = \frac{\partial f(x_i)}{\partial w_r} = m^{-1/2} a_r x_{i,d} V_r(x_i), \qquad
    H_{ij} = \sum_r J_{ir} J_{jr} = \frac1m x_{i,d} x_{j,d} \sum_r V_r(x_i) V_r(x_j),

and :math:`H^*_{ij} = x_{i,d} x_{j,d}\, \mathbb E_{w\sim N(0,\sigma^2)}[V(x_i; w) V(x_j; w)]`
(:mod:`ntk_attention.infinite`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ntk_attention import _checks
from ntk_attention.model import (
    Params,
    _chunk_moments,
    _resolve_chunk,
    _window_stats,
    attention_weights,
    softmax_moments,
)

__all__ = ["jacobian", "empirical_ntk", "min_eigenvalue"]

NTK_METHODS = ("closed", "autodiff")


def jacobian(
    params: Params, X: Float[Array, "n d"], *, chunk_size: int | None = None
) -> Float[Array, "n m"]:
    r"""Closed-form Jacobian :math:`J_{ir} = \partial f(x_i)/\partial w_r = m^{-1/2} a_r x_{i,d}
    V_r(x_i)`."""
    w, a = _checks.check_params(params)
    X = _checks.check_windows(X)
    _checks.check_model_scale(
        w, X, jnp.result_type(w, X), power=3, terms=2.0, what="the Jacobian x_d V_r"
    )
    mom = softmax_moments(w, X, chunk_size=chunk_size)
    X = jnp.asarray(X, mom.variance.dtype)
    scale = a.astype(mom.variance.dtype) / jnp.sqrt(jnp.asarray(w.shape[0], mom.variance.dtype))
    return X[:, -1:] * mom.variance * scale[None, :]


@functools.partial(jax.jit, static_argnames=("chunk", "same"))
def _closed_ntk_impl(w, a, X, X2, chunk, same):
    m = w.shape[0]
    chunks = -(-m // chunk)
    pad = chunks * chunk - m
    wp = jnp.pad(w, (0, pad)).reshape(chunks, chunk)
    ap = jnp.pad(a, (0, pad)).reshape(chunks, chunk)  # padded neurons have a_r = 0: J = 0
    st1 = _window_stats(X)
    st2 = st1 if same else _window_stats(X2)

    def jac_chunk(wc, ac, stats, Xd):
        xc, c, cmax, cmin, _ = stats
        _, var, _ = _chunk_moments(wc, xc, c, cmax, cmin)
        return Xd[:, None] * var * ac[None, :]

    def body(H, wa):
        wc, ac = wa
        J1 = jac_chunk(wc, ac, st1, X[:, -1])
        J2 = J1 if same else jac_chunk(wc, ac, st2, X2[:, -1])
        return H + J1 @ J2.T, None

    H0 = jnp.zeros((X.shape[0], X2.shape[0]), X.dtype)
    H, _ = jax.lax.scan(body, H0, (wp, ap))
    H = H / m
    return 0.5 * (H + H.T) if same else H


@jax.jit
def _autodiff_ntk_impl(w, a, X, X2):
    def f(w_, X_):
        # independent of the closed form: jax.nn.softmax weights, then JAX reverse-mode autodiff
        s = attention_weights(Params(w_, a), X_)
        return jnp.einsum("imk,ik,m->i", s, X_, a) / jnp.sqrt(jnp.asarray(w_.shape[0], X_.dtype))

    J1 = jax.jacrev(f)(w, X)
    J2 = jax.jacrev(f)(w, X2)
    return J1 @ J2.T


def empirical_ntk(
    params: Params,
    X: Float[Array, "n d"],
    X2: Float[Array, "n2 d"] | None = None,
    *,
    method: str = "closed",
    chunk_size: int | None = None,
) -> Float[Array, "n n2"]:
    r"""Empirical NTK :math:`H_{ij} = \sum_r \partial_{w_r} f(x_i)\, \partial_{w_r} f(x'_j)`.

    ``method="closed"``: :math:`\frac1m x_{i,d}x'_{j,d}\sum_r V_r(x_i)V_r(x'_j)`, accumulated over
    neuron chunks (:math:`H = \sum_c J_c J_c^\top`), memory ``O(n n_2 + n \cdot chunk \cdot d)``.
    ``method="autodiff"``: :func:`jax.jacrev` of a plain :func:`jax.nn.softmax` forward, then
    :math:`J J'^\top` (materialises ``(n, m, d)``: small sizes only). When ``X2`` is ``None`` the
    result is symmetrised exactly.

    >>> import jax, jax.numpy as jnp
    >>> from ntk_attention import init_params
    >>> p = init_params(jax.random.key(0), 16)
    >>> X = jax.random.normal(jax.random.key(1), (3, 4))
    >>> H = empirical_ntk(p, X)
    >>> bool(jnp.allclose(H, empirical_ntk(p, X, method="autodiff"), rtol=1e-4, atol=1e-6))
    True
    """
    if not isinstance(method, str) or method not in NTK_METHODS:
        raise ValueError(f"method: expected one of {NTK_METHODS}, got {method!r}")
    w, a = _checks.check_params(params)
    X = _checks.check_windows(X)
    same = X2 is None
    X2 = X if same else _checks.check_pair(X, X2)
    dtype = jnp.result_type(w, X, X2)
    _checks.check_model_scale(
        w,
        X,
        dtype,
        power=6,
        terms=max(w.shape[0], 4 * X.shape[1] ** 2),
        what="the NTK sum_r x_d x'_d V_r V'_r",
    )
    if not same:
        _checks.check_model_scale(
            w,
            X2,
            dtype,
            power=6,
            names="params.w, X2",
            terms=max(w.shape[0], 4 * X.shape[1] ** 2),
            what="the NTK sum_r x_d x'_d V_r V'_r",
        )
    w, a, X, X2 = (t.astype(dtype) for t in (w, a, X, X2))
    if method == "autodiff":
        H = _autodiff_ntk_impl(w, a, X, X2)
        return 0.5 * (H + H.T) if same else H
    chunk = _resolve_chunk(chunk_size, max(X.shape[0], X2.shape[0]), w.shape[0], X.shape[1])
    return _closed_ntk_impl(w, a, X, X2, chunk, same)


def min_eigenvalue(H, *, rtol: float | None = None) -> float:
    r""":math:`\lambda_{\min}(H)` of a symmetric matrix, in float64 numpy (host-side).

    Under ``jit``/``vmap`` (``H`` traced) it is ``jnp.linalg.eigvalsh((H + H^T)/2)[0]`` in ``H``'s
    dtype, an array: the symmetry check below needs values, so it is skipped there.

    ``H`` must be symmetric up to rounding:
    :math:`\max_{ij}|H_{ij} - H_{ji}| \le \mathrm{rtol} \cdot \max_{ij}|H_{ij}|`, with ``rtol``
    (default) :math:`\sqrt{\varepsilon}` of ``H``'s dtype (3.5e-4 for float32, 1.5e-8 for
    float64). A larger asymmetry is refused rather than silently symmetrised (the eigenvalues of
    :math:`(H + H^\top)/2` are not those of ``H``). Within it, the result is
    :math:`\lambda_{\min}((H + H^\top)/2)`.
    """
    if not _checks.is_concrete(H):
        if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] < 1:
            raise ValueError(f"H: expected a non-empty square matrix, got shape {H.shape}")
        return jnp.linalg.eigvalsh(0.5 * H + 0.5 * H.T)[0]
    H = _checks.as_float_array(H, "H", numpy=True)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] < 1:
        raise ValueError(f"H: expected a non-empty square matrix, got shape {H.shape}")
    _checks.check_finite(H, "H")
    if rtol is None:
        rtol = float(np.sqrt(np.finfo(H.dtype).eps))
    rtol = _checks.check_positive(rtol, "rtol", zero_ok=True)
    H = H.astype(np.float64)
    skew = np.abs(0.5 * H - 0.5 * H.T)  # halves first: no overflow near max
    size = float(np.abs(H).max())
    if 2.0 * float(skew.max()) > rtol * size:
        i, j = (int(k) for k in np.unravel_index(np.argmax(skew), skew.shape))
        raise ValueError(
            "H: expected a symmetric matrix "
            f"(max|H - H^T| <= rtol * max|H| with rtol = {rtol:.2g}), got "
            f"max|H - H^T| / max|H| = {2.0 * float(skew.max()) / size:.3g} "
            f"(H[{i}, {j}] = {H[i, j]:.6g}, H[{j}, {i}] = {H[j, i]:.6g}); "
            "pass (H + H.T) / 2 yourself if the asymmetry is intended rounding"
        )
    return float(np.linalg.eigvalsh(0.5 * H + 0.5 * H.T)[0])


# ----------------------------------------------------------------------------------------------
# infinite-width NTK: a one-dimensional Gaussian expectation, in float64 numpy
