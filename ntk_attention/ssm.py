r"""The state-space model of the data (seed §2.2): a random stable SSM and its series in two
equivalent forms (:mod:`ntk_attention.data` is the front).

.. math::

    h_{k+1} = A h_k + B u_k \in \mathbb R^N, \qquad u_{k+1} = C^\top h_{k+1},

equivalently :math:`u_k = \sum_{\kappa<k} K_{k-\kappa} u_\kappa + G_k h_1` with
:math:`K_k = C^\top A^{k-1} B` and :math:`G_k = C^\top A^{k-1}` (so :math:`u_1 = C^\top h_1`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ntk_attention import _checks

__all__ = ["SERIES_METHODS", "SSM", "random_stable_ssm", "ssm_series"]


SERIES_METHODS = ("recursive", "convolution")


class SSM(NamedTuple):
    """State-space model matrices: ``A`` (N, N), ``B`` (N,), ``C`` (N,)."""

    A: Float[Array, "N N"]
    B: Float[Array, " N"]
    C: Float[Array, " N"]


def _check_ssm(ssm: SSM) -> SSM:
    try:
        A, B, C = (_checks.as_float_array(t, f"ssm.{n}") for t, n in zip(ssm, "ABC"))
    except (TypeError, ValueError) as err:
        raise ValueError(f"ssm: expected SSM(A, B, C) of float arrays ({err})") from None
    N = B.shape[0] if B.ndim == 1 else -1
    if A.shape != (N, N) or B.shape != (N,) or C.shape != (N,):
        raise ValueError(
            "ssm: expected A (N, N), B (N,), C (N,), "
            f"got {tuple(A.shape)}, {tuple(B.shape)}, {tuple(C.shape)}"
        )
    for t, n in zip((A, B, C), "ABC"):
        _checks.check_finite(t, f"ssm.{n}")
    return SSM(A, B, C)


def random_stable_ssm(key: jax.Array, state_dim: int, *, radius: float = 1.0, dtype=None) -> SSM:
    r"""A random SSM whose closed-loop map :math:`M = A + B C^\top` has :math:`\|M\|_2 \le`
    ``radius``.

    The state evolves as :math:`h_{k+1} = M h_k` (the output is fed back), so stability is a
    property of :math:`M`, not of :math:`A` alone. :math:`M = \rho\, Q\, \mathrm{diag}(s)` with
    :math:`Q` Haar-orthogonal and :math:`s_j \sim U[0.95, 1]`: the series oscillates (its sign
    changes, giving sign-inconsistent windows) and decays slowly; ``radius=1`` is marginally
    stable. :math:`B, C \sim N(0, I/N)`, then :math:`A = M - B C^\top`.
    """
    key = _checks.check_key(key)
    state_dim = _checks.check_positive(state_dim, "state_dim", integer=True)
    radius = _checks.check_positive(radius, "radius")
    dtype = _checks.check_dtype(dtype)
    if radius > float(jnp.finfo(dtype).max) ** 0.5:  # B C^T and A h stay finite
        raise ValueError(
            f"radius: expected at most {float(jnp.finfo(dtype).max) ** 0.5:.3g} for {dtype.name}, "
            f"got {radius!r}"
        )
    kq, ks, kb, kc = jax.random.split(key, 4)
    Q, R = jnp.linalg.qr(jax.random.normal(kq, (state_dim, state_dim), dtype))
    Q = Q * jnp.sign(jnp.diag(R))[None, :]  # Haar measure
    s = jax.random.uniform(ks, (state_dim,), dtype, 0.95, 1.0)
    M = radius * Q * s[None, :]
    B = jax.random.normal(kb, (state_dim,), dtype) / jnp.sqrt(state_dim)
    C = jax.random.normal(kc, (state_dim,), dtype) / jnp.sqrt(state_dim)
    return SSM(M - jnp.outer(B, C), B, C)


def ssm_series(
    ssm: SSM,
    length: int,
    h1: Float[Array, " N"],
    *,
    method: str = "recursive",
) -> Float[Array, " length"]:
    r"""The series :math:`u_1, \dots, u_{length}` started from state :math:`h_1`
    (:math:`u_1 = C^\top h_1`).

    ``method="recursive"`` runs :math:`h_{k+1} = A h_k + B u_k` under :func:`jax.lax.scan`;
    ``method="convolution"`` solves :math:`u_k - \sum_{\kappa<k} K_{k-\kappa} u_\kappa = G_k h_1`,
    a unit lower-triangular Toeplitz system, with :math:`K_k = C^\top A^{k-1} B`,
    :math:`G_k = C^\top A^{k-1}`. The two are independent computations of the same series.
    """
    A, B, C = _check_ssm(ssm)
    length = _checks.check_positive(length, "length", integer=True)
    if method not in SERIES_METHODS:
        raise ValueError(f"method: expected one of {SERIES_METHODS}, got {method!r}")
    h1 = _checks.as_float_array(h1, "h1")
    if h1.shape != B.shape:
        raise ValueError(
            f"h1: expected shape {tuple(B.shape)} (the state dimension), got {tuple(h1.shape)}"
        )
    _checks.check_finite(h1, "h1")
    dtype = jnp.result_type(A, h1)
    A, B, C, h1 = (t.astype(dtype) for t in (A, B, C, h1))
    if method == "recursive":

        def step(h, _):
            u = C @ h
            return A @ h + B * u, u

        _, u = jax.lax.scan(step, h1, None, length=length)
        return _check_series(u, length, "the closed-loop map A + B C^T grows faster than it holds")

    def power(P, _):  # rows C^T A^{k-1}, k = 1..length
        return P @ A, P

    _, G = jax.lax.scan(power, C, None, length=length)  # (length, N): G_k
    K = G @ B  # K_k = C^T A^{k-1} B
    k = jnp.arange(length)
    lag = k[:, None] - k[None, :]  # row k (u_{k+1}), column kappa: K_{lag}
    T = jnp.where(lag >= 1, K[jnp.clip(lag - 1, 0)], 0.0)
    rhs = G @ h1
    u = jax.scipy.linalg.solve_triangular(
        jnp.eye(length, dtype=dtype) - T, rhs, lower=True, unit_diagonal=True
    )
    _check_series(
        u,
        length,
        "the open-loop kernel C^T A^(k-1) B grows faster than it holds; use method='recursive'",
    )
    if _checks.is_concrete(u):
        # forward substitution errs by about eps (|T| |u| + |G h1|): huge when A alone is unstable
        # (rho(A) > 1 is common even for a stable closed loop), while u stays O(1)
        err = float(jnp.finfo(dtype).eps * jnp.max(jnp.abs(T) @ jnp.abs(u) + jnp.abs(rhs)))
        size = float(jnp.max(jnp.abs(u)))
        if err > float(jnp.finfo(dtype).eps) ** 0.5 * max(size, float(jnp.finfo(dtype).tiny)):
            raise ValueError(
                "method: the convolution form loses accuracy here "
                f"(rounding error about {err:.2g} against a series of size {size:.2g}: "
                "the open-loop A has spectral radius > 1, so C^T A^(k-1) B grows "
                f"over length = {length}); use method='recursive'"
            )
    return u


def _check_series(u, length, why):
    """Refuse a series that overflowed its dtype within ``length`` steps (``why``: the cause)."""
    if _checks.is_concrete(u) and not bool(jnp.isfinite(u).all()):
        k = int(jnp.argmin(jnp.isfinite(u)))
        raise ValueError(
            f"ssm: the series overflows {u.dtype} at step {k + 1} of length = {length}: {why}"
        )
    return u
