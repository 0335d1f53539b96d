"""Verdict: statuses, precedence, lossless JSON round trip, the evidence archive."""

import io
import json

import numpy as np
import pytest
from hypothesis import given, settings

from verification import strategies as vst
from verification.report import evidence_bytes, load_evidence
from verification.verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED, Part, Verdict, combine_status


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
    v = Verdict("C1", VACUOUS, "x", measured={"lam": float("nan"), "T": float("inf"), "neg": -float("inf")})
    back = Verdict.from_dict(json.loads(json.dumps(v.to_dict(), allow_nan=False)))
    assert np.isnan(back.measured["lam"]) and back.measured["T"] == float("inf") and back.measured["neg"] == -float("inf")


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
