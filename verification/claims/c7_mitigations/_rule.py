r"""C7's pure check: per variant its OOD risk and C3's statistic, per mitigation the margin rule
against the baseline (decisive) with the paired test and the last-token mass as diagnostics, the
premise, the counterexample and the observed law, each decided by its own short function;
:mod:`._words` phrases what was decided.

**Verdict rule** (:func:`check_c7`, :func:`verification.rules._ood.margin_effects`): per variant,
"mitigates" (HOLDS), "does not mitigate" (VIOLATED, Holm over the variants at α/2) or undecided;
the claim (every variant mitigates) is VIOLATED when one variant is shown not to mitigate, HOLDS
when every variant is shown to mitigate (intersection–union), else INCONCLUSIVE with the seeds at
which power reaches 0.8.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from verification.claims.c7_mitigations import _words as words
from verification.rules import bootstrap_interval
from verification.rules._ood import (
    margin_effects,
    margin_seeds_for_power,
    paired_effects,
    seed_log_ratios,
)
from verification.rules._verdict import (
    HOLDS,
    INCONCLUSIVE,
    VIOLATED,
    Observed,
    Verdict,
    combine_parts,
)


def paired_risk_bootstrap(
    err, err_ref=None, *, alpha: float = 0.05, resamples: int = 1000, seed: int = 0
):
    r"""Risk factor :math:`\exp\big(\frac1S\sum_s \log(\bar e_s / \bar e^{\mathrm{ref}}_s)\big)`
    with a two-way bootstrap.

    ``err``, ``err_ref``: (S, N) errors of two models on the same S seeds and N test windows;
    :math:`\bar e_s` is the mean over windows. ``err_ref=None`` gives the geometric mean over seeds
    of :math:`\bar e_s` itself. Each resample draws seeds and test windows with replacement,
    independently (both sources of variation), keeping the pairing. Returns
    ``(estimate, lo, hi)``, percentile interval at level :math:`1-\alpha`.

    >>> ref = np.ones((3, 4))
    >>> paired_risk_bootstrap(0.5 * ref, ref, resamples=20)
    (0.5, 0.5, 0.5)
    """
    e = np.asarray(err, np.float64)
    r = np.ones_like(e) if err_ref is None else np.asarray(err_ref, np.float64)
    if e.shape != r.shape or e.ndim != 2:
        raise ValueError(
            f"err_ref: expected the shape of err {e.shape} (seeds, windows), got {r.shape}"
        )
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: expected a level in (0, 1), got {alpha!r}")

    def stat(rows, cols):
        return np.mean(np.log(e[np.ix_(rows, cols)].mean(1) / r[np.ix_(rows, cols)].mean(1)))

    S, N = e.shape
    rng = np.random.default_rng(seed)
    boot = np.array(
        [stat(rng.integers(0, S, S), rng.integers(0, N, N)) for _ in range(int(resamples))]
    )
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(np.exp(stat(np.arange(S), np.arange(N)))), float(np.exp(lo)), float(np.exp(hi))


def _mass_ratio(M):
    """C3's statistic per seed: L times the data-averaged last-token mass, averaged over heads
    (1 = uniform)."""
    M = np.asarray(M, np.float64)
    return (M.shape[-1] * M[..., -1]).mean(axis=1)


class C7Input(NamedTuple):
    """What the words need of :func:`check_c7`'s inputs: the variants (the first the baseline),
    the sign-inconsistent test windows and seeds, σ_0² and σ_ε."""

    variants: list
    n_test: int
    seeds: int
    own_noise_var: float
    noise_std: float


class VariantRisk(NamedTuple):
    """One variant on its own: R/σ² (geometric mean over seeds, two-way bootstrap interval), the
    per-seed R/σ², C3's statistic per seed and its bootstrap interval, and the share of heads whose
    last token is the least attended."""

    risk: tuple[float, float, float]
    per_seed: list
    mass: np.ndarray
    mass_ratio: tuple[float, float, float]
    least: float


def variant_risk(vi: int, err, M, var: float, *, alpha, resamples) -> VariantRisk:
    """Variant ``vi``'s risk from its squared errors ``err`` (S, N) over σ² ``var`` and its
    masses ``M`` (S, H, L); the bootstrap seeds are ``vi`` and ``100 + vi``."""
    e = np.asarray(err, np.float64) / var
    per_seed_mass = _mass_ratio(M)
    M = np.asarray(M)
    least = float((M[..., -1] <= M[..., :-1].min(axis=-1)).mean()) if M.shape[-1] > 1 else 0.0
    return VariantRisk(
        paired_risk_bootstrap(e, alpha=alpha, resamples=resamples, seed=vi),
        e.mean(axis=1).tolist(),
        per_seed_mass,
        bootstrap_interval(per_seed_mass, alpha=alpha, resamples=resamples, seed=100 + vi),
        least,
    )


class Mitigation(NamedTuple):
    """Mitigation k under the margin rule: ``status``, the factor with its 1 − α interval,
    ``paired`` the diagnostic paired test's status, ``toward_not`` whether it leans to "does not"
    (VIOLATED, or undecided at or above 1 − Δ) and ``p`` the one-sided p on that side, ``basis``
    what its status rests on."""

    status: str
    factor: tuple[float, float, float]
    paired: str
    toward_not: bool
    p: float
    basis: str


def mitigation(dec, effects, k: int) -> Mitigation:
    """Mitigation k read from the margin decision ``dec`` and the paired effects ``effects``."""
    st, factor = dec.statuses[k], (dec.factor[k], dec.lo[k], dec.hi[k])
    toward_not = st == VIOLATED or (st == INCONCLUSIVE and factor[0] >= 1.0 - dec.margin)
    p = dec.p_not_holm[k] if toward_not else dec.p_mitigates[k]
    basis = dec.basis[k] if dec.basis else ""
    return Mitigation(st, factor, effects.statuses[k], toward_not, p, basis)


def mass_change(vi: int, mass, base_mass, *, alpha, resamples):
    """C3's statistic against the baseline, paired by seed: the change with its bootstrap
    interval (seed ``200 + vi``) and its status (HOLDS above 0: more local attention)."""
    d_est, d_lo, d_hi = bootstrap_interval(
        mass - base_mass, alpha=alpha, resamples=resamples, seed=200 + vi
    )
    status = HOLDS if d_lo > 0 else (VIOLATED if d_hi < 0 else INCONCLUSIVE)
    return (d_est, d_lo, d_hi), status


def risk_entries(name: str, r: VariantRisk) -> tuple[dict, dict]:
    """A variant's own named numbers and intervals."""
    measured = {
        f"{name}/risk_ratio": r.risk[0],
        f"{name}/risk_ratio_per_seed": r.per_seed,
        f"{name}/last_mass_ratio": r.mass_ratio[0],
        f"{name}/fraction_last_least": r.least,
    }
    intervals = {
        f"{name}/risk_ratio": [r.risk[1], r.risk[2]],
        f"{name}/last_mass_ratio": [r.mass_ratio[1], r.mass_ratio[2]],
    }
    return measured, intervals


