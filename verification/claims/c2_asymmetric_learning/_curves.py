r"""C2's agreement curves: the counts of neurons whose sign follows :math:`a_r`, per group, network
and record, as checked arrays and fractions (:class:`C2Input`), and the readings of a curve — the
first record it reaches a level, and its saturation plateau."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

GROUPS = ("+1", "-1")
NAME = {"+1": "plus", "-1": "minus"}


class C2Input(NamedTuple):
    """The counts of :func:`~verification.claims.c2_asymmetric_learning.check_c2` as integer
    arrays, per group (``"+1"``, ``"-1"``): ``agree`` (W, S, R) and ``n`` (W, S); ``pooled``
    (W, R) and ``total`` (W,) summed over the networks; ``frac`` (W, R) and ``frac_seed``
    (W, S, R) the agreeing fractions (NaN without neurons)."""

    widths: np.ndarray
    steps: np.ndarray
    agree: dict
    n: dict
    pooled: dict
    total: dict
    frac: dict
    frac_seed: dict


def c2_input(widths, steps, agree_plus, n_plus, agree_minus, n_minus) -> C2Input:
    """The counts as arrays, their shapes checked (one ValueError line naming the group)."""
    widths = np.asarray(widths, np.int64)
    steps = np.asarray(steps, np.int64)
    A = {"+1": np.asarray(agree_plus, np.int64), "-1": np.asarray(agree_minus, np.int64)}
    N = {"+1": np.asarray(n_plus, np.int64), "-1": np.asarray(n_minus, np.int64)}
    W, R = widths.size, steps.size
    for g in GROUPS:
        a, n = A[g], N[g]
        if a.ndim != 3 or a.shape[0] != W or a.shape[2] != R or n.shape != a.shape[:2]:
            raise ValueError(
                f"agree/n of group {g}: expected shapes (W={W}, S, R={R}) and (W, S), "
                f"got {a.shape} and {n.shape}"
            )
    pooled = {g: A[g].sum(axis=1) for g in GROUPS}
    total = {g: N[g].sum(axis=1) for g in GROUPS}
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = {g: pooled[g] / total[g][:, None] for g in GROUPS}
        frac_seed = {g: A[g] / N[g][..., None] for g in GROUPS}
    return C2Input(widths, steps, A, N, pooled, total, frac, frac_seed)


def first_times(fractions, steps, levels) -> np.ndarray:
    r"""First recorded step at which each curve reaches each level:
    :math:`\min\{t_j : f_j \ge L\}`.

    ``fractions`` (..., R) over ``steps`` (R,); returns (..., len(levels)) with ``inf`` where a
    curve never reaches the level (and where it is NaN: a group without neurons).

    >>> first_times(np.array([0.5, 0.8, 1.0]), np.array([0, 10, 100]), (0.7, 0.9, 1.1)).tolist()
    [10.0, 100.0, inf]
    """
    f = np.asarray(fractions, np.float64)
    steps = np.asarray(steps, np.float64)
    if f.shape[-1] != steps.size:
        raise ValueError(
            f"fractions: expected a last axis of {steps.size} records, got shape {f.shape}"
        )
    out = np.full(f.shape[:-1] + (len(levels),), np.inf)
    for j, L in enumerate(levels):
        hit = f >= L
        out[..., j] = np.where(hit.any(axis=-1), steps[np.argmax(hit, axis=-1)], np.inf)
    return out


def plateau(
    fractions, steps, *, tail: float = 0.1, tol: float = 0.02
) -> tuple[np.ndarray, np.ndarray]:
    r"""Saturation level of agreement curves: the mean over records with
    :math:`t \ge` ``tail`` :math:`\cdot T`.

    Returns ``(level, settled)`` of shape ``fractions.shape[:-1]``: ``settled`` when the curve
    moves by at most ``tol`` (max − min) over that last stretch (the final decade by default).
    """
    f = np.asarray(fractions, np.float64)
    steps = np.asarray(steps, np.float64)
    if f.shape[-1] != steps.size:
        raise ValueError(
            f"fractions: expected a last axis of {steps.size} records, got shape {f.shape}"
        )
    last = f[..., steps >= tail * steps[-1]]
    return last.mean(axis=-1), (last.max(axis=-1) - last.min(axis=-1)) <= tol
