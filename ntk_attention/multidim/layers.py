r"""Tokens and attention maps of the multi-dimensional model (:mod:`ntk_attention.multidim` is the
front): patching a window into tokens and back, RoPE, vanilla and differential attention, and the
seed's printed gradient through one attention layer beside the softmax chain rule it should equal
(claim C6)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ntk_attention import _checks

__all__ = [
    "patch",
    "unpatch",
    "rope",
    "attention",
    "differential_attention",
    "attention_gradient",
    "printed_attention_gradient",
    "KINDS",
    "SOFTMAX_AXES",
]

KINDS = ("vanilla", "differential")
SOFTMAX_AXES = ("keys", "queries")


# ----------------------------------------------------------------------------------------------
# tokenisation and positions


def _patch_layout(length: int, patch_len: int, stride: int) -> tuple[int, int]:
    """(number of patches L, offset of the first patch) for patches ending at the last sample."""
    count = (length - patch_len) // stride + 1
    return count, length - patch_len - (count - 1) * stride


def patch(
    series: Float[Array, "... T"], patch_len: int, stride: int | None = None
) -> Float[Array, "... L P"]:
    r"""Split the last axis into :math:`L = \lfloor (T-P)/s\rfloor + 1` patches of length P, stride
    s.

    Token l is :math:`(x_{o+ls+1}, \dots, x_{o+ls+P})` with offset :math:`o = T - P - (L-1)s`, so
    the last patch always ends at the most recent observation :math:`x_T` (the first o samples
    are dropped when the stride does not tile the series). ``stride`` defaults to ``patch_len``
    (non-overlapping patches).

    >>> import jax.numpy as jnp
    >>> patch(jnp.arange(6.0), 2).tolist()
    [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    """
    series = _checks.as_float_array(series, "series")
    patch_len = _checks.check_positive(patch_len, "patch_len", integer=True)
    stride = patch_len if stride is None else _checks.check_positive(stride, "stride", integer=True)
    if series.ndim < 1 or series.shape[-1] < patch_len:
        raise ValueError(
            f"series: expected a last axis of length >= patch_len = {patch_len}, "
            f"got shape {tuple(series.shape)}"
        )
    return _patch_impl(series, patch_len, stride)


@functools.partial(jax.jit, static_argnames=("patch_len", "stride"))
def _patch_impl(series, patch_len, stride):
    count, offset = _patch_layout(series.shape[-1], patch_len, stride)
    idx = offset + stride * jnp.arange(count)[:, None] + jnp.arange(patch_len)[None, :]
    return series[..., idx]


def unpatch(tokens: Float[Array, "... L P"], stride: int | None = None) -> Float[Array, "... T"]:
    r"""Inverse of :func:`patch`: the covered series :math:`(x_{o+1}, \dots, x_T)`, length
    :math:`(L-1)s + P`.

    Overlapping entries (``stride < P``) are averaged, so any patching of a series is restored
    exactly; ``stride > P`` leaves gaps and is refused.
    """
    tokens = _checks.as_float_array(tokens, "tokens")
    if tokens.ndim < 2:
        raise ValueError(f"tokens: expected shape (..., L, P), got {tuple(tokens.shape)}")
    count, patch_len = tokens.shape[-2:]
    stride = patch_len if stride is None else _checks.check_positive(stride, "stride", integer=True)
    if stride > patch_len:
        raise ValueError(f"stride: expected <= patch_len = {patch_len} (no gaps), got {stride}")
    return _unpatch_impl(tokens, stride)


@functools.partial(jax.jit, static_argnames="stride")
def _unpatch_impl(tokens, stride):
    count, patch_len = tokens.shape[-2:]
    length = (count - 1) * stride + patch_len
    idx = (stride * jnp.arange(count)[:, None] + jnp.arange(patch_len)[None, :]).ravel()
    flat = tokens.reshape(*tokens.shape[:-2], count * patch_len)
    total = jnp.zeros((*tokens.shape[:-2], length), tokens.dtype).at[..., idx].add(flat)
    cover = jnp.zeros((length,), tokens.dtype).at[idx].add(1.0)
    return total / cover


def rope(
    z: Float[Array, "... L k"], positions: Float[Array, " L"], *, base: float = 10000.0
) -> Float[Array, "... L k"]:
    r"""Rotary position embedding: rotate coordinate pairs :math:`(z_{2i}, z_{2i+1})` by
    :math:`p\,\theta_i`.

    :math:`\theta_i = \mathrm{base}^{-2i/k}`, p the token position. Rotations compose, so
    :math:`\langle \mathrm{rope}(q, p), \mathrm{rope}(k, p')\rangle = \langle q, R_{p'-p}\,
    k\rangle` depends on the positions only through :math:`p' - p`. ``k`` must be even.
    """
    k = z.shape[-1]
    if k % 2:
        raise ValueError(f"z: expected an even last axis (coordinate pairs), got {k}")
    theta = base ** (-jnp.arange(0, k, 2, dtype=z.dtype) / k)  # (k/2,)
    angle = jnp.asarray(positions, z.dtype)[:, None] * theta[None, :]  # (L, k/2)
    cos, sin = jnp.cos(angle), jnp.sin(angle)
    pairs = z.reshape(*z.shape[:-1], k // 2, 2)
    x0, x1 = pairs[..., 0], pairs[..., 1]
    return jnp.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], axis=-1).reshape(z.shape)


# ----------------------------------------------------------------------------------------------
# single-layer attention on a token matrix (claim C6)


def _softmax(A, axis: str):
    return jax.nn.softmax(A, axis=-1 if axis == "keys" else -2)


def _check_axis(softmax_axis):
    if softmax_axis not in SOFTMAX_AXES:
        raise ValueError(f"softmax_axis: expected one of {SOFTMAX_AXES}, got {softmax_axis!r}")


def attention(
    X: Float[Array, "n d"],
    W: Float[Array, "d d"],
    W_V: Float[Array, "d dv"],
    *,
    softmax_axis: str = "keys",
) -> Float[Array, "n dv"]:
    r""":math:`\mathrm{Attn}(X, W) = S X W_V`, :math:`S = \mathrm{softmax}(X W X^\top)`.

    ``softmax_axis="keys"`` normalises each row of S (the standard attention, the seed's reading);
    ``"queries"`` normalises columns (the other way to read the unindexed softmax).
    """
    _check_axis(softmax_axis)
    return _softmax(X @ W @ X.T, softmax_axis) @ X @ W_V


def differential_attention(
    X: Float[Array, "n d"],
    W1: Float[Array, "d d"],
    W2: Float[Array, "d d"],
    W_V: Float[Array, "d dv"],
    lam,
) -> Float[Array, "n dv"]:
    r""":math:`\mathrm{DiffAttn}(X) = (S_1 - \lambda S_2) X W_V`,
    :math:`S_j = \mathrm{softmax}(X W_j X^\top)` row-wise."""
    S1 = jax.nn.softmax(X @ W1 @ X.T, axis=-1)
    S2 = jax.nn.softmax(X @ W2 @ X.T, axis=-1)
    return (S1 - lam * S2) @ X @ W_V


def attention_gradient(
    X: Float[Array, "n d"],
    W: Float[Array, "d d"],
    W_V: Float[Array, "d dv"],
    G: Float[Array, "n dv"],
    *,
    softmax_axis: str = "keys",
) -> Float[Array, "d d"]:
    r"""Chain rule :math:`dL/dW` for :math:`\mathrm{Attn} = S X W_V`, given
    :math:`G = \partial L/\partial \mathrm{Attn}`.

    With :math:`A = X W X^\top`, :math:`\partial L/\partial S = G (X W_V)^\top = G W_V^\top X^\top`,
    the softmax Jacobian gives, for row-wise S (``softmax_axis="keys"``),

    .. math::

        \frac{\partial L}{\partial A} = S \odot \Big(\frac{\partial L}{\partial S}
        - \mathrm{rowsum}\big(\tfrac{\partial L}{\partial S} \odot S\big) 1_n^\top\Big),
        \qquad \frac{dL}{dW} = X^\top \frac{\partial L}{\partial A} X

    (:math:`A_{ij} = X_i W X_j^\top`, so :math:`\partial A_{ij}/\partial W = X_i^\top X_j`). For
    column-wise S the column sums replace the row sums.
    """
    _check_axis(softmax_axis)
    S = _softmax(X @ W @ X.T, softmax_axis)
    dS = G @ W_V.T @ X.T
    keep = softmax_axis == "queries"
    dA = S * (dS - jnp.sum(dS * S, axis=0 if keep else 1, keepdims=True))
    return X.T @ dA @ X


def printed_attention_gradient(
    X: Float[Array, "n d"],
    W: Float[Array, "d d"],
    W_V: Float[Array, "d dv"],
    G: Float[Array, "n dv"],
    *,
    softmax_axis: str = "keys",
) -> Float[Array, "d d"]:
    r"""The seed's printed formula :math:`X^\top\big(S \odot (G W_V^\top X^\top -
    (\mathrm{Attn}\odot G) 1_{d\times n})\big) X`.

    Reading (the seed does not index it): G is :math:`\partial L/\partial \mathrm{Attn}` (n × d_v,
    the only shape for which :math:`G W_V^\top X^\top` exists); :math:`1_{d\times n}` is the
    all-ones matrix whose d is the width of Attn, so :math:`(\mathrm{Attn}\odot G)1` has entries
    :math:`\langle \mathrm{Attn}_i, G_i\rangle` (with :math:`d_v \ne d` the printed size d cannot
    multiply and :math:`d_v` is the only size that does; for :math:`d_v = d` the two agree); W is
    the argument of the softmax, :math:`W = W_Q W_K^\top/\sqrt d` as the seed defines it; S and
    Attn are computed with ``softmax_axis`` (see :func:`attention`), the one reading left open. The
    function evaluates the printed expression unchanged; whether it is the gradient is the test.
    """
    _check_axis(softmax_axis)
    S = _softmax(X @ W @ X.T, softmax_axis)
    attn = S @ X @ W_V
    ones = jnp.ones((W_V.shape[1], X.shape[0]), X.dtype)  # 1_{d x n}, d read as the width of Attn
    return X.T @ (S * (G @ W_V.T @ X.T - (attn * G) @ ones)) @ X
