r"""Multi-dimensional attention for forecasting (seed §3.1–3.2): vanilla, differential, RoPE, patched.

A window :math:`x \in \mathbb R^T` becomes tokens :math:`X = \mathcal P(x) \in \mathbb R^{L\times P}`
(patches of length P, stride s, aligned so the last patch ends at :math:`x_T`; ``P = s = 1`` keeps one
observation per token). One attention layer with H heads, head h:

.. math::

    \mathrm{Attn}_h(X) = S_h X W_V^h,\qquad S_h = \mathrm{softmax}(X W^h X^\top),\qquad
    W^h = W_Q^h W_K^{h\top}/\sqrt{d_k},

softmax over keys (each row of :math:`S_h` sums to one). The forecasting head reads the **last**
token's row: :math:`f(x) = \sum_h \langle \mathrm{Attn}_h(X)_L, w_{\mathrm{out}}^h\rangle`, so only
row L of :math:`S_h` is ever computed. Variants:

* differential attention: :math:`(S_{1,h} - \lambda_h S_{2,h}) X W_V^h`, two score maps,
  :math:`\lambda_h = \mathrm{sigmoid}(\theta_h) \in (0, 1)` learnable;
* RoPE: queries and keys rotated by their token position before the product, so the score of
  tokens (i, j) depends on positions only through :math:`j - i`.

The paper's scalar model is the special case ``P = 1``, ``H = m``, :math:`d_k = d_v = 1`,
:math:`W_K^h = W_V^h = 1`, :math:`W_Q^h = w_h`, :math:`w_{\mathrm{out}} = a/\sqrt m`
(:func:`from_scalar_params`). Parameters are flax NNX modules split into a static ``graphdef``
and a pytree ``params`` (:class:`flax.nnx.State`): every function here is pure in ``params``,
so :func:`jax.grad`, :func:`jax.jacrev`, :func:`jax.vmap` and optax apply directly.

Also here, for claim C6: the seed's printed gradient of a loss through one attention layer and the
softmax chain rule it should equal (:func:`printed_attention_gradient`,
:func:`attention_gradient`), and the per-example quantities of the seed's two cases
(:func:`local_attention_cases`).
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float

from ntk_attention import _checks
from ntk_attention.model import Params

__all__ = [
    "ModelConfig",
    "Forecaster",
    "HeadOutputs",
    "FitResult",
    "LocalCases",
    "patch",
    "unpatch",
    "rope",
    "attention",
    "differential_attention",
    "attention_gradient",
    "printed_attention_gradient",
    "init_model",
    "apply_model",
    "head_outputs",
    "last_token_mass",
    "empirical_ntk",
    "model_ntk",
    "fit",
    "local_attention_cases",
    "from_scalar_params",
]

KINDS = ("vanilla", "differential")
SOFTMAX_AXES = ("keys", "queries")


# ----------------------------------------------------------------------------------------------
# tokenisation and positions


def _patch_layout(length: int, patch_len: int, stride: int) -> tuple[int, int]:
    """(number of patches L, offset of the first patch) for patches ending at the last sample."""
    count = (length - patch_len) // stride + 1
    return count, length - patch_len - (count - 1) * stride


def patch(series: Float[Array, "... T"], patch_len: int, stride: int | None = None) -> Float[Array, "... L P"]:
    r"""Split the last axis into :math:`L = \lfloor (T-P)/s\rfloor + 1` patches of length P, stride s.

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
            f"series: expected a last axis of length >= patch_len = {patch_len}, got shape {tuple(series.shape)}"
        )
    return _patch_impl(series, patch_len, stride)


@functools.partial(jax.jit, static_argnames=("patch_len", "stride"))
def _patch_impl(series, patch_len, stride):
    count, offset = _patch_layout(series.shape[-1], patch_len, stride)
    idx = offset + stride * jnp.arange(count)[:, None] + jnp.arange(patch_len)[None, :]
    return series[..., idx]


