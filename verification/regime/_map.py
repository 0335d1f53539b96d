r"""Regime maps (docs/theory.md, "Regime maps"): where a claim's conclusion holds, cell by cell.

A *map* puts a claim's conclusion on a grid — rows the width :math:`m`, columns log-spaced
gradient-descent steps :math:`t` (C3 also :math:`|w_r|`) — and decides every cell with the
probability rule (:func:`verification.rules.probability_statuses`, the network draw — the seed —
being the unit): a cell has ``runs`` seeds, ``failures`` of which miss the conclusion there, and

* HOLDS when the Clopper–Pearson upper end of the failure rate is :math:`\le \delta`
  (:math:`1 - (\alpha/2)^{1/S} \le \delta` with no failure: :math:`S \ge` :func:`seeds_for_holds`);
* VIOLATED when :math:`P(\mathrm{Bin}(S, \delta) \ge k) \le \alpha/2`;
* INCONCLUSIVE otherwise; VACUOUS where no seed reaches the cell (C3's :math:`|w_r|` bins nobody
  visits) or where the theorem's own premise is not met there (C3: :math:`w_r(t) < 0` for
  :math:`\ge 1-\delta` of the neurons, decided by the same rule).

Each cell also carries the Clopper–Pearson interval of the fraction of seeds meeting the conclusion.
Only premises that can be measured in a cell gate it; those out of reach at any computable size
(:math:`t \ge t_{align}`, :math:`m \ge m_{conc}`, :math:`\eta \le \eta_{thm}`) are drawn as curves
with their looseness instead — gating on them would leave every cell VACUOUS, which the theorem
verdict already says.

Boundaries (:func:`row_boundary`, calibrated in :mod:`verification.calibration._regime`), per row:
``onset`` — the first column from which every later decided cell HOLDS (an intersection–union
statement: it is beyond the truth only if a false cell reads HOLDS, rate :math:`\le \alpha/2`);
``holds_until`` — the last column of the first run of HOLDS cells (VACUOUS cells skipped);
``first_violated``.

Premise curves are the theorem's requirements on the same axes, from
:func:`verification.training._bounds.theory`: C1
:math:`T_{req} = c_T(\eta\lambda)^{-1}\log(nB^2/\varepsilon)`, C2 and C3
:math:`t_{align}(m) = c_A\,m/(\eta\lambda v_{\min})`; C3 also the kernel-regime width
:math:`m_{conc}` (matrix Bernstein) and the step-size premise :math:`\eta_{thm}` (degree-one
reading). *Looseness* (:func:`looseness`): :math:`\log_{10}` of the premise over the observed onset
per width, and the constant the observations would support,
:math:`c_{supported} = c \cdot t_{onset}(m) / P(m)` (its largest value over widths: the smallest
constant that covers every width run).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from jaxtyping import Int

from verification import rules as stats
from verification.rules._verdict import HOLDS, VACUOUS, VIOLATED

__all__ = [
    "RegimeMap",
    "Panel",
    "seeds_for_holds",
    "cell_statuses",
    "row_boundary",
    "panel",
    "looseness",
    "horizon_verdict",
    "to_json",
]


class Panel(NamedTuple):
    """One heatmap: rows × columns of cells, each with its status and interval.

    ``rows``/``columns`` name an axis of :attr:`RegimeMap.axes`; ``successes``/``runs`` (R, C) seeds
    meeting the conclusion and seeds counted; ``status`` (R, C) strings; ``lo``/``hi`` (R, C) the
    Clopper–Pearson interval of the success fraction (NaN where no run); ``boundary`` per row
    (:func:`row_boundary`) and across rows.
    """

    rows: str
    columns: str
    successes: np.ndarray
    runs: np.ndarray
    status: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    boundary: dict
    note: str = ""


class RegimeMap(NamedTuple):
    """A claim's regime map: axes (name → values, unit, words), panels, premise curves, looseness,
    verdict."""

    claim: str
    conclusion: str
    axes: dict
    panels: dict
    premise: dict
    looseness: dict
    verdict: dict
    scale: str


def seeds_for_holds(delta: float, alpha: float = 0.05) -> int:
    r"""Fewest seeds at which a cell with no failure reads HOLDS: smallest S with
    :math:`1-(\alpha/2)^{1/S} \le \delta`.

    >>> seeds_for_holds(0.1)
    36
    """
    if not 0 < delta < 1:
        raise ValueError(f"delta: expected a failure probability in (0, 1), got {delta!r}")
    S = max(1, math.ceil(math.log(alpha / 2) / math.log1p(-delta)))
    while stats.clopper_pearson(0, S, alpha)[1] > delta:  # guard the float edge of the closed form
        S += 1
    return S


def cell_statuses(
    failures: Int[np.ndarray, "R C"],
    runs: Int[np.ndarray, "R C"],
    *,
    delta: float,
    alpha: float = 0.05,
):
    r"""Status of every cell from its failing seeds ``failures`` out of ``runs`` (each cell its own
    test).

    Per cell, :func:`verification.rules.probability_statuses` with a family of one: HOLDS when the
    Clopper–Pearson upper end of the failure rate
    :math:`\mathrm{Beta}^{-1}(1-\alpha/2; k+1, S-k) \le \delta`, VIOLATED when
    :math:`P(\mathrm{Bin}(S,\delta) \ge k) \le \alpha/2`, else INCONCLUSIVE; VACUOUS where
    ``runs == 0``. Returns ``(status, lo, hi)``, the last two the Clopper–Pearson interval of the
    success fraction :math:`(S-k)/S` (NaN where no run).
    """
    k = np.asarray(failures)
    n = np.asarray(runs)
    if k.shape != n.shape or not (
        np.issubdtype(k.dtype, np.integer) and np.issubdtype(n.dtype, np.integer)
    ):
        raise ValueError(
            "failures, runs: expected integer arrays of one shape, "
            f"got {k.dtype}{k.shape} and {n.dtype}{n.shape}"
        )
    if np.any(k < 0) or np.any(k > n):
        raise ValueError("failures: expected 0 <= failures <= runs in every cell")
    empty = n == 0
    n1 = np.where(empty, 1, n)
    k1 = np.where(empty, 0, k)
    st, _, _, _ = stats.probability_statuses(
        k1[..., None], n1[..., None], delta=delta, alpha=alpha, correction="holm"
    )
    lo, hi = stats.clopper_pearson(n1 - k1, n1, alpha)
    st = np.where(empty, VACUOUS, st)
    lo, hi = np.where(empty, np.nan, lo), np.where(empty, np.nan, hi)
    return st, np.asarray(lo, np.float64), np.asarray(hi, np.float64)


def row_boundary(values, status) -> dict:
    """Where one row's conclusion starts and stops holding (VACUOUS cells are not evidence:
    skipped).

    ``onset``: the first value from which every later decided cell HOLDS (None when the last decided
    cell does not); ``holds_until``: the last value of the first run of HOLDS cells (None when none
    holds); ``first_violated``: the first VIOLATED value (None).

    >>> row_boundary([1, 10, 100, 1000], ["VACUOUS", "HOLDS", "HOLDS", "VIOLATED"])
    {'onset': None, 'holds_until': 100, 'first_violated': 1000}
    """
    values = list(values)
    status = [str(s) for s in status]
    if len(values) != len(status):
        raise ValueError(
            f"status: expected one status per value ({len(values)}), got {len(status)}"
        )
    decided = [j for j, s in enumerate(status) if s != VACUOUS]
    onset = None
    for j in reversed(decided):
        if status[j] != HOLDS:
            break
        onset = values[j]
    until = None
    started = False
    for j in decided:
        if status[j] == HOLDS:
            started, until = True, values[j]
        elif started:
            break
    first_bad = next((values[j] for j in decided if status[j] == VIOLATED), None)
    return {"onset": onset, "holds_until": until, "first_violated": first_bad}


def panel(
    rows: str,
    columns: str,
    row_values,
    column_values,
    failures,
    runs,
    *,
    delta: float,
    alpha: float = 0.05,
    gate=None,
    note: str = "",
) -> Panel:
    """A :class:`Panel` from failure counts; ``gate`` (R, C) statuses of a premise: cells where it
    is not HOLDS become VACUOUS (the conclusion is judged only where the premise holds)."""
    k, n = np.asarray(failures, np.int64), np.asarray(runs, np.int64)
    st, lo, hi = cell_statuses(k, n, delta=delta, alpha=alpha)
    if gate is not None:
        g = np.asarray(gate)
        if g.shape != st.shape:
            raise ValueError(f"gate: expected premise statuses of shape {st.shape}, got {g.shape}")
        st = np.where(g == HOLDS, st, VACUOUS)
    per_row = [row_boundary(column_values, st[i]) for i in range(st.shape[0])]
    onsets = [b["onset"] for b in per_row]
    untils = [b["holds_until"] for b in per_row]
    boundary = {
        "per_row": {str(v): b for v, b in zip(row_values, per_row)},
        "onset_every_row": None if any(o is None for o in onsets) else max(onsets),
        "holds_until_every_row": None if any(u is None for u in untils) else min(untils),
    }
    return Panel(rows, columns, n - k, n, st, lo, hi, boundary, note)


def looseness(
    widths, onsets, requirement, *, constant: float, name: str, constant_name: str
) -> dict:
    r"""Orders of magnitude between a premise curve and the observed onsets, and the constant they
    support.

    Per width with an onset :math:`t_o(m)` (taken as at least 1: an onset at t = 0 is "at the first
    step"): :math:`\log_{10}(P(m)/t_o(m))` and :math:`c\,t_o(m)/P(m)`; ``supported`` is the largest
    of the latter (a constant covering every width run). An infinite requirement (λ unresolved)
    gives ``None`` (JSON has no inf) with the reason.
    """
    req = np.broadcast_to(np.asarray(requirement, np.float64), (len(widths),))
    rows, supported = {}, []
    for m, t, P in zip(widths, onsets, req):
        if t is None:
            rows[str(m)] = {
                "onset": None,
                "requirement": _num(P),
                "decades": None,
                "supports": None,
                "why": "conclusion not observed to hold from any recorded step on",
            }
            continue
        to = max(float(t), 1.0)
        if not (math.isfinite(P) and P > 0):
            rows[str(m)] = {
                "onset": t,
                "requirement": None,
                "decades": None,
                "supports": None,
                "why": f"{name} is infinite (λ not resolved)",
            }
            continue
        c = constant * to / P
        supported.append(c)
        rows[str(m)] = {
            "onset": t,
            "requirement": float(P),
            "decades": math.log10(P / to),
            "supports": c,
        }
    return {
        "premise": name,
        "constant": constant_name,
        "constant_used": float(constant),
        "per_width": rows,
        "supported": max(supported) if supported else None,
        "max_decades": max(
            (r["decades"] for r in rows.values() if r["decades"] is not None), default=None
        ),
    }


def horizon_verdict(
    failures: Int[np.ndarray, " R"],
    runs: Int[np.ndarray, " R"],
    *,
    delta: float,
    alpha: float = 0.05,
    gate: str = HOLDS,
) -> dict:
    """The conclusion at the last column, every width one member of the family:
    :func:`verification.rules.probability_decision` (Holm over widths); VACUOUS when ``gate`` (the
    premise's status there) is not HOLDS, or no width has a run."""
    k, n = np.asarray(failures, np.int64), np.asarray(runs, np.int64)
    keep = n > 0
    if gate != HOLDS or not keep.any():
        return {
            "status": VACUOUS,
            "rule": "premise not met at the horizon"
            if gate != HOLDS
            else "no run reaches the horizon",
        }
    dec = stats.probability_decision(k[keep], n[keep], delta=delta, alpha=alpha, correction="holm")
    return {"status": dec.status, "rule": dec.rule}


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return _num(x)
    if isinstance(x, np.str_):
        return str(x)
    return x


def to_json(rm: RegimeMap) -> dict:
    """The map as one JSON-ready dict with the keys ``claim``, ``axes``, ``grid``, ``status``,
    ``interval``, ``boundary``, ``premise``, ``looseness`` (each panel keyed by ``"ROWS×COLUMNS"``),
    plus ``conclusion``, ``verdict`` and ``scale``. Non-finite numbers are ``null``."""
    key = {name: f"{p.rows}×{p.columns}" for name, p in rm.panels.items()}
    out = {
        "claim": rm.claim,
        "conclusion": rm.conclusion,
        "axes": rm.axes,
        "grid": {
            key[k]: {
                "rows": p.rows,
                "columns": p.columns,
                "successes": p.successes,
                "runs": p.runs,
                **({"note": p.note} if p.note else {}),
            }
            for k, p in rm.panels.items()
        },
        "status": {key[k]: p.status for k, p in rm.panels.items()},
        "interval": {key[k]: np.stack([p.lo, p.hi], axis=-1) for k, p in rm.panels.items()},
        "boundary": {key[k]: p.boundary for k, p in rm.panels.items()},
        "premise": rm.premise,
        "looseness": rm.looseness,
        "verdict": rm.verdict,
        "scale": rm.scale,
    }
    return _jsonable(out)
