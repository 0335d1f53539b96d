r"""C3's prose: the readings' words, the parts' findings, the explanation and the summary line.

Every function here is handed numbers and statuses that :mod:`._rule` decided; nothing is decided
here.
"""

from __future__ import annotations

import math

from verification.claims.c3_last_token_mass._readings import READING_KEYS
from verification.rules import _laws as laws
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED, Verdict

READING_WORDS = {
    ("neuron", "every"): "per neuron, s̄_{r,d} ≤ min_{k<d} s̄_{r,k}",
    ("neuron", "average"): "per neuron, s̄_{r,d} ≤ mean_{k<d} s̄_{r,k} (⇔ s̄_{r,d} ≤ 1/d)",
    ("population", "every"): "over neurons, E_r s̄_{r,d} ≤ min_{k<d} E_r s̄_{r,k}",
    ("population", "average"): "over neurons, E_r s̄_{r,d} ≤ mean_{k<d} E_r s̄_{r,k} (⇔ ≤ 1/d)",
}
"""Each reading (expectation, versus) of Theorem 5.3's inequality, in symbols."""

KERNEL_THRESHOLD_WHY = (
    "the theorem's kernel regime needs ‖H(t) − H(0)‖ ≤ λ/4 (Weyl: λ_min(H(t)) ≥ λ/2 given "
    "λ_min(H(0)) ≥ 3λ/4), and λ ≤ ‖H*‖ ≈ ‖H(0)‖, so a relative change above 1/4 rules the regime "
    "out whatever λ is"
)


# --------------------------------------------------------------------------------- readings


def reading(expectation: str, x: dict) -> str:
    """One reading's outcome at one width (:func:`._readings.seed_reading`'s counts), in words."""
    if expectation == "neuron":
        return (
            f"designated neuron fails in {x['fails']}/{x['trials']} networks; {x['value']:.1%} of "
            "eligible neurons hold (descriptive)"
        )
    return (
        f"network-averaged masses fail in {x['fails']}/{x['trials']} networks; mean gap "
        f"{x['value']:.4g}"
    )


def per_width(expectation: str, results, widths) -> str:
    """``m = 64: …; m = 256: …`` for one reading's results over the widths."""
    return "; ".join(f"m = {m}: {reading(expectation, x)}" for m, x in zip(widths, results))


def conclusion_name(chosen: tuple[str, str]) -> str:
    return f"[{chosen[0]}/{chosen[1]}] on the neurons with w_r(T) < 0: {READING_WORDS[chosen]}"


def conclusion_why(status: str, networks: int) -> str:
    return {
        HOLDS: "",
        VIOLATED: "last position not least attended",
        VACUOUS: "no negative neuron",
        INCONCLUSIVE: f"{networks} networks cannot show 1-δ",
    }[status]


def diagnostic_name(r: tuple[str, str], *, conditional: bool) -> str:
    if conditional:
        return f"[{r[0]}/{r[1]}] on w_r(T) < 0 (diagnostic)"
    return f"[{r[0]}/{r[1]}] on every neuron (unconditional, diagnostic)"


DATA_CONDITION_NAME = "data condition max_{k<d} E[x_d x_k] <= E[x_d²] (behind the 'every' reading)"

FIRST_ORDER = (
    "to first order in w a common weight w < 0 puts the least mass on the last position "
    "(the first-order law for small weights)"
)


def _windows_label(n) -> str:
    return f"the {n} training windows" if n else "the training windows"


def data_condition_finding(dc: dict, d: int, n=None) -> str:
    """The condition on the training windows alone (no process sample given): one sample, no
    interval."""
    return (
        f"In {_windows_label(n)} (one sample, no interval): max_k<d E[x_d x_k] = "
        f"{dc['max_other']:.4g} at k = {dc['argmax_position']}, E[x_d²] = {dc['last']:.4g}"
        + ("." if dc["holds"] else f": position {dc['argmax_position']} wins, not d = {d}.")
    )


def _plural(unit: str) -> str:
    return unit.replace("block", "blocks", 1) if unit.startswith("block") else unit + "s"


def process_label(dp: dict) -> str:
    """``data process (residual; 10008 windows: how; 95% bootstrap over the 417 draws)``."""
    return (
        f"data process ({dp['source']}; {dp['windows']} windows: {dp['how']}; "
        f"{dp['confidence']:.0%} bootstrap over the {dp['units']} {_plural(dp['unit'])})"
    )


