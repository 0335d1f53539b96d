"""Write ``docs/calibration.md`` from :func:`verification.calibration._table.calibrate` (1,000
replicates per case).

Usage: ``python scripts/make_calibration.py`` (rewrite) or ``--check`` (exit 1 when the file is
stale: text must match and every count within two of the regenerated one, see
:func:`verification.calibration._table.doc_differences`). Numpy draws from fixed seeds: the same on
every machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from verification.calibration._table import REPLICATES, doc_differences, render_doc  # noqa: E402

OUT = ROOT / "docs" / "calibration.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if docs/calibration.md is stale"
    )
    args = parser.parse_args(argv)
    text = render_doc()
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        diffs = doc_differences(current, text, replicates=REPLICATES)
        if diffs:
            print(
                f"{OUT.relative_to(ROOT)} is stale; run python scripts/make_calibration.py",
                file=sys.stderr,
            )
            for d in diffs[:10]:
                print("  " + d, file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
