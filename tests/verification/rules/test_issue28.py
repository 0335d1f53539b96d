"""Issue 28: the seed-level rules under the noise the runs produce — C2's fraction rule is
order-free and powerful on whole-group flips, C5 and C7 decide on the median by exact sign tests,
identical seeds never decide, every rule checks its arguments. Monte-Carlo sizes at a few hundred
replicates, with a tolerance of about three Monte-Carlo standard errors (bigger checks:
benchmarks/issue28_sizes.py)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verification.calibration._robustness import skewed
from verification.rules import rate_decision
from verification.rules._fractions import (
    fraction_decision,
    fraction_seeds_for_power,
    fraction_statuses,
)
from verification.rules._margin import margin_effect_statuses, margin_effects
from verification.rules._ood import noise_exponent_decision, noise_exponent_statuses
from verification.rules._robust import median_bounds, sign_pvalues, sign_seeds_for_power
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VIOLATED

K, S, DELTA = 8, 160, 0.1


def _flips(rng, R, mean):
    on = rng.random((R, K, S)) < mean / 0.95
    return np.where(on, rng.uniform(0.9, 1.0, (R, K, S)), 0.0)


# ----------------------------------------------------------------------------- C2: order


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 2**31 - 1), mean=st.sampled_from([0.02, 0.1, 0.15]))
def test_fraction_verdict_depends_on_the_set_not_the_order(seed, mean):
    rng = np.random.default_rng(seed)
    f = list(_flips(rng, 1, mean)[0, :3, :60])
    f[1] = rng.beta(0.5, 9.5, 60)  # a concentrated member beside the flips
    dec = fraction_decision(f, delta=DELTA)
    shuffled = fraction_decision([rng.permutation(x) for x in f], delta=DELTA)
    assert shuffled == dec


def test_fraction_statuses_match_the_decision():
    f = _flips(np.random.default_rng(3), 6, 0.12)
    st = fraction_statuses(f, delta=DELTA)
    assert st.tolist() == [fraction_decision(list(r), delta=DELTA).status for r in f]


# ----------------------------------------------------------------------------- C2: size, power


def test_fraction_rule_on_whole_group_flips():
    """8 members × 160 networks: VIOLATED ≥ 0.75 at mean 0.15, false HOLDS at δ ≤ 0.03."""
    rng = np.random.default_rng(28)
    R = 200
    high = fraction_statuses(_flips(rng, R, 0.15), delta=DELTA)
    at = fraction_statuses(_flips(rng, R, DELTA), delta=DELTA)
    assert (high == VIOLATED).mean() >= 0.75
    assert (at == HOLDS).mean() <= 0.03 and (at == VIOLATED).mean() <= 0.025 + 0.035


def test_fraction_rule_keeps_its_power_on_concentrated_fractions():
    rng = np.random.default_rng(29)
    q = rng.beta(0.05 * 40, 0.95 * 40, (150, K, S))
    st = fraction_statuses(rng.binomial(8, q) / 8, delta=DELTA)
    assert (st == HOLDS).mean() >= 0.75


def test_fraction_budget_is_conservative():
    """An all-zero pilot of 3–10 networks never promises 40; a long all-zero pilot gives an
    honest, larger number than the optimistic 40."""
    for n in (3, 5, 10):
        got = fraction_seeds_for_power([np.zeros(n)] * 8, delta=DELTA)
        assert got is None or got >= 128
    assert fraction_seeds_for_power([np.zeros(160)] * 8, delta=DELTA) >= 64
    assert fraction_seeds_for_power([np.full(160, 0.2)], delta=DELTA) is None


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"delta": -0.1}, "delta"),
        ({"delta": 1.5}, "delta"),
        ({"delta": 0.1, "alpha": 0.0}, "alpha"),
        ({"delta": 0.1, "c": 1.5}, "c"),
        ({"delta": 0.1, "c": 0.0}, "c"),
    ],
)
def test_fraction_arguments_are_checked(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}: expected .* got"):
        fraction_decision([np.zeros(10)], **kwargs)


def test_fraction_values_are_checked():
    for bad in (np.array([0.1, np.nan]), np.array([0.1, 1.2]), np.array([-0.1])):
        with pytest.raises(ValueError, match="^fractions: expected failure fractions in"):
            fraction_decision([bad], delta=DELTA)


# ----------------------------------------------------------------------------- C7


@pytest.mark.parametrize("direction", [1, -1])
def test_margin_rule_at_the_margin_under_skew(direction):
    """Right skew: false 'mitigates' per variant ≤ 0.03; left skew: family-wise false 'does not
    mitigate' ≤ 0.03 (the exact sign test: ≤ 0.025 for every continuous law)."""
    rng = np.random.default_rng(100 + direction)
    R, V, seeds = 2000, 5, 12
    d = np.log(0.9) + 0.3 * skewed(rng, (R, V, seeds), direction=direction)
    st, conj, _, _ = margin_effect_statuses(d)
    assert (st == HOLDS).mean() <= 0.03  # per variant
    assert np.any(st == HOLDS, axis=-1).mean() <= 0.025 + 0.011  # family-wise, 3 MC s.e.
    assert (conj == VIOLATED).mean() <= 0.025 + 0.011


