"""Multi-dimensional attention: C6's gradient formulas against autodiff, model variants, patching,
RoPE, NTK."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from hypothesis import given, settings
from hypothesis import strategies as st

import ntk_attention as na
from ntk_attention import multidim as md

SHAPES = [(1, 1, 1), (4, 3, 3), (6, 2, 5)]  # (n tokens, d, d_v)


def rel(a, b):
    """Max-abs relative difference (absolute when b is identically zero)."""
    a, b = np.asarray(a), np.asarray(b)
    scale = np.abs(b).max()
    return np.abs(a - b).max() / (scale if scale > 0 else 1.0)


def attention_case(seed, n, d, dv, scale=1.0):
    rng = np.random.default_rng(seed)
    X, W, W_V, Y = (rng.standard_normal(sh) for sh in ((n, d), (d, d), (d, dv), (n, dv)))
    return X, scale * W, W_V, Y


@functools.partial(jax.jit, static_argnames="axis")
def three_gradients(X, W, W_V, Y, axis):
    """(autodiff, printed, chain rule) dL/dW for L = 1/2 |Attn - Y|^2, G = dL/dAttn = Attn - Y."""
    loss = lambda W_: 0.5 * jnp.sum((md.attention(X, W_, W_V, softmax_axis=axis) - Y) ** 2)
    G = md.attention(X, W, W_V, softmax_axis=axis) - Y
    return (
        jax.grad(loss)(W),
        md.printed_attention_gradient(X, W, W_V, G, softmax_axis=axis),
        md.attention_gradient(X, W, W_V, G, softmax_axis=axis),
    )


# ---------------------------------------------------------------------------------------------- C6


@pytest.mark.parametrize("shape", SHAPES)
@settings(max_examples=5)
@given(seed=st.integers(0, 2**31 - 1), scale=st.sampled_from([0.3, 1.0, 3.0]))
def test_printed_and_corrected_gradient_match_autodiff_row_softmax(shape, seed, scale):
    auto, printed, chain = three_gradients(*attention_case(seed, *shape, scale=scale), "keys")
    assert rel(printed, auto) < 1e-10
    assert rel(chain, auto) < 1e-10


@pytest.mark.parametrize("shape", SHAPES[1:])
def test_column_softmax_reading_breaks_printed_formula_only(shape):
    auto, printed, chain = three_gradients(*attention_case(7, *shape), "queries")
    assert rel(chain, auto) < 1e-10
    assert rel(printed, auto) > 1e-2


def test_printed_gradient_with_a_last_token_loss():
    """G nonzero only on the last row (the forecasting head) is the case the seed discusses."""
    X, W, W_V, _ = attention_case(3, 6, 3, 3)
    r = np.array([1.0, -2.0, 0.5])
    G = np.zeros((6, 3))
    G[-1] = r

    @jax.jit
    def both(W_):
        auto = jax.grad(lambda V: md.attention(X, V, W_V)[-1] @ r)(W_)
        return auto, md.printed_attention_gradient(X, W_, W_V, G)

    auto, printed = both(W)
    assert rel(printed, auto) < 1e-10


def test_gradient_formulas_validate_softmax_axis():
    X, W, W_V, Y = attention_case(0, 3, 2, 2)
    with pytest.raises(ValueError, match="softmax_axis"):
        md.printed_attention_gradient(X, W, W_V, Y, softmax_axis="rows")


# ------------------------------------------------------------------------------------------- models

CONFIGS = {
    "vanilla": md.ModelConfig(),
    "differential": md.ModelConfig(kind="differential"),
    "rope": md.ModelConfig(rope=True, key_dim=4),
    "patched": md.ModelConfig(patch_len=3, stride=2, value_dim=2),
}


@functools.cache
def model(name, dtype=jnp.float64):
    """(graphdef, params) of CONFIGS[name], initialised once in float64 (shared compilations), cast
    to dtype."""
    if dtype != jnp.float64:
        g, p = model(name)
        return g, jax.tree.map(lambda x: x.astype(dtype), p)
    return md.init_model(CONFIGS[name], jax.random.key(1), dtype=jnp.float64)


def windows(seed, n=6, T=8, dtype=jnp.float64):
    X = jax.random.normal(jax.random.key(seed), (n, T), dtype)
    return X, 0.9 * X[:, -1] - 0.3 * X[:, -2]


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_each_model_trains_one_step(name, dtype):
    g, p = model(name, dtype)
    X, y = windows(2, dtype=dtype)
    res = md.fit(g, p, X, y, optimizer=optax.sgd(1e-3), steps=1)
    assert all(leaf.dtype == dtype for leaf in jax.tree.leaves(res.params))
    assert all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree.leaves(res.params))
    assert res.loss.dtype == dtype and np.isfinite(np.asarray(res.loss)).all()
    assert res.loss[1] < res.loss[0]  # a small gradient step lowers the loss
    changed = jax.tree.map(lambda a, b: bool(jnp.any(a != b)), p, res.params)
    assert all(jax.tree.leaves(changed))  # every parameter, lambda included, receives a gradient


def test_differential_attention_with_zero_lambda_is_vanilla():
    X, W, W_V, _ = attention_case(4, 5, 3, 2)
    W2 = attention_case(5, 5, 3, 2)[1]
    pair = jax.jit(
        lambda lam: (md.differential_attention(X, W, W2, W_V, lam), md.attention(X, W, W_V))
    )
    diff0, vanilla = pair(0.0)
    np.testing.assert_allclose(diff0, vanilla, rtol=1e-13, atol=1e-15)
    assert rel(pair(0.5)[0], vanilla) > 1e-3

    gd, pd = model("differential")
    gv, pv = model("vanilla")
    d = nnx.to_pure_dict(pd)
    pv = jax.tree.map(
        lambda x: x, pv
    )  # a copy to fill with the differential model's shared weights
    nnx.replace_by_pure_dict(pv, {k: d[k] for k in ("w_q", "w_k", "w_v", "w_out")})
    pd = jax.tree.map(lambda x: x, pd)
    nnx.replace_by_pure_dict(
        pd, dict(d, lam_logit=jnp.full_like(d["lam_logit"], -jnp.inf))
    )  # sigmoid(-inf) = 0
    X, _ = windows(3)
    np.testing.assert_array_equal(md.apply_model(gd, pd, X), md.apply_model(gv, pv, X))


def test_scalar_model_is_the_special_case():
    params = na.init_params(jax.random.key(2), 12, dtype=jnp.float64)
    g, p = md.from_scalar_params(params)
    X, _ = windows(5)
    assert rel(md.apply_model(g, p, X), na.forward(params, X)) < 1e-12
    # NTK over W_Q alone is the paper's NTK over w (W_K = 1): autodiff here, closed form in the core
    rest = nnx.to_pure_dict(p)

    @jax.jit
    def ntk_over_wq(wq):
        def f(wq_, X_):
            state = jax.tree.map(lambda x: x, p)  # a fresh State to fill in
            nnx.replace_by_pure_dict(state, dict(rest, w_q=wq_))
            return md.apply_model(g, state, X_)

        return md.empirical_ntk(f, wq, X)

    H = ntk_over_wq(rest["w_q"])
    assert rel(H, na.empirical_ntk(params, X)) < 1e-10


def test_model_ntk_matches_linearisation():
    """H[:, j] = d/de f(theta + e grad f(x_j)) at e = 0, by central differences in float64."""
    g, p = model("patched")
    X, _ = windows(6)
    H = md.model_ntk(g, p, X)
    j = 2
    grad_j = jax.grad(lambda p_: md.apply_model(g, p_, X[j : j + 1])[0])(p)
    eps = 1e-5
    shift = lambda s: jax.tree.map(lambda a, b: a + s * b, p, grad_j)  # noqa: E731
    fd = (md.apply_model(g, shift(eps), X) - md.apply_model(g, shift(-eps), X)) / (2 * eps)
    assert rel(fd, H[:, j]) < 1e-7
    assert np.all(np.linalg.eigvalsh(np.asarray(H)) > -1e-12)


def test_local_attention_cases_against_autodiff_of_a_score_perturbation():
    cfg = CONFIGS["patched"]
    g, p = model("patched")
    X, y = windows(7)
    cases = md.local_attention_cases(g, p, X, y)
    d = nnx.to_pure_dict(p)
    tokens = md.patch(X, cfg.patch_len, cfg.stride)
    L = tokens.shape[1]

    @jax.jit
    def score_gradient(
        tok, target
    ):  # autodiff w.r.t. an additive perturbation E of every head's scores
        def loss(E):
            Wh = jnp.einsum("hpk,hqk->hpq", d["w_q"], d["w_k"]) / np.sqrt(cfg.key_dim)
            A = jnp.einsum("lp,hpq,mq->hlm", tok, Wh, tok) + E
            out = jnp.einsum("hm,mp,hpv->hv", jax.nn.softmax(A, -1)[:, -1], tok, d["w_v"])
            return 0.5 * (out.ravel() @ d["w_out"] - target) ** 2

        return jax.grad(loss)(jnp.zeros((cfg.heads, L, L)))[:, -1, -1]

    r = md.apply_model(g, p, X) - y
    v_last = jnp.einsum("np,hpv->nhv", tokens[:, -1], d["w_v"])
    G = r[:, None, None] * d["w_out"].reshape(cfg.heads, cfg.value_dim)
    assert rel(cases.alignment, jnp.sum(G * v_last, -1)) < 1e-12
    for i in range(X.shape[0]):
        assert rel(cases.score_gradient[i], score_gradient(tokens[i], y[i])) < 1e-10


def test_last_token_mass_is_a_probability():
    g, p = model("rope")
    X, _ = windows(8)
    ho = md.head_outputs(g, p, X)
    np.testing.assert_allclose(ho.weights.sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(md.last_token_mass(g, p, X), ho.weights[..., -1])
    assert bool(jnp.all((ho.weights >= 0) & (ho.weights <= 1)))


# --------------------------------------------------------------------------------------------- RoPE


@settings(max_examples=15)
@given(
    seed=st.integers(0, 2**31 - 1),
    p1=st.integers(0, 50),
    p2=st.integers(0, 50),
    shift=st.integers(-20, 100),
)
def test_rope_scores_depend_only_on_position_difference(seed, p1, p2, shift):
    q, k = jax.random.normal(jax.random.key(seed), (2, 6), jnp.float64)

    def score(a, b):
        pos = jnp.array([a, b], jnp.float64)
        z = md.rope(jnp.stack([q, k]), pos)
        return z[0] @ z[1]

    np.testing.assert_allclose(score(p1, p2), score(p1 + shift, p2 + shift), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(score(0, p2 - p1), score(p1, p2), rtol=1e-9, atol=1e-9)


def test_rope_is_a_rotation_that_moves_scores():
    z = jax.random.normal(jax.random.key(0), (5, 4), jnp.float64)
    pos = jnp.arange(5.0)
    r = md.rope(z, pos, base=10.0)
    np.testing.assert_allclose(jnp.linalg.norm(r, axis=-1), jnp.linalg.norm(z, axis=-1), rtol=1e-12)
    np.testing.assert_array_equal(r[0], z[0])  # position 0: identity
    assert abs(float(r[1] @ r[3] - z[1] @ z[3])) > 1e-3  # but relative positions do matter
    with pytest.raises(ValueError, match="z"):
        md.rope(jnp.ones((3, 3)), jnp.arange(3.0))


# ----------------------------------------------------------------------------------------- patching


@pytest.mark.parametrize("T, P, stride", [(1, 1, 1), (9, 3, 2), (13, 4, 4), (10, 3, 5), (3, 4, 1)])
def test_patching_splits_and_restores_a_series(T, P, stride):
    x = np.random.default_rng(T).normal(size=(2, T))
    if P > T:
        with pytest.raises(ValueError, match="series"):
            md.patch(x, P, stride)
        return
    tokens = np.asarray(md.patch(x, P, stride))
    L = (T - P) // stride + 1
    offset = T - P - (L - 1) * stride
    expected = np.stack(
        [x[:, offset + l * stride : offset + l * stride + P] for l in range(L)], axis=1
    )
    np.testing.assert_array_equal(tokens, expected)
    assert tokens[0, -1, -1] == x[0, -1]  # the last token ends at the most recent observation
    if stride <= P:
        np.testing.assert_allclose(md.unpatch(tokens, stride), x[:, offset:], rtol=1e-15)
    else:
        with pytest.raises(ValueError, match="stride"):
            md.unpatch(tokens, stride)


def test_non_overlapping_patches_are_a_reshape():
    x = jnp.arange(12.0)
    np.testing.assert_array_equal(md.patch(x, 4), x.reshape(3, 4))
    np.testing.assert_array_equal(md.unpatch(x.reshape(3, 4)), x)


# --------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "config, name",
    [
        (md.ModelConfig(kind="linear"), "config.kind"),
        (md.ModelConfig(heads=0), "config.heads"),
        (md.ModelConfig(rope=True, key_dim=3), "config.key_dim"),
        (md.ModelConfig(lambda_init=1.0), "config.lambda_init"),
        (md.ModelConfig(stride=0), "config.stride"),
    ],
)
def test_bad_config_names_the_field(config, name):
    with pytest.raises(ValueError, match=name):
        md.init_model(config, jax.random.key(0))


def test_bad_inputs_name_the_argument():
    g, p = model("patched")  # patch_len 3
    with pytest.raises(ValueError, match="X"):
        md.apply_model(g, p, jnp.ones((3, 2)))
    with pytest.raises(ValueError, match="X"):
        md.apply_model(g, p, jnp.ones((3, 8), jnp.int32))
    with pytest.raises(ValueError, match="y"):
        md.fit(g, p, jnp.ones((3, 8)), jnp.ones(2), optimizer=optax.sgd(0.1), steps=1)
    gd, pd = model("differential")
    with pytest.raises(ValueError, match="graphdef"):
        md.local_attention_cases(gd, pd, jnp.ones((3, 8)), jnp.ones(3))
