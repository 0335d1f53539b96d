"""Regime maps: the per-cell rule, boundaries and looseness on planted truths; `ntk-verify map` end
to end at tiny sizes."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from verification import config as cfg
from verification import rules as stats
from verification.calibration import _regime as calibration_regime
from verification.commands import _cli as cli
from verification.regime import _map as rmap
from verification.regime import _plot as regime_plot
from verification.regime import _runs as regime_runs
from verification.regime._build import build_maps
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED

TINY = """
[data]
n = 8
d = 4
"""


def test_seeds_for_holds_is_the_fewest_seeds_whose_clean_cell_holds():
    for delta in (0.05, 0.1, 0.2):
        S = rmap.seeds_for_holds(delta)
        assert stats.clopper_pearson(0, S)[1] <= delta < stats.clopper_pearson(0, S - 1)[1]
    assert rmap.seeds_for_holds(0.1) == 36
    with pytest.raises(
        ValueError, match="delta: expected a failure probability in \\(0, 1\\), got 1.5"
    ):
        rmap.seeds_for_holds(1.5)


def test_cell_statuses_on_planted_counts():
    fails = np.array([[0, 36, 3, 0]], np.int64)
    runs = np.array([[36, 36, 36, 0]], np.int64)
    st_, lo, hi = rmap.cell_statuses(fails, runs, delta=0.1)
    assert st_.tolist() == [[HOLDS, VIOLATED, INCONCLUSIVE, VACUOUS]]
    assert lo[0, 0] > 0.9 and hi[0, 0] == 1.0 and hi[0, 1] < 0.1 and lo[0, 1] == 0.0
    assert np.isnan(lo[0, 3]) and np.isnan(hi[0, 3])
    with pytest.raises(ValueError, match="failures: expected 0 <= failures <= runs"):
        rmap.cell_statuses(np.array([[5]]), np.array([[3]]), delta=0.1)
    with pytest.raises(ValueError, match="failures, runs: expected integer arrays of one shape"):
        rmap.cell_statuses(np.array([[0.5]]), np.array([[3]]), delta=0.1)


@given(k=st.integers(0, 40), extra=st.integers(0, 40), delta=st.floats(0.01, 0.5))
def test_cell_interval_covers_the_observed_fraction_and_status_agrees_with_the_rule(
    k, extra, delta
):
    n = k + extra
    if n == 0:
        return
    s, lo, hi = rmap.cell_statuses(np.array([[k]]), np.array([[n]]), delta=delta)
    frac = (n - k) / n
    assert lo[0, 0] <= frac <= hi[0, 0]
    assert (
        s[0, 0] == rmap.stats.probability_decision(np.array([k]), np.array([n]), delta=delta).status
    )


def test_row_boundary_true_false_and_vacuous_cells():
    v = [0, 1, 10, 100, 1000]
    assert rmap.row_boundary(v, [VIOLATED, INCONCLUSIVE, HOLDS, HOLDS, HOLDS]) == {
        "onset": 10,
        "holds_until": 1000,
        "first_violated": 0,
    }
    assert rmap.row_boundary(v, [HOLDS, HOLDS, VACUOUS, VIOLATED, HOLDS]) == {
        "onset": 1000,
        "holds_until": 1,
        "first_violated": 100,
    }
    assert rmap.row_boundary(v, [VACUOUS] * 5) == {
        "onset": None,
        "holds_until": None,
        "first_violated": None,
    }
    # a VACUOUS cell between HOLDS cells is no evidence: the run of HOLDS continues across it
    assert (
        rmap.row_boundary(v, [HOLDS, VACUOUS, HOLDS, INCONCLUSIVE, VIOLATED])["holds_until"] == 10
    )
    with pytest.raises(ValueError, match="status: expected one status per value \\(5\\), got 2"):
        rmap.row_boundary(v, [HOLDS, HOLDS])


def test_panel_gates_cells_where_the_premise_is_not_met():
    fails = np.zeros((1, 3), np.int64)
    runs = np.full((1, 3), 36, np.int64)
    p = rmap.panel(
        "m", "t", [8], [0, 1, 2], fails, runs, delta=0.1, gate=np.array([[VIOLATED, HOLDS, HOLDS]])
    )
    assert p.status.tolist() == [[VACUOUS, HOLDS, HOLDS]]
    assert p.boundary["onset_every_row"] == 1 and p.boundary["per_row"]["8"]["onset"] == 1


def test_looseness_on_planted_onsets():
    lo = rmap.looseness(
        [16, 64], [100, None], [1e6, 4e6], constant=2.0, name="t_align", constant_name="c_A"
    )
    assert lo["per_width"]["16"]["decades"] == pytest.approx(4.0)
    assert lo["per_width"]["16"]["supports"] == pytest.approx(2.0 * 100 / 1e6)
    assert (
        lo["per_width"]["64"]["decades"] is None and "not observed" in lo["per_width"]["64"]["why"]
    )
    assert lo["supported"] == pytest.approx(2e-4) and lo["max_decades"] == pytest.approx(4.0)
    inf = rmap.looseness([16], [0], math.inf, constant=1.0, name="T_req", constant_name="c_T")
    assert (
        inf["per_width"]["16"]["requirement"] is None
        and "λ not resolved" in inf["per_width"]["16"]["why"]
    )


def test_calibration_rows_meet_their_standard():
    rows = calibration_regime.rows(200)
    assert {(r["rule"], r["case"]) for r in rows} == {
        (a, c)
        for a in ("regime holds_until", "regime onset")
        for c in ("true", "false", "boundary")
    }
    assert all(r["meets"] for r in rows), [
        (r["rule"], r["case"], r["rates"]) for r in rows if not r["meets"]
    ]


def test_settings_refuse_bad_values_naming_the_field():
    with pytest.raises(
        ValueError, match="widths: expected strictly increasing integers >= 2, got \\[16, 8\\]"
    ):
        regime_runs.check_settings(regime_runs.MapSettings(widths=(16, 8)))
    with pytest.raises(ValueError, match="eta_c3: expected a finite number > 0"):
        regime_runs.check_settings(regime_runs.MapSettings(eta_c3=-1.0))
    rec = regime_runs.record_times(1000, 4)
    assert rec.tolist() == [0, 1, 10, 100, 1000]


@pytest.fixture(scope="module")
def tiny_maps(tmp_path_factory):
    config = cfg.validate({"data": {"n": 8, "d": 4}})
    s = regime_runs.MapSettings(
        widths=(4, 8), seeds=3, horizon=200, records=4, weight_range=(0.01, 100.0), weight_bins=8
    )
    ck = tmp_path_factory.mktemp("ck")
    return build_maps(config, ["C1", "C2", "C3"], s, checkpoint_dir=ck), ck


def test_tiny_maps_have_the_json_keys_and_a_weight_axis_for_c3(tiny_maps, tmp_path):
    maps, ck = tiny_maps
    assert [m.claim for m in maps] == ["C1", "C2", "C3"]
    for m in maps:
        js = rmap.to_json(m)
        assert {
            "claim",
            "axes",
            "grid",
            "status",
            "interval",
            "boundary",
            "premise",
            "looseness",
        } <= set(js)
        json.dumps(js, allow_nan=False)
        for key, grid in js["grid"].items():
            shape = np.asarray(grid["runs"]).shape
            assert np.asarray(js["status"][key]).shape == shape
            assert np.asarray(js["interval"][key], dtype=float).shape == (*shape, 2)
        assert regime_plot.heatmap(m, tmp_path / f"{m.claim}.png") == f"{m.claim}.png"
        assert (tmp_path / f"{m.claim}.png").read_bytes()[:4] == b"\x89PNG"
    c3 = rmap.to_json(maps[2])
    assert set(c3["status"]) == {"m×t", "m×abs_w"} and len(c3["axes"]["abs_w"]["values"]) == 9
    assert "t_align" in c3["premise"]["curves"] and "m_conc" in c3["premise"]["curves"]
    # 3 seeds can never make a cell HOLDS (36 needed at δ = 0.1): no false HOLDS at a budget below
    # it
    assert all(s != HOLDS for row in c3["status"]["m×abs_w"] for s in row)
    assert "run --seeds 36" in c3["verdict"]["budget"]
    assert (
        len(list(ck.glob("*.npz"))) == 2 * 3 * 2
    )  # one checkpoint per width, seed and sign pattern


def test_rerun_resumes_from_checkpoints_and_gives_the_same_map(tiny_maps):
    maps, ck = tiny_maps
    config = cfg.validate({"data": {"n": 8, "d": 4}})
    s = regime_runs.MapSettings(
        widths=(4, 8), seeds=3, horizon=200, records=4, weight_range=(0.01, 100.0), weight_bins=8
    )
    again = build_maps(config, ["C3"], s, checkpoint_dir=ck)
    assert rmap.to_json(again[0]) == rmap.to_json(maps[2])


def test_map_c2_on_an_ar1_series_does_not_read_holds(tmp_path, capsys):
    rng = np.random.default_rng(5)
    u = np.zeros(300)
    for t in range(1, u.size):
        u[t] = 0.95 * u[t - 1] + rng.standard_normal()
    csv = tmp_path / "ar1.csv"
    csv.write_text("value\n" + "\n".join(f"{x:.6f}" for x in u) + "\n")
    (tmp_path / "tiny.toml").write_text(TINY)
    rc = cli.main(
        [
            "map",
            "--claims",
            "C2",
            "--config",
            str(tmp_path / "tiny.toml"),
            "--data",
            f"csv:{csv}#value",
            "--widths",
            "4,8",
            "--seeds",
            "3",
            "--horizon",
            "300",
            "--records",
            "4",
            "--out",
            str(tmp_path / "out"),
            "--json",
            "--quiet",
        ]
    )
    assert rc == 0
    js = json.loads(capsys.readouterr().out)
    assert js[0]["claim"] == "C2" and js[0]["verdict"]["status"] != HOLDS
    assert all(s != HOLDS for row in js[0]["status"]["m×t"] for s in row)
    assert (tmp_path / "out" / "map_C2.png").exists() and (tmp_path / "out" / "map.json").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--widths", "8,4"],
            "--widths: expected comma-separated integers >= 2, strictly increasing, got '8,4'",
        ),
        (
            ["--claims", "C4"],
            "--claims: expected a comma-separated list of C1, C2, C3, each once, got 'C4'",
        ),
        (["--horizon", "2.5"], "--horizon: expected a whole number of steps in [1, 1e8], got 2.5"),
        (
            ["--eta", "3"],
            "--eta: expected a fraction in (0, 1) of the stability limit 2/λ_max(H*), got 3.0",
        ),
        (["--eps", "0"], "--eps: expected a finite target loss > 0, got 0.0"),
    ],
)
def test_map_refuses_bad_flags_with_one_line(argv, message, capsys, tmp_path):
    assert cli.main(["map", "--out", str(tmp_path / "o"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"ntk-verify map: error: {message}"
    assert not (tmp_path / "o").exists()


@given(
    codes=st.lists(
        st.sampled_from([HOLDS, VIOLATED, INCONCLUSIVE, VACUOUS]), min_size=1, max_size=12
    )
)
def test_row_boundary_properties_for_any_row(codes):
    values = list(range(len(codes)))
    b = rmap.row_boundary(values, codes)
    decided = [j for j, s in enumerate(codes) if s != VACUOUS]
    if (
        b["onset"] is not None
    ):  # every decided cell from the onset on holds, and the one before it does not
        assert all(codes[j] == HOLDS for j in decided if j >= b["onset"])
        before = [j for j in decided if j < b["onset"]]
        assert not before or codes[before[-1]] != HOLDS
    else:
        assert not decided or codes[decided[-1]] != HOLDS
    if b["holds_until"] is not None:  # a contiguous run of decided HOLDS cells from the first HOLDS
        first = next(j for j in decided if codes[j] == HOLDS)
        assert all(codes[j] == HOLDS for j in decided if first <= j <= b["holds_until"])
        after = [j for j in decided if j > b["holds_until"]]
        assert not after or codes[after[0]] != HOLDS
    else:
        assert HOLDS not in codes
    assert b["first_violated"] == (codes.index(VIOLATED) if VIOLATED in codes else None)


def test_premise_placement_inside_and_beyond_the_axes():
    assert regime_plot.premise_placement(10.0, 1.0, 1e3) == ("inside", 0.0)
    assert regime_plot.premise_placement(1e40, 1.0, 1e3)[0] == "above"
    assert regime_plot.premise_placement(1e40, 1.0, 1e3)[1] == pytest.approx(37.0)
    assert regime_plot.premise_placement(1e-3, 1.0, 1e3) == ("below", pytest.approx(3.0))
    assert regime_plot.premise_placement(math.inf, 1.0, 1e3) == ("above", None)
    assert regime_plot.premise_placement(None, 1.0, 1e3) == ("above", None)


def test_map_names_the_data_flag_when_the_source_is_unknown(capsys, tmp_path):
    assert cli.main(["map", "--data", "nonsense", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ntk-verify map: error: --data: expected a family") and err.endswith(
        "got 'nonsense'"
    )


@given(scale=st.floats(0.1, 10.0), shift=st.floats(-3.0, 3.0))
def test_first_order_scale_on_planted_windows(scale, shift):
    # windows (shift, shift + scale): |x_d| range = |shift + scale| * scale, the same for every row
    X = np.tile([shift, shift + scale], (5, 1))
    if abs(shift + scale) < 1e-3:
        return
    assert regime_runs.first_order_scale(X) == pytest.approx(1.0 / (abs(shift + scale) * scale))
