"""ntk_attention.sweep against separate ntk_attention.train runs (float64), compile counts,
devices."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntk_attention import Params, infinite_ntk, init_params, train
from ntk_attention import sweep as sw
from ntk_attention.sweep import program as sweep_program

N, D = 5, 3
WIDTHS = (4, 12)
# one static configuration for the whole file: the sweep program and train compile once each.
# chunks of 2 neurons, 2 chunks per scan step, 2 seeds per block: every layout path is used.
LAYOUT = dict(widths=WIDTHS, chunk_size=2, group_size=2, seeds_per_block=2)
SCHEDULE = dict(steps=4, record_every=2)


def _data(dtype=jnp.float64):
    X = 1.3 * jax.random.normal(jax.random.key(7), (N, D), dtype)
    y = 0.8 * X[:, -1] - 0.3 * X[:, 0]
    return X, y


def _spectral(A):
    return np.abs(np.linalg.eigvalsh(A)).max(axis=-1)


def _reference(
    X,
    y,
    widths,
    seeds,
    *,
    steps,
    learning_rate,
    record_every,
    sigma=1.0,
    output_signs="random",
    divergence_factor=1e8,
):
    """Every field of SweepResult from separate train runs on the nested prefixes, in numpy."""
    hstar = infinite_ntk(np.asarray(X), sigma=sigma).matrix
    out = {}
    for wi, m in enumerate(widths):
        for si, s in enumerate(seeds):
            w, a = init_params(
                jax.random.key(s),
                max(widths),
                sigma=sigma,
                output_signs=output_signs,
                dtype=X.dtype,
            )
            tr = train(
                Params(w[:m], a[:m]),
                X,
                y,
                steps=steps,
                learning_rate=learning_rate,
                record_every=record_every,
                divergence_factor=divergence_factor,
                record_neurons=True,
            )
            H = np.asarray(tr.ntk)
            H = 0.5 * (H + np.swapaxes(H, 1, 2))
            rec = {
                "loss": tr.loss,
                "sign_agree_plus": tr.sign_agree_plus,
                "sign_agree_minus": tr.sign_agree_minus,
                "last_token_mass": np.asarray(tr.last_token_mass).mean(axis=1),
                "ntk_change": _spectral(H - H[0]),
                "ntk_min_eigenvalue": np.linalg.eigvalsh(H)[:, 0],
                "max_weight_change": tr.max_weight_change,
                "n_plus": tr.n_plus,
                "n_minus": tr.n_minus,
                "diverged_step": tr.diverged_step,
                "ntk_initial": H[0],
                "ntk_infinite_distance": _spectral(H[0] - hstar),
            }
            for k, v in rec.items():
                out.setdefault(k, np.zeros((len(widths), len(seeds)) + np.shape(v)))[wi, si] = v
    return out


def _assert_matches(res, ref):
    scale = max(1.0, float(np.abs(ref["ntk_initial"]).max()))
    for k, v in ref.items():
        got = np.asarray(getattr(res, k))
        assert got.shape == v.shape, k
        np.testing.assert_allclose(
            got, v, rtol=1e-10, atol=1e-12 * scale, equal_nan=True, err_msg=k
        )


@pytest.fixture(scope="module")
def swept():
    X, y = _data()
    return sw.sweep(X, y, seeds=(0, 1, 2, 3), learning_rate=0.3, **LAYOUT, **SCHEDULE)


@settings(max_examples=2)
@given(
    seeds=st.lists(st.integers(0, 2**31 - 1), min_size=4, max_size=4, unique=True),
    learning_rate=st.floats(0.01, 1.0),
    output_signs=st.sampled_from(["random", "minus", "plus"]),
)
def test_every_run_equals_train_on_its_width(seeds, learning_rate, output_signs):
    X, y = _data()
    res = sw.sweep(
        X,
        y,
        seeds=seeds,
        learning_rate=learning_rate,
        output_signs=output_signs,
        **LAYOUT,
        **SCHEDULE,
    )
    assert res.loss.shape == (2, 4, 3) and res.loss.dtype == np.float64
    np.testing.assert_array_equal(res.step, [0, 2, 4])
    np.testing.assert_array_equal(res.seeds, seeds)
    ref = _reference(
        X, y, WIDTHS, seeds, learning_rate=learning_rate, output_signs=output_signs, **SCHEDULE
    )
    _assert_matches(res, ref)


def test_divergence_freezes_each_run_like_train_with_the_jacobian_recomputed():
    X, y = _data()
    kw = dict(learning_rate=30.0, divergence_factor=1.5)
    res = sw.sweep(X, y, seeds=(0, 1, 2, 3), recompute_jacobian=True, **kw, **LAYOUT, **SCHEDULE)
    assert (res.diverged_step >= 0).any() and (
        res.diverged_step < 0
    ).any()  # both kinds of run occur
    _assert_matches(res, _reference(X, y, WIDTHS, (0, 1, 2, 3), **kw, **SCHEDULE))


def _count_compiles(fn):
    count = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            count.append(duration)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        fn()
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    return len(count)


def test_compilations_do_not_grow_with_widths_or_blocks():
    X, y = _data()
    kw = dict(steps=1, learning_rate=0.1)
    # fresh largest widths each time, so init_params compiles for both (one new shape each)
    before = sweep_program._block_impl._cache_size()
    small = _count_compiles(lambda: sw.sweep(X, y, widths=(5, 10), seeds=(0,), **kw))
    large = _count_compiles(
        lambda: sw.sweep(X, y, widths=(7, 14, 21, 28, 35), seeds=(0, 1, 2), **kw)
    )
    assert sweep_program._block_impl._cache_size() == before + 2  # one program per sweep
    assert 1 <= large <= small


def test_shapes_and_h_star_bookkeeping(swept):
    X, _ = _data()
    np.testing.assert_allclose(
        swept.ntk_infinite, infinite_ntk(np.asarray(X)).matrix, rtol=0, atol=0
    )
    assert swept.ntk_initial.shape == (2, 4, N, N)
    assert swept.ntk_infinite_error < 1e-8
    np.testing.assert_array_equal(
        swept.n_plus + swept.n_minus, np.broadcast_to(np.array(WIDTHS)[:, None], (2, 4))
    )
    for k in sw.RECORD_FIELDS:
        assert getattr(swept, k).shape == (2, 4, 3), k


def test_concatenate_joins_blocks_and_refuses_other_sweeps(swept):
    X, y = _data()
    plan = sw.plan_sweep(X, y, learning_rate=0.3, **LAYOUT, **SCHEDULE)
    parts = [sw.run_block(plan, s) for s in ((2, 3), (0, 1))]
    joined = sw.concatenate(parts)
    np.testing.assert_array_equal(joined.seeds, [2, 3, 0, 1])
    for k in sw.RECORD_FIELDS + ("ntk_initial", "diverged_step"):
        np.testing.assert_array_equal(
            getattr(joined, k), getattr(swept, k)[:, [2, 3, 0, 1]], err_msg=k
        )
    with pytest.raises(ValueError, match="step"):
        sw.concatenate([parts[0], parts[1]._replace(step=parts[1].step * 2)])
    with pytest.raises(ValueError, match="seeds"):
        sw.concatenate([parts[0], parts[0]])
    with pytest.raises(ValueError, match=r"widths = \[4, 16\]"):
        sw.concatenate([parts[0], parts[1]._replace(widths=np.array([4, 16]))])
    # another host rounds H* differently in its last bits: within the tolerance the blocks are one
    # sweep
    H = np.asarray(parts[1].ntk_infinite)
    tol = sw.ntk_infinite_tolerance(parts[0], parts[1])
    assert tol >= 16 * H.shape[0] * np.finfo(np.float64).eps * np.abs(H).max()
    ulps = np.nextafter(np.nextafter(H, np.inf), np.inf)  # two ulps up, every entry
    joined = sw.concatenate([parts[0], parts[1]._replace(ntk_infinite=ulps)])
    np.testing.assert_array_equal(joined.ntk_infinite, parts[0].ntk_infinite)  # block 0's H*
    with pytest.raises(ValueError, match="ntk_infinite differs from block 0's by"):
        sw.concatenate([parts[0], parts[1]._replace(ntk_infinite=H + 3 * tol)])
    with pytest.raises(ValueError, match="plan.seeds_per_block"):
        sw.run_block(plan, (5,))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(widths=(8, 4)), "widths"),
        (dict(widths=()), "widths"),
        (dict(widths=(4, 6), chunk_size=4), "chunk_size"),
        (dict(seeds=(1, 1)), "seeds"),
        (dict(seeds=(0, 1, 2), seeds_per_block=2), "seeds"),
        (dict(seeds=(-1,)), "seeds"),
        (dict(seeds=(2**31,)), "seeds"),
        (dict(record_every=3), "record_every"),
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(output_signs="both"), "output_signs"),
        (dict(group_size=0), "group_size"),
    ],
)
def test_bad_input_names_the_argument(kwargs, name):
    X, y = _data()
    args = dict(widths=(4, 8), seeds=(0,), steps=4, learning_rate=0.1) | kwargs
    with pytest.raises(ValueError, match=name):
        sw.sweep(X, y, **args)


_DEVICE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    import numpy as np
    from ntk_attention import sweep as sw
    X = 1.3 * jax.random.normal(jax.random.key(7), (5, 3), "float64"); y = 0.8 * X[:, -1]
    layouts = {}
    # auto (runs), and a device memory too small for the runs layout: the neurons layout
    # (psum per step)
    for name, memory in (("auto", None), ("small", 1000)):
        plan = sw.plan_sweep(X, y, widths=(4, 8, 12), steps=4, learning_rate=0.3, record_every=2,
                             chunk_size=2, seeds_per_block=2, device_memory=memory)
        res = sw.concatenate([sw.run_block(plan, s) for s in ((0, 1), (2, 3))])
        arrays = {k: np.asarray(v) for k, v in res._asdict().items()}
        np.savez(sys.argv[1] + name + ".npz", **arrays)
        layouts[name] = [plan.layout, plan.device_bytes]
    print(json.dumps({"mesh": int(plan.mesh.devices.size), "layouts": layouts}))
    """
)


