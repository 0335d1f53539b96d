r"""Where the data comes from: bundled real series, the user's CSV or ``.npy`` files, synthetic
families.

:func:`load_series` turns a *source string* into a :class:`Source` (a float64 series, or windows
and targets given directly). Source strings:

* a bundled real series — ``sunspots``, ``co2``, ``nile``, ``elec_equip``, ``realgdp``,
  ``unemployment``, ``inflation``, ``elnino`` (:data:`REAL_SERIES`) — read from the data files that
  ``statsmodels.datasets`` ships (statsmodels is a base dependency: the default run reads sunspots);
  nothing is downloaded;
* ``csv:PATH`` or ``csv:PATH#COLUMN`` — one column of a CSV file, by header name or by 0-based
  index (``#2``); the ``column`` option does the same. The header is detected (a first row whose
  selected cell is not a number) or forced with ``header=True/False``. A file with a single
  column needs no column;
* ``npy:PATH`` — a NumPy file holding a 1-D series, or an (n, d + 1) array whose rows are a
  window followed by its target;
* a synthetic family of :data:`ntk_attention.data.FAMILIES` (``residual``, ``haar``, …), drawn
  by :func:`ntk_attention.data.family_series` with options ``length`` (default 512), ``seed``
  (default 0) and the family's own options.

Preprocessing, in this order (each a parameter, each recorded in ``Source.preprocessing``):

1. *flatten* — a table becomes one series (El Niño: its year × month table read row by row, i.e.
   in time order);
2. *missing values* — bundled series only (``missing="interpolate"``, the default: linear
   interpolation in time; ``"drop"``: removed). co2 has 59 missing weeks of 2284. In a user's file
   a missing value is an error that names the row and column;
3. *detrend* — ``"none"`` (default), ``"difference"`` (:math:`u_{k+1} - u_k`) or ``"linear"``
   (least-squares line removed);
4. *normalise* — ``"zscore"`` (default: :math:`(u - \bar u)/\mathrm{sd}(u)`; for windows, the
   mean and standard deviation of every window entry) or ``"none"``.

Every problem with a file is a :class:`SourceError` (a ``ValueError``) with a one-line message
naming the file and, where there is one, the row and column.
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import math
import pathlib
from typing import NamedTuple

import jax
import numpy as np

from ntk_attention import data as ntk_data

__all__ = [
    "Source",
    "SourceError",
    "REAL_SERIES",
    "DETRENDS",
    "NORMALIZATIONS",
    "load_series",
    "source_names",
]

DETRENDS = ("none", "difference", "linear")
NORMALIZATIONS = ("zscore", "none")
MISSING = ("interpolate", "drop")
EXTRA = 'pip install "statsmodels>=0.14" (a dependency of ntk-attention: reinstall it)'


class SourceError(ValueError):
    """A data source cannot be read or used; the message is one line naming the file, row or
    column."""


class Source(NamedTuple):
    """A loaded data source.

    ``series``: the preprocessed float64 series (T,), or ``None`` when the file held windows;
    ``X`` (n, d) and ``y`` (n,): windows and targets given directly (``npy:`` with a 2-D array),
    else ``None`` (take windows of ``series`` with :func:`ntk_attention.data.series_windows`);
    ``preprocessing``: what was done, in words.
    """

    name: str
    series: np.ndarray | None
    X: np.ndarray | None
    y: np.ndarray | None
    preprocessing: str

    @property
    def length(self) -> int:
        """Values in the series (windows + d for a windows file)."""
        return (
            int(self.series.shape[0])
            if self.series is not None
            else int(self.X.shape[0] + self.X.shape[1])
        )


class _Real(NamedTuple):
    module: str  # statsmodels.datasets.<module>
    columns: tuple[str, ...]  # read in this order; several columns are a table flattened row by row
    description: str


REAL_SERIES: dict[str, _Real] = {
    "sunspots": _Real(
        "sunspots", ("SUNACTIVITY",), "yearly sunspot numbers 1700-2008 (309 values)"
    ),
    "co2": _Real("co2", ("co2",), "weekly Mauna Loa CO2 1958-2001 (2284 weeks, 59 missing)"),
    "nile": _Real("nile", ("volume",), "yearly Nile flow at Aswan 1871-1970 (100 values)"),
    "elec_equip": _Real(
        "elec_equip",
        ("STS.M.I7.W.TOVT.NS0016.4.000",),
        "monthly euro-area electrical equipment orders 1995-2016 (257 values)",
    ),
    "realgdp": _Real("macrodata", ("realgdp",), "quarterly US real GDP 1959-2009 (203 values)"),
    "unemployment": _Real(
        "macrodata", ("unemp",), "quarterly US unemployment rate 1959-2009 (203 values)"
    ),
    "inflation": _Real(
        "macrodata", ("infl",), "quarterly US inflation rate 1959-2009 (203 values)"
    ),
    "elnino": _Real(
        "elnino",
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
        "monthly sea-surface temperature 1950-2010, year x month table read row by row "
        "(732 values)",
    ),
}
"""Bundled real series: statsmodels data set, column(s), description."""


def source_names() -> tuple[str, ...]:
    """Every named source: the bundled real series, then the synthetic families."""
    return (*REAL_SERIES, *ntk_data.FAMILIES)


MAX_MAGNITUDE = 1e150
"""Largest |value| a series may hold: its squares (variances, second moments) stay finite in
float64."""


def load_series(
    source: str,
    *,
    d: int | None = None,
    detrend: str = "none",
    normalize: str = "zscore",
    missing: str = "interpolate",
    column: str | int | None = None,
    header: bool | None = None,
    length: int = 512,
    seed: int = 0,
    **family_options,
) -> Source:
    """Load ``source`` (see the module docstring) and preprocess it.

    ``d``: when given, the series must have at least ``d + 1`` values (one window and its target)
    and a windows file exactly ``d + 1`` columns. ``column``/``header``: CSV only; ``length``,
    ``seed`` and ``family_options``: synthetic families only; ``missing``: bundled series only.
    """
    if not isinstance(source, str) or not source:
        raise SourceError(
            f"source: expected a series name, 'csv:PATH' or 'npy:PATH', got {source!r}"
        )
    if detrend not in DETRENDS:
        raise SourceError(f"detrend: expected one of {DETRENDS}, got {detrend!r}")
    if normalize not in NORMALIZATIONS:
        raise SourceError(f"normalize: expected one of {NORMALIZATIONS}, got {normalize!r}")
    if missing not in MISSING:
        raise SourceError(f"missing: expected one of {MISSING}, got {missing!r}")
    if d is not None and (isinstance(d, bool) or not isinstance(d, int) or d < 2):
        raise SourceError(f"d: expected a window length >= 2, got {d!r}")
    if family_options and source not in ntk_data.FAMILIES:
        raise SourceError(
            f"{source}: options {sorted(family_options)} apply to synthetic families only"
        )
    if source.startswith("npy:"):
        return _load_npy(source, source[4:], d, detrend, normalize)
    if source.startswith("csv:"):
        path, column = _split_column(source[4:], column)
        raw, where = _read_csv(path, column, header)
        steps = [f"column {where} of {path}"]
    elif source in REAL_SERIES:
        raw, steps = _read_real(source, missing)
    elif source in ntk_data.FAMILIES:
        raw = np.asarray(
            ntk_data.family_series(source, length, jax.random.key(seed), **family_options),
            np.float64,
        )
        steps = [
            f"synthetic family {source!r}, length {length}, seed {seed}"
            + (f", options {family_options}" if family_options else "")
        ]
    else:
        raise SourceError(
            f"source: expected one of {', '.join(source_names())}, 'csv:PATH' or 'npy:PATH', "
            f"got {source!r}"
        )
    series, more = _preprocess(raw, detrend, normalize, source)
    if d is not None and series.shape[0] < d + 1:
        raise SourceError(
            f"{source}: the series has {series.shape[0]} values after preprocessing, "
            f"fewer than d + 1 = {d + 1} (one window and its target)"
        )
    return Source(source, series, None, None, "; ".join(steps + more))


def _preprocess(
    u: np.ndarray, detrend: str, normalize: str, source: str
) -> tuple[np.ndarray, list[str]]:
    """Detrend then normalise a float64 series; refuse a constant one."""
    steps = []
    if detrend == "difference":
        u = np.diff(u)
        steps.append("differenced")
    elif detrend == "linear" and u.shape[0] >= 2:
        t = np.arange(u.shape[0], dtype=np.float64)
        slope, intercept = np.polyfit(t, u, 1)
        u = u - (slope * t + intercept)
        steps.append("linear trend removed")
    if u.shape[0] == 0:
        raise SourceError(
            f"{source}: no rows: the series holds no values"
            + (f" after detrend={detrend!r}" if detrend != "none" else "")
        )
    scale = float(np.max(np.abs(u), initial=0.0))
    if scale > MAX_MAGNITUDE:
        raise SourceError(
            f"{source}: values up to {scale:.3g} overflow the statistics in float64 (squares "
            f"above {np.finfo(np.float64).max:.3g}); rescale the series (e.g. divide by "
            f"{10 ** math.floor(math.log10(scale)):.0e})"
        )
    if u.shape[0] < 2 or not float(np.std(u)) > 1e-12 * max(scale, 1e-300):
        raise SourceError(
            f"{source}: the series is constant ({u.shape[0]} values"
            + (f" after detrend={detrend!r}" if detrend != "none" else "")
            + "); it has nothing to forecast"
        )
    if normalize == "zscore":
        u = (u - u.mean()) / u.std()
        steps.append("z-scored")
    return u, steps


def _read_real(name: str, missing: str) -> tuple[np.ndarray, list[str]]:
    spec = REAL_SERIES[name]
    if importlib.util.find_spec("statsmodels") is None:
        raise SourceError(f"{name}: the bundled real series need statsmodels: {EXTRA}")
    frame = importlib.import_module(f"statsmodels.datasets.{spec.module}").load_pandas().data
    table = np.asarray(frame[list(spec.columns)], dtype=np.float64)
    u = table.reshape(-1)  # row by row: for a year x month table, time order
    steps = [f"{name}: {spec.description}"]
    gaps = ~np.isfinite(u)
    if gaps.any():
        if missing == "drop":
            u = u[~gaps]
            steps.append(f"{int(gaps.sum())} missing values dropped")
        else:
            k = np.arange(u.shape[0])
            u = np.interp(k, k[~gaps], u[~gaps])
            steps.append(f"{int(gaps.sum())} missing values linearly interpolated")
    return u, steps


def _split_column(spec: str, column):
    """``PATH#COLUMN`` → (path, column); the ``column`` argument wins; a '#' inside a folder name
    stays."""
    path, sep, tail = spec.rpartition("#")
    if sep and "/" not in tail and path:
        if column is None:
            column = int(tail) if tail.lstrip("-").isdigit() else tail
        return path, column
    return spec, column


def _number(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value


def _read_csv(path: str, column, header: bool | None) -> tuple[np.ndarray, str]:
    p = pathlib.Path(path)
    if not p.is_file():
        raise SourceError(f"{path}: no such file")
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            rows = [(i + 1, r) for i, r in enumerate(csv.reader(fh)) if any(c.strip() for c in r)]
    except (UnicodeDecodeError, csv.Error) as err:
        raise SourceError(f"{path}: not a readable CSV text file ({err})") from None
    if not rows:
        raise SourceError(f"{path}: the file holds no rows")
    first = rows[0][1]
    if header is None:  # a header when the first row has a cell that is not a number
        header = any(_number(c) is None for c in first if c.strip())
    names = [c.strip() for c in first] if header else []
    width = len(first)
    if column is None:
        if width != 1:
            listed = ", ".join(repr(n) for n in names) if names else f"indices 0-{width - 1}"
            raise SourceError(
                f"{path}: {width} columns ({listed}); choose one with csv:{path}#COLUMN"
            )
        index = 0
    elif isinstance(column, int) and not isinstance(column, bool):
        if not 0 <= column < width:
            raise SourceError(
                f"{path}: column index {column} out of range: the file has {width} columns "
                f"(0-{width - 1})"
            )
        index = column
    elif isinstance(column, str):
        if column not in names:
            if not header:
                raise SourceError(
                    f"{path}: column {column!r} given by name but the file has no header row"
                )
            raise SourceError(
                f"{path}: no column {column!r}; the header has {', '.join(repr(n) for n in names)}"
            )
        index = names.index(column)
    else:
        raise SourceError(f"column: expected a column name or a 0-based index, got {column!r}")
    label = repr(names[index]) if names else str(index)
    if header and len(rows) == 1:  # not "constant (0 values)": there is nothing but the header
        raise SourceError(
            f"{path}: no rows: the file holds a header row "
            f"({', '.join(repr(n) for n in names)}) and no data"
        )
    values = []
    for line, row in rows[1:] if header else rows:
        cell = row[index].strip() if index < len(row) else ""
        if cell == "" or cell.lower() in ("na", "nan", "null", "none"):
            raise SourceError(f"{path}: row {line}, column {label}: missing value")
        value = _number(cell)
        if value is None:
            raise SourceError(f"{path}: row {line}, column {label}: non-numeric cell {cell[:30]!r}")
        if not math.isfinite(value):
            raise SourceError(f"{path}: row {line}, column {label}: non-finite value {cell[:30]!r}")
        values.append(value)
    return np.array(values, np.float64), label


def _load_npy(source: str, path: str, d: int | None, detrend: str, normalize: str) -> Source:
    p = pathlib.Path(path)
    if not p.is_file():
        raise SourceError(f"{path}: no such file")
    try:
        a = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise SourceError(
            f"{path}: not a readable .npy array "
            f"({str(err).splitlines()[0] if str(err) else type(err).__name__})"
        ) from None
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "biuf":
        raise SourceError(
            f"{path}: expected a numeric array, got dtype {getattr(a, 'dtype', type(a).__name__)}"
        )
    a = a.astype(np.float64)
    bad = np.argwhere(~np.isfinite(a))
    if bad.size:
        where = f"row {bad[0][0]}" + (f", column {bad[0][1]}" if a.ndim == 2 else "")
        raise SourceError(f"{path}: {where}: missing or non-finite value {a[tuple(bad[0])]}")
    if a.ndim == 1:
        series, steps = _preprocess(a, detrend, normalize, path)
        if d is not None and series.shape[0] < d + 1:
            raise SourceError(
                f"{path}: the series has {series.shape[0]} values, fewer than d + 1 = {d + 1}"
            )
        return Source(source, series, None, None, "; ".join([f"1-D series from {path}", *steps]))
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 3:
        raise SourceError(
            f"{path}: expected a 1-D series or an (n, d + 1) array of windows and targets "
            "with d >= 2, "
            f"got shape {a.shape}"
        )
    if d is not None and a.shape[1] != d + 1:
        raise SourceError(
            f"{path}: expected d + 1 = {d + 1} columns (a window of d values, then the target), "
            f"got {a.shape[1]}"
        )
    if detrend != "none":
        raise SourceError(
            f"{path}: detrend={detrend!r} needs a series; the file holds windows "
            "(use detrend='none')"
        )
    X, y = a[:, :-1], a[:, -1]
    steps = [f"{X.shape[0]} windows of length {X.shape[1]} and targets from {path}"]
    sd = float(X.std())
    if not sd > 1e-12 * max(float(np.abs(X).max()), 1e-300):
        raise SourceError(f"{path}: every window entry is equal; the windows are constant")
    if normalize == "zscore":
        mean = float(X.mean())
        X, y = (X - mean) / sd, (y - mean) / sd
        steps.append("z-scored with the mean and sd of the window entries")
    return Source(source, None, X, y, "; ".join(steps))
