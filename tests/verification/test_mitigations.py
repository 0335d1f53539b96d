"""C6 and C7: pure checks on constructed evidence, the bootstrap, configuration, and one tiny
end-to-end run."""

import json

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from ntk_attention import multidim as md
from verification import config as cfg
from verification import pipeline, report
from verification.claims import CLAIMS, Context
from verification.claims import c6_gradient_formula as c6
from verification.claims import c7_mitigations as c7
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED, Verdict

SHAPES = np.array([[2, 1, 1], [3, 2, 3], [5, 3, 3]])


# ---------------------------------------------------------------------------------------------- C6


def test_formula_errors_separate_the_readings():
    E = c6.formula_errors(SHAPES[:2], [0, 1], (0.3, 3.0))
    assert E.shape == (2, 2, 4)
    assert (
        E[..., [0, 1, 3]].max() < 1e-12
    )  # printed (rows), chain rule (rows and columns) match autodiff
    assert E[..., 2].min() > 1e-3  # the printed row-sum term is wrong for a column softmax


def cases(alignment, score_gradient, local_mass):
    return md.LocalCases(
        *(
            np.asarray(a, np.float64)[None, :, :, None]
            for a in (alignment, score_gradient, local_mass)
        )
    )


def test_check_c6_holds_and_counts_cases_by_hand():
    E = np.full((3, 2, 4), 1e-15)
    E[..., 2] = 5.0
    # 3 records x 2 windows: case 1 (c > 0) at 3 entries, case 2 (c < 0) at 3
    c = [[1.0, -1.0], [2.0, -0.5], [0.3, -2.0]]
    g = [
        [0.1, -0.2],
        [-0.1, 0.3],
        [0.2, -0.1],
    ]  # case 1 lowers A_LL (g > 0) 2 of 3; case 2 raises (g < 0) 2 of 3
    m = [[0.1, 0.2], [0.15, 0.1], [0.2, 0.4]]
    v = c6.check_c6(
        shapes=SHAPES,
        seeds=[0, 1],
        errors=E,
        rtol=1e-9,
        cases=cases(c, g, m),
        consistent=[True, False],
    )
    assert v.status == HOLDS and v.counterexample is None
    c1, c2 = v.measured["cases"]["case1"], v.measured["cases"]["case2"]
    assert (c1["count"], c2["count"]) == (3, 3)
    assert c1["seed_direction"] == pytest.approx(2 / 3) and c2["seed_direction"] == pytest.approx(
        2 / 3
    )
    assert c1["fraction_among_consistent"] == 1.0 and c2["fraction_among_inconsistent"] == 1.0
    assert c1["mean_local_mass_change"] == pytest.approx(
        ((0.15 - 0.1) + (0.2 - 0.15)) / 2
    )  # last record has no next
    assert c2["mean_local_mass_change"] == pytest.approx(((0.1 - 0.2) + (0.4 - 0.1)) / 2)
    assert [p.decisive for p in v.parts] == [True, True, False, False]
    assert Verdict.from_dict(v.to_dict()) == v


def test_check_c6_violated_names_the_smallest_failing_shape():
    E = np.full((3, 2, 4), 1e-15)
    E[1, 1, 0] = E[2, 0, 0] = 0.3  # printed formula off at shapes 1 and 2
    v = c6.check_c6(shapes=SHAPES, seeds=[7, 8], errors=E, rtol=1e-9)
    assert v.status == VIOLATED
    assert v.counterexample == {
        "formula": "printed_rows",
        "n": 3,
        "d": 2,
        "d_v": 3,
        "seed": 8,
        "rel_error": 0.3,
    }


# ---------------------------------------------------------------------------------------------- C7


def test_paired_risk_bootstrap_exact_cases():
    rng = np.random.default_rng(0)
    ref = rng.exponential(size=(4, 30))
    assert c7.paired_risk_bootstrap(0.5 * ref, ref, resamples=200) == pytest.approx((0.5, 0.5, 0.5))
    est, lo, hi = c7.paired_risk_bootstrap(
        ref * rng.uniform(0.5, 2.0, size=ref.shape), ref, resamples=300
    )
    assert lo <= est <= hi and lo < hi
    gm = c7.paired_risk_bootstrap(ref, resamples=200)[
        0
    ]  # no reference: geometric mean of the per-seed risks
    assert gm == pytest.approx(np.exp(np.log(ref.mean(axis=1)).mean()))
    with pytest.raises(ValueError, match="err_ref"):
        c7.paired_risk_bootstrap(ref, ref[:, :5])