def test_one_and_eight_devices_give_the_same_float64_results_in_both_layouts(tmp_path):
    procs = {}
    for count in (1, 8):
        env = dict(
            os.environ,
            XLA_FLAGS=f"--xla_force_host_platform_device_count={count}",
            JAX_PLATFORMS="cpu",
        )
        procs[count] = subprocess.Popen(
            [sys.executable, "-c", _DEVICE_SCRIPT, str(tmp_path / f"d{count}")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    out, info = {}, {}
    for count, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr[-3000:]
        info[count] = json.loads(stdout.strip().splitlines()[-1])
        assert info[count]["mesh"] == count
        out[count] = {
            name: dict(np.load(tmp_path / f"d{count}{name}.npz")) for name in ("auto", "small")
        }
    assert (
        info[1]["layouts"]["auto"][0] == info[1]["layouts"]["small"][0] == "runs"
    )  # one device: always runs
    assert info[8]["layouts"]["auto"][0] == "runs"
    assert info[8]["layouts"]["small"][0] == "neurons" and info[8]["layouts"]["small"][1] > 1000
    for name in ("auto", "small"):
        for k, v in out[1]["auto"].items():
            np.testing.assert_allclose(
                out[8][name][k], v, rtol=1e-12, atol=1e-12, err_msg=f"{name} {k}"
            )
    assert np.isfinite(out[1]["auto"]["loss"]).all() and out[1]["auto"]["loss"].shape == (3, 4, 3)


def test_runs_layout_places_whole_runs_largest_first_on_the_least_loaded_device():
    X, y = _data()
    plan = sw.plan_sweep(
        X,
        y,
        widths=(2, 4, 8),
        steps=2,
        learning_rate=0.1,
        chunk_size=2,
        seeds_per_block=2,
        devices=jax.local_devices()[:1],
        layout="runs",
    )
    assert plan.layout == "runs" and plan.slots == 6 and plan.padded_chunks % plan.group == 0
    assert plan.placement == tuple((0, q) for q in range(6))  # one device: slots in run order
    with pytest.raises(ValueError, match="layout"):
        sw.plan_sweep(X, y, widths=(2, 4), steps=2, learning_rate=0.1, layout="rows")


def test_device_bytes_counts_the_named_arrays():
    kw = dict(n=5, d=3, chunk=2, group=3, chunks_per_device=6, slots=2, records=4, itemsize=8)
    K, c, S = 6, 2, 3
    expected = 8 * (6 * K * c + 2 * 5 * K * c + 8 * 5 * c * 3 * 3 + (4 + 4) * S * 25 + 4 * 5 * S)
    assert sw.device_bytes(**kw) == expected
    assert sw.device_bytes(**kw, recompute_jacobian=True) == expected - 8 * 2 * 5 * K * c
