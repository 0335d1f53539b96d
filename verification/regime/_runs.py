r"""The evidence of the regime maps: one long run per width and seed, recorded at log-spaced steps.

Every run is plain gradient descent (:func:`verification.training._longrun.train_long`: resumable,
one checkpoint per width and seed under ``checkpoint_dir``) from :func:`ntk_attention.init_params`
``(key(s), m, σ)`` with the seeds of :meth:`verification.contract.Context.network_seeds`, recorded
at :func:`record_times` (:math:`t = 0` and ``records`` log-spaced steps up to the horizon), so one
run gives every column of its row. The step size is a fraction of the stability limit,
:math:`\eta = \eta_{rel}\cdot 2/\lambda_{\max}(H^*)` (as ``[C2] eta_mode = "relative"``).

Per seed and record, the conclusion is an event (a run that diverged fails from where it stopped):

* C1 (Thm 5.2, random signs): :math:`L(t) \le \varepsilon`;
* C2 (Thm 5.2, random signs): the fractions
  :math:`\#\{a_r = \pm1, \pm w_r(t) > 0\}/\#\{a_r = \pm1\}` are both :math:`\ge 1-\delta` (a group
  of about m/2 neurons: at m = 16 one wrong sign in a group of 8 already misses 0.9; an empty group
  constrains nothing);
* C3 (Thm 5.3, every :math:`a_r = -1`): premise — :math:`w_r(t) < 0` for :math:`\ge 1-\delta` of
  the neurons; conclusion — of the neurons with :math:`w_r(t) < 0`, :math:`\ge 1-\delta` put the
  least data-averaged mass on the last position, :math:`\bar s_{r,d} \le \min_{k<d}\bar s_{r,k}`
  (``[C3]``'s neuron/every reading). Against :math:`|w_r|`: per seed and :math:`|w_r|` bin, the
  neurons with :math:`w_r(t) < 0` in the bin over every record (:math:`t = 0` included), the same
  :math:`\ge 1-\delta` event (a seed with no neuron in the bin does not count there).

:func:`build_maps` turns the counts into :class:`verification.regime._map.RegimeMap` s with the
premise curves of :func:`verification.training._bounds.theory`.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np
from jaxtyping import Float, Int
from tqdm import tqdm

from ntk_attention import Params, init_params, mean_attention_mass
from verification.config import MAP_CLAIMS  # the one list: [run] maps is validated against it
from verification.contract import Context
from verification.regime import _map as rmap
from verification.rules._verdict import HOLDS
from verification.training import _bounds as bounds
from verification.training._longrun import train_long
from verification.training._step_size import StepSize

__all__ = [
    "MapSettings",
    "MAP_CLAIMS",
    "record_times",
    "weight_edges",
    "first_order_scale",
    "build_maps",
    "check_settings",
]


class MapSettings(NamedTuple):
    """What a map runs: widths, seeds per width (:func:`verification.regime._map.seeds_for_holds` by
    default), horizon and records, η as a fraction of :math:`2/\\lambda_{\\max}(H^*)` (``eta`` for
    C1 and C2, ``eta_c3`` for C3: small, so that trained weights pass through every :math:`|w_r|` on
    their way), δ, α, C1's ε and the :math:`|w_r|` bin edges (``weight_bins`` log-spaced over
    ``weight_range``)."""

    widths: tuple = (16, 64, 256)
    seeds: int = 36
    horizon: int = 3000
    records: int = 12
    eta: float = 0.25
    eta_c3: float = 0.005
    delta: float = 0.1
    alpha: float = 0.05
    eps: float = 1e-3
    weight_range: tuple = (1e-2, 100.0)
    weight_bins: int = 16


def check_settings(s: MapSettings) -> MapSettings:
    """``s`` with widths as a tuple of ints, or ValueError naming the field, what was expected and
    what came."""
    w = tuple(int(m) for m in s.widths)
    if not w or any(m < 2 for m in w) or any(b <= a for a, b in zip(w, w[1:])):
        raise ValueError(
            f"widths: expected strictly increasing integers >= 2, got {list(s.widths)}"
        )
    if not (isinstance(s.seeds, int) and 1 <= s.seeds <= 1024):
        raise ValueError(f"seeds: expected an integer in [1, 1024], got {s.seeds!r}")
    if not (1 <= s.horizon <= 10**8):
        raise ValueError(f"horizon: expected a number of steps in [1, 1e8], got {s.horizon!r}")
    if not (2 <= s.records <= 200):
        raise ValueError(f"records: expected an integer in [2, 200], got {s.records!r}")
    for name in ("eta", "eta_c3", "eps"):
        v = getattr(s, name)
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name}: expected a finite number > 0, got {v!r}")
    for name in ("delta", "alpha"):
        if not 0 < getattr(s, name) < 1:
            raise ValueError(f"{name}: expected a number in (0, 1), got {getattr(s, name)!r}")
    lo, hi = s.weight_range
    if not (0 < lo < hi and math.isfinite(hi)) or s.weight_bins < 1:
        raise ValueError(
            "weight_range, weight_bins: expected 0 < lo < hi and at least one bin, "
            f"got {s.weight_range}, {s.weight_bins}"
        )
    return s._replace(widths=w, horizon=int(s.horizon))


def record_times(horizon: int, records: int) -> Int[np.ndarray, " R"]:
    r"""0 and ``records`` log-spaced steps from 1 to ``horizon``:
    :math:`\{0\} \cup \{\mathrm{round}(T^{j/(R-1)})\}_{j<R}` (strictly increasing, last = T)."""
    return np.unique(
        np.concatenate([[0], np.geomspace(1, horizon, records).round().astype(np.int64), [horizon]])
    )


def weight_edges(s: MapSettings) -> Float[np.ndarray, " B1"]:
    r"""Bin edges of :math:`|w_r|`: :math:`a (b/a)^{j/K}`, :math:`j = 0..K`, over ``weight_range``
    :math:`[a, b]`, K = ``weight_bins``."""
    return np.geomspace(*s.weight_range, s.weight_bins + 1)


def first_order_scale(X: Float[np.ndarray, "n d"]) -> float:
    r"""The :math:`|w|` below which the softmax is first-order in :math:`w`:
    :math:`1/\mathrm{median}_i(|x_{i,d}|\,(\max_k x_{i,k} - \min_k x_{i,k}))` (docs/theory.md:
    :math:`V(x; w)` changes on the scale :math:`1/(|x_d|\,\mathrm{range}(x))`). A diagnostic, not a
    premise."""
    X = np.asarray(X, np.float64)
    return float(1.0 / np.median(np.abs(X[:, -1]) * (X.max(axis=1) - X.min(axis=1))))


def _run_key(X, y, *, m, seed, signs, eta, sigma, rec) -> str:
    h = hashlib.sha256(repr((m, seed, signs, float(eta), float(sigma), rec.tolist())).encode())
    h.update(np.ascontiguousarray(np.asarray(X, np.float64)).tobytes())
    h.update(np.ascontiguousarray(np.asarray(y, np.float64)).tobytes())
    return h.hexdigest()[:16]


def _pad(x, R, fill):
    x = np.asarray(x, np.float64)
    return (
        np.concatenate([x, np.full((R - x.shape[0], *x.shape[1:]), fill)]) if x.shape[0] < R else x
    )


def _runs(X, y, *, widths, seeds, rec, eta, sigma, signs, checkpoint_dir, bar, measure):
    """``measure(run, params_at)`` for every width and seed: a list (widths) of lists (seeds)."""
    if checkpoint_dir is not None:
        Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
    out = []
    for m in widths:
        row = []
        for s in seeds:
            p = init_params(jax.random.key(s), m, sigma=sigma, output_signs=signs)
            ck = None
            if checkpoint_dir is not None:
                key = _run_key(X, y, m=m, seed=s, signs=signs, eta=eta, sigma=sigma, rec=rec)
                ck = Path(checkpoint_dir) / f"{signs}-m{m}-s{s}-{key}.npz"
            run = train_long(
                p, X, y, record_at=rec, learning_rate=eta, checkpoint=ck, progress=False
            )
            row.append(measure(run, p.a))
            bar.update(1)
        out.append(row)
    return out


def _c12_measure(R):
    def measure(run, a):
        # an empty group (tiny m) constrains nothing: its agreement counts as 1
        plus = _pad(
            run.sign_agree_plus / run.n_plus if run.n_plus else np.ones(len(run.step)), R, np.nan
        )
        minus = _pad(
            run.sign_agree_minus / run.n_minus if run.n_minus else np.ones(len(run.step)), R, np.nan
        )
        return _pad(run.loss, R, np.nan), plus, minus

    return measure


def _c3_measure(X, R, edges, target):
    def measure(run, a):
        W = np.asarray(run.weights, np.float64)  # (R', m)
        M = np.stack(
            [np.asarray(mean_attention_mass(Params(jax.numpy.asarray(w), a), X)) for w in W]
        )  # (R', m, d)
        neg = W < 0
        least = M[..., -1] <= M[..., :-1].min(axis=-1) + 1e-12
        frac_neg = neg.mean(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac_ok = (neg & least).sum(axis=1) / neg.sum(axis=1)
        premise = _pad(frac_neg >= target, R, False).astype(bool)
        concl = _pad(np.nan_to_num(frac_ok, nan=0.0) >= target, R, False).astype(bool)
        w_abs, n_, ok_ = np.abs(W).ravel(), neg.ravel(), least.ravel()
        b = np.digitize(w_abs, edges) - 1
        inside = n_ & (b >= 0) & (b < edges.size - 1)
        visits = np.bincount(b[inside], minlength=edges.size - 1)
        oks = np.bincount(b[inside], weights=ok_[inside], minlength=edges.size - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            bin_ok = np.where(visits > 0, oks / np.maximum(visits, 1) >= target, False)
        return premise, concl, visits > 0, bin_ok, int(n_.sum() - inside.sum())

    return measure


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
            got = _runs(
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
                measure=_c12_measure(R),
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
            got = _runs(
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
                measure=_c3_measure(X, R, edges, target),
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