# per-seed scatter over C7's 12 default seeds, its log symmetric: mean and median exactly 0
SYM = np.exp(np.linspace(-0.05, 0.05, 12))[:, None]


def _c7(sq, L=4, **kw):
    S = next(iter(sq.values())).shape[0]
    mass = {k: np.full((S, 2, L), 1 / L) for k in sq}
    mass.update(kw.pop("mass", {}))
    n = next(iter(sq.values())).shape[1]
    return c7.check_c7(
        variants=list(sq),
        sq_err=sq,
        mass=mass,
        linear_sq_err=np.full(n, 0.02),
        noise_std=0.1,
        resamples=200,
        **kw,
    )


def test_check_c7_margin_rule_decides_each_variant():
    """Known answers per variant: patching × 0.3 mitigates (HOLDS), Adam × 3 and a planted null
    (RoPE, risk × 1
    within small seed scatter) do not mitigate by Δ = 0.1 (VIOLATED), weight decay exactly at 1 − Δ
    is undecided."""
    rng = np.random.default_rng(1)
    base = rng.exponential(size=(12, 40))
    sq = {  # every variant scatters over seeds: identical ratios would be zero spread
        "vanilla": base,
        "patching": 0.3 * base * SYM,
        "adam": 3.0 * base * SYM,
        "rope": base * SYM,
        "weight_decay": 0.9 * base * SYM,
    }
    v = _c7(
        sq, mass={"patching": np.tile(np.array([0.1, 0.1, 0.2, 0.6]), (12, 2, 1))}
    )  # L * S_LL = 2.4
    by_name = {p.name.split(":")[0]: p.status for p in v.parts if p.decisive}
    assert (
        by_name["patching"] == HOLDS and by_name["adam"] == VIOLATED and by_name["rope"] == VIOLATED
    )
    assert (
        by_name["weight_decay"] == INCONCLUSIVE
        and by_name["enough sign-inconsistent test windows"] == HOLDS
    )
    assert (
        v.status == VIOLATED
        and v.counterexample["variant"] in ("adam", "rope")
        and v.counterexample["margin"] == 0.1
    )
    assert (
        v.measured["rope/mitigation"] == "does not mitigate"
        and v.measured["rope/p_not_mitigates_holm"] < 0.025
    )
    # the paired test against 1 stays as a diagnostic: RoPE has no measurable effect, Adam hurts
    assert v.measured["rope/paired_effect"] == "no measurable effect" and v.measured[
        "rope/p_helps_holm"
    ] == pytest.approx(1.0)
    assert v.measured["adam/paired_effect"] == "hurts" and v.measured["adam/p_hurts_holm"] < 0.025
    # exactly on the margin: 6 of 12 seeds below, the sign test's p is P(Bin(12, 1/2) >= 6)
    assert v.measured["weight_decay/p_mitigates"] == pytest.approx(0.6128, abs=1e-4)
    assert (
        v.observed.status == VIOLATED
        and "Δ = 0.1" in v.observed.rule
        and "Holm over 4" in v.observed.rule
    )
    assert (
        "rope" in v.observed.finding
        and "adam" in v.observed.finding
        and "Δ = 0.1" in v.observed.finding
    )
    assert "40 sign-inconsistent" in v.observed.scale and v.bounds[
        "mitigation_factor"
    ] == pytest.approx(0.9)
    assert v.measured["patching/risk_factor_vs_vanilla"] == pytest.approx(0.3)
    lo, hi = v.intervals["rope/risk_factor_vs_vanilla"]
    assert 0.9 < lo < 1.0 < hi
    assert v.measured["patching/last_mass_ratio"] == pytest.approx(2.4)
    assert v.measured["vanilla/last_mass_ratio"] == pytest.approx(1.0)
    assert v.measured["linear_risk_ratio"] == pytest.approx(2.0)
    assert v.measured["vanilla/risk_ratio"] == pytest.approx(
        np.exp(np.log(base.mean(1) / 0.01).mean())
    )
    assert "patching" in v.explanation and "adam" in v.explanation
    assert Verdict.from_dict(v.to_dict()) == v


