"""C1 and C4 decision paths on constructed inputs: true → HOLDS, false → VIOLATED, straddling →
INCONCLUSIVE, below resolution → VACUOUS, rounding below the float floor never a break."""

import math

import jax
import numpy as np
import pytest

from ntk_attention import sweep as sw
from verification.claims.c1_convergence import (
    EnvelopeRun,
    ExtendedSize,
    LinearRun,
    check_c1,
    summary_c1,
    t_required,
)
from verification.claims.c4_ntk_stability import check_c4, summary_c4, weight_bound
from verification.rules import float_floor
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED, Verdict
from verification.training import _bounds as bounds

M9 = 64.0 * 2.0 ** np.arange(9)


# ------------------------------------------------------------------------------------------- C4


def _c4(
    exp=-0.5,
    S=40,
    widths=M9,
    jitter=0.05,
    wc_ratio=0.5,
    eig=0.8,
    lam=1.0,
    rho=1e-12,
    bern=100.0,
    eig_error=0.0,
    wc_exp=None,
    h0=None,
):
    W = len(widths)
    rng = np.random.default_rng(0)
    h0 = widths[:, None] ** exp * np.exp(jitter * rng.normal(size=(W, S))) if h0 is None else h0
    wexp = exp if wc_exp is None else wc_exp
    wc = np.stack(
        [
            widths[:, None] ** wexp * np.exp(jitter * rng.normal(size=(W, S))) * k / 4
            for k in range(5)
        ],
        -1,
    )
    wb = np.maximum(wc.max(-1, keepdims=True), 1e-3) / wc_ratio * np.linspace(0.2, 1, 5)
    wb = np.maximum(wb, wc / wc_ratio)
    return check_c4(
        widths=widths,
        seeds=list(range(S)),
        h0_dist=h0,
        ht_change=h0 / 2,
        weight_change=wc,
        weight_bound=wb,
        min_eig=np.full((W, S), eig) if np.isscalar(eig) else eig,
        lam=lam,
        lam_resolution=rho,
        bernstein=np.full(W, bern),
        delta=0.1,
        eig_error=eig_error,
    )


def _part(v, prefix):
    return next(p for p in v.parts if p.name.startswith(prefix))


def test_c4_true_rate_holds_with_margin_and_rule_named():
    v = _c4()
    assert v.status == HOLDS, [(p.name, p.status) for p in v.parts]
    p = _part(v, "‖H(0) − H*‖ = O")
    assert (
        p.status == HOLDS
        and "Rule: slope upper 95% end" in p.finding
        and "≤ p + Δ = -0.4" in p.finding
    )
    lo, hi = v.intervals["slope_H0_minus_Hstar"]
    assert lo < -0.5 < hi <= -0.4  # exactly -1/2: the interval straddles it, the margin decides
    assert Verdict.from_dict(v.to_dict()) == v
    assert "slopes" in summary_c4(v)


def test_c4_false_rate_violated_and_straddling_inconclusive():
    assert _part(_c4(exp=0.0), "‖H(0) − H*‖ = O").status == VIOLATED
    # exponent -0.4 = p + Δ with 4 widths × 3 seeds scattered by e^{±2}, the scatter changing
    # with the width (per-seed slopes differ: identical ones would read "zero spread"): the
    # interval straddles both margins
    m4 = np.array([64.0, 256, 1024, 4096])
    noise = np.array([[2.0, -2.0, 0.0], [-2.0, 0.0, 2.0], [0.0, 2.0, -2.0], [2.0, -2.0, 0.0]])
    h0 = m4[:, None] ** -0.4 * np.exp(noise)
    v = _c4(S=3, widths=m4, h0=h0)
    p = _part(v, "‖H(0) − H*‖ = O")
    assert p.status == INCONCLUSIVE and "neither" in p.finding


