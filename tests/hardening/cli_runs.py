"""Running ``ntk-verify`` in subprocesses for the hardening tests: tiny configurations, kills.

Every subprocess shares one persistent JAX compilation cache (per test session), so only the
first run of each configuration compiles; the cache holds compiled programs, never results.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

TINY_RUN = """\
[run]
claims = ["C3"]

[data]
n = 6
d = 4
state_dim = 3

[C3]
widths = [8]
seeds = 2
steps = 4
records = 2
"""

TINY_SWEEP = """\
[data]
n = 6
d = 4
state_dim = 3

[sweep]
widths = [4, 8]
seeds = 6
steps = 4
record_every = 2
"""

ENTRY = "import sys; from verification.commands._cli import main; sys.exit(main(sys.argv[1:]))"


def environment(cache: Path) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "JAX_PLATFORMS": "cpu",
            "JAX_COMPILATION_CACHE_DIR": str(cache),
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
            "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1",
            "MPLBACKEND": "Agg",
        }
    )
    return env


def start(args: list[str], cache: Path, cwd: Path) -> subprocess.Popen:
    """``ntk-verify ARGS`` as a child process (its own process group, so SIGKILL takes it whole)."""
    return subprocess.Popen(
        [sys.executable, "-c", ENTRY, *args],
        cwd=cwd,
        env=environment(cache),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def run(
    args: list[str], cache: Path, cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess:
    proc = start(args, cache, cwd)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def kill_at(
    proc: subprocess.Popen, *, after: float | None = None, when=None, poll: float = 0.002
) -> str:
    """SIGKILL ``proc``'s process group ``after`` seconds, or as soon as ``when()`` is true; returns
    how it ended (``"killed"`` or ``"finished"`` if it exited first)."""
    t0 = time.monotonic()
    while proc.poll() is None:
        if (after is not None and time.monotonic() - t0 >= after) or (when is not None and when()):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return "killed"
        time.sleep(poll)
    proc.communicate()
    return "finished"
