r"""C2 (Theorem 5.2): asymmetric learning, the sign of :math:`w_r` follows the output sign :math:`a_r`.

**Statement.** After :math:`t \ge t_{align} = \Omega(m/(\eta\lambda v_{\min}))` steps,
:math:`\Pr[w_r(t) > 0 \mid a_r = 1] \ge 1-\delta` and :math:`\Pr[w_r(t) < 0 \mid a_r = -1] \ge 1-\delta`.

**Reading.** Two premises come first (docs/theory.md, "C2"). The mechanism: the drift of
:math:`w_r` is :math:`\eta m^{-1/2} a_r \sum_i x_{i,d} V_r(x_i)(y_i - f_i)`, and at t = 0 its data
term :math:`\sum_i x_{i,d} V_r(x_i) y_i` must be positive for most neurons
(:func:`ntk_attention.data.data_term_fraction`; :func:`ntk_attention.data.corr_y_xd` is reported
beside it). The time: :math:`t \ge t_{align}(m) = c_A m/(\eta\lambda v_{\min})` with λ =
λ_min(H*) in extended precision (:func:`verification.training._bounds.lambda_star`). The conclusion is the
agreement of :math:`\mathrm{sign}(w_r)` with :math:`a_r` in each group, a probability over the
network draw: the network (seed) is the unit, and each contributes the fraction of its group's
neurons that disagree.

**Verdict rule** (:func:`check_c2`). Theorem: :func:`verification.rules._verdict.combine_parts` — the
data term and :math:`t \ge t_{align}` are premises (``role="premise"``); either not met (the
data-term fraction below ``data_term_threshold``; λ unresolved or :math:`t_{align}` beyond the steps
run, with the factor) makes it VACUOUS. The conclusion takes the network draw as the unit and
counts every neuron: per network and group the failure fraction :math:`f_s` (i.i.d. over draws), and
a Waudby-Smith–Ramdas betting bound for its mean against δ (:func:`verification.rules._laws.fraction_decision`,
intersection–union for HOLDS, Holm over 2 groups × widths for VIOLATED). The former rule — the first
neuron of each group as one trial per network (:func:`verification.rules._laws.seed_decision`) — is kept as a
diagnostic. The seeds of one width train as one vmapped program, so the default budget (160
networks per width) costs little more than a few seeds did. Diagnostics: the first time each group reaches given levels, the
saturation plateau, fitted exponents of first time against m (:func:`verification.rules.rate_decision`,
exponent 1, margin Δ) — uninformative, never HOLDS, when the onsets are censored at the first
record or below the record resolution (:func:`verification.rules._laws.onset_fit_reading`) — and the
linearised model's :math:`t\to\infty` sign of :math:`w_r - w_r(0)` against real training's.
Observed (:class:`verification.rules._verdict.Observed`): each network's onset of :math:`1-\delta`
agreement, its exponent in m, the orders of magnitude between :math:`t_{align}` and the onset and
the :math:`c_A` that would close them; status by the seed-level rule on every neuron at T. With
``eta_factors`` (opt-in) the widest width also trains at η × each factor: the onset's exponent in η
against −1 (t_align ∝ 1/η), a diagnostic that never decides the observed status
(:func:`verification.claims._c2_evidence.eta_exponent`).
"""

from __future__ import annotations

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ntk_attention import Params
from ntk_attention import data as ntk_data
from verification import config as cfg
from verification.claims import _c2_evidence as ev
from verification.claims import _c2_plot
from verification.claims._c2_evidence import first_times, plateau, record_steps
from verification.claims._common import (
    ALPHA,
    DELTA,
    ETA_MODE,
    data_n_training,
    fmt,
)
from verification.contract import Claim, StepSize, TrainingRun, memory_sum
from verification.rules import _laws as laws
from verification.rules import clopper_pearson, rate_decision
from verification.rules._verdict import (
    HOLDS,
    INCONCLUSIVE,
    VACUOUS,
    VIOLATED,
    Part,
    Verdict,
    combine_parts,
    combine_status,
)
from verification.training import _bounds as bounds
from verification.training._memory import TRAIN_NUMBERS_PER_NEURON

LINEAR_SEEDS = 3
"""Seeds whose linearised t → ∞ signs are compared with training's (a diagnostic at the widest width)."""

LEVELS = (0.6, 0.7, 0.8, 0.9)
"""Agreement levels whose first-reaching times are reported (1 - δ is added)."""


# ---------------------------------------------------------------------------------------------
# the check


_GROUPS = ("+1", "-1")


