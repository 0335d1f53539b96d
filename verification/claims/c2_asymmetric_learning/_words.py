r"""C2's words: every part's name and finding, the observed law's sentences, the explanation and the
summary line, phrased from the statuses and numbers that :mod:`._rule` and :mod:`._observed`
decided (nothing is decided here)."""

from __future__ import annotations

import math

from verification.claims._common import fmt
from verification.rules import _laws as laws
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VIOLATED, Verdict

DATA_TERM_NAME = "data term Σ_i x_i,d V_r(x_i) y_i > 0 drives w_r toward a_r at t = 0"
TIME_NAME = "t >= t_align = c_A m/(ηλ v_min)"
DESIGNATED_NAME = "designated neuron (the first of each group) disagrees (diagnostic)"
ABSENT_NAME = "groups without neurons"
LEVELS_NAME = "first crossing of each level by both groups (pooled over networks; not an onset)"
SATURATION_NAME = "saturation: agreement plateau over the last decade (+1/-1)"
EXPONENT_NAME = "onset ∝ m per group and level (t_align ∝ m), exponent vs 1"
LINEAR_NAME = "linearised t → ∞ sign of w_r − w_r(0) vs real training's at T"
ETA_HEAD = "onset exponent in η (diagnostic, not the status)"


# --------------------------------------------------------------------------------- premises


def data_term_why(ok: bool, fraction: float, threshold: float) -> str:
    return "" if ok else f"data term positive for {fraction:.2f} < {threshold:g}"


def data_term_finding(ok: bool, fraction: float, threshold: float, corr_y_xd) -> str:
    """The fraction of neurons with a positive data term against the threshold, with corr(y, x_d)
    when given."""
    corr = f", corr(y, x_d) = {corr_y_xd:.3f}" if corr_y_xd is not None else ""
    return (
        f"fraction of neurons with a positive data term {fraction:.2f} "
        f"{'≥' if ok else '<'} threshold {threshold:g}{corr}"
        + (
            "."
            if ok
            else ": the data cannot drive the drift toward a_r, so the theorem's mechanism "
            "is absent on this data."
        )
    )


def time_unresolved_finding(lam: float, lam_resolution: float, precision: str, T: int) -> str:
    return (
        f"λ = λ_min(H*) = {fmt(lam)} ({precision}) is not above its resolution "
        f"{fmt(lam_resolution)}: t_align is unbounded; {T} steps were run."
    )


def time_why(status: str, factor: float) -> str:
    return "" if status == HOLDS else f"t_align beyond reach by {fmt(factor)}×"


def time_finding(
    widths, t_align, late, wi: int, T: int, *, lam, lam_resolution, precision, eta, v_min, c_A
) -> str:
    r""":math:`t_{align}` at its smallest width ``wi`` against the ``T`` steps run, and where it is
    reached (``late``: per width, :math:`t_{align} \le T`)."""
    factor = fmt(t_align[wi] / max(T, 1))
    return (
        f"λ = {fmt(lam)} ({precision}, error {fmt(lam_resolution)}), v_min = {fmt(v_min)}, "
        f"η = {eta:g}, c_A = {c_A:g}: t_align = {fmt(t_align[wi])} steps at "
        f"m = {int(widths[wi])} (∝ m), {T} run: "
        + (
            "reached at every width."
            if late.all()
            else f"beyond reach by a factor {factor} at the smallest width"
            + (
                f", reached at m = {', '.join(str(int(m)) for m in widths[late])}"
                if late.any()
                else ""
            )
            + "."
        )
    )


# --------------------------------------------------------------------------------- conclusion


def agreement_name(T: int) -> str:
    return f"Pr[sign w_r(T) = a_r] >= 1-δ at T = {T} (network draws as the unit, every neuron)"


def agreement_finding(dec, cells, widths, alpha: float) -> str:
    """Per width and group the mean failure fraction over the networks, its largest value and its
    bounds, then the rule that decided (``dec``, :func:`verification.rules._laws.fraction_decision`
    on ``cells``, (group, width index, per-network fractions))."""
    where = "; ".join(
        f"m = {int(widths[wi])} a_r = {g}: mean failure fraction {dec.mean[j]:.3g} over "
        f"{dec.seeds[j]} networks (max {f.max():.3g}), {1 - alpha:.0%} bounds "
        f"[{dec.lower[j]:.3g}, {dec.upper[j]:.3g}]"
        for j, (g, wi, f) in enumerate(cells)
    )
    return f"{where}. Rule: {laws.FRACTION_RULE}: {dec.rule}."


