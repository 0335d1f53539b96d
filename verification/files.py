"""Writing result files, the one home of it: every write goes to a temporary file in the same folder,
then ``os.replace`` (:func:`atomic_write`, honouring the umask); JSON has one layout
(:func:`json_text`), arrays one container (:func:`npz_bytes`), figures one resolution
(:data:`FIGURE_DPI`, :func:`save_figure`). Every command and claim writes through these."""

from __future__ import annotations

import errno
import io
import json
import os
import secrets
from pathlib import Path

import numpy as np

__all__ = ["atomic_write", "json_text", "npz_bytes", "save_figure", "FIGURE_DPI", "OutputError", "check_output_folder"]


class OutputError(ValueError):
    """An output folder that cannot take the results, or a disk that filled up: one line, exit status 2."""


def check_output_folder(out: str | Path, *, flag: str = "--out") -> Path:
    """Refuse, before any computation, an output ``out`` that is a file or whose folder (or the nearest
    existing folder above it, where it will be created) does not take a new file: a temporary file is
    created there and removed (permissions, read-only mounts). Raises :class:`OutputError` naming ``flag``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{flag}: expected a folder, got {str(out)!r}, which is a file")
    probe_dir = out
    while not probe_dir.exists():
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir():
        raise OutputError(f"{flag}: expected a folder, got {str(out)!r} below {str(probe_dir)!r}, which is a file")
    probe = probe_dir / f".ntk-verify-probe.{secrets.token_hex(6)}.tmp"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as err:
        where = "" if probe_dir == out else f" (it would be created in {str(probe_dir)!r})"
        raise OutputError(f"{flag}: {str(out)!r} is not writable{where}: {err.strerror or err}") from None
    return out

FIGURE_DPI = 110
"""Resolution of every PNG figure written (dots per inch)."""


def json_text(obj) -> str:
    """``obj`` as the one JSON layout of every file written: indent 2, keys in the code's order
    (deterministic: every writer builds its dicts in a fixed order), UTF-8 text, NaN/inf refused
    (``allow_nan=False``: not JSON), a final newline."""
    return json.dumps(obj, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def npz_bytes(arrays: dict) -> bytes:
    """``np.savez`` of ``arrays`` as bytes (no pickle: every value converted with ``np.asarray``)."""
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return buf.getvalue()


def save_figure(fig, path: str | Path) -> str:
    """Save a matplotlib figure atomically as PNG at :data:`FIGURE_DPI` (no timestamp in the bytes: reruns
    are byte-identical) and close it; returns the file name."""
    import matplotlib.pyplot as plt  # heavy, and only where a figure is drawn

    path = Path(path)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=FIGURE_DPI, metadata={"Software": None})
    plt.close(fig)
    atomic_write(path, buf.getvalue())
    return path.name


def atomic_write(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``.

    The file gets mode ``0o666 & ~umask`` like any ``open(path, "w")`` (``tempfile.mkstemp``
    would make it 0600, unreadable by collaborators): the temporary is created with
    ``os.open(..., O_CREAT | O_EXCL, 0o666)`` under a random name ``.<name>.<hex>.tmp``.
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"{path}: could not create a unique temporary file beside it")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(err, OSError) and err.errno == errno.ENOSPC:
            kept = "the earlier file there is kept" if path.exists() else "nothing was written there"
            raise OutputError(f"{path}: no space left on device ({len(data)} bytes to write); {kept}, and every file "
                              "written before it is complete (atomic writes). Free space and rerun") from None
        raise
