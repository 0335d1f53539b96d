"""Where the default run's time goes: ``ntk-verify run`` twice, first with an empty compilation
cache, then with the cache the first run filled, each claim's wall time from ``timing.json``.

    python benchmarks/run.py                  # the built-in default configuration, all claims
    python benchmarks/run.py --claims C3,C6   # a subset
    python benchmarks/run.py --markdown       # also print the table as Markdown

Each run is a fresh process (``python -m verification.commands run``), so imports, data and λ*
are part of its wall time; the difference between the two runs is what the persistent
compilation cache (``NTK_VERIFY_CACHE``) saves. Wall times depend on the machine and its load:
compare the two columns of one invocation, never a number with another machine's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one_run(out: Path, cache: Path, claims: str | None) -> dict:
    """Run ``ntk-verify run`` into ``out`` with the compilation cache in ``cache``; its timings."""
    argv = [sys.executable, "-m", "verification.commands", "run", "--out", str(out), "--quiet"]
    argv += ["--force"] + (["--claims", claims] if claims else [])
    env = {**os.environ, "NTK_VERIFY_CACHE": str(cache)}
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"ntk-verify run failed ({done.returncode}): {done.stderr.strip()}")
    timing = json.loads((out / "timing.json").read_text())
    return {"process": wall, "run": timing["wall_seconds"], "claims": timing["claims"]}


def table(first: dict, second: dict) -> list[str]:
    """Rows: each claim's seconds in the first and second run, then the totals."""
    rows = ["| claim | first run (s) | second run (s) | second / first |", "|---|---|---|---|"]
    again = {e["claim"]: e["seconds"] for e in second["claims"]}
    for e in first["claims"]:
        a, b = e["seconds"], again.get(e["claim"], float("nan"))
        rows.append(f"| {e['claim']} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
    for key, name in (("run", "claims and files"), ("process", "whole process")):
        a, b = first[key], second[key]
        rows.append(f"| {name} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", help="comma-separated claim ids (default: all)")
    parser.add_argument("--markdown", action="store_true", help="print the Markdown table too")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cache, out = Path(tmp) / "cache", Path(tmp) / "results"
        first = one_run(out, cache, args.claims)
        second = one_run(out, cache, args.claims)
    rows = table(first, second)
    print(f"cpu cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}")
    print("\n".join(rows) if args.markdown else "\n".join(r.replace("|", " ") for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
