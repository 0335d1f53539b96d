r"""Calibration rows under the noise the runs produce: skewed either way, heavy tails,
spread that depends on the level, 0/1-like fractions, beside normal noise.

* **margin_effects (C7), robustness**: 5 variants, every one exactly at the margin (median of
  :math:`d` at :math:`\log(1-\Delta)`), seed noise :math:`0.3\,z` with :math:`z` standardised
  log-normal (skewness ≈ 2, right; mirrored: left), Student t (3 d.f.) or normal, at the default
  12 seeds. HOLDS = replicates where *some* variant prints "mitigates" (family-wise), VIOLATED =
  the conjunction says "does not mitigate". And the same planted laws read with
  ``estimand="mean"`` (mean at the margin), where no test is exact.
* **noise_exponent (C5), robustness**: exponent b = 1 − Δ = 0.9 exactly (the boundary), 4 levels,
  10 seeds, seed levels N(0, 1), level-dependent skewed noise: sd 0.6 at the smallest σ², 0.15
  elsewhere, standardised log-normal (skewness ≈ 2) either way; the noise centred at its median
  (the median exponent is 0.9) or at its mean (the mean exponent is 0.9: the other estimand).
* **seed_fraction (C2), robustness**: 8 members × 160 networks, whole groups flipping (fraction 0,
  or uniform on [0.9, 1]) at mean 0.15 (false), δ (boundary) and 0.02 (true); concentrated
  fractions Bin(8, q)/8, q ~ Beta(κ = 40) at mean 0.05 (true) and δ (boundary).

``rows(R, quick=True)`` keeps a subset (one row per rule).
"""

from __future__ import annotations

import numpy as np

from verification.calibration import _planted as planted
from verification.rules._fractions import fraction_statuses
from verification.rules._margin import margin_effect_statuses
from verification.rules._ood import noise_exponent_statuses
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VIOLATED

__all__ = ["rows", "skewed"]

ALPHA = 0.05
MARGIN = 0.1
LOG_SD = 0.55
"""σ of the log-normal behind the skewed noise: skewness (e^{σ²} + 2)√(e^{σ²} − 1) ≈ 2.0."""


def skewed(rng, shape, *, direction: int = 1, centre: str = "median") -> np.ndarray:
    """Standardised log-normal draws (sd 1, skewness ≈ 2 × ``direction``), centred so that their
    ``centre`` ("median" or "mean") is 0."""
    z = rng.lognormal(0.0, LOG_SD, shape)
    shift = 1.0 if centre == "median" else float(np.exp(LOG_SD**2 / 2))
    sd = float(np.sqrt((np.exp(LOG_SD**2) - 1) * np.exp(LOG_SD**2)))
    return direction * (z - shift) / sd


