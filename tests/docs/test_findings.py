"""``docs/findings.md`` is exactly what ``scripts/make_findings.py`` makes of the committed summary.

And the generator reports every claim with its status and numbers (checked on constructed
verdicts, so that the test can fail), and the committed summary is a run of today's default
configuration covering every registered claim.
"""

from __future__ import annotations

import json
import math
import pathlib
import re

import numpy as np
import pytest

from tests.docs.scripts import load_script
from verification.rules._verdict import Observed, Part, Verdict

ROOT = pathlib.Path(__file__).resolve().parents[2]
SUMMARY = ROOT / "docs" / "default_summary.json"
EVIDENCE = ROOT / "docs" / "default_evidence.npz"
FINDINGS = ROOT / "docs" / "findings.md"
REFRESH = (
    "refresh: ntk-verify run --out /tmp/default --force --quiet && cp /tmp/default/summary.json "
    "docs/default_summary.json && cp /tmp/default/evidence.npz docs/default_evidence.npz && "
    "python scripts/make_sources_summary.py && python scripts/make_findings.py"
)


mf = load_script("make_findings")


def constructed_summary() -> dict:
    """A summary.json of four verdicts, one per status, with distinctive numbers."""
    verdicts = [
        Verdict(
            "C1",
            "HOLDS",
            "The loss stays under its envelope.",
            measured={"final_loss": 1.234567e-05},
            bounds={"eps": 1e-3},
            intervals={"slope": [-0.61, -0.42]},
            tested_range={"widths": [64, 256]},
            seed=3,
            parts=(Part("envelope", "HOLDS", "L(t) <= (1 - eta lam/2)^t L(0) at 41 steps"),),
        ),
        Verdict(
            "C2",
            "VACUOUS",
            "lambda is below its resolution.",
            measured={"lambda": 3.2e-17, "ratio": math.inf},
            bounds={"resolution": 2.5e-14},
            constants={"c_A": 1.0},
            parts=(
                Part("t_align", "VACUOUS", "needs 1/lambda", decisive=True),
                Part("updates", "HOLDS", "every update points along a_r", decisive=False),
            ),
        ),
        Verdict(
            "C3",
            "VIOLATED",
            "Mass on x_d exceeds another position.",
            measured={"deficit": -0.0421},
            counterexample={"seed": 7, "width": 16},
            tested_range={"widths": list(range(1, 21))},
        ),
        Verdict(
            "C4",
            "INCONCLUSIVE",
            "The interval straddles -1/2.",
            intervals={"slope": [-0.71, -0.33]},
            config={"widths": [64, 256, 1024], "seeds": 4},
        ),
    ]
    return {
        "format": "ntk-verify/1",
        "seed": 3,
        "claims": [v.claim for v in verdicts],
        "verdicts": [v.to_dict(include_arrays=False) for v in verdicts],
        "config": {"run": {"seed": 3}, "data": {"d": 8, "n": 24}},
        "environment": {
            "packages": {"jax": "0.0-test"},
            "jax_devices": ["cpu:0:cpu"],
            "dtype": "float64",
            "x64": True,
            "python": "3.x",
        },
    }


def test_generator_reports_every_claim_status_and_number():
    summary = json.loads(json.dumps(constructed_summary()))  # as read from disk
    text = mf.render_findings(summary, source="x/summary.json")
    for cid, status in [
        ("C1", "HOLDS"),
        ("C2", "VACUOUS"),
        ("C3", "VIOLATED"),
        ("C4", "INCONCLUSIVE"),
    ]:
        assert f"## {cid}" in text and f"**Theorem: {status}**" in text
    for number in (
        "1.235e-05",
        "0.001",
        "3.2e-17",
        "∞",
        "2.5e-14",
        "-0.0421",
        "[-0.71, -0.33]",
        "[-0.61, -0.42]",
        "seed = 7",
        "width = 16",
        "c_A = 1",
    ):
        assert number in text, number
    assert (
        "theorem: 1 HOLDS, 1 VIOLATED, 1 INCONCLUSIVE, 1 VACUOUS; observed: 4 not given (—)" in text
    )
    assert "(diagnostic)" in text and "every update points along a_r" in text
    assert "20 values in [1, 20]" in text  # long lists are summarised, not dropped
    assert "JAX 0.0-test" in text and "d = 8, n = 24" in text


