r"""C2's pure check: the two premises (the data term, :math:`t \ge t_{align}`) and the conclusion on
every neuron with the network draw as the unit, each its own short function, then the verdict
(:func:`check_c2`) with the diagnostics of :mod:`._diagnostics` and the observed law of
:mod:`._observed`. Statuses and numbers are decided here; the words come from :mod:`._words`."""

from __future__ import annotations

import math

import numpy as np

from verification.claims.c2_asymmetric_learning import _words as words
from verification.claims.c2_asymmetric_learning._curves import (
    GROUPS,
    NAME,
    C2Input,
    c2_input,
    first_times,
    network_band,
    onset_times,
)
from verification.claims.c2_asymmetric_learning._diagnostics import designated, diagnostics
from verification.claims.c2_asymmetric_learning._observed import observed
from verification.rules import _laws as laws
from verification.rules import clopper_pearson
from verification.rules._verdict import HOLDS, VACUOUS, Part, Verdict, combine_parts

LEVELS = (0.6, 0.7, 0.8, 0.9)
"""Agreement levels whose first-reaching times are reported (1 - δ is added)."""

# --------------------------------------------------------------------------------- premises


def data_term_premise(fraction: float, threshold: float, corr_y_xd) -> Part:
    r"""Premise: the data term :math:`\sum_i x_{i,d}V_r(x_i)y_i` is positive at t = 0 for at least
    ``threshold`` of the neurons (below it most neurons drift away from :math:`a_r`)."""
    ok = fraction >= threshold
    return Part(
        words.DATA_TERM_NAME,
        HOLDS if ok else VACUOUS,
        role="premise",
        why=words.data_term_why(ok, fraction, threshold),
        finding=words.data_term_finding(ok, fraction, threshold, corr_y_xd),
    )


def t_align_of(widths, *, lam, lam_resolution, eta, v_min, c_A) -> np.ndarray:
    r""":math:`t_{align}(m) = c_A m/(\eta\lambda v_{\min})` per width; inf where λ is not above
    its resolution."""
    resolved = lam > lam_resolution
    return np.array(
        [c_A * float(m) / (eta * lam * v_min) if resolved else math.inf for m in widths]
    )


def time_premise(widths, t_align, T: int, *, lam, lam_resolution, precision, eta, v_min, c_A):
    r"""Premise :math:`t \ge t_{align}` at every width: VACUOUS when λ is unresolved or
    :math:`t_{align}` exceeds the ``T`` steps run at some width."""
    if not lam > lam_resolution:
        finding = words.time_unresolved_finding(lam, lam_resolution, precision, T)
        return Part(
            words.TIME_NAME, VACUOUS, role="premise", why="λ below its resolution", finding=finding
        )
    late = t_align <= T
    wi = int(np.argmin(t_align))
    finding = words.time_finding(
        widths,
        t_align,
        late,
        wi,
        T,
        lam=lam,
        lam_resolution=lam_resolution,
        precision=precision,
        eta=eta,
        v_min=v_min,
        c_A=c_A,
    )
    status = HOLDS if late.all() else VACUOUS
    why = words.time_why(status, t_align[wi] / max(T, 1))
    return Part(words.TIME_NAME, status, role="premise", why=why, finding=finding)


# --------------------------------------------------------------------------------- conclusion


def failure_cells(x: C2Input) -> list[tuple[str, int, np.ndarray]]:
    r"""Per group and width with networks that drew the group, the per-network failure fractions
    at T, :math:`f_s = 1 - \mathrm{agree}/n`: ``(group, width index, f)``."""
    cells = [
        (g, wi, 1.0 - x.agree[g][wi, x.n[g][wi] > 0, -1] / x.n[g][wi, x.n[g][wi] > 0])
        for g in GROUPS
        for wi in range(x.widths.size)
    ]
    return [c for c in cells if c[2].size]


def agreement(x: C2Input, cells, T: int, *, delta: float, alpha: float):
    """The conclusion: the failure fractions decided by
    :func:`verification.rules._laws.fraction_decision` (VACUOUS when no network has a neuron of
    either group); returns ``(part, decision)``."""
    dec = laws.fraction_decision([c[2] for c in cells], delta=delta, alpha=alpha)
    name = words.agreement_name(T)
    if dec is None:
        return Part(name, VACUOUS, words.NO_NETWORK, why="not measured"), None
    finding = words.agreement_finding(dec, cells, x.widths, alpha)
    why = words.agreement_why(dec.status, x.agree["+1"].shape[1])
    return Part(name, dec.status, finding, why=why), dec


