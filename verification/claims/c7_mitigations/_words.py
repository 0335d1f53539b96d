r"""C7's words: each variant's decisive and diagnostic parts, the premise, the observed law's
scale, finding and budget, the explanation and the summary line, built from what :mod:`._rule`
decided (nothing is decided here)."""

from __future__ import annotations

from verification.rules._verdict import HOLDS, INCONCLUSIVE, VIOLATED, Part, Verdict

MARGIN_WORDS = {HOLDS: "mitigates", VIOLATED: "does not mitigate", INCONCLUSIVE: "undecided"}
"""A variant's status under the margin rule, in words."""
PAIRED_WORDS = {HOLDS: "helps", VIOLATED: "hurts", INCONCLUSIVE: "no measurable effect"}
"""A variant's status under the two-sided paired test (the diagnostic), in words."""
PREMISE_NAME = "enough sign-inconsistent test windows"


def fx(x: float) -> str:
    """A risk factor for display: three decimals near 1 (0.997, 1.005), three significant digits
    otherwise.

    >>> fx(0.99712), fx(0.004123), fx(250.0)
    ('0.997', '0.00412', '250')
    """
    return f"{x:.3f}" if 0.01 <= abs(x) < 100 else f"{x:.3g}"


def premise_part(status: str, n_test: int, test_set: str | None) -> Part:
    """The premise: the count of sign-inconsistent test windows and where they come from."""
    return Part(
        PREMISE_NAME,
        status,
        f"{n_test} sign-inconsistent test windows" + (f" ({test_set})" if test_set else "") + ".",
        role="premise",
    )


def mitigation_part(name: str, base: str, m, dec, alpha: float, seeds: int, risk) -> Part:
    """Variant ``name`` against ``base`` under the margin rule ``dec``: its status and basis,
    factor and interval, the one-sided p toward the side it leans (``m``), the risks (``risk``:
    the variant's and the baseline's R/σ²) and the paired test as a diagnostic."""
    thr = 1.0 - dec.margin
    words = MARGIN_WORDS[m.status]
    f_est, f_lo, f_hi = m.factor
    p_name = "Holm-adjusted p of 'does not'" if m.toward_not else "p of 'mitigates'"
    on = f" [{m.basis}]" if m.basis else ""
    return Part(
        f"{name}: OOD risk vs {base} (margin Δ = {dec.margin:g})",
        m.status,
        f"{words}{on} (margin: risk × ≤ {thr:g}): risk × {fx(f_est)} [{fx(f_lo)}, {fx(f_hi)}] "
        f"over {seeds} seeds, one-sided {p_name} = {m.p:.3g} (α/2 = {alpha / 2:g}); R/σ² "
        f"{risk[0]:.3g} vs {risk[1]:.3g}; paired test vs 1 (diagnostic): "
        f"{PAIRED_WORDS[m.paired]}.",
        why="" if m.status == HOLDS else words,
    )


def mass_part(name: str, base: str, status: str, ratios, change, least: float) -> Part:
    """C3's statistic of variant ``name`` against ``base`` (``ratios``: both L·S_LL), its paired
    change with its interval (``change``) and the share of heads attending least to the last
    token; not decisive."""
    d_est, d_lo, d_hi = change
    return Part(
        f"{name}: last-token mass vs {base} (diagnostic)",
        status,
        f"L·S_LL {ratios[0]:.3g} vs {ratios[1]:.3g} (1 = uniform), change {d_est:+.3g} "
        f"[{d_lo:+.3g}, {d_hi:+.3g}]; last token least attended in {least:.0%} of heads.",
        decisive=False,
    )


def factors_text(items) -> str:
    """Variants with their risk factors and intervals: ``items`` pairs of name and factor row."""
    return ", ".join(f"{n} (risk × {fx(f[0])} [{fx(f[1])}, {fx(f[2])}])" for n, f in items)


def observed_scale(S: int, n_test: int, tested: dict) -> str:
    """The budget the observed law rests on: seeds, test windows, n and steps."""
    return (
        f"{S} seeds, {n_test} sign-inconsistent test windows, n = {tested.get('n', '?')}, "
        f"T = {tested.get('steps', '?')} steps"
    )


def observed_budget(need, thr: float, mitigations: int) -> str:
    """The seeds each undecided variant needs (``need``: pairs of name and seeds, 0 beyond 1000)
    for power 0.8, and the test they are counted for; empty when none is undecided."""
    if not need:
        return ""
    return (
        "undecided variants, power 0.8 at the observed share of seeds below/above 1 − Δ: "
        + ", ".join(f"{n} {k} seeds" if k else f"{n} more than 1000 seeds" for n, k in need)
        + f" (exact sign-test budget against 1 − Δ = {thr:g}: α/2 toward 'mitigates', Holm's "
        f"first step over {mitigations} toward 'does not'; calibration rows 'margin_effects "
        "(C7)' in docs/calibration.md)"
    )


