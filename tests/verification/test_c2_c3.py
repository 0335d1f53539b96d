"""C2 and C3 on constructed inputs: premises first (data term, t_align, w_r(T) < 0), then
conclusions."""

import math

import numpy as np
import pytest

# ---------------------------------------------------------------------------------------------
# C3
from verification.calibration import _seeds as calibration_seeds
from verification.claims import c2_asymmetric_learning as c2
from verification.claims import c3_last_token_mass as c3
from verification.rules import _laws as laws
from verification.rules import clopper_pearson, rate_decision
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED, Verdict

GOOD = np.tile(
    [0.3, 0.3, 0.3, 0.1], (40, 60, 1)
)  # the last of d = 4 positions least attended, 40 networks
BAD = np.tile([0.1, 0.3, 0.3, 0.3], (40, 60, 1))  # position 1 least attended
MET = dict(
    kernel_change=[np.full(40, 0.01)], eta=1e-3, lam=0.1, lam_resolution=1e-12
)  # premises met


def _c3(M, w, **kw):
    S = M.shape[0]
    kw = {**{k: ([x[0][:S]] if k == "kernel_change" else x) for k, x in MET.items()}, **kw}
    return c3.check_c3(
        widths=[60], seeds=list(range(S)), masses_final=[M], weights_final=[w], delta=0.1, **kw
    )


def test_c3_premises_unmet_make_the_theorem_vacuous_naming_how_far():
    # the default data's numbers: the run leaves the kernel regime and η is 36 orders above λδ
    v = _c3(
        GOOD,
        -np.ones((40, 60)),
        kernel_change=[np.full(40, 0.998)],
        eta=0.1,
        lam=1e-36,
        lam_resolution=1e-44,
    )
    assert v.status == VACUOUS  # although the conclusion would hold
    kp, sp = v.parts[0], v.parts[1]
    assert kp.role == sp.role == "premise" and kp.status == sp.status == VIOLATED
    assert "0.998 > 0.25" in kp.why and sp.why == "η above λδ by 36 orders"
    assert v.measured["step_size_orders"] == pytest.approx(36.0)
    assert "kernel regime left" in c3.summary_c3(v) and "Premises not met" in v.explanation
    # boundary of the kernel premise: exactly at the threshold is met; unmeasured is not checked
    assert _c3(GOOD, -np.ones((40, 60)), kernel_change=[np.full(40, 0.25)]).parts[0].status == HOLDS
    v = _c3(GOOD, -np.ones((40, 60)), kernel_change=None)
    assert v.parts[0].status == VACUOUS and v.status == VACUOUS


def test_c3_premises_met_conclusion_true_holds_false_violated():
    w = -np.ones((40, 60))
    assert _c3(GOOD, w).status == HOLDS
    v = _c3(BAD, w)
    assert v.status == VIOLATED and v.counterexample["least_attended_position"] == 1
    assert v.counterexample["premise"] == "w_r(T) < 0" and laws.SEED_RULE in v.parts[3].finding


def test_c3_seeds_not_neurons_are_the_unit():
    # 2 networks × 320 neurons, all failing: 2 trials (p = 0.01 each), not 640 (p = 1e-128)
    w = -np.ones((2, 320))
    M = np.tile([0.1, 0.3, 0.3, 0.3], (2, 320, 1))
    v = _c3(M, w)
    concl = v.parts[3]
    assert concl.status == VIOLATED and "2/2" in concl.finding and "p = 0.01" in concl.finding
    assert "e-128" not in concl.finding
    assert (
        v.parts[2].status == INCONCLUSIVE
    )  # w_r < 0 in 2/2 networks cannot show a 1-δ probability
    assert v.status == INCONCLUSIVE  # an undecided premise caps the theorem's verdict
    assert (
        _c3(GOOD[:2, :60], -np.ones((2, 60))).status == INCONCLUSIVE
    )  # true but two draws: boundary of power


def test_c3_conclusion_on_the_first_negative_neuron():
    # neuron 0 is positive in every network and attends least to position 1; the first negative one
    # holds
    w = -np.ones((40, 60))
    w[:, 0] = 1.0
    M = GOOD.copy()
    M[:, 0] = BAD[:, 0]
    v = _c3(M, w)
    assert v.parts[3].status == HOLDS
    assert v.measured["fraction_last_least"] == [
        pytest.approx(59 / 60)
    ]  # every neuron: a diagnostic
    assert (
        v.parts[2].status == VIOLATED and v.status == VACUOUS
    )  # neuron 0 is the premise's designated trial


@pytest.mark.parametrize("expectation", c3.C3_EXPECTATIONS)
@pytest.mark.parametrize("versus", c3.C3_VERSUS)
def test_c3_both_readings_on_the_premise_neurons(expectation, versus):
    # the last position below 1/d but not the least: 'average' holds, 'every' fails, both
    # expectations
    M = np.tile([0.1, 0.35, 0.35, 0.2], (40, 60, 1))
    v = _c3(M, -np.ones((40, 60)), expectation=expectation, versus=versus)
    assert v.status == (HOLDS if versus == "average" else VIOLATED)
    assert v.measured["decisive_reading"] == f"{expectation}/{versus}"


def _traj(S, R, fail_from):
    ok = np.ones((S, R, 8), bool)
    ok[:, fail_from:] = False
    w = -np.broadcast_to(np.geomspace(0.01, 20, R)[None, :, None], (S, R, 8)).copy()
    return ok, w