def test_margin_rule_estimands_both_work_and_differ():
    rng = np.random.default_rng(7)
    d = np.log(0.7) + 0.05 * rng.standard_normal((2, 12))
    for est in ("median", "mean"):
        dec = margin_effects(d, estimand=est)
        assert dec.status == HOLDS and dec.estimand == est
    skew = np.log(0.9) + 0.3 * skewed(rng, (1, 12), centre="mean")
    a, b = margin_effects(skew, estimand="median"), margin_effects(skew, estimand="mean")
    assert a.factor != b.factor


def test_margin_rule_with_two_identical_seeds_is_inconclusive():
    dec = margin_effects(np.full((1, 2), np.log(0.5)))
    assert dec.status == INCONCLUSIVE and "zero spread" in dec.rule


# ----------------------------------------------------------------------------- C5


def _risk(rng, R, seeds, direction):
    x = 2e-4 + np.array([1e-4, 1e-2, 1e-1, 1.0]) ** 2
    sd = np.array([0.6, 0.15, 0.15, 0.15])[:, None]
    eps = skewed(rng, (R, 4, seeds), direction=direction)
    return x, x[:, None] ** 0.9 * np.exp(rng.normal(0, 1, (R, 1, seeds)) + sd * eps)


@pytest.mark.parametrize("direction", [1, -1])
def test_noise_exponent_at_the_boundary_under_level_dependent_skew(direction):
    rng = np.random.default_rng(200 + direction)
    x, risk = _risk(rng, 2000, 10, direction)
    st, *_ = noise_exponent_statuses(x, risk, vanishes=True)
    assert (st == HOLDS).mean() <= 0.04 and (st == VIOLATED).mean() <= 0.04


def test_noise_exponent_identical_seeds_and_bad_arguments():
    x = np.array([1e-8, 1e-4, 1e-2, 1.0])
    dec = noise_exponent_decision(x, np.tile(x[:, None] ** 0.95, (1, 3)), vanishes=True)
    assert dec.status == INCONCLUSIVE and "zero spread" in dec.rule
    risk = np.ones((4, 10))
    risk[2, 3] = 0.0
    with pytest.raises(ValueError, match=r"^risk_per_seed: expected positive risks .* 0\.0"):
        noise_exponent_decision(x, risk, vanishes=True)
    with pytest.raises(ValueError, match="^alpha: expected"):
        noise_exponent_decision(x, np.ones((4, 10)), vanishes=True, alpha=2)
    with pytest.raises(ValueError, match="^estimand: expected"):
        noise_exponent_decision(x, np.ones((4, 10)), vanishes=True, estimand="mode")
    few = noise_exponent_decision(x, x[:, None] ** 1.0 * np.exp([[0.0, 0.1, 0.2]]), vanishes=True)
    assert few.status == INCONCLUSIVE and "below 6 seeds" in few.rule


# ----------------------------------------------------------------------------- rate, sign test


def test_rate_rule_with_sixteen_identical_seeds_is_inconclusive():
    w = np.array([64, 256, 1024, 4096])
    dec = rate_decision(w, np.tile((w**-0.42)[:, None], (1, 16)))
    assert dec.status == INCONCLUSIVE and "zero spread" in dec.rule


def test_sign_test_pieces():
    below, above = sign_pvalues(np.arange(6.0), 10.0)
    assert below == pytest.approx(2.0**-6) and above == 1.0
    lo, hi = median_bounds(np.arange(10.0), 0.05)
    assert (lo, hi) == (1.0, 8.0)  # P(Bin(10, 1/2) <= 1) = 0.0107 <= 0.025
    assert sign_seeds_for_power(0.99, 0.025) == 6 and sign_seeds_for_power(0.5, 0.025) == 0