@pytest.mark.parametrize(
    "value, text",
    [
        (0.000123456, "0.0001235"),
        (123456.0, "1.235e+05"),
        (3, "3"),
        (True, "True"),
        (math.inf, "∞"),
        (-math.inf, "−∞"),
        (math.nan, "nan"),
        ([1.0, 2], "[1, 2]"),
        (np.array([0.5, 0.25]), "[0.5, 0.25]"),
        ({"a": 0.1}, "{a: 0.1}"),
    ],
)
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


def regime_summary() -> dict:
    """Verdicts C1-C4 with the numbers each claim's regime line reads, and C5 with a rule-less
    part."""
    verdicts = [
        Verdict(
            "C1",
            "HOLDS",
            "x",
            bounds={"T_req[n=2]": 2000.0, "T_req[n=24]": 4e24},
            measured={"linearised_loss_at_T_req_max[n=2]": [1e-14]},
            tested_range={"steps": 500},
            parts=(
                Part(
                    "envelope (n = 2)",
                    "HOLDS",
                    "demands 0.9. Rule: probability_decision: CP upper ends 0.03 ≤ δ = 0.1.",
                ),
                Part("T_req reached (n = 24)", "VACUOUS", "Rule: not this one", decisive=False),
            ),
        ),
        Verdict(
            "C2",
            "VACUOUS",
            "x",
            measured={"t_over_t_align": [2.5e-36, 1.25e-36], "data_term_fraction": 0.75},
            tested_range={"widths": [16, 32], "steps": 3000},
            parts=(Part("t >= t_align", "VACUOUS", "beyond reach by a factor 4e35"),),
        ),
        Verdict(
            "C3",
            "VACUOUS",
            "x",
            measured={"negative_fraction": [0.625, 0.5], "premise_status": "INCONCLUSIVE"},
            bounds={"one_minus_delta": 0.9},
            tested_range={"widths": [64, 256]},
        ),
        Verdict(
            "C4", "HOLDS", "x", tested_range={"widths": [64, 128, 16384], "seeds": list(range(7))}
        ),
        Verdict(
            "C5", "INCONCLUSIVE", "x", parts=(Part("attention risk", "INCONCLUSIVE", "R/σ² 5.1"),)
        ),
    ]
    summary = {
        **constructed_summary(),
        "claims": [v.claim for v in verdicts],
        "verdicts": [
            {**v.to_dict(include_arrays=False), "data_source": "residual"} for v in verdicts
        ],
    }
    return json.loads(json.dumps(summary))


def _line(text: str, cid: str, head: str) -> str:
    section = text.split(f"## {cid}", 1)[1].split("\n## ", 1)[0]
    found = [ln for ln in section.splitlines() if ln.startswith(head)]
    return found[0] if found else ""


def test_decided_by_lists_decisive_parts_with_their_rule():
    text = mf.render_findings(regime_summary(), source="x/summary.json")
    c1 = _line(text, "C1", "Decided by:")
    assert (
        c1 == "Decided by: envelope (n = 2): **HOLDS** "
        "(probability_decision: CP upper ends 0.03 ≤ δ = 0.1)."
    ), c1
    assert (
        "not this one"
        not in text.split("## C1", 1)[1]
        .split("## C2", 1)[0]
        .split("Decided by:")[1]
        .splitlines()[0]
    )
    assert (
        _line(text, "C2", "Decided by:") == "Decided by: t >= t_align: **VACUOUS**."
    )  # no Rule: the name alone
    assert _line(text, "C3", "Decided by:") == ""  # no parts: no line
    assert (
        mf.rule_of("a. Rule: holm over 4.") == "holm over 4" and mf.rule_of("no rule here") is None
    )
    premise = Verdict(
        "C3",
        "VACUOUS",
        "x",
        parts=(
            Part("kernel regime", "VIOLATED", "moved 0.998. Rule: bounded_by.", role="premise"),
            Part("last least", "VIOLATED", "0 of 64"),
        ),
    )
    assert mf.decided_by(premise) == (
        "Decided by: premise kernel regime: **VIOLATED** (bounded_by); last least: **VIOLATED**."
    )


