"""Hypothesis strategies for property tests of the toolkit (and of users' own code).

Every strategy draws *values* for a fixed shape by default (JAX compiles once per shape, so
drawing shapes makes tests slow); pass strategies for ``n``/``d``/``width`` to vary shapes.

>>> from hypothesis import given, settings
>>> @settings(max_examples=5, deadline=None)
... @given(windows(n=4, d=3))
... def test_shape(X):
...     assert X.shape == (4, 3)
>>> test_shape()
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ntk_attention import Params
from ntk_attention.data import random_stable_ssm
from verification.rules._verdict import STATUSES, Part, Verdict

__all__ = ["seeds", "windows", "datasets", "params", "ssms", "verdicts", "json_numbers"]


def _size(x):
    return x if isinstance(x, st.SearchStrategy) else st.just(int(x))


def seeds(max_value: int = 2**31 - 1) -> st.SearchStrategy[int]:
    """Integer seeds for ``jax.random.key``."""
    return st.integers(0, max_value)


def windows(
    n=4, d=5, *, scale: float = 3.0, dtype=np.float64, distinct: bool = False
) -> st.SearchStrategy[np.ndarray]:
    """Windows ``X`` (n, d) with entries in ``[-scale, scale]`` (finite, no subnormals).

    ``n``/``d`` are ints or integer strategies. ``distinct=True`` keeps every window non-constant
    (range >= 1e-3), so that the softmax variance :math:`V` is not identically zero.
    """

    def build(nd):
        n_, d_ = nd
        elements = st.floats(
            -scale,
            scale,
            allow_nan=False,
            allow_infinity=False,
            allow_subnormal=False,
            width=32 if np.dtype(dtype) == np.float32 else 64,
        )
        arr = hnp.arrays(dtype, (n_, d_), elements=elements)
        if distinct:
            arr = arr.filter(lambda X: bool(np.all(X.max(axis=1) - X.min(axis=1) >= 1e-3)))
        return arr

    return st.tuples(_size(n), _size(d)).flatmap(build)


def datasets(
    n=4, d=5, *, scale: float = 3.0, dtype=np.float64
) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """``(X, y)``: windows and targets of matching length."""

    def build(X):
        y = hnp.arrays(
            dtype,
            (X.shape[0],),
            elements=st.floats(
                -scale,
                scale,
                allow_nan=False,
                allow_subnormal=False,
                width=32 if np.dtype(dtype) == np.float32 else 64,
            ),
        )
        return y.map(lambda v: (X, v))

    return windows(n, d, scale=scale, dtype=dtype).flatmap(build)


def params(width=8, *, sigma: float = 1.0, output_signs: str | None = None, dtype=np.float64):
    """:class:`ntk_attention.Params` with hidden weights drawn from ``[-4σ, 4σ]`` and signs ±1.

    ``output_signs`` ``"minus"``/``"plus"`` fixes every :math:`a_r`; ``None`` draws them.
    """

    def build(m):
        w = hnp.arrays(
            dtype,
            (m,),
            elements=st.floats(-4 * sigma, 4 * sigma, allow_nan=False, allow_subnormal=False),
        )
        if output_signs is None:
            a = hnp.arrays(dtype, (m,), elements=st.sampled_from([-1.0, 1.0]))
        else:
            a = st.just(np.full((m,), -1.0 if output_signs == "minus" else 1.0, dtype))
        return st.tuples(w, a).map(lambda wa: Params(jnp.asarray(wa[0]), jnp.asarray(wa[1])))

    return _size(width).flatmap(build)


_RADII = st.floats(0.5, 1.0)


def ssms(state_dim=3, *, radius=_RADII):
    """Random stable SSMs from :func:`ntk_attention.data.random_stable_ssm` (seed and radius
    drawn)."""
    radius = radius if isinstance(radius, st.SearchStrategy) else st.just(float(radius))
    return st.tuples(seeds(), _size(state_dim), radius).map(
        lambda t: random_stable_ssm(jax.random.key(t[0]), t[1], radius=t[2])
    )


def json_numbers() -> st.SearchStrategy:
    """Numbers a verdict may carry, including ±inf and NaN."""
    return st.one_of(st.integers(-(2**53), 2**53), st.floats(allow_nan=True, allow_infinity=True))


_names = st.text("abcdefghijklmnopqrstuvwxyz_[]=0123456789", min_size=1, max_size=12)
_values = st.recursive(
    st.one_of(json_numbers(), st.text(max_size=20), st.booleans(), st.none()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(_names, inner, max_size=4)
    ),
    max_leaves=12,
)


def verdicts() -> st.SearchStrategy[Verdict]:
    """Arbitrary verdicts (numbers, nested lists/dicts, parts, arrays) for serialisation
    properties."""
    arrays = st.dictionaries(
        _names,
        hnp.arrays(
            st.sampled_from([np.float64, np.float32, np.int64, np.bool_]),
            hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
        ),
        max_size=3,
    )
    parts = st.lists(
        st.builds(
            Part,
            name=st.text(max_size=20),
            status=st.sampled_from(STATUSES),
            finding=st.text(max_size=40),
            decisive=st.booleans(),
        ),
        max_size=3,
    )
    return st.builds(
        Verdict,
        claim=st.from_regex(r"C[0-9]{1,2}", fullmatch=True),
        status=st.sampled_from(STATUSES),
        explanation=st.text(max_size=80),
        measured=st.dictionaries(_names, _values, max_size=4),
        bounds=st.dictionaries(_names, _values, max_size=3),
        intervals=st.dictionaries(
            _names, st.lists(json_numbers(), min_size=2, max_size=2), max_size=3
        ),
        tested_range=st.dictionaries(_names, _values, max_size=3),
        config=st.dictionaries(_names, st.dictionaries(_names, _values, max_size=3), max_size=2),
        seed=st.one_of(st.none(), seeds()),
        parts=parts.map(tuple),
        counterexample=st.one_of(st.none(), st.dictionaries(_names, _values, max_size=3)),
        constants=st.dictionaries(_names, st.floats(0.1, 10), max_size=2),
        arrays=arrays,
    )
