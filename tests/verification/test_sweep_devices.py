"""Stress: `ntk-verify sweep` on 2, 4 and 8 simulated CPU devices, repeated, equals the 1-device
sweep.

Issue 16: on several CPU devices the sweep hung intermittently (batched LAPACK eigh inside the
compiled program blocked every thread of XLA's intra-op pool). Each device count runs in its own
subprocess (the device count is fixed when JAX starts) with a timeout and the sweep's own watchdog:
the issue's command once at full size (widths 32…256, 8 seeds, 20 steps), then repetitions of the
same compiled program into fresh folders; every sweep.npz must equal the 1-device one to 1e-12.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
ARGS = ["--widths", "32,64,128,256", "--seeds", "8", "--steps", "20"]
REPEATS = 4  # full-size sweeps per device count; after the first they reuse the compiled program

_SCRIPT = """
import json, sys, time
from verification.commands import _cli as cli
base, repeats, args = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
for r in range(repeats):
    code = cli.main(["sweep", *args, "--out", f"{base}/r{r}", "--quiet", "--block-timeout", "120"])
    assert code == 0, code
"""


def test_sweeps_on_2_4_8_devices_finish_every_time_and_equal_one_device(tmp_path):
    procs = {}
    for count in (1, 2, 4, 8):
        env = dict(
            os.environ,
            XLA_FLAGS=f"--xla_force_host_platform_device_count={count}",
            JAX_PLATFORMS="cpu",
            JAX_ENABLE_X64="1",
            PYTHONPATH=str(REPO),
        )
        repeats = 1 if count == 1 else REPEATS
        procs[count] = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _SCRIPT,
                str(tmp_path / f"d{count}"),
                str(repeats),
                json.dumps(ARGS),
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    try:
        for count, proc in procs.items():
            _, err = proc.communicate(timeout=400)
            assert proc.returncode == 0, f"{count} devices: exit {proc.returncode}\n{err[-3000:]}"
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    with np.load(tmp_path / "d1" / "r0" / "sweep.npz", allow_pickle=False) as npz:
        ref = {k: npz[k] for k in npz.files}
    assert ref["loss"].shape == (4, 8, 3) and np.isfinite(ref["loss"]).all()
    for count in (2, 4, 8):
        for r in range(REPEATS):
            folder = tmp_path / f"d{count}" / f"r{r}"
            head = json.loads((folder / "sweep.json").read_text())
            assert head["complete"] and head["layout"] == ["runs"], head["layout"]
            assert head["processes"][0]["layout"]["devices"] == count
            with np.load(folder / "sweep.npz", allow_pickle=False) as npz:
                assert sorted(npz.files) == sorted(ref)
                for k, v in ref.items():
                    np.testing.assert_allclose(
                        npz[k], v, rtol=1e-12, atol=1e-12, err_msg=f"{count} devices, {k}"
                    )
