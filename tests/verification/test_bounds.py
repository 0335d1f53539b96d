"""verification.training._bounds: Popoviciu's constant, the matrix-Bernstein bound, λ's resolution,
the calculator."""

import math

import numpy as np
import pytest
from hypothesis import given, settings

from ntk_attention import infinite_ntk, window_variance
from verification import strategies as vst
from verification.training import _bounds as bounds


@settings(max_examples=15)
@given(vst.windows(n=5, d=4, distinct=True), vst.seeds())
def test_popoviciu_constant_bounds_every_tangent_vector(X, seed):
    w = np.random.default_rng(seed).normal(scale=3.0, size=64)
    u = X[:, -1:] * window_variance(X, w)  # u_r = (x_id V(x_i; w_r))_i, shape (n, Q)
    assert np.all((u**2).sum(axis=0) <= bounds.popoviciu_constant(X) * (1 + 1e-12))


def test_bernstein_deviation_solves_its_equation_and_inverts_width():
    K, norm, n, delta = 3.0, 2.0, 10, 0.1
    m = np.array([10.0, 1e3, 1e6])
    t = bounds.bernstein_deviation(m, K=K, norm=norm, n=n, delta=delta)
    ell = math.log(2 * n / delta)
    # tail bound 2n exp(-m t^2 / (2K(norm + t/3))) equals delta exactly at t_delta(m)
    np.testing.assert_allclose(
        2 * n * np.exp(-m * t**2 / (2 * K * (norm + t / 3))), delta, rtol=1e-10
    )
    lam = 0.4
    m_req = bounds.bernstein_width(lam, K=K, norm=norm, n=n, delta=delta)
    assert bounds.bernstein_deviation(m_req, K=K, norm=norm, n=n, delta=delta) == pytest.approx(
        lam / 4, rel=1e-10
    )
    assert m_req == pytest.approx(32 * K * ell * (norm + lam / 12) / lam**2)
    assert bounds.bernstein_width(0.0, K=K, norm=norm, n=n, delta=delta) == math.inf


def test_bernstein_bound_holds_empirically():
    # Monte-Carlo: the sample mean of m i.i.d. rank-one terms stays within t_delta(m) in >= 1 -
    # delta of draws
    X = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -1.0], [0.3, 0.9, -0.4]])
    H = infinite_ntk(X, return_error=True)
    K = bounds.popoviciu_constant(X)
    rng = np.random.default_rng(0)
    m, draws = 32, 200
    U = X[:, -1:, None] * window_variance(X, rng.normal(size=m * draws)).reshape(3, draws, m)
    H0 = np.einsum("idm,jdm->dij", U, U) / m
    dev = np.linalg.norm(H0 - H.matrix[None], ord=2, axis=(1, 2))
    t = bounds.bernstein_deviation(m, K=K, norm=np.linalg.norm(H.matrix, 2), n=3, delta=0.1)
    assert np.mean(dev > t) <= 0.1


def test_lambda_resolution_and_data_constants():
    X = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -1.0], [2.0, 1.0, 0.5]])
    y = np.array([1.0, -3.0, 0.5])
    lam, H = bounds.lambda_star(X)
    ev = np.linalg.eigvalsh(H)
    assert lam.value == ev[0] and lam.norm == pytest.approx(ev[-1])
    assert lam.resolution == pytest.approx(
        3 * (lam.quadrature_error + np.finfo(float).eps * ev[-1])
    )
    dc = bounds.data_constants(X, y)
    assert dc["B"] == 2.0 and dc["D"] == 3.0
    assert dc["v_min"] == pytest.approx(min(np.var(r) for r in X))


