r"""How verdicts read: the two verdicts of a claim as text, for report.md, findings.md and the
terminal.

Every claim carries two verdicts (docs/theory.md, "Theorem and observed law"):

* the **theorem** verdict, :attr:`Verdict.status`, from
  :func:`verification.rules._verdict.combine_parts` (premises first), shown with its
  :func:`verification.rules._verdict.headline`
  (``Theorem: VACUOUS — premise VACUOUS 1 (η above λδ) · HOLDS 2``);
* the **observed** verdict, :attr:`Verdict.observed`: the conclusion as an empirical law at the
  scales run, decided by a calibrated rule (``Observed: HOLDS — <finding> (rule: …; scale: …)``),
  with its looseness (orders of magnitude between where the conclusion is observed and where the
  theorem requires it) and, when INCONCLUSIVE, the budget at which the rule's power reaches 0.8.

A verdict without ``observed`` (a plug-in claim, a summary.json written before it existed) shows
:data:`NONE` in its place. Everything here is a pure function of verdicts: no I/O.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from verification.claims import CLAIMS
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED, Verdict, headline

__all__ = [
    "NONE",
    "COLUMNS",
    "LIST_LIMIT",
    "fmt",
    "cell",
    "theorem_line",
    "observed_line",
    "looseness_text",
    "budget_line",
    "verdict_lines",
    "tally",
    "verdict_table",
    "overview_table",
    "verdict_matrix",
    "source_rows",
    "text_table",
]

NONE = "—"
"""Shown where a verdict has no observed verdict (or a matrix cell no verdict)."""

COLUMNS = (
    '*Theorem*: the paper\'s statement judged premises first (docs/theory.md, "Combining parts"); '
    "*Observed*: its conclusion as an empirical law at the scales run, "
    'decided by a calibrated rule ("Theorem and observed law"); — where a claim gives none. '
    "In the matrix each cell reads theorem / observed."
)
"""The line under the verdict table (or matrix) that says what its two verdict columns mean."""

LIST_LIMIT = 16
"""Longer sequences are shown as their count, minimum and maximum."""


def fmt(value) -> str:
    """A number or a structure of numbers as short text: 4 significant digits, ∞ for infinities.

    >>> fmt([0.000123456, float("inf"), 3])
    '[0.0001235, ∞, 3]'
    """
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (bool, np.bool_)) or value is None or isinstance(value, str):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        return f"{v:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {fmt(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        flat = _flat_numbers(value)
        if len(value) > LIST_LIMIT and flat is not None and flat.size:
            return f"{len(value)} values in [{fmt(flat.min())}, {fmt(flat.max())}]"
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return str(value)


def _flat_numbers(seq):
    try:
        arr = np.asarray(seq, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr.ravel()


def cell(text) -> str:
    """``text`` safe inside a Markdown table cell: ``|`` escaped (``max|Δw|`` would split the row),
    one line."""
    # every line break str.splitlines knows
    return " ".join(str(text).replace("|", "\\|").splitlines())


def _bold(text: str, markdown: bool) -> str:
    return f"**{text}**" if markdown else text


def theorem_line(v: Verdict, *, markdown: bool = True) -> str:
    """``Theorem: STATUS — <headline>``: the theorem's verdict and its decisive parts counted by
    status."""
    head = headline(v.parts)
    return _bold(f"Theorem: {v.status}", markdown) + (f" — {head}" if head else "")


def observed_line(v: Verdict, *, markdown: bool = True) -> str:
    """``Observed: STATUS — <finding> (rule: …; scale: …)``, or ``Observed: —`` without an observed
    verdict."""
    o = v.observed
    if o is None:
        return _bold("Observed:", markdown) + f" {NONE} (this claim gives no observed verdict)"
    return (
        _bold(f"Observed: {o.status}", markdown)
        + f" — {o.finding.rstrip('.')} (rule: {o.rule}; scale: {o.scale})"
    )


def looseness_text(v: Verdict) -> str:
    """The observed verdict's looseness as ``name = value; …`` (:data:`NONE` when there is none)."""
    o = v.observed
    if o is None or not o.looseness:
        return NONE
    return "; ".join(f"{k} = {fmt(x)}" for k, x in o.looseness.items())


def budget_line(v: Verdict) -> str:
    """Where the observed verdict is INCONCLUSIVE (or names a budget): the budget at which its
    rule's power reaches 0.8."""
    o = v.observed
    if o is None or (o.status != INCONCLUSIVE and not o.budget):
        return ""
    return f"Budget at which the rule's power reaches 0.8: {o.budget or 'not given by the claim'}."


def verdict_lines(v: Verdict, *, markdown: bool = True) -> list[str]:
    """The lines that open a claim's section: theorem, observed, looseness, budget (empty ones left
    out)."""
    lines = [theorem_line(v, markdown=markdown), observed_line(v, markdown=markdown)]
    if v.observed is not None and v.observed.looseness:
        lines.append(f"Looseness (observed against required): {looseness_text(v)}.")
    budget = budget_line(v)
    return lines + ([budget] if budget else [])


def tally(verdicts: list[Verdict]) -> str:
    """``theorem: 2 HOLDS, 1 VACUOUS; observed: 2 HOLDS, 1 not given (—)``: counts of each column's
    statuses."""

    def count(statuses):
        c = Counter(statuses)
        order = (HOLDS, VIOLATED, INCONCLUSIVE, VACUOUS, NONE)  # the headline's order
        return ", ".join(f"{c[s]} {'not given (—)' if s == NONE else s}" for s in order if c[s])

    return (
        f"theorem: {count(v.status for v in verdicts)}; "
        f"observed: {count(v.observed.status if v.observed else NONE for v in verdicts)}"
    )


