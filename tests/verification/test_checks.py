"""Each claim's pure check on constructed inputs whose verdict is known."""

import numpy as np
import pytest
from hypothesis import given, settings

from ntk_attention import attention_weights, mean_attention_mass
from verification import strategies as vst
from verification.paper_claims import (
    EnvelopeRun,
    check_c1,
    check_c2,
    check_c3,
    check_c4,
    check_c5,
    interval_status,
    slope_status,
)
from verification.verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED, Verdict

STEPS = np.arange(0, 101, 10)
WIDTHS = np.array([8, 16])
SEEDS = np.array([0, 1])


def _losses(rate, L0=2.0, steps=STEPS):
    return np.broadcast_to(L0 * rate ** steps.astype(float), (2, 2, steps.size)).copy()


def _c1(loss, lam=0.1, rho=1e-14, steps=STEPS, eps=1e-3):
    run = EnvelopeRun(4, lam, rho, WIDTHS, SEEDS, steps, loss, 1.0, 1.0)
    return check_c1([run], eta=1.0, eps=eps, delta=0.1)


def test_interval_and_slope_rules():
    assert interval_status(0.1, 0.2, 0.3, upper=True) == HOLDS
    assert interval_status(0.4, 0.5, 0.3, upper=True) == VIOLATED
    assert interval_status(0.2, 0.4, 0.3, upper=True) == INCONCLUSIVE
    assert interval_status(0.95, 0.99, 0.9, upper=False) == HOLDS
    assert interval_status(0.5, 0.8, 0.9, upper=False) == VIOLATED
    assert slope_status(-0.6, -0.4) == HOLDS
    assert slope_status(-0.3, -0.1) == VIOLATED
    assert slope_status(-0.8, 0.2) == INCONCLUSIVE
    assert slope_status(-1.2, -0.9) == HOLDS  # faster than m^-1/2 meets an O(m^-1/2) bound


def test_c1_envelope_met_holds():
    v = _c1(_losses(0.9))  # 0.9^t <= (1 - 0.05)^t, and L(t) <= 1e-3 once t >= T_req = log(4000)/0.1 = 83
    assert v.status == HOLDS, v.parts
    assert v.bounds["T_req[n=4]"] == pytest.approx(np.log(4 / 1e-3) / 0.1)
    assert Verdict.from_dict(v.to_dict()) == v


def test_c1_broken_envelope_violated_smallest_counterexample():
    loss = _losses(0.9)
    loss[1, 0, 5] = 2.0  # width 16, seed 0, step 50: far above 2 * 0.95^50
    loss[0, 1, 8] = 1.0  # width 8, seed 1, step 80: also broken, smaller width
    v = _c1(loss)
    assert v.status == VIOLATED
    assert v.counterexample["width"] == 8 and v.counterexample["seed"] == 1 and v.counterexample["step"] == 80


def test_c1_unresolved_lambda_is_vacuous():
    v = _c1(_losses(0.9), lam=1e-300, rho=1e-14)
    assert v.status == VACUOUS
    assert all(p.status == VACUOUS for p in v.parts)
    assert "resolution" in v.parts[0].finding and v.bounds["T_req[n=4]"] == float("inf")


def test_c1_between_envelopes_inconclusive():
    # lambda known only to [0.05, 0.15]: a loss on the lambda = 0.1 envelope is neither met nor broken;
    # 30 steps are fewer than T_req, so that part is VACUOUS and INCONCLUSIVE wins
    steps = np.arange(0, 31, 10)
    v = _c1(_losses(0.95, steps=steps), rho=0.05, steps=steps)
    assert [p.status for p in v.parts] == [INCONCLUSIVE, VACUOUS]
    assert v.status == INCONCLUSIVE