def test_c4_weight_bound_decides_not_the_biased_rate():
    # weights fit m^-0.35 (a heavy-tailed maximum still approaching its supremum) but stay within
    # their bound: Δ_v = 0.1 would call the rate VIOLATED (lower end > -0.4); the diagnostic uses
    # Δ_v = 0.2 and does not decide
    v = _c4(wc_exp=-0.35)
    diag = _part(v, "max_r |w_r(t) − w_r(0)| = O")
    assert (
        not diag.decisive
        and diag.status == INCONCLUSIVE
        and v.intervals["slope_max_weight_change"][0] > -0.4
    )
    assert _part(v, "max_r |w_r(t) − w_r(0)| ≤").status == HOLDS and v.status == HOLDS
    # a weight change above its explicit bound is a counterexample
    v = _c4(wc_ratio=2.0)
    assert _part(v, "max_r |w_r(t) − w_r(0)| ≤").status == VIOLATED and v.status == VIOLATED
    assert {"width", "seed", "max_weight_change", "bound"} <= set(v.counterexample)


def test_c4_lambda_paths():
    assert _part(_c4(lam=1e-300, rho=1e-14), "λ_min").status == VACUOUS  # unresolved
    assert _part(_c4(eig=0.1), "λ_min").status == VIOLATED  # 0.1 < λ/2 = 0.5
    assert (
        _part(_c4(eig=0.5 + 1e-13, eig_error=1e-12), "λ_min").status == INCONCLUSIVE
    )  # within rounding of λ/2
    # λ/2 = 5e-21 below the eigenvalue error 1e-14, measured eigenvalues rounding: cannot be read
    v = _c4(lam=1e-20, rho=1e-30, eig=-1e-15, eig_error=1e-14)
    p = _part(v, "λ_min")
    assert p.status == VACUOUS and "below the float64 error" in p.finding
    # the unreadable part is named in the headline; it does not hide the four parts that passed
    # (combine_parts)
    assert v.status == HOLDS and v.to_dict()["headline"] == "HOLDS 4 · VACUOUS 1 (λ below float64)"
    assert _part(_c4(lam=1e-20, rho=1e-30, eig=1e-12, eig_error=1e-14), "λ_min").status == HOLDS


def test_c4_bernstein_by_probability_rule():
    assert _part(_c4(S=40), "‖H(0) − H*‖ ≤ t_δ").status == HOLDS  # 0/40: CP upper 0.088 ≤ 0.1
    p = _part(_c4(S=30), "‖H(0) − H*‖ ≤ t_δ")
    assert (
        p.status == INCONCLUSIVE and "0.116" in p.finding
    )  # 0/30: CP upper 1 - 0.025^(1/30) = 0.116 > δ
    assert _part(_c4(bern=1e-9), "‖H(0) − H*‖ ≤ t_δ").status == VIOLATED


def test_weight_bound_formula_and_real_training():
    L = np.abs(np.random.default_rng(1).normal(size=(2, 3, 6)))
    K, eta, m = 2.5, 0.3, np.array([16, 64])
    got = weight_bound(L, np.arange(6), eta=eta, widths=m, K=K)
    want = np.zeros_like(L)
    for w in range(2):
        for s in range(3):
            for t in range(1, 6):
                want[w, s, t] = (
                    eta
                    / math.sqrt(m[w])
                    * math.sqrt(K)
                    * sum(math.sqrt(2 * L[w, s, u]) for u in range(t))
                )
    np.testing.assert_allclose(got, want, rtol=1e-13)
    with pytest.raises(ValueError, match="every step"):
        weight_bound(L, np.arange(0, 12, 2), eta=eta, widths=m, K=K)
    # real gradient descent never exceeds it, and the bound is not slack by orders of magnitude
    with jax.enable_x64(True):
        X = jax.random.normal(jax.random.key(3), (5, 4), dtype=jax.numpy.float64)
        y = X[:, -1]
        res = sw.sweep(
            X, y, widths=(8, 16, 32), seeds=(0, 1), steps=8, learning_rate=0.2, record_every=1
        )
    wb = weight_bound(
        res.loss, res.step, eta=0.2, widths=res.widths, K=bounds.popoviciu_constant(np.asarray(X))
    )
    assert np.all(res.max_weight_change <= wb * (1 + 1e-9))
    assert (res.max_weight_change[..., 1:] / wb[..., 1:]).max() > 1e-2