def mitigation_entries(name: str, base: str, k: int, dec, effects) -> tuple[dict, dict]:
    """Mitigation k's named numbers and intervals: the factor, the margin rule's status and
    p-values, the paired test's (diagnostic)."""
    measured = {
        f"{name}/risk_factor_vs_{base}": dec.factor[k],
        f"{name}/mitigation": words.MARGIN_WORDS[dec.statuses[k]],
        f"{name}/p_mitigates": dec.p_mitigates[k],
        f"{name}/p_not_mitigates_holm": dec.p_not_holm[k],
        f"{name}/paired_effect": words.PAIRED_WORDS[effects.statuses[k]],
        f"{name}/p_helps_holm": effects.p_helps[k],
        f"{name}/p_hurts_holm": effects.p_hurts[k],
    }
    intervals = {
        f"{name}/risk_factor_vs_{base}": [dec.lo[k], dec.hi[k]],
        f"{name}/risk_factor_vs_{base}_simultaneous": [effects.lo[k], effects.hi[k]],
    }
    return measured, intervals


def variant_readings(x: C7Input, risks, dec, effects, *, alpha, resamples):
    """Every variant's named numbers, intervals and parts in the order they are read: its risk,
    then (a mitigation) the margin rule, the paired test and C3's statistic against the
    baseline."""
    base = x.variants[0]
    measured, intervals, parts = {}, {}, []
    for vi, name in enumerate(x.variants):
        m, i = risk_entries(name, risks[vi])
        measured.update(m)
        intervals.update(i)
        if vi == 0:
            continue
        m, i = mitigation_entries(name, base, vi - 1, dec, effects)
        measured.update(m)
        intervals.update(i)
        parts.append(
            words.mitigation_part(
                name,
                base,
                mitigation(dec, effects, vi - 1),
                dec,
                alpha,
                x.seeds,
                (risks[vi].risk[0], risks[0].risk[0]),
            )
        )
        change, mst = mass_change(
            vi, risks[vi].mass, risks[0].mass, alpha=alpha, resamples=resamples
        )
        measured[f"{name}/last_mass_ratio_change"] = change[0]
        intervals[f"{name}/last_mass_ratio_change"] = [change[1], change[2]]
        ratios = (risks[vi].mass_ratio[0], risks[0].mass_ratio[0])
        parts.append(words.mass_part(name, base, mst, ratios, change, risks[vi].least))
    return measured, intervals, parts


