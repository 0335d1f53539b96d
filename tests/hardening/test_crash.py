"""Crash consistency and determinism of ``ntk-verify run`` and ``ntk-verify sweep``.

Each command is killed with SIGKILL five times, at random moments and at the moments files are
being written (a temporary file appears). After every kill, whatever the folder holds is
read back the way the toolkit reads it: it must be refused as incomplete, or be complete and equal
to an uninterrupted run. A final rerun must then give exactly the uninterrupted run's results
(``summary.json`` byte for byte: this is also the determinism check, across processes).
"""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest

from tests.hardening import cli_runs

KILLS = 5


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("jax-cache")


def _new_tmp(folder, pattern):
    """A trigger for a write in progress: a temporary file matching ``pattern`` that was not
    there when the process started (killed runs may have left older ones)."""
    before = set(folder.glob(pattern))
    return lambda: any(p not in before for p in folder.glob(pattern))


def _kill_series(args, cache, cwd, out, rng, T, events, check):
    """Start ``ntk-verify ARGS`` and SIGKILL it until it has been killed :data:`KILLS` times,
    alternating a uniform moment in [0.05 T, 0.4 T] and a file event of ``events`` (label,
    trigger factory) (T: the first, uncached run's wall time; later runs reuse its compiled programs
    and take about half); ``check()`` after each. A run that finished first leaves a complete
    folder, which is removed so that the next one has work to be killed in."""
    outcomes = []
    for attempt in range(3 * KILLS):
        if sum(e == "killed" for _, e in outcomes) == KILLS:
            break
        if attempt % 2 == 1:
            label, make = events[(attempt // 2) % len(events)]
            how = {"when": make()}
        else:
            label, how = "uniform", {"after": rng.uniform(0.05 * T, 0.4 * T)}
        ended = cli_runs.kill_at(cli_runs.start(args, cache, cwd), **how)
        check()
        outcomes.append((label, ended))
        if ended == "finished":
            shutil.rmtree(out)
            out.mkdir()
    assert sum(e == "killed" for _, e in outcomes) == KILLS, outcomes
    return outcomes


def _reference(command, toml, tmp_path, cache):
    """Write the configuration, run ``ntk-verify COMMAND`` uninterrupted into ``ref``; returns the
    base command line and the run's wall time."""
    (tmp_path / "tiny.toml").write_text(toml)
    base = [command, "--config", "tiny.toml", "--quiet"]
    t0 = time.monotonic()
    ref = cli_runs.run([*base, "--out", "ref"], cache, tmp_path)
    assert ref.returncode == 0, ref.stderr[-2000:]
    return base, time.monotonic() - t0


def test_run_killed_then_rerun_equals_uninterrupted(tmp_path, cache):
    from verification.report import ResultsError, load_results

    base, T = _reference("run", cli_runs.TINY_RUN, tmp_path, cache)
    ref_dir, out = tmp_path / "ref", tmp_path / "crash"

    def check():
        try:
            load_results(out)
        except ResultsError:
            return  # refused as incomplete: fine
        for name in (
            "summary.json",
            "evidence.npz",
        ):  # read back as complete: must be the real thing
            assert (out / name).read_bytes() == (ref_dir / name).read_bytes(), name

    events = [
        ("evidence.npz being written", lambda: _new_tmp(out, ".evidence.npz.*.tmp")),
        ("summary.json being written", lambda: _new_tmp(out, ".summary.json.*.tmp")),
    ]
    out.mkdir()
    _kill_series(
        [*base, "--out", "crash", "--force"],
        cache,
        tmp_path,
        out,
        np.random.default_rng(20),
        T,
        events,
        check,
    )
    final = cli_runs.run([*base, "--out", "crash", "--force"], cache, tmp_path)
    assert final.returncode == 0, final.stderr[-2000:]
    for name in ("summary.json", "evidence.npz", "report.md"):
        assert (out / name).read_bytes() == (ref_dir / name).read_bytes(), name
    assert not list(out.glob(".*.tmp")), "temporary files of killed runs left behind"
    env = json.loads((ref_dir / "summary.json").read_text())["environment"]
    assert env["packages"]["jax"] and env["packages"]["numpy"] and env["jax_devices"]
    assert env["dtype"] == "float64" and env["x64"] is True


def test_sweep_killed_then_resumed_equals_uninterrupted(tmp_path, cache):
    from ntk_attention.sweep import SweepResult
    from verification import sweeps as sweep_cmd
    from verification.report import ResultsError
    from verification.sweeps import store

    base, T = _reference("sweep", cli_runs.TINY_SWEEP, tmp_path, cache)
    expected = sweep_cmd.load_merged(tmp_path / "ref")
    out = tmp_path / "crash"
    config = sweep_cmd.resolve_config(str(tmp_path / "tiny.toml"))
    fp, blocks = sweep_cmd.fingerprint(config), sweep_cmd.block_seeds(config)
    ref_blocks = [store.load_block(tmp_path / "ref", j, fp, s) for j, s in enumerate(blocks)]

    def same(a: SweepResult, b: SweepResult):
        for field in SweepResult._fields:
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)

    def check():
        for j, seeds in enumerate(blocks):  # a block is either unreadable/absent or exactly right
            got = store.load_block(out, j, fp, seeds)
            if got is not None:
                same(got, ref_blocks[j])
        if (out / "sweep.json").exists() and json.loads((out / "sweep.json").read_text()).get(
            "complete"
        ):
            same(sweep_cmd.load_merged(out), expected)
        else:
            try:
                merged = sweep_cmd.load_merged(
                    out
                )  # merges only when every block is present and valid
            except ResultsError:
                return
            same(merged, expected)

    out.mkdir()
    events = [
        ("a block being written", lambda: _new_tmp(out / "blocks", ".*.tmp")),
        ("sweep.npz being written", lambda: _new_tmp(out, ".sweep.npz.*.tmp")),
    ]
    _kill_series(
        [*base, "--out", "crash"], cache, tmp_path, out, np.random.default_rng(21), T, events, check
    )
    final = cli_runs.run([*base, "--out", "crash"], cache, tmp_path)
    assert final.returncode == 0, final.stderr[-2000:]
    same(sweep_cmd.load_merged(out), expected)
    assert not list(out.rglob(".*.tmp")), "temporary files of killed runs left behind"
