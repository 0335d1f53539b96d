"""``ntk-verify`` given hostile configurations and arguments: one line, exit status 2, no work
done."""

from __future__ import annotations

import pytest

from tests.docs.scripts import load_script

catalogue = load_script("_reliability_catalogue")
CONFIG_CASES, run_config_case = catalogue.CONFIG_CASES, catalogue.run_config_case


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_hostile_configuration(case, tmp_path):
    code, err, created = run_config_case(case, tmp_path)  # any other exception escapes: a traceback
    command = case[1][0]
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith(f"ntk-verify {command}: error: "), err
    assert "Traceback" not in err
    assert not created, "refused after creating the output folder"
    if "(memory)" in case[0]:
        assert "GiB" in err and "more than this machine's" in err
