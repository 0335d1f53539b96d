"""Issue 15, items 8 and 10 and the calibrate command: `ntk-verify bounds` says where each input
comes from and takes flags; small command-line traps; `ntk-verify calibrate`."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ntk_attention as na
from verification import config as cfg
from verification.commands import _cli as cli
from verification.contract import Context

ROOT = Path(__file__).resolve().parents[2]


def _bounds(capsys, *argv):
    code = cli.main(["bounds", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_bounds_json_reports_extended_lambda_and_the_source_of_each_input(tmp_path, capsys):
    config = tmp_path / "my.toml"
    config.write_text('[C1]\neta = 0.07\neta_mode = "absolute"\n[C2]\neta = 0.5\n')
    code, out, err = _bounds(
        capsys, "--config", str(config), "--json", "--width", "512", "--sigma", "1.5"
    )
    assert code == 0, err
    s = json.loads(out)
    for key in ("n", "lambda", "lambda_error", "T_req", "t_align"):
        assert key in s, key
    assert s["n"] == 24
    assert (
        s["lambda"] is not None
        and np.isfinite(s["lambda"])
        and 0 <= s["lambda_error"] < s["lambda"]
    )
    assert s["lambda_precision"] == "extended"
    inputs = s["inputs"]
    assert inputs["eta"] == {
        "value": 0.07,
        "from": f"{config} [C1] eta",
    }  # [C1]'s, not [C2]'s 0.5, and says so
    assert inputs["width"] == {"value": 512, "from": "--width"}
    assert inputs["sigma"] == {"value": 1.5, "from": "--sigma"}
    assert inputs["n"]["from"] == f"{config} [data] n"


def test_bounds_text_lists_every_claims_own_step_size(tmp_path, capsys):
    """The calculator's η is [C1]'s; every other claim's own η is listed with its n, σ and width
    (not hidden as 'not used')."""
    config = tmp_path / "my.toml"
    config.write_text('[C1]\neta = 0.07\neta_mode = "absolute"\n\n[C2]\neta = 0.5\n')
    code, out, err = _bounds(capsys, "--config", str(config), "--n", "6")
    assert code == 0, err
    header = out.splitlines()[0]
    assert f"eta = 0.07 from {config} [C1] eta" in header
    c2 = [line for line in out.splitlines() if line.startswith("  C2: η = ")]
    assert c2 and "(relative eta = 0.5) at n = 24, σ = 1" in c2[0], out
    c1 = [line for line in out.splitlines() if line.startswith("  C1: η = 0.07 (absolute")]
    assert c1, out


def test_bounds_json_gives_the_step_size_run_trains_c1_and_c2_with(capsys):
    """`bounds --json` "claims": C1's and C2's η equal what their runs resolve (same Context
    resolver, same n and σ), on the default configuration."""
    code, out, err = _bounds(capsys, "--json")
    assert code == 0, err
    claims = json.loads(out)["claims"]
    config = cfg.default_config()
    ctx = Context(config=config, seed=config["run"]["seed"], quiet=True)
    c1, c2 = config["C1"], config["C2"]
    run_c1 = ctx.step_size(c1, sizes=c1["sizes"], sigma=c1["sigma"])
    run_c2 = ctx.step_size(c2, sizes=[config["data"]["n"]])
    assert claims["C1"][0]["eta"] == pytest.approx(run_c1, rel=1e-12)
    assert claims["C1"][0]["sigma"] == c1["sigma"] and claims["C1"][0]["n"] == max(c1["sizes"])
    assert claims["C2"][0]["eta"] == pytest.approx(run_c2, rel=1e-12)
    assert claims["C2"][0]["n"] == config["data"]["n"]
    assert all(e["eta"] < e["limit"] for e in claims["C1"] + claims["C2"])


def test_bounds_reads_a_relative_eta_as_a_fraction_of_the_stability_limit(tmp_path, capsys):
    config = tmp_path / "my.toml"
    config.write_text(
        "[C1]\neta = 0.25\n"
    )  # eta_mode = "relative" by default: η = 0.25 · 2/λ_max(H*) of C1's data
    code, out, err = _bounds(
        capsys, "--config", str(config), "--json", "--n", "6", "--width", "256"
    )
    assert code == 0, err
    eta = json.loads(out)["inputs"]["eta"]
    assert "relative: η = 0.25 · 2/λ_max(H*)" in eta["from"] and "n = 2, σ = 3" in eta["from"]
    assert (
        np.isfinite(eta["value"]) and eta["value"] > 0 and eta["value"] != 0.25
    )  # a step size, not the fraction


def test_bounds_text_names_sections_and_flags_override(capsys):
    code, out, err = _bounds(capsys, "--eta", "0.3", "--n", "6")
    assert code == 0, err
    header = out.splitlines()[0]
    assert "eta = 0.3 from --eta" in header and "n = 6 from --n" in header
    assert "sigma = 1 from built-in default [data] sigma" in header
    assert "data: n = 6" in header


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--width", "0"], "--width: expected"),
        (["--eta", "-1"], "--eta: expected"),
        (["--sigma", "nan"], "--sigma: expected"),
        (["--n", "1"], "--n: expected"),
    ],
)
def test_bounds_refuses_bad_flags_in_one_line(capsys, argv, words):
    code, _, err = _bounds(capsys, *argv)
    assert code == 2 and words in err and err.count("\n") == 1


def test_negative_values_reach_the_option_check():
    assert cli.join_negative_values(["sweep", "--widths", "-64,32", "--quiet"]) == [
        "sweep",
        "--widths=-64,32",
        "--quiet",
    ]
    assert cli.join_negative_values(["run", "--seed", "-5"]) == ["run", "--seed=-5"]
    assert cli.join_negative_values(["run", "--quiet", "-h"]) == ["run", "--quiet", "-h"]
    assert cli.join_negative_values(["--widths=-64,32"]) == ["--widths=-64,32"]


def test_negative_width_is_one_line_naming_it(tmp_path, capsys):
    """`--widths -64,32` was argparse's "expected one argument"."""
    out = tmp_path / "sw"
    assert cli.main(["sweep", "--widths", "-64,32", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "widths" in err and "-64" in err, err
    assert not out.exists()


def test_config_check_of_a_missing_file_names_check(tmp_path, capsys):
    assert cli.main(["config", "--check", str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("ntk-verify config: error: --check: cannot read") and "--config" not in err
    )


def test_claim_ids_are_case_insensitive_in_toml_as_on_the_command_line(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[run]\nclaims = ["c2", "C1"]\n')
    assert cfg.load(path)["run"]["claims"] == ["C1", "C2"]
    assert cli._parse_claims("c2,C1") == ["C2", "C1"]
    path.write_text('[run]\nclaims = ["c99"]\n')
    with pytest.raises(cfg.ConfigError, match="run.claims"):
        cfg.load(path)


def test_calibrate_is_a_subcommand(tmp_path, capsys):
    assert cli.main(["calibrate", "--quick", "--out", str(tmp_path / "cal")]) == 0
    rows = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    assert rows and (tmp_path / "cal" / "calibration.md").read_text().startswith("#")
    assert "wrote" in capsys.readouterr().out


def test_help_does_not_import_scipy_stats():
    """`ntk-verify --help` took 1.5 s more because scipy.stats was imported eagerly."""
    code = "import sys, verification.commands._cli; print('scipy.stats' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_readme_x64_comment_is_true():
    """H* is float64 whatever the x64 flag: the README must not say λ_min(H*) needs it."""
    assert "λ_min(H*) needs float64" not in (ROOT / "README.md").read_text()
    X32 = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    H = na.infinite_ntk(X32).matrix
    assert np.asarray(H).dtype == np.float64
    np.testing.assert_array_equal(
        np.asarray(H), np.asarray(na.infinite_ntk(X32.astype(np.float64)).matrix)
    )
