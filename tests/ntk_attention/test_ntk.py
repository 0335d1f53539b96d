"""Jacobian and NTKs: every implementation against every other, and against float64 references."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ntk_attention as na


def rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return np.abs(a - b).max() / np.abs(b).max()


def random_case(seed, n=6, d=5, m=64, scale=1.0, sigma=1.0):
    kp, kx = jax.random.split(jax.random.key(seed))
    return na.init_params(kp, m, sigma=sigma, dtype=jnp.float64), scale * jax.random.normal(
        kx, (n, d)
    )


def saturated_case(seed):
    """Scores |w_r x_d x_k| up to 50: most neurons put all their mass on one position."""
    kp, kx = jax.random.split(jax.random.key(seed))
    X = jax.random.uniform(kx, (5, 6), minval=-2.0, maxval=2.0)
    X = X.at[:, -1].set(jnp.where(X[:, -1] >= 0, 1.0, -1.0) * 2.0)
    p = na.init_params(kp, 48, sigma=5.0, dtype=jnp.float64)
    w = jnp.clip(p.w, -6.25, 6.25)  # |w| * 2 * 2 <= 50
    return na.Params(w, p.a), X


HARD_CASES = {
    "random": lambda s: random_case(s),
    "saturated": saturated_case,
    "constant_windows": lambda s: (
        random_case(s)[0],
        jnp.array([[1.5] * 5, [-2.0] * 5, [0.3, 1.0, -1.0, 2.0, 0.7]]),
    ),
    "d_equals_2": lambda s: random_case(s, d=2),
    "n_equals_1": lambda s: random_case(s, n=1),
    "wide": lambda s: random_case(s, scale=3.0, sigma=4.0),
}


@pytest.mark.parametrize("case", sorted(HARD_CASES))
@given(seed=st.integers(0, 2**31 - 1))
def test_closed_equals_autodiff(case, seed):
    p, X = HARD_CASES[case](seed)
    H_closed = na.empirical_ntk(p, X)
    H_auto = na.empirical_ntk(p, X, method="autodiff")
    if np.abs(H_auto).max() == 0:  # all windows constant: V = 0 exactly
        assert np.abs(H_closed).max() == 0
        return
    assert rel(H_closed, H_auto) < 1e-10


@given(seed=st.integers(0, 2**31 - 1))
def test_cross_ntk_closed_equals_autodiff(seed):
    p, X = random_case(seed)
    X2 = jax.random.normal(jax.random.key(seed + 1), (3, X.shape[1]))
    H = na.empirical_ntk(p, X, X2, chunk_size=10)
    assert H.shape == (X.shape[0], 3)
    assert rel(H, na.empirical_ntk(p, X, X2, method="autodiff")) < 1e-10
    # the square NTK is the cross NTK of X with itself
    np.testing.assert_allclose(
        na.empirical_ntk(p, X), na.empirical_ntk(p, X, X), rtol=1e-12, atol=1e-300
    )


def test_saturated_entries_match_float64_reference():
    """Entrywise, not only normwise: the closed form against a two-pass float64 reference."""
    p, X = saturated_case(3)
    V = na.window_variance(X, p.w)
    J = np.asarray(X)[:, -1:] * V * np.asarray(p.a)[None, :] / np.sqrt(p.w.shape[0])
    np.testing.assert_allclose(na.jacobian(p, X), J, rtol=1e-9, atol=1e-14)


@given(seed=st.integers(0, 2**31 - 1))
def test_jacobian_against_finite_differences_and_jacrev(seed):
    p, X = random_case(seed, m=12)
    J = np.asarray(na.jacobian(p, X))
    f = lambda w: na.forward(na.Params(w, p.a), X)  # noqa: E731
    np.testing.assert_allclose(J, jax.jacrev(f)(p.w), rtol=1e-9, atol=1e-12)
    h = 1e-6
    fd = np.stack(
        [(f(p.w.at[r].add(h)) - f(p.w.at[r].add(-h))) / (2 * h) for r in range(p.w.shape[0])],
        axis=1,
    )
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-8)


@given(seed=st.integers(0, 2**31 - 1), sigma=st.sampled_from([0.5, 2.0]))
def test_ntk_is_symmetric_psd(seed, sigma):
    p, X = random_case(seed, n=8, sigma=sigma)
    H = np.asarray(na.empirical_ntk(p, X))
    np.testing.assert_array_equal(H, H.T)
    assert np.linalg.eigvalsh(H).min() >= -1e-12 * np.abs(H).max()


def test_ntk_bad_input():
    p = na.init_params(jax.random.key(0), 8)
    X = jnp.ones((3, 4))
    with pytest.raises(ValueError, match="X2: .*d = 4"):
        na.empirical_ntk(p, X, jnp.ones((2, 5)))
    with pytest.raises(ValueError, match="method"):
        na.empirical_ntk(p, X, method="jvp")
    with pytest.raises(ValueError, match="chunk_size"):
        na.empirical_ntk(p, X, chunk_size=0)
    with pytest.raises(ValueError, match="sigma"):
        na.infinite_ntk(X, sigma=-1.0)
    with pytest.raises(ValueError, match="X2"):
        na.infinite_ntk(X, jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="H"):
        na.min_eigenvalue(np.ones((2, 3)))


# ---------------------------------------------------------------------------------------------
# infinite-width NTK


def dense_reference(X, sigma, spacing):
    """Independent: trapezoid rule on a uniform grid over [-40σ, 40σ] (spectrally accurate for
    this analytic integrand), summed pairwise (numpy) rather than by BLAS, to keep round-off
    at ~eps·log(N) over hundreds of thousands of nodes."""
    X = np.asarray(X, np.float64)
    half = int(40 * sigma / spacing)
    w = spacing * np.arange(
        -half, half + 1
    )  # not np.arange(a, b, h): its step carries ulp(a) error
    U = X[:, -1:] * na.window_variance(X, w)
    phi = np.exp(-0.5 * (w / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi)) * spacing
    return (U[:, None, :] * U[None, :, :] * phi).sum(-1)


def test_infinite_ntk_on_wide_data_against_dense_reference():
    """Observations of scale 3 and σ = 4: the regime where plain Gauss–Hermite fails
    (docs/theory.md, "Gradient and kernels")."""
    X = 3.0 * np.random.default_rng(0).standard_normal((6, 8))
    sigma = 4.0
    res = na.infinite_ntk(X, sigma=sigma, return_error=True)
    ref = dense_reference(X, sigma, spacing=1e-3)
    true_err = np.abs(res.matrix - ref).max()
    assert true_err <= 1e-10 * np.abs(ref).max()
    assert res.error_estimate >= true_err
    # and the naive rule really does fail here: 200 Gauss–Hermite nodes
    t, wt = np.polynomial.hermite_e.hermegauss(200)
    U = X[:, -1:] * na.window_variance(X, sigma * t)
    naive = (U * (wt / np.sqrt(2 * np.pi))) @ U.T
    assert np.abs(naive - ref).max() > 0.1 * np.abs(ref).max()


@pytest.mark.parametrize("scale, sigma", [(1.0, 1.0), (0.2, 0.5), (5.0, 1.0)])
def test_infinite_ntk_error_estimate_bounds_true_error(scale, sigma):
    X = scale * np.random.default_rng(1).standard_normal((4, 5))
    res = na.infinite_ntk(X, sigma=sigma, return_error=True)
    spacing = 0.05 / (np.abs(X[:, -1]) * np.ptp(X, axis=1)).max()
    ref = dense_reference(X, sigma, spacing=min(spacing, sigma / 50))
    assert res.error_estimate >= np.abs(res.matrix - ref).max()
    assert res.error_estimate <= 1e-9 * np.abs(ref).max()


def test_infinite_ntk_against_monte_carlo():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((4, 6))
    sigma = 1.5
    H = na.infinite_ntk(X, sigma=sigma).matrix
    w = sigma * rng.standard_normal(100_000)
    U = X[:, -1:] * na.window_variance(X, w)  # (n, Q)
    prod = U[:, None, :] * U[None, :, :]
    mc = prod.mean(-1)
    se = prod.std(-1) / np.sqrt(w.size)
    assert (np.abs(H - mc) <= 4 * se + 1e-15).all()


def test_infinite_ntk_is_limit_of_empirical_ntk():
    """H(0) of a very wide network approaches H*: relative error ~ m^{-1/2}."""
    X = np.random.default_rng(3).standard_normal((3, 4))
    H_star = na.infinite_ntk(X, sigma=1.0).matrix
    p = na.init_params(jax.random.key(0), 400_000, dtype=jnp.float64)
    H0 = np.asarray(na.empirical_ntk(p, X))
    assert rel(H0, H_star) < 0.02


def test_infinite_ntk_cross_and_symmetry():
    rng = np.random.default_rng(4)
    X, X2 = rng.standard_normal((3, 5)), rng.standard_normal((2, 5))
    H = na.infinite_ntk(X).matrix
    np.testing.assert_array_equal(H, H.T)
    both = na.infinite_ntk(np.concatenate([X, X2])).matrix
    np.testing.assert_allclose(na.infinite_ntk(X, X2).matrix, both[:3, 3:], rtol=1e-12)
    assert na.min_eigenvalue(H) >= -1e-15 * np.abs(H).max()


# ---------------------------------------------------------------------------------------------
# min_eigenvalue: symmetric input only (issue 15 item 3)


def test_min_eigenvalue_refuses_asymmetric_matrix():
    with pytest.raises(
        ValueError, match=r"^H: expected a symmetric matrix .* max\|H - H\^T\| / max\|H\| = 1 "
    ) as err:
        na.min_eigenvalue(
            [[1.0, 2.0], [0.0, 1.0]]
        )  # its eigenvalues are 1, 1; (H + H^T)/2 has 0 and 2
    assert "\n" not in str(err.value) and "H[0, 1] = 2" in str(err.value)
    with pytest.raises(ValueError, match="rtol"):
        na.min_eigenvalue(np.eye(2), rtol=-1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_min_eigenvalue_tolerance_is_relative_and_stated(dtype):
    """Asymmetry just inside sqrt(eps) * max|H| is rounding (accepted); twice it is refused."""
    rtol = float(np.sqrt(np.finfo(dtype).eps))
    rng = np.random.default_rng(0)
    B = rng.standard_normal((5, 5))
    S = 1e6 * (B @ B.T)  # scale-free: the tolerance is relative to max|H|
    size = np.abs(S).max()
    for frac, ok in ((0.4, True), (2.0, False)):
        H = S.copy()
        H[1, 3] += frac * rtol * size
        H = H.astype(dtype)
        asym = (
            np.abs(H.astype(np.float64) - H.astype(np.float64).T).max()
            / np.abs(H.astype(np.float64)).max()
        )
        assert (asym <= rtol) == ok  # independent of the function: the measured asymmetry
        if ok:
            Hs = 0.5 * (H.astype(np.float64) + H.astype(np.float64).T)
            assert na.min_eigenvalue(H) == pytest.approx(
                np.linalg.eigvalsh(Hs)[0], rel=1e-9, abs=1e-9 * size
            )
        else:
            with pytest.raises(ValueError, match="symmetric"):
                na.min_eigenvalue(H)
    # an explicit rtol widens (or narrows) it
    H = S.copy()
    H[1, 3] += 0.01 * size
    assert np.isfinite(na.min_eigenvalue(H, rtol=0.05))
    with pytest.raises(ValueError, match="rtol = 0.001"):
        na.min_eigenvalue(H, rtol=1e-3)
