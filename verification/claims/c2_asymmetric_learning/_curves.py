r"""C2's agreement curves: the counts of neurons whose sign follows :math:`a_r`, per group, network
and record, as checked arrays and fractions (:class:`C2Input`), and the readings of a curve — the
first record it crosses a level (a first crossing, not an onset), the onset (the first record from
which it stays at or above a level at every later record; ``inf``, censored, when it does not hold
to the last record) and its saturation plateau."""

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
    r"""First recorded step at which each curve reaches each level (a first crossing, never an
    onset: the curve may fall back below it later): :math:`\min\{t_j : f_j \ge L\}`.

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


def onset_times(fractions, steps, levels) -> np.ndarray:
    r"""Onset of each level: the first recorded step from which each curve stays at or above it at
    every later record, :math:`\min\{t_j : f_k \ge L\ \forall k \ge j\}`.

    ``fractions`` (..., R) over ``steps`` (R,); returns (..., len(levels)) with ``inf`` where the
    last record is below the level (censored: no onset within the records; also where NaN).

    A curve that crosses 0.9 at t = 1 and falls back has its onset at t = 100, not at 1:

    >>> f = np.array([0.5, 0.95, 0.6, 0.95, 0.97])
    >>> onset_times(f, np.array([0, 1, 10, 100, 1000]), (0.9, 0.96)).tolist()
    [100.0, 1000.0]
    >>> onset_times(f[:-1], np.array([0, 1, 10, 100]), (0.96,)).tolist()
    [inf]
    """
    f = np.asarray(fractions, np.float64)
    steps = np.asarray(steps, np.float64)
    if f.shape[-1] != steps.size:
        raise ValueError(
            f"fractions: expected a last axis of {steps.size} records, got shape {f.shape}"
        )
    out = np.full(f.shape[:-1] + (len(levels),), np.inf)
    for j, L in enumerate(levels):
        held = np.flip(np.logical_and.accumulate(np.flip(f >= L, -1), axis=-1), -1)
        out[..., j] = np.where(held[..., -1], steps[np.argmax(held, axis=-1)], np.inf)
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


BOOTSTRAP = 1000
"""Resamples of the networks for the figure's bands."""


def network_band(frac_seed, n, alpha: float, *, seed: int = 0) -> tuple[np.ndarray, ...]:
    r"""The mean over networks of each network's agreeing fraction, and its percentile bootstrap
    :math:`1-\alpha` interval over the networks (the network the unit: neurons are never pooled
    across networks), per width and record.

    ``frac_seed`` (W, S, R), ``n`` (W, S) neurons per network (networks without any are left
    out); returns ``(mean, lo, hi)`` (W, R), NaN at a width without such networks, and the
    networks used per width (W,).
    """
    f = np.asarray(frac_seed, np.float64)
    W, _, R = f.shape
    mean, lo, hi = (np.full((W, R), np.nan) for _ in range(3))
    used = np.asarray(n).reshape(W, -1) > 0
    rng = np.random.default_rng(seed)
    for wi in range(W):
        F = f[wi, used[wi]]
        if not F.shape[0]:
            continue
        S = F.shape[0]
        boot = rng.multinomial(S, np.full(S, 1 / S), size=BOOTSTRAP) @ F / S  # (B, R)
        mean[wi] = F.mean(axis=0)
        lo[wi], hi[wi] = np.quantile(boot, [alpha / 2, 1 - alpha / 2], axis=0)
    return mean, lo, hi, used.sum(axis=1)
