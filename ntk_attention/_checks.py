"""Input validation shared by the public functions.

Every check raises ``ValueError`` naming the argument, what was expected and what came, before
any JAX computation starts. Value checks (NaN/inf) run only on concrete arrays: under ``jit`` or
``vmap`` the arguments are tracers and only their shapes can be checked.
"""

from __future__ import annotations

import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np


def is_concrete(x) -> bool:
    """True when ``x`` holds values (not a tracer inside jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def as_float_array(x, name: str, *, numpy: bool = False):
    """``x`` as a JAX (or, with ``numpy``, NumPy) array of a floating dtype; integers, bools and
    objects are refused. NumPy keeps float64 intact when JAX's x64 mode is off."""
    if isinstance(x, (list, tuple)) or np.isscalar(x):
        try:
            x = np.asarray(x)
        except (TypeError, ValueError):  # ragged nested lists
            raise ValueError(
                f"{name}: expected an array, got a {type(x).__name__} numpy cannot convert to one "
                f"(rows of different lengths?)"
            ) from None
    if not hasattr(x, "dtype") or not hasattr(x, "shape"):
        raise ValueError(f"{name}: expected an array, got {type(x).__name__}")
    try:
        floating = jnp.issubdtype(x.dtype, jnp.floating)
    except TypeError:
        floating = False
    if not floating:
        raise ValueError(
            f"{name}: expected a floating-point array (float32 or float64), got dtype {x.dtype}; "
            f"cast it explicitly, e.g. {name}.astype(jnp.float32)"
        )
    if numpy:
        return np.asarray(x)
    target = jax.dtypes.canonicalize_dtype(x.dtype)
    if target != x.dtype and is_concrete(x):  # float64 narrowed to float32: JAX's x64 mode is off
        big = float(np.max(np.abs(np.asarray(x, np.float64)), initial=0.0))
        if big > float(jnp.finfo(target).max):
            raise ValueError(
                f"{name}: values up to {big:.3g} do not fit {target}, the dtype JAX uses for "
                f"{x.dtype} input while x64 mode is off (enable it with "
                f"jax.config.update('jax_enable_x64', True), or rescale)"
            )
    return jnp.asarray(x)


def check_finite(x, name: str) -> None:
    """Refuse NaN and inf in a concrete array, naming the first offending index."""
    if not is_concrete(x):
        return
    arr = np.asarray(x)
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name}: expected finite values, got {arr[idx]} at index {idx} "
            f"({int(bad.sum())} non-finite entries)"
        )


def check_windows(X, name: str = "X", *, numpy: bool = False):
    """Validate a data set of windows ``X`` of shape (n, d) with n >= 1 and d >= 2."""
    X = as_float_array(X, name, numpy=numpy)
    if X.ndim != 2:
        raise ValueError(
            f"{name}: expected a 2-D array of windows (n, d), got shape {tuple(X.shape)}"
        )
    n, d = X.shape
    if n < 1:
        raise ValueError(
            f"{name}: expected at least one window (n >= 1), got shape {tuple(X.shape)}"
        )
    if d < 2:
        raise ValueError(
            f"{name}: expected window length d >= 2, got d = {d} (shape {tuple(X.shape)})"
        )
    check_finite(X, name)
    return X


def check_targets(y, n: int, name: str = "y"):
    """Validate targets ``y`` of shape (n,)."""
    y = as_float_array(y, name)
    if y.shape != (n,):
        raise ValueError(
            f"{name}: expected shape ({n},) to match the {n} windows, got shape {tuple(y.shape)}"
        )
    check_finite(y, name)
    return y


def check_pair(X, X2, name: str = "X2", *, numpy: bool = False):
    """Validate a second data set whose windows have the same length as ``X``."""
    X2 = check_windows(X2, name, numpy=numpy)
    if X2.shape[1] != X.shape[1]:
        raise ValueError(
            f"{name}: expected windows of length d = {X.shape[1]} like X, got d = {X2.shape[1]}"
        )
    return X2


def check_positive(
    value, name: str, *, integer: bool = False, zero_ok: bool = False
) -> float | int:
    """A finite, strictly positive scalar (an integer when ``integer``; ``>= 0`` when
    ``zero_ok``)."""
    what = ("non-negative " if zero_ok else "positive ") + ("integer" if integer else "number")
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name}: expected a {what}, got {_short(value)}")
    if integer:
        if not isinstance(value, numbers.Integral):
            raise ValueError(
                f"{name}: expected a {what}, got {_short(value)} ({type(value).__name__})"
            )
        if value < 0 or (value == 0 and not zero_ok) or value > np.iinfo(np.int64).max:
            raise ValueError(f"{name}: expected a {what} below 2**63, got {value}")
        return int(value)
    if not isinstance(value, numbers.Real) and not (
        hasattr(value, "shape") and np.shape(value) == ()
    ):
        raise ValueError(f"{name}: expected a {what}, got {_short(value)}")
    if not is_concrete(value):
        return value
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):  # complex 0-d arrays, ints beyond float range
        raise ValueError(f"{name}: expected a finite {what}, got {_short(value)}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not zero_ok):
        raise ValueError(f"{name}: expected a finite {what}, got {_short(value)}")
    return v


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_key(key, name: str = "key"):
    """A JAX PRNG key: ``jax.random.key(seed)`` (typed, shape ()) or legacy ``PRNGKey``
    (uint32, (2,))."""
    dtype, shape = getattr(key, "dtype", None), getattr(key, "shape", None)
    typed = dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key) and shape == ()
    legacy = dtype == np.uint32 and shape == (2,)
    if not (isinstance(key, (jax.Array, np.ndarray)) and (typed or legacy)):
        raise ValueError(
            f"{name}: expected a PRNG key from jax.random.key(seed), got {_short(key)}"
        )
    return key


