r"""Calibration of :func:`verification.rules._laws.seed_decision` (seeds, not neurons, as the unit)
on planted networks.

Planted networks: at each of W widths, S networks of m neurons; network s draws a failure
propensity :math:`q_s \sim \mathrm{Beta}` with mean p and intra-network correlation ρ = 0.5
(:math:`a = p(1-\rho)/\rho`, :math:`b = (1-p)(1-\rho)/\rho`; q = p exactly when p is 0 or 1),
and each of its neurons fails with probability :math:`q_s` — neurons of one network are
dependent, as trained neurons sharing :math:`f(t)` are. The marginal failure probability of a
neuron is p. Cases at the C3 default budget (2 seeds × 2 widths), the C2 default (3 seeds × 4
widths × 2 sign groups) and the budget :func:`verification.rules._laws.seeds_for_power` gives: true
(p = 0.02, and p = 0), boundary (p = δ), false (p = 0.98: the conclusion fails in almost every
network, as C3's does on the default data). The contrast row judges the boundary case with the
neurons pooled as independent trials (the rule C3 used before): its false-VIOLATED rate is why the
network is the unit. Deterministic numpy draws from fixed integer seeds.
"""

from __future__ import annotations

import numpy as np

from verification import rules as stats
from verification.calibration import _planted as planted
from verification.rules import _laws as laws
from verification.rules._verdict import HOLDS, VIOLATED

__all__ = ["ALPHA", "DELTA", "RHO", "rows"]

ALPHA = 0.05
DELTA = 0.1
RHO = 0.5
NEURONS = 64


def _networks(rng, p: float, shape) -> np.ndarray:
    """Failure flags (..., m) of planted networks with mean failure rate p and correlation ρ within
    a network."""
    if p in (0.0, 1.0):
        q = np.full(shape, p)
    else:
        a, b = p * (1 - RHO) / RHO, (1 - p) * (1 - RHO) / RHO
        q = rng.beta(a, b, size=shape)
    return rng.random(size=(*shape, NEURONS)) < q[..., None]


def _statuses(rng, R: int, p: float, seeds: int, family: int, *, pooled: bool = False) -> list[str]:
    out = []
    for _ in range(R):
        fail = _networks(rng, p, (family, seeds))  # (K, S, m)
        if pooled:
            k = fail.sum(axis=(1, 2)).astype(np.int64)
            out.append(
                stats.probability_decision(
                    k, np.int64(seeds * NEURONS), delta=DELTA, alpha=ALPHA, correction="holm"
                ).status
            )
            continue
        counts = [laws.designated_outcomes(~f) for f in fail]
        dec = laws.seed_decision(
            [c[0] for c in counts], [c[1] for c in counts], delta=DELTA, alpha=ALPHA
        )
        out.append(dec.status)
    return out


def rows(R: int) -> list[dict]:
    """Calibration rows of the seed-level rule (module docstring); ``R`` replicates each."""
    power_seeds = laws.seeds_for_power(delta=DELTA, alpha=ALPHA, widths=2, p_true=0.02)
    a = ALPHA
    few = (
        "two or three networks per width cannot show a 1 − δ probability (HOLDS needs ≥ 36 with no "
        "failure)"
    )
    specs = [
        (
            "true",
            "p = 0 (no network fails), C3 default: 2 seeds × 2 widths",
            0.0,
            2,
            2,
            601,
            [(VIOLATED, "<=", a), (HOLDS, ">=", 0.8)],
            few,
        ),
        (
            "true",
            "p = 0.02, C2 default: 3 seeds × 4 widths × 2 groups",
            0.02,
            3,
            8,
            602,
            [(VIOLATED, "<=", a), (HOLDS, ">=", 0.8)],
            few,
        ),
        (
            "true",
            f"p = 0.02, {power_seeds} seeds × 2 widths (seeds_for_power)",
            0.02,
            power_seeds,
            2,
            603,
            [(VIOLATED, "<=", a), (HOLDS, ">=", 0.8)],
            "",
        ),
        (
            "boundary",
            "p = δ = 0.1, C3 default: 2 seeds × 2 widths",
            DELTA,
            2,
            2,
            604,
            [(HOLDS, "<=", a), (VIOLATED, "<=", a)],
            "",
        ),
        (
            "boundary",
            "p = δ = 0.1, C2 default: 3 seeds × 4 widths × 2 groups",
            DELTA,
            3,
            8,
            605,
            [(HOLDS, "<=", a), (VIOLATED, "<=", a)],
            "",
        ),
        (
            "boundary",
            f"p = δ = 0.1, {power_seeds} seeds × 2 widths",
            DELTA,
            power_seeds,
            2,
            606,
            [(HOLDS, "<=", a), (VIOLATED, "<=", a)],
            "",
        ),
        (
            "false",
            "p = 0.98, C3 default: 2 seeds × 2 widths",
            0.98,
            2,
            2,
            607,
            [(HOLDS, "<=", a), (VIOLATED, ">=", 0.8)],
            "",
        ),
        (
            "false",
            "p = 0.5, C2 default: 3 seeds × 4 widths × 2 groups",
            0.5,
            3,
            8,
            608,
            [(HOLDS, "<=", a)],
            "",
        ),
    ]
    out = []
    for case, what, p, seeds, family, seed, standard, note in specs:
        st = _statuses(np.random.default_rng(seed), R, p, seeds, family)
        budget = {
            "seeds": seeds,
            "family": family,
            "neurons": NEURONS,
            "rho": RHO,
            "delta": DELTA,
            "alpha": a,
        }
        out.append(
            planted.row(
                "seed_probability", case, what, budget, planted.tally(st), R, standard, note
            )
        )
    st = _statuses(np.random.default_rng(609), R, DELTA, 2, 2, pooled=True)
    out.append(
        planted.row(
            "seed_probability",
            "boundary",
            "contrast: p = δ, 2 seeds × 2 widths, the 64 neurons of each network pooled as "
            "independent trials",
            {
                "seeds": 2,
                "family": 2,
                "neurons": NEURONS,
                "rho": RHO,
                "delta": DELTA,
                "alpha": a,
                "pooled": True,
            },
            planted.tally(st),
            R,
            [(HOLDS, "<=", a), (VIOLATED, "<=", a)],
            "neurons of one network are not independent: why the network draw is the unit",
        )
    )
    return out
