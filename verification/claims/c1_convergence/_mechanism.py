r"""C1's kernel-regime mechanism at a realistic size: its reading, its measures, its rate rule.

Theorem 5.2's proof runs in the kernel regime: training follows the linearised model
:math:`L_{lin}(t) = \tfrac12\sum_k c_k(0)^2(1-\eta\lambda_k)^{2t}`, :math:`c = U^\top(f_0-y)`,
:math:`H(0) = U\Lambda U^\top` (:mod:`ntk_attention.linearized`), with a gap that vanishes as the
width grows. That is testable at n = 24 although :math:`\lambda_{\min}(H^*)` lies below float64:

* the gap :math:`g = \sup_t |L(t)-L_{lin}(t)|/L(0)` per (width, seed) and its rate in m, decided by
  :func:`verification.rules.rate_decision` (theory: :math:`O(m^{-1/2})`; the per-seed slopes are
  the unit — seeds, the network draws, are independent, neurons of one draw are not), reported
  with the median gap per width and the local slopes between consecutive widths
  (:func:`local_slopes`): a pre-asymptotic stretch shows as slopes that change along m (sunspots:
  ≈ −0.4 over m = 64–1024, ≈ −1 over 1024–16384; hence C1's default widths 256, 1024, 4096);
* the loss along each resolved eigendirection of H(0), :math:`\tfrac12 c_k(t)^2` against
  :math:`\tfrac12 c_k(0)^2(1-\eta\lambda_k)^{2t}` (a direction is resolved when
  :math:`\lambda_k > n\epsilon\lambda_{\max}`, its mode decays by at least ``min_decrease`` over
  the horizon and :math:`\tfrac12 c_k(0)^2` exceeds the float floor).

Training here is full-batch gradient descent :math:`w \leftarrow w - \eta J(w)^\top(f(w)-y)` with
the closed-form Jacobian (:func:`ntk_attention.ntk.jacobian`), all seeds of one width in one
compiled program, recording the residual vector (the sweep records only the loss). The parts'
sentences come from :mod:`verification.claims.c1_convergence._words`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ntk_attention import forward, init_params
from ntk_attention.model import Params
from ntk_attention.ntk import jacobian
from verification.claims.c1_convergence import _words as words
from verification.rules import float_floor, rate_decision
from verification.rules._verdict import HOLDS, INCONCLUSIVE, Part, combine_status

GAP_WIDTHS, GAP_SEEDS = (256, 1024, 4096), 16
"""The kernel-gap rule's calibrated budget (verification.calibration._c1 plants its rows there; a
test keeps the two equal). Widths from 256: below, sunspots' gap is pre-asymptotic (local slope
≈ −0.4 over 64–1024, a plateau near 256–1024; ≈ −1 over 1024–16384), which read at 64–1024 as
INCONCLUSIVE (docs/theory.md, C1 "Observed")."""


class MechanismRun(NamedTuple):
    """Residual evidence of one source: ``loss``/``lin_loss`` (W, S, R) at ``steps`` (R,),
    ``mode_loss``/``mode_pred`` (W, S, R, n) along the eigenvectors of each run's H(0), ``eig``
    (W, S, n)."""

    source: str
    n: int
    eta: float
    widths: np.ndarray
    seeds: np.ndarray
    steps: np.ndarray
    loss: np.ndarray
    lin_loss: np.ndarray
    mode_loss: np.ndarray
    mode_pred: np.ndarray
    eig: np.ndarray
    floor: np.ndarray


def _residual_path(
    w0: Float[Array, " m"],
    a: Float[Array, " m"],
    X: Float[Array, "n d"],
    y: Float[Array, " n"],
    eta: float,
    records: int,
    every: int,
) -> Float[Array, "R n"]:
    r"""Residuals :math:`f(w(t)) - y` at :math:`t = 0, k, \dots, (R-1)k` of
    :math:`w(t+1) = w(t) - \eta J^\top (f - y)`."""

    def res(w):
        return forward(Params(w, a), X) - y

    def step(_, w):
        return w - eta * jacobian(Params(w, a), X).T @ res(w)

    def record(w, _):
        w = jax.lax.fori_loop(0, every, step, w)
        return w, res(w)

    _, rs = jax.lax.scan(record, w0, None, length=records - 1)
    return jnp.concatenate([res(w0)[None], rs])


def gather_mechanism(
    X: Float[np.ndarray, "n d"],
    y: Float[np.ndarray, " n"],
    *,
    source: str,
    widths,
    seeds,
    sigma: float,
    eta: float,
    steps: int,
    record_every: int,
) -> MechanismRun:
    """Train every (width, seed) (nested prefixes of seed s's widest draw, random output signs, as
    the sweep) and decompose its residuals on the eigenvectors of its H(0) = J J^T."""
    X, y = jnp.asarray(X, jnp.float64), jnp.asarray(y, jnp.float64)
    n, R = int(X.shape[0]), steps // record_every + 1
    t = np.arange(R, dtype=np.float64) * record_every
    full = [
        init_params(jax.random.key(int(s)), max(widths), sigma=sigma, output_signs="random")
        for s in seeds
    ]
    W, S = len(widths), len(seeds)
    loss, lin = np.empty((W, S, R)), np.empty((W, S, R))
    mode, pred, eig = np.empty((W, S, R, n)), np.empty((W, S, R, n)), np.empty((W, S, n))
    for wi, m in enumerate(widths):
        w0 = jnp.stack([p.w[: int(m)] for p in full])
        a = jnp.stack([p.a[: int(m)] for p in full])
        r = np.asarray(
            jax.jit(jax.vmap(lambda w_, a_: _residual_path(w_, a_, X, y, eta, R, record_every)))(
                w0, a
            )
        )
        J = np.asarray(jax.vmap(lambda w_, a_: jacobian(Params(w_, a_), X))(w0, a))
        lam, U = np.linalg.eigh(J @ J.transpose(0, 2, 1))
        c = np.einsum("snk,srn->srk", U, r)  # residual coordinates along H(0)'s eigenvectors
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            # squared below: the sign drops out
            g = np.abs(1.0 - eta * lam)[:, None, :] ** t[None, :, None]
            pred[wi] = 0.5 * (c[:, :1, :] * g) ** 2
        mode[wi] = 0.5 * c**2
        loss[wi] = 0.5 * np.sum(r**2, axis=-1)
        lin[wi] = pred[wi].sum(axis=-1)
        eig[wi] = lam
    B, ymax = float(np.abs(np.asarray(X)).max()), float(np.abs(np.asarray(y)).max())
    floor = np.array([float_floor(n, int(m), B, ymax) for m in widths])
    return MechanismRun(
        source,
        n,
        float(eta),
        np.asarray(widths),
        np.asarray(seeds),
        t.astype(np.int64),
        loss,
        lin,
        mode,
        pred,
        eig,
        floor,
    )


def gaps(run: MechanismRun) -> Float[np.ndarray, "W S"]:
    r""":math:`\sup_t |L(t) - L_{lin}(t)| / L(0)` per (width, seed); ``inf`` where the linearised
    model is not finite."""
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.abs(run.loss - run.lin_loss).max(axis=-1) / run.loss[..., 0]
    return np.where(np.isfinite(d), d, np.inf)


def mode_deviation(
    run: MechanismRun, *, min_decrease: float
) -> tuple[Float[np.ndarray, "W S"], Int[np.ndarray, "W S"]]:
    r"""Per (width, seed): the largest relative deviation
    :math:`|\tfrac12c_k(t)^2 - \tfrac12c_k(0)^2(1-\eta\lambda_k)^{2t}| / \tfrac12c_k(0)^2` over t
    and the resolved directions k, and how many directions are resolved."""
    n, T = run.n, float(run.steps[-1])
    lam = run.eig
    lmax = np.abs(lam).max(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        decay = 1.0 - np.abs(1.0 - run.eta * lam) ** (2 * T)
        c0 = run.mode_loss[:, :, 0, :]
        resolved = (
            (lam > n * np.finfo(np.float64).eps * lmax)
            & (decay >= min_decrease)
            & (c0 > run.floor[:, None, None])
            & (np.abs(1.0 - run.eta * lam) < 1)
        )
        dev = np.abs(run.mode_loss - run.mode_pred).max(axis=2) / c0
    dev = np.where(resolved, dev, 0.0).max(axis=-1)
    return dev, resolved.sum(axis=-1)


def local_slopes(widths, medians) -> list[float]:
    r"""Slopes :math:`\Delta\log g/\Delta\log m` of the median gap between consecutive widths: a
    pre-asymptotic reading shows as slopes that change along m (sunspots at n = 24: ≈ −0.4 over
    64–1024, ≈ −1 beyond)."""
    m, g = np.log(np.asarray(widths, np.float64)), np.log(np.asarray(medians, np.float64))
    return [float(v) for v in np.diff(g) / np.diff(m)]


def median_gaps(run: MechanismRun) -> tuple[np.ndarray, np.ndarray]:
    """The widths whose every gap is finite, and the median gap over seeds at each."""
    g = gaps(run)
    keep = np.isfinite(g).all(axis=1)
    return run.widths[keep], np.median(g[keep], axis=1)


def _sup_at(run: MechanismRun, keep) -> tuple[float, float, float]:
    """Median over the kept runs of the step where :math:`|L - L_{lin}|` peaks and of
    :math:`L/L(0)` there; the smallest L there."""
    i = np.abs(run.loss - run.lin_loss)[keep].argmax(axis=-1)
    L = np.take_along_axis(run.loss[keep], i[..., None], axis=-1)[..., 0]
    return (
        float(np.median(np.asarray(run.steps)[i])),
        float(np.median(L / run.loss[keep][..., 0])),
        float(L.min()),
    )


class _Rates(NamedTuple):
    """The rate rule's margins and level, the same for every source."""

    margin: float
    violation_margin: float
    alpha: float


