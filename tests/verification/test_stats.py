"""verification.stats against exact values and independent implementations."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from verification.stats import bootstrap_interval, clopper_pearson, loglog_slope


def test_clopper_pearson_closed_forms():
    # k = 0: upper = 1 - (alpha/2)^(1/n); k = n: lower = (alpha/2)^(1/n)
    for n in (1, 5, 10, 37):
        lo, hi = clopper_pearson(0, n, 0.05)
        assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-12)
        lo, hi = clopper_pearson(n, n, 0.05)
        assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / n), rel=1e-12)


@given(st.integers(1, 200).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))), st.sampled_from([0.01, 0.05, 0.2]))
def test_clopper_pearson_matches_scipy_binomtest(kn, alpha):
    k, n = kn
    ref = sps.binomtest(k, n).proportion_ci(confidence_level=1 - alpha, method="exact")
    lo, hi = clopper_pearson(k, n, alpha)
    assert lo == pytest.approx(ref.low, abs=1e-12) and hi == pytest.approx(ref.high, abs=1e-12)
    # symmetry k <-> n - k
    lo2, hi2 = clopper_pearson(n - k, n, alpha)
    assert lo == pytest.approx(1 - hi2, abs=1e-12) and hi == pytest.approx(1 - lo2, abs=1e-12)


def test_clopper_pearson_coverage_by_exact_enumeration():
    # exact coverage at p = 0.3, n = 20: sum of binomial probabilities of k whose interval contains p
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
    assert fit.slope == pytest.approx(-0.5, abs=1e-12) and fit.hi - fit.lo == pytest.approx(0, abs=1e-9)
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
    # one row resampled is always itself: the zero-width interval [x, x] would decide a verdict on no evidence
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