def _iv(x: list) -> str:
    return f"[{x[0]:.3g}, {x[1]:.3g}]"


def margin_words(dp: dict) -> str:
    return (
        f"E[x_d²] − max_k<d E[x_d x_k] = {dp['margin']:.3g} {_iv(dp['margin_interval'])} "
        f"(max at k = {dp['argmax_position']}: {dp['max_other']:.4g}; E[x_d²] = {dp['last']:.4g})"
    )


def process_condition_finding(dp: dict, d: int, sample: dict | None, n=None) -> str:
    """The data condition of the data process with its interval, the first-order statement only
    where the interval says it holds, and the training windows' value as a labelled diagnostic."""
    verdict = {
        HOLDS: f"it holds, so {FIRST_ORDER}",
        VIOLATED: f"it fails (position {dp['argmax_position']} wins, not d = {d}): the first-order "
        "law for small weights does not apply",
        INCONCLUSIVE: "the interval straddles 0: the first-order law for small weights is not "
        "stated",
    }[dp["condition"]]
    out = f"{margin_words(dp)} on the {process_label(dp)}: {verdict}."
    if sample is not None:
        out += (
            f" In {_windows_label(n)} (diagnostic, one sample): max_k<d E[x_d x_k] = "
            f"{sample['max_other']:.4g} (k = {sample['argmax_position']}), E[x_d²] = "
            f"{sample['last']:.4g}."
        )
    return out


def w_star_words(dp: dict) -> str:
    """|w|* of the data process with its interval, or why no boundary is stated."""
    if dp["gate"] == VIOLATED:
        return (
            f"on the {process_label(dp)}, the data condition fails ({margin_words(dp)}): a common "
            "weight w < 0 does not put the least mass on the last position even at small |w|, so "
            "there is no boundary |w|*"
        )
    if dp["gate"] == INCONCLUSIVE:
        return (
            f"on the {process_label(dp)}, the data condition's interval straddles 0 "
            f"({margin_words(dp)}): no boundary |w|* is stated"
        )
    w, (lo, hi) = dp["w_star"], dp["w_star_interval"]
    if math.isnan(w):
        what = f"breaks it already at the grid's smallest |w| = {dp['grid'][0]:.3g}"
    elif math.isinf(w):
        what = f"keeps it up to the grid's largest |w| = {dp['grid'][1]:.3g} (|w|* beyond it)"
    else:
        what = f"keeps it for |w| < |w|* = {w:.3g} [{lo:.3g}, {hi:.3g}]"
    return f"on the {process_label(dp)}, a common weight w < 0 {what}"


def sample_boundary_words(w_hold: float, w_fail: float, n=None) -> str:
    """The boundary in the training windows (one sample: a diagnostic, no interval)."""
    head = f"in {_windows_label(n)} (diagnostic, one sample, no interval)"
    if math.isnan(w_hold):
        return f"{head}: it breaks already at the grid's smallest |w| = {w_fail:.3g}"
    if math.isinf(w_fail):
        return f"{head}: it holds up to the grid's largest |w| = {w_hold:.3g}"
    return f"{head}: it holds for |w| ≤ {w_hold:.3g} and breaks at |w| = {w_fail:.3g}"


# --------------------------------------------------------------------------------- premises


def kernel_name(threshold: float) -> str:
    return f"premise: kernel regime ‖H(T) − H(0)‖/‖H(0)‖ ≤ {threshold:g}"


def kernel_finding(worst, widths, threshold: float, ok: bool) -> tuple[str, str]:
    """Finding and why of the kernel-regime premise from each width's largest change ``worst``."""
    finding = (
        ", ".join(f"m = {m}: max over seeds {w:.3g}" for m, w in zip(widths, worst))
        + f" {'≤' if ok else '>'} {threshold:g} ({KERNEL_THRESHOLD_WHY})."
    )
    why = "" if ok else f"kernel regime left: ‖ΔH‖/‖H(0)‖ = {max(worst):.3g} > {threshold:g}"
    return finding, why


STEP_NAME = "premise: step size η ≤ O(λδ/poly)"


def step_why(status: str, orders: float) -> str:
    return {
        HOLDS: "",
        VIOLATED: f"η above λδ by {orders:.0f} orders",
        VACUOUS: "λ below its resolution",
    }[status]