# ------------------------------------------------------------------------------------------- C1

STEPS = np.arange(0, 101, 10)


def _run(loss, lam=0.1, rho=1e-14, steps=STEPS, S=None, widths=(8, 16), y_max=1.0):
    loss = np.asarray(loss, np.float64)
    return EnvelopeRun(
        4, lam, rho, np.array(widths), np.arange(loss.shape[1]), steps, loss, 1.0, 1.0, y_max
    )


def _losses(rate, S=40, L0=2.0, steps=STEPS):
    return np.broadcast_to(L0 * rate ** steps.astype(float), (2, S, steps.size)).copy()


def _c1(loss, lin=None, **kw):
    run = _run(loss, **{k: v for k, v in kw.items() if k in ("lam", "rho", "steps")})
    return check_c1(
        [run],
        eta=1.0,
        eps=1e-3,
        delta=0.1,
        linear=lin,
        **{k: v for k, v in kw.items() if k in ("extended", "c_T", "min_decrease")},
    )


LONG = np.arange(0, 2001, 50)


def test_c1_short_horizon_vacuous_long_horizon_holds():
    # envelope 0.95^t over 100 steps = 5.1 e-folds; the float floor of m = 8 (the lower) lies
    # ln(2/floor) = 69 e-folds below L(0)
    v = _c1(_losses(0.9))
    env = v.parts[0]
    need = np.log(2.0 / float_floor(4, 8, 1.0, 1.0))
    assert v.bounds["envelope_efolds_tested[n=4]"] == pytest.approx(
        -100 * np.log1p(-(0.1 - 1e-14) / 2)
    )
    assert v.bounds["envelope_efolds_to_float_floor[n=4]"] == pytest.approx(need)
    assert (
        env.status == VACUOUS and env.why == "horizon 5.1 e-folds" and "Holm over 2" in env.finding
    )
    assert (
        v.parts[1].status == VACUOUS
        and "beyond reach" in v.parts[1].finding
        and v.status == VACUOUS
    )
    assert "horizon 5.1 e-folds" in v.to_dict()["headline"] and "e-folds" in summary_c1(v)
    assert v.bounds["T_req[n=4]"] == pytest.approx(2 * np.log(4 / 1e-3) / 0.1)
    # the linearised model never decides (it presumes the kernel regime beyond the horizon trained)
    lin = LinearRun(
        4,
        np.array([0.0, 100.0, 166.0, 1660.0]),
        np.broadcast_to([2.0, 1e-3, 1e-6, 0.0], (2, 40, 4)).copy(),
    )
    v = _c1(_losses(0.9), lin=[lin])
    lp = next(p for p in v.parts if p.name.startswith("L_lin"))
    assert not lp.decisive and lp.status == HOLDS and v.status == VACUOUS
    # a true envelope over a horizon that reaches the float floor (103 e-folds ≥ 69) reads HOLDS
    v = _c1(_losses(0.9, steps=LONG), steps=LONG)
    assert v.parts[0].status == HOLDS and v.parts[1].status == HOLDS and v.status == HOLDS
    assert v.to_dict()["headline"] == "HOLDS 2"
    assert Verdict.from_dict(v.to_dict()) == v


def test_c1_late_break_never_holds():
    # the same seeds, 2000 steps: 9 of 40 runs per width stall at 1e-9 from t = 1000 (envelope
    # 2·0.95^1000 ≈ 1e-22)
    loss = _losses(0.9, steps=LONG)
    loss[:, :9, 20:] = 1e-9
    v = _c1(loss, steps=LONG)
    assert v.parts[0].status in (INCONCLUSIVE, VIOLATED) and v.status != HOLDS
    loss[:, :30, 20:] = 1e-9  # most runs: a counterexample
    v = _c1(loss, steps=LONG)
    assert (
        v.parts[0].status == VIOLATED and v.status == VIOLATED and v.counterexample["step"] == 1000
    )
    # cut at 800 steps (before any break, 41 e-folds < 69; T_req = 1660 with c_T = 10) the same runs
    # do not read HOLDS
    short = LONG[LONG <= 800]
    v = _c1(loss[..., : short.size], steps=short, c_T=10.0)
    assert v.parts[0].status == VACUOUS and v.status != HOLDS


