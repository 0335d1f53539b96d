"""Writing result files: the output folder checked before any work, every write to a temporary file
in the same folder then ``os.replace``, and a failed write (a full disk) reported in one line naming
what was kept."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ResultsError", "atomic_write", "check_output_folder", "reporting_write_errors", "kept_files"]


class ResultsError(ValueError):
    """A results folder cannot be written (a file, read-only, not empty, disk full) or read (missing,
    truncated, edited). Also :class:`verification.report.ResultsError` (the same class)."""


def _probe_writable(folder: Path, flag: str) -> None:
    """Create and remove a file in ``folder``: the one test of writability that also holds for root
    (``os.access`` says yes to root on a read-only folder) and read-only mounts."""
    probe = folder / f".ntk-verify-probe.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as err:
        raise ResultsError(f"{flag}: {str(folder)!r} is not writable ({err.strerror or type(err).__name__})") from None
    os.close(fd)
    os.unlink(probe)


def check_output_folder(out: str | Path, *, force: bool, flag: str = "--out") -> Path:
    """Check, before any computation, that results can be written to ``out``; nothing is left behind.

    Refused with one line naming ``flag`` (:class:`ResultsError`): ``out`` is a file (or below one),
    a non-empty folder without ``force``, or not writable — ``out`` itself when it exists, else the
    nearest existing folder above it, where it would be created.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ResultsError(f"{flag}: {str(out)!r} exists and is not a folder")
    if out.is_dir():
        if not force and any(out.iterdir()):
            raise ResultsError(f"{flag}: {str(out)!r} is not empty; pass --force to overwrite it or choose another {flag}")
        _probe_writable(out, flag)
        return out
    parent = out.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ResultsError(f"{flag}: {str(out)!r} cannot be created: {str(parent)!r} is a file, not a folder")
    _probe_writable(parent, flag)
    return out


def kept_files(out: str | Path) -> list[str]:
    """Names of the complete files in ``out`` (sorted; temporary files of :func:`atomic_write` excluded)."""
    out = Path(out)
    if not out.is_dir():
        return []
    return sorted(p.name for p in out.iterdir() if p.is_file() and not p.name.endswith(".tmp"))


@contextlib.contextmanager
def reporting_write_errors(out: str | Path, what: str = "results") -> Iterator[None]:
    """Turn an ``OSError`` raised while writing into ``out`` (a full disk, a folder made read-only)
    into one :class:`ResultsError` line naming the error and the files kept; nothing is deleted."""
    try:
        yield
    except OSError as err:
        why = "no space left on device" if err.errno == errno.ENOSPC else (err.strerror or str(err))
        kept = kept_files(out)
        raise ResultsError(f"{out}: {why} while writing the {what}; kept: "
                           f"{', '.join(kept) if kept else 'nothing'}"
                           + ("" if "summary.json" in kept else " (no summary.json: the folder is not a complete run)")
                           ) from None


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
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