def unpatch(tokens: Float[Array, "... L P"], stride: int | None = None) -> Float[Array, "... T"]:
    r"""Inverse of :func:`patch`: the covered series :math:`(x_{o+1}, \dots, x_T)`, length :math:`(L-1)s + P`.

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


def rope(z: Float[Array, "... L k"], positions: Float[Array, " L"], *, base: float = 10000.0) -> Float[Array, "... L k"]:
    r"""Rotary position embedding: rotate coordinate pairs :math:`(z_{2i}, z_{2i+1})` by :math:`p\,\theta_i`.

    :math:`\theta_i = \mathrm{base}^{-2i/k}`, p the token position. Rotations compose, so
    :math:`\langle \mathrm{rope}(q, p), \mathrm{rope}(k, p')\rangle = \langle q, R_{p'-p}\, k\rangle`
    depends on the positions only through :math:`p' - p`. ``k`` must be even.
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
    X: Float[Array, "n d"], W: Float[Array, "d d"], W_V: Float[Array, "d dv"], *, softmax_axis: str = "keys"
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
    r""":math:`\mathrm{DiffAttn}(X) = (S_1 - \lambda S_2) X W_V`, :math:`S_j = \mathrm{softmax}(X W_j X^\top)` row-wise."""
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
    r"""Chain rule :math:`dL/dW` for :math:`\mathrm{Attn} = S X W_V`, given :math:`G = \partial L/\partial \mathrm{Attn}`.

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
    r"""The seed's printed formula :math:`X^\top\big(S \odot (G W_V^\top X^\top - (\mathrm{Attn}\odot G) 1_{d\times n})\big) X`.

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


# ----------------------------------------------------------------------------------------------
# the forecasting model


class ModelConfig(NamedTuple):
    r"""Architecture of :class:`Forecaster`.

    ``kind``: ``"vanilla"`` or ``"differential"``; ``heads`` H; ``key_dim`` :math:`d_k` (even
    with ``rope``); ``value_dim`` :math:`d_v`; ``patch_len`` P and ``stride`` s (``None``: s = P);
    ``rope``/``rope_base``; ``sigma``: std of the entries of :math:`W_Q` (times :math:`P^{-1/2}`),
    the analogue of the paper's :math:`w_r(0)\sim N(0,\sigma^2)`; ``lambda_init``: initial
    :math:`\lambda` of differential attention.
    """

    kind: str = "vanilla"
    heads: int = 4
    key_dim: int = 2
    value_dim: int = 1
    patch_len: int = 1
    stride: int | None = None
    rope: bool = False
    rope_base: float = 10000.0
    sigma: float = 1.0
    lambda_init: float = 0.2


def _check_config(config: ModelConfig) -> ModelConfig:
    if not isinstance(config, ModelConfig):
        raise ValueError(f"config: expected a ModelConfig, got {type(config).__name__}")
    if config.kind not in KINDS:
        raise ValueError(f"config.kind: expected one of {KINDS}, got {config.kind!r}")
    for name in ("heads", "key_dim", "value_dim", "patch_len"):
        _checks.check_positive(getattr(config, name), f"config.{name}", integer=True)
    if config.stride is not None:
        _checks.check_positive(config.stride, "config.stride", integer=True)
    if config.rope and config.key_dim % 2:
        raise ValueError(f"config.key_dim: RoPE rotates coordinate pairs, expected an even key_dim, got {config.key_dim}")
    _checks.check_positive(config.sigma, "config.sigma")
    _checks.check_positive(config.rope_base, "config.rope_base")
    if not 0.0 < config.lambda_init < 1.0:
        raise ValueError(f"config.lambda_init: expected a number in (0, 1), got {config.lambda_init!r}")
    return config


class HeadOutputs(NamedTuple):
    r"""Per-window, per-head pieces of the last-token row (n windows, H heads, L tokens).

    ``weights`` (n, H, L): the last query's attention :math:`S_{h,L\cdot}` (differential:
    :math:`(S_1 - \lambda S_2)_{L\cdot}/(1-\lambda)`, which also sums to one); ``values``
    (n, H, L, d_v): :math:`X W_V^h`; ``output`` (n, H, d_v): :math:`\mathrm{Attn}_h(X)_L`;
    ``lam`` (H,): :math:`\lambda_h` (zeros for vanilla).
    """

    weights: Float[Array, "n H L"]
    values: Float[Array, "n H L dv"]
    output: Float[Array, "n H dv"]
    lam: Float[Array, " H"]


