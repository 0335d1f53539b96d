"""C2 and C3 on constructed inputs: premises first (data term, t_align, w_r(T) < 0), then conclusions."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from verification.claims import c2_asymmetric_learning as c2
from verification.claims import c3_last_token_mass as c3
from verification.stats import clopper_pearson, probability_decision, rate_decision
from verification.verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED, Verdict

# ---------------------------------------------------------------------------------------------
# C3

GOOD = np.tile([0.3, 0.3, 0.3, 0.1], (2, 60, 1))  # the last of d = 4 positions least attended
BAD = np.tile([0.1, 0.3, 0.3, 0.3], (2, 60, 1))  # position 1 least attended


def _c3(M, w, **kw):
    return c3.check_c3(widths=[60], seeds=[0, 1], masses_final=[M], weights_final=[w], delta=0.1, **kw)


def test_c3_premise_not_met_is_vacuous_naming_the_fraction():
    w = np.where(np.arange(60) % 2 == 0, -1.0, 1.0) * np.ones((2, 1))  # half the neurons negative
    v = _c3(GOOD, w)
    lo, hi = clopper_pearson(np.int64(60), np.int64(120), 0.05)
    assert v.status == VACUOUS and v.measured["negative_fraction"] == [0.5]
    assert v.measured["premise_status"] != HOLDS and v.intervals["negative_fraction[m=60]"] == [lo, hi]
    assert "60/120 = 0.500" in v.parts[0].finding and "premise not reached" in v.parts[0].finding
    assert v.parts[1].decisive and v.parts[1].status == VACUOUS and v.counterexample is None
    assert c3.summary_c3(v) == "premise not reached, w_r<0: 0.50 (need ≥ 0.90)"
    # even a conclusion that fails on every neuron does not decide while the premise is unmet
    assert _c3(BAD, w).status == VACUOUS


def test_c3_premise_decided_by_probability_decision():
    # 115 of 120 negative: 5 failures; the CP upper end of 5/120 is below δ = 0.1 (docs: <= 5 at 120 runs)
    w = -np.ones((2, 60))
    w[0, :5] = 1.0
    v = _c3(GOOD, w)
    dec = probability_decision(np.array([5]), np.array([120]), delta=0.1, alpha=0.05)
    assert v.measured["premise_status"] == dec.status == HOLDS and dec.rule in v.parts[0].finding
    w[0, :8] = 1.0  # 8 failures: not reached
    assert _c3(GOOD, w).status == VACUOUS


def test_c3_premise_met_conclusion_true_holds_false_violated():
    w = -np.ones((2, 60))
    v = _c3(GOOD, w)
    assert v.status == HOLDS and v.counterexample is None
    v = _c3(BAD, w)
    assert v.status == VIOLATED
    assert v.counterexample["premise"] == "w_r(T) < 0" and v.counterexample["least_attended_position"] == 1
    assert "Holm" in v.parts[1].finding or "CP" in v.parts[1].finding


def test_c3_conclusion_only_on_the_premise_neurons():
    # 116 of 120 negative (premise met); the 4 positive neurons attend least to position 1, the others to d
    w = -np.ones((2, 60))
    w[1, -4:] = 1.0
    M = GOOD.copy()
    M[1, -4:] = BAD[1, -4:]
    v = _c3(M, w)
    assert v.status == HOLDS and v.measured["fraction_last_least_premise"] == [1.0]
    assert v.measured["fraction_last_least"] == [pytest.approx(116 / 120)]  # unconditional: a diagnostic
    uncond = [p for p in v.parts if "unconditional" in p.name]
    assert len(uncond) == 4 and not any(p.decisive for p in uncond)


@pytest.mark.parametrize("expectation", c3.C3_EXPECTATIONS)
@pytest.mark.parametrize("versus", c3.C3_VERSUS)
def test_c3_both_readings_on_the_premise_neurons(expectation, versus):
    # the last position below 1/d but not the least: 'average' holds, 'every' fails, both expectations
    M = np.tile([0.1, 0.35, 0.35, 0.2], (2, 60, 1))
    v = _c3(M, -np.ones((2, 60)), expectation=expectation, versus=versus)
    assert v.status == (HOLDS if versus == "average" else VIOLATED)
    assert v.measured["decisive_reading"] == f"{expectation}/{versus}"
    key = c3._C3_KEYS[(expectation, versus)] + "_premise"
    direct = {("neuron", "every"): 0.0, ("neuron", "average"): 1.0, ("population", "every"): 0.1 - 0.2,
              ("population", "average"): 0.8 / 3 - 0.2}[(expectation, versus)]
    assert v.measured[key] == [pytest.approx(direct)]
    assert Verdict.from_dict(v.to_dict()) == v


def test_c3_data_condition_names_the_winning_position():
    X = np.random.default_rng(0).normal(size=(40, 5))
    s = (X[:, -1:] * X).mean(axis=0)
    dc = c3.data_condition(s)
    k = int(np.argmax(s[:-1]))
    assert dc == {"max_other": s[k], "argmax_position": k + 1, "last": s[-1], "holds": bool(s[k] <= s[-1])}
    v = _c3(GOOD, -np.ones((2, 60)), second_moments=np.array([0.2, 0.52, 0.3, 0.48]))
    part = next(p for p in v.parts if p.name.startswith("data condition"))
    assert not part.decisive and part.status == VIOLATED and "position 2 wins" in part.finding
    assert v.status == HOLDS and "k = 2" in v.explanation
    with pytest.raises(ValueError, match="second_moments"):
        c3.data_condition([1.0])


def test_c3_figure_and_summary(tmp_path):
    kw, expected = c3.example_check_input()
    v = c3.check_c3(**kw, conclusion_trajectory=np.array([[np.nan, 0.5, 1.0]]))
    assert v.measured["conclusion_over_time"] == {"reading": "neuron/every", "min": [0.5], "last": [1.0]}
    assert v.status == expected
    assert c3.summary_c3(v) == "w_r<0: 1.00 (need ≥ 0.90); on them last least attended: 1.00 (need ≥ 0.90)"
    assert c3.plot_c3(v, tmp_path) == ["c3_last_token_mass.png"]
    with pytest.raises(ValueError, match="weights_final"):
        c3.check_c3(**{**kw, "weights_final": [np.ones((2, 3))]})


def test_record_steps():
    r = c3.record_steps(1000, 5)
    assert r[0] == 0 and r[-1] == 1000 and np.all(np.diff(r) > 0)
    assert list(c3.record_steps(1000, 5)) == list(c2.record_steps(1000, 5)) == [0, 1, 5, 31, 177, 1000]
    with pytest.raises(ValueError, match="records"):
        c3.record_steps(10, 1)


# ---------------------------------------------------------------------------------------------
# C2

STEPS = np.array([0, 1, 2, 5, 10, 20, 50, 100])


def _counts(agree_final, total=60, widths=2, jump=20):
    """Agreement counts (W, 2 seeds, R): half agree until ``jump``, then ``agree_final`` of ``total``."""
    agree = np.full((widths, 2, STEPS.size), total // 2)
    agree[..., STEPS >= jump] = agree_final
    return agree, np.full((widths, 2), total)


def _c2(agree_final, *, lam=1.0, c_A=1.0, dtf=1.0, **kw):
    agree, n = _counts(agree_final)
    return c2.check_c2(widths=[8, 16], seeds=[0, 1], steps=STEPS, agree_plus=agree, n_plus=n, agree_minus=agree,
                       n_minus=n, lam=lam, lam_resolution=1e-12, eta=1.0, v_min=1.0, delta=0.1, c_A=c_A,
                       corr_y_xd=0.5, data_term_fraction=dtf, **kw)


def test_c2_premises_met_holds_or_violated():
    v = _c2(60)
    assert v.status == HOLDS
    assert "Holm over 4" not in v.parts[2].finding  # HOLDS: the intersection-union rule
    v = _c2(30)  # half of each group disagrees at T
    assert v.status == VIOLATED and "Holm over 4" in v.parts[2].finding
    assert _c2(55).status == INCONCLUSIVE  # 10/120 disagree: CP upper end above δ, not rejected either


def test_c2_data_term_absent_is_vacuous_saying_why():
    v = _c2(30, dtf=0.2)  # the agreement would be VIOLATED: not decided without the mechanism
    assert v.status == VACUOUS
    assert v.parts[0].status == VACUOUS and "0.20 < threshold 0.5" in v.parts[0].finding
    assert "cannot drive the drift" in v.parts[0].finding and "corr(y, x_d) = 0.500" in v.parts[0].finding
    assert not v.parts[2].decisive and v.parts[2].status == VIOLATED
    assert _c2(60, dtf=0.2, data_term_threshold=0.1).status == HOLDS


def test_c2_time_premise_beyond_reach_keeps_the_theorems_terms():
    v = _c2(30, c_A=1e6)  # t_align = 8e6 steps at m = 8, 100 run
    part = v.parts[1]
    assert v.status == VACUOUS and part.status == VACUOUS
    assert "t_align = 8e+06 steps at m = 8" in part.finding and "100 run" in part.finding
    assert "a factor 8e+04" in part.finding
    assert v.measured["t_over_t_align"] == [pytest.approx(100 / 8e6), pytest.approx(100 / 1.6e7)]
    v = _c2(60, lam=1e-300)
    assert v.status == VACUOUS and "unbounded" in v.parts[1].finding
    assert _c2(60, c_A=10.0).status == VACUOUS  # t_align(16) = 160 > 100: reached at m = 8 only
    assert "reached at m = 8" in _c2(60, c_A=10.0).parts[1].finding


def test_first_times_and_plateau_on_a_constructed_curve():
    curve = np.array([0.5, 0.55, 0.65, 0.75, 0.85, 0.95, 0.95, 0.95])
    ft = c2.first_times(curve, STEPS, (0.6, 0.7, 0.8, 0.9, 0.99))
    assert list(ft) == [2, 5, 10, 20, math.inf]
    level, settled = c2.plateau(curve, STEPS)  # records t >= 10: 0.85, 0.95, 0.95, 0.95
    assert level == pytest.approx(0.925) and not settled
    level, settled = c2.plateau(curve, STEPS, tail=0.2)  # t >= 20
    assert level == pytest.approx(0.95) and settled
    with pytest.raises(ValueError, match="fractions"):
        c2.first_times(curve[:-1], STEPS, (0.6,))


def test_c2_levels_and_saturation_reported():
    v = _c2(60)
    assert v.measured["first_time_plus"]["0.9"] == [20.0, 20.0]
    assert v.measured["first_time_minus"]["0.6"] == [20.0, 20.0]
    # last decade t >= 10: 0.5, 1, 1, 1 (the jump at 20 is inside it): still moving
    assert v.measured["plateau_plus"] == [0.875, 0.875] and v.measured["plateau_settled_minus"] == [False, False]
    sat = next(p for p in v.parts if p.name.startswith("saturation"))
    assert sat.status == INCONCLUSIVE and "m=8: 0.88/0.88 (still moving)" in sat.finding
    assert "1-δ reached at m = 8, 16" in c2.summary_c2(v)
    v = _c2(30)
    assert "1-δ reached at no width" in c2.summary_c2(v) and "0 width" not in c2.summary_c2(v)


@pytest.mark.parametrize("power, status", [(1.0, HOLDS), (2.0, VIOLATED)])
def test_c2_first_time_exponent_decided_with_a_margin(power, status):
    widths = np.array([2, 4, 8, 16])
    steps = np.unique(np.concatenate([[0], widths ** 1, widths ** 2]))
    agree = np.zeros((4, 2, steps.size), np.int64)
    for wi, m in enumerate(widths):
        agree[wi, :, steps >= m ** power] = 60
    n = np.full((4, 2), 60)
    v = c2.check_c2(widths=widths, seeds=[0, 1], steps=steps, agree_plus=agree, n_plus=n, agree_minus=agree,
                    n_minus=n, lam=1e-300, lam_resolution=1e-12, eta=1.0, v_min=1.0, delta=0.1)
    part = next(p for p in v.parts if p.name.startswith("first time ∝ m"))
    rd = rate_decision(widths, (widths ** power)[:, None] * np.ones((1, 2)), exponent=1.0, margin=0.1)
    assert part.status == rd.status == status and not part.decisive
    assert v.measured["first_time_exponent"]["a_r=+1, level 0.9"] == pytest.approx(power)
    assert v.status == VACUOUS  # λ unresolved: the exponent does not decide


def test_c2_linearised_agreement_and_empty_groups():
    agree, n = _counts(60)
    n_plus = n.copy()
    n_plus[0] = 0  # width 8 drew no a_r = +1 neuron
    v = c2.check_c2(widths=[8, 16], seeds=[0, 1], steps=STEPS, agree_plus=np.where(n_plus[..., None] > 0, agree, 0),
                    n_plus=n_plus, agree_minus=agree, n_minus=n, lam=1.0, lam_resolution=1e-12, eta=1.0, v_min=1.0,
                    delta=0.1, linear_agreement={16: [0.5, 0.6]})
    assert np.isnan(v.measured["final_agreement_plus"][0]) and "agreement_plus_final[m=8]" not in v.intervals
    assert any("no neuron has a_r = +1 at m = 8" in p.finding for p in v.parts)
    assert v.status == HOLDS  # the remaining 3 members of the family agree everywhere
    lin = next(p for p in v.parts if p.name.startswith("linearised"))
    assert lin.status == INCONCLUSIVE and "m=16: 0.55" in lin.finding and "does not predict" in lin.finding


def test_c2_figure_from_the_verdict_alone(tmp_path):
    kw, expected = c2.example_check_input()
    v = c2.check_c2(**kw)
    assert v.status == expected
    v2 = Verdict.from_dict(v.to_dict())
    assert c2.plot_c2(v2, tmp_path) == ["c2_sign_agreement.png"]
    assert c2.plot_c2(_c2(30), tmp_path) == ["c2_sign_agreement.png"]  # a level never reached at t > 0


def test_c2_run_on_a_tiny_configuration():
    from verification import config as cfg
    from verification.contract import Context

    config = cfg.validate({"C2": {"widths": [4, 8, 16], "seeds": 1, "steps": 4, "records": 2}, "data": {"n": 6}})
    v = c2.run_c2(config["C2"], Context(config=config, seed=0, quiet=True))
    assert v.tested_range == {"widths": [4, 8, 16], "seeds": v.tested_range["seeds"], "steps": 4}
    assert 0.0 <= v.measured["data_term_fraction"] <= 1.0 and -1.0 <= v.measured["corr_y_xd"] <= 1.0
    assert set(v.measured["linearized_sign_agreement"]) == {"16"}
    assert v.parts[1].name.startswith("t >= t_align")
