"""Print the tables of docs/data.md: statistics of the synthetic families and of the real series.

Run from the repository root::

    PYTHONPATH=. python scripts/data_stats.py [--seeds 20]

Synthetic families: ``seeds`` series of n + d = 32 values each (n = 24 windows of length d = 8,
the default ``[data]`` sizes), each z-scored; per series the lag-1 autocorrelation, the fraction of
sign-consistent next steps after demeaning, corr(y, x_d) and the data-term fraction of a width-256
network at initialisation (key 1000 + seed); the table gives the mean and the minimum over series.
Real series: the whole z-scored series and all its windows of length d = 8.
"""

from __future__ import annotations

import argparse

import jax
import numpy as np

import ntk_attention as na
from ntk_attention import data
from verification.data._sources import REAL_SERIES, load_series

N, D, WIDTH = 24, 8, 256

FAMILIES = [
    ("residual", {"state_dim": 4, "r_lo": 0.9, "r_hi": 0.99}),
    ("residual", {"state_dim": 4, "r_lo": 0.5, "r_hi": 0.9}),
    ("residual", {"state_dim": 4, "r_lo": 0.0, "r_hi": 0.5}),
    ("slow_modes", {"state_dim": 4, "r_lo": 0.9, "r_hi": 0.99}),
    ("oscillation", {"frequency": 0.05, "damping": 0.95}),
    ("trend_seasonal", {}),
    ("ar", {"coefficients": [0.95]}),
    ("ar", {"coefficients": [0.5]}),
    ("haar", {"state_dim": 6, "radius": 1.0}),
]


def window_stats(series, n=None):
    X, y = data.series_windows(series, D, n)
    p = na.init_params(jax.random.key(1000), WIDTH)
    return [
        float(data.sign_consistent_fraction(X, y)),
        float(data.corr_y_xd(X, y)),
        float(data.data_term_fraction(p, X, y)),
    ]


def family_row(name, options, seeds):
    rows = []
    for s in range(seeds):
        u = data.family_series(name, N + D, jax.random.key(s), **options)
        u = (u - u.mean()) / u.std()
        X, y = data.series_windows(u, D)
        p = na.init_params(jax.random.key(1000 + s), WIDTH)
        rows.append(
            [
                float(data.lag1_autocorrelation(u)),
                float(data.sign_consistent_fraction(X, y)),
                float(data.corr_y_xd(X, y)),
                float(data.data_term_fraction(p, X, y)),
            ]
        )
    return np.array(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)
    default = data.DEFAULT_FAMILY
    print(f"Synthetic families, n = {N}, d = {D}, {args.seeds} seeds: mean (min)\n")
    print("| family | options | lag-1 | sign-consistent | corr(y, x_d) | data-term fraction |")
    print("|---|---|---|---|---|---|")
    for name, options in FAMILIES:
        r = family_row(name, options, args.seeds)
        cells = " | ".join(f"{m:.2f} ({lo:.2f})" for m, lo in zip(r.mean(axis=0), r.min(axis=0)))
        mark = " **(default)**" if (name, options) == (default[0], default[1]) else ""
        opts = ", ".join(f"{k}={v}" for k, v in options.items()) or "defaults"
        print(f"| `{name}`{mark} | {opts} | {cells} |")
    print(f"\nReal series (statsmodels), z-scored, all windows of length d = {D}\n")
    print("| series | length | lag-1 | sign-consistent | corr(y, x_d) | data-term fraction |")
    print("|---|---|---|---|---|---|")
    for name in REAL_SERIES:
        src = load_series(name, d=D)
        s = window_stats(src.series)
        print(
            f"| `{name}` | {src.length} | {float(data.lag1_autocorrelation(src.series)):.3f} | "
            + " | ".join(f"{v:.2f}" for v in s)
            + " |"
        )


if __name__ == "__main__":
    main()
