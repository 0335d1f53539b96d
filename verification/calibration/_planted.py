r"""Rows of the calibration table (a leaf): one planted case of one decision rule, tallied.

A *row* reports how often a rule gave each status on ``replicates`` draws of a case whose truth is
known, and whether that meets the rule's standard (docs/calibration.md): each ``standard`` entry
``(status, "<=" or ">=", limit)`` is met within three Monte-Carlo standard errors
:math:`3\sqrt{q(1-q)/R}` of the limit :math:`q`. Rule modules (``verification/calibration*.py``)
build their rows with :func:`row` and :func:`tally`;
:func:`verification.calibration._table.calibrate`
collects them.
"""

from __future__ import annotations

import math

import numpy as np

from verification.rules._verdict import STATUSES

__all__ = ["row", "tally"]


def row(
    rule: str,
    case: str,
    planted: str,
    budget: dict,
    counts: dict,
    replicates: int,
    standard,
    note: str = "",
) -> dict:
    """One calibration row: ``counts`` per status over ``replicates`` draws, judged against
    ``standard``."""
    counts = {s: int(counts.get(s, 0)) for s in STATUSES}
    rates = {s: counts[s] / replicates for s in STATUSES}
    meets = True
    for status, op, limit in standard:
        tol = 3 * math.sqrt(limit * (1 - limit) / replicates)
        meets &= rates[status] <= limit + tol if op == "<=" else rates[status] >= limit - tol
    return {
        "rule": rule,
        "case": case,
        "planted": planted,
        "budget": budget,
        "replicates": int(replicates),
        "counts": counts,
        "rates": rates,
        "standard": [list(s) for s in standard],
        "meets": bool(meets),
        "note": note,
    }


def tally(statuses) -> dict:
    """Status → count of an array of statuses."""
    values, counts = np.unique(np.asarray(statuses), return_counts=True)
    return {str(v): int(c) for v, c in zip(values, counts)}
