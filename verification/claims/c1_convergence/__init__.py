r"""C1 (Theorem 5.2): the training loss of the two-layer attention network converges linearly.

**Statement.** For :math:`m = \Omega(\mathrm{poly}(\lambda^{-1}, e^{B^2}, e^{D}, n, d))` neurons
and a small enough step η, with probability :math:`\ge 1-\delta` over the initialisation,
:math:`L(T) \le \varepsilon` after :math:`T \ge \Omega((\eta\lambda)^{-1}\log(nB^2/\varepsilon))`
steps.

**Reading.** Two statements per width, each "with probability :math:`\ge 1-\delta`" over the
seeds: the proof's envelope :math:`L(t) \le (1-\eta\lambda/2)^t L(0)` at every recorded t, and
:math:`L(T_{req}) \le \varepsilon` at :math:`T_{req} = c_T(\eta\lambda)^{-1}\log(nB^2/\varepsilon)`
(docs/theory.md, "C1"). The default configuration is one where λ is resolved in float64: n = 2
windows with the neuron scale σ = 3 (``C1.sigma``, its own key), η = 0.4 · 2/λ_max(H*)
(``eta_mode = 'relative'``), widths 256 and 1024 × 120 seeds, 800 steps. :math:`T_{req}` lies
beyond the steps trained; the linearised (kernel-regime) model,
:func:`ntk_attention.linearized.predict`, at :math:`t = T_{req}` and two decades beyond is a
diagnostic (it presumes the kernel regime beyond the horizon trained; non-finite predictions,
m < n, are named and left out). Sizes in ``extended_sizes`` (default n = 24, where λ lies below
float64 resolution) are not trained: λ in extended precision
(:func:`verification.training._bounds.lambda_star`, ``extended=True``), their :math:`T_{req}` and
how far beyond the steps run it is are reported, not decisive. The **observed** verdict reads the
proof's mechanism at ``mechanism_n`` (default 24) on ``mechanism_sources`` (default: the data the
run names, nothing else): the gap
:math:`\sup_t|L-L_{lin}|/L(0)` and its rate in m, and the loss along each resolved eigendirection
of H(0) (:mod:`verification.claims.c1_convergence._mechanism`), at widths 256, 1024, 4096
(``mechanism_widths``): on sunspots the gap's local slope flattens to about −0.4 at m = 64–1024
and steepens to about −1 from m ≈ 1024 (measured to m = 16384), so the rate is read where it has
settled.

**Verdict rule** (:func:`check_c1`).

* Envelope: a run breaks it where
  :math:`L(t) > (1-\eta\lambda_-/2)^t L(0)(1+\mathrm{rtol}) + L_{floor}`
  (:math:`\lambda_- = \lambda-\rho`, :math:`L_{floor}` = :func:`verification.rules.float_floor`
  of the width: a loss at or below rounding is never a break) —
  :func:`verification.rules.envelope_decision`. An envelope demanding a relative decrease
  :math:`1-(1-\eta\lambda/2)^T` below ``min_decrease`` (1% of L(0)) is VACUOUS with that number,
  never HOLDS.
* Per width, the runs failing each part go to :func:`verification.rules.probability_decision`,
  one family over parts × widths: HOLDS when every Clopper–Pearson upper end is ≤ δ
  (intersection–union), VIOLATED when a Holm-adjusted one-sided p-value is ≤ α/2, else
  INCONCLUSIVE. Calibration in docs/calibration.md ("probability" rows): 120 runs per width give
  80% power at a true failure rate 0.02 with δ = 0.1; fewer runs cannot reach HOLDS (0 failures
  in 36 runs is the least).
* Horizon: with no break, the envelope reads HOLDS only when its e-folds
  :math:`-T\log(1-\eta\lambda_-/2)` reach :math:`\log(L(0)/L_{floor})`; otherwise VACUOUS
  "horizon k e-folds" (the default 800 steps: 2.7 of 68).
* ε below the float floor: the ``L ≤ ε`` parts are VACUOUS ("ε below float floor").
* λ unresolved (:math:`\lambda \le \rho`): both parts VACUOUS, with the numbers.
* The theorem's status is :func:`verification.rules._verdict.combine_parts` of the decisive parts.

The parts: :mod:`._evidence` (what the run measures), :mod:`._rule` (the decisions),
:mod:`._mechanism` (the kernel-regime reading and its rate rule), :mod:`._words` (their words),
:mod:`._plot` (the figure).
"""

from __future__ import annotations

from verification import config as cfg
from verification.claims._common import ALPHA, DELTA, ETA_MODE
from verification.claims.c1_convergence._evidence import (
    example_check_input as example_check_input,
)
from verification.claims.c1_convergence._evidence import memory_c1 as memory_c1
from verification.claims.c1_convergence._evidence import run_c1 as run_c1
from verification.claims.c1_convergence._evidence import training_c1 as training_c1
from verification.claims.c1_convergence._mechanism import GAP_SEEDS as GAP_SEEDS
from verification.claims.c1_convergence._mechanism import GAP_WIDTHS as GAP_WIDTHS
from verification.claims.c1_convergence._mechanism import MechanismRun as MechanismRun
from verification.claims.c1_convergence._plot import plot_c1 as plot_c1
from verification.claims.c1_convergence._rule import EnvelopeRun as EnvelopeRun
from verification.claims.c1_convergence._rule import ExtendedSize as ExtendedSize
from verification.claims.c1_convergence._rule import LinearRun as LinearRun
from verification.claims.c1_convergence._rule import check_c1 as check_c1
from verification.claims.c1_convergence._rule import t_required as t_required
from verification.claims.c1_convergence._words import summary_c1 as summary_c1
from verification.contract import Claim

