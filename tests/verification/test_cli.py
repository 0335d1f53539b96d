"""`ntk-verify` end to end on a tiny configuration, and its refusals."""

import hashlib
import json
import subprocess
import sys
import textwrap
import tomllib

import numpy as np
import pytest

from verification import config as cfg
from verification.commands import _cli as cli
from verification.report import FORMAT, load_results

TINY = """
[run]
claims = ["C1", "C2", "C3", "C4", "C5"]

[data]
n = 6
d = 4
state_dim = 3

[C1]
widths = [8, 16, 32]
seeds = 2
steps = 20
record_every = 5
sizes = [6]
mechanism_sources = ["data"]
mechanism_n = 6
mechanism_widths = [8, 16, 32]
mechanism_seeds = 2
mechanism_steps = 10
mechanism_record_every = 5

[C2]
widths = [8, 16, 32]
seeds = 2
steps = 20
records = 4

[C3]
widths = [8]
seeds = 2
steps = 20
records = 4

[C4]
widths = [8, 16, 32]
seeds = 2
steps = 20
record_every = 5

[C5]
width = 8
sizes = [6]
steps = [5, 20]
seeds = 2
pool = 64
test_windows = 24
"""
FIGURES = [
    "c1_loss_envelope.png",
    "c2_sign_agreement.png",
    "c3_last_token_mass.png",
    "c4_ntk_width.png",
    "c5_ood_risk.png",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One subprocess (float64 stays out of this test process): run twice, re-render, bounds."""
    d = tmp_path_factory.mktemp("cli")
    (d / "tiny.toml").write_text(TINY)
    script = textwrap.dedent(f"""
        import contextlib, io, shutil, sys
        from verification.commands._cli import main
        d = {str(d)!r}
        assert main(["run", "--config", d + "/tiny.toml", "--out", d + "/a", "--quiet"]) == 0
        assert main(["run", "--config", d + "/tiny.toml", "--out", d + "/b", "--quiet"]) == 0
        shutil.copytree(d + "/a", d + "/c")
        (lambda p: p.write_bytes(b""))(__import__("pathlib").Path(d + "/c/report.md"))
        assert main(["report", d + "/c"]) == 0
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(["bounds", "--config", d + "/tiny.toml"]) == 0
        open(d + "/bounds.txt", "w").write(buf.getvalue())
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return d, proc.stdout


def test_run_writes_every_file(runs):
    d, stdout = runs
    out = d / "a"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["summary.json", "evidence.npz", "report.md", "timing.json", *FIGURES]
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["format"] == FORMAT and summary["claims"] == ["C1", "C2", "C3", "C4", "C5"]
    for v in summary["verdicts"]:
        assert v["status"] in ("HOLDS", "VIOLATED", "VACUOUS", "INCONCLUSIVE")
        assert v["explanation"] and v["measured"] and v["tested_range"] and v["seed"] == 0
    env = summary["environment"]
    assert (
        env["x64"] is True
        and env["dtype"] == "float64"
        and env["jax_devices"]
        and env["packages"]["jax"]
    )
    assert summary["config"]["C1"]["widths"] == [8, 16, 32]
    raw = (out / "evidence.npz").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == summary["evidence_sha256"]
    with np.load(out / "evidence.npz", allow_pickle=False) as npz:
        assert "C1/loss_n6" in npz.files and npz["C1/loss_n6"].shape == (3, 2, 5)
    for fig in FIGURES:
        assert (out / fig).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text()
    assert report.index("| Claim |") < report.index("## C1")
    for fig in FIGURES:
        assert f"]({fig})" in report
    for line in ("C1 linear convergence", "C5 OOD risk"):
        assert line in stdout
    timing = json.loads((out / "timing.json").read_text())
    assert timing["wall_seconds"] > 0
    per_claim = {e["claim"]: e["seconds"] for e in timing["claims"]}
    assert list(per_claim) == ["C1", "C2", "C3", "C4", "C5"] and all(
        0 < s <= timing["wall_seconds"] for s in per_claim.values()
    )
    assert "time per claim (wall, compiles included): C1 " in stdout


def test_same_config_and_seed_byte_identical(runs):
    d, _ = runs
    for name in ("summary.json", "evidence.npz", "report.md"):
        assert (d / "a" / name).read_bytes() == (d / "b" / name).read_bytes(), name


def test_report_rerenders_from_saved_results(runs):
    d, _ = runs
    assert (d / "c" / "report.md").read_bytes() == (d / "a" / "report.md").read_bytes()
    summary, verdicts = load_results(d / "a")
    assert [v.claim for v in verdicts] == summary["claims"]
    assert verdicts[0].arrays["loss_n6"].shape == (3, 2, 5)


def test_bounds_prints_every_constant(runs):
    d, _ = runs
    text = (d / "bounds.txt").read_text()
    for name in (
        "lambda ",
        "lambda_resolution",
        "eta_stability_limit",
        "T_req",
        "t_align",
        "m_conc",
        "B ",
        "D ",
        "v_min",
    ):
        assert name in text
    assert (
        "(c_T = 2)" in text and "(c_A = 1)" in text
    )  # C1.c_T defaults to 2 (the envelope rate is ηλ/2)


def test_tampered_results_refused(runs, tmp_path, capsys):
    d, _ = runs
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(d / "a", bad)
    with open(bad / "evidence.npz", "ab") as fh:
        fh.write(b"x")
    assert cli.main(["report", str(bad)]) == 2
    assert "SHA-256" in capsys.readouterr().err
    (bad / "summary.json").write_text((d / "a" / "summary.json").read_text()[:100])
    assert cli.main(["report", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not valid JSON" in err and "Traceback" not in err


def test_refusals_exit_2_with_one_line(tmp_path, capsys):
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("x")
    assert cli.main(["run", "--out", str(full)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (full / "keep.txt").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text("[C1]\nwidths = [8, 4]\n")
    assert cli.main(["run", "--config", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "C1.widths: expected" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
    assert cli.main(["run", "--claims", "C1,C99", "--out", str(tmp_path / "o")]) == 2
    assert "--claims: expected a comma-separated list of C1" in capsys.readouterr().err
    assert cli.main(["report", str(tmp_path / "nothing")]) == 2


def test_config_default_prints_valid_toml(capsys):
    assert cli.main(["config", "--default"]) == 0
    text = capsys.readouterr().out
    assert tomllib.loads(text) == cfg.default_config()