def test_c1_eps_below_float_floor_vacuous():
    # ε = 1e-35 below the float floor (~1e-29): L ≤ ε cannot be shown, never a failure
    run = _run(_losses(0.9, steps=LONG), steps=LONG)
    v = check_c1([run], eta=1.0, eps=1e-35, delta=0.1, c_T=0.1)
    p = next(p for p in v.parts if p.name.startswith("L(T_req)"))
    assert p.status == VACUOUS and p.why == "ε below float floor" and v.status != VIOLATED
    assert "ε below float floor" in v.to_dict()["headline"]
    # ε just above the floor: decided as before (0.9^t falls below it by t = 2000 only if ε ≥
    # 2·0.9^T)
    v = check_c1([run], eta=1.0, eps=1e-20, delta=0.1, c_T=0.1)
    assert next(p for p in v.parts if p.name.startswith("L(T_req)")).status in (HOLDS, VIOLATED)


def test_c1_nonfinite_linearised_named_not_counted():
    lin_loss = np.broadcast_to([2.0, 1e-6], (2, 40, 2)).copy()
    lin_loss[0, :6, 1] = np.inf  # m < n: 6 runs at the narrow width return inf
    lin = LinearRun(4, np.array([0.0, 166.0]), lin_loss)
    v = _c1(_losses(0.9), lin=[lin])
    named = next(p for p in v.parts if p.name.startswith("linearised model not finite"))
    assert not named.decisive and "seed 0" in named.finding and "m = 8" in named.finding
    lp = next(p for p in v.parts if p.name.startswith("L_lin"))
    # 0 failures in 34 runs: CP end 0.103 > δ, so not HOLDS — but the inf runs are not failures
    assert lp.status == INCONCLUSIVE and "[0, 0] of [34, 40]" in lp.finding
    assert v.measured["linearised_nonfinite_runs[n=4]"] == [6, 0]


def test_c1_small_budget_cannot_hold():
    # 3 seeds, none failing: Clopper–Pearson upper end 0.71 > δ — the former rule said HOLDS
    v = _c1(_losses(0.9, S=3))
    assert v.parts[0].status == INCONCLUSIVE and v.status == INCONCLUSIVE


def test_c1_false_violated_with_counterexample():
    loss = _losses(0.9)
    loss[1, :, 5] = 2.0  # width 16: every seed far above 2 * 0.95^50
    v = _c1(loss)
    assert v.parts[0].status == VIOLATED and v.status == VIOLATED
    assert (
        v.counterexample["width"] == 16
        and v.counterexample["step"] == 50
        and v.counterexample["seed"] == 0
    )
    # a failure rate of 8/40 at one width is not a counterexample (8/40 vs δ = 0.1: p = 0.04 > α/2
    # after Holm)
    loss = _losses(0.9)
    loss[1, :8, 5] = 2.0
    v = _c1(loss)
    assert v.parts[0].status == INCONCLUSIVE and v.counterexample is None


def test_c1_late_losses_after_T_req():
    # c_T = 1: T_req = log(4000)/0.1 = 83 within the 100 steps
    v = _c1(_losses(0.9), c_T=1.0)
    assert [p.status for p in v.parts] == [
        VACUOUS,
        HOLDS,
    ] and v.status == HOLDS  # envelope: horizon 5.1 e-folds
    loss = _losses(0.9)
    # t = 90 ≥ T_req: L > ε in every seed at width 8, under the envelope 2 · 0.95^90 = 0.02
    loss[0, :, 9] = 5e-3
    v = _c1(loss, c_T=1.0)
    assert [p.status for p in v.parts] == [VACUOUS, VIOLATED] and v.counterexample["width"] == 8
    # the linearised part is then a diagnostic only
    lin = LinearRun(4, np.array([0.0, 83.0]), np.broadcast_to([2.0, 1.0], (2, 40, 2)).copy())
    v = _c1(_losses(0.9), lin=[lin], c_T=1.0)
    lp = next(p for p in v.parts if p.name.startswith("L_lin"))
    assert not lp.decisive and lp.status == VIOLATED and v.status == HOLDS