def observed_finding(status: str, dec, helps, hurts, unclear) -> str:
    """The observed law's finding: the head for its status, then the other groups of variants
    (``helps``, ``hurts``, ``unclear``: pairs of name and factor row)."""
    thr = 1.0 - dec.margin
    if status == VIOLATED:
        head = f"does not mitigate by Δ = {dec.margin:g} (risk × > {thr:g}): {factors_text(hurts)}"
    elif status == HOLDS:
        head = (
            f"every variant mitigates by Δ = {dec.margin:g} (risk × < {thr:g}): "
            f"{factors_text(helps)}"
        )
    else:
        head = (
            f"no variant shown not to mitigate by Δ = {dec.margin:g} (risk × ≤ {thr:g}), not all "
            "shown to"
        )
    rest = [
        f"{lab}: {factors_text(items)}"
        for lab, items, show in (
            ("mitigates", helps, status != HOLDS),
            ("undecided", unclear, True),
            ("does not mitigate", hurts, status == INCONCLUSIVE),
        )
        if show and items
    ]
    return (
        head
        + "".join(f"; {r}" for r in rest)
        + f" (1 − α intervals of the {dec.estimand} over seeds)."
    )


def test_words(estimand: str) -> str:
    """The per-seed test behind the margin rule, as the decision ran it (its ``estimand``)."""
    if estimand == "median":
        return "one-sided exact sign tests on the median"
    return "one-sided skewness-corrected t tests on the mean"


def explanation(x, dec, risk, lin_est, mass_ratio, groups, best: int, above: bool) -> str:
    """The run in a few sentences: the test, the rule and σ², vanilla against the linear net, the
    variants that mitigate, do not or are undecided (``groups``: helps, hurts, unclear), the best
    variant (``above``: its interval above the linear reference's) and the last-token mass."""
    helps, hurts, unclear = groups
    V = len(x.variants)
    return (
        f"On {x.n_test} sign-inconsistent test windows ({x.seeds} seeds, "
        f"{test_words(dec.estimand)} per mitigation against the margin "
        f"1 − Δ = {1.0 - dec.margin:g} of the risk factor, "
        f"Holm over {V - 1} for 'does not mitigate'), trained on sign-consistent next-step "
        f"windows, with σ² = σ_0² + σ_ε² = {x.own_noise_var:.3g} + {x.noise_std**2:.3g} (the "
        "series' own noise and the injected one), vanilla attention's "
        f"risk is {risk[0, 0]:.3g} σ² against {lin_est[0]:.3g} σ² for the residual linear net. "
        + (
            f"Mitigates by at least Δ = {dec.margin:g}: {factors_text(helps)}. "
            if helps
            else f"No mitigation is shown to lower the risk by Δ = {dec.margin:g}. "
        )
        + (f"Does not mitigate by Δ: {factors_text(hurts)}. " if hurts else "")
        + (f"Undecided: {factors_text(unclear)}. " if unclear else "")
        + f"The best variant ({x.variants[best]}, {risk[best, 0]:.3g} σ²) stays "
        f"{'above' if above else 'within reach of'} the linear reference; the last token's "
        f"data-averaged mass is {mass_ratio[:, 0].min():.2g}–{mass_ratio[:, 0].max():.2g} × "
        "uniform across variants."
    )


def summary_c7(v: Verdict) -> str:
    """One line: the variants that mitigate by Δ and those that do not, with their factors, the
    seeds, and vanilla's R/σ² on the sign-inconsistent windows; empty for a VACUOUS verdict."""
    names = v.measured.get("variants", [])
    f = v.arrays.get("risk_factor")
    if f is None or not names:
        return ""
    status = {
        p.name.split(":")[0]: p.status for p in v.parts if p.decisive and p.role == "conclusion"
    }
    helps = [f"{n} ×{fx(f[i, 0])}" for i, n in enumerate(names) if i and status.get(n) == HOLDS]
    hurts = [f"{n} ×{fx(f[i, 0])}" for i, n in enumerate(names) if i and status.get(n) == VIOLATED]
    margin = v.measured.get("margin", 0.1)
    seeds = v.tested_range.get("seeds") and len(v.tested_range["seeds"]) or "?"
    return (
        f"mitigates by Δ = {margin:g}: "
        + (", ".join(helps) if helps else "none")
        + (f"; does not: {', '.join(hurts)}" if hurts else "")
        + f" ({test_words(v.measured.get('estimand', 'mean'))} over {seeds} seeds vs 1 − Δ, "
        "Holm); "
        f"vanilla R/σ² {v.arrays['risk_ratio'][0, 0]:.3g} on "
        f"{v.tested_range.get('test_windows', '?')} sign-inconsistent windows"
    )
