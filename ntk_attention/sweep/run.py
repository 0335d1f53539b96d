"""Running one block of a planned sweep on its devices: :func:`run_block`."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from ntk_attention.sweep.plan import AXIS, SweepPlan, _check_seeds
from ntk_attention.sweep.program import _block_impl, _layout
from ntk_attention.sweep.result import SweepResult

__all__ = ["run_block"]


def run_block(plan: SweepPlan, seeds: Sequence[int], *, stage=None) -> SweepResult:
    r"""Run every width for ``plan.seeds_per_block`` seeds in the plan's compiled program.

    Seed ``s`` starts from ``init_params(jax.random.key(s), max(widths))`` (nested prefixes).
    The eigenvalues :math:`\|H(t) - H(0)\|_2 = \max_k |\lambda_k(H(t) - H(0))|`,
    :math:`\lambda_{\min}(H(t))` and :math:`\|H(0) - H^*\|_2` are computed here in float64
    numpy from the recorded :math:`H(t)`. ``stage``, if given, is called with a short text before
    each phase (``"drawing and laying out the initial weights"``, ``"compiling and dispatching"``,
    ``"waiting for the device computation"``, ``"host eigenvalues"``) so that a caller can say
    what a slow block was waiting for.
    """
    seeds = _check_seeds(seeds)
    if len(seeds) != plan.seeds_per_block:
        raise ValueError(
            f"seeds: expected {plan.seeds_per_block} seeds (plan.seeds_per_block), got {len(seeds)}"
        )
    note = stage or (lambda text: None)
    note("drawing and laying out the initial weights")
    (w0, a, run, coef), signs = _layout(plan, seeds)
    sharded = NamedSharding(plan.mesh, P(AXIS))
    dtype = plan.X.dtype
    note("compiling and dispatching")
    recs, bad = _block_impl(
        *(jax.device_put(v, sharded) for v in (w0, a, coef, run)),
        plan.X,
        plan.y,
        jnp.asarray(plan.learning_rate, dtype),
        jnp.asarray(plan.divergence_factor, dtype),
        mesh=plan.mesh,
        slots=plan.slots,
        steps=plan.steps,
        record_every=plan.record_every,
        group=plan.group,
        recompute_jacobian=plan.recompute_jacobian,
        layout=plan.layout,
    )
    note("waiting for the device computation")
    recs, bad = jax.device_get((recs, bad))
    note("host eigenvalues")
    if plan.layout == "neurons":  # replicated: give it the device axis of the runs layout
        recs, bad = jax.tree.map(lambda v: np.asarray(v)[None], (recs, bad))
    dev = np.array([p[0] for p in plan.placement])
    slot = np.array([p[1] for p in plan.placement])
    S, W = len(seeds), len(plan.widths)

    def per_run(x):  # (D, R, slots + 1, ...) or (D, slots + 1) -> (W, S, ...) with R last
        x = np.asarray(x)
        x = x[dev, :, slot] if x.ndim > 2 else x[dev, slot]  # (runs, R, ...) or (runs,)
        return np.swapaxes(x.reshape(S, W, *x.shape[1:]), 0, 1)

    H = per_run(recs["ntk"]).astype(np.float64)  # (W, S, R, n, n)
    fields = {
        k: per_run(recs[k])
        for k in (
            "loss",
            "sign_agree_plus",
            "sign_agree_minus",
            "last_token_mass",
            "max_weight_change",
        )
    }
    fields["ntk_change"] = np.abs(np.linalg.eigvalsh(H - H[:, :, :1])).max(axis=-1)
    fields["ntk_min_eigenvalue"] = np.linalg.eigvalsh(H)[..., 0]
    for k in ("sign_agree_plus", "sign_agree_minus"):
        fields[k] = fields[k].astype(np.int64)
    H0 = per_run(recs["ntk"])[:, :, 0]
    diff = H0.astype(np.float64) - plan.ntk_infinite
    return SweepResult(
        widths=np.array(plan.widths, np.int64),
        seeds=np.array(seeds, np.int64),
        step=np.arange(0, plan.steps + 1, plan.record_every, dtype=np.int64),
        **fields,
        n_plus=_per_run_flat(signs[:, 0], S, W).astype(np.int64),
        n_minus=_per_run_flat(signs[:, 1], S, W).astype(np.int64),
        diverged_step=per_run(bad).astype(np.int64),
        ntk_initial=H0,
        ntk_infinite_distance=np.abs(np.linalg.eigvalsh(diff)).max(axis=-1),
        ntk_infinite=plan.ntk_infinite,
        ntk_infinite_error=float(plan.ntk_infinite_error),
    )


def _per_run_flat(x, S, W):
    """(runs,) in run order q = seed_index * W + width_index -> (W, S)."""
    return np.swapaxes(np.asarray(x).reshape(S, W), 0, 1)
