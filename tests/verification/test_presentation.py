"""The two verdicts as they read: theorem line with its headline, observed line with rule and scale,
looseness, budget, the tables of report.md / findings.md / the terminal — on constructed verdicts
(with and without ``observed``), and report.md written from them and from an old summary.json."""

from __future__ import annotations

import json
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verification import report
from verification.commands._cli import build_parser
from verification.report import _presentation as pr
from verification.rules._verdict import STATUSES, Observed, Part, Verdict, combine_parts, headline

P = (
    Part("width", "HOLDS", "m ≥ m_req", role="premise"),
    Part("rate", "HOLDS", "slope −0.54"),
    Part("Bernstein", "HOLDS", "0 of 270"),
    Part("λ/2", "VACUOUS", "λ/2 = 6e-37 < 2e-16", why="λ below float64"),
)
OBS = Observed(
    "HOLDS",
    "rate_decision on log R vs log σ²",
    "m ≤ 1024, t ≤ 1e4, 5 sources",
    "R_lin ∝ σ^2.02 [1.97, 2.07].",
    looseness={"orders_t_align": 36.2, "c_R": [0.5, 1.25]},
)
UNSURE = Observed(
    "INCONCLUSIVE",
    "probability_decision",
    "m ≤ 256",
    "agreement 0.93 [0.85, 0.97]",
    budget="30 seeds at m = 256",
)


def _v(cid="C90", status="HOLDS", observed=OBS, parts=P):
    return Verdict(cid, status, f"{cid} explained.", parts=parts, observed=observed)


def test_theorem_line_is_status_then_headline():
    assert (
        pr.theorem_line(_v())
        == "**Theorem: HOLDS** — HOLDS 2 · VACUOUS 1 (λ below float64) · premises met 1"
    )
    assert (
        pr.theorem_line(_v(parts=()), markdown=False) == "Theorem: HOLDS"
    )  # no decisive part: no headline
    bad = (
        Part("η ≤ λδ", "VIOLATED", "", role="premise", why="η above λδ by 1e36"),
        Part("rate", "HOLDS", ""),
    )
    assert (
        pr.theorem_line(_v(status="VACUOUS", parts=bad))
        == "**Theorem: VACUOUS** — premise VIOLATED 1 (η above λδ by 1e36) · HOLDS 1"
    )


def test_observed_line_names_rule_and_scale_or_shows_a_dash():
    assert pr.observed_line(_v()) == (
        "**Observed: HOLDS** — R_lin ∝ σ^2.02 [1.97, 2.07] (rule: rate_decision on "
        "log R vs log σ²; scale: m ≤ 1024, t ≤ 1e4, 5 sources)"
    )
    assert pr.observed_line(_v(observed=None), markdown=False).startswith("Observed: —")
    assert pr.looseness_text(_v()) == "orders_t_align = 36.2; c_R = [0.5, 1.25]"
    assert pr.looseness_text(_v(observed=None)) == "—" == pr.looseness_text(_v(observed=UNSURE))


def test_budget_is_shown_where_the_observed_verdict_is_inconclusive():
    assert pr.budget_line(_v()) == ""
    assert (
        pr.budget_line(_v(observed=UNSURE))
        == "Budget at which the rule's power reaches 0.8: 30 seeds at m = 256."
    )
    no_budget = Observed("INCONCLUSIVE", "r", "s", "f")
    assert "not given by the claim" in pr.budget_line(
        _v(observed=no_budget)
    )  # a missing budget is said, not hidden
    lines = pr.verdict_lines(_v(observed=UNSURE))
    assert lines[0].startswith("**Theorem: HOLDS**") and lines[1].startswith(
        "**Observed: INCONCLUSIVE**"
    )
    assert lines[-1].startswith("Budget") and not any(ln.startswith("Looseness") for ln in lines)
    assert (
        pr.verdict_lines(_v())[2]
        == "Looseness (observed against required): orders_t_align = 36.2; c_R = [0.5, 1.25]."
    )