NEGATIVE_NAME = "premise: Pr[w_r(T) < 0] ≥ 1-δ (network draws as trials)"


def negative_finding(res, widths, delta: float, rule: str) -> str:
    return (
        "; ".join(
            f"m = {m}: neuron 0 negative in {r['trials'] - r['fails']}/{r['trials']} networks, "
            f"{r['fraction']:.3f} of all neurons negative (descriptive)"
            for m, r in zip(widths, res)
        )
        + f" vs 1-δ = {1 - delta:g}. Rule: {rule}."
    )


def negative_why(status: str, networks: int) -> str:
    return {
        HOLDS: "",
        VIOLATED: "w_r(T) ≥ 0 too often",
        INCONCLUSIVE: f"{networks} networks cannot show 1-δ",
        VACUOUS: "no network",
    }[status]


# --------------------------------------------------------------------------------- observed


def observed_finding(
    law: dict, steps, *, delta: float, alpha: float, draws: int, data: tuple = ()
) -> str:
    """The observed law's finding from :func:`._observed.observed_law`'s records, then ``data``:
    the data's boundary in words (:func:`w_star_words`, :func:`sample_boundary_words`)."""
    words = []
    L = law["looseness"]
    if "t_hold" in L:
        words.append(
            f"the last position is least attended in every network up to t = {L['t_hold']} "
            f"(median |w_r| {L['median_abs_w_at_t_hold']:.3g})"
        )
    early = law["early"]
    if early and early != {HOLDS}:
        words.append(
            f"before that the seed-level rule reads {'/'.join(sorted(early))} "
            f"({draws} draws per width; HOLDS needs "
            f"{laws.seeds_for_power(delta=delta, alpha=alpha)})"
        )
    if "t_star" in L:
        words.append(
            f"it fails from t = {L['t_star']} on (median |w_r| "
            f"{L['median_abs_w_at_t_star']:.3g}; seed-level VIOLATED)"
        )
    words += list(data)
    text = "; ".join(words)
    return (
        f"At T = {int(steps[-1])}: {law['status']} ({law['rule_at_T']})."
        + (f" {text[:1].upper()}{text[1:]}." if text else "")
        + _where_observed(L["step_size_orders"], L["kernel_change"])
    )


def _where_observed(step_orders: float, kernel_worst: float) -> str:
    """How far the observed run is from the theorem's premises (step size, kernel regime)."""
    above = math.isfinite(step_orders) and step_orders > 0
    return (
        " Where this is observed, η exceeds the step-size premise λδ by "
        f"{step_orders:.1f} orders of magnitude"
        if above
        else ""
    ) + (
        f"{',' if above else ' Where this is observed,'} H changes by {kernel_worst:.3g} of ‖H(0)‖."
        if math.isfinite(kernel_worst)
        else ("." if above else "")
    )


def observed_scale(widths, steps, absw_max: float, draws: int, source: str) -> str:
    return (
        f"m ∈ {{{', '.join(str(m) for m in widths)}}}, t ≤ {int(steps[-1])}, "
        f"|w_r| ≤ {absw_max:.3g}, {draws} network draws per width"
        + (f", data {source}" if source else "")
    )


def observed_budget(law: dict, *, delta: float, alpha: float) -> str:
    if law["status"] != INCONCLUSIVE:
        return ""
    return laws.budget_words(law["fails"], law["trials"], delta=delta, alpha=alpha)


# --------------------------------------------------------------------------------- the verdict


def explanation(status, chosen, parts, at_last: dict, measured, widths, d, obs) -> str:
    """The verdict's explanation: premises, the decisive reading at the widest m
    (``at_last``, :func:`._readings.seed_reading`'s counts), the data condition, the masses and the
    observed law."""
    unmet = [p for p in parts if p.role == "premise" and p.status != HOLDS]
    s = [
        "Theorem 5.3 inherits Theorem 5.2's premises — the kernel regime and η ≤ O(λδ/poly) — and "
        "speaks of weights that have turned negative; each probability counts network draws "
        "(seeds), not neurons."
    ]
    if unmet:
        s.append(
            "Premises not met: "
            + "; ".join(f"{p.name.removeprefix('premise: ')} — {p.why or p.status}" for p in unmet)
            + f". The theorem's verdict is therefore {status}."
        )
    else:
        s.append(f"Every premise is met; the conclusion decides: {status}.")
    s.append(
        f"Read as C3.expectation = '{chosen[0]}', C3.versus = '{chosen[1]}' "
        f"({READING_WORDS[chosen]}): at m = {widths[-1]}, {reading(chosen[0], at_last)}."
    )
    s.append(_condition_sentence(measured))
    s.append(
        "Averaged over neurons the last position gets "
        f"{measured['mean_last_mass'][-1]:.3f} of the mass (uniform 1/d = {1 / d:.3f}); median "
        f"|w_r(T)| = {measured['median_abs_weight'][-1]:.3g}."
    )
    if obs is not None:
        s.append(f"Observed law ({obs.scale}): {obs.finding}")
    return " ".join(s)


