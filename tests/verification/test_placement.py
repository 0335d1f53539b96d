"""Where a series' training windows sit by default (issue 27 item 7): ``[data] placement = "auto"``
spreads them over a real or user series and keeps a synthetic family's first windows; the
placement and the part of the series they span reach summary.json and report.md."""

import json

import jax
import numpy as np
import pytest

from verification import config as cfg
from verification import report
from verification.contract import Context
from verification.data._datasets import make_dataset
from verification.data._placement import window_placement
from verification.data._windows import placement_words, resolve_placement, window_starts
from verification.rules._verdict import HOLDS, Verdict


def _csv(tmp_path, T=5000, seed=0):
    u = np.cumsum(np.random.default_rng(seed).normal(size=T))  # a random walk: a persistent series
    path = tmp_path / "long.csv"
    path.write_text("value\n" + "".join(f"{float(v)!r}\n" for v in u))
    return path, u


def test_auto_resolves_per_source_kind():
    assert resolve_placement("auto", 5000, 24, 8) == "spread"  # a real or user series
    assert resolve_placement("auto", 512, 24, 8, synthetic=True) == "first"
    assert resolve_placement("first", 5000, 24, 8) == "first"  # explicit choices are kept
    assert resolve_placement("spread", 512, 24, 8, synthetic=True) == "spread"
    # a test set: spread while the gaps hold at least half of what "first" gives, else first
    assert resolve_placement("auto", 2284, 48, 8, n_test=3000) == "spread"  # co2's length
    assert resolve_placement("auto", 309, 48, 8, n_test=3000) == "first"  # gaps < d + 1 values
    spread = window_starts(2284, 48, 8, n_test=3000, placement="spread")[1].size
    first = window_starts(2284, 48, 8, n_test=3000, placement="first")[1].size
    assert 2 * spread >= first > spread > 0


def test_default_synthetic_data_set_is_the_first_windows_as_before():
    """The default source (``residual``) under ``auto``: the very windows of ``placement = "first"``
    (the values before this change: consecutive windows from value 0 of the drawn series)."""
    config = cfg.default_config()
    assert config["data"]["placement"] == "auto"
    auto = Context(config=config, seed=0, quiet=True).dataset()
    config["data"]["placement"] = "first"
    first = Context(config=config, seed=0, quiet=True).dataset()
    assert auto.placement == first.placement == "first"
    assert auto.train_starts == tuple(range(24))
    for a, b in zip(auto[:5], first[:5]):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_a_5000_point_csv_reaches_the_claims_through_windows_over_all_of_it(tmp_path):
    path, u = _csv(tmp_path)
    data = cfg.loads(f'[data]\nsource = "csv:{path}#value"\n')["data"]
    ds = make_dataset(data, jax.random.key(0), n=24)
    starts = np.asarray(ds.train_starts)
    assert ds.placement == "spread" and starts[0] == 0 and starts[-1] + 8 == 4999
    assert (starts[-1] + 9 - starts[0]) / 5000 >= 0.5  # at least half the series
    raw = make_dataset({**data, "normalize": False}, jax.random.key(0), n=24)
    np.testing.assert_array_equal(np.asarray(raw.X), u[starts[:, None] + np.arange(8)])
    np.testing.assert_array_equal(np.asarray(raw.y), u[starts + 8])
    info = window_placement(data)
    assert info == {
        "source": f"csv:{path}#value",
        "kind": "series",
        "placement": "spread",
        "requested": "auto",
        "d": 8,
        "windows": 24,
        "first_value": 0,
        "last_value": 4999,
        "length": 5000,
        "coverage": 1.0,
        "values_used": 216,
    }
    first = window_placement({**data, "placement": "first"})
    assert (first["placement"], first["last_value"], first["coverage"]) == ("first", 31, 32 / 5000)


def test_report_states_the_placement_and_coverage_of_a_user_series(tmp_path):
    """A constructed verdict on the 5000-point CSV (no claim runs): summary.json records the
    resolved placement and coverage per source, report.md says it in one line."""
    path, _ = _csv(tmp_path)
    config = cfg.loads(f'[data]\nsource = "csv:{path}#value"\n')
    out = tmp_path / "results"
    out.mkdir()
    v = Verdict("C90", HOLDS, "constructed", arrays={"a": np.array([1.0])})
    report.write_results(out, [v], config, {"x64": True})
    summary = json.loads((out / "summary.json").read_text())
    info = summary["data_windows"][f"csv:{path}#value"]
    assert info["placement"] == "spread" and info["coverage"] >= 0.5
    text = (out / "report.md").read_text()
    line = next(s for s in text.splitlines() if s.startswith("Data windows:"))
    assert line == (
        "Data windows: 24 training windows spread over values 0–4999 of 5000 "
        '(coverage 100%; placement spread, [data] placement = "auto").'
    )
    # the same line again from the saved files
    (out / "report.md").unlink()
    report.render(out, *report.load_results(out))
    assert line in (out / "report.md").read_text()


def test_report_line_per_source_and_for_the_synthetic_default(tmp_path):
    path, _ = _csv(tmp_path, T=300)
    base = cfg.default_config()
    csv = f"csv:{path}#value"
    configs = {"residual": base["data"], csv: {**base["data"], "source": csv}}
    vs = [Verdict("C90", HOLDS, "a"), Verdict("C90", HOLDS, "b")]
    report.write_results(
        tmp_path, vs, base, {"x64": True}, data_sources=["residual", csv], data_configs=configs
    )
    text = (tmp_path / "report.md").read_text()
    assert (
        "Data windows: 24 consecutive training windows over values 0–31 of the 512 drawn from "
        'the synthetic process (coverage 6.25%; placement first, [data] placement = "auto").'
    ) in text
    assert "Data windows: 24 training windows spread over values 0–299 of 300" in text
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["data_windows"]) == {"residual", csv}


def test_placement_words_for_every_kind():
    base = {"windows": 24, "first_value": 0, "last_value": 23, "length": 300, "coverage": 0.08}
    assert placement_words({**base, "kind": "windows file"}) == (
        "the first 24 of the file's 300 windows (file order; coverage 8%)"
    )
    haar = {"kind": "haar", "windows": 24, "how": "independent windows"}
    assert placement_words(haar) == "24 training windows of the random SSM (independent windows)"
    explicit = {**base, "kind": "series", "placement": "first", "requested": "first"}
    assert placement_words(explicit).endswith("(coverage 8%; placement first)")
    with pytest.raises(KeyError):
        placement_words({"kind": "series"})