def _rate(widths, values, rates: _Rates):
    return rate_decision(
        widths.astype(np.float64),
        values,
        exponent=-0.5,
        margin=rates.margin,
        violation_margin=rates.violation_margin,
        alpha=rates.alpha,
    )


def _gap_parts(run: MechanismRun, rates: _Rates, measured: dict, intervals: dict):
    """The kernel gap of one source: its parts, its rate decision (``None``: no slope) and the
    widths whose linearised model is finite."""
    tag = f"n = {run.n}, {run.source}"
    g = gaps(run)
    bad = ~np.isfinite(g)
    measured[f"kernel_gap_median[{run.source}]"] = [
        float(np.median(v[np.isfinite(v)])) if np.isfinite(v).any() else math.inf for v in g
    ]
    keep = ~bad.any(axis=1)
    scale = words.mechanism_scale(run)
    parts = []
    if bad.any():
        wi, si = (int(i) for i in np.argwhere(bad)[0])
        text = words.gap_nonfinite(int(bad.sum()), int(run.widths[wi]), int(run.seeds[si]))
        parts.append(
            Part(
                f"linearised model non-finite ({tag})",
                INCONCLUSIVE,
                text,
                False,
                why="non-finite L_lin",
            )
        )
    name = f"kernel regime: sup_t |L − L_lin| / L(0) = O(m^-1/2) ({tag})"
    if keep.sum() < 3 or np.any(g[keep] <= 0):
        parts.append(Part(name, INCONCLUSIVE, words.no_slope(scale), False, why="no slope"))
        return parts, None, keep
    d = _rate(run.widths[keep], g[keep], rates)
    measured[f"kernel_gap_slope[{run.source}]"] = d.slope
    intervals[f"kernel_gap_slope[{run.source}]"] = [d.lo, d.hi]
    meds = np.median(g[keep], axis=1)
    loc = local_slopes(run.widths[keep], meds)
    measured[f"kernel_gap_local_slopes[{run.source}]"] = loc
    t_sup, L_sup, L_low = _sup_at(run, keep)
    fl = float(run.floor.max())
    text = words.gap_finding(
        run.widths[keep], meds, loc, d, scale, (t_sup, L_sup, L_low, fl, L_low > fl)
    )
    parts.append(Part(name, d.status, text, False, why=words.slope_why(d)))
    return parts, d, keep


