r"""The host-side words about one finished :func:`ntk_attention.train` run: which step diverged
and why, with :math:`\eta` against the gradient-descent stability limit
:math:`2/\lambda_{\max}(H(0))` (:mod:`ntk_attention.stability`). Not traceable: it reads the
trajectory's numbers and computes :math:`\lambda_{\max}(H(0))` in float64 on the host.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from jaxtyping import Array, Float

from ntk_attention import _checks
from ntk_attention.model import Params
from ntk_attention.stability import h0_lambda_max, lambda_max, stability_limit
from ntk_attention.train import RISE_TOLERANCE, Trajectory

__all__ = ["DivergenceReport", "divergence_report"]


class DivergenceReport(NamedTuple):
    r"""The host-side words about one :func:`train` run (:func:`divergence_report`).

    ``step``: :attr:`Trajectory.diverged_step` as a Python int (-1: the run did not diverge);
    ``reason``: one line saying why ("" if it did not), with the step size against the
    gradient-descent stability limit :math:`2/\lambda_{\max}(H(0))` for plain gradient descent;
    ``lambda_max_h0``: :math:`\lambda_{\max}(H(0))` in float64
    (:func:`ntk_attention.stability.lambda_max`), computed only for a diverged run (else ``None``).
    """

    step: int
    reason: str
    lambda_max_h0: float | None


def divergence_report(
    traj: Trajectory,
    params: Params,
    X: Float[Array, "n d"],
    *,
    learning_rate: float | None = None,
    divergence_factor: float = 1e8,
) -> DivergenceReport:
    r"""The host-side words about one finished :func:`train` run: which step diverged and why.

    ``traj``: one run's :class:`Trajectory` (for a ``vmap``-ed one pick run ``i`` first:
    ``jax.tree.map(lambda v: v[i], traj)``); ``params``, ``X``: the **initial** parameters and
    the windows it was trained from; ``learning_rate``: the step size :math:`\eta` of plain
    gradient descent (``None`` for an optax ``optimizer``: no stability limit to compare with);
    ``divergence_factor``: the one given to :func:`train` (its words only).

    ``reason`` is one of (numbers with 3 significant digits):

    * ``loss non-finite at step k`` — training stopped there;
    * ``loss L at step k exceeds divergence_factor = F × L(0) = L0`` — training stopped there;
    * ``loss ended at L(T) = LT above L(0) = L0 (tolerance RISE_TOLERANCE = 0.001), above it from
      step k on`` (:data:`RISE_TOLERANCE`);

    followed, when ``learning_rate`` is given, by ``; learning_rate = η is q × the gradient-descent
    stability limit 2/λ_max(H(0)) = ... (λ_max(H(0)) = ...)``. :math:`\lambda_{\max}(H(0))` is
    :func:`ntk_attention.stability.lambda_max` (float64) of the recorded :math:`H(0)` when the
    run recorded it at step 0, else :func:`ntk_attention.stability.h0_lambda_max` of ``params``
    on ``X``; computed only for a diverged run. A run that did not diverge gives
    ``DivergenceReport(-1, "", None)``.

    >>> import jax
    >>> from ntk_attention import init_params, train
    >>> p = init_params(jax.random.key(0), 8)
    >>> X = jax.random.normal(jax.random.key(1), (4, 3)); y = X[:, -1]
    >>> divergence_report(train(p, X, y, steps=4, learning_rate=0.1), p, X, learning_rate=0.1)
    DivergenceReport(step=-1, reason='', lambda_max_h0=None)
    """
    step = np.asarray(traj.diverged_step)
    if step.ndim != 0:
        raise ValueError(
            "traj: expected one run's Trajectory (diverged_step of shape ()), got diverged_step "
            f"of shape {step.shape}; pick run i with jax.tree.map(lambda v: v[i], traj)"
        )
    step = int(step)
    if step < 0:
        return DivergenceReport(-1, "", None)
    if learning_rate is not None:
        learning_rate = _checks.check_positive(learning_rate, "learning_rate")
    divergence_factor = _checks.check_positive(divergence_factor, "divergence_factor")
    steps = np.asarray(traj.step)
    loss = np.asarray(traj.loss, np.float64)
    start = int(steps[0])
    if start == 0:
        l0 = f" = {loss[0]:.3g}"
    else:  # record_at without step 0: L(0) was not recorded
        l0 = f" (not recorded: the first record is at step {start})"
    if bool(traj.stopped):  # frozen from that step on: the last record holds that step's loss
        last = float(loss[-1])
        if not np.isfinite(last):
            reason = f"loss non-finite at step {step}"
        else:
            reason = (
                f"loss {last:.3g} at step {step} exceeds divergence_factor = "
                f"{divergence_factor:.3g} × L(0){l0}"
            )
    else:
        reason = (
            f"loss ended at L({int(steps[-1])}) = {loss[-1]:.3g} above L(0){l0} "
            f"(tolerance RISE_TOLERANCE = {RISE_TOLERANCE:g}), above it from step {step} on"
        )
    if traj.ntk is not None and start == 0:
        lmax = lambda_max(traj.ntk[0])
    else:
        lmax = h0_lambda_max(params, X)
    if learning_rate is not None and lmax > 0:
        limit = stability_limit(lmax)
        reason += (
            f"; learning_rate = {learning_rate:.3g} is {learning_rate / limit:.3g} × the "
            f"gradient-descent stability limit 2/λ_max(H(0)) = {limit:.3g} "
            f"(λ_max(H(0)) = {lmax:.3g})"
        )
    return DivergenceReport(step, reason, lmax)
