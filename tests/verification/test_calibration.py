"""verification.calibration._table: planted generators against brute force, the rows, the files, the
CLI, the doc."""

import argparse
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from verification.calibration import _stats as cal_stats
from verification.calibration import _table as cal
from verification.commands import calibrate as calibrate_command
from verification.rules._verdict import HOLDS, STATUSES, VACUOUS, VIOLATED

ROOT = Path(__file__).resolve().parents[2]


def test_max_generator_matches_brute_force_maxima():
    # the exact draw of the maximum (inverse of F^m) against maxima of m explicit draws
    widths = (8, 64, 512)
    fast = cal_stats._max_bounded(np.random.default_rng(0), widths, (len(widths), 4000))
    rng = np.random.default_rng(1)
    for j, m in enumerate(widths):
        slow = np.minimum(np.abs(rng.normal(size=(4000, m))), 4).max(axis=1) / math.sqrt(m)
        assert sps.ks_2samp(fast[j], slow).pvalue > 1e-3
    fast = cal_stats._max_exponential(np.random.default_rng(0), widths, (len(widths), 4000))
    for j, m in enumerate(widths):
        slow = np.minimum(rng.exponential(size=(4000, m)), 10).max(axis=1) / math.sqrt(m)
        assert sps.ks_2samp(fast[j], slow).pvalue > 1e-3


def test_clt_generator_matches_explicit_rademacher_sums():
    widths = (4, 16, 64)
    fast = cal_stats._clt(np.random.default_rng(0), widths, (len(widths), 3000))
    rng = np.random.default_rng(2)
    for j, m in enumerate(widths):
        xi = rng.choice([-1.0, 1.0], size=(3000, m, 8))
        slow = np.linalg.norm(xi.mean(axis=1), axis=-1)
        assert sps.ks_2samp(fast[j], slow).pvalue > 1e-3
        # E ||mean||^2 = 8/m exactly
        assert np.mean(fast[j] ** 2) == pytest.approx(8 / m, rel=0.05)


@pytest.fixture(scope="module")
def quick_rows():
    return cal.calibrate(replicates=1000, quick=True)


def test_quick_rows_have_the_published_fields(quick_rows):
    rules = {r["rule"] for r in quick_rows}
    from_modules = {
        r["rule"] for module in cal.RULE_MODULES for r in module.rows(cal.QUICK_REPLICATES)
    }
    assert rules == {"rate", "bounded_by", "probability", "envelope", "resolution"} | from_modules
    for r in quick_rows:
        assert r["case"] in ("true", "false", "boundary")
        assert r["replicates"] == cal.QUICK_REPLICATES
        assert set(r["rates"]) == set(STATUSES) and sum(r["counts"].values()) == r["replicates"]
        assert math.isclose(sum(r["rates"].values()), 1.0)
        assert isinstance(r["budget"], dict) and r["budget"]
    for rule in rules:
        assert {r["case"] for r in quick_rows if r["rule"] == rule} == {"true", "false", "boundary"}


def test_quick_rows_decide_the_clear_cases(quick_rows):
    def row(rule, planted_start, **budget):
        return next(
            r
            for r in quick_rows
            if r["rule"] == rule
            and r["planted"].startswith(planted_start)
            and all(r["budget"].get(k) == v for k, v in budget.items())
        )

    assert row("rate", "CLT: ")["rates"][HOLDS] == 1.0
    assert row("rate", "CLT × m^0.25", violation_margin=0.1)["rates"][VIOLATED] == 1.0
    assert row("rate", "pre-asymptotic: ")["rates"][VIOLATED] == 0.0
    assert row("bounded_by", "the same maximum")["rates"][VIOLATED] == 1.0
    assert row("probability", "failure probability 0.2", runs_per_width=120)["rates"][HOLDS] == 0.0
    assert row("envelope", "as true, judged without")["rates"][VIOLATED] == 1.0
    assert row("envelope", "loss decays 1.2")["rates"][HOLDS] == 1.0
    assert row("resolution", "demanded log-uniform in [1e-12")["rates"][VACUOUS] == 1.0


