r"""C3's data evidence: the data condition and the boundary :math:`|w|^*` of the data process,
each with its interval (:mod:`._boundary`), and the same numbers in the training windows, labelled
as a one-sample diagnostic. Statuses are decided here; words come from :mod:`._words`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from verification.claims.c3_last_token_mass import _words as words
from verification.claims.c3_last_token_mass._boundary import data_condition, process_boundary
from verification.claims.c3_last_token_mass._observed import sample_boundary
from verification.rules._verdict import HOLDS, VIOLATED, Part


class DataEvidence(NamedTuple):
    """What :func:`data_evidence` adds to the verdict: its diagnostic ``parts``, ``measured``,
    ``intervals`` and ``arrays`` entries, the boundary in ``words`` for the observed finding, and
    the data process's numbers ``process`` (None without a process sample)."""

    parts: list
    measured: dict
    intervals: dict
    arrays: dict
    words: tuple
    process: dict | None


def data_evidence(
    *,
    second_moments=None,
    data_process=None,
    w_grid=None,
    grid_masses=None,
    d: int,
    versus: str,
    alpha: float,
    atol: float,
    seed=None,
    training_windows=None,
) -> DataEvidence:
    """The data condition (a diagnostic part) and |w|*: of the data process when ``data_process``
    (a :class:`._boundary.ProcessSample`) is given, with intervals; of the training windows
    (``second_moments`` (d,), ``w_grid`` (G,) with ``grid_masses`` (G, d)) as a labelled one-sample
    diagnostic."""
    parts, measured, intervals, arrays, text = [], {}, {}, {}, []
    n = training_windows
    sample = None if second_moments is None else data_condition(second_moments)
    if sample is not None:
        measured["data_condition_training_windows"] = dict(sample, windows=n)
    dp = None
    if data_process is not None:
        dp = process_boundary(data_process, versus=versus, alpha=alpha, seed=seed or 0)
        arrays["process_w_abs"] = np.asarray(data_process.w_abs, np.float64)
        arrays["process_masses"] = dp.pop("curve")
        measured["data_process"] = dp
        intervals["data_condition_margin"] = dp["margin_interval"]
        if dp["gate"] == HOLDS:
            intervals["w_star_process"] = dp["w_star_interval"]
        finding = words.process_condition_finding(dp, d, sample, n)
        parts.append(Part(words.DATA_CONDITION_NAME, dp["condition"], finding, False))
        text.append(words.w_star_words(dp))
    elif sample is not None:
        status = HOLDS if sample["holds"] else VIOLATED
        finding = words.data_condition_finding(sample, d, n)
        parts.append(Part(words.DATA_CONDITION_NAME, status, finding, False))
    if w_grid is not None and grid_masses is not None:
        w_hold, w_fail = sample_boundary(w_grid, grid_masses, versus, atol)
        measured["data_boundary_training_windows"] = {
            "w_hold": w_hold,
            "w_fail": w_fail,
            "windows": n,
        }
        text.append(words.sample_boundary_words(w_hold, w_fail, n))
    return DataEvidence(parts, measured, intervals, arrays, tuple(text), dp)
