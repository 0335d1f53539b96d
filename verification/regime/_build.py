r"""Regime maps from their runs: :func:`build_maps` trains the grid of widths × seeds once
(:func:`verification.regime._runs.run_grid`), decides every cell (:mod:`verification.regime._map`)
and draws the theorem's premise curves (:func:`verification.training._bounds.theory`) on the same
axes, for each of C1, C2 and C3.
"""

from __future__ import annotations

import math

import numpy as np
from tqdm import tqdm

from verification.config import MAP_CLAIMS  # the one list: [run] maps is validated against it
from verification.contract import Context
from verification.regime import _map as rmap
from verification.regime._runs import (
    MapSettings,
    c3_measure,
    c12_measure,
    check_settings,
    first_order_scale,
    record_times,
    run_grid,
    weight_edges,
)
from verification.rules._verdict import HOLDS
from verification.training import _bounds as bounds
from verification.training._step_size import StepSize

__all__ = ["build_maps"]


def _theory(X, y, s: MapSettings, sigma, constants, fraction: float):
    """:func:`verification.training._bounds.theory` at width 1 for :math:`\\eta = ` ``fraction`` ·
    :math:`2/\\lambda_{\\max}(H^*)`; returns ``(theory, η)``."""
    kw = dict(delta=s.delta, eps=s.eps, sigma=sigma, width=1, constants=constants)
    lam_max = bounds.theory(np.asarray(X), np.asarray(y), eta=1.0, **kw).lam.norm
    eta = StepSize(fraction, "relative").resolve(lam_max)
    return bounds.theory(np.asarray(X), np.asarray(y), eta=eta, **kw), eta


def _axes(s, rec, edges=None):
    axes = {
        "m": {"values": list(s.widths), "unit": "neurons", "label": "width m"},
        "t": {
            "values": rec.tolist(),
            "unit": "gradient-descent steps",
            "label": "step t (0 drawn at 0.5)",
        },
    }
    if edges is not None:
        axes["abs_w"] = {
            "values": edges.tolist(),
            "unit": "|w_r| (the scalar query-key weight, dimensionless)",
            "label": "|w_r| bin edges",
            "kind": "edges",
        }
    return axes


def _lam_words(th) -> dict:
    return {
        "lambda": th.lam.value,
        "lambda_resolution": th.lam.resolution,
        "lambda_precision": th.lam.precision,
        "lambda_resolved": th.lam.resolved,
    }


