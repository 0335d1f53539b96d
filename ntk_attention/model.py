r"""The paper's two-layer attention network and its softmax moments.

.. math::

    s_r(x) = \mathrm{softmax}(x_d\, w_r\, x) \in \Delta^{d-1}, \qquad
    f(x; w, a) = m^{-1/2} \sum_{r=1}^m a_r \langle s_r(x), x \rangle .

Everything the toolkit needs from one neuron on one window is a ratio of three sums
:math:`S_p = \sum_k e^{z_k - c} x_k^p` (p = 0, 1, 2), with :math:`z_k = w_r x_d x_k`:

* mean :math:`\mu_r(x) = \langle s_r, x\rangle = S_1/S_0`,
* softmax-weighted variance :math:`V_r(x) = \sum_k s_{r,k}(x_k - \mu_r)^2 = S_2/S_0 - (S_1/S_0)^2`,
* last-token mass :math:`s_{r,d}(x) = e^{z_d - c}/S_0`.

The fast path computes them in **one pass of exponentials** over (window, neuron, position). The
softmax shift ``c`` needs no extra pass: :math:`\max_k w_r x_d x_k` is
:math:`w_r \max_k(x_d x_k)` when :math:`w_r \ge 0` and :math:`w_r \min_k(x_d x_k)` otherwise, so it
comes from per-window extremes (docs/theory.md, "Computation"). The sums are taken on windows
centred at their mid-range (the variance is shift invariant), which bounds the cancellation in
:math:`S_2/S_0 - \mu^2` by ``eps * (range/2)^2``. Neurons are processed in chunks and positions in a
loop fused with the exponentials, so that no ``(n, m, d)`` tensor is ever materialised: memory is
``O(n * chunk)`` on top of the results.
"""

from __future__ import annotations

import functools
import numbers
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ntk_attention import _checks

__all__ = [
    "Params",
    "Moments",
    "init_params",
    "forward",
    "softmax_moments",
    "last_token_mass",
    "attention_weights",
    "mean_attention_mass",
    "default_chunk_size",
]

OUTPUT_SIGNS = ("random", "minus", "plus")


class Params(NamedTuple):
    """Network parameters: hidden weights ``w`` (m,) (trained) and output signs ``a`` (m,) (fixed).

    ``params.width`` is m; ``params.prefix(k)`` is the network of the first k neurons,
    ``Params(w[:k], a[:k])`` (nested width sweeps: see :func:`init_params`). Slicing
    ``params[:k]`` is refused: on a tuple it would cut the pair ``(w, a)``, not the width.
    Public functions accept a plain ``(w, a)`` tuple exactly like a ``Params``.
    """

    w: Float[Array, " m"]
    a: Float[Array, " m"]

    @property
    def width(self) -> int:
        """The number of neurons m, ``w.shape[0]``."""
        return int(self.w.shape[0])

    def prefix(self, m: int) -> Params:
        """The first ``m`` neurons, ``Params(w[:m], a[:m])``, for ``1 <= m <= width``."""
        width = self.width
        if isinstance(m, bool) or not isinstance(m, numbers.Integral) or not 1 <= m <= width:
            raise ValueError(
                f"m: expected an integer 1 <= m <= {width} (the width of these params), got {m!r}"
            )
        return Params(self.w[: int(m)], self.a[: int(m)])

    def __getitem__(self, index):
        if isinstance(index, slice):
            hint = (
                f"params.prefix({index.stop})"
                if index.start in (None, 0) and index.step is None and index.stop is not None
                else "params.prefix(m)"
            )
            raise TypeError(
                f"Params[{_slice_text(index)}]: slicing a Params cuts the tuple (w, a), "
                "not the width; "
                f"use {hint} for the first neurons, or Params(w[...], a[...])"
            )
        return tuple.__getitem__(self, index)


def _slice_text(index: slice) -> str:
    parts = ["" if v is None else repr(v) for v in (index.start, index.stop, index.step)]
    return ":".join(parts if index.step is not None else parts[:2])


class Moments(NamedTuple):
    r"""Softmax moments of every neuron on every window, each of shape (n, m).

    ``mean`` :math:`\mu_r(x_i)`, ``variance`` :math:`V_r(x_i)`, ``last_mass`` :math:`s_{r,d}(x_i)`.
    """

    mean: Float[Array, "n m"]
    variance: Float[Array, "n m"]
    last_mass: Float[Array, "n m"]


