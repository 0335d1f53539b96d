r"""``ntk-verify data``: what the configured data looks like (docs/data.md, "What is measured").

For ``[data] source`` (or ``--source``), window length ``d`` and ``n`` training windows — the very
windows ``ctx.dataset(n)`` gives the claims, so with the configured seed — :func:`data_statistics`
measures:

* ``length``: values of the source (a synthetic family: the values drawn; a windows file: windows +
  d; ``haar`` with independent windows: the n(d + 1) values of the windows and targets);
* ``lag1_autocorrelation`` (:func:`ntk_attention.data.lag1_autocorrelation`) of the **whole** series
  of a series source — every value, not only the training windows' (``lag1_over = "series"``;
  ``lag1_training`` is the lag-1 of the ``n + d`` training values when the windows are
  consecutive, ``placement = "first"``); ``train_starts``/``test_starts``: where the windows come
  from (index of each window's first value in the series; ``placement`` the placement used,
  ``[data] placement`` resolved — ``"auto"`` is ``"spread"`` for a real or user series, ``"first"``
  for a synthetic family: :func:`verification.data._windows.resolve_placement` — and
  ``placement_requested`` the key itself; ``coverage`` the part of the series from the first
  training value to the last, ``values_used`` the distinct values in a training window or target:
  :func:`verification.data._windows.window_coverage`);
  ``noise_var`` and ``noise_var_method`` (:class:`verification.data._datasets.Dataset`); for
  ``haar`` with independent windows and for a windows file, where there is no one series, the pooled
  lag-1 of the rows :math:`(x_i, y_i)`,
  :math:`\sum_i\sum_k (z_{ik}-\bar z)(z_{i,k+1}-\bar z) / \sum_i\sum_k (z_{ik}-\bar z)^2`,
  :math:`\bar z` the mean of every entry (``lag1_over = "windows"``);
* ``corr_y_xd``, ``sign_consistent_fraction`` (demeaned) and ``data_term_fraction`` at
  initialisation (width ``--width``, 256 by default; :math:`w_r(0) \sim N(0, \sigma^2)` from the
  first network seed of the configured seed, as the claims draw it);
* ``v_min``, ``B``, ``D`` (:func:`verification.training._bounds.data_constants`);
* ``lambda_min`` :math:`= \lambda_{\min}(H^*)` with ``lambda_error`` (its error bound) and
  ``lambda_resolution``, the float64 resolution :math:`n(e_{quad} + \epsilon\|H^*\|)`
  (:func:`verification.training._bounds.lambda_star` with ``extended=True``: below that resolution λ
  is recomputed in extended precision for n <= 64; ``lambda_precision`` says which).
"""

from __future__ import annotations

import jax
import numpy as np

from ntk_attention import data as ntk_data
from ntk_attention import init_params
from verification.contract import Context
from verification.data._datasets import needed_length
from verification.data._windows import placement_words, window_coverage
from verification.training import _bounds as bounds

__all__ = ["data_statistics", "pooled_lag1", "format_statistics"]


def pooled_lag1(X: np.ndarray, y: np.ndarray) -> float:
    r"""Pooled lag-1 autocorrelation of the rows :math:`z_i = (x_{i,1}, \dots, x_{i,d}, y_i)` (see
    the module docstring)."""
    Z = np.concatenate([np.asarray(X, np.float64), np.asarray(y, np.float64)[:, None]], axis=1)
    c = Z - Z.mean()
    den = float(np.sum(c * c))
    if not den > 0:
        raise ValueError(
            "X, y: every window entry and target is equal; the lag-1 autocorrelation is 0/0"
        )
    return float(np.sum(c[:, :-1] * c[:, 1:]) / den)


