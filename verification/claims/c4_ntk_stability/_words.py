r"""C4's words: each part's name and finding, the observed law, the explanation and the summary
line, built from what :mod:`._rule` decided (nothing is decided here)."""

from __future__ import annotations

from verification.claims._common import fmt, lam_words
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VIOLATED, Observed, Part, Verdict

WEIGHT_BOUND_NAME = "max_r |w_r(t) − w_r(0)| ≤ η m^-1/2 √K Σ_s √(2L(s))"
LAMBDA_NAME = "λ_min(H(t)) ≥ λ/2"
BERNSTEIN_NAME = "‖H(0) − H*‖ ≤ t_δ(m) w.p. ≥ 1 − δ (matrix Bernstein)"
OBSERVED_RULE = "rate_decision (docs/calibration.md, rate rows)"


def rate_part(label: str, status: str, d, alpha: float, decisive: bool = True) -> Part:
    """The part "``label`` = O(m^-1/2)" with the fitted exponent and interval of the decision ``d``
    (None: a value 0 or not finite)."""
    name = f"{label} = O(m^-1/2)"
    if d is None:
        return Part(
            name,
            status,
            "a value is 0 or not finite: no log-log slope.",
            decisive,
            why="a value 0 or not finite",
        )
    why = {HOLDS: "", VIOLATED: f"slope ≥ {d.lo:.2f}"}.get(
        d.status, f"slope interval [{d.lo:.2f}, {d.hi:.2f}] straddles"
    )
    return Part(
        name,
        status,
        f"fitted exponent {d.slope:.3f}, {1 - alpha:.0%} interval [{d.lo:.3f}, {d.hi:.3f}] "
        f"over {d.widths} widths × {d.seeds} seeds. Rule: {d.rule}.",
        decisive,
        why=why,
    )


def weight_bound_part(status: str, bd) -> Part:
    """The weight movement against its explicit bound (``bd`` None: the losses of some steps were
    not recorded)."""
    if bd is None:
        return Part(
            WEIGHT_BOUND_NAME,
            status,
            "no bound: it sums the loss of every step, and the losses were not "
            "recorded at every step (set record_every = 1).",
            why="losses not recorded every step",
        )
    return Part(
        WEIGHT_BOUND_NAME,
        status,
        f"measured/bound at most {fmt(bd.max_ratio)} over {bd.points} (width, seed, "
        f"step) points. Rule: bounded_by (deterministic bound): {bd.rule}.",
        why="" if status == HOLDS else f"measured/bound {fmt(bd.max_ratio)}",
    )


def weight_diagnostic_part(status: str, d, alpha: float) -> Part:
    """The weight rate, reported and not decisive."""
    part = rate_part("max_r |w_r(t) − w_r(0)|", status, d, alpha, decisive=False)
    return Part(
        part.name + " (diagnostic)",
        part.status,
        part.finding + " Not decisive: a maximum over m neurons fits a slope above −1/2 at these "
        "widths (docs/calibration.md, pre-asymptotic rows); the bound above decides.",
        False,
    )


def lambda_part(d, x, *, lam: float, rho: float, e: float, precision: str) -> Part:
    r""":math:`\lambda_{\min}(H(t)) \ge \lambda/2` in the words of its case (``d.case``), with λ,
    its resolution ρ, its precision and the eigenvalue error e."""
    eig = x.eig
    lo, hi = fmt(float(eig.min())), fmt(float(eig.max()))
    if d.case == "unresolved":
        finding = f"{lam_words(lam, rho)}; measured min_t λ_min(H(t)) in [{lo}, {hi}]."
        return Part(LAMBDA_NAME, d.status, finding, why="λ unresolved")
    where = f"λ = {fmt(lam)} ± {fmt(rho)} ({precision}), eigenvalue error e = {fmt(e)}"
    if d.case == "below":
        wi, si = d.worst
        finding = (
            f"at m = {int(x.widths[wi])}, seed {int(x.seeds[si])}: λ_min(H(t)) = "
            f"{fmt(float(eig[wi, si]))} < (λ − ρ)/2 − e = {fmt(d.lo)} ({where})."
        )
        return Part(LAMBDA_NAME, d.status, finding, why="λ_min(H(t)) below λ/2")
    if d.case == "holds":
        finding = f"min over runs and t {lo} ≥ (λ + ρ)/2 + e = {fmt(d.hi)} ({where})."
        return Part(LAMBDA_NAME, d.status, finding)
    if d.case == "float64":
        finding = (
            f"λ/2 = {fmt(lam / 2)} lies below the float64 error e = {fmt(e)} of a "
            f"computed λ_min(H(t)), and the measured values [{lo}, {hi}] are within it: the check "
            f"cannot be read ({where})."
        )
        return Part(LAMBDA_NAME, d.status, finding, why="λ below float64")
    finding = f"some λ_min(H(t)) lie within rounding of λ/2 = {fmt(lam / 2)} ({where})."
    return Part(LAMBDA_NAME, d.status, finding, why="within rounding of λ/2")