def test_check_c7_holds_when_every_variant_mitigates():
    base = np.random.default_rng(2).exponential(size=(12, 40))
    v = _c7({"vanilla": base, "patching": 0.5 * base * SYM, "adam": 0.7 * base * SYM})
    assert v.status == HOLDS and v.observed.status == HOLDS and v.counterexample is None
    assert v.observed.finding.startswith("every variant mitigates") and not v.observed.budget
    assert "mitigates by Δ = 0.1: patching" in c7.summary_c7(v)


def test_check_c7_margin_boundary_is_inconclusive_with_a_budget():
    """A factor exactly 1 − Δ cannot be decided either way; one that mitigates does not make the
    claim HOLD."""
    base = np.random.default_rng(3).exponential(size=(12, 40))
    v = _c7({"vanilla": base, "patching": 0.5 * base * SYM, "adam": 0.9 * base * SYM})
    assert v.status == INCONCLUSIVE and v.observed.status == INCONCLUSIVE
    assert (
        "adam" in v.observed.budget and "more than 1000 seeds" in v.observed.budget
    )  # on the margin: no budget decides
    near = _c7(
        {"vanilla": base, "adam": 0.85 * base * SYM**4}
    )  # below the margin, wide scatter: undecided at 12 seeds
    assert near.observed.status == INCONCLUSIVE and "adam" in near.observed.budget
    k = int(near.observed.budget.split("adam ")[1].split(" seeds")[0])
    assert 12 < k < 1000


def test_check_c7_planted_null_with_wide_scatter_is_inconclusive_with_a_budget():
    """No variant changes the risk, but the seed scatter (sd 0.2) is too wide for 5 seeds to show
    that neither
    lowers it by 10%: undecided, and the budget names the seeds power 0.8 would need."""
    rng = np.random.default_rng(4)
    base = rng.exponential(size=(5, 200))  # 5 seeds: a sign test cannot decide below 6
    sq = {
        "vanilla": base,
        **{k: base * np.exp(rng.normal(0, 0.2, size=(5, 1))) for k in ("rope", "adam")},
    }
    v = _c7(sq)
    assert v.status == INCONCLUSIVE and v.observed.status == INCONCLUSIVE
    assert "seeds" in v.observed.budget and "rope" in v.observed.budget
    assert "200 sign-inconsistent" in c7.summary_c7(v) or "200 sign-inconsistent" in v.explanation


def test_c7_margin_is_validated():
    assert cfg.default_config()["C7"]["margin"] == pytest.approx(0.1)
    assert cfg.validate({"C7": {"margin": 0.25}})["C7"]["margin"] == 0.25
    for bad in (1.0, 1.5, 0.0, -0.1, "a"):
        with pytest.raises(cfg.ConfigError, match="C7.margin"):
            cfg.validate({"C7": {"margin": bad}})
    base = np.ones((12, 4))
    with pytest.raises(ValueError, match="margin"):
        _c7({"vanilla": base, "adam": 0.5 * base * SYM}, margin=1.0)


def test_check_c6_observed_reads_the_same_evidence():
    E = np.full((3, 2, 4), 1e-15)
    E[..., 2] = 5.0
    v = c6.check_c6(shapes=SHAPES, seeds=[0, 1], errors=E, rtol=1e-9)
    assert v.status == v.observed.status == HOLDS
    assert v.observed.looseness["orders_below_tolerance"] == pytest.approx(6.0)
    assert "(5, 3, 3)" in v.observed.scale and "jax.grad" in v.observed.rule


def test_variants_setting_is_validated():
    assert cfg.validate({"C7": {"variants": ["vanilla", "rope"]}})["C7"]["variants"] == [
        "vanilla",
        "rope",
    ]
    for bad in (
        ["rope", "vanilla"],
        ["vanilla"],
        ["vanilla", "dropout"],
        ["vanilla", "rope", "rope"],
        "vanilla",
    ):
        with pytest.raises(cfg.ConfigError, match="C7.variants"):
            cfg.validate({"C7": {"variants": bad}})
    section = cfg.default_config()["C7"]
    configs = {name: c7.variant_setup(name, section)[0] for name in c7.VARIANTS}
    assert (
        configs["vanilla"] == configs["adam"] == configs["weight_decay"]
    )  # these three train in one program
    assert len(set(configs.values())) == 4


