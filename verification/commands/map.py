"""``ntk-verify map``: regime maps of C1–C3 over width and time (the library: :mod:`verification.regime_map`,
:mod:`verification.regime_runs`, :mod:`verification.regime_plot`; parsing and printing:
:mod:`verification.regime_cmd`)."""

from verification.regime_cmd import register

__all__ = ["register"]