def build_maps(
    config: dict, claims, s: MapSettings, *, checkpoint_dir=None, quiet: bool = True
) -> list:
    """The regime maps of ``claims`` (of :data:`MAP_CLAIMS`) on ``config``'s data (``[data]``,
    ``[run] seed``).

    C1 and C2 share their runs (random output signs); C3 trains its own (every :math:`a_r = -1`).
    Constants :math:`c_T`, :math:`c_A` come from ``[C1]``/``[C2]``
    (:func:`verification.training._bounds.configured_constants`).
    """
    s = check_settings(s)
    bad = [c for c in claims if c not in MAP_CLAIMS]
    if bad or not claims:
        raise ValueError(f"claims: expected some of {', '.join(MAP_CLAIMS)}, got {list(claims)}")
    ctx = Context(config=config, seed=config["run"]["seed"], quiet=quiet)
    ds = ctx.dataset(config["data"]["n"])
    X, y = ds.X, ds.y
    sigma = config["data"]["sigma"]
    constants = bounds.configured_constants(config)
    th, eta = _theory(X, y, s, sigma, constants, s.eta)
    rec = record_times(s.horizon, s.records)
    R = rec.size
    seeds = ctx.network_seeds(s.seeds)
    target = 1 - s.delta
    W = np.asarray(s.widths, np.float64)
    dc = th.data
    scale = (
        f"m ∈ {{{', '.join(map(str, s.widths))}}}, t ≤ {s.horizon:g} "
        f"({R} records: 0 and log-spaced), {s.seeds} seeds "
        f"per width, data {config['data']['source']} (n = {dc['n']}, d = {dc['d']}), η = {eta:.3g} "
        f"({s.eta:g} · 2/λ_max(H*)), δ = {s.delta:g}"
    )
    kw = dict(delta=s.delta, alpha=s.alpha)
    out = []
    need12 = [c for c in claims if c in ("C1", "C2")]
    total = len(s.widths) * len(seeds) * (bool(need12) + ("C3" in claims))
    bar = tqdm(total=total, desc="ntk-verify map", disable=quiet, leave=False, dynamic_ncols=True)
    try:
        if need12:
            got = run_grid(
                X,
                y,
                widths=s.widths,
                seeds=seeds,
                rec=rec,
                eta=eta,
                sigma=sigma,
                signs="random",
                checkpoint_dir=checkpoint_dir,
                bar=bar,
                measure=c12_measure(R),
            )
            loss = np.array([[g[0] for g in row] for row in got])  # (W, S, R)
            plus = np.array([[g[1] for g in row] for row in got])
            minus = np.array([[g[2] for g in row] for row in got])
            S = np.full((len(s.widths), R), len(seeds), np.int64)
            if "C1" in claims:
                fail = (~(loss <= s.eps)).sum(axis=1)
                p = rmap.panel("m", "t", s.widths, rec.tolist(), fail, S, **kw)
                T_req = th.get("T_req")
                prem = {
                    "curves": {
                        "T_req": {
                            "axis": "t",
                            "per": "m",
                            "values": [T_req] * len(s.widths),
                            "formula": "c_T (ηλ)^-1 log(n B² / ε)",
                            "c_T": constants["c_T"],
                        }
                    },
                    **_lam_words(th),
                    "eta": eta,
                    "eps": s.eps,
                }
                loose = rmap.looseness(
                    s.widths,
                    [p.boundary["per_row"][str(m)]["onset"] for m in s.widths],
                    T_req,
                    constant=constants["c_T"],
                    name="T_req",
                    constant_name="c_T",
                )
                verdict = rmap.horizon_verdict(fail[:, -1], S[:, -1], **kw)
                out.append(
                    rmap.RegimeMap(
                        "C1",
                        f"L(t) ≤ ε = {s.eps:g} (Thm 5.2)",
                        _axes(s, rec),
                        {"t": p},
                        prem,
                        loose,
                        verdict,
                        scale,
                    )
                )
            if "C2" in claims:
                ok = (plus >= target) & (minus >= target)
                fail = (~ok).sum(axis=1)
                p = rmap.panel("m", "t", s.widths, rec.tolist(), fail, S, **kw)
                t_align = th.get("t_align") * W
                prem = {
                    "curves": {
                        "t_align": {
                            "axis": "t",
                            "per": "m",
                            "values": t_align.tolist(),
                            "formula": "c_A m / (ηλ v_min)",
                            "c_A": constants["c_A"],
                        }
                    },
                    **_lam_words(th),
                    "eta": eta,
                    "v_min": dc["v_min"],
                }
                loose = rmap.looseness(
                    s.widths,
                    [p.boundary["per_row"][str(m)]["onset"] for m in s.widths],
                    t_align,
                    constant=constants["c_A"],
                    name="t_align",
                    constant_name="c_A",
                )
                verdict = rmap.horizon_verdict(fail[:, -1], S[:, -1], **kw)
                diag = {
                    "agreement_plus_at_horizon": np.nanmean(plus[..., -1], axis=1).tolist(),
                    "agreement_minus_at_horizon": np.nanmean(minus[..., -1], axis=1).tolist(),
                }
                verdict = dict(verdict, mean_agreement_at_horizon=diag)
                out.append(
                    rmap.RegimeMap(
                        "C2",
                        f"Pr[sign w_r(t) = a_r] ≥ 1-δ = {target:g} in both groups (Thm 5.2)",
                        _axes(s, rec),
                        {"t": p},
                        prem,
                        loose,
                        verdict,
                        scale,
                    )
                )
        if "C3" in claims:
            edges = weight_edges(s)
            th3, eta3 = _theory(X, y, s, sigma, constants, s.eta_c3)
            got = run_grid(
                X,
                y,
                widths=s.widths,
                seeds=seeds,
                rec=rec,
                eta=eta3,
                sigma=sigma,
                signs="minus",
                checkpoint_dir=checkpoint_dir,
                bar=bar,
                measure=c3_measure(X, R, edges, target),
            )
            scale3 = scale.replace(f"η = {eta:.3g} ({s.eta:g} ·", f"η = {eta3:.3g} ({s.eta_c3:g} ·")
            out.append(_c3_map(got, s, rec, edges, th3, eta3, constants, scale3, X, len(seeds)))
    finally:
        bar.close()
    need = rmap.seeds_for_holds(s.delta, s.alpha)
    for m in out:  # where a cell cannot read HOLDS for want of seeds, say how many it would take
        m.verdict["budget"] = (
            f"a cell reads HOLDS only with no failure among ≥ {need} seeds (Clopper–Pearson upper "
            f"end ≤ δ = {s.delta:g} at α = {s.alpha:g}); {s.seeds} per width were run"
            + ("" if s.seeds >= need else f": no cell can read HOLDS, run --seeds {need}")
            + "; cells visited by fewer seeds (C3's sparse |w_r| bins) stay INCONCLUSIVE at best"
        )
    return out