def test_c3_observed_boundary_true_false_and_budget():
    steps = np.array([0, 1, 5, 20, 200, 2000])
    grid_w = -np.array([0.1, 1.0, 2.0, 5.0])
    grid = np.array([[0.3, 0.3, 0.3, 0.1]] * 2 + [[0.1, 0.3, 0.3, 0.3]] * 2)
    ok, w = _traj(40, 6, 4)  # holds to t = 20 in every network, fails from t = 200
    kw = dict(
        steps=steps,
        neuron_ok_trajectory=[ok],
        weights_trajectory=[w],
        w_grid=grid_w,
        grid_masses=grid,
    )
    v = _c3(GOOD, -np.ones((40, 60)), **kw, training_windows=24)
    o = v.observed
    assert o.status == VIOLATED and o.looseness["t_hold"] == 20 and o.looseness["t_star"] == 200
    # the training windows' boundary is a labelled one-sample diagnostic, not a looseness number
    assert v.measured["data_boundary_training_windows"] == {
        "w_hold": 1.0,
        "w_fail": 2.0,
        "windows": 24,
    }
    assert "w_star_data" not in o.looseness and o.rule == laws.SEED_RULE
    assert "in the 24 training windows (diagnostic, one sample, no interval)" in o.finding
    ok, w = _traj(40, 6, 6)  # true all along
    o = _c3(
        GOOD, -np.ones((40, 60)), **{**kw, "neuron_ok_trajectory": [ok], "weights_trajectory": [w]}
    ).observed
    assert o.status == HOLDS and "t_star" not in o.looseness
    ok, w = _traj(2, 6, 6)  # true, two draws: INCONCLUSIVE with the budget that would decide it
    o = _c3(
        GOOD[:2],
        -np.ones((2, 60)),
        **{**kw, "neuron_ok_trajectory": [ok], "weights_trajectory": [w]},
    ).observed
    assert o.status == INCONCLUSIVE and o.budget.startswith("36 seeds per width")
    # data on which a common negative weight never keeps the last position least attended
    # (as haar's)
    v = _c3(
        GOOD, -np.ones((40, 60)), **{**kw, "grid_masses": np.tile([0.1, 0.3, 0.3, 0.3], (4, 1))}
    )
    assert (
        math.isnan(v.measured["data_boundary_training_windows"]["w_hold"])
        and "it breaks already at the grid's smallest |w| = 0.1" in v.observed.finding
    )


def test_laws_rules_on_planted_truths():
    ok = np.array([[False, True, True], [True, False, True]])
    assert laws.designated_outcomes(ok)[:2] == (1, 2)
    assert laws.designated_outcomes(ok, ~ok)[:2] == (
        2,
        2,
    )  # the first ineligible-free neuron fails by design
    assert laws.designated_outcomes(ok, np.zeros_like(ok))[1] == 0
    assert laws.seed_decision([0], [0], delta=0.1) is None
    assert laws.seed_decision([0], [36], delta=0.1).status == HOLDS
    assert laws.seed_decision([0], [35], delta=0.1).status == INCONCLUSIVE  # boundary of power
    assert laws.seeds_for_power(delta=0.1) == 36
    steps = np.array([0, 1, 2, 5, 10, 20])
    assert laws.onset_fit_reading(np.array([[2.0], [5.0], [10.0]]), steps) == ""
    assert "censored" in laws.onset_fit_reading(np.array([[1.0], [2.0], [5.0]]), steps)
    assert "resolution" in laws.onset_fit_reading(np.array([[5.0], [5.0], [5.0]]), steps)
    assert "not reached" in laws.onset_fit_reading(np.array([[5.0], [np.inf]]), steps)
    assert laws.step_size_premise(1e-3, 0.1, 1e-12, delta=0.1).status == HOLDS
    assert (
        laws.step_size_premise(1e-2, 0.1, 1e-12, delta=0.1).status == HOLDS
    )  # η = λδ: the boundary is met
    assert laws.step_size_premise(0.1, 0.1, 1e-12, delta=0.1).status == VIOLATED
    assert laws.step_size_premise(0.1, 1e-40, 1e-30, delta=0.1).status == VACUOUS
    with pytest.raises(ValueError, match="eta"):
        laws.step_size_premise(-1.0, 0.1, 0.0, delta=0.1)
    with pytest.raises(ValueError, match="w_abs"):
        laws.conclusion_boundary(np.array([1.0, 0.5]), np.array([True, True]))


def test_seed_rule_calibration_meets_its_standard():
    rows = calibration_seeds.rows(40)
    assert {r["case"] for r in rows} == {"true", "false", "boundary"}
    bad = [(r["planted"], r["rates"]) for r in rows if not r["meets"] and not r["note"]]
    assert not bad
    contrast = rows[-1]
    assert (
        contrast["budget"].get("pooled") and not contrast["meets"]
    )  # why neurons are not the unit


def test_c3_data_condition_names_the_winning_position():
    X = np.random.default_rng(0).normal(size=(40, 5))
    s = (X[:, -1:] * X).mean(axis=0)
    dc = c3.data_condition(s)
    k = int(np.argmax(s[:-1]))
    assert dc == {
        "max_other": s[k],
        "argmax_position": k + 1,
        "last": s[-1],
        "holds": bool(s[k] <= s[-1]),
    }
    v = _c3(GOOD, -np.ones((40, 60)), second_moments=np.array([0.2, 0.52, 0.3, 0.48]))
    part = next(p for p in v.parts if p.name.startswith("data condition"))
    assert not part.decisive and part.status == VIOLATED and "position 2 wins" in part.finding
    assert v.status == HOLDS and "k = 2" in v.explanation
    with pytest.raises(ValueError, match="second_moments"):
        c3.data_condition([1.0])


