r"""C1's words: every finding, explanation and summary line, phrased from numbers and statuses that
:mod:`verification.claims.c1_convergence._rule` and ``._mechanism`` decided (nothing is decided
here)."""

from __future__ import annotations

from verification.claims._common import fmt, lam_words
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED, Verdict

OBSERVED_RULE = (
    "rate_decision on the per-seed gap sup_t |L − L_lin|/L(0) (docs/calibration.md, "
    "rows 'C1 kernel gap')"
)
"""The rule that decides C1's observed law, as docs/calibration.md names it."""


def _g3(x: float) -> str:
    return f"{x:.3g}"


# ------------------------------------------------------------------------- the theorem's parts


def unresolved(lam: float, resolution: float) -> tuple[str, str]:
    """The envelope's and T_req's findings where λ is not above its resolution."""
    words = lam_words(lam, resolution)
    return (
        f"{words}: the rate 1 - ηλ/2 cannot be told from 1.",
        f"{words}: T_req = c_T (ηλ)^-1 log(nB²/ε) is unbounded.",
    )


def horizon_why(efolds: float) -> str:
    return f"horizon {efolds:.2g} e-folds"


def envelope_too_weak(rule: str, T: float, demanded: float, min_decrease: float) -> str:
    """An envelope demanding less than the documented resolution of L(0)."""
    return (
        f"{rule}: over {int(T)} steps the envelope demands a "
        f"decrease {demanded:.3g} of L(0) < the documented resolution {min_decrease:g}."
    )


def envelope_count(T: float, efolds: float, need: float, demanded: float, below: int) -> str:
    """What the envelope's family row counts."""
    return (
        f"envelope over {int(T)} steps = {efolds:.3g} e-folds of (1 − ηλ/2)^t (the float floor "
        f"is {need:.3g} e-folds below L(0)) demands a decrease {demanded:.3g} of L(0); runs "
        f"breaking it (beyond rtol and the float floor, {below} points at or below it not "
        "counted) per width"
    )


def eps_below_floor(eps: float, floor: float) -> str:
    return (
        f"ε = {eps:g} lies below the float floor {fmt(floor)} (n (ε_64 (√m B + max|y|))², "
        "stats.float_floor) at the widest width: no computed loss can be shown ≤ ε."
    )


def target_count(T_req: float, T: float, eps: float) -> str:
    """What the ``L(T_req) ≤ ε`` family row counts."""
    return (
        f"T_req = {fmt(T_req)} ≤ {int(T)} steps run; runs with L > ε = {eps:g} at some "
        "t ≥ T_req per width"
    )


def target_beyond(T_req: float, c_T: float, T: float, factor: float) -> str:
    """``L(T_req) ≤ ε`` where T_req lies beyond the steps trained, by ``factor``."""
    return (
        f"T_req = {fmt(T_req)} steps (c_T = {c_T:g}) but {int(T)} were run: beyond reach by a "
        f"factor {fmt(factor)}. The linearised model's L_lin(T_req) is a diagnostic only: it "
        "presumes the kernel regime beyond the horizon trained."
    )


def beyond_why(factor: float) -> str:
    return f"T_req {fmt(factor)}× horizon"


def linearised_nonfinite(counts: list[int], runs: int, width: int, seed: int, n: int) -> str:
    """The linearised model non-finite in ``counts`` of ``runs`` runs per width."""
    return (
        f"L_lin is not finite in {counts} of {runs} runs per width (first: m = {width}, seed "
        f"{seed}; m < n = {n} leaves H(0) singular or a mode unstable): a finding about the "
        "linearised model, not a failure of the claim; those runs are left out of the count "
        "below."
    )


def linearised_eps_below_floor(eps: float, floor: float) -> str:
    return f"ε = {eps:g} below the float floor {fmt(floor)}."