class Forecaster(nnx.Module):
    r"""One attention layer on patched windows with a last-token linear head (see module docstring).

    Parameters: ``w_q``, ``w_k`` (H, P, d_k), ``w_v`` (H, P, d_v), ``w_out`` (H·d_v,); for
    differential attention also ``w_q2``, ``w_k2`` and ``lam_logit`` (H,),
    :math:`\lambda = \mathrm{sigmoid}(\text{lam\_logit})`. Initialisation: :math:`W_Q` entries
    :math:`N(0, \sigma^2/P)`, :math:`W_K, W_V` entries :math:`N(0, 1/P)`, ``w_out`` entries
    :math:`N(0, 1/(H d_v))`.
    """

    def __init__(self, config: ModelConfig, *, rngs: nnx.Rngs, dtype=jnp.float32):
        self.config = _check_config(config)
        H, P, dk, dv = config.heads, config.patch_len, config.key_dim, config.value_dim
        shapes = {"w_q": (H, P, dk), "w_k": (H, P, dk), "w_v": (H, P, dv), "w_out": (H * dv,)}
        scales = {"w_q": config.sigma / math.sqrt(P), "w_k": 1.0 / math.sqrt(P), "w_v": 1.0 / math.sqrt(P),
                  "w_out": 1.0 / math.sqrt(H * dv)}
        if config.kind == "differential":
            shapes.update(w_q2=shapes["w_q"], w_k2=shapes["w_k"])
            scales.update(w_q2=scales["w_q"], w_k2=scales["w_k"])
        # one normal draw sliced into every weight: a single PRNG call keeps compiled programs small
        sizes = [math.prod(sh) for sh in shapes.values()]
        z = jax.random.normal(rngs.params(), (sum(sizes),), dtype)
        offsets = [0, *itertools.accumulate(sizes)]
        for (name, shape), lo, hi in zip(shapes.items(), offsets, offsets[1:]):
            setattr(self, name, nnx.Param(scales[name] * z[lo:hi].reshape(shape)))
        if config.kind == "differential":
            logit = math.log(config.lambda_init / (1.0 - config.lambda_init))
            self.lam_logit = nnx.Param(jnp.full((H,), logit, dtype))

    def _last_row(self, tokens, w_q, w_k):
        """softmax of the last query's scores, (n, H, L)."""
        q = jnp.einsum("nlp,hpk->nhlk", tokens[:, -1:], w_q)
        k = jnp.einsum("nlp,hpk->nhlk", tokens, w_k)
        if self.config.rope:
            pos = jnp.arange(tokens.shape[1], dtype=tokens.dtype)
            q = rope(q, pos[-1:], base=self.config.rope_base)
            k = rope(k, pos, base=self.config.rope_base)
        scores = jnp.einsum("nhqk,nhlk->nhl", q, k) / math.sqrt(self.config.key_dim)
        return jax.nn.softmax(scores, axis=-1)

    def heads_of(self, X) -> HeadOutputs:
        """:class:`HeadOutputs` of windows X (n, T)."""
        c = self.config
        tokens = patch(X, c.patch_len, c.stride)  # (n, L, P)
        S = self._last_row(tokens, self.w_q[...], self.w_k[...])
        H = c.heads
        lam = jnp.zeros((H,), X.dtype)
        if c.kind == "differential":
            lam = jax.nn.sigmoid(self.lam_logit[...])
            S = S - lam[None, :, None] * self._last_row(tokens, self.w_q2[...], self.w_k2[...])
        values = jnp.einsum("nlp,hpv->nhlv", tokens, self.w_v[...])
        output = jnp.einsum("nhl,nhlv->nhv", S, values)
        return HeadOutputs(S / (1.0 - lam)[None, :, None], values, output, lam)

    def readout(self, output):
        """:math:`f = \\sum_h \\langle o_h, w_{\\mathrm{out}}^h\\rangle` for head outputs (n, H, d_v)."""
        return output.reshape(output.shape[0], -1) @ self.w_out[...]

    def __call__(self, X):
        return self.readout(self.heads_of(X).output)


