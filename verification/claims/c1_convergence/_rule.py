r"""C1's check: from the losses of the trained sizes, the reported sizes and the mechanism's
readings to a :class:`verification.rules._verdict.Verdict`.

Pure: statuses and numbers only, in three kinds of parts. The premise at each trained size: λ
resolved (else both conclusions are VACUOUS). The conclusions — the envelope
:math:`L(t) \le (1-\eta\lambda/2)^t L(0)` and :math:`L(T_{req}) \le \varepsilon` — and the
linearised model's diagnostic each count the failing runs per width, decided as one probability
family (:mod:`verification.claims.c1_convergence._family`); the extended sizes are reported. The
observed law is the mechanism's (:mod:`verification.claims.c1_convergence._observed`). Every
sentence comes from :mod:`verification.claims.c1_convergence._words`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from verification.claims._common import RTOL
from verification.claims.c1_convergence import _words as words
from verification.claims.c1_convergence._family import FamilyRow, decide_family
from verification.claims.c1_convergence._mechanism import MechanismRun
from verification.claims.c1_convergence._observed import observed_law
from verification.rules import envelope_decision, float_floor
from verification.rules._verdict import (
    HOLDS,
    INCONCLUSIVE,
    VACUOUS,
    Part,
    Verdict,
    combine_parts,
)


class EnvelopeRun(NamedTuple):
    """C1 evidence for one data size: losses (W, S, R) at ``steps`` (R,), λ and its resolution,
    B = max|x|, λ_max(H(0)) over runs, max|y| (for the float floor) and how λ was computed."""

    n: int
    lam: float
    lam_resolution: float
    widths: np.ndarray
    seeds: np.ndarray
    steps: np.ndarray
    loss: np.ndarray
    B: float
    lambda_max_h0: float
    y_max: float = 0.0
    lam_precision: str = "float64"


class LinearRun(NamedTuple):
    """The linearised model of the same (width, seed) runs: losses (W, S, K) at times ``t``
    (K,)."""

    n: int
    t: np.ndarray
    loss: np.ndarray


class ExtendedSize(NamedTuple):
    """A size reported by λ and T_req only (not trained): λ ± its error, the step η it is read
    at."""

    n: int
    lam: float
    lam_resolution: float
    precision: str
    eta: float
    B: float


def t_required(lam: float, eta: float, n: int, B: float, eps: float, c_T: float) -> float:
    r""":math:`T_{req} = c_T(\eta\lambda)^{-1}\log(nB^2/\varepsilon)` (``inf`` for λ ≤ 0)."""
    return c_T * math.log(n * B**2 / eps) / (eta * lam) if lam > 0 else math.inf


def _envelope_decrease(eta_lam: float, T: float) -> float:
    r""":math:`1 - (1 - \eta\lambda/2)^T` without cancellation (``expm1``/``log1p``); 1 when
    :math:`\eta\lambda \ge 2`."""
    if eta_lam >= 2:
        return 1.0
    return float(-math.expm1(T * math.log1p(-eta_lam / 2)))


class _Terms(NamedTuple):
    """The check's settings: step, target, failure probability and the rules' levels."""

    eta: float
    eps: float
    delta: float
    c_T: float
    alpha: float
    min_decrease: float
    rtol: float


class _Tally(NamedTuple):
    """What the parts of one check collect, in the order they are reported."""

    parts: list
    measured: dict
    bounds: dict
    intervals: dict
    arrays: dict
    family: list  # of FamilyRow


class _Envelope(NamedTuple):
    """The envelope at one size: its values (W, S, R), the float floor per width, the decision per
    width, the decrease of L(0) it demands, its e-folds over the horizon and those it needs to
    reach the float floor."""

    env: np.ndarray
    floors: list
    decisions: list
    demanded: float
    efolds: float
    need: float


# ------------------------------------------------------------------------------ one trained size


def _record_size(out: _Tally, run: EnvelopeRun, loss, eta: float) -> None:
    n = run.n
    out.measured[f"lambda[n={n}]"] = run.lam
    out.measured[f"lambda_resolution[n={n}]"] = run.lam_resolution
    out.measured[f"final_over_initial_loss[n={n}]"] = [
        float(v) for v in (loss[..., -1] / loss[..., 0]).max(axis=1)
    ]
    out.measured[f"eta_times_lambda_max_H0[n={n}]"] = eta * run.lambda_max_h0
    out.arrays[f"loss_n{n}"], out.arrays[f"steps_n{n}"] = loss, np.asarray(run.steps)


def _unresolved(out: _Tally, run: EnvelopeRun) -> None:
    """The premise unmet: λ not above its resolution, neither conclusion can be read."""
    tag = f"n = {run.n}"
    envelope, target = words.unresolved(run.lam, run.lam_resolution)
    out.parts.append(Part(f"envelope ({tag})", VACUOUS, envelope, why="λ below float64"))
    out.parts.append(Part(f"L(T_req) ≤ ε ({tag})", VACUOUS, target, why="λ below float64"))
    out.bounds[f"T_req[n={run.n}]"] = math.inf


def _envelope(out: _Tally, run: EnvelopeRun, loss, t, terms: _Terms) -> _Envelope:
    r"""The envelope :math:`(1-\eta\lambda_-/2)^t L(0)`, :math:`\lambda_- = \lambda-\rho`, decided
    per width by :func:`verification.rules.envelope_decision`, and its horizon in e-folds."""
    n, W, T = run.n, loss.shape[0], float(t[-1])
    eta, lam_lo = terms.eta, run.lam - run.lam_resolution
    out.intervals[f"lambda[n={n}]"] = [lam_lo, run.lam + run.lam_resolution]
    env = loss[..., :1] * np.power(max(1 - eta * lam_lo / 2, 0.0), t)
    floors = [float_floor(n, int(m), run.B, run.y_max) for m in np.asarray(run.widths)]
    out.bounds[f"float_floor[n={n}]"] = floors
    decs = [
        envelope_decision(
            loss[w][None],
            env[w][None],
            floors[w],
            min_decrease=terms.min_decrease,
            rtol=terms.rtol,
            delta=terms.delta,
            alpha=terms.alpha,
        )
        for w in range(W)
    ]
    out.bounds[f"envelope_decrease_demanded[n={n}]"] = decs[0].demanded
    # horizon: e-folds of the envelope tested, against those it needs to reach the float floor
    efolds = -T * math.log1p(-eta * lam_lo / 2) if eta * lam_lo < 2 else math.inf
    need = max(
        math.log(max(float(np.max(loss[w, :, 0])), floors[w]) / floors[w])
        if floors[w] > 0
        else math.inf
        for w in range(W)
    )
    out.bounds[f"envelope_efolds_tested[n={n}]"] = efolds
    out.bounds[f"envelope_efolds_to_float_floor[n={n}]"] = need
    out.measured[f"max_loss_over_envelope[n={n}]"] = float((loss / np.maximum(env, 1e-300)).max())
    out.measured[f"points_below_float_floor[n={n}]"] = int(sum(d.below_floor for d in decs))
    return _Envelope(env, floors, decs, decs[0].demanded, efolds, need)


def _first_break(run: EnvelopeRun, loss, t, e: _Envelope) -> dict | None:
    first = [(w, d.first_break) for w, d in enumerate(e.decisions) if d.first_break is not None]
    if not first:
        return None
    w, (_, s, r) = first[0]
    return {
        "n": run.n,
        "width": int(np.asarray(run.widths)[w]),
        "seed": int(run.seeds[s]),
        "step": int(t[r]),
        "loss": float(loss[w, s, r]),
        "envelope": float(e.env[w, s, r]),
        "float_floor": e.floors[w],
    }


def _envelope_part(out: _Tally, run: EnvelopeRun, loss, t, e: _Envelope, terms: _Terms) -> None:
    """VACUOUS when the envelope demands less than ``min_decrease`` of L(0); else a family row."""
    name, T = f"envelope (n = {run.n})", float(t[-1])
    head = e.decisions[0]
    if head.status == VACUOUS:
        text = words.envelope_too_weak(head.rule, T, e.demanded, terms.min_decrease)
        out.parts.append(Part(name, VACUOUS, text, why=words.horizon_why(e.efolds)))
        return
    W, S = loss.shape[:2]
    out.parts.append(Part(name, INCONCLUSIVE, ""))  # decided with the family
    below = out.measured[f"points_below_float_floor[n={run.n}]"]
    text = words.envelope_count(T, e.efolds, e.need, e.demanded, below)
    failures = [d.probability.failures[0] for d in e.decisions]
    row = FamilyRow(
        len(out.parts) - 1, run.n, failures, [S] * W, _first_break(run, loss, t, e), text
    )
    out.family.append(row)


def _target_part(out: _Tally, run: EnvelopeRun, loss, t, T_req: float, floor, terms: _Terms):
    r""":math:`L(T_{req}) \le \varepsilon`: VACUOUS with ε below the float ``floor`` or T_req
    beyond the steps run; else a family row over the recorded t ≥ T_req."""
    tag, T, eps = f"n = {run.n}", float(t[-1]), terms.eps
    late = t >= T_req
    if eps < floor:
        text = words.eps_below_floor(eps, floor)
        out.parts.append(Part(f"L(T_req) ≤ ε ({tag})", VACUOUS, text, why="ε below float floor"))
    elif late.any():
        W, S = loss.shape[:2]
        bad = (loss[..., late] > eps).any(axis=-1)
        out.parts.append(Part(f"L(T_req) ≤ ε ({tag})", INCONCLUSIVE, ""))
        case = None
        if bad.any():
            w, s = (int(i) for i in np.argwhere(bad)[0])
            case = {
                "n": run.n,
                "width": int(np.asarray(run.widths)[w]),
                "seed": int(run.seeds[s]),
                "eps": eps,
                "loss_after_T_req": float(loss[w, s, late].max()),
            }
        failures = [int(x) for x in bad.sum(axis=1)]
        text = words.target_count(T_req, T, eps)
        out.family.append(FamilyRow(len(out.parts) - 1, run.n, failures, [S] * W, case, text))
    else:
        factor = T_req / max(T, 1)
        text = words.target_beyond(T_req, terms.c_T, T, factor)
        name = f"L(T_req) ≤ ε, trained ({tag})"
        out.parts.append(Part(name, VACUOUS, text, why=words.beyond_why(factor)))


def _linearised_part(out: _Tally, run: EnvelopeRun, lin: LinearRun, T_req, floor, terms: _Terms):
    r"""The linearised model at :math:`t \approx T_{req}`: a model of training beyond the horizon,
    not training, so never decisive; its non-finite runs are named and left out of the count."""
    n, tag, eps, S = run.n, f"n = {run.n}", terms.eps, np.shape(run.loss)[1]
    widths = np.asarray(run.widths)
    lt, ll = np.asarray(lin.t, np.float64), np.asarray(lin.loss, np.float64)
    nonfinite = ~np.isfinite(ll).all(axis=-1)  # (W, S): m < n can leave the model singular
    j = int(np.argmin(np.abs(lt - T_req)))
    out.arrays[f"lin_t_n{n}"], out.arrays[f"lin_loss_n{n}"] = lt, ll
    out.measured[f"linearised_loss_at_T_req_max[n={n}]"] = [
        float(v) for v in ll[..., j].max(axis=1)
    ]
    maxima = [float(ll[..., i].max()) for i in range(lt.size)]
    out.measured[f"linearised_loss_max[n={n}]"] = {f"{x:.6g}": v for x, v in zip(lt, maxima)}
    bad = (ll[..., j] > eps) & ~nonfinite
    if nonfinite.any():
        w, s = (int(i) for i in np.argwhere(nonfinite)[0])
        counts = [int(x) for x in nonfinite.sum(axis=1)]
        out.measured[f"linearised_nonfinite_runs[n={n}]"] = counts
        text = words.linearised_nonfinite(counts, S, int(widths[w]), int(run.seeds[s]), n)
        name = f"linearised model not finite ({tag})"
        out.parts.append(Part(name, INCONCLUSIVE, text, False, why="non-finite L_lin"))
    name = f"L_lin(T_req) ≤ ε, linearised model ({tag})"
    if eps < floor:
        text = words.linearised_eps_below_floor(eps, floor)
        out.parts.append(Part(name, VACUOUS, text, False, why="ε below float floor"))
        return
    out.parts.append(Part(name, INCONCLUSIVE, "", False))
    if not (S - nonfinite.sum(axis=1) > 0).all():
        return
    case = None
    if bad.any():
        w, s = (int(i) for i in np.argwhere(bad)[0])
        case = {
            "n": n,
            "width": int(widths[w]),
            "seed": int(run.seeds[s]),
            "eps": eps,
            "t": float(lt[j]),
            "linearised_loss": float(ll[w, s, j]),
        }
    failures = [int(x) for x in bad.sum(axis=1)]
    runs = [int(S - x) for x in nonfinite.sum(axis=1)]
    text = words.linearised_count(lt[j], T_req, lt, maxima, eps)
    out.family.append(FamilyRow(len(out.parts) - 1, n, failures, runs, case, text))


def _trained_size(out: _Tally, run: EnvelopeRun, lin: LinearRun | None, terms: _Terms) -> None:
    """The parts of one trained size, in order: envelope, L(T_req) ≤ ε, the linearised model."""
    loss = np.asarray(run.loss, np.float64)
    loss = np.where(np.isnan(loss), np.inf, loss)  # a diverged run breaks every bound
    t = np.asarray(run.steps, np.float64)
    _record_size(out, run, loss, terms.eta)
    if not run.lam > run.lam_resolution:
        _unresolved(out, run)
        return
    e = _envelope(out, run, loss, t, terms)
    _envelope_part(out, run, loss, t, e, terms)
    T_req = t_required(run.lam, terms.eta, run.n, run.B, terms.eps, terms.c_T)
    out.bounds[f"T_req[n={run.n}]"] = T_req
    _target_part(out, run, loss, t, T_req, max(e.floors), terms)
    if lin is not None:
        _linearised_part(out, run, lin, T_req, max(e.floors), terms)


# ------------------------------------------------------------------------------ reported sizes


def _extended_size(out: _Tally, ex: ExtendedSize, runs, terms: _Terms) -> None:
    """A size reported by λ and T_req only: HOLDS when T_req lies within the steps trained, else
    VACUOUS; never decisive."""
    resolved = ex.lam > ex.lam_resolution
    T_req = t_required(ex.lam, ex.eta, ex.n, ex.B, terms.eps, terms.c_T) if resolved else math.inf
    out.bounds[f"T_req[n={ex.n}]"] = T_req
    out.measured[f"lambda[n={ex.n}]"] = ex.lam
    out.measured[f"lambda_resolution[n={ex.n}]"] = ex.lam_resolution
    T = max(float(r.steps[-1]) for r in runs) if runs else 0.0
    reached = T_req <= T
    text = words.extended(ex, T_req, T, T_req / max(T, 1), reached, T_req > 1e15)
    name = f"T_req reached (n = {ex.n}, not trained)"
    out.parts.append(Part(name, HOLDS if reached else VACUOUS, text, False))


def _observed(out: _Tally, mechanism, runs, extended, terms: _Terms, margin, violation_margin):
    """The observed law; the mechanism's parts (non-decisive) and numbers join the tally."""
    parts, measured, intervals, observed = observed_law(
        mechanism,
        runs,
        out.bounds,
        extended,
        eta=terms.eta,
        eps=terms.eps,
        alpha=terms.alpha,
        min_decrease=terms.min_decrease,
        margin=margin,
        violation_margin=violation_margin,
    )
    out.parts.extend(parts)
    out.measured.update(measured)
    out.intervals.update(intervals)
    return observed