def check_c2(
    *,
    widths,
    seeds,
    steps,
    agree_plus,
    n_plus,
    agree_minus,
    n_minus,
    lam: float,
    lam_resolution: float,
    eta: float,
    v_min: float,
    delta: float,
    c_A: float = 1.0,
    alpha: float = 0.05,
    levels=LEVELS,
    corr_y_xd: float | None = None,
    data_term_fraction: float | None = None,
    data_term_threshold: float = 0.5,
    linear_agreement=None,
    margin: float = 0.1,
    lam_precision: str = "float64",
    designated_agree=None,
    eta_scan: dict | None = None,
    source: str = "",
    config: dict | None = None,
    seed: int | None = None,
) -> Verdict:
    r"""C2 from sign-agreement counts over training: ``agree_*`` (W, S, R), ``n_*`` (W, S), at ``steps`` (R,).

    Decisive parts, in order (:func:`verification.rules._verdict.combine_parts`):

    1. *data term* (premise, when ``data_term_fraction`` is given): VACUOUS when the fraction of
       neurons with :math:`\sum_i x_{i,d}V_r(x_i)y_i > 0` at t = 0 is below ``data_term_threshold``
       (default 0.5: then most neurons drift away from :math:`a_r`), naming it and corr(y, x_d);
    2. *time* (premise): :math:`t_{align}(m) = c_A m/(\eta\lambda v_{\min})`; VACUOUS when λ is not
       above ``lam_resolution`` or :math:`t_{align}` exceeds the last step at some width (t_align,
       the steps run and their ratio reported);
    3. *agreement* (conclusion): per network and group the failure fraction at T,
       :math:`f_s = 1 - \mathrm{agree}/n`, i.i.d. over networks; decided by
       :func:`verification.rules._laws.fraction_decision` (betting bound of :math:`\mathbb E f` against δ,
       intersection–union for HOLDS, Holm over 2 groups × widths for VIOLATED).
       ``designated_agree`` (W, S, 2), whether the first neuron of group +1 and of group −1 of each
       network has :math:`\mathrm{sign}(w_r(T)) = a_r`, gives the former one-trial-per-network rule
       (:func:`verification.rules._laws.seed_decision`) as a non-decisive diagnostic.

    Diagnostics: the first recorded step each group's pooled agreement reaches each of ``levels``
    and :math:`1-\delta` (:func:`first_times`); the saturation plateau and whether it settled
    (:func:`plateau`); for each level reached (at t > 0) at 3+ widths, the exponent of first time
    against m decided by :func:`verification.rules.rate_decision` against exponent 1 (the theory's
    :math:`t_{align} \propto m`) with margin ``margin`` (per-seed first times when every seed
    reaches it, else the pooled curve) — uninformative (VACUOUS, never HOLDS) when those times are
    censored at the first record or below the record resolution
    (:func:`verification.rules._laws.onset_fit_reading`); ``linear_agreement`` (a mapping width →
    per-seed values): the fraction of neurons whose linearised :math:`t\to\infty` sign of
    :math:`w_r - w_r(0)` matches real training's at the last step. ``observed``: the law at the
    scales run (:func:`verification.claims._c2_evidence.observed`). ``eta_scan`` (optional, the
    ``eta_factors`` run): ``etas`` (E,) and ``agree_plus``/``agree_minus`` (E, S, R), ``n_plus``/``n_minus``
    (E, S) at one width on the same ``steps``; each network's onset per η, fitted against exponent −1
    (:func:`verification.claims._c2_evidence.eta_exponent`), a diagnostic of the observed finding.
    """
    widths = np.asarray(widths, np.int64)
    steps = np.asarray(steps, np.int64)
    A = {"+1": np.asarray(agree_plus, np.int64), "-1": np.asarray(agree_minus, np.int64)}
    N = {"+1": np.asarray(n_plus, np.int64), "-1": np.asarray(n_minus, np.int64)}
    W, R = widths.size, steps.size
    for g in _GROUPS:
        if (
            A[g].ndim != 3
            or A[g].shape[0] != W
            or A[g].shape[2] != R
            or N[g].shape != A[g].shape[:2]
        ):
            raise ValueError(
                f"agree/n of group {g}: expected shapes (W={W}, S, R={R}) and (W, S), "
                f"got {A[g].shape} and {N[g].shape}"
            )
    target = 1 - delta
    all_levels = tuple(sorted(set(float(x) for x in levels) | {target}))
    kp = {g: A[g].sum(axis=1) for g in _GROUPS}  # (W, R) pooled over seeds
    np_ = {g: N[g].sum(axis=1) for g in _GROUPS}  # (W,)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = {g: kp[g] / np_[g][:, None] for g in _GROUPS}  # NaN for a group without neurons
        frac_seed = {g: A[g] / N[g][..., None] for g in _GROUPS}
    parts, measured, intervals = [], {}, {}
    # 1. the data term
    if corr_y_xd is not None:
        measured["corr_y_xd"] = float(corr_y_xd)
    if data_term_fraction is not None:
        measured["data_term_fraction"] = float(data_term_fraction)
        ok = data_term_fraction >= data_term_threshold
        corr = f", corr(y, x_d) = {corr_y_xd:.3f}" if corr_y_xd is not None else ""
        parts.append(
            Part(
                "data term Σ_i x_i,d V_r(x_i) y_i > 0 drives w_r toward a_r at t = 0",
                HOLDS if ok else VACUOUS,
                role="premise",
                why=""
                if ok
                else f"data term positive for {data_term_fraction:.2f} < {data_term_threshold:g}",
                finding=(
                    f"fraction of neurons with a positive data term {data_term_fraction:.2f} "
                    f"{'≥' if ok else '<'} threshold {data_term_threshold:g}{corr}"
                    + (
                        "."
                        if ok
                        else ": the data cannot drive the drift toward a_r, so the theorem's mechanism "
                        "is absent on this data."
                    )
                ),
            )
        )
    # 2. the time premise
    resolved = lam > lam_resolution
    t_align = np.array(
        [c_A * float(m) / (eta * lam * v_min) if resolved else math.inf for m in widths]
    )
    T = int(steps[-1])
    measured["t_align"] = t_align.tolist()
    measured.update(v_min=float(v_min), eta=float(eta), lam=float(lam))
    measured["t_over_t_align"] = [T / t if t > 0 else math.inf for t in t_align]
    if not resolved:
        parts.append(
            Part(
                "t >= t_align = c_A m/(ηλ v_min)",
                VACUOUS,
                role="premise",
                why="λ below its resolution",
                finding=f"λ = λ_min(H*) = {fmt(lam)} ({lam_precision}) is not above its resolution {fmt(lam_resolution)}: "
                f"t_align is unbounded; {T} steps were run.",
            )
        )
    else:
        late = t_align <= T
        wi = int(np.argmin(t_align))
        parts.append(
            Part(
                "t >= t_align = c_A m/(ηλ v_min)",
                HOLDS if late.all() else VACUOUS,
                role="premise",
                why=""
                if late.all()
                else f"t_align beyond reach by {fmt(t_align[wi] / max(T, 1))}×",
                finding=f"λ = {fmt(lam)} ({lam_precision}, error {fmt(lam_resolution)}), v_min = {fmt(v_min)}, η = {eta:g}, "
                f"c_A = {c_A:g}: t_align = {fmt(t_align[wi])} steps at m = {int(widths[wi])} (∝ m), "
                f"{T} run: "
                + (
                    "reached at every width."
                    if late.all()
                    else f"beyond reach by a factor {fmt(t_align[wi] / max(T, 1))} at the smallest width"
                    + (
                        f", reached at m = {', '.join(str(int(m)) for m in widths[late])}"
                        if late.any()
                        else ""
                    )
                    + "."
                ),
            )
        )
    # 3. agreement at the last step: every neuron, the network draw as the unit
    fam = [(g, wi) for g in _GROUPS for wi in range(W) if np_[g][wi] > 0]
    name = f"Pr[sign w_r(T) = a_r] >= 1-δ at T = {T} (network draws as the unit, every neuron)"
    cells = [
        (g, wi, 1.0 - A[g][wi, N[g][wi] > 0, -1] / N[g][wi, N[g][wi] > 0])
        for g in _GROUPS
        for wi in range(W)
    ]
    cells = [c for c in cells if c[2].size]
    agree_dec = laws.fraction_decision([c[2] for c in cells], delta=delta, alpha=alpha)
    if agree_dec is not None:
        where = "; ".join(
            f"m = {int(widths[wi])} a_r = {g}: mean failure fraction {agree_dec.mean[j]:.3g} over "
            f"{agree_dec.seeds[j]} networks (max {f.max():.3g}), {1 - alpha:.0%} bounds "
            f"[{agree_dec.lower[j]:.3g}, {agree_dec.upper[j]:.3g}]"
            for j, (g, wi, f) in enumerate(cells)
        )
        st = agree_dec.status
        parts.append(
            Part(
                name,
                st,
                f"{where}. Rule: {laws.FRACTION_RULE}: {agree_dec.rule}.",
                why={
                    HOLDS: "",
                    VIOLATED: "signs do not follow a_r",
                    INCONCLUSIVE: f"{A['+1'].shape[1]} networks cannot show 1-δ",
                }.get(st, ""),
            )
        )
        measured["agreement_decision"] = st
        measured["failure_fraction_mean"] = {
            f"m={int(widths[wi])},a_r={g}": agree_dec.mean[j] for j, (g, wi, _) in enumerate(cells)
        }
        measured["failure_fraction_seed"] = {
            f"m={int(widths[wi])},a_r={g}": [float(x) for x in f] for g, wi, f in cells
        }
        for j, (g, wi, _) in enumerate(cells):
            intervals[
                f"failure_fraction_{'plus' if g == '+1' else 'minus'}[m={int(widths[wi])}]"
            ] = [agree_dec.lower[j], agree_dec.upper[j]]
    else:
        parts.append(
            Part(name, VACUOUS, "no network has a neuron of either group.", why="not measured")
        )
    if (
        designated_agree is not None
    ):  # the former rule, a diagnostic: one designated neuron per network
        D = np.asarray(
            designated_agree, bool
        )  # (W, S, 2): the first neuron of each group agrees at T
        if D.shape != (W, A["+1"].shape[1], 2):
            raise ValueError(
                f"designated_agree: expected shape (W={W}, S={A['+1'].shape[1]}, 2), got {D.shape}"
            )
        has = {g: N[g] > 0 for g in _GROUPS}  # (W, S) networks with a neuron of the group
        fails = [
            int(np.sum(~D[wi, has[g][wi], gi])) for gi, g in enumerate(_GROUPS) for wi in range(W)
        ]
        trials = [int(np.sum(has[g][wi])) for g in _GROUPS for wi in range(W)]
        des_dec = laws.seed_decision(fails, trials, delta=delta, alpha=alpha)
        if des_dec is not None:
            where = "; ".join(
                f"m = {int(widths[wi])} a_r = {g}: {fails[gi * W + wi]}/{trials[gi * W + wi]}"
                for gi, g in enumerate(_GROUPS)
                for wi in range(W)
                if trials[gi * W + wi]
            )
            parts.append(
                Part(
                    "designated neuron (the first of each group) disagrees (diagnostic)",
                    des_dec.status,
                    f"{where} networks. Rule: {laws.SEED_RULE}: {des_dec.rule}.",
                    False,
                )
            )
            measured["designated_decision"] = des_dec.status
    for g, wi in fam:
        lo, hi = clopper_pearson(np.int64(kp[g][wi, -1]), np.int64(np_[g][wi]), alpha)
        intervals[f"agreement_{'plus' if g == '+1' else 'minus'}_final[m={int(widths[wi])}]"] = [
            float(lo),
            float(hi),
        ]
    absent = [
        f"no neuron has a_r = {g} at m = {int(widths[wi])}"
        for g in _GROUPS
        for wi in range(W)
        if np_[g][wi] == 0
    ]
    if absent:
        parts.append(
            Part(
                "groups without neurons",
                VACUOUS,
                "; ".join(absent) + ": nothing to check there.",
                False,
            )
        )
    # diagnostics: levels, plateau, exponents, linearised signs
    first = {g: first_times(frac[g], steps, all_levels) for g in _GROUPS}  # (W, L)
    first_seed = {g: first_times(frac_seed[g], steps, all_levels) for g in _GROUPS}  # (W, S, L)
    level, settled = {}, {}
    for g in _GROUPS:
        level[g], settled[g] = plateau(frac[g], steps)
    name = {"+1": "plus", "-1": "minus"}
    for g in _GROUPS:
        measured[f"final_agreement_{name[g]}"] = [float(x) for x in frac[g][:, -1]]
        measured[f"initial_agreement_{name[g]}"] = [float(x) for x in frac[g][:, 0]]
        measured[f"plateau_{name[g]}"] = [float(x) for x in level[g]]
        measured[f"plateau_settled_{name[g]}"] = [bool(x) for x in settled[g]]
        measured[f"first_time_{name[g]}"] = {
            f"{L:g}": [float(x) for x in first[g][:, j]] for j, L in enumerate(all_levels)
        }
    measured["levels"] = list(all_levels)
    reach_words = []
    for j, L in enumerate(all_levels):
        both = np.maximum(first["+1"][:, j], first["-1"][:, j])
        ok = np.isfinite(both)
        reach_words.append(
            f"{L:g}: "
            + (
                ", ".join(f"m={int(m)} t={int(t)}" for m, t in zip(widths[ok], both[ok]))
                if ok.any()
                else "no width"
            )
        )
    reached_target = np.isfinite(
        np.maximum(
            first["+1"][:, all_levels.index(target)], first["-1"][:, all_levels.index(target)]
        )
    )
    parts.append(
        Part(
            "first step both groups reach each level (pooled over seeds)",
            HOLDS if reached_target.all() else INCONCLUSIVE,
            "; ".join(reach_words) + f" (records log-spaced to {T}).",
            False,
        )
    )
    plat = ", ".join(
        f"m={int(m)}: {level['+1'][wi]:.2f}/{level['-1'][wi]:.2f}"
        + ("" if settled["+1"][wi] and settled["-1"][wi] else " (still moving)")
        for wi, m in enumerate(widths)
    )
    slope_words = ""
    if W >= 3 and all(np.all(np.isfinite(level[g])) and np.all(level[g] > 0) for g in _GROUPS):
        sl = [np.polyfit(np.log(widths), level[g], 1)[0] for g in _GROUPS]
        measured["plateau_change_per_log_m"] = [float(s) for s in sl]
        slope_words = (
            f"; change per unit log m {sl[0]:+.3f}/{sl[1]:+.3f} (least squares, descriptive)"
        )
    parts.append(
        Part(
            "saturation: agreement plateau over the last decade (+1/-1)",
            HOLDS if all(settled[g].all() for g in _GROUPS) else INCONCLUSIVE,
            plat + slope_words + ".",
            False,
        )
    )
    exps, quantised = {}, {}
    for g in _GROUPS:
        for j, L in enumerate(all_levels):
            ft_seed = first_seed[g][:, :, j]
            ft = first[g][:, j]
            ok = np.isfinite(ft) & (ft > 0)
            if ok.sum() < 3:
                continue
            per_seed = (
                np.isfinite(ft_seed[ok]).all() and (ft_seed[ok] > 0).all() and ft_seed.shape[1] >= 2
            )
            vals = ft_seed[ok] if per_seed else ft[ok][:, None]
            why = laws.onset_fit_reading(vals, steps)
            if (
                why
            ):  # a slope fitted to censored or quantised times carries no information: never HOLDS
                quantised[f"{g}@{L:g}"] = why
                continue
            rd = rate_decision(widths[ok], vals, exponent=1.0, margin=margin, alpha=alpha)
            exps[f"{g}@{L:g}"] = rd
            measured.setdefault("first_time_exponent", {})[f"a_r={g}, level {L:g}"] = rd.slope
            intervals[f"first_time_exponent[a_r={g}, level {L:g}]"] = [rd.lo, rd.hi]
    if exps:
        parts.append(
            Part(
                "first time ∝ m (t_align ∝ m), exponent vs 1",
                combine_status(r.status for r in exps.values()),
                "; ".join(
                    f"a_r = {k.split('@')[0]} level {k.split('@')[1]}: slope {r.slope:.2f} "
                    f"[{r.lo:.2f}, {r.hi:.2f}] {r.status} ({r.rule})"
                    for k, r in exps.items()
                )
                + ".",
                False,
            )
        )
    elif quantised:
        parts.append(
            Part(
                "first time ∝ m (t_align ∝ m), exponent vs 1",
                VACUOUS,
                "uninformative: "
                + "; ".join(
                    f"a_r = {k.split('@')[0]} level {k.split('@')[1]}: {w}"
                    for k, w in quantised.items()
                )
                + ". Refine the records (C2.records) or start the records earlier.",
                False,
                why="onset quantised by the records",
            )
        )
        measured["first_time_exponent_uninformative"] = quantised
    else:
        parts.append(
            Part(
                "first time ∝ m (t_align ∝ m), exponent vs 1",
                VACUOUS,
                "no level is reached at t > 0 at 3 or more widths: no exponent can be fitted.",
                False,
            )
        )
    if linear_agreement is not None:
        la = {int(m): np.asarray(v, np.float64) for m, v in dict(linear_agreement).items()}
        measured["linearized_sign_agreement"] = {str(m): float(v.mean()) for m, v in la.items()}
        worst = min(float(v.min()) for v in la.values())
        parts.append(
            Part(
                "linearised t → ∞ sign of w_r − w_r(0) vs real training's at T",
                HOLDS if worst >= target else INCONCLUSIVE,
                ", ".join(f"m={m}: {v.mean():.2f}" for m, v in la.items())
                + " of neurons agree (mean over seeds); the kernel regime "
                + ("predicts" if worst >= target else "does not predict")
                + " the trained signs.",
                False,
            )
        )
    status = combine_parts(parts)
    obs = ev.observed(
        agree_dec,
        [c[2] for c in cells],
        frac_seed,
        first_seed,
        steps,
        widths,
        all_levels.index(target),
        t_align,
        eta=eta,
        lam=lam,
        v_min=v_min,
        delta=delta,
        alpha=alpha,
        margin=margin,
        seeds=A["+1"].shape[1],
        source=source,
        measured=measured,
        eta_scan=eta_scan,
    )
    explanation = _c2_explanation(status, measured, parts, widths, T, target, obs)
    arrays = {
        "widths": widths,
        "steps": steps,
        "agree_plus": kp["+1"],
        "n_plus": np_["+1"],
        "agree_minus": kp["-1"],
        "n_minus": np_["-1"],
        "levels": np.asarray(all_levels),
        "first_plus": first["+1"],
        "first_minus": first["-1"],
        "t_align": t_align,
    }
    return Verdict(
        claim="C2",
        status=status,
        explanation=explanation,
        measured=measured,
        bounds={
            "one_minus_delta": target,
            "t_align": t_align.tolist(),
            "data_term_threshold": data_term_threshold,
        },
        intervals=intervals,
        parts=tuple(parts),
        counterexample=None,
        constants={"c_A": c_A},
        tested_range={
            "widths": [int(m) for m in widths],
            "seeds": [int(s) for s in seeds],
            "steps": T,
        },
        config=config or {},
        seed=seed,
        arrays=arrays,
        observed=obs,
    )


