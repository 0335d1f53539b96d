"""C1's one probability family: the failing runs of every (part, width) pair decided together.

The parts of every trained size count the runs failing them per width
(:class:`FamilyRow`); :func:`decide_family` gives the decisive ones to
:func:`verification.rules.probability_decision` as one family (HOLDS when every Clopper–Pearson
upper end is ≤ δ, VIOLATED when a Holm-adjusted p-value is ≤ α/2) and decides a non-decisive row
alone. The horizon rule follows: an envelope that no run breaks reads VACUOUS, not HOLDS, when its
horizon spans fewer e-folds than it needs to reach the float floor.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from verification.claims.c1_convergence import _words as words
from verification.rules import probability_decision
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED, Part


class FamilyRow(NamedTuple):
    """One part's failing runs per width, decided with every other in one probability family."""

    part: int  # its index among the parts
    n: int
    failures: list
    runs: list
    case: dict | None  # the first failing run, the counterexample should the part be VIOLATED
    text: str  # what is counted


class FamilyDecision(NamedTuple):
    """The counterexample (the first failing run of the first VIOLATED part, or None); the upper
    ends and failure counts of the decisive (part, width) pairs (None when there is none)."""

    counterexample: dict | None
    upper: list | None
    failures: list | None


def _floor_steps(need: float, efolds: float, runs, n: int) -> float:
    """Steps at which the envelope of size n reaches the float floor: the horizon scaled by
    need/efolds."""
    T = next(float(r.steps[-1]) for r in runs if r.n == n)
    return T * need / efolds if efolds > 0 else math.inf


def _row_status(pd, off: int, row: FamilyRow, delta, alpha, family: str) -> tuple[str, str]:
    """A decisive row's status from the family's decision, whose entries ``off``… are its widths:
    VIOLATED where Holm rejects a width, HOLDS where every upper end is ≤ δ."""
    kk, S_, end = row.failures, row.runs, off + len(row.failures)
    up, padj = np.asarray(pd.upper[off:end]), np.asarray(pd.p_adjusted[off:end])
    rej = [i - off for i in pd.rejected if off <= i < end]
    if rej:
        i = rej[0]
        return VIOLATED, words.family_violated(kk[i], S_[i], float(padj[i]), alpha, family)
    if np.all(up <= delta):
        return HOLDS, words.family_holds(up, delta, family)
    return INCONCLUSIVE, words.family_inconclusive(up, delta, float(padj.min()), family)


def _row_part(part: Part, row: FamilyRow, status: str, rule: str, bounds: dict, runs) -> Part:
    """The row's part, with the horizon rule applied to an envelope."""
    finding = words.family_finding(row.text, row.failures, row.runs, rule)
    why = words.family_why(status, row.failures)
    ef = bounds.get(f"envelope_efolds_tested[n={row.n}]")
    need = bounds.get(f"envelope_efolds_to_float_floor[n={row.n}]")
    if status == HOLDS and part.name.startswith("envelope") and ef < need:
        status, why = VACUOUS, words.horizon_why(ef)
        finding += words.horizon_rule(ef, need, _floor_steps(need, ef, runs, row.n))
    return Part(part.name, status, finding, part.decisive, why=why)


def decide_family(
    parts: list[Part], rows: list[FamilyRow], bounds: dict, runs, *, delta: float, alpha: float
) -> FamilyDecision:
    """Decide every row and replace its part in ``parts``: the decisive rows as one family (Holm
    over all their (part, width) pairs), a non-decisive row alone. ``bounds`` holds each size's
    envelope e-folds (``envelope_efolds_tested[n=…]``, ``envelope_efolds_to_float_floor[n=…]``);
    ``runs`` the trained sizes."""
    decisive = [r for r in rows if parts[r.part].decisive]
    pd, family = None, ""
    if decisive:
        k = np.array([x for r in decisive for x in r.failures], np.int64)
        nr = np.array([x for r in decisive for x in r.runs], np.int64)
        pd = probability_decision(k, nr, delta=delta, alpha=alpha, correction="holm")
        family = words.holm_family(k.size)
    off, counter = 0, None
    for row in rows:
        if parts[row.part].decisive:
            status, rule = _row_status(pd, off, row, delta, alpha, family)
            off += len(row.failures)
            if status == VIOLATED:
                counter = counter or row.case
        else:
            solo = probability_decision(
                np.asarray(row.failures, np.int64),
                np.asarray(row.runs, np.int64),
                delta=delta,
                alpha=alpha,
            )
            status, rule = solo.status, solo.rule
        parts[row.part] = _row_part(parts[row.part], row, status, rule, bounds, runs)
    if pd is None:
        return FamilyDecision(counter, None, None)
    return FamilyDecision(counter, list(pd.upper), list(pd.failures))
