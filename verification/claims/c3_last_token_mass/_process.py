r"""The windows of C3's data process (:class:`._boundary.ProcessSample`), drawn through ``ctx``.

* A synthetic source (a family of :data:`ntk_attention.data.FAMILIES`): independent draws of the
  data builder (:func:`verification.data._datasets.make_dataset`, keys from the run's
  ``c3_process_windows`` stream, independent of the training data's), each as many windows as the
  training set (z-scored as it is), until :data:`PROCESS_WINDOWS` windows; one draw is one unit.
  For a family other than ``haar`` the draws' series are drawn at once (one compiled, vectorised
  :func:`ntk_attention.data.family_series`) and windowed as ``make_dataset`` does — checked
  against ``make_dataset`` on the first two draws, else every draw goes through ``make_dataset``.
* A finite series (a real series, ``csv:`` / ``npy:``): all its windows (normalised like the
  training windows), in non-overlapping blocks of :func:`block_length` consecutive windows as units.
* A windows file: its rows, in blocks of consecutive rows likewise.
"""

from __future__ import annotations

import functools
import math

import jax
import numpy as np

from ntk_attention import data as ssm_data
from verification.claims.c3_last_token_mass._boundary import ProcessSample, sample_of_units
from verification.data._datasets import (
    FAMILY_LENGTH,
    family_options,
    load_source,
    make_dataset,
    needed_length,
)

PROCESS_WINDOWS = 10_000
"""Least number of windows of a synthetic source's process."""


MAX_UNITS = 2000
"""Most bootstrap units of a finite series (memory: MAX_UNITS × len(W_ABS) × d floats)."""


def block_length(windows: int, d: int) -> int:
    """Consecutive windows per bootstrap block of a series: ``max(d + 1, ⌈N^{1/3}⌉)`` (a window
    and its target span d + 1 values; N^{1/3} is the usual block-bootstrap rate), longer when
    that gives more than :data:`MAX_UNITS` blocks.

    >>> block_length(3000, 8), block_length(10**6, 8)
    (15, 500)
    """
    return max(d + 1, math.ceil(windows ** (1 / 3)), math.ceil(windows / MAX_UNITS))


def process_sample(ctx, n: int) -> ProcessSample:
    """The :class:`ProcessSample` of the run's ``[data]`` for a training set of ``n`` windows,
    computed once per run (``ctx.cached``)."""
    data = ctx.config["data"]
    key = ctx.memo_key("c3_process_windows", source=data["source"], n=n, least=PROCESS_WINDOWS)
    return ctx.cached(key, lambda: _draw(ctx, data, n))


def _draw(ctx, data: dict, n: int) -> ProcessSample:
    src = str(data["source"])
    if src in ssm_data.FAMILIES:
        draws = math.ceil(PROCESS_WINDOWS / n)
        keys = jax.vmap(lambda i: jax.random.fold_in(ctx.key("c3_process_windows"), i))(
            np.arange(draws)
        )
        units = _family_draws(data, keys, n)
        how = (
            f"{draws} independent draws of the data builder of {n} windows each, z-scored as the "
            "training windows are"
        )
        return sample_of_units(units, source=src, unit="draw", how=how)
    ds = ctx.dataset(n)
    if ds.whole_series is None:
        X = _file_windows(data, ds, n)
        how = "every window of the file, normalised as the training windows"
    else:
        u, d = np.asarray(ds.whole_series, np.float64), int(data["d"])
        X = u[np.arange(u.size - d)[:, None] + np.arange(d)[None, :]]
        how = "every window of the series, normalised as the training windows"
    N = X.shape[0]
    L = block_length(N, X.shape[1])
    units = [X[i : i + L] for i in range(0, N, L)]
    return sample_of_units(units, source=src, unit=f"block of {L} windows", how=how)


def _file_windows(data: dict, ds, n: int) -> np.ndarray:
    """Every row of a windows file, normalised with the training rows' mean and sd (as
    :func:`make_dataset`); the training windows alone when that does not reproduce them."""
    src = load_source(data, jax.random.key(0))
    X, y = np.asarray(src.X, np.float64), np.asarray(src.y, np.float64)
    if data.get("normalize", True):
        ref = np.concatenate([X[:n].ravel(), y[:n]])
        X = (X - ref.mean()) / ref.std()
    train = np.asarray(ds.X, np.float64)
    return X if np.allclose(X[:n], train, atol=1e-9) else train


def _family_draws(data: dict, keys, n: int) -> np.ndarray:
    """(draws, n, d) training windows of independent draws of the data builder, one per key."""
    name = data["source"]
    if name != "haar":
        try:
            X = _family_fast(data, keys, n)
        except ValueError:
            X = None
        if X is not None and all(
            np.allclose(X[i], make_dataset(data, keys[i], n=n).X, atol=1e-8) for i in (0, 1)
        ):
            return X
    return np.stack([np.asarray(make_dataset(data, k, n=n).X, np.float64) for k in keys])


@functools.lru_cache(maxsize=8)
def _vectorised_family(name: str, length: int, options: tuple):
    return jax.jit(jax.vmap(lambda k: ssm_data.family_series(name, length, k, **dict(options))))


def _family_fast(data: dict, keys, n: int) -> np.ndarray | None:
    """The windows of :func:`make_dataset`'s family branch for every key at once; None when a
    draw is not finite."""
    d = int(data["d"])
    length = max(FAMILY_LENGTH, needed_length(data, n) + 1)
    k_series = jax.vmap(lambda k: jax.random.split(k)[0])(keys)
    opts = tuple(sorted(family_options(data).items()))
    U = np.asarray(_vectorised_family(data["source"], length, opts)(k_series), np.float64)
    if not np.isfinite(U).all():
        return None
    U = _detrend(U, data.get("detrend", "none"))
    starts = np.asarray(make_dataset(data, keys[0], n=n).train_starts)
    X = U[:, starts[:, None] + np.arange(d)[None, :]]
    if data.get("normalize", True):
        covered = np.zeros(U.shape[1], bool)
        for s in starts:
            covered[s : s + d + 1] = True
        ref = U[:, covered]
        X = (X - ref.mean(axis=1)[:, None, None]) / ref.std(axis=1)[:, None, None]
    return X


def _detrend(U: np.ndarray, how: str) -> np.ndarray:
    """:func:`load_source`'s detrending of a family's series, row by row."""
    if how == "difference":
        return np.diff(U, axis=1)
    if how == "linear":
        t = np.arange(U.shape[1], dtype=np.float64)
        return np.stack([u - np.polyval(np.polyfit(t, u, 1), t) for u in U])
    return U