def _margin_rows(R: int, quick: bool) -> list[dict]:
    V, S, a = 5, 12, ALPHA
    thr = np.log1p(-MARGIN)
    specs = [
        ("right skew (log-normal, skewness ≈ 2)", "right", "median", 901),
        ("left skew (mirrored log-normal)", "left", "median", 902),
        ("heavy tails (Student t, 3 d.f.)", "t3", "median", 903),
        ("normal", "normal", "median", 904),
        ("right skew, read as the mean", "right", "mean", 905),
        ("left skew, read as the mean", "left", "mean", 906),
    ]
    if quick:
        specs = specs[:1]
    out = []
    for case, factor, seed in (("true", 0.5, 907), ("false", 1.5, 908)):
        rng = np.random.default_rng(seed)
        d = np.log(factor) + 0.3 * skewed(rng, (R, V, S), direction=1)
        _, conj, _, _ = margin_effect_statuses(d, margin=MARGIN)
        standard = (
            [(VIOLATED, "<=", a / 2), (HOLDS, ">=", 0.8)]
            if case == "true"
            else [(HOLDS, "<=", a / 2), (VIOLATED, ">=", 0.8)]
        )
        out.append(
            planted.row(
                "margin_effects (C7), robustness",
                case,
                f"every variant's median factor {factor:g}, seed noise 0.3 × right skew "
                "(log-normal, skewness ≈ 2)",
                {"variants": V, "seeds": S, "margin": MARGIN, "estimand": "median", "alpha": a},
                planted.tally(conj),
                R,
                standard,
                "claim-level: HOLDS = every variant shown to mitigate, VIOLATED = one shown not to",
            )
        )
    for what, law, estimand, seed in specs:
        rng = np.random.default_rng(seed)
        if law in ("right", "left"):
            z = skewed(rng, (R, V, S), direction=1 if law == "right" else -1, centre=estimand)
        elif law == "t3":
            z = rng.standard_t(3, (R, V, S)) / np.sqrt(3.0)
        else:
            z = rng.standard_normal((R, V, S))
        st, conj, _, _ = margin_effect_statuses(thr + 0.3 * z, margin=MARGIN, estimand=estimand)
        some = np.any(st == HOLDS, axis=-1)
        no = (conj == VIOLATED) & ~some
        counts = {HOLDS: int(some.sum()), VIOLATED: int(no.sum())}
        counts[INCONCLUSIVE] = R - counts[HOLDS] - counts[VIOLATED]
        note = (
            "HOLDS: some variant prints 'mitigates' (family-wise); VIOLATED: the conjunction reads "
            "'does not mitigate'"
        )
        if estimand == "mean":
            note += (
                "; the mean has no exact test at 12 seeds: Hall's skewness-corrected t still errs "
                "in the tail Holm needs (why the median is the default)"
            )
        out.append(
            planted.row(
                "margin_effects (C7), robustness",
                "boundary",
                f"every variant's {estimand} at 1 − Δ = {1 - MARGIN:g}, seed noise 0.3 × {what}",
                {"variants": V, "seeds": S, "margin": MARGIN, "estimand": estimand, "alpha": a},
                counts,
                R,
                [(HOLDS, "<=", a / 2), (VIOLATED, "<=", a / 2)],
                note,
            )
        )
    return out


def _noise_rows(R: int, quick: bool) -> list[dict]:
    sig = np.array([1e-4, 1e-2, 1e-1, 1.0])
    x = 2e-4 + sig**2
    sd = np.array([0.6, 0.15, 0.15, 0.15])[:, None]
    S, a = 10, ALPHA
    specs = [
        ("right", "median", "median", 911),
        ("left", "median", "median", 912),
        ("right", "mean", "median", 913),
        ("left", "mean", "median", 914),
        ("right", "mean", "mean", 915),
        ("left", "mean", "mean", 916),
    ]
    if quick:
        specs = specs[:1]
    out = []
    for b, seed in ((1.0, 917), (0.5, 918)):
        rng = np.random.default_rng(seed)
        eps = skewed(rng, (R, x.size, S), direction=1)
        risk = x[:, None] ** b * np.exp(rng.normal(0, 1, (R, 1, S)) + sd * eps)
        for vanishes in (True, False):
            st, *_ = noise_exponent_statuses(x, risk, vanishes=vanishes, margin=MARGIN)
            true = (b >= 1 - MARGIN) == vanishes
            out.append(
                planted.row(
                    f"noise_exponent (C5, {'vanishes' if vanishes else 'does not vanish'}), "
                    "robustness",
                    "true" if true else "false",
                    f"exponent {b:g}, right-skewed noise (skewness ≈ 2) centred at its median, "
                    "sd 0.6 at the smallest σ² and 0.15 elsewhere",
                    {"levels": x.size, "seeds": S, "estimand": "median", "alpha": a},
                    planted.tally(st),
                    R,
                    [(VIOLATED, "<=", a / 2), (HOLDS, ">=", 0.8)]
                    if true
                    else [(HOLDS, "<=", a / 2), (VIOLATED, ">=", 0.8)],
                    "",
                )
            )
    for law, centre, estimand, seed in specs:
        rng = np.random.default_rng(seed)
        eps = skewed(rng, (R, x.size, S), direction=1 if law == "right" else -1, centre=centre)
        risk = x[:, None] ** (1 - MARGIN) * np.exp(rng.normal(0, 1, (R, 1, S)) + sd * eps)
        for vanishes in (True, False):
            st, *_ = noise_exponent_statuses(
                x, risk, vanishes=vanishes, margin=MARGIN, estimand=estimand
            )
            word = "vanishes" if vanishes else "does not vanish"
            note = ""
            if centre != estimand:
                note = f"noise centred at its {centre}: the {estimand} exponent is not exactly 0.9"
            elif estimand == "mean":
                note = (
                    "the mean has no exact test at 10 seeds: Hall's skewness-corrected t still "
                    "errs under level-dependent skew (why the median is the default)"
                )
            out.append(
                planted.row(
                    f"noise_exponent (C5, {word}), robustness",
                    "boundary",
                    f"exponent 0.9 = 1 − Δ, {law}-skewed noise (skewness ≈ 2) centred at its "
                    f"{centre}, sd 0.6 at the smallest σ² and 0.15 elsewhere",
                    {"levels": x.size, "seeds": S, "estimand": estimand, "alpha": a},
                    planted.tally(st),
                    R,
                    [(HOLDS, "<=", a / 2), (VIOLATED, "<=", a / 2)],
                    note,
                )
            )
    return out