def test_tables_have_both_columns_and_escape_bars():
    vs = [_v("C91"), _v("C92", "VACUOUS", None), _v("C93", "VIOLATED", UNSURE)]
    table = pr.verdict_table(vs).splitlines()
    assert table[0] == "| Claim | Source | Statement | Theorem | Observed | Key numbers |"
    assert table[2].startswith("| C91 |") and "| **HOLDS** | **HOLDS** |" in table[2]
    assert "| **VACUOUS** | — |" in table[3] and "| **VIOLATED** | **INCONCLUSIVE** |" in table[4]
    over = pr.overview_table(vs).splitlines()
    assert over[0].count("|") == 6 and all(row.count("|") - row.count("\\|") == 6 for row in over)
    assert (
        "**HOLDS** (rate_decision on log R vs log σ²)" in over[2]
        and "m ≤ 1024, t ≤ 1e4, 5 sources" in over[2]
    )
    assert over[3].endswith("| — | — | — |")
    assert "power 0.8 at: 30 seeds at m = 256" in over[4]
    piped = Verdict(
        "C94", "HOLDS", "x", observed=Observed("HOLDS", "r", "m|n", "f", looseness={"a|b": 1.0})
    )
    row = pr.overview_table([piped]).splitlines()[2]
    assert "m\\|n" in row and "a\\|b = 1" in row and row.count("|") - row.count("\\|") == 6


def test_matrix_cells_read_theorem_slash_observed():
    vs = [_v("C91"), _v("C91", "VACUOUS", None), _v("C92", "INCONCLUSIVE", UNSURE)]
    m = pr.verdict_matrix(vs, ["a", "b", "a"]).splitlines()
    assert m[0] == "| Claim | Statement | `a` | `b` |"
    assert m[2] == "| C91 |  | **HOLDS** / **HOLDS** | **VACUOUS** / — |"
    assert m[3] == "| C92 |  | **INCONCLUSIVE** / **INCONCLUSIVE** | — |"  # no verdict on b: a dash
    rows = pr.source_rows(vs, ["a", "b", "a"]).splitlines()
    assert rows[2].startswith("| C91 | `a` | **HOLDS** — HOLDS 2") and rows[3].startswith(
        "| C91 | `b` | **VACUOUS**"
    )
    with pytest.raises(ValueError, match="sources: expected one per verdict"):
        pr.verdict_matrix(vs, ["a"])


def test_terminal_table_and_tally():
    vs = [_v("C91"), _v("C92", "VACUOUS", None)]
    lines = pr.text_table(vs).splitlines()
    assert lines[0].split() == ["claim", "theorem", "observed", "key", "numbers"]
    assert lines[1].split() == ["C91", "HOLDS", "HOLDS"] and lines[2].split() == [
        "C92",
        "VACUOUS",
        "—",
    ]
    assert lines[1].index("HOLDS") == lines[2].index("VACUOUS")  # columns aligned
    assert (
        pr.tally(vs + [_v("C93", "VACUOUS", UNSURE)])
        == "theorem: 1 HOLDS, 2 VACUOUS; observed: 1 HOLDS, 1 INCONCLUSIVE, 1 not given (—)"
    )


@settings(deadline=None, max_examples=30)
@given(
    status=st.sampled_from(STATUSES),
    obs=st.one_of(st.none(), st.sampled_from(STATUSES)),
    value=st.floats(allow_nan=False, allow_infinity=True, width=64),
    name=st.text(min_size=1, max_size=8),
)
def test_any_verdict_renders_one_row_per_table(status, obs, value, name):
    observed = (
        None if obs is None else Observed(obs, "rule", "scale", "finding", looseness={name: value})
    )
    v = Verdict("C99", status, "x", observed=observed)
    for table in (pr.verdict_table([v]), pr.overview_table([v]), pr.verdict_matrix([v], ["s"])):
        rows = table.splitlines()
        assert len(rows) == 3 and status in rows[2] and (obs or "—") in rows[2]
        assert rows[2].count("|") - rows[2].count("\\|") == rows[0].count(
            "|"
        )  # the bars the text brought are escaped


def test_report_md_opens_each_claim_with_theorem_then_observed(tmp_path):
    vs = [_v("C91"), _v("C92", "VACUOUS", None)]
    report.write_results(
        tmp_path, vs, {"run": {"seed": 0}, "data": {"source": "residual"}}, {"x64": True}
    )
    text = (tmp_path / "report.md").read_text()
    assert (
        "| Claim | Source | Statement | Theorem | Observed | Key numbers |" in text
        and pr.COLUMNS in text
    )
    c91 = text.split("## C91", 1)[1].split("## C92", 1)[0]
    paragraphs = [p for p in c91.split("\n\n") if p.strip()]
    assert paragraphs[0].startswith("**Theorem: HOLDS** — HOLDS 2 · VACUOUS 1 (λ below float64)")
    assert paragraphs[1].startswith("**Observed: HOLDS** — R_lin ∝ σ^2.02")
    assert paragraphs[2].startswith("Looseness") and paragraphs[3] == "C91 explained."
    assert "**Observed:** — (this claim gives no observed verdict)" in text.split("## C92", 1)[1]


