r"""The multi-dimensional forecaster (:mod:`ntk_attention.multidim` is the front): its
configuration, the flax NNX module, pure functions of ``params`` (apply, heads, last-token mass,
NTKs), fitting with optax, the seed's local cases, and the paper's scalar model as a special case
(:func:`from_scalar_params`)."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float

from ntk_attention import _checks
from ntk_attention.model import Params
from ntk_attention.multidim.layers import KINDS, patch, rope

__all__ = [
    "ModelConfig",
    "Forecaster",
    "HeadOutputs",
    "FitResult",
    "LocalCases",
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
        raise ValueError(
            "config.key_dim: RoPE rotates coordinate pairs, expected an even key_dim, "
            f"got {config.key_dim}"
        )
    _checks.check_positive(config.sigma, "config.sigma")
    _checks.check_positive(config.rope_base, "config.rope_base")
    if not 0.0 < config.lambda_init < 1.0:
        raise ValueError(
            f"config.lambda_init: expected a number in (0, 1), got {config.lambda_init!r}"
        )
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
        scales = {
            "w_q": config.sigma / math.sqrt(P),
            "w_k": 1.0 / math.sqrt(P),
            "w_v": 1.0 / math.sqrt(P),
            "w_out": 1.0 / math.sqrt(H * dv),
        }
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
        """:math:`f = \\sum_h \\langle o_h, w_{\\mathrm{out}}^h\\rangle` for head outputs
        (n, H, d_v)."""
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
        raise ValueError(
            f"{name}: expected window length T >= patch_len = {config.patch_len}, got {X.shape[1]}"
        )
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
    r"""Forecasts :math:`f(x_i) = \sum_h \langle \mathrm{Attn}_h(\mathcal P(x_i))_L,
    w_{\mathrm{out}}^h\rangle`."""
    return _apply_impl(graphdef, params, _check_series_windows(X, _model(graphdef, params).config))


def head_outputs(graphdef, params, X: Float[Array, "n T"]) -> HeadOutputs:
    r"""Last-row attention weights, values and head outputs (:class:`HeadOutputs`) of every head h.

    .. math::

        s_h = \mathrm{softmax}\big(q_{h,L} K_h^\top / \sqrt{d_k}\big) \in \Delta^{L-1},\qquad
        o_h = s_h V_h \quad
        (\text{differential: } s_h = (s_{h,1} - \lambda_h s_{h,2})/(1-\lambda_h)),

    with :math:`q_{h,L}` the last token's query and :math:`K_h, V_h` all tokens' keys and values.
    """
    return _heads_impl(graphdef, params, _check_series_windows(X, _model(graphdef, params).config))


def last_token_mass(graphdef, params, X: Float[Array, "n T"]) -> Float[Array, "n H"]:
    r"""Attention of the last token on itself, :math:`S_{h,LL}(x_i)` (differential: normalised by
    :math:`1-\lambda_h`)."""
    return head_outputs(graphdef, params, X).weights[..., -1]


def empirical_ntk(
    fn: Callable, params, X: Float[Array, "n T"], X2: Float[Array, "n2 T"] | None = None
) -> Float[Array, "n n2"]:
    r"""Empirical NTK :math:`H = J J'^\top`, :math:`J_{i\cdot} = \partial\, \mathrm{fn}(\theta, X)_i
    / \partial \theta`.

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


def model_ntk(
    graphdef, params, X: Float[Array, "n T"], X2: Float[Array, "n2 T"] | None = None
) -> Float[Array, "n n2"]:
    r"""Empirical NTK of a :class:`Forecaster` over all its parameters θ, compiled.

    .. math::

        \Theta(x_i, x'_j) = \sum_p \frac{\partial f(x_i)}{\partial \theta_p}
        \frac{\partial f(x'_j)}{\partial \theta_p}
        = (J J'^\top)_{ij}

    (:func:`empirical_ntk` on the flattened parameter pytree, reverse-mode autodiff).
    """
    config = _model(graphdef, params).config
    X = _check_series_windows(X, config)
    same = X2 is None
    X2 = X if same else _check_series_windows(X2, config, "X2")
    return _model_ntk_impl(graphdef, params, X, X2, same)


