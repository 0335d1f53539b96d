r"""Calibration rows of the out-of-distribution rules (:mod:`verification.rules._ood`): C5 and C7.

Planted cases, numpy draws from fixed integer seeds, at the claims' default budgets:

* **noise_exponent** (C5: 4 noise levels σ = 10^-4, 10^-2, 10^-1, 1 (σ² over 8 decades), 3 seeds, Δ
  = 0.1):
  :math:`R_{k,s} = \sigma_k^{2b} e^{a_s + \varepsilon_{ks}}` with a seed level :math:`a_s \sim N(0,
  1)`
  and log-normal estimation noise :math:`\varepsilon \sim N(0, 2/200)` (a mean of 200 squared
  Gaussian errors): :math:`b = 1`
  (:math:`R \propto \sigma^2`: the linear net's truth), :math:`b = 0` (R constant: attention's
  truth), the boundary :math:`b = 1-\Delta`, and :math:`R = e^{a_s}(c + \sigma^2)` with
  :math:`c = 0.05` (a floor: vanishes only down to it). Each case judged by both readings:
  "vanishes" (the linear part) and "does not vanish" (the attention part); and :math:`b = 1` on
  :math:`\sigma^2 = \sigma_0^2 + \sigma_\varepsilon^2` with :math:`\sigma_0^2 = 2\cdot10^{-4}` (the
  default
  data's own noise: the lower levels crowd together, the slope's interval widens).
* **paired_effects** (C7: 5 variants, 5 seeds, 200 test windows): errors
  :math:`e_{v,s,i} = e^{u_s + g_{v,s}} E_{v,s,i}`, :math:`E \sim \mathrm{Exp}(1)`, seed level
  :math:`u_s \sim N(0, 0.5^2)`, variant × seed interaction :math:`g_{v,s} = \mu_v + 0.2\,z`
  (:math:`z` normal, or Student t with 3 degrees of freedom); the baseline has :math:`\mu = 0`.
  Planted null (every :math:`\mu_v = 0`): the rates of a replicate with any "helps" (HOLDS) and any
  "hurts" (VIOLATED) are each at most α/2 = 0.025; planted effect :math:`\mu_1 = -0.6` (risk ×
  0.55),
  the others null: power (variant 1 reads "helps") and no "hurts"; planted harm :math:`\mu_1 = +0.6`
  (the false case of "variant 1 helps"): variant 1 reads "helps" at most α/2, "hurts" with power.
  (C7's diagnostic since the margin rule below decides.)
* **margin_effects** (C7's decisive rule: 5 variants, 12 seeds, Δ = 0.1, median: sign tests):
  planted per-seed log risk ratios
  :math:`d_{v,s} = \log f_v + \mathrm{sd}_v z_{v,s}`, :math:`z` normal (or Student t with 3 d.f.
  scaled to
  unit variance), with the seed scatter of the default run, :data:`MARGIN_SCATTER` (the per-variant
  sd of
  :math:`d` over its 5 seeds: differential 0.006, RoPE 0.008, patching 0.49, Adam 0.075, weight
  decay
  0.017, rounded up). Claim-level rates (the conjunction "every variant mitigates"): planted factor
  1
  for every variant (no effect, the false case): VIOLATED with power, HOLDS at most α/2; every
  factor
  exactly :math:`1-\Delta` (boundary): each of HOLDS and VIOLATED at most α/2, and the sharp case of
  a
  false HOLDS, one variant at :math:`1-\Delta` and the others at 0.5; every factor 0.5 (true
  mitigation): VIOLATED at most α, HOLDS with power. Where patching's scatter (sd 0.5) keeps the
  power
  below 0.8 at 12 seeds the row says so and a second row gives the seeds that reach it.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from verification.calibration import _planted as planted
from verification.rules._ood import (
    margin_effect_statuses,
    noise_exponent_statuses,
    paired_effect_statuses,
    seed_log_ratios,
)
from verification.rules._robust import sign_seeds_for_power
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VIOLATED

__all__ = [
    "rows",
    "NOISE_LEVELS",
    "NOISE_SEEDS",
    "EFFECT_VARIANTS",
    "EFFECT_SEEDS",
    "EFFECT_WINDOWS",
    "MARGIN",
    "MARGIN_SCATTER",
    "MARGIN_SEEDS",
]

ALPHA = 0.05
MARGIN = 0.1
NOISE_LEVELS = (1e-4, 1e-2, 1e-1, 1.0)
"""C5's default noise levels σ (``[C5] noise_levels``; σ² over 8 decades)."""
NOISE_SEEDS = 10
"""C5's default seeds (``[C5] seeds``): the sign test needs 6 at least; 9 of 10 decide."""
RISK_LOG_SD = float(np.sqrt(2.0 / 200))
"""sd of log R estimated on 200 test windows of squared Gaussian errors (χ²₁ mean: sd √(2/N)),
independent
across levels (pessimistic: the run scales one noise draw, so level-to-level errors are
correlated)."""
OWN_NOISE = 2e-4
"""σ_0² of the default data (measured 2.2e-4 by ``own_noise_variance`` on the default pool)."""
EFFECT_VARIANTS = 5
EFFECT_SEEDS = 5
EFFECT_WINDOWS = 200
MARGIN_SCATTER = (0.01, 0.01, 0.5, 0.08, 0.02)
"""sd over seeds of C7's per-seed log risk ratios d in the default run (differential, RoPE,
patching, Adam,
weight decay: 0.006, 0.008, 0.49, 0.075, 0.017), rounded up."""
MARGIN_SEEDS = 12
"""C7's default seeds (``[C7] seeds``): 10 of 12 decide 'mitigates' (unadjusted), 11 of 12 at
Holm's first step over 5 variants."""


