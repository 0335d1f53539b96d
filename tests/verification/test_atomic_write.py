"""verification.report.atomic_write: files readable as the umask allows (issue 15 item 5)."""

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
