"""Regime maps on disk and in words: ``map.json``, ``map_C*.png``, the terminal lines and
report.md's section.

One place for what ``ntk-verify map`` and ``ntk-verify run --maps`` (``[run] maps``) share:
:func:`write_maps` writes the maps of :func:`verification.regime.build_maps` (``map.json``: a
list, one :func:`verification.regime._map.to_json` object per claim; one heatmap per claim); the
words come from that JSON alone (:func:`map_lines`, :func:`format_map`, :func:`map_summary_line`,
:func:`maps_section`), so ``ntk-verify report DIR`` renders the section again without recomputing.
"""

from __future__ import annotations

from pathlib import Path

from verification.files import ResultsError, atomic_write, json_text, read_json
from verification.pipeline import claim_error
from verification.regime import _map as rmap
from verification.regime import _plot as regime_plot
from verification.regime import _runs as regime_runs
from verification.regime._build import build_maps

__all__ = [
    "MAP_FILE",
    "figure_name",
    "write_maps",
    "run_maps",
    "built_entries",
    "load_maps",
    "map_lines",
    "format_map",
    "map_summary_line",
    "maps_section",
]

MAP_FILE = "map.json"


def figure_name(claim: str) -> str:
    """The heatmap's file name: ``map_<claim>.png``."""
    return f"map_{claim}.png"


def write_maps(out: str | Path, maps: list) -> list[dict]:
    """One heatmap per :class:`~verification.regime._map.RegimeMap` (``out/map_C*.png``), then
    ``out/map.json``; returns the JSON objects."""
    out = Path(out)
    js = [rmap.to_json(m) for m in maps]
    for m in maps:
        regime_plot.heatmap(m, out / figure_name(m.claim))
    atomic_write(out / MAP_FILE, json_text(js))
    return js


def run_maps(
    config: dict, out: str | Path, *, quiet: bool = True, errors: list[dict] | None = None
) -> list[dict]:
    """``ntk-verify run``'s maps: those of ``[run] maps`` on ``config``'s data and seed, with
    :class:`~verification.regime._runs.MapSettings`' defaults (``ntk-verify map``'s), checkpointed
    under ``out/checkpoints`` (a rerun resumes); writes them (:func:`write_maps`) and returns their
    JSON (summary.json's entries: :func:`built_entries`). A build that raises gives no map and one
    entry per claim in ``errors`` (stage ``map``): the claims' results stay."""
    claims = list(config["run"]["maps"])
    if not claims:
        return []
    out = Path(out)
    try:
        maps = build_maps(
            config,
            claims,
            regime_runs.MapSettings(),
            checkpoint_dir=out / "checkpoints",
            quiet=quiet,
        )
    # a map that cannot be built must not discard the claims' results
    except Exception as err:  # noqa: BLE001
        if errors is None:
            raise
        errors += [claim_error(c, "map", err, config["data"]["source"]) for c in claims]
        return []
    return write_maps(out, maps)


def built_entries(js: list[dict]) -> list[dict]:
    """summary.json's ``maps``: ``{claim, status, figure}`` per map (status: the verdict at the
    horizon)."""
    return [
        {"claim": m["claim"], "status": m["verdict"]["status"], "figure": figure_name(m["claim"])}
        for m in js
    ]


def load_maps(out: str | Path) -> list[dict]:
    """``out/map.json`` (a list of map objects), or :class:`ResultsError` naming the file."""
    path = Path(out) / MAP_FILE
    js = read_json(path, "; the results record regime maps but the file was removed")
    if not isinstance(js, list) or not all(isinstance(m, dict) and "claim" in m for m in js):
        raise ResultsError(f"{path}: expected a list of maps with a 'claim' each")
    return js


def _g(x) -> str:
    return "none" if x is None else f"{x:.3g}"


def map_lines(m: dict) -> list[str]:
    """The words of one map (a :func:`~verification.regime._map.to_json` object): the verdict at the
    horizon, one boundary line per panel, the looseness, the scale and the budget."""
    lines = [f"at the horizon: {m['verdict']['status']} ({m['verdict']['rule']})"]
    for key, b in m["boundary"].items():
        lines.append(
            f"{key}: onset at every width {_g(b['onset_every_row'])}, holds until (every width) "
            f"{_g(b['holds_until_every_row'])}; "
            + "; ".join(
                f"m = {r}: first violated {_g(v['first_violated'])}"
                for r, v in b["per_row"].items()
            )
        )
    lo = m["looseness"]
    dec = lo["max_decades"]
    lines.append(
        f"looseness: {lo['premise']} is {'—' if dec is None else f'{dec:.1f}'} decades "
        "beyond the observed "
        f"onset; {lo['constant']} supported {_g(lo['supported'])} (used {lo['constant_used']:g})"
    )
    lines.append(f"scale: {m['scale']}")
    lines.append(f"budget: {m['verdict']['budget']}")
    return lines


def format_map(m: dict) -> str:
    """A few lines per claim for the terminal: ``C3: <conclusion>``, then :func:`map_lines`
    indented."""
    return "\n".join([f"{m['claim']}: {m['conclusion']}", *(f"  {line}" for line in map_lines(m))])


def map_summary_line(m: dict) -> str:
    """One terminal line per map: the verdict at the horizon, the onsets and the figure."""
    onsets = ", ".join(f"{k} onset {_g(b['onset_every_row'])}" for k, b in m["boundary"].items())
    return (
        f"map {m['claim']}: {m['verdict']['status']} at the horizon; {onsets}; "
        f"{figure_name(m['claim'])}"
    )


def maps_section(out: str | Path, built: list[dict]) -> str:
    """report.md's ``## Regime maps``: per map in ``built`` (summary.json ``maps``) its heatmap and
    :func:`map_lines`, read from ``out/map.json`` (nothing is recomputed)."""
    by_claim = {m["claim"]: m for m in load_maps(out)}
    parts = [
        "## Regime maps",
        "",
        "Where each conclusion holds over width m and step t (C3 also |w_r|), "
        "each cell decided over seeds "
        f'(docs/theory.md, "Regime maps"); the numbers are in `{MAP_FILE}`.',
        "",
    ]
    for entry in built:
        m = by_claim.get(entry["claim"])
        if m is None:
            raise ResultsError(
                f"{Path(out) / MAP_FILE}: no map of {entry['claim']}, which summary.json records"
            )
        parts += [
            f"### {m['claim']}: {m['conclusion']}",
            "",
            f"![{m['claim']} regime map]({figure_name(m['claim'])})",
            "",
            *(f"- {line}" for line in map_lines(m)),
            "",
        ]
    return "\n".join(parts).rstrip() + "\n"