def data_statistics(config: dict, *, width: int = 256) -> dict:
    """The statistics of the module docstring for ``config`` (validated) as a JSON-able dict.

    Raises :class:`verification.data._sources.SourceError` for a source that cannot be read or is
    too short.
    """
    data = config["data"]
    n, d = int(data["n"]), int(data["d"])
    ctx = Context(config=config, seed=config["run"]["seed"], quiet=True)
    ds = ctx.dataset(n)
    X, y = np.asarray(ds.X, np.float64), np.asarray(ds.y, np.float64)
    series = np.asarray(ds.series, np.float64)
    whole = None if ds.whole_series is None else np.asarray(ds.whole_series, np.float64)
    one_series = whole is not None or (
        data["source"] == "haar" and data["windows"] == "sliding" and series.shape[0] == n + d
    )
    lag1 = (
        float(ntk_data.lag1_autocorrelation(whole if whole is not None else series))
        if one_series
        else pooled_lag1(X, y)
    )
    starts = list(ds.train_starts)
    consecutive = bool(starts) and starts == list(range(starts[0], starts[0] + n))
    lag1_training = (
        float(ntk_data.lag1_autocorrelation(whole[starts[0] : starts[0] + n + d]))
        if whole is not None and consecutive
        else None
    )
    cover = window_coverage(starts, len(whole), d) if whole is not None and starts else None
    seed = ctx.network_seeds(1)[0]
    params = init_params(jax.random.key(seed), width, sigma=data["sigma"])
    # the one λ* every command gives (extended where needed)
    lam, _ = ctx.lambda_star(n, sigma=data["sigma"])
    consts = bounds.data_constants(X, y)
    return {
        "source": data["source"],
        "length": int(ds.source_length),
        "preprocessing": ds.preprocessing,
        "d": d,
        "n": n,
        "offset": int(data["offset"]) if data["source"] != "haar" else None,
        "values_used": (
            cover["values_used"]
            if cover
            else (needed_length(data, n) if data["source"] != "haar" else None)
        ),
        "seed": int(ctx.seed),
        "lag1_autocorrelation": lag1,
        "lag1_over": "series" if one_series else "windows",
        "lag1_training": lag1_training,
        "placement": ds.placement if whole is not None else None,
        "placement_requested": data.get("placement", "first") if whole is not None else None,
        "coverage": cover["coverage"] if cover else None,
        "first_value": cover["first_value"] if cover else None,
        "last_value": cover["last_value"] if cover else None,
        "train_starts": starts,
        "test_starts": list(ds.test_starts),
        "noise_var": ds.noise_var,
        "noise_var_method": ds.noise_var_method,
        "corr_y_xd": float(ntk_data.corr_y_xd(X, y)),
        "sign_consistent_fraction": float(ntk_data.sign_consistent_fraction(X, y)),
        "data_term_fraction": float(ntk_data.data_term_fraction(params, X, y)),
        "data_term_width": int(width),
        "data_term_seed": int(seed),
        "v_min": consts["v_min"],
        "B": consts["B"],
        "D": consts["D"],
        "lambda_min": float(lam.value),
        "lambda_error": float(lam.resolution),
        "lambda_resolution": float(lam.float64_resolution),
        "lambda_resolved": bool(lam.resolved),
        "lambda_precision": lam.precision,
    }


def _positions(starts: list[int]) -> str:
    """``0..23`` for consecutive positions, ``0, 61, 122, …, 1991`` (first three, last)
    otherwise."""
    if starts == list(range(starts[0], starts[0] + len(starts))):
        return f"{starts[0]}..{starts[-1]}"
    return ", ".join(map(str, starts[:3])) + (f", …, {starts[-1]}" if len(starts) > 3 else "")


def format_statistics(stats: dict) -> str:
    """Plain-text lines of :func:`data_statistics`."""
    lines = [
        f"data source: {stats['source']} ({stats['preprocessing']})",
        f"length {stats['length']}; n = {stats['n']} windows of length d = {stats['d']}"
        + (f" from offset {stats['offset']}" if stats["offset"] is not None else "")
        + f"; seed {stats['seed']}",
    ]
    if stats.get("coverage") is not None:
        info = {k: stats[k] for k in ("placement", "coverage", "first_value", "last_value")}
        info.update(
            kind="synthetic" if stats["source"] in ntk_data.FAMILIES else "series",
            requested=stats["placement_requested"],
            windows=stats["n"],
            length=stats["length"],
        )
        lines.append(f"  windows: {placement_words(info)}")
    if stats.get("train_starts"):
        lines.append(
            f"  windows ({stats['placement']}): training windows start at "
            f"{_positions(stats['train_starts'])}"
            + (
                f"; test windows at {_positions(stats['test_starts'])}"
                if stats["test_starts"]
                else ""
            )
            + f" (0-based positions in the {stats['length']}-value series; a window and its target"
            f" span d + 1 = {stats['d'] + 1} values)"
        )
    for key, words in (
        ("lag1_autocorrelation", f"lag-1 autocorrelation (over the {stats['lag1_over']})"),
        ("corr_y_xd", "corr(y, x_d)"),
        ("sign_consistent_fraction", "sign-consistent fraction (demeaned)"),
        ("data_term_fraction", f"data-term fraction at t = 0 (width {stats['data_term_width']})"),
        ("v_min", "v_min"),
        ("B", "B = max |x_ik|"),
        ("D", "D = max |y_i|"),
    ):
        lines.append(f"  {words:<52} {stats[key]:.4g}")
        if key == "lag1_autocorrelation" and stats.get("lag1_training") is not None:
            lines.append(
                f"  {'lag-1 autocorrelation (the n + d training values)':<52} "
                f"{stats['lag1_training']:.4g}"
            )
    if stats.get("noise_var") is not None:
        lines.append(
            f"  {'noise variance sigma^2 (estimated)':<52} {stats['noise_var']:.4g} "
            f"({stats['noise_var_method']})"
        )
    lines.append(
        f"  {'lambda_min(H*) (' + stats['lambda_precision'] + ')':<52} {stats['lambda_min']:.4g} "
        f"± {stats['lambda_error']:.2g} (float64 resolution {stats['lambda_resolution']:.2g}; "
        f"{'resolved' if stats['lambda_resolved'] else 'NOT resolved'})"
    )
    return "\n".join(lines)
