"""Verification layer: claims of arXiv 2412.06061 checked numerically, with verdicts and reports.

Imports :mod:`ntk_attention`, never the reverse. Modules: :mod:`~verification.verdict` (statuses,
JSON), :mod:`~verification.claims` (registry and the contract for new claims),
:mod:`~verification.config` (TOML), :mod:`~verification.stats`, :mod:`~verification.bounds`
(theory calculator), :mod:`~verification.pipeline`, :mod:`~verification.report`,
:mod:`~verification.cli` (``ntk-verify``), :mod:`~verification.strategies` (hypothesis).
"""

from verification.claims import CLAIMS, Claim, Context, load_extensions, register_claim
from verification.verdict import HOLDS, INCONCLUSIVE, STATUSES, VACUOUS, VIOLATED, Part, Verdict

__all__ = [
    "CLAIMS",
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
