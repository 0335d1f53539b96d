r"""C3 (Theorem 5.3): when every :math:`a_r = -1`, the last position gets the least attention.

**Statement.** If every :math:`a_r = -1`, then
:math:`\mathbb E[\mathrm{softmax}_d(x_d w_r(t) x)] \le \mathbb E[\mathrm{softmax}_k(x_d w_r(t) x)]`
with probability :math:`\ge 1-\delta`. The proof speaks of trained weights that have turned
negative, :math:`w_r(T) < 0` (docs/theory.md, "C3").

**Reading.** Premises first, every one of them (docs/theory.md, "C3"): Theorem 5.3 inherits
Theorem 5.2's kernel regime (:math:`\|H(T)-H(0)\|/\|H(0)\|` at most 1/4: above it no λ keeps
:math:`\|H(t)-H(0)\| \le \lambda/4`) and step size :math:`\eta \le O(\lambda\delta/\mathrm{poly})`,
and speaks of weights that have turned negative, :math:`w_r(T) < 0`. The conclusion's
:math:`\mathbb E` is ambiguous twice, so both are parameters: per neuron or over the population
of neurons (``expectation``), against every other position or their average (``versus``). The
unit of every probability is the network draw (seed), not the neuron: the neurons of one network
share :math:`f(t)` (:mod:`verification.rules._laws`).

**Verdict rule** (:func:`check_c3`). Theorem: :func:`verification.rules._verdict.combine_parts` — a
premise not met or not checked makes it VACUOUS; else the conclusion decides, one trial per
network (the first negative neuron, or the network's averaged masses) by
:func:`verification.rules._laws.seed_decision` (Clopper–Pearson, Holm over widths). Observed: the
same rule at every log-spaced record, with the last t and median :math:`|w_r|` at which the last
position is still least attended and the first at which it is not, beside the data's own boundary
:math:`|w|^*` (the masses at a common weight on a grid) of the data process, with its bootstrap
interval, stated only where the data condition's interval says it holds (:mod:`._boundary`).

**Parts.** ``_evidence`` trains the networks and measures (:func:`run_c3`); ``_readings`` the four
readings, one trial per network; ``_rule`` the premises, the conclusion and the verdict
(:func:`check_c3`); ``_observed`` the law over the records; ``_process`` draws the data process's
windows and ``_boundary`` estimates its :math:`|w|^*` and data condition, which ``_data`` turns
into parts; ``_words`` all prose
(:func:`summary_c3`); ``_plot`` the figure (:func:`plot_c3`).
"""

from __future__ import annotations

from verification import config as cfg
from verification.claims._common import ALPHA, DELTA, data_n_training
from verification.claims.c3_last_token_mass._boundary import data_condition as data_condition
from verification.claims.c3_last_token_mass._evidence import memory_c3 as memory_c3
from verification.claims.c3_last_token_mass._evidence import record_steps as record_steps
from verification.claims.c3_last_token_mass._evidence import run_c3 as run_c3
from verification.claims.c3_last_token_mass._plot import plot_c3 as plot_c3
from verification.claims.c3_last_token_mass._readings import C3_EXPECTATIONS as C3_EXPECTATIONS
from verification.claims.c3_last_token_mass._readings import C3_VERSUS as C3_VERSUS
from verification.claims.c3_last_token_mass._rule import check_c3 as check_c3
from verification.claims.c3_last_token_mass._rule import (
    example_check_input as example_check_input,
)
from verification.claims.c3_last_token_mass._words import summary_c3 as summary_c3
from verification.contract import Claim

__all__ = [
    "CLAIM",
    "C3_EXPECTATIONS",
    "C3_VERSUS",
    "check_c3",
    "data_condition",
    "example_check_input",
    "memory_c3",
    "plot_c3",
    "record_steps",
    "run_c3",
    "summary_c3",
]

CLAIM = Claim(
    id="C3",
    source="Thm 5.3",
    title="all a_r = −1: the last position is least attended",
    statement=r"a_r=-1\ \forall r\ \Rightarrow\ \mathbb E[\mathrm{softmax}_d(x_d w_r(t) x)]\le"
    r"\mathbb E[\mathrm{softmax}_k(x_d w_r(t) x)]\ \text{w.p.}\ \ge1-\delta",
    params={
        "widths": cfg.int_list([64, 256], "network widths m (strictly increasing)", minimum=2),
        "seeds": cfg.positive_int(2, "network seeds per width", maximum=64),
        "steps": cfg.positive_int(2000, "gradient-descent steps T (records log-spaced up to T)"),
        "records": cfg.positive_int(
            24, "number of log-spaced records between step 1 and T (plus t = 0)", minimum=2
        ),
        "eta": cfg.positive_float(0.1, "learning rate η (GD is stable for η < 2/λ_max(H(0)))"),
        "kernel_threshold": cfg.positive_float(
            0.25,
            "premise: largest ‖H(T) − H(0)‖/‖H(0)‖ of the kernel regime "
            "(1/4: above it no λ keeps ‖H(t) − H(0)‖ ≤ λ/4)",
        ),
        "delta": DELTA,
        "alpha": ALPHA,
        "expectation": cfg.choice(
            "neuron",
            C3_EXPECTATIONS,
            "Thm 5.3's E[.] is ambiguous: over the data per neuron r (then for >= 1-δ of "
            "neurons), or over data and neurons (the population); the other reading is a "
            "diagnostic",
        ),
        "versus": cfg.choice(
            "every",
            C3_VERSUS,
            "Thm 5.3's right-hand side: every other position k (the last least attended), or "
            "their average (mass_d <= 1/d); the other reading is a diagnostic",
        ),
    },
    run=run_c3,
    check=check_c3,
    plot=plot_c3,
    summary=summary_c3,
    training=data_n_training,
    memory=memory_c3,
)
