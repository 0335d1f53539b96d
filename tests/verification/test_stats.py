"""verification.rules against exact values and independent implementations."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from verification.rules import bootstrap_interval, clopper_pearson, loglog_slope


def test_clopper_pearson_closed_forms():
    # k = 0: upper = 1 - (alpha/2)^(1/n); k = n: lower = (alpha/2)^(1/n)
    for n in (1, 5, 10, 37):
        lo, hi = clopper_pearson(0, n, 0.05)
        assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-12)
        lo, hi = clopper_pearson(n, n, 0.05)
        assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / n), rel=1e-12)


@given(
    st.integers(1, 200).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.sampled_from([0.01, 0.05, 0.2]),
)
def test_clopper_pearson_matches_scipy_binomtest(kn, alpha):
    k, n = kn
    ref = sps.binomtest(k, n).proportion_ci(confidence_level=1 - alpha, method="exact")
    lo, hi = clopper_pearson(k, n, alpha)
    assert lo == pytest.approx(ref.low, abs=1e-12) and hi == pytest.approx(ref.high, abs=1e-12)
    # symmetry k <-> n - k
    lo2, hi2 = clopper_pearson(n - k, n, alpha)
    assert lo == pytest.approx(1 - hi2, abs=1e-12) and hi == pytest.approx(1 - lo2, abs=1e-12)


def test_clopper_pearson_coverage_by_exact_enumeration():
    # exact coverage at p = 0.3, n = 20: sum of binomial probabilities of k whose interval contains
    # p
    n, p = 20, 0.3
    k = np.arange(n + 1)
    lo, hi = clopper_pearson(k, np.full_like(k, n), 0.05)
    cover = sps.binom.pmf(k, n, p)[(lo <= p) & (p <= hi)].sum()
    assert cover >= 0.95


def test_clopper_pearson_refuses_bad_counts():
    with pytest.raises(ValueError, match="k"):
        clopper_pearson(5, 4)
    with pytest.raises(ValueError, match="n"):
        clopper_pearson(0, 0)
    with pytest.raises(ValueError, match="alpha"):
        clopper_pearson(1, 4, 1.5)
    with pytest.raises(ValueError, match="integer"):
        clopper_pearson(1.5, 4)


def test_bootstrap_constant_and_normal_mean():
    est, lo, hi = bootstrap_interval(np.full(30, 2.5))
    assert est == lo == hi == 2.5
    x = np.random.default_rng(1).normal(size=400)
    est, lo, hi = bootstrap_interval(x, resamples=2000, seed=3)
    half = 1.96 * x.std(ddof=1) / math.sqrt(x.size)  # normal-theory interval, same data
    assert est == pytest.approx(x.mean())
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.15)
    assert bootstrap_interval(x, seed=3) == bootstrap_interval(x, seed=3)  # deterministic


def test_loglog_slope_exact_power_law_and_linregress():
    m = np.array([64.0, 256, 1024, 4096])
    fit = loglog_slope(m, 3.0 * m**-0.5)
    assert fit.slope == pytest.approx(-0.5, abs=1e-12) and fit.hi - fit.lo == pytest.approx(
        0, abs=1e-9
    )
    assert math.exp(fit.intercept) == pytest.approx(3.0)
    rng = np.random.default_rng(0)
    x = np.repeat(m, 3)
    y = 2 * x**-0.4 * np.exp(0.2 * rng.normal(size=x.size))
    fit = loglog_slope(x, y, alpha=0.1)
    ref = sps.linregress(np.log(x), np.log(y))
    assert fit.slope == pytest.approx(ref.slope) and fit.stderr == pytest.approx(ref.stderr)
    half = sps.t.ppf(0.95, x.size - 2) * ref.stderr
    assert (fit.lo, fit.hi) == pytest.approx((ref.slope - half, ref.slope + half))


def test_bootstrap_refuses_a_single_observation():
    # one row resampled is always itself: the zero-width interval [x, x] would decide a verdict on
    # no evidence
    with pytest.raises(ValueError, match="samples"):
        bootstrap_interval(np.array([0.3]))
    with pytest.raises(ValueError, match="samples"):
        bootstrap_interval(np.ones((1, 5)), lambda r: r.mean())
    assert bootstrap_interval(np.array([0.0, 1.0]), resamples=50)[0] == 0.5


def test_loglog_slope_refuses():
    with pytest.raises(ValueError, match="x"):
        loglog_slope([2, 4], [1, 2])  # two points: no residual degree of freedom, no interval
    with pytest.raises(ValueError, match="x"):
        loglog_slope([1, 1, 1], [1, 2, 3])
    with pytest.raises(ValueError, match="positive"):
        loglog_slope([1, 2, 3], [1, 0, 3])


# ------------------------------------------------------------------------------- decision rules

from verification.rules import (  # noqa: E402
    adjusted_alpha,
    bounded_by,
    envelope_decision,
    float_floor,
    holm,
    probability_decision,
    rate_bounds,
    rate_decision,
    rate_status,
    resolution_check,
)

# noqa: E402
from verification.rules._verdict import HOLDS, INCONCLUSIVE, STATUSES, VACUOUS, VIOLATED

WIDTHS = 2.0 ** np.arange(6, 15)


def _noisy(exponent, seeds=30, sd=0.1, seed=0):
    rng = np.random.default_rng(seed)
    return WIDTHS[:, None] ** exponent * np.exp(sd * rng.normal(size=(WIDTHS.size, seeds)))


def test_rate_bounds_is_pooled_slope_with_seed_clustered_t_interval():
    v = _noisy(-0.5, seeds=7, sd=0.3, seed=4)
    slope, lo, hi = rate_bounds(WIDTHS, v)
    pooled = loglog_slope(np.repeat(WIDTHS, 7), v.ravel())  # same design at every seed: same slope
    assert float(slope) == pytest.approx(pooled.slope, abs=1e-12)
    per_seed = np.array([np.polyfit(np.log(WIDTHS), np.log(v[:, s]), 1)[0] for s in range(7)])
    half = sps.t.ppf(0.975, 6) * per_seed.std(ddof=1) / math.sqrt(7)
    assert (float(lo), float(hi)) == pytest.approx(
        (per_seed.mean() - half, per_seed.mean() + half), abs=1e-12
    )
    # one seed: the regression t interval of loglog_slope
    s1, lo1, hi1 = rate_bounds(WIDTHS, v[:, :1])
    ref = loglog_slope(WIDTHS, v[:, 0])
    assert (float(s1), float(lo1), float(hi1)) == pytest.approx(
        (ref.slope, ref.lo, ref.hi), abs=1e-12
    )


@given(st.floats(-3, 3), st.integers(0, 2**31 - 1))
def test_rate_bounds_ignore_per_seed_constants(log_scale, seed):
    # a seed-dependent constant factor (intercept) cannot change a slope or its interval
    v = _noisy(-0.5, seeds=5, seed=seed)
    factor = np.exp(log_scale * np.random.default_rng(seed).normal(size=5))
    a, b = rate_bounds(WIDTHS, v), rate_bounds(WIDTHS, v * factor)
    assert np.allclose(a, b, atol=1e-9)


def test_rate_decision_true_false_boundary():
    true = rate_decision(WIDTHS, _noisy(-0.5))
    assert (
        true.status == HOLDS
        and true.hi <= -0.4
        and "≤ p + Δ" in true.rule
        and "Δ = 0.1" in true.rule
    )
    false = rate_decision(WIDTHS, _noisy(-0.25))
    assert false.status == VIOLATED and false.lo > -0.4 and "Δ_v = 0.1" in false.rule
    # boundary: exponent exactly p + Δ, per-seed slopes -0.4 ± 0.05: the interval straddles it
    base = WIDTHS[:, None] ** -0.4
    tilt = np.array([0.05, -0.05] * 5)
    v = base * WIDTHS[:, None] ** tilt[None, :]
    b = rate_decision(WIDTHS, v)
    assert b.status == INCONCLUSIVE and b.lo < -0.4 < b.hi and b.slope == pytest.approx(-0.4)
    # identical seeds (zero spread of the per-seed slopes) never decide (issue 28)
    exact = rate_decision(WIDTHS, np.repeat(WIDTHS[:, None] ** -0.5, 3, axis=1))
    assert exact.status == INCONCLUSIVE and "zero spread" in exact.rule
    assert exact.hi == pytest.approx(-0.5, abs=1e-12)


def test_rate_decision_pre_asymptotic_maximum_is_not_violated():
    # m^-1/2 max over m of min(|z|, 4): exactly O(m^-1/2), fitted slope about -0.42 (brute force
    # draws)
    rng = np.random.default_rng(11)
    widths = np.array([64, 128, 256, 512, 1024, 2048])
    v = np.array(
        [
            [np.minimum(np.abs(rng.normal(size=m)), 4).max() / math.sqrt(m) for _ in range(30)]
            for m in widths
        ]
    )
    d = rate_decision(widths, v)
    assert d.slope > -0.5 and d.status != VIOLATED


def test_rate_status_and_margins():
    assert rate_status(-0.6, -0.4) == HOLDS  # upper end exactly p + Δ
    assert rate_status(-0.4, -0.3) == INCONCLUSIVE  # lower end exactly p + Δ_v is not > it
    assert rate_status(-0.39, -0.3) == VIOLATED
    assert rate_status(-0.39, -0.3, violation_margin=0.2) == INCONCLUSIVE
    assert list(rate_status(np.array([-0.6, -0.39]), np.array([-0.45, -0.2]))) == [HOLDS, VIOLATED]
    with pytest.raises(ValueError, match="violation_margin"):
        rate_decision(WIDTHS, _noisy(-0.5), violation_margin=0.05)
    with pytest.raises(ValueError, match="margin"):
        rate_decision(WIDTHS, _noisy(-0.5), margin=-0.1)
    with pytest.raises(ValueError, match="values"):
        rate_decision(WIDTHS, -_noisy(-0.5))
    with pytest.raises(ValueError, match="widths"):
        rate_decision([64, 128], np.ones((2, 3)))
    with pytest.raises(ValueError, match="values"):
        rate_decision(WIDTHS, np.ones((4, 3)))


def _holm_step_down(p, a):
    """Holm's procedure as written (1979): reject p_(1), p_(2), ... while p_(i) <= a/(K - i + 1)."""
    order = np.argsort(p, kind="stable")
    rejected = np.zeros(p.size, bool)
    for i, j in enumerate(order):
        if p[j] * (p.size - i) > a:
            break
        rejected[j] = True
    return rejected


