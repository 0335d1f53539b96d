"""Writing result files: every write goes to a temporary file in the same folder, then ``os.replace``."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["atomic_write"]


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
