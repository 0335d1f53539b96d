"""C6's prose: the parts' names and findings, the observed law's words, the explanation and the
summary line, from the numbers :mod:`._rule` decided (nothing is decided here)."""

from __future__ import annotations

from verification.rules._verdict import HOLDS, Verdict

FORMULA_WORDS = {
    "printed_rows": "the printed formula equals autodiff (row softmax)",
    "chain_rows": "the chain rule S⊙(dS − rowsum(dS⊙S)) equals autodiff",
}
"""The decisive parts' names: the printed formula and the chain rule, both with row softmax."""

COLUMN_NAME = "column-softmax reading (diagnostic)"
CASES_NAME = "the seed's two cases over training (diagonal entry A_LL, diagnostic)"


def formula_finding(worst: float, cases: int, rtol: float) -> str:
    return f"max relative error {worst:.2e} over {cases} cases (tolerance {rtol:g}, float64)."


def formula_why(status: str, worst: float, rtol: float) -> str:
    return "" if status == HOLDS else f"relative error {worst:.2g} > {rtol:g}"


def column_finding(col_max: float, first_failing, chain_max: float) -> str:
    """The column-softmax reading: the printed formula's error, the smallest failing shape (or
    ``None``) and the column-sum chain rule's error."""
    return (
        "with column-wise softmax the printed row-sum term is wrong: relative error up to "
        f"{col_max:.3g}"
        + (
            f", smallest failing shape (n, d, d_v) = {first_failing}"
            if first_failing is not None
            else ""
        )
        + f"; the column-sum chain rule matches to {chain_max:.1e}."
    )


def cases_finding(summ: dict) -> str:
    """The seed's two cases over training (:func:`._rule.case_summary`'s numbers)."""
    c1, c2 = summ["case1"], summ["case2"]
    return (
        f"case 1 (⟨G,W_Vᵀx_L⟩ > 0) in {c1['fraction']:.0%} of records, gradient descent lowers "
        f"the local score in {c1['seed_direction']:.0%}; case 2 (< 0) in {c2['fraction']:.0%}, "
        f"it raises it in {c2['seed_direction']:.0%}; mean change of S_LL until the next record: "
        f"{c1['mean_local_mass_change']:+.2e} (case 1), {c2['mean_local_mass_change']:+.2e} "
        "(case 2)."
    )


# --------------------------------------------------------------------------------- observed


def observed_rule(rtol: float) -> str:
    return (
        f"max relative error against jax.grad ≤ rtol = {rtol:g} on every (shape, draw), float64: "
        "a deterministic identity check (no sampling error, so no size or power to calibrate; a "
        "wrong formula fails by O(1))"
    )


def observed_scale(shapes: int, big: tuple, draws: int) -> str:
    return (
        f"{shapes} shapes (n, d, d_v) up to {big}, d_v ≠ d included, {draws} draws each "
        "(score scales 0.3, 1, 3 in turn), row-wise softmax"
    )


def observed_finding(status: str, worst: float) -> str:
    if status == HOLDS:
        return f"the printed dL/dW equals autodiff to {worst:.1e} at every size tried"
    return f"the printed dL/dW differs from autodiff by up to {worst:.2g}"


# --------------------------------------------------------------------------------- the verdict


def explanation(status: str, printed_max: float, shapes: int, big: tuple, col_max: float) -> str:
    """Under which reading the printed dL/dW is the chain rule, how close it is to autodiff, and
    the one reading under which it fails."""
    return (
        "Reading G = ∂L/∂Attn, 1_(d×n) all ones with d the width of Attn and a row-wise softmax, "
        "the printed dL/dW is exactly the softmax chain rule (the term (Attn⊙G)1 is "
        "rowsum(∂L/∂S⊙S)): against autodiff its largest relative error is "
        f"{printed_max:.1e} over {shapes} shapes (n, d, d_v up to {big}, d_v ≠ d included), so "
        f"the formula {'holds' if status == HOLDS else 'fails'} as printed. The one reading under "
        f"which it fails is a column-wise softmax (error up to {col_max:.2g}); with d_v ≠ d the "
        "printed size 1_(d×n) must be read as 1_(d_v×n), the only size that multiplies."
    )


def summary_c6(v: Verdict) -> str:
    """One line: the printed formula's largest error against autodiff, row and column softmax."""
    e = v.measured.get("max_rel_error", {})
    return (
        f"printed vs autodiff rel. err {e.get('printed_rows', float('nan')):.1e} (row softmax); "
        f"{e.get('printed_cols', float('nan')):.2g} (column softmax)"
    )
