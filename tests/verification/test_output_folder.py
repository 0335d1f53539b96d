"""The output folder checked before any computation, and a full disk reported in one line
(verification.files; issue 22 item 6)."""

import errno
import json
import os

import numpy as np
import pytest

from verification import files, pipeline, report
from verification.commands import _cli as cli
from verification.rules._verdict import HOLDS, Verdict


def _no_compute(*args, **kwargs):
    raise AssertionError("computed before the output folder was checked")


def _read_only(monkeypatch):
    """A read-only folder as root sees it (root ignores mode bits): creating the probe fails."""
    real = os.open

    def fake(path, flags, *rest):
        if ".ntk-verify-probe." in str(path):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(path, flags, *rest)

    monkeypatch.setattr(files.os, "open", fake)


def test_check_output_folder(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("x")
    with pytest.raises(files.ResultsError, match=r"^--out: '.*f' exists and is not a folder$"):
        files.check_output_folder(tmp_path / "f", force=False)
    with pytest.raises(
        files.ResultsError,
        match=r"^--out: '.*f/sub' cannot be created: '.*f' is a file, not a folder$",
    ):
        files.check_output_folder(tmp_path / "f" / "sub", force=True)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "a").write_text("x")
    with pytest.raises(files.ResultsError, match="is not empty; pass --force"):
        files.check_output_folder(tmp_path / "full", force=False)
    assert files.check_output_folder(tmp_path / "full", force=True) == tmp_path / "full"
    assert (
        files.check_output_folder(tmp_path / "new" / "deeper", force=False)
        == tmp_path / "new" / "deeper"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "f",
        "full",
    ]  # nothing created, no probe left
    _read_only(monkeypatch)
    for target in (
        tmp_path / "full",
        tmp_path / "new",
    ):  # the folder itself, or where it would be created
        with pytest.raises(
            files.ResultsError, match=r"^--out: '.*' is not writable \(Permission denied\)$"
        ):
            files.check_output_folder(target, force=True)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a mode-0555 folder")
def test_real_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    with pytest.raises(files.ResultsError, match="is not writable"):
        files.check_output_folder(ro, force=True)


@pytest.mark.parametrize("case", ["file", "read-only"])
def test_run_refuses_the_output_folder_before_computing(tmp_path, monkeypatch, capsys, case):
    monkeypatch.setattr(pipeline, "run_claims", _no_compute)
    monkeypatch.setattr(pipeline, "stability_report", _no_compute)
    out = tmp_path / "out"
    if case == "file":
        out.write_text("x")
    else:
        out.mkdir()
        _read_only(monkeypatch)
    assert cli.main(["run", "--claims", "C6", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1
        and err.startswith("ntk-verify run: error: --out: ")
        and "Traceback" not in err
    )


def test_full_disk_is_one_line_naming_what_was_kept(tmp_path, monkeypatch):
    v = Verdict(claim="C6", status=HOLDS, explanation="fine.", arrays={"a": np.arange(3.0)})
    config = {"run": {"seed": 0}, "data": {"source": "residual"}}
    real = report.atomic_write

    def full_at_summary(path, data):
        if os.path.basename(path) == "summary.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)

    monkeypatch.setattr(report._results, "atomic_write", full_at_summary)
    out = report.check_output_dir(tmp_path / "res", force=False)
    with pytest.raises(files.ResultsError) as info:
        report.write_results(out, [v], config, {"x64": True})
    msg = str(info.value)
    assert "\n" not in msg and "no space left on device while writing the results" in msg
    kept = msg.split("kept: ")[1].split(" (")[0].split(", ")
    assert (
        kept == sorted(p.name for p in out.iterdir())
        and "evidence.npz" in kept
        and "report.md" in kept
    )
    assert "no summary.json: the folder is not a complete run" in msg
    assert not (out / "summary.json").exists()
    json.dumps(msg)  # printable as it stands


def test_run_on_a_full_disk_exits_2_in_one_line(tmp_path, monkeypatch, capsys):
    from tests.verification.test_plugins import PLUGIN
    from verification import claims as registry

    plugin = tmp_path / "c8_plugin.py"
    plugin.write_text(PLUGIN)
    real = report.atomic_write

    def full_at_report(path, data):
        if os.path.basename(path) == "report.md":
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)

    monkeypatch.setattr(report._report, "atomic_write", full_at_report)  # report.md's writer
    saved = dict(registry.CLAIMS), dict(registry.PLUGINS)
    try:
        code = cli.main(
            [
                "run",
                "--plugin",
                str(plugin),
                "--claims",
                "C8",
                "--out",
                str(tmp_path / "o"),
                "--quiet",
            ]
        )
    finally:
        registry.CLAIMS.clear(), registry.CLAIMS.update(saved[0])
        registry.PLUGINS.clear(), registry.PLUGINS.update(saved[1])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "no space left on device while writing the results; kept: c8.png, evidence.npz" in err