def _observed_status(v: Verdict | None, markdown: bool = True) -> str:
    if v is None or v.observed is None:
        return NONE
    return _bold(v.observed.status, markdown)


def _key_numbers(v: Verdict) -> str:
    claim = CLAIMS.get(v.claim)
    return claim.summary(v) if claim is not None and claim.summary is not None else ""


def verdict_table(verdicts: list[Verdict]) -> str:
    """Markdown table: id, source, title, theorem verdict, observed verdict, key numbers."""
    rows = [
        "| Claim | Source | Statement | Theorem | Observed | Key numbers |",
        "|---|---|---|---|---|---|",
    ]
    for v in verdicts:
        claim = CLAIMS.get(v.claim)
        rows.append(
            f"| {v.claim} | {cell(claim.source) if claim else ''} | "
            f"{cell(claim.title) if claim else ''} | "
            f"**{v.status}** | {_observed_status(v)} | {cell(_key_numbers(v))} |"
        )
    return "\n".join(rows)


def overview_table(verdicts: list[Verdict]) -> str:
    """Markdown table, one line per claim: theorem verdict with its headline, observed verdict with
    its rule (and budget when INCONCLUSIVE), the observation's scale, its looseness."""
    rows = [
        "| Claim | Theorem (premises first) | Observed (the conclusion as a law) "
        "| Scale | Looseness |",
        "|---|---|---|---|---|",
    ]
    for v in verdicts:
        claim = CLAIMS.get(v.claim)
        name = f"{v.claim} {claim.title} ({claim.source})" if claim else v.claim
        head = headline(v.parts)
        theorem = f"**{v.status}**" + (f" — {head}" if head else "")
        o = v.observed
        if o is None:
            observed, scale = NONE, NONE
        else:
            observed = f"**{o.status}** ({o.rule})"
            if o.status == INCONCLUSIVE:
                observed += f"; power 0.8 at: {o.budget or 'not given'}"
            scale = o.scale
        rows.append(
            f"| {cell(name)} | {cell(theorem)} | {cell(observed)} | {cell(scale)} "
            f"| {cell(looseness_text(v))} |"
        )
    return "\n".join(rows)


def _by_claim_and_source(verdicts: list[Verdict], sources: list[str]) -> tuple[list[str], dict]:
    if len(sources) != len(verdicts):
        raise ValueError(f"sources: expected one per verdict ({len(verdicts)}), got {len(sources)}")
    order = list(dict.fromkeys(sources))
    cells: dict[str, dict[str, Verdict]] = {}
    for v, s in zip(verdicts, sources):
        cells.setdefault(v.claim, {})[s] = v
    return order, cells


def verdict_matrix(verdicts: list[Verdict], sources: list[str]) -> str:
    """Markdown table: one row per claim, one column per data source (``sources[i]`` of verdict
    ``i``); each cell ``theorem / observed`` (``**VACUOUS** / **HOLDS**``; :data:`NONE` for a
    missing one)."""
    order, cells = _by_claim_and_source(verdicts, sources)
    rows = [
        "| Claim | Statement | " + " | ".join(f"`{cell(s)}`" for s in order) + " |",
        "|---|---|" + "---|" * len(order),
    ]
    for cid, by in cells.items():
        claim = CLAIMS.get(cid)
        rows.append(
            f"| {cid} | {cell(claim.title) if claim else ''} | "
            + " | ".join(
                f"**{by[s].status}** / {_observed_status(by[s])}" if s in by else NONE
                for s in order
            )
            + " |"
        )
    return "\n".join(rows)


def source_rows(verdicts: list[Verdict], sources: list[str]) -> str:
    """Markdown table, one line per (claim, source): theorem verdict with headline, observed
    verdict, the observation's scale and looseness."""
    order, cells = _by_claim_and_source(verdicts, sources)
    rows = [
        "| Claim | Data | Theorem | Observed | Scale | Looseness |",
        "|---|---|---|---|---|---|",
    ]
    for cid, by in cells.items():
        for s in order:
            if s not in by:
                continue
            v = by[s]
            head = headline(v.parts)
            rows.append(
                f"| {cid} | `{cell(s)}` "
                f"| {cell(f'**{v.status}**' + (f' — {head}' if head else ''))} | "
                f"{_observed_status(v)} | {cell(v.observed.scale if v.observed else NONE)} | "
                f"{cell(looseness_text(v))} |"
            )
    return "\n".join(rows)


def text_table(verdicts: list[Verdict]) -> str:
    """The terminal summary of ``ntk-verify run``: claim, theorem verdict, observed verdict, key
    numbers."""
    rows = [("claim", "theorem", "observed", "key numbers")]
    for v in verdicts:
        c = CLAIMS.get(v.claim)
        rows.append(
            (
                f"{v.claim} {c.title if c else ''}".rstrip(),
                v.status,
                _observed_status(v, markdown=False),
                _key_numbers(v),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(
        f"{a:<{widths[0]}}  {b:<{widths[1]}}  {o:<{widths[2]}}  {k}".rstrip() for a, b, o, k in rows
    )
