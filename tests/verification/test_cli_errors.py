"""One line and exit status 2, before any computation, for an unusable --out and for the flags
of a distributed sweep (no traceback from deep inside JAX or the file system)."""

import pytest

from verification.commands import main


def _one_line(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    return code, err


def test_calibrate_out_on_a_file_is_refused_before_computing(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    code, err = _one_line(capsys, ["calibrate", "--quick", "--out", str(target)])
    assert code == 2 and len(err.splitlines()) == 1 and "--out" in err, err


def test_calibrate_replicates_must_be_positive(tmp_path, capsys):
    code, err = _one_line(capsys, ["calibrate", "--replicates", "0", "--out", str(tmp_path / "c")])
    assert code == 2 and "--replicates" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "flags, named",
    [
        ([], "--coordinator-address"),
        (
            ["--num-processes", "2", "--process-id", "2", "--coordinator-address", "h:1"],
            "--process-id",
        ),
        (["--num-processes", "0", "--coordinator-address", "h:1"], "--num-processes"),
    ],
)
def test_distributed_sweep_flags_are_one_line(tmp_path, capsys, monkeypatch, flags, named):
    for key in ("JAX_COORDINATOR_ADDRESS", "SLURM_JOB_ID", "OMPI_COMM_WORLD_SIZE"):
        monkeypatch.delenv(key, raising=False)
    argv = ["sweep", "--distributed", *flags, "--out", str(tmp_path / "s"), "--widths", "8"]
    code, err = _one_line(capsys, [*argv, "--seeds", "1", "--steps", "2"])
    assert code == 2 and err.startswith("ntk-verify sweep: error: " + named), err
    assert len(err.splitlines()) == 1 and not (tmp_path / "s").exists()


@pytest.mark.parametrize("command", ["data", "bounds", "run"])
def test_a_series_whose_squares_overflow_is_refused_by_every_command(tmp_path, capsys, command):
    import numpy as np

    path = tmp_path / "big.csv"
    np.savetxt(path, np.random.default_rng(0).normal(size=200) * 1e300)
    argv = [command, "--data", f"csv:{path}"]
    if command == "run":
        argv += ["--claims", "C6", "--out", str(tmp_path / "res"), "--quiet"]
    code, err = _one_line(capsys, argv)
    assert code == 2 and "overflow" in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "res").exists()


def test_a_short_series_marks_the_claims_it_cannot_serve_before_training(tmp_path, capsys):
    """A 40-row CSV: C5 is named VACUOUS on stderr before any claim trains (its preflight)."""
    import numpy as np

    path = tmp_path / "short.csv"
    np.savetxt(path, np.random.default_rng(0).normal(size=40))
    argv = ["run", "--data", f"csv:{path}", "--claims", "C5", "--out", str(tmp_path / "r")]
    code = main([*argv, "--quiet"])
    out = capsys.readouterr()
    first = out.err.strip().splitlines()[0]
    assert code == 0 and first.startswith("ntk-verify run: warning: C5 reads VACUOUS, decided")
    assert "40 values" in first
