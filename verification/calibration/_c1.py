r"""Calibration rows of C1's rules on planted truths (docs/calibration.md;
:data:`verification.calibration._table.RULE_MODULES`).

* "C1 kernel gap": :func:`verification.rules.rate_decision` on the per-seed gap
  :math:`\sup_t|L(t)-L_{lin}(t)|/L(0)` at C1's mechanism budget (3 widths 256, 1024, 4096 × 16
  seeds,
  :data:`GAP_WIDTHS`, :data:`GAP_SEEDS`; the rule sees only log-width spacing, a factor 4 as before
  64–1024). Planted gaps :math:`g_{js} = m_j^{p}\,e^{\sigma z_{js}}` with a
  log-scatter σ = :data:`GAP_SCATTER` (1.6: per-seed slopes with sd ≈ 0.8, at or above those
  measured — default data 0.72 at widths
  64–1024 and 0.67 at 256–4096, sunspots 0.43 and 0.35 —
  i.e. σ·(Σ_j(\log m_j - \overline{\log m})^2)^{-1/2} ≈ 0.8). True: p = −1 (the regime observed) and
  p = −1/2 (the theory's rate exactly: power is not required there, only no false VIOLATED);
  boundary:
  p = −0.4 = −1/2 + Δ; false: p = 0 (no shrinking). Standard: false HOLDS ≤ α, false VIOLATED ≤ α,
  power ≥ 0.8 where stated.
* "C1 horizon": the envelope rule with the horizon rule
  (:func:`verification.claims.c1_convergence.check_c1`
  is not imported here — a leaf may not reach the claims; the rule is restated as
  :func:`horizon_status`): planted exponential losses that meet the envelope over a horizon that
  reaches the
  float floor (HOLDS), the same over a horizon that does not (VACUOUS, never HOLDS), and losses that
  stall
  above the envelope after the short horizon (never HOLDS at either horizon).

Deterministic: numpy draws from fixed integer seeds.
"""

from __future__ import annotations

import math

import numpy as np
from jaxtyping import Float, Int

from verification import rules as stats
from verification.calibration import _planted as planted
from verification.rules._verdict import HOLDS, VACUOUS, VIOLATED

GAP_WIDTHS = (256, 1024, 4096)
GAP_SEEDS = 16
GAP_SCATTER = 1.6
ALPHA = 0.05
MARGIN = 0.1

__all__ = ["GAP_WIDTHS", "GAP_SEEDS", "GAP_SCATTER", "horizon_status", "rows"]


def _gap_rows(R: int) -> list[dict]:
    out = []
    m = np.asarray(GAP_WIDTHS, np.float64)
    budget = {
        "widths": list(GAP_WIDTHS),
        "seeds": GAP_SEEDS,
        "scatter": GAP_SCATTER,
        "exponent": -0.5,
        "margin": MARGIN,
        "violation_margin": MARGIN,
        "alpha": ALPHA,
    }
    for case, p, seed, standard, note in [
        (
            "true",
            -1.0,
            401,
            [(VIOLATED, "<=", ALPHA), (HOLDS, ">=", 0.8)],
            "the regime observed on the default data",
        ),
        (
            "true",
            -0.5,
            402,
            [(VIOLATED, "<=", ALPHA)],
            "exactly the theory's rate: HOLDS needs a half-width < Δ",
        ),
        ("boundary", -0.4, 403, [(HOLDS, "<=", ALPHA), (VIOLATED, "<=", ALPHA)], ""),
        ("false", 0.0, 404, [(HOLDS, "<=", ALPHA)], "the gap does not shrink with m"),
    ]:
        rng = np.random.default_rng(seed)
        v = m[None, :, None] ** p * np.exp(
            GAP_SCATTER * rng.standard_normal((R, m.size, GAP_SEEDS))
        )
        _, lo, hi = stats.rate_bounds(m, v, alpha=ALPHA)
        st = stats.rate_status(lo, hi, exponent=-0.5, margin=MARGIN, violation_margin=MARGIN)
        out.append(
            planted.row(
                "C1 kernel gap",
                case,
                f"gap m^{p:g} · e^(σz), σ = {GAP_SCATTER:g}",
                budget,
                planted.tally(st),
                R,
                standard,
                note,
            )
        )
    return out


