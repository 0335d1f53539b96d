r"""Planted rows of the rules behind C1 and C4's theorem parts (:mod:`verification.rules`):
the rate, the explicit bound, the probability, the envelope and the resolution rules.

Planted cases:

* **rate** (:func:`~verification.rules.rate_decision`, claim :math:`O(m^{-1/2})`, Δ = Δ_v = 0.1;
  9 widths 64…16384 × 30 seeds):
  true — :math:`\|\frac1m\sum_{r\le m}\xi_r\|` for Rademacher vectors :math:`\xi_r\in\{\pm1\}^8`
  (a CLT quantity, exponent exactly −1/2 at every width; drawn exactly as binomial sums);
  true, pre-asymptotic — :math:`m^{-1/2}\max_{r\le m}\min(|z_r|, 4)`, :math:`z_r\sim N(0,1)`
  (exactly :math:`O(m^{-1/2})`; drawn exactly through the distribution of the maximum,
  :math:`P(\max \le x) = F(x)^m`); the same with :math:`\min(E_r, 10)`,
  :math:`E_r\sim\mathrm{Exp}(1)`
  (sub-exponential terms: a pre-asymptotic bias the margin does not cover); boundary — the CLT
  quantity times :math:`m^{0.1}` (exponent
  −0.4 = p + Δ); false — times :math:`m^{0.25}` (exponent −0.25); and the CLT quantity at the
  former default budget (4 widths × 3 seeds) to show what it cannot decide.
* **bounded_by** (deterministic bound :math:`4m^{-1/2}` on the pre-asymptotic maximum): true —
  the maximum itself (attains the bound when some :math:`|z_r| \ge 4`); boundary — one point set
  exactly to the bound; false — bound :math:`3m^{-1/2}` (a wrong constant).
* **probability** (:func:`~verification.rules.probability_decision`, δ = 0.1, 4 widths, Holm):
  failure probability 0.02 (true), δ (boundary), 0.2 (false), 0.2 at one width only (false),
  at 120 runs per width (the proposed default) and 3, 30, 60 runs (what smaller budgets give).
* **envelope** (:func:`~verification.rules.envelope_decision` with
  :func:`~verification.rules.float_floor`): 10 runs × 200 recorded steps, the envelope
  :math:`L_0\rho^t` falling to :math:`10^{-40}L_0`, losses with a rounding plateau
  :math:`U(0,1)\times` floor: decay faster than the envelope (true), equal to it (boundary),
  slower (false), and the true case judged without the floor (floor = 0: every run "breaks").
* **resolution** (:func:`~verification.rules.resolution_check`, resolution :math:`10^{-2}`):
  demanded log-uniform in :math:`[10^{-2}, 1]` (true: resolved), :math:`[10^{-12}, 10^{-3}]`
  (false: VACUOUS), exactly :math:`10^{-2}` (boundary: resolved).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from verification import rules as stats
from verification.calibration import _planted as planted_rows
from verification.rules._verdict import HOLDS, VACUOUS, VIOLATED

__all__ = [
    "ALPHA",
    "RATE_WIDTHS",
    "RATE_SEEDS",
    "PROBABILITY_WIDTHS",
    "PROBABILITY_RUNS",
    "DELTA",
    "MARGIN",
    "stats_rows",
]

ALPHA = 0.05
RATE_WIDTHS = tuple(2**k for k in range(6, 15))  # 64 … 16384
RATE_SEEDS = 30
PROBABILITY_WIDTHS = 4
PROBABILITY_RUNS = 120
DELTA = 0.1
MARGIN = 0.1


_row = planted_rows.row
_tally = planted_rows.tally


# ----------------------------------------------------------------------------- generators


def _clt(rng, widths, shape, dim: int = 8):
    r"""``‖(1/m) Σ_r ξ_r‖`` for Rademacher ``ξ_r ∈ {±1}^dim``: coordinate sums are ``2 Bin(m, 1/2) −
    m``."""
    m = np.asarray(widths, np.int64)
    n = np.broadcast_to(m[:, None, None], (*shape[:-2], m.size, shape[-1], dim))
    sums = 2 * rng.binomial(n, 0.5) - m[:, None, None]
    return np.sqrt(np.sum(sums.astype(np.float64) ** 2, axis=-1)) / m[:, None].astype(np.float64)


def _max_bounded(rng, widths, shape, cap: float = 4.0):
    r"""``m^{-1/2} max_{r≤m} min(|z_r|, cap)``, drawn exactly: ``max|z| = F^{-1}(U^{1/m})``, ``F``
    of ``|z|``.

    ``P(|z| > x) = 1 − U^{1/m} = −expm1(log U / m) = q`` and ``x = −Φ^{-1}(q/2)``.
    """
    m = np.asarray(widths, np.float64)
    u = rng.random(size=(*shape[:-2], m.size, shape[-1]))
    u = np.maximum(u, np.finfo(np.float64).tiny)
    q = -np.expm1(np.log(u) / m[:, None])
    x = -special.ndtri(q / 2)
    return np.minimum(x, cap) * m[:, None] ** -0.5


def _max_exponential(rng, widths, shape, cap: float = 10.0):
    r"""``m^{-1/2} max_{r≤m} min(E_r, cap)``, ``E_r ~ Exp(1)``: ``max E = −log(1 − U^{1/m})``, drawn
    exactly."""
    m = np.asarray(widths, np.float64)
    u = np.maximum(rng.random(size=(*shape[:-2], m.size, shape[-1])), np.finfo(np.float64).tiny)
    return np.minimum(-np.log(-np.expm1(np.log(u) / m[:, None])), cap) * m[:, None] ** -0.5


# ----------------------------------------------------------------------------- rows


def _rate_rows(R: int) -> list[dict]:
    rows = []
    p, a = -0.5, ALPHA
    small = (64, 256, 1024, 4096)
    specs = [
        (
            "true",
            "CLT: ‖mean of m Rademacher vectors in R^8‖, exponent −1/2",
            RATE_WIDTHS,
            RATE_SEEDS,
            "clt",
            0.0,
            101,
            [(VIOLATED, "<=", a), (HOLDS, ">=", 0.8)],
            "",
        ),
        (
            "true",
            "pre-asymptotic: m^-1/2 · max over m of min(|z|, 4), exactly O(m^-1/2)",
            RATE_WIDTHS,
            RATE_SEEDS,
            "max",
            0.0,
            102,
            [(VIOLATED, "<=", a)],
            "fitted slope ≈ −0.42: the maximum still grows toward its supremum, a bias within Δ_v",
        ),
        (
            "true",
            "pre-asymptotic, sub-exponential: m^-1/2 · max over m of min(E, 10), E ~ Exp(1)",
            RATE_WIDTHS,
            RATE_SEEDS,
            "maxexp",
            0.0,
            106,
            [(VIOLATED, "<=", a)],
            "fitted slope ≈ −0.37: a bias (≈ log(log m1/log m0)/log(m1/m0) = 0.15) beyond Δ_v; "
            "only "
            "its bound can "
            "decide it (bounded_by)",
        ),
        (
            "boundary",
            "CLT × m^0.1: exponent −0.4 = p + Δ",
            RATE_WIDTHS,
            RATE_SEEDS,
            "clt",
            0.1,
            103,
            [(HOLDS, "<=", a), (VIOLATED, "<=", a)],
            "",
        ),
        (
            "false",
            "CLT × m^0.25: exponent −0.25",
            RATE_WIDTHS,
            RATE_SEEDS,
            "clt",
            0.25,
            104,
            [(HOLDS, "<=", a)],
            "",
        ),
        (
            "true",
            "CLT, exponent −1/2, at the former default budget",
            small,
            3,
            "clt",
            0.0,
            105,
            [(VIOLATED, "<=", a), (HOLDS, ">=", 0.8)],
            "budget too small to reach HOLDS (interval half-width ≫ Δ)",
        ),
    ]
    specs = [(*sp, MARGIN) for sp in specs]
    specs.append(
        (
            "true",
            "pre-asymptotic, sub-exponential (as above), judged with Δ_v = 0.2",
            RATE_WIDTHS,
            RATE_SEEDS,
            "maxexp",
            0.0,
            106,
            [(VIOLATED, "<=", a)],
            "a wider violation margin removes the false alarm; a true exponent −0.25 is still "
            "VIOLATED",
            0.2,
        )
    )
    specs.append(
        (
            "false",
            "CLT × m^0.25: exponent −0.25, judged with Δ_v = 0.2",
            RATE_WIDTHS,
            RATE_SEEDS,
            "clt",
            0.25,
            104,
            [(HOLDS, "<=", a)],
            "",
            0.2,
        )
    )
    for case, planted, widths, seeds, kind, tilt, seed, standard, note, vm in specs:
        rng = np.random.default_rng(seed)
        gen = {"clt": _clt, "max": _max_bounded, "maxexp": _max_exponential}[kind]
        v = gen(rng, widths, (R, len(widths), seeds))
        if tilt:
            v = v * np.asarray(widths, np.float64)[:, None] ** tilt
        _, lo, hi = stats.rate_bounds(widths, v, alpha=a)
        st = stats.rate_status(lo, hi, exponent=p, margin=MARGIN, violation_margin=vm)
        budget = {
            "widths": list(widths),
            "seeds": seeds,
            "exponent": p,
            "margin": MARGIN,
            "violation_margin": vm,
            "alpha": a,
        }
        rows.append(_row("rate", case, planted, budget, _tally(st), R, standard, note))
    return rows


def _bound_rows(R: int) -> list[dict]:
    rows = []
    m = np.asarray(RATE_WIDTHS, np.float64)
    budget = {"widths": list(RATE_WIDTHS), "seeds": RATE_SEEDS, "bound": "C m^-1/2, deterministic"}
    for case, planted, C, seed, standard in [
        (
            "true",
            "m^-1/2 max min(|z|, 4) against its bound 4 m^-1/2 (attained at large m)",
            4.0,
            201,
            [(VIOLATED, "<=", ALPHA), (HOLDS, ">=", 0.8)],
        ),
        (
            "boundary",
            "as true, one point per replicate set exactly to the bound",
            4.0,
            202,
            [(VIOLATED, "<=", ALPHA), (HOLDS, ">=", 0.8)],
        ),
        (
            "false",
            "the same maximum against a wrong bound 3 m^-1/2",
            3.0,
            203,
            [(HOLDS, "<=", ALPHA)],
        ),
    ]:
        rng = np.random.default_rng(seed)
        v = _max_bounded(rng, RATE_WIDTHS, (R, m.size, RATE_SEEDS))
        bound = C * m[:, None] ** -0.5
        if case == "boundary":
            j = rng.integers(0, m.size, size=R)
            s = rng.integers(0, RATE_SEEDS, size=R)
            v[np.arange(R), j, s] = bound[j, 0]
        st = [stats.bounded_by(v[r], bound).status for r in range(R)]
        rows.append(_row("bounded_by", case, planted, {**budget, "C": C}, _tally(st), R, standard))
    return rows


def _probability_rows(R: int) -> list[dict]:
    rows = []
    K, a = PROBABILITY_WIDTHS, ALPHA
    specs = [
        (
            "true",
            "failure probability 0.02 at every width",
            (0.02,) * K,
            PROBABILITY_RUNS,
            301,
            [(VIOLATED, "<=", a), (HOLDS, ">=", 0.8)],
            "",
        ),
        (
            "boundary",
            "failure probability δ = 0.1 at every width",
            (DELTA,) * K,
            PROBABILITY_RUNS,
            302,
            [(HOLDS, "<=", a), (VIOLATED, "<=", a)],
            "",
        ),
        (
            "false",
            "failure probability 0.2 at every width",
            (0.2,) * K,
            PROBABILITY_RUNS,
            303,
            [(HOLDS, "<=", a)],
            "",
        ),
        (
            "false",
            "0.2 at one width, 0.02 at the others",
            (0.2,) + (0.02,) * (K - 1),
            PROBABILITY_RUNS,
            304,
            [(HOLDS, "<=", a)],
            "",
        ),
    ]
    for runs, seed in ((3, 311), (30, 312), (60, 313)):
        note = "budget too small to reach HOLDS (needs about 100 runs per width at 4 widths)"
        specs.append(
            (
                "true",
                "failure probability 0.02 at every width",
                (0.02,) * K,
                runs,
                seed,
                [(VIOLATED, "<=", a), (HOLDS, ">=", 0.8)],
                note,
            )
        )
    specs.append(
        (
            "false",
            "failure probability 0.2 at every width",
            (0.2,) * K,
            3,
            314,
            [(HOLDS, "<=", a)],
            "3 runs cannot confirm or refute",
        )
    )
    for case, planted, ps, runs, seed, standard, note in specs:
        rng = np.random.default_rng(seed)
        k = rng.binomial(runs, np.broadcast_to(np.asarray(ps), (R, K)))
        st, *_ = stats.probability_statuses(
            k.astype(np.int64), np.int64(runs), delta=DELTA, alpha=a, correction="holm"
        )
        budget = {
            "widths": K,
            "runs_per_width": runs,
            "delta": DELTA,
            "alpha": a,
            "correction": "holm",
        }
        rows.append(_row("probability", case, planted, budget, _tally(st), R, standard, note))
    return rows


def _envelope_rows(R: int) -> list[dict]:
    rows = []
    runs, T = 10, 200
    t = np.linspace(0.0, 1.0, T)
    floor = stats.float_floor(2, 256, 3.0, 2.0)  # ≈ 2.5e-28: C1's n = 2, σ = 3 case
    budget = {"runs": runs, "points": T, "floor": floor, "envelope": "L0 ρ^t down to 1e-40 L0"}
    specs = [
        (
            "true",
            "loss decays 1.2–2× faster (in log) than the envelope, rounding plateau U(0,1)·floor",
            "fast",
            floor,
            401,
            [(VIOLATED, "<=", ALPHA), (HOLDS, ">=", 0.8)],
            "",
        ),
        (
            "boundary",
            "loss equal to the envelope, rounding plateau U(0,1)·floor",
            "equal",
            floor,
            402,
            [(VIOLATED, "<=", ALPHA), (HOLDS, ">=", 0.8)],
            "",
        ),
        (
            "false",
            "loss decays half as fast (in log) as the envelope",
            "slow",
            floor,
            403,
            [(HOLDS, "<=", ALPHA)],
            "",
        ),
        (
            "true",
            "as true, judged without the float floor (floor = 0)",
            "fast",
            0.0,
            401,
            [(VIOLATED, "<=", ALPHA), (HOLDS, ">=", 0.8)],
            "rounding alone breaks the envelope: why the floor is needed",
        ),
    ]
    for case, planted, kind, fl, seed, standard, note in specs:
        rng = np.random.default_rng(seed)
        st = []
        for _ in range(R):
            L0 = 10.0 ** rng.uniform(-1, 1, size=(runs, 1))
            log_env = np.log(L0) + t * math.log(1e-40)
            speed = {"fast": rng.uniform(1.2, 2.0, size=(runs, 1)), "equal": 1.0, "slow": 0.5}[kind]
            true_loss = np.exp(np.log(L0) + speed * t * math.log(1e-40))
            losses = true_loss + floor * rng.random(size=(runs, T))
            st.append(stats.envelope_decision(losses, np.exp(log_env), fl).status)
        rows.append(
            _row("envelope", case, planted, {**budget, "floor": fl}, _tally(st), R, standard, note)
        )
    return rows


def _resolution_rows(R: int) -> list[dict]:
    rows = []
    res = 1e-2
    for case, planted, lo, hi, seed, standard in [
        (
            "true",
            "demanded log-uniform in [1e-2, 1]: resolved",
            -2.0,
            0.0,
            501,
            [(VACUOUS, "<=", ALPHA), (HOLDS, ">=", 0.8)],
        ),
        (
            "false",
            "demanded log-uniform in [1e-12, 1e-3]: cannot fail",
            -12.0,
            -3.0,
            502,
            [(HOLDS, "<=", ALPHA)],
        ),
        (
            "boundary",
            "demanded exactly the resolution 1e-2",
            -2.0,
            -2.0,
            503,
            [(VACUOUS, "<=", ALPHA), (HOLDS, ">=", 0.8)],
        ),
    ]:
        rng = np.random.default_rng(seed)
        d = res if lo == hi else 10.0 ** rng.uniform(lo, hi, size=R)
        st = [stats.resolution_check(x, res).status for x in np.broadcast_to(d, (R,))]
        rows.append(_row("resolution", case, planted, {"resolution": res}, _tally(st), R, standard))
    return rows


def stats_rows(R: int) -> list[dict]:
    """The rows of the rate, bound, probability, envelope and resolution rules at ``R``
    replicates per case."""
    return (
        _rate_rows(R)
        + _bound_rows(R)
        + _probability_rows(R)
        + _envelope_rows(R)
        + _resolution_rows(R)
    )
