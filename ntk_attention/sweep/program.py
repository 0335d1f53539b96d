"""The compiled program of one block: every run of the block (widths × seeds, nested prefixes)
trained by gradient descent under ``lax.scan``, laid out over the devices with
:func:`jax.shard_map`."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from ntk_attention.model import _chunk_moments, _window_stats, init_params
from ntk_attention.sweep.plan import AXIS, SweepPlan
from ntk_attention.train import RISE_TOLERANCE

__all__ = ["_initial_draws", "_layout", "_block_impl"]


@functools.partial(jax.jit, static_argnames=("width", "sigma", "output_signs", "dtype"))
def _initial_draws(seeds, *, width, sigma, output_signs, dtype):
    """``init_params(jax.random.key(s), width)`` for every seed s in one program: (S, width)
    twice."""
    draw = functools.partial(
        init_params, width=width, sigma=sigma, output_signs=output_signs, dtype=dtype
    )
    return jax.vmap(lambda s: draw(jax.random.key(s)))(seeds)


def _layout(plan: SweepPlan, seeds: tuple[int, ...]):
    """Host-side neuron layout of one block: chunked w(0), a, segment id and 1/sqrt(m) per chunk.

    Run ``q = seed_index * W + width_index`` goes to ``plan.placement[q] = (device, slot)``; the
    chunks of device ``i`` are rows ``i*K … (i+1)*K - 1`` (``K = padded_chunks / devices``), its
    runs in increasing ``q``, then dummy chunks in the dump segment ``slots``. In the ``"neurons"``
    layout every run is on "device 0" of one long row range that the mesh cuts into equal shares.
    """
    dtype = np.dtype(plan.X.dtype)
    c, W = plan.chunk, len(plan.widths)
    D = 1 if plan.layout == "neurons" else plan.mesh.devices.size
    K = plan.padded_chunks // D
    W_full, A_full = (
        np.asarray(v)
        for v in _initial_draws(
            jnp.asarray(seeds, jnp.int32),
            width=plan.widths[-1],
            sigma=plan.sigma,
            output_signs=plan.output_signs,
            dtype=dtype,
        )
    )
    parts = [([], [], [], []) for _ in range(D)]
    signs = []
    for s_idx, (w_full, a_full) in enumerate(zip(W_full, A_full)):
        for m_idx, m in enumerate(plan.widths):
            dev, slot = plan.placement[s_idx * W + m_idx]
            ws, as_, seg, coef = parts[dev]
            ws.append(w_full[:m].reshape(-1, c))
            as_.append(a_full[:m].reshape(-1, c))
            seg.append(np.full(m // c, slot, np.int32))
            coef.append(np.full(m // c, 1.0 / math.sqrt(m), dtype))
            signs.append((int(np.sum(a_full[:m] > 0)), int(np.sum(a_full[:m] < 0))))
    out = []
    for ws, as_, seg, coef in parts:
        pad = K - sum(len(r) for r in seg)
        ws.append(np.zeros((pad, c), dtype))
        as_.append(np.zeros((pad, c), dtype))
        seg.append(np.full(pad, plan.slots, np.int32))
        coef.append(np.zeros(pad, dtype))
        out.append(tuple(np.concatenate(v) for v in (ws, as_, seg, coef)))
    return tuple(np.concatenate(v) for v in zip(*out)), np.array(signs)


def _block_program(
    w0,
    a,
    coef,
    run,
    X,
    y,
    lr,
    div,
    *,
    slots,
    steps,
    record_every,
    group,
    recompute_jacobian,
    collective,
):
    """One device's share of a block: GD on its chunks, per-run (segment) sums.

    ``w0``, ``a`` (K, c); ``coef`` :math:`1/\\sqrt{m_q}` and ``run`` (the run's segment) per chunk
    (K,). ``collective``: the runs are split over the mesh and every per-run sum is ``psum``-ed
    (``"neurons"`` layout); otherwise nothing leaves the device (``"runs"`` layout). Returns the
    records (R, slots + 1), the symmetrised H(t) (R, slots + 1, n, n) and the divergence steps.
    No eigenvalue (LAPACK) call happens here: see the module docstring.
    """
    K, c = w0.shape
    n = X.shape[0]
    segs = slots + 1  # + dump segment of the padding chunks
    psum = functools.partial(jax.lax.psum, axis_name=AXIS) if collective else (lambda v: v)
    pmax = functools.partial(jax.lax.pmax, axis_name=AXIS) if collective else (lambda v: v)
    xc, cx, cmax, cmin, centre = _window_stats(X)
    xd = X[:, -1]
    scale = a * coef[:, None]  # a_r / sqrt(m_q), (K, c)
    seg_sum = functools.partial(
        jax.ops.segment_sum, segment_ids=run, num_segments=segs, indices_are_sorted=True
    )
    width = jnp.maximum(psum(seg_sum(jnp.full((K,), c, X.dtype))), 1)  # 1 for empty slots

    def moments(wg):
        """Mean (shifted back), variance and last mass of G chunks, each (n, G, c)."""
        mean, var, last = (
            v.reshape(n, group, c) for v in _chunk_moments(wg.reshape(-1), xc, cx, cmax, cmin)
        )
        return mean + centre[:, None, None], var, last

    def jac(var, sg):  # J_ir = a_r / sqrt(m_q) x_{i,d} V_r(x_i), as (G, n, c)
        return jnp.moveaxis(xd[:, None, None] * var, 0, 1) * sg[:, None, :]

    def groups(w):
        return w.reshape(-1, group, c), scale.reshape(-1, group, c), run.reshape(-1, group)

    def evaluate(w, with_ntk):
        """Loss, residuals (segs, n), neuron-mean last mass, H per run and J (K, n, c) unless
        recomputed."""

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
        f = psum(seg_sum(f.reshape(K, n)))
        r = f - y[None, :]
        loss = 0.5 * jnp.sum(r * r, axis=1)
        mass = psum(seg_sum(mass.reshape(K))) / width
        H = psum(H) if with_ntk else None
        return loss, (J[0].reshape(K, n, c) if J else None), r, mass, H

    def gradient(w, J, r):
        """:math:`\\partial L/\\partial w_r = \\sum_i J_{ir} r_{q(r),i}`, from J or by a second
        pass."""
        if J is not None:
            return jnp.einsum("kic,ki->kc", J, r[run])

        def body(_, chunk):
            wg, sg, rg = chunk
            return None, jnp.einsum("gic,gi->gc", jac(moments(wg)[1], sg), r[rg])

        return jax.lax.scan(body, None, groups(w))[1].reshape(K, c)

    def record(w, loss, mass, H):
        return {
            "loss": loss,
            "sign_agree_plus": psum(seg_sum(jnp.sum((a > 0) & (w > 0), axis=1))),
            "sign_agree_minus": psum(seg_sum(jnp.sum((a < 0) & (w < 0), axis=1))),
            "last_token_mass": mass,
            "ntk": H,
            "max_weight_change": pmax(
                jax.ops.segment_max(
                    jnp.max(jnp.abs(w - w0), axis=1), run, segs, indices_are_sorted=True
                )
            ),
        }

    rise_floor = jnp.finfo(X.dtype).eps * 0.5 * jnp.sum(y * y)

    def step(carry, loss, J, r):
        """One GD step per run; a run whose loss is non-finite or above the factor freezes;
        ``above``: first step of its current stretch above L(0) (RISE_TOLERANCE, as in train), -1
        when below."""
        w, bad, t, loss0, above = carry
        diverging = ~jnp.isfinite(loss) | (loss > div * loss0)
        bad = jnp.where((bad < 0) & diverging, t, bad)
        above = jnp.where(
            loss > (1 + RISE_TOLERANCE) * loss0 + rise_floor, jnp.where(above < 0, t, above), -1
        )
        w = jnp.where((bad[run] < 0)[:, None], w - lr * gradient(w, J, r), w)
        return w, bad, t + 1, loss0, above

    def plain_steps(carry):
        def plain_step(carry, _):
            loss, J, r, _, _ = evaluate(carry[0], False)
            return step(carry, loss, J, r), None

        return jax.lax.scan(plain_step, carry, None, length=record_every - 1)[0]

    def block(carry, _):
        """Record at t = 0, k, ..., T; the last block (t = T) only records and checks divergence."""
        w, bad, t, loss0, above = carry
        loss, J, r, mass, H = evaluate(w, True)
        H = 0.5 * (H + jnp.swapaxes(H, 1, 2))
        loss0 = jnp.where(t == 0, loss, loss0)
        rec = record(w, loss, mass, H)
        state = step((w, bad, t, loss0, above), loss, J, r)
        if record_every > 1:  # one traced copy of each pass keeps compilation short
            state = jax.lax.cond(t < steps, plain_steps, lambda s: s, state)
        return state, rec

    zeros = jnp.zeros((segs,), X.dtype)
    none = jnp.full((segs,), -1, jnp.int32)
    init = (w0, none, jnp.asarray(0, jnp.int32), zeros, none)
    if (
        not collective
    ):  # every per-run value is device-local (varying over the mesh) from the first step
        init = (w0,) + tuple(jax.lax.pcast(v, AXIS, to="varying") for v in init[1:])
    (_, bad, _, _, above), recs = jax.lax.scan(block, init, None, length=steps // record_every + 1)
    bad = jnp.where(bad >= 0, bad, above)  # as train's diverged_step
    if collective:
        return recs, bad
    return jax.tree.map(
        lambda v: v[None], (recs, bad)
    )  # a leading device axis, laid out over the mesh


@functools.partial(
    jax.jit,
    static_argnames=(
        "mesh",
        "slots",
        "steps",
        "record_every",
        "group",
        "recompute_jacobian",
        "layout",
    ),
)
def _block_impl(
    w0,
    a,
    coef,
    run,
    X,
    y,
    lr,
    div,
    *,
    mesh,
    slots,
    steps,
    record_every,
    group,
    recompute_jacobian,
    layout,
):
    sharded, rep = P(AXIS), P()
    collective = layout == "neurons"
    program = functools.partial(
        _block_program,
        slots=slots,
        steps=steps,
        record_every=record_every,
        group=group,
        recompute_jacobian=recompute_jacobian,
        collective=collective,
    )
    out = rep if collective else sharded
    return jax.shard_map(
        program,
        mesh=mesh,
        in_specs=(sharded, sharded, sharded, sharded, rep, rep, rep, rep),
        out_specs=(out, out),
    )(w0, a, coef, run, X, y, lr, div)