def test_c1_below_resolution_vacuous_never_holds():
    # λ resolved but ηλT/2 = 5e-9: the envelope demands a decrease below 1% of L(0)
    v = _c1(_losses(0.9), lam=1e-10, rho=1e-14)
    assert v.parts[0].status == VACUOUS and "demands" in v.parts[0].finding
    assert v.bounds["envelope_decrease_demanded[n=4]"] == pytest.approx(
        -np.expm1(100 * np.log1p(-(1e-10 - 1e-14) / 2))
    )
    v = _c1(_losses(0.9), lam=1e-300, rho=1e-14)  # λ unresolved
    assert v.status == VACUOUS and all(p.status == VACUOUS for p in v.parts)
    assert v.bounds["T_req[n=4]"] == float("inf")


def test_c1_losses_below_float_floor_are_not_breaks():
    steps = np.arange(0, 2001, 100)
    loss = _losses(0.9, steps=steps)
    floor = float_floor(4, 8, 1.0, 1.0)
    assert 1e-31 < floor < 1e-28
    # rounding leaves the loss at 1e-31..floor while the envelope 2 · 0.95^t falls to 1e-45
    loss[..., 14:] = floor * np.linspace(0.01, 1.0, steps.size - 14)
    v = _c1(loss, steps=steps)
    assert v.parts[0].status == HOLDS and v.measured["points_below_float_floor[n=4]"] > 0
    loss[0, :, -1] = 1e-20  # well above the floor and the envelope: a break
    assert _c1(loss, steps=steps).parts[0].status == VIOLATED


def test_c1_extended_size_reported_not_decisive():
    ext = ExtendedSize(24, 3e-16, 6e-30, "extended", 0.5, 2.8)
    v = _c1(_losses(0.9), extended=[ext], c_T=0.5)
    p = v.parts[-1]
    assert not p.decisive and p.status == VACUOUS and "beyond the 100 steps" in p.finding
    assert v.bounds["T_req[n=24]"] == pytest.approx(t_required(3e-16, 0.5, 24, 2.8, 1e-3, 0.5))


def test_c1_figure_survives_diverged_runs_and_an_underflowing_envelope(tmp_path):
    """A run whose loss went non-finite and an envelope (1 - ηλ/2)^t that underflows to 0 used to
    crash the log axis (OverflowError in matplotlib's ticker) and with it the whole report."""
    import dataclasses

    from verification.claims import c1_convergence as c1

    kw, _ = c1.example_check_input()
    v = c1.check_c1(**kw)
    A = dict(v.arrays)
    n = int(A["n_values"][0])
    A["lam"], A["lam_resolution"] = (
        np.array([1e10]),
        np.array([1e-12]),
    )  # |1 - ηλ/2|^100 overflows (η past the limit)
    loss = A[f"loss_n{n}"].copy()
    loss[0, 0, 3:] = np.inf
    loss[0, 1] = np.nan
    A[f"loss_n{n}"] = loss
    bad = dataclasses.replace(v, arrays=A, config={"C1": {"eta": 1.0}})
    assert c1.plot_c1(bad, tmp_path) == ["c1_loss_envelope.png"]
    assert (tmp_path / "c1_loss_envelope.png").stat().st_size > 0


# ------------------------------------------------ C4 budget and observed; C1 mechanism and observed


