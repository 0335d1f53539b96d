"""Results on disk and in words: ``summary.json``, ``evidence.npz``, ``report.md``, figures, tables.

The front of the package: :func:`write_results` (a run's files), :func:`rerender` (``ntk-verify
report DIR``: report.md and figures again from saved results, a sweep folder included),
:func:`load_results`, the verdict tables and :data:`SECTIONS` (the extra sections, an explicit
tuple). The modules behind it are private: ``_report`` (files), ``_presentation`` (how a verdict
reads), ``_terminal`` (plain-text tables).

>>> from verification import report
>>> callable(report.rerender)
True
"""

from verification.files import ResultsError as ResultsError
from verification.report._presentation import verdict_lines as verdict_lines
from verification.report._report import SECTIONS as SECTIONS
from verification.report._report import check_output_dir as check_output_dir
from verification.report._report import load_results as load_results
from verification.report._report import render as render
from verification.report._report import rerender as rerender
from verification.report._report import verdict_matrix as verdict_matrix
from verification.report._report import verdict_table as verdict_table
from verification.report._report import write_results as write_results

__all__ = [
    "ResultsError",
    "SECTIONS",
    "check_output_dir",
    "load_results",
    "render",
    "rerender",
    "verdict_lines",
    "verdict_matrix",
    "verdict_table",
    "write_results",
]
