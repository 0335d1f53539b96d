"""The public API under jit, vmap and grad (issue 22 item 10): H* by the fixed JAX quadrature beside
the adaptive host one, λ_min traced, and train vmapped over keys and learning rates, with the same
pytree eager and under jit."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ntk_attention as na
from ntk_attention.infinite import InfiniteNTK

_JIT_HSTAR = jax.jit(
    lambda X, sigma: na.infinite_ntk(X, sigma=sigma)
)  # one compilation for every draw


@settings(deadline=None, max_examples=8)
@given(
    seed=st.integers(0, 2**31 - 1),
    scale=st.sampled_from([0.3, 1.0, 3.0]),
    sigma=st.sampled_from([0.5, 1.0, 4.0]),
)
def test_jit_infinite_ntk_agrees_with_the_adaptive_rule_within_both_error_estimates(
    seed, scale, sigma
):
    """Windows of scale 3 with σ = 4: the narrow bump plain Gauss–Hermite misses
    (docs/theory.md)."""
    X = scale * jax.random.normal(jax.random.key(seed), (6, 5))
    host = na.infinite_ntk(np.asarray(X), sigma=sigma)
    traced = _JIT_HSTAR(X, sigma)
    assert isinstance(traced, InfiniteNTK) and traced.matrix.shape == (6, 6)
    diff = float(np.abs(np.asarray(traced.matrix) - host.matrix).max())
    assert diff <= float(traced.error_estimate) + host.error_estimate
    assert (
        float(traced.error_estimate) <= 1e-9 * np.abs(host.matrix).max()
    )  # the default panels resolve it


def test_too_few_panels_show_in_the_error_estimate():
    """The estimate is not decoration: with 4-8 panels the rule misses by a measurable amount, and
    its estimate bounds the miss (a lower order on the same panels alone would not: measured, it
    missed 30×)."""
    for seed in (7, 1):
        X = 3.0 * jax.random.normal(jax.random.key(seed), (5, 6))
        host = na.infinite_ntk(np.asarray(X), sigma=4.0)
        misses = []
        for panels in (4, 8, 16):
            coarse = na.infinite_ntk(X, sigma=4.0, quadrature="fixed", panels=panels)
            diff = float(np.abs(np.asarray(coarse.matrix) - host.matrix).max())
            assert diff <= float(coarse.error_estimate) + host.error_estimate, panels
            misses.append(diff)
        assert misses[0] > 1e-6 * np.abs(host.matrix).max()  # 4 panels: a real error, bounded above


def test_infinite_ntk_returns_one_type_whatever_the_flags():
    X = np.random.default_rng(0).standard_normal((3, 4))
    for kwargs in (
        {},
        {"return_error": True},
        {"return_error": False},
        {"quadrature": "adaptive"},
        {"quadrature": "fixed"},
        {"nodes": 16},
    ):
        res = na.infinite_ntk(X, **kwargs)
        assert isinstance(res, InfiniteNTK) and res.matrix.shape == (3, 3), kwargs
    with pytest.raises(
        ValueError, match=r"^quadrature: expected 'adaptive', 'fixed' or None, got 'gauss'$"
    ):
        na.infinite_ntk(X, quadrature="gauss")
    with pytest.raises(ValueError, match=r"quadrature: 'adaptive' is host-side"):
        jax.jit(lambda X: na.infinite_ntk(X, quadrature="adaptive"))(jnp.asarray(X))
    with pytest.raises(
        ValueError, match=r"^panels: expected a number of panels in \[4, 4096\], got 3$"
    ):
        na.infinite_ntk(X, quadrature="fixed", panels=3)


def test_vmap_and_grad_of_the_fixed_rule():
    X = jax.random.normal(jax.random.key(1), (3, 4, 5))
    batched = jax.vmap(lambda x: na.infinite_ntk(x).matrix)(X)
    for i in range(3):
        np.testing.assert_allclose(
            batched[i], na.infinite_ntk(np.asarray(X[i])).matrix, rtol=0, atol=1e-12
        )
    f = lambda x: na.infinite_ntk(x, quadrature="fixed").matrix[0, 1]
    g = jax.grad(f)(X[0])
    e = np.zeros((4, 5))
    e[1, 2] = 1e-6
    fd = (f(X[0] + e) - f(X[0] - e)) / 2e-6  # central difference: error O(h^2)
    assert float(g[1, 2]) == pytest.approx(float(fd), rel=1e-5, abs=1e-9)


def test_jit_min_eigenvalue():
    X = np.random.default_rng(2).standard_normal((6, 5))
    H = na.infinite_ntk(X).matrix
    traced = jax.jit(na.min_eigenvalue)(jnp.asarray(H))
    assert float(traced) == pytest.approx(na.min_eigenvalue(H), abs=1e-12 * np.abs(H).max())
    with pytest.raises(ValueError, match="H: expected a non-empty square matrix"):
        jax.jit(na.min_eigenvalue)(jnp.ones((2, 3)))


def test_vmap_train_over_keys_equals_separate_runs():
    X = jax.random.normal(jax.random.key(1), (8, 4))
    y = X[:, -1]
    keys = jax.random.split(jax.random.key(0), 4)

    def run(k):
        return na.train(na.init_params(k, 32), X, y, steps=20, learning_rate=0.1, record_every=5)

    together = jax.vmap(run)(keys)
    for i in range(4):
        alone = run(keys[i])
        for name in (
            "loss",
            "weights",
            "ntk",
            "weight_mean",
            "max_weight_change",
            "sign_agree_plus",
            "last_token_mass",
            "mean_position_mass",
        ):
            a, b = np.asarray(getattr(together, name))[i], np.asarray(getattr(alone, name))
            np.testing.assert_allclose(
                a, b, rtol=0, atol=1e-12 * max(1.0, np.abs(b).max()), err_msg=name
            )
        np.testing.assert_allclose(together.params.w[i], alone.params.w, rtol=0, atol=1e-12)
        assert int(together.diverged_step[i]) == alone.diverged_step == -1
        assert int(together.n_plus[i]) == alone.n_plus
    # the same pytree, with a leading batch axis on every leaf
    assert jax.tree.structure(together) == jax.tree.structure(alone)


def test_vmap_train_reports_a_diverged_seed_as_the_separate_run_does():
    X = 3.0 * jax.random.normal(jax.random.key(1), (8, 4))
    y = -X[:, -1]
    keys = jax.random.split(jax.random.key(3), 2)
    run = lambda k: na.train(
        na.init_params(k, 16), X, y, steps=30, learning_rate=50.0, record_every=10
    )
    together = jax.vmap(run)(keys)
    for i in range(2):
        alone = run(keys[i])
        assert int(together.diverged_step[i]) == alone.diverged_step
        assert bool(together.stopped[i]) == bool(alone.stopped)
    assert any(run(k).diverged_step >= 0 for k in keys)  # the case is a diverging one


def _train_setup():
    X = jax.random.normal(jax.random.key(1), (6, 4), jnp.float64)
    return na.init_params(jax.random.key(3), 16, dtype=jnp.float64), X, -X[:, -1]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(steps=6, record_every=3),
        dict(steps=6, record_ntk=False, record_neurons=False),
        dict(steps=4, learning_rate=1e6),  # diverges: eager used to add host-side words
        dict(steps=4, optimizer=optax.sgd(1e300)),
    ],
)
def test_jit_train_has_the_eager_tree_structure(kwargs):
    p, X, y = _train_setup()
    kwargs = {"learning_rate": 0.1, **kwargs} if "optimizer" not in kwargs else kwargs
    lr = kwargs.pop("learning_rate", None)
    static = tuple(kwargs)
    eager = na.train(p, X, y, learning_rate=lr, **kwargs)
    jitted = jax.jit(na.train, static_argnames=static)(p, X, y, learning_rate=lr, **kwargs)
    assert jax.tree.structure(eager) == jax.tree.structure(jitted)
    for name, a, b in zip(eager._fields, eager, jitted):
        for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
            assert isinstance(u, jax.Array) and u.shape == v.shape and u.dtype == v.dtype, name
            np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-300, err_msg=name)
    assert eager.diverged_step.shape == eager.n_plus.shape == eager.stopped.shape == ()
    # record_at (an array: closed over, not static) gives the same structure too
    at = np.array([0, 2, 5])
    eager = na.train(p, X, y, record_at=at, learning_rate=0.1)
    jitted = jax.jit(lambda p, X, y: na.train(p, X, y, record_at=at, learning_rate=0.1))(p, X, y)
    assert jax.tree.structure(eager) == jax.tree.structure(jitted)


def test_vmap_train_over_learning_rates_equals_separate_runs():
    """Four step sizes, the last far past 2/λ_max(H(0)) (the run ends above L(0)): one program."""
    p, X, y = _train_setup()
    etas = np.array([0.05, 0.2, 1.0, 1e6])
    run = lambda eta: na.train(p, X, y, steps=8, learning_rate=eta, record_every=2)
    together = jax.vmap(run)(jnp.asarray(etas))
    assert jax.tree.structure(together) == jax.tree.structure(run(0.1))
    for i, eta in enumerate(etas):
        alone = run(float(eta))
        for name, a, b in zip(alone._fields, together, alone):
            for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
                u, v = np.asarray(u)[i], np.asarray(v)
                np.testing.assert_allclose(
                    u, v, rtol=0, atol=1e-12 * max(1.0, float(np.abs(v).max())), err_msg=name
                )
    assert (
        int(together.diverged_step[-1]) >= 0 and (np.asarray(together.diverged_step[:-1]) < 0).all()
    )
    # the words of the diverged run: pick it out of the batch, as from its own run
    one = jax.tree.map(lambda v: v[-1], together)
    assert na.divergence_report(one, p, X, learning_rate=1e6) == na.divergence_report(
        run(1e6), p, X, learning_rate=1e6
    )


def test_traced_learning_rate_is_not_validated_but_a_concrete_one_is():
    p, X, y = _train_setup()
    jitted = jax.jit(lambda eta: na.train(p, X, y, steps=2, learning_rate=eta))
    np.testing.assert_allclose(
        jitted(0.1).loss, na.train(p, X, y, steps=2, learning_rate=0.1).loss, rtol=1e-12
    )
    for bad in (-1.0, float("nan"), 0.0):
        with pytest.raises(ValueError, match="learning_rate"):
            na.train(p, X, y, steps=2, learning_rate=bad)