def agreement_numbers(dec, cells, widths) -> tuple[dict, dict]:
    """The decision's measured numbers and each member's bounds."""
    at = [(f"m={int(widths[wi])},a_r={g}", g, wi, f) for g, wi, f in cells]
    measured = {
        "agreement_decision": dec.status,
        "failure_fraction_mean": {k: dec.mean[j] for j, (k, *_) in enumerate(at)},
        "failure_fraction_seed": {k: [float(v) for v in f] for k, _, _, f in at},
    }
    intervals = {
        f"failure_fraction_{NAME[g]}[m={int(widths[wi])}]": [dec.lower[j], dec.upper[j]]
        for j, (_, g, wi, _) in enumerate(at)
    }
    return measured, intervals


def final_intervals(x: C2Input, alpha: float) -> dict:
    """Clopper–Pearson intervals of each group's pooled agreement at T, where it has neurons."""
    out = {}
    for g in GROUPS:
        for wi in range(x.widths.size):
            if x.total[g][wi] > 0:
                k, n = np.int64(x.pooled[g][wi, -1]), np.int64(x.total[g][wi])
                lo, hi = clopper_pearson(k, n, alpha)
                key = f"agreement_{NAME[g]}_final[m={int(x.widths[wi])}]"
                out[key] = [float(lo), float(hi)]
    return out


def absent_part(x: C2Input) -> Part | None:
    absent = [
        (g, x.widths[wi]) for g in GROUPS for wi in range(x.widths.size) if x.total[g][wi] == 0
    ]
    return Part(words.ABSENT_NAME, VACUOUS, words.absent_finding(absent), False) if absent else None


# --------------------------------------------------------------------------------- the verdict


def premises(
    x: C2Input,
    T: int,
    *,
    corr_y_xd,
    data_term_fraction,
    data_term_threshold,
    lam,
    lam_resolution,
    lam_precision,
    eta,
    v_min,
    c_A,
) -> tuple[list, dict, np.ndarray]:
    r"""The premise parts (the data term when its fraction is given, then the time), their
    measured numbers and :math:`t_{align}` per width."""
    parts, measured = [], {}
    if corr_y_xd is not None:
        measured["corr_y_xd"] = float(corr_y_xd)
    if data_term_fraction is not None:
        measured["data_term_fraction"] = float(data_term_fraction)
        parts.append(data_term_premise(data_term_fraction, data_term_threshold, corr_y_xd))
    lam_args = dict(lam=lam, lam_resolution=lam_resolution, eta=eta, v_min=v_min, c_A=c_A)
    t_align = t_align_of(x.widths, **lam_args)
    measured["t_align"] = t_align.tolist()
    measured.update(v_min=float(v_min), eta=float(eta), lam=float(lam))
    measured["t_over_t_align"] = [T / t if t > 0 else math.inf for t in t_align]
    parts.append(time_premise(x.widths, t_align, T, precision=lam_precision, **lam_args))
    return parts, measured, t_align