@pytest.mark.parametrize(
    "setting, reference",
    [
        (c7.OptimizerSetting(0.1, 0.01, 0.0, False), optax.sgd(0.1)),
        (
            c7.OptimizerSetting(0.1, 0.01, 0.05, False),
            optax.chain(optax.add_decayed_weights(0.05), optax.sgd(0.1)),
        ),
        (c7.OptimizerSetting(0.1, 0.01, 0.05, True), optax.adam(0.01)),
    ],
)
def test_optimizer_family_equals_the_optax_optimizers(setting, reference):
    params = {"a": jnp.array([1.0, -2.0]), "b": jnp.array(0.5)}
    grads = [{"a": jnp.array([0.3 * t, -1.0]), "b": jnp.array(2.0 - t)} for t in range(3)]
    fam = c7.optimizer_family(setting)
    p1, s1, p2, s2 = params, fam.init(params), params, reference.init(params)
    for g in grads:
        u1, s1 = fam.update(g, s1, p1)
        u2, s2 = reference.update(g, s2, p2)
        p1, p2 = optax.apply_updates(p1, u1), optax.apply_updates(p2, u2)
    for k in params:
        np.testing.assert_allclose(p1[k], p2[k], rtol=1e-12)


# ---------------------------------------------------------------------------------------------- end
# to end


# haar data: 40 test windows hold enough sign-inconsistent ones for C7 to measure (residual data:
# too few)
TINY = {
    "data": {"n": 8, "source": "haar"},
    "C6": {
        "shapes": 2,
        "trials": 1,
        "n": 8,
        "pool": 24,
        "test_windows": 40,
        "steps": 4,
        "record_every": 2,
        "seeds": 1,
    },
    "C7": {
        "n": 6,
        "pool": 24,
        "test_windows": 40,
        "variants": ["vanilla", "patching"],
        "seeds": 2,
        "steps": 5,
        "resamples": 100,
    },
}


def test_c6_c7_run_and_report(tmp_path):
    assert {"C6", "C7"} <= set(CLAIMS)
    config = cfg.validate(TINY)
    verdicts = pipeline.run_claims(config, ["C6", "C7"], quiet=True)
    assert [v.claim for v in verdicts] == ["C6", "C7"]
    c6, c7 = verdicts
    assert c6.status == HOLDS and c6.measured["max_rel_error"]["printed_rows"] < 1e-12
    assert c6.measured["cases"]["case1"]["count"] + c6.measured["cases"]["case2"]["count"] > 0
    assert c7.status != VACUOUS, (
        c7.explanation
    )  # enough sign-inconsistent windows: the variants are measured
    assert c7.measured["variants"] == ["vanilla", "patching"]
    assert np.all(np.isfinite(c7.arrays["risk_ratio"]))
    report.write_results(tmp_path, verdicts, config, pipeline.environment())
    for png in ("c6_gradient_formula.png", "c7_mitigations.png"):
        assert (tmp_path / png).stat().st_size > 10_000
    text = (tmp_path / "report.md").read_text()
    assert "## C6" in text and "## C7" in text and "c7_mitigations.png" in text
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [v["id"] for v in summary["verdicts"]] == ["C6", "C7"]
    (tmp_path / "c7_mitigations.png").unlink()
    report.rerender(tmp_path)  # figures come back from the saved verdicts alone
    assert (tmp_path / "c7_mitigations.png").exists()


def test_preflight_refuses_impossible_settings():
    config = cfg.validate({"C7": {"key_dim": 3}, "C6": {"n": 30, "pool": 24}})
    ctx = Context(config=config, seed=0, quiet=True)
    with pytest.raises(cfg.ConfigError, match="C7.key_dim"):
        CLAIMS["C7"].preflight(config["C7"], ctx)
    with pytest.raises(cfg.ConfigError, match="C6.n"):
        CLAIMS["C6"].preflight(config["C6"], ctx)
    config = cfg.validate({"C7": {"patch_len": 9}})
    with pytest.raises(cfg.ConfigError, match="C7.patch_len"):
        CLAIMS["C7"].preflight(config["C7"], Context(config=config, seed=0, quiet=True))