def test_c3_figure_and_summary(tmp_path):
    kw, expected = c3.example_check_input()
    v = c3.check_c3(**kw, conclusion_trajectory=np.array([[np.nan, 0.5, 1.0]]))
    assert v.measured["conclusion_over_time"] == {
        "reading": "neuron/every",
        "min": [0.5],
        "last": [1.0],
    }
    assert v.status == expected
    assert c3.summary_c3(v).startswith(
        "last least attended fails in 0/40 networks at T; observed HOLDS"
    )
    assert c3.plot_c3(v, tmp_path) == ["c3_last_token_mass.png"]
    with pytest.raises(ValueError, match="weights_final"):
        c3.check_c3(**{**kw, "weights_final": [np.ones((2, 3))]})
    assert "premise" in Verdict.from_dict(v.to_dict()).to_dict()["headline"]


def test_record_steps():
    r = c3.record_steps(1000, 5)
    assert r[0] == 0 and r[-1] == 1000 and np.all(np.diff(r) > 0)
    assert (
        list(c3.record_steps(1000, 5)) == list(c2.record_steps(1000, 5)) == [0, 1, 5, 31, 177, 1000]
    )
    with pytest.raises(ValueError, match="records"):
        c3.record_steps(10, 1)


# ---------------------------------------------------------------------------------------------
# C2

STEPS = np.array([0, 1, 2, 5, 10, 20, 50, 100])


S2 = 40  # networks per width: enough for the seed-level rule to reach HOLDS