def test_calibrate_is_deterministic_and_refuses(quick_rows):
    assert cal.calibrate(replicates=5)[0]["counts"] == cal.calibrate(replicates=5)[0]["counts"]
    with pytest.raises(ValueError, match="replicates"):
        cal.calibrate(replicates=0)


def test_probability_budget_matches_the_rule():
    from verification.rules import probability_decision

    for b in cal.probability_budget(runs=(40, 100)):
        n, k = b["runs"], b["max_failures_iut"]
        assert probability_decision(np.array([k] * 4), n, delta=0.1).status == HOLDS
        assert probability_decision(np.array([k + 1, 0, 0, 0]), n, delta=0.1).status != HOLDS
        assert b["holds_iut"] == pytest.approx(sps.binom.cdf(k, n, 0.02) ** 4)


def test_write_calibration_and_cli(tmp_path, quick_rows):
    js, md = cal.write_calibration(tmp_path / "a", quick_rows)
    assert json.loads(js.read_text(encoding="utf-8")) == quick_rows
    assert md.read_text(encoding="utf-8").count("\n| ") == len(quick_rows) + 1
    parser = argparse.ArgumentParser()
    calibrate_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["calibrate", "--quick", "--out", str(tmp_path / "b")])
    assert args.func(args) == 0
    rows = json.loads((tmp_path / "b" / "calibration.json").read_text(encoding="utf-8"))
    assert len(rows) == len(quick_rows) and all(
        set(r) >= {"rule", "case", "budget", "replicates", "rates"} for r in rows
    )


def test_markdown_table_escapes_pipes(quick_rows):
    table = cal.markdown_table(quick_rows)
    cells = {len(re.findall(r"(?<!\\)\|", line)) for line in table.splitlines()}
    assert cells == {
        12
    }  # 11 columns in every row, the header and the rule line: no pipe left unescaped


def test_doc_differences_tolerates_two_counts_only():
    old = "| rate | true | 1000 | 0.852 | 0.148 |\n"
    assert cal.doc_differences(old, old) == []
    assert cal.doc_differences(old, "| rate | true | 1000 | 0.854 | 0.146 |\n") == []
    assert cal.doc_differences(old, "| rate | true | 1000 | 0.860 | 0.140 |\n")
    assert cal.doc_differences(old, "| rate | false | 1000 | 0.852 | 0.148 |\n")
    assert cal.doc_differences(old, old + "x\n")


def test_docs_calibration_md_is_current_and_meets_the_standard():
    # regenerates all rows at 1000 replicates (a few seconds of numpy) and compares with the page
    rows = cal.calibrate(cal.REPLICATES)
    text = (ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")
    assert cal.doc_differences(text, cal.render_doc(rows)) == [], (
        "run python scripts/make_calibration.py"
    )
    # the standard: every row meets it, or states why not (a budget limit or a known limitation)
    assert all(r["meets"] or r["note"] for r in rows)
    for r in rows:
        if r["case"] == "false" and not r["note"]:
            assert r["rates"][HOLDS] <= cal.ALPHA
        if r["case"] == "true" and not r["note"]:
            assert r["rates"][VIOLATED] <= cal.ALPHA


def test_calibrate_prints_a_table_of_at_most_120_columns(quick_rows, tmp_path, capsys):
    from verification.report import _terminal as terminal

    text = terminal.calibration_rows_text(quick_rows, cal.STATUSES)
    lines = text.splitlines()
    assert len(lines) == len(quick_rows) + 1 and max(map(len, lines)) <= 120
    assert (
        max(len(line) for line in cal.markdown_table(quick_rows).splitlines()) > 120
    )  # the case it is for
    for r, line in zip(quick_rows, lines[1:]):  # the numbers survive the cutting
        assert f"{r['rates']['HOLDS']:.3f}" in line and line.rstrip().endswith(
            "yes" if r["meets"] else "NO"
        )
    wide = terminal.fit_table(["a", "b"], [["x" * 200, "y"]], shrink=(0,))
    assert max(map(len, wide.splitlines())) <= 120 and "…" in wide