def linearised_count(t: float, T_req: float, times, maxima, eps: float) -> str:
    """What the linearised model's family row counts: L_lin at t ≈ T_req; the largest L_lin at
    each time."""
    at = ", ".join(f"{fmt(x)}: {fmt(v)}" for x, v in zip(times, maxima))
    return (
        f"linearised model (ntk_attention.linearized.predict, H(0) of each run) at t = {fmt(t)} "
        f"(T_req = {fmt(T_req)}; max L_lin at t = {at}); runs with L_lin > ε = {eps:g} per "
        "width (diagnostic)"
    )


# ---------------------------------------------------------------------- the probability family


def holm_family(pairs: int) -> str:
    return f"Holm over {pairs} (part, width) pairs"


def family_violated(failures, runs, p: float, alpha: float, family: str) -> str:
    return (
        f"{failures}/{runs} runs fail, Holm-adjusted p = {fmt(p)} ≤ α/2 = {alpha / 2:g} ({family})"
    )


def family_holds(upper, delta: float, family: str) -> str:
    ends = ", ".join(fmt(float(u)) for u in upper)
    return f"CP upper ends {ends} ≤ δ = {delta:g} (intersection–union, {family})"


def family_inconclusive(upper, delta: float, p_min: float, family: str) -> str:
    ends = ", ".join(fmt(float(u)) for u in upper)
    return (
        f"CP upper ends {ends}, not all ≤ δ = {delta:g}; no adjusted p ≤ α/2 "
        f"(min {fmt(p_min)}; {family})"
    )


def family_finding(text: str, failures, runs, rule: str) -> str:
    return f"{text}: {failures} of {runs}. Rule: probability_decision: {rule}."


def family_why(status: str, failures) -> str:
    return {
        VIOLATED: f"{max(failures)} runs fail",
        INCONCLUSIVE: f"{max(failures)} runs fail; CP end > δ",
    }.get(status, "")


def horizon_rule(efolds: float, need: float, steps: float) -> str:
    """Why an envelope no run breaks reads VACUOUS over too short a horizon."""
    return (
        f" Horizon rule: no run breaks it over {efolds:.3g} e-folds, but the envelope reaches "
        f"the float floor only after {need:.3g} e-folds ({fmt(steps)} steps): the slow modes "
        "were not tested (a later break is not excluded), so this part is VACUOUS, not HOLDS."
    )


def extended(ex, T_req: float, T: float, factor: float, reached: bool, past_range: bool) -> str:
    """A size reported by λ and T_req only (``ex``: its ExtendedSize), T_req ``factor`` times the
    T steps trained."""
    where = "within" if reached else f"beyond the {int(T)} steps trained by a factor {fmt(factor)}"
    past = " and beyond the linearised predictor's range (t ≤ 1e15)" if past_range else ""
    return (
        f"λ = {fmt(ex.lam)} ± {fmt(ex.lam_resolution)} ({ex.precision}); at η = {fmt(ex.eta)} "
        f"(≤ 1/λ_max(H*)), T_req = c_T (ηλ)^-1 log(nB²/ε) = {fmt(T_req)} steps: "
        f"{where}{past}. Reported, not decisive."
    )


def explanation(status: str, runs, decreases, parts, delta: float, alpha: float) -> str:
    """Plain-language sentences on the theorem's verdict; ``decreases`` the decrease of L(0) each
    resolved size's envelope demands (``None`` where λ is unresolved)."""
    s = []
    for r, dec in zip(runs, decreases):
        if dec is None:
            s.append(
                f"For n = {r.n} λ = {fmt(r.lam)} is not above its resolution "
                f"{fmt(r.lam_resolution)}: the rate (1 - ηλ/2)^t and T_req say nothing."
            )
        else:
            s.append(
                f"For n = {r.n}, λ = {fmt(r.lam)} is resolved: over {int(r.steps[-1])} steps the "
                f"envelope demands that the loss fall by at least {dec:.3g} of L(0), on "
                f"{r.loss.shape[1]} seeds per width."
            )
    s.append(
        f'Each part is "w.p. ≥ 1 − δ" per width (δ = {delta:g}), decided by Clopper–Pearson '
        f"bounds with Holm over all decisive parts × widths (α = {alpha:g})."
    )
    s += _status_sentences(status, parts)
    mech = [p for p in parts if p.name.startswith("kernel regime")]
    if mech:
        s.append(
            "The observed verdict reads the proof's mechanism instead, at a realistic n: "
            + "; ".join(f"{p.name.split('(')[-1].rstrip(')')}: {p.status}" for p in mech)
            + "."
        )
    return " ".join(s)


