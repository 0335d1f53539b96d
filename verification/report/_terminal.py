"""Plain-text tables for the terminal, at most a given width (120 columns by default): the full
tables go to files (Markdown); what is printed is compact, with long cells cut short (``…``)."""

from __future__ import annotations

__all__ = ["WIDTH", "fit_table", "calibration_rows_text"]

WIDTH = 120
"""Columns a printed table may use."""

_STATUS_SHORT = {"HOLDS": "HOLDS", "VIOLATED": "VIOL", "VACUOUS": "VAC", "INCONCLUSIVE": "INCONC"}


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def fit_table(
    header: list[str], rows: list[list[str]], *, width: int = WIDTH, shrink: tuple[int, ...] = ()
) -> str:
    """Left-aligned columns separated by two spaces, every line at most ``width`` characters: the
    columns listed in ``shrink`` (indices) are cut, the widest first, until the table fits
    (each keeps at least 6 characters); a table that still does not fit has its lines cut."""
    table = [list(header)] + [list(r) for r in rows]
    widths = [max(len(r[j]) for r in table) for j in range(len(header))]
    total = sum(widths) + 2 * (len(widths) - 1)
    while total > width and shrink:
        j = max(shrink, key=lambda k: widths[k])
        if widths[j] <= 6:
            break
        widths[j] -= 1
        total -= 1
    lines = ["  ".join(f"{_cut(c, w):<{w}}" for c, w in zip(r, widths)).rstrip() for r in table]
    return "\n".join(_cut(line, width) for line in lines)


def calibration_rows_text(
    rows: list[dict], statuses: tuple[str, ...], *, width: int = WIDTH
) -> str:
    """The calibration rows (:func:`verification.calibration._table.calibrate`) as a compact text
    table: rule, case, planted truth, replicates, the fraction of each status, whether the standard
    is met."""
    header = ["rule", "case", "planted", "R", *(_STATUS_SHORT.get(s, s) for s in statuses), "met"]
    body = [
        [
            r["rule"],
            r["case"],
            r["planted"],
            str(r["replicates"]),
            *(f"{r['rates'][s]:.3f}" for s in statuses),
            "yes" if r["meets"] else "NO",
        ]
        for r in rows
    ]
    return fit_table(header, body, width=width, shrink=(0, 1, 2))