def agreement_why(status: str, networks: int) -> str:
    return {
        HOLDS: "",
        VIOLATED: "signs do not follow a_r",
        INCONCLUSIVE: f"{networks} networks cannot show 1-δ",
    }.get(status, "")


NO_NETWORK = "no network has a neuron of either group."


# --------------------------------------------------------------------------------- diagnostics


def designated_finding(fails, trials, widths, groups, rule: str) -> str:
    """Failing designated neurons over the networks with one, per group and width (``fails`` and
    ``trials`` flattened group-major)."""
    W = len(widths)
    where = "; ".join(
        f"m = {int(widths[wi])} a_r = {g}: {fails[gi * W + wi]}/{trials[gi * W + wi]}"
        for gi, g in enumerate(groups)
        for wi in range(W)
        if trials[gi * W + wi]
    )
    return f"{where} networks. Rule: {laws.SEED_RULE}: {rule}."


def absent_finding(absent) -> str:
    """``absent``: (group, width) pairs without a neuron."""
    return (
        "; ".join(f"no neuron has a_r = {g} at m = {int(m)}" for g, m in absent)
        + ": nothing to check there."
    )


def levels_finding(reached, T: int) -> str:
    """``reached``: per level, the (width, first step) pairs where both groups reach it."""
    reach_words = [
        f"{L:g}: "
        + (", ".join(f"m={int(m)} t={int(t)}" for m, t in pairs) if pairs else "no width")
        for L, pairs in reached
    ]
    return "; ".join(reach_words) + f" (records log-spaced to {T})."


def saturation_finding(widths, level, settled, slopes) -> str:
    """Each width's plateau (+1/-1), whether it still moves, and its change per unit log m."""
    plat = ", ".join(
        f"m={int(m)}: {level['+1'][wi]:.2f}/{level['-1'][wi]:.2f}"
        + ("" if settled["+1"][wi] and settled["-1"][wi] else " (still moving)")
        for wi, m in enumerate(widths)
    )
    slope_words = (
        ""
        if slopes is None
        else f"; change per unit log m {slopes[0]:+.3f}/{slopes[1]:+.3f} (least squares, "
        "descriptive)"
    )
    return plat + slope_words + "."


def _group_level(key: str) -> str:
    g, L = key.split("@")
    return f"a_r = {g} level {L}"


def exponent_finding(exps: dict, quantised: dict) -> str:
    fitted = "; ".join(
        f"{_group_level(k)}: slope {r.slope:.2f} [{r.lo:.2f}, {r.hi:.2f}] {r.status} ({r.rule})"
        for k, r in exps.items()
    )
    return fitted + (f"; {exponent_uninformative(quantised)}" if quantised else ".")


def exponent_uninformative(quantised: dict) -> str:
    return (
        "uninformative: "
        + "; ".join(f"{_group_level(k)}: {w}" for k, w in quantised.items())
        + ". Refine the records (C2.records) or start the records earlier."
    )


EXPONENT_QUANTISED_WHY = "onsets censored, quantised or collinear on the records"
NO_EXPONENT = (
    "uninformative: no level has a finite median onset (held to T) at 3 or more widths, so no "
    "exponent can be fitted."
)
NO_EXPONENT_WHY = "onsets censored"


def linear_finding(la: dict, predicts: bool) -> str:
    return (
        ", ".join(f"m={m}: {v.mean():.2f}" for m, v in la.items())
        + " of neurons agree (mean over seeds); the kernel regime "
        + ("predicts" if predicts else "does not predict")
        + " the trained signs."
    )


# --------------------------------------------------------------------------------- onset fits

PER_NETWORK = "every network's onset"


def median_basis(unit: str, censored: int) -> str:
    return f"the median network's onset per {unit} ({censored} networks censored: no onset by T)"


def fit_too_few_points(points: int, unit: str) -> str:
    return f"{points} {unit}s: the fit needs 3"


def fit_too_few(finite: int, points: int, unit: str) -> str:
    return (
        f"{finite} of {points} {unit}s have a finite median onset (elsewhere half or more "
        "networks never hold to the last record: censored); the fit needs 3"
    )