def init_params(
    key: jax.Array,
    width: int,
    *,
    sigma: float = 1.0,
    output_signs: str = "random",
    dtype=None,
) -> Params:
    r"""Draw the initialisation :math:`w_r(0) \sim N(0, \sigma^2)`, :math:`a_r \in \{\pm 1\}`.

    ``output_signs``: ``"random"`` (:math:`a_r \sim \mathrm{Unif}\{\pm1\}` i.i.d.), ``"minus"``
    (every :math:`a_r = -1`, the setting of Theorem 5.3) or ``"plus"``.

    Neurons are i.i.d. and drawn by position, but a narrower call with the same key draws
    different neurons: for nested width sweeps draw once at the largest width and take
    ``params.prefix(m)`` (the first m neurons, :meth:`Params.prefix`). Slicing ``params[:m]`` is
    refused: it would cut the tuple ``(w, a)``, not the width.

    >>> import jax
    >>> p = init_params(jax.random.key(0), 4, output_signs="minus")
    >>> p.a.tolist()
    [-1.0, -1.0, -1.0, -1.0]
    """
    key = _checks.check_key(key)
    width = _checks.check_positive(width, "width", integer=True)
    sigma = _checks.check_positive(sigma, "sigma")
    if not isinstance(output_signs, str) or output_signs not in OUTPUT_SIGNS:
        raise ValueError(f"output_signs: expected one of {OUTPUT_SIGNS}, got {output_signs!r}")
    dtype = _checks.check_dtype(dtype)
    if sigma > float(jnp.finfo(dtype).max) / 16:  # normal draws reach ~8.3 sigma
        raise ValueError(
            f"sigma: expected at most {float(jnp.finfo(dtype).max) / 16:.3g} for {dtype.name}, "
            f"got {sigma!r}"
        )
    kw, ka = jax.random.split(key)
    w = sigma * jax.random.normal(kw, (width,), dtype=dtype)
    if output_signs == "random":
        a = jnp.where(jax.random.bernoulli(ka, 0.5, (width,)), 1.0, -1.0).astype(dtype)
    else:
        a = jnp.full((width,), -1.0 if output_signs == "minus" else 1.0, dtype=dtype)
    return Params(w, a)


