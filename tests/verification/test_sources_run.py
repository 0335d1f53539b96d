"""``ntk-verify run --data a,b``: one results folder with a verdict matrix, keyed evidence and
figures."""

import json

import numpy as np
import pytest

from verification import report
from verification.commands import _cli as cli
from verification.report import load_results, source_prefix, verdict_matrix
from verification.rules._verdict import HOLDS, VIOLATED, Verdict

SMALL_C5 = """
[data]
n = 6
d = 4

[C5]
width = 8
sizes = [6]
steps = [5, 20]
seeds = 2
pool = 16
test_windows = 60
"""


def _verdict(cid, status, value):  # ids of no registered claim: nothing to plot
    return Verdict(
        cid,
        status,
        f"{cid} {status}",
        measured={"x": value},
        arrays={"a": np.array([value, 2 * value])},
    )


def test_several_sources_summary_evidence_and_round_trip(tmp_path):
    """Constructed verdicts (no claim runs): each verdict keeps its source, its arrays and its place
    in the matrix."""
    vs = [
        _verdict("C90", HOLDS, 1.0),
        _verdict("C95", VIOLATED, 2.0),
        _verdict("C90", VIOLATED, 3.0),
        _verdict("C95", HOLDS, 4.0),
    ]
    sources = ["sunspots", "sunspots", "csv:d/x.csv#v", "csv:d/x.csv#v"]
    config = {"run": {"seed": 0}, "data": {"source": "sunspots"}}
    report.write_results(
        tmp_path,
        vs,
        config,
        {"x64": True},
        data_sources=sources,
        data_configs={
            "sunspots": {"source": "sunspots"},
            "csv:d/x.csv#v": {"source": "csv:d/x.csv#v"},
        },
    )
    summary, back = load_results(tmp_path)
    assert summary["data_sources"] == ["sunspots", "csv:d/x.csv#v"]
    assert summary["matrix"] == {
        "C90": {"sunspots": HOLDS, "csv:d/x.csv#v": VIOLATED},
        "C95": {"sunspots": VIOLATED, "csv:d/x.csv#v": HOLDS},
    }
    assert [v["data_source"] for v in summary["verdicts"]] == sources
    assert summary["claims"] == ["C90", "C95"]
    assert back == vs  # arrays included: keys C90@0/a ... do not collide
    with np.load(tmp_path / "evidence.npz") as npz:
        assert sorted(npz.files) == ["C90@0/a", "C90@1/a", "C95@0/a", "C95@1/a"]
    table = verdict_matrix(back, sources)
    assert table.splitlines()[0] == "| Claim | Statement | `sunspots` | `csv:d/x.csv#v` |"
    assert "| C90 |" in table and "**HOLDS** / — | **VIOLATED** / — |" in table
    assert source_prefix("csv:d/x.csv#v") == "csv-d-x.csv-v_"


def test_single_source_layout_is_unchanged_but_for_data_source(tmp_path):
    vs = [_verdict("C90", HOLDS, 1.0)]
    report.write_results(
        tmp_path, vs, {"run": {"seed": 0}, "data": {"source": "residual"}}, {"x64": True}
    )
    summary, back = load_results(tmp_path)
    assert "matrix" not in summary and "data_sources" not in summary
    assert summary["verdicts"][0]["data_source"] == "residual"
    assert set(summary["verdicts"][0]) - {"data_source"} == set(vs[0].to_dict(include_arrays=False))
    with np.load(tmp_path / "evidence.npz") as npz:
        assert npz.files == ["C90/a"]
    assert back == vs


def test_run_data_sunspots_nile_writes_a_verdict_matrix(tmp_path, capsys):
    pytest.importorskip("statsmodels")
    conf = tmp_path / "c.toml"
    conf.write_text(SMALL_C5)
    out = tmp_path / "out"
    code = cli.main(
        [
            "run",
            "--config",
            str(conf),
            "--data",
            "sunspots,nile",
            "--claims",
            "C5",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["data_sources"] == ["sunspots", "nile"]
    assert set(summary["matrix"]["C5"]) == {"sunspots", "nile"}
    assert [v["data_source"] for v in summary["verdicts"]] == ["sunspots", "nile"]
    assert summary["data_configs"]["nile"]["source"] == "nile"
    for v in summary["verdicts"]:  # each verdict trained on its own source's data
        assert v["config"].get("data", {}).get("source", v["data_source"]) == v["data_source"]
    assert (out / "sunspots_c5_ood_risk.png").is_file() and (out / "nile_c5_ood_risk.png").is_file()
    text = (out / "report.md").read_text()
    assert (
        text.index("Verdict matrix")
        < text.index("## Data source `sunspots`")
        < text.index("## Data source `nile`")
    )
    # re-rendered from the saved results, figures included
    for png in out.glob("*.png"):
        png.unlink()
    assert cli.main(["report", str(out)]) == 0
    assert (out / "report.md").read_text() == text
    assert (out / "nile_c5_ood_risk.png").is_file()


@pytest.mark.parametrize(
    "data, words",
    [
        ("sunspots,sunspots", "--data: each source once"),
        ("nope", "--data: expected a family"),
        ("csv:{tmp}/missing.csv", "missing.csv: no such file"),
        ("nile", "nile: the series has 100 values"),
    ],
)
def test_run_refuses_bad_sources_in_one_line_and_writes_nothing(tmp_path, capsys, data, words):
    conf = tmp_path / "c.toml"
    conf.write_text(
        SMALL_C5.replace("n = 6", "n = 97")
    )  # nile: n + d = 101 values needed, 100 there
    out = tmp_path / "out"
    code = cli.main(
        [
            "run",
            "--config",
            str(conf),
            "--data",
            data.format(tmp=tmp_path),
            "--claims",
            "C5",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and words in err[0], err
    assert not out.exists()


def test_a_source_that_cannot_serve_a_claim_makes_its_cell_vacuous(tmp_path, capsys):
    """An alternating series has no sign-consistent window (sign y = -sign x_d): C5 cannot train on
    it; its cell is VACUOUS naming the source and the count, and the other source's cell is
    decided."""
    conf = tmp_path / "c.toml"
    conf.write_text(SMALL_C5)
    k = np.arange(200)
    csv = tmp_path / "alt.csv"
    csv.write_text("v\n" + "\n".join(f"{(-1.0) ** i * (1 + 0.01 * (i % 7)):.4f}" for i in k) + "\n")
    out = tmp_path / "out"
    src = f"csv:{csv}#v"
    code = cli.main(
        [
            "run",
            "--config",
            str(conf),
            "--data",
            f"{src},residual",
            "--claims",
            "C5",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["matrix"]["C5"][src] == "VACUOUS"
    v, other = summary["verdicts"]
    assert (
        other["data_source"] == "residual" and "cannot serve" not in other["explanation"]
    )  # ran on its data
    assert other["measured"]
    assert v["data_source"] == src
    assert (
        f"{src}: only 0 sign-consistent windows among C5.pool = 16, C5.sizes needs 6"
        in v["explanation"]
    )
    assert v["parts"][0]["role"] == "premise"


def test_sizes_beyond_the_pool_are_still_a_configuration_error(tmp_path, capsys):
    conf = tmp_path / "c.toml"
    conf.write_text(SMALL_C5.replace("sizes = [6]", "sizes = [20]"))
    assert (
        cli.main(
            [
                "run",
                "--config",
                str(conf),
                "--claims",
                "C5",
                "--out",
                str(tmp_path / "o"),
                "--quiet",
            ]
        )
        == 2
    )
    assert "C5.sizes: expected sizes <= C5.pool = 16, got 20" in capsys.readouterr().err
