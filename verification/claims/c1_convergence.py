r"""C1 (Theorem 5.2): the training loss of the two-layer attention network converges linearly.

**Statement.** For :math:`m = \Omega(\mathrm{poly}(\lambda^{-1}, e^{B^2}, e^{D}, n, d))` neurons and a small
enough step η, with probability :math:`\ge 1-\delta` over the initialisation,
:math:`L(T) \le \varepsilon` after :math:`T \ge \Omega((\eta\lambda)^{-1}\log(nB^2/\varepsilon))` steps.

**Reading.** Two statements per width, each "with probability :math:`\ge 1-\delta`" over the seeds:
the proof's envelope :math:`L(t) \le (1-\eta\lambda/2)^t L(0)` at every recorded t, and
:math:`L(T_{req}) \le \varepsilon` at :math:`T_{req} = c_T(\eta\lambda)^{-1}\log(nB^2/\varepsilon)`
(docs/theory.md, "C1"). The default configuration is one where λ is resolved in float64: n = 2
windows with the neuron scale σ = 3 (``C1.sigma``, its own key), η = 0.4 · 2/λ_max(H*) (``eta_mode = 'relative'``),
widths 256 and 1024 × 120 seeds, 800 steps. :math:`T_{req}` lies beyond the steps trained; the linearised (kernel-regime) model,
:func:`ntk_attention.linearized.predict`, at :math:`t = T_{req}` and two decades beyond is a diagnostic
(it presumes the kernel regime beyond the horizon trained; non-finite predictions, m < n, are named and
left out). Sizes in ``extended_sizes`` (default n = 24, where λ lies below float64
resolution) are not trained: λ in extended precision (:func:`verification.training._bounds.lambda_star`,
``extended=True``), their :math:`T_{req}` and how far beyond the steps run it is are reported, not decisive.
The **observed** verdict reads the proof's mechanism at ``mechanism_n`` (default 24) on
``mechanism_sources``: the gap :math:`\sup_t|L-L_{lin}|/L(0)` and its rate in m, and the loss along each
resolved eigendirection of H(0) (:mod:`verification.claims._c1_mechanism`), at widths 256, 1024, 4096
(``mechanism_widths``): on sunspots the gap's local slope flattens to about −0.4 at m = 64–1024 and
steepens to about −1 from m ≈ 1024 (measured to m = 16384), so the rate is read where it has settled.

**Verdict rule** (:func:`check_c1`).

* Envelope: a run breaks it where :math:`L(t) > (1-\eta\lambda_-/2)^t L(0)(1+\mathrm{rtol}) + L_{floor}`
  (:math:`\lambda_- = \lambda-\rho`, :math:`L_{floor}` = :func:`verification.rules.float_floor` of the width:
  a loss at or below rounding is never a break) — :func:`verification.rules.envelope_decision`. An
  envelope demanding a relative decrease :math:`1-(1-\eta\lambda/2)^T` below ``min_decrease``
  (1% of L(0)) is VACUOUS with that number, never HOLDS.
* Per width, the runs failing each part go to :func:`verification.rules.probability_decision`, one
  family over parts × widths: HOLDS when every Clopper–Pearson upper end is ≤ δ (intersection–union),
  VIOLATED when a Holm-adjusted one-sided p-value is ≤ α/2, else INCONCLUSIVE. Calibration in
  docs/calibration.md ("probability" rows): 120 runs per width give 80% power at a true failure
  rate 0.02 with δ = 0.1; fewer runs cannot reach HOLDS (0 failures in 36 runs is the least).
* Horizon: with no break, the envelope reads HOLDS only when its e-folds :math:`-T\log(1-\eta\lambda_-/2)`
  reach :math:`\log(L(0)/L_{floor})`; otherwise VACUOUS "horizon k e-folds" (the default 800 steps: 2.7 of 68).
* ε below the float floor: the ``L ≤ ε`` parts are VACUOUS ("ε below float floor").
* λ unresolved (:math:`\lambda \le \rho`): both parts VACUOUS, with the numbers.
* The theorem's status is :func:`verification.rules._verdict.combine_parts` of the decisive parts.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ntk_attention import init_params
from ntk_attention.linearized import predict
from ntk_attention.model import Params
from ntk_attention.stability import lambda_max
from verification import config as cfg
from verification.claims._c1_mechanism import (
    MechanismRun,
    check_mechanism,
    gather_mechanism,
    observed_c1,
)
from verification.claims._c1_report import T_floor_steps, c1_explanation, plot_c1, summary_c1
from verification.claims._common import (
    ALPHA,
    DELTA,
    ETA_MODE,
    RTOL,
    blocks_of,
    fmt,
    lam_words,
    width_sweep,
)
from verification.contract import (
    Claim,
    StepSize,
    TrainingRun,
    memory_bytes,
    memory_sum,
    sweep_bytes,
)
from verification.data._datasets import make_dataset
from verification.rules import envelope_decision, float_floor, probability_decision
from verification.rules._verdict import (
    HOLDS,
    INCONCLUSIVE,
    VACUOUS,
    VIOLATED,
    Part,
    Verdict,
    combine_parts,
)
from verification.training import _bounds as bounds

# ---------------------------------------------------------------------------------------------
# C1: linear convergence envelope (Theorem 5.2)


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
    """The linearised model of the same (width, seed) runs: losses (W, S, K) at times ``t`` (K,)."""

    n: int
    t: np.ndarray
    loss: np.ndarray


class ExtendedSize(NamedTuple):
    """A size reported by λ and T_req only (not trained): λ ± its error, the step η it is read at."""

    n: int
    lam: float
    lam_resolution: float
    precision: str
    eta: float
    B: float


GAP_WIDTHS, GAP_SEEDS = (256, 1024, 4096), 16
"""The kernel-gap rule's calibrated budget (verification.calibration._c1 plants its rows there; a test keeps the two equal).
Widths from 256: below, sunspots' gap is pre-asymptotic (local slope ≈ −0.4 over 64–1024, a plateau near
256–1024; ≈ −1 over 1024–16384), which read at 64–1024 as INCONCLUSIVE (docs/theory.md, C1 "Observed")."""


def t_required(lam: float, eta: float, n: int, B: float, eps: float, c_T: float) -> float:
    r""":math:`T_{req} = c_T(\eta\lambda)^{-1}\log(nB^2/\varepsilon)` (``inf`` for λ ≤ 0)."""
    return c_T * math.log(n * B**2 / eps) / (eta * lam) if lam > 0 else math.inf


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
    r"""C1 from losses: envelope :math:`L(t) \le (1-\eta\lambda/2)^t L(0)` and :math:`L(T_{req}) \le \varepsilon`,
    each with probability :math:`\ge 1-\delta` per width (rules in the module docstring).

    ``runs``: trained sizes. ``linear`` (optional, matched by n): the linearised model's losses at
    times including :math:`T_{req}`: a diagnostic (it presumes the kernel regime beyond the horizon
    trained, which is what a long run can break); non-finite predictions are named, not counted.
    ``extended``: sizes reported by :math:`T_{req}` only (non-decisive parts). ``mechanism``: the
    kernel-regime readings at a realistic n (:mod:`verification.claims._c1_mechanism`), which decide
    the ``observed`` verdict with ``margin``/``violation_margin`` of the rate rule.
    Horizon rule: an envelope that no run breaks reads HOLDS only when the horizon's e-folds
    :math:`-T\log(1-\eta\lambda_-/2)` reach :math:`\log(L(0)/L_{floor})` (the envelope falls to the
    float floor); over fewer it is VACUOUS ("horizon k e-folds"). An ``L ≤ ε`` part with ε below the
    float floor is VACUOUS ("ε below float floor").
    The family of :func:`probability_decision` is every decisive (part, width) pair of every size:
    Holm over all of them.
    """
    linear = {r.n: r for r in (linear or [])}
    parts, measured, bounds_out, intervals, arrays = [], {"eta": float(eta)}, {}, {}, {}
    family, counter = [], None  # (part index, size, width index, failures, runs, first case)
    for run in runs:
        tag = f"n = {run.n}"
        loss = np.asarray(run.loss, np.float64)
        loss = np.where(np.isnan(loss), np.inf, loss)  # a diverged run breaks every bound
        W, S, R = loss.shape
        widths = np.asarray(run.widths)
        t = np.asarray(run.steps, np.float64)
        T = float(t[-1])
        measured[f"lambda[n={run.n}]"] = run.lam
        measured[f"lambda_resolution[n={run.n}]"] = run.lam_resolution
        measured[f"final_over_initial_loss[n={run.n}]"] = [
            float(v) for v in (loss[..., -1] / loss[..., 0]).max(axis=1)
        ]
        measured[f"eta_times_lambda_max_H0[n={run.n}]"] = eta * run.lambda_max_h0
        arrays[f"loss_n{run.n}"], arrays[f"steps_n{run.n}"] = loss, np.asarray(run.steps)
        if not run.lam > run.lam_resolution:
            words = lam_words(run.lam, run.lam_resolution)
            parts.append(
                Part(
                    f"envelope ({tag})",
                    VACUOUS,
                    f"{words}: the rate 1 - ηλ/2 cannot be told from 1.",
                    why="λ below float64",
                )
            )
            parts.append(
                Part(
                    f"L(T_req) ≤ ε ({tag})",
                    VACUOUS,
                    f"{words}: T_req = c_T (ηλ)^-1 log(nB²/ε) is unbounded.",
                    why="λ below float64",
                )
            )
            bounds_out[f"T_req[n={run.n}]"] = math.inf
            continue
        lam_lo = run.lam - run.lam_resolution
        intervals[f"lambda[n={run.n}]"] = [lam_lo, run.lam + run.lam_resolution]
        env = loss[..., :1] * np.power(max(1 - eta * lam_lo / 2, 0.0), t)
        floors = [float_floor(run.n, int(m), run.B, run.y_max) for m in widths]
        bounds_out[f"float_floor[n={run.n}]"] = floors
        decs = [
            envelope_decision(
                loss[w][None],
                env[w][None],
                floors[w],
                min_decrease=min_decrease,
                rtol=rtol,
                delta=delta,
                alpha=alpha,
            )
            for w in range(W)
        ]
        demanded = decs[0].demanded
        bounds_out[f"envelope_decrease_demanded[n={run.n}]"] = demanded
        # horizon: e-folds of the envelope tested, against those it needs to fall from L(0) to the float floor
        efolds = -T * math.log1p(-eta * lam_lo / 2) if eta * lam_lo < 2 else math.inf
        need = max(
            math.log(max(float(np.max(loss[w, :, 0])), floors[w]) / floors[w])
            if floors[w] > 0
            else math.inf
            for w in range(W)
        )
        bounds_out[f"envelope_efolds_tested[n={run.n}]"] = efolds
        bounds_out[f"envelope_efolds_to_float_floor[n={run.n}]"] = need
        measured[f"max_loss_over_envelope[n={run.n}]"] = float(
            (loss / np.maximum(env, 1e-300)).max()
        )
        measured[f"points_below_float_floor[n={run.n}]"] = int(sum(d.below_floor for d in decs))
        if decs[0].status == VACUOUS:
            parts.append(
                Part(
                    f"envelope ({tag})",
                    VACUOUS,
                    f"{decs[0].rule}: over {int(T)} steps the envelope demands a "
                    f"decrease {demanded:.3g} of L(0) < the documented resolution {min_decrease:g}.",
                    why=f"horizon {efolds:.2g} e-folds",
                )
            )
        else:
            k = [d.probability.failures[0] for d in decs]
            parts.append(
                Part(f"envelope ({tag})", INCONCLUSIVE, "")
            )  # decided with the family below
            first = [(w, d.first_break) for w, d in enumerate(decs) if d.first_break is not None]
            case = None
            if first:
                w, (_, s, r) = first[0]
                case = {
                    "n": run.n,
                    "width": int(widths[w]),
                    "seed": int(run.seeds[s]),
                    "step": int(t[r]),
                    "loss": float(loss[w, s, r]),
                    "envelope": float(env[w, s, r]),
                    "float_floor": floors[w],
                }
            family.append(
                (
                    len(parts) - 1,
                    run.n,
                    k,
                    [S] * W,
                    case,
                    f"envelope over {int(T)} steps = {efolds:.3g} e-folds of (1 − ηλ/2)^t (the float floor is "
                    f"{need:.3g} e-folds below L(0)) demands a decrease {demanded:.3g} of L(0); runs breaking it "
                    f"(beyond rtol and the float floor, {measured[f'points_below_float_floor[n={run.n}]']} "
                    f"points at or below it not counted) per width",
                )
            )
        T_req = t_required(run.lam, eta, run.n, run.B, eps, c_T)
        bounds_out[f"T_req[n={run.n}]"] = T_req
        late = t >= T_req
        lin = linear.get(run.n)
        floor_eps = eps < max(floors)
        if floor_eps:
            parts.append(
                Part(
                    f"L(T_req) ≤ ε ({tag})",
                    VACUOUS,
                    f"ε = {eps:g} lies below the float floor "
                    f"{fmt(max(floors))} (n (ε_64 (√m B + max|y|))², stats.float_floor) at the widest width: "
                    "no computed loss can be shown ≤ ε.",
                    why="ε below float floor",
                )
            )
        elif late.any():
            bad = (loss[..., late] > eps).any(axis=-1)
            parts.append(Part(f"L(T_req) ≤ ε ({tag})", INCONCLUSIVE, ""))
            case = None
            if bad.any():
                w, s = (int(i) for i in np.argwhere(bad)[0])
                case = {
                    "n": run.n,
                    "width": int(widths[w]),
                    "seed": int(run.seeds[s]),
                    "eps": eps,
                    "loss_after_T_req": float(loss[w, s, late].max()),
                }
            family.append(
                (
                    len(parts) - 1,
                    run.n,
                    [int(x) for x in bad.sum(axis=1)],
                    [S] * W,
                    case,
                    f"T_req = {fmt(T_req)} ≤ {int(T)} steps run; runs with L > ε = {eps:g} at some t ≥ T_req per width",
                )
            )
        else:
            parts.append(
                Part(
                    f"L(T_req) ≤ ε, trained ({tag})",
                    VACUOUS,
                    f"T_req = {fmt(T_req)} steps (c_T = {c_T:g}) but {int(T)} were run: beyond reach by a factor "
                    f"{fmt(T_req / max(T, 1))}. The linearised model's L_lin(T_req) is a diagnostic only: it "
                    "presumes the kernel regime beyond the horizon trained.",
                    why=f"T_req {fmt(T_req / max(T, 1))}× horizon",
                )
            )
        if lin is not None:
            lt = np.asarray(lin.t, np.float64)
            ll = np.asarray(lin.loss, np.float64)
            nonfinite = ~np.isfinite(ll).all(
                axis=-1
            )  # (W, S): m < n can leave the linearised model singular
            j = int(np.argmin(np.abs(lt - T_req)))
            arrays[f"lin_t_n{run.n}"], arrays[f"lin_loss_n{run.n}"] = lt, ll
            measured[f"linearised_loss_at_T_req_max[n={run.n}]"] = [
                float(v) for v in ll[..., j].max(axis=1)
            ]
            measured[f"linearised_loss_max[n={run.n}]"] = {
                f"{x:.6g}": float(ll[..., i].max()) for i, x in enumerate(lt)
            }
            bad = (ll[..., j] > eps) & ~nonfinite
            decisive = False  # a model of training beyond the horizon, not training: never decides the theorem
            if nonfinite.any():
                w, s = (int(i) for i in np.argwhere(nonfinite)[0])
                measured[f"linearised_nonfinite_runs[n={run.n}]"] = [
                    int(x) for x in nonfinite.sum(axis=1)
                ]
                parts.append(
                    Part(
                        f"linearised model not finite ({tag})",
                        INCONCLUSIVE,
                        f"L_lin is not finite in {[int(x) for x in nonfinite.sum(axis=1)]} of {S} runs per width "
                        f"(first: m = {int(widths[w])}, seed {int(run.seeds[s])}; m < n = {run.n} leaves H(0) "
                        "singular or a mode unstable): a finding about the linearised model, not a failure of "
                        "the claim; those runs are left out of the count below.",
                        False,
                        why="non-finite L_lin",
                    )
                )
            case = None
            if bad.any():
                w, s = (int(i) for i in np.argwhere(bad)[0])
                case = {
                    "n": run.n,
                    "width": int(widths[w]),
                    "seed": int(run.seeds[s]),
                    "eps": eps,
                    "t": float(lt[j]),
                    "linearised_loss": float(ll[w, s, j]),
                }
            parts.append(
                Part(f"L_lin(T_req) ≤ ε, linearised model ({tag})", INCONCLUSIVE, "", decisive)
            )
            if floor_eps:
                parts[-1] = Part(
                    parts[-1].name,
                    VACUOUS,
                    f"ε = {eps:g} below the float floor {fmt(max(floors))}.",
                    False,
                    why="ε below float floor",
                )
            elif (S - nonfinite.sum(axis=1) > 0).all():
                family.append(
                    (
                        len(parts) - 1,
                        run.n,
                        [int(x) for x in bad.sum(axis=1)],
                        [int(S - x) for x in nonfinite.sum(axis=1)],
                        case,
                        f"linearised model (ntk_attention.linearized.predict, H(0) of each run) at t = {fmt(lt[j])} "
                        f"(T_req = {fmt(T_req)}; max L_lin at t = "
                        + ", ".join(
                            f"{fmt(x)}: {fmt(float(ll[..., i].max()))}" for i, x in enumerate(lt)
                        )
                        + "); runs with "
                        f"L_lin > ε = {eps:g} per width (diagnostic)",
                    )
                )

    # one probability family over every decisive (part, width)
    dec = [f for f in family if parts[f[0]].decisive]
    if dec:
        k = np.array([x for f in dec for x in f[2]], np.int64)
        nr = np.array([x for f in dec for x in f[3]], np.int64)
        pd = probability_decision(k, nr, delta=delta, alpha=alpha, correction="holm")
        intervals["failure_rate_upper"] = list(pd.upper)
        measured["failures_per_part_width"] = list(pd.failures)
        fam_words = f"Holm over {k.size} (part, width) pairs"
    off = 0
    for f in family:
        pi, n_, kk, S_, case, text = f
        sl = slice(off, off + len(kk))
        if parts[pi].decisive:
            up = np.asarray(pd.upper[sl])
            rej = [i - off for i in pd.rejected if off <= i < off + len(kk)]
            padj = np.asarray(pd.p_adjusted[sl])
            off += len(kk)
            if rej:
                st = VIOLATED
                rule = (
                    f"{kk[rej[0]]}/{S_[rej[0]]} runs fail, Holm-adjusted p = {fmt(float(padj[rej[0]]))} ≤ α/2 = {alpha / 2:g} "
                    f"({fam_words})"
                )
                counter = counter or case
            elif np.all(up <= delta):
                st = HOLDS
                rule = f"CP upper ends {', '.join(fmt(float(u)) for u in up)} ≤ δ = {delta:g} (intersection–union, {fam_words})"
            else:
                st = INCONCLUSIVE
                rule = (
                    f"CP upper ends {', '.join(fmt(float(u)) for u in up)}, not all ≤ δ = {delta:g}; no adjusted p ≤ α/2 "
                    f"(min {fmt(float(padj.min()))}; {fam_words})"
                )
        else:
            solo = probability_decision(
                np.asarray(kk, np.int64), np.asarray(S_, np.int64), delta=delta, alpha=alpha
            )
            st, rule = solo.status, solo.rule
        finding = f"{text}: {kk} of {S_}. Rule: probability_decision: {rule}."
        why = {
            VIOLATED: f"{max(kk)} runs fail",
            INCONCLUSIVE: f"{max(kk)} runs fail; CP end > δ",
        }.get(st, "")
        ef, need = (
            bounds_out.get(f"envelope_efolds_tested[n={n_}]"),
            bounds_out.get(f"envelope_efolds_to_float_floor[n={n_}]"),
        )
        if st == HOLDS and parts[pi].name.startswith("envelope") and ef < need:
            st, why = VACUOUS, f"horizon {ef:.2g} e-folds"
            finding += (
                f" Horizon rule: no run breaks it over {ef:.3g} e-folds, but the envelope reaches the float floor "
                f"only after {need:.3g} e-folds ({fmt(T_floor_steps(need, ef, runs, n_))} steps): the slow modes "
                "were not tested (a later break is not excluded), so this part is VACUOUS, not HOLDS."
            )
        parts[pi] = Part(parts[pi].name, st, finding, parts[pi].decisive, why=why)

    for ex in extended or []:
        T_req = (
            t_required(ex.lam, ex.eta, ex.n, ex.B, eps, c_T)
            if ex.lam > ex.lam_resolution
            else math.inf
        )
        bounds_out[f"T_req[n={ex.n}]"] = T_req
        measured[f"lambda[n={ex.n}]"] = ex.lam
        measured[f"lambda_resolution[n={ex.n}]"] = ex.lam_resolution
        T = max(float(r.steps[-1]) for r in runs) if runs else 0.0
        reached = T_req <= T
        parts.append(
            Part(
                f"T_req reached (n = {ex.n}, not trained)",
                HOLDS if reached else VACUOUS,
                f"λ = {fmt(ex.lam)} ± {fmt(ex.lam_resolution)} ({ex.precision}); at η = {fmt(ex.eta)} "
                f"(≤ 1/λ_max(H*)), T_req = c_T (ηλ)^-1 log(nB²/ε) = {fmt(T_req)} steps: "
                + (
                    "within"
                    if reached
                    else f"beyond the {int(T)} steps trained by a factor {fmt(T_req / max(T, 1))}"
                )
                + (
                    " and beyond the linearised predictor's range (t ≤ 1e15)"
                    if T_req > 1e15
                    else ""
                )
                + ". Reported, not decisive.",
                False,
            )
        )
    status = combine_parts(
        parts
    )  # premises first; unchecked conclusions (horizon, float floor) named, not deciding
    mech_parts, mech_measured, mech_intervals, decisions = check_mechanism(
        mechanism or [],
        margin=margin,
        violation_margin=violation_margin,
        alpha=alpha,
        min_decrease=min_decrease,
    )
    parts += mech_parts
    measured.update(mech_measured)
    intervals.update(mech_intervals)
    budget = (
        f"{len(GAP_WIDTHS)} widths {GAP_WIDTHS[0]}–{GAP_WIDTHS[-1]} × {GAP_SEEDS} seeds: power ≥ 0.8 for a gap "
        "∝ m^-1 at the default data's seed scatter (calibration rows 'C1 kernel gap'). A gap exponent near "
        f"−1/2 + Δ = {-0.5 + margin:g} sits on the rule's margin: more seeds do not decide it; read the local "
        "slopes between widths — a slope that steepens at the wide end is pre-asymptotic (sunspots flattens to "
        "≈ −0.4 at m = 64–1024 and reaches ≈ −1 from m ≈ 1024), so wider widths decide it, at a cost ∝ m"
    )
    observed = (
        observed_c1(
            decisions,
            mechanism or [],
            runs,
            bounds_out,
            extended or [],
            eta=eta,
            eps=eps,
            c_T=c_T,
            margin=margin,
            budget=budget,
        )
        if mechanism
        else None
    )
    explanation = c1_explanation(status, runs, parts, eta, delta, alpha)
    return Verdict(
        claim="C1",
        status=status,
        explanation=explanation,
        measured=measured,
        bounds=bounds_out,
        intervals=intervals,
        parts=tuple(parts),
        counterexample=counter,
        constants={"c_T": c_T},
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
            **arrays,
            "n_values": np.asarray([r.n for r in runs]),
            "widths": np.asarray(runs[0].widths),
            "lam": np.asarray([r.lam for r in runs]),
            "lam_resolution": np.asarray([r.lam_resolution for r in runs]),
        },
    )


def _linearised(X, y, *, widths, seeds, sigma: float, eta: float, times) -> np.ndarray:
    """Losses (W, S, K) of the linearised model of each run (nested prefix of seed s's widest draw, as the sweep);
    the seeds of one width in one compiled program."""
    t = jnp.asarray(times, jnp.float64)
    full = [
        init_params(jax.random.key(int(s)), max(widths), sigma=sigma, output_signs="random")
        for s in seeds
    ]
    out = []
    for m in widths:
        w = jnp.stack([p.w[: int(m)] for p in full])
        a = jnp.stack([p.a[: int(m)] for p in full])
        out.append(
            np.asarray(
                jax.jit(
                    jax.vmap(
                        lambda w_, a_: predict(Params(w_, a_), X, y, t, learning_rate=eta).loss
                    )
                )(w, a)
            )
        )
    return np.stack(out)


def _source_list(v):
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) and x for x in v):
        raise TypeError
    return list(v)


def _SOURCES(default, doc):
    return cfg.Field(
        list(default),
        doc,
        "a list of source names ('data', a family, a real series, csv:…)",
        _source_list,
    )


def run_c1(section: dict, ctx) -> Verdict:
    if section["mechanism_steps"] % section["mechanism_record_every"]:
        raise cfg.ConfigError(
            f"C1.mechanism_record_every: expected a divisor of C1.mechanism_steps = "
            f"{section['mechanism_steps']}, got {section['mechanism_record_every']}"
        )
    runs, linear, extended = [], [], []
    sigma = section["sigma"]
    lams = {n: ctx.lambda_star(n, sigma=sigma)[0] for n in section["sizes"]}
    eta = ctx.learning_rate(
        section, sizes=section["sizes"], sigma=sigma
    )  # one η, stable at every size
    for n in section["sizes"]:
        ds = ctx.dataset(n)
        X = np.asarray(ds.X)
        lam = lams[n]
        res = width_sweep(
            ctx, n, {**section, "eta": eta}, f"C1 sweep n={n}", sigma=section["sigma"]
        )
        lmax = max(lambda_max(h) for h in res.ntk_initial.reshape(-1, n, n))
        B = float(np.abs(X).max())
        run = EnvelopeRun(
            n,
            lam.value,
            lam.resolution,
            res.widths,
            res.seeds,
            res.step,
            res.loss,
            B,
            lmax,
            float(np.abs(np.asarray(ds.y)).max()),
            lam.precision,
        )
        runs.append(run)
        if lam.value > lam.resolution:
            T_req = t_required(lam.value, eta, n, B, section["eps"], section["c_T"])
            if math.isfinite(T_req) and T_req <= 1e13:
                times = np.array(
                    [
                        0.0,
                        float(section["steps"]),
                        math.ceil(T_req),
                        10 * math.ceil(T_req),
                        100 * math.ceil(T_req),
                    ]
                )
                ll = _linearised(
                    ds.X,
                    ds.y,
                    widths=res.widths,
                    seeds=res.seeds,
                    sigma=sigma,
                    eta=eta,
                    times=times,
                )
                linear.append(LinearRun(n, times, ll))
    for n in section["extended_sizes"]:
        ds = ctx.dataset(n)
        X = np.asarray(ds.X)
        lam, H = ctx.lambda_star(n, sigma=sigma)
        eta_n = min(eta, 1.0 / lam.norm)
        extended.append(
            ExtendedSize(n, lam.value, lam.resolution, lam.precision, eta_n, float(np.abs(X).max()))
        )
    mechanism = []
    data_src = ctx.config["data"]["source"]
    for src in dict.fromkeys(
        "data" if s == data_src else s for s in section["mechanism_sources"]
    ):  # each once
        n = section["mechanism_n"]  # the kernel-regime mechanism at a realistic n (_c1_mechanism)
        name = data_src if src == "data" else src
        if src == "data":
            ds, eta_m = ctx.dataset(n), ctx.step_size(section, sizes=[n], sigma=sigma)
        else:
            ds = ctx.cached(
                ctx.memo_key("dataset", source=src, n=n),
                lambda src=src: make_dataset(
                    {**ctx.config["data"], "source": src}, ctx.key("data"), n=n
                ),
            )
            norm = ctx.cached(
                ctx.memo_key("lambda_star", source=src, n=n, sigma=sigma),
                lambda ds=ds: bounds.lambda_star(np.asarray(ds.X), sigma=sigma)[0].norm,
            )
            eta_m = StepSize.of(section).resolve(norm)
        mechanism.append(
            ctx.cached(
                ctx.memo_key("C1 mechanism", source=name, n=n, sigma=sigma),
                lambda ds=ds, name=name, eta_m=eta_m: gather_mechanism(
                    ds.X,
                    ds.y,
                    source=name,
                    widths=section["mechanism_widths"],
                    seeds=ctx.network_seeds(section["mechanism_seeds"]),
                    sigma=sigma,
                    eta=eta_m,
                    steps=section["mechanism_steps"],
                    record_every=section["mechanism_record_every"],
                ),
            )
        )
    return check_c1(
        runs,
        eta=eta,
        eps=section["eps"],
        delta=section["delta"],
        c_T=section["c_T"],
        alpha=section["alpha"],
        min_decrease=section["min_decrease"],
        linear=linear,
        extended=extended,
        mechanism=mechanism,
        margin=section["margin"],
        violation_margin=section["violation_margin"],
        config={"C1": section, "data": ctx.config["data"]},
        seed=ctx.seed,
    )


def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c1` whose verdict is known, and that verdict: losses
    :math:`2\cdot 0.9^t` on 2 widths × 40 seeds over 2000 steps meet the envelope :math:`0.95^t L(0)`
    over 103 e-folds (the lower float floor, m = 8, lies 69 e-folds below L(0): the horizon rule is met)
    and fall below ε = 1e-3 from :math:`T_{req} = 2\ln(4/10^{-3})/0.1 \approx 166` (linearised
    losses at t = 200 are 1e-6, a diagnostic): no run fails in 40 per width, Clopper–Pearson upper
    ends 0.088 ≤ δ = 0.1: HOLDS."""
    steps = np.arange(0, 2001, 50)
    loss = np.broadcast_to(2.0 * 0.9 ** steps.astype(float), (2, 40, steps.size)).copy()
    run = EnvelopeRun(4, 0.1, 1e-14, np.array([8, 16]), np.arange(40), steps, loss, 1.0, 1.0, 1.0)
    lin = LinearRun(
        4, np.array([0.0, 200.0]), np.broadcast_to(np.array([2.0, 1e-6]), (2, 40, 2)).copy()
    )
    return {
        "runs": [run],
        "eta": 1.0,
        "eps": 1e-3,
        "delta": 0.1,
        "linear": [lin],
        "config": {"C1": {"eta": 1.0}},
    }, HOLDS


def training_c1(section: dict, data: dict) -> list[TrainingRun]:
    """The paper's network trained by gradient descent, as data: the width × seed sweep at every
    size of ``sizes`` (one η, stable at every size) and the mechanism's runs at ``mechanism_n``
    (on the configured data), both at C1's own σ."""
    step, sigma = StepSize.of(section), section["sigma"]
    sweep = TrainingRun(step, tuple(section["widths"]), tuple(section["sizes"]), sigma)
    widths, n = tuple(section["mechanism_widths"]), section["mechanism_n"]
    return [sweep, TrainingRun(step, widths, (n,), sigma)]


def memory_c1(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: the width × seed sweep at the largest size, run in blocks of
    ``seeds_per_block`` seeds (:func:`verification.contract.sweep_bytes`), the symmetrised H(t) of
    every record of a block brought to the host, and the data windows."""
    S = section["seeds"]
    per = blocks_of(S, section["seeds_per_block"])
    n = max(section["sizes"])
    R = section["steps"] // section["record_every"] + 1
    return memory_sum(
        sweep_bytes(
            n=n,
            widths=section["widths"],
            seeds=S,
            steps=section["steps"],
            record_every=section["record_every"],
            seeds_per_block=per,
        ),
        (
            8 * R * per * len(section["widths"]) * n * n,
            "H(t) records of one block (R × runs × n × n)",
        ),
        (
            8
            * section["mechanism_seeds"]
            * section["mechanism_n"]
            * max(section["mechanism_widths"])
            * (data["d"] + 4),
            "kernel-regime reading (seeds × n × m × (d + 4): attention, Jacobian, residuals of one width)",
        ),
        memory_bytes(d=data["d"], n=n, widths=[1]),
    )


CLAIM = Claim(
    id="C1",
    source="Thm 5.2",
    title="linear convergence of the training loss",
    statement=r"m=\Omega(\mathrm{poly}(\lambda^{-1},e^{B^2},e^{D},n,d)),\ \eta\le O(\lambda\delta/\mathrm{poly}),\ "
    r"T\ge\Omega\big(\tfrac{1}{\eta\lambda}\log\tfrac{nB^2}{\epsilon}\big)\ \Rightarrow\ L(T)\le\epsilon"
    r"\ \text{w.p.}\ \ge 1-\delta;\ \text{checked: } L(t)\le(1-\eta\lambda/2)^t L(0)",
    params={
        "widths": cfg.int_list([256, 1024], "network widths m (strictly increasing)", minimum=2),
        "seeds": cfg.positive_int(
            120,
            "network seeds per width (120: 80% power at a failure rate 0.02, docs/calibration.md)",
            maximum=1024,
        ),
        "steps": cfg.positive_int(800, "gradient-descent steps T"),
        "record_every": cfg.positive_int(10, "record every k steps (a divisor of steps)"),
        "eta": cfg.positive_float(
            0.4,
            "learning rate: with eta_mode = 'relative' the fraction of the stability limit, "
            "η = eta · 2/λ_max(H*) at the most restrictive size; 'absolute': η itself",
        ),
        "eta_mode": ETA_MODE,
        "sigma": cfg.positive_float(
            3.0, "C1's neuron scale σ (w_r ~ N(0, σ²)); σ = 3 resolves λ at n = 2"
        ),
        "sizes": cfg.int_list(
            [2], "training-set sizes n trained (λ must be resolved to read the envelope)", minimum=2
        ),
        "extended_sizes": cfg.int_list(
            [24],
            "sizes reported by extended-precision λ and T_req only (not trained)",
            minimum=2,
            min_len=0,
        ),
        "eps": cfg.positive_float(1e-3, "target loss ε"),
        "delta": DELTA,
        "alpha": ALPHA,
        "c_T": cfg.positive_float(
            2.0, "constant of T_req = c_T (ηλ)^-1 log(nB²/ε); 2: the envelope's rate is ηλ/2"
        ),
        "min_decrease": cfg.probability(
            1e-2,
            "resolution of the envelope: it must demand a loss decrease of at least "
            "this fraction of L(0), else VACUOUS",
        ),
        "seeds_per_block": cfg.positive_int(
            120, "seeds batched into one compiled program (memory ∝ this)"
        ),
        "mechanism_sources": _SOURCES(
            ["data", "sunspots"],
            "sources of the kernel-regime reading at mechanism_n "
            "('data': the [data] source; a real series needs statsmodels)",
        ),
        "mechanism_n": cfg.positive_int(
            24, "windows of the kernel-regime reading (λ need not be resolved there)", minimum=2
        ),
        "mechanism_widths": cfg.int_list(
            [256, 1024, 4096],
            "widths of the kernel-regime reading (≥ 3 for a rate; from 256: sunspots' gap is pre-asymptotic below)",
            minimum=2,
        ),
        "mechanism_seeds": cfg.positive_int(
            16,
            "network seeds of the kernel-regime reading (the unit of its rate)",
            minimum=2,
            maximum=1024,
        ),
        "mechanism_steps": cfg.positive_int(
            100, "gradient-descent steps of the kernel-regime reading"
        ),
        "mechanism_record_every": cfg.positive_int(
            5, "record every k steps there (a divisor of mechanism_steps)"
        ),
        "margin": cfg.nonneg_float(
            0.1, "rate margin Δ of the kernel-gap rule: HOLDS when the slope's upper end ≤ −1/2 + Δ"
        ),
        "violation_margin": cfg.nonneg_float(
            0.1, "rate margin Δ_v ≥ Δ: VIOLATED when the slope's lower end > −1/2 + Δ_v"
        ),
    },
    run=run_c1,
    check=check_c1,
    plot=plot_c1,
    summary=summary_c1,
    training=training_c1,
    memory=memory_c1,
)