def _fraction_rows(R: int, quick: bool) -> list[dict]:
    K, S, a, delta = 8, 160, ALPHA, 0.1

    def flips(rng, n, mean):
        on = rng.random((n, K, S)) < mean / 0.95
        return np.where(on, rng.uniform(0.9, 1.0, (n, K, S)), 0.0)

    def concentrated(rng, n, mean, kappa=40.0, g=8):
        q = rng.beta(mean * kappa, (1 - mean) * kappa, (n, K, S))
        return rng.binomial(g, q) / g

    specs = [
        ("false", "whole groups flip (0 or U[0.9, 1]), mean 0.15", flips, 0.15, 921,
         [(HOLDS, "<=", a / 2), (VIOLATED, ">=", 0.75)]),
        ("boundary", "whole groups flip, mean δ = 0.1", flips, delta, 922,
         [(HOLDS, "<=", a / 2), (VIOLATED, "<=", a / 2)]),
        ("true", "whole groups flip, mean 0.02", flips, 0.02, 923,
         [(VIOLATED, "<=", a / 2), (HOLDS, ">=", 0.8)]),
        ("true", "concentrated: Bin(8, q)/8, q ~ Beta(κ = 40), mean 0.05", concentrated, 0.05,
         924, [(VIOLATED, "<=", a / 2), (HOLDS, ">=", 0.8)]),
        ("boundary", "concentrated: Bin(8, q)/8, q ~ Beta(κ = 40), mean δ = 0.1", concentrated,
         delta, 925, [(HOLDS, "<=", a / 2), (VIOLATED, "<=", a / 2)]),
    ]  # fmt: skip
    if quick:
        specs = specs[:3]
    out = []
    for case, what, gen, mean, seed, standard in specs:
        rng = np.random.default_rng(seed)
        st = np.concatenate(
            [
                fraction_statuses(gen(rng, min(100, R - i), mean), delta=delta)
                for i in range(0, R, 100)
            ]
        )
        out.append(
            planted.row(
                "seed_fraction (C2), robustness",
                case,
                what,
                {"members": K, "seeds": S, "delta": delta, "alpha": a},
                planted.tally(st),
                R,
                standard,
                "",
            )
        )
    return out


def rows(R: int, quick: bool = False) -> list[dict]:
    """The robustness rows at ``R`` replicates per case (``quick``: one or two per rule)."""
    R = int(R)
    return [*_margin_rows(R, quick), *_noise_rows(R, quick), *_fraction_rows(R, quick)]
