"""docs/reliability.md is generated from the hardening tests' catalogue
(scripts/_reliability_catalogue.py) and cannot drift from them."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.docs.scripts import load_script

catalogue = load_script("_reliability_catalogue")

ROOT = Path(__file__).resolve().parents[2]


def test_every_hardening_test_has_a_row_and_every_row_a_test():
    tests = set()
    for path in Path(__file__).parent.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        tests |= {
            n.name
            for n in tree.body
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
        }
    rows = {r[0] for r in catalogue.FUZZ_ROWS + catalogue.FAULT_ROWS}
    own = {
        "test_named_cases",
        "test_hostile_configuration",
        "test_every_hardening_test_has_a_row_and_every_row_a_test",
        "test_committed_reliability_doc_is_current",
    }  # tables of their own
    assert rows <= tests, f"rows without a test: {rows - tests}"
    assert tests - own <= rows, (
        f"tests without a row in _reliability_catalogue.py: {tests - own - rows}"
    )


def test_committed_reliability_doc_is_current():
    committed = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert committed == catalogue.render(), (
        "docs/reliability.md is stale: run python scripts/make_reliability.py"
    )
