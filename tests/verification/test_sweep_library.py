"""The sweep library's own homes (issue 23) and its failures off the happy path
(issue 22 items 6-8): the output check before any work, a full disk in one line, Ctrl-C as exit 130,
and a distributed start whose peer never comes as one line naming the coordinator and the missing
process ids."""

import errno
import os
import socket
import stat
import subprocess
import sys

import numpy as np
import pytest

from verification import config as cfg
from verification import files
from verification.commands import _cli as cli
from verification.sweeps import hosts, watchdog


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_output_folder_check_refuses_a_file_and_what_lies_below_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(
        files.OutputError, match=r"^--out: expected a folder, got .*which is a file$"
    ):
        files.check_output_folder(tmp_path / "f")
    with pytest.raises(
        files.OutputError, match=r"^--out: expected a folder, .* below .*which is a file$"
    ):
        files.check_output_folder(tmp_path / "f" / "deeper" / "out")
    assert (
        files.check_output_folder(tmp_path / "new" / "out") == tmp_path / "new" / "out"
    )  # created later, by the writer
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "f"
    ]  # the probe left nothing, created nothing


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root writes into a 0555 folder: the refusal cannot show"
)
def test_output_folder_check_refuses_a_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(files.OutputError, match="is not writable"):
            files.check_output_folder(ro / "out")
    finally:
        ro.chmod(0o755)


def test_a_full_disk_is_one_line_saying_what_was_kept(tmp_path, monkeypatch):
    target = tmp_path / "summary.json"
    target.write_text("old")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(files.OutputError) as err:
        files.atomic_write(target, "new" * 100)
    assert "no space left on device (300 bytes to write); the earlier file there is kept" in str(
        err.value
    )
    assert "\n" not in str(err.value) and target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]  # no temporary left
    monkeypatch.setattr(
        os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.EIO, "I/O error"))
    )
    with pytest.raises(
        OSError, match="I/O error"
    ):  # other errors are not dressed up as a full disk
        files.atomic_write(tmp_path / "x", "y")