@given(
    st.lists(st.floats(0, 1), min_size=1, max_size=12), st.sampled_from([0.01, 0.025, 0.05, 0.2])
)
def test_holm_adjusted_pvalues_reproduce_the_step_down_procedure(ps, a):
    p = np.array(ps)
    assert np.array_equal(holm(p) <= a, _holm_step_down(p, a))
    assert np.array_equal(holm(p, method="bonferroni") <= a, p * p.size <= a)
    assert np.array_equal(holm(p, method="none"), p)
    assert np.all(holm(p) <= holm(p, method="bonferroni") + 1e-15)


def test_holm_and_adjusted_alpha_refuse():
    with pytest.raises(ValueError, match="pvalues"):
        holm([0.5, 1.5])
    with pytest.raises(ValueError, match="method"):
        holm([0.5], method="sidak")
    assert adjusted_alpha(0.05, 4) == pytest.approx(0.0125)
    assert adjusted_alpha(0.05, 4, method="none") == 0.05
    with pytest.raises(ValueError, match="family"):
        adjusted_alpha(0.05, 0)


def test_probability_decision_true_false_boundary():
    runs = 120
    true = probability_decision(np.array([0, 2, 1, 3]), runs, delta=0.1)
    assert true.status == HOLDS and max(true.upper) <= 0.1 and "intersection–union" in true.rule
    hi = [clopper_pearson(k, runs, 0.05)[1] for k in (0, 2, 1, 3)]
    assert true.upper == pytest.approx(tuple(hi), abs=1e-12)
    false = probability_decision(np.array([1, 30, 2, 0]), runs, delta=0.1)
    assert false.status == VIOLATED and false.rejected == (1,) and "Holm over 4" in false.rule
    assert false.lower_adjusted[1] > 0.1
    boundary = probability_decision(np.array([12, 12, 12, 12]), runs, delta=0.1)
    assert boundary.status == INCONCLUSIVE
    # parts x widths: the family is every cell
    parts = probability_decision(np.array([[0, 1], [2, 40]]), np.array([120, 120]), delta=0.1)
    assert parts.status == VIOLATED and len(parts.upper) == 4 and "over 4" in parts.rule
    none = probability_decision(np.array([1, 30]), runs, delta=0.1, correction="none")
    assert "NOT controlled" in none.rule