def _counts(agree_final, total=60, widths=2, jump=20, seeds=S2):
    """Agreement counts (W, seeds, R): half agree until ``jump``, then ``agree_final`` of
    ``total``."""
    agree = np.full((widths, seeds, STEPS.size), total // 2)
    agree[..., STEPS >= jump] = agree_final
    return agree, np.full((widths, seeds), total)


def _designated(agree_final, total=60, seeds=S2):
    """The designated neuron agrees in every network when all agree; in half of them at 30/60; else
    in all but 5."""
    d = np.ones((2, seeds, 2), bool)
    if agree_final <= total // 2:
        d[:, ::2] = False
    elif agree_final < total:
        d[:, :5] = False
    return d


def _c2(agree_final, *, lam=1.0, c_A=1.0, dtf=1.0, **kw):
    agree, n = _counts(agree_final)
    kw.setdefault("designated_agree", _designated(agree_final))
    return c2.check_c2(
        widths=[8, 16],
        seeds=np.arange(S2),
        steps=STEPS,
        agree_plus=agree,
        n_plus=n,
        agree_minus=agree,
        n_minus=n,
        lam=lam,
        lam_resolution=1e-12,
        eta=1.0,
        v_min=1.0,
        delta=0.1,
        c_A=c_A,
        corr_y_xd=0.5,
        data_term_fraction=dtf,
        **kw,
    )


def test_c2_premises_met_holds_or_violated():
    v = _c2(60)
    assert v.status == HOLDS
    assert "Holm over 4" not in v.parts[2].finding  # HOLDS: the intersection-union rule
    v = _c2(30)  # half of each group disagrees at T
    assert v.status == VIOLATED and "Holm over 4" in v.parts[2].finding
    # 5/60 neurons of every network disagree: mean failure fraction 0.083 < δ, too close for 40
    # networks
    assert _c2(55).status == INCONCLUSIVE
    assert (
        "network draws as the unit" in v.parts[2].name
        and v.parts[0].role == v.parts[1].role == "premise"
    )
    v = _c2(
        60, designated_agree=None
    )  # the designated neurons are a diagnostic: the decision needs only the counts
    assert v.status == HOLDS and not any(p.name.startswith("designated") for p in v.parts)
    des = next(
        p for p in _c2(55).parts if p.name.startswith("designated")
    )  # 5/40 designated neurons disagree
    assert des.status == INCONCLUSIVE and not des.decisive and "5/40" in des.finding


def test_c2_data_term_absent_is_vacuous_saying_why():
    v = _c2(30, dtf=0.2)  # the agreement would be VIOLATED: not decided without the mechanism
    assert v.status == VACUOUS
    assert v.parts[0].status == VACUOUS and "0.20 < threshold 0.5" in v.parts[0].finding
    assert (
        "cannot drive the drift" in v.parts[0].finding
        and "corr(y, x_d) = 0.500" in v.parts[0].finding
    )
    assert v.parts[0].role == "premise" and v.parts[2].status == VIOLATED
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
    assert v.measured["first_crossing_plus"]["0.9"] == [20.0, 20.0]
    assert v.measured["first_crossing_minus"]["0.6"] == [20.0, 20.0]
    # last decade t >= 10: 0.5, 1, 1, 1 (the jump at 20 is inside it): still moving
    assert v.measured["plateau_plus"] == [0.875, 0.875] and v.measured["plateau_settled_minus"] == [
        False,
        False,
    ]
    sat = next(p for p in v.parts if p.name.startswith("saturation"))
    assert sat.status == INCONCLUSIVE and "m=8: 0.88/0.88 (still moving)" in sat.finding
    assert "1-δ held to T (median network) at m = 8, 16" in c2.summary_c2(v)
    v = _c2(30)
    assert "no onset of 1-δ" in c2.summary_c2(v) and "0 width" not in c2.summary_c2(v)


# per-network scatter of the onsets, ±10% in pairs (9/10 with 10/9 at every width, so the mean
# log onset is exactly that of 90 m^p): identical networks would be zero spread, never decided
ONSET_SCATTER = np.array(
    [
        [0.9, 1, 10 / 9, 1],
        [10 / 9, 1, 0.9, 1],
        [1, 0.9, 1, 10 / 9],
        [1, 10 / 9, 1, 0.9],
        [0.9, 1, 1, 10 / 9],
        [10 / 9, 1, 1, 0.9],
        [1, 0.9, 10 / 9, 1],
        [1, 10 / 9, 0.9, 1],
    ]
).T  # (widths, networks)


def _first_time_input(onsets):
    """check_c2's inputs where network s of the w-th width aligns (all 60 neurons) from
    ``onsets[w, s]`` on, records at t = 0, 1 and every onset (t = 1 recorded: onsets not
    censored)."""
    widths = np.array([2, 4, 8, 16])
    steps = np.unique(np.concatenate([[0, 1], onsets.ravel()]))
    agree = np.where(steps >= onsets[..., None], 60, 0)
    n = np.full(onsets.shape, 60)
    return dict(
        widths=widths,
        seeds=list(range(onsets.shape[1])),
        steps=steps,
        agree_plus=agree,
        n_plus=n,
        agree_minus=agree,
        n_minus=n,
        lam=1e-300,
        lam_resolution=1e-12,
        eta=1.0,
        v_min=1.0,
        delta=0.1,
    )


@pytest.mark.parametrize("power, status", [(1.0, HOLDS), (2.0, VIOLATED)])
def test_c2_first_time_exponent_decided_with_a_margin(power, status):
    widths = np.array([2, 4, 8, 16])
    onsets = np.round(90 * widths[:, None] ** power * ONSET_SCATTER).astype(np.int64)
    v = c2.check_c2(**_first_time_input(onsets))
    part = next(p for p in v.parts if p.name.startswith("onset ∝ m"))
    rd = rate_decision(widths, onsets, exponent=1.0, margin=0.1)
    assert part.status == rd.status == status and not part.decisive
    assert v.measured["onset_exponent"]["a_r=+1, level 0.9"] == pytest.approx(power)
    assert v.status == VACUOUS  # λ unresolved: the exponent does not decide
    # the same onsets in every network: zero spread, undecided and named so
    same = np.round(90 * widths[:, None] ** power * np.ones((1, 2))).astype(np.int64)
    part = next(
        p for p in c2.check_c2(**_first_time_input(same)).parts if p.name.startswith("onset ∝ m")
    )
    assert part.status == INCONCLUSIVE and "zero spread" in part.finding


def test_c2_quantised_first_times_are_uninformative_never_holds():
    # the default run's records: every level reached at the first record t = 1 at every width
    widths = np.array([16, 32, 64, 128])
    agree = np.full((4, 3, STEPS.size), 60)
    agree[..., 0] = 30
    n = np.full((4, 3), 60)
    v = c2.check_c2(
        widths=widths,
        seeds=[0, 1, 2],
        steps=STEPS,
        agree_plus=agree,
        n_plus=n,
        agree_minus=agree,
        n_minus=n,
        lam=1.0,
        lam_resolution=1e-12,
        eta=1.0,
        v_min=1.0,
        delta=0.1,
    )
    part = next(p for p in v.parts if p.name.startswith("onset ∝ m"))
    assert part.status == VACUOUS and "uninformative" in part.finding and "censored" in part.finding
    assert "onset_exponent" not in v.measured
    assert "uninformative" in v.observed.finding and "onset_exponent_m" not in v.observed.looseness


# onsets, never first crossings (issue 27)

DEFAULT_RECORDS = np.array([0, 1, 2, 4, 5, 8, 11, 16, 22, 32, 46, 65, 92, 130, 185, 262, 371])


def _curves_input(agree, widths, steps):
    """check_c2's inputs from per-network agreeing counts ``agree`` (W, S, R) of 60 neurons in
    both groups (λ unresolved: only the diagnostics and the observed law speak)."""
    n = np.full(agree.shape[:2], 60)
    return dict(
        widths=np.asarray(widths),
        seeds=list(range(agree.shape[1])),
        steps=steps,
        agree_plus=agree,
        n_plus=n,
        agree_minus=agree,
        n_minus=n,
        lam=1e-300,
        lam_resolution=1e-12,
        eta=1.0,
        v_min=1.0,
        delta=0.1,
    )


def test_c2_onset_is_held_to_the_end_never_a_first_crossing():
    # every network crosses 1-δ at t = 2, flips its whole group back at t = 10, holds from t = 50
    agree = np.full((2, S2, STEPS.size), 60)
    agree[..., STEPS < 2] = 30
    agree[..., (STEPS >= 10) & (STEPS < 50)] = 0
    v = c2.check_c2(**_curves_input(agree, [8, 16], STEPS))
    assert v.measured["first_crossing_plus"]["0.9"] == [2.0, 2.0]  # the crossing, so named
    assert v.measured["observed_onset"] == v.measured["median_onset"] == [50.0, 50.0]
    assert "m = 8: t = 50" in v.observed.finding and "t = 2" not in v.observed.finding
    assert c2.onset_times(agree[0, 0] / 60, STEPS, (0.9,)).tolist() == [50.0]


def test_c2_censored_networks_have_no_onset_and_say_so():
    # 30 of 40 networks hold from t = 5; 10 flip at t = 50 and stay flipped (no onset by T = 100)
    agree = np.full((2, S2, STEPS.size), 60)
    agree[..., STEPS < 5] = 30
    agree[:, :10, STEPS >= 50] = 0
    agree[1, :, -1] = 0  # at m = 16 every network flips at T: censored everywhere
    v = c2.check_c2(**_curves_input(agree, [8, 16], STEPS))
    M, fin = v.measured, v.observed.finding
    assert M["onset_censored"] == [10, 40] and M["median_onset"][0] == 5.0
    assert math.isinf(M["observed_onset"][0]) and math.isinf(M["median_onset"][1])
    assert "m = 8: t = 5 / t >100 (censored) (10 networks never hold to T)" in fin
    assert "m = 16: t >100 (censored)" in fin and "t = inf" not in fin
    assert "50 networks censored (no onset by T = 100)" in c2.summary_c2(v)
    v = c2.check_c2(**_curves_input(agree, [8, 16], STEPS) | {"lam": 1.0})
    L = v.observed.looseness  # from the onsets only: the censored width is left out
    assert L["onset_widths"] == [8] and L["onset_of"] == "the median network"
    assert L["c_A_supported"] == pytest.approx(5.0 / 8)


def _median_basis(medians, steps, widths=(16, 32, 64, 128)):
    """40 networks per width holding from ``medians[w]`` on, 15 of them censored (flipped at T):
    the fit falls back to the median per width."""
    onsets = np.tile(np.asarray(medians)[:, None], (1, S2))
    agree = np.where(steps >= onsets[..., None], 60, 30)
    agree[:, :15, -1] = 0
    return c2.check_c2(**_curves_input(agree, widths, steps))


@pytest.mark.parametrize(
    "medians, why",
    [
        ((2, 4, 8, 16), "collinear"),  # exactly ∝ m on the record grid: slope 1.00 [1.00, 1.00]
        ((4, 5, 8, 11), "quantised"),  # consecutive records of the default schedule
        ((4, 5, math.inf, math.inf), "2 of 4 widths have a finite median onset"),
    ],
)
def test_c2_collinear_quantised_or_censored_onsets_are_uninformative(medians, why):
    v = _median_basis(medians, DEFAULT_RECORDS)
    fin, L = v.observed.finding, v.observed.looseness
    assert f"onset exponent in m uninformative ({why}" in fin
    assert "onset_exponent_m" not in L and "HOLDS" not in fin.split("onset exponent")[1]
    part = next(p for p in v.parts if p.name.startswith("onset ∝ m"))
    assert part.status == VACUOUS and "uninformative" in part.finding
    assert "onset_exponent" not in v.measured


def test_c2_onset_fit_on_medians_where_informative():
    # medians spread over many records (∝ m^2): the median-per-width fit decides, never zero-width
    steps = np.arange(0, 5000, 10)
    v = _median_basis((160, 640, 2560, 4990), steps)
    L = v.observed.looseness
    lo, hi = L["onset_exponent_interval"]
    assert hi - lo > 1e-6 and "median network's onset per width (60 networks censored" in (
        v.observed.finding
    )


def test_c2_bands_come_from_networks_wider_than_pooled(tmp_path):
    # half the networks agree entirely, half at chance: neurons pooled over 40 networks give a
    # narrow band, the networks (the unit) a wide one
    agree = np.full((2, S2, STEPS.size), 60)
    agree[:, ::2, :] = 30
    v = c2.check_c2(**_curves_input(agree, [8, 16], STEPS))
    A = v.arrays
    net = A["network_hi_plus"][0, -1] - A["network_lo_plus"][0, -1]
    lo, hi = clopper_pearson(np.int64(A["agree_plus"][0, -1]), np.int64(A["n_plus"][0]), 0.05)
    assert A["network_mean_plus"][0, -1] == pytest.approx(0.75) and A["networks_plus"][0] == S2
    assert net > 2 * (hi - lo)
    assert c2.plot_c2(Verdict.from_dict(v.to_dict()), tmp_path) == ["c2_sign_agreement.png"]


def test_c2_linearised_agreement_and_empty_groups():
    agree, n = _counts(60)
    n_plus = n.copy()
    n_plus[0] = 0  # width 8 drew no a_r = +1 neuron
    v = c2.check_c2(
        widths=[8, 16],
        seeds=np.arange(S2),
        steps=STEPS,
        agree_plus=np.where(n_plus[..., None] > 0, agree, 0),
        n_plus=n_plus,
        agree_minus=agree,
        n_minus=n,
        lam=1.0,
        lam_resolution=1e-12,
        eta=1.0,
        v_min=1.0,
        delta=0.1,
        linear_agreement={16: [0.5, 0.6]},
        designated_agree=_designated(60),
    )
    assert (
        np.isnan(v.measured["final_agreement_plus"][0])
        and "agreement_plus_final[m=8]" not in v.intervals
    )
    assert any("no neuron has a_r = +1 at m = 8" in p.finding for p in v.parts)
    assert v.status == HOLDS  # the remaining 3 members of the family agree everywhere
    lin = next(p for p in v.parts if p.name.startswith("linearised"))
    assert (
        lin.status == INCONCLUSIVE
        and "m=16: 0.55" in lin.finding
        and "does not predict" in lin.finding
    )


def test_c2_figure_from_the_verdict_alone(tmp_path):
    kw, expected = c2.example_check_input()
    v = c2.check_c2(**kw)
    assert v.status == expected
    v2 = Verdict.from_dict(v.to_dict())
    assert c2.plot_c2(v2, tmp_path) == ["c2_sign_agreement.png"]
    assert c2.plot_c2(_c2(30), tmp_path) == [
        "c2_sign_agreement.png"
    ]  # a level never reached at t > 0


def test_c2_run_on_a_tiny_configuration():
    from verification import config as cfg
    from verification.contract import Context

    config = cfg.validate(
        {"C2": {"widths": [4, 8, 16], "seeds": 1, "steps": 4, "records": 2}, "data": {"n": 6}}
    )
    v = c2.run_c2(config["C2"], Context(config=config, seed=0, quiet=True))
    assert v.tested_range == {"widths": [4, 8, 16], "seeds": v.tested_range["seeds"], "steps": 4}
    assert 0.0 <= v.measured["data_term_fraction"] <= 1.0 and -1.0 <= v.measured["corr_y_xd"] <= 1.0
    assert set(v.measured["linearized_sign_agreement"]) == {"16"}
    assert v.parts[1].name.startswith("t >= t_align")


# ---------------------------------------------------------------------------------------------
# the seed-level unit and C3's run


from hypothesis import given, settings
from hypothesis import strategies as st


@settings(deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.0, 1.0), st.floats(0.05, 1.0))
def test_designated_outcome_is_the_first_eligible_neuron_of_each_network(seed, p_fail, p_eligible):
    rng = np.random.default_rng(seed)
    ok = rng.random((5, 7)) >= p_fail
    el = rng.random((5, 7)) < p_eligible
    fails, trials, idx = laws.designated_outcomes(ok, el)
    assert trials == int(el.any(axis=1).sum()) and 0 <= fails <= trials
    for s in range(5):
        if el[s].any():
            assert idx[s] == np.flatnonzero(el[s])[0]
        else:
            assert idx[s] == -1
    assert fails == sum(int(not ok[s, idx[s]]) for s in range(5) if idx[s] >= 0)


