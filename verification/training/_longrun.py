"""Long training runs (10^5-10^7 steps) in segments, with a progress bar and resumable checkpoints.

:func:`ntk_attention.train` with ``record_at`` runs any number of steps in one compiled program;
this leaf module cuts a long run into segments of ``segment_steps``, saves the state and the records
after each segment to one ``.npz`` (written atomically: a temporary file in the same folder, then
``os.replace``), and resumes from it when called again with the same inputs. Plain gradient descent
only (its state is the weights: nothing else to checkpoint). Imports nothing from ``verification``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from tqdm import tqdm  # text bars: tqdm.auto warns in kernels without ipywidgets

from ntk_attention import Params, forward, train
from ntk_attention.train import NEURON_RECORD_LIMIT
from verification.files import atomic_write, npz_bytes

__all__ = ["LongRun", "train_long"]

_FIELDS = ("step", "loss", "weight_mean", "weight_std", "sign_agree_plus", "sign_agree_minus")


class LongRun(NamedTuple):
    """Records of :func:`train_long` at the requested steps (R of them; fewer if training diverged).

    ``step``, ``loss``, ``weight_mean``, ``weight_std``, ``sign_agree_plus``, ``sign_agree_minus``
    (R,) as in :class:`ntk_attention.Trajectory`; ``weights`` (R, m) or ``None`` (m above
    ``NEURON_RECORD_LIMIT``); ``params`` the last state; ``diverged_step`` (-1 if none);
    ``resumed_from`` the step a checkpoint restarted from (0 for a fresh run).
    """

    step: np.ndarray
    loss: np.ndarray
    weight_mean: np.ndarray
    weight_std: np.ndarray
    sign_agree_plus: np.ndarray
    sign_agree_minus: np.ndarray
    n_plus: int
    n_minus: int
    weights: np.ndarray | None
    params: Params
    diverged_step: int
    resumed_from: int


def _atomic_savez(path: Path, arrays: dict) -> None:
    """:func:`verification.files.npz_bytes` through :func:`verification.files.atomic_write`
    (never a torn file)."""
    atomic_write(path, npz_bytes(arrays))


def _fingerprint(*arrays, extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a))
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def train_long(
    params: Params,
    X,
    y,
    *,
    record_at,
    learning_rate: float,
    checkpoint: str | os.PathLike | None = None,
    segment_steps: int = 100_000,
    progress: bool = True,
    divergence_factor: float = 1e8,
    chunk_size: int | None = None,
) -> LongRun:
    r"""Gradient descent :math:`w(t+1) = w(t) - \eta J^\top(f - y)` up to ``record_at[-1]``,
    recorded at ``record_at``.

    Runs :func:`ntk_attention.train` segment by segment (each at most ``segment_steps`` steps,
    one compiled program per distinct number of records in a segment). With ``checkpoint`` (a
    ``.npz`` path) the state and records are saved after every segment, and a later call with
    the same ``params``, ``X``, ``y``, ``record_at`` and ``learning_rate`` resumes where it
    stopped; a checkpoint written for other inputs is refused. Divergence is judged against
    :math:`L(0)` of the whole run (``divergence_factor`` :math:`\times L(0)`); training stops
    at the segment where it happened and the records end there.
    """
    rec = np.asarray(record_at)
    if (
        rec.ndim != 1
        or rec.size < 1
        or not np.issubdtype(rec.dtype, np.number)
        or np.any(rec != np.round(rec))
    ):
        raise ValueError(
            "record_at: expected a non-empty 1-D array of whole step numbers, "
            f"got {record_at!r:.80}"
        )
    rec = rec.astype(np.int64)
    if np.any(np.diff(rec) <= 0) or rec[0] < 0 or rec[-1] < 1:
        raise ValueError(
            "record_at: expected strictly increasing steps >= 0 ending after 0, "
            f"got {rec[:5].tolist()}..."
        )
    if (
        not isinstance(segment_steps, (int, np.integer))
        or isinstance(segment_steps, bool)
        or segment_steps < 1
    ):
        raise ValueError(f"segment_steps: expected a positive integer, got {segment_steps!r}")
    w0, a = np.asarray(params.w), np.asarray(params.a)
    m = w0.shape[0]
    keep_weights = m <= NEURON_RECORD_LIMIT
    f0 = np.asarray(forward(params, X, chunk_size=chunk_size))
    loss0 = 0.5 * float(np.sum((f0 - np.asarray(y)) ** 2))
    key = _fingerprint(
        w0, a, X, y, rec, extra=f"{float(learning_rate)!r}/{float(divergence_factor)!r}"
    )
    path = None if checkpoint is None else Path(checkpoint)
    if path is not None and path.suffix != ".npz":
        raise ValueError(f"checkpoint: expected a path ending in .npz, got {str(path)!r}")

    done, w, diverged = 0, w0, -1
    out = {f: [] for f in _FIELDS}
    out["weights"] = []
    if path is not None and path.exists():
        with np.load(path) as ck:
            if str(ck["fingerprint"]) != key:
                raise ValueError(
                    f"checkpoint: {str(path)!r} was written for other inputs "
                    "(params, X, y, record_at, learning_rate or divergence_factor differ); "
                    "remove it or pass another path"
                )
            done, w, diverged = int(ck["done"]), ck["w"], int(ck["diverged"])
            for f in out:
                if f in ck.files:
                    out[f] = list(ck[f])
    resumed = done
    cuts = np.unique(np.concatenate([np.arange(segment_steps, rec[-1], segment_steps), [rec[-1]]]))
    bar = tqdm(
        total=int(rec[-1]), initial=done, disable=not progress, unit="step", desc="train_long"
    )
    try:
        for end in cuts:
            if end <= done or diverged >= 0:
                continue
            wanted = rec[(rec > done) & (rec <= end)] if done else rec[rec <= end]
            local = np.unique(np.concatenate([wanted, [end]])) - done
            seg_loss0 = out["loss"][-1] if out["loss"] else loss0
            factor = divergence_factor * loss0 / seg_loss0 if seg_loss0 > 0 else divergence_factor
            tr = train(
                Params(jnp.asarray(w), params.a),
                X,
                y,
                record_at=local,
                learning_rate=learning_rate,
                record_ntk=False,
                record_neurons=keep_weights,
                divergence_factor=factor,
                chunk_size=chunk_size,
            )
            take = np.isin(local + done, wanted)
            steps = local + done
            for f in _FIELDS:
                vals = steps if f == "step" else np.asarray(getattr(tr, f))
                out[f].extend(vals[take])
            if keep_weights:
                out["weights"].extend(np.asarray(tr.weights)[take])
            w = np.asarray(tr.params.w)
            if int(tr.diverged_step) >= 0:
                diverged = done + int(tr.diverged_step)
            bar.update(int(end - done))
            done = int(end)
            if path is not None:
                arrays = {
                    f: np.asarray(v) for f, v in out.items() if f != "weights" or keep_weights
                }
                _atomic_savez(
                    path,
                    dict(
                        arrays,
                        fingerprint=np.asarray(key),
                        done=np.asarray(done),
                        w=w,
                        diverged=np.asarray(diverged),
                    ),
                )
    finally:
        bar.close()
    n_plus = int(np.sum(a > 0))
    arr = {f: np.asarray(v) for f, v in out.items()}
    return LongRun(
        arr["step"].astype(np.int64),
        arr["loss"],
        arr["weight_mean"],
        arr["weight_std"],
        arr["sign_agree_plus"],
        arr["sign_agree_minus"],
        n_plus,
        m - n_plus,
        arr["weights"] if keep_weights else None,
        Params(jnp.asarray(w), params.a),
        diverged,
        resumed,
    )
