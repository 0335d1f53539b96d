r"""C1's conclusion read as an empirical law: the proof's mechanism.

The kernel-regime readings (:mod:`verification.claims.c1_convergence._mechanism`) give their parts
(non-decisive) and one rate decision per source; the observed status combines them
(VIOLATED > INCONCLUSIVE > HOLDS), at the widths and steps run, with the looseness between what
was run and what the theorem requires (:func:`_looseness`) and, where INCONCLUSIVE, the budget at
which the rule's power reaches 0.8.
"""

from __future__ import annotations

import math

import numpy as np

from verification.claims.c1_convergence import _words as words
from verification.claims.c1_convergence._mechanism import (
    GAP_SEEDS,
    GAP_WIDTHS,
    check_mechanism,
    local_slopes,
    mechanism_status,
    median_gaps,
)
from verification.rules._verdict import INCONCLUSIVE, Observed, Part


def _first_reach(run, eps: float) -> float:
    """Largest over runs of the first recorded step with L ≤ ε (inf when some run never gets
    there)."""
    ok = run.loss <= eps
    if not ok.any(axis=-1).all():
        return math.inf
    return float(np.asarray(run.steps)[ok.argmax(axis=-1)].max())


def _looseness(mechanism, runs, bounds: dict, extended, *, eta: float, eps: float) -> dict:
    r"""Named numbers: orders of magnitude between the steps run and :math:`T_{req}` at the
    realistic n, between the widest width and :math:`1/\lambda` (a lower bound on the theorem's
    width poly(1/λ, …)); the e-folds of the envelope tested at each trained size and those to the
    float floor; the :math:`c_T` each trained size supports
    (:math:`\max_s t_s(L \le \varepsilon)\,\eta\lambda/\log(nB^2/\varepsilon)`)."""
    n, loose = mechanism[0].n, {}
    widest = max(int(m) for r in mechanism for m in r.widths)
    T = max(int(r.steps[-1]) for r in mechanism)
    T_req = bounds.get(f"T_req[n={n}]")
    if T_req is not None and math.isfinite(T_req) and T_req > 0:
        loose[f"orders_T_req_over_steps[n={n}]"] = math.log10(T_req / T)
    for ex in extended:
        if ex.n == n and ex.lam > 0:
            loose[f"orders_inv_lambda_over_widest[n={n}]"] = math.log10(1.0 / ex.lam) - math.log10(
                widest
            )
    for r in runs:
        ef = bounds.get(f"envelope_efolds_tested[n={r.n}]")
        if ef is not None:
            loose[f"envelope_efolds_tested[n={r.n}]"] = ef
            loose[f"envelope_efolds_to_float_floor[n={r.n}]"] = bounds.get(
                f"envelope_efolds_to_float_floor[n={r.n}]"
            )
        if r.lam > r.lam_resolution:
            t_eps = _first_reach(r, eps)
            if math.isfinite(t_eps):
                loose[f"c_T_supported[n={r.n}]"] = (
                    t_eps * eta * r.lam / math.log(r.n * r.B**2 / eps)
                )
    return loose


def _observed(decisions, mechanism, runs, bounds: dict, extended, *, eta, eps, margin) -> Observed:
    """The observed law of the sources' rate decisions."""
    status = mechanism_status(decisions)
    widths = sorted({int(m) for r in mechanism for m in r.widths})
    T = max(int(r.steps[-1]) for r in mechanism)
    readings = []
    for r, d in zip(mechanism, decisions):
        kept, meds = median_gaps(r) if d is not None else (None, None)
        slopes = local_slopes(kept, meds) if d is not None else None
        readings.append(words.source_reading(r.source, meds, slopes, d))
    trained = [
        (r.n, int(r.steps[-1]), bounds[f"envelope_efolds_tested[n={r.n}]"])
        for r in runs
        if bounds.get(f"envelope_efolds_tested[n={r.n}]") is not None
    ]
    sources = ", ".join(r.source for r in mechanism)
    return Observed(
        status,
        words.OBSERVED_RULE,
        words.observed_scale(mechanism[0].n, widths, T, sources, trained),
        words.observed_finding(readings, margin),
        _looseness(mechanism, runs, bounds, extended, eta=eta, eps=eps),
        words.budget(GAP_WIDTHS, GAP_SEEDS, margin) if status == INCONCLUSIVE else "",
    )


def observed_law(
    mechanism,
    runs,
    bounds: dict,
    extended,
    *,
    eta: float,
    eps: float,
    alpha: float,
    min_decrease: float,
    margin: float,
    violation_margin: float,
) -> tuple[list[Part], dict, dict, Observed | None]:
    r"""The mechanism's parts, measured numbers and intervals, and the observed law (None without
    a mechanism reading): training follows the linearised model with a gap
    :math:`O(m^{-1/2})`, by :func:`verification.rules.rate_decision` on every source. ``runs`` and
    ``bounds`` (the trained sizes and the check's bounds so far) and ``extended`` give the
    looseness."""
    parts, measured, intervals, decisions = check_mechanism(
        mechanism,
        margin=margin,
        violation_margin=violation_margin,
        alpha=alpha,
        min_decrease=min_decrease,
    )
    if not mechanism:
        return parts, measured, intervals, None
    observed = _observed(
        decisions, mechanism, runs, bounds, extended, eta=eta, eps=eps, margin=margin
    )
    return parts, measured, intervals, observed
