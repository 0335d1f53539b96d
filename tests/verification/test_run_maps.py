"""`ntk-verify run --maps` / ``[run] maps``: regime maps as a section of the run's report
(tiny sizes)."""

import json

import pytest

from verification import config as cfg
from verification.commands import _cli as cli
from verification.regime import _report as regime_report
from verification.regime import _runs as regime_runs

TINY = """
[run]
claims = ["C3"]

[data]
n = 8
d = 4

[C3]
widths = [8, 16]
seeds = 2
steps = 200
records = 6
"""
SMALL_MAP = regime_runs.MapSettings(
    widths=(4, 8), seeds=3, horizon=200, records=4, weight_range=(0.01, 100.0), weight_bins=8
)


@pytest.fixture(scope="module")
def mapped_run(tmp_path_factory):
    """One tiny `run --maps C3` (map settings shrunk: MapSettings() gives SMALL_MAP)."""
    mp = pytest.MonkeyPatch()
    mp.setattr(regime_runs, "MapSettings", lambda: SMALL_MAP)
    d = tmp_path_factory.mktemp("run_maps")
    (d / "tiny.toml").write_text(TINY)
    try:
        rc = cli.main(
            [
                "run",
                "--config",
                str(d / "tiny.toml"),
                "--maps",
                "c3",
                "--out",
                str(d / "out"),
                "--quiet",
            ]
        )
    finally:
        mp.undo()
    return rc, d / "out"


def test_run_maps_writes_map_json_png_and_a_report_section(mapped_run, capsys):
    rc, out = mapped_run
    assert rc == 0
    js = json.loads((out / "map.json").read_text())
    assert [m["claim"] for m in js] == ["C3"]
    assert (out / "map_C3.png").read_bytes()[:4] == b"\x89PNG"
    assert list((out / "checkpoints").glob("*.npz"))  # resumable, as `ntk-verify map`
    summary = json.loads((out / "summary.json").read_text())
    assert summary["maps"] == [
        {"claim": "C3", "status": js[0]["verdict"]["status"], "figure": "map_C3.png"}
    ]
    assert summary["config"]["run"]["maps"] == ["C3"] and summary["claims"] == ["C3"]
    md = (out / "report.md").read_text()
    section = md[md.index("## Regime maps") :]
    assert md.index("## C3:") < md.index("## Regime maps")
    assert "![C3 regime map](map_C3.png)" in section
    for words in (
        "- m×t: onset at every width",
        "- m×abs_w: onset at every width",
        "- at the horizon: ",
        "- looseness: ",
        "- scale: ",
        "- budget: ",
    ):
        assert words in section


def test_report_rerenders_the_maps_section_from_map_json(mapped_run, capsys, monkeypatch):
    rc, out = mapped_run
    before = (out / "report.md").read_text()
    monkeypatch.setattr(regime_report, "build_maps", None)  # nothing is recomputed
    (out / "report.md").unlink()
    assert cli.main(["report", str(out)]) == 0
    assert (out / "report.md").read_text() == before


def test_a_map_of_a_claim_without_one_is_refused_in_one_line(capsys, tmp_path):
    assert cli.main(["run", "--maps", "C4", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err == "ntk-verify run: error: --maps: expected a comma-separated list of C1, C2, C3 "
        "(the claims with a regime map), got 'C4'"
    )
    assert not (tmp_path / "o").exists()
    with pytest.raises(
        cfg.ConfigError,
        match=r"^run\.maps: expected a list of claim ids with a regime map \(C1, C2, "
        r"C3\), e\.g\. \['C3'\], got \['C6'\]$",
    ):
        cfg.validate({"run": {"maps": ["C6"]}})
    assert cfg.validate({"run": {"maps": ["c3", "C1"]}})["run"]["maps"] == ["C1", "C3"]
    assert cfg.default_config()["run"]["maps"] == []


def test_default_run_has_no_maps_section(tmp_path, capsys):
    (tmp_path / "tiny.toml").write_text(TINY)
    assert (
        cli.main(
            [
                "run",
                "--config",
                str(tmp_path / "tiny.toml"),
                "--out",
                str(tmp_path / "o"),
                "--quiet",
            ]
        )
        == 0
    )
    assert "## Regime maps" not in (tmp_path / "o" / "report.md").read_text()
    assert "maps" not in json.loads((tmp_path / "o" / "summary.json").read_text())
    assert (
        not (tmp_path / "o" / "map.json").exists() and not (tmp_path / "o" / "checkpoints").exists()
    )
