"""C3's data boundary |w|* and data condition as properties of the data process: planted processes
whose boundary and condition are known in closed form, and the default process against a much
larger independent draw."""

import math

import jax
import numpy as np
import pytest

from ntk_attention import Params, mean_attention_mass
from verification import config as cfg
from verification.claims import c3_last_token_mass as c3
from verification.claims.c3_last_token_mass import _boundary as bd
from verification.claims.c3_last_token_mass import _process as proc
from verification.contract import Context
from verification.data._datasets import make_dataset
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VIOLATED

# Two window types with d = 2: A = (0, 1), B = (1 + s, 1). For w < 0 the gap
# min_{k<d} s̄_k − s̄_d is tanh(|w|/2) on A and −tanh(s|w|/2) on B, so a mixture with a fraction p
# of A has gap(|w|) = p tanh(|w|/2) − (1 − p) tanh(s|w|/2) and the data condition's margin
# E[x_d²] − E[x_d x_1] = 1 − (1 − p)(1 + s) = p − (1 − p)s.
A, S = np.array([0.0, 1.0]), 0.2


def _gap(w, p):
    return p * math.tanh(w / 2) - (1 - p) * math.tanh(S * w / 2)


def _known_boundary(p):
    """The first zero of the planted gap, by bisection on its closed form (no grid)."""
    lo, hi = 1e-6, 1e3
    assert _gap(lo, p) > 0 > _gap(hi, p)
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if _gap(mid, p) > 0 else (lo, mid)
    return lo


def _planted(p, units=400, per_unit=25, seed=0):
    """``units`` independent units of ``per_unit`` windows, each window A with probability p."""
    rng = np.random.default_rng(seed)
    B = np.array([1.0 + S, 1.0])
    windows = [np.where(rng.random((per_unit, 1)) < p, A, B) for _ in range(units)]
    return bd.sample_of_units(windows, source="planted", unit="draw", how="planted mixture")


def test_planted_process_with_a_known_boundary_is_covered():
    p = 0.4  # margin p − (1 − p)s = 0.28 > 0; the gap turns negative at a finite |w|
    truth = _known_boundary(p)
    dp = bd.process_boundary(_planted(p), versus="every", alpha=0.05)
    lo, hi = dp["w_star_interval"]
    assert dp["condition"] == dp["gate"] == HOLDS and dp["windows"] == 10_000
    assert lo <= truth <= hi and hi - lo < 0.5 * truth  # covered, and informative
    # the grid's log-linear interpolation reproduces the closed form on the exact mixture
    exact = bd.sample_of_units(
        [np.stack([A] * 2 + [[1.0 + S, 1.0]] * 3)], source="", unit="", how=""
    )
    assert bd.process_boundary(exact, versus="every", alpha=0.05)["w_star"] == pytest.approx(
        truth, rel=1e-3
    )
    assert dp["margin_interval"][0] <= 0.28 <= dp["margin_interval"][1]


def test_planted_process_where_the_condition_fails_states_no_boundary():
    p = 0.1  # margin 0.1 − 0.9·0.2 = −0.08: position 1 wins at every small |w|
    dp = bd.process_boundary(_planted(p), versus="every", alpha=0.05)
    assert dp["condition"] == VIOLATED and dp["margin_interval"][1] < 0
    assert math.isnan(dp["w_star"]) and dp["no_boundary_fraction"] == 1.0
    words = c3._words.w_star_words(dp)
    assert "the data condition fails" in words and "|w|* =" not in words
    # a condition whose margin is exactly 0 (p = s/(1 + s)) straddles: no boundary stated either
    dp = bd.process_boundary(_planted(S / (1 + S)), versus="every", alpha=0.05)
    assert dp[
        "condition"
    ] == INCONCLUSIVE and "no boundary |w|* is stated" in c3._words.w_star_words(dp)


