"""``ntk-verify``: the command line, only parsing and dispatch.

The subcommands are the modules of :data:`verification.commands.COMMANDS` (one module per command,
an explicit tuple: ``run``, ``report``, ``bounds``, ``config``, ``data``, ``calibrate``, ``sweep``);
each ``register(subparsers)`` adds its parser and handler (``set_defaults(func=handler)``), which
makes one call into a library module and prints. Installed plug-in claims (entry-point group
``ntk_verify.claims``, :func:`verification.claims.load_extensions`) are loaded first; ``run``,
``report`` and ``config`` also take ``--plugin MODULE_OR_FILE`` (repeatable).

Errors in what the user gave (configuration, folders, claim ids) print one line on stderr and exit
with status 2, without a traceback. Float64 is enabled (``jax_enable_x64``) before ``run`` and
``bounds`` compute (training, H(0) and the data in float64; H* is float64 either way); the summary
records the flag.
"""

from __future__ import annotations

import argparse
import re
import sys

from verification import config as cfg
from verification import files, report
from verification.claims import load_extensions
from verification.commands import bounds, calibrate, config, data, map, run, sweep
from verification.commands import report as report_cmd
from verification.commands._shared import UsageError, enable_compilation_cache, parse_claims
from verification.data._sources import SourceError

COMMANDS = (run, report_cmd, bounds, config, sweep, data, calibrate, map)
"""The command modules, in order (an explicit tuple, as :data:`verification.claims.BUILTIN`)."""

__all__ = ["COMMANDS", "main", "build_parser", "join_negative_values", "UsageError"]

_parse_claims = parse_claims  # the name tests and scripts used before verification.commands


def build_parser() -> argparse.ArgumentParser:
    """The ``ntk-verify`` parser: one subcommand per module of
    :data:`verification.commands.COMMANDS`."""
    load_extensions()
    parser = argparse.ArgumentParser(
        prog="ntk-verify",
        description=(
            "Numerical, honest checks of the NTK theory of 'Curse of Attention' (arXiv 2412.06061)."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


_NEGATIVE_VALUE = re.compile(r"^-[0-9.][0-9.,eE+-]*$")


def join_negative_values(argv: list[str]) -> list[str]:
    """``--opt -64,32`` as ``--opt=-64,32``: argparse reads a token starting with ``-`` that is not
    a plain number (``-64,32``) as an option and says "expected one argument"; joined, the value
    reaches the option's own check, which names it."""
    out, i = [], 0
    while i < len(argv):
        tok = argv[i]
        if (
            tok.startswith("--")
            and "=" not in tok
            and i + 1 < len(argv)
            and _NEGATIVE_VALUE.match(argv[i + 1])
        ):
            out.append(f"{tok}={argv[i + 1]}")
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ntk-verify`` console script; returns the exit status.

    ``run`` and ``bounds`` switch JAX to float64 once their arguments are validated.
    """
    import matplotlib

    matplotlib.use("Agg")
    parser = build_parser()
    args = parser.parse_args(join_negative_values(sys.argv[1:] if argv is None else list(argv)))
    enable_compilation_cache()
    try:
        return int(args.func(args) or 0)
    except (
        cfg.ConfigError,
        report.ResultsError,
        UsageError,
        SourceError,
        files.OutputError,
    ) as err:
        print(f"ntk-verify {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ntk-verify {args.command}: interrupted", file=sys.stderr)
        return 130
