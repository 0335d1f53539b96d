r"""What C4's run measures: one width × seed sweep at ``[data] n`` (every step recorded), the
Popoviciu constant K, the matrix-Bernstein bound :math:`t_\delta(m)`, the explicit bound on the
weight movement and the float64 error of a computed eigenvalue — the inputs of
:func:`~verification.claims.c4_ntk_stability.check_c4`; and a constructed input whose verdict is
known."""

from __future__ import annotations

import math

import numpy as np

from verification.claims._common import sweep_memory, width_sweep
from verification.claims.c4_ntk_stability._rule import check_c4
from verification.contract import memory_sum
from verification.rules._verdict import HOLDS, Verdict
from verification.training import _bounds as bounds


def weight_bound(loss, steps, *, eta: float, widths, K: float) -> np.ndarray:
    r"""Explicit bound on :math:`\max_r|w_r(t)-w_r(0)|` from the losses at every step.

    Gradient descent on :math:`L = \tfrac12\sum_i r_i^2` (:math:`r = f - y`) moves neuron r by
    :math:`\eta\,\partial L/\partial w_r = \eta\,m^{-1/2} a_r\sum_i x_{i,d}V_r(x_i)r_i` per step
    (docs/theory.md, "Model"). With :math:`0 \le V_r(x_i) \le \mathrm{range}(x_i)^2/4`
    (Popoviciu) and Cauchy–Schwarz,
    :math:`|\partial L/\partial w_r| \le m^{-1/2}\sqrt K\,\|r\|_2 = m^{-1/2}\sqrt K\sqrt{2L}`,
    :math:`K = \sum_i x_{i,d}^2\,\mathrm{range}(x_i)^4/16`, so

    .. math:: \max_r|w_r(t)-w_r(0)| \le \eta\, m^{-1/2}\sqrt K \sum_{s<t}\sqrt{2L(s)}.

    ``loss`` (W, S, R) recorded at ``steps`` (R,) = 0, 1, …, T (every step: the sum needs each
    L(s)); returns the bound (W, S, R).

    >>> weight_bound(np.full((1, 1, 3), 0.5), np.arange(3), eta=0.1, widths=[4], K=4.0).tolist()
    [[[0.0, 0.1, 0.2]]]
    """
    L = np.asarray(loss, np.float64)
    t = np.asarray(steps)
    if L.ndim != 3 or L.shape[-1] != t.size or not np.array_equal(t, np.arange(t.size)):
        raise ValueError(
            "loss, steps: expected losses (W, S, R) at every step 0..R-1, got shape "
            f"{L.shape} at steps {t[:5].tolist()}…"
        )
    if not (math.isfinite(K) and K >= 0):
        raise ValueError(f"K: expected a finite non-negative Popoviciu constant, got {K!r}")
    steps_sum = np.concatenate(
        [np.zeros(L.shape[:-1] + (1,)), np.cumsum(np.sqrt(2 * np.maximum(L, 0))[..., :-1], -1)], -1
    )
    m = np.asarray(widths, np.float64)[:, None, None]
    return eta * np.sqrt(K) / np.sqrt(m) * steps_sum


def measure_c4(section: dict, ctx) -> dict:
    """The keyword arguments of :func:`check_c4` measured at ``[data] n``: the sweep (through
    ``ctx``: step size, memo, divergence records), λ* with its resolution and precision, the
    Bernstein bound widened by the quadrature error of H*, and the weight bound when every step's
    loss was recorded."""
    n = ctx.config["data"]["n"]
    sigma = ctx.config["data"]["sigma"]
    eta = ctx.step_size(section, sizes=[n])
    res = width_sweep(ctx, n, section, f"C4 sweep n={n}", sigma=ctx.sigma(), eta=eta)
    X = np.asarray(ctx.dataset(n).X)
    lam = ctx.lambda_star(n, sigma=sigma)[0]
    K = bounds.popoviciu_constant(X)
    bern = bounds.bernstein_deviation(
        res.widths, K=K, norm=lam.norm + lam.quadrature_error, n=n, delta=section["delta"]
    )
    # H* is known only to its quadrature error
    bern = bern + n * lam.quadrature_error
    eig_err = n * bounds.EPS64 * float(np.abs(res.ntk_initial).max()) * 4
    # the bound sums the loss of every step
    wb = (
        weight_bound(res.loss, res.step, eta=eta, widths=res.widths, K=K)
        if section["record_every"] == 1
        else None
    )
    return dict(
        widths=res.widths,
        seeds=res.seeds,
        h0_dist=res.ntk_infinite_distance,
        ht_change=res.ntk_change.max(axis=-1),
        weight_change=res.max_weight_change,
        weight_bound=wb,
        min_eig=res.ntk_min_eigenvalue.min(axis=-1),
        lam=lam.value,
        lam_resolution=lam.resolution,
        lam_precision=lam.precision,
        bernstein=bern,
        delta=section["delta"],
        alpha=section["alpha"],
        margin=section["margin"],
        violation_margin=section["violation_margin"],
        eig_error=eig_err,
        steps=section["steps"],
        config={"C4": section, "data": ctx.config["data"]},
        seed=ctx.seed,
    )


def run_c4(section: dict, ctx) -> Verdict:
    """C4's verdict: :func:`check_c4` on the sweep, bounds and λ* this run measures."""
    return check_c4(**measure_c4(section, ctx))


def memory_c4(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: the width × seed sweep at ``[data] n`` in blocks of ``seeds_per_block``
    seeds (:func:`verification.contract.sweep_bytes`) and the symmetrised H(t) of every record of a
    block brought to the host (R × runs × n × n)."""
    return memory_sum(*sweep_memory(section, data["n"]))


def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c4` whose verdict is known, and that verdict: distances
    decaying like :math:`m^{-0.5}` (5% scatter, 9 widths × 30 seeds: slope interval within
    −1/2 ± 0.05 ≤ −0.4), weight changes at half their bound, below the Bernstein bound in all 40
    runs per width, and :math:`\lambda_{\min}(H(t)) = 0.8 \ge \lambda/2 = 0.5`: HOLDS."""
    m = 64.0 * 2.0 ** np.arange(9)
    S = 40
    h0 = m[:, None] ** -0.5 * np.exp(0.05 * np.random.default_rng(0).normal(size=(9, S)))
    wc = np.stack([h0 * 3 * k / 4 for k in range(5)], -1)
    return dict(
        widths=m,
        seeds=list(range(S)),
        h0_dist=h0,
        ht_change=h0 / 2,
        weight_change=wc,
        weight_bound=2 * wc + 1e-3 * np.arange(5),
        min_eig=np.full((9, S), 0.8),
        lam=1.0,
        lam_resolution=1e-12,
        bernstein=np.full(9, 100.0),
        delta=0.1,
    ), HOLDS
