r"""Width × seed sweeps of :func:`ntk_attention.train` in **one** compiled, sharded program.

Each run (width :math:`m`, seed :math:`s`) is plain gradient descent on
:math:`L = \frac12\sum_i (f(x_i) - y_i)^2` exactly as :func:`ntk_attention.train` does it, and
records at :math:`t = 0, k, 2k, \dots, T`:

* ``loss`` :math:`L(w(t))`;
* ``sign_agree_plus`` :math:`\#\{r: a_r = +1, w_r(t) > 0\}` and ``sign_agree_minus``
  :math:`\#\{r: a_r = -1, w_r(t) < 0\}` (out of ``n_plus``, ``n_minus``);
* ``last_token_mass`` :math:`\frac1{mn}\sum_r\sum_i s_{r,d}(x_i)`;
* ``ntk_change`` :math:`\|H(t) - H(0)\|_2` and ``ntk_min_eigenvalue`` :math:`\lambda_{\min}(H(t))`;
* ``max_weight_change`` :math:`\max_r |w_r(t) - w_r(0)|`;

and once per run ``ntk_initial`` :math:`H(0)` and ``ntk_infinite_distance``
:math:`\|H(0) - H^*\|_2`, with :math:`H^*` from :func:`ntk_attention.infinite_ntk` (float64 numpy,
width independent: computed once per sweep, outside the compiled program).

Design: neuron segments
-----------------------
The neurons of every run of a *block* (``seeds_per_block`` seeds × every width) are concatenated
into one vector of :math:`M = \text{seeds\_per\_block}\cdot\sum_m m` neurons, cut into chunks of
``c`` neurons, ``c`` a divisor of every width, so that **no chunk straddles two runs**; chunk
:math:`k` carries its run id :math:`q(k)` and its scale :math:`1/\sqrt{m_{q(k)}}`. One pass of
exponentials over the chunks (the core kernel ``model._chunk_moments``, ``G`` chunks at a time
under :func:`jax.lax.scan`) gives every run at once:

.. math::

    f_q(x_i) = \sum_{k: q(k) = q}\ \sum_{r \in k} \frac{a_r}{\sqrt{m_q}} \mu_r(x_i)
    \quad\text{(a segment sum)}, \qquad
    J_{ir} = \frac{a_r}{\sqrt{m_q}} x_{i,d} V_r(x_i),

    w_r \leftarrow w_r - \eta \sum_i J_{ir}\,(f_{q}(x_i) - y_i), \qquad
    H_q(t) = \sum_{k: q(k) = q} J_k J_k^\top .

So the work is exactly :math:`\sum_m m` neurons per seed (no padding to the widest width, unlike
masks), and the whole sweep is **one** XLA program whose shapes do not depend on which seeds a
block holds (every block reuses it: one compilation per sweep, not per width).

Memory: ``O(n·c·G·d)`` for the exponentials of one scan step, ``O(M)`` for the weights, the
``(runs, n, n)`` NTKs and the records; no ``(n, m, d)`` tensor is ever formed. By default one
step's Jacobian, ``O(n·M)``, is kept between the forward pass and the update (as :func:`train`
keeps its ``(n, m)`` Jacobian); ``recompute_jacobian=True`` recomputes it chunk by chunk in the
update instead (twice the exponentials, memory independent of ``n·M``).

Nested prefixes (docs/theory.md, "Computation"): a width-``m`` run of seed ``s`` starts from the first ``m`` neurons of
``init_params(jax.random.key(s), max(widths))``, so widths share their randomness and their
comparison is less noisy; each run alone has exactly the law of :func:`init_params` at width ``m``.

Devices: the chunk axis is laid out over a :func:`jax.make_mesh` mesh (axis ``"neurons"``) of the
given devices with :func:`jax.shard_map`; each device scans its own chunks and the per-run sums
(:math:`f`, :math:`H`, counts, masses) are ``psum``-ed (``pmax`` for the weight change). The chunk
count is padded to a multiple of ``devices × G`` with dummy chunks (``a = 0``) in a dump segment
that is dropped. Across hosts the independent axis is the seed block (see
``verification.sweep_cmd``): no communication between hosts.

>>> import jax, jax.numpy as jnp
>>> X = jax.random.normal(jax.random.key(0), (6, 3)); y = X[:, -1]
>>> res = sweep(X, y, widths=(8, 16), seeds=(0, 1), steps=4, learning_rate=0.1, record_every=2)
>>> res.loss.shape  # width x seed x recorded step
(2, 2, 3)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P
from jaxtyping import Array, Float, Int

from ntk_attention import _checks
from ntk_attention.model import _chunk_moments, default_chunk_size, init_params, _window_stats
from ntk_attention.ntk import infinite_ntk
from ntk_attention.train import RISE_TOLERANCE

__all__ = ["SweepPlan", "SweepResult", "plan_sweep", "run_block", "concatenate", "sweep", "RECORD_FIELDS"]

AXIS = "neurons"

RECORD_FIELDS = (
    "loss",
    "sign_agree_plus",
    "sign_agree_minus",
    "last_token_mass",
    "ntk_change",
    "ntk_min_eigenvalue",
    "max_weight_change",
)
"""Fields of :class:`SweepResult` recorded at every recorded step, shape (W, S, R)."""


class SweepResult(NamedTuple):
    r"""A sweep's records as numpy arrays, indexed width × seed × recorded step.

    ``widths`` (W,), ``seeds`` (S,), ``step`` (R,); every name in :data:`RECORD_FIELDS` is
    (W, S, R) (counts are int64); ``n_plus``, ``n_minus`` (W, S) :math:`\#\{a_r = \pm1\}`;
    ``diverged_step`` (W, S) as in :class:`ntk_attention.Trajectory` (-1 if none);
    ``ntk_initial`` (W, S, n, n) :math:`H(0)`; ``ntk_infinite_distance`` (W, S)
    :math:`\|H(0) - H^*\|_2`; ``ntk_infinite`` (n, n) :math:`H^*` and ``ntk_infinite_error`` its
    quadrature error estimate (see :func:`ntk_attention.infinite_ntk`).
    """

    widths: Int[np.ndarray, " W"]
    seeds: Int[np.ndarray, " S"]
    step: Int[np.ndarray, " R"]
    loss: Float[np.ndarray, "W S R"]
    sign_agree_plus: Int[np.ndarray, "W S R"]
    sign_agree_minus: Int[np.ndarray, "W S R"]
    last_token_mass: Float[np.ndarray, "W S R"]
    ntk_change: Float[np.ndarray, "W S R"]
    ntk_min_eigenvalue: Float[np.ndarray, "W S R"]
    max_weight_change: Float[np.ndarray, "W S R"]
    n_plus: Int[np.ndarray, "W S"]
    n_minus: Int[np.ndarray, "W S"]
    diverged_step: Int[np.ndarray, "W S"]
    ntk_initial: Float[np.ndarray, "W S n n"]
    ntk_infinite_distance: Float[np.ndarray, "W S"]
    ntk_infinite: Float[np.ndarray, "n n"]
    ntk_infinite_error: float


class SweepPlan(NamedTuple):
    """Everything fixed for a sweep: sizes, hyper-parameters, layout, mesh and :math:`H^*`.

    Built by :func:`plan_sweep`; every :func:`run_block` call with one plan runs the same
    compiled program.
    """

    X: Float[Array, "n d"]
    y: Float[Array, " n"]
    widths: tuple[int, ...]
    seeds_per_block: int
    steps: int
    record_every: int
    learning_rate: float
    sigma: float
    output_signs: str
    divergence_factor: float
    chunk: int
    group: int
    padded_chunks: int
    recompute_jacobian: bool
    mesh: jax.sharding.Mesh
    ntk_infinite: np.ndarray
    ntk_infinite_error: float


def _check_widths(widths) -> tuple[int, ...]:
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or len(widths) == 0:
        raise ValueError(f"widths: expected a non-empty sequence of positive integers, got {widths!r}")
    out = tuple(_checks.check_positive(m, "widths", integer=True) for m in widths)
    if any(b <= a for a, b in zip(out, out[1:])):
        raise ValueError(f"widths: expected strictly increasing widths, got {list(out)}")
    return out


def _check_seeds(seeds) -> tuple[int, ...]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or len(seeds) == 0:
        raise ValueError(f"seeds: expected a non-empty sequence of integers in [0, 2**31), got {seeds!r}")
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s < 2**31:
            raise ValueError(f"seeds: expected integers in [0, 2**31), got {s!r}")
        out.append(int(s))
    if len(set(out)) != len(out):
        raise ValueError(f"seeds: expected distinct seeds, got {out}")
    return tuple(out)


def _resolve_sweep_chunk(chunk_size, widths, n, d) -> int:
    """Largest divisor of gcd(widths) not above the default chunk, or a checked ``chunk_size``."""
    g = functools.reduce(math.gcd, widths)
    if chunk_size is not None:
        chunk = _checks.check_positive(chunk_size, "chunk_size", integer=True)
        if g % chunk:
            raise ValueError(f"chunk_size: expected a divisor of every width (gcd {g}), got {chunk}")
        return chunk
    cap = default_chunk_size(n, widths[-1], d)
    return max(q for q in range(1, min(g, cap) + 1) if g % q == 0)


def plan_sweep(
    X: Float[Array, "n d"],
    y: Float[Array, " n"],
    *,
    widths: Sequence[int],
    steps: int,
    learning_rate: float,
    record_every: int = 1,
    sigma: float = 1.0,
    output_signs: str = "random",
    seeds_per_block: int = 1,
    divergence_factor: float = 1e8,
    chunk_size: int | None = None,
    group_size: int | None = None,
    recompute_jacobian: bool = False,
    devices: Sequence[jax.Device] | None = None,
    infinite_nodes: int | None = None,
) -> SweepPlan:
    r"""Fix a sweep: check the inputs, choose the chunk layout and mesh, compute :math:`H^*` once.

    ``widths`` strictly increasing; ``chunk_size`` (default: the largest divisor of
    :math:`\gcd(\text{widths})` not above :func:`ntk_attention.default_chunk_size`) must divide
    every width. ``group_size`` chunks are evaluated together per scan step (default: about
    ``default_chunk_size`` neurons): the working set is ``n * chunk * group_size * d`` numbers.
    ``recompute_jacobian``: the gradient pass recomputes the moments instead of keeping one step's
    Jacobian, twice the exponentials for memory ``O(M)`` instead of ``O(n M)``.
    ``devices`` (default :func:`jax.local_devices`) form the ``"neurons"`` mesh; ``infinite_nodes``
    is passed to :func:`ntk_attention.infinite_ntk` as ``nodes``.
    Computation is in the dtype of ``X`` and ``y`` (enable x64 yourself for float64).
    """
    X = _checks.check_windows(X)
    y = _checks.check_targets(y, X.shape[0])
    widths = _check_widths(widths)
    steps = _checks.check_positive(steps, "steps", integer=True)
    record_every = _checks.check_positive(record_every, "record_every", integer=True)
    if steps % record_every:
        raise ValueError(f"record_every: expected a divisor of steps = {steps}, got {record_every}")
    lr = _checks.check_positive(learning_rate, "learning_rate")
    sigma = _checks.check_positive(sigma, "sigma")
    if output_signs not in ("random", "minus", "plus"):
        raise ValueError(f"output_signs: expected one of ('random', 'minus', 'plus'), got {output_signs!r}")
    seeds_per_block = _checks.check_positive(seeds_per_block, "seeds_per_block", integer=True)
    divergence_factor = _checks.check_positive(divergence_factor, "divergence_factor")
    devices = list(jax.local_devices() if devices is None else devices)
    if not devices:
        raise ValueError("devices: expected at least one device, got none")
    n, d = X.shape
    chunk = _resolve_sweep_chunk(chunk_size, widths, n, d)
    chunks = seeds_per_block * sum(widths) // chunk
    per_device = -(-chunks // len(devices))
    if group_size is None:
        group = max(1, min(default_chunk_size(n, widths[-1], d) // chunk, per_device))
    else:
        group = _checks.check_positive(group_size, "group_size", integer=True)
    padded = -(-chunks // (len(devices) * group)) * len(devices) * group
    mesh = jax.make_mesh((len(devices),), (AXIS,), devices=devices)
    dtype = jnp.result_type(X, y)
    replicated = NamedSharding(mesh, P())
    hstar = infinite_ntk(np.asarray(X, np.float64), sigma=sigma, nodes=infinite_nodes, return_error=True)
    return SweepPlan(
        X=jax.device_put(X.astype(dtype), replicated),
        y=jax.device_put(y.astype(dtype), replicated),
        widths=widths,
        seeds_per_block=seeds_per_block,
        steps=steps,
        record_every=record_every,
        learning_rate=lr,
        sigma=sigma,
        output_signs=output_signs,
        divergence_factor=divergence_factor,
        chunk=chunk,
        group=group,
        padded_chunks=padded,
        recompute_jacobian=bool(recompute_jacobian),
        mesh=mesh,
        ntk_infinite=hstar.matrix,
        ntk_infinite_error=hstar.error_estimate,
    )


@functools.partial(jax.jit, static_argnames=("width", "sigma", "output_signs", "dtype"))
def _initial_draws(seeds, *, width, sigma, output_signs, dtype):
    """``init_params(jax.random.key(s), width)`` for every seed s in one program: (S, width) twice."""
    draw = functools.partial(init_params, width=width, sigma=sigma, output_signs=output_signs, dtype=dtype)
    return jax.vmap(lambda s: draw(jax.random.key(s)))(seeds)


def _layout(plan: SweepPlan, seeds: tuple[int, ...]):
    """Host-side neuron layout of one block: chunked w(0), a, run id and 1/sqrt(m) per chunk.

    Run ``q = seed_index * W + width_index``; dummy chunks go to the dump segment ``q = runs``.
    """
    dtype = np.dtype(plan.X.dtype)
    c, runs = plan.chunk, len(seeds) * len(plan.widths)
    ws, as_, run, coef, signs = [], [], [], [], []
    W_full, A_full = (np.asarray(v) for v in _initial_draws(
        jnp.asarray(seeds, jnp.int32), width=plan.widths[-1], sigma=plan.sigma,
        output_signs=plan.output_signs, dtype=dtype,
    ))
    for s_idx, (w_full, a_full) in enumerate(zip(W_full, A_full)):
        for m_idx, m in enumerate(plan.widths):
            ws.append(w_full[:m].reshape(-1, c))
            as_.append(a_full[:m].reshape(-1, c))
            run.append(np.full(m // c, s_idx * len(plan.widths) + m_idx, np.int32))
            coef.append(np.full(m // c, 1.0 / math.sqrt(m), dtype))
            signs.append((int(np.sum(a_full[:m] > 0)), int(np.sum(a_full[:m] < 0))))
    pad = plan.padded_chunks - sum(len(r) for r in run)
    ws.append(np.zeros((pad, c), dtype))
    as_.append(np.zeros((pad, c), dtype))
    run.append(np.full(pad, runs, np.int32))
    coef.append(np.zeros(pad, dtype))
    return tuple(np.concatenate(v) for v in (ws, as_, run, coef)), np.array(signs)


def _block_program(w0, a, coef, run, X, y, lr, div, *, runs, steps, record_every, group, recompute_jacobian):
    """One device's share of a block: GD on its chunks, per-run sums reduced over the mesh.

    ``w0``, ``a`` (K, c); ``coef`` :math:`1/\\sqrt{m_q}` and ``run`` q per chunk (K,). Returns the
    records (R, runs + 1) and H(0) (runs + 1, n, n), replicated, and the divergence steps.
    """
    K, c = w0.shape
    n = X.shape[0]
    segs = runs + 1  # + dump segment of the padding chunks
    xc, cx, cmax, cmin, centre = _window_stats(X)
    xd = X[:, -1]
    scale = a * coef[:, None]  # a_r / sqrt(m_q), (K, c)
    seg_sum = functools.partial(jax.ops.segment_sum, segment_ids=run, num_segments=segs, indices_are_sorted=True)
    width = jax.lax.psum(seg_sum(jnp.full((K,), c, X.dtype)), AXIS)

    def moments(wg):
        """Mean (shifted back), variance and last mass of G chunks, each (n, G, c)."""
        mean, var, last = (v.reshape(n, group, c) for v in _chunk_moments(wg.reshape(-1), xc, cx, cmax, cmin))
        return mean + centre[:, None, None], var, last

    def jac(var, sg):  # J_ir = a_r / sqrt(m_q) x_{i,d} V_r(x_i), as (G, n, c)
        return jnp.moveaxis(xd[:, None, None] * var, 0, 1) * sg[:, None, :]

    def groups(w):
        return w.reshape(-1, group, c), scale.reshape(-1, group, c), run.reshape(-1, group)

    def evaluate(w, with_ntk):
        """Loss, residuals (segs, n), neuron-mean last mass, H per run and J (K, n, c) unless recomputed."""

        def body(H, chunk):
            wg, sg, rg = chunk  # (G, c), (G, c), (G,)
            mean, var, last = moments(wg)
            J_g = jac(var, sg)
            if with_ntk:
                H = H.at[rg].add(jnp.einsum("gic,gjc->gij", J_g, J_g))
            out = (jnp.einsum("igc,gc->gi", mean, sg), last.mean(axis=0).sum(axis=-1))
            return H, out + (() if recompute_jacobian else (J_g,))

        H0 = jax.lax.pcast(jnp.zeros((segs, n, n) if with_ntk else (), X.dtype), AXIS, to="varying")
        H, (f, mass, *J) = jax.lax.scan(body, H0, groups(w))
        f = jax.lax.psum(seg_sum(f.reshape(K, n)), AXIS)
        r = f - y[None, :]
        loss = 0.5 * jnp.sum(r * r, axis=1)
        mass = jax.lax.psum(seg_sum(mass.reshape(K)), AXIS) / width
        H = jax.lax.psum(H, AXIS) if with_ntk else None
        return loss, (J[0].reshape(K, n, c) if J else None), r, mass, H

    def gradient(w, J, r):
        """:math:`\\partial L/\\partial w_r = \\sum_i J_{ir} r_{q(r),i}`, from J or by a second pass."""
        if J is not None:
            return jnp.einsum("kic,ki->kc", J, r[run])

        def body(_, chunk):
            wg, sg, rg = chunk
            return None, jnp.einsum("gic,gi->gc", jac(moments(wg)[1], sg), r[rg])

        return jax.lax.scan(body, None, groups(w))[1].reshape(K, c)

    def record(w, loss, mass, H, H_init):
        return {
            "loss": loss,
            "sign_agree_plus": jax.lax.psum(seg_sum(jnp.sum((a > 0) & (w > 0), axis=1)), AXIS),
            "sign_agree_minus": jax.lax.psum(seg_sum(jnp.sum((a < 0) & (w < 0), axis=1)), AXIS),
            "last_token_mass": mass,
            "ntk_change": jnp.max(jnp.abs(jnp.linalg.eigvalsh(H - H_init)), axis=-1),
            "ntk_min_eigenvalue": jnp.linalg.eigvalsh(H)[:, 0],
            "max_weight_change": jax.lax.pmax(
                jax.ops.segment_max(jnp.max(jnp.abs(w - w0), axis=1), run, segs, indices_are_sorted=True), AXIS
            ),
        }

    rise_floor = jnp.finfo(X.dtype).eps * 0.5 * jnp.sum(y * y)

    def step(carry, loss, J, r):
        """One GD step per run; a run whose loss is non-finite or above the factor freezes; ``above``:
        first step of its current stretch above L(0) (RISE_TOLERANCE, as in train), -1 when below."""
        w, bad, t, loss0, above = carry
        diverging = ~jnp.isfinite(loss) | (loss > div * loss0)
        bad = jnp.where((bad < 0) & diverging, t, bad)
        above = jnp.where(loss > (1 + RISE_TOLERANCE) * loss0 + rise_floor, jnp.where(above < 0, t, above), -1)
        w = jnp.where((bad[run] < 0)[:, None], w - lr * gradient(w, J, r), w)
        return w, bad, t + 1, loss0, above

    def plain_steps(carry):
        def plain_step(carry, _):
            loss, J, r, _, _ = evaluate(carry[0], False)
            return step(carry, loss, J, r), None

        return jax.lax.scan(plain_step, carry, None, length=record_every - 1)[0]

    def block(carry, _):
        """Record at t = 0, k, ..., T; the last block (t = T) only records and checks divergence."""
        (w, bad, t, loss0, above), H_init = carry
        loss, J, r, mass, H = evaluate(w, True)
        H = 0.5 * (H + jnp.swapaxes(H, 1, 2))
        loss0, H_init = jnp.where(t == 0, loss, loss0), jnp.where(t == 0, H, H_init)
        rec = record(w, loss, mass, H, H_init)
        state = step((w, bad, t, loss0, above), loss, J, r)
        if record_every > 1:  # one traced copy of each pass keeps compilation short
            state = jax.lax.cond(t < steps, plain_steps, lambda s: s, state)
        return (state, H_init), rec

    zeros = jnp.zeros((segs,), X.dtype)
    none = jnp.full((segs,), -1, jnp.int32)
    init = ((w0, none, jnp.asarray(0, jnp.int32), zeros, none), jnp.zeros((segs, n, n), X.dtype))
    ((_, bad, _, _, above), H_init), recs = jax.lax.scan(block, init, None, length=steps // record_every + 1)
    return recs, H_init, jnp.where(bad >= 0, bad, above)  # as train's diverged_step


@functools.partial(
    jax.jit, static_argnames=("mesh", "runs", "steps", "record_every", "group", "recompute_jacobian")
)
def _block_impl(w0, a, coef, run, X, y, lr, div, *, mesh, runs, steps, record_every, group, recompute_jacobian):
    sharded, rep = P(AXIS), P()
    program = functools.partial(_block_program, runs=runs, steps=steps, record_every=record_every, group=group,
                                recompute_jacobian=recompute_jacobian)
    return jax.shard_map(
        program,
        mesh=mesh,
        in_specs=(sharded, sharded, sharded, sharded, rep, rep, rep, rep),
        out_specs=(rep, rep, rep),
    )(w0, a, coef, run, X, y, lr, div)


def run_block(plan: SweepPlan, seeds: Sequence[int]) -> SweepResult:
    r"""Run every width for ``plan.seeds_per_block`` seeds in the plan's compiled program.

    Seed ``s`` starts from ``init_params(jax.random.key(s), max(widths))`` (nested prefixes).
    :math:`\|H(0) - H^*\|_2` is computed here in float64 numpy.
    """
    seeds = _check_seeds(seeds)
    if len(seeds) != plan.seeds_per_block:
        raise ValueError(f"seeds: expected {plan.seeds_per_block} seeds (plan.seeds_per_block), got {len(seeds)}")
    (w0, a, run, coef), signs = _layout(plan, seeds)
    sharded = NamedSharding(plan.mesh, P(AXIS))
    dtype = plan.X.dtype
    runs = len(seeds) * len(plan.widths)
    recs, H_init, bad = _block_impl(
        *(jax.device_put(v, sharded) for v in (w0, a, coef, run)),
        plan.X, plan.y, jnp.asarray(plan.learning_rate, dtype), jnp.asarray(plan.divergence_factor, dtype),
        mesh=plan.mesh, runs=runs, steps=plan.steps, record_every=plan.record_every, group=plan.group,
        recompute_jacobian=plan.recompute_jacobian,
    )
    recs, H_init, bad = jax.device_get((recs, H_init, bad))
    S, W = len(seeds), len(plan.widths)

    def per_run(x):  # (..., runs + 1) or (runs + 1, ...) -> (W, S, ...)
        return np.swapaxes(np.asarray(x)[:runs].reshape(S, W, *np.shape(x)[1:]), 0, 1)

    fields = {k: per_run(np.moveaxis(np.asarray(recs[k]), 0, -1)) for k in RECORD_FIELDS}
    for k in ("sign_agree_plus", "sign_agree_minus"):
        fields[k] = fields[k].astype(np.int64)
    H0 = per_run(H_init)
    diff = H0.astype(np.float64) - plan.ntk_infinite
    return SweepResult(
        widths=np.array(plan.widths, np.int64),
        seeds=np.array(seeds, np.int64),
        step=np.arange(0, plan.steps + 1, plan.record_every, dtype=np.int64),
        **fields,
        n_plus=per_run(signs[:, 0]).astype(np.int64),
        n_minus=per_run(signs[:, 1]).astype(np.int64),
        diverged_step=per_run(bad).astype(np.int64),
        ntk_initial=H0,
        ntk_infinite_distance=np.abs(np.linalg.eigvalsh(diff)).max(axis=-1),
        ntk_infinite=plan.ntk_infinite,
        ntk_infinite_error=float(plan.ntk_infinite_error),
    )


_PER_SWEEP = ("widths", "step", "ntk_infinite", "ntk_infinite_error")


def concatenate(results: Sequence[SweepResult]) -> SweepResult:
    """Join blocks of one sweep along the seed axis (in the given order).

    Blocks must agree on widths, recorded steps and :math:`H^*`; a mismatch raises ValueError.
    """
    results = list(results)
    if not results:
        raise ValueError("results: expected at least one SweepResult, got none")
    first = results[0]
    for i, res in enumerate(results[1:], 1):
        for k in _PER_SWEEP:
            if not np.array_equal(getattr(res, k), getattr(first, k)):
                raise ValueError(f"results: block {i} has a different {k} from block 0; not one sweep")
    joined = {k: getattr(first, k) for k in _PER_SWEEP}
    joined["seeds"] = np.concatenate([r.seeds for r in results])
    for k in SweepResult._fields:
        if k not in joined:
            joined[k] = np.concatenate([getattr(r, k) for r in results], axis=1)
    _check_seeds(list(joined["seeds"]))
    return SweepResult(**joined)


def sweep(
    X: Float[Array, "n d"],
    y: Float[Array, " n"],
    *,
    widths: Sequence[int],
    seeds: Sequence[int],
    steps: int,
    learning_rate: float,
    record_every: int = 1,
    sigma: float = 1.0,
    output_signs: str = "random",
    seeds_per_block: int = 1,
    divergence_factor: float = 1e8,
    chunk_size: int | None = None,
    group_size: int | None = None,
    recompute_jacobian: bool = False,
    devices: Sequence[jax.Device] | None = None,
) -> SweepResult:
    r"""Train every width in ``widths`` from every seed in ``seeds``; records indexed (W, S, R).

    Run :math:`(m, s)` is gradient descent from the nested prefix
    :math:`w^{(m,s)}(0) = w^{(s)}_{1:m}(0)`:

    .. math::

        w^{(m,s)}(t+1) = w^{(m,s)}(t) - \eta\, J^{(m,s)}(t)^\top \big(f^{(m,s)}(t) - y\big),
        \qquad H^{(m,s)}(t) = J^{(m,s)}(t) J^{(m,s)}(t)^\top ,

    recorded at :math:`t = 0, k, \dots, T` (see :class:`SweepResult`). Equivalent, run by run, to ``train(Params(w[:m], a[:m]), X, y, steps=steps,
    learning_rate=learning_rate, record_every=record_every)`` with
    ``w, a = init_params(jax.random.key(seed), max(widths), sigma=sigma,
    output_signs=output_signs)``, but compiled once for all widths and seeds (see the module
    docstring). ``len(seeds)`` must be a multiple of ``seeds_per_block``.
    """
    seeds = _check_seeds(seeds)
    plan = plan_sweep(
        X, y, widths=widths, steps=steps, learning_rate=learning_rate, record_every=record_every,
        sigma=sigma, output_signs=output_signs, seeds_per_block=seeds_per_block,
        divergence_factor=divergence_factor, chunk_size=chunk_size, group_size=group_size,
        recompute_jacobian=recompute_jacobian, devices=devices,
    )
    if len(seeds) % plan.seeds_per_block:
        raise ValueError(f"seeds: expected a multiple of seeds_per_block = {plan.seeds_per_block} seeds, got {len(seeds)}")
    b = plan.seeds_per_block
    return concatenate([run_block(plan, seeds[i : i + b]) for i in range(0, len(seeds), b)])
