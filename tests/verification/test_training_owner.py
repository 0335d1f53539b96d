"""One owner for training (float64: tests/conftest.py): the typed step size, the stability pre-check
for every claim (relative η included), λ* once per (n, σ) and λ_max(H(0)) once per declared run, one
memo key scheme."""

import collections

import jax
import pytest

import ntk_attention as na
from verification import config as cfg
from verification import pipeline
from verification.contract import STEP_SIZES, Context, StepSize, TrainingRun
from verification.training import _bounds as bounds

TINY = {
    "data": {"n": 6, "d": 4, "state_dim": 3},
    "C1": {
        "widths": [8, 16],
        "seeds": 2,
        "steps": 20,
        "record_every": 5,
        "sizes": [6],
        "mechanism_sources": ["data"],
        "mechanism_n": 6,
        "mechanism_widths": [8, 16],
        "mechanism_seeds": 2,
        "mechanism_steps": 10,
        "mechanism_record_every": 5,
    },
    "C2": {"widths": [8, 16], "seeds": 2, "steps": 20, "records": 4},
    "C3": {"widths": [8], "seeds": 2, "steps": 20, "records": 4},
}


def test_step_size_is_parsed_once_and_validated():
    step = StepSize.of({"eta": 0.4, "eta_mode": "relative"})
    assert step.relative and step.resolve(4.0) == pytest.approx(0.2)
    assert StepSize.of({"eta": 3.0}) == StepSize(3.0, "absolute")
    assert step.scaled(2.0) == StepSize(0.8, "relative")
    with pytest.raises(ValueError, match="eta_mode"):
        StepSize.of({"eta": 0.4, "eta_mode": "fraction"})
    with pytest.raises(ValueError, match="eta"):
        StepSize.of({"eta": -1.0})


def test_memo_key_is_one_scheme():
    assert Context.memo_key("x", n=3, sigma=1.0) == "x/n=3/sigma=1.0"
    assert Context.memo_key("x", seeds=[1, 2]) == Context.memo_key("x", seeds=(1, 2))


def test_default_pre_check_covers_c1_and_c2_with_the_eta_run_trains():
    """Relative step sizes (C1, C2 by default) are resolved and checked before training, with the
    n and σ the claim trains at."""
    config = cfg.default_config()
    ctx = pipeline.run_context(config)
    report = pipeline.stability_report(config, ["C1", "C2"], context=ctx)
    assert set(report) == {"C1", "C2"}
    c1, c2 = config["C1"], config["C2"]
    fresh = Context(config=config, seed=config["run"]["seed"], quiet=True)
    assert report["C1"]["sigma"] == c1["sigma"]
    per = pipeline.training_step_sizes(config, ["C1"], context=ctx)["C1"]
    sweep = next(e for e in per if e["n"] == max(c1["sizes"]))
    assert sweep["eta"] == pytest.approx(
        fresh.step_size(c1, sizes=c1["sizes"], sigma=c1["sigma"]), rel=1e-12
    )
    assert report["C2"]["eta"] == pytest.approx(fresh.step_size(c2), rel=1e-12)
    for entry in report.values():
        assert entry["limit"] == pytest.approx(2.0 / entry["lambda_max_h0"], rel=1e-12)


def test_lambda_max_h0_is_the_one_owners():
    config = cfg.validate(TINY)
    ctx = Context(config=config, seed=0, quiet=True)
    got = ctx.lambda_max_h0(8, 6, seed=0)
    params = na.init_params(jax.random.key(0), 8, sigma=config["data"]["sigma"])
    assert got == pytest.approx(na.h0_lambda_max(params, ctx.dataset(6).X), rel=1e-12)
    assert ctx.lambda_max_h0(8, 6, seed=0) is got  # memoised


def test_a_run_computes_lambda_star_once_per_n_sigma(monkeypatch):
    """C1–C3 on tiny data, pre-check included: every (n, σ) of λ* computed once, and every
    λ_max(H(0)) of a declared run once; each verdict records the step sizes it resolved."""
    calls = collections.Counter()
    original = bounds.lambda_star

    def counting(X, *, sigma, **kw):
        calls[(X.shape[0], float(sigma))] += 1
        return original(X, sigma=sigma, **kw)

    h0_calls = collections.Counter()
    h0 = na.h0_lambda_max

    def counting_h0(params, X, **kw):
        # one network draw (width, seed, σ) on one data set: its weights identify it
        h0_calls[(params.w.shape[0], X.shape[0], float(abs(params.w).sum()))] += 1
        return h0(params, X, **kw)

    monkeypatch.setattr(bounds, "lambda_star", counting)
    monkeypatch.setattr("verification.contract.h0_lambda_max", counting_h0)
    config = cfg.validate({**TINY, "run": {"claims": ["C1", "C2", "C3"]}})
    ctx = pipeline.run_context(config)
    verdicts = pipeline.run_claims(config, context=ctx)
    assert calls and max(calls.values()) == 1, calls
    assert h0_calls and max(h0_calls.values()) == 1, h0_calls
    c1 = next(v for v in verdicts if v.claim == "C1")
    eta = c1.measured["eta"]  # resolved once; the sweep trains at it, never re-read as a fraction
    sweeps = [k for k in ctx.memo if k.startswith("sweep/")]
    assert sweeps and all(f"eta={eta!r}" in k for k in sweeps), (eta, sweeps)
    for v in verdicts:
        assert not v.measured.get("diverged_runs"), v.claim
        assert v.measured["step_size"], v.claim
        for record in v.measured["step_size"]:
            assert {"eta", "eta_mode", "n", "sigma"} <= set(record)
    assert ctx.memo[STEP_SIZES]


def test_training_run_accepts_a_plain_number_for_plug_ins():
    config = cfg.validate(TINY)
    ctx = Context(config=config, seed=0, quiet=True)
    assert ctx.step_size(TrainingRun(0.05, (8,), (6,))) == 0.05