def default_chunk_size(n: int, m: int, d: int) -> int:
    """Neurons per chunk: each ``(n, chunk)`` intermediate near 2^17 elements on CPU, 2^25 on
    accelerators.

    The kernel never holds an ``(n, chunk, d)`` tensor (positions are reduced inside one fused
    loop), so ``d`` does not enter. On a 2-core CPU chunks of 2^16 to 2^19 elements time alike
    (they stay in cache) and smaller ones pay the per-chunk overhead (docs/benchmarks.md); a GPU
    needs far larger chunks to fill the device and to amortise one kernel launch per chunk.
    """
    elements = _CHUNK_ELEMENTS if jax.default_backend() == "cpu" else _CHUNK_ELEMENTS_ACCELERATOR
    target = max(1, elements // max(1, n))
    chunk = 1 << max(0, target.bit_length() - 1)  # power of two for regular shapes
    return int(min(m, max(8, chunk)))


_CHUNK_ELEMENTS = 1 << 17
_CHUNK_ELEMENTS_ACCELERATOR = 1 << 25
_BLOCK = (
    16  # positions per fused reduction: XLA's CPU loop for longer ones runs several times slower
)


def _window_stats(X):
    """Per-window quantities reused by every neuron: centred x, scores per unit weight, extremes."""
    xmax = X.max(axis=1, keepdims=True)
    xmin = X.min(axis=1, keepdims=True)
    xc = X - 0.5 * (xmax + xmin)  # mid-range centring: |xc| <= range/2
    c = X * X[:, -1:]  # z_k = w * c_k
    return xc, c, c.max(axis=1), c.min(axis=1), 0.5 * (xmax + xmin)[:, 0]


def _shift(w_c, cmax, cmin):
    r"""Softmax shift :math:`\max_k w_r c_k = w_r \cdot (\max_k c_k \text{ if } w_r \ge 0 \text{
    else } \min_k c_k)`, (n, mc)."""
    return w_c[None, :] * jnp.where(w_c[None, :] >= 0, cmax[:, None], cmin[:, None])


def _shifted_exp(w_c, ck, shift):
    r""":math:`e^{w_r c_{ik} - \mathrm{shift}_{ir}}` for one position k, (n, mc): at most 1
    (up to rounding)."""
    return jnp.exp(w_c[None, :] * ck[:, None] - shift)


def _exp_sums(w_c, xc, c, cmax, cmin):
    r""":math:`S_0, S_1, S_2` (each (n, mc)) and :math:`e^{z_d - \mathrm{shift}}`, one exponential
    per element.

    :math:`z_k - \mathrm{shift} = w_r c_k - w_r c_{ref}`: one fused multiply-add per position, the
    product :math:`w_r c_{ref}` hoisted out of the position loop. Positions go in blocks of at
    most ``_BLOCK``; each block is **one** variadic reduction whose operands
    :math:`(e, e x, e x^2)` are fused into it, so XLA emits a single loop that evaluates every
    exponential once, keeps the three sums in registers and never stores an ``(n, mc, d)``
    tensor (separate sums would each re-read, or re-evaluate, the exponentials).
    """
    shift = _shift(w_c, cmax, cmin)
    d = c.shape[1]
    blocks = -(-d // _BLOCK)
    size = -(-d // blocks)
    sums = None
    for b in range(blocks):
        part = _block_sums(
            w_c, c[:, b * size : (b + 1) * size], xc[:, b * size : (b + 1) * size], shift
        )
        sums = part if sums is None else tuple(s + p for s, p in zip(sums, part))
    return (*sums, _shifted_exp(w_c, c[:, -1], shift))


def _block_sums(w_c, cb, xb, shift):
    """The three sums over one block of positions: a single variadic ``lax.reduce`` over axis 0."""
    e = jnp.exp(w_c[None, None, :] * cb.T[:, :, None] - shift[None])  # (block, n, mc), fused away
    x = xb.T[:, :, None]
    zero = jnp.zeros((), e.dtype)
    return jax.lax.reduce((e, e * x, e * (x * x)), (zero, zero, zero), _add3, (0,))


def _add3(p, q):
    return p[0] + q[0], p[1] + q[1], p[2] + q[2]


def _chunk_moments(w_c, xc, c, cmax, cmin):
    """Centred mean S_1/S_0, variance S_2/S_0 - (S_1/S_0)^2 and last mass for one chunk, each
    (n, mc)."""
    s0, s1, s2, e_last = _exp_sums(w_c, xc, c, cmax, cmin)
    mean_c = s1 / s0
    var = jnp.maximum(s2 / s0 - mean_c * mean_c, 0.0)
    return mean_c, var, e_last / s0


def _chunked(w, X, chunk, fn):
    """Apply ``fn(w_chunk, window_stats)`` over neuron chunks; results concatenated along m.

    ``w`` is padded with zeros to a multiple of ``chunk``; padded columns are cut off.
    """
    m = w.shape[0]
    chunks = -(-m // chunk)
    wp = jnp.pad(w, (0, chunks * chunk - m)).reshape(chunks, chunk)
    stats = _window_stats(X)
    outs = jax.lax.map(lambda wc: fn(wc, stats), wp)
    return jax.tree.map(
        lambda o: jnp.moveaxis(o, 0, 1).reshape(o.shape[1], chunks * chunk, *o.shape[3:])[:, :m],
        outs,
    )


@functools.partial(jax.jit, static_argnames="chunk")
def _moments_impl(w, X, chunk):
    def fn(wc, stats):
        xc, c, cmax, cmin, centre = stats
        mean_c, var, last = _chunk_moments(wc, xc, c, cmax, cmin)
        return mean_c + centre[:, None], var, last

    return Moments(*_chunked(w, X, chunk, fn))


def _resolve_chunk(chunk_size, n, m, d):
    if chunk_size is None:
        return default_chunk_size(n, m, d)
    return min(_checks.check_positive(chunk_size, "chunk_size", integer=True), m)


def softmax_moments(
    w: Float[Array, " m"], X: Float[Array, "n d"], *, chunk_size: int | None = None
) -> Moments:
    r"""Mean :math:`\mu_r(x_i)`, variance :math:`V_r(x_i)` and last-token mass :math:`s_{r,d}(x_i)`.

    .. math::

        \mu_r = \frac{\sum_k e^{z_k} x_k}{\sum_k e^{z_k}},\quad
        V_r = \frac{\sum_k e^{z_k} x_k^2}{\sum_k e^{z_k}} - \mu_r^2,\quad
        s_{r,d} = \frac{e^{z_d}}{\sum_k e^{z_k}},\qquad z_k = w_r x_d x_k .

    One pass of exponentials, chunked over neurons (``chunk_size`` neurons at a time, chosen
    from the sizes when ``None``). Returns :class:`Moments`, each field (n, m).
    """
    w = _checks.as_float_array(w, "w")
    if w.ndim != 1 or w.shape[0] < 1:
        raise ValueError(f"w: expected a 1-D array of width m >= 1, got shape {tuple(w.shape)}")
    _checks.check_finite(w, "w")
    X = _checks.check_windows(X)
    chunk = _resolve_chunk(chunk_size, X.shape[0], w.shape[0], X.shape[1])
    dtype = jnp.result_type(w, X)
    _checks.check_model_scale(
        w,
        X,
        dtype,
        power=2,
        terms=X.shape[1],
        names="w, X",
        what="the softmax variance V_r <= range^2/4",
    )
    return _moments_impl(w.astype(dtype), X.astype(dtype), chunk)


def forward(
    params: Params, X: Float[Array, "n d"], *, chunk_size: int | None = None
) -> Float[Array, " n"]:
    r""":math:`f(x_i; w, a) = m^{-1/2}\sum_r a_r \langle \mathrm{softmax}(x_{i,d} w_r x_i),
    x_i\rangle`.

    >>> import jax, jax.numpy as jnp
    >>> p = init_params(jax.random.key(0), 8)
    >>> forward(p, jnp.ones((3, 4))).shape
    (3,)
    """
    w, a = _checks.check_params(params)
    mom = softmax_moments(w, X, chunk_size=chunk_size)
    return mom.mean @ a.astype(mom.mean.dtype) / jnp.sqrt(jnp.asarray(w.shape[0], mom.mean.dtype))


def last_token_mass(
    params: Params, X: Float[Array, "n d"], *, chunk_size: int | None = None
) -> Float[Array, "n m"]:
    r"""Softmax mass on the most recent observation, :math:`s_{r,d}(x_i)`, shape (n, m)."""
    w, _ = _checks.check_params(params)
    return softmax_moments(w, X, chunk_size=chunk_size).last_mass


def attention_weights(params: Params, X: Float[Array, "n d"]) -> Float[Array, "n m d"]:
    r"""All softmax weights :math:`s_{r,k}(x_i) = \mathrm{softmax}_k(x_{i,d} w_r x_i)`, shape
    (n, m, d).

    Materialises ``n*m*d`` numbers: for small sizes and as an independent reference
    (uses :func:`jax.nn.softmax`, not the fast path).
    """
    w, _ = _checks.check_params(params)
    X = _checks.check_windows(X)
    dtype = jnp.result_type(w, X)
    _checks.check_model_scale(
        w, X, dtype, power=2, terms=X.shape[1], what="the softmax variance V_r <= range^2/4"
    )
    X = X.astype(dtype)
    return jax.nn.softmax(w.astype(dtype)[None, :, None] * (X[:, -1:] * X)[:, None, :], axis=-1)


@functools.partial(jax.jit, static_argnames="chunk")
def _mean_mass_impl(w, X, chunk):
    def fn(wc, stats):
        # two passes of exponentials: S_0 as one elementwise sum over positions (a lone reduction
        # over positions becomes a library kernel on CPU that runs ~10x slower), then each
        # position's weight e_k / S_0 summed over windows; no (n, chunk, d) tensor either way
        _, c, cmax, cmin, _ = stats
        shift = _shift(wc, cmax, cmin)
        s0 = _shifted_exp(wc, c[:, 0], shift)
        for k in range(1, c.shape[1]):
            s0 = s0 + _shifted_exp(wc, c[:, k], shift)
        inv = 1.0 / s0
        cols = [(_shifted_exp(wc, c[:, k], shift) * inv).mean(axis=0) for k in range(c.shape[1])]
        return jnp.stack(cols, axis=-1)[None]  # (1, mc, d): averaged over windows

    return _chunked(w, X, chunk, fn)[0]


def mean_attention_mass(
    params: Params, X: Float[Array, "n d"], *, chunk_size: int | None = None
) -> Float[Array, "m d"]:
    r"""Data-averaged softmax mass :math:`\frac1n\sum_i s_{r,k}(x_i)` per neuron r and position k.

    Theorem 5.3 compares column ``d`` (the last position) with every other column. Memory is
    ``O(m d)`` plus one chunk.
    """
    w, _ = _checks.check_params(params)
    X = _checks.check_windows(X)
    chunk = _resolve_chunk(chunk_size, X.shape[0], w.shape[0], X.shape[1])
    dtype = jnp.result_type(w, X)
    _checks.check_model_scale(
        w, X, dtype, power=2, terms=X.shape[1], what="the softmax variance V_r <= range^2/4"
    )
    return _mean_mass_impl(w.astype(dtype), X.astype(dtype), chunk)