@pytest.mark.parametrize("command", [["run", "--claims", "C4"], ["sweep", "--seeds", "1"]])
def test_run_and_sweep_refuse_an_output_file_before_any_work(
    tmp_path, capsys, command, monkeypatch
):
    (tmp_path / "f").write_text("x")
    from verification import pipeline, sweeps

    def never(*a, **k):
        raise AssertionError("computed before the output check")

    monkeypatch.setattr(pipeline, "run_claims", never)
    monkeypatch.setattr(sweeps.plan, "stability_warning", never)
    assert cli.main([*command, "--out", str(tmp_path / "f"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--out: expected a folder" in err and "which is a file" in err


_INTERRUPTED = """
import os, signal, sys, time
from verification.sweeps import watchdog
def work():
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(30)
watchdog.interruptible(work, "interrupted; blocks kept")
sys.exit(0)
"""


def test_ctrl_c_ends_with_130_and_says_what_was_kept():
    proc = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == watchdog.INTERRUPT_EXIT == 130, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1] == "interrupted; blocks kept"


def test_missing_words_name_the_processes_not_confirmed():
    assert hosts.missing_words(0, 4) == "not every one of process ids 1, 2, 3 joined"
    assert hosts.missing_words(2, 4) == "process id 0 (the coordinator) did not answer"
    assert hosts.missing_words(None, None) == "process ids unknown (taken from the environment)"
    assert hosts.missing_words(0, 1) == "none expected"


def test_connect_refuses_flags_without_distributed_and_a_bad_timeout():
    with pytest.raises(
        cfg.ConfigError, match="^--coordinator-address/--num-processes/--process-id: only with"
    ):
        hosts.connect(distributed=False, num_processes=2)
    hosts.connect(distributed=False)  # nothing to join
    with pytest.raises(cfg.ConfigError, match="^--connect-timeout: expected seconds > 0, got 0"):
        hosts.connect(
            distributed=True,
            coordinator_address="127.0.0.1:1",
            num_processes=2,
            process_id=1,
            timeout=0,
        )


def test_a_peer_that_never_starts_is_one_line_and_exit_2(tmp_path):
    """Process 1 of 2 whose coordinator never starts: after --connect-timeout, one line naming the
    coordinator and the process not confirmed, exit 2 (not JAX's C++ abort minutes later)."""
    address = f"127.0.0.1:{_free_port()}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "verification.commands",
            "sweep",
            "--distributed",
            "--coordinator-address",
            address,
            "--num-processes",
            "2",
            "--process-id",
            "1",
            "--connect-timeout",
            "3",
            "--out",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == hosts.CONNECT_EXIT == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if "ntk-verify sweep: error:" in line]
    assert (
        len(lines) == 1
        and f"coordinator {address}" in lines[0]
        and "process id 0 (the coordinator)" in lines[0]
    )
    assert "--connect-timeout = 3 s" in lines[0] and "Check failure" not in proc.stderr


def test_lambda_min_is_one_answer_in_data_bounds_and_sweep(tmp_path, capsys):
    """λ_min(H*) below float64 resolution (n = 12 windows of the residual family): `data`, `bounds`
    and the sweep's report give the same extended-precision value (issue 22 item 4), each with
    --data."""
    import json
    import re

    path = tmp_path / "c.toml"
    path.write_text(
        "[data]\nn = 12\n[sweep]\nwidths = [4, 8]\nseeds = 1\nsteps = 2\nrecord_every = 1\n"
    )
    assert cli.main(["data", "--config", str(path), "--data", "residual", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert cli.main(["bounds", "--config", str(path), "--data", "residual", "--json"]) == 0
    theory = json.loads(capsys.readouterr().out)
    assert (
        data["lambda_precision"] == theory["lambda_precision"] == "extended"
    )  # float64 cannot resolve it here
    assert data["lambda_min"] == theory["lambda"] and data["lambda_error"] == theory["lambda_error"]
    assert (
        cli.main(
            [
                "sweep",
                "--config",
                str(path),
                "--data",
                "residual",
                "--out",
                str(tmp_path / "s"),
                "--quiet",
            ]
        )
        == 0
    )
    capsys.readouterr()
    text = (tmp_path / "s" / "report.md").read_text()
    got = re.search(r"λ_min\(H\*\) = (\S+) ± (\S+) \(extended; float64 resolution", text)
    assert got, text
    assert abs(float(got.group(1)) - data["lambda_min"]) <= 5e-4 * abs(
        data["lambda_min"]
    )  # printed to 4 digits
    assert "indistinguishable" not in text and "resolved" in text


def test_the_sweep_section_is_known_without_any_command_or_parser():
    """[sweep] is one of config's explicit sections: a fresh interpreter that imports neither the
    command line nor the sweep library validates it (it used to be registered by importing
    verification.sweep_cmd)."""
    code = (
        "import sys\nfrom verification import config as cfg\n"
        "c = cfg.loads('[sweep]\\neta = 0.2\\nwidths = [4, 8]\\n')\n"
        "assert not any(m.startswith(('verification.sweep', 'verification.commands', "
        "'verification.commands._cli')) "
        "for m in sys.modules), sorted(m for m in sys.modules if m.startswith('verification'))\n"
        "print(c['sweep']['eta'], c['sweep']['eta_mode'], c['sweep']['widths'])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["0.2", "absolute", "[4,", "8]"]
    with pytest.raises(
        cfg.ConfigError,
        match=r"^sweep\.seeds: expected a multiple of sweep\.seeds_per_block = 2, got 3$",
    ):
        cfg.loads("[sweep]\nseeds = 3\nseeds_per_block = 2\n")


def test_report_rerenders_a_sweep_folder_in_a_fresh_process(tmp_path):
    """Nothing registers itself at import: `from verification import report` alone re-renders a
    sweep folder (the sweep's section is in report.SECTIONS, an explicit tuple)."""
    from tests.hardening.cli_runs import TINY_SWEEP
    from verification import sweeps as sc

    (tmp_path / "tiny.toml").write_text(TINY_SWEEP.replace("seeds = 6", "seeds = 2"))
    config = sc.resolve_config(str(tmp_path / "tiny.toml"))
    out = tmp_path / "sweep"
    sc.run_sweep(config, out, log=None)
    sc.merge(out)
    code = (
        "import sys; from verification import report; "
        f"print(report.rerender({str(out)!r})); "
        "print(any(m.startswith('verification.sweeps.resume') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "sweep" in (out / "report.md").read_text(encoding="utf-8").lower()


def test_report_and_a_merge_from_copied_blocks_give_the_sweeps_own_data(tmp_path):
    """`ntk-verify report` on copied blocks rebuilds the windows and targets exactly as the sweep
    did (same machine: bit for bit), and λ as `sweep` printed it — also from a process whose
    float mode differs (the data are rebuilt under the sweep's recorded x64 flag)."""
    import shutil

    from tests.hardening.cli_runs import TINY_SWEEP
    from verification import sweeps as sc

    (tmp_path / "tiny.toml").write_text(TINY_SWEEP.replace("seeds = 6", "seeds = 2"))
    config = sc.resolve_config(str(tmp_path / "tiny.toml"))
    out = tmp_path / "sweep"
    sc.run_sweep(config, out, log=None)
    sc.merge(out)
    copy = tmp_path / "copy"
    copy.mkdir()
    for part in ("blocks", "shards"):
        shutil.copytree(out / part, copy / part)
    shutil.copy(out / "sweep.json", copy / "sweep.json")
    done = subprocess.run(
        [sys.executable, "-m", "verification.commands", "report", str(copy)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    ours, theirs = np.load(out / "sweep.npz"), np.load(copy / "sweep.npz")
    for key in ("windows", "targets"):
        np.testing.assert_array_equal(theirs[key], ours[key])
    lam = [ln for ln in (copy / "report.md").read_text().splitlines() if "λ_min(H*)" in ln]
    assert lam, "report.md names λ_min(H*)"
    (copy / "sweep.npz").unlink()
    code = (
        "import jax; jax.config.update('jax_enable_x64', False)\n"
        "from verification import report\n"
        f"report.rerender({str(copy)!r})\n"
    )
    float32 = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert float32.returncode == 0, float32.stderr
    again = np.load(copy / "sweep.npz")
    for key in ("windows", "targets"):
        np.testing.assert_array_equal(again[key], ours[key])
    assert [ln for ln in (copy / "report.md").read_text().splitlines() if "λ_min(H*)" in ln] == lam
