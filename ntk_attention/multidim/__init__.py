r"""Multi-dimensional attention for forecasting (seed §3.1–3.2): vanilla, differential, RoPE,
patched.

A window :math:`x \in \mathbb R^T` becomes tokens
:math:`X = \mathcal P(x) \in \mathbb R^{L\times P}` (patches of length P, stride s, aligned so the
last patch ends at :math:`x_T`; ``P = s = 1`` keeps one observation per token). One attention layer
with H heads, head h:

.. math::

    \mathrm{Attn}_h(X) = S_h X W_V^h,\qquad S_h = \mathrm{softmax}(X W^h X^\top),\qquad
    W^h = W_Q^h W_K^{h\top}/\sqrt{d_k},

softmax over keys (each row of :math:`S_h` sums to one). The forecasting head reads the **last**
token's row: :math:`f(x) = \sum_h \langle \mathrm{Attn}_h(X)_L, w_{\mathrm{out}}^h\rangle`, so only
row L of :math:`S_h` is ever computed. Variants:

* differential attention: :math:`(S_{1,h} - \lambda_h S_{2,h}) X W_V^h`, two score maps,
  :math:`\lambda_h = \mathrm{sigmoid}(\theta_h) \in (0, 1)` learnable;
* RoPE: queries and keys rotated by their token position before the product, so the score of
  tokens (i, j) depends on positions only through :math:`j - i`.

The paper's scalar model is the special case ``P = 1``, ``H = m``, :math:`d_k = d_v = 1`,
:math:`W_K^h = W_V^h = 1`, :math:`W_Q^h = w_h`, :math:`w_{\mathrm{out}} = a/\sqrt m`
(:func:`from_scalar_params`). Parameters are flax NNX modules split into a static ``graphdef``
and a pytree ``params`` (:class:`flax.nnx.State`): every function here is pure in ``params``,
so :func:`jax.grad`, :func:`jax.jacrev`, :func:`jax.vmap` and optax apply directly.

Also here, for claim C6: the seed's printed gradient of a loss through one attention layer and the
softmax chain rule it should equal (:func:`printed_attention_gradient`,
:func:`attention_gradient`), and the per-example quantities of the seed's two cases
(:func:`local_attention_cases`).
"""

from ntk_attention.multidim.layers import (
    KINDS,
    SOFTMAX_AXES,
    attention,
    attention_gradient,
    differential_attention,
    patch,
    printed_attention_gradient,
    rope,
    unpatch,
)
from ntk_attention.multidim.model import (
    FitResult,
    Forecaster,
    HeadOutputs,
    LocalCases,
    ModelConfig,
    apply_model,
    empirical_ntk,
    fit,
    from_scalar_params,
    head_outputs,
    init_model,
    last_token_mass,
    local_attention_cases,
    model_ntk,
)

__all__ = [
    "ModelConfig",
    "Forecaster",
    "HeadOutputs",
    "FitResult",
    "LocalCases",
    "patch",
    "unpatch",
    "rope",
    "attention",
    "differential_attention",
    "attention_gradient",
    "printed_attention_gradient",
    "init_model",
    "apply_model",
    "head_outputs",
    "last_token_mass",
    "empirical_ntk",
    "model_ntk",
    "fit",
    "local_attention_cases",
    "from_scalar_params",
    "KINDS",
    "SOFTMAX_AXES",
]