def test_probability_decision_exact_error_rates_by_enumeration():
    # at p = delta (the boundary), P(HOLDS) <= alpha/2 at one width, and P(VIOLATED) over K widths
    # <= alpha/2
    delta, alpha = 0.1, 0.05
    for n in (20, 60, 120, 300):
        k = np.arange(n + 1)
        holds = np.array(
            [probability_decision(np.array([x]), n, delta=delta).status == HOLDS for x in k]
        )
        assert sps.binom.pmf(k, n, delta)[holds].sum() <= alpha / 2 + 1e-12
        viol1 = np.array(
            [
                probability_decision(np.array([x, 0, 0, 0]), n, delta=delta).status == VIOLATED
                for x in k
            ]
        )
        p_one = sps.binom.pmf(k, n, delta)[
            viol1
        ].sum()  # one width rejected (others can only lower the rate)
        assert 1 - (1 - p_one) ** 4 <= alpha / 2 + 1e-12


def test_probability_decision_refuses():
    with pytest.raises(ValueError, match="failures_per_width"):
        probability_decision(np.array([1.0, 2.0]), 10, delta=0.1)
    with pytest.raises(ValueError, match="failures_per_width"):
        probability_decision(np.array([11]), 10, delta=0.1)
    with pytest.raises(ValueError, match="runs_per_width"):
        probability_decision(np.array([1, 2]), np.array([10, 10, 10]), delta=0.1)
    with pytest.raises(ValueError, match="delta"):
        probability_decision(np.array([1]), 10, delta=1.5)


