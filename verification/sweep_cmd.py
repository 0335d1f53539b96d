r"""``ntk-verify sweep``: width × seed sweeps on disk, resumable, one shard per process.

The maths is :mod:`ntk_attention.sweep` (one compiled program for every width and seed; the
runs laid out over the process's devices). This module adds the configuration, the files,
resuming, several hosts and merging.

Configuration: the ``[run]`` seed and the ``[data]`` section of :mod:`verification.config` (the
same state-space data set as ``ntk-verify run``: :meth:`verification.claims.Context.dataset`),
plus ``[sweep]`` (:data:`SWEEP_FIELDS`). Seeds are ``Context.network_seeds(seeds)``; seeds
``j*B … (j+1)*B − 1`` (``B = seeds_per_block``) form **block j**, covering every width. Flags
override the file.

Layout of ``--out DIR``::

    sweep.json                  format, configuration, fingerprint, seeds, blocks, environment
                                (versions, devices of every process), complete: true|false
    blocks/block-00007.npz      one finished block (np.savez, no pickle; written atomically:
                                temporary file + os.replace), with the sweep's fingerprint
    shards/process-1-of-4.json  one per process: its host, devices, blocks computed and reused
    sweep.npz                   the merged result: every field of ntk_attention.sweep.SweepResult,
                                arrays indexed width × seed × recorded step, plus the training
                                windows and targets and the sign agreement as fractions; sweep.json
                                "arrays" names every array's dimensions and meaning (units, the
                                loss convention ½Σ); ntk_attention.sweep.load(path).to_xarray()

Devices: :func:`ntk_attention.sweep.plan_sweep` chooses the layout — whole runs per device with
no collective (``"runs"``) whenever the most loaded device's share fits its memory, else every
run split over the devices (``"neurons"``); the shard manifest and ``sweep.json`` record which
(``layout``). Watchdog: with ``block_timeout`` (``--block-timeout``, default
:data:`BLOCK_TIMEOUT` s) a block runs on a worker thread; one not finished in time is reported on
stderr (block, seeds, devices, layout, and the phase it was in: compiling, waiting for the device
computation …), recorded in the shard manifest, and the process ends with status
:data:`TIMEOUT_EXIT` through :func:`os._exit` (a running XLA computation cannot be cancelled);
finished blocks stay on disk and a rerun resumes.

Resume: a block file that exists and carries this sweep's fingerprint and seeds is never
recomputed, so a sweep killed at any point (even SIGKILL) reruns only the missing blocks; every
block has the same shapes, so the compiled program is reused. ``--seeds`` may grow between runs
(the blocks of the earlier seeds are reused); any other change of configuration is refused for
an existing DIR.

Hosts: ``--distributed`` calls :func:`jax.distributed.initialize` (coordinator address, number
of processes and process id from the flags, else from the environment as JAX detects it: SLURM,
Cloud TPU, Open MPI, ``JAX_COORDINATOR_ADDRESS``). Process ``p`` of ``P`` computes blocks
``j ≡ p (mod P)`` on its own devices (no communication between hosts during the sweep) and
writes its own block files and shard manifest; after a barrier process 0 merges when it sees
every block (a shared file system); otherwise copy every host's ``blocks/`` and ``shards/`` into
one DIR and run ``ntk-verify report DIR``, which merges them (see docs/distributed.md).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from verification import config as cfg
from verification import report

__all__ = [
    "SWEEP_FIELDS",
    "FORMAT",
    "SweepRun",
    "register",
    "resolve_config",
    "fingerprint",
    "config_differences",
    "stability_warning",
    "block_seeds",
    "run_sweep",
    "merge",
    "load_merged",
    "render_sweep",
    "BLOCK_TIMEOUT",
    "TIMEOUT_EXIT",
]

BLOCK_TIMEOUT = 600.0
"""Default seconds a block may take (compilation of the first block included) before the watchdog
reports it and ends the process (``--block-timeout``)."""
TIMEOUT_EXIT = 3
"""Exit status of a process ended by the block watchdog."""

FORMAT = "ntk-verify-sweep/1"

SWEEP_FIELDS: dict[str, cfg.Field] = {
    "widths": cfg.int_list([64, 256, 1024], "widths m (strictly increasing; the chunk divides all of them)"),
    "seeds": cfg.positive_int(4, "network seeds per width (Context.network_seeds)"),
    "steps": cfg.positive_int(100, "gradient-descent steps T"),
    "record_every": cfg.positive_int(10, "record every k steps (divides steps)"),
    "learning_rate": cfg.positive_float(0.05, "step size eta (the same for every width)"),
    "output_signs": cfg.choice("random", ("random", "minus", "plus"), "output weights a_r"),
    "seeds_per_block": cfg.positive_int(1, "seeds per block: the unit of work, of saving and of resuming"),
    "chunk_size": cfg.nonneg_int(0, "neurons per chunk, a divisor of every width (0: automatic)"),
    "divergence_factor": cfg.positive_float(1e8, "a run stops once L(t) > factor * L(0) or is not finite"),
    "dtype": cfg.choice("float64", ("float64", "float32"), "floating-point type of the computation"),
}
cfg.EXTRA_SECTIONS["sweep"] = SWEEP_FIELDS

BLOCK_META = ("fingerprint", "block", "process_id")


def _fraction(count, total):
    """count / total along the step axis; NaN where total is 0 (no neuron of that sign)."""
    total = np.asarray(total, np.float64)[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.asarray(count) / np.where(total > 0, total, 1), np.nan)


def _arrays_doc() -> dict:
    from ntk_attention.sweep import ARRAYS

    doc = {k: {"dims": list(dims), "description": text} for k, (dims, text) in ARRAYS.items()}
    doc["windows"] = {"dims": ["i", "token"], "description": "the n training windows x_i (the [data] set), float64"}
    doc["targets"] = {"dims": ["i"], "description": "the targets y_i, float64"}
    for side in ("plus", "minus"):
        doc[f"sign_agree_{side}_fraction"] = {"dims": ["width", "seed", "step"],
                                             "description": f"sign_agree_{side} / n_{side}, a fraction in [0, 1]; NaN when n_{side} = 0"}
    return doc

SECTIONS = ("run", "data", "sweep")
"""Configuration sections a sweep depends on (the ones kept in sweep.json)."""


class SweepRun(NamedTuple):
    """What :func:`run_sweep` did: blocks computed and reused by this process, wall seconds."""

    computed: list[int]
    reused: list[int]
    seconds: float


# ------------------------------------------------------------------------------------ configuration


def resolve_config(path: str | None = None, **overrides) -> dict:
    """The validated configuration: defaults, then the TOML file, then non-None ``overrides``.

    ``overrides`` are ``[sweep]`` keys (``widths=[64, 256]``, ``seeds=8`` …); they pass the same
    validation as the file (ConfigError naming ``sweep.<key>``).
    """
    config = cfg.load(path) if path else cfg.default_config()
    raw = {sec: dict(body) for sec, body in config.items()}
    for key, value in overrides.items():
        if value is not None:
            if key not in SWEEP_FIELDS:
                raise cfg.ConfigError(f"sweep.{key}: unknown key; allowed keys in [sweep]: {', '.join(SWEEP_FIELDS)}")
            raw["sweep"][key] = value
    config = cfg.validate(raw)
    sweep = config["sweep"]
    if sweep["seeds"] % sweep["seeds_per_block"]:
        raise cfg.ConfigError(
            f"sweep.seeds: expected a multiple of sweep.seeds_per_block = {sweep['seeds_per_block']}, got {sweep['seeds']}"
        )
    if sweep["chunk_size"] and any(m % sweep["chunk_size"] for m in sweep["widths"]):
        raise cfg.ConfigError(f"sweep.chunk_size: expected a divisor of every width {sweep['widths']}, got {sweep['chunk_size']}")
    return config


def fingerprint(config: dict) -> str:
    """SHA-256 of everything that determines a block's numbers: [run], [data], [sweep] but the seed count."""
    sweep = {k: v for k, v in config["sweep"].items() if k != "seeds"}
    text = json.dumps({"format": FORMAT, "run": {"seed": config["run"]["seed"]}, "data": config["data"],
                       "sweep": sweep}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _context(config):
    from verification.claims import Context

    return Context(config=config, seed=config["run"]["seed"], quiet=True)


def block_seeds(config: dict) -> list[tuple[int, ...]]:
    """The seeds of each block, in block order."""
    seeds = _context(config).network_seeds(config["sweep"]["seeds"])
    b = config["sweep"]["seeds_per_block"]
    return [tuple(seeds[i : i + b]) for i in range(0, len(seeds), b)]


# -------------------------------------------------------------------------------------------- files


def _block_path(out: Path, j: int) -> Path:
    return out / "blocks" / f"block-{j:05d}.npz"


def _npz_bytes(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return buf.getvalue()


def _read_npz(path: Path) -> dict | None:
    """Arrays of an .npz file, or None when it is missing or unreadable (never unpickles)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def _load_block(out: Path, j: int, fp: str, seeds: tuple[int, ...]):
    """Block ``j`` as a SweepResult if its file exists and belongs to this sweep, else None."""
    from ntk_attention.sweep import SweepResult

    arrays = _read_npz(_block_path(out, j))
    if arrays is None or any(k not in arrays for k in SweepResult._fields + BLOCK_META):
        return None
    if str(arrays["fingerprint"]) != fp or tuple(arrays["seeds"].tolist()) != seeds:
        return None
    return _as_result(arrays)


def _as_result(arrays: dict):
    from ntk_attention.sweep import SweepResult

    fields = {k: arrays[k] for k in SweepResult._fields}
    fields["ntk_infinite_error"] = float(fields["ntk_infinite_error"])
    return SweepResult(**fields)


def _json(obj) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n"


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise report.ResultsError(f"{path}: not valid JSON, truncated or edited ({err})") from None


def _devices(devices) -> list[str]:
    return [f"{d.platform}:{d.id}:{d.device_kind}" for d in devices]


def _write_header(out: Path, config: dict, fp: str, *, complete: bool, processes: list | None = None,
                  sweep_sha256: str | None = None) -> None:
    from verification.pipeline import environment

    seeds = [s for block in block_seeds(config) for s in block]
    report.atomic_write(out / "sweep.json", _json({
        "format": FORMAT,
        "fingerprint": fp,
        "config": {sec: config[sec] for sec in SECTIONS},
        "seeds": seeds,
        "blocks": len(block_seeds(config)),
        "environment": environment(),
        "processes": processes or [],
        "layout": sorted({p["layout"]["kind"] for p in processes or [] if p.get("layout")}),
        "complete": complete,
        "sweep_npz_sha256": sweep_sha256,  # hardening: an edited or truncated sweep.npz is refused
        "arrays": _arrays_doc(),
    }))


def config_differences(old: dict, new: dict) -> list[tuple[str, object, object]]:
    """``(section.key, old value, new value)`` for every key of :data:`SECTIONS` that differs,
    the seed count excepted (more seeds extend a sweep); a key missing on one side shows as None."""
    diffs = []
    for sec in SECTIONS:
        a, b = old.get(sec) or {}, new.get(sec) or {}
        for key in sorted(set(a) | set(b)):
            if (sec, key) != ("sweep", "seeds") and a.get(key) != b.get(key):
                diffs.append((f"{sec}.{key}", a.get(key), b.get(key)))
    return diffs


def _check_header(out: Path, fp: str, config: dict | None = None) -> dict | None:
    head = _read_json(out / "sweep.json")
    if head is None:
        return None
    if head.get("format") != FORMAT:
        raise report.ResultsError(f"{out / 'sweep.json'}: expected format {FORMAT!r}, got {head.get('format')!r}")
    if head.get("fingerprint") != fp:
        diffs = config_differences(head.get("config") or {}, config or {}) if config is not None else []
        named = "; ".join(f"{k}: {a!r} there, {b!r} now" for k, a, b in diffs) or "its fingerprint differs"
        raise report.ResultsError(
            f"--out: {str(out)!r} holds a different sweep ({named}); only the seed count may change when "
            "resuming. Choose another --out, or pass --force to delete its blocks and start this sweep there"
        )
    return head


def _clear(out: Path) -> None:
    """Delete a sweep's files in ``out`` (blocks, shard manifests, merged arrays, header, renders)."""
    for path in [*(out / "blocks").glob("block-*.npz"), *(out / "shards").glob("process-*-of-*.json"),
                 *(out / name for name in ("sweep.npz", "sweep.png", "sweep.json"))]:
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- run


def _layout_record(plan) -> dict:
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


def _watched(fn, timeout: float | None, on_timeout):
    """``fn(stage)`` on a worker thread, waiting at most ``timeout`` s; on time-out ``on_timeout(stage)``.

    ``stage`` is a callable the work calls with the phase it enters; ``on_timeout`` receives the
    last phase and must not return (it ends the process). Without ``timeout`` ``fn`` runs here.
    """
    phase = ["starting"]

    def stage(text):
        phase[0] = text

    if not timeout:
        return fn(stage)
    box = {}

    def target():
        try:
            box["value"] = fn(stage)
        except BaseException as err:  # noqa: BLE001 - re-raised on the calling thread
            box["error"] = err

    worker = threading.Thread(target=target, name="ntk-verify-sweep-block", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        on_timeout(phase[0])
        raise RuntimeError("on_timeout returned")  # pragma: no cover - on_timeout ends the process
    if "error" in box:
        raise box["error"]
    return box["value"]


def run_sweep(config: dict, out, *, process_id: int = 0, process_count: int = 1, devices=None,
              log=print, block_timeout: float | None = None, layout: str = "auto",
              force: bool = False) -> SweepRun:
    """Compute this process's missing blocks of the sweep ``config`` into ``out`` (no merging).

    Process ``process_id`` of ``process_count`` owns blocks ``j ≡ process_id (mod process_count)``.
    Each block is saved atomically as soon as it is finished; existing valid blocks are reused.
    ``devices`` (default :func:`jax.local_devices`) carry the runs (``layout``, default ``"auto"``:
    see :func:`ntk_attention.sweep.plan_sweep`). ``block_timeout`` (seconds; None: no watchdog):
    a block not finished in time is reported on stderr and the process exits with status
    :data:`TIMEOUT_EXIT` (finished blocks kept). An ``out`` holding another sweep is refused,
    naming the differing keys with both values, unless ``force`` (its files are then deleted).
    """
    import jax
    import jax.numpy as jnp

    from ntk_attention import sweep as sw

    if not 0 <= process_id < process_count:
        raise ValueError(f"process_id: expected 0 <= process_id < process_count = {process_count}, got {process_id}")
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "blocks").mkdir(exist_ok=True)
    (out / "shards").mkdir(exist_ok=True)
    fp = fingerprint(config)
    try:
        _check_header(out, fp, config)
    except report.ResultsError:
        if not force:
            raise
        _clear(out)
    if process_id == 0:
        _write_header(out, config, fp, complete=False)
    blocks = block_seeds(config)
    mine = list(range(process_id, len(blocks), process_count))
    for j in mine:  # temporary files of a killed run (only this process's blocks: others may be writing)
        for tmp in (out / "blocks").glob(f".{_block_path(out, j).name}.*.tmp"):
            tmp.unlink(missing_ok=True)
    stale = [f".process-{process_id}-of-{process_count}.json.*.tmp"]  # hardening: this process's other files
    for pattern in stale + ([".sweep.json.*.tmp", ".sweep.npz.*.tmp"] if process_id == 0 else []):
        for tmp in [*(out / "shards").glob(pattern), *out.glob(pattern)]:
            tmp.unlink(missing_ok=True)
    reused = [j for j in mine if _load_block(out, j, fp, blocks[j]) is not None]
    todo = [j for j in mine if j not in reused]
    devices = list(jax.local_devices() if devices is None else devices)
    manifest = {
        "process_id": process_id,
        "process_count": process_count,
        "host": platform.node(),
        "devices": _devices(devices),
        "blocks_owned": mine,
        "blocks_reused": reused,
        "blocks_computed": [],
        "block_seconds": [],
    }
    shard = out / "shards" / f"process-{process_id}-of-{process_count}.json"
    try:  # a rerun with nothing to compute keeps the layout the blocks were computed with
        manifest["layout"] = (_read_json(shard) or {}).get("layout")
    except report.ResultsError:
        manifest["layout"] = None
    if todo:
        sweep = config["sweep"]
        dtype = jnp.dtype(sweep["dtype"])
        data = _context(config).dataset()
        plan = sw.plan_sweep(
            data.X.astype(dtype), data.y.astype(dtype), widths=sweep["widths"], steps=sweep["steps"],
            learning_rate=sweep["learning_rate"], record_every=sweep["record_every"], sigma=config["data"]["sigma"],
            output_signs=sweep["output_signs"], seeds_per_block=sweep["seeds_per_block"],
            divergence_factor=sweep["divergence_factor"], chunk_size=sweep["chunk_size"] or None, devices=devices,
            layout=layout,
        )
        manifest["layout"] = _layout_record(plan)
        for count, j in enumerate(todo, 1):
            tb = time.perf_counter()

            def timed_out(phase, j=j, tb=tb):
                waited = time.perf_counter() - tb
                msg = (f"ntk-verify sweep: block {j} (seeds {list(blocks[j])}) of process {process_id} not finished "
                       f"after {waited:.0f} s (--block-timeout {block_timeout:g}); it was {phase}, on "
                       f"{len(devices)} device(s) {', '.join(manifest['devices'])} in the {plan.layout!r} layout. "
                       f"{len(manifest['blocks_computed']) + len(reused)} finished block(s) are kept in "
                       f"{out / 'blocks'}; rerun the same command to resume (raise --block-timeout if blocks "
                       f"are simply this slow). Exiting with status {TIMEOUT_EXIT}.")
                manifest["timed_out"] = {"block": j, "seconds": round(waited, 3), "phase": phase,
                                         "block_timeout": block_timeout}
                try:
                    report.atomic_write(shard, _json(manifest))
                finally:
                    print(msg, file=sys.stderr, flush=True)
                    os._exit(TIMEOUT_EXIT)

            res = _watched(lambda stage, j=j: sw.run_block(plan, blocks[j], stage=stage), block_timeout, timed_out)
            meta = {"fingerprint": np.array(fp), "block": np.array(j), "process_id": np.array(process_id),
                    "config": np.array(_json(config))}  # names the differing keys if merged into another sweep
            report.atomic_write(_block_path(out, j), _npz_bytes({**res._asdict(), **meta}))
            manifest["blocks_computed"].append(j)
            manifest["block_seconds"].append(round(time.perf_counter() - tb, 3))
            report.atomic_write(shard, _json(manifest))
            if log:
                log(f"block {j} ({count}/{len(todo)} of process {process_id}), seeds {list(blocks[j])}: "
                    f"{manifest['block_seconds'][-1]:.2f} s")
    report.atomic_write(shard, _json(manifest))
    return SweepRun(manifest["blocks_computed"], reused, time.perf_counter() - t0)


# -------------------------------------------------------------------------------------------- merge


def merge(out) -> Path:
    """Join every block of the sweep in ``out`` into ``sweep.npz``; mark ``sweep.json`` complete.

    Raises :class:`verification.report.ResultsError` naming the missing blocks (and the processes
    that own them) when some are absent or belong to another sweep.
    """
    from ntk_attention import sweep as sw

    out = Path(out)
    head = _read_json(out / "sweep.json")
    if head is None or head.get("format") != FORMAT:
        raise report.ResultsError(f"{out / 'sweep.json'}: not found or not an ntk-verify sweep")
    config = head["config"]
    fp = fingerprint(config)
    if fp != head.get("fingerprint"):
        raise report.ResultsError(f"{out / 'sweep.json'}: fingerprint does not match its configuration; edited")
    blocks = block_seeds(config)
    shards = sorted((out / "shards").glob("process-*-of-*.json"))
    manifests = [m for m in (_read_json(p) for p in shards) if m]
    parts, missing = [], []
    for j, seeds in enumerate(blocks):
        res = _load_block(out, j, fp, seeds)
        (missing.append(j) if res is None else parts.append(res))
    for j in missing:
        foreign = _read_npz(_block_path(out, j))
        if foreign is not None and "fingerprint" in foreign and str(foreign["fingerprint"]) != fp:
            other = json.loads(str(foreign["config"])) if "config" in foreign else None
            diffs = config_differences(other, config) if other is not None else []
            named = "; ".join(f"{k}: {a!r} there, {b!r} in sweep.json" for k, a, b in diffs) or "its fingerprint differs"
            raise report.ResultsError(f"{_block_path(out, j)}: a block of another configuration ({named}); not "
                                      "part of this sweep: remove it or copy the right host's block")
    if missing:
        owners = {m["process_count"] for m in manifests}
        who = "; ".join(f"{P} processes: block j is computed by process j mod {P}" for P in sorted(owners))
        raise report.ResultsError(
            f"{out}: cannot merge the sweep, {len(missing)} of {len(blocks)} block(s) missing: {missing[:20]}"
            f"{' …' if len(missing) > 20 else ''} ({who or 'no shard manifests found'}); copy every "
            "process's blocks/ into this folder or rerun `ntk-verify sweep` with the same --out"
        )
    merged = sw.concatenate(parts)
    data = _context(config).dataset()
    extra = {
        "windows": np.asarray(data.X, np.float64),
        "targets": np.asarray(data.y, np.float64),
        **{f"sign_agree_{side}_fraction": _fraction(getattr(merged, f"sign_agree_{side}"), getattr(merged, f"n_{side}"))
           for side in ("plus", "minus")},
    }
    raw = _npz_bytes({**merged._asdict(), **extra})
    report.atomic_write(out / "sweep.npz", raw)
    processes = [{k: m.get(k) for k in ("process_id", "process_count", "host", "devices", "blocks_computed",
                                        "layout")} for m in manifests]
    _write_header(out, config, fp, complete=True, processes=processes, sweep_sha256=hashlib.sha256(raw).hexdigest())
    return out / "sweep.npz"


def load_merged(out):
    """The merged :class:`ntk_attention.sweep.SweepResult` of ``out`` (merging first if needed)."""
    out = Path(out)
    head = _read_json(out / "sweep.json")
    if head is None or not head.get("complete") or not (out / "sweep.npz").exists():
        merge(out)
        head = _read_json(out / "sweep.json")
    try:
        raw = (out / "sweep.npz").read_bytes()
    except FileNotFoundError:
        raw = b""
    if hashlib.sha256(raw).hexdigest() != head.get("sweep_npz_sha256"):
        raise report.ResultsError(f"{out / 'sweep.npz'}: SHA-256 differs from sweep.json's sweep_npz_sha256; truncated "
                                  f"or edited: delete it and run `ntk-verify report {out}` to merge the blocks again")
    arrays = _read_npz(io.BytesIO(raw))
    if arrays is None:
        raise report.ResultsError(f"{out / 'sweep.npz'}: unreadable; delete it and run `ntk-verify report {out}`")
    return _as_result(arrays)


# ------------------------------------------------------------------------------------------- report


def _slope(widths, values):
    """:func:`verification.stats.loglog_slope` of every positive finite (width, seed) value against m,
    or None when fewer than 3 such points at 2 widths remain."""
    from verification import stats as st

    x = np.broadcast_to(np.asarray(widths, float)[:, None], np.shape(values)).ravel()
    v = np.asarray(values, float).ravel()
    ok = np.isfinite(v) & (v > 0)
    if ok.sum() < 3 or np.unique(x[ok]).size < 2:
        return None
    return st.loglog_slope(x[ok], v[ok])


def _slope_text(fit) -> str:
    if fit is None:
        return "n/a (fewer than 3 positive points at 2 widths)"
    return f"{fit.slope:+.2f} [{fit.lo:+.2f}, {fit.hi:+.2f}] (95%, {fit.points} points)"


def lambda_min_text(matrix, error: float) -> str:
    r"""``λ_min(H*) = …`` with a caveat when it is below what the computation resolves.

    Resolution :math:`\rho = n\,\varepsilon_{quad} + n\,\epsilon_{64}\,\|H^*\|_2`: an entrywise
    quadrature error :math:`\varepsilon_{quad}` moves an eigenvalue by at most
    :math:`\|E\|_2 \le n \max|E_{ij}|`, float64 rounding by about :math:`n\epsilon\|H^*\|_2`.
    """
    H = np.asarray(matrix, np.float64)
    ev = np.linalg.eigvalsh(H)
    n = H.shape[0]
    rho = n * float(error) + n * np.finfo(np.float64).eps * float(np.abs(ev).max())
    text = f"λ_min(H*) = {ev[0]:.3e} (quadrature error ≤ {error:.1e})"
    if abs(ev[0]) <= rho:
        text += (f", below resolution: |λ_min| ≤ {rho:.1e} = n × quadrature error + n ε ‖H*‖₂, so H* is "
                 "numerically singular here and λ_min(H*) is indistinguishable from 0")
    return text


def render_sweep(out) -> str | None:
    """Markdown (and ``sweep.png``) for the sweep in ``out``; None when ``out`` holds no sweep.

    Per width, means over seeds: final loss, :math:`\\|H(0)-H^*\\|_2`,
    :math:`\\sup_t\\|H(t)-H(0)\\|_2`, :math:`\\max_t\\max_r|w_r(t)-w_r(0)|`, sign agreement at T
    and last-token mass at T; then log-log slopes of the three distances against m with 95% t
    intervals (every width × seed value a point), and :func:`lambda_min_text`.
    """
    out = Path(out)
    if not (out / "sweep.json").exists():
        return None
    res = load_merged(out)
    widths = res.widths.astype(float)
    stats = {
        "final loss ½Σ(f−y)²": res.loss[:, :, -1].mean(axis=1),
        "‖H(0)−H*‖": res.ntk_infinite_distance.mean(axis=1),
        "sup_t ‖H(t)−H(0)‖": res.ntk_change.max(axis=2).mean(axis=1),
        "max_t,r abs(Δw_r)": res.max_weight_change.max(axis=2).mean(axis=1),
        "sign agreement at T": ((res.sign_agree_plus[:, :, -1] + res.sign_agree_minus[:, :, -1])
                                / (res.n_plus + res.n_minus)).mean(axis=1),
        "last-token mass at T": res.last_token_mass[:, :, -1].mean(axis=1),
    }
    lines = [
        "## Width sweep",
        "",
        f"{len(res.widths)} widths × {len(res.seeds)} seeds, T = {int(res.step[-1])} steps recorded every "
        f"{int(res.step[1] - res.step[0]) if len(res.step) > 1 else 0}; means over seeds. "
        f"{lambda_min_text(res.ntk_infinite, res.ntk_infinite_error)}.",
        "",
        "| m | " + " | ".join(stats) + " |",
        "|---|" + "---|" * len(stats),
    ]
    for i, m in enumerate(res.widths):
        lines.append(f"| {int(m)} | " + " | ".join(f"{v[i]:.4g}" for v in stats.values()) + " |")
    per_seed = {
        "‖H(0)−H*‖": res.ntk_infinite_distance,
        "sup_t ‖H(t)−H(0)‖": res.ntk_change.max(axis=2),
        "max_t,r abs(Δw_r)": res.max_weight_change.max(axis=2),
    }
    fits = {k: _slope(widths, v) for k, v in per_seed.items()}
    slopes = {k: None if f is None else f.slope for k, f in fits.items()}
    text = "; ".join(f"{k}: {_slope_text(f)}" for k, f in fits.items())
    lines += ["", "Log-log slopes against m, fitted to every (width, seed) value (theory: −0.5 each; "
              f"t intervals, verification.stats.loglog_slope): {text}.", ""]
    if len(res.widths) > 1:
        lines += [f"![width sweep]({_plot(out, widths, per_seed, slopes)})", ""]
    return "\n".join(lines)


def _figure(widths, per_seed, slopes):
    r"""The sweep figure: every (width, seed) value (dots), the mean over seeds (line), the band
    min–max over seeds, and a reference :math:`\propto m^{-1/2}` through the first mean of each
    quantity; x ticks at the widths only (no minor labels)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    fig, ax = plt.subplots(figsize=(6, 4.2))
    for idx, (k, v) in enumerate(per_seed.items()):
        colour = f"C{idx}"
        v = np.where(np.isfinite(v) & (v > 0), v, np.nan)
        ok = np.isfinite(v).any(axis=1)
        if not ok.any():
            continue
        s = slopes.get(k)
        mean = np.nanmean(v[ok], axis=1)
        ax.fill_between(widths[ok], np.nanmin(v[ok], axis=1), np.nanmax(v[ok], axis=1), color=colour, alpha=0.15,
                        linewidth=0)
        ax.plot(np.repeat(widths[ok], v.shape[1]), v[ok].ravel(), ".", color=colour, alpha=0.35, markersize=3)
        ax.plot(widths[ok], mean, "o-", color=colour, label=f"{k} (slope {'n/a' if s is None else f'{s:+.2f}'})")
        m0 = widths[ok][0]
        ax.plot(widths[ok], mean[0] * np.sqrt(m0 / widths[ok]), "--", color=colour, alpha=0.7, linewidth=1,
                label="∝ $m^{-1/2}$ (dashed)" if idx == 0 else "_ref", gid=f"reference {k}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(FixedLocator(widths))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda x, _: f"{x:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.tick_params(axis="x", labelrotation=45 if len(widths) > 6 else 0)
    ax.set_xlabel("width m")
    ax.set_ylabel("value (dots: seeds; line: mean; band: min–max)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _plot(out: Path, widths, per_seed, slopes) -> str:
    import matplotlib.pyplot as plt

    fig = _figure(widths, per_seed, slopes)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    report.atomic_write(out / "sweep.png", buf.getvalue())
    return "sweep.png"


if render_sweep not in report.EXTRA_RENDERERS:
    report.EXTRA_RENDERERS.append(render_sweep)


# ---------------------------------------------------------------------------------------------- CLI


def _widths(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise cfg.ConfigError(f"--widths: expected comma-separated integers like 64,256,1024, got {text!r}") from None


def stability_warning(config: dict) -> str | None:
    r"""A warning when the sweep's step size is at or past :math:`2/\lambda_{\max}(H(0))`, else None.

    :math:`H(0)` is the empirical NTK of the first network seed's draw at the smallest width (the
    nested prefix the sweep trains, where :math:`H(0)` fluctuates most) on the configured data;
    gradient descent on :math:`\frac12\|f - y\|^2` is stable in the NTK regime only for
    :math:`\eta < 2/\lambda_{\max}(H(0))`.
    """
    import jax
    import jax.numpy as jnp

    from ntk_attention import Params, empirical_ntk, init_params

    sweep = config["sweep"]
    ctx = _context(config)
    data = ctx.dataset()
    dtype = jnp.dtype(sweep["dtype"])
    seed = ctx.network_seeds(1)[0]
    m = sweep["widths"][0]
    w, a = init_params(jax.random.key(seed), sweep["widths"][-1], sigma=config["data"]["sigma"],
                       output_signs=sweep["output_signs"], dtype=dtype)
    H = np.asarray(empirical_ntk(Params(w[:m], a[:m]), jnp.asarray(data.X, dtype)), np.float64)
    lmax = float(np.linalg.eigvalsh(0.5 * (H + H.T))[-1])
    eta = float(sweep["learning_rate"])
    limit = 2.0 / lmax if lmax > 0 else float("inf")
    if eta < limit:
        return None
    return (f"warning: learning rate η = {eta:g} is past the gradient-descent stability limit 2/λ_max(H(0)) = "
            f"{limit:.3g} (λ_max(H(0)) = {lmax:.3g} at width {m}, seed {seed}, n = {data.X.shape[0]}): training may "
            "diverge (diverged_step in sweep.npz), and the sweep does not describe the NTK regime")


def _cmd_sweep(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)  # float64 data and H*; [sweep] dtype picks the training's
    if args.distributed:  # before anything touches a device
        jax.distributed.initialize(coordinator_address=args.coordinator_address, num_processes=args.num_processes,
                                   process_id=args.process_id)
    elif any(v is not None for v in (args.coordinator_address, args.num_processes, args.process_id)):
        raise cfg.ConfigError("--coordinator-address/--num-processes/--process-id: only with --distributed")
    config = resolve_config(
        args.config, widths=_widths(args.widths) if args.widths else None, seeds=args.seeds, steps=args.steps,
        record_every=args.record_every, learning_rate=args.learning_rate, seeds_per_block=args.seeds_per_block,
        dtype=args.dtype,
    )
    from verification.pipeline import check_memory

    check_memory(config, ["sweep"])  # hardening (issue 8): refuse sizes beyond this machine, before any work
    pid, count = jax.process_index(), jax.process_count()
    warning = stability_warning(config) if pid == 0 else None
    if warning:
        print(warning, file=sys.stderr, flush=True)
    log = None if args.quiet else (lambda s: print(s, flush=True))
    if args.block_timeout is not None and not args.block_timeout >= 0:
        raise cfg.ConfigError(f"--block-timeout: expected seconds >= 0 (0: no watchdog), got {args.block_timeout}")
    done = run_sweep(config, args.out, process_id=pid, process_count=count, devices=jax.local_devices(), log=log,
                     block_timeout=args.block_timeout or None, force=args.force)
    print(f"process {pid} of {count}: {len(done.computed)} block(s) computed, {len(done.reused)} reused, "
          f"{done.seconds:.1f} s on {len(jax.local_devices())} device(s)", flush=True)
    if count > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices("ntk-verify sweep: every process wrote its blocks")
    if pid == 0:
        try:
            print(f"merged: {merge(args.out)}")
            text = render_sweep(args.out)
            report.atomic_write(Path(args.out) / "report.md", f"# ntk-verify sweep\n\n{text}")
            print(f"report: {Path(args.out) / 'report.md'} (re-render, or merge blocks copied from other hosts, with "
                  f"`ntk-verify report {args.out}`)")
        except report.ResultsError as err:
            if count == 1:
                raise
            print(f"not merged here ({err}); collect every host's blocks/ and shards/ into one folder and run "
                  f"`ntk-verify report DIR`", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    """Add ``ntk-verify sweep`` to the CLI (called by :func:`verification.cli.build_parser`)."""
    p = subparsers.add_parser(
        "sweep", help="widths x seeds training sweep, compiled once, resumable, sharded",
        description="Train every width from every seed in one compiled program (whole runs laid out over "
                    "the devices); each finished block is saved in DIR/blocks, a rerun computes only what is "
                    "missing, and DIR/sweep.npz holds the merged arrays (width x seed x recorded step).",
    )
    p.add_argument("--config", metavar="FILE.toml", help="configuration with [run], [data], [sweep] (default: built in)")
    p.add_argument("--out", default="sweep", metavar="DIR", help="sweep folder (default: sweep/); reused to resume")
    p.add_argument("--widths", metavar="64,256,1024", help="widths, strictly increasing (overrides [sweep] widths)")
    p.add_argument("--seeds", type=int, metavar="N", help="number of network seeds (overrides [sweep] seeds)")
    p.add_argument("--steps", type=int, metavar="T", help="gradient-descent steps (overrides [sweep] steps)")
    p.add_argument("--record-every", type=int, metavar="K", help="record every K steps")
    p.add_argument("--learning-rate", type=float, metavar="ETA", help="step size")
    p.add_argument("--seeds-per-block", type=int, metavar="B", help="seeds per saved block")
    p.add_argument("--dtype", choices=("float64", "float32"), help="computation dtype")
    p.add_argument("--distributed", action="store_true", help="call jax.distributed.initialize() (several hosts)")
    p.add_argument("--coordinator-address", metavar="HOST:PORT", help="with --distributed (else from the environment)")
    p.add_argument("--num-processes", type=int, metavar="P", help="with --distributed (else from the environment)")
    p.add_argument("--process-id", type=int, metavar="I", help="with --distributed (else from the environment)")
    p.add_argument("--block-timeout", type=float, default=BLOCK_TIMEOUT, metavar="SECONDS",
                   help=f"watchdog: a block (compilation included) not finished within SECONDS is reported on stderr "
                        f"and the process exits with status {TIMEOUT_EXIT}, finished blocks kept (default "
                        f"{BLOCK_TIMEOUT:g}; 0: no watchdog)")
    p.add_argument("--force", action="store_true",
                   help="DIR holds a sweep of another configuration: delete its blocks and run this one there")
    p.add_argument("--quiet", action="store_true", help="no line per block")
    p.set_defaults(func=_cmd_sweep)