def _condition_sentence(measured: dict) -> str:
    """The data condition in the explanation: of the data process (interval), else of the training
    windows (labelled)."""
    dp, dc = measured.get("data_process"), measured.get("data_condition_training_windows")
    if dp is not None:
        return (
            f"Data condition for the 'every' reading: {margin_words(dp)} on the "
            f"{process_label(dp)}: {dp['condition']}."
        )
    if dc is None:
        return ""
    return (
        f"Data condition for the 'every' reading in {_windows_label(dc.get('windows'))} (one "
        f"sample, no interval): max_k<d E[x_d x_k] = {dc['max_other']:.3g} "
        f"(k = {dc['argmax_position']}) {'≤' if dc['holds'] else '>'} E[x_d²] = {dc['last']:.3g}."
    )


def _least(reading: tuple[str, ...]) -> str:
    return "least attended" if reading[1] == "every" else "≤ 1/d"


def summary_c3(v: Verdict) -> str:
    """One line: which premises fail and by how much (theorem), and where the conclusion stops
    (observed)."""
    M = v.measured
    reading = tuple(M.get("decisive_reading", "neuron/every").split("/"))
    key = READING_KEYS.get(reading, "fraction_last_least")
    if "negative_fraction" not in M:  # a verdict from before the premises were checked
        what = "last position least attended" if reading[1] == "every" else "last position ≤ 1/d"
        return (
            f"{what}: "
            + ", ".join(f"{x:.2f}" for x in M.get(key, []))
            + f" (need ≥ {v.bounds.get('one_minus_delta', 0.9):.2f})"
        )
    bits = []
    unmet = [p for p in v.parts if p.role == "premise" and p.decisive and p.status != HOLDS]
    if unmet:
        bits.append("premises unmet: " + "; ".join(p.why or p.name for p in unmet))
    fails = M.get(key + "_network_failures")
    if fails is not None:
        bits.append(
            f"last {_least(reading)} fails in "
            + ", ".join(f"{f}/{n}" for f, n in zip(fails, M.get("networks", ["?"] * len(fails))))
            + " networks at T"
        )
    if v.observed is not None:
        bits.append(_observed_summary(v.observed, M.get("data_process")))
    return "; ".join(bits) if bits else f"theorem {v.status}"


def _observed_summary(o, dp: dict | None) -> str:
    L = o.looseness
    held = (
        f"holds to t = {L['t_hold']} (|w_r| {L['median_abs_w_at_t_hold']:.2g})"
        if "t_hold" in L
        else "never holds"
    )
    fail = (
        f", fails from t = {L['t_star']} (|w_r| {L['median_abs_w_at_t_star']:.2g})"
        if "t_star" in L
        else ""
    )
    return f"observed {o.status}: {held}{fail}" + ("" if dp is None else _w_star_summary(dp))


def _w_star_summary(dp: dict) -> str:
    """``; data |w|* = 1.2 [1.1, 1.3] (residual, 10008 windows)``, or why there is none."""
    where = f"({dp['source']}, {dp['windows']} windows)"
    if dp["gate"] != HOLDS:
        how = "fails" if dp["gate"] == VIOLATED else "straddles 0"
        return f"; data condition {how} {where}: no |w|*"
    w, (lo, hi) = dp["w_star"], dp["w_star_interval"]
    if math.isnan(w):
        return f"; data: no |w|*, it breaks at |w| = {dp['grid'][0]:.3g} {where}"
    if math.isinf(w):
        return f"; data |w|* > {dp['grid'][1]:.3g} {where}"
    return f"; data |w|* = {w:.2g} [{lo:.2g}, {hi:.2g}] {where}"