def test_regime_reached_is_read_from_the_numbers():
    text = mf.render_findings(regime_summary(), source="x/summary.json")
    assert _line(text, "C1", "Regime reached:") == (
        "Regime reached: n=2: t/T_req = 500/2000 = 0.25 (T_req reached in the "
        "linearised model); n=24: t/T_req = 500/4e+24 = 1.25e-22."
    )
    assert _line(text, "C2", "Regime reached:") == (
        "Regime reached: T/t_align = [2.5e-36, 1.25e-36] at m = [16, 32]; "
        "data-term fraction at t = 0 0.75."
    )
    assert _line(text, "C3", "Regime reached:") == (
        "Regime reached: premise fraction of w_r(T) < 0 = [0.625, 0.5] at "
        "m = [64, 256] vs 1 − δ = 0.9 (premise INCONCLUSIVE)."
    )
    assert (
        _line(text, "C4", "Regime reached:")
        == "Regime reached: 3 widths tested, m = [64, 128, 16384] × 7 seeds."
    )
    assert _line(text, "C5", "Regime reached:") == ""


def test_regime_line_is_absent_not_a_crash_when_keys_are_missing_or_malformed():
    summary = regime_summary()
    for v in summary["verdicts"]:
        v["measured"], v["bounds"], v["tested_range"] = {}, {}, {}
    text = mf.render_findings(summary, source="x/summary.json")
    assert "Regime reached:" not in text and "## C4" in text
    for cid in ("C1", "C2", "C3", "C4"):  # malformed numbers: no line either
        odd = Verdict(
            cid,
            "HOLDS",
            "x",
            measured={"negative_fraction": None, "t_over_t_align": None},
            bounds={"T_req[n=2]": "not a number", "t_align": [0.0]},
            tested_range={"steps": None, "widths": ["a", None]},
        )
        assert mf.regime_reached(odd) is None, cid
    t_align = regime_summary()
    t_align["verdicts"][1]["measured"] = {}
    t_align["verdicts"][1]["bounds"] = {"t_align": [3e3, 6e3]}
    assert (
        _line(mf.render_findings(t_align, source="x"), "C2", "Regime reached:")
        == "Regime reached: T/t_align = [1, 0.5] at m = [16, 32]."
    )


def sources_summary() -> dict:
    """A multi-source summary.json as `ntk-verify run --data residual,haar,sunspots --claims C1,C3`
    writes it; C1 carries observed verdicts (C1 on sunspots an INCONCLUSIVE one), C3 none
    (an older claim)."""
    sources = ["residual", "haar", "sunspots"]
    statuses = {"C1": ["HOLDS", "VACUOUS", "INCONCLUSIVE"], "C3": ["VIOLATED", "VACUOUS", "HOLDS"]}
    observed = {
        ("C1", "residual"): Observed(
            "HOLDS",
            "probability_decision",
            "m ≤ 256, t ≤ 800",
            "gap 0.01",
            looseness={"orders_T_req": 21.7},
        ),
        ("C1", "haar"): Observed("VIOLATED", "probability_decision", "m ≤ 64", "gap 0.4"),
        ("C1", "sunspots"): Observed(
            "INCONCLUSIVE", "rate_decision", "m ≤ 128", "slope −0.3", budget="9 widths × 30 seeds"
        ),
    }
    verdicts = [
        {
            **Verdict(
                c,
                st,
                "x",
                observed=observed.get((c, s)),
                parts=(Part("w", "VIOLATED", "", role="premise", why="η above λδ"),)
                if st == "VACUOUS"
                else (),
            ).to_dict(include_arrays=False),
            "data_source": s,
        }
        for c, sts in statuses.items()
        for s, st in zip(sources, sts)
    ]
    return {
        "format": "ntk-verify/1",
        "seed": 5,
        "claims": ["C1", "C3"],
        "verdicts": verdicts,
        "data_sources": sources,
        "matrix": {c: dict(zip(sources, sts)) for c, sts in statuses.items()},
    }


