"""`ntk-verify sweep`: files, resume after SIGKILL, two local processes, merging by
`ntk-verify report`."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ntk_attention import sweep as sw
from verification import config as cfg
from verification import report
from verification import sweeps as sc
from verification.commands import _cli as cli
from verification.commands import sweep as sweep_command
from verification.sweeps import plan, render, watchdog

# one sweep configuration for the whole file: every in-process run reuses one compiled program
TOML = """
[run]
seed = 1

[data]
n = 6
d = 3
state_dim = 3

[sweep]
widths = [4, 8]
seeds = 12
steps = 2000
record_every = 500
eta = 0.1
chunk_size = 2
"""
REPO = Path(__file__).resolve().parents[2]


def _cli(*args):
    return [sys.executable, "-m", "verification.commands", "sweep", *map(str, args)]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Subprocess environment: one CPU device and a persistent compilation cache shared between
    them."""
    cache = tmp_path_factory.mktemp("jax-cache")
    return dict(
        os.environ,
        JAX_PLATFORMS="cpu",
        XLA_FLAGS="--xla_force_host_platform_device_count=1",
        PYTHONPATH=str(REPO),
        JAX_COMPILATION_CACHE_DIR=str(cache),
        JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
        JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0",
    )


def _assert_same(res, ref, seeds=slice(None)):
    for k in sw.SweepResult._fields:
        got, want = np.asarray(getattr(res, k)), np.asarray(getattr(ref, k))
        if k in sw.RECORD_FIELDS + (
            "n_plus",
            "n_minus",
            "diverged_step",
            "ntk_initial",
            "ntk_infinite_distance",
        ):
            want = want[:, seeds]
        elif k == "seeds":
            want = want[seeds]
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=k)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """The configuration file and an uninterrupted in-process sweep, merged."""
    root = tmp_path_factory.mktemp("sweep")
    path = root / "sweep.toml"
    path.write_text(TOML)
    config = sc.resolve_config(str(path))
    out = root / "whole"
    run = sc.run_sweep(config, out, log=None)
    assert run.computed == list(range(12)) and run.reused == []
    sc.merge(out)
    return path, config, out, sc.load_merged(out)


def test_merged_sweep_is_the_library_sweep_on_the_configured_data(setup):
    _, config, out, merged = setup
    data = plan.context(config).dataset()
    seeds = plan.context(config).network_seeds(12)
    direct = sw.sweep(
        data.X,
        data.y,
        widths=[4, 8],
        seeds=seeds,
        steps=2000,
        record_every=500,
        learning_rate=0.1,
        chunk_size=2,
    )
    _assert_same(merged, direct)
    assert merged.loss.shape == (2, 12, 5)
    head = json.loads((out / "sweep.json").read_text())
    assert head["complete"] and head["seeds"] == seeds and head["blocks"] == 12
    assert (
        set(head["config"]) == {"run", "data", "sweep"} and head["config"]["sweep"]["steps"] == 2000
    )
    assert head["environment"]["packages"]["jax"] and head["processes"][0]["devices"]
    with np.load(out / "sweep.npz", allow_pickle=False) as npz:
        assert npz["loss"].shape == (2, 12, 5)


