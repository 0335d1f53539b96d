"""Verification layer: claims of arXiv 2412.06061 checked numerically, with verdicts and reports.

Imports :mod:`ntk_attention`, never the reverse. Modules: :mod:`~verification.rules._verdict`
(statuses, JSON), :mod:`~verification.contract` (the :class:`Claim` contract),
:mod:`~verification.claims` (the claims C1–C7, one module each, the registry and plug-ins),
:mod:`~verification.data._datasets` (the shared data set), :mod:`~verification.files`
(atomic writes), :mod:`~verification.config` (TOML), :mod:`~verification.rules`,
:mod:`~verification.training._bounds` (theory calculator), :mod:`~verification.pipeline`,
:mod:`~verification.report._report`, :mod:`~verification.commands._cli` (``ntk-verify``),
:mod:`~verification.strategies` (hypothesis).
"""

from verification.claims import BUILTIN, CLAIMS, load_extensions, load_plugin, register_claim
from verification.contract import Claim, Context, TrainingRun
from verification.rules._verdict import (
    HOLDS,
    INCONCLUSIVE,
    STATUSES,
    VACUOUS,
    VIOLATED,
    Part,
    Verdict,
)

__all__ = [
    "BUILTIN",
    "CLAIMS",
    "TrainingRun",
    "load_plugin",
    "Claim",
    "Context",
    "HOLDS",
    "INCONCLUSIVE",
    "Part",
    "STATUSES",
    "VACUOUS",
    "VIOLATED",
    "Verdict",
    "load_extensions",
    "register_claim",
]