def _bernstein_why(bb) -> str:
    """A few words for the headline on a Bernstein part that did not hold."""
    if bb.status == HOLDS:
        return ""
    if bb.probability is None:
        return f"{bb.exceedances} exceedances"
    if bb.status == INCONCLUSIVE:
        upper = max(bb.probability.upper)
        return f"{bb.exceedances}/{bb.points} exceed; CP end {upper:.3g} vs δ = {bb.delta:g}"
    return f"{bb.exceedances}/{bb.points} exceed t_δ"


def bernstein_part(bb, ratio_lo: float, ratio_hi: float, delta: float) -> Part:
    """Matrix Bernstein: the exceedances and how far the bound lies above the measured values
    (``ratio_lo``–``ratio_hi`` times)."""
    return Part(
        BERNSTEIN_NAME,
        bb.status,
        f"{bb.exceedances} of {bb.points} runs exceed t_δ(m); the bound is {ratio_lo:.1f}× to "
        f"{ratio_hi:.1f}× the measured value. Rule: bounded_by with δ = {delta:g}: {bb.rule}.",
        why=_bernstein_why(bb),
    )


def _observed_finding(rates) -> str:
    h0, ht = rates.full
    fitted = (
        f"‖H(0) − H*‖ slope {h0.slope:.3f} [{h0.lo:.3f}, {h0.hi:.3f}], sup_t ‖H(t) − H(0)‖ "
        f"slope {ht.slope:.3f} [{ht.lo:.3f}, {ht.hi:.3f}] over all widths"
    )
    if rates.onset is None:
        return f"No width from which both rates read HOLDS; {fitted}."
    return (
        f"Both rates O(m^-1/2) read HOLDS from m₀ = {rates.onset} (slopes "
        f"{rates.fits[0].slope:.3f}, {rates.fits[1].slope:.3f} on m ≥ {rates.onset}); {fitted}."
    )


def observed_law(rates, widths, S: int, steps, margin: float, violation_margin: float) -> Observed:
    """The observed law of :func:`._rule.observed_rates` in words: the rule, the scale run, the
    fitted exponents and onset, and the budget where the status is INCONCLUSIVE."""
    m = f"m = {int(widths[0])}–{int(widths[-1])}"
    if rates.full is None:
        return Observed(
            rates.status, OBSERVED_RULE, m, "a distance is 0 or not finite: no log-log slope."
        )
    scale = f"{m} ({len(widths)} widths) × {S} seeds" + (
        f", t ≤ {int(steps)} steps" if steps is not None else ""
    )
    budget = (
        ""
        if rates.status != INCONCLUSIVE
        else "9 widths (64–16384) × 30 seeds: the rate rule's power for a CLT rate reaches 0.8 "
        "(docs/calibration.md)"
    )
    return Observed(
        rates.status,
        f"rate_decision on per-seed slopes, Δ = {margin:g}, Δ_v = {violation_margin:g} "
        "(docs/calibration.md, rate rows)",
        scale,
        _observed_finding(rates),
        rates.looseness,
        budget,
    )


def explanation(status, parts, widths, S: int, d_w, bd, need, delta, alpha) -> str:
    """Two or three sentences: the decisive parts over the budget run, the weight diagnostic and
    bound, and (INCONCLUSIVE) the budget that could decide, ``need`` runs per width for
    Bernstein."""
    budget = f"{len(widths)} widths {int(widths[0])}–{int(widths[-1])} × {S} seeds"
    decisive = "; ".join(f"{p.name}: {p.status}" for p in parts if p.decisive)
    more = ""
    if need is not None:
        more = (
            " A rate reaches HOLDS once its interval's half-width is below Δ: about 9 widths × 30 "
            f"seeds for a CLT rate (docs/calibration.md); the Bernstein part needs ≥ {need} runs "
            f"per width at δ = {delta:g}, α = {alpha:g} (0 failures then give a Clopper–Pearson "
            "end ≤ δ)."
        )
    return (
        f"Over {budget}: {decisive}. The weight rate is a diagnostic "
        + (f"(fitted {d_w.slope:.2f}); " if d_w is not None else "; ")
        + (
            f"each neuron moves at most {fmt(bd.max_ratio)} of its explicit bound."
            if bd is not None
            else "no weight bound (losses not recorded at every step)."
        )
        + more
    )


def summary_c4(v: Verdict) -> str:
    """One line: the two fitted slopes against −1/2 + Δ, the weight movement over its bound, and
    the observed status with its onset."""
    s = [v.measured.get(k) for k in ("slope_H0_minus_Hstar", "slope_sup_Ht_minus_H0")]
    slopes = "/".join(f"{x:.2f}" if x is not None else "–" for x in s)
    r = v.measured.get("weight_change_over_bound_max")
    ob = v.observed
    onset = None if ob is None else ob.looseness.get("onset_width")
    return (
        f"slopes {slopes} (HOLDS ≤ −0.5 + Δ = {-0.5 + v.bounds.get('margin', 0.1):.2f}); "
        f"max|Δw|/bound {fmt(r) if r is not None else '–'}"
        + (
            ""
            if ob is None
            else f"; observed {ob.status}" + (f" from m₀ = {onset}" if onset is not None else "")
        )
    )