def _c2_explanation(status, measured, parts, widths, T, target, obs=None):
    fp, fm = measured["final_agreement_plus"][-1], measured["final_agreement_minus"][-1]
    s = [
        f"At the widest width (m = {int(widths[-1])}) after {T} steps, {fp:.0%} of a_r = +1 neurons have w_r > 0 "
        f"and {fm:.0%} of a_r = -1 neurons have w_r < 0 ({measured['initial_agreement_plus'][-1]:.0%} and "
        f"{measured['initial_agreement_minus'][-1]:.0%} at t = 0)."
    ]
    unmet = [p for p in parts if p.decisive and p.role == "premise" and p.status != HOLDS]
    if unmet:
        s.append(
            f"Theorem: {status}, premises not met — "
            + " ".join(f"{p.name}: {p.finding}" for p in unmet)
        )
    else:
        s.append(f"Premises met; the agreement decision (network draws as trials) is {status}.")
    if obs is not None:
        s.append(f"Observed law ({obs.scale}): {obs.finding}")
    return " ".join(s)


# ---------------------------------------------------------------------------------------------
# run, figure, summary


def run_c2(section: dict, ctx) -> Verdict:
    n = ctx.config["data"]["n"]
    ds = ctx.dataset(n)
    sigma = ctx.config["data"]["sigma"]
    seeds = ctx.network_seeds(section["seeds"])
    W = section["widths"]
    rec = record_steps(section["steps"], section["records"])
    S, R = len(seeds), rec.size
    ap, am = np.zeros((len(W), S, R), np.int64), np.zeros((len(W), S, R), np.int64)
    npl, nmi = np.zeros((len(W), S), np.int64), np.zeros((len(W), S), np.int64)
    lin = np.zeros(min(S, LINEAR_SEEDS))
    des = np.ones((len(W), S, 2), bool)
    positive, total = 0, 0
    lam = ctx.lambda_star(n, sigma=sigma)[0]
    eta = ctx.learning_rate(section, sizes=[n], sigma=sigma)
    bar = ctx.progress("C2 random signs", len(W) * S)
    keys = jnp.stack([jax.random.key(s) for s in seeds])
    runs = [
        ev.train_seeds(ctx, ds, m, seeds, keys, rec, eta, sigma) for m in W
    ]  # dispatched first: JAX runs them side by side
    for wi, m in enumerate(W):
        P, tr, dtf = runs[wi]
        ap[wi], am[wi], npl[wi], nmi[wi] = ev.agreement_counts(ctx, ds, P, tr, rec, eta, seeds)
        a_all, w_all = np.asarray(P.a), np.asarray(tr.params.w)
        for gi, g in enumerate(
            (1, -1)
        ):  # the group's first neuron in each network: the designated-neuron diagnostic
            hit = a_all == g
            first = np.argmax(hit, axis=1)
            des[wi, :, gi] = ~hit.any(axis=1) | (np.sign(w_all[np.arange(S), first]) == g)
        if m == W[-1]:  # a diagnostic: the widest width, the first few seeds
            for si in range(lin.size):
                lin[si] = ev.linear_sign_agreement(
                    Params(P.w[si], P.a[si]), ds.X, ds.y, eta, w_all[si]
                )
        positive += int(np.sum(np.round(np.asarray(dtf, np.float64) * m)))
        total += m * S
        bar.update(S)
    bar.close()
    eta_scan = None
    if section[
        "eta_factors"
    ]:  # the exponent in η: the widest width at η × each factor (and η itself), same seeds
        etas = sorted({eta * f for f in section["eta_factors"]} | {eta})
        scan = [ev.train_seeds(ctx, ds, W[-1], seeds, keys, rec, e, sigma) for e in etas]
        counts = [
            ev.agreement_counts(ctx, ds, P, tr, rec, e, seeds) for e, (P, tr, _) in zip(etas, scan)
        ]
        eta_scan = {
            "etas": etas,
            **{
                k: np.stack([c[i] for c in counts])
                for i, k in enumerate(("agree_plus", "agree_minus", "n_plus", "n_minus"))
            },
            "diverged": [int(np.sum(np.asarray(tr.diverged_step) >= 0)) for _, tr, _ in scan],
        }
    return check_c2(
        widths=W,
        seeds=seeds,
        steps=rec,
        agree_plus=ap,
        n_plus=npl,
        agree_minus=am,
        n_minus=nmi,
        lam=lam.value,
        lam_resolution=lam.resolution,
        lam_precision=lam.precision,
        eta=eta,
        v_min=bounds.data_constants(ds.X, ds.y)["v_min"],
        delta=section["delta"],
        c_A=section["c_A"],
        alpha=section["alpha"],
        levels=section["levels"],
        corr_y_xd=float(ntk_data.corr_y_xd(ds.X, ds.y)),
        data_term_fraction=positive / total,
        data_term_threshold=section["data_term_threshold"],
        linear_agreement={W[-1]: lin},
        margin=section["margin"],
        designated_agree=des,
        eta_scan=eta_scan,
        source=str(ctx.config["data"].get("source", "")),
        config={"C2": section, "data": ctx.config["data"]},
        seed=ctx.seed,
    )


