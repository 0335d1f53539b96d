"""Fuzzing every public function of ``ntk_attention`` with hostile input.

Random dtypes (float64/32/16, bfloat16), NaN, ±inf, ±1e300, subnormals, empty, integer, boolean,
complex and ragged arrays, wrong ranks and shapes, non-arrays, hostile scalars (0, -1, NaN,
10**400, strings, None, complex): each call must raise a ``ValueError`` naming an argument, or
return a finite result that agrees with an independent long-double reference (or, where none is
cheap, with the mathematical bounds: Popoviciu, convex hull, symmetry, scale equivariance).
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ntk_attention as na
from ntk_attention import data, linear
from tests.docs.scripts import load_script
from tests.hardening.fuzz import (
    ALL_FLOATS,
    FLOATS,
    INTEGERS,
    SCALARS,
    D,
    M,
    N,
    arrays,
    as_ld,
    cast,
    model_tolerance,
    outcome,
    ref_softmax,
)

catalogue = load_script("_reliability_catalogue")

# NTK_FUZZ_EXAMPLES=2000 runs a deep, randomised search (the suite's default is 30, derandomised)
DEEP = os.environ.get("NTK_FUZZ_EXAMPLES")
FUZZ = settings(deadline=None, max_examples=int(DEEP or 30), derandomize=not DEEP)
PARAMS_NAMES = ("params", "params.w", "params.a", "w", "X", "chunk_size")


@st.composite
def params(draw, dtypes=FLOATS):
    """``Params(w, a)``: fuzzed ``w``, signs ``a`` of w's dtype, or a hostile stand-in."""
    w = draw(arrays((M,), dtypes))
    kind = draw(st.sampled_from(("params",) * 6 + ("tuple", "none", "string", "bad_a")))
    if (
        kind in ("params", "tuple")
        and isinstance(w, np.ndarray)
        and w.dtype.kind == "f"
        and w.shape == (M,)
    ):
        a = np.where(np.arange(M) % 2 == 0, 1.0, -1.0).astype(w.dtype)
        return na.Params(w, a) if kind == "params" else (w, a)
    return {"none": None, "string": "ab", "bad_a": na.Params(w, np.ones(M + 1))}.get(
        kind, na.Params(w, w)
    )


def _usable(p):
    """The (w, a) of valid-looking params, cast as the library casts them."""
    w, a = p
    return np.asarray(w), np.asarray(a)


def _reference(p, X):
    """Signs ``a``, the computation dtype, the windows as computed on, the long-double softmax
    (weights, mean, variance) and its error bounds, for valid ``params`` and ``X``."""
    w, a = _usable(p)
    dt = _dtype(w, X)
    wc, Xc = cast(w, dt), cast(X, dt)
    return a, dt, Xc, ref_softmax(wc, Xc), model_tolerance(wc, Xc, dt)


def _dtype(*xs):
    return jnp.result_type(*[jnp.asarray(np.asarray(x)) for x in xs])


