r"""The step size: the one reader of a configured ``eta`` and the one gradient-descent
stability limit.

Every command and claim turns a configuration's ``eta`` into the step size η of gradient descent
here, so that ``ntk-verify run``, ``bounds`` and ``sweep`` read one key the same way (optax's
``scale_by_learning_rate`` is likewise the only code that reads a learning rate):

* ``eta_mode = "absolute"``: :math:`\eta = \mathrm{eta}`;
* ``eta_mode = "relative"``: :math:`\eta = \mathrm{eta}\cdot 2/\lambda_{\max}` — a fraction of the
  gradient-descent stability limit of a named kernel (``λ_max(H*)`` of the claim's own data for the
  claims; finite-width :math:`\lambda_{\max}(H(0))` fluctuates around it by :math:`O(m^{-1/2})`).

Gradient descent on :math:`\tfrac12\|f-y\|^2` in the kernel regime multiplies each
eigen-direction of the kernel by :math:`1-\eta\lambda_k` per step: it is stable iff
:math:`\eta < 2/\lambda_{\max}` (docs/theory.md, "Training"):
:func:`ntk_attention.stability.stability_limit` is the one function computing that limit
(re-exported here with its words). A leaf: imports nothing from ``verification``; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from ntk_attention.stability import stability_limit

__all__ = [
    "MODES",
    "StepSize",
    "learning_rate",
    "section_learning_rate",
]  # stability_limit/_words: ntk_attention.stability

MODES = ("relative", "absolute")
"""How a configured ``eta`` is read (``eta_mode``)."""


class StepSize(NamedTuple):
    r"""A configured step size, parsed once: ``eta`` read as ``mode``.

    ``"absolute"``: :math:`\eta = \mathrm{eta}`; ``"relative"``:
    :math:`\eta = \mathrm{eta}\cdot 2/\lambda_{\max}(H^*)` at the most restrictive data size
    (resolved by :meth:`verification.contract.Context.step_size`, the one resolver).

    >>> StepSize.of({"eta": 0.4, "eta_mode": "relative"}).resolve(2.0)
    0.4
    >>> StepSize.of({"eta": 3.0}).resolve()
    3.0
    """

    eta: float
    mode: str = "absolute"

    @classmethod
    def of(cls, section: Mapping) -> StepSize:
        """The step size of a configuration section (``eta``, ``eta_mode``; absolute if absent)."""
        step = cls(float(section["eta"]), section.get("eta_mode", "absolute"))
        learning_rate(step.eta, step.mode, 1.0)  # validates eta and mode once, here
        return step

    @property
    def relative(self) -> bool:
        r"""Whether η depends on the data (a fraction of :math:`2/\lambda_{\max}`)."""
        return self.mode == "relative"

    def resolve(self, lambda_max: float | Callable[[], float] | None = None) -> float:
        """η itself: :func:`learning_rate` of this step size."""
        return learning_rate(self.eta, self.mode, lambda_max)

    def scaled(self, factor: float) -> StepSize:
        """The same reading at ``factor`` × ``eta`` (C2's ``eta_factors``)."""
        return self._replace(eta=self.eta * float(factor))


def learning_rate(
    eta: float, eta_mode: str, lambda_max: float | Callable[[], float] | None = None
) -> float:
    r"""The step size η of a configured ``eta``: ``eta`` itself (``"absolute"``) or
    :math:`\mathrm{eta}\cdot 2/\lambda_{\max}` (``"relative"``; ``lambda_max`` a number or a
    function computing it, called only then).

    >>> learning_rate(0.4, "relative", 2.0), learning_rate(0.4, "absolute")
    (0.4, 0.4)
    """
    if eta_mode not in MODES:
        raise ValueError(f"eta_mode: expected one of {', '.join(MODES)}, got {eta_mode!r}")
    if not (isinstance(eta, (int, float)) and math.isfinite(eta) and eta > 0):
        raise ValueError(f"eta: expected a finite number > 0, got {eta!r}")
    if eta_mode == "absolute":
        return float(eta)
    if lambda_max is None:
        raise ValueError(
            "lambda_max: expected λ_max of the kernel whose stability limit a relative eta "
            "is a fraction of, got None"
        )
    lam = float(lambda_max() if callable(lambda_max) else lambda_max)
    if not (math.isfinite(lam) and lam > 0):
        raise ValueError(
            f"lambda_max: expected a finite number > 0 for a relative eta, got {lam!r}"
        )
    return float(eta) * stability_limit(lam)


def section_learning_rate(
    section: Mapping | StepSize, lambda_max_of: Callable[[int], float], sizes: Iterable[int]
) -> float:
    r"""The one η of a configuration section (``eta``, ``eta_mode``) trained at every size of
    ``sizes``: ``eta`` itself, or the smallest :math:`\mathrm{eta}\cdot 2/\lambda_{\max}(n)` over
    the sizes (stable at every size; ``lambda_max_of(n)`` is called only for a relative ``eta``).

    >>> section_learning_rate({"eta": 0.5, "eta_mode": "relative"}, {2: 1.0, 4: 4.0}.get, [2, 4])
    0.25
    """
    step = section if isinstance(section, StepSize) else StepSize.of(section)
    if not step.relative:
        return step.resolve()
    sizes = list(sizes)
    if not sizes:
        raise ValueError("sizes: expected at least one data size for a relative eta, got none")
    return min(step.resolve(lambda n=n: lambda_max_of(n)) for n in sizes)
