"""One owner of λ_max and the gradient-descent stability limit 2/λ_max (ntk_attention.stability),
against independent float64 numpy eigenvalues and the autodiff NTK."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ntk_attention as na
from ntk_attention import stability


def random_spd(n, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    return A @ A.T + 0.1 * np.eye(n)


@pytest.mark.parametrize("n, seed", [(1, 0), (5, 1), (40, 2)])
def test_lambda_max_is_the_largest_float64_eigenvalue(n, seed):
    K = random_spd(n, seed)
    ref = np.linalg.eigvalsh(K)[-1]
    got = na.lambda_max(K)
    assert isinstance(got, float) and got == pytest.approx(ref, rel=1e-13)
    assert na.max_learning_rate(K) == pytest.approx(2.0 / ref, rel=1e-13)
    assert na.max_learning_rate(K) == stability.stability_limit(got)


def test_lambda_max_symmetrises_and_computes_in_float64():
    K = random_spd(6, 3)
    rng = np.random.default_rng(4)
    S = rng.standard_normal((6, 6))
    skew = S - S.T  # ½(K + Kᵀ) removes it
    assert na.lambda_max(K + skew) == pytest.approx(np.linalg.eigvalsh(K)[-1], rel=1e-12)
    K32 = K.astype(np.float32)  # float64 of the float32 entries, whatever the input dtype
    ref = np.linalg.eigvalsh(K32.astype(np.float64))[-1]
    assert na.lambda_max(K32) == pytest.approx(ref, rel=1e-14)
    assert na.lambda_max(jnp.asarray(K32)) == pytest.approx(ref, rel=1e-14)


def test_max_learning_rate_is_infinite_without_a_positive_eigenvalue():
    assert na.max_learning_rate(-np.eye(3)) == math.inf
    assert na.max_learning_rate(np.zeros((2, 2))) == math.inf
    assert na.lambda_max(-np.diag([1.0, 2.0])) == pytest.approx(-1.0)


def test_traced_kernel_gives_arrays():
    K = random_spd(5, 5)
    ref = np.linalg.eigvalsh(K)[-1]
    lam = jax.jit(na.lambda_max)(jnp.asarray(K))
    assert lam.shape == () and float(lam) == pytest.approx(ref, rel=1e-12)
    np.testing.assert_allclose(jax.jit(na.max_learning_rate)(jnp.asarray(K)), 2.0 / ref, rtol=1e-12)
    assert float(jax.jit(na.max_learning_rate)(-jnp.eye(2))) == math.inf
    batch = jnp.stack([jnp.asarray(K), 2.0 * jnp.asarray(K)])
    np.testing.assert_allclose(jax.vmap(na.lambda_max)(batch), [ref, 2 * ref], rtol=1e-12)


@pytest.mark.parametrize(
    "kernel, match",
    [
        (np.ones((2, 3)), "kernel: expected a non-empty square matrix"),
        (np.ones(3), "kernel: expected a non-empty square matrix"),
        (np.ones((0, 0)), "kernel: expected a non-empty square matrix"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), "kernel: expected finite values"),
        (np.eye(2, dtype=int), "kernel: expected a floating-point array"),
    ],
)
def test_bad_kernels(kernel, match):
    with pytest.raises(ValueError, match=match):
        na.lambda_max(kernel)
    with pytest.raises(ValueError, match=match):
        na.max_learning_rate(kernel)


@pytest.mark.parametrize("m, n", [(8, 5), (3, 6)])  # both m > n and m < n (rank-deficient H)
def test_h0_lambda_max_against_the_autodiff_ntk(m, n):
    kp, kx = jax.random.split(jax.random.key(7))
    p = na.init_params(kp, m, dtype=jnp.float64)
    X = jax.random.normal(kx, (n, 4), jnp.float64)
    H = np.asarray(na.empirical_ntk(p, X, method="autodiff"), np.float64)
    ref = np.linalg.eigvalsh(H)[-1]
    assert na.h0_lambda_max(p, X) == pytest.approx(ref, rel=1e-10)


def test_train_divergence_words_use_the_one_owner():
    """divergence_report's λ_max(H(0)) and its limit are h0_lambda_max's and stability_limit's."""
    kp, kx = jax.random.split(jax.random.key(3))
    p = na.init_params(kp, 24, dtype=jnp.float64)
    X = jax.random.normal(kx, (6, 4), jnp.float64)
    traj = na.train(p, X, -X[:, -1], steps=12, learning_rate=1e6, record_ntk=False)
    rep = na.divergence_report(traj, p, X, learning_rate=1e6)
    lam = na.h0_lambda_max(p, X)
    assert rep.step >= 0 and rep.lambda_max_h0 == pytest.approx(lam, rel=1e-12)
    assert f"2/λ_max(H(0)) = {stability.stability_limit(lam):.3g} (λ_max(H(0)) = {lam:.3g})" in (
        rep.reason
    )


def test_stability_limit_and_words():
    assert stability.stability_limit(4.0) == 0.5
    assert stability.stability_limit(0.0) == math.inf
    assert stability.stability_words(0.1, 4.0).startswith("η = 0.1 is below the gradient-descent")
