"""How results read: report.md and the figures, drawn from verdicts and saved evidence alone.

:func:`render` writes ``report.md`` (the verdict table or the claims × data sources matrix, one
section per claim with its figures, the regime maps a run built, errors) and calls the extra
sections of :data:`SECTIONS`, an explicit tuple of callables ``fn(results_dir: Path) -> str |
None`` (the sweep's renderer of ``sweep.npz``), appending the Markdown each returns. The files on
disk (summary, evidence, rerendering) are :mod:`verification.report._results`.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from verification.claims import CLAIMS, load_extensions
from verification.data._windows import placement_words
from verification.files import (
    FIGURE_SOURCE,
    atomic_write,
)
from verification.regime._report import maps_section
from verification.report._presentation import (
    COLUMNS,
    tally,
    verdict_lines,
    verdict_matrix,
    verdict_table,
)
from verification.rules._verdict import Verdict
from verification.sweeps.render import render_sweep

__all__ = ["LEGEND", "SECTIONS", "distinct", "render", "source_prefix"]

LEGEND = (
    "Statuses: **HOLDS** — the bound or law is met, with its interval; **VIOLATED** — it fails, "
    "beyond the interval (a counterexample where one exists); **INCONCLUSIVE** — the interval "
    "straddles the margin at this budget (the budget for power 0.8 is named); **VACUOUS** — a "
    "premise is out of reach (e.g. λ below float64), so the check cannot fail."
)
"""The status legend under report.md's one-line summary."""

SECTIONS: tuple[Callable[[Path], str | None], ...] = (render_sweep,)
"""The extra sections of report.md, in order (see module docstring); nothing registers itself."""


def distinct(items) -> list:
    """The items in order of first appearance, each once."""
    return list(dict.fromkeys(items))