def _noise_rows(R: int) -> list[dict]:
    out = []
    var = np.asarray(NOISE_LEVELS) ** 2
    a = ALPHA
    budget = {
        "levels": len(var),
        "sigma": f"{NOISE_LEVELS[0]:g}…{NOISE_LEVELS[-1]:g}",
        "seeds": NOISE_SEEDS,
        "margin": MARGIN,
        "alpha": a,
    }
    # case per reading (vanishes, does not), planted, exponent or floor, seed, standards per reading
    specs = [
        (
            ("true", "false"),
            "R ∝ σ² (exponent 1)",
            1.0,
            None,
            601,
            ([(VIOLATED, "<=", a), (HOLDS, ">=", 0.8)], [(HOLDS, "<=", a)]),
        ),
        (
            ("false", "true"),
            "R constant (exponent 0)",
            0.0,
            None,
            602,
            ([(HOLDS, "<=", a)], [(VIOLATED, "<=", a), (HOLDS, ">=", 0.8)]),
        ),
        (
            ("boundary", "boundary"),
            f"R ∝ σ^(2(1 − Δ)) (exponent 1 − Δ = {1 - MARGIN:g})",
            1.0 - MARGIN,
            None,
            603,
            ([(HOLDS, "<=", a), (VIOLATED, "<=", a)], [(HOLDS, "<=", a), (VIOLATED, "<=", a)]),
        ),
        (
            ("false", "true"),
            "R ∝ 0.05 + σ² (a floor: does not vanish below it)",
            1.0,
            0.05,
            604,
            ([(HOLDS, "<=", a)], [(VIOLATED, "<=", a), (HOLDS, ">=", 0.8)]),
        ),
    ]
    specs.append(
        (
            ("true", "false"),
            f"R ∝ σ² with the series' own noise: σ² = {OWN_NOISE:g} + σ_ε² (the default "
            "data's geometry: the lower levels crowd at σ_0²)",
            1.0,
            None,
            605,
            ([(VIOLATED, "<=", a), (HOLDS, ">=", 0.8)], [(HOLDS, "<=", a)]),
        )
    )
    for cases, what, b, floor, seed, standards in specs:
        rng = np.random.default_rng(seed)
        level = rng.normal(0.0, 1.0, size=(R, 1, NOISE_SEEDS))
        noise = rng.normal(0.0, RISK_LOG_SD, size=(R, var.size, NOISE_SEEDS))
        x = var + (OWN_NOISE if seed == 605 else 0.0)
        base = x[:, None] ** b if floor is None else floor + x[:, None]
        risk = base * np.exp(level + noise)
        for vanishes, case, standard in zip((True, False), cases, standards):
            st, *_ = noise_exponent_statuses(x, risk, vanishes=vanishes, margin=MARGIN, alpha=a)
            rule = (
                "noise_exponent (vanishes like σ²)"
                if vanishes
                else "noise_exponent (does not vanish like σ²)"
            )
            out.append(planted.row(rule, case, what, budget, planted.tally(st), R, standard))
    return out