def test_c4_bernstein_budget_is_computed_and_met_by_the_default():
    from verification.claims.c4_ntk_stability import C4_DEFAULTS, runs_for_zero_failures
    from verification.rules import clopper_pearson

    for delta, alpha in ((0.1, 0.05), (0.05, 0.05), (0.1, 0.01)):
        S = runs_for_zero_failures(delta, alpha)
        assert clopper_pearson(0, S, alpha)[1] <= delta < clopper_pearson(0, S - 1, alpha)[1]
    assert runs_for_zero_failures(0.1, 0.05) == 36  # 30 runs: 0.116 > δ (the case)
    assert C4_DEFAULTS["seeds"] >= runs_for_zero_failures(0.1, 0.05)
    with pytest.raises(ValueError, match="delta"):
        runs_for_zero_failures(1.5)


def test_c4_observed_onset_and_exponents():
    v = _c4()
    ob = v.observed
    assert ob.status == HOLDS and "rate_decision" in ob.rule and ob.looseness["onset_width"] == 64
    assert ob.looseness["slope_H0_minus_Hstar"] == pytest.approx(v.measured["slope_H0_minus_Hstar"])
    assert ob.looseness["orders_theorem_width_over_onset"] == pytest.approx(
        -np.log10(64.0)
    )  # λ = 1
    # flat below m = 1024, m^-1/2 from there: the onset moves up; a flat rate everywhere is
    # VIOLATED, no onset
    h0 = np.where(M9[:, None] < 1024, 1024.0**-0.5, M9[:, None] ** -0.5) * np.exp(
        0.02 * np.random.default_rng(2).normal(size=(9, 40))
    )
    ob = _c4(h0=h0).observed
    assert ob.looseness["onset_width"] >= 512 and "from m₀" in ob.finding
    ob = _c4(exp=0.0).observed
    assert ob.status == VIOLATED and ob.looseness["onset_width"] is None and ob.budget == ""


def _mech_run(exp, S=16, widths=(64, 256, 1024), seed=0, n=6):
    from verification.claims.c1_convergence._mechanism import MechanismRun

    rng = np.random.default_rng(seed)
    m = np.asarray(widths, np.float64)
    steps = np.arange(0, 101, 10)
    lin = np.broadcast_to(np.exp(-steps / 30.0), (len(widths), S, steps.size)).copy()
    gap = m[:, None] ** exp * np.exp(0.3 * rng.normal(size=(len(widths), S)))
    loss = lin + gap[..., None] * np.sin(
        np.pi * steps / 100.0
    )  # the gap peaks mid-run: sup_t |L − L_lin| = gap
    eig = np.broadcast_to(np.linspace(0.01, 1.0, n), (len(widths), S, n)).copy()
    mode = np.broadcast_to((lin / n)[..., None], lin.shape + (n,)).copy()
    return MechanismRun(
        "planted",
        n,
        0.5,
        np.asarray(widths),
        np.arange(S),
        steps,
        loss,
        lin,
        mode,
        mode.copy(),
        eig,
        np.full(len(widths), 1e-30),
    )


def test_c1_mechanism_rule_on_planted_gaps():
    from verification.claims.c1_convergence._mechanism import (
        check_mechanism,
        gaps,
        mechanism_status,
    )

    for exp, want in ((-1.0, HOLDS), (0.0, VIOLATED)):
        run = _mech_run(exp)
        np.testing.assert_allclose(
            gaps(run), (run.loss - run.lin_loss).max(-1) / run.loss[..., 0], rtol=1e-12
        )
        parts, measured, intervals, dec = check_mechanism(
            [run], margin=0.1, violation_margin=0.1, alpha=0.05, min_decrease=0.01
        )
        p = next(p for p in parts if p.name.startswith("kernel regime"))
        assert p.status == want and not p.decisive and "rate_decision" in p.finding
        assert mechanism_status(dec) == want
    # a non-finite linearised loss is named, its width left out of the rate
    run = _mech_run(-1.0, widths=(32, 64, 256, 1024))
    run.lin_loss[0, 3, 5] = np.inf
    parts, *_, dec = check_mechanism(
        [run], margin=0.1, violation_margin=0.1, alpha=0.05, min_decrease=0.01
    )
    assert any(
        p.name.startswith("linearised model non-finite") and "m = 32" in p.finding for p in parts
    )
    assert dec[0].widths == 3


