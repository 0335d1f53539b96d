"""The subcommands of ``ntk-verify``, one module each, in the order ``ntk-verify --help`` lists
them.

Each module has ``register(subparsers)``, adding its parser and a handler that parses, makes one
call into a library module (:mod:`verification.pipeline`, :mod:`verification.training._bounds`,
:mod:`verification.data._describe`, :mod:`verification.calibration._table`,
:mod:`verification.sweeps` …) and prints; it returns the exit status. The private ``_cli`` builds
the parser from :data:`COMMANDS` (:func:`main` is ``ntk-verify``).
"""

from verification.commands._cli import COMMANDS as COMMANDS
from verification.commands._cli import build_parser as build_parser
from verification.commands._cli import main as main

__all__ = ["COMMANDS", "build_parser", "main"]
