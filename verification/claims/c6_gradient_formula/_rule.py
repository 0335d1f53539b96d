r"""C6's pure check: the printed formula and the chain rule against autodiff (decisive), the
column-softmax reading and the seed's two cases over training (diagnostics), and the observed
identity; statuses and numbers are decided here, the words come from :mod:`._words`.

**Verdict rule** (:func:`check_c6`). HOLDS when every relative error against autodiff is within
``rtol`` (float64), VIOLATED at the first shape and draw beyond it (docs/theory.md, "C6"); the case
counts over training are diagnostics.
"""

from __future__ import annotations

import numpy as np

from ntk_attention import multidim as md
from verification.claims._common import interval_status
from verification.claims.c6_gradient_formula import _words as words
from verification.rules import clopper_pearson
from verification.rules._verdict import (
    HOLDS,
    INCONCLUSIVE,
    VIOLATED,
    Observed,
    Part,
    Verdict,
    combine_parts,
    combine_status,
)

READINGS = ("printed_rows", "chain_rows", "printed_cols", "chain_cols")
"""Columns of :func:`formula_errors`: formula × softmax axis (rows = keys, cols =
queries)."""


def formula_parts(E: np.ndarray, shapes: np.ndarray, seeds, rtol: float):
    """The decisive parts — the printed formula and the chain rule (row softmax) within ``rtol``
    of autodiff on every (shape, seed) — and the counterexample: the first failing case (shapes
    sorted by size, so the smallest)."""
    parts, counter = [], None
    for a, reading in enumerate(("printed_rows", "chain_rows")):
        bad = np.argwhere(E[..., a] > rtol)
        status = VIOLATED if bad.size else HOLDS
        if bad.size and counter is None:
            i, j = (int(t) for t in bad[0])
            counter = {
                "formula": reading,
                "n": int(shapes[i, 0]),
                "d": int(shapes[i, 1]),
                "d_v": int(shapes[i, 2]),
                "seed": int(seeds[j]),
                "rel_error": float(E[i, j, a]),
            }
        worst = E[..., a].max()
        parts.append(
            Part(
                words.FORMULA_WORDS[reading],
                status,
                words.formula_finding(worst, E[..., a].size, rtol),
                why=words.formula_why(status, worst, rtol),
            )
        )
    return parts, counter


def column_part(E: np.ndarray, shapes: np.ndarray, rtol: float) -> Part:
    """Diagnostic: the printed formula with a column-wise softmax (it fails), beside the
    column-sum chain rule."""
    col = E[..., 2]
    fails = np.argwhere(col > rtol)
    first = tuple(int(t) for t in shapes[fails[0][0]]) if fails.size else None
    return Part(
        words.COLUMN_NAME,
        VIOLATED if fails.size else HOLDS,
        words.column_finding(col.max(), first, E[..., 3].max()),
        decisive=False,
    )


def case_summary(alignment, score_gradient, local_mass, consistent, alpha):
    r"""Per case (:math:`c > 0`, :math:`c < 0`): counts, the fraction moving :math:`A_{LL}` the
    seed's way, its Clopper–Pearson interval, and the mean :math:`\Delta S_{LL}` until the next
    record."""
    c = np.asarray(alignment, np.float64)
    g = np.asarray(score_gradient, np.float64)
    m = np.asarray(local_mass, np.float64)
    # change until the next record
    dm = np.concatenate([m[:, 1:] - m[:, :-1], np.full_like(m[:, :1], np.nan)], axis=1)
    cons = np.broadcast_to(np.asarray(consistent, bool)[None, None, :, None], c.shape)
    out = {}
    for name, mask, seed_way in (("case1", c > 0, g > 0), ("case2", c < 0, g < 0)):
        k = int(np.sum(mask & seed_way))
        tot = int(np.sum(mask))
        lo, hi = clopper_pearson(k, tot, alpha) if tot else (0.0, 1.0)
        out[name] = {
            "count": tot,
            "fraction": tot / c.size,
            "fraction_among_consistent": float(np.sum(mask & cons) / max(1, np.sum(cons))),
            "fraction_among_inconsistent": float(np.sum(mask & ~cons) / max(1, np.sum(~cons))),
            "seed_direction": k / tot if tot else float("nan"),
            "seed_direction_interval": [float(lo), float(hi)],
            "mean_local_mass": float(m[mask].mean()) if tot else float("nan"),
            "mean_local_mass_change": float(np.nanmean(np.where(mask, dm, np.nan)))
            if tot
            else float("nan"),
        }
    return out


