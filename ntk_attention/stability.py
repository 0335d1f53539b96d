r"""The gradient-descent stability limit :math:`2/\lambda_{\max}`: the one function computing it and its words.

Gradient descent on :math:`\tfrac12\|f-y\|^2` in the kernel regime multiplies each eigen-direction of
the kernel :math:`K` (:math:`H(0)`, :math:`H^*`, or :math:`Z^\top Z` of the linear baseline) by
:math:`1-\eta\lambda_k` per step, so it is stable iff :math:`\eta < 2/\lambda_{\max}(K)`
(docs/theory.md, "Training"). Pure: no I/O, no configuration (:mod:`verification.training._step_size` reads
a configured ``eta`` with these).
"""

from __future__ import annotations

import math

__all__ = ["stability_limit", "stability_words"]


def stability_limit(lambda_max: float) -> float:
    r"""The gradient-descent stability limit :math:`2/\lambda_{\max}` (``inf`` when :math:`\lambda_{\max} \le 0`:
    no direction grows, every step is stable).

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
        f"η = {learning_rate:g} is {side} the gradient-descent stability limit 2/λ_max({kernel}) = {limit:.3g} "
        f"(λ_max({kernel}) = {float(lambda_max):.3g})"
    )