def plot_c2(v: Verdict, out: Path) -> list[str]:
    return _c2_plot.draw(v, out, summary_c2(v))


def summary_c2(v: Verdict) -> str:
    M = v.measured
    p, m = M.get("final_agreement_plus", [math.nan]), M.get("final_agreement_minus", [math.nan])
    widths = v.tested_range.get("widths", ["?"])
    bits = []
    if "data_term_fraction" in M:
        bits.append(f"data term {M['data_term_fraction']:.2f}")
    ta = M.get("t_over_t_align")
    if ta and not any(
        p.role == "premise" and p.name.startswith("t >= t_align") and p.status != HOLDS
        for p in v.parts
    ):
        bits.append(f"T/t_align {fmt(min(ta))}")
    bits.append(f"final +1/−1 at m={widths[-1]}: {p[-1]:.2f}/{m[-1]:.2f}")
    target = v.bounds.get("one_minus_delta", 0.9)
    fp, fm = M.get("first_time_plus", {}), M.get("first_time_minus", {})
    key = f"{target:g}"
    if key in fp:
        ok = [
            str(w)
            for w, a, b in zip(widths, fp[key], fm[key])
            if math.isfinite(a) and math.isfinite(b)
        ]
        bits.append(f"1-δ reached at m = {', '.join(ok)}" if ok else "1-δ reached at no width")
    unmet = [
        p.why or p.name for p in v.parts if p.role == "premise" and p.decisive and p.status != HOLDS
    ]
    if unmet:
        bits.insert(0, "premise unmet: " + "; ".join(unmet))
    o = v.observed
    if o is not None:
        onset = M.get("observed_onset", [])
        L = o.looseness
        word = f"observed {o.status}"
        ff = M.get("failure_fraction_mean") or {}
        if o.status == VIOLATED and ff:
            cell, worst = max(ff.items(), key=lambda kv: kv[1])
            word += f": mean failure fraction {worst:.2f} at {cell.replace(',', ' ')} (δ = {1 - v.bounds['one_minus_delta']:.2g})"
        if onset and all(math.isfinite(t) for t in onset):
            word += f": latest onset t = {fmt(max(onset))}"
        if "orders_t_align_over_onset" in L:
            word += f", t_align {min(L['orders_t_align_over_onset']):.0f}+ orders later"
        if o.budget:
            word += f" (HOLDS needs {o.budget.split(' (')[0]})"
        bits.append(word)
    return "; ".join(bits)