def test_c1_mechanism_names_local_slopes_of_a_pre_asymptotic_gap():
    """A gap whose slope is −0.4 up to m = 1024 and −1 beyond (sunspots at n = 24): the narrow
    widths read INCONCLUSIVE, the default's wider ones HOLDS, and both texts carry the per-width
    medians and local slopes."""
    from verification.claims.c1_convergence._mechanism import check_mechanism, local_slopes

    assert local_slopes([64, 256, 1024], [1.0, 0.5, 0.125]) == pytest.approx([-0.5, -1.0])

    def plateau(widths):
        run = _mech_run(-1.0, widths=widths)
        m = np.asarray(widths, np.float64)
        g = np.where(m <= 1024, m**-0.4, 1024**0.6 * m**-1.0)[:, None] * np.exp(
            0.3 * np.random.default_rng(3).normal(size=(m.size, 16))
        )
        loss = run.lin_loss + g[..., None] * np.sin(np.pi * run.steps / 100.0)
        return run._replace(loss=loss)

    for widths, want, slopes in (
        ((64, 256, 1024), INCONCLUSIVE, [-0.4, -0.4]),
        ((256, 1024, 4096), HOLDS, [-0.4, -1.0]),
    ):
        run = plateau(widths)
        parts, measured, _, dec = check_mechanism(
            [run], margin=0.1, violation_margin=0.1, alpha=0.05, min_decrease=0.01
        )
        assert dec[0].status == want
        assert measured["kernel_gap_local_slopes[planted]"] == pytest.approx(slopes, abs=0.15)
        p = next(p for p in parts if p.name.startswith("kernel regime"))
        assert (
            "local slopes" in p.finding
            and "the sup is reached at t = 50" in p.finding
            and "above the float floor" in p.finding
        )
        env = _run(_losses(0.9))
        ob = check_c1([env], eta=1.0, eps=1e-3, delta=0.1, mechanism=[run]).observed
        assert ob.status == want and "median gap" in ob.finding and "local slopes" in ob.finding
        assert ("pre-asymptotic" in ob.budget) == (want == INCONCLUSIVE)


