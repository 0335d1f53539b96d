"""verification.report._report.atomic_write: files readable as the umask allows
(issue 15 item 5)."""

import os
import stat

import pytest

from verification.report import atomic_write


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_honours_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        atomic_write(tmp_path / "new.txt", "x")
        (tmp_path / "old.bin").write_bytes(b"old")
        atomic_write(tmp_path / "old.bin", b"new")  # replacing an existing file
    finally:
        os.umask(old)
    for name, content in (("new.txt", b"x"), ("old.bin", b"new")):
        assert (tmp_path / name).read_bytes() == content
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode  # 0666 & ~umask, like open()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.txt", "old.bin"]  # no temporary left


def test_atomic_write_failure_leaves_no_temporary(tmp_path):
    with pytest.raises(TypeError):
        atomic_write(tmp_path / "f", 3.5)  # neither bytes nor str
    assert list(tmp_path.iterdir()) == []


def test_every_writer_goes_through_files(tmp_path):
    """One home for writing files (issue 23): calibration's files and figures are 0644 under umask
    022 (calibration once used mkstemp: 0600), and no module but verification/files.py opens a
    temporary, saves a figure or lays out JSON for a file itself."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from verification import files
    from verification.calibration import _table as calibration

    old = os.umask(0o022)
    try:
        calibration.write_calibration(tmp_path / "cal", [])
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 0])
        assert files.save_figure(fig, tmp_path / "f.png") == "f.png"
    finally:
        os.umask(old)
    for path in (
        tmp_path / "cal" / "calibration.json",
        tmp_path / "cal" / "calibration.md",
        tmp_path / "f.png",
    ):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    root = Path(__file__).resolve().parents[2] / "verification"
    offenders = [
        f"{p.relative_to(root)}: {word}"
        for p in sorted(root.rglob("*.py"))
        if p.name != "files.py"
        for word in ("mkstemp", ".savefig(", "np.savez(", "sort_keys=True) +", "indent=1")
        if word in p.read_text(encoding="utf-8")
    ]
    assert offenders == [], offenders