def check_dtype(dtype, name: str = "dtype"):
    """A floating dtype (``None``: JAX's default float)."""
    try:
        dt = jnp.dtype(dtype) if dtype is not None else jnp.zeros(()).dtype
    except TypeError:
        raise ValueError(
            f"{name}: expected a floating dtype such as jnp.float32, got {dtype!r}"
        ) from None
    if not jnp.issubdtype(dt, jnp.floating):
        raise ValueError(f"{name}: expected a floating dtype, got {dt}")
    return dt


# ----------------------------------------------------------------------------------------------
# magnitudes: finite inputs whose products would overflow, refused before computing


def max_abs(*arrays) -> float:
    """Largest ``|entry|`` over concrete arrays, in float64 (0.0 for tracers: shapes only)."""
    if not all(is_concrete(a) for a in arrays):
        return 0.0
    return max(float(np.max(np.abs(np.asarray(a, np.float64)), initial=0.0)) for a in arrays)


def score_limit(dtype) -> float:
    r"""Largest attention score :math:`|w_r x_d x_k|` the one-pass softmax evaluates in ``dtype``.

    The shifted score :math:`w_r c_k - w_r c_{ref}` is exactly 0 at the maximum only without
    fused multiply-adds; XLA on CPU contracts it, leaving the rounding error of
    :math:`w_r c_{ref}`, up to :math:`\varepsilon |z|/2`, in the exponent. Keeping that below
    :math:`\log(\text{max})` keeps :math:`e^{z}` finite: the limit is
    :math:`\log(\text{max})/\varepsilon` (3.2e18 in float64, 7.4e8 in float32).
    """
    fi = jnp.finfo(dtype)
    return float(np.log(float(fi.max))) / float(fi.eps)


def check_scale(names: str, big: float, dtype, *, power: int, terms: float, what: str) -> None:
    r"""Refuse ``big`` (a max ``|entry|``) when ``terms * big**power`` overflows ``dtype``.

    ``what`` names the quantity that grows like :math:`|x|^{power}` (e.g. ``H = J J^T``).
    """
    limit = (float(jnp.finfo(dtype).max) / terms) ** (1.0 / power)
    if not big <= limit:
        raise ValueError(
            f"{names}: max |entry| = {big:.3g} is too large for {jnp.dtype(dtype).name}: "
            f"{what} grows like |x|^{power} and overflows above {limit:.3g}; rescale the data"
        )


def check_model_scale(
    w,
    X,
    dtype,
    *,
    power: int,
    terms: float,
    what: str,
    names: str = "params.w, X",
    extra=(),
    kernel: bool = True,
):
    r"""Refuse windows (and ``extra`` ``(name, array)`` pairs, e.g. targets) with
    ``terms * max|x|**power`` above the largest ``dtype`` (see :func:`check_scale`), and attention
    scores :math:`\max_r |w_r| \max_{i,k} |x_{i,d} x_{i,k}|` above :func:`score_limit` (``kernel``:
    the one-pass path) or above the overflow threshold ``max / d``."""
    if not (is_concrete(w) and is_concrete(X)):
        return
    d = X.shape[-1]
    x_names = ", ".join([names.split(", ")[-1], *[n for n, _ in extra]])
    check_scale(
        x_names, max_abs(X, *[a for _, a in extra]), dtype, power=power, terms=terms, what=what
    )
    Xf = np.asarray(X, np.float64)
    score = max_abs(w) * float(np.max(np.abs(Xf * Xf[:, -1:]), initial=0.0))
    limit = score_limit(dtype) if kernel else float(jnp.finfo(dtype).max) / d
    if not score <= limit:
        raise ValueError(
            f"{names}: the largest attention score |w_r x_d x_k| = {score:.3g} "
            f"exceeds {limit:.3g}, "
            f"the most {jnp.dtype(dtype).name} evaluates without overflow in the softmax "
            f"(see ntk_attention._checks.score_limit); rescale X or w"
        )


def check_params(params, name: str = "params"):
    """Validate ``Params(w, a)`` (or a plain tuple ``(w, a)``): two 1-D float arrays of the same
    positive length."""
    if isinstance(params, dict):
        raise ValueError(
            f"{name}: expected Params(w, a) (from ntk_attention.init_params), got a dict with keys "
            f"{_short(list(params))}; pass Params(**{name}) if they are w and a"
        )
    if not isinstance(params, (tuple, list)):
        raise ValueError(f"{name}: expected Params(w, a), got {type(params).__name__}")
    if len(params) != 2:
        raise ValueError(
            f"{name}: expected Params(w, a) (two arrays), got a {type(params).__name__} of "
            f"{len(params)} item{'s' if len(params) != 1 else ''}"
        )
    w, a = params
    w = as_float_array(w, f"{name}.w")
    a = as_float_array(a, f"{name}.a")
    if w.ndim != 1 or w.shape[0] < 1:
        raise ValueError(
            f"{name}.w: expected a 1-D array of width m >= 1, got shape {tuple(w.shape)}"
        )
    if a.shape != w.shape:
        raise ValueError(
            f"{name}.a: expected shape {tuple(w.shape)} like {name}.w, got {tuple(a.shape)}"
        )
    check_finite(w, f"{name}.w")
    check_finite(a, f"{name}.a")
    return w, a