def test_verdict_matrix_across_data_sources(tmp_path):
    text = mf.render_findings(
        regime_summary(),
        source="x/summary.json",
        sources=sources_summary(),
        sources_source="docs/sources_summary.json",
    )
    assert "## Verdicts across data sources" in text
    assert (
        "`ntk-verify run --data residual,haar,sunspots --claims C1,C3`" in text and "seed 5" in text
    )
    glance = text.split("## ", 1)[0]  # the opening screen: before the first section
    assert (
        "seed 5; `residual` is the default data of the table above;" not in glance
    )  # that summary's [data] is not residual
    assert "`residual` is the default data" in mf.render_findings(
        {**regime_summary(), "config": {"data": {"source": "residual"}}}, sources=sources_summary()
    )
    assert "| Claim | Statement | `residual` | `haar` | `sunspots` |" in glance
    rows = [ln for ln in glance.splitlines() if ln.startswith("| C1 |") or ln.startswith("| C3 |")]
    assert rows[0].endswith(
        "| **HOLDS** / **HOLDS** | **VACUOUS** / **VIOLATED** "
        "| **INCONCLUSIVE** / **INCONCLUSIVE** |"
    ), rows
    assert rows[1].endswith("| **VIOLATED** / — | **VACUOUS** / — | **HOLDS** / — |"), rows
    details = text.split("## Verdicts across data sources", 1)[1].split("\n## ", 1)[0]
    assert (
        "| C1 | `residual` | **HOLDS** | **HOLDS** | m ≤ 256, t ≤ 800 | orders_T_req = 21.7 |"
        in details
    )
    assert (
        "| C1 | `haar` | **VACUOUS** — premise VIOLATED 1 (η above λδ) "
        "| **VIOLATED** | m ≤ 64 | — |" in details
    )
    assert "| C3 | `sunspots` | **HOLDS** | — | — | — |" in details
    assert text.index("## Verdicts across data sources") < text.index("## C1")
    assert "Verdicts across data sources" not in mf.render_findings(regime_summary(), source="x")
    with pytest.raises(ValueError, match="matrix"):
        mf.render_findings(regime_summary(), sources={"verdicts": []})
    old = {
        k: x for k, x in sources_summary().items() if k != "verdicts"
    }  # a matrix alone: theorem statuses, no observed
    assert "| **HOLDS** / — | **VACUOUS** / — | **INCONCLUSIVE** / — |" in mf.render_findings(
        regime_summary(), sources=old
    )
    src, srcs, out = tmp_path / "summary.json", tmp_path / "sources.json", tmp_path / "findings.md"
    src.write_text(json.dumps(regime_summary()))
    srcs.write_text(json.dumps(sources_summary()))
    assert mf.main([str(src), "--sources", str(srcs), "--out", str(out)]) == 0
    assert "`sunspots`" in out.read_text()
    assert mf.main([str(src), "--sources", str(srcs), "--out", str(out), "--check"]) == 0
    srcs.write_text(json.dumps({**sources_summary(), "matrix": {"C1": {"residual": "VIOLATED"}}}))
    assert mf.main([str(src), "--sources", str(srcs), "--out", str(out), "--check"]) == 1
    assert mf.main([str(src), "--sources", str(tmp_path / "missing.json"), "--out", str(out)]) == 2


def test_findings_open_with_one_screen_of_both_verdicts():
    summary = regime_summary()
    summary["verdicts"][0]["observed"] = {
        "status": "HOLDS",
        "rule": "rate_decision",
        "scale": "m ≤ 1024, n = 24",
        "finding": "gap ∝ m^-0.49",
        "looseness": {"c_T": 0.25},
        "budget": "",
    }
    summary["verdicts"][4]["observed"] = {
        "status": "INCONCLUSIVE",
        "rule": "rate_decision",
        "scale": "σ ∈ [1e-3, 1]",
        "finding": "x",
        "looseness": {},
        "budget": "12 seeds",
    }
    text = mf.render_findings(summary, source="x/summary.json", sources=sources_summary())
    glance = text.split("## ", 1)[0]
    assert len(glance.splitlines()) <= 40  # one screen, the sources matrix included
    table = [
        ln for ln in glance.splitlines() if re.match(r"\| C\d+ [^|]", ln)
    ]  # the claims' rows of the first table
    assert table[0].startswith(
        "| C1 linear convergence of the training loss (Thm 5.2) | **HOLDS** — HOLDS 1 |"
    )
    assert table[0].endswith("| **HOLDS** (rate_decision) | m ≤ 1024, n = 24 | c_T = 0.25 |")
    assert table[1].endswith("| — | — | — |")  # no observed verdict: dashes
    assert "**INCONCLUSIVE** (rate_decision); power 0.8 at: 12 seeds" in table[4]
    assert (
        "theorem: 2 HOLDS, 1 INCONCLUSIVE, 2 VACUOUS; "
        "observed: 1 HOLDS, 1 INCONCLUSIVE, 3 not given (—)" in glance
    )
    c1 = text.split("## C1", 1)[1].split("\n## ", 1)[0]
    assert c1.split("\n\n")[1].startswith(
        "**Theorem: HOLDS** — HOLDS 1"
    )  # the first line under the heading
    assert (
        c1.index("**Theorem: HOLDS**")
        < c1.index(
            "**Observed: HOLDS** — gap ∝ m^-0.49 (rule: rate_decision; scale: m ≤ 1024, n = 24)"
        )
        < c1.index("Decided by:")
    )
    c5 = text.split("## C5", 1)[1]
    assert "Budget at which the rule's power reaches 0.8: 12 seeds." in c5