def _status_sentences(status: str, parts) -> list[str]:
    if status == VIOLATED:
        return [
            "At some width the runs fail more often than δ allows (counterexample below); the "
            "theorem's width premise m = Ω(poly(1/λ, …)) may exclude such widths."
        ]
    if status == INCONCLUSIVE:
        return [
            "Some failure rate is neither shown ≤ δ nor > δ: 120 runs per width give 80% power "
            "at a true rate 0.02 (docs/calibration.md); with fewer seeds HOLDS may be out of "
            "reach."
        ]
    unread = "; ".join(f"{p.name}: {p.why}" for p in parts if p.decisive and p.status == VACUOUS)
    if status == VACUOUS:
        return [
            "No width contradicts the theorem, but none of its conclusions could be checked here ("
            + unread
            + ")."
        ]
    if status == HOLDS:
        return [
            "Every checked conclusion holds with the required probability"
            + (f"; not checked: {unread}." if unread else ".")
        ]
    return []


# ------------------------------------------------------------------------------- the mechanism


def mechanism_scale(run) -> str:
    """The range one mechanism source speaks for (``run``: its MechanismRun)."""
    return (
        f"m = {int(run.widths[0])}–{int(run.widths[-1])}, {len(run.seeds)} seeds, "
        f"t ≤ {int(run.steps[-1])} steps at η = {_g3(run.eta)}"
    )


def gap_nonfinite(count: int, width: int, seed: int) -> str:
    return (
        f"L_lin not finite in {count} runs (first m = {width}, seed {seed}: a mode with "
        "|1 − ηλ_k| > 1); those widths are left out of the rate."
    )


def no_slope(scale: str) -> str:
    return f"fewer than 3 widths with finite, positive gaps ({scale})."


def gap_finding(widths, medians, slopes, d, scale: str, sup) -> str:
    """The kernel gap per width, its local slopes and fitted exponent ``d`` (a RateDecision);
    ``sup`` = (median step of the sup, L/L(0) there, the smallest L there, the float floor,
    whether that L lies above it)."""
    t_sup, L_sup, L_low, floor, above = sup
    med = ", ".join(f"m = {int(m)}: {_g3(float(v))}" for m, v in zip(widths, medians))
    return (
        f"median gap {med}; local slopes between consecutive widths "
        + ", ".join(f"{v:.2f}" for v in slopes)
        + f"; fitted exponent {d.slope:.3f} [{d.lo:.3f}, {d.hi:.3f}] over seeds ({scale}); "
        f"the sup is reached at t = {t_sup:.0f} (median), where L = {_g3(L_sup)} L(0) "
        f"(smallest {_g3(L_low)}, {'above' if above else 'at or below'} the float floor "
        f"{_g3(floor)}). Rule: rate_decision: {d.rule}."
    )


def slope_why(d) -> str:
    return "" if d.status == HOLDS else f"slope [{d.lo:.2f}, {d.hi:.2f}]"


def mode_finding(run, min_decrease: float, resolved, medians, d) -> str:
    """Resolved eigendirections per width and the largest deviation of their loss from the
    linearised decay; ``d`` its rate decision (``None``: fewer than 3 widths)."""
    text = (
        "resolved eigendirections of H(0) (λ_k > nε λ_max, mode decaying by ≥ "
        f"{min_decrease:g} over the run, above the float floor) per width, median over seeds: "
        + ", ".join(f"m = {int(m)}: {c} of {run.n}" for m, c in zip(run.widths, resolved))
        + "; largest relative deviation of ½c_k(t)² from ½c_k(0)²(1 − ηλ_k)^{2t}, median over "
        "seeds: " + ", ".join(f"{_g3(v)}" for v in medians)
    )
    if d is not None:
        text += f"; its exponent in m {d.slope:.3f} [{d.lo:.3f}, {d.hi:.3f}] ({d.rule})"
    return text + f" ({mechanism_scale(run)})."


