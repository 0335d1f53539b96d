"""The result of a width × seed sweep: :class:`SweepResult` (records indexed width × seed × step),
its fields' meaning (:data:`ARRAYS`), joining blocks (:func:`concatenate`) and loading a saved one
(:func:`load`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from jaxtyping import Float, Int

from ntk_attention.sweep.plan import _check_seeds

__all__ = [
    "RECORD_FIELDS",
    "SweepResult",
    "SavedSweep",
    "ARRAYS",
    "load",
    "header_attrs",
    "concatenate",
    "ntk_infinite_tolerance",
]


RECORD_FIELDS = (
    "loss",
    "sign_agree_plus",
    "sign_agree_minus",
    "last_token_mass",
    "ntk_change",
    "ntk_min_eigenvalue",
    "max_weight_change",
)
"""Fields of :class:`SweepResult` recorded at every recorded step, shape (W, S, R)."""


class SweepResult(NamedTuple):
    r"""A sweep's records as numpy arrays, indexed width × seed × recorded step.

    ``widths`` (W,), ``seeds`` (S,), ``step`` (R,); every name in :data:`RECORD_FIELDS` is
    (W, S, R) (counts are int64); ``n_plus``, ``n_minus`` (W, S) :math:`\#\{a_r = \pm1\}`;
    ``diverged_step`` (W, S) as in :class:`ntk_attention.Trajectory` (-1 if none);
    ``ntk_initial`` (W, S, n, n) :math:`H(0)`; ``ntk_infinite_distance`` (W, S)
    :math:`\|H(0) - H^*\|_2`; ``ntk_infinite`` (n, n) :math:`H^*` and ``ntk_infinite_error`` its
    quadrature error estimate (see :func:`ntk_attention.infinite_ntk`).
    """

    widths: Int[np.ndarray, " W"]
    seeds: Int[np.ndarray, " S"]
    step: Int[np.ndarray, " R"]
    loss: Float[np.ndarray, "W S R"]
    sign_agree_plus: Int[np.ndarray, "W S R"]
    sign_agree_minus: Int[np.ndarray, "W S R"]
    last_token_mass: Float[np.ndarray, "W S R"]
    ntk_change: Float[np.ndarray, "W S R"]
    ntk_min_eigenvalue: Float[np.ndarray, "W S R"]
    max_weight_change: Float[np.ndarray, "W S R"]
    n_plus: Int[np.ndarray, "W S"]
    n_minus: Int[np.ndarray, "W S"]
    diverged_step: Int[np.ndarray, "W S"]
    ntk_initial: Float[np.ndarray, "W S n n"]
    ntk_infinite_distance: Float[np.ndarray, "W S"]
    ntk_infinite: Float[np.ndarray, "n n"]
    ntk_infinite_error: float

    def to_xarray(self, *, windows=None, targets=None, attrs=None):
        """An :class:`xarray.Dataset` with dimensions width, seed, step, i, j (coordinates: the
        widths, seeds and steps) and each field's meaning from :data:`ARRAYS` as its ``description``
        attribute; ``sign_agree_*_fraction`` (counts over ``n_plus``/``n_minus``) added; the
        training ``windows`` (i, token) and ``targets`` (i) as variables and ``attrs`` (scalars,
        strings, arrays) as the dataset's attributes when given (:func:`load` gives them from the
        sweep's files), so a NetCDF/Zarr file of it describes itself. Needs xarray
        (``pip install "ntk-attention[xarray]"``)."""
        try:
            import xarray as xr
        except ImportError:  # pragma: no cover - xarray is optional
            raise ImportError(
                "to_xarray: expected the optional package xarray to be installed "
                "(pip install 'ntk-attention[xarray]')"
            ) from None
        coords = {
            "width": np.asarray(self.widths),
            "seed": np.asarray(self.seeds),
            "step": np.asarray(self.step),
        }
        data = {}
        for k, (dims, text) in ARRAYS.items():
            if len(dims) == 1 and dims[0] in coords:  # widths, seeds, step are the coordinates
                continue
            data[k] = xr.DataArray(
                np.asarray(getattr(self, k)), dims=dims, attrs={"description": text}
            )
        for side in ("plus", "minus"):
            total = np.asarray(getattr(self, f"n_{side}"), np.float64)[..., None]
            with np.errstate(invalid="ignore", divide="ignore"):
                frac = np.where(
                    total > 0,
                    np.asarray(getattr(self, f"sign_agree_{side}")) / np.maximum(total, 1),
                    np.nan,
                )
            data[f"sign_agree_{side}_fraction"] = xr.DataArray(
                frac,
                dims=("width", "seed", "step"),
                attrs={
                    "description": (
                        f"sign_agree_{side} / n_{side}, a fraction in [0, 1]; NaN when n_{side} = 0"
                    )
                },
            )
        if windows is not None:
            data["windows"] = xr.DataArray(
                np.asarray(windows),
                dims=("i", "token"),
                attrs={"description": "the n training windows x_i"},
            )
        if targets is not None:
            data["targets"] = xr.DataArray(
                np.asarray(targets), dims=("i",), attrs={"description": "the targets y_i"}
            )
        return xr.Dataset(data, coords=coords, attrs=dict(attrs or {}))


class SavedSweep(SweepResult):
    """A :class:`SweepResult` read by :func:`load`, carrying the training ``windows`` and
    ``targets`` and the configuration as flat ``attrs`` (``"sweep.steps"``, ``"data.source"``,
    ``"learning_rate"``, ``"version.jax"`` …), which :meth:`to_xarray` puts into the dataset."""

    def to_xarray(self):
        return SweepResult.to_xarray(
            self, windows=self.windows, targets=self.targets, attrs=self.attrs
        )


def _attr_value(v):
    """A value netCDF can hold: numbers and strings as they are, booleans as 0/1, lists of numbers
    as arrays, anything else as JSON text."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float, str)):
        return v
    if (
        isinstance(v, list)
        and v
        and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
    ):
        return np.asarray(v)
    return json.dumps(v)


