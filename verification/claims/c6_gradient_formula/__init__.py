r"""C6 (seed §3.1): the printed gradient of multi-dimensional attention.

**Statement.** For :math:`\mathrm{Attn}(X, W) = S X W_V`,
:math:`S = \mathrm{softmax}(X W X^\top)`, the seed prints

.. math::

    \frac{dL}{dW} = X^\top\Big(S \odot \big(G W_V^\top X^\top
    - (\mathrm{Attn}\odot G)\,1_{d\times n}\big)\Big) X .

Reading (stated in :func:`ntk_attention.multidim.printed_attention_gradient`): G is
:math:`\partial L/\partial\mathrm{Attn}`, :math:`1_{d\times n}` all ones with d the width of Attn,
W the scaled product :math:`W_Q W_K^\top/\sqrt d`, softmax over keys (rows of S). Under it, the
formula is the softmax chain rule :math:`\partial L/\partial A = S\odot(\partial L/\partial S -
\mathrm{rowsum}(\partial L/\partial S\odot S))` with
:math:`\partial L/\partial S = G W_V^\top X^\top`,
:math:`\mathrm{rowsum}(\partial L/\partial S\odot S)_i = \langle G_i, \mathrm{Attn}_i\rangle`,
:math:`dL/dW = X^\top(\partial L/\partial A)X`. The check compares both with :func:`jax.grad` in
float64 on random shapes (also :math:`d_v \ne d`) and score scales; the column-softmax reading is
reported as a diagnostic. Over training of the vanilla multi-dimensional model on state-space
windows it also counts the seed's two cases :math:`\langle G_i, W_V^\top X_i\rangle \gtrless 0`
(last token, per head) and what gradient descent does to the local score :math:`A_{LL}` in each.

**Verdict rule** (:func:`check_c6`). HOLDS when every relative error against autodiff is within
``rtol`` (float64), VIOLATED at the first shape and draw beyond it (docs/theory.md, "C6"); the case
counts over training are diagnostics.

**Parts.** ``_evidence`` the gradients against autodiff and the cases over training
(:func:`run_c6`, :func:`formula_errors`); ``_rule`` the parts and the verdict (:func:`check_c6`);
``_words`` all prose (:func:`summary_c6`); ``_plot`` the figure (:func:`plot_c6`).
"""

from __future__ import annotations

from verification import config as cfg
from verification.claims._common import ALPHA, ood_data_fields
from verification.claims.c6_gradient_formula._evidence import case_statistics as case_statistics
from verification.claims.c6_gradient_formula._evidence import formula_errors as formula_errors
from verification.claims.c6_gradient_formula._evidence import memory_c6 as memory_c6
from verification.claims.c6_gradient_formula._evidence import preflight_c6 as preflight_c6
from verification.claims.c6_gradient_formula._evidence import random_shapes as random_shapes
from verification.claims.c6_gradient_formula._evidence import run_c6 as run_c6
from verification.claims.c6_gradient_formula._plot import plot_c6 as plot_c6
from verification.claims.c6_gradient_formula._rule import READINGS as READINGS
from verification.claims.c6_gradient_formula._rule import check_c6 as check_c6
from verification.claims.c6_gradient_formula._rule import (
    example_check_input as example_check_input,
)
from verification.claims.c6_gradient_formula._words import summary_c6 as summary_c6
from verification.contract import Claim

__all__ = [
    "CLAIM",
    "READINGS",
    "case_statistics",
    "check_c6",
    "example_check_input",
    "formula_errors",
    "memory_c6",
    "plot_c6",
    "preflight_c6",
    "random_shapes",
    "run_c6",
    "summary_c6",
]

CLAIM = Claim(
    id="C6",
    source="seed §3.1",
    title="multi-dimensional attention gradient as printed",
    statement=r"\frac{dL}{dW} = X^\top\big(S\odot(G W_V^\top X^\top - (\mathrm{Attn}(X,W)\odot G)"
    r"1_{d\times n}\big)X,"
    r"\ S=\mathrm{softmax}(XWX^\top),\ W=W_QW_K^\top/\sqrt d",
    params={
        "shapes": cfg.positive_int(
            6, "random shapes (n tokens, d, d_v) tested", minimum=2, maximum=64
        ),
        "max_tokens": cfg.positive_int(12, "largest token count n", minimum=2),
        "max_width": cfg.positive_int(6, "largest d and d_v", minimum=2),
        "trials": cfg.positive_int(3, "random draws per shape (score scales 0.3, 1, 3 in turn)"),
        "rtol": cfg.positive_float(1e-9, "relative tolerance against autodiff (float64)"),
        **ood_data_fields(32),
        "heads": cfg.positive_int(4, "attention heads of the trained model"),
        "key_dim": cfg.positive_int(2, "query/key width d_k"),
        "steps": cfg.positive_int(300, "gradient-descent steps"),
        "record_every": cfg.positive_int(
            50, "record the two cases every k steps (a divisor of steps)"
        ),
        "eta": cfg.positive_float(0.1, "learning rate (loss 1/(2n) Σ (f - y)²)"),
        "seeds": cfg.positive_int(3, "training seeds", maximum=64),
        "alpha": ALPHA,
    },
    run=run_c6,
    check=check_c6,
    plot=plot_c6,
    summary=summary_c6,
    memory=memory_c6,
    preflight=preflight_c6,
)