@FUZZ
@given(p=params(ALL_FLOATS), X=arrays((N, D), ALL_FLOATS), chunk=st.sampled_from((None, 2, 0, "a")))
def test_moments_family(p, X, chunk):
    """softmax_moments, forward, last_token_mass, mean_attention_mass, attention_weights, jacobian
    against the long-double softmax; outputs always inside their mathematical bounds."""
    names = PARAMS_NAMES
    mom = outcome(
        na.softmax_moments, p[0] if isinstance(p, tuple) else p, X, chunk_size=chunk, names=names
    )
    outs = {
        "forward": outcome(na.forward, p, X, chunk_size=chunk, names=names),
        "mass": outcome(na.last_token_mass, p, X, chunk_size=chunk, names=names),
        "mean_mass": outcome(na.mean_attention_mass, p, X, chunk_size=chunk, names=names),
        "weights": outcome(na.attention_weights, p, X, names=names),
        "jacobian": outcome(na.jacobian, p, X, chunk_size=chunk, names=names),
    }
    if mom is None:
        assert outs["forward"] is None and outs["mass"] is None and outs["jacobian"] is None
        return
    a, dt, Xc, (s, mean, var), (tol_mean, tol_var, tol_s) = _reference(p, X)
    Xl = as_ld(Xc)
    lo, hi = Xl.min(1)[:, None], Xl.max(1)[:, None]
    got_mean, got_var, got_last = (as_ld(t) for t in mom)
    assert (got_mean >= lo - tol_mean).all() and (got_mean <= hi + tol_mean).all()  # convex hull
    assert (got_var >= 0).all() and (got_var <= (hi - lo) ** 2 / 4 + tol_var).all()  # Popoviciu
    assert (np.abs(got_mean - mean) <= tol_mean).all()
    assert (np.abs(got_var - var) <= tol_var).all()
    assert (np.abs(got_last - s[..., -1]) <= tol_s).all()
    tiny = 16 * float(jnp.finfo(dt).tiny)  # XLA on CPU flushes subnormal results to zero
    if outs["weights"] is not None:
        assert (np.abs(as_ld(outs["weights"]) - s) <= tol_s).all()
    if outs["mean_mass"] is not None:
        assert (np.abs(as_ld(outs["mean_mass"]) - s.mean(0)) <= tol_s).all()
    if outs["forward"] is not None:
        ref_f = mean @ as_ld(cast(a, dt)) / np.sqrt(LD_(M))
        abs_a = np.abs(as_ld(cast(a, dt)))  # a is any float vector here, not only signs
        tol_f = (
            tol_mean.max(1) * abs_a.sum() + 4 * D * _eps(dt) * (np.abs(mean) @ abs_a)
        ) / np.sqrt(M)
        assert (np.abs(as_ld(outs["forward"]) - ref_f) <= tol_f + tiny).all()
    if outs["jacobian"] is not None:
        xd = np.abs(Xl[:, -1:])
        ref_J = Xl[:, -1:] * var * as_ld(cast(a, dt))[None, :] / np.sqrt(LD_(M))
        tol_J = xd * tol_var * np.abs(as_ld(cast(a, dt)))[None, :] / np.sqrt(M) + 4 * _eps(
            dt
        ) * np.abs(ref_J)
        assert (np.abs(as_ld(outs["jacobian"]) - ref_J) <= tol_J + tiny).all()


def LD_(x):
    return np.longdouble(x)


def _eps(dt) -> float:
    return float(jnp.finfo(dt).eps)


@FUZZ
@given(
    p=params(),
    X=arrays((N, D)),
    X2=st.one_of(st.none(), arrays((2, D)), arrays((2, D - 1), bad=False)),
    method=st.sampled_from(("closed", "autodiff", "closed", "exact", None)),
)
def test_empirical_ntk(p, X, X2, method):
    """H = J J'^T against the long-double Jacobian, with the error propagated from J's bound."""
    H = outcome(na.empirical_ntk, p, X, X2, method=method, names=PARAMS_NAMES + ("X2", "method"))
    if H is None:
        return
    w, a = _usable(p)
    dt = _dtype(w, X, *(() if X2 is None else (X2,)))
    wc = cast(w, dt)
    jac = []
    for Z in (X, X if X2 is None else X2):
        Zc = cast(Z, dt)
        _, _, var = ref_softmax(wc, Zc)
        _, tol_var, _ = model_tolerance(wc, Zc, dt)
        Zl = as_ld(Zc)
        if method == "autodiff":  # jax.nn.softmax's backward: no centring, error relative to |x|
            tol_var = tol_var + 8 * D * _eps(dt) * np.abs(Zl).max(1, keepdims=True) ** 2
        scale = as_ld(cast(a, dt))[None, :] / np.sqrt(LD_(M))
        J = Zl[:, -1:] * var * scale
        jac.append((J, np.abs(Zl[:, -1:]) * tol_var * np.abs(scale)))
    (J1, e1), (J2, e2) = jac
    ref = J1 @ J2.T
    tol = (
        np.abs(J1) @ e2.T
        + e1 @ np.abs(J2).T
        + e1 @ e2.T
        + 4 * M * _eps(dt) * (np.abs(J1) @ np.abs(J2).T)
    )
    assert (np.abs(as_ld(H) - ref) <= tol + 16 * float(jnp.finfo(dt).tiny)).all()