def test_an_old_summary_without_observed_or_headline_still_renders(tmp_path):
    report.write_results(
        tmp_path,
        [_v("C91", "HOLDS", None)],
        {"run": {"seed": 0}, "data": {"source": "x"}},
        {"x64": True},
    )
    path = tmp_path / "summary.json"
    summary = json.loads(path.read_text())
    for v in summary["verdicts"]:  # as written before the observed verdict existed
        del v["observed"], v["headline"]
    summary[report.CHECKSUM_KEY] = report.content_sha256(summary)
    path.write_text(json.dumps(summary))
    _, back = report.load_results(tmp_path)
    assert back[0].observed is None
    (tmp_path / "report.md").unlink()
    report.render(tmp_path, summary, back)
    text = (tmp_path / "report.md").read_text()
    assert "| **HOLDS** | — |" in text and "**Theorem: HOLDS** — HOLDS 2" in text


def test_multi_source_report_matrix_has_both_verdicts(tmp_path):
    vs = [_v("C91"), _v("C91", "VACUOUS", None)]
    report.write_results(
        tmp_path,
        vs,
        {"run": {"seed": 0}, "data": {"source": "a"}},
        {"x64": True},
        data_sources=["a", "b"],
    )
    text = (tmp_path / "report.md").read_text()
    assert "| C91 |  | **HOLDS** / **HOLDS** | **VACUOUS** / — |" in text
    assert text.index(pr.COLUMNS) < text.index("| C91 |  | **HOLDS** / **HOLDS**")


THEORY_ROWS = [  # docs/theory.md, "Combining parts": each example row, as parts
    (
        (
            Part("width", "HOLDS", "", role="premise"),
            Part("rate", "HOLDS", ""),
            Part("Bernstein", "HOLDS", ""),
            Part("λ/2", "VACUOUS", "", why="λ below float64"),
        ),
        "| HOLDS | `HOLDS 2 · VACUOUS 1 (λ below float64) · premises met 1` |",
    ),
    (
        (
            Part("step size", "VIOLATED", "", role="premise", why="η above λδ"),
            Part("rate", "HOLDS", ""),
        ),
        "| VACUOUS | `premise VIOLATED 1 (η above λδ) · HOLDS 1` |",
    ),
    (
        (
            Part("kernel regime", "INCONCLUSIVE", "", role="premise", why="kernel regime unclear"),
            Part("last position", "VIOLATED", "", why="last position not least"),
        ),
        (
            "| INCONCLUSIVE | `premise INCONCLUSIVE 1 (kernel regime unclear) · "
            "VIOLATED 1 (last position not least)` |"
        ),
    ),
    (
        (Part("envelope", "HOLDS", ""), Part("L ≤ ε", "VACUOUS", "", why="below float floor")),
        "| HOLDS | `HOLDS 1 · VACUOUS 1 (below float floor)` |",
    ),
    (
        (Part("L ≤ ε", "VACUOUS", "", why="below float floor"),),
        "| VACUOUS | `VACUOUS 1 (below float floor)` |",
    ),
]


@pytest.mark.parametrize("parts, row", THEORY_ROWS)
def test_theory_examples_are_what_the_code_says(parts, row):
    theory = pathlib.Path(__file__).resolve().parents[2] / "docs" / "theory.md"
    text = theory.read_text(encoding="utf-8").split("### Combining parts", 1)[1].split("### ", 1)[0]
    assert f"| {combine_parts(parts)} | `{headline(parts)}` |" == row
    assert row in text, f"docs/theory.md's example row differs from the code: {row}"


def test_a_registered_claim_opens_with_its_verdicts_then_its_statement(tmp_path):
    build_parser()  # registers the built-in claims, as `ntk-verify run` does
    report.write_results(
        tmp_path,
        [_v("C5", "VACUOUS", UNSURE)],
        {"run": {"seed": 0}, "data": {"source": "x"}},
        {"x64": True},
    )
    section = (tmp_path / "report.md").read_text().split("## C5: ", 1)[1]
    paragraphs = section.split("\n\n")
    assert paragraphs[1].startswith("**Theorem: VACUOUS** — HOLDS 2 · VACUOUS 1 (λ below float64)")
    assert paragraphs[2].startswith(
        "**Observed: INCONCLUSIVE** — agreement 0.93 [0.85, 0.97] (rule: probability_decision"
    )
    assert paragraphs[3] == "Budget at which the rule's power reaches 0.8: 30 seeds at m = 256."
    assert paragraphs[4].startswith("$$ ") and paragraphs[5] == "C5 explained."