def test_c3_run_on_a_tiny_configuration():
    from verification import config as cfg
    from verification.contract import Context

    config = cfg.validate(
        {"C3": {"widths": [4, 8], "seeds": 2, "steps": 30, "records": 4}, "data": {"n": 6}}
    )
    v = c3.run_c3(config["C3"], Context(config=config, seed=0, quiet=True))
    assert [p.role for p in v.parts[:3]] == ["premise"] * 3 and v.parts[0].name.startswith(
        "premise: kernel regime"
    )
    assert len(v.measured["kernel_change"]) == 2 and all(
        len(k) == 2 for k in v.measured["kernel_change"]
    )
    assert all(0.0 <= x for k in v.measured["kernel_change"] for x in k)
    assert (
        v.observed is not None
        and v.observed.rule == laws.SEED_RULE
        and "t ≤ 30" in v.observed.scale
    )
    assert "w_hold" in v.measured["data_boundary_training_windows"]
    assert v.arrays["grid_masses"].shape == (160, config["data"]["d"])
    # the data process: ceil(10000 / 6) draws of the builder's 6 windows, with intervals
    dp = v.measured["data_process"]
    assert dp["windows"] == 10002 and dp["units"] == 1667 and dp["unit"] == "draw"
    assert v.intervals["data_condition_margin"] == dp["margin_interval"]
    assert np.allclose(
        v.arrays["grid_masses"].sum(axis=1), 1.0
    )  # each row is a distribution over positions
    assert v.status == VACUOUS or v.parts[1].status == HOLDS  # the step size against λ is a premise