@FUZZ
@given(
    X=arrays((N, D)),
    X2=st.one_of(st.none(), arrays((2, D), bad=False)),
    sigma=st.sampled_from(SCALARS + (1e-290, 1e-100, 1e30)),
    nodes=st.sampled_from((None, 12, 20, 11, 101, "20", 2**63)),
)
def test_infinite_ntk(X, X2, sigma, nodes):
    """H* finite, PSD within its error estimate, Popoviciu-bounded, and scale-equivariant:
    H*(2X; σ/4) = 64 H*(X; σ) (z = w x_d x_k is unchanged, V scales by 4, x_d by 2)."""
    names = ("X", "X2", "sigma", "nodes", "sigma, X", "sigma, X, X2")
    res = outcome(na.infinite_ntk, X, X2, sigma=sigma, nodes=nodes, return_error=True, names=names)
    if res is None:
        return
    H, err = res.matrix, res.error_estimate
    assert np.isfinite(err) and err >= 0
    Xl = np.asarray(X, np.float64)
    if X2 is None:
        np.testing.assert_array_equal(H, H.T)
        assert np.linalg.eigvalsh(H).min() >= -N * (err + 1e-15 * np.abs(H).max())
        Xq = as_ld(Xl)  # long double: x_d^2 alone may underflow float64
        bound = (np.abs(Xq[:, -1]) * (Xq.max(1) - Xq.min(1)) ** 2 / 4) ** 2
        assert (np.diag(H) >= -err).all() and (np.diag(H) <= bound * (1 + 1e-12) + err).all()
    scaled = outcome(
        na.infinite_ntk,
        2 * Xl,
        None if X2 is None else 2 * np.asarray(X2, np.float64),
        sigma=float(sigma) / 4,
        nodes=nodes,
        names=names,
    )
    if scaled is not None:
        np.testing.assert_allclose(scaled.matrix, 64 * H, rtol=1e-12, atol=64 * err)


@FUZZ
@given(X=arrays((N, D)), w=arrays((7,)))
def test_window_variance(X, w):
    V = outcome(na.window_variance, X, w, names=("X", "w", "w, X"))
    if V is not None:
        _, _, var = ref_softmax(np.asarray(w, np.float64), np.asarray(X, np.float64))
        _, tol_var, _ = model_tolerance(
            np.asarray(w, np.float64), np.asarray(X, np.float64), np.float64
        )
        assert (np.abs(as_ld(V) - var) <= tol_var).all()


@FUZZ
@given(H=st.one_of(arrays((N, N)), arrays((2, 3), bad=False)))
def test_min_eigenvalue(H):
    """λ_min against eigvalsh of the matrix scaled by 2^-8 (exact), and below the smallest
    diagonal."""
    lam = outcome(na.min_eigenvalue, H, names=("H",))
    if lam is not None:
        Hf = np.asarray(H, np.float64)
        S = 0.5 * (Hf * 2.0**-8) + 0.5 * (Hf * 2.0**-8).T
        ref = np.linalg.eigvalsh(S)[0] * 2.0**8
        size = np.abs(Hf).max()
        assert abs(lam - ref) <= 1e-12 * size + 1e-300
        assert lam <= np.diag(S).min() * 2.0**8 + 1e-12 * size


KEYS = (
    jax.random.key(0),
    jax.random.PRNGKey(1),
    "abc",
    3,
    None,
    np.zeros(2, np.uint32),
    np.zeros(3),
)


@FUZZ
@given(
    key=st.sampled_from(KEYS),
    width=st.sampled_from(INTEGERS),
    sigma=st.sampled_from(SCALARS),
    signs=st.sampled_from(("random", "minus", "plus", "both", None, ["minus"])),
    dtype=st.sampled_from(
        (None, np.float32, np.float64, np.float16, jnp.bfloat16, np.int32, "foo", "float32")
    ),
)
def test_init_params(key, width, sigma, signs, dtype):
    names = ("key", "width", "sigma", "output_signs", "dtype")
    p = outcome(
        na.init_params, key, width, sigma=sigma, output_signs=signs, dtype=dtype, names=names
    )
    if p is not None:
        assert p.w.shape == p.a.shape == (width,)
        assert set(np.asarray(p.a, np.float64).tolist()) <= {-1.0, 1.0}
        assert (np.abs(np.asarray(p.w, np.float64)) <= 10 * float(sigma)).all()