def _mode_part(run: MechanismRun, keep, rates: _Rates, measured: dict, min_decrease) -> Part:
    """The loss along each resolved eigendirection of H(0) against its linearised decay, over the
    widths ``keep`` whose linearised model is finite."""
    dev, count = mode_deviation(run, min_decrease=min_decrease)
    resolved = [int(np.median(c)) for c in count]
    medians = [float(np.median(v)) for v in dev]
    measured[f"resolved_directions[{run.source}]"] = resolved
    measured[f"mode_deviation_median[{run.source}]"] = medians
    ok = keep & (dev > 0).all(axis=1)
    st, dd = INCONCLUSIVE, None
    if ok.sum() >= 3:
        dd = _rate(run.widths[ok], dev[ok], rates)
        st = dd.status
        measured[f"mode_deviation_slope[{run.source}]"] = dd.slope
    text = words.mode_finding(run, min_decrease, resolved, medians, dd)
    return Part(
        f"loss along each eigendirection of H(0) (n = {run.n}, {run.source})",
        st,
        text,
        False,
        why="" if st == HOLDS else "diagnostic",
    )


def check_mechanism(
    runs: list[MechanismRun],
    *,
    margin: float,
    violation_margin: float,
    alpha: float,
    min_decrease: float,
) -> tuple[list[Part], dict, dict, list]:
    """Parts (non-decisive in the theorem verdict: the mechanism is read as an observed law),
    measured numbers, intervals, and the per-source rate decisions (``None`` where no slope could
    be fitted)."""
    rates = _Rates(margin, violation_margin, alpha)
    parts, measured, intervals, decisions = [], {}, {}, []
    for run in runs:
        gap_parts, d, keep = _gap_parts(run, rates, measured, intervals)
        parts += gap_parts
        decisions.append(d)
        parts.append(_mode_part(run, keep, rates, measured, min_decrease))
    return parts, measured, intervals, decisions


def mechanism_status(decisions) -> str:
    """The mechanism as an observed law over every source: the rate decisions combined
    (VIOLATED > INCONCLUSIVE > HOLDS)."""
    return (
        combine_status([INCONCLUSIVE if d is None else d.status for d in decisions])
        if decisions
        else INCONCLUSIVE
    )