def test_sigkill_then_rerun_computes_only_missing_blocks(setup, env, tmp_path):
    path, config, _, merged = setup
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        _cli("--config", path, "--out", out, "--quiet"),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 240
    while not list((out / "blocks").glob("block-*.npz")):
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no block written in time"
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    present = {int(p.stem[6:]): p.stat() for p in (out / "blocks").glob("block-*.npz")}
    assert 0 < len(present) < 12, f"the kill came too late to test resuming: {sorted(present)}"
    stale = (
        out / "blocks" / f".block-{max(present) + 1:05d}.npz.x1y2.tmp"
    )  # as a kill inside a write leaves
    stale.write_bytes(b"partial")
    rerun = sc.run_sweep(config, out, log=None)
    assert not stale.exists()
    assert sorted(rerun.reused) == sorted(present)
    assert sorted(rerun.computed) == sorted(set(range(12)) - set(present))
    for j, st in present.items():  # finished blocks untouched
        now = (out / "blocks" / f"block-{j:05d}.npz").stat()
        assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
    sc.merge(out)
    _assert_same(sc.load_merged(out), merged)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_local_processes_write_shards_and_process_zero_merges(setup, env, tmp_path):
    path, _, _, merged = setup
    out = tmp_path / "dist"
    port = _free_port()
    procs = [
        subprocess.Popen(
            _cli(
                "--config",
                path,
                "--out",
                out,
                "--seeds",
                4,
                "--quiet",
                "--distributed",
                "--coordinator-address",
                f"127.0.0.1:{port}",
                "--num-processes",
                2,
                "--process-id",
                i,
            ),
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (0, 1)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
    for i in (0, 1):
        shard = json.loads((out / "shards" / f"process-{i}-of-2.json").read_text())
        assert shard["blocks_computed"] == [i, i + 2]
    head = json.loads((out / "sweep.json").read_text())
    assert head["complete"] and {p["process_id"] for p in head["processes"]} == {0, 1}
    _assert_same(sc.load_merged(out), merged, seeds=slice(0, 4))


def test_report_merges_blocks_and_names_missing_ones(setup, tmp_path, capsys):
    _, _, whole, merged = setup
    out = tmp_path / "copy"
    shutil.copytree(whole, out)
    (out / "sweep.npz").unlink()
    assert cli.main(["report", str(out)]) == 0
    _assert_same(sc.load_merged(out), merged)
    text = (out / "report.md").read_text()
    assert "## Width sweep" in text and (out / "sweep.png").exists()
    loss_T = merged.loss[:, :, -1].mean(axis=1)
    assert f"| 4 | {loss_T[0]:.4g} |" in text  # the table prints computed means
    (out / "sweep.npz").unlink()
    (out / "blocks" / "block-00003.npz").unlink()
    assert cli.main(["report", str(out)]) == 2
    assert "block(s) missing: [3]" in capsys.readouterr().err


def test_a_block_of_another_configuration_is_refused_naming_the_key(setup, tmp_path, capsys):
    _, config, whole, _ = setup
    out = tmp_path / "foreign"
    shutil.copytree(whole, out)
    (out / "sweep.npz").unlink()
    path = out / "blocks" / "block-00003.npz"
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    other = json.loads(str(arrays["config"]))
    assert other == json.loads(
        json.dumps(config)
    )  # each block carries the configuration it was computed for
    other["sweep"]["steps"] = 2 * other["sweep"]["steps"]
    arrays["config"], arrays["fingerprint"] = (
        np.array(json.dumps(other)),
        np.array(sc.fingerprint(other)),
    )
    np.savez(path, **arrays)
    assert cli.main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert (
        "block-00003.npz: a block of another configuration (sweep.steps: " in err
        and "\n" not in err.strip()
    )


def test_more_seeds_reuse_blocks_and_other_configs_are_refused(setup, tmp_path):
    path, config, whole, merged = setup
    out = tmp_path / "grow"
    small = sc.resolve_config(str(path), seeds=2)
    assert sc.run_sweep(small, out, log=None).computed == [0, 1]
    assert (
        cli.main(["sweep", "--config", str(path), "--out", str(out), "--seeds", "3", "--quiet"])
        == 0
    )
    shard = json.loads((out / "shards" / "process-0-of-1.json").read_text())
    assert shard["blocks_computed"] == [2] and shard["blocks_reused"] == [0, 1]
    _assert_same(sc.load_merged(out), merged, seeds=slice(0, 3))
    other = sc.resolve_config(str(path), eta=0.2)
    with pytest.raises(report.ResultsError, match="different sweep"):
        sc.run_sweep(other, out, log=None)


def test_flags_override_the_file_and_bad_values_name_the_key(setup, tmp_path):
    path, config, _, _ = setup
    args = cli.build_parser().parse_args(
        ["sweep", "--config", str(path), "--widths", "16,64", "--steps", "1000"]
    )
    assert args.func is sweep_command._cmd_sweep
    got = sc.resolve_config(str(path), widths=sweep_command._widths(args.widths), steps=args.steps)
    assert (
        got["sweep"]["widths"] == [16, 64]
        and got["sweep"]["steps"] == 1000
        and got["sweep"]["seeds"] == 12
    )
    assert config["data"]["n"] == 6 and cfg.default_config()["sweep"]["widths"] == [64, 256, 1024]
    for kwargs, key in [
        (dict(widths=[8, 4]), "sweep.widths"),
        (dict(seeds=5, seeds_per_block=2), "sweep.seeds"),
        (dict(widths=[4, 6], chunk_size=4), "sweep.chunk_size"),
        (dict(record_every=3), "sweep.record_every"),
    ]:
        with pytest.raises(cfg.ConfigError, match=key):
            sc.resolve_config(str(path), **kwargs)
    with pytest.raises(cfg.ConfigError, match="--widths"):
        sweep_command._widths("4,x")
    assert cli.main(["sweep", "--out", str(tmp_path / "x"), "--process-id", "1"]) == 2


# run_block replaced: block 1 comes from the finished sweep, block 2 never finishes
# (a hung computation)
_HANGING = """
import sys, threading
import numpy as np
from ntk_attention import sweep as sw
from verification import sweeps as sc
from verification.commands import _cli as cli
from verification.sweeps import store
whole, out = sys.argv[1], sys.argv[2]
seeds = [tuple(b) for b in sc.block_seeds(sc.resolve_config(sys.argv[3]))]

def run_block(plan, block, stage=None):
    if tuple(block) == seeds[2]:
        stage("waiting for the device computation")
        threading.Event().wait()
    from pathlib import Path
    fingerprint = sc.fingerprint(sc.resolve_config(sys.argv[3]))
    return store.load_block(Path(whole), seeds.index(tuple(block)), fingerprint, tuple(block))

sw.run_block = run_block
sys.exit(cli.main(["sweep", "--config", sys.argv[3], "--out", out, "--seeds", "3",
                   "--block-timeout", "3", "--quiet"]))
"""


def test_a_block_that_never_finishes_is_reported_and_exits_3_keeping_finished_blocks(
    setup, env, tmp_path
):
    path, _, whole, _ = setup
    out = tmp_path / "hung"
    (out / "blocks").mkdir(parents=True)
    shutil.copy(whole / "blocks" / "block-00000.npz", out / "blocks")  # finished before: reused
    proc = subprocess.run(
        [sys.executable, "-c", _HANGING, str(whole), str(out), str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == sc.TIMEOUT_EXIT, proc.stderr[-3000:]
    err = proc.stderr
    assert "block 2 (seeds" in err and "not finished after" in err and "--block-timeout 3" in err
    assert (
        "waiting for the device computation" in err
        and "1 device(s) cpu:0" in err
        and "'runs' layout" in err
    )
    assert sorted(p.name for p in (out / "blocks").glob("block-*.npz")) == [
        "block-00000.npz",
        "block-00001.npz",
    ]
    shard = json.loads((out / "shards" / "process-0-of-1.json").read_text())
    assert (
        shard["timed_out"]["block"] == 2
        and shard["timed_out"]["phase"] == "waiting for the device computation"
    )
    assert shard["blocks_computed"] == [1] and shard["blocks_reused"] == [0]
    assert shard["layout"]["kind"] == "runs" and shard["layout"]["devices"] == 1


def test_watched_returns_results_reraises_errors_and_calls_the_timeout_with_the_phase():
    assert watchdog.watched(lambda stage: 7, 5.0, None) == 7
    assert watchdog.watched(lambda stage: 8, None, None) == 8
    with pytest.raises(KeyError, match="boom"):
        watchdog.watched(lambda stage: {}["boom"], 5.0, None)
    seen = []

    class Stop(Exception):
        pass

    def on_timeout(phase):
        seen.append(phase)
        raise Stop

    import threading

    release = threading.Event()

    def slow(stage):
        stage("waiting for the device computation")
        release.wait(30)

    with pytest.raises(Stop):
        watchdog.watched(slow, 0.2, on_timeout)
    release.set()
    assert seen == ["waiting for the device computation"]


def test_layout_is_recorded_in_sweep_json(setup):
    _, _, out, _ = setup
    head = json.loads((out / "sweep.json").read_text())
    assert head["layout"] == ["runs"]
    assert (
        head["processes"][0]["layout"]["kind"] == "runs"
        and head["processes"][0]["layout"]["placement"]
    )
    assert cli.main(["sweep", "--out", str(out), "--block-timeout", "-1"]) == 2


def test_a_refused_resume_names_each_differing_key_with_both_values_and_force_restarts(
    setup, tmp_path, capsys
):
    path, _, _, merged = setup
    out = tmp_path / "other"
    assert sc.run_sweep(sc.resolve_config(str(path), seeds=1), out, log=None).computed == [0]
    other = sc.resolve_config(str(path), seeds=1, eta=0.2, record_every=1000)
    with pytest.raises(report.ResultsError) as err:
        sc.run_sweep(other, out, log=None)
    text = str(err.value)
    assert (
        "sweep.eta: 0.1 there, 0.2 now" in text
        and "sweep.record_every: 500 there, 1000 now" in text
    )
    assert "sweep.seeds" not in text and "--force" in text
    assert sc.config_differences(
        {"sweep": {"seeds": 1, "a": 1}}, {"sweep": {"seeds": 2, "b": 2}}
    ) == [("sweep.a", 1, None), ("sweep.b", None, 2)]
    assert (
        cli.main(
            [
                "sweep",
                "--config",
                str(path),
                "--out",
                str(out),
                "--seeds",
                "1",
                "--learning-rate",
                "0.2",
                "--record-every",
                "1000",
                "--quiet",
            ]
        )
        == 2
    )
    assert "sweep.eta: 0.1 there, 0.2 now" in capsys.readouterr().err
    run = sc.run_sweep(
        sc.resolve_config(str(path), seeds=1), out, log=None, force=True
    )  # same sweep: reused
    assert run.reused == [0]
    run = sc.run_sweep(other, out, log=None, force=True)
    assert run.computed == [0] and run.reused == []
    sc.merge(out)
    res = sc.load_merged(out)
    assert res.step.tolist() == [0, 1000, 2000]
    np.testing.assert_allclose(
        res.loss[:, 0, 0], merged.loss[:, 0, 0], rtol=1e-12
    )  # t = 0 does not depend on eta


def test_report_gives_slopes_with_intervals_from_every_seed(setup, tmp_path):
    from verification import rules as stats

    _, _, whole, merged = setup
    out = tmp_path / "slopes"
    shutil.copytree(whole, out)
    text = sc.render_sweep(out)
    x = np.repeat(merged.widths.astype(float), merged.seeds.size)
    fit = stats.loglog_slope(x, merged.ntk_infinite_distance.ravel())
    assert f"‖H(0)−H*‖: {fit.slope:+.2f} [{fit.lo:+.2f}, {fit.hi:+.2f}] (95%, 24 points)" in text
    assert "no interval" not in text


def test_lambda_min_of_h_star_below_resolution_is_flagged():
    v = np.array([[1.0, 1.0], [1.0, 1.0]]) / np.sqrt(2)  # eigenvalues 0 and sqrt(2)
    assert "below resolution" in sc.lambda_min_text(v, 1e-12)
    assert "below resolution" not in sc.lambda_min_text(np.diag([0.5, 2.0]), 1e-12)
    assert "λ_min(H*) = 5.000e-01" in sc.lambda_min_text(np.diag([0.5, 2.0]), 1e-12)
    assert "below resolution" in sc.lambda_min_text(np.diag([1e-9, 2.0]), 1e-9)  # 1e-9 <= 2 × 1e-9


def test_sweep_warns_when_the_step_size_is_past_two_over_lambda_max(setup, tmp_path, capsys):
    import jax

    from ntk_attention import Params, empirical_ntk, init_params

    path, config, _, _ = setup
    data = plan.context(config).dataset()
    seed = plan.context(config).network_seeds(1)[0]
    w, a = init_params(jax.random.key(seed), 8)
    H = np.asarray(
        empirical_ntk(Params(w[:4], a[:4]), data.X), np.float64
    )  # independent: numpy on H(0)
    limit = 2.0 / np.linalg.eigvalsh(H)[-1]
    assert sc.stability_warning(sc.resolve_config(str(path), eta=0.9 * limit)) is None
    text = sc.stability_warning(sc.resolve_config(str(path), eta=1.1 * limit))
    assert f"2/λ_max(H(0)) = {limit:.3g}" in text and "width 4" in text
    assert (
        cli.main(
            [
                "sweep",
                "--config",
                str(path),
                "--out",
                str(tmp_path / "fast"),
                "--seeds",
                "1",
                "--steps",
                "2",
                "--record-every",
                "1",
                "--learning-rate",
                str(10 * limit),
                "--quiet",
            ]
        )
        == 0
    )
    assert "past the gradient-descent stability limit" in capsys.readouterr().err


def test_sweep_files_describe_themselves_and_load_as_xarray(setup):
    _, config, out, merged = setup
    head = json.loads((out / "sweep.json").read_text())
    data = plan.context(config).dataset()
    with np.load(out / "sweep.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    assert set(head["arrays"]) == set(arrays)
    for k, v in arrays.items():
        assert len(head["arrays"][k]["dims"]) == v.ndim, k
    assert "1/2 sum_i" in head["arrays"]["loss"]["description"]
    np.testing.assert_array_equal(arrays["windows"], np.asarray(data.X, np.float64))
    np.testing.assert_array_equal(arrays["targets"], np.asarray(data.y, np.float64))
    frac = arrays["sign_agree_plus_fraction"]
    n_plus = np.broadcast_to(merged.n_plus[:, :, None], frac.shape)
    assert (n_plus == 0).any() and (n_plus > 0).any()  # both cases occur at width 4
    assert np.isnan(frac[n_plus == 0]).all()
    np.testing.assert_allclose(
        frac[n_plus > 0], merged.sign_agree_plus[n_plus > 0] / n_plus[n_plus > 0], rtol=0
    )
    assert ((0 <= frac[n_plus > 0]) & (frac[n_plus > 0] <= 1)).all()
    ds = sw.load(out / "sweep.npz").to_xarray()
    assert ds["loss"].dims == ("width", "seed", "step") and ds["ntk_initial"].dims == (
        "width",
        "seed",
        "i",
        "j",
    )
    assert ds["width"].values.tolist() == [4, 8] and ds["step"].values.tolist() == [
        0,
        500,
        1000,
        1500,
        2000,
    ]
    np.testing.assert_array_equal(ds["loss"].sel(width=8).values, merged.loss[1])
    np.testing.assert_allclose(
        ds["sign_agree_minus_fraction"].values, arrays["sign_agree_minus_fraction"], rtol=0
    )
    # self-describing (issue 22 item 11): windows and targets as variables, the configuration as
    # attributes
    np.testing.assert_array_equal(ds["windows"].values, arrays["windows"])
    assert ds["windows"].dims == ("i", "token") and ds["targets"].dims == ("i",)
    assert (
        ds.attrs["sweep.steps"] == config["sweep"]["steps"]
        and ds.attrs["data.source"] == config["data"]["source"]
    )
    assert ds.attrs["run.seed"] == config["run"]["seed"] and ds.attrs[
        "learning_rate"
    ] == sc.learning_rate(config)
    assert (
        list(ds.attrs["sweep.widths"]) == [4, 8]
        and ds.attrs["version.jax"] == head["environment"]["packages"]["jax"]
    )
    nc = out.parent / "sweep.nc"
    ds.to_netcdf(nc)  # every attribute is one netCDF can hold
    import xarray as xr

    with xr.open_dataset(nc) as back:
        assert back.attrs["data.source"] == config["data"]["source"] and "windows" in back
    bare = out.parent / "bare" / "sweep.npz"  # a file without its header: the arrays alone
    bare.parent.mkdir()
    shutil.copy(out / "sweep.npz", bare)
    assert sw.load(bare).to_xarray().attrs == {}
    with pytest.raises(ValueError, match="path"):
        np.savez(out.parent / "partial.npz", loss=merged.loss)
        sw.load(out.parent / "partial.npz")


def test_sweep_figure_has_a_reference_line_the_seed_spread_and_no_overlapping_ticks(setup):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, _, _, merged = setup
    widths = np.array([64.0, 128, 256, 512, 1024, 2048, 4096])
    rng = np.random.default_rng(0)
    per_seed = {
        "‖H(0)−H*‖": np.exp(rng.normal(size=(7, 5))) / np.sqrt(widths)[:, None],
        "sup_t ‖H(t)−H(0)‖": np.exp(rng.normal(size=(7, 5))) / widths[:, None],
    }
    fig = render._figure(widths, per_seed, {"‖H(0)−H*‖": -0.5, "sup_t ‖H(t)−H(0)‖": -1.0})
    ax = fig.axes[0]
    fig.canvas.draw()
    ref = [ln for ln in ax.get_lines() if str(ln.get_gid()).startswith("reference")]
    assert len(ref) == 2
    x, y = ref[0].get_data()
    np.testing.assert_allclose(y * np.sqrt(x), y[0] * np.sqrt(x[0]), rtol=1e-12)  # exactly m^{-1/2}
    assert any("m^{-1/2}" in t.get_text() for t in ax.get_legend().get_texts())
    assert len(ax.collections) == 2  # one min-max band per quantity
    dots = [ln for ln in ax.get_lines() if ln.get_linestyle() == "None"]
    assert sum(len(ln.get_xdata()) for ln in dots) == 2 * 7 * 5  # every (width, seed) value
    renderer = fig.canvas.get_renderer()
    labels = [t for t in ax.get_xticklabels(which="both") if t.get_visible() and t.get_text()]
    assert [t.get_text() for t in labels] == ["64", "128", "256", "512", "1024", "2048", "4096"]
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    plt.close(fig)


def test_sweep_writes_report_md_and_names_the_report_command(setup, tmp_path, capsys):
    path, _, _, _ = setup
    out = tmp_path / "rep"
    assert (
        cli.main(["sweep", "--config", str(path), "--out", str(out), "--seeds", "2", "--quiet"])
        == 0
    )
    text = (out / "report.md").read_text()
    assert "## Width sweep" in text and "sweep.png" in text and (out / "sweep.png").exists()
    assert f"ntk-verify report {out}" in capsys.readouterr().out
