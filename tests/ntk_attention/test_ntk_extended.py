"""H* and lambda_min(H*) in extended precision: against scipy quadrature, float64 Gram SVD, itself
at tighter tolerance."""

import numpy as np
import pytest
import scipy.integrate
from hypothesis import given, settings
from hypothesis import strategies as st

from ntk_attention.infinite import (
    _quadrature_rule,
    _variance_scales,
    infinite_ntk,
    infinite_ntk_mp,
    window_variance,
)


def scipy_reference(X, sigma):
    """H*_ij by scipy.integrate.quad (QUADPACK, float64) on breakpoints every 0.25 in w:
    independent."""
    n = X.shape[0]

    def u(i, w):
        return X[i, -1] * window_variance(X[i : i + 1], np.array([w]))[0, 0]

    H = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):

            def g(w, i=i, j=j):
                return (
                    u(i, w)
                    * u(j, w)
                    * np.exp(-0.5 * (w / sigma) ** 2)
                    / (sigma * np.sqrt(2 * np.pi))
                )

            H[i, j] = H[j, i] = scipy.integrate.quad(
                g,
                -12 * sigma,
                12 * sigma,
                points=np.arange(-8, 8.01, 0.25) * sigma,
                limit=400,
                epsabs=1e-15,
                epsrel=1e-13,
            )[0]
    return H


@settings(max_examples=5)
@given(seed=st.integers(0, 2**16), sigma=st.sampled_from([0.5, 1.0]))
def test_matrix_matches_scipy_quadrature(seed, sigma):
    X = np.random.default_rng(seed).normal(size=(3, 4))
    r = infinite_ntk_mp(X, sigma=sigma)
    ref = scipy_reference(X, sigma)
    np.testing.assert_allclose(r.matrix, ref, atol=1e-12 * max(1.0, np.abs(ref).max()))
    np.testing.assert_allclose(r.eigenvalues, np.linalg.eigvalsh(ref), atol=1e-11)
    assert r.lambda_error < r.lambda_min


def ssm_windows(n, d=8, seed=0):
    """Windows of a stationary AR(1) series, phi = 0.95, unit variance."""
    rng = np.random.default_rng(seed)
    series = np.zeros(n + d)
    series[0] = rng.normal()
    for t in range(1, n + d):
        series[t] = 0.95 * series[t - 1] + np.sqrt(1 - 0.95**2) * rng.normal()
    return np.lib.stride_tricks.sliding_window_view(series, d)[:n].copy()


def test_lambda_below_float64_resolution_matches_float64_gram_svd():
    """n = 24, d = 8: lambda ~ 1e-23 (float64 H* cannot resolve it: its resolution is ~1e-15).

    The float64 SVD of the Gram factor G = [sqrt(omega_q) u(w_q)] gives sigma_min to absolute
    ~eps sigma_max, i.e. lambda to relative ~2 eps sqrt(cond) ~ 1e-4 here: an independent check.
    """
    X = ssm_windows(24)
    r = infinite_ntk_mp(X)
    q, wq = _quadrature_rule(_variance_scales(X), 1.0, 40)
    s = np.linalg.svd(X[:, -1:] * window_variance(X, q) * np.sqrt(wq)[None, :], compute_uv=False)
    rel = 8 * np.finfo(np.float64).eps * s[0] / s[-1]
    assert 0 < r.lambda_error < r.lambda_min
    assert (
        r.lambda_min < 1e3 * 24 * np.finfo(np.float64).eps * r.eigenvalues[-1]
    )  # below float64 resolution
    np.testing.assert_allclose(r.lambda_min, s[-1] ** 2, rtol=rel)
    ref = infinite_ntk(X)  # an InfiniteNTK: the float64 quadrature and its error estimate
    np.testing.assert_allclose(r.matrix, ref.matrix, atol=ref.error_estimate)


def test_error_bound_holds_against_a_tighter_run():
    X = ssm_windows(12, seed=3)
    coarse = infinite_ntk_mp(X)
    fine = infinite_ntk_mp(X, tol=1e-6 * coarse.lambda_error)
    assert fine.lambda_error < coarse.lambda_error
    assert abs(coarse.lambda_min - fine.lambda_min) <= coarse.lambda_error + fine.lambda_error
    assert fine.bits > coarse.bits


def test_constant_windows_give_zero_exactly():
    r = infinite_ntk_mp(np.ones((3, 4)))
    assert r.lambda_min == 0.0 and r.lambda_error == 0.0 and not r.matrix.any()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sigma": -1.0}, "sigma: expected a finite positive"),
        ({"tol": 0.0}, "tol: expected a finite positive"),
        ({"max_halvings": 0}, "max_halvings: expected a positive integer"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        infinite_ntk_mp(np.ones((2, 3)), **kwargs)
    with pytest.raises(ValueError, match="X: expected a 2-D"):
        infinite_ntk_mp(np.ones(3))


def test_node_budget_refused_with_the_reason():
    X = 30.0 * np.random.default_rng(0).normal(
        size=(3, 4)
    )  # scale 1/(|x_d| range) ~ 1e-3: many nodes
    with pytest.raises(ValueError, match="max_nodes: the trapezoid rule needs"):
        infinite_ntk_mp(X, max_nodes=1000)
