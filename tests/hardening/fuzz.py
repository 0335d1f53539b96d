"""Hostile-input strategies and exact references shared by the hardening tests.

Every fuzzed call must end in one of two ways: a ``ValueError`` whose message starts with the
name of an argument (``"X: ..."``, ``"params.w, X: ..."``), or a finite result. :func:`outcome`
enforces that; any other exception type escapes and fails the test.

References are computed in ``np.longdouble`` (x87 extended precision on x86-64: exponent range
to 1e4932), so they do not overflow where the tested dtype would.
"""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

LD = np.longdouble
N, D, M = 3, 4, 5  # fixed shapes: every new shape compiles

FLOATS = (np.float64, np.float32)
ALL_FLOATS = FLOATS + (np.float16, jnp.bfloat16)
SPECIAL = (
    0.0,
    -0.0,
    1e-300,
    -1e-300,
    5e-324,
    1e-40,
    1e300,
    -1e300,
    1e154,
    1e51,
    1e20,
    3.4e38,
    1e10,
    1e5,
    65504.0,
    math.nan,
    math.inf,
    -math.inf,
)
BAD_ARRAYS = ("empty", "int", "bool", "complex", "string", "none", "ragged", "ndim", "scalar")
GOOD_CONTAINERS = ("list", "jax")

# scalar arguments: valid ones first, then hostile ones
SCALARS = (
    0.1,
    1.0,
    np.float32(2.0),
    1e-300,
    1e300,
    0.0,
    -1.0,
    math.nan,
    math.inf,
    10**400,
    "1",
    None,
    True,
    1 + 1j,
)
INTEGERS = (1, 2, 3, np.int64(4), 0, -1, 2**63, 10**400, 1.5, "3", None, True)


@st.composite
def arrays(draw, shape, dtypes=FLOATS, bad=True):
    """An array of ``shape`` (or, with ``bad``, sometimes a hostile stand-in for one).

    Values: standard normals times ``10**e`` with ``e`` anywhere from -320 to 308 (integer, or real
    in [-40, 40] to land near the overflow limits), plus up to two
    entries from :data:`SPECIAL` (NaN, inf, ±1e300, subnormals ...), cast to a drawn dtype.
    """
    kind = draw(st.sampled_from(("values",) * 8 + GOOD_CONTAINERS + (BAD_ARRAYS if bad else ())))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    exponent = draw(st.one_of(st.integers(-2, 2), st.integers(-320, 308), st.floats(-40, 40)))
    with np.errstate(over="ignore", under="ignore"):
        x = rng.standard_normal(shape) * np.float64(10.0) ** exponent
    flat = x.reshape(-1)
    for _ in range(draw(st.integers(0, 2)) if flat.size else 0):
        flat[draw(st.integers(0, flat.size - 1))] = draw(st.sampled_from(SPECIAL))
    dtype = draw(st.sampled_from(dtypes))
    with np.errstate(over="ignore", under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = x.astype(dtype)
    return {
        "values": lambda: x,
        "list": lambda: x.astype(np.float64).tolist(),
        "jax": lambda: jnp.asarray(x),
        "empty": lambda: np.zeros((0,) + tuple(shape[1:])),
        "int": lambda: rng.integers(-5, 5, shape),
        "bool": lambda: np.ones(shape, bool),
        "complex": lambda: x.astype(np.complex128) + 1j,
        "string": lambda: "abc",
        "none": lambda: None,
        "ragged": lambda: [[1.0, 2.0], [1.0]],
        "ndim": lambda: x.reshape(-1)[:, None, None] if x.ndim != 1 else x[:, None],
        "scalar": lambda: 1.5,
    }[kind]()


def as_ld(x) -> np.ndarray:
    """``x`` (any float dtype, bfloat16 included) in long double."""
    return np.asarray(np.asarray(x).astype(np.float64), LD)


def outcome(fn, *args, names, **kwargs):
    """Call ``fn``; ``None`` when it refused with a ValueError naming one of ``names``, else the
    result, asserted finite in every floating leaf."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = fn(*args, **kwargs)
    except ValueError as err:
        head = str(err).split(": ", 1)[0]
        assert set(head.split(", ")) & set(names), (
            f"message does not start with an argument name: {err}"
        )
        assert "\n" not in str(err)
        return None
    for leaf in jax.tree.leaves(out):
        arr = np.asarray(leaf)
        if arr.dtype.kind == "f" or arr.dtype == jnp.bfloat16:
            assert np.isfinite(arr.astype(np.float64)).all(), (
                f"{fn.__name__} returned non-finite values"
            )
    return out


def flush(x) -> np.ndarray:
    """``x`` with its subnormal entries set to zero, as XLA on CPU reads them
    (denormals-are-zero)."""
    x = np.asarray(x)
    tiny = float(jnp.finfo(x.dtype).tiny)
    return np.where(np.abs(x.astype(np.float64)) < tiny, np.zeros((), x.dtype), x)


def cast(x, dtype) -> np.ndarray:
    """What the library computes on: ``x`` read with subnormals as zero, then cast to ``dtype``."""
    return flush(flush(np.asarray(x)).astype(np.float64).astype(dtype))


def ref_softmax(w, X):
    """Softmax weights ``s[i, r, k]`` of :math:`z = w_r x_{i,d} x_{i,k}`, mean and variance, in long
    double."""
    w, X = as_ld(w), as_ld(X)
    z = w[None, :, None] * (X * X[:, -1:])[:, None, :]
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    s = e / e.sum(axis=-1, keepdims=True)
    mean = (s * X[:, None, :]).sum(-1)
    var = (s * (X[:, None, :] - mean[..., None]) ** 2).sum(-1)
    return s, mean, var


def model_tolerance(w, X, dtype):
    """Error bounds (mean, variance, softmax weight) for the one-pass moments in ``dtype``.

    A score :math:`z = w x_d x_k` carries rounding error up to about ``4 eps S`` (S the largest
    score); the softmax weights then err by a factor :math:`e^{\\pm 2\\delta}`, the mean by that
    times the window's range R, the variance by twice that times R² plus the cancellation
    ``eps R²``; ``16 d tiny`` absorbs underflow (subnormals flushed to zero).
    """
    fi = jnp.finfo(dtype)
    eps, tiny = float(fi.eps), float(fi.tiny)
    Xf = np.asarray(X).astype(np.float64)
    score = float(np.abs(np.asarray(w).astype(np.float64)).max(initial=0.0)) * float(
        np.abs(Xf * Xf[:, -1:]).max()
    )
    # + products x_d x_k below the smallest normal number flushed to zero: scores shift by |w| tiny
    delta = (
        8 * eps * score
        + (D + 4) * eps
        + 4 * float(np.abs(np.asarray(w).astype(np.float64)).max(initial=0.0)) * tiny
    )
    rel = math.expm1(2 * delta) if delta < 50 else math.inf
    R = (Xf.max(1) - Xf.min(1))[:, None]
    B = np.abs(Xf).max(1)[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        tol_mean = rel * R + 8 * D * eps * (B + R) + 16 * D * tiny
        tol_var = (2 * rel + 8 * D * eps) * R**2 + 16 * D * tiny
    return (
        np.nan_to_num(tol_mean, nan=np.inf),
        np.nan_to_num(tol_var, nan=np.inf),
        rel + 8 * D * eps,
    )
