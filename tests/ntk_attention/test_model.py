"""The model and its softmax moments against independent float64 references."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ntk_attention as na


def reference_moments(w, X):
    """float64 numpy: explicit softmax weights, two-pass moments."""
    X = np.asarray(X, np.float64)
    w = np.asarray(w, np.float64)
    z = w[None, :, None] * (X[:, -1:] * X)[:, None, :]
    z -= z.max(-1, keepdims=True)
    s = np.exp(z)
    s /= s.sum(-1, keepdims=True)
    mu = np.einsum("imk,ik->im", s, X)
    var = np.einsum("imk,imk->im", s, (X[:, None, :] - mu[..., None]) ** 2)
    return s, mu, var


def data(seed, n=5, d=6, m=40, scale=1.0, sigma=1.0, dtype=jnp.float64):
    kp, kx = jax.random.split(jax.random.key(seed))
    p = na.init_params(kp, m, sigma=sigma, dtype=dtype)
    X = scale * jax.random.normal(kx, (n, d), dtype)
    return p, X


@given(
    seed=st.integers(0, 2**31 - 1),
    scale=st.sampled_from([0.1, 1.0, 3.0]),
    sigma=st.sampled_from([0.5, 1.0, 4.0]),
)
def test_moments_match_reference(seed, scale, sigma):
    p, X = data(seed, scale=scale, sigma=sigma)
    s, mu, var = reference_moments(p.w, X)
    mom = na.softmax_moments(p.w, X, chunk_size=16)  # 40 neurons: chunks with padding
    span = np.ptp(np.asarray(X), axis=1)[:, None]
    np.testing.assert_allclose(mom.mean, mu, rtol=0, atol=1e-13 * span.max())
    np.testing.assert_allclose(mom.variance, var, rtol=0, atol=1e-13 * span.max() ** 2)
    np.testing.assert_allclose(mom.last_mass, s[..., -1], rtol=1e-12, atol=1e-300)
    f = np.einsum("im,m->i", mu, np.asarray(p.a)) / np.sqrt(p.w.shape[0])
    np.testing.assert_allclose(na.forward(p, X), f, rtol=1e-12, atol=1e-13)


@given(seed=st.integers(0, 2**31 - 1))
def test_popoviciu_bound(seed):
    p, X = data(seed, sigma=3.0)
    V = np.asarray(na.softmax_moments(p.w, X).variance)
    bound = np.ptp(np.asarray(X), axis=1)[:, None] ** 2 / 4
    assert (V >= 0).all()
    assert (V <= bound * (1 + 1e-12)).all()


def test_chunk_size_does_not_change_results():
    p, X = data(1, m=100)
    ref = na.softmax_moments(p.w, X, chunk_size=100)
    for chunk in (1, 7, 32, 1000):
        out = na.softmax_moments(p.w, X, chunk_size=chunk)
        for a, b in zip(out, ref):
            np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


def test_float32_scores_of_100_do_not_overflow():
    X = jnp.array([[1.0, -2.0, 0.5, 10.0], [-10.0, 3.0, 0.0, 10.0]], jnp.float32)
    w = jnp.array([1.0, -1.0, 0.05, -0.05], jnp.float32)  # |w x_d x_k| up to 100
    p = na.Params(w, jnp.ones(4, jnp.float32))
    mom = na.softmax_moments(w, X)
    assert all(bool(jnp.isfinite(t).all()) for t in mom)
    assert mom.mean.dtype == jnp.float32
    _, mu, var = reference_moments(w, X)
    np.testing.assert_allclose(mom.mean, mu, atol=1e-4)
    np.testing.assert_allclose(mom.variance, var, atol=1e-3)
    assert bool(jnp.isfinite(na.empirical_ntk(p, X)).all())


def test_last_token_and_position_mass_match_attention_weights():
    p, X = data(2, m=24)
    s = np.asarray(na.attention_weights(p, X))
    np.testing.assert_allclose(na.last_token_mass(p, X), s[..., -1], rtol=1e-12)
    np.testing.assert_allclose(na.mean_attention_mass(p, X, chunk_size=5), s.mean(0), rtol=1e-12)
    np.testing.assert_allclose(s.sum(-1), 1.0, rtol=1e-14)


def test_init_params_signs_and_scale():
    key = jax.random.key(0)
    p = na.init_params(key, 20000, sigma=2.0)
    assert set(np.unique(p.a)) == {-1.0, 1.0}
    assert abs(float(jnp.mean(p.a))) < 0.05
    assert abs(float(jnp.std(p.w)) - 2.0) < 0.05
    assert (na.init_params(key, 5, output_signs="minus").a == -1).all()
    assert (na.init_params(key, 5, output_signs="plus").a == 1).all()
    assert na.init_params(key, 5, dtype=jnp.float32).w.dtype == jnp.float32


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(width=0), "width"),
        (dict(width=-3), "width"),
        (dict(width=2.5), "width"),
        (dict(width=4, sigma=0.0), "sigma"),
        (dict(width=4, sigma=float("nan")), "sigma"),
        (dict(width=4, output_signs="negative"), "output_signs"),
        (dict(width=4, dtype=jnp.int32), "dtype"),
    ],
)
def test_init_params_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        na.init_params(jax.random.key(0), **kwargs)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.ones(4), "2-D"),
        (np.ones((2, 3, 4)), "2-D"),
        (np.ones((3, 1)), "d >= 2"),
        (np.ones((0, 4)), "at least one"),
        (np.array([[1.0, np.nan, 0.0]]), "finite"),
        (np.array([[1.0, np.inf, 0.0]]), "finite"),
        (np.ones((2, 3), np.int32), "floating"),
    ],
)
def test_forward_rejects_bad_windows(X, match):
    p = na.init_params(jax.random.key(0), 4)
    with pytest.raises(ValueError, match=r"X: .*" + match):
        na.forward(p, X)


def test_bad_params_are_named():
    X = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"params\.a"):
        na.forward(na.Params(jnp.ones(4), jnp.ones(3)), X)
    with pytest.raises(ValueError, match=r"params\.w"):
        na.forward(na.Params(jnp.array([1.0, jnp.nan]), jnp.ones(2)), X)
    with pytest.raises(ValueError, match="params"):
        na.forward(jnp.ones(4), X)


# ---------------------------------------------------------------------------------------------
# width prefixes (issue 15 item 1): params[:m] used to slice the (w, a) tuple, not the width


def test_prefix_is_the_first_m_neurons():
    p = na.init_params(jax.random.key(3), 64, dtype=jnp.float64)
    X = jax.random.normal(jax.random.key(4), (5, 6), jnp.float64)
    q = p.prefix(16)
    assert isinstance(q, na.Params) and q.width == 16 and p.width == 64
    np.testing.assert_array_equal(q.w, np.asarray(p.w)[:16])
    np.testing.assert_array_equal(q.a, np.asarray(p.a)[:16])
    _, mu, _ = reference_moments(np.asarray(p.w)[:16], X)  # independent: float64 numpy at width 16
    np.testing.assert_allclose(
        na.forward(q, X), mu @ np.asarray(p.a)[:16] / 4.0, rtol=1e-12, atol=1e-13
    )
    assert p.prefix(64).width == 64
    for bad in (0, 65, 2.0, -1, True):
        with pytest.raises(ValueError, match=r"^m: expected an integer 1 <= m <= 64") as err:
            p.prefix(bad)
        assert "\n" not in str(err.value)


def test_slicing_params_is_refused_not_silent():
    p = na.init_params(jax.random.key(0), 1024)
    with pytest.raises(TypeError, match=r"params\.prefix\(256\)") as err:
        p[:256]  # was the tuple (w, a) at full width 1024, which forward accepted as "m = 256"
    assert "\n" not in str(err.value)
    w, a = p  # unpacking, indexing and fields still work as a tuple
    assert p[0] is w and p[1] is a and p[-1] is a
    # JAX trees, jit and _replace keep Params intact
    leaves, tree = jax.tree.flatten(p)
    assert jax.tree.unflatten(tree, leaves).width == 1024
    assert jax.jit(lambda q: q.w * q.a)(p).shape == (1024,)
    assert p._replace(w=p.w[:2], a=p.a[:2]).width == 2


def test_plain_tuple_is_treated_like_params():
    p, X = data(5, m=12)
    np.testing.assert_array_equal(na.forward((p.w, p.a), X), na.forward(p, X))


@pytest.mark.parametrize(
    "bad, match",
    [
        (
            {"w": np.ones(3), "a": np.ones(3)},
            r"params: expected Params\(w, a\).*got a dict with keys \['w', 'a'\]",
        ),
        ((np.ones(3),), r"params: expected Params\(w, a\).*got a tuple of 1 item"),
        (
            (np.ones(3), np.ones(3), np.ones(3)),
            r"params: expected Params\(w, a\).*got a tuple of 3 items",
        ),
        ("wa", r"params: expected Params\(w, a\).*got str"),
        ((np.ones(3), np.ones(2)), r"params\.a: expected shape \(3,\)"),
    ],
)
def test_not_params_is_one_line_error(bad, match):
    X = np.ones((2, 3))
    for fn in (
        na.forward,
        na.last_token_mass,
        na.mean_attention_mass,
        na.attention_weights,
        na.jacobian,
        na.empirical_ntk,
    ):
        with pytest.raises(ValueError, match=match) as err:
            fn(bad, X)
        assert "\n" not in str(err.value) and "<U1" not in str(err.value)