def fit_quantised(median, unit: str) -> str:
    at = ", ".join(fmt(t) for t in median)
    return (
        f"quantised: the median onsets t = {at} sit on consecutive records of the schedule, one "
        f"record or less per {unit}, so the slope is the record spacing's, not measured"
    )


def fit_collinear(slope: float, points: int, unit: str) -> str:
    return (
        f"collinear: {points} {unit}s' onsets lie exactly on a line (slope {slope:.2f} with a "
        "zero-width interval): the record grid, not the networks, sets the slope"
    )


def censored_onset(T: int) -> str:
    """An onset not reached within the records: never a number."""
    return f">{T} (censored)"


# --------------------------------------------------------------------------------- observed law


LATEST = "the latest network"
MEDIAN = "the median network"
NO_LOOSENESS = "no looseness: no width has an onset (every median network censored, no onset by T)"


def onset_at(t: float, T: int) -> str:
    """An onset as words: the step, or censored (never a number)."""
    return f"t = {fmt(t)}" if math.isfinite(t) else f"t {censored_onset(T)}"


def onset_words(widths, median, latest, censored, T: int) -> str:
    """Per width the median and latest network's onset of 1-δ, censored ones marked as such."""
    S = "networks"
    at = ", ".join(
        f"m = {int(m)}: {onset_at(md, T)}"
        + (f" / {onset_at(lt, T)}" if lt != md else "")
        + (f" ({c} {S} never hold to T)" if c else "")
        for m, md, lt, c in zip(widths, median, latest, censored)
    )
    return (
        "Onset of 1-δ agreement (first record from which both groups hold it at every later "
        f"record; median / latest network): {at}"
    )


def onset_rate_words(rd, basis: str) -> str:
    return (
        f"onset ∝ m^{rd.slope:.2f} [{rd.lo:.2f}, {rd.hi:.2f}] against t_align ∝ m^1 ({rd.status}; "
        f"{basis})"
    )


def onset_uninformative(why: str) -> str:
    return f"onset exponent in m uninformative ({why})"


def looseness_words(loose: dict, bound: str, orders) -> str:
    """The orders from the onset (``loose``: who, the widths with an onset, c_A) to t_align."""
    at = ", ".join(str(m) for m in loose["onset_widths"])
    return (
        f"t_align exceeds the observed onset ({loose['onset_of']}, m = {at}) by {bound}"
        f"{orders.min():.1f}–{orders.max():.1f} orders; c_A = {loose['c_A_supported']:.3g} would "
        "make t_align that onset"
    )


def settled_below_words(low) -> str:
    return "agreement settled below 1-δ at " + ", ".join(
        f"m = {m} ({p:.2f}/{q:.2f})" for m, p, q in low
    )


def observed_finding(T: int, status: str, dec, sentences) -> str:
    rule_words = "no network with neurons" if dec is None else dec.rule
    return f"At T = {T}: {status} ({rule_words}). " + "; ".join(sentences) + "."


def observed_scale(widths, T: int, eta: float, seeds: int, source: str) -> str:
    return (
        f"m ∈ {{{', '.join(str(int(m)) for m in widths)}}}, t ≤ {T}, η = {eta:.3g}, "
        f"{seeds} network draws per width" + (f", data {source}" if source else "")
    )


def observed_budget(dec, delta: float, seeds_needed) -> str:
    """Where the observed status is INCONCLUSIVE: none when the mean failure fraction is at or
    above δ (``seeds_needed`` not computed), else the networks per width that
    :func:`verification.rules._laws.fraction_seeds_for_power` found (None: none found)."""
    if max(dec.mean) >= delta:
        return (
            f"none: the observed mean failure fraction {max(dec.mean):.3g} is at or above "
            f"δ = {delta:g}, so more seeds move toward VIOLATED, not HOLDS"
        )
    if seeds_needed:
        return (
            f"{seeds_needed} seeds per width (power 0.8 of the seed-level rule under the "
            "conservative law: whole groups flipping at the pilot's median-unbiased upper failure "
            "rate)"
        )
    return (
        "more than 512 seeds per width under the conservative law (whole groups "
        "flipping), or a pilot too small to bound the failure rate below δ"
    )


def eta_uninformative(why: str) -> str:
    return f"uninformative ({why})"


