"""``docs/findings.md`` is exactly what ``scripts/make_findings.py`` makes of the committed summary.

And the generator reports every claim with its status and numbers (checked on constructed
verdicts, so that the test can fail), and the committed summary is a run of today's default
configuration covering every registered claim.
"""

from __future__ import annotations

import importlib.util
import json
import math
import pathlib

import numpy as np
import pytest

from verification.verdict import Part, Verdict

ROOT = pathlib.Path(__file__).resolve().parents[2]
SUMMARY = ROOT / "docs" / "default_summary.json"
EVIDENCE = ROOT / "docs" / "default_evidence.npz"
FINDINGS = ROOT / "docs" / "findings.md"
REFRESH = ("refresh: ntk-verify run --out /tmp/default --force --quiet && cp /tmp/default/summary.json "
           "docs/default_summary.json && cp /tmp/default/evidence.npz docs/default_evidence.npz && "
           "python scripts/make_findings.py")


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_findings", ROOT / "scripts" / "make_findings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mf = _load_generator()


def constructed_summary() -> dict:
    """A summary.json of four verdicts, one per status, with distinctive numbers."""
    verdicts = [
        Verdict("C1", "HOLDS", "The loss stays under its envelope.", measured={"final_loss": 1.234567e-05},
                bounds={"eps": 1e-3}, intervals={"slope": [-0.61, -0.42]}, tested_range={"widths": [64, 256]},
                seed=3, parts=(Part("envelope", "HOLDS", "L(t) <= (1 - eta lam/2)^t L(0) at 41 steps"),)),
        Verdict("C2", "VACUOUS", "lambda is below its resolution.", measured={"lambda": 3.2e-17, "ratio": math.inf},
                bounds={"resolution": 2.5e-14}, constants={"c_A": 1.0},
                parts=(Part("t_align", "VACUOUS", "needs 1/lambda", decisive=True),
                       Part("updates", "HOLDS", "every update points along a_r", decisive=False))),
        Verdict("C3", "VIOLATED", "Mass on x_d exceeds another position.", measured={"deficit": -0.0421},
                counterexample={"seed": 7, "width": 16}, tested_range={"widths": list(range(1, 21))}),
        Verdict("C4", "INCONCLUSIVE", "The interval straddles -1/2.", intervals={"slope": [-0.71, -0.33]},
                config={"widths": [64, 256, 1024], "seeds": 4}),
    ]
    return {"format": "ntk-verify/1", "seed": 3, "claims": [v.claim for v in verdicts],
            "verdicts": [v.to_dict(include_arrays=False) for v in verdicts],
            "config": {"run": {"seed": 3}, "data": {"d": 8, "n": 24}},
            "environment": {"packages": {"jax": "0.0-test"}, "jax_devices": ["cpu:0:cpu"], "dtype": "float64",
                            "x64": True, "python": "3.x"}}


def test_generator_reports_every_claim_status_and_number():
    summary = json.loads(json.dumps(constructed_summary()))  # as read from disk
    text = mf.render_findings(summary, source="x/summary.json")
    for cid, status in [("C1", "HOLDS"), ("C2", "VACUOUS"), ("C3", "VIOLATED"), ("C4", "INCONCLUSIVE")]:
        assert f"## {cid}" in text and f"**Verdict: {status}**" in text
    for number in ("1.235e-05", "0.001", "3.2e-17", "∞", "2.5e-14", "-0.0421",
                   "[-0.71, -0.33]", "[-0.61, -0.42]", "seed = 7", "width = 16", "c_A = 1"):
        assert number in text, number
    assert "1 HOLDS, 1 VIOLATED, 1 VACUOUS, 1 INCONCLUSIVE" in text
    assert "(diagnostic)" in text and "every update points along a_r" in text
    assert "20 values in [1, 20]" in text  # long lists are summarised, not dropped
    assert "JAX 0.0-test" in text and "d = 8, n = 24" in text


@pytest.mark.parametrize("value, text", [
    (0.000123456, "0.0001235"), (123456.0, "1.235e+05"), (3, "3"), (True, "True"), (math.inf, "∞"),
    (-math.inf, "−∞"), (math.nan, "nan"), ([1.0, 2], "[1, 2]"), (np.array([0.5, 0.25]), "[0.5, 0.25]"),
    ({"a": 0.1}, "{a: 0.1}"),
])
def test_fmt(value, text):
    assert mf.fmt(value) == text


def test_check_mode_detects_a_stale_file(tmp_path):
    src = tmp_path / "summary.json"
    src.write_text(json.dumps(constructed_summary()))
    out = tmp_path / "findings.md"
    assert mf.main([str(src), "--out", str(out)]) == 0
    assert mf.main([str(src), "--out", str(out), "--check"]) == 0
    out.write_text(out.read_text().replace("VIOLATED", "HOLDS", 1))
    assert mf.main([str(src), "--out", str(out), "--check"]) == 1


def test_evidence_is_found_beside_the_summary():
    assert mf.evidence_beside(pathlib.Path("r/summary.json")) == pathlib.Path("r/evidence.npz")
    assert mf.evidence_beside(SUMMARY) == EVIDENCE


def test_bad_summary_or_foreign_evidence_is_refused(tmp_path):
    with pytest.raises(ValueError, match="summary"):
        mf.render_findings({"claims": []})
    bad = tmp_path / "summary.json"
    bad.write_text("{not json")
    assert mf.main([str(bad), "--out", str(tmp_path / "f.md")]) == 2
    good = tmp_path / "good.json"
    good.write_text(json.dumps({**constructed_summary(), "evidence_sha256": "0" * 64}))
    evidence = tmp_path / "evidence.npz"
    evidence.write_bytes(b"not the evidence of this run")
    with pytest.raises(ValueError, match="SHA-256"):
        mf.load_arrays(evidence, json.loads(good.read_text()))
    assert mf.main([str(good), "--evidence", str(evidence), "--out", str(tmp_path / "f.md")]) == 2


def test_committed_findings_match_the_committed_summary():
    assert SUMMARY.exists() and EVIDENCE.exists(), f"{SUMMARY} or {EVIDENCE} missing; {REFRESH}"
    summary = json.loads(SUMMARY.read_text(encoding="utf-8"))
    arrays = mf.load_arrays(EVIDENCE, summary)  # refuses an evidence file from another run
    expected = mf.render_findings(summary, source="docs/default_summary.json", arrays=arrays)
    assert FINDINGS.read_text(encoding="utf-8") == expected, f"docs/findings.md is stale; run python scripts/make_findings.py"


def test_committed_summary_is_todays_default_run():
    from verification import config as cfg
    from verification.claims import CLAIMS
    from verification.cli import build_parser

    build_parser()  # registers every claim and configuration section, as `ntk-verify run` does
    summary = json.loads(SUMMARY.read_text(encoding="utf-8"))
    assert summary["claims"] == list(CLAIMS), f"the summary covers {summary['claims']}, the registry {list(CLAIMS)}; {REFRESH}"
    assert summary["config"] == json.loads(json.dumps(cfg.default_config())), f"the default configuration changed; {REFRESH}"