@FUZZ
@given(
    key=st.sampled_from(KEYS),
    state_dim=st.sampled_from(INTEGERS),
    radius=st.sampled_from(SCALARS + (3.0,)),
    length=st.sampled_from((1, 7, 400, 0, "7")),
    dtype=st.sampled_from((None, np.float32, "foo")),
)
def test_ssm_series_both_forms(key, state_dim, radius, length, dtype):
    """Recursive and convolution forms agree to the convolution's forward-error estimate, or the
    convolution form refuses because that estimate exceeds sqrt(eps) of the series (found by this
    fuzzer: with rho(A) > 1 it returned O(1e4) garbage for an O(1) series at length 400)."""
    names = ("key", "state_dim", "radius", "dtype", "ssm", "length", "h1", "method")
    ssm = outcome(data.random_stable_ssm, key, state_dim, radius=radius, dtype=dtype, names=names)
    if ssm is None:
        return
    h1 = np.ones(ssm.B.shape, np.asarray(ssm.B).dtype)
    u1 = outcome(data.ssm_series, ssm, length, h1, names=names)
    u2 = outcome(data.ssm_series, ssm, length, h1, method="convolution", names=names)
    if u1 is None:
        return
    # independent float64 forward-error estimate of the convolution form: eps (|T||u| + |G h1|)
    A, B, C = (np.asarray(t, np.float64) for t in ssm)
    G = np.stack([C @ np.linalg.matrix_power(A, k) for k in range(length)])
    K = G @ B
    lag = np.arange(length)[:, None] - np.arange(length)[None, :]
    T = np.where(lag >= 1, K[np.clip(lag - 1, 0, None)], 0.0)
    u = np.asarray(u1, np.float64)
    eps = float(jnp.finfo(np.asarray(u1).dtype).eps)
    est = eps * (np.abs(T) @ np.abs(u) + np.abs(G @ h1.astype(np.float64))).max()
    scale = np.abs(u).max()
    if u2 is None:  # refused: the estimate must show real loss of accuracy
        assert est > 0.1 * eps**0.5 * scale
    else:
        assert np.abs(np.asarray(u2, np.float64) - u).max() <= 16 * est + 16 * eps * length * scale


@FUZZ
@given(
    series=arrays((9,)),
    d=st.sampled_from(INTEGERS + (8, 9)),
    noise=st.sampled_from(SCALARS),
    key=st.sampled_from(KEYS),
    y=arrays((N,)),
    X=arrays((N, D)),
)
def test_windows_and_signs(series, d, noise, key, y, X):
    names = ("series", "d", "noise_std", "key")
    out = outcome(data.next_step_windows, series, d, noise_std=noise, key=key, names=names)
    if out is not None:
        Xw, yw = (np.asarray(t, np.float64) for t in out)
        s = np.asarray(series, np.float64)
        assert Xw.shape == (len(s) - d, d)
        np.testing.assert_array_equal(
            Xw, np.lib.stride_tricks.sliding_window_view(s, d)[: len(s) - d]
        )
        if float(noise) == 0.0:
            np.testing.assert_array_equal(yw, s[d:])
    mask = outcome(data.sign_consistent, X, y, names=("X", "y"))
    if mask is not None:
        np.testing.assert_array_equal(
            mask, np.sign(np.asarray(y, np.float64)) == np.sign(np.asarray(X, np.float64)[:, -1])
        )


@FUZZ
@given(
    w_lin=arrays((D,)),
    X=arrays((N + 3, D)),
    y=arrays((N + 3,)),
    steps=st.sampled_from((1, 50, 0, "5")),
    lr=st.sampled_from(SCALARS + (1e3,)),
)
def test_linear(w_lin, X, y, steps, lr):
    """Residual linear net: forward against long double, least squares no worse than numpy's,
    gradient descent finite or refused naming learning_rate past 2/λ_max(ZᵀZ)."""
    f = outcome(linear.linear_forward, w_lin, X, names=("w_lin", "X", "w_lin, X"))
    if f is not None:
        dt = _dtype(w_lin, X)
        Xl, wl = as_ld(cast(X, dt)), as_ld(cast(w_lin, dt))
        ref = (Xl - Xl[:, -1:]) @ wl + Xl[:, -1]
        tiny = float(jnp.finfo(dt).tiny)  # differences x_k - x_d below it are flushed to zero
        tol = 4 * D * _eps(dt) * (
            (np.abs(Xl) + np.abs(Xl[:, -1:])) @ np.abs(wl) + np.abs(Xl[:, -1])
        ) + 2 * tiny * (1 + np.abs(wl).sum())
        assert (np.abs(as_ld(f) - ref) <= tol).all()
    w = outcome(linear.fit_linear_lstsq, X, y, names=("X", "y", "X, y"))
    if w is not None:
        Xf, yf = np.asarray(X, np.float64), np.asarray(y, np.float64)
        Z, r = Xf[:, :-1] - Xf[:, -1:], yf - Xf[:, -1]
        eps = _eps(np.asarray(w).dtype)
        # numpy's minimum-norm solution with singular values below 4x jnp's cutoff (eps * max(n, d))
        # dropped
        best = np.linalg.norm(Z @ np.linalg.lstsq(Z, r, rcond=4 * eps * max(Z.shape))[0] - r)
        got = np.linalg.norm(Z @ np.asarray(w, np.float64)[:-1] - r)
        wn = np.abs(
            np.asarray(w, np.float64)
        ).sum()  # + entries of Z below the smallest normal read as zero
        tiny = float(jnp.finfo(np.asarray(w).dtype).tiny)
        assert (
            got
            <= best * (1 + 1e3 * eps)
            + 1e3 * eps * (np.linalg.norm(r) + np.abs(Z).max() * wn * N)
            + 4 * tiny * wn * N
        )
    outcome(
        linear.fit_linear_gd,
        X,
        y,
        steps=steps,
        learning_rate=lr,
        names=("X", "y", "X, y", "steps", "learning_rate"),
    )


