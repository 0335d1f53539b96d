"""The data every claim trains on: sources (real series, the user's files, synthetic families),
the shared data set and its description (``ntk-verify data``).

Private modules behind this front: ``_sources`` (where a series comes from), ``_datasets`` (the
windows and targets of a run), ``_describe`` (what ``ntk-verify data`` measures; it reads a
run's context, so the front does not import it).
"""

from verification.data._datasets import Dataset as Dataset
from verification.data._datasets import make_dataset as make_dataset
from verification.data._datasets import ood_test_windows as ood_test_windows
from verification.data._sources import REAL_SERIES as REAL_SERIES
from verification.data._sources import Source as Source
from verification.data._sources import SourceError as SourceError
from verification.data._sources import load_series as load_series

__all__ = [
    "Dataset",
    "REAL_SERIES",
    "Source",
    "SourceError",
    "load_series",
    "make_dataset",
    "ood_test_windows",
]
