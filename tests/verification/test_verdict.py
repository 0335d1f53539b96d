"""Verdict: statuses, precedence, lossless JSON round trip, the evidence archive."""

import io
import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings

from verification import strategies as vst
from verification.report import evidence_bytes, load_evidence
from verification.rules._verdict import (
    HOLDS,
    INCONCLUSIVE,
    STATUSES,
    VACUOUS,
    VIOLATED,
    Observed,
    Part,
    Verdict,
    combine_parts,
    combine_status,
    headline,
)


@settings(max_examples=40)
@given(vst.verdicts())
def test_round_trip_through_json_text(v):
    text = json.dumps(v.to_dict(), allow_nan=False)  # strict JSON: non-finite numbers are tagged
    back = Verdict.from_dict(json.loads(text))
    assert back == v
    for k, arr in v.arrays.items():
        assert back.arrays[k].dtype == arr.dtype and back.arrays[k].shape == arr.shape
        np.testing.assert_array_equal(back.arrays[k], arr)


def test_nonfinite_numbers_survive():
    v = Verdict(
        "C1", VACUOUS, "x", measured={"lam": float("nan"), "T": float("inf"), "neg": -float("inf")}
    )
    back = Verdict.from_dict(json.loads(json.dumps(v.to_dict(), allow_nan=False)))
    assert (
        np.isnan(back.measured["lam"])
        and back.measured["T"] == float("inf")
        and back.measured["neg"] == -float("inf")
    )


def test_arrays_left_out_and_supplied():
    v = Verdict("C2", HOLDS, "x", arrays={"a": np.arange(3.0)})
    d = v.to_dict(include_arrays=False)
    assert "arrays" not in d
    assert Verdict.from_dict(d, arrays={"a": np.arange(3.0)}) == v
    assert Verdict.from_dict(d) != v


def test_combine_status_precedence():
    assert combine_status([HOLDS, HOLDS]) == HOLDS
    assert combine_status([HOLDS, VACUOUS]) == VACUOUS
    assert combine_status([VACUOUS, INCONCLUSIVE, HOLDS]) == INCONCLUSIVE
    assert combine_status([INCONCLUSIVE, VIOLATED]) == VIOLATED
    with pytest.raises(ValueError, match="statuses"):
        combine_status([])
    with pytest.raises(ValueError, match="statuses"):
        combine_status(["FINE"])


def test_bad_fields_refused():
    with pytest.raises(ValueError, match="status"):
        Verdict("C1", "PASS", "x")
    with pytest.raises(ValueError, match="status"):
        Part("p", "ok", "x")
    with pytest.raises(ValueError, match="unknown verdict fields"):
        Verdict.from_dict({"id": "C1", "status": HOLDS, "explanation": "", "extra": 1})
    with pytest.raises(ValueError, match="JSON"):
        Verdict("C1", HOLDS, "x", measured={"f": object()})


@settings(max_examples=25)
@given(vst.verdicts())
def test_evidence_archive_round_trip(v):
    got = load_evidence(io.BytesIO(evidence_bytes([v]))).get(v.claim, {})
    assert sorted(got) == sorted(v.arrays)
    for k, arr in v.arrays.items():
        assert got[k].dtype == arr.dtype and got[k].shape == arr.shape
        np.testing.assert_array_equal(got[k], arr)
    assert evidence_bytes([v]) == evidence_bytes([v])  # byte-deterministic


# ------------------------------------------------------------------------- the one combining rule


def test_combining_rule_on_every_case_of_one_premise_and_two_conclusions():
    """Exhaustive: premises first, checked conclusions decide, unchecked ones never hide decided
    ones."""
    for pre, c1, c2 in itertools.product(STATUSES, repeat=3):
        parts = [Part("premise", pre, "", role="premise"), Part("a", c1, ""), Part("b", c2, "")]
        got = combine_parts(parts)
        checked = [s for s in (c1, c2) if s != "VACUOUS"]
        if pre in ("VIOLATED", "VACUOUS") or not checked:
            assert got == "VACUOUS", (pre, c1, c2)
        elif "VIOLATED" in checked:
            assert got == ("INCONCLUSIVE" if pre == "INCONCLUSIVE" else "VIOLATED"), (pre, c1, c2)
        elif "INCONCLUSIVE" in checked or pre == "INCONCLUSIVE":
            assert got == "INCONCLUSIVE", (pre, c1, c2)
        else:
            assert got == "HOLDS", (pre, c1, c2)


def test_diagnostics_do_not_count_and_headline_names_unchecked_parts():
    parts = [
        Part("rate 1", "HOLDS", ""),
        Part("rate 2", "HOLDS", ""),
        Part("bernstein", "HOLDS", ""),
        Part("weights", "HOLDS", ""),
        Part("λ/2", "VACUOUS", "λ/2 = 6e-37 < 2e-16", why="λ below float64"),
        Part("diag", "VIOLATED", "", decisive=False),
    ]
    assert combine_parts(parts) == "HOLDS"
    assert headline(parts) == "HOLDS 4 · VACUOUS 1 (λ below float64)"
    unmet = [
        Part("η ≤ λδ", "VIOLATED", "", role="premise", why="η 1e36 × too large"),
        Part("mass", "VIOLATED", ""),
    ]
    assert combine_parts(unmet) == "VACUOUS"
    assert headline(unmet) == "premise VIOLATED 1 (η 1e36 × too large) · VIOLATED 1 (mass)"
    with pytest.raises(ValueError, match="role"):
        Part("x", "HOLDS", "", role="lemma")


def test_observed_round_trips_and_is_validated():
    obs = Observed(
        "HOLDS",
        "rate rule (Δ = 0.1)",
        "m ≤ 1024, t ≤ 1e4",
        "drift ∝ m^-0.52",
        looseness={"orders": 37.5, "c_A": 1e-37},
    )
    v = Verdict(
        "C2",
        "VACUOUS",
        "t_align unreachable.",
        parts=(Part("p", "VACUOUS", "", role="premise"),),
        observed=obs,
    )
    d = v.to_dict()
    assert d["observed"]["status"] == "HOLDS" and d["headline"] == "premise VACUOUS 1 (p)"
    assert Verdict.from_dict(d) == v and Verdict.from_dict(d).observed == obs
    with pytest.raises(ValueError, match="observed.status"):
        Observed("FINE", "r", "s", "f")
    with pytest.raises(ValueError, match="observed.rule"):
        Observed("HOLDS", "", "s", "f")
