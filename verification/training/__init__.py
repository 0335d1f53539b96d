"""How the claims train, and what the theory says about it: the step size, the stability limit
:math:`2/\\lambda_{\\max}(H(0))`, memory estimates, long runs in segments, and the theory calculator
(Theorem 5.2's :math:`\\lambda`, :math:`T_{\\mathrm{req}}`, widths).

Private modules behind this front: ``_step_size``, ``_memory``, ``_longrun``, ``_bounds``.
"""

from verification.training._bounds import Theory as Theory
from verification.training._bounds import lambda_star as lambda_star
from verification.training._bounds import theory as theory
from verification.training._longrun import train_long as train_long
from verification.training._memory import memory_estimate as memory_estimate
from verification.training._step_size import StepSize as StepSize
from verification.training._step_size import learning_rate as learning_rate

__all__ = [
    "StepSize",
    "Theory",
    "lambda_star",
    "learning_rate",
    "memory_estimate",
    "theory",
    "train_long",
]