def test_bounded_by_true_false_boundary_and_vacuous():
    m = WIDTHS[:, None]
    rng = np.random.default_rng(2)
    v = np.minimum(np.abs(rng.normal(size=(WIDTHS.size, 5))), 4) / np.sqrt(m)
    assert bounded_by(v, 4 / np.sqrt(m)).status == HOLDS
    v2 = v.copy()
    v2[3, 2] = 4 / math.sqrt(WIDTHS[3])  # exactly at the bound: within it
    assert bounded_by(v2, 4 / np.sqrt(m)).status == HOLDS
    v2[3, 2] *= 1 + 1e-6
    bad = bounded_by(v2, 4 / np.sqrt(m))
    assert bad.status == VIOLATED and bad.worst == (3, 2) and bad.exceedances == 1
    assert bounded_by(v, np.full_like(v, 10.0), scale=1.0).status == VACUOUS
    # a 1 - delta bound: exceedances per width to the probability rule
    vals = rng.random((4, 120))
    pd = bounded_by(vals, 0.99, delta=0.1)  # exceedance probability 0.01
    assert pd.status == HOLDS and pd.probability is not None
    assert bounded_by(vals, 0.5, delta=0.1).status == VIOLATED
    with pytest.raises(ValueError, match="bound"):
        bounded_by(v, np.ones(3))