def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c2` whose verdict is known, and that verdict: data term
    positive for every neuron, :math:`t_{align}(m) = m` reached, 40 networks per width whose 60
    neurons per group all agree with their :math:`a_r` from step 20 on: every failure fraction is 0 in
    40 of 40 networks (betting upper end 0.099 ≤ δ = 0.1 everywhere): HOLDS."""
    S = 40
    steps = np.array([0, 1, 2, 5, 10, 20, 50, 100])
    agree = np.full((2, S, steps.size), 30)
    agree[..., steps >= 20] = 60
    total = np.full((2, S), 60)
    return dict(
        widths=np.array([8, 16]),
        seeds=np.arange(S),
        steps=steps,
        agree_plus=agree,
        n_plus=total,
        agree_minus=agree,
        n_minus=total,
        lam=1.0,
        lam_resolution=1e-12,
        eta=1.0,
        v_min=1.0,
        delta=0.1,
        corr_y_xd=0.9,
        data_term_fraction=1.0,
        designated_agree=np.ones((2, S, 2), bool),
        config={"C2": {"alpha": 0.05}},
    ), HOLDS


def training_c2(section: dict, data: dict) -> list[TrainingRun]:
    """The runs for the stability check, as data: every width at the configured step size (a
    relative one is resolved by the pipeline against the data, as the run resolves it), and the
    widest width at each η × factor of ``eta_factors``."""
    m, step = max(section["widths"]), StepSize.of(section)
    scan = [TrainingRun(step.scaled(f), (m,), (data["n"],)) for f in section["eta_factors"]]
    return data_n_training(section, data) + [r for r in scan if r.eta != step]


def memory_c2(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: the seeds of one width train as one vmapped program, so the widest
    width's ``seeds`` runs are held at once (``records + 2`` records, no per-neuron records), and
    the linearised model's Jacobian and SVD at the widest width."""
    n, d, m, S = data["n"], data["d"], max(section["widths"]), section["seeds"]
    R = section["records"] + 2
    E = 1 + len(
        [f for f in section.get("eta_factors", []) if f != 1]
    )  # the η scan's programs may run side by side
    return memory_sum(
        (
            E * (8 * S * m * (n + d + TRAIN_NUMBERS_PER_NEURON) + 8 * S * R * (d + 8)),
            f"training state of the widest width's {S} seeds, one vmapped program (Jacobians {S} × n × m)"
            + (f", × {E} step sizes (eta_factors)" if E > 1 else ""),
        ),
        (8 * 3 * n * m, "linearised model at the widest width (J, its SVD factor, w(t))"),
    )


CLAIM = Claim(
    id="C2",
    source="Thm 5.2",
    title="asymmetric learning: sign(w_r) follows a_r",
    statement=r"t\ge\Omega\big(\tfrac{m}{\eta\lambda v_{\min}}\big)\Rightarrow \Pr[w_r(t)>0\mid a_r=1]\ge1-\delta,\ "
    r"\Pr[w_r(t)<0\mid a_r=-1]\ge1-\delta",
    params={
        "widths": cfg.int_list(
            [16, 32, 64, 128], "network widths m (strictly increasing)", minimum=2
        ),
        "seeds": cfg.positive_int(
            160,
            "network seeds per width, trained as one vmapped program (160: power "
            "0.8-0.98 of the seed-level rule at the default data's fractions)",
            maximum=1024,
        ),
        "steps": cfg.positive_int(3000, "gradient-descent steps T (records log-spaced up to T)"),
        "records": cfg.positive_int(
            24, "number of log-spaced records between step 1 and T (plus t = 0)", minimum=2
        ),
        "eta": cfg.positive_float(
            0.25,
            "learning rate: with eta_mode = 'relative' the fraction of the stability "
            "limit, η = eta · 2/λ_max(H*) (0.25: η = ½/λ_max); 'absolute': η itself",
        ),
        "eta_mode": ETA_MODE,
        "eta_factors": cfg.float_list(
            [],
            "opt-in η scan ([] = off): the widest width also trains at η × each factor "
            "(and η), same seeds, for the onset's exponent in η against t_align ∝ 1/η "
            "(a diagnostic; factors > 1 may pass the stability limit)",
            min_len=0,
        ),
        "delta": DELTA,
        "alpha": ALPHA,
        "levels": cfg.float_list(
            list(LEVELS), "agreement levels whose first-reaching times are reported (1-δ added)"
        ),
        "data_term_threshold": cfg.probability(
            0.5,
            "VACUOUS when fewer neurons than this have a positive data "
            "term Σ_i x_i,d V_r(x_i) y_i at t = 0",
        ),
        "margin": cfg.positive_float(
            0.1, "margin Δ of the first-time exponent against 1 (rate_decision)"
        ),
        "c_A": cfg.positive_float(1.0, "unknown constant of t_align = Ω(m/(ηλ v_min))"),
    },
    run=run_c2,
    check=check_c2,
    plot=plot_c2,
    summary=summary_c2,
    training=training_c2,
    memory=memory_c2,
)