def _c3_map(got, s, rec, edges, th, eta, constants, scale, X, n_seeds):
    kw = dict(delta=s.delta, alpha=s.alpha)
    target = 1 - s.delta
    prem_ok = np.array([[g[0] for g in row] for row in got])  # (W, S, R)
    concl_ok = np.array([[g[1] for g in row] for row in got])
    visited = np.array([[g[2] for g in row] for row in got])  # (W, S, B)
    bin_ok = np.array([[g[3] for g in row] for row in got])
    outside = int(sum(g[4] for row in got for g in row))
    S = np.full(prem_ok.shape[::2], n_seeds, np.int64)
    gate, _, _ = rmap.cell_statuses((~prem_ok).sum(axis=1), S, **kw)
    fail = (~concl_ok).sum(axis=1)
    pt = rmap.panel(
        "m",
        "t",
        s.widths,
        rec.tolist(),
        fail,
        S,
        gate=gate,
        note=f"VACUOUS: the premise w_r(t) < 0 for ≥ {target:g} of the neurons is not met there",
        **kw,
    )
    ungated = rmap.panel("m", "t", s.widths, rec.tolist(), fail, S, **kw)
    pt.boundary["ungated_diagnostic"] = {
        "words": (
            "the conclusion on the neurons with w_r(t) < 0 whether or not the premise is met there "
            "(a diagnostic)"
        ),
        **{k: v for k, v in ungated.boundary.items()},
    }
    runs_w = visited.sum(axis=1)
    fail_w = (visited & ~bin_ok).sum(axis=1)
    pw = rmap.panel(
        "m",
        "abs_w",
        s.widths,
        edges[1:].tolist(),
        fail_w,
        runs_w,
        note=(
            "columns: upper edges of |w_r| bins (neurons with w_r(t) < 0, every record pooled); "
            f"VACUOUS: no seed has a neuron there; {outside} neuron-records outside "
            f"[{edges[0]:g}, {edges[-1]:g}]"
        ),
        **kw,
    )
    W = np.asarray(s.widths, np.float64)
    t_align = th.get("t_align") * W
    m_conc, eta_thm = th.get("m_conc"), th.get("eta_thm_degree1")
    w1 = first_order_scale(X)
    prem = {
        "curves": {
            "t_align": {
                "axis": "t",
                "per": "m",
                "values": t_align.tolist(),
                "formula": "c_A m / (ηλ v_min)",
                "c_A": constants["c_A"],
            },
            "m_conc": {
                "axis": "m",
                "value": m_conc,
                "formula": (
                    "32 K log(2n/δ)(‖H*‖ + λ/12)/λ² "
                    "(matrix Bernstein: ‖H(0) − H*‖ ≤ λ/4, the kernel regime)"
                ),
            },
            "first_order_w": {
                "axis": "abs_w",
                "value": w1,
                "formula": (
                    "1 / median_i(|x_i,d| range(x_i)) (where V(x; w) starts to bend; diagnostic)"
                ),
            },
        },
        "eta": eta,
        "eta_thm_degree1": eta_thm,
        **_lam_words(th),
        "v_min": th.data["v_min"],
    }
    loose = rmap.looseness(
        s.widths,
        [pt.boundary["per_row"][str(m)]["onset"] for m in s.widths],
        t_align,
        constant=constants["c_A"],
        name="t_align",
        constant_name="c_A",
    )
    loose["kernel_regime_width_decades"] = (
        math.log10(m_conc / max(s.widths)) if math.isfinite(m_conc) and m_conc > 0 else None
    )
    loose["step_size_decades"] = math.log10(eta / eta_thm) if eta_thm > 0 else None
    until = pw.boundary["holds_until_every_row"]
    loose["abs_w_boundary_over_first_order"] = None if until is None else math.log10(until / w1)
    last_gate = HOLDS if np.all(gate[:, -1] == HOLDS) else "not met"
    verdict = rmap.horizon_verdict(fail[:, -1], S[:, -1], gate=last_gate, **kw)
    verdict["abs_w_boundary"] = until
    return rmap.RegimeMap(
        "C3",
        f"of the neurons with w_r(t) < 0, ≥ 1-δ = {target:g} attend least to the last position "
        "(Thm 5.3, every a_r = -1)",
        _axes(s, rec, edges),
        {"t": pt, "abs_w": pw},
        prem,
        loose,
        verdict,
        scale,
    )
