"""Shared data, the claim registry and the run loop."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

from ntk_attention.data import ssm_series
from verification import config as cfg
from verification import pipeline
from verification import strategies as vst
from verification.claims import CLAIMS, load_extensions, register_claim
from verification.contract import Claim, Context
from verification.data import _datasets as datasets
from verification.data._datasets import make_dataset
from verification.rules._verdict import HOLDS, Verdict

_core_series = jax.jit(
    jax.vmap(lambda ssm, h: ssm_series(ssm, 8, h), in_axes=(None, 0))
)  # one compilation


@settings(max_examples=8)
@given(vst.ssms(state_dim=3), vst.seeds())
def test_vectorised_windows_match_the_core_series(ssm, seed):
    h1s = np.random.default_rng(seed).normal(size=(4, 3))
    X, y = datasets._windows(ssm, h1s, 2, 5)
    ref = np.asarray(_core_series(ssm, jnp.asarray(h1s)))  # u_1..u_8 of every initial state
    np.testing.assert_allclose(X, ref[:, 2:7], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y, ref[:, 7], rtol=1e-12, atol=1e-12)


def _data(**over):
    c = cfg.default_config()["data"]
    c.update(source="haar", d=4, state_dim=3, **over)
    return c


def test_independent_windows_prefixes_and_test_set():
    key = jax.random.key(5)
    small = make_dataset(_data(), key, n=4, n_test=6)
    big = make_dataset(_data(), key, n=9, n_test=6)
    np.testing.assert_array_equal(small.X, big.X[:4])
    np.testing.assert_array_equal(small.y, big.y[:4])
    np.testing.assert_array_equal(small.X_test, big.X_test)  # the test set does not depend on n
    assert small.X.dtype == jnp.float64 and small.X.shape == (4, 4) and small.X_test.shape == (6, 4)
    # windows and targets come from one trajectory each: y is the step after x_d
    h1 = datasets._initial_states(jax.random.split(key)[1], 0, 1, 3)[0]
    u = np.asarray(ssm_series(small.ssm, 5, jnp.asarray(h1)))
    scale = u[0] / small.X[0, 0]
    np.testing.assert_allclose(np.asarray(small.X[0]) * scale, u[:4], rtol=1e-12)
    np.testing.assert_allclose(float(small.y[0]) * scale, u[4], rtol=1e-12)


def test_sliding_windows_are_consecutive_and_noise_has_its_scale():
    ds = make_dataset(_data(windows="sliding"), jax.random.key(1), n=10, n_test=3)
    X, y = np.asarray(ds.X), np.asarray(ds.y)
    np.testing.assert_array_equal(X[1:, :-1], X[:-1, 1:])
    np.testing.assert_array_equal(y[:-1], X[1:, -1])
    np.testing.assert_array_equal(np.asarray(ds.X_test)[0, :-1], X[-1, 1:])
    noisy = make_dataset(_data(), jax.random.key(2), n=400, noise_std=0.5)
    clean = make_dataset(_data(), jax.random.key(2), n=400)
    np.testing.assert_array_equal(noisy.X, clean.X)
    assert np.std(np.asarray(noisy.y - clean.y)) == pytest.approx(0.5, rel=0.1)


def test_normalisation_uses_a_fixed_reference():
    a = make_dataset(_data(), jax.random.key(3), n=3)
    b = make_dataset(_data(normalize=False), jax.random.key(3), n=3)
    ratio = np.asarray(b.X) / np.asarray(a.X)
    np.testing.assert_allclose(ratio, ratio[0, 0], rtol=1e-12)  # one scale for every entry


def test_context_keys_and_seeds():
    ctx = Context(config=cfg.default_config(), seed=3, quiet=True)
    assert jnp.array_equal(jax.random.key_data(ctx.key("a")), jax.random.key_data(ctx.key("a")))
    assert not jnp.array_equal(jax.random.key_data(ctx.key("a")), jax.random.key_data(ctx.key("b")))
    assert ctx.network_seeds(3) == [3000, 3001, 3002]
    calls = []
    assert (
        ctx.cached("x", lambda: calls.append(1) or 7) == 7
        and ctx.cached("x", lambda: 8) == 7
        and calls == [1]
    )


def _claim(cid, **over):
    base = dict(
        id=cid,
        source="test",
        title="t",
        statement="x",
        params={"k": cfg.positive_int(1, "k")},
        run=lambda sec, ctx: Verdict(cid, HOLDS, f"k = {sec['k']}"),
        check=lambda: None,
    )
    return Claim(**{**base, **over})


def test_registry_contract_and_preflight_runs_first():
    before = dict(CLAIMS)
    ran = []
    try:
        register_claim(
            _claim("C90", run=lambda sec, ctx: ran.append("C90") or Verdict("C90", HOLDS, ""))
        )

        def refuse(sec, ctx):
            raise cfg.ConfigError("C91.k: expected something else")

        register_claim(_claim("C91", preflight=refuse))
        assert "C91" in cfg.default_config() and cfg.loads("[C91]\nk = 3")["C91"]["k"] == 3
        with pytest.raises(cfg.ConfigError, match="C91.k"):
            pipeline.run_claims(cfg.default_config(), ["C90", "C91"], quiet=True)
        assert ran == []  # refused before any claim ran
        CLAIMS["C91"] = dataclasses.replace(CLAIMS["C91"], preflight=None)
        out = pipeline.run_claims(cfg.loads("[C91]\nk = 5"), ["C91", "C90"], quiet=True)
        assert [v.claim for v in out] == ["C90", "C91"] and out[
            1
        ].explanation == "k = 5"  # registry order
        with pytest.raises(ValueError, match="already registered"):
            register_claim(_claim("C90"))
        with pytest.raises(ValueError, match="claim.id"):
            register_claim(_claim("X1"))
        with pytest.raises(ValueError, match="unknown claim"):
            pipeline.run_claims(cfg.default_config(), ["C404"])
    finally:
        CLAIMS.clear()
        CLAIMS.update(before)


def test_extensions_and_environment():
    assert load_extensions() == []  # no installed plug-in in the test environment
    env = pipeline.environment()
    assert env["x64"] is True and env["packages"]["numpy"] and env["jax_devices"]