def test_committed_findings_match_the_committed_summary():
    assert SUMMARY.exists() and EVIDENCE.exists(), f"{SUMMARY} or {EVIDENCE} missing; {REFRESH}"
    summary = json.loads(SUMMARY.read_text(encoding="utf-8"))
    arrays = mf.load_arrays(EVIDENCE, summary)  # refuses an evidence file from another run
    sources = (
        json.loads(mf.DEFAULT_SOURCES.read_text(encoding="utf-8"))
        if mf.DEFAULT_SOURCES.exists()
        else None
    )
    expected = mf.render_findings(
        summary, source="docs/default_summary.json", arrays=arrays, sources=sources
    )
    assert FINDINGS.read_text(encoding="utf-8") == expected, (
        "docs/findings.md is stale; run python scripts/make_findings.py"
    )


def test_committed_summary_is_todays_default_run():
    from verification import config as cfg
    from verification.claims import CLAIMS
    from verification.commands._cli import build_parser

    build_parser()  # registers every claim and configuration section, as `ntk-verify run` does
    summary = json.loads(SUMMARY.read_text(encoding="utf-8"))
    assert summary["claims"] == list(CLAIMS), (
        f"the summary covers {summary['claims']}, the registry {list(CLAIMS)}; {REFRESH}"
    )
    assert summary["config"] == json.loads(json.dumps(cfg.default_config())), (
        f"the default configuration changed; {REFRESH}"
    )


def _c2_sources(onsets, v_mins, eta=0.01, lam=0.1, keys=True):
    """A multi-source summary with one C2 verdict per source carrying (or not) median onsets and
    v_min."""
    sources = [f"s{i}" for i in range(len(onsets))]
    verdicts = [
        {
            **Verdict(
                "C2",
                "VACUOUS",
                "x",
                tested_range={"widths": [16, 64]},
                measured={"median_onset": [1.0, t], "v_min": vm, "eta": eta, "lam": lam}
                if keys
                else {},
            ).to_dict(include_arrays=False),
            "data_source": s,
        }
        for s, t, vm in zip(sources, onsets, v_mins)
    ]
    return {
        "format": "ntk-verify/1",
        "seed": 0,
        "claims": ["C2"],
        "verdicts": verdicts,
        "data_sources": sources,
        "matrix": {"C2": {s: "VACUOUS" for s in sources}},
    }


def test_c2_onset_against_v_min_across_sources():
    text = mf.render_findings(
        regime_summary(), sources=_c2_sources([400.0, 200.0, 100.0], [0.1, 0.2, 0.4])
    )
    assert (
        "| source | m | median onset | v_min | η | λ |" in text
        and "| `s1` | 64 | 200 | 0.2 | 0.01 | 0.1 |" in text
    )
    line = next(ln for ln in text.splitlines() if ln.startswith("Exponent across 3 sources"))
    assert (
        "onset ∝ v_min^-1.00" in line
        and "onset × ηλ ∝ v_min^-1.00" in line
        and "(HOLDS against −1" in line
    )
    flat = mf.render_findings(
        regime_summary(), sources=_c2_sources([100.0, 110.0, 90.0], [0.1, 0.2, 0.4])
    )
    assert "(HOLDS against −1" not in flat and "Exponent across 3 sources" in flat
    few = mf.render_findings(
        regime_summary(), sources=_c2_sources([400.0, math.inf, 1.0], [0.1, 0.2, 0.4])
    )
    assert (
        "Exponent of onset in v_min: uninformative "
        "(1 source(s) with a finite onset after the first record; "
        "the fit needs 3 at 2 or more v_min)."
    ) in few and "| ∞ |" in few
    old = mf.render_findings(
        regime_summary(), sources=_c2_sources([400.0, 200.0, 100.0], [0.1, 0.2, 0.4], keys=False)
    )
    assert "C2's onset against v_min" not in old  # a summary from before these fields: no line