def test_check_c3_states_the_first_order_law_only_where_the_condition_holds():
    kw, expected = c3.example_check_input()
    kw = {**kw, "training_windows": 24}
    for p, status in ((0.4, HOLDS), (0.1, VIOLATED), (S / (1 + S), INCONCLUSIVE)):
        v = c3.check_c3(**kw, data_process=_planted(p))
        assert v.status == expected  # the theorem's verdict does not depend on the diagnostic
        part = next(x for x in v.parts if x.name.startswith("data condition"))
        assert not part.decisive and part.status == status
        assert ("first-order law for small weights" in part.finding) and (
            ("so to first order" in part.finding) == (status == HOLDS)
        )
        assert "In the 24 training windows (diagnostic, one sample)" in part.finding
        assert ("w_star_process" in v.observed.looseness) == (status == HOLDS)
        assert ("w_star_process" in v.intervals) == (status == HOLDS)
        assert "10000 windows" in v.observed.finding and "bootstrap over the 400 draws" in (
            v.observed.finding
        )
    v = c3.check_c3(**kw, data_process=_planted(0.4))
    lo, hi = v.intervals["w_star_process"]
    assert f"|w|* = {v.measured['data_process']['w_star']:.3g} [{lo:.3g}, {hi:.3g}]" in (
        v.observed.finding
    )
    assert "data |w|* = " in c3.summary_c3(v) and "(planted, 10000 windows)" in c3.summary_c3(v)


def test_masses_and_crossing_against_direct_formulas():
    X = np.random.default_rng(3).normal(size=(50, 5))
    w = np.array([0.01, 0.3, 2.0])
    direct = mean_attention_mass(Params(-w, -np.ones(3)), X)
    assert np.allclose(bd.softmax_masses(X, w).mean(axis=1), direct, atol=1e-12)
    s = bd.sample_of_units([X[:20], X[20:]], source="", unit="", how="", w_abs=w)
    assert np.allclose(s.mass_sums.sum(axis=0) / 50, direct, atol=1e-12)
    g = np.array([[1.0, -1.0, 1.0], [-1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    out = bd.first_crossing(np.array([1.0, 4.0, 16.0]), g)
    assert out[0] == pytest.approx(2.0) and math.isnan(out[1]) and math.isinf(out[2])


def _ctx(**data):
    config = cfg.validate({"data": data})
    return config, Context(config=config, seed=0, quiet=True)


def test_family_draws_are_the_data_builders():
    # the vectorised draws are make_dataset's training windows, key by key (also when detrended)
    for data in ({}, {"detrend": "difference"}):
        config, ctx = _ctx(**data)
        keys = jax.random.split(ctx.key("t"), 3)
        X = proc._family_fast(config["data"], keys, 24)
        for i in range(3):
            assert np.allclose(X[i], make_dataset(config["data"], keys[i], n=24).X, atol=1e-9)


def test_finite_series_uses_all_its_windows_in_blocks():
    config, ctx = _ctx(source="sunspots")
    s = proc.process_sample(ctx, config["data"]["n"])
    ds = ctx.dataset(config["data"]["n"])
    N = np.asarray(ds.whole_series).size - config["data"]["d"]
    L = proc.block_length(N, config["data"]["d"])
    assert s.counts.sum() == N and s.counts.max() == L and s.unit == f"block of {L} windows"


def test_default_interval_covers_the_process_value_of_a_ten_times_larger_draw():
    config, ctx = _ctx()
    dp = bd.process_boundary(proc.process_sample(ctx, 24), versus="every", alpha=0.05)
    assert dp["windows"] == 10_008 and dp["units"] == 417 and dp["source"] == "residual"
    # an independent draw of 4170 data sets (100 080 windows) from another key stream: its |w|*
    # has a standard error near 0.013 (a tenth of the variance of the 417 draws'), so it must
    # lie within the interval widened by 0.03 (about 2.3 of its standard errors)
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(2412), i))(np.arange(4170))
    big = bd.sample_of_units(
        proc._family_fast(config["data"], keys, 24), source="", unit="", how=""
    )
    curve = big.mass_sums.sum(axis=0) / big.counts.sum()
    value = bd.first_crossing(big.w_abs, curve[:, :-1].min(axis=1) - curve[:, -1])[0]
    lo, hi = dp["w_star_interval"]
    assert lo - 0.03 <= value <= hi + 0.03 and dp["gate"] == HOLDS
    margin = big.moment_sums.sum(axis=0)[-1] - big.moment_sums.sum(axis=0)[:-1].max()
    m_lo, m_hi = dp["margin_interval"]
    assert m_lo - 0.003 <= margin / big.counts.sum() <= m_hi + 0.003