def source_prefix(source: str) -> str:
    """File-name prefix of a data source's figures: the source with every character outside
    ``[A-Za-z0-9_.-]`` replaced by ``-``, then ``_`` (``csv:data/a.csv`` -> ``csv-data-a.csv_``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", source) + "_"


def data_line(summary: dict | None, source: str) -> str | None:
    """``Data windows: …`` — where ``source``'s training windows sit and the part of the series
    they span (summary.json ``data_windows``; :func:`verification.data._windows.placement_words`);
    ``None`` when the summary does not say (results written before it did)."""
    info = ((summary or {}).get("data_windows") or {}).get(source)
    if not info:
        return None
    try:
        return f"Data windows: {placement_words(info)}."
    except (KeyError, TypeError, ValueError):
        return None


def _plot_prefixed(claim, v: Verdict, out: Path, prefix: str) -> list[str]:
    """``claim.plot`` into a temporary folder inside ``out``, then each figure moved to
    ``out/<prefix><name>``."""
    tmp = out / f".plot-{prefix}tmp"
    tmp.mkdir(exist_ok=True)
    try:
        names = list(claim.plot(v, tmp))
        for name in names:
            os.replace(tmp / name, out / f"{prefix}{name}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [f"{prefix}{name}" for name in names]


def _section(v: Verdict, figures: list[str], level: int = 2) -> str:
    claim = CLAIMS.get(v.claim)
    hashes = "#" * level
    head = f"{hashes} {v.claim}: {claim.title} ({claim.source})" if claim else f"{hashes} {v.claim}"
    lines = [head, ""]
    # first: theorem (premises first), observed law, looseness, budget
    for line in verdict_lines(v):
        lines += [line, ""]
    if claim:
        lines += [f"$$ {claim.statement} $$", ""]
    lines += [v.explanation, ""]
    if v.parts:
        for p in v.parts:
            tag = "" if p.decisive else " (diagnostic, not part of the verdict)"
            lines.append(f"- *{p.name}* — **{p.status}**{tag}: {p.finding}")
        lines.append("")
    if v.counterexample:
        ce = ", ".join(f"{k} = {val}" for k, val in v.counterexample.items())
        lines += [f"Smallest counterexample found: {ce}.", ""]
    if v.constants:
        cs = ", ".join(f"{k} = {val:g}" for k, val in v.constants.items())
        lines += [f"Unknown constants used (the paper's Ω/O): {cs}.", ""]
    tr = ", ".join(f"{k} = {val}" for k, val in v.tested_range.items())
    if tr:
        lines += [f"Tested range: {tr}" + (f"; seed {v.seed}." if v.seed is not None else "."), ""]
    for f in figures:
        lines += [f"![{v.claim}]({f})", ""]
    return "\n".join(lines)


def _figures(
    claim, v: Verdict, out: Path, prefix: str | None, errors: list[dict], source: str
) -> list[str]:
    """The figures of ``claim.plot`` (moved to ``prefix + name`` when ``prefix``); a plot that
    raises gives none and an entry in ``errors`` naming the exception (the report is written without
    it)."""
    if claim is None or claim.plot is None or not v.arrays:
        return []
    token = FIGURE_SOURCE.set(source or None)  # save_figure names the source in the figure
    try:
        return (
            _plot_prefixed(claim, v, out, prefix)
            if prefix is not None
            else list(claim.plot(v, out))
        )
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            raise  # a full disk is the writer's to report
        errors.append(
            {
                "claim": v.claim,
                "stage": "plot",
                "error": f"{type(err).__name__}: {err}",
                "data_source": source or None,
            }
        )
        return []
    # a plug-in's plot: reported by name, the other figures stay
    except Exception as err:  # noqa: BLE001
        errors.append(
            {
                "claim": v.claim,
                "stage": "plot",
                "error": f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}",
                "data_source": source or None,
            }
        )
        return []
    finally:
        FIGURE_SOURCE.reset(token)


def render(
    out: Path,
    summary: dict | None,
    verdicts: list[Verdict],
    *,
    errors: list[dict] | None = None,
    sections: tuple = SECTIONS,
) -> int:
    """Figures and ``report.md`` from verdicts (no recomputation), the regime maps that
    ``summary["maps"]`` records (from ``map.json``), then ``sections`` (default :data:`SECTIONS`).

    ``errors``: entries of claims without a verdict (listed in the report; default
    ``summary["errors"]``); a ``plot`` that raises is appended to it. Returns the number of sections
    written (claims plus extras).
    """
    errors = list((summary or {}).get("errors", [])) if errors is None else errors
    load_extensions()
    out = Path(out)
    parts = ["# ntk-verify report", ""]
    if verdicts:
        parts += [f"**Verdicts** — {tally(verdicts)}.", "", LEGEND, ""]
    listed = (summary or {}).get("verdicts", [])
    sources = (
        [str(d.get("data_source", "")) for d in listed]
        if len(listed) == len(verdicts)
        else [""] * len(verdicts)
    )
    order = distinct(sources)
    if verdicts:
        env = (summary or {}).get("environment", {})
        if len(order) > 1:
            parts += [
                "## Verdict matrix (claims × data sources)",
                "",
                COLUMNS,
                "",
                verdict_matrix(verdicts, sources),
                "",
            ]
        else:
            parts += [verdict_table(verdicts), "", COLUMNS, ""]
            if order[0]:
                parts += [f"Data source: `{order[0]}`.", ""]
                line = data_line(summary, order[0])
                parts += [line, ""] if line else []
        if env:
            seed = summary.get("seed")
            parts += [
                (f"Seed {seed}; " if seed is not None else "")
                + f"dtype {env.get('dtype')}, x64 {env.get('x64')}; "
                f"JAX {env.get('packages', {}).get('jax')} "
                f"on {', '.join(env.get('jax_devices', []))}.",
                "",
            ]
        if len(order) > 1:
            for s in order:
                mine = [v for v, vs in zip(verdicts, sources) if vs == s]
                parts += [f"## Data source `{s}`", ""]
                line = data_line(summary, s)
                parts += [line, ""] if line else []
                parts += [verdict_table(mine), ""]
                for v in mine:
                    figures = _figures(CLAIMS.get(v.claim), v, out, source_prefix(s), errors, s)
                    parts.append(_section(v, figures, level=3))
        else:
            for v in verdicts:
                parts.append(
                    _section(v, _figures(CLAIMS.get(v.claim), v, out, None, errors, order[0]))
                )
    built = (summary or {}).get("maps")
    # from map.json, only for maps this run built (not a stale map.json of `ntk-verify map`)
    if built:
        parts += [maps_section(out, built).rstrip(), ""]
    if errors:
        parts += [
            "## Errors",
            "",
            *(
                f"- {e['claim']}{' (`' + e['data_source'] + '`)' if e.get('data_source') else ''}: "
                f"{e['stage']} failed: {e['error']}"
                for e in errors
            ),
            "",
        ]
    written = len(verdicts) + bool(errors) + bool(built)
    for fn in sections:
        extra = fn(out)
        if extra:
            parts += [extra.rstrip(), ""]
            written += 1
    if written:
        atomic_write(out / "report.md", "\n".join(parts).rstrip() + "\n")
    return written