def _c2(agree, lam=1.0, c_A=1.0, total=50):
    kp = np.full((2, 2, STEPS.size), total // 2)
    kp[..., STEPS >= 8] = agree  # aligned from t_align(m) = c_A m / (eta lam v_min) = m = 8 on
    n_ = np.full((2, 2), total)
    return check_c2(widths=WIDTHS, seeds=SEEDS, steps=STEPS, agree_plus=kp, n_plus=n_, agree_minus=kp, n_minus=n_,
                    lam=lam, lam_resolution=1e-12, eta=1.0, v_min=1.0, delta=0.1, c_A=c_A)


def test_c2_verdicts():
    assert _c2(50).status == HOLDS  # 100/100 pooled: CP lower 0.964 >= 0.9
    v = _c2(25)
    assert v.status == VIOLATED and v.counterexample["width"] == 8
    assert _c2(46).status == INCONCLUSIVE  # 92/100: [0.848, 0.965] straddles 0.9
    assert _c2(50, lam=1e-300).status == VACUOUS
    v = _c2(50, c_A=1e6)  # t_align = 8e6 steps: beyond reach
    assert v.status == VACUOUS and "beyond reach" in v.parts[0].finding


def test_c2_direction_and_first_time_diagnostics_do_not_decide():
    kp = np.tile(np.array([25, 30, 35, 40, 45, 50, 50, 50, 50, 50, 50]), (3, 1, 1))
    v = check_c2(widths=[8, 16, 32], seeds=[0], steps=STEPS, agree_plus=kp, n_plus=np.full((3, 1), 50), agree_minus=kp,
                 n_minus=np.full((3, 1), 50), lam=1e-300, lam_resolution=1e-12, eta=1.0, v_min=1.0, delta=0.1,
                 direction_steps=STEPS, direction_along=np.full(STEPS.size, 10), direction_total=100)
    assert v.status == VACUOUS
    diag = {p.name: p for p in v.parts if not p.decisive}
    assert diag["per-step update Δw_r has the sign of a_r"].status == VIOLATED
    assert v.measured["first_time_reaching_1_minus_delta"] == [40.0, 40.0, 40.0]  # 45/50 = 0.9 at t = 40
    assert v.measured["first_time_exponent"] == pytest.approx(0.0, abs=1e-12)


def _masses(last, others, shape=(2, 50)):
    d = len(others) + 1
    M = np.empty((*shape, d))
    M[..., :-1] = others
    M[..., -1] = last
    return M / M.sum(-1, keepdims=True)


def test_c3_verdicts():
    good = _masses(0.05, [0.2, 0.3, 0.45])
    bad = _masses(0.5, [0.1, 0.2, 0.2])
    assert check_c3(widths=[50], seeds=[0, 1], masses_final=[good], delta=0.1).status == HOLDS
    v = check_c3(widths=[50, 100], seeds=[0, 1], masses_final=[good, np.concatenate([bad, bad], axis=1)], delta=0.1)
    assert v.status == VIOLATED and v.counterexample["width"] == 100 and v.counterexample["least_attended_position"] == 1
    mixed = good[:1].copy()
    mixed[0, :5] = bad[0, :5]  # 45 of 50 neurons satisfy: CP [0.78, 0.97] straddles 0.9
    assert check_c3(widths=[50], seeds=[0], masses_final=[mixed], delta=0.1).status == INCONCLUSIVE


def _c4(h0, lam=1.0, bern=None, eig=None, jitter=None):
    m = np.array([64.0, 256, 1024, 4096])
    jitter = np.exp(0.05 * np.random.default_rng(0).normal(size=(4, 3))) if jitter is None else jitter
    h0v = h0(m)[:, None] * jitter
    return check_c4(widths=m, seeds=[0, 1, 2], h0_dist=h0v, ht_change=h0v / 2, weight_change=h0v * 3,
                    min_eig=np.full((4, 3), 0.8) if eig is None else eig, lam=lam, lam_resolution=1e-12,
                    bernstein=np.full(4, 100.0) if bern is None else bern, delta=0.1)


def test_c4_verdicts():
    assert _c4(lambda m: m**-0.5).status == HOLDS
    assert _c4(lambda m: m**0.0).status == VIOLATED
    v = _c4(lambda m: m**-0.5, lam=1e-300)
    assert v.status == VACUOUS and [p.status for p in v.parts][:4] == [HOLDS] * 4
    v = _c4(lambda m: m**-0.5, bern=np.full(4, 1e-9))
    assert v.status == VIOLATED and v.counterexample["width"] == 64
    v = _c4(lambda m: m**-0.5, eig=np.full((4, 3), 0.1))  # 0.1 < lambda/2 = 0.5
    assert v.status == VIOLATED
    # seeds scattered by e^{+-2}: slope -0.25 with t interval [-0.99, 0.49], containing -1/2 and 0
    v = _c4(lambda m: m**-0.25, jitter=np.tile(np.exp([2.0, -2.0, 0.0]), (4, 1)))
    assert v.intervals["slope_H0_minus_Hstar"][0] < -0.5 < 0 < v.intervals["slope_H0_minus_Hstar"][1]
    assert v.status == INCONCLUSIVE


def _c5(att, lin, n_test=60):
    rng = np.random.default_rng(1)
    att_e = [[att * rng.chisquare(1, size=(n_test, 2)) * 0.01]]
    lin_e = [[lin * rng.chisquare(1, size=(n_test, 1)) * 0.01]]
    return check_c5(sizes=[16], steps=[100], att_sq_err=att_e, lin_sq_err=lin_e, noise_std=0.1, c_R=1.0, resamples=300)


def test_c5_verdicts():
    level = 1 + np.log(16)  # 3.77
    v = _c5(200.0, 1.1)
    assert v.status == HOLDS and v.bounds["risk_level_over_sigma2"] == [pytest.approx(level)]
    v = _c5(1.0, 1.1)
    assert v.status == VIOLATED and v.counterexample["model"] == "attention"
    assert _c5(200.0, level).status == INCONCLUSIVE


@settings(max_examples=10, deadline=None)
@given(vst.params(width=6, output_signs="minus"), vst.windows(n=4, d=5, distinct=True))
def test_c3_fraction_matches_direct_softmax(params, X):
    # masses from the fast path, decided by check_c3; the same fraction from jax.nn.softmax weights
    masses = np.asarray(mean_attention_mass(params, X))[None]
    v = check_c3(widths=[6], seeds=[0], masses_final=[masses], delta=0.1)
    s = np.asarray(attention_weights(params, X)).mean(axis=0)  # (m, d)
    direct = np.mean(s[:, -1] <= s[:, :-1].min(axis=1) + 1e-12)
    assert v.measured["fraction_last_least"] == [pytest.approx(direct)]
