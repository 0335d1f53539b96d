"""``ntk-verify report``: re-render report.md and figures from saved results."""

from __future__ import annotations

from verification import report
from verification.commands._shared import add_plugin_option, enable_x64, load_plugins

__all__ = ["register"]


def _cmd_report(args) -> int:
    load_plugins(args.plugin)
    enable_x64()  # a sweep's data and λ are rebuilt as `sweep` built them (float64)
    path = report.rerender(args.dir)
    print(f"report: {path}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("report", help="re-render report.md and figures from saved results")
    p.add_argument(
        "dir", metavar="DIR", help="a results folder written by `ntk-verify run` (or `sweep`)"
    )
    add_plugin_option(p)
    p.set_defaults(func=_cmd_report)
