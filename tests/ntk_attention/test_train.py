"""Training: one step by hand, recorded quantities against recomputation, optax, divergence."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import ntk_attention as na
from ntk_attention.train import RISE_TOLERANCE


def setup(m=24, n=6, d=4, seed=0, dtype=jnp.float64, signs="random"):
    kp, kx = jax.random.split(jax.random.key(seed))
    p = na.init_params(kp, m, dtype=dtype, output_signs=signs)
    X = jax.random.normal(kx, (n, d), dtype)
    y = -X[:, -1]  # sign-inconsistent targets
    return p, X, y


def naive_loss(w, a, X, y):
    s = jax.nn.softmax(w[None, :, None] * (X[:, -1:] * X)[:, None, :], axis=-1)
    f = jnp.einsum("imk,ik,m->i", s, X, a) / jnp.sqrt(w.shape[0])
    return 0.5 * jnp.sum((f - y) ** 2)


def test_one_step_is_gradient_descent_by_hand():
    p, X, y = setup()
    eta = 0.3
    traj = na.train(p, X, y, steps=1, learning_rate=eta)
    expected = p.w - eta * jax.grad(naive_loss)(p.w, p.a, X, y)
    np.testing.assert_allclose(traj.params.w, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(traj.weights[1], expected, rtol=1e-12, atol=1e-14)


def test_recorded_quantities_match_recomputation():
    p, X, y = setup()
    traj = na.train(p, X, y, steps=12, learning_rate=0.2, record_every=4)
    np.testing.assert_array_equal(traj.step, [0, 4, 8, 12])
    for k in range(4):
        params_k = na.Params(traj.weights[k], p.a)
        f = na.forward(params_k, X)
        np.testing.assert_allclose(traj.loss[k], 0.5 * np.sum((f - y) ** 2), rtol=1e-12)
        np.testing.assert_allclose(
            traj.ntk[k], na.empirical_ntk(params_k, X), rtol=1e-10, atol=1e-14
        )
        s = np.asarray(na.attention_weights(params_k, X))
        np.testing.assert_allclose(traj.position_mass[k], s.mean(0), rtol=1e-12)
        np.testing.assert_allclose(traj.last_token_mass[k], s[..., -1].mean(0), rtol=1e-12)
        w = np.asarray(traj.weights[k])
        a = np.asarray(p.a)
        assert traj.sign_agree_plus[k] == np.sum((a > 0) & (w > 0))
        assert traj.sign_agree_minus[k] == np.sum((a < 0) & (w < 0))
        np.testing.assert_allclose(traj.max_weight_change[k], np.abs(w - np.asarray(p.w)).max())
    assert traj.n_plus + traj.n_minus == 24 and traj.n_plus == int(np.sum(np.asarray(p.a) > 0))
    assert traj.diverged_step == -1


def test_loss_decreases_and_statistics_mode_for_wide_networks():
    p, X, y = setup(m=64)
    full = na.train(p, X, y, steps=20, learning_rate=0.1, record_every=10)
    assert full.loss[-1] < full.loss[0]
    stats = na.train(
        p,
        X,
        y,
        steps=20,
        learning_rate=0.1,
        record_every=10,
        record_neurons=False,
        record_ntk=False,
    )
    assert stats.weights is None and stats.ntk is None and stats.position_mass is None
    np.testing.assert_allclose(stats.loss, full.loss, rtol=1e-12)
    np.testing.assert_allclose(stats.weight_mean, full.weights.mean(1), rtol=1e-10)


def test_optax_optimizer_and_float32():
    p, X, y = setup(dtype=jnp.float32)
    traj = na.train(p, X, y, steps=4, optimizer=optax.adam(1e-2))
    assert traj.loss.dtype == jnp.float32 and bool(jnp.isfinite(traj.loss).all())
    tx = optax.adam(1e-2)
    state, w = tx.init(p.w), p.w
    for _ in range(4):
        g = jax.grad(naive_loss)(w, p.a, X, y)
        upd, state = tx.update(g, state, w)
        w = optax.apply_updates(w, upd)
    np.testing.assert_allclose(traj.params.w, w, rtol=2e-4, atol=1e-5)


def _assert_diverged_at_1e308(traj, p, X):
    """Either report of a run at η = 1e308 (1e307 × its stability limit) says it diverged, and
    where.

    On most CPUs w overflows to ±inf and the loss turns NaN: training freezes at that step. With
    other exp/BLAS kernels w stays finite, the softmax saturates and the loss ends above L(0). Both
    name the step size against the limit 2/λ_max(H(0)) — the one thing every report must contain.
    """
    k = int(traj.diverged_step)
    rep = na.divergence_report(traj, p, X, learning_rate=1e308)
    assert k > 0 and rep.step == k and np.isfinite(traj.loss[:k]).all()
    if not np.isfinite(traj.loss[k]):
        assert bool(traj.stopped)
        assert rep.reason.startswith(f"loss non-finite at step {k}")
        np.testing.assert_array_equal(traj.weights[k], traj.weights[-1])  # frozen from there on
    else:
        assert traj.loss[-1] > traj.loss[0] and not bool(traj.stopped)
        assert rep.reason.startswith(f"loss ended at L(6) = {float(traj.loss[-1]):.3g} above L(0)")
    assert "× the gradient-descent stability limit 2/λ_max(H(0)) = " in rep.reason
    return rep


def test_non_finite_loss_stops_training():
    """A step size of 1e308 overflows w (or saturates the softmax): the run is called diverged."""
    p, X, y = setup()
    _assert_diverged_at_1e308(na.train(p, X, y, steps=6, learning_rate=1e308), p, X)


def test_loss_growth_beyond_factor_stops_training():
    """Start next to a fit (tiny L(0)); a step far past 2/λ_max multiplies the loss."""
    p, X, _ = setup()
    y = na.forward(p, X) + 1e-3
    eta = 50.0 / float(np.linalg.eigvalsh(np.asarray(na.empirical_ntk(p, X))).max())
    traj = na.train(p, X, y, steps=10, learning_rate=eta, divergence_factor=10.0)
    k = int(traj.diverged_step)
    assert k > 0 and traj.loss[k] > 10 * traj.loss[0] and (traj.loss[:k] <= 10 * traj.loss[0]).all()
    assert bool(traj.stopped)
    np.testing.assert_array_equal(traj.weights[k], traj.weights[-1])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(steps=0, learning_rate=0.1), "steps"),
        (dict(steps=10, learning_rate=0.1, record_every=3), "record_every"),
        (dict(steps=10), "learning_rate"),
        (dict(steps=10, learning_rate=-1.0), "learning_rate"),
        (dict(steps=10, learning_rate=float("inf")), "learning_rate"),
        (dict(steps=10, optimizer="adam"), "optimizer"),
    ],
)
def test_bad_training_arguments(kwargs, match):
    p, X, y = setup()
    with pytest.raises(ValueError, match=match):
        na.train(p, X, y, **kwargs)


def test_bad_targets():
    p, X, y = setup()
    with pytest.raises(ValueError, match="y: .*shape"):
        na.train(p, X, y[:-1], steps=1, learning_rate=0.1)
    with pytest.raises(ValueError, match="y: .*finite"):
        na.train(p, X, y.at[0].set(jnp.nan), steps=1, learning_rate=0.1)


# ---------------------------------------------------------------------------------------------
# divergence that settles above L(0) (issue 15 item 2): learning_rate=1e6 froze the loss at
# 2.8 L(0) with diverged_step = -1


def _lambda_max_h0(p, X):
    """Independent: λ_max of the autodiff NTK at initialisation, float64 numpy."""
    return float(
        np.linalg.eigvalsh(np.asarray(na.empirical_ntk(p, X, method="autodiff"), np.float64))[-1]
    )


@pytest.mark.parametrize("record_ntk", [True, False])
def test_loss_frozen_above_initial_is_divergence(record_ntk):
    p, X, y = setup(seed=3)
    traj = na.train(p, X, y, steps=12, learning_rate=1e6, record_ntk=record_ntk)
    loss = np.asarray(traj.loss)
    assert (
        np.isfinite(loss).all()
        and (loss[1:] > 10 * loss[0]).all()
        and np.ptp(loss[2:]) <= 1e-9 * loss[-1]
    )
    assert loss.max() < 1e8 * loss[0]  # the growth factor alone does not catch it
    assert traj.diverged_step == 1  # first step of the final stretch above L(0)
    assert not bool(traj.stopped)  # it ran to the end
    lmax = _lambda_max_h0(p, X)
    rep = na.divergence_report(traj, p, X, learning_rate=1e6)
    assert rep.step == 1 and rep.lambda_max_h0 == pytest.approx(lmax, rel=1e-9)
    reason = rep.reason
    assert (
        "\n" not in reason
        and f"ended at L({12}) = {loss[-1]:.3g} above L(0) = {loss[0]:.3g}" in reason
    ), reason
    assert (
        f"learning_rate = 1e+06 is {1e6 * lmax / 2:.3g} × the gradient-descent stability limit "
        f"2/λ_max(H(0)) = {2 / lmax:.3g}" in reason
    ), reason


def test_transient_rise_that_recovers_is_not_divergence():
    """η = 2.5/λ_max(H(0)): the loss first rises above L(0), then falls well below it."""
    p, X, y = setup(seed=2)
    eta = 2.5 / _lambda_max_h0(p, X)
    traj = na.train(p, X, y, steps=30, learning_rate=eta)
    loss = np.asarray(traj.loss)
    assert loss[1] > loss[0] and loss[-1] < 0.5 * loss[0]
    assert traj.diverged_step == -1 and not bool(traj.stopped)
    assert na.divergence_report(traj, p, X, learning_rate=eta) == (-1, "", None)


def test_divergence_step_is_start_of_final_stretch_above_initial_loss():
    """Oscillating run that ends above L(0): diverged_step is where the loss last crossed above
    it."""
    p, X, y = setup(seed=0)
    eta = 8.0 / _lambda_max_h0(p, X)
    traj = na.train(p, X, y, steps=30, learning_rate=eta)
    loss = np.asarray(traj.loss)
    thr = (1 + RISE_TOLERANCE) * loss[0] + np.finfo(np.float64).eps * 0.5 * float(
        np.sum(np.asarray(y) ** 2)
    )
    above = loss > thr
    assert above[-1] and (loss < 10 * loss[0]).any()
    first = int(np.flatnonzero(~above)[-1]) + 1  # after the last record at or below the threshold
    assert traj.diverged_step == first and traj.diverged_step > 0
    assert "above L(0)" in na.divergence_report(traj, p, X, learning_rate=eta).reason


def test_divergence_reasons_name_non_finite_and_factor():
    p, X, y = setup()
    traj = na.train(p, X, y, steps=6, learning_rate=1e308)
    rep = _assert_diverged_at_1e308(traj, p, X)
    assert rep.lambda_max_h0 == pytest.approx(_lambda_max_h0(p, X), rel=1e-9)
    y = na.forward(p, X) + 1e-3
    eta = 50.0 / float(np.linalg.eigvalsh(np.asarray(na.empirical_ntk(p, X))).max())
    traj = na.train(p, X, y, steps=10, learning_rate=eta, divergence_factor=10.0)
    k = int(traj.diverged_step)
    reason = na.divergence_report(traj, p, X, learning_rate=eta, divergence_factor=10.0).reason
    assert reason.startswith(
        f"loss {float(traj.loss[k]):.3g} at step {k} exceeds divergence_factor = 10 "
        f"× L(0) = {float(traj.loss[0]):.3g}"
    ), reason
    # an optax optimizer: no gradient-descent limit to compare with, λ_max(H(0)) still reported
    traj = na.train(p, X, y, steps=4, optimizer=optax.sgd(1e300))
    rep = na.divergence_report(traj, p, X)
    assert traj.diverged_step >= 0 and "stability limit" not in rep.reason
    assert rep.lambda_max_h0 == pytest.approx(_lambda_max_h0(p, X), rel=1e-9)


@pytest.mark.parametrize("record_ntk", [True, False])
def test_divergence_report_without_h0_recorded(record_ntk):
    """λ_max(H(0)) from the recorded H(0), or recomputed from the initial params when H(0) was not
    recorded (record_ntk=False, or record_at without step 0): the same float64 number."""
    p, X, y = setup(seed=3)
    lmax = _lambda_max_h0(p, X)
    traj = na.train(p, X, y, record_at=[3, 12], learning_rate=1e6, record_ntk=record_ntk)
    rep = na.divergence_report(traj, p, X, learning_rate=1e6)
    assert rep.step == int(traj.diverged_step) >= 0
    assert rep.lambda_max_h0 == pytest.approx(lmax, rel=1e-9)
    assert "above L(0) (not recorded: the first record is at step 3)" in rep.reason, rep.reason
    assert f"2/λ_max(H(0)) = {2 / lmax:.3g}" in rep.reason


def test_divergence_report_refuses_a_batch_and_bad_arguments():
    p, X, y = setup(seed=3)
    traj = na.train(p, X, y, steps=4, learning_rate=1e6)
    batch = jax.tree.map(lambda v: v[None], traj)
    with pytest.raises(ValueError, match=r"traj: expected one run's Trajectory"):
        na.divergence_report(batch, p, X, learning_rate=1e6)
    with pytest.raises(ValueError, match="learning_rate"):
        na.divergence_report(traj, p, X, learning_rate=-1.0)
    with pytest.raises(ValueError, match="divergence_factor"):
        na.divergence_report(traj, p, X, learning_rate=1e6, divergence_factor=0.0)


def test_record_at_matches_every_step_records():
    p, X, y = setup()
    full = na.train(p, X, y, steps=60, learning_rate=0.2)
    at = np.array([0, 1, 2, 5, 17, 60])
    sparse = na.train(p, X, y, record_at=at, learning_rate=0.2)
    np.testing.assert_array_equal(sparse.step, at)
    for name in (
        "loss",
        "weights",
        "sign_agree_plus",
        "max_weight_change",
        "ntk",
        "last_token_mass",
    ):
        np.testing.assert_allclose(
            getattr(sparse, name), getattr(full, name)[at], rtol=1e-12, atol=1e-15, err_msg=name
        )
    np.testing.assert_allclose(sparse.params.w, full.params.w, rtol=1e-12)
    late = na.train(p, X, y, record_at=[7, 60], learning_rate=0.2)  # first record after steps
    np.testing.assert_allclose(late.loss, np.asarray(full.loss)[[7, 60]], rtol=1e-12)


def test_record_at_divergence_and_long_horizon():
    p, X, y = setup()
    eta = 50.0 / float(jnp.linalg.eigvalsh(na.empirical_ntk(p, X))[-1])
    div = na.train(p, X, y, record_at=[0, 10, 1000], learning_rate=eta, divergence_factor=10.0)
    full = na.train(p, X, y, steps=1000, learning_rate=eta, divergence_factor=10.0, record_every=10)
    assert div.diverged_step == full.diverged_step >= 0
    long = na.train(
        p,
        X,
        y,
        record_at=np.unique(np.geomspace(1, 10**5, 11).astype(int)),
        learning_rate=0.2,
        record_ntk=False,
    )
    assert int(long.step[-1]) == 10**5 and long.loss.shape == (11,)
    assert np.all(np.diff(np.asarray(long.loss)) <= 1e-12)  # small step: loss never rises


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"record_at": [0, 5, 5]}, "record_at: expected strictly increasing"),
        ({"record_at": [0, 2.5]}, "record_at: expected whole step numbers"),
        ({"record_at": [0]}, "record_at: expected at least one step"),
        ({"record_at": [0, 5], "steps": 6}, "steps: expected None or the last of record_at"),
        ({"record_at": [0, 5], "record_every": 5}, "record_every: expected the default 1"),
        ({"record_at": [[1, 2]]}, "record_at: expected a non-empty 1-D"),
    ],
)
def test_record_at_bad_input(kwargs, match):
    p, X, y = setup()
    with pytest.raises(ValueError, match=match):
        na.train(p, X, y, learning_rate=0.1, **kwargs)
