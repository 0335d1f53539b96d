"""``ntk-verify calibrate``: error rates of every decision rule on planted truths
(:mod:`verification.calibration._table`)."""

from __future__ import annotations

from pathlib import Path

from verification import files
from verification.calibration._table import QUICK_REPLICATES, calibrate, write_calibration
from verification.commands._shared import UsageError
from verification.report import _terminal as terminal
from verification.rules._verdict import STATUSES

__all__ = ["register"]


def _cmd_calibrate(args) -> int:
    files.check_output_folder(args.out)  # a file or a read-only folder: one line, before computing
    if args.replicates < 1:
        raise UsageError(f"--replicates: expected an integer >= 1, got {args.replicates}")
    rows = calibrate(replicates=args.replicates, quick=args.quick)
    with files.reporting_write_errors(Path(args.out)):
        js, md = write_calibration(args.out, rows)
    # compact: the full table is in calibration.md
    print(terminal.calibration_rows_text(rows, STATUSES))
    bad = [f"{r['rule']}/{r['case']}" for r in rows if not r["meets"] and not r["note"]]
    print(f"wrote {js} and {md}")
    if bad:
        print(f"standard not met (without a stated budget limit): {', '.join(bad)}")
    return 0


def register(subparsers) -> None:
    """Add ``ntk-verify calibrate`` to the CLI."""
    p = subparsers.add_parser(
        "calibrate",
        help="error rates of every decision rule on planted truths",
        description=(
            "Run each decision rule on planted true, false and boundary cases (numpy, fixed seeds) "
            "at its default budget and write DIR/calibration.json and DIR/calibration.md."
        ),
    )
    p.add_argument(
        "--out", default="calibration", metavar="DIR", help="output folder (default: calibration/)"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_REPLICATES} replicates per case (a smoke test)",
    )
    p.add_argument(
        "--replicates",
        type=int,
        default=1000,
        metavar="R",
        help="replicates per case (default 1000)",
    )
    p.set_defaults(func=_cmd_calibrate)