def _effect_rows(R: int) -> list[dict]:
    out = []
    V, S, N, a = EFFECT_VARIANTS, EFFECT_SEEDS, EFFECT_WINDOWS, ALPHA
    budget = {"variants": V, "seeds": S, "windows": N, "correction": "holm", "alpha": a}
    specs = [
        (
            "boundary",
            "planted null: no variant changes the risk (normal seed interaction)",
            0.0,
            "normal",
            701,
        ),
        (
            "boundary",
            "planted null, heavy-tailed seed interaction (Student t, 3 d.f.)",
            0.0,
            "t3",
            702,
        ),
        (
            "true",
            "planted effect: variant 1 lowers the risk × 0.55, the others null",
            -0.6,
            "normal",
            703,
        ),
        (
            "false",
            "planted harm: variant 1 raises the risk × 1.8, the others null",
            0.6,
            "normal",
            704,
        ),
    ]
    for case, what, mu, tail, seed in specs:
        rng = np.random.default_rng(seed)
        z = (
            rng.standard_normal((R, V + 1, S))
            if tail == "normal"
            else rng.standard_t(3, (R, V + 1, S))
        )
        g = 0.2 * z
        g[:, 0] = 0.0  # the baseline: its own level only
        g[:, 1] += mu
        level = rng.normal(0.0, 0.5, size=(R, 1, S, 1))
        err = np.exp(level + g[..., None]) * rng.exponential(size=(R, V + 1, S, N))
        d = seed_log_ratios(err[:, 1:], np.broadcast_to(err[:, :1], err[:, 1:].shape))
        st, *_ = paired_effect_statuses(d, alpha=a)
        if mu == 0.0:  # family-wise: any variant
            helps, hurts = np.any(st == HOLDS, axis=-1), np.any(st == VIOLATED, axis=-1)
            counts = {HOLDS: int(helps.sum()), VIOLATED: int((hurts & ~helps).sum())}
            standard = [(HOLDS, "<=", a / 2), (VIOLATED, "<=", a / 2)]
            note = (
                f"HOLDS / VIOLATED: replicates where any variant reads helps / hurts (family-wise; "
                f"{int((helps & hurts).sum())} with both, counted as HOLDS)"
            )
        else:  # variant 1
            counts = {
                HOLDS: int(np.sum(st[:, 0] == HOLDS)),
                VIOLATED: int(np.sum(st[:, 0] == VIOLATED)),
            }
            standard = (
                [(HOLDS, ">=", 0.8), (VIOLATED, "<=", a / 2)]
                if mu < 0
                else [(HOLDS, "<=", a / 2), (VIOLATED, ">=", 0.8)]
            )
            note = "HOLDS / VIOLATED: variant 1 reads helps / hurts"
        counts[INCONCLUSIVE] = R - counts[HOLDS] - counts[VIOLATED]
        out.append(
            planted.row("paired_effects (C7)", case, what, budget, counts, R, standard, note)
        )
    return out


def _margin_draws(R: int, factors, scatter, S: int, seed: int, tail: str = "normal"):
    rng = np.random.default_rng(seed)
    V = len(factors)
    z = (
        rng.standard_normal((R, V, S))
        if tail == "normal"
        else rng.standard_t(3, (R, V, S)) / np.sqrt(3.0)
    )
    return (
        np.log(np.asarray(factors, np.float64))[:, None]
        + np.asarray(scatter, np.float64)[:, None] * z
    )


