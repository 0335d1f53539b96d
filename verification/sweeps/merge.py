r"""Merging a sweep's blocks into ``sweep.npz`` (every field of
:class:`ntk_attention.sweep.SweepResult`, the training windows and targets, the sign agreement as
fractions) and loading it back, refusing an edited or truncated file (SHA-256 in ``sweep.json``)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from ntk_attention import sweep as sw
from verification import files
from verification.sweeps.plan import FORMAT, block_seeds, config_differences, context, fingerprint
from verification.sweeps.store import (
    as_result,
    block_path,
    fraction,
    load_block,
    read_json,
    read_npz,
    sweep_precision,
    write_header,
)

__all__ = ["merge", "load_merged"]


def merge(out) -> Path:
    """Join every block of the sweep in ``out`` into ``sweep.npz``; mark ``sweep.json`` complete.

    Raises :class:`verification.report.ResultsError` naming the missing blocks (and the
    processes that own them) when some are absent or belong to another sweep.
    """
    out = Path(out)
    head = read_json(out / "sweep.json")
    if head is None or head.get("format") != FORMAT:
        raise files.ResultsError(f"{out / 'sweep.json'}: not found or not an ntk-verify sweep")
    config = head["config"]
    fp = fingerprint(config)
    if fp != head.get("fingerprint"):
        raise files.ResultsError(
            f"{out / 'sweep.json'}: fingerprint does not match its configuration; edited"
        )
    blocks = block_seeds(config)
    shards = sorted((out / "shards").glob("process-*-of-*.json"))
    manifests = [m for m in (read_json(p) for p in shards) if m]
    parts, missing = [], []
    for j, seeds in enumerate(blocks):
        res = load_block(out, j, fp, seeds)
        (missing.append(j) if res is None else parts.append(res))
    for j in missing:
        foreign = read_npz(block_path(out, j))
        if foreign is not None and "fingerprint" in foreign and str(foreign["fingerprint"]) != fp:
            other = json.loads(str(foreign["config"])) if "config" in foreign else None
            diffs = config_differences(other, config) if other is not None else []
            named = (
                "; ".join(f"{k}: {a!r} there, {b!r} in sweep.json" for k, a, b in diffs)
                or "its fingerprint differs"
            )
            raise files.ResultsError(
                f"{block_path(out, j)}: a block of another configuration ({named}); not "
                "part of this sweep: remove it or copy the right host's block"
            )
    if missing:
        owners = {m["process_count"] for m in manifests}
        who = "; ".join(
            f"{P} processes: block j is computed by process j mod {P}" for P in sorted(owners)
        )
        raise files.ResultsError(
            f"{out}: cannot merge the sweep, {len(missing)} of {len(blocks)} block(s) missing: "
            f"{missing[:20]}{' …' if len(missing) > 20 else ''} "
            f"({who or 'no shard manifests found'}); copy every "
            "process's blocks/ into this folder or rerun `ntk-verify sweep` with the same --out"
        )
    merged = sw.concatenate(parts)
    with sweep_precision(head):
        data = context(config).dataset()
    extra = {
        "windows": np.asarray(data.X, np.float64),
        "targets": np.asarray(data.y, np.float64),
        **{
            f"sign_agree_{side}_fraction": fraction(
                getattr(merged, f"sign_agree_{side}"), getattr(merged, f"n_{side}")
            )
            for side in ("plus", "minus")
        },
    }
    raw = files.npz_bytes({**merged._asdict(), **extra})
    files.atomic_write(out / "sweep.npz", raw)
    processes = [
        {
            k: m.get(k)
            for k in ("process_id", "process_count", "host", "devices", "blocks_computed", "layout")
        }
        for m in manifests
    ]
    write_header(
        out,
        config,
        fp,
        complete=True,
        processes=processes,
        sweep_sha256=hashlib.sha256(raw).hexdigest(),
        kept=head,
    )
    return out / "sweep.npz"


def load_merged(out):
    """The merged :class:`ntk_attention.sweep.SweepResult` of ``out`` (merging first if needed)."""
    out = Path(out)
    head = read_json(out / "sweep.json")
    if head is None or not head.get("complete") or not (out / "sweep.npz").exists():
        merge(out)
        head = read_json(out / "sweep.json")
    try:
        raw = (out / "sweep.npz").read_bytes()
    except FileNotFoundError:
        raw = b""
    if hashlib.sha256(raw).hexdigest() != head.get("sweep_npz_sha256"):
        raise files.ResultsError(
            f"{out / 'sweep.npz'}: SHA-256 differs from sweep.json's sweep_npz_sha256; truncated "
            f"or edited: delete it and run `ntk-verify report {out}` to merge the blocks again"
        )
    arrays = read_npz(io.BytesIO(raw))
    if arrays is None:
        raise files.ResultsError(
            f"{out / 'sweep.npz'}: unreadable; delete it and run `ntk-verify report {out}`"
        )
    return as_result(arrays)


# ------------------------------------------------------------------------------------------- report