# ---------------------------------------------------------------------------------------------
# the rule on every neuron: per-network failure fractions, betting bound (laws.fraction_decision)


from verification.calibration import _fractions as cfr
from verification.rules import _intervals as intervals


@pytest.mark.parametrize(
    "name, draw, mean",
    [
        ("bernoulli 0.1", lambda r, s: (r.random(s) < 0.1).astype(float), 0.1),
        ("bernoulli 0.5", lambda r, s: (r.random(s) < 0.5).astype(float), 0.5),
        ("beta(0.2, 1.8)", lambda r, s: r.beta(0.2, 1.8, s), 0.1),
        ("beta(2, 5)", lambda r, s: r.beta(2, 5, s), 2 / 7),
        ("point mass 0.3", lambda r, s: np.full(s, 0.3), 0.3),
    ],
)
@pytest.mark.parametrize("n", [5, 30])
def test_betting_bounds_cover_the_mean(name, draw, mean, n):
    """Each one-sided end misses the true mean at most α/2 of the time (Monte Carlo, 3 standard
    errors)."""
    R, a = 2000, 0.05
    x = draw(np.random.default_rng(n), (R, n))
    miss_upper = np.mean(intervals.betting_pvalue(x, mean, alternative="less") <= a / 2)
    miss_lower = np.mean(intervals.betting_pvalue(x, mean, alternative="greater") <= a / 2)
    tol = a / 2 + 3 * np.sqrt(a / 2 * (1 - a / 2) / R)
    assert miss_upper <= tol and miss_lower <= tol, (name, miss_upper, miss_lower)


def test_betting_interval_agrees_with_its_p_values():
    rng = np.random.default_rng(3)
    for x in (
        np.zeros(39),
        np.full(60, 0.03),
        rng.beta(0.5, 4, 50),
        (rng.random(40) < 0.3).astype(float),
    ):
        lo, hi = intervals.betting_interval(x)
        assert lo <= x.mean() <= hi
        assert (hi <= 0.1) == bool(
            intervals.betting_pvalue(x, 0.1, alternative="less") <= 0.025
        ) or abs(hi - 0.1) < 2e-3
    assert (
        intervals.betting_interval(np.zeros(39))[1]
        <= 0.1
        < intervals.betting_interval(np.zeros(36))[1]
    )
    with pytest.raises(ValueError, match="values in"):
        intervals.betting_pvalue(np.array([0.2, 1.5]), 0.1)


