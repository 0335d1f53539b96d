r"""C5's pure check: the premise (sign-inconsistent test windows), the two noise exponents
(decisive, also the observed law), the former :math:`c_R` reading (diagnostic) and the observed
budget, each decided by its own short function; :mod:`._words` phrases what was decided.

**Verdict rule** (:func:`check_c5`). With the noise variance
:math:`\sigma^2 = \sigma_0^2 + \sigma_\varepsilon^2`, the exponent of R in σ²
(:func:`verification.rules._ood.noise_exponent_decision`, margin Δ) decides: the linear part
claims "vanishes like σ²", the attention part "does not". No constant decides.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from verification.claims._common import interval_status
from verification.claims.c5_ood_risk import _words as words
from verification.rules import bootstrap_interval
from verification.rules._ood import (
    NoiseExponent,
    exponent_seeds_for_power,
    noise_exponent_decision,
)
from verification.rules._verdict import (
    HOLDS,
    INCONCLUSIVE,
    VIOLATED,
    Observed,
    Verdict,
    combine_parts,
    combine_status,
)

MODELS = ("attention", "linear")
"""The two networks of the diagnostic grid, in the order their ratios are measured."""


class C5Input(NamedTuple):
    r""":func:`check_c5`'s inputs read once: ``sig`` the noise levels σ_ε (K,), ``x`` the noise
    variances :math:`\sigma_0^2 + \sigma_\varepsilon^2` (K,), ``A`` and ``L`` the risks (K, S),
    ``var`` the σ² at ``noise_std``, ``n_test`` the sign-inconsistent test windows, ``pool``
    the windows scanned for training examples (None: not given)."""

    sizes: list
    steps: list
    sig: np.ndarray
    x: np.ndarray
    A: np.ndarray
    L: np.ndarray
    own_noise_var: float
    noise_std: float
    var: float
    margin: float
    n_test: int
    pool: int | None = None


SHORT_RANGE_DECADES = 1.0
"""Below this many decades of σ² the exponent is read over a short range, and the words say so."""


class NoiseRange(NamedTuple):
    """The range of σ² = σ_0² + σ_ε² the exponents are fitted over: its ends, its decades and
    whether it is short (under :data:`SHORT_RANGE_DECADES`)."""

    lo: float
    hi: float
    decades: float
    short: bool


def noise_range(x: C5Input) -> NoiseRange:
    """The fitted σ² range: log10(max σ² / min σ²) decades, not the σ_ε range."""
    lo, hi = float(np.min(x.x)), float(np.max(x.x))
    decades = math.log10(hi / lo) if lo > 0 else float("inf")
    return NoiseRange(lo, hi, decades, decades < SHORT_RANGE_DECADES)


class RiskRatios(NamedTuple):
    r"""The diagnostic grid: ``ratios[model]`` (sizes, steps, 3) R/σ² with its bootstrap interval,
    ``statuses[model]`` against the level, ``levels`` :math:`c_R(1+\ln n)` per size, and the
    named numbers (``measured``, ``intervals``) in the order they were measured."""

    ratios: dict
    statuses: dict
    levels: list
    measured: dict
    intervals: dict


def risk_ratios(x: C5Input, att_sq_err, lin_sq_err, c_R, *, alpha, resamples) -> RiskRatios:
    r"""R/σ² per size and step with percentile bootstrap intervals over test windows, against
    :math:`c_R(1+\ln n)`: attention above it, the linear net below."""
    measured, intervals = {}, {}
    statuses = {"attention": [], "linear": []}
    ratios = {m: np.zeros((len(x.sizes), len(x.steps), 3)) for m in MODELS}
    levels = [c_R * (1 + math.log(n)) for n in x.sizes]
    for i, n in enumerate(x.sizes):
        for j, T in enumerate(x.steps):
            for model, errs, upper in (
                ("attention", att_sq_err, False),
                ("linear", lin_sq_err, True),
            ):
                e = np.asarray(errs[i][j], np.float64) / x.var
                est, lo, hi = bootstrap_interval(
                    e, lambda rows: rows.mean(), resamples=resamples, seed=i * 1000 + j, alpha=alpha
                )
                key = f"{model}_risk_ratio[n={n},T={T}]"
                measured[key] = est
                intervals[key] = [lo, hi]
                ratios[model][i, j] = (est, lo, hi)
                statuses[model].append(interval_status(lo, hi, levels[i], upper=upper))
    return RiskRatios(ratios, statuses, levels, measured, intervals)


def exponent_decisions(x: C5Input, *, alpha) -> dict[str, NoiseExponent]:
    """The decisive exponents: the linear net's risk vanishes like σ², attention's does not."""
    return {
        "linear": noise_exponent_decision(x.x, x.L, vanishes=True, margin=x.margin, alpha=alpha),
        "attention": noise_exponent_decision(
            x.x, x.A, vanishes=False, margin=x.margin, alpha=alpha
        ),
    }


def exponent_parts(x: C5Input, decisions: dict[str, NoiseExponent]) -> list:
    """The two decisive parts, linear first, each with its R/σ² (mean over seeds) per level."""
    risks = {"linear": x.L, "attention": x.A}
    return [
        words.exponent_part(model, dec, (risks[model] / x.x[:, None]).mean(1), x.x)
        for model, dec in decisions.items()
    ]


def counterexample(decisions: dict[str, NoiseExponent]) -> dict | None:
    """The first model (linear, then attention) whose exponent contradicts its part."""
    for model, dec in decisions.items():
        if dec.status == VIOLATED:
            return {
                "model": model,
                "noise_exponent": dec.slope,
                "interval": [dec.lo, dec.hi],
                "seeds": dec.seeds,
            }
    return None


def diagnostic_parts(x: C5Input, rr: RiskRatios, c_R) -> list:
    """The former reading with a chosen :math:`c_R`, attention first, not decisive."""
    return [
        words.diagnostic_part(
            model,
            combine_status(rr.statuses[model]),
            rr.ratios[model],
            x.sizes,
            x.steps,
            rr.levels,
            c_R,
        )
        for model in MODELS
    ]


def looseness(rr: RiskRatios, c_R) -> dict:
    """The c_R the linear net's upper ends would need, and the one attention's lower ends
    exceed."""
    lv = np.asarray(rr.levels)[:, None]
    return {
        "c_R_linear_needs": float(np.max(rr.ratios["linear"][..., 2] / lv * c_R)),
        "c_R_attention_exceeds": float(np.min(rr.ratios["attention"][..., 1] / lv * c_R)),
    }


def undecided_seeds(decisions: dict[str, NoiseExponent], alpha) -> list[tuple[str, int]]:
    """Each undecided model with the seeds at which its rule reaches power 0.8 (0: not
    computable)."""
    return [
        (m, exponent_seeds_for_power(dec, alpha=alpha))
        for m, dec in decisions.items()
        if dec.status == INCONCLUSIVE
    ]


def observed_law(x: C5Input, parts, decisions, loose: dict, alpha) -> Observed:
    """The exponents as the observed law: the conclusion parts' status, their words, the
    looseness ``loose`` of the c_R reading and the budget of any undecided model."""
    dl, da = decisions["linear"], decisions["attention"]
    return Observed(
        budget=words.observed_budget(undecided_seeds(decisions, alpha), x.own_noise_var),
        status=combine_parts([p for p in parts if p.role == "conclusion"]),
        rule=words.observed_rule(x.margin, dl, da),
        scale=words.observed_scale(x, noise_range(x), x.A.shape[1]),
        finding=words.observed_finding(dl, da),
        looseness=loose,
    )


def c5_input(
    sizes,
    steps,
    att_sq_err,
    noise_std,
    noise_levels,
    att_risk,
    lin_risk,
    own_noise_var,
    margin,
    test_windows,
    pool=None,
) -> C5Input:
    """The inputs as a :class:`C5Input` (``test_windows`` None: the rows of the first grid cell)."""
    n_test = (
        int(np.asarray(att_sq_err[0][0]).shape[0]) if test_windows is None else int(test_windows)
    )
    sig = np.asarray(noise_levels, np.float64)
    return C5Input(
        sizes,
        steps,
        sig,
        own_noise_var + sig**2,
        np.asarray(att_risk, np.float64),
        np.asarray(lin_risk, np.float64),
        own_noise_var,
        noise_std,
        own_noise_var + noise_std**2,
        margin,
        n_test,
        None if pool is None else int(pool),
    )


def measured_and_intervals(x: C5Input, rr: RiskRatios, decisions) -> tuple[dict, dict]:
    """The verdict's named numbers and intervals in the order they were measured: the counts and
    σ², the diagnostic grid, then the two exponents."""
    measured = {"test_windows": x.n_test, "own_noise_var": x.own_noise_var, "sigma2": x.var}
    measured.update(rr.measured)
    intervals = dict(rr.intervals)
    for model, dec in decisions.items():
        measured[f"{model}_noise_exponent"] = dec.slope
        intervals[f"{model}_noise_exponent"] = [dec.lo, dec.hi]
    return measured, intervals


def c5_arrays(x: C5Input, rr: RiskRatios) -> dict:
    """The figure data: the diagnostic grid and the noise sweep."""
    return {
        "sizes": np.asarray(x.sizes),
        "steps": np.asarray(x.steps),
        "attention_ratio": rr.ratios["attention"],
        "linear_ratio": rr.ratios["linear"],
        "levels": np.asarray(rr.levels),
        "noise_var": x.x,
        "attention_risk": x.A,
        "linear_risk": x.L,
    }


def c5_tested_range(x: C5Input, test_set: str) -> dict:
    """What was run: sizes, steps, noise levels, the σ² range fitted, the sign-inconsistent test
    windows and the pool."""
    rng = noise_range(x)
    return {
        "n": [int(n) for n in x.sizes],
        "steps": [int(t) for t in x.steps],
        "noise_levels": x.sig.tolist(),
        "noise_std": x.noise_std,
        "noise_var": [rng.lo, rng.hi],
        "noise_var_decades": rng.decades,
        "test_windows": x.n_test,
        "test_set": test_set,
        **({} if x.pool is None else {"pool": x.pool}),
    }


def check_c5(
    *,
    sizes,
    steps,
    att_sq_err,
    lin_sq_err,
    noise_std: float,
    c_R: float,
    noise_levels,
    att_risk,
    lin_risk,
    own_noise_var: float = 0.0,
    margin: float = 0.1,
    alpha: float = 0.05,
    resamples: int = 1000,
    test_windows: int | None = None,
    pool: int | None = None,
    test_set: str = "",
    config: dict | None = None,
    seed: int | None = None,
) -> Verdict:
    r"""C5 from the noise sweep (decisive) and the risks at ``noise_std`` (diagnostic).

    Decisive: ``lin_risk[k, s]`` and ``att_risk[k, s]`` are the OOD risks at noise level
    ``noise_levels[k]`` (σ) for seed s (the largest size and step count); with
    :math:`\sigma^2_k = \sigma_0^2 + \sigma_k^2` (``own_noise_var`` :math:`\sigma_0^2`) the
    exponent of R in σ² decides (:func:`verification.rules._ood.noise_exponent_decision`): the
    linear part claims "vanishes like σ²", the attention part "does not". Premise: the test set
    holds sign-inconsistent windows (``test_windows``, described by ``test_set``). Diagnostic:
    ``att_sq_err[i][j]`` (N_test, S) and ``lin_sq_err[i][j]`` (N_test, 1) squared errors at
    ``noise_std`` for ``sizes[i]`` and ``steps[j]`` (or (N_test, S) when the linear net's targets
    differ by seed); :math:`R/\sigma^2` with percentile bootstrap intervals over test windows
    against :math:`c_R(1+\ln n)` (attention above, linear below). ``pool``: the windows scanned
    for the sign-consistent training windows (reported only).
    """
    x = c5_input(
        sizes,
        steps,
        att_sq_err,
        noise_std,
        noise_levels,
        att_risk,
        lin_risk,
        own_noise_var,
        margin,
        test_windows,
        pool,
    )
    rr = risk_ratios(x, att_sq_err, lin_sq_err, c_R, alpha=alpha, resamples=resamples)
    att = rr.ratios["attention"]
    half = float(np.max(att[..., 2] - att[..., 1])) / 2
    decisions = exponent_decisions(x, alpha=alpha)
    parts = (
        words.premise_part(HOLDS, x, test_set, half),
        *exponent_parts(x, decisions),
        *diagnostic_parts(x, rr, c_R),
    )
    status = combine_parts(parts)
    measured, intervals = measured_and_intervals(x, rr, decisions)
    loose = looseness(rr, c_R)
    return Verdict(
        claim="C5",
        status=status,
        explanation=words.explanation(
            status, x, noise_range(x), decisions, rr.ratios, loose["c_R_linear_needs"]
        ),
        measured=measured,
        bounds={
            "risk_level_over_sigma2": rr.levels,
            "sigma2": x.var,
            "own_noise_var": x.own_noise_var,
            "exponent_threshold": 1 - x.margin,
        },
        intervals=intervals,
        parts=parts,
        counterexample=counterexample(decisions),
        constants={"c_R": c_R},
        tested_range=c5_tested_range(x, test_set),
        config=config or {},
        seed=seed,
        observed=observed_law(x, parts, decisions, loose, alpha),
        arrays=c5_arrays(x, rr),
    )
