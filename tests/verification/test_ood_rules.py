"""The OOD decision rules (C5's noise exponent, C7's paired seed effects), their calibration rows,
C5's
generated test windows and C5's constant-free verdict, on planted truths."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verification import config as cfg
from verification.calibration import _ood as calibration_ood
from verification.calibration import _table as calibration
from verification.claims import c5_ood_risk as c5
from verification.data import _datasets as datasets
from verification.rules._ood import (
    NoiseExponent,
    exponent_seeds_for_power,
    margin_effect_statuses,
    margin_effects,
    margin_seeds_for_power,
    noise_exponent_decision,
    noise_exponent_status,
    paired_effects,
    seed_log_ratios,
    seeds_for_power,
)
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VIOLATED, Verdict

SIG = np.array([1e-4, 1e-3, 1e-2, 1e-1, 1.0])


# ----------------------------------------------------------------------------- noise exponent


@settings(deadline=None, max_examples=40)
@given(b=st.floats(0.0, 1.5), seed=st.integers(0, 2**31 - 1))
def test_noise_exponent_exact_power_laws(b, seed):
    """R = c_s σ^(2b) exactly: every seed's slope is b, so the status is fixed by b against 1 −
    Δ."""
    rng = np.random.default_rng(seed)
    c = np.exp(rng.normal(size=10))
    var = SIG**2
    risk = var[:, None] ** b * c[None, :] * np.exp(rng.normal(0, 1e-6, (SIG.size, 10)))
    lin = noise_exponent_decision(var, risk, vanishes=True)
    att = noise_exponent_decision(var, risk, vanishes=False)
    assert lin.slope == pytest.approx(b, abs=1e-5)
    if b >= 0.9 + 1e-4:
        assert (lin.status, att.status) == (HOLDS, VIOLATED)
    elif b < 0.9 - 1e-4:
        assert (lin.status, att.status) == (VIOLATED, HOLDS)


def test_noise_exponent_straddling_interval_is_inconclusive_and_says_why():
    assert noise_exponent_status(0.85, 0.95, vanishes=True) == INCONCLUSIVE
    assert noise_exponent_status(0.85, 0.95, vanishes=False) == INCONCLUSIVE
    rng = np.random.default_rng(3)
    risk = (0.5 + SIG[:, None] ** 2) * np.exp(rng.normal(0, 0.05, (5, 10)))
    att = noise_exponent_decision(SIG**2, risk, vanishes=False)
    assert att.status == HOLDS and "does not vanish" in att.rule
    with pytest.raises(ValueError, match="margin"):
        noise_exponent_decision(SIG**2, risk, vanishes=True, margin=1.5)


# ----------------------------------------------------------------------------- paired effects


def test_paired_effects_decide_each_way_and_holm_adjusts():
    rng = np.random.default_rng(0)
    base = rng.exponential(size=(5, 50))
    jitter = np.exp(rng.normal(0, 0.01, size=(5, 1)))
    d = np.stack(
        [
            seed_log_ratios(0.5 * base * jitter, base),
            seed_log_ratios(2.0 * base * jitter, base),
            seed_log_ratios(base * np.exp(rng.normal(0, 0.3, size=(5, 1))), base),
        ]
    )
    dec = paired_effects(d)
    assert dec.statuses[:2] == (HOLDS, VIOLATED)
    assert dec.factor[0] == pytest.approx(0.5, rel=0.05) and dec.factor[1] == pytest.approx(
        2.0, rel=0.05
    )
    assert dec.lo[0] < dec.factor[0] < dec.hi[0]
    # a p-value that passes alone but not adjusted over a family of 5
    d1 = np.array([[-0.30, -0.10, -0.25, -0.05, -0.20]])
    alone = paired_effects(d1)
    fam = paired_effects(
        np.vstack([d1, np.zeros((4, 5)) + np.array([0.1, -0.1, 0.05, -0.05, 0.0])])
    )
    assert alone.p_helps[0] < 0.025 < fam.p_helps[0]
    assert alone.statuses[0] == HOLDS and fam.statuses[0] == INCONCLUSIVE
    with pytest.raises(ValueError, match="log_ratios"):
        paired_effects(np.zeros((2, 1)))


SCATTER = np.linspace(-0.05, 0.05, 12)  # per-seed scatter of d, median and mean exactly 0
SCATTER = SCATTER - np.median(SCATTER)


def test_margin_effects_known_answers():
    """True (× 0.5), false (× 1, × 2) and boundary (× 0.9 = 1 − Δ) mitigations, and the
    conjunction."""
    d = np.log([[0.5], [1.0], [2.0], [0.9]]) + SCATTER
    dec = margin_effects(d, margin=0.1)
    assert dec.statuses == (HOLDS, VIOLATED, VIOLATED, INCONCLUSIVE) and dec.status == VIOLATED
    assert dec.basis[0] == "Holm" and dec.estimand == "median"
    assert dec.factor[1] == pytest.approx(1.0) and dec.lo[1] > 0.9 and dec.hi[0] < 0.9
    assert dec.p_not_holm[3] == pytest.approx(1.0)
    assert "Δ = 0.1" in dec.rule and "Holm over 4" in dec.rule and "intersection–union" in dec.rule
    one = margin_effects(d[[0]])
    assert one.status == HOLDS and one.basis == ("family (intersection–union)",)
    assert margin_effects(d[[0, 3]]).status == INCONCLUSIVE  # one undecided: not shown
    assert margin_effects(d[[0]], margin=0.6).status == VIOLATED  # × 0.5 is not a 60% cut
    for bad in (0.0, 1.0, 1.5, -0.2, float("nan")):
        with pytest.raises(ValueError, match="margin"):
            margin_effects(d, margin=bad)


def test_margin_effects_arguments_are_checked():
    d = np.log([[0.5]]) + SCATTER
    with pytest.raises(ValueError, match="^alpha: expected"):
        margin_effects(d, alpha=1.5)
    with pytest.raises(ValueError, match="^estimand: expected"):
        margin_effects(d, estimand="mode")
    bad = d.copy()
    bad[0, 3] = -np.inf  # a zero risk
    with pytest.raises(ValueError, match="^log_ratios: expected finite.*-inf"):
        margin_effects(bad)


def test_margin_effects_no_unsupported_mitigates_and_holm_for_does_not():
    """A variant that passes α/2 alone but not Holm's step is INCONCLUSIVE when the family does
    not hold: no per-variant "mitigates" the family does not support."""
    d_mit = (
        np.log(0.9)
        + np.r_[-0.1, -0.2, -0.05, -0.15, -0.12, -0.1, -0.1, -0.1, -0.1, 0.01, 0.02, -0.3]
    )
    alone = margin_effects(d_mit[None])  # 10 of 12 below: p = 0.019 ≤ 0.025
    assert alone.status == HOLDS and alone.p_mitigates[0] < 0.025
    fam = margin_effects(np.vstack([d_mit, np.log(1.0) + np.tile(SCATTER, (4, 1))]))
    assert fam.p_mitigates[0] == pytest.approx(alone.p_mitigates[0])
    assert fam.statuses[0] == INCONCLUSIVE and fam.basis[0] == ""
    d_not = np.r_[np.full(10, 0.0), -0.2, -0.3]  # 10 of 12 above 0.9: alone yes, Holm over 5 no
    assert margin_effects(d_not[None]).statuses[0] == VIOLATED
    fam = margin_effects(np.vstack([d_not, np.log(0.9) + np.tile(SCATTER, (4, 1))]))
    assert fam.statuses[0] == INCONCLUSIVE
    st, conj, _, _ = margin_effect_statuses(np.stack([d_mit[None], d_not[None]]))
    assert conj.tolist() == [HOLDS, VIOLATED] and st.shape == (2, 1)


def test_margin_identical_seeds_never_decide():
    for d in (np.zeros((2, 2)), np.full((3, 8), np.log(0.5)), np.full((1, 12), 1.0)):
        for est in ("median", "mean"):
            dec = margin_effects(d, estimand=est)
            assert set(dec.statuses) == {INCONCLUSIVE} and dec.status == INCONCLUSIVE
            assert "zero spread" in dec.rule


def test_margin_budget_grows_with_scatter_and_vanishes_on_the_margin():
    rng = np.random.default_rng(5)
    z = rng.standard_normal(8)
    narrow, wide = (margin_effects((np.log(0.8) + s * z)[None]) for s in (0.01, 0.3))
    assert 6 <= margin_seeds_for_power(narrow, 0) < margin_seeds_for_power(wide, 0)
    on = margin_effects((np.log(0.9) + SCATTER)[None], estimand="mean")
    assert margin_seeds_for_power(on, 0) == 0


def test_exponent_budget_from_the_observed_spread():
    wide = NoiseExponent(INCONCLUSIVE, 0.75, 0.55, 0.95, 0.1, True, 3, 4, "", "mean")
    narrow = wide._replace(lo=0.7, hi=0.8)
    assert exponent_seeds_for_power(wide) > exponent_seeds_for_power(narrow) >= 2
    assert (
        exponent_seeds_for_power(wide._replace(slope=0.9)) == 0
    )  # at the threshold: no budget decides
    assert exponent_seeds_for_power(wide._replace(seeds=1)) == 0


def test_seeds_for_power_monotone():
    assert seeds_for_power(0.0, 5) == 0
    big, small = seeds_for_power(3.0, 5), seeds_for_power(1.0, 5)
    assert 2 <= big < small
    assert seeds_for_power(1.0, 1) <= small  # a smaller family needs no more seeds


# ----------------------------------------------------------------------------- calibration


def test_ood_calibration_rows_meet_their_standard():
    rows = calibration_ood.rows(200)
    assert {r["case"] for r in rows} == {"true", "false", "boundary"}
    bad = [(r["rule"], r["planted"], r["rates"]) for r in rows if not r["meets"]]
    assert not bad
    assert calibration_ood in calibration.RULE_MODULES
    margin = [r for r in rows if r["rule"] == "margin_effects (C7)"]
    assert {r["case"] for r in margin} == {"true", "false", "boundary"}


def test_calibrated_noise_levels_are_c5s_default():
    assert tuple(c5.CLAIM.params["noise_levels"].default) == calibration_ood.NOISE_LEVELS


# ----------------------------------------------------------------------------- C5 test windows and
# verdict


def test_generated_ood_windows_are_sign_inconsistent_and_reproducible():
    data = cfg.default_config()["data"]
    a = datasets.ood_test_windows(data, jax.random.key(5), n=24, want=60)
    b = datasets.ood_test_windows(data, jax.random.key(5), n=24, want=60)
    assert a.X.shape == (60, data["d"]) and a.scanned >= 60
    assert np.all(np.sign(a.y) != np.sign(a.X[:, -1]))
    np.testing.assert_array_equal(a.X, b.X)
    assert (
        datasets.ood_test_windows({**data, "source": "sunspots"}, jax.random.key(5), n=24, want=60)
        is None
    )


def test_own_noise_variance_recovers_planted_noise():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 4))
    y = X @ np.array([0.5, -1.0, 0.2, 1.0]) + 0.3
    assert c5.own_noise_variance(X, y) == pytest.approx(0.0, abs=1e-20)
    assert c5.own_noise_variance(X, y + 0.1 * rng.normal(size=400)) == pytest.approx(0.01, rel=0.2)
    assert c5.own_noise_variance(X[:5], y[:5]) == 0.0  # not estimable


def test_check_c5_decides_without_the_constant():
    kw, expected = c5.example_check_input()
    v = c5.check_c5(**kw)
    assert v.status == expected == HOLDS and v.observed.status == HOLDS
    assert v.observed.rule.startswith("noise_exponent")
    # the diagnostic constant does not decide
    assert c5.check_c5(**{**kw, "c_R": 1e-6}).status == HOLDS
    # planted false: the linear net's risk does not vanish with the noise
    bad = c5.check_c5(
        **{
            **kw,
            "lin_risk": np.full((5, 10), 0.3)
            * np.exp(np.random.default_rng(0).normal(0, 0.05, (5, 10))),
        }
    )
    assert bad.status == VIOLATED and bad.counterexample["model"] == "linear"
    assert "sign-inconsistent test windows" in c5.summary_c5(v)
    assert Verdict.from_dict(v.to_dict()) == v
