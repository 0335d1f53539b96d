r"""C5's words: each part's finding, the observed law's rule, scale, finding and budget, the
explanation and the summary line, built from what :mod:`._rule` decided (nothing is decided
here)."""

from __future__ import annotations

import numpy as np

from verification.rules._verdict import HOLDS, Part, Verdict

PREMISE_NAME = "enough sign-inconsistent test windows"
EXPONENT_NAMES = {
    "linear": "the residual linear net's OOD risk vanishes like σ² (Õ(σ²))",
    "attention": "attention's OOD risk does not vanish like σ² (not Õ(σ²))",
}
"""The decisive parts, in the order they are read: what each model's noise exponent claims."""
DIAGNOSTIC_NAMES = {
    "attention": "attention's OOD risk is not Õ(σ²): R/σ² > c_R (1 + ln n)",
    "linear": "the residual linear net's OOD risk is Õ(σ²): R/σ² <= c_R (1 + ln n)",
}
"""The former reading with a chosen constant, kept as diagnostics in this order."""


def num(v: float) -> str:
    """A number in 3 significant digits, powers of ten as ``2.16e-4`` below 0.01."""
    v = float(v)
    if v != 0 and abs(v) < 0.01:
        mant, exp = f"{v:.2e}".split("e")
        return f"{float(mant):.3g}e{int(exp)}"
    return f"{v:.3g}".replace("e+0", "e").replace("e+", "e")


def sigma2_range(rng) -> str:
    """The fitted σ² range ``rng`` (:class:`._rule.NoiseRange`) in words, e.g. ``σ² 2.16e-4–1.01
    (3.67 decades)``, saying so when it is short."""
    return f"σ² {num(rng.lo)}–{num(rng.hi)} ({rng.decades:.3g} decades" + (
        "; under 1 decade: the exponent is read over this short range)" if rng.short else ")"
    )


def premise_part(status: str, x, test_set: str, half: float) -> Part:
    """The premise: the count of sign-inconsistent test windows (and where they come from; the
    pool when given), with the widest interval of attention's R/σ² at ``noise_std``
    (± ``half``). ``x``: the check's inputs."""
    pool = "" if x.pool is None else f"; training windows from a pool of {x.pool}"
    return Part(
        PREMISE_NAME,
        status,
        f"{x.n_test} sign-inconsistent test windows"
        + (f" ({test_set})" if test_set else "")
        + f"{pool}; widest 95% interval of attention's R/σ² at σ_ε = {x.noise_std:g} "
        f"(σ² = {num(x.var)}): ±{half:.3g}.",
        role="premise",
    )


def exponent_part(model: str, dec, ratio: np.ndarray, var: np.ndarray) -> Part:
    """A model's decisive part: the rule ``dec`` read, and its R/σ² (mean over seeds, ``ratio``)
    at the first and last noise level (σ² ``var``)."""
    return Part(
        EXPONENT_NAMES[model],
        dec.status,
        f"{dec.rule}; R/σ² from {ratio[0]:.3g} (σ² = {num(var[0])}) to "
        f"{ratio[-1]:.3g} (σ² = {num(var[-1])}).",
        why="" if dec.status == HOLDS else f"exponent {dec.slope:.2g} [{dec.lo:.2g}, {dec.hi:.2g}]",
    )


def diagnostic_part(model: str, status: str, r: np.ndarray, sizes, steps, levels, c_R) -> Part:
    r"""A model's R/σ² at ``noise_std`` against the level :math:`c_R(1+\ln n)`, not decisive."""
    return Part(
        DIAGNOSTIC_NAMES[model] + " (diagnostic, c_R chosen)",
        status,
        f"R/σ² from {r[..., 0].min():.3g} to {r[..., 0].max():.3g} over n ∈ {list(sizes)}, "
        f"T ∈ {list(steps)}; level c_R (1 + ln n) = "
        + ", ".join(f"{lv:.3g}" for lv in levels)
        + f" (c_R = {c_R:g}).",
        decisive=False,
    )


def observed_scale(x, rng, seeds: int) -> str:
    """The budget the observed law rests on: the σ² range fitted (``rng``), its parts σ_0² and
    σ_ε, the size, steps, seeds, test windows and pool (``x``: the check's inputs)."""
    sig = x.sig
    return (
        f"{sigma2_range(rng)}, σ² = σ_0² + σ_ε² with σ_0² = {num(x.own_noise_var)} and σ_ε "
        f"{sig.min():g}–{sig.max():g} ({len(sig)} levels); n = {max(x.sizes)}, T = "
        f"{max(x.steps)}, {seeds} seeds, {x.n_test} sign-inconsistent test windows"
        + ("" if x.pool is None else f", training windows from a pool of {x.pool}")
    )