def test_resolution_check():
    r = resolution_check(4e-9, 1e-2, what="the envelope")
    assert r.status == VACUOUS and "4e-09 < resolution 0.01" in r.rule
    assert resolution_check(1e-2, 1e-2).status == HOLDS
    with pytest.raises(ValueError, match="resolution"):
        resolution_check(1.0, 0.0)


def test_float_floor_formula_and_rounding_of_a_residual():
    assert float_floor(2, 256, 3.0, 2.0) == pytest.approx(
        2 * (2.0**-52 * (16 * 3.0 + 2.0)) ** 2, rel=1e-15
    )
    assert float_floor(2, 256, 3.0, 2.0, np.float32) > float_floor(2, 256, 3.0, 2.0)
    # the computed residual f - y (m terms of size <= B/sqrt(m)) errs by less than eps (sqrt(m) B +
    # |y|)
    from fractions import Fraction

    rng = np.random.default_rng(5)
    for m in (16, 256, 4096):
        B = 3.0
        terms = rng.uniform(-B, B, size=m) / math.sqrt(m)
        y = float(np.sum(terms)) + 1e-3
        exact = float(sum(Fraction(float(t)) for t in terms) - Fraction(y))
        err = abs((float(np.sum(terms)) - y) - exact)
        assert err <= 2.0**-52 * (math.sqrt(m) * B + abs(y))
    with pytest.raises(ValueError, match="dtype"):
        float_floor(2, 4, 1.0, 1.0, np.int32)
    with pytest.raises(ValueError, match="n, m"):
        float_floor(0, 4, 1.0, 1.0)


def test_envelope_decision_float_floor_and_vacuous():
    t = np.arange(200.0)
    env = np.exp(-0.5 * t)  # falls to 1e-43
    floor = float_floor(2, 256, 3.0, 2.0)
    rng = np.random.default_rng(3)
    loss = env * 0.5 + floor * rng.random((4, 200))  # below the envelope, then a rounding plateau
    d = envelope_decision(loss, env, floor)
    assert d.status == HOLDS and d.below_floor > 0 and "float floor" in d.rule
    assert envelope_decision(loss, env, 0.0).status == VIOLATED  # rounding alone would "break" it
    slow = np.exp(-0.25 * t)[None, :].repeat(4, 0)
    v = envelope_decision(slow, env, floor)
    assert v.status == VIOLATED and v.first_break == (0, 1)
    flat = np.linspace(1.0, 1 - 4e-9, 200)
    vac = envelope_decision(flat[None, :] * 0.9, flat, floor)
    assert vac.status == VACUOUS and vac.demanded == pytest.approx(4e-9, rel=1e-3)
    # probabilistic: one run in 120 per width breaks -> HOLDS at delta = 0.1
    L = np.broadcast_to(env * 0.5, (2, 120, 200)).copy()
    L[0, 5, 1] = 10.0
    pd = envelope_decision(L, env, floor, delta=0.1)
    assert pd.status == HOLDS and pd.probability.failures == (1, 0)
    with pytest.raises(ValueError, match="losses"):
        envelope_decision(L[0, 0], env, floor, delta=0.1)
    with pytest.raises(ValueError, match="floor"):
        envelope_decision(loss, env, -1.0)


def test_every_decision_returns_a_known_status():
    outs = [
        rate_decision(WIDTHS, _noisy(-0.5)),
        probability_decision(np.array([0]), 50, delta=0.1),
        bounded_by([1.0], 2.0),
        resolution_check(1.0, 0.5),
        envelope_decision([1.0, 0.5], [1.0, 0.9], 0.0),
    ]
    assert all(o.status in STATUSES and isinstance(o.rule, str) and o.rule for o in outs)