@pytest.mark.parametrize(
    "case, p, rho, want",
    [
        ("true", 0.02, 0.5, {"HOLDS": (">=", 0.8), "VIOLATED": ("<=", 0.025)}),
        ("boundary", 0.1, 0.5, {"HOLDS": ("<=", 0.025), "VIOLATED": ("<=", 0.025)}),
        ("boundary, nearly independent neurons", 0.1, 0.05, {"HOLDS": ("<=", 0.025)}),
        (
            "false at one member",
            [0.3] + [0.02] * 7,
            0.5,
            {"HOLDS": ("<=", 0.025), "VIOLATED": (">=", 0.8)},
        ),
    ],
)
def test_fraction_rule_on_planted_networks(case, p, rho, want):
    """Planted C2 default budgets (160 networks × 8 members of m/2 neurons, Beta random effect per
    network)."""
    R = 300
    f = cfr._fractions(np.random.default_rng(11), R, p, rho, cfr.C2_SEEDS, cfr.C2_GROUPS)
    st = cfr.fraction_statuses(f)
    for status, (op, limit) in want.items():
        rate = np.mean(st == status)
        tol = 3 * np.sqrt(max(limit * (1 - limit), 0.01) / R)
        assert (rate <= limit + tol) if op == "<=" else (rate >= limit - tol), (case, status, rate)
    for r in range(3):  # the vectorised statuses are laws.fraction_decision's
        assert laws.fraction_decision(list(f[r]), delta=0.1).status == st[r]


def test_fraction_decision_uses_every_neuron_where_the_designated_one_cannot():
    f = np.full(60, 1 / 60)  # one neuron of 60 fails in every network: the first one, say
    assert laws.fraction_decision([f, f], delta=0.1).status == HOLDS
    assert (
        laws.seed_decision([60, 60], [60, 60], delta=0.1).status == VIOLATED
    )  # the designated neuron always fails
    assert laws.fraction_decision([np.array([]), f], delta=0.1).seeds == (60,)
    assert laws.fraction_decision([np.array([])], delta=0.1) is None
    # the budget rests on the pilot's median-unbiased upper failure rate, 1 - 2^(-1/n) for n
    # all-zero networks: 0.129 >= δ from 5 (too small a pilot: no budget), 0.0043 from 160
    assert laws.fraction_seeds_for_power([np.zeros(5)], delta=0.1) is None
    assert laws.fraction_seeds_for_power([np.zeros(160)], delta=0.1) == 40


def test_c2_run_vmapped_seeds_match_one_by_one():
    """The vmapped program per width gives each seed's numbers of a train call of its own
    (float tolerance)."""
    import jax

    from ntk_attention import init_params, train
    from verification import config as cfg
    from verification.contract import Context

    config = cfg.validate(
        {"C2": {"widths": [4, 8], "seeds": 3, "steps": 6, "records": 2}, "data": {"n": 6}}
    )
    ctx = Context(config=config, seed=0, quiet=True)
    v = c2.run_c2(config["C2"], ctx)
    ds = ctx.dataset(6)
    eta = ctx.learning_rate(config["C2"], sizes=[6], sigma=config["data"]["sigma"])
    rec = c2.record_steps(6, 2)
    for m in (4, 8):
        for j, s in enumerate(ctx.network_seeds(3)):
            tr = train(
                init_params(jax.random.key(s), m, sigma=config["data"]["sigma"]),
                ds.X,
                ds.y,
                learning_rate=eta,
                record_at=rec,
                record_ntk=False,
                record_neurons=False,
            )
            key = f"m={m},a_r=-1"
            if tr.n_minus:
                want = 1 - float(tr.sign_agree_minus[-1]) / tr.n_minus
                assert np.isclose(v.measured["failure_fraction_seed"][key][j], want)


# ---------------------------------------------------------------------------------------------
# C2's onset exponent in η (eta_factors)


def _eta_scan(onsets, etas=(0.25, 0.5, 1.0), seeds=4, late=()):
    """Agreement counts at one width: every network of step size η aligns (all 10 of 10 neurons)
    from ``onsets[k]`` on, at the records ``ETA_STEPS``; each (k, network) of ``late`` one record
    later (twice the onset)."""
    a = np.zeros((len(etas), seeds, ETA_STEPS.size), np.int64)
    for k, t in enumerate(onsets):
        a[k, :, ETA_STEPS >= t] = 10
    for k, s in late:
        a[k, s, ETA_STEPS < 2 * onsets[k]] = 0
    n = np.full((len(etas), seeds), 10)
    return dict(etas=list(etas), agree_plus=a, agree_minus=a, n_plus=n, n_minus=n)


ETA_STEPS = np.array([0, 1, 2, 4, 8, 16, 32, 64, 128, 256])