def eta_words(etas, median_onset, diverged, why: str, rd, T: int) -> str:
    r"""The η scan's sentence: its exponent against −1 (or why it is uninformative), the median
    onset per η (censored marked) and the networks that diverged."""
    at = ", ".join(f"η = {e:.3g}: {onset_at(t, T)}" for e, t in zip(etas, median_onset))
    tail = (
        f"; diverged networks per η: {diverged} (past the stability limit)" if any(diverged) else ""
    )
    if why:
        return f"{ETA_HEAD} {eta_uninformative(why)}; median onset {at}{tail}"
    return (
        f"{ETA_HEAD}: onset ∝ η^{rd.slope:.2f} [{rd.lo:.2f}, {rd.hi:.2f}] against t_align ∝ η^-1 "
        f"({rd.status}); median onset {at}{tail}"
    )


# --------------------------------------------------------------------------------- the verdict


def explanation(status: str, measured: dict, parts, widths, T: int, obs=None) -> str:
    """The agreement at the widest width at T and at t = 0, the premises not met (or the decision),
    and the observed law."""
    fp, fm = measured["final_agreement_plus"][-1], measured["final_agreement_minus"][-1]
    s = [
        f"At the widest width (m = {int(widths[-1])}) after {T} steps, {fp:.0%} of a_r = +1 "
        f"neurons have w_r > 0 and {fm:.0%} of a_r = -1 neurons have w_r < 0 "
        f"({measured['initial_agreement_plus'][-1]:.0%} and "
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


def _reached_words(v: Verdict, widths) -> list[str]:
    """The widths where the median network holds 1-δ to T (an onset); a summary without onsets
    (written before them) keeps its first crossings."""
    M = v.measured
    if "onset_censored" not in M:
        return _crossed_words(v, widths)
    ok = [str(w) for w, t in zip(widths, M.get("median_onset", [])) if math.isfinite(t)]
    return [f"1-δ held to T (median network) at m = {', '.join(ok)}" if ok else "no onset of 1-δ"]


def _crossed_words(v: Verdict, widths) -> list[str]:
    M = v.measured
    target = v.bounds.get("one_minus_delta", 0.9)
    fp, fm = M.get("first_time_plus", {}), M.get("first_time_minus", {})
    key = f"{target:g}"
    if key not in fp:
        return []
    ok = [
        str(w) for w, a, b in zip(widths, fp[key], fm[key]) if math.isfinite(a) and math.isfinite(b)
    ]
    return [f"1-δ reached at m = {', '.join(ok)}" if ok else "1-δ reached at no width"]


def _onset_words(M: dict, T) -> str:
    onset, censored = M.get("observed_onset", []), M.get("onset_censored")
    if onset and all(math.isfinite(t) for t in onset):
        return f": latest onset t = {fmt(max(onset))}"
    if censored is None or not onset:
        return ""
    return f": {sum(censored)} networks censored (no onset by T = {T})"


def _observed_words(v: Verdict) -> str:
    M, o = v.measured, v.observed
    L = o.looseness
    word = f"observed {o.status}"
    ff = M.get("failure_fraction_mean") or {}
    if o.status == VIOLATED and ff:
        cell, worst = max(ff.items(), key=lambda kv: kv[1])
        delta = 1 - v.bounds["one_minus_delta"]
        word += f": mean failure fraction {worst:.2f} at {cell.replace(',', ' ')} (δ = {delta:.2g})"
    word += _onset_words(M, v.tested_range.get("steps", "?"))
    if "orders_t_align_over_onset" in L:
        word += f", t_align {min(L['orders_t_align_over_onset']):.0f}+ orders later"
    if o.budget:
        word += f" (HOLDS needs {o.budget.split(' (')[0]})"
    return word


def summary_c2(v: Verdict) -> str:
    """One line: a premise not met, the data term, T/t_align, the final agreement at the widest
    width, the widths whose median network holds 1-δ to T and the observed status with its onset
    (censored networks counted, never a number) and budget."""
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
    bits += _reached_words(v, widths)
    unmet = [
        p.why or p.name for p in v.parts if p.role == "premise" and p.decisive and p.status != HOLDS
    ]
    if unmet:
        bits.insert(0, "premise unmet: " + "; ".join(unmet))
    if v.observed is not None:
        bits.append(_observed_words(v))
    return "; ".join(bits)