def cases_part(summ: dict) -> Part:
    """Diagnostic: each case moves :math:`A_{LL}` the seed's way more often than not (its
    interval against 1/2); INCONCLUSIVE for a case that never occurs."""
    sts = [
        interval_status(*summ[name]["seed_direction_interval"], 0.5, upper=False)
        if summ[name]["count"]
        else INCONCLUSIVE
        for name in ("case1", "case2")
    ]
    return Part(words.CASES_NAME, combine_status(sts), words.cases_finding(summ), decisive=False)


def observed(status: str, E: np.ndarray, shapes: np.ndarray, rtol: float) -> Observed:
    """The identity as an observed law: the largest row-softmax error and its distance below the
    tolerance, in orders of magnitude."""
    worst = float(E[..., :2].max())
    return Observed(
        status=status,
        rule=words.observed_rule(rtol),
        scale=words.observed_scale(len(shapes), _largest(shapes), E.shape[1]),
        finding=words.observed_finding(status, worst),
        looseness={
            "max_rel_error": worst,
            "orders_below_tolerance": float(np.log10(rtol / worst)) if worst > 0 else float("inf"),
        },
    )


def _largest(shapes: np.ndarray) -> tuple[int, ...]:
    return tuple(int(t) for t in shapes.max(axis=0))


def check_c6(
    *,
    shapes,
    seeds,
    errors,
    rtol: float,
    cases: md.LocalCases | None = None,
    consistent=None,
    alpha: float = 0.05,
    config: dict | None = None,
    seed: int | None = None,
    tested: dict | None = None,
) -> Verdict:
    r"""C6 from the relative errors of :func:`formula_errors` (and, optionally, the
    training cases).

    Decisive: the printed formula and the chain rule, both with row-wise softmax, agree with
    autodiff within ``rtol`` on every (shape, seed); the first failing shape (smallest, shapes
    sorted by size) is the counterexample. Diagnostics: the column-softmax reading, and the two
    cases over training — the seed says case 1 (:math:`c > 0`) lowers attention on the local
    entry and case 2 (:math:`c < 0`) raises it; the fraction of (seed, step, window, head) in each
    case that moves :math:`A_{LL}` that way under gradient descent (sign of
    :math:`-\partial L_i/\partial A_{LL}`) gets a Clopper–Pearson interval against 1/2 (the records
    are correlated over steps, so the interval is optimistic).
    """
    shapes = np.asarray(shapes)
    E = np.asarray(errors, np.float64)
    measured = {
        "max_rel_error": {r: float(E[..., a].max()) for a, r in enumerate(READINGS)},
        "shapes": shapes.tolist(),
        "rtol": rtol,
    }
    parts, counter = formula_parts(E, shapes, seeds, rtol)
    parts.append(column_part(E, shapes, rtol))
    if cases is not None:
        measured["cases"] = case_summary(
            cases.alignment, cases.score_gradient, cases.local_mass, consistent, alpha
        )
        parts.append(cases_part(measured["cases"]))
    status = combine_parts(parts)
    return Verdict(
        claim="C6",
        status=status,
        explanation=words.explanation(
            status, E[..., 0].max(), len(shapes), _largest(shapes), E[..., 2].max()
        ),
        measured=measured,
        bounds={"rtol": rtol},
        parts=tuple(parts),
        counterexample=counter,
        tested_range=tested or {"shapes": len(shapes), "seeds": [int(s) for s in seeds]},
        config=config or {},
        seed=seed,
        arrays={"shapes": shapes, "errors": E},
        observed=observed(status, E, shapes, rtol),
    )


def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c6` whose verdict is known, and that verdict: the printed
    formula off by 0.3 at the shape (3, 2, 3): VIOLATED."""
    shapes = np.array([[2, 1, 1], [3, 2, 3], [5, 3, 3]])
    errors = np.full((3, 2, 4), 1e-15)
    errors[1, 1, 0] = 0.3
    arr = (
        np.array([[1.0, -1.0], [2.0, -0.5], [0.3, -2.0]]),
        np.array([[0.1, -0.2], [-0.1, 0.3], [0.2, -0.1]]),
        np.array([[0.1, 0.2], [0.15, 0.1], [0.2, 0.4]]),
    )
    cases = md.LocalCases(*(a[None, :, :, None] for a in arr))
    return dict(
        shapes=shapes, seeds=[7, 8], errors=errors, rtol=1e-9, cases=cases, consistent=[True, False]
    ), VIOLATED
