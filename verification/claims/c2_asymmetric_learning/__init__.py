r"""C2 (Theorem 5.2): asymmetric learning, the sign of :math:`w_r` follows the output sign
:math:`a_r`.

**Statement.** After :math:`t \ge t_{align} = \Omega(m/(\eta\lambda v_{\min}))` steps,
:math:`\Pr[w_r(t) > 0 \mid a_r = 1] \ge 1-\delta` and
:math:`\Pr[w_r(t) < 0 \mid a_r = -1] \ge 1-\delta`.

**Reading.** Two premises come first (docs/theory.md, "C2"). The mechanism: the drift of
:math:`w_r` is :math:`\eta m^{-1/2} a_r \sum_i x_{i,d} V_r(x_i)(y_i - f_i)`, and at t = 0 its
data term :math:`\sum_i x_{i,d} V_r(x_i) y_i` must be positive for most neurons
(:func:`ntk_attention.data.data_term_fraction`; :func:`ntk_attention.data.corr_y_xd` is reported
beside it). The time: :math:`t \ge t_{align}(m) = c_A m/(\eta\lambda v_{\min})` with λ =
λ_min(H*) in extended precision (:func:`verification.training._bounds.lambda_star`). The
conclusion is the agreement of :math:`\mathrm{sign}(w_r)` with :math:`a_r` in each group, a
probability over the network draw: the network (seed) is the unit, and each contributes the
fraction of its group's neurons that disagree.

**Verdict rule** (:func:`check_c2`). Theorem: :func:`verification.rules._verdict.combine_parts` —
the data term and :math:`t \ge t_{align}` are premises (``role="premise"``); either not met (the
data-term fraction below ``data_term_threshold``; λ unresolved or :math:`t_{align}` beyond the steps
run, with the factor) makes it VACUOUS. The conclusion takes the network draw as the unit and counts
every neuron: per network and group the failure fraction :math:`f_s` (i.i.d. over draws), its mean
decided against δ by :func:`verification.rules._laws.fraction_decision` (order-free: an exact
binomial part on Bernoulli-rounded fractions and a constant-bet betting part, intersection–union for
HOLDS, Holm over 2 groups × widths for VIOLATED). The former rule — the first neuron of each group
as one trial per network (:func:`verification.rules._laws.seed_decision`) — is kept as a diagnostic.
The seeds of one width train as one vmapped program, so the default budget (160 networks per width)
costs little more than a few seeds did. Diagnostics: the first record each group crosses given
levels (a first crossing, never called an onset), the saturation plateau, fitted exponents of the
networks' onsets against m (:func:`verification.rules.rate_decision`, exponent 1, margin Δ) —
uninformative, never HOLDS, when the onsets are censored (fewer than 3 finite medians), at the first
record, quantised on the record schedule or collinear (:func:`._fits.onset_fit`) — and the
linearised model's :math:`t\to\infty` sign of :math:`w_r - w_r(0)` against real training's. Observed
(:class:`verification.rules._verdict.Observed`): each network's onset of :math:`1-\delta` agreement
(the first record from which both groups hold it at every later record; censored, never a number,
when it does not hold to T), its exponent in m, the orders of magnitude between :math:`t_{align}`
and the onset and the :math:`c_A` that would close them (onsets only); status by the seed-level rule
on every neuron at T. With ``eta_factors`` (opt-in) the widest width also trains at η × each factor:
the onset's exponent in η against −1 (t_align ∝ 1/η), a diagnostic that never decides the observed
status (:func:`eta_exponent`).

The parts: :mod:`._evidence` (what the run measures), :mod:`._curves` (first crossings, onsets,
plateaus and network bands of the agreement curves), :mod:`._fits` (onset fits and why they are
uninformative), :mod:`._rule` (the decisions), :mod:`._observed` (the observed law),
:mod:`._words` (their words), :mod:`._plot` (the figure).
"""

from __future__ import annotations

