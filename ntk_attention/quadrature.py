r"""A fixed-order quadrature of the infinite-width NTK in JAX: :math:`H^*` under ``jit``, ``vmap``
and ``grad``.

:func:`ntk_attention.infinite_ntk` has two paths. The **adaptive** one (the default on concrete
arrays) is host-side float64 numpy: its panels and their number depend on the data's values, which a
traced program cannot have. This module is the **fixed** one: the same composite Gauss–Legendre rule
for

.. math::

    H^*_{ij} = x_{i,d} x'_{j,d} \int V(x_i; w) V(x'_j; w)\, \phi_\sigma(w)\, dw,

with a *static* number of panels (``panels``) and nodes per panel (``order``). Only the breakpoints
depend on the data: geometric from :math:`\ell = \min(s_{\min}, \sigma)/16`, :math:`s_{\min}`
the narrowest variance scale :math:`1/\max_i(|x_{i,d}|\,\mathrm{range}(x_i))`, to :math:`40\sigma`
(the Gaussian tail beyond is below 1e-300), on each side of :math:`w = 0`, plus the panel
:math:`[0, \ell]`. The error estimate is the entrywise max difference to the same panels at order
``order - 8`` (the adaptive path's estimate) or, when larger, to order ``order`` on every other
breakpoint (half the panels: what a lower order alone misses when the panels are too wide for the
data, measured), plus :math:`64\,\varepsilon \max|H^*|` (ε of the dtype).
Computation is in the dtype of ``X`` (enable x64 for float64); memory
:math:`O(n \cdot 2\,order \cdot d)` (one panel pair at a time under :func:`jax.lax.scan`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ntk_attention import _checks

__all__ = ["SPAN", "fixed_infinite_ntk", "infinite_ntk_fixed"]

SPAN = 40.0
"""Panels reach :math:`|w| = 40\\sigma` (as the adaptive rule)."""


def _variance(X, w):
    r""":math:`V(x_i; w_q)` (n, Q): max-shifted softmax of :math:`w_q x_{i,d} x_{i,k}`, then the
    weighted variance."""
    z = w[None, :, None] * (X * X[:, -1:])[:, None, :]
    s = jax.nn.softmax(z, axis=-1)
    mu = jnp.einsum("iqk,ik->iq", s, X)
    return jnp.einsum("iqk,iqk->iq", s, (X[:, None, :] - mu[..., None]) ** 2)


def _panel_rule(order: int, dtype):
    t, wt = np.polynomial.legendre.leggauss(order)
    return jnp.asarray(t, dtype), jnp.asarray(wt, dtype)


def _rule_sum(X, X2, left, right, sigma, order: int):
    r""":math:`\sum_q \omega_q U_{iq} U'_{jq}` over Gauss–Legendre panels ``[left, right]`` and
    their mirrors on w < 0."""
    t, wt = _panel_rule(order, X.dtype)
    norm = 1.0 / (sigma * jnp.sqrt(2.0 * jnp.pi).astype(X.dtype))

    def panel(H, lr):
        a, b = lr
        half = 0.5 * (b - a)
        q = a + half * (t + 1.0)
        q = jnp.concatenate([-q, q])
        om = jnp.concatenate([half * wt, half * wt]) * jnp.exp(-0.5 * (q / sigma) ** 2) * norm
        U = X[:, -1:] * _variance(X, q)
        U2 = U if X2 is None else X2[:, -1:] * _variance(X2, q)
        return H + (U * om[None, :]) @ U2.T, None

    zero = jnp.zeros((X.shape[0], X.shape[0] if X2 is None else X2.shape[0]), X.dtype)
    return jax.lax.scan(panel, zero, (left, right))[0]


@functools.partial(
    jax.jit, static_argnames=("order", "panels")
)  # one program per shape, order and panel count
def fixed_infinite_ntk(X, X2, sigma, *, order: int, panels: int):
    """``(H, H_lo, H_half)``: :math:`H^*` by the fixed rule, the same panels at order ``order - 8``,
    and order ``order`` on every other breakpoint (half the panels; module docstring)."""
    dtype = X.dtype
    both = X if X2 is None else jnp.concatenate([X, X2])
    spread = jnp.max(jnp.abs(both[:, -1]) * (both.max(axis=1) - both.min(axis=1)))
    smallest = jnp.where(
        spread > 0, jnp.minimum(1.0 / jnp.where(spread > 0, spread, 1.0), sigma), sigma
    )
    lo, hi = smallest / 16.0, SPAN * sigma
    breaks = jnp.concatenate(
        [jnp.zeros(1, dtype), lo * (hi / lo) ** (jnp.arange(panels, dtype=dtype) / (panels - 1))]
    )
    coarse = jnp.concatenate([breaks[:-1:2], breaks[-1:]])  # ends at hi whatever the parity
    return (
        _rule_sum(X, X2, breaks[:-1], breaks[1:], sigma, order),
        _rule_sum(X, X2, breaks[:-1], breaks[1:], sigma, order - 8),
        _rule_sum(X, X2, coarse[:-1], coarse[1:], sigma, order),
    )


def infinite_ntk_fixed(X, X2=None, *, sigma=1.0, nodes: int | None = None, panels: int = 64):
    r"""``(H*, error_estimate, nodes)`` by the fixed rule (module docstring), in ``X``'s dtype:

    .. math::

        H^*_{ij} \approx x_{i,d} x'_{j,d} \sum_q \omega_q V(x_i; w_q) V(x'_j; w_q),

    with :math:`2 \cdot panels \cdot order` Gauss–Legendre nodes :math:`w_q` and weights
    :math:`\omega_q` (the Gaussian density included); validated arguments, then
    :func:`fixed_infinite_ntk`. What :func:`ntk_attention.infinite_ntk` returns as ``InfiniteNTK``
    when ``quadrature="fixed"``."""
    X = _checks.check_windows(X)
    same = X2 is None
    X2 = None if same else _checks.check_pair(X, X2)
    if _checks.is_concrete(sigma):
        sigma = _checks.check_positive(sigma, "sigma")
    order = 20 if nodes is None else _checks.check_positive(nodes, "nodes", integer=True)
    if not 12 <= order <= 100:
        raise ValueError(f"nodes: expected a Gauss–Legendre order in [12, 100], got {order}")
    panels = _checks.check_positive(panels, "panels", integer=True)
    if (
        not 4 <= panels <= 4096
    ):  # fewer: half the panels is one panel, and the error estimate means nothing
        raise ValueError(f"panels: expected a number of panels in [4, 4096], got {panels}")
    dtype = X.dtype if same else jnp.result_type(X, X2)
    X = X.astype(dtype)
    X2 = None if same else X2.astype(dtype)
    H, H_lo, H_half = fixed_infinite_ntk(
        X, X2, jnp.asarray(sigma, dtype), order=order, panels=panels
    )
    if same:
        H = 0.5 * (H + H.T)
    # a lower order on the same panels misses what both orders miss when the panels are too wide:
    # half the panels catches it
    err = jnp.maximum(jnp.max(jnp.abs(H - H_lo)), jnp.max(jnp.abs(H - H_half))) + 64 * jnp.finfo(
        dtype
    ).eps * jnp.max(jnp.abs(H))
    return H, err, 2 * panels * order
