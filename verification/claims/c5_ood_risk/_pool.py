"""The pool of windows C5 scans for sign-consistent training examples, sized from the data: a
synthetic family (its sign-inconsistent test windows are generated) keeps
:data:`SYNTHETIC_POOL`; a finite series (a bundled real series, ``csv:``, ``npy:``) is split in
half, the pool holding half its windows and the test windows following them."""

from __future__ import annotations

from ntk_attention import data as ssm_data
from verification import config as cfg
from verification.data._datasets import load_source

SYNTHETIC_POOL = 48
"""A synthetic family's pool, and the least pool of a finite series (nile's 100 values keep test
windows)."""
MIN_POOL = 4
"""The smallest pool a configuration may name."""


def pool_value(v) -> int:
    """``C5.pool``: 0 (sized from the data) or an integer >= :data:`MIN_POOL`."""
    v = cfg.nonneg_int(0, "").convert(v)
    if 0 < v < MIN_POOL:
        raise ValueError
    return v


def finite_source(data_cfg: dict) -> bool:
    """Whether ``[data] source`` is a finite series (not a synthetic family drawn to length)."""
    return data_cfg.get("source", "haar") not in ssm_data.FAMILIES


def series_share(windows: int, d: int, placement: str) -> int:
    """Half of a finite series' ``windows`` for the pool: with training windows first, half of
    the windows that leave ``d`` values between pool and test set; spread over the series, one
    window every 2(d + 1) values (half the values stay free for test windows)."""
    if placement == "spread":
        return windows // (2 * (d + 1))
    return (windows - d) // 2


def pool_size(section: dict, data_cfg: dict) -> int:
    """The pool used: ``section["pool"]`` when set (> 0); else :data:`SYNTHETIC_POOL` for a
    synthetic family, and for a finite series :func:`series_share` of its windows, at least
    :data:`SYNTHETIC_POOL` and at most ``section["pool_max"]``. A source that cannot be read
    keeps :data:`SYNTHETIC_POOL` (the run then names its error)."""
    if section["pool"] or not finite_source(data_cfg):
        return int(section["pool"] or SYNTHETIC_POOL)
    try:
        src = load_source(data_cfg, None)
    except ValueError:
        return SYNTHETIC_POOL
    d = int(data_cfg["d"])
    if src.series is None:  # a windows file: half its rows
        share = int(src.X.shape[0]) // 2
    else:
        windows = int(src.series.shape[0]) - int(data_cfg.get("offset", 0)) - d
        share = series_share(windows, d, data_cfg.get("placement", "first"))
    return int(min(section["pool_max"], max(SYNTHETIC_POOL, share)))