class FitResult(NamedTuple):
    """Final ``params`` and the loss :math:`\\frac12\\,\\mathrm{mean}_i (f(x_i)-y_i)^2` at steps
    0..T (T+1,)."""

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
    r"""Full-batch training on :math:`L(\theta) = \frac1{2n}\sum_i (f(x_i;\theta) - y_i)^2` with an
    optax optimizer.

    ``optax.sgd(eta)`` is gradient descent :math:`\theta \leftarrow \theta - \eta\nabla L`;
    ``optax.adam``, ``optax.chain(optax.add_decayed_weights(wd), optax.sgd(eta))`` etc. are the
    mitigation variants. One compiled :func:`jax.lax.scan`; vmappable over ``params``/data.
    """
    model = _model(graphdef, params)
    X = _check_series_windows(X, model.config)
    y = _checks.check_targets(y, X.shape[0])
    steps = _checks.check_positive(steps, "steps", integer=True)
    if not isinstance(optimizer, optax.GradientTransformation):
        raise ValueError(
            f"optimizer: expected an optax GradientTransformation, got {type(optimizer).__name__}"
        )
    return _fit_impl(graphdef, params, X, y.astype(X.dtype), optimizer=optimizer, steps=steps)


class LocalCases(NamedTuple):
    r"""Per window i and head h, the quantities of the seed's two cases (last query row).

    ``alignment`` :math:`c_{ih} = \langle G_{ih}, W_V^{h\top} X_{iL}\rangle` with
    :math:`G_{ih} = \partial L_i/\partial \mathrm{Attn}_h(X_i)_L` (case 1: :math:`c > 0`,
    case 2: :math:`c < 0`); ``score_gradient``
    :math:`\partial L_i/\partial A_{h,LL} = S_{h,LL}(c_{ih} - \langle G_{ih},
    \mathrm{Attn}_h(X_i)_L\rangle)` (gradient descent on the scores raises the local score when
    negative); ``local_mass`` :math:`S_{h,LL}`. All (n, H).
    """

    alignment: Float[Array, "n H"]
    score_gradient: Float[Array, "n H"]
    local_mass: Float[Array, "n H"]


@functools.partial(jax.jit, static_argnames="graphdef")
def _local_cases_impl(graphdef, params, X, y):
    model = _model(graphdef, params)
    ho = model.heads_of(X)
    G = jax.grad(lambda o: 0.5 * jnp.sum((model.readout(o) - y) ** 2))(
        ho.output
    )  # (n, H, dv), row i = dL_i
    c = jnp.einsum("nhv,nhv->nh", G, ho.values[:, :, -1])
    mean_term = jnp.einsum("nhv,nhv->nh", G, ho.output)
    s_ll = ho.weights[..., -1]
    return LocalCases(c, s_ll * (c - mean_term), s_ll)


def local_attention_cases(
    graphdef, params, X: Float[Array, "n T"], y: Float[Array, " n"]
) -> LocalCases:
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
    r"""The paper's scalar model as a :class:`Forecaster`: ``(graphdef, params)`` with equal
    forecasts.

    ``P = 1``, ``H = m``, :math:`d_k = d_v = 1`, :math:`W_Q^h = w_h`, :math:`W_K^h = W_V^h = 1`,
    :math:`w_{\mathrm{out}} = a/\sqrt m`: the score of token k is :math:`w_h x_d x_k` and
    :math:`f = m^{-1/2}\sum_h a_h\langle \mathrm{softmax}(x_d w_h x), x\rangle`.
    """
    w, a = _checks.check_params(params)
    m = w.shape[0]
    config = ModelConfig(heads=m, key_dim=1, value_dim=1)
    state = nnx.split(nnx.eval_shape(lambda: Forecaster(config, rngs=nnx.Rngs(0), dtype=w.dtype)))[
        1
    ]  # shapes only
    ones = jnp.ones((m, 1, 1), w.dtype)
    nnx.replace_by_pure_dict(
        state,
        {
            "w_q": w.reshape(m, 1, 1),
            "w_k": ones,
            "w_v": ones,
            "w_out": a / jnp.sqrt(jnp.asarray(m, w.dtype)),
        },
    )
    return _graphdef(config, w.dtype), state
