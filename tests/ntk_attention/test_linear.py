"""The residual linear network against numpy least squares."""

import jax
import numpy as np
import pytest

from ntk_attention import linear


def test_forward_formula():
    X = np.array([[1.0, 2.0, 4.0], [0.0, -1.0, 1.0]])
    w = np.array([0.5, -1.0, 7.0])  # w_d never matters
    expected = [(1 - 4) * 0.5 + (2 - 4) * -1.0 + 4, (0 - 1) * 0.5 + (-1 - 1) * -1.0 + 1]
    np.testing.assert_allclose(linear.linear_forward(w, X), expected)


def test_lstsq_and_gd_agree_with_numpy():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 5))
    y = rng.standard_normal(30)
    Z = X[:, :-1] - X[:, -1:]
    ref = np.linalg.lstsq(Z, y - X[:, -1], rcond=None)[0]
    w = linear.fit_linear_lstsq(X, y)
    np.testing.assert_allclose(w[:-1], ref, rtol=1e-10)
    assert w[-1] == 0
    lr = 1.0 / np.linalg.eigvalsh(Z.T @ Z).max()
    w_gd = linear.fit_linear_gd(X, y, steps=5000, learning_rate=lr)
    np.testing.assert_allclose(w_gd[:-1], ref, rtol=1e-6, atol=1e-8)


def test_recovers_exact_residual_linear_target():
    X = jax.random.normal(jax.random.key(0), (20, 4))
    w_true = np.array([0.3, -0.2, 0.1, 0.0])
    y = linear.linear_forward(w_true, X)
    np.testing.assert_allclose(linear.fit_linear_lstsq(X, y), w_true, atol=1e-10)


def test_bad_input():
    X = np.ones((3, 4))
    with pytest.raises(ValueError, match="w_lin"):
        linear.linear_forward(np.ones(3), X)
    with pytest.raises(ValueError, match="y"):
        linear.fit_linear_lstsq(X, np.ones(2))
    with pytest.raises(ValueError, match="learning_rate"):
        linear.fit_linear_gd(X, np.ones(3), steps=3, learning_rate=0.0)
