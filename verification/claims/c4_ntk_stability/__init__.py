r"""C4 (the lemmas of Theorem 5.2): the NTK stays near :math:`H^*` and :math:`H(0)` as the width
grows.

**Statement.** :math:`\|H(0)-H^*\|` and :math:`\sup_t\|H(t)-H(0)\|` are :math:`O(m^{-1/2})`;
every neuron moves by :math:`\max_r|w_r(t)-w_r(0)| = O(m^{-1/2})`;
:math:`\lambda_{\min}(H(t)) \ge \lambda/2`; and :math:`\|H(0)-H^*\| \le t_\delta(m)` (matrix
Bernstein) with probability :math:`\ge 1-\delta`.

**Reading.** A width × seed sweep (default 9 widths 64…16384 × 36 seeds, 20 steps, every step
recorded; docs/theory.md, "C4"), run as one compiled program per block of seeds (seeds batched,
:func:`ntk_attention.sweep.plan_sweep` / ``run_block``).

**Verdict rule** (:func:`check_c4`), each part naming the rule that decided it:

* the two rates by :func:`verification.rules.rate_decision` on the per-seed values (slope interval
  clustered by seed): HOLDS when its upper end is :math:`\le -1/2 + \Delta` (``margin``, default
  0.1), VIOLATED when its lower end is :math:`> -1/2 + \Delta_v` (``violation_margin``, default
  0.1); calibrated in docs/calibration.md (rows "rate": the CLT case reaches HOLDS in 100% of
  replicates at 9 widths × 30 seeds, and in 24% at the former 4 × 3 budget);
* the weight movement by its explicit bound (:func:`verification.rules.bounded_by`,
  deterministic):
  :math:`|\partial L/\partial w_r| = m^{-1/2}|\sum_i x_{i,d}V_r(x_i)r_i|`
  :math:`\le m^{-1/2}\sqrt{K}\sqrt{2L}`
  with :math:`\sqrt K = \|x_d\,\mathrm{range}(x)^2/4\|_2` (Popoviciu,
  :func:`verification.training._bounds.popoviciu_constant`), so
  :math:`\max_r|w_r(t)-w_r(0)| \le \eta\,m^{-1/2}\sqrt K\sum_{s<t}\sqrt{2L(s)}` from the recorded
  losses. Its fitted rate is a diagnostic only (the maximum over :math:`m` neurons fits a slope
  above −1/2 at these widths; docs/calibration.md, "pre-asymptotic" rows);
* :math:`\lambda_{\min}(H(t)) \ge \lambda/2` with λ from
  :func:`verification.training._bounds.lambda_star` (``extended=True``: extended precision where
  float64 cannot resolve it): VIOLATED below :math:`(\lambda-\rho)/2 - e`, HOLDS above
  :math:`(\lambda+\rho)/2 + e` (e: the float64 error of a computed eigenvalue), VACUOUS when λ/2
  is below e and the measured values are rounding;
* the Bernstein bound by :func:`verification.rules.bounded_by` with δ (exceedances per width by
  :func:`verification.rules.probability_decision`, Holm over widths; 0 exceedances in 36 runs give
  a Clopper–Pearson upper end 0.097 ≤ δ = 0.1, in 30 runs 0.116: 36 seeds is the smallest budget
  that can reach HOLDS).

The parts: ``_evidence`` (what the run measures), ``_rule`` (the decisions), ``_words`` (their
words), ``_plot`` (the figure).
"""

from __future__ import annotations

from verification import config as cfg
from verification.claims._common import ALPHA, DELTA, data_n_training, training_fields
from verification.claims.c4_ntk_stability._evidence import (
    example_check_input as example_check_input,
)
from verification.claims.c4_ntk_stability._evidence import memory_c4 as memory_c4
from verification.claims.c4_ntk_stability._evidence import run_c4 as run_c4
from verification.claims.c4_ntk_stability._evidence import weight_bound as weight_bound
from verification.claims.c4_ntk_stability._plot import plot_c4 as plot_c4
from verification.claims.c4_ntk_stability._rule import (
    WEIGHT_VIOLATION_MARGIN as WEIGHT_VIOLATION_MARGIN,
)
from verification.claims.c4_ntk_stability._rule import check_c4 as check_c4
from verification.claims.c4_ntk_stability._rule import (
    runs_for_zero_failures as runs_for_zero_failures,
)
from verification.claims.c4_ntk_stability._words import summary_c4 as summary_c4
from verification.contract import Claim

__all__ = [
    "CLAIM",
    "C4_DEFAULTS",
    "WEIGHT_VIOLATION_MARGIN",
    "check_c4",
    "example_check_input",
    "memory_c4",
    "plot_c4",
    "run_c4",
    "runs_for_zero_failures",
    "summary_c4",
    "weight_bound",
]

C4_DEFAULTS = dict(
    widths=[64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384],
    seeds=36,
    steps=20,
    record_every=1,
    eta=0.05,
)
"""9 widths × 36 seeds × 20 steps: a budget whose CLT rate reaches HOLDS (docs/calibration.md) and
whose Bernstein part can (36 runs per width)."""

CLAIM = Claim(
    id="C4",
    source="lemmas of Thm 5.2",
    title="NTK stays near H* and H(0) as m grows",
    statement=r"\|H(0)-H^*\|,\ \sup_t\|H(t)-H(0)\|,\ \max_r|w_r(t)-w_r(0)| = O(m^{-1/2});\ "
    r"\lambda_{\min}(H(t))\ge\lambda/2",
    params={
        **training_fields(**C4_DEFAULTS),
        "delta": DELTA,
        "alpha": ALPHA,
        "margin": cfg.nonneg_float(
            0.1,
            "rate margin Δ: O(m^-1/2) HOLDS when the slope's upper end ≤ −1/2 + Δ "
            "(docs/calibration.md)",
        ),
        "violation_margin": cfg.nonneg_float(
            0.1,
            "rate margin Δ_v ≥ Δ: VIOLATED when the slope's lower end > "
            "−1/2 + Δ_v (docs/calibration.md)",
        ),
        "seeds_per_block": cfg.positive_int(
            36, "seeds batched into one compiled program (memory ∝ this)"
        ),
    },
    run=run_c4,
    check=check_c4,
    plot=plot_c4,
    summary=summary_c4,
    training=data_n_training,
    memory=memory_c4,
)