from verification import config as cfg
from verification.claims._common import ALPHA, DELTA, ETA_MODE
from verification.claims.c2_asymmetric_learning._curves import first_times as first_times
from verification.claims.c2_asymmetric_learning._curves import onset_times as onset_times
from verification.claims.c2_asymmetric_learning._curves import plateau as plateau
from verification.claims.c2_asymmetric_learning._evidence import LINEAR_SEEDS as LINEAR_SEEDS
from verification.claims.c2_asymmetric_learning._evidence import (
    example_check_input as example_check_input,
)
from verification.claims.c2_asymmetric_learning._evidence import memory_c2 as memory_c2
from verification.claims.c2_asymmetric_learning._evidence import record_steps as record_steps
from verification.claims.c2_asymmetric_learning._evidence import run_c2 as run_c2
from verification.claims.c2_asymmetric_learning._evidence import training_c2 as training_c2
from verification.claims.c2_asymmetric_learning._observed import eta_exponent as eta_exponent
from verification.claims.c2_asymmetric_learning._plot import plot_c2 as plot_c2
from verification.claims.c2_asymmetric_learning._rule import LEVELS as LEVELS
from verification.claims.c2_asymmetric_learning._rule import check_c2 as check_c2
from verification.claims.c2_asymmetric_learning._words import summary_c2 as summary_c2
from verification.contract import Claim

__all__ = [
    "CLAIM",
    "LEVELS",
    "LINEAR_SEEDS",
    "check_c2",
    "eta_exponent",
    "example_check_input",
    "first_times",
    "memory_c2",
    "onset_times",
    "plateau",
    "plot_c2",
    "record_steps",
    "run_c2",
    "summary_c2",
    "training_c2",
]

CLAIM = Claim(
    id="C2",
    source="Thm 5.2",
    title="asymmetric learning: sign(w_r) follows a_r",
    statement=r"t\ge\Omega\big(\tfrac{m}{\eta\lambda v_{\min}}\big)\Rightarrow "
    r"\Pr[w_r(t)>0\mid a_r=1]\ge1-\delta,\ "
    r"\Pr[w_r(t)<0\mid a_r=-1]\ge1-\delta",
    params={
        "widths": cfg.int_list(
            [16, 32, 64, 128], "network widths m (strictly increasing)", minimum=2
        ),
        "seeds": cfg.positive_int(
            160,
            "network seeds per width, trained as one vmapped program (160: power "
            "0.8-0.98 of the seed-level rule at the default data's fractions)",
            maximum=1024,
        ),
        "steps": cfg.positive_int(3000, "gradient-descent steps T (records log-spaced up to T)"),
        "records": cfg.positive_int(
            24, "number of log-spaced records between step 1 and T (plus t = 0)", minimum=2
        ),
        "eta": cfg.positive_float(
            0.25,
            "learning rate: with eta_mode = 'relative' the fraction of the stability "
            "limit, η = eta · 2/λ_max(H*) (0.25: η = ½/λ_max); 'absolute': η itself",
        ),
        "eta_mode": ETA_MODE,
        "eta_factors": cfg.float_list(
            [],
            "opt-in η scan ([] = off): the widest width also trains at η × each factor "
            "(and η), same seeds, for the onset's exponent in η against t_align ∝ 1/η "
            "(a diagnostic; factors > 1 may pass the stability limit)",
            min_len=0,
        ),
        "delta": DELTA,
        "alpha": ALPHA,
        "levels": cfg.float_list(
            list(LEVELS), "agreement levels whose first-reaching times are reported (1-δ added)"
        ),
        "data_term_threshold": cfg.probability(
            0.5,
            "VACUOUS when fewer neurons than this have a positive data "
            "term Σ_i x_i,d V_r(x_i) y_i at t = 0",
        ),
        "margin": cfg.positive_float(
            0.1, "margin Δ of the first-time exponent against 1 (rate_decision)"
        ),
        "c_A": cfg.positive_float(1.0, "unknown constant of t_align = Ω(m/(ηλ v_min))"),
    },
    run=run_c2,
    check=check_c2,
    plot=plot_c2,
    summary=summary_c2,
    training=training_c2,
    memory=memory_c2,
)
"""The claim as the pipeline sees it: its section's fields and defaults, and its parts."""
