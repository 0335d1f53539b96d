"""Writing result files, the one home of it: the output folder checked before any work
(:func:`check_output_folder`), every write to a temporary file in the same folder then
``os.replace`` (:func:`atomic_write`, honouring the umask), a failed write (a full disk) reported in
one line naming what was kept (:func:`reporting_write_errors`); JSON has one layout
(:func:`json_text`), arrays one container (:func:`npz_bytes`), figures one resolution
(:data:`FIGURE_DPI`, :func:`save_figure`). Every command and claim writes through these."""

from __future__ import annotations

import contextlib
import contextvars
import errno
import io
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import numpy as np

__all__ = [
    "atomic_write",
    "json_text",
    "read_json",
    "npz_bytes",
    "save_figure",
    "FIGURE_DPI",
    "FIGURE_SOURCE",
    "plain_log_ticks",
    "OutputError",
    "ResultsError",
    "check_output_folder",
    "reporting_write_errors",
    "kept_files",
]


class ResultsError(ValueError):
    """A results folder cannot be written (a file, read-only, not empty, disk full) or read
    (missing, truncated, edited). Also :class:`verification.report.ResultsError` (the same
    class)."""


class OutputError(ResultsError):
    """An output folder that cannot take the results, or a disk that filled up: one line, exit
    status 2."""


def _probe_writable(folder: Path, out: Path, flag: str, force: bool | None) -> None:
    """Create and remove a file in ``folder``: the one test of writability that also holds for root
    (``os.access`` says yes to root on a read-only folder) and read-only mounts."""
    probe = folder / f".ntk-verify-probe.{secrets.token_hex(6)}.tmp"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as err:
        if force is not None:
            raise OutputError(
                f"{flag}: {str(folder)!r} is not writable ({err.strerror or type(err).__name__})"
            ) from None
        where = "" if folder == out else f" (it would be created in {str(folder)!r})"
        raise OutputError(
            f"{flag}: {str(out)!r} is not writable{where}: {err.strerror or err}"
        ) from None


def check_output_folder(out: str | Path, *, force: bool | None = None, flag: str = "--out") -> Path:
    """Refuse, before any computation, an output ``out`` that cannot take the results; nothing is
    left behind.

    Refused with one line naming ``flag`` (:class:`OutputError`, a :class:`ResultsError`): ``out``
    is a file (or below one), or not writable — ``out`` itself when it exists, else the nearest
    existing folder above it, where it will be created (a temporary file is created there and
    removed: permissions, read-only mounts). With ``force`` given (``True``/``False``, the results
    folder of ``run``), a non-empty folder is also refused unless ``force``; left out (``None``),
    only the folder's fitness is checked (the caller decides about existing files).
    """
    out = Path(out)
    legacy = force is not None
    if out.exists() and not out.is_dir():
        raise OutputError(
            f"{flag}: {str(out)!r} exists and is not a folder"
            if legacy
            else f"{flag}: expected a folder, got {str(out)!r}, which is a file"
        )
    if out.is_dir():
        if legacy and not force and any(out.iterdir()):
            raise OutputError(
                f"{flag}: {str(out)!r} is not empty; "
                f"pass --force to overwrite it or choose another {flag}"
            )
        _probe_writable(out, out, flag, force)
        return out
    parent = out.absolute().parent if legacy else out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(
            f"{flag}: {str(out)!r} cannot be created: {str(parent)!r} is a file, not a folder"
            if legacy
            else (
                f"{flag}: expected a folder, got {str(out)!r} below {str(parent)!r}, "
                "which is a file"
            )
        )
    _probe_writable(parent, out, flag, force)
    return out


def kept_files(out: str | Path) -> list[str]:
    """Names of the complete files in ``out`` (sorted; temporary files of :func:`atomic_write`
    excluded)."""
    out = Path(out)
    if not out.is_dir():
        return []
    return sorted(p.name for p in out.iterdir() if p.is_file() and not p.name.endswith(".tmp"))