def test_theory_figures_and_constants():
    X = np.array([[0.5, -1.0, 2.0, 0.1], [1.0, 0.0, -1.0, 0.7], [2.0, 1.0, 0.5, -0.3]])
    y = np.array([1.0, -3.0, 0.5])
    th = bounds.theory(
        X, y, eta=0.1, delta=0.1, eps=1e-3, width=256, lambda_max_h0=4.0, constants={"c_T": 2.0}
    )
    lam = th.lam.value
    assert th.lam.resolved
    B = np.abs(X).max()
    assert th.get("T_req") == pytest.approx(2.0 * math.log(3 * B**2 / 1e-3) / (0.1 * lam))
    assert th.get("t_align") == pytest.approx(
        256 / (0.1 * lam * bounds.data_constants(X, y)["v_min"])
    )
    assert th.get("eta_stability_limit") == 0.5
    text = bounds.format_theory(th, {"c_T": 2.0})
    assert "(c_T = 2)" in text and "(c_A = 1)" in text and "(c_m = 1)" in text
    with pytest.raises(ValueError, match="constants"):
        bounds.theory(X, y, eta=0.1, delta=0.1, eps=1e-3, width=8, constants={"c_Z": 1.0})


def test_printed_constants_are_those_the_figures_used():
    X = np.array([[0.5, -1.0, 2.0, 0.1], [1.0, 0.0, -1.0, 0.7], [2.0, 1.0, 0.5, -0.3]])
    th = bounds.theory(
        X, X[:, -1], eta=0.1, delta=0.1, eps=1e-3, width=64, constants={"c_T": 2.0, "c_A": 3.0}
    )
    text = bounds.format_theory(
        th
    )  # no constants passed: still the ones T_req and t_align were computed with
    assert "(c_T = 2)" in text and "(c_A = 3)" in text and "(c_m = 1)" in text
    plain = bounds.theory(X, X[:, -1], eta=0.1, delta=0.1, eps=1e-3, width=64)
    assert th.get("T_req") == pytest.approx(2.0 * plain.get("T_req"))
    assert th.get("t_align") == pytest.approx(3.0 * plain.get("t_align"))
    with pytest.raises(ValueError, match="constants"):
        bounds.format_theory(
            th, {"c_T": 1.0}
        )  # would print c_T = 1 beside a figure computed with 2


def test_configured_constants_come_from_their_claims_sections():
    from verification import config as cfg

    c = bounds.configured_constants(cfg.validate({"C1": {"c_T": 2.5}, "C2": {"c_A": 4.0}}))
    assert c == {"c_T": 2.5, "c_A": 4.0, "c_m": 1.0, "c_eta": 1.0}
    assert bounds.configured_constants({}) == bounds.DEFAULT_CONSTANTS


def test_unresolved_lambda_gives_infinite_figures():
    X = np.random.default_rng(0).normal(size=(24, 8))
    th = bounds.theory(X, X[:, -1], eta=0.1, delta=0.1, eps=1e-3, width=64, extended=False)
    assert not th.lam.resolved
    assert th.get("T_req") == math.inf and th.get("m_conc") == math.inf
    assert "vacuous" in bounds.format_theory(th)


def test_extended_precision_resolves_lambda_below_float64():
    """n = 24, d = 8 normal windows: float64 cannot resolve lambda, extended precision does."""
    import json

    X = np.random.default_rng(0).normal(size=(24, 8))
    th = bounds.theory(X, X[:, -1], eta=0.1, delta=0.1, eps=1e-3, width=64)
    assert th.lam.precision == "extended" and th.lam.resolved
    assert 0 < th.lam.resolution < th.lam.value < th.lam.float64_resolution
    B = np.abs(X).max()
    assert th.get("T_req") == pytest.approx(math.log(24 * B**2 / 1e-3) / (0.1 * th.lam.value))
    out = bounds.summary(th, steps=1000)
    assert {"n", "lambda", "lambda_error", "T_req", "t_align"} <= set(out)
    assert out["n"] == 24 and out["lambda_error"] < out["lambda"]
    assert out["T_req_over_steps"] == pytest.approx(th.get("T_req") / 1000)
    assert json.loads(json.dumps(out)) == out  # JSON-ready: no inf, no numpy scalars
    assert "extended precision" in bounds.format_theory(th)
