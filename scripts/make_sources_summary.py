"""Regenerate ``docs/sources_summary.json``: the claims on several data sources, one run, the
default configuration.

    python scripts/make_sources_summary.py [--work DIR] [--check]

Runs ``ntk-verify run --data SOURCES --claims CLAIMS --out DIR --force --quiet`` with the built-in
configuration for each source (:data:`SOURCES`: the default data ``residual``, the old ``haar``,
three real series — ``sunspots``, ``elnino``, ``unemployment``, shipped by statsmodels —
and ``ar``, an AR(1) series with φ = 0.95; :data:`CLAIMS`), then copies ``DIR/summary.json`` to
``docs/sources_summary.json``, which ``scripts/make_findings.py`` turns into the sources matrix of
docs/findings.md (theorem / observed verdict per claim and source). ``--work`` defaults to a
temporary folder, removed afterwards.

``--check`` runs nothing: exit 1 (one line on stderr) unless ``docs/sources_summary.json`` is a run
of this recipe under today's defaults — its data sources and claims are :data:`SOURCES` and
:data:`CLAIMS`, and each source's configuration is the built-in one for that source. The numbers
in it are not compared (they depend on the machine's rounding; docs/reliability.md).

The whole refresh of the committed results, in order::

    ntk-verify run --out /tmp/default --force --quiet
    cp /tmp/default/summary.json docs/default_summary.json
    cp /tmp/default/evidence.npz docs/default_evidence.npz
    python scripts/make_sources_summary.py
    python scripts/make_findings.py
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from verification import config as cfg
from verification.commands import _cli as cli

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "sources_summary.json"

SOURCES = ("residual", "haar", "sunspots", "elnino", "unemployment", "ar")
"""The default data, the old synthetic set, three real series and an AR(1) (the ``ar`` family's
default φ = 0.95)."""

CLAIMS = ("C1", "C2", "C3", "C4")
"""The claims whose verdicts depend on the data's kernel (C5–C7 read sign-inconsistent test windows,
which a finite real series may hold too few of; they run on the default data only)."""


def command(work: Path) -> list[str]:
    """The ``ntk-verify`` arguments of the recipe, writing into ``work``."""
    return [
        "run",
        "--data",
        ",".join(SOURCES),
        "--claims",
        ",".join(CLAIMS),
        "--out",
        str(work),
        "--force",
        "--quiet",
    ]


def problems(summary: dict) -> list[str]:
    """Why ``summary`` is not a run of this recipe under today's defaults (empty list: it is)."""
    cli.build_parser()  # registers every claim and configuration section, as `ntk-verify run` does
    out = []
    if not isinstance(summary, dict):
        return [f"expected a summary.json object, got {type(summary).__name__}"]
    if summary.get("data_sources") != list(SOURCES):
        out.append(f"data_sources: expected {list(SOURCES)}, got {summary.get('data_sources')!r}")
    if summary.get("claims") != list(CLAIMS):
        out.append(f"claims: expected {list(CLAIMS)}, got {summary.get('claims')!r}")
    configs = summary.get("data_configs") or {}
    for source in SOURCES:
        default = json.loads(json.dumps(cfg.validate({"data": {"source": source}})["data"]))
        if configs.get(source) != default:
            out.append(f"data_configs[{source!r}]: not today's default [data] for that source")
    default = json.loads(json.dumps(cfg.default_config()))
    got = summary.get("config") or {}
    if {k: v for k, v in got.items() if k != "data"} != {
        k: v for k, v in default.items() if k != "data"
    }:
        out.append("config: not today's default configuration (a claim's section differs)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument(
        "--work", help="results folder of the run (default: a temporary folder, removed afterwards)"
    )
    parser.add_argument(
        "--out",
        default=str(OUT),
        help="where the summary goes (default: docs/sources_summary.json)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="run nothing; exit 1 unless --out is a run of this recipe",
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.check:
        try:
            summary = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            print(f"make_sources_summary: error: cannot read {out} ({err})", file=sys.stderr)
            return 1
        found = problems(summary)
        if found:
            print(
                f"make_sources_summary: {out} is not this recipe's run: {found[0]}; "
                "run: python scripts/make_sources_summary.py",
                file=sys.stderr,
            )
            return 1
        return 0
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="ntk-sources-"))
    t0 = time.perf_counter()
    try:
        code = cli.main(command(work))
        if code != 0:
            print(
                f"make_sources_summary: error: `ntk-verify {' '.join(command(work))}` "
                f"exited with {code}",
                file=sys.stderr,
            )
            return code
        shutil.copyfile(work / "summary.json", out)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print(
        f"wrote {out} ({len(SOURCES)} sources × {len(CLAIMS)} claims, "
        f"{time.perf_counter() - t0:.0f} s); "
        "now run: python scripts/make_findings.py"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
