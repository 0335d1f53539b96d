"""Write ``docs/reliability.md`` from its catalogue, ``scripts/_reliability_catalogue.py``.

Usage: ``python scripts/make_reliability.py`` (rewrite) or ``--check`` (exit 1 when the file is
stale). Every message in the tables is produced by running the case now.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from _docgen import write_or_check  # noqa: E402
from _reliability_catalogue import render  # noqa: E402

OUT = ROOT / "docs" / "reliability.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if docs/reliability.md differs"
    )
    args = parser.parse_args(argv)
    return write_or_check(
        OUT,
        render(),
        check=args.check,
        prog="make_reliability",
        command="python scripts/make_reliability.py",
    )


if __name__ == "__main__":
    sys.exit(main())
