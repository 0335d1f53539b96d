"""JAX's persistent compilation cache: on by default for ``ntk-verify``, one folder per machine
key, ``NTK_VERIFY_CACHE=off`` turns it off, and a second run loads what the first compiled."""

import os
import subprocess
import sys

from verification.commands._shared import compilation_cache_dir

RUN = "import sys; from verification.commands import main; sys.exit(main(sys.argv[1:]))"


def test_cache_folder_follows_the_environment(tmp_path):
    assert compilation_cache_dir({"NTK_VERIFY_CACHE": "off"}) is None
    own = compilation_cache_dir({"NTK_VERIFY_CACHE": str(tmp_path)})
    assert own.parent == tmp_path
    default = compilation_cache_dir({"XDG_CACHE_HOME": str(tmp_path)})
    assert default.parent == tmp_path / "ntk-attention" / "jax"
    other_flags = compilation_cache_dir({"XDG_CACHE_HOME": str(tmp_path), "XLA_FLAGS": "--x"})
    assert other_flags != default  # programs compiled under other XLA flags are never loaded


def test_a_second_run_finds_the_programs_of_the_first(tmp_path):
    env = {**os.environ, "NTK_VERIFY_CACHE": str(tmp_path / "cache")}
    argv = [sys.executable, "-c", RUN, "bounds", "--n", "4", "--width", "8", "--json"]
    first = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    entries = {p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()}
    assert entries, "the first run wrote no compiled program"
    second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout  # the same numbers from cached programs
    again = {p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()}
    assert again == entries or len(again - entries) < len(entries)