def test_c1_mechanism_gather_matches_the_linearised_model_and_shrinks():
    from ntk_attention import init_params
    from ntk_attention.linearized import predict
    from verification.claims.c1_convergence._mechanism import gaps, gather_mechanism

    with jax.enable_x64(True):
        X = np.asarray(jax.random.normal(jax.random.key(5), (5, 4), dtype=jax.numpy.float64))
        y = X[:, -1].copy()
        run = gather_mechanism(
            X,
            y,
            source="planted",
            widths=(16, 64, 256),
            seeds=[0, 1, 2],
            sigma=1.0,
            eta=0.2,
            steps=20,
            record_every=5,
        )
        p = init_params(jax.random.key(1), 256, sigma=1.0, output_signs="random").prefix(64)
        want = np.asarray(
            predict(
                p, X, y, jax.numpy.asarray(run.steps, jax.numpy.float64), learning_rate=0.2
            ).loss
        )
    # the modal sum is the linearised model of ntk_attention.linearized (same H(0), same f0)
    np.testing.assert_allclose(run.lin_loss[1, 1], want, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(
        run.loss[..., 0], run.lin_loss[..., 0], rtol=1e-10
    )  # t = 0: the same network
    np.testing.assert_allclose(
        run.mode_loss.sum(-1), run.loss, rtol=1e-10
    )  # the eigenbasis decomposes L(t)
    g = np.median(gaps(run), axis=1)
    assert g[-1] < g[0]  # wider: closer to its linearisation


def test_c1_observed_reads_the_mechanism_with_looseness():
    from verification.claims.c1_convergence._mechanism import check_mechanism

    run = _mech_run(-1.0)
    *_, dec = check_mechanism(
        [run], margin=0.1, violation_margin=0.1, alpha=0.05, min_decrease=0.01
    )
    env = _run(_losses(0.9))
    ext = ExtendedSize(6, 1e-20, 1e-30, "extended", 0.5, 2.0)
    v = check_c1([env], eta=1.0, eps=1e-3, delta=0.1, mechanism=[run], extended=[ext])
    ob = v.observed
    assert (
        ob.status == HOLDS
        and "rate_decision" in ob.rule
        and "n = 6, m = 64–1024, t ≤ 100 steps" in ob.scale
    )
    assert ob.looseness["orders_inv_lambda_over_widest[n=6]"] == pytest.approx(20 - np.log10(1024))
    assert ob.looseness["envelope_efolds_tested[n=4]"] == pytest.approx(
        v.bounds["envelope_efolds_tested[n=4]"]
    )
    # c_T the trained size supports: first recorded t with L ≤ ε is 80 (2·0.9^80 = 4.4e-4), ηλ = 0.1
    assert ob.looseness["c_T_supported[n=4]"] == pytest.approx(80 * 0.1 / np.log(4 / 1e-3))
    assert (
        v.status == VACUOUS
    )  # the theorem: horizon 5.1 e-folds, T_req beyond; the mechanism does not decide it
    assert "observed" in summary_c1(v) and Verdict.from_dict(v.to_dict()) == v
    v = check_c1([env], eta=1.0, eps=1e-3, delta=0.1, mechanism=[_mech_run(-0.45)])
    assert v.observed.status == INCONCLUSIVE and "calibration rows" in v.observed.budget


def test_c1_calibration_rows_meet_their_standard_and_budget_matches():
    from verification.calibration import _c1 as calibration_c1
    from verification.calibration import _table as calibration
    from verification.claims import c1_convergence as c1

    assert calibration_c1 in calibration.RULE_MODULES
    assert (c1.GAP_WIDTHS, c1.GAP_SEEDS) == (calibration_c1.GAP_WIDTHS, calibration_c1.GAP_SEEDS)
    assert c1.CLAIM.params["mechanism_widths"].default == list(c1.GAP_WIDTHS)
    assert c1.CLAIM.params["mechanism_seeds"].default == c1.GAP_SEEDS
    rows = calibration_c1.rows(200)
    assert {(r["rule"], r["case"]) for r in rows} >= {
        ("C1 kernel gap", c) for c in ("true", "false", "boundary")
    }
    assert {(r["rule"], r["case"]) for r in rows} >= {
        ("C1 horizon", c) for c in ("true", "false", "boundary")
    }
    assert all(r["meets"] for r in rows), [
        (r["rule"], r["case"], r["rates"]) for r in rows if not r["meets"]
    ]
    # a short horizon never reads HOLDS, whatever the runs do
    assert all(
        r["rates"][HOLDS] == 0.0
        for r in rows
        if r["rule"] == "C1 horizon" and r["budget"]["steps"] == 400
    )


def test_c1_eps_below_floor_in_a_real_run_is_not_violated(tmp_path):
    """`ntk-verify run --claims C1` with [C1] eps = 1e-35 (small sizes) must not read VIOLATED."""
    from verification import config as cfg
    from verification.pipeline import run_claims

    config = cfg.loads(
        "[C1]\neps = 1e-35\nwidths = [8, 16]\nseeds = 4\nsteps = 40\nrecord_every = 10\n"
        'seeds_per_block = 4\nextended_sizes = []\nmechanism_sources = ["data"]\nmechanism_n = 4\n'
        "mechanism_widths = [8, 16, 32]\nmechanism_seeds = 3\nmechanism_steps = 10\n"
        "mechanism_record_every = 5\n"
    )
    v = run_claims(config, ["C1"], quiet=True)[0]
    assert v.status != VIOLATED
    assert any(p.why == "ε below float floor" for p in v.parts) or all(
        p.status == VACUOUS for p in v.parts if p.decisive
    )
    assert v.observed is not None and "n = 4" in v.observed.scale