# ----------------------------------------------------------------------------------------------
# functional API over (graphdef, params)


def _check_series_windows(X, config: ModelConfig, name: str = "X"):
    X = _checks.as_float_array(X, name)
    if X.ndim != 2:
        raise ValueError(f"{name}: expected windows of shape (n, T), got {tuple(X.shape)}")
    if X.shape[1] < config.patch_len:
        raise ValueError(f"{name}: expected window length T >= patch_len = {config.patch_len}, got {X.shape[1]}")
    _checks.check_finite(X, name)
    return X


def init_model(config: ModelConfig, key: jax.Array, *, dtype=None):
    r"""``(graphdef, params)`` of a freshly initialised :class:`Forecaster`; ``params`` is a pytree.

    Works under :func:`jax.vmap` over keys (then ``params`` has a leading seed axis).

    >>> import jax
    >>> g, p = init_model(ModelConfig(heads=2), jax.random.key(0))
    >>> sorted(nnx.to_pure_dict(p))
    ['w_k', 'w_out', 'w_q', 'w_v']
    """
    config = _check_config(config)
    dtype = jnp.dtype(dtype) if dtype is not None else jnp.zeros(()).dtype
    if not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(f"dtype: expected a floating dtype, got {dtype}")
    return _graphdef(config, dtype), _init_state(config, key, dtype)


@functools.lru_cache(maxsize=64)
def _graphdef(config: ModelConfig, dtype):
    """The static structure of a :class:`Forecaster`, from an abstract (shape-only) instance."""
    return nnx.split(nnx.eval_shape(lambda: Forecaster(config, rngs=nnx.Rngs(0), dtype=dtype)))[0]


@functools.partial(jax.jit, static_argnames=("config", "dtype"))
def _init_state(config, key, dtype):
    return nnx.split(Forecaster(config, rngs=nnx.Rngs(params=key), dtype=dtype))[1]


def _model(graphdef, params) -> Forecaster:
    return nnx.merge(graphdef, params)


@functools.partial(jax.jit, static_argnames="graphdef")
def _apply_impl(graphdef, params, X):
    return _model(graphdef, params)(X)


@functools.partial(jax.jit, static_argnames="graphdef")
def _heads_impl(graphdef, params, X):
    return _model(graphdef, params).heads_of(X)


def apply_model(graphdef, params, X: Float[Array, "n T"]) -> Float[Array, " n"]:
    r"""Forecasts :math:`f(x_i) = \sum_h \langle \mathrm{Attn}_h(\mathcal P(x_i))_L, w_{\mathrm{out}}^h\rangle`."""
    return _apply_impl(graphdef, params, _check_series_windows(X, _model(graphdef, params).config))


def head_outputs(graphdef, params, X: Float[Array, "n T"]) -> HeadOutputs:
    r"""Last-row attention weights, values and head outputs (:class:`HeadOutputs`) of every head h.

    .. math::

        s_h = \mathrm{softmax}\big(q_{h,L} K_h^\top / \sqrt{d_k}\big) \in \Delta^{L-1},\qquad
        o_h = s_h V_h \quad (\text{differential: } s_h = (s_{h,1} - \lambda_h s_{h,2})/(1-\lambda_h)),

    with :math:`q_{h,L}` the last token's query and :math:`K_h, V_h` all tokens' keys and values.
    """
    return _heads_impl(graphdef, params, _check_series_windows(X, _model(graphdef, params).config))


def last_token_mass(graphdef, params, X: Float[Array, "n T"]) -> Float[Array, "n H"]:
    r"""Attention of the last token on itself, :math:`S_{h,LL}(x_i)` (differential: normalised by :math:`1-\lambda_h`)."""
    return head_outputs(graphdef, params, X).weights[..., -1]