__all__ = [
    "CLAIM",
    "EnvelopeRun",
    "ExtendedSize",
    "GAP_SEEDS",
    "GAP_WIDTHS",
    "LinearRun",
    "MechanismRun",
    "check_c1",
    "example_check_input",
    "memory_c1",
    "plot_c1",
    "run_c1",
    "summary_c1",
    "t_required",
    "training_c1",
]


def _source_list(v):
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) and x for x in v):
        raise TypeError
    return list(v)


def _sources(default, doc):
    return cfg.Field(
        list(default),
        doc,
        "a list of source names ('data', a family, a real series, csv:…)",
        _source_list,
    )


CLAIM = Claim(
    id="C1",
    source="Thm 5.2",
    title="linear convergence of the training loss",
    statement=r"m=\Omega(\mathrm{poly}(\lambda^{-1},e^{B^2},e^{D},n,d)),\ "
    r"\eta\le O(\lambda\delta/\mathrm{poly}),\ "
    r"T\ge\Omega\big(\tfrac{1}{\eta\lambda}\log\tfrac{nB^2}{\epsilon}\big)\ \Rightarrow\ "
    r"L(T)\le\epsilon\ \text{w.p.}\ \ge 1-\delta;\ "
    r"\text{checked: } L(t)\le(1-\eta\lambda/2)^t L(0)",
    params={
        "widths": cfg.int_list([256, 1024], "network widths m (strictly increasing)", minimum=2),
        "seeds": cfg.positive_int(
            120,
            "network seeds per width (120: 80% power at a failure rate 0.02, docs/calibration.md)",
            maximum=1024,
        ),
        "steps": cfg.positive_int(800, "gradient-descent steps T"),
        "record_every": cfg.positive_int(10, "record every k steps (a divisor of steps)"),
        "eta": cfg.positive_float(
            0.4,
            "learning rate: with eta_mode = 'relative' the fraction of the stability limit, "
            "η = eta · 2/λ_max(H*) at the most restrictive size; 'absolute': η itself",
        ),
        "eta_mode": ETA_MODE,
        "sigma": cfg.positive_float(
            3.0, "C1's neuron scale σ (w_r ~ N(0, σ²)); σ = 3 resolves λ at n = 2"
        ),
        "sizes": cfg.int_list(
            [2], "training-set sizes n trained (λ must be resolved to read the envelope)", minimum=2
        ),
        "extended_sizes": cfg.int_list(
            [24],
            "sizes reported by extended-precision λ and T_req only (not trained)",
            minimum=2,
            min_len=0,
        ),
        "eps": cfg.positive_float(1e-3, "target loss ε"),
        "delta": DELTA,
        "alpha": ALPHA,
        "c_T": cfg.positive_float(
            2.0, "constant of T_req = c_T (ηλ)^-1 log(nB²/ε); 2: the envelope's rate is ηλ/2"
        ),
        "min_decrease": cfg.probability(
            1e-2,
            "resolution of the envelope: it must demand a loss decrease of at least "
            "this fraction of L(0), else VACUOUS",
        ),
        "seeds_per_block": cfg.positive_int(
            120, "seeds batched into one compiled program (memory ∝ this)"
        ),
        "mechanism_sources": _sources(
            ["data"],
            "sources of the kernel-regime reading at mechanism_n ('data': the [data] source "
            "only, the data the run names; add e.g. 'sunspots' to read a real series too)",
        ),
        "mechanism_n": cfg.positive_int(
            24, "windows of the kernel-regime reading (λ need not be resolved there)", minimum=2
        ),
        "mechanism_widths": cfg.int_list(
            [256, 1024, 4096],
            "widths of the kernel-regime reading (≥ 3 for a rate; from 256: sunspots' gap is "
            "pre-asymptotic below)",
            minimum=2,
        ),
        "mechanism_seeds": cfg.positive_int(
            16,
            "network seeds of the kernel-regime reading (the unit of its rate)",
            minimum=2,
            maximum=1024,
        ),
        "mechanism_steps": cfg.positive_int(
            100, "gradient-descent steps of the kernel-regime reading"
        ),
        "mechanism_record_every": cfg.positive_int(
            5, "record every k steps there (a divisor of mechanism_steps)"
        ),
        "margin": cfg.nonneg_float(
            0.1, "rate margin Δ of the kernel-gap rule: HOLDS when the slope's upper end ≤ −1/2 + Δ"
        ),
        "violation_margin": cfg.nonneg_float(
            0.1, "rate margin Δ_v ≥ Δ: VIOLATED when the slope's lower end > −1/2 + Δ_v"
        ),
    },
    run=run_c1,
    check=check_c1,
    plot=plot_c1,
    summary=summary_c1,
    training=training_c1,
    memory=memory_c1,
)
"""The claim as the pipeline sees it: its section's fields and defaults, and its parts."""
