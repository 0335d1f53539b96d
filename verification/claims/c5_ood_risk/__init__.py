r"""C5 (Proposition 6.3): out of distribution, attention fails where the residual linear network
succeeds.

**Statement.** Trained on sign-consistent next-step windows and tested on sign-inconsistent ones,
the attention network's risk is not :math:`\tilde O(\sigma^2)`, the residual linear network's is.

**Reading (constant-free, decisive).** :math:`\tilde O(\sigma^2)` is a statement about scaling:
the linear net's risk vanishes with the noise, attention's does not. The target noise is swept
over ``noise_levels`` (σ over at least 4 decades, the same noise draws scaled: common random
numbers) at the largest size and step count; the noise variance is
:math:`\sigma^2 = \sigma_0^2 + \sigma_k^2`, :math:`\sigma_0^2` the series' own noise
(:func:`own_noise_variance`: the residual variance of the least-squares regression of the
noise-free targets on (1, x) over the pool's windows). The exponent of R in σ²
(:func:`verification.rules._ood.noise_exponent_decision`, margin Δ): the linear part HOLDS when
it is at least :math:`1-\Delta` (lower end), attention's when it is below :math:`1-\Delta` (upper
end: :math:`R/\sigma^2` grows as σ → 0; "does not vanish" when it is below Δ). No constant
decides; this is also the claim's ``observed`` verdict.

**Diagnostics.** The former reading :math:`R \le c_R(1+\ln n)\,\sigma^2` with a chosen
:math:`c_R` (percentile bootstrap intervals over test windows, sizes × steps at ``noise_std``),
kept as non-decisive parts; the looseness reports the :math:`c_R` the linear net's risks would
need.

**Premise.** The test set must hold sign-inconsistent windows: for a synthetic family
``ood_windows`` of them are generated (:func:`verification.data._datasets.ood_test_windows`), for
a finite series those among ``test_windows`` after the training values are used (count and
interval width reported); fewer than ``min_ood_windows``: VACUOUS naming the count.

**Pool** (:func:`pool_size`). Training windows are the first sign-consistent ones of a pool of
windows. ``pool = 0`` (default) sizes it from the data: a synthetic family's test windows are
generated, its pool is 48; a finite series is split in half — the pool holds half its windows
(at least 48, so nile's 100 values serve, at most ``pool_max``), the test windows follow.

The parts: ``_evidence`` (what the run measures: the grid at ``noise_std``, the noise sweep,
σ_0²), ``_rule`` (the premise, the two exponents, the diagnostics and the observed law),
``_words`` (their words), ``_plot`` (the figure), ``_pool`` (the pool's size).
"""

from __future__ import annotations

from verification import config as cfg
from verification.claims._common import ALPHA
from verification.claims._common import own_noise_variance as own_noise_variance
from verification.claims.c5_ood_risk._evidence import (
    example_check_input as example_check_input,
)
from verification.claims.c5_ood_risk._evidence import memory_c5 as memory_c5
from verification.claims.c5_ood_risk._evidence import preflight_c5 as preflight_c5
from verification.claims.c5_ood_risk._evidence import run_c5 as run_c5
from verification.claims.c5_ood_risk._evidence import training_c5 as training_c5
from verification.claims.c5_ood_risk._plot import plot_c5 as plot_c5
from verification.claims.c5_ood_risk._pool import MIN_POOL, SYNTHETIC_POOL, pool_value
from verification.claims.c5_ood_risk._pool import pool_size as pool_size
from verification.claims.c5_ood_risk._rule import check_c5 as check_c5
from verification.claims.c5_ood_risk._words import summary_c5 as summary_c5
from verification.contract import Claim

__all__ = [
    "CLAIM",
    "check_c5",
    "example_check_input",
    "memory_c5",
    "own_noise_variance",
    "plot_c5",
    "pool_size",
    "preflight_c5",
    "run_c5",
    "summary_c5",
    "training_c5",
]

CLAIM = Claim(
    id="C5",
    source="Prop 6.3",
    title="OOD risk: attention fails, residual linear succeeds",
    statement=r"\text{sign-inconsistent next-step prediction: } "
    r"R(f_{\mathrm{attn}})\not\le\tilde O(\sigma^2),\quad "
    r"R(f_{\mathrm{lin}})\le\tilde O(\sigma^2)",
    params={
        "width": cfg.positive_int(1024, "attention width m", minimum=2),
        "sizes": cfg.int_list([16, 32], "sign-consistent training windows n", minimum=2),
        "steps": cfg.int_list([100, 300], "training steps T at which risks are measured"),
        "seeds": cfg.positive_int(10, "network seeds", maximum=64),
        "eta": cfg.positive_float(0.05, "attention learning rate η"),
        "noise_std": cfg.positive_float(0.1, "observation noise σ_ε on targets"),
        "pool": cfg.Field(
            0,
            "windows scanned for sign-consistent training examples; 0: sized from the data "
            f"(a synthetic family: {SYNTHETIC_POOL}; a finite series: half its windows, at "
            f"least {SYNTHETIC_POOL} and at most pool_max, the rest are test windows)",
            f"0 (sized from the data) or an integer >= {MIN_POOL}",
            pool_value,
        ),
        "pool_max": cfg.positive_int(
            512, "the most windows a pool sized from a finite series holds", minimum=MIN_POOL
        ),
        "test_windows": cfg.positive_int(
            3000,
            "test windows following the training pool (persistent series "
            "have few sign-inconsistent next steps)",
            minimum=4,
        ),
        "ood_windows": cfg.positive_int(
            200,
            "sign-inconsistent test windows generated for a synthetic family "
            "(a finite series: those among test_windows)",
            minimum=2,
        ),
        "min_ood_windows": cfg.positive_int(
            5, "sign-inconsistent test windows needed; fewer: VACUOUS", minimum=2
        ),
        "noise_levels": cfg.float_list(
            [1e-4, 1e-2, 1e-1, 1.0],
            "target noise σ_ε swept for the noise "
            "exponent (at least 3 levels; 4 decades by default)",
            min_len=3,
        ),
        "margin": cfg.probability(
            0.1, "margin Δ of the noise exponent: linear ≥ 1 − Δ, attention < 1 − Δ"
        ),
        "c_R": cfg.positive_float(
            1.0, "diagnostic only: Õ(σ²) read as R <= c_R (1 + ln n) σ² (unknown constant)"
        ),
        "alpha": ALPHA,
    },
    run=run_c5,
    check=check_c5,
    plot=plot_c5,
    summary=summary_c5,
    training=training_c5,
    memory=memory_c5,
    preflight=preflight_c5,
)