def c2_arrays(x: C2Input, first, all_levels, t_align, measured: dict, alpha: float) -> dict:
    """The figure data: pooled counts over the records, the levels and their first crossings,
    per group the mean per-network fraction with its bootstrap band over the networks
    (:func:`._curves.network_band`), and the median network's onset per width with the censored
    networks."""
    arrays = {
        "widths": x.widths,
        "steps": x.steps,
        "agree_plus": x.pooled["+1"],
        "n_plus": x.total["+1"],
        "agree_minus": x.pooled["-1"],
        "n_minus": x.total["-1"],
        "levels": np.asarray(all_levels),
        "first_plus": first["+1"],
        "first_minus": first["-1"],
        "t_align": t_align,
        "median_onset": np.asarray(measured["median_onset"]),
        "onset_censored": np.asarray(measured["onset_censored"]),
    }
    for g in GROUPS:
        mean, lo, hi, used = network_band(x.frac_seed[g], x.n[g], alpha)
        arrays.update(
            {
                f"network_mean_{NAME[g]}": mean,
                f"network_lo_{NAME[g]}": lo,
                f"network_hi_{NAME[g]}": hi,
                f"networks_{NAME[g]}": used,
            }
        )
    return arrays


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
    r"""C2 from sign-agreement counts over training: ``agree_*`` (W, S, R), ``n_*`` (W, S), at
    ``steps`` (R,).

    Decisive parts, in order (:func:`verification.rules._verdict.combine_parts`):

    1. *data term* (premise, when ``data_term_fraction`` is given): VACUOUS when the fraction of
       neurons with :math:`\sum_i x_{i,d}V_r(x_i)y_i > 0` at t = 0 is below
       ``data_term_threshold`` (default 0.5: then most neurons drift away from :math:`a_r`),
       naming it and corr(y, x_d);
    2. *time* (premise): :math:`t_{align}(m) = c_A m/(\eta\lambda v_{\min})`; VACUOUS when λ is
       not above ``lam_resolution`` or :math:`t_{align}` exceeds the last step at some width
       (t_align, the steps run and their ratio reported);
    3. *agreement* (conclusion): per network and group the failure fraction at T,
       :math:`f_s = 1 - \mathrm{agree}/n`, i.i.d. over networks; decided by
       :func:`verification.rules._laws.fraction_decision` (order-free: an exact binomial part on
       rounded fractions and a betting part against δ, intersection–union for HOLDS, Holm over
       2 groups × widths for VIOLATED). ``designated_agree`` (W, S, 2), whether the first neuron
       of group +1 and of group −1 of each network has :math:`\mathrm{sign}(w_r(T)) = a_r`, gives
       the former one-trial-per-network rule (:func:`verification.rules._laws.seed_decision`) as
       a non-decisive diagnostic.

    Diagnostics: the first recorded step each group's pooled agreement crosses each of
    ``levels`` and :math:`1-\delta` (a first crossing, :func:`._curves.first_times`; never called
    an onset); the saturation plateau and whether it settled (:func:`._curves.plateau`); for
    each group and level with a finite median onset at 3+ widths, the exponent of the networks'
    onsets (:func:`._curves.onset_times`: the first record from which the agreement holds at every
    later record; censored, never a number, when it does not hold to T) against m, decided by
    :func:`verification.rules.rate_decision` against exponent 1 (the theory's
    :math:`t_{align} \propto m`) with margin ``margin`` (every network's onset when none is
    censored, else the median per width) — uninformative (VACUOUS, never HOLDS) when censored,
    at the first record, quantised on the record schedule or collinear (:func:`._fits.onset_fit`);
    ``linear_agreement`` (a mapping width → per-seed values): the fraction of neurons whose
    linearised :math:`t\to\infty` sign of :math:`w_r - w_r(0)` matches real training's at the last
    step. ``observed``: the law at the scales run (:func:`._observed.observed`; looseness from
    onsets only). ``eta_scan`` (optional, the ``eta_factors`` run): ``etas`` (E,) and
    ``agree_plus``/``agree_minus`` (E, S, R), ``n_plus``/``n_minus`` (E, S) at one width on the
    same ``steps``; each network's onset per η, fitted against exponent −1
    (:func:`._observed.eta_exponent`), a diagnostic of the observed finding.
    """
    x = c2_input(widths, steps, agree_plus, n_plus, agree_minus, n_minus)
    target = 1 - delta
    all_levels = tuple(sorted(set(float(v) for v in levels) | {target}))
    T = int(x.steps[-1])
    parts, measured, t_align = premises(
        x,
        T,
        corr_y_xd=corr_y_xd,
        data_term_fraction=data_term_fraction,
        data_term_threshold=data_term_threshold,
        lam=lam,
        lam_resolution=lam_resolution,
        lam_precision=lam_precision,
        eta=eta,
        v_min=v_min,
        c_A=c_A,
    )
    cells = failure_cells(x)
    part, dec = agreement(x, cells, T, delta=delta, alpha=alpha)
    parts.append(part)
    intervals = {}
    if dec is not None:
        numbers, intervals = agreement_numbers(dec, cells, x.widths)
        measured.update(numbers)
    if designated_agree is not None:
        des = designated(x, designated_agree, delta=delta, alpha=alpha)
        if des is not None:
            parts.append(des)
            measured["designated_decision"] = des.status
    intervals.update(final_intervals(x, alpha))
    absent = absent_part(x)
    if absent is not None:
        parts.append(absent)
    first = {g: first_times(x.frac[g], x.steps, all_levels) for g in GROUPS}  # (W, L)
    onset_seed = {g: onset_times(x.frac_seed[g], x.steps, all_levels) for g in GROUPS}
    more, numbers, more_intervals = diagnostics(
        x,
        first,
        onset_seed,
        all_levels,
        target,
        T,
        margin=margin,
        alpha=alpha,
        linear_agreement=linear_agreement,
    )
    parts += more
    measured.update(numbers)
    intervals.update(more_intervals)
    status = combine_parts(parts)
    obs = observed(
        dec,
        [c[2] for c in cells],
        onset_seed,
        x.steps,
        x.widths,
        all_levels.index(target),
        t_align,
        eta=eta,
        lam=lam,
        v_min=v_min,
        delta=delta,
        alpha=alpha,
        margin=margin,
        seeds=x.agree["+1"].shape[1],
        source=source,
        measured=measured,
        eta_scan=eta_scan,
    )
    return Verdict(
        claim="C2",
        status=status,
        explanation=words.explanation(status, measured, parts, x.widths, T, obs),
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
            "widths": [int(m) for m in x.widths],
            "seeds": [int(s) for s in seeds],
            "steps": T,
        },
        config=config or {},
        seed=seed,
        arrays=c2_arrays(x, first, all_levels, t_align, measured, alpha),
        observed=obs,
    )
