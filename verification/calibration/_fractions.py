r"""Calibration of :func:`verification.rules._laws.fraction_decision` (every neuron, per-network
failure fractions, betting bound) at the C2 default: 160 networks × 4 widths × 2 sign groups, group
sizes m/2 for m ∈ {16, 32, 64, 128}; network s of a member draws :math:`q_s \sim \mathrm{Beta}` with
mean p and intra-network correlation ρ (0.5; 0.9 and 0.3 beside it — the default data's groups show
ρ ≈ 0.26–0.99), its failures are :math:`\mathrm{Bin}(m/2, q_s)`. Cases: true (p = 0.02), boundary
(p = δ at every member: the least favourable null for HOLDS), false (p = 0.3 at one member, 0.02
elsewhere: the alternative VIOLATED must find in a family of 8; p = 0.3 everywhere for HOLDS).
"""

from __future__ import annotations

import numpy as np

from verification.calibration import _planted as planted
from verification.calibration._seeds import ALPHA, DELTA
from verification.rules._fractions import fraction_statuses as _rule_statuses
from verification.rules._verdict import HOLDS, VIOLATED

__all__ = ["C2_SEEDS", "C2_GROUPS", "fraction_statuses", "rows"]

C2_SEEDS = 160
"""Networks per width of the C2 default (``[C2] seeds``)."""
C2_GROUPS = (8, 16, 32, 64, 8, 16, 32, 64)
"""Neurons per member at the C2 default: m/2 for m = 16, 32, 64, 128, for a_r = +1 and a_r = −1."""


def _fractions(rng, R: int, p, rho: float, seeds: int, groups) -> np.ndarray:
    """Failure fractions (R, K, seeds): member k's networks draw q ~ Beta(mean p_k, correlation ρ),
    failures Bin(g_k, q)."""
    p = np.broadcast_to(np.asarray(p, np.float64), (len(groups),))
    out = np.empty((R, len(groups), seeds))
    for k, (pk, g) in enumerate(zip(p, groups)):
        q = (
            rng.beta(pk * (1 - rho) / rho, (1 - pk) * (1 - rho) / rho, size=(R, seeds))
            if 0 < pk < 1
            else np.full((R, seeds), pk)
        )
        out[:, k] = rng.binomial(g, q) / g
    return out


def fraction_statuses(f: np.ndarray, *, delta: float = DELTA, alpha: float = ALPHA) -> np.ndarray:
    """Statuses of :func:`verification.rules._laws.fraction_decision` on replicates ``f``
    (R, K, S), vectorised (:func:`verification.rules._fractions.fraction_statuses`)."""
    return _rule_statuses(f, delta=delta, alpha=alpha)


def rows(R: int) -> list[dict]:
    """Calibration rows of :func:`verification.rules._laws.fraction_decision` (module docstring);
    ``R`` replicates each."""
    a, S, G = ALPHA, C2_SEEDS, C2_GROUPS
    one_false = [0.3] + [0.02] * (len(G) - 1)
    specs = [
        (
            "true",
            "p = 0.02 at every member, ρ = 0.5",
            0.02,
            0.5,
            701,
            [(VIOLATED, "<=", a / 2), (HOLDS, ">=", 0.8)],
        ),
        (
            "true",
            "p = 0.02 at every member, ρ = 0.9",
            0.02,
            0.9,
            702,
            [(VIOLATED, "<=", a / 2), (HOLDS, ">=", 0.8)],
            "ρ → 1 makes each network all-fail or all-hold (0/1 fractions): the binomial part on "
            "rounded fractions decides, at the weight 0.6 the betting part leaves it (the cost of "
            "not knowing the law in advance, not of validity: an exact binomial test alone is "
            "valid for every law on [0, 1] too, and loses on concentrated fractions instead)",
        ),
        (
            "true",
            "p = 0.02 at every member, ρ = 0.3",
            0.02,
            0.3,
            703,
            [(VIOLATED, "<=", a / 2), (HOLDS, ">=", 0.8)],
        ),
        (
            "boundary",
            "p = δ = 0.1 at every member, ρ = 0.5",
            DELTA,
            0.5,
            704,
            [(HOLDS, "<=", a / 2), (VIOLATED, "<=", a / 2)],
        ),
        (
            "boundary",
            "p = δ = 0.1 at every member, ρ = 0.9",
            DELTA,
            0.9,
            705,
            [(HOLDS, "<=", a / 2), (VIOLATED, "<=", a / 2)],
        ),
        (
            "boundary",
            "p = δ = 0.1 at every member, ρ = 0.05",
            DELTA,
            0.05,
            706,
            [(HOLDS, "<=", a / 2), (VIOLATED, "<=", a / 2)],
        ),
        (
            "false",
            "p = 0.3 at every member, ρ = 0.5",
            0.3,
            0.5,
            707,
            [(HOLDS, "<=", a / 2), (VIOLATED, ">=", 0.8)],
        ),
        (
            "false",
            "p = 0.3 at one member (0.02 elsewhere), ρ = 0.5",
            one_false,
            0.5,
            708,
            [(HOLDS, "<=", a / 2), (VIOLATED, ">=", 0.8)],
        ),
        (
            "false",
            "p = 0.3 at one member (0.02 elsewhere), ρ = 0.9",
            one_false,
            0.9,
            709,
            [(HOLDS, "<=", a / 2), (VIOLATED, ">=", 0.8)],
        ),
        (
            "false",
            "like the default data: p = 0.05, 0.07, 0.08, 0.1 (a_r = +1), 0.08, 0.15, 0.18, 0.2 "
            "(a_r = −1) "
            "by width, ρ = 0.9",
            [0.05, 0.07, 0.08, 0.1, 0.08, 0.15, 0.18, 0.2],
            0.9,
            710,
            [(HOLDS, "<=", a / 2), (VIOLATED, ">=", 0.8)],
        ),
    ]
    out = []
    specs = [sp if len(sp) == 7 else (*sp, "") for sp in specs]
    for case, what, p, rho, seed, standard, note in specs:
        rng = np.random.default_rng(seed)
        st = np.concatenate(
            [
                fraction_statuses(_fractions(rng, min(500, R - i), p, rho, S, G))
                for i in range(0, R, 500)
            ]
        )
        budget = {
            "seeds": S,
            "family": len(G),
            "neurons": "m/2, m = 16..128",
            "rho": rho,
            "delta": DELTA,
            "alpha": a,
        }
        out.append(
            planted.row(
                "seed_fraction",
                case,
                f"{what}, C2 default: {S} seeds × 4 widths × 2 groups",
                budget,
                planted.tally(st),
                R,
                standard,
                note,
            )
        )
    return out
