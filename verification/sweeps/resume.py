r"""Running a sweep's missing blocks, resumably: a block file that exists and carries this sweep's
fingerprint and seeds is never recomputed, so a sweep killed at any point (even SIGKILL) reruns only
the missing blocks; ``seeds`` may grow between runs; any other change of configuration is refused
for an existing folder. Process ``p`` of ``P`` computes blocks ``j ≡ p (mod P)`` on its own
devices."""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ntk_attention import sweep as sw
from verification import files
from verification.sweeps.plan import block_seeds, context, fingerprint, learning_rate
from verification.sweeps.store import (
    block_path,
    check_header,
    clear,
    device_names,
    load_block,
    read_json,
    write_header,
)
from verification.sweeps.watchdog import TIMEOUT_EXIT, watched

__all__ = ["SweepRun", "layout_record", "run_sweep"]


class SweepRun(NamedTuple):
    """What :func:`run_sweep` did: blocks computed and reused by this process, wall seconds."""

    computed: list[int]
    reused: list[int]
    seconds: float


# ------------------------------------------------------------------------------------ configuration


def layout_record(plan) -> dict:
    """What sweep.json says about a plan's device layout."""
    return {
        "kind": plan.layout,
        "devices": int(plan.mesh.devices.size),
        "placement": [list(p) for p in plan.placement],
        "slots": int(plan.slots),
        "chunk": int(plan.chunk),
        "chunks_per_device": int(plan.padded_chunks // plan.mesh.devices.size),
        "device_bytes_estimate": int(plan.device_bytes),
        "device_budget_bytes": int(plan.device_budget),
    }


def run_sweep(
    config: dict,
    out,
    *,
    process_id: int = 0,
    process_count: int = 1,
    devices=None,
    log=print,
    block_timeout: float | None = None,
    layout: str = "auto",
    force: bool = False,
) -> SweepRun:
    """Compute this process's missing blocks of the sweep ``config`` into ``out`` (no merging).

    Process ``process_id`` of ``process_count`` owns blocks ``j ≡ process_id (mod process_count)``.
    Each block is saved atomically as soon as it is finished; existing valid blocks are reused.
    ``devices`` (default :func:`jax.local_devices`) carry the runs (``layout``, default ``"auto"``:
    see :func:`ntk_attention.sweep.plan_sweep`). ``block_timeout`` (seconds; None: no watchdog):
    a block not finished in time is reported on stderr and the process exits with status
    :data:`TIMEOUT_EXIT` (finished blocks kept). An ``out`` holding another sweep is refused,
    naming the differing keys with both values, unless ``force`` (its files are then deleted).
    """
    if not 0 <= process_id < process_count:
        raise ValueError(
            "process_id: expected 0 <= process_id < process_count = "
            f"{process_count}, got {process_id}"
        )
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "blocks").mkdir(exist_ok=True)
    (out / "shards").mkdir(exist_ok=True)
    fp = fingerprint(config)
    try:
        check_header(out, fp, config)
    except files.ResultsError:
        if not force:
            raise
        clear(out)
    if process_id == 0:
        write_header(out, config, fp, complete=False)
    blocks = block_seeds(config)
    mine = list(range(process_id, len(blocks), process_count))
    # temporary files of a killed run (only this process's blocks: others may be writing)
    for j in mine:
        for tmp in (out / "blocks").glob(f".{block_path(out, j).name}.*.tmp"):
            tmp.unlink(missing_ok=True)
    stale = [f".process-{process_id}-of-{process_count}.json.*.tmp"]  # this process's other files
    for pattern in stale + ([".sweep.json.*.tmp", ".sweep.npz.*.tmp"] if process_id == 0 else []):
        for tmp in [*(out / "shards").glob(pattern), *out.glob(pattern)]:
            tmp.unlink(missing_ok=True)
    reused = [j for j in mine if load_block(out, j, fp, blocks[j]) is not None]
    todo = [j for j in mine if j not in reused]
    devices = list(jax.local_devices() if devices is None else devices)
    manifest = {
        "process_id": process_id,
        "process_count": process_count,
        "host": platform.node(),
        "devices": device_names(devices),
        "blocks_owned": mine,
        "blocks_reused": reused,
        "blocks_computed": [],
        "block_seconds": [],
    }
    shard = out / "shards" / f"process-{process_id}-of-{process_count}.json"
    try:  # a rerun with nothing to compute keeps the layout the blocks were computed with
        manifest["layout"] = (read_json(shard) or {}).get("layout")
    except files.ResultsError:
        manifest["layout"] = None
    if todo:
        sweep = config["sweep"]
        dtype = jnp.dtype(sweep["dtype"])
        data = context(config).dataset()
        plan = sw.plan_sweep(
            data.X.astype(dtype),
            data.y.astype(dtype),
            widths=sweep["widths"],
            steps=sweep["steps"],
            learning_rate=learning_rate(config),
            record_every=sweep["record_every"],
            sigma=config["data"]["sigma"],
            output_signs=sweep["output_signs"],
            seeds_per_block=sweep["seeds_per_block"],
            divergence_factor=sweep["divergence_factor"],
            chunk_size=sweep["chunk_size"] or None,
            devices=devices,
            layout=layout,
        )
        manifest["layout"] = layout_record(plan)
        for count, j in enumerate(todo, 1):
            tb = time.perf_counter()

            def timed_out(phase, j=j, tb=tb):
                waited = time.perf_counter() - tb
                msg = (
                    f"ntk-verify sweep: block {j} (seeds {list(blocks[j])}) "
                    f"of process {process_id} not finished "
                    f"after {waited:.0f} s (--block-timeout {block_timeout:g}); "
                    f"it was {phase}, on "
                    f"{len(devices)} device(s) {', '.join(manifest['devices'])} "
                    f"in the {plan.layout!r} layout. "
                    f"{len(manifest['blocks_computed']) + len(reused)} finished block(s) "
                    f"are kept in {out / 'blocks'}; rerun the same command to resume "
                    "(raise --block-timeout if blocks "
                    f"are simply this slow). Exiting with status {TIMEOUT_EXIT}."
                )
                manifest["timed_out"] = {
                    "block": j,
                    "seconds": round(waited, 3),
                    "phase": phase,
                    "block_timeout": block_timeout,
                }
                try:
                    files.atomic_write(shard, files.json_text(manifest))
                finally:
                    print(msg, file=sys.stderr, flush=True)
                    os._exit(TIMEOUT_EXIT)

            res = watched(
                lambda stage, j=j: sw.run_block(plan, blocks[j], stage=stage),
                block_timeout,
                timed_out,
            )
            meta = {
                "fingerprint": np.array(fp),
                "block": np.array(j),
                "process_id": np.array(process_id),
                "config": np.array(files.json_text(config)),
            }  # names the differing keys if merged into another sweep
            files.atomic_write(block_path(out, j), files.npz_bytes({**res._asdict(), **meta}))
            manifest["blocks_computed"].append(j)
            manifest["block_seconds"].append(round(time.perf_counter() - tb, 3))
            files.atomic_write(shard, files.json_text(manifest))
            if log:
                log(
                    f"block {j} ({count}/{len(todo)} of process {process_id}), "
                    f"seeds {list(blocks[j])}: "
                    f"{manifest['block_seconds'][-1]:.2f} s"
                )
    files.atomic_write(shard, files.json_text(manifest))
    return SweepRun(manifest["blocks_computed"], reused, time.perf_counter() - t0)


# -------------------------------------------------------------------------------------------- merge