@contextlib.contextmanager
def reporting_write_errors(out: str | Path, what: str = "results") -> Iterator[None]:
    """Turn an ``OSError`` raised while writing into ``out`` (a full disk, a folder made read-only),
    or :func:`atomic_write`'s full-disk :class:`OutputError`, into one :class:`ResultsError` line
    naming the error and the files kept; nothing is deleted."""
    try:
        yield
    except (OSError, OutputError) as err:
        if isinstance(err, OutputError):
            if "no space left on device" not in str(err):
                raise
            why = "no space left on device"
        else:
            why = (
                "no space left on device"
                if err.errno == errno.ENOSPC
                else (err.strerror or str(err))
            )
        kept = kept_files(out)
        raise ResultsError(
            f"{out}: {why} while writing the {what}; kept: "
            f"{', '.join(kept) if kept else 'nothing'}"
            + (
                ""
                if "summary.json" in kept
                else " (no summary.json: the folder is not a complete run)"
            )
        ) from None


FIGURE_DPI = 110
"""Resolution of every PNG figure written (dots per inch)."""


def json_text(obj) -> str:
    """``obj`` as the one JSON layout of every file written: indent 2, keys in the code's order
    (deterministic: every writer builds its dicts in a fixed order), UTF-8 text, NaN/inf refused
    (``allow_nan=False``: not JSON), a final newline."""
    return json.dumps(obj, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def read_json(path: str | Path, missing: str):
    """The JSON content of ``path``, or :class:`ResultsError` naming it: ``missing`` when it is not
    there, "not valid JSON" when it is truncated or edited."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: not found{missing}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path}: not valid JSON, truncated or edited ({err})") from None


def npz_bytes(arrays: dict) -> bytes:
    """``np.savez`` of ``arrays`` as bytes (no pickle: every value converted with
    ``np.asarray``)."""
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return buf.getvalue()


FIGURE_SOURCE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "FIGURE_SOURCE", default=None
)
"""The data source of the verdict being drawn: :func:`verification.report.render` sets it
around each ``plot`` call, :func:`save_figure` names it in the figure (a plot's signature carries no
source)."""


def plain_log_ticks(ax) -> None:
    """On a log axis, label minor ticks with plain numbers (``6``, ``0.2``, ``3000``) instead of
    matplotlib's ``6×10⁰`` (which it uses when an axis spans less than a decade); decades stay
    10ⁿ."""
    from matplotlib import ticker

    class _Plain(ticker.LogFormatter):
        def _num_to_string(self, x, vmin, vmax):
            return f"{x:g}"

    for axis, scale in ((ax.xaxis, ax.get_xscale()), (ax.yaxis, ax.get_yscale())):
        if scale == "log":
            axis.set_minor_formatter(_Plain(labelOnlyBase=False, minor_thresholds=(1, 0.4)))


def save_figure(fig, path: str | Path) -> str:
    """Save a matplotlib figure atomically as PNG at :data:`FIGURE_DPI` (no timestamp in the bytes:
    reruns are byte-identical) and close it; returns the file name. Log axes get
    :func:`plain_log_ticks`; the data source (:data:`FIGURE_SOURCE`), when set, is named above the
    plots."""
    import matplotlib.pyplot as plt  # heavy, and only where a figure is drawn

    path = Path(path)
    buf = io.BytesIO()
    for ax in fig.axes:
        plain_log_ticks(ax)
    source = FIGURE_SOURCE.get()
    if source:
        fig.suptitle(f"data: {source}", fontsize=9, color="0.3")
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
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666
            )
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
            kept = (
                "the earlier file there is kept" if path.exists() else "nothing was written there"
            )
            raise OutputError(
                f"{path}: no space left on device ({len(data)} bytes to write); {kept}, "
                "and every file written before it is complete (atomic writes). Free space and rerun"
            ) from None
        raise