@pytest.mark.parametrize(
    "onsets, status", [((64, 32, 16), HOLDS), ((32, 32, 32), None), ((16, 32, 64), VIOLATED)]
)
def test_c2_onset_exponent_in_eta_planted(onsets, status):
    kw, _ = c2.example_check_input()
    kw["steps"] = ETA_STEPS
    kw["agree_plus"] = kw["agree_minus"] = np.where(ETA_STEPS >= 16, 60, 30) * np.ones(
        (2, 40, 1), np.int64
    )
    # 40 networks, network 0 one record late at the smallest η and network 1 at the largest: the
    # per-network exponents scatter by ±1/2 around a mean of exactly −1 (HOLDS) or +1
    # (VIOLATED), the medians stay the planted onsets (identical networks: zero spread, undecided)
    late = () if status is None else ((0, 0), (2, 1))
    v = c2.check_c2(**kw, eta_scan=_eta_scan(onsets, seeds=40, late=late))
    L, fin = v.observed.looseness, v.observed.finding
    assert v.observed.status == HOLDS  # the η fit never decides the observed status
    assert L["eta_scan"] == [0.25, 0.5, 1.0] and L["median_onset_eta"] == [float(t) for t in onsets]
    assert "onset exponent in η (diagnostic, not the status)" in fin
    if (
        status is None
    ):  # onsets independent of η: the same record at every step size, uninformative, never HOLDS
        assert L["onset_exponent_eta_status"].startswith(
            "uninformative (the same record t = 32 at every step size"
        )
        assert "onset_exponent_eta" not in L
    else:
        assert L["onset_exponent_eta_status"] == status
        assert L["onset_exponent_eta"] == pytest.approx(-1.0 if status == HOLDS else 1.0)
        assert len(L["onset_exponent_eta_interval"]) == 2 and f"({status})" in fin


def test_c2_onset_exponent_in_eta_independent_of_eta_with_noise_is_not_holds():
    rng = np.random.default_rng(0)
    scan = _eta_scan((32, 32, 32))
    a = np.zeros_like(scan["agree_plus"])
    for k in range(3):
        for s in range(4):
            a[k, s, ETA_STEPS >= rng.choice([16, 32, 64])] = 10
    scan["agree_plus"] = scan["agree_minus"] = a
    look, words = c2.eta_exponent(scan, ETA_STEPS, 0.9, margin=0.1, alpha=0.05)
    assert (
        look["onset_exponent_eta_status"] in (INCONCLUSIVE, VIOLATED)
        and "against t_align ∝ η^-1" in words
    )


def test_c2_onset_exponent_in_eta_censored_or_too_few_step_sizes():
    look, words = c2.eta_exponent(_eta_scan((1, 1, 1)), ETA_STEPS, 0.9, margin=0.1, alpha=0.05)
    assert look["onset_exponent_eta_status"].startswith(
        "uninformative (reached by the first record t = 1"
    )
    look, words = c2.eta_exponent(
        _eta_scan((math.inf, 32, 16)), ETA_STEPS, 0.9, margin=0.1, alpha=0.05
    )
    assert look["onset_exponent_eta_status"].startswith(
        "uninformative (2 of 3 step sizes have a finite median onset"
    )
    look, _ = c2.eta_exponent(
        _eta_scan((64, 32), etas=(0.5, 1.0)), ETA_STEPS, 0.9, margin=0.1, alpha=0.05
    )
    assert look["onset_exponent_eta_status"] == "uninformative (2 step sizes: the fit needs 3)"


def test_c2_eta_factors_config():
    from verification import config as cfg

    assert cfg.validate({})["C2"]["eta_factors"] == []  # off by default
    assert cfg.validate({"C2": {"eta_factors": [0.5, 1]}})["C2"]["eta_factors"] == [0.5, 1.0]
    for bad in ([0.5, 0.0], [-1.0], [1.0, 0.5], "0.5"):
        with pytest.raises(cfg.ConfigError, match="C2.eta_factors"):
            cfg.validate({"C2": {"eta_factors": bad}})


def test_c2_run_with_eta_factors():
    from verification import config as cfg
    from verification.contract import Context

    config = cfg.validate(
        {
            "C2": {
                "widths": [4, 8, 16],
                "seeds": 2,
                "steps": 8,
                "records": 3,
                "eta_factors": [0.5, 1],
            },
            "data": {"n": 6},
        }
    )
    v = c2.run_c2(config["C2"], Context(config=config, seed=0, quiet=True))
    L = v.observed.looseness
    eta = v.measured["eta"]
    assert L["eta_scan"] == pytest.approx([0.5 * eta, eta]) and len(L["median_onset_eta"]) == 2
    assert L["onset_exponent_eta_status"].startswith(
        "uninformative ("
    )  # 2 step sizes, or censored onsets
    assert "onset exponent in η" in v.observed.finding
    assert len(v.measured["median_onset"]) == 3 and v.measured["v_min"] > 0


def test_c2_eta_factor_past_the_stability_limit_is_named():
    from verification import config as cfg
    from verification.contract import DIVERGED, Context

    # η = 0.25 · 2/λ_max(H*); × 256 is far past the stability limit 2/λ_max(H(0)) of these tiny
    # networks
    config = cfg.validate(
        {
            "C2": {
                "widths": [4, 8, 16],
                "seeds": 2,
                "steps": 30,
                "records": 3,
                "eta_factors": [256],
            },
            "data": {"n": 6},
        }
    )
    ctx = Context(config=config, seed=0, quiet=True)
    v = c2.run_c2(config["C2"], ctx)
    eta = v.measured["eta"]
    notes = [d for d in ctx.memo.get(DIVERGED, []) if d["eta"] == pytest.approx(256 * eta)]
    assert notes and all(
        d["width"] == 16 and d["limit"] is not None and d["eta"] > d["limit"] for d in notes
    )
    assert "diverged networks per η" in v.observed.finding
