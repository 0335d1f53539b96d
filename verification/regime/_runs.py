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

:func:`verification.regime._build.build_maps` turns the counts into
:class:`verification.regime._map.RegimeMap` s with the premise curves of
:func:`verification.training._bounds.theory`.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np
from jaxtyping import Float, Int

from ntk_attention import Params, init_params, mean_attention_mass
from verification.config import MAP_CLAIMS  # the one list: [run] maps is validated against it
from verification.training._longrun import train_long

__all__ = [
    "MapSettings",
    "MAP_CLAIMS",
    "record_times",
    "weight_edges",
    "first_order_scale",
    "check_settings",
    "run_grid",
    "c12_measure",
    "c3_measure",
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


def run_grid(X, y, *, widths, seeds, rec, eta, sigma, signs, checkpoint_dir, bar, measure):
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


def c12_measure(R):
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


def c3_measure(X, R, edges, target):
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