def header_attrs(head: dict) -> dict:
    """Flat attributes of a sweep header (``sweep.json``): each configuration key as
    ``section.key``, the step size η, the seeds, the format and fingerprint, and
    ``version.<package>`` of the environment."""
    out = {
        k: _attr_value(head[k])
        for k in ("format", "fingerprint", "learning_rate", "seeds")
        if k in head
    }
    for sec, body in (head.get("config") or {}).items():
        for key, value in body.items():
            out[f"{sec}.{key}"] = _attr_value(value)
    env = head.get("environment") or {}
    for pkg, version in (env.get("packages") or {}).items():
        out[f"version.{pkg}"] = str(version)
    if "python" in env:
        out["version.python"] = str(env["python"])
    return out


def load(path) -> SavedSweep:
    r"""A :class:`SweepResult` (a :class:`SavedSweep`) from an ``.npz`` file holding its fields
    (``sweep.npz`` of ``ntk-verify sweep``): e.g. ``loss[w, s, r]``
    :math:`= L_{m_w, s}(t_r) = \frac12\sum_i (f(x_i) - y_i)^2`; with its ``windows`` and ``targets``
    when the file holds them and, from ``sweep.json`` beside it, the configuration as ``attrs``
    (:func:`header_attrs`). Nothing is unpickled."""
    with np.load(path, allow_pickle=False) as npz:
        missing = [k for k in SweepResult._fields if k not in npz.files]
        if missing:
            raise ValueError(
                f"path: expected an .npz with every SweepResult field, {path} lacks {missing}"
            )
        fields = {k: npz[k] for k in SweepResult._fields}
        extra = {k: (npz[k] if k in npz.files else None) for k in ("windows", "targets")}
    fields["ntk_infinite_error"] = float(fields["ntk_infinite_error"])
    out = SavedSweep(**fields)
    out.windows, out.targets = extra["windows"], extra["targets"]
    header = Path(path).with_name("sweep.json")
    try:
        out.attrs = header_attrs(json.loads(header.read_text(encoding="utf-8")))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError, AttributeError, TypeError):
        out.attrs = {}  # a bare .npz (or an unreadable header): the arrays alone
    return out


