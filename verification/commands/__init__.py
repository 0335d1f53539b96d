"""The subcommands of ``ntk-verify``, one module each, in the order ``ntk-verify --help`` lists them.

Each module has ``register(subparsers)``, adding its parser and a handler that parses, makes one call
into a library module (:mod:`verification.pipeline`, :mod:`verification.bounds`,
:mod:`verification.data_cmd`, :mod:`verification.calibration`, :mod:`verification.sweep_cmd` …) and
prints; it returns the exit status. :mod:`verification.cli` builds the parser from :data:`COMMANDS`.
"""

from verification.commands import bounds, calibrate, config, data, map, report, run, sweep

COMMANDS = (run, report, bounds, config, sweep, data, calibrate, map)
"""The command modules, in order (an explicit tuple, as :data:`verification.claims.BUILTIN`)."""

__all__ = ["COMMANDS"]
