r"""Calibration of the regime-map boundaries (:func:`verification.regime._map.row_boundary` on cells
decided by :func:`verification.regime._map.cell_statuses`) on planted rows of cells.

A planted row has :data:`COLUMNS` cells, each with :data:`SEEDS` seeds (the map's default: the
fewest at which a cell with no failure reads HOLDS at δ = 0.1) failing independently with a known
probability per cell; the truth "the conclusion holds at column j" is :math:`p_j \le \delta`.

* **holds_until** (C3's boundary in :math:`|w_r|`): :math:`p = 0.001` on columns 0–3 and
  :math:`p_{beyond}` on 4–7. Read at column 3 (true: HOLDS when the boundary reaches it, VIOLATED
  when a VIOLATED cell is reported at or before it) and at column 4 (false, :math:`p_{beyond} =
  0.3`;
  boundary, :math:`p_{beyond} = \delta`: HOLDS when the boundary is reported at or beyond it).
* **onset** (C1/C2's onset in t): :math:`p_{before}` on columns 0–3 and :math:`p = 0.001` on 4–7.
  Read at column 4 (true: HOLDS when the onset is at or before it, VIOLATED when a VIOLATED cell is
  reported at or after it) and at column 3 (false, :math:`p_{before} = 0.5`; boundary,
  :math:`\delta`).

Standard: a true reading VIOLATED at most α and HOLDS at least 0.8; a false or boundary reading
HOLDS at most α. Deterministic: ``numpy.random.default_rng`` with fixed integer seeds.
"""

from __future__ import annotations

import numpy as np

from verification.calibration import _planted as planted
from verification.regime._map import cell_statuses, row_boundary, seeds_for_holds
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VIOLATED

__all__ = ["rows", "COLUMNS", "DELTA"]

ALPHA = 0.05
DELTA = 0.1
COLUMNS = 8


def __getattr__(name: str):
    """``SEEDS``: the map's default seeds per cell, :func:`seeds_for_holds` ``(DELTA, ALPHA)`` —
    computed on
    first use (it needs ``scipy.stats``, which ``ntk-verify --help`` must not import)."""
    if name == "SEEDS":
        return seeds_for_holds(DELTA, ALPHA)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_EDGE = 4  # first column of the second regime


def _statuses(p, R: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    SEEDS = seeds_for_holds(DELTA, ALPHA)
    fails = rng.binomial(SEEDS, np.broadcast_to(np.asarray(p, np.float64), (R, COLUMNS))).astype(
        np.int64
    )
    st, _, _ = cell_statuses(
        fails, np.full((R, COLUMNS), SEEDS, np.int64), delta=DELTA, alpha=ALPHA
    )
    return st


def _read_until(st: np.ndarray, column: int) -> np.ndarray:
    cols = list(range(COLUMNS))
    out = []
    for row in st:
        b = row_boundary(cols, row)
        if b["holds_until"] is not None and b["holds_until"] >= column:
            out.append(HOLDS)
        elif b["first_violated"] is not None and b["first_violated"] <= column:
            out.append(VIOLATED)
        else:
            out.append(INCONCLUSIVE)
    return np.asarray(out)


def _read_onset(st: np.ndarray, column: int) -> np.ndarray:
    cols = list(range(COLUMNS))
    out = []
    for row in st:
        b = row_boundary(cols, row)
        if b["onset"] is not None and b["onset"] <= column:
            out.append(HOLDS)
        elif any(s == VIOLATED for s in row[column:]):
            out.append(VIOLATED)
        else:
            out.append(INCONCLUSIVE)
    return np.asarray(out)


def rows(R: int) -> list[dict]:
    """Calibration rows of the two boundary readings (module docstring), ``R`` replicates each."""
    budget = {"seeds per cell": seeds_for_holds(DELTA, ALPHA), "cells per row": COLUMNS, "δ": DELTA}
    true_std = [(VIOLATED, "<=", ALPHA), (HOLDS, ">=", 0.8)]
    false_std = [(HOLDS, "<=", ALPHA)]
    out = []
    for case, planted_words, p_beyond, col, std, seed in (
        (
            "true",
            "p = 0.001 on columns 0–3, 0.3 beyond; read at column 3",
            0.3,
            _EDGE - 1,
            true_std,
            701,
        ),
        (
            "false",
            "p = 0.001 on columns 0–3, 0.3 beyond; read at column 4",
            0.3,
            _EDGE,
            false_std,
            702,
        ),
        (
            "boundary",
            "p = 0.001 on columns 0–3, δ beyond; read at column 4",
            DELTA,
            _EDGE,
            false_std,
            703,
        ),
    ):
        p = np.where(np.arange(COLUMNS) < _EDGE, 0.001, p_beyond)
        st = _statuses(p, R, seed)
        out.append(
            planted.row(
                "regime holds_until",
                case,
                planted_words,
                budget,
                planted.tally(_read_until(st, col)),
                R,
                std,
            )
        )
    for case, planted_words, p_before, col, std, seed in (
        (
            "true",
            "p = 0.5 on columns 0–3, 0.001 from 4; read at column 4",
            0.5,
            _EDGE,
            true_std,
            711,
        ),
        (
            "false",
            "p = 0.5 on columns 0–3, 0.001 from 4; read at column 3",
            0.5,
            _EDGE - 1,
            false_std,
            712,
        ),
        (
            "boundary",
            "p = δ on columns 0–3, 0.001 from 4; read at column 3",
            DELTA,
            _EDGE - 1,
            false_std,
            713,
        ),
    ):
        p = np.where(np.arange(COLUMNS) < _EDGE, p_before, 0.001)
        st = _statuses(p, R, seed)
        out.append(
            planted.row(
                "regime onset",
                case,
                planted_words,
                budget,
                planted.tally(_read_onset(st, col)),
                R,
                std,
            )
        )
    return out