def observed_scale(n: int, widths, T: int, sources: str, trained) -> str:
    """The observed law's range; ``trained``: (n, steps, e-folds of the envelope) per size."""
    scale = f"n = {n}, m = {widths[0]}–{widths[-1]}, t ≤ {T} steps, sources: {sources}"
    for size, steps, efolds in trained:
        scale += f"; n = {size}: t ≤ {steps} ({efolds:.2g} e-folds of the envelope)"
    return scale


def source_reading(source: str, medians, slopes, d) -> str:
    """One mechanism source in the observed finding (``d`` ``None``: no slope)."""
    if d is None:
        return f"{source}: no slope"
    return (
        f"{source}: median gap "
        + " → ".join(_g3(float(v)) for v in medians)
        + " (local slopes "
        + ", ".join(f"{v:.2f}" for v in slopes)
        + f"), exponent {d.slope:.2f} [{d.lo:.2f}, {d.hi:.2f}] → {d.status}"
    )


def observed_finding(readings: list[str], margin: float) -> str:
    return (
        "Training follows its linearised model with a gap sup_t |L − L_lin|/L(0) that shrinks "
        "with m — "
        + "; ".join(readings)
        + f" (theory −1/2, HOLDS when the upper end ≤ −1/2 + Δ = {-0.5 + margin:g})."
    )


def budget(widths, seeds: int, margin: float) -> str:
    """The budget at which the kernel-gap rule reaches power 0.8, and why more seeds do not
    decide a slope on the margin."""
    return (
        f"{len(widths)} widths {widths[0]}–{widths[-1]} × {seeds} seeds: power ≥ 0.8 for a gap "
        "∝ m^-1 at the default data's seed scatter (calibration rows 'C1 kernel gap'). A gap "
        f"exponent near −1/2 + Δ = {-0.5 + margin:g} sits on the rule's margin: more seeds do "
        "not decide it; read the local slopes between widths — a slope that steepens at the "
        "wide end is pre-asymptotic (sunspots flattens to ≈ −0.4 at m = 64–1024 and reaches "
        "≈ −1 from m ≈ 1024), so wider widths decide it, at a cost ∝ m"
    )


# -------------------------------------------------------------------------------- the summary


def summary_c1(v: Verdict) -> str:
    """One line: λ per size, what the envelope demands over how many e-folds, T_req, and the
    observed law's status."""
    bits = []
    sizes = v.arrays.get("n_values", [])
    for n, lam, rho in zip(sizes, v.arrays.get("lam", []), v.arrays.get("lam_resolution", [])):
        b = f"n={int(n)}: λ={lam:.1e} (ρ={rho:.0e})"
        dem = v.bounds.get(f"envelope_decrease_demanded[n={int(n)}]")
        if dem is not None:
            b += f", envelope demands {dem:.2g} of L(0)"
        ef = v.bounds.get(f"envelope_efolds_tested[n={int(n)}]")
        if ef is not None:
            b += (
                f", horizon {ef:.2g} e-folds of (1−ηλ/2)^t (float floor at "
                f"{v.bounds[f'envelope_efolds_to_float_floor[n={int(n)}]']:.2g})"
            )
        T = v.bounds.get(f"T_req[n={int(n)}]")
        if T is not None:
            b += f", T_req={fmt(T)}"
        bits.append(b)
    for k, T in v.bounds.items():
        if k.startswith("T_req[") and not any(k == f"T_req[n={int(n)}]" for n in sizes):
            bits.append(f"{k[6:-1]}: T_req={fmt(T)} (not trained)")
    if v.observed is not None:
        bits.append(f"observed ({v.observed.scale.split(';')[0]}): {v.observed.status}")
    return "; ".join(bits)
