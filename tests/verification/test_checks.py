"""Each claim's pure check on constructed inputs whose verdict is known."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings

from ntk_attention import attention_weights, mean_attention_mass
from verification import strategies as vst
from verification.claims import c3_last_token_mass
from verification.claims._common import interval_status, slope_status
from verification.claims.c3_last_token_mass import check_c3, plot_c3, summary_c3
from verification.claims.c5_ood_risk import check_c5
from verification.contract import Context
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VIOLATED, Verdict

STEPS = np.arange(0, 101, 10)
WIDTHS = np.array([8, 16])
SEEDS = np.array([0, 1])


def test_interval_and_slope_rules():
    assert interval_status(0.1, 0.2, 0.3, upper=True) == HOLDS
    assert interval_status(0.4, 0.5, 0.3, upper=True) == VIOLATED
    assert interval_status(0.2, 0.4, 0.3, upper=True) == INCONCLUSIVE
    assert interval_status(0.95, 0.99, 0.9, upper=False) == HOLDS
    assert interval_status(0.5, 0.8, 0.9, upper=False) == VIOLATED
    assert slope_status(-0.8, -0.5) == HOLDS
    assert slope_status(-0.6, -0.4) == INCONCLUSIVE  # straddles -1/2: m^-0.45 would break O(m^-1/2)
    assert slope_status(-0.8, -0.1) == INCONCLUSIVE  # decays, but perhaps only like m^-0.1
    assert slope_status(-0.3, -0.1) == VIOLATED
    assert slope_status(-0.8, 0.2) == INCONCLUSIVE
    assert slope_status(-1.2, -0.9) == HOLDS  # faster than m^-1/2 meets an O(m^-1/2) bound


# C1's and C4's decision paths: tests/verification/test_c1_c4.py


# C2's checks (premises, levels, plateau, exponents) are tested in tests/verification/test_c2_c3.py.


def _masses(last, others, shape=(2, 50)):
    d = len(others) + 1
    M = np.empty((*shape, d))
    M[..., :-1] = others
    M[..., -1] = last
    return M / M.sum(-1, keepdims=True)


def _neg(*Ms):
    """Final weights of every neuron negative: Theorem 5.3's premise met (the readings alone
    decide)."""
    return [-np.ones(np.shape(M)[:2]) for M in Ms]


S3 = 40  # networks: enough for the seed-level rule to reach HOLDS (36 with no failure)


def _met(S=S3):
    """The other premises met: kernel regime (relative change 0.01) and η = 1e-3 ≤ λδ = 1e-2."""
    return dict(
        seeds=list(range(S)),
        kernel_change=[np.full(S, 0.01)],
        eta=1e-3,
        lam=0.1,
        lam_resolution=1e-12,
    )


def test_c3_verdicts():
    good = _masses(0.05, [0.2, 0.3, 0.45], shape=(S3, 50))
    bad = _masses(0.5, [0.1, 0.2, 0.2], shape=(S3, 50))
    assert (
        check_c3(
            widths=[50], masses_final=[good], weights_final=_neg(good), delta=0.1, **_met()
        ).status
        == HOLDS
    )
    bad2 = np.concatenate([bad, bad], axis=1)
    kw = {**_met(), "kernel_change": [np.full(S3, 0.01)] * 2}
    v = check_c3(
        widths=[50, 100], masses_final=[good, bad2], weights_final=_neg(good, bad2), delta=0.1, **kw
    )
    assert (
        v.status == VIOLATED
        and v.counterexample["width"] == 100
        and v.counterexample["least_attended_position"] == 1
    )
    mixed = good.copy()
    mixed[:5, 0] = bad[
        :5, 0
    ]  # the designated neuron fails in 5 of 40 networks: CP upper end > δ, p = 0.37
    assert (
        check_c3(
            widths=[50], masses_final=[mixed], weights_final=_neg(mixed), delta=0.1, **_met()
        ).status
        == INCONCLUSIVE
    )


# Theorem 5.3's four readings on constructed masses (d = 4, 40 networks x 50 neurons):
# EVERY_VS_AVERAGE: every neuron [0.1, 0.35, 0.35, 0.2]: the last position is below 1/d = 0.25 but
# not the least; NEURON_VS_POPULATION: half [0.3, 0.3, 0.3, 0.1], half [0.25, 0.25, 0.2, 0.3], the
# first neuron of every other network of the second kind: the designated neuron fails in half the
# networks, but each network's neuron average [0.275, 0.275, 0.25, 0.2] has its least mass
# (below 1/d) last.
EVERY_VS_AVERAGE = np.tile([0.1, 0.35, 0.35, 0.2], (S3, 50, 1))
NEURON_VS_POPULATION = np.stack(
    [
        np.roll(
            np.tile(np.array([[0.3, 0.3, 0.3, 0.1], [0.25, 0.25, 0.2, 0.3]]), (25, 1)),
            s % 2,
            axis=0,
        )
        for s in range(S3)
    ]
)
READING_VERDICTS = {
    "every_vs_average": {
        ("neuron", "every"): VIOLATED,
        ("neuron", "average"): HOLDS,
        ("population", "every"): VIOLATED,
        ("population", "average"): HOLDS,
    },
    "neuron_vs_population": {
        ("neuron", "every"): VIOLATED,
        ("neuron", "average"): VIOLATED,
        ("population", "every"): HOLDS,
        ("population", "average"): HOLDS,
    },
}


@pytest.mark.parametrize(
    "case, M",
    [("every_vs_average", EVERY_VS_AVERAGE), ("neuron_vs_population", NEURON_VS_POPULATION)],
)
@pytest.mark.parametrize("expectation", ["neuron", "population"])
@pytest.mark.parametrize("versus", ["every", "average"])
def test_c3_reading_decides_and_reports_all_four(case, M, expectation, versus):
    v = check_c3(
        widths=[50],
        masses_final=[M],
        weights_final=_neg(M),
        masses_init=[M],
        delta=0.1,
        expectation=expectation,
        versus=versus,
        **_met(),
    )
    expected = READING_VERDICTS[case]
    assert v.status == expected[(expectation, versus)]
    assert v.measured["decisive_reading"] == f"{expectation}/{versus}"
    decisive = [p for p in v.parts if p.decisive]
    assert [p.role for p in decisive] == ["premise"] * 3 + ["conclusion"]
    assert all(p.status == HOLDS for p in decisive[:3])
    assert decisive[3].name.startswith(f"[{expectation}/{versus}]")
    # every reading is reported with its own verdict, the undecisive ones as diagnostics (on the
    # premise's neurons and on every neuron: here the same neurons)
    by_reading = {
        tuple(p.name[1 : p.name.index("]")].split("/")): p.status
        for p in v.parts
        if p.name.startswith("[")
    }
    assert by_reading == expected
    assert f"C3.expectation = '{expectation}', C3.versus = '{versus}'" in v.explanation
    if v.status == VIOLATED:
        assert (
            v.counterexample["reading"] == f"{expectation}/{versus}"
            and v.counterexample["width"] == 50
        )
        assert v.counterexample["seed"] in range(S3)
    else:
        assert v.counterexample is None
    assert Verdict.from_dict(v.to_dict()) == v


def test_c3_reading_statistics_against_direct_formulas():
    M = NEURON_VS_POPULATION
    v = check_c3(
        widths=[50],
        masses_final=[M],
        weights_final=_neg(M),
        masses_init=[EVERY_VS_AVERAGE],
        delta=0.1,
        **_met(),
    )
    mean = M.reshape(-1, 4).mean(axis=0)
    assert v.measured["fraction_last_least"] == [0.5] and v.measured[
        "fraction_last_below_average"
    ] == [0.5]
    assert v.measured["mean_gap_other_minus_last"] == [
        pytest.approx(mean[:3].min() - mean[3])
    ]  # 0.05
    assert v.measured["mean_gap_average_minus_last"] == [
        pytest.approx((1 - 4 * mean[3]) / 3)
    ]  # masses sum to 1
    assert v.measured["fraction_last_least_at_init"] == [0.0] and v.measured[
        "fraction_last_below_average_at_init"
    ] == [1.0]
    # one trial per network: the designated (first negative) neuron fails in the odd networks
    assert v.measured["fraction_last_least_network_failures"] == [S3 // 2]
    assert v.measured["mean_gap_other_minus_last_network_failures"] == [0]


def test_c3_figure_and_summary_follow_the_reading(tmp_path):
    traj = np.tile(NEURON_VS_POPULATION.reshape(-1, 4).mean(0), (1, 3, 1))  # (W, R, d)
    v = check_c3(
        widths=[50],
        masses_final=[NEURON_VS_POPULATION],
        weights_final=_neg(NEURON_VS_POPULATION),
        delta=0.1,
        expectation="population",
        versus="average",
        steps=np.array([0, 5, 10]),
        mass_trajectory=traj,
        negative_trajectory=np.array([[0.5, 0.9, 1.0]]),
        **_met(),
    )
    assert summary_c3(v) == f"last ≤ 1/d fails in 0/{S3} networks at T"
    assert (
        plot_c3(v, tmp_path) == ["c3_last_token_mass.png"]
        and (tmp_path / "c3_last_token_mass.png").stat().st_size > 0
    )
    old = Verdict.from_dict(
        {**v.to_dict(), "measured": {"fraction_last_least": [0.25]}}
    )  # a summary from before
    assert summary_c3(old) == "last position least attended: 0.25 (need ≥ 0.90)"


def test_c3_refuses_unknown_reading():
    with pytest.raises(ValueError, match="expectation"):
        check_c3(
            widths=[50],
            seeds=[0, 1],
            masses_final=[EVERY_VS_AVERAGE],
            weights_final=_neg(EVERY_VS_AVERAGE),
            delta=0.1,
            expectation="data",
        )
    with pytest.raises(ValueError, match="versus"):
        check_c3(
            widths=[50],
            seeds=[0, 1],
            masses_final=[EVERY_VS_AVERAGE],
            weights_final=_neg(EVERY_VS_AVERAGE),
            delta=0.1,
            versus="mean",
        )


def test_c3_reading_is_configured_and_reaches_the_check():
    from types import SimpleNamespace

    from verification import config as cfg

    default = cfg.default_config()["C3"]
    assert (default["expectation"], default["versus"]) == ("neuron", "every")
    text = cfg.to_toml(cfg.default_config())
    assert 'expectation = "neuron"' in text and "one of 'neuron', 'population'" in text
    assert 'versus = "every"' in text and "one of 'every', 'average'" in text
    assert (
        cfg.validate({"C3": {"expectation": "population", "versus": "average"}})["C3"]["versus"]
        == "average"
    )
    with pytest.raises(
        cfg.ConfigError, match=r"C3\.versus: expected one of 'every', 'average', got 'all'"
    ):
        cfg.validate({"C3": {"versus": "all"}})
    with pytest.raises(
        cfg.ConfigError, match=r"C3\.expectation: expected one of 'neuron', 'population'"
    ):
        cfg.validate({"C3": {"expectation": 1}})
    # run_c3 hands the section's reading to check_c3 (training replaced by the constructed masses)
    traj = SimpleNamespace(
        position_mass=np.stack([NEURON_VS_POPULATION[0]] * 2),
        weights=-np.ones((2, 50)),
        mean_position_mass=np.tile(NEURON_VS_POPULATION[0].mean(0), (2, 1)),
        diverged_step=-1,
        params=SimpleNamespace(w=-np.ones(50)),
    )
    config = cfg.validate(
        {"C3": {"widths": [50], "seeds": 2, "steps": 1, "records": 2, "expectation": "population"}}
    )
    ctx = SimpleNamespace(
        config=config,
        seed=0,
        network_seeds=lambda k: list(range(k)),
        dataset=lambda n=None: SimpleNamespace(
            X=np.random.default_rng(0).normal(size=(3, 4)), y=np.ones(3)
        ),
        cached=lambda key, f: f(),
        # the data process's windows (C3's |w|*) come from the configured source's own key stream
        memo_key=Context.memo_key,
        key=lambda name: jax.random.key(0),
        progress=lambda desc, total: SimpleNamespace(update=lambda k: None, close=lambda: None),
        # training and its step size are the Context's (verification.contract.Context.train)
        train=lambda *a, **kw: traj,
        sigma=lambda sigma=None: 1.0,
        step_size=lambda section, **kw: section["eta"],
        lambda_star=lambda n, sigma=None: (SimpleNamespace(value=1.0, resolution=1e-12),),
    )
    v = c3_last_token_mass.run_c3(config["C3"], ctx)
    assert v.measured["decisive_reading"] == "population/every"
    assert any(p.decisive and p.name.startswith("[population/every]") for p in v.parts)
    assert "last least attended fails in 0/2 networks at T" in summary_c3(v)


def _c5(att, lin, n_test=60, att_exponent=0.0, lin_exponent=1.0, seeds=10, spread=0.05):
    rng = np.random.default_rng(1)
    att_e = [[att * rng.chisquare(1, size=(n_test, 2)) * 0.01]]
    lin_e = [[lin * rng.chisquare(1, size=(n_test, 1)) * 0.01]]
    sig = np.array([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    # the sign test on per-seed exponents needs >= 6 seeds (C5's default 10) and some spread
    jit = np.exp(rng.normal(0.0, spread, size=(2, 5, seeds)))
    return check_c5(
        sizes=[16],
        steps=[100],
        att_sq_err=att_e,
        lin_sq_err=lin_e,
        noise_std=0.1,
        c_R=1.0,
        resamples=300,
        noise_levels=sig,
        att_risk=sig[:, None] ** (2 * att_exponent) * jit[0],
        lin_risk=sig[:, None] ** (2 * lin_exponent) * jit[1],
    )


def _diagnostic(v, model):
    return next(p.status for p in v.parts if not p.decisive and p.name.startswith(model))


def test_c5_verdicts():
    level = 1 + np.log(16)  # 3.77
    v = _c5(200.0, 1.1)
    assert v.status == HOLDS and v.bounds["risk_level_over_sigma2"] == [pytest.approx(level)]
    # the c_R reading is a diagnostic: it classifies as before but does not decide
    v = _c5(1.0, 1.1)
    assert v.status == HOLDS and _diagnostic(v, "attention") == VIOLATED
    assert _diagnostic(_c5(200.0, level), "the residual linear") == INCONCLUSIVE
    # the noise exponents decide
    v = _c5(200.0, 1.1, att_exponent=1.0)
    assert v.status == VIOLATED and v.counterexample["model"] == "attention"
    assert _c5(200.0, 1.1, lin_exponent=0.5).counterexample["model"] == "linear"
    assert _c5(200.0, 1.1, lin_exponent=0.9).status == INCONCLUSIVE
    # the median rule cannot decide on 3 seeds, nor on seeds whose exponents are identical
    assert _c5(200.0, 1.1, seeds=3).status == INCONCLUSIVE
    assert _c5(200.0, 1.1, spread=0.0).status == INCONCLUSIVE


@settings(max_examples=10, deadline=None)
@given(vst.params(width=6, output_signs="minus"), vst.windows(n=4, d=5, distinct=True))
def test_c3_fraction_matches_direct_softmax(params, X):
    # masses from the fast path, decided by check_c3; the same fraction from jax.nn.softmax weights
    masses = np.asarray(mean_attention_mass(params, X))[None]
    v = check_c3(
        widths=[6], seeds=[0], masses_final=[masses], weights_final=_neg(masses), delta=0.1
    )
    s = np.asarray(attention_weights(params, X)).mean(axis=0)  # (m, d)
    direct = np.mean(s[:, -1] <= s[:, :-1].min(axis=1) + 1e-12)
    assert v.measured["fraction_last_least"] == [pytest.approx(direct)]