def counterexample(x: C7Input, dec) -> dict | None:
    """The variant shown not to mitigate with the smallest Holm-adjusted p (the first among
    ties); None when none is."""
    counter = None
    for k, name in enumerate(x.variants[1:]):
        if dec.statuses[k] == VIOLATED and (
            counter is None or dec.p_not_holm[k] < counter["p_not_mitigates_holm"]
        ):
            counter = {
                "variant": name,
                "risk_factor": dec.factor[k],
                "interval": [dec.lo[k], dec.hi[k]],
                "margin": dec.margin,
                "seeds": x.seeds,
                "p_not_mitigates_holm": dec.p_not_holm[k],
            }
    return counter


def groups(x: C7Input, dec, factor) -> tuple[list, list, list]:
    """The mitigations that mitigate, do not, and are undecided, each as pairs of name and factor
    row."""
    others = list(enumerate(x.variants))[1:]
    return tuple(
        [(n, factor[i]) for i, n in others if dec.statuses[i - 1] == status]
        for status in (HOLDS, VIOLATED, INCONCLUSIVE)
    )


def observed_law(x: C7Input, parts, dec, factor, tested: dict) -> Observed:
    """The conclusion parts as the observed law (C7 is an empirical statement): their status,
    the margin rule, the groups of variants and the budget of every undecided variant, whatever
    the claim reads."""
    helps, hurts, unclear = groups(x, dec, factor)
    status = combine_parts([p for p in parts if p.role == "conclusion"])
    need = [
        (n, margin_seeds_for_power(dec, i - 1))
        for i, n in list(enumerate(x.variants))[1:]
        if dec.statuses[i - 1] == INCONCLUSIVE
    ]
    return Observed(
        status=status,
        rule=dec.rule,
        scale=words.observed_scale(x.seeds, x.n_test, tested),
        finding=words.observed_finding(status, dec, helps, hurts, unclear),
        looseness={},
        budget=words.observed_budget(need, 1.0 - dec.margin, len(x.variants) - 1),
    )


def margin_decisions(variants, sq_err, *, margin, alpha):
    """The margin rule (decisive) and the two-sided paired test (diagnostic: helps / hurts / no
    measurable effect) on the per-seed log risk ratios of every mitigation against the
    baseline ``variants[0]``."""
    if len(variants) < 2:
        raise ValueError(
            f"variants: expected the baseline and at least one mitigation, got {list(variants)}"
        )
    logr = np.stack([seed_log_ratios(sq_err[n], sq_err[variants[0]]) for n in variants[1:]])
    return margin_effects(logr, margin=margin, alpha=alpha), paired_effects(logr, alpha=alpha)


def c7_arrays(risks, dec, lin_est) -> dict:
    """The figure data: R/σ² per variant, the risk factor against the baseline (NaN for the
    baseline itself), C3's statistic per variant and the linear reference."""
    factor = np.full((len(risks), 3), np.nan)
    factor[1:] = np.stack([dec.factor, dec.lo, dec.hi], axis=-1)
    return {
        "risk_ratio": np.array([r.risk for r in risks]),
        "risk_factor": factor,
        "last_mass_ratio": np.array([r.mass_ratio for r in risks]),
        "linear_risk_ratio": np.asarray(lin_est),
    }


def explanation(x: C7Input, dec, arrays: dict) -> str:
    """The explanation from the figure data: the groups of variants and the best one, above the
    linear reference when its lower end exceeds the reference's upper end."""
    risk, lin = arrays["risk_ratio"], arrays["linear_risk_ratio"]
    best = int(np.argmin(risk[:, 0]))
    return words.explanation(
        x,
        dec,
        risk,
        lin,
        arrays["last_mass_ratio"],
        groups(x, dec, arrays["risk_factor"]),
        best,
        risk[best, 1] > lin[2],
    )


