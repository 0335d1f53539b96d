r"""The infinite-width NTK :math:`H^*` (adaptive quadrature with an error estimate, a fixed-order
traceable rule, and extended precision where float64 cannot resolve :math:`\lambda_{\min}`).

.. math::

    H^*_{ij} = x_{i,d} x_{j,d}\, \mathbb E_{w\sim N(0,\sigma^2)}[V(x_i; w) V(x_j; w)],

with :math:`V` the softmax-weighted variance of the window (:mod:`ntk_attention.model`); the
finite-width :math:`H(t)` is :mod:`ntk_attention.ntk`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import numpy as np
from jaxtyping import Array, Float

from ntk_attention import _checks
from ntk_attention.quadrature import infinite_ntk_fixed

__all__ = [
    "infinite_ntk",
    "InfiniteNTK",
    "window_variance",
    "infinite_ntk_mp",
    "InfiniteNTKExtended",
]


def window_variance(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    r""":math:`V(x_i; w_q)` for every window i and weight q, float64 numpy, shape (n, Q).

    Two-pass and max-shifted: :math:`V = \sum_k s_k (x_k - \mu)^2`, an independent reference
    for the fast path (memory ``n * Q * d``; chunk Q yourself for large inputs).
    """
    X = _checks.check_windows(X, numpy=True).astype(np.float64)
    w = _checks.as_float_array(w, "w", numpy=True).astype(np.float64)
    if w.ndim != 1:
        raise ValueError(f"w: expected a 1-D array of weights (Q,), got shape {w.shape}")
    _checks.check_finite(w, "w")
    _checks.check_model_scale(
        w,
        X,
        np.float64,
        power=2,
        terms=4.0 * X.shape[1],
        names="w, X",
        kernel=False,
        what="the variance sum_k s_k (x_k - mu)^2",
    )
    c = X * X[:, -1:]  # (n, d)
    z = w[None, :, None] * c[:, None, :]
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    s = e / e.sum(-1, keepdims=True)
    mu = np.einsum("iqk,ik->iq", s, X)
    return np.einsum("iqk,iqk->iq", s, (X[:, None, :] - mu[..., None]) ** 2)


class InfiniteNTK(NamedTuple):
    """:math:`H^*` with an a-posteriori error bound (absolute, entrywise max) and the number of
    quadrature nodes of the rule used: what :func:`infinite_ntk` returns, whatever its arguments
    (numpy float64 on the adaptive path; JAX arrays on the fixed path)."""

    matrix: np.ndarray | jax.Array
    error_estimate: float | jax.Array
    nodes: int


def _variance_scales(X: np.ndarray) -> np.ndarray:
    r"""Scale in w on which :math:`V(x; w)` changes: :math:`1/(|x_d| (\max_k x_k - \min_k x_k))`."""
    spread = np.abs(X[:, -1]) * (X.max(axis=1) - X.min(axis=1))
    with np.errstate(divide="ignore"):
        return np.where(spread > 0, 1.0 / spread, np.inf)


_SPAN = 40.0  # quadrature panels reach |w| = _SPAN * sigma


def _quadrature_rule(
    scales: np.ndarray, sigma: float, order: int, ratio: float = 2.0**0.5, span: float = _SPAN
):
    r"""Composite Gauss–Legendre nodes/weights for :math:`\int g(w)\, \phi_\sigma(w)\, dw` on the
    real line.

    Panels on :math:`|w|` have geometric breakpoints (ratio ``ratio``) from well below the
    smallest variance scale up to ``span * sigma`` (the Gaussian tail beyond is < 1e-300), so
    every scale between the narrowest window and the Gaussian width is resolved.
    """
    finite = scales[np.isfinite(scales)]
    smallest = min(float(finite.min()) if finite.size else sigma, sigma)
    lo, hi = smallest / 16.0, span * sigma
    count = int(np.ceil(np.log(hi / lo) / np.log(ratio)))
    breaks = np.concatenate([[0.0], lo * ratio ** np.arange(count + 1)])
    t, wt = np.polynomial.legendre.leggauss(order)
    left, right = breaks[:-1], breaks[1:]
    half = 0.5 * (right - left)
    nodes = (left[:, None] + half[:, None] * (t[None, :] + 1.0)).ravel()
    weights = (half[:, None] * wt[None, :]).ravel()
    nodes = np.concatenate([-nodes[::-1], nodes])
    weights = np.concatenate([weights[::-1], weights])
    weights = weights * np.exp(-0.5 * (nodes / sigma) ** 2) / (sigma * np.sqrt(2.0 * np.pi))
    return nodes, weights


def _gaussian_moment_matrix(X, X2, nodes, weights, block=512):
    """:math:`\\sum_q \\omega_q U_{iq} U'_{jq}` with :math:`U_{iq} = x_{i,d} V(x_i; w_q)`, blocked
    over q."""
    H = np.zeros((X.shape[0], X2.shape[0]))
    for q0 in range(0, nodes.size, block):
        wq, om = nodes[q0 : q0 + block], weights[q0 : q0 + block]
        U = X[:, -1:] * window_variance(X, wq)
        U2 = U if X2 is X else X2[:, -1:] * window_variance(X2, wq)
        H += (U * om[None, :]) @ U2.T
    return H


def infinite_ntk(
    X: Float[Array, "n d"],
    X2: Float[Array, "n2 d"] | None = None,
    *,
    sigma: float = 1.0,
    nodes: int | None = None,
    return_error: bool = True,
    quadrature: str | None = None,
    panels: int = 64,
) -> InfiniteNTK:
    r"""Infinite-width NTK :math:`H^*_{ij} = x_{i,d} x'_{j,d}\,\mathbb E_{w\sim
    N(0,\sigma^2)}[V(x_i;w)V(x'_j;w)]`.

    Computed in float64 numpy (whatever the input dtype: it is a reference quantity) by composite
    Gauss–Legendre quadrature on panels adapted to every window's scale
    :math:`1/(|x_d|\,\mathrm{range}(x))` and to :math:`\sigma` (plain Gauss–Hermite misses the
    narrow bump at :math:`w\approx0` when observations are large or :math:`\sigma` is wide).
    ``nodes`` is the Gauss–Legendre order per panel (default 20). The error estimate is the
    entrywise max difference between the result and the same panels at order ``nodes - 8``,
    plus a round-off floor ``64 eps max|H*|``: the error of the lower-order rule, which bounds
    that of the returned (higher-order) matrix.

    ``quadrature``: ``"adaptive"`` (the default for concrete arrays) is the rule above, host-side
    float64 numpy (its panels depend on the data's values, so it cannot be traced); ``"fixed"``
    (the default under ``jit``/``vmap``/``grad``, i.e. when ``X`` is traced) is the same rule with
    ``panels`` geometric panels, a static count, in JAX and in ``X``'s dtype
    (:mod:`ntk_attention.quadrature`), so ``jax.jit(infinite_ntk)(X)`` works; its error estimate is
    computed the same way and says when ``panels`` is too few.

    Returns :class:`InfiniteNTK` (matrix, error_estimate, nodes) always. ``return_error`` is
    accepted for old call sites and changes nothing.

    >>> import numpy as np
    >>> H = infinite_ntk(np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -1.0]]))
    >>> bool(np.all(np.linalg.eigvalsh(H.matrix) >= -1e-15) and H.error_estimate < 1e-12)
    True
    """
    if quadrature not in (None, "adaptive", "fixed"):
        raise ValueError(f"quadrature: expected 'adaptive', 'fixed' or None, got {quadrature!r}")
    traced = not (
        _checks.is_concrete(X)
        and (X2 is None or _checks.is_concrete(X2))
        and _checks.is_concrete(sigma)
    )
    if quadrature == "fixed" or (quadrature is None and traced):
        return InfiniteNTK(*infinite_ntk_fixed(X, X2, sigma=sigma, nodes=nodes, panels=panels))
    if traced:
        raise ValueError(
            "quadrature: 'adaptive' is host-side (its panels depend on the values); "
            "under jit/vmap/grad use quadrature='fixed' (the default there)"
        )
    X = _checks.check_windows(X, numpy=True).astype(np.float64)
    same = X2 is None
    X2 = X if same else _checks.check_pair(X, X2, numpy=True).astype(np.float64)
    sigma = _checks.check_positive(sigma, "sigma")
    order = 20 if nodes is None else _checks.check_positive(nodes, "nodes", integer=True)
    if not 12 <= order <= 100:  # numpy's leggauss is tested up to degree 100
        raise ValueError(f"nodes: expected a Gauss–Legendre order in [12, 100], got {order}")
    if sigma < 1e-290:
        raise ValueError(
            "sigma: expected >= 1e-290 (smaller puts quadrature nodes among subnormal numbers), "
            f"got {sigma!r}"
        )
    _checks.check_model_scale(
        np.array([_SPAN * sigma]),
        np.concatenate([X, X2]),
        np.float64,
        power=6,
        terms=16.0 * X.shape[1],
        what="H* = x_d x'_d E[V V']",
        names="sigma, X" if same else "sigma, X, X2",
        kernel=False,
    )
    scales = _variance_scales(np.concatenate([X, X2]) if not same else X)
    q_hi, w_hi = _quadrature_rule(scales, sigma, order)
    q_lo, w_lo = _quadrature_rule(scales, sigma, order - 8)
    H = _gaussian_moment_matrix(X, X2, q_hi, w_hi)
    H_lo = _gaussian_moment_matrix(X, X2, q_lo, w_lo)
    if same:
        H = 0.5 * (H + H.T)
    scale = float(np.abs(H).max()) if H.size else 0.0
    err = float(np.abs(H - H_lo).max()) + 64 * np.finfo(np.float64).eps * scale
    return InfiniteNTK(H, err, int(q_hi.size))


# ----------------------------------------------------------------------------------------------
# infinite-width NTK and lambda_min(H*) in extended precision (below float64's resolution)


class InfiniteNTKExtended(NamedTuple):
    r""":math:`H^*` and :math:`\lambda = \lambda_{\min}(H^*)` computed in extended precision, with
    an error bound.

    ``matrix`` (n, n) float64 rounding of the extended-precision :math:`H^*`; ``matrix_mp`` the
    ``mpmath.matrix`` itself; ``eigenvalues`` (n,) ascending, float64 roundings;
    ``lambda_min`` :math:`\lambda`; ``lambda_error`` the bound on :math:`|\hat\lambda - \lambda|`
    (Weyl: the sum of the error terms below, each a bound on
    :math:`\|\Delta H\|_F \ge \|\Delta H\|_2`); ``quadrature_error``
    :math:`\|\hat H_h - \hat H_{2h}\|_F` (the coarser rule's error, an estimate for the finer one
    returned); ``tail_error`` the mass beyond the last node (a bound); ``rounding_error``
    fixed-point and eigen-solver rounding (a bound); ``nodes`` the number of quadrature nodes;
    ``step`` h; ``bits`` the working precision.
    """

    matrix: np.ndarray
    matrix_mp: object
    eigenvalues: np.ndarray
    lambda_min: float
    lambda_error: float
    quadrature_error: float
    tail_error: float
    rounding_error: float
    nodes: int
    step: float
    bits: int


def _fixed_point_columns(X, h, W, sigma, bits):
    r"""Fixed-point (scale :math:`2^{bits}`) :math:`u_i(jh) = x_{i,d} V(x_i; jh)` and weights
    :math:`h\,\phi_\sigma(jh)`.

    :math:`e^{jh(c_k - c_{max})} = (e^{h(c_k - c_{max})})^j`: one exponential per (window,
    position) and sign of w, then a product per node (absolute error <= j units of the last place).
    Returns (U object array (n, Q) of ints, weights list of ints, nodes as floats).
    """
    import mpmath

    P = bits
    one = 1 << P
    n, d = X.shape
    xi = np.array([[int(math.ldexp(float(v), P)) for v in row] for row in X], dtype=object)
    mid = np.array([(max(r) + min(r)) // 2 for r in xi], dtype=object)
    xc = xi - mid[:, None]  # centred: the variance is shift invariant, the sums stay small
    xc2 = xc * xc
    xd = xi[:, -1]
    J = int(math.floor(W / h))
    with mpmath.workprec(P + 40):
        c = [
            [mpmath.mpf(float(X[i, -1])) * mpmath.mpf(float(X[i, k])) for k in range(d)]
            for i in range(n)
        ]
        hm = mpmath.mpf(h)

        def ratio(sign):
            out = np.empty((n, d), dtype=object)
            for i in range(n):
                ref = max(c[i]) if sign > 0 else min(c[i])
                for k in range(d):
                    out[i, k] = int(
                        mpmath.floor(mpmath.ldexp(mpmath.exp(sign * hm * (c[i][k] - ref)), P))
                    )
            return out

        ratios = {1: ratio(1), -1: ratio(-1)}
        norm = 1 / (mpmath.mpf(sigma) * mpmath.sqrt(2 * mpmath.pi))
        weights = {
            j: int(
                mpmath.floor(
                    mpmath.ldexp(
                        hm * norm * mpmath.exp(-((j * hm) ** 2) / (2 * mpmath.mpf(sigma) ** 2)), P
                    )
                )
            )
            for j in range(-J, J + 1)
        }
    cols = {}
    for sign in (1, -1):
        E = np.full((n, d), one, dtype=object)
        R = ratios[sign]
        for j in range(0, J + 1):
            if j:
                E = (E * R) >> P
            s0 = E.sum(axis=1)
            s1 = (E * xc).sum(axis=1)
            s2 = (E * xc2).sum(axis=1)
            V = (s2 * s0 - s1 * s1) // ((s0 * s0) << P)
            cols[sign * j] = (xd * V) >> P
    order = sorted(cols)
    U = np.stack([cols[j] for j in order], axis=1)
    return U, [weights[j] for j in order], [j * h for j in order]


def infinite_ntk_mp(
    X: Float[Array, "n d"],
    *,
    sigma: float = 1.0,
    tol: float | None = None,
    max_halvings: int = 8,
    max_nodes: int = 200_000,
) -> InfiniteNTKExtended:
    r""":math:`H^*` and :math:`\lambda_{\min}(H^*)` in extended precision, for :math:`\lambda` below
    float64's resolution.

    :math:`H^*_{ij} = \int u_i(w) u_j(w)\,\phi_\sigma(w)\,dw`, :math:`u_i(w) = x_{i,d} V(x_i; w)`,
    is a moment matrix of a curve: its :math:`\lambda` can be :math:`10^{-23}` with
    :math:`\|H^*\| \approx 4` (n = 24, d = 8), far below float64's :math:`n\epsilon\|H^*\|`.
    The integrand is analytic in a strip :math:`|\mathrm{Im}\,w| < a`,
    :math:`a \approx \pi/\max_i(|x_{i,d}|\,\mathrm{range}(x_i))` (zeros of the softmax
    denominator) and Gaussian-decaying, so the trapezoidal rule :math:`h\sum_j g(jh)` converges
    like :math:`e^{-2\pi a/h}` (Trefethen & Weideman 2014, SIAM Review 56, Thm 5.1). ``h`` is
    halved until :math:`\|\hat H_h - \hat H_{h/2}\|_F` is below the target (``tol``, default
    :math:`10^{-3}\lambda` from a float64 Gram estimate); every node is computed in fixed-point
    integer arithmetic with ``bits`` chosen from the target (exact sums, one exponential per
    window and position). :math:`\lambda` comes from ``mpmath.eigsy`` at that precision.

    Error bound (Weyl, :math:`|\Delta\lambda| \le \|\Delta H\|_2 \le \|\Delta H\|_F`):
    ``lambda_error = quadrature_error + tail_error + rounding_error``, the first an estimate
    (the coarser rule's error, the returned finer rule's is about its square), the others bounds.

    >>> import numpy as np
    >>> r = infinite_ntk_mp(np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -1.0]]))
    >>> bool(r.lambda_error < r.lambda_min)
    True
    """
    import mpmath

    X = _checks.check_windows(X, numpy=True).astype(np.float64)
    sigma = _checks.check_positive(sigma, "sigma")
    max_halvings = _checks.check_positive(max_halvings, "max_halvings", integer=True)
    max_nodes = _checks.check_positive(max_nodes, "max_nodes", integer=True)
    if tol is not None:
        tol = _checks.check_positive(tol, "tol")
    if not 1e-30 <= sigma <= 1e30:
        raise ValueError(f"sigma: expected a value in [1e-30, 1e30], got {sigma!r}")
    if np.abs(X).max() > 1e6:
        raise ValueError(
            "X: expected |x| <= 1e6 for the extended-precision quadrature, "
            f"got {np.abs(X).max():.3g}"
        )
    n = X.shape[0]
    spread = np.abs(X[:, -1]) * (X.max(axis=1) - X.min(axis=1))
    K = np.abs(X[:, -1]) * (X.max(axis=1) - X.min(axis=1)) ** 2 / 4.0  # Popoviciu: |u_i| <= K_i
    kmax = float(K.max())
    if kmax == 0.0:  # every window constant or x_d = 0: H* = 0 exactly
        z = np.zeros((n, n))
        return InfiniteNTKExtended(
            z, mpmath.zeros(n, n), np.zeros(n), 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0
        )
    if tol is None:
        q, wq = _quadrature_rule(_variance_scales(X), sigma, 20)
        s = np.linalg.svd(
            X[:, -1:] * window_variance(X, q) * np.sqrt(wq)[None, :], compute_uv=False
        )
        # float64 Gram factor: lambda to relative ~ eps sqrt(cond); floored at its own resolution
        tol = 1e-3 * max(float(s[-1]) ** 2, 1e3 * (np.finfo(np.float64).eps * float(s[0])) ** 2)
    a = np.pi / max(float(spread.max()), 1e-300) * 0.5  # half the two-term strip: safety factor 2
    h = min(2 * np.pi * a / max(np.log(kmax * kmax / tol), 1.0), sigma)
    # tail: |jh| > W carries <= K^2 erfc((W - h) / (sigma sqrt 2)) in the sum and the integral
    W = sigma * (np.sqrt(2.0 * max(np.log(4 * kmax * kmax * n / tol), 1.0)) + 2.0) + h
    tail = float(2 * kmax * kmax * n * math.erfc((W - h) / (sigma * math.sqrt(2.0))))
    prev = None
    for level in range(max_halvings + 1):
        step = h / 2**level
        Q = 2 * int(math.floor(W / step)) + 1
        if Q > max_nodes:
            raise ValueError(
                f"max_nodes: the trapezoid rule needs {Q} nodes "
                f"(step {step:.3g} for windows of scale "
                f"1/(|x_d| range) down to {1 / spread.max():.3g} over |w| <= {W:.3g}), "
                f"more than max_nodes = {max_nodes}; raise it, or pass a larger tol"
            )
        bits = int(np.ceil(np.log2(max(kmax, 1.0) ** 2 * n * Q / tol))) + 40
        U, weights, _ = _fixed_point_columns(X, step, W, sigma, bits)
        Hint = (
            U * np.array(weights, dtype=object)[None, :]
        ) @ U.T  # exact integer sums, scale 2^(3 bits)
        with mpmath.workprec(bits):
            Hm = mpmath.matrix(n, n)
            for i in range(n):
                for j in range(i, n):
                    Hm[i, j] = Hm[j, i] = mpmath.ldexp(mpmath.mpf(Hint[i, j]), -3 * bits)
            quad = math.inf if prev is None else float(mpmath.mnorm(Hm - prev, "f"))
            if quad <= tol or level == max_halvings:
                ev = sorted(mpmath.mp.eigsy(Hm, eigvals_only=True))
                norm = max(abs(ev[0]), abs(ev[-1]))
                # fixed point: each u_i has absolute error <= (Q + 4) 2^-bits, each weight 2^-bits;
                # the symmetric eigen-solver works at 2^-bits relative to ||H||
                rounding = float(
                    8 * n * (Q + 4) * (kmax + 1) ** 2 * mpmath.ldexp(1, -bits)
                    + n * norm * mpmath.ldexp(1, 8 - bits)
                )
                matrix = np.array([[float(Hm[i, j]) for j in range(n)] for i in range(n)])
                return InfiniteNTKExtended(
                    matrix,
                    Hm,
                    np.array([float(e) for e in ev]),
                    float(ev[0]),
                    quad + tail + rounding,
                    quad,
                    tail,
                    rounding,
                    Q,
                    float(step),
                    bits,
                )
        prev = Hm
    raise AssertionError("unreachable")
