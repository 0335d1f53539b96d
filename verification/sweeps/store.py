r"""The files of a sweep folder: block files (``blocks/block-00007.npz``, with the sweep's
fingerprint), the header ``sweep.json`` (format, configuration, fingerprint, seeds, environment,
arrays' meaning), shard manifests, reading them back and clearing them. Every write goes through
:mod:`verification.files`."""

from __future__ import annotations

import contextlib
import json
import zipfile
from pathlib import Path

import jax
import numpy as np

from ntk_attention.sweep import ARRAYS, SweepResult
from verification import files
from verification.pipeline import environment
from verification.sweeps.plan import (
    FORMAT,
    SECTIONS,
    block_seeds,
    config_differences,
    learning_rate,
)

__all__ = [
    "BLOCK_META",
    "fraction",
    "arrays_doc",
    "block_path",
    "read_npz",
    "load_block",
    "as_result",
    "read_json",
    "device_names",
    "write_header",
    "check_header",
    "clear",
]


BLOCK_META = ("fingerprint", "block", "process_id")


def fraction(count, total):
    """count / total along the step axis; NaN where total is 0 (no neuron of that sign)."""
    total = np.asarray(total, np.float64)[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.asarray(count) / np.where(total > 0, total, 1), np.nan)


def arrays_doc() -> dict:
    doc = {k: {"dims": list(dims), "description": text} for k, (dims, text) in ARRAYS.items()}
    doc["windows"] = {
        "dims": ["i", "token"],
        "description": "the n training windows x_i (the [data] set), float64",
    }
    doc["targets"] = {"dims": ["i"], "description": "the targets y_i, float64"}
    for side in ("plus", "minus"):
        doc[f"sign_agree_{side}_fraction"] = {
            "dims": ["width", "seed", "step"],
            "description": (
                f"sign_agree_{side} / n_{side}, a fraction in [0, 1]; NaN when n_{side} = 0"
            ),
        }
    return doc


def block_path(out: Path, j: int) -> Path:
    return out / "blocks" / f"block-{j:05d}.npz"


def read_npz(path: Path) -> dict | None:
    """Arrays of an .npz file, or None when it is missing or unreadable (never unpickles)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def load_block(out: Path, j: int, fp: str, seeds: tuple[int, ...]):
    """Block ``j`` as a SweepResult if its file exists and belongs to this sweep, else None."""
    arrays = read_npz(block_path(out, j))
    if arrays is None or any(k not in arrays for k in SweepResult._fields + BLOCK_META):
        return None
    if str(arrays["fingerprint"]) != fp or tuple(arrays["seeds"].tolist()) != seeds:
        return None
    return as_result(arrays)


def as_result(arrays: dict):
    fields = {k: arrays[k] for k in SweepResult._fields}
    fields["ntk_infinite_error"] = float(fields["ntk_infinite_error"])
    return SweepResult(**fields)


def sweep_precision(head: dict):
    """A context in which JAX's x64 flag is the one the sweep built its data with (``sweep.json``
    ``environment.x64``): the windows, targets and λ depend on it, so a merge or a report rebuilds
    them as the sweep did, in any process (a header without the flag: the process's own)."""
    recorded = (head.get("environment") or {}).get("x64")
    return contextlib.nullcontext() if recorded is None else jax.enable_x64(bool(recorded))


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise files.ResultsError(f"{path}: not valid JSON, truncated or edited ({err})") from None


def device_names(devices) -> list[str]:
    return [f"{d.platform}:{d.id}:{d.device_kind}" for d in devices]


def write_header(
    out: Path,
    config: dict,
    fp: str,
    *,
    complete: bool,
    processes: list | None = None,
    sweep_sha256: str | None = None,
    kept: dict | None = None,
) -> None:
    """Write ``sweep.json``. ``kept``: the header the sweep wrote when it ran; its environment and
    step size stay (a merge in another process must not record that process's float mode)."""
    seeds = [s for block in block_seeds(config) for s in block]
    kept = kept or {}
    eta = kept["learning_rate"] if "learning_rate" in kept else learning_rate(config)
    files.atomic_write(
        out / "sweep.json",
        files.json_text(
            {
                "format": FORMAT,
                "fingerprint": fp,
                "config": {sec: config[sec] for sec in SECTIONS},
                # η itself, as the one reader turned [sweep] eta into it
                "learning_rate": eta,
                "seeds": seeds,
                "blocks": len(block_seeds(config)),
                "environment": kept.get("environment") or environment(),
                "processes": processes or [],
                "layout": sorted({p["layout"]["kind"] for p in processes or [] if p.get("layout")}),
                "complete": complete,
                # an edited or truncated sweep.npz is refused
                "sweep_npz_sha256": sweep_sha256,
                "arrays": arrays_doc(),
            }
        ),
    )


def check_header(out: Path, fp: str, config: dict | None = None) -> dict | None:
    head = read_json(out / "sweep.json")
    if head is None:
        return None
    if head.get("format") != FORMAT:
        raise files.ResultsError(
            f"{out / 'sweep.json'}: expected format {FORMAT!r}, got {head.get('format')!r}"
        )
    if head.get("fingerprint") != fp:
        diffs = (
            config_differences(head.get("config") or {}, config or {}) if config is not None else []
        )
        named = (
            "; ".join(f"{k}: {a!r} there, {b!r} now" for k, a, b in diffs)
            or "its fingerprint differs"
        )
        raise files.ResultsError(
            f"--out: {str(out)!r} holds a different sweep ({named}); "
            "only the seed count may change when resuming. "
            "Choose another --out, or pass --force to delete its blocks and start this sweep there"
        )
    return head


def clear(out: Path) -> None:
    """Delete a sweep's files in ``out`` (blocks, shard manifests, merged arrays, header,
    renders)."""
    for path in [
        *(out / "blocks").glob("block-*.npz"),
        *(out / "shards").glob("process-*-of-*.json"),
        *(out / name for name in ("sweep.npz", "sweep.png", "sweep.json")),
    ]:
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- run
