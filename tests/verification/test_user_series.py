"""A user's series used whole (issue 22 items 1 and 3): where the windows sit
(``[data] placement``), the lag-1 of the whole series, and the series' own noise variance."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verification import config as cfg
from verification.commands import _cli as cli
from verification.data._datasets import make_dataset
from verification.data._sources import SourceError
from verification.data._windows import ar_noise_variance, window_starts


def _ar1(T, phi, seed, sd=1.0):
    rng = np.random.default_rng(seed)
    u = np.zeros(T)
    for k in range(1, T):
        u[k] = phi * u[k - 1] + sd * rng.normal()
    return u


@settings(deadline=None, max_examples=60)
@given(
    T=st.integers(12, 400),
    n=st.integers(1, 40),
    d=st.integers(2, 9),
    offset=st.integers(0, 30),
    n_test=st.integers(0, 50),
    placement=st.sampled_from(["first", "spread"]),
)
def test_window_starts_fit_and_test_windows_share_no_training_value(
    T, n, d, offset, n_test, placement
):
    try:
        train, test = window_starts(T, n, d, offset=offset, n_test=n_test, placement=placement)
    except ValueError as err:
        assert "\n" not in str(err)
        assert T < offset + n + d or n_test > 0  # refused only when the windows cannot fit
        return
    assert train.size == n and train.min() == offset and train.max() + d <= T - 1
    assert np.all(np.diff(train) >= 0) and np.all(np.diff(test) > 0) and test.size <= n_test
    assert n_test == 0 or test.size >= 1
    used = np.zeros(T, bool)
    for s in train:
        used[s : s + d + 1] = True
    for j in test:  # a test window and its target: inside the series, no training value among them
        assert offset <= j and j + d <= T - 1 and not used[j : j + d + 1].any()
    if placement == "first":
        np.testing.assert_array_equal(train, offset + np.arange(n))
        np.testing.assert_array_equal(test, offset + n + d + np.arange(test.size))
    elif n > 1:
        assert train.max() == T - d - 1  # spread: the last window ends at the last value


def test_spread_covers_the_whole_series():
    train, test = window_starts(2000, 24, 8, n_test=100, placement="spread")
    assert train[0] == 0 and train[-1] == 1991 and np.ptp(np.diff(train)) <= 1  # evenly spaced
    assert test.size == 100 and test[0] < 100 and test[-1] > 1800
    with pytest.raises(
        ValueError, match=r"placement: expected one of \('first', 'spread'\), got 'even'"
    ):
        window_starts(100, 4, 3, placement="even")


@pytest.mark.parametrize("phi, sd", [(0.9, 1.0), (0.5, 0.3), (0.0, 2.0)])
def test_ar_noise_variance_recovers_the_innovation_variance(phi, sd):
    """Planted AR(1) series of known innovation variance sd²: the AR(p) residual variance is within
    5 standard errors (var of a variance estimate ≈ 2σ⁴/T) for p = 1 and for p = 8 > the true
    order."""
    u = _ar1(4000, phi, seed=3, sd=sd)
    tol = 5 * np.sqrt(2 / 4000) * sd**2
    for p in (1, 8):
        assert ar_noise_variance(u, p) == pytest.approx(sd**2, abs=tol)
    # a white-noise fit to a strongly autocorrelated series is not its innovation variance: the
    # check can fail
    assert abs(np.var(_ar1(4000, 0.95, seed=3)) - 1.0) > tol


def test_ar_noise_variance_against_statsmodels():
    ar = pytest.importorskip("statsmodels.tsa.ar_model")
    u = _ar1(500, 0.7, seed=5)
    fit = ar.AutoReg(u, lags=3, trend="c").fit()
    assert ar_noise_variance(u, 3) == pytest.approx(
        float(np.sum(fit.resid**2) / (fit.nobs - 4)), rel=1e-9
    )
    with pytest.raises(ValueError, match=r"u: an AR\(3\) fit needs at least 8 values, got 7"):
        ar_noise_variance(u[:7], 3)


def test_dataset_noise_var_of_a_user_series_and_none_for_a_family(tmp_path):
    u = _ar1(2000, 0.97, seed=0)
    path = tmp_path / "s.csv"
    path.write_text("sales\n" + "".join(f"{float(v)!r}\n" for v in u))
    c = cfg.loads(f'[data]\nsource = "csv:{path}#sales"\nnormalize = false\n')["data"]
    ds = make_dataset(c, jax.random.key(0), n=24)
    assert ds.noise_var == pytest.approx(ar_noise_variance(u, 8), rel=1e-12)
    assert ds.noise_var == pytest.approx(1.0, abs=0.2) and "AR(8)" in ds.noise_var_method
    noisy = make_dataset(c, jax.random.key(0), n=24, noise_std=0.5)
    assert (
        noisy.noise_var == pytest.approx(ds.noise_var + 0.25, rel=1e-12)
        and "injected" in noisy.noise_var_method
    )
    z = make_dataset({**c, "normalize": True}, jax.random.key(0), n=24)
    covered = np.zeros(u.size, bool)  # z-scored with the training values: windows and targets
    for s_ in z.train_starts:
        covered[s_ : s_ + 9] = True
    ref = u[covered]
    assert z.noise_var == pytest.approx(ds.noise_var / ref.var(), rel=1e-10)  # in the units of y
    assert make_dataset(cfg.default_config()["data"], jax.random.key(0), n=24).noise_var is None


def test_spread_dataset_takes_its_windows_where_window_starts_says(tmp_path):
    u = _ar1(300, 0.9, seed=1)
    np.save(tmp_path / "u.npy", u)
    c = cfg.loads(
        f'[data]\nsource = "npy:{tmp_path / "u.npy"}"\n'
        'placement = "spread"\nnormalize = false\nd = 4\n'
    )["data"]
    ds = make_dataset(c, jax.random.key(0), n=10, n_test=20)
    train, test = window_starts(300, 10, 4, n_test=20, placement="spread")
    assert ds.train_starts == tuple(train) and ds.test_starts == tuple(test)
    np.testing.assert_array_equal(np.asarray(ds.X), u[train[:, None] + np.arange(4)])
    np.testing.assert_array_equal(np.asarray(ds.y_test), u[test + 4])
    with pytest.raises(
        SourceError, match=r"^npy:.*u\.npy: the series has 300 values; n = 400 training windows"
    ):
        make_dataset(c, jax.random.key(0), n=400)


def test_data_on_a_2000_row_ar1_csv_reports_the_whole_series(tmp_path, capsys):
    """The issue's case: lag-1 within 0.05 of statsmodels' acf over all rows, and the window
    positions."""
    acf = pytest.importorskip("statsmodels.tsa.stattools").acf
    u = _ar1(2000, 0.97, seed=0)
    path = tmp_path / "sales.csv"
    path.write_text("sales\n" + "".join(f"{float(v)!r}\n" for v in u))
    assert cli.main(["data", "--source", f"csv:{path}#sales"]) == 0
    out = capsys.readouterr().out
    line = next(s for s in out.splitlines() if "lag-1 autocorrelation (over the series)" in s)
    assert float(line.split()[-1]) == pytest.approx(acf(u, nlags=1)[1], abs=0.05)
    assert "training windows start at 0, 86, 173, …, 1991" in out and "2000-value series" in out
    assert "windows: 24 training windows spread over values 0–1999 of 2000 (coverage 100%" in out
    assert "noise variance sigma^2 (estimated)" in out


def test_placement_key_is_checked_in_one_line():
    assert cfg.default_config()["data"]["placement"] == "auto"  # spread a real series, not a family
    with pytest.raises(cfg.ConfigError, match=r"placement") as err:
        cfg.loads('[data]\nplacement = "even"\n')
    assert "\n" not in str(err.value) and "'even'" in str(err.value) and "spread" in str(err.value)
    assert "'auto'" in str(err.value) and "'first'" in str(err.value)