@settings(FUZZ, max_examples=int(DEEP or 20))
@given(
    p=params(),
    X=arrays((N, D)),
    y=arrays((N,)),
    steps=st.sampled_from((2, 0, 3)),
    lr=st.sampled_from(SCALARS + (1e308,)),
    record_every=st.sampled_from((1, 2)),
    factor=st.sampled_from((1e8, 1.5, 0.0, -1.0, np.nan)),
    optimizer=st.sampled_from((None, None, "adam", optax.adam(1e30))),
)
def test_train(p, X, y, steps, lr, record_every, factor, optimizer):
    """Training ends in a refusal, a finite trajectory, or a divergence it reports: every record
    before ``diverged_step`` finite, L(0) equal to the long-double loss."""
    names = (
        "params",
        "params.w",
        "params.a",
        "X",
        "y",
        "X, y",
        "steps",
        "learning_rate",
        "record_every",
        "divergence_factor",
        "optimizer",
    )
    try:
        traj = na.train(
            p,
            X,
            y,
            steps=steps,
            learning_rate=lr,
            record_every=record_every,
            divergence_factor=factor,
            optimizer=optimizer,
        )
    except ValueError as err:
        assert set(str(err).split(": ", 1)[0].split(", ")) & set(names), str(err)
        return
    k = traj.diverged_step
    stop = len(traj.step) if k < 0 else int(np.searchsorted(np.asarray(traj.step), k))
    for field in (
        "loss",
        "weights",
        "weight_mean",
        "weight_std",
        "max_weight_change",
        "ntk",
        "mean_position_mass",
    ):
        assert np.isfinite(np.asarray(getattr(traj, field), np.float64)[:stop]).all(), field
    if k >= 0:
        return
    a, dt, _, (_, mean, _), (tol_mean, _, _) = _reference(p, X)
    f = mean @ as_ld(cast(a, dt)) / np.sqrt(LD_(M))
    r = f - as_ld(cast(y, dt))
    loss0 = 0.5 * (r * r).sum()
    err = (np.abs(r) * (tol_mean.max(1) * np.sqrt(M) + 4 * _eps(dt) * np.abs(f))).sum() * 2
    assert abs(as_ld(traj.loss[0]) - loss0) <= err + 8 * N * _eps(dt) * loss0 + float(
        jnp.finfo(dt).tiny
    )


def test_float64_input_without_x64_is_refused_not_overflowed():
    """With JAX's x64 mode off, float64 input becomes float32: 1e300 would become inf silently."""
    p = na.init_params(jax.random.key(0), M, dtype=np.float32)
    X = np.random.default_rng(0).standard_normal((N, D))
    with jax.enable_x64(False):
        assert np.isfinite(np.asarray(na.forward(p, X))).all()
        X[1, 2] = 1e300
        with pytest.raises(
            ValueError, match=r"^X: values up to 1e\+300 do not fit float32, .*x64 mode is off"
        ):
            na.forward(p, X)


ARGUMENT_NAMES = {
    "X",
    "X2",
    "y",
    "w",
    "params",
    "params.w",
    "params.a",
    "sigma",
    "nodes",
    "H",
    "key",
    "dtype",
    "learning_rate",
    "method",
    "ssm",
    "noise_std",
    "w_lin",
    "series",
    "d",
    "length",
    "width",
}


@pytest.mark.parametrize("index", range(len(catalogue._core_cases())))
def test_named_cases(index):
    """The hostile inputs listed in docs/reliability.md: a ValueError naming an argument, or
    finite."""
    _, _, thunk = catalogue._core_cases()[index]
    result = catalogue.core_outcome(thunk)
    assert result != "NON-FINITE result"
    if result.startswith("ValueError: "):
        head = result[len("ValueError: ") :].split(": ", 1)[0]
        assert set(head.split(", ")) & ARGUMENT_NAMES, result
