r"""Theorem 5.3's four readings, with the network draw as the unit of every probability.

Theorem 5.3's :math:`\mathbb E` is ambiguous twice, so both are parameters: per neuron or over the
population of neurons (``expectation``), against every other position or their average
(``versus``). Every probability statement counts networks (seeds), not neurons
(:mod:`verification.rules._laws`): the neuron reading follows one designated neuron per network —
the first one with :math:`w_r < 0` (the premise) — and the population reading asks of each network
whether its neuron-averaged masses satisfy the inequality. Neuron fractions are reported beside
them as descriptive numbers.
"""

from __future__ import annotations

import math

import numpy as np

from verification.rules import _laws as laws
from verification.rules._verdict import VACUOUS

C3_EXPECTATIONS = ("neuron", "population")
"""Readings of Theorem 5.3's :math:`\\mathbb E`: over the data per neuron r, or over data and
neurons."""
C3_VERSUS = ("every", "average")
"""Readings of its right-hand side: every other position k, or their average (equivalently
:math:`1/d`)."""
C3_READINGS = tuple((e, v) for e in C3_EXPECTATIONS for v in C3_VERSUS)

READING_KEYS = {
    ("neuron", "every"): "fraction_last_least",
    ("neuron", "average"): "fraction_last_below_average",
    ("population", "every"): "mean_gap_other_minus_last",
    ("population", "average"): "mean_gap_average_minus_last",
}
"""The ``measured`` / ``arrays`` name of each reading's statistic."""


def reference(M: np.ndarray, versus: str) -> np.ndarray:
    """The right-hand side per row: :math:`\\min_{k<d}` (``every``) or
    :math:`\\frac1{d-1}\\sum_{k<d}` (``average``)."""
    return M[..., :-1].min(axis=-1) if versus == "every" else M[..., :-1].mean(axis=-1)


def neuron_ok(M: np.ndarray, versus: str, atol: float) -> np.ndarray:
    """Per neuron: :math:`\\bar s_{r,d} \\le` the reference + ``atol`` (boolean, shape
    ``M.shape[:-1]``)."""
    return M[..., -1] <= reference(M, versus) + atol


def seed_reading(
    M: np.ndarray,
    eligible: np.ndarray,
    seeds,
    m: int,
    expectation: str,
    versus: str,
    *,
    atol: float,
) -> dict:
    r"""One reading of Thm 5.3 at one width, one trial per network: ``M`` (S, m, d), ``eligible``
    (S, m).

    ``neuron``: the designated neuron (the first eligible one) satisfies the inequality;
    ``population``: the masses averaged over the network's eligible neurons do. Returns the failing
    and trial counts, the descriptive value (fraction of eligible neurons satisfying it, or the mean
    gap over networks) and the first failing network as a counterexample.
    """
    if expectation == "neuron":
        return _neuron_reading(M, eligible, seeds, m, versus, atol=atol)
    S = M.shape[0]
    gaps = np.array(
        [
            reference(M[s][eligible[s]].mean(axis=0), versus) - M[s][eligible[s]].mean(axis=0)[-1]
            if eligible[s].any()
            else math.nan
            for s in range(S)
        ]
    )
    has = np.isfinite(gaps)
    fails = int(np.sum(gaps[has] < -atol))
    value = float(np.mean(gaps[has])) if has.any() else math.nan
    out = {"fails": fails, "trials": int(has.sum()), "value": value}
    if fails:
        s = int(np.flatnonzero(has & (gaps < -atol))[0])
        out["counterexample"] = {
            "reading": f"{expectation}/{versus}",
            "width": m,
            "seed": int(np.asarray(seeds)[s]),
            "gap": float(gaps[s]),
        }
    return out


def _neuron_reading(M, eligible, seeds, m: int, versus: str, *, atol: float) -> dict:
    """The ``neuron`` reading of :func:`seed_reading`: the designated neuron of each network."""
    S = M.shape[0]
    ok = neuron_ok(M, versus, atol)
    fails, trials, idx = laws.designated_outcomes(ok, eligible)
    value = float(ok[eligible].mean()) if eligible.any() else math.nan
    bad = [s for s in range(S) if idx[s] >= 0 and not ok[s, idx[s]]]
    out = {"fails": fails, "trials": trials, "value": value}
    if bad:
        s, r = bad[0], int(idx[bad[0]])
        out["counterexample"] = {
            "reading": f"neuron/{versus}",
            "width": m,
            "seed": int(np.asarray(seeds)[s]),
            "neuron": r,
            "mass_last": float(M[s, r, -1]),
            "reference_mass": float(reference(M[s, r], versus)),
            "least_attended_position": int(np.argmin(M[s, r, :-1])) + 1,
        }
    return out


def decide(results, widths, *, delta: float, alpha: float) -> tuple[str, str]:
    """Status and rule of :func:`verification.rules._laws.seed_decision` over the widths'
    ``results``."""
    dec = laws.seed_decision(
        [r["fails"] for r in results], [r["trials"] for r in results], delta=delta, alpha=alpha
    )
    if dec is None:
        return VACUOUS, "no network has an eligible neuron"
    return dec.status, f"{laws.SEED_RULE}: {dec.rule}"