def empirical_ntk(
    fn: Callable, params, X: Float[Array, "n T"], X2: Float[Array, "n2 T"] | None = None
) -> Float[Array, "n n2"]:
    r"""Empirical NTK :math:`H = J J'^\top`, :math:`J_{i\cdot} = \partial\, \mathrm{fn}(\theta, X)_i / \partial \theta`.

    ``fn(params, X) -> (n,)`` for any pytree ``params`` (flattened with
    :func:`jax.flatten_util.ravel_pytree`); Jacobians by :func:`jax.jacrev`. Materialises
    ``(n, #params)``: for small models. Symmetrised exactly when ``X2`` is ``None``.
    """
    flat, unravel = ravel_pytree(params)

    def jac(Z):
        return jax.jacrev(lambda v: fn(unravel(v), Z))(flat)

    J = jac(X)
    if X2 is None:
        H = J @ J.T
        return 0.5 * (H + H.T)
    return J @ jac(X2).T


@functools.partial(jax.jit, static_argnames=("graphdef", "same"))
def _model_ntk_impl(graphdef, params, X, X2, same):
    fn = functools.partial(_apply_impl, graphdef)
    return empirical_ntk(fn, params, X, None if same else X2)


def model_ntk(graphdef, params, X: Float[Array, "n T"], X2: Float[Array, "n2 T"] | None = None) -> Float[Array, "n n2"]:
    r"""Empirical NTK of a :class:`Forecaster` over all its parameters θ, compiled.

    .. math::

        \Theta(x_i, x'_j) = \sum_p \frac{\partial f(x_i)}{\partial \theta_p}\frac{\partial f(x'_j)}{\partial \theta_p}
        = (J J'^\top)_{ij}

    (:func:`empirical_ntk` on the flattened parameter pytree, reverse-mode autodiff).
    """
    config = _model(graphdef, params).config
    X = _check_series_windows(X, config)
    same = X2 is None
    X2 = X if same else _check_series_windows(X2, config, "X2")
    return _model_ntk_impl(graphdef, params, X, X2, same)


class FitResult(NamedTuple):
    """Final ``params`` and the loss :math:`\\frac12\\,\\mathrm{mean}_i (f(x_i)-y_i)^2` at steps 0..T (T+1,)."""

    params: object
    loss: Float[Array, " T1"]


def _loss(graphdef, params, X, y):
    r = _model(graphdef, params)(X) - y
    return 0.5 * jnp.mean(r * r)


@functools.partial(jax.jit, static_argnames=("graphdef", "optimizer", "steps"))
def _fit_impl(graphdef, params, X, y, *, optimizer, steps):
    value_and_grad = jax.value_and_grad(functools.partial(_loss, graphdef))

    def step(carry, _):
        p, opt = carry
        loss, g = value_and_grad(p, X, y)
        upd, opt = optimizer.update(g, opt, p)
        return (optax.apply_updates(p, upd), opt), loss

    (p, _), losses = jax.lax.scan(step, (params, optimizer.init(params)), None, length=steps)
    return FitResult(p, jnp.concatenate([losses, _loss(graphdef, p, X, y)[None]]))


def fit(
    graphdef,
    params,
    X: Float[Array, "n T"],
    y: Float[Array, " n"],
    *,
    optimizer: optax.GradientTransformation,
    steps: int,
) -> FitResult:
    r"""Full-batch training on :math:`L(\theta) = \frac1{2n}\sum_i (f(x_i;\theta) - y_i)^2` with an optax optimizer.

    ``optax.sgd(eta)`` is gradient descent :math:`\theta \leftarrow \theta - \eta\nabla L`;
    ``optax.adam``, ``optax.chain(optax.add_decayed_weights(wd), optax.sgd(eta))`` etc. are the
    mitigation variants. One compiled :func:`jax.lax.scan`; vmappable over ``params``/data.
    """
    model = _model(graphdef, params)
    X = _check_series_windows(X, model.config)
    y = _checks.check_targets(y, X.shape[0])
    steps = _checks.check_positive(steps, "steps", integer=True)
    if not isinstance(optimizer, optax.GradientTransformation):
        raise ValueError(f"optimizer: expected an optax GradientTransformation, got {type(optimizer).__name__}")
    return _fit_impl(graphdef, params, X, y.astype(X.dtype), optimizer=optimizer, steps=steps)