# ---------------------------------------------------------------------------------- the check


def check_c1(
    runs: list[EnvelopeRun],
    *,
    eta: float,
    eps: float,
    delta: float,
    c_T: float = 2.0,
    alpha: float = 0.05,
    min_decrease: float = 1e-2,
    linear: list[LinearRun] | None = None,
    extended: list[ExtendedSize] | None = None,
    rtol: float = RTOL,
    config: dict | None = None,
    seed: int | None = None,
    mechanism: list[MechanismRun] | None = None,
    margin: float = 0.1,
    violation_margin: float = 0.1,
) -> Verdict:
    r"""C1 from losses: envelope :math:`L(t) \le (1-\eta\lambda/2)^t L(0)` and
    :math:`L(T_{req}) \le \varepsilon`, each with probability :math:`\ge 1-\delta` per width
    (rules in :mod:`verification.claims.c1_convergence`).

    ``runs``: trained sizes. ``linear`` (optional, matched by n): the linearised model's losses at
    times including :math:`T_{req}`: a diagnostic (it presumes the kernel regime beyond the horizon
    trained, which is what a long run can break); non-finite predictions are named, not counted.
    ``extended``: sizes reported by :math:`T_{req}` only (non-decisive parts). ``mechanism``: the
    kernel-regime readings at a realistic n (:mod:`verification.claims.c1_convergence._mechanism`),
    which decide the ``observed`` verdict with ``margin``/``violation_margin`` of the rate rule.
    Horizon rule: an envelope that no run breaks reads HOLDS only when the horizon's e-folds
    :math:`-T\log(1-\eta\lambda_-/2)` reach :math:`\log(L(0)/L_{floor})` (the envelope falls to the
    float floor); over fewer it is VACUOUS ("horizon k e-folds"). An ``L ≤ ε`` part with ε below
    the float floor is VACUOUS ("ε below float floor").
    The family of :func:`verification.rules.probability_decision` is every decisive (part, width)
    pair of every size: Holm over all of them (:mod:`verification.claims.c1_convergence._family`).
    """
    terms = _Terms(eta, eps, delta, c_T, alpha, min_decrease, rtol)
    out = _Tally([], {"eta": float(eta)}, {}, {}, {}, [])
    linear = {r.n: r for r in (linear or [])}
    for run in runs:
        _trained_size(out, run, linear.get(run.n), terms)
    fam = decide_family(out.parts, out.family, out.bounds, runs, delta=delta, alpha=alpha)
    if fam.upper is not None:
        out.intervals["failure_rate_upper"] = fam.upper
        out.measured["failures_per_part_width"] = fam.failures
    for ex in extended or []:
        _extended_size(out, ex, runs, terms)
    # premises first; unchecked conclusions (horizon, float floor) named, not deciding
    status = combine_parts(out.parts)
    observed = _observed(
        out, mechanism or [], runs, extended or [], terms, margin, violation_margin
    )
    return _verdict(out, status, fam.counterexample, observed, runs, terms, config, seed)


