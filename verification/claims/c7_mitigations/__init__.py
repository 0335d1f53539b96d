r"""C7 (seed §3.2): differential attention, RoPE, patching, Adam and weight decay mitigate the
OOD failure.

**Statement and reading.** On C5's task (train on sign-consistent next-step windows, test on
sign-inconsistent ones, risk :math:`R/\sigma_\varepsilon^2`) and C3's last-token-mass statistic,
the multi-dimensional model is trained in six variants over the same seeds: vanilla attention
with gradient descent (the baseline), differential attention, RoPE, patching (all with gradient
descent), Adam, and gradient descent with decoupled weight decay; the residual linear network is
the reference. "v mitigates" is read with a margin Δ (``[C7] margin``, default 0.1): v lowers
the OOD risk by at least the fraction Δ, its risk factor against vanilla :math:`e^{E d_v}`,
:math:`d_{v,s} = \log(R_{v,s}/R_{\mathrm{vanilla},s})` per seed s (the network draw is the
unit), at most :math:`1-\Delta`. "No significant effect" is no evidence of no effect; with the
margin, "no effect" can be shown.

**Verdict rule** (:func:`check_c7`, :func:`verification.rules._ood.margin_effects`): per
variant, "mitigates" (HOLDS) when a one-sided paired :math:`t` test over seeds rejects
:math:`E d_v \ge \log(1-\Delta)` at α/2 (the factor's upper end below :math:`1-\Delta`); "does
not mitigate" (VIOLATED) when a one-sided test rejects :math:`E d_v \le \log(1-\Delta)`, Holm
over the variants at α/2; otherwise undecided. The claim (every variant mitigates) is VIOLATED
when one variant is shown not to mitigate (Holm: family-wise α/2), HOLDS when every variant is
shown to mitigate (intersection–union, each at α/2, no correction), else INCONCLUSIVE with the
seeds at which power reaches 0.8. The two-sided "helps / hurts" paired test
(:func:`verification.rules._ood.paired_effects`) is kept as a diagnostic (docs/theory.md, "C7";
calibration rows 'margin_effects (C7)').

The parts: ``_variants`` (the six variants and the optimizer family), ``_evidence`` (what the
run measures: every variant trained over the same seeds), ``_rule`` (the risks, the margin rule
per mitigation, the diagnostics and the observed law), ``_words`` (their words), ``_plot`` (the
figure).
"""

from __future__ import annotations

from verification import config as cfg
from verification.claims._common import ALPHA, ood_data_fields
from verification.claims.c7_mitigations._evidence import (
    example_check_input as example_check_input,
)
from verification.claims.c7_mitigations._evidence import memory_c7 as memory_c7
from verification.claims.c7_mitigations._evidence import preflight_c7 as preflight_c7
from verification.claims.c7_mitigations._evidence import run_c7 as run_c7
from verification.claims.c7_mitigations._evidence import train_variants as train_variants
from verification.claims.c7_mitigations._plot import plot_c7 as plot_c7
from verification.claims.c7_mitigations._rule import check_c7 as check_c7
from verification.claims.c7_mitigations._rule import (
    paired_risk_bootstrap as paired_risk_bootstrap,
)
from verification.claims.c7_mitigations._variants import VARIANTS as VARIANTS
from verification.claims.c7_mitigations._variants import OptimizerSetting as OptimizerSetting
from verification.claims.c7_mitigations._variants import _variants_list
from verification.claims.c7_mitigations._variants import optimizer_family as optimizer_family
from verification.claims.c7_mitigations._variants import variant_setup as variant_setup
from verification.claims.c7_mitigations._words import MARGIN_WORDS as MARGIN_WORDS
from verification.claims.c7_mitigations._words import summary_c7 as summary_c7
from verification.contract import Claim

__all__ = [
    "CLAIM",
    "MARGIN_WORDS",
    "OptimizerSetting",
    "VARIANTS",
    "check_c7",
    "example_check_input",
    "memory_c7",
    "optimizer_family",
    "paired_risk_bootstrap",
    "plot_c7",
    "preflight_c7",
    "run_c7",
    "summary_c7",
    "train_variants",
    "variant_setup",
]

CLAIM = Claim(
    id="C7",
    source="seed §3.2",
    title="differential attention, RoPE, patching, Adam, weight decay mitigate",
    statement=r"(S_1-\lambda S_2)XW_V,\ \mathrm{RoPE},\ \mathcal P(x)\in\mathbb R^{L\times P},\ "
    r"\text{Adam},\ "
    r"\text{weight decay}:\ R_{\mathrm{OOD}}\downarrow,\ \mathbb E[S_{LL}]\uparrow",
    params={
        **ood_data_fields(32),
        "variants": cfg.Field(
            list(VARIANTS),
            "variants to compare; the first is the baseline",
            f"a list starting with 'vanilla' of distinct names from {', '.join(VARIANTS)}",
            _variants_list,
        ),
        "seeds": cfg.positive_int(
            12, "seeds per variant (the same for every variant: paired)", minimum=2, maximum=64
        ),
        "steps": cfg.positive_int(300, "training steps"),
        "heads": cfg.positive_int(4, "attention heads H"),
        "key_dim": cfg.positive_int(2, "query/key width d_k (even: RoPE rotates pairs)"),
        "eta": cfg.positive_float(0.1, "gradient-descent learning rate (loss 1/(2n) Σ (f - y)²)"),
        "adam_lr": cfg.positive_float(0.01, "Adam learning rate"),
        "weight_decay": cfg.positive_float(0.01, "decoupled weight decay added to the GD update"),
        "lambda_init": cfg.probability(0.2, "initial λ of differential attention"),
        "rope_base": cfg.positive_float(10000.0, "RoPE base (frequencies base^(-2i/d_k))"),
        "patch_len": cfg.positive_int(2, "patch length P"),
        "patch_stride": cfg.positive_int(2, "patch stride"),
        "dtype": cfg.choice("float32", ("float32", "float64"), "training precision"),
        "resamples": cfg.positive_int(1000, "bootstrap resamples", minimum=100),
        "margin": cfg.probability(
            0.1,
            "margin Δ of 'mitigates': a variant lowers the OOD risk by at least the "
            "fraction Δ (risk factor vs vanilla ≤ 1 − Δ)",
        ),
        "alpha": ALPHA,
    },
    run=run_c7,
    check=check_c7,
    plot=plot_c7,
    summary=summary_c7,
    memory=memory_c7,
    preflight=preflight_c7,
)
