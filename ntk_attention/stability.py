r"""The gradient-descent stability limit :math:`2/\lambda_{\max}`: the one owner of
:math:`\lambda_{\max}` of a kernel, of the limit and of its words.

Gradient descent on :math:`\tfrac12\|f-y\|^2` in the kernel regime multiplies each eigen-direction
of the kernel :math:`K` (:math:`H(0)`, :math:`H^*`, or :math:`Z^\top Z` of the linear baseline) by
:math:`1-\eta\lambda_k` per step, so it is stable iff :math:`\eta < 2/\lambda_{\max}(K)`
(docs/theory.md, "Training"; neural-tangents' ``predict.max_learning_rate``). Pure: no I/O, no
configuration (:mod:`verification.training._step_size` reads a configured ``eta`` with these).

* :func:`lambda_max`: :math:`\lambda_{\max}(\tfrac12(K + K^\top))`, float64;
* :func:`max_learning_rate`: :math:`2/\lambda_{\max}(\tfrac12(K + K^\top))` of a kernel;
* :func:`h0_lambda_max`: :math:`\lambda_{\max}(H(0))` of a network on windows ``X``;
* :func:`stability_limit`, :func:`stability_words`: the limit of a known :math:`\lambda_{\max}`,
  and one phrase placing η against it.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ntk_attention import _checks
from ntk_attention.model import Params
from ntk_attention.ntk import empirical_ntk

__all__ = [
    "h0_lambda_max",
    "lambda_max",
    "max_learning_rate",
    "stability_limit",
    "stability_words",
]


def lambda_max(kernel: Float[Array, "n n"]) -> float:
    r"""The largest eigenvalue :math:`\lambda_{\max}(\tfrac12(K + K^\top))` of a kernel matrix.

    On concrete values: float64 numpy (``np.linalg.eigvalsh`` of the symmetrised kernel, whatever
    ``K``'s dtype and JAX's x64 mode), a Python float. Under ``jit``/``vmap`` (``K`` traced):
    ``jnp.linalg.eigvalsh`` of the same matrix in ``K``'s dtype, an array.

    >>> lambda_max([[2.0, 1.0], [1.0, 2.0]])
    3.0
    """
    if not _checks.is_concrete(kernel):
        K = kernel
        _check_square(K.shape)
        return jnp.linalg.eigvalsh(0.5 * K + 0.5 * K.T)[-1]
    K = _checks.as_float_array(kernel, "kernel", numpy=True)
    _check_square(K.shape)
    _checks.check_finite(K, "kernel")
    K = K.astype(np.float64)
    return float(np.linalg.eigvalsh(0.5 * K + 0.5 * K.T)[-1])


def max_learning_rate(kernel: Float[Array, "n n"]) -> float:
    r"""The gradient-descent stability limit :math:`2/\lambda_{\max}(\tfrac12(K + K^\top))` of a
    kernel (``inf`` when :math:`\lambda_{\max} \le 0`), :func:`lambda_max` then
    :func:`stability_limit`; as neural-tangents' ``predict.max_learning_rate(ntk)``.

    Traced (``jit``/``vmap``): ``jnp.where(λ > 0, 2/λ, inf)`` in the kernel's dtype, an array.

    >>> max_learning_rate([[2.0, 1.0], [1.0, 2.0]])
    0.6666666666666666
    """
    lam = lambda_max(kernel)
    if not _checks.is_concrete(lam):
        return jnp.where(lam > 0, 2.0 / jnp.where(lam > 0, lam, 1.0), jnp.inf)
    return stability_limit(lam)


def h0_lambda_max(
    params: Params, X: Float[Array, "n d"], *, chunk_size: int | None = None
) -> float:
    r""":math:`\lambda_{\max}(H(0))` of the network ``params`` on the windows ``X``: the empirical
    NTK :math:`H = J J^\top` by :func:`ntk_attention.empirical_ntk` (closed form, in the dtype of
    ``params`` and ``X``), then :func:`lambda_max` (float64 on concrete values).

    >>> import jax
    >>> from ntk_attention import init_params
    >>> p = init_params(jax.random.key(0), 16)
    >>> X = jax.random.normal(jax.random.key(1), (3, 4))
    >>> h0_lambda_max(p, X) > 0
    True
    """
    return lambda_max(empirical_ntk(params, X, chunk_size=chunk_size))


def stability_limit(lambda_max: float) -> float:
    r"""The gradient-descent stability limit :math:`2/\lambda_{\max}` (``inf`` when
    :math:`\lambda_{\max} \le 0`: no direction grows, every step is stable).

    >>> stability_limit(4.0)
    0.5
    """
    lam = float(lambda_max)
    return 2.0 / lam if lam > 0 else math.inf


def stability_words(learning_rate: float, lambda_max: float, *, kernel: str = "H(0)") -> str:
    r"""One phrase placing η against :math:`2/\lambda_{\max}(\mathrm{kernel})`, with both numbers.

    >>> stability_words(1.0, 4.0)
    'η = 1 is past the gradient-descent stability limit 2/λ_max(H(0)) = 0.5 (λ_max(H(0)) = 4)'
    """
    limit = stability_limit(lambda_max)
    side = "past" if learning_rate >= limit else "below"
    return (
        f"η = {learning_rate:g} is {side} the gradient-descent stability limit "
        f"2/λ_max({kernel}) = {limit:.3g} (λ_max({kernel}) = {float(lambda_max):.3g})"
    )


def _check_square(shape) -> None:
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
        raise ValueError(f"kernel: expected a non-empty square matrix, got shape {tuple(shape)}")