class LocalCases(NamedTuple):
    r"""Per window i and head h, the quantities of the seed's two cases (last query row).

    ``alignment`` :math:`c_{ih} = \langle G_{ih}, W_V^{h\top} X_{iL}\rangle` with
    :math:`G_{ih} = \partial L_i/\partial \mathrm{Attn}_h(X_i)_L` (case 1: :math:`c > 0`,
    case 2: :math:`c < 0`); ``score_gradient``
    :math:`\partial L_i/\partial A_{h,LL} = S_{h,LL}(c_{ih} - \langle G_{ih}, \mathrm{Attn}_h(X_i)_L\rangle)`
    (gradient descent on the scores raises the local score when negative); ``local_mass``
    :math:`S_{h,LL}`. All (n, H).
    """

    alignment: Float[Array, "n H"]
    score_gradient: Float[Array, "n H"]
    local_mass: Float[Array, "n H"]


@functools.partial(jax.jit, static_argnames="graphdef")
def _local_cases_impl(graphdef, params, X, y):
    model = _model(graphdef, params)
    ho = model.heads_of(X)
    G = jax.grad(lambda o: 0.5 * jnp.sum((model.readout(o) - y) ** 2))(ho.output)  # (n, H, dv), row i = dL_i
    c = jnp.einsum("nhv,nhv->nh", G, ho.values[:, :, -1])
    mean_term = jnp.einsum("nhv,nhv->nh", G, ho.output)
    s_ll = ho.weights[..., -1]
    return LocalCases(c, s_ll * (c - mean_term), s_ll)


def local_attention_cases(graphdef, params, X: Float[Array, "n T"], y: Float[Array, " n"]) -> LocalCases:
    r"""The seed's two cases for the per-example loss :math:`L_i = \frac12 (f(x_i) - y_i)^2`.

    G comes from :func:`jax.grad` of the loss through the readout; the local-score derivative is
    the row-softmax chain rule of :func:`attention_gradient` restricted to entry (L, L). Vanilla
    attention only (differential attention has two score maps).
    """
    config = _model(graphdef, params).config
    if config.kind != "vanilla":
        raise ValueError(f"graphdef: expected a vanilla-attention model, got kind {config.kind!r}")
    X = _check_series_windows(X, config)
    y = _checks.check_targets(y, X.shape[0]).astype(X.dtype)
    return _local_cases_impl(graphdef, params, X, y)


def from_scalar_params(params: Params):
    r"""The paper's scalar model as a :class:`Forecaster`: ``(graphdef, params)`` with equal forecasts.

    ``P = 1``, ``H = m``, :math:`d_k = d_v = 1`, :math:`W_Q^h = w_h`, :math:`W_K^h = W_V^h = 1`,
    :math:`w_{\mathrm{out}} = a/\sqrt m`: the score of token k is :math:`w_h x_d x_k` and
    :math:`f = m^{-1/2}\sum_h a_h\langle \mathrm{softmax}(x_d w_h x), x\rangle`.
    """
    w, a = _checks.check_params(params)
    m = w.shape[0]
    config = ModelConfig(heads=m, key_dim=1, value_dim=1)
    state = nnx.split(nnx.eval_shape(lambda: Forecaster(config, rngs=nnx.Rngs(0), dtype=w.dtype)))[1]  # shapes only
    ones = jnp.ones((m, 1, 1), w.dtype)
    nnx.replace_by_pure_dict(
        state,
        {"w_q": w.reshape(m, 1, 1), "w_k": ones, "w_v": ones, "w_out": a / jnp.sqrt(jnp.asarray(m, w.dtype))},
    )
    return _graphdef(config, w.dtype), state