def observed_budget(undecided, own_noise_var: float) -> str:
    """The seeds at which each undecided model's rule reaches power 0.8 (``undecided``: pairs of
    model and seeds, 0 where not computable); empty when every model is decided."""
    budget = "; ".join(
        f"{m}: {k} seeds" if k else f"{m}: more than 1000 seeds (or a wider σ² range)"
        for m, k in undecided
    )
    if not budget:
        return budget
    return (
        f"power 0.8 at the observed exponent and per-seed spread needs {budget} (the σ² range is "
        f"bounded below by σ_0² = {own_noise_var:.3g})"
    )


def observed_rule(margin: float, dl, da) -> str:
    """The observed law's rule: the noise exponent with its margin and both statuses."""
    return f"noise_exponent (Δ = {margin:g}): linear {dl.status}, attention {da.status}"


def observed_finding(dl, da) -> str:
    """Both exponents with their intervals."""
    return (
        f"exponent of R in σ²: linear {dl.slope:.3g} [{dl.lo:.3g}, {dl.hi:.3g}], attention "
        f"{da.slope:.3g} [{da.lo:.3g}, {da.hi:.3g}] (1 = vanishes like σ², 0 = does not vanish)."
    )


def explanation(status: str, x, rng, decisions, ratios, c_lin: float) -> str:
    """Two sentences: the exponents read without a constant (``decisions`` per model) and the
    verdict, then the diagnostic R/σ² at ``noise_std`` (``ratios`` per model) and the c_R the
    linear net would need. ``x``: the check's inputs (sizes, steps, noise levels, σ_0², σ_ε, Δ,
    windows); ``rng`` the σ² range fitted."""
    dl, da = decisions["linear"], decisions["attention"]
    a_, l_ = ratios["attention"][..., 0], ratios["linear"][..., 0]
    return (
        f"Trained on sign-consistent windows and tested on {x.n_test} sign-inconsistent ones, "
        f"with the noise variance σ² = σ_0² + σ_ε² (σ_0² = {num(x.own_noise_var)} the series' "
        f"own noise, σ_ε {x.sig.min():g}–{x.sig.max():g}) fitted over {sigma2_range(rng)}, "
        "the residual linear net's risk "
        f"scales like σ² to the power {dl.slope:.3g} [{dl.lo:.3g}, {dl.hi:.3g}] and attention's "
        f"like σ² to the power {da.slope:.3g} [{da.lo:.3g}, {da.hi:.3g}]: read without any "
        f"constant (Δ = {x.margin:g}), the proposition "
        f"{'is borne out' if status == HOLDS else 'gets the verdict ' + status}. At σ_ε = "
        f"{x.noise_std:g} attention's risk is {a_.min():.3g}–{a_.max():.3g} σ², the linear net's "
        f"{l_.min():.3g}–{l_.max():.3g} σ² over n ∈ {list(x.sizes)}, T ∈ {list(x.steps)} "
        f"(diagnostic: a reading R ≤ c_R(1 + ln n) σ² would need c_R ≥ {c_lin:.3g} for the "
        "linear net)."
    )


def summary_c5(v: Verdict) -> str:
    """One line: both noise exponents against 1 − Δ, the σ² range fitted, the diagnostic R/σ² at
    ``noise_std`` and the count of sign-inconsistent test windows; empty for a VACUOUS verdict."""
    a, l_ = v.arrays.get("attention_ratio"), v.arrays.get("linear_ratio")
    if a is None:
        return ""
    ex = {m: v.measured.get(f"{m}_noise_exponent", float("nan")) for m in ("linear", "attention")}
    var = v.tested_range.get("noise_var", [float("nan")] * 2)
    dec = v.tested_range.get("noise_var_decades", float("nan"))
    thr = v.bounds.get("exponent_threshold", float("nan"))
    noise_std = v.tested_range.get("noise_std", float("nan"))
    return (
        f"exponent of R in σ² (1: vanishes with the noise): linear {ex['linear']:.2g} (claim ≥ "
        f"{thr:g}), attention {ex['attention']:.2g} (claim < {thr:g}), σ² "
        f"{num(var[0])}–{num(var[1])} ({dec:.2g} decades); R/σ² at σ_ε = {noise_std:g}: attention "
        f"{a[..., 0].min():.3g}–{a[..., 0].max():.3g}, linear "
        f"{l_[..., 0].min():.3g}–{l_[..., 0].max():.3g}; "
        f"{v.tested_range.get('test_windows', '?')} sign-inconsistent test windows"
    )
