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
        x = np.asarray(x)
    if not hasattr(x, "dtype") or not hasattr(x, "shape"):
        raise ValueError(f"{name}: expected an array, got {type(x).__name__}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(
            f"{name}: expected a floating-point array (float32 or float64), got dtype {x.dtype}; "
            f"cast it explicitly, e.g. {name}.astype(jnp.float32)"
        )
    return np.asarray(x) if numpy else jnp.asarray(x)


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
        raise ValueError(f"{name}: expected a 2-D array of windows (n, d), got shape {tuple(X.shape)}")
    n, d = X.shape
    if n < 1:
        raise ValueError(f"{name}: expected at least one window (n >= 1), got shape {tuple(X.shape)}")
    if d < 2:
        raise ValueError(f"{name}: expected window length d >= 2, got d = {d} (shape {tuple(X.shape)})")
    check_finite(X, name)
    return X


def check_targets(y, n: int, name: str = "y"):
    """Validate targets ``y`` of shape (n,)."""
    y = as_float_array(y, name)
    if y.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},) to match the {n} windows, got shape {tuple(y.shape)}")
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


def check_positive(value, name: str, *, integer: bool = False) -> float | int:
    """A finite, strictly positive scalar (an integer when ``integer``)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name}: expected a positive {'integer' if integer else 'number'}, got {value!r}")
    if integer:
        if not isinstance(value, numbers.Integral):
            raise ValueError(f"{name}: expected a positive integer, got {value!r} ({type(value).__name__})")
        if value <= 0:
            raise ValueError(f"{name}: expected a positive integer, got {value}")
        return int(value)
    if not isinstance(value, numbers.Real) and not (hasattr(value, "shape") and np.shape(value) == ()):
        raise ValueError(f"{name}: expected a positive number, got {value!r}")
    if not is_concrete(value):
        return value
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name}: expected a finite positive number, got {value!r}")
    return v


def check_params(params, name: str = "params"):
    """Validate ``Params(w, a)``: two 1-D float arrays of the same positive length."""
    try:
        w, a = params
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected Params(w, a), got {type(params).__name__}") from None
    w = as_float_array(w, f"{name}.w")
    a = as_float_array(a, f"{name}.a")
    if w.ndim != 1 or w.shape[0] < 1:
        raise ValueError(f"{name}.w: expected a 1-D array of width m >= 1, got shape {tuple(w.shape)}")
    if a.shape != w.shape:
        raise ValueError(f"{name}.a: expected shape {tuple(w.shape)} like {name}.w, got {tuple(a.shape)}")
    check_finite(w, f"{name}.w")
    check_finite(a, f"{name}.a")
    return w, a