ARRAYS: dict[str, tuple[tuple[str, ...], str]] = {
    "widths": (("width",), "network width m (neurons)"),
    "seeds": (
        ("seed",),
        "network seed s: run (m, s) starts from init_params(jax.random.key(s), max(widths))[:m]",
    ),
    "step": (("step",), "gradient-descent step t of each record"),
    "loss": (
        ("width", "seed", "step"),
        "L(w(t)) = 1/2 sum_i (f(x_i) - y_i)^2 (a sum over the n windows, not a mean)",
    ),
    "sign_agree_plus": (
        ("width", "seed", "step"),
        "count of neurons with a_r = +1 and w_r(t) > 0 (out of n_plus)",
    ),
    "sign_agree_minus": (
        ("width", "seed", "step"),
        "count of neurons with a_r = -1 and w_r(t) < 0 (out of n_minus)",
    ),
    "last_token_mass": (
        ("width", "seed", "step"),
        "attention on the last token, mean over neurons and windows",
    ),
    "ntk_change": (("width", "seed", "step"), "||H(t) - H(0)||_2, spectral norm, units of H"),
    "ntk_min_eigenvalue": (("width", "seed", "step"), "lambda_min(H(t)), units of H"),
    "max_weight_change": (("width", "seed", "step"), "max_r |w_r(t) - w_r(0)|, units of w"),
    "n_plus": (("width", "seed"), "count of neurons with a_r = +1"),
    "n_minus": (("width", "seed"), "count of neurons with a_r = -1"),
    "diverged_step": (
        ("width", "seed"),
        "first step whose loss is non-finite or above divergence_factor * L(0); -1 if none",
    ),
    "ntk_initial": (("width", "seed", "i", "j"), "H(0) = J J^T over windows i, j"),
    "ntk_infinite_distance": (("width", "seed"), "||H(0) - H*||_2, spectral norm, units of H"),
    "ntk_infinite": (("i", "j"), "H*, the infinite-width NTK (float64 quadrature)"),
    "ntk_infinite_error": ((), "quadrature error estimate of H* (max over entries)"),
}
"""Dimensions and meaning (with units) of every :class:`SweepResult` field, for files and xarray."""


_PER_SWEEP = ("widths", "step", "ntk_infinite", "ntk_infinite_error")


def ntk_infinite_tolerance(a: SweepResult, b: SweepResult) -> float:
    r"""How far two computations of the same :math:`H^*` may differ entrywise: the sum of their
    quadrature error estimates plus :math:`16\,n\,\epsilon\,\max|H^*|` of rounding (BLAS, XLA and
    numpy's SIMD paths round differently between CPUs, so blocks from two hosts differ in the last
    bits; docs/reliability.md)."""
    H = np.asarray(a.ntk_infinite, np.float64)
    eps = np.finfo(np.float64).eps
    return (
        float(a.ntk_infinite_error)
        + float(b.ntk_infinite_error)
        + 16 * H.shape[-1] * eps * float(np.abs(H).max(initial=0.0))
    )


def concatenate(results: Sequence[SweepResult]) -> SweepResult:
    """Join blocks of one sweep along the seed axis (in the given order).

    Blocks must agree exactly on widths and recorded steps, and on :math:`H^*` within
    :func:`ntk_infinite_tolerance` (blocks computed on other hosts differ in its last bits); a
    mismatch raises ValueError naming the field and both values. The joined :math:`H^*` is block
    0's, its error estimate the largest of the blocks'.
    """
    results = list(results)
    if not results:
        raise ValueError("results: expected at least one SweepResult, got none")
    first = results[0]
    for i, res in enumerate(results[1:], 1):
        for k in ("widths", "step"):
            a, b = getattr(first, k), getattr(res, k)
            if not np.array_equal(a, b):
                raise ValueError(
                    f"results: block {i} has {k} = {b.tolist()}, block 0 has {a.tolist()}; "
                    "not one sweep"
                )
        a, b = np.asarray(first.ntk_infinite, np.float64), np.asarray(res.ntk_infinite, np.float64)
        if a.shape != b.shape:
            raise ValueError(
                f"results: block {i} has ntk_infinite of shape {b.shape}, block 0 {a.shape}; "
                "not one sweep"
            )
        gap, tol = float(np.abs(a - b).max(initial=0.0)), ntk_infinite_tolerance(first, res)
        if not gap <= tol:
            raise ValueError(
                f"results: block {i}'s ntk_infinite differs from block 0's by {gap:.3g} "
                "(max entry), "
                f"beyond their quadrature errors and rounding {tol:.3g}; not one sweep"
            )
    joined = {k: getattr(first, k) for k in _PER_SWEEP}
    joined["ntk_infinite_error"] = max(float(r.ntk_infinite_error) for r in results)
    joined["seeds"] = np.concatenate([r.seeds for r in results])
    for k in SweepResult._fields:
        if k not in joined:
            joined[k] = np.concatenate([getattr(r, k) for r in results], axis=1)
    _check_seeds(list(joined["seeds"]))
    return SweepResult(**joined)