def _margin_rows(R: int) -> list[dict]:
    out = []
    a, m, V = ALPHA, MARGIN, len(MARGIN_SCATTER)
    thr = 1.0 - m
    obs = "scatter of the default run (sd " + ", ".join(f"{x:g}" for x in MARGIN_SCATTER) + ")"
    # case, planted, factors, scatter, seeds (None: for power 0.8), seed, tail, standard,
    # variant read, note
    specs = [
        (
            "false",
            f"no effect: every variant's factor 1, {obs}",
            (1.0,) * V,
            MARGIN_SCATTER,
            MARGIN_SEEDS,
            711,
            "normal",
            [(VIOLATED, ">=", 0.8), (HOLDS, "<=", a / 2)],
            None,
            "",
        ),
        (
            "false",
            f"no effect: every variant's factor 1, {obs}; read: patching alone (sd 0.5, the "
            f"widest)",
            (1.0,) * V,
            MARGIN_SCATTER,
            MARGIN_SEEDS,
            712,
            "normal",
            [(HOLDS, "<=", a / 2)],
            2,
            "power of 'patching does not mitigate' below 0.8 at 12 seeds: the next row gives the "
            "seeds that reach it",
        ),
        (
            "false",
            f"no effect: every variant's factor 1, {obs}; read: patching alone (sd 0.5, the "
            f"widest)",
            (1.0,) * V,
            MARGIN_SCATTER,
            None,
            713,
            "normal",
            [(VIOLATED, ">=", 0.8), (HOLDS, "<=", a / 2)],
            2,
            "seeds from the exact sign-test budget at α/2 (Holm's last step: the other variants "
            "are "
            ""
            "rejected first)",
        ),
        (
            "boundary",
            f"every factor exactly 1 − Δ = {thr:g}, {obs}",
            (thr,) * V,
            MARGIN_SCATTER,
            MARGIN_SEEDS,
            714,
            "normal",
            [(HOLDS, "<=", a / 2), (VIOLATED, "<=", a / 2)],
            None,
            "",
        ),
        (
            "boundary",
            f"every factor exactly 1 − Δ = {thr:g}, heavy-tailed scatter (Student t, 3 d.f.), "
            f"{obs}",
            (thr,) * V,
            MARGIN_SCATTER,
            MARGIN_SEEDS,
            715,
            "t3",
            [(HOLDS, "<=", a / 2), (VIOLATED, "<=", a / 2)],
            None,
            "",
        ),
        (
            "boundary",
            f"sharpest false HOLDS: patching at 1 − Δ = {thr:g}, the others × 0.5, {obs}",
            (0.5, 0.5, thr, 0.5, 0.5),
            MARGIN_SCATTER,
            MARGIN_SEEDS,
            716,
            "normal",
            [(HOLDS, "<=", a / 2), (VIOLATED, "<=", a / 2)],
            None,
            "",
        ),
        (
            "true",
            f"true mitigation: every factor 0.5, {obs}",
            (0.5,) * V,
            MARGIN_SCATTER,
            MARGIN_SEEDS,
            717,
            "normal",
            [(VIOLATED, "<=", a)],
            None,
            "power of HOLDS below 0.8 at 12 seeds (patching's scatter): the next row gives the "
            "seeds that reach it",
        ),
        (
            "true",
            f"true mitigation: every factor 0.5, {obs}",
            (0.5,) * V,
            MARGIN_SCATTER,
            None,
            718,
            "normal",
            [(VIOLATED, "<=", a), (HOLDS, ">=", 0.8)],
            None,
            "seeds from the exact sign-test budget (patching's scatter, α/2)",
        ),
    ]
    for case, what, factors, scatter, S, seed, tail, standard, variant, note in specs:
        if (
            S is None
        ):  # the seeds at which the widest-scatter variant reaches power 0.8 (noncentral t, α/2)
            k = int(np.argmax(scatter))
            share = float(special.ndtr(abs(np.log(factors[k]) - np.log(thr)) / scatter[k]))
            S = sign_seeds_for_power(share, a / 2)
        d = _margin_draws(R, factors, scatter, S, seed, tail)
        st, conj, _, _ = margin_effect_statuses(d, margin=m, alpha=a)
        budget = {"variants": V, "seeds": S, "margin": m, "alpha": a}
        read = (
            "claim-level: VIOLATED = some variant shown not to mitigate, HOLDS = every variant "
            "shown to mitigate"
            if variant is None
            else f"variant {variant + 1}'s own status (Holm over {V})"
        )
        out.append(
            planted.row(
                "margin_effects (C7)",
                case,
                what,
                budget,
                planted.tally(conj if variant is None else st[:, variant]),
                R,
                standard,
                read + (f"; {note}" if note else ""),
            )
        )
    return out


def rows(R: int) -> list[dict]:
    """The calibration rows of :mod:`verification.rules._ood` at ``R`` replicates per case."""
    return [*_noise_rows(int(R)), *_effect_rows(int(R)), *_margin_rows(int(R))]
