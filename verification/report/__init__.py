"""Results on disk and in words: ``summary.json``, ``evidence.npz``, ``report.md``, figures, tables.

The front of the package. Files: :func:`check_output_dir`, :func:`write_results` (a run's files),
:func:`load_results` (read back, refusing edited or truncated files), :func:`rerender` (``ntk-verify
report DIR``: report.md and the figures again from saved results, a sweep folder included).
Words: :func:`render`, the verdict tables, :data:`SECTIONS` (the extra sections of report.md, an
explicit tuple). The modules behind it are private: ``_results`` (files), ``_report`` (report.md
and figures), ``_presentation`` (how a verdict reads), ``_terminal`` (plain-text tables).

>>> from verification import report
>>> callable(report.rerender)
True
"""

from verification.files import ResultsError as ResultsError
from verification.files import atomic_write as atomic_write
from verification.report._presentation import text_table as text_table
from verification.report._presentation import verdict_lines as verdict_lines
from verification.report._presentation import verdict_matrix as verdict_matrix
from verification.report._presentation import verdict_table as verdict_table
from verification.report._report import SECTIONS as SECTIONS
from verification.report._report import render as render
from verification.report._report import source_prefix as source_prefix
from verification.report._results import CHECKSUM_KEY as CHECKSUM_KEY
from verification.report._results import FORMAT as FORMAT
from verification.report._results import check_output_dir as check_output_dir
from verification.report._results import content_sha256 as content_sha256
from verification.report._results import evidence_bytes as evidence_bytes
from verification.report._results import load_evidence as load_evidence
from verification.report._results import load_results as load_results
from verification.report._results import rerender as rerender
from verification.report._results import write_results as write_results

__all__ = [
    "CHECKSUM_KEY",
    "FORMAT",
    "ResultsError",
    "SECTIONS",
    "atomic_write",
    "check_output_dir",
    "content_sha256",
    "evidence_bytes",
    "load_evidence",
    "load_results",
    "render",
    "rerender",
    "source_prefix",
    "text_table",
    "verdict_lines",
    "verdict_matrix",
    "verdict_table",
    "write_results",
]