def horizon_status(
    losses: Float[np.ndarray, "W S R"],
    steps: Int[np.ndarray, " R"],
    *,
    rate: float,
    floor: float,
    delta: float = 0.1,
    alpha: float = ALPHA,
) -> str:
    r"""C1's envelope part with its horizon rule: :func:`verification.rules.envelope_decision` on
    :math:`L(t) \le \mathrm{rate}^t L(0)` (per width, runs × time), then a HOLDS over fewer e-folds
    :math:`-T\log\mathrm{rate}` than :math:`\log(\max L(0)/L_{floor})` reads VACUOUS."""
    t = np.asarray(steps, np.float64)
    env = losses[..., :1] * rate**t
    d = stats.envelope_decision(losses, env, floor, delta=delta, alpha=alpha)
    efolds = -t[-1] * math.log(rate)
    need = math.log(float(np.max(losses[..., 0])) / floor)
    return VACUOUS if d.status == HOLDS and efolds < need else d.status


def _horizon_rows(R: int) -> list[dict]:
    out = []
    floor = stats.float_floor(4, 16, 1.0, 1.0)
    long, short = np.arange(0, 2001, 50), np.arange(0, 401, 50)
    budget = {"widths": 1, "runs": 40, "delta": 0.1, "envelope rate": 0.95, "float floor": floor}
    for case, planted_text, steps, stall, seed, standard in [
        (
            "true",
            "L(0)·0.9^t·e^(0.1 z) (capped at L(0)), horizon 2000 steps = 103 e-folds ≥ 68.2 to the "
            "floor",
            long,
            0.0,
            501,
            [(VIOLATED, "<=", ALPHA), (HOLDS, ">=", 0.8)],
        ),
        (
            "true",
            "as above, horizon 400 steps = 21 e-folds < 68.2: slow modes not tested",
            short,
            0.0,
            502,
            [(HOLDS, "<=", 0.0), (VIOLATED, "<=", ALPHA)],
        ),
        (
            "boundary",
            "as above, horizon 1400 steps = 72 e-folds, just past the ≤ 68.2 needed (L(0) ≤ 2)",
            np.arange(0, 1401, 50),
            0.0,
            505,
            [(VIOLATED, "<=", ALPHA), (HOLDS, ">=", 0.8)],
        ),
        (
            "false",
            "as above, 20% of runs stall at 1e-9 from t = 1000, horizon 2000 steps",
            long,
            0.2,
            503,
            [(HOLDS, "<=", ALPHA)],
        ),
        (
            "false",
            "the same stalled runs seen over 400 steps (before the stall)",
            short,
            0.2,
            504,
            [(HOLDS, "<=", 0.0)],
        ),
    ]:
        rng = np.random.default_rng(seed)
        st = []
        for _ in range(R):
            L0 = rng.uniform(1.0, 2.0, size=(1, 40, 1))
            loss = np.minimum(
                L0 * 0.9**steps * np.exp(0.1 * rng.standard_normal((1, 40, steps.size))), L0
            )
            if stall:
                bad = rng.random(40) < stall
                loss[0, bad] = np.where(steps >= 1000, 1e-9, loss[0, bad])
            st.append(horizon_status(loss, steps, rate=0.95, floor=floor))
        out.append(
            planted.row(
                "C1 horizon",
                case,
                planted_text,
                {**budget, "steps": int(steps[-1])},
                planted.tally(st),
                R,
                standard,
            )
        )
    return out


def rows(R: int) -> list[dict]:
    """Every C1 row at ``R`` replicates (the horizon rows use min(R, 200): each is a loop of
    decisions)."""
    return _gap_rows(R) + _horizon_rows(min(R, 200))