def check_c7(
    *,
    variants,
    sq_err,
    mass,
    linear_sq_err,
    noise_std: float,
    own_noise_var: float = 0.0,
    alpha: float = 0.05,
    margin: float = 0.1,
    resamples: int = 1000,
    config: dict | None = None,
    seed: int | None = None,
    tested: dict | None = None,
) -> Verdict:
    r"""C7 from per-variant squared OOD errors ``sq_err[v]`` (S, N) and masses ``mass[v]``
    (S, H, L).

    ``variants[0]`` is the baseline. Risk ratios :math:`R/\sigma_\varepsilon^2` are geometric
    means over seeds with two-way bootstrap intervals (display). Decisive, per mitigation, on
    :math:`d_s = \log(\bar e_{v,s}/\bar e_{\mathrm{base},s})` (the network draw is the unit):
    the margin rule :func:`verification.rules._ood.margin_effects` with margin Δ = ``margin``:
    HOLDS ("mitigates": the one-sided t test rejects :math:`E d \ge \log(1-\Delta)` at α/2, no
    correction), VIOLATED ("does not mitigate": the one-sided t test rejects
    :math:`E d \le \log(1-\Delta)`, Holm over the mitigations at α/2), INCONCLUSIVE
    (undecided). The claim, a conjunction over the mitigations, is VIOLATED when any one does not
    mitigate (Holm keeps that family-wise at α/2) and HOLDS only when every one mitigates
    (intersection–union: each at α/2); the theorem and the observed verdict both read it (C7 is
    an empirical statement, no theorem of its own). The factor :math:`e^{\bar d}` gets the
    1 − α t interval whose ends the rule compares with 1 − Δ. Diagnostic: the two-sided paired
    test of :func:`verification.rules._ood.paired_effects` ("helps" / "hurts" / "no measurable
    effect", Holm, Bonferroni-simultaneous interval) in ``measured``. Diagnostic, per
    mitigation: C3's statistic, the last token's data-averaged mass relative to uniform,
    :math:`L\,\bar S_{h,LL}` (1 = uniform) averaged over heads; its paired change from the
    baseline gets a bootstrap interval over seeds (HOLDS if above 0: more local attention); and
    the fraction of heads whose last token is the least attended (C3's inequality).
    ``linear_sq_err`` (N,) is the residual linear reference.
    """
    base = variants[0]
    var = own_noise_var + noise_std**2  # σ² = σ_0² + σ_ε², as C5
    lin_est = bootstrap_interval(
        np.asarray(linear_sq_err, np.float64) / var, alpha=alpha, resamples=resamples, seed=1
    )
    dec, effects = margin_decisions(variants, sq_err, margin=margin, alpha=alpha)
    S, n_test = np.asarray(sq_err[base]).shape
    x = C7Input(list(variants), int(n_test), int(S), own_noise_var, noise_std)
    risks = [
        variant_risk(vi, sq_err[n], mass[n], var, alpha=alpha, resamples=resamples)
        for vi, n in enumerate(variants)
    ]
    readings, intervals, parts = variant_readings(
        x, risks, dec, effects, alpha=alpha, resamples=resamples
    )
    tested = dict(tested or {})
    parts.insert(0, words.premise_part(HOLDS, x.n_test, tested.get("test_set")))
    status = combine_parts(parts)
    arrays = c7_arrays(risks, dec, lin_est)
    measured = {
        "variants": list(variants),
        "noise_std": noise_std,
        "own_noise_var": own_noise_var,
        "sigma2": var,
        "linear_risk_ratio": lin_est[0],
        "margin": dec.margin,
        "estimand": dec.estimand,
        **readings,
        "test_windows": x.n_test,
    }
    return Verdict(
        claim="C7",
        status=status,
        explanation=explanation(x, dec, arrays),
        measured=measured,
        intervals={"linear_risk_ratio": [lin_est[1], lin_est[2]], **intervals},
        bounds={"no_effect_factor": 1.0, "mitigation_factor": 1.0 - dec.margin},
        parts=tuple(parts),
        counterexample=counterexample(x, dec),
        tested_range=tested,
        config=config or {},
        seed=seed,
        arrays=arrays,
        observed=observed_law(x, parts, dec, arrays["risk_factor"], tested),
    )