def _verdict(out: _Tally, status, counterexample, observed, runs, terms: _Terms, config, seed):
    """The verdict from what the parts collected, with the explanation and the figure's data."""
    eta = terms.eta
    decreases = [
        _envelope_decrease(eta * r.lam, float(r.steps[-1])) if r.lam > r.lam_resolution else None
        for r in runs
    ]
    return Verdict(
        claim="C1",
        status=status,
        explanation=words.explanation(status, runs, decreases, out.parts, terms.delta, terms.alpha),
        measured=out.measured,
        bounds=out.bounds,
        intervals=out.intervals,
        parts=tuple(out.parts),
        counterexample=counterexample,
        constants={"c_T": terms.c_T},
        tested_range={
            "n": [r.n for r in runs],
            "widths": [int(w) for w in runs[0].widths],
            "seeds": [int(s) for s in runs[0].seeds],
            "steps": int(runs[0].steps[-1]),
        },
        config=config or {"C1": {"eta": eta}},
        seed=seed,
        observed=observed,
        arrays={
            **out.arrays,
            "n_values": np.asarray([r.n for r in runs]),
            "widths": np.asarray(runs[0].widths),
            "lam": np.asarray([r.lam for r in runs]),
            "lam_resolution": np.asarray([r.lam_resolution for r in runs]),
        },
    )
