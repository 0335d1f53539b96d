"""Size and power of every decision rule on planted truths (docs/calibration.md).

The families are an explicit tuple in the private ``_table`` module (one module per family:
``_c1``, ``_fractions``, ``_ood``, ``_regime``, ``_seeds``; ``_planted`` holds one planted row).
The front: :func:`calibrate` (the rows), :func:`markdown_table`, :func:`write_calibration`,
:func:`render_doc` and :func:`doc_differences` (docs/calibration.md against a fresh table).
"""

from verification.calibration._table import QUICK_REPLICATES as QUICK_REPLICATES
from verification.calibration._table import RULE_MODULES as RULE_MODULES
from verification.calibration._table import calibrate as calibrate
from verification.calibration._table import doc_differences as doc_differences
from verification.calibration._table import markdown_table as markdown_table
from verification.calibration._table import render_doc as render_doc
from verification.calibration._table import write_calibration as write_calibration

__all__ = [
    "QUICK_REPLICATES",
    "RULE_MODULES",
    "calibrate",
    "doc_differences",
    "markdown_table",
    "render_doc",
    "write_calibration",
]
