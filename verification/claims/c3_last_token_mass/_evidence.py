r"""What C3's run measures: networks with every :math:`a_r = -1` trained by gradient descent
(through :meth:`verification.contract.Context.train`), their weights and position masses at
log-spaced records, the kernel change :math:`\|H(T)-H(0)\|/\|H(0)\|`, λ*, the training windows' mass
curve at a common weight and the data process's windows (:mod:`._process`) — the inputs of
:func:`check_c3`.
"""

from __future__ import annotations

import math

import jax
import numpy as np

from ntk_attention import Params, empirical_ntk, init_params, mean_attention_mass
from verification.claims.c3_last_token_mass._boundary import BOOT_CHUNK, MASS_CHUNK, W_ABS
from verification.claims.c3_last_token_mass._process import PROCESS_WINDOWS, process_sample
from verification.claims.c3_last_token_mass._readings import neuron_ok
from verification.claims.c3_last_token_mass._rule import check_c3
from verification.contract import memory_sum, train_bytes
from verification.rules._verdict import Verdict

W_GRID_MAX = 1e4
"""Largest absolute weight of the data's mass curve: beyond it the softmax of standardised windows
is one-hot."""


def record_steps(steps: int, records: int) -> np.ndarray:
    """0 and ``records`` log-spaced steps up to ``steps`` (integers, strictly increasing, the last
    being ``steps``)."""
    if steps < 1 or records < 2:
        raise ValueError(
            f"steps, records: expected steps >= 1 and records >= 2, got {steps}, {records}"
        )
    return np.unique(
        np.concatenate([[0], np.geomspace(1, steps, records).astype(np.int64), [steps]])
    )


def _kernel_change(key, m: int, sigma: float, tr, X) -> float:
    r""":math:`\|H(T) - H(0)\|_2/\|H(0)\|_2` of one run (all :math:`a_r = -1`); inf when the run
    diverged or its weights are beyond what the softmax evaluates (then it is far from any kernel
    regime)."""
    wT = np.asarray(tr.params.w)
    if tr.diverged_step >= 0 or not np.all(np.isfinite(wT)):
        return math.inf
    p0 = init_params(key, m, sigma=sigma, output_signs="minus")
    try:
        HT = np.asarray(empirical_ntk(Params(tr.params.w, p0.a), X), np.float64)
    except ValueError:  # attention scores past the float range (ntk_attention's overflow guard)
        return math.inf
    H0 = np.asarray(empirical_ntk(p0, X), np.float64)
    return float(np.linalg.norm(HT - H0, 2) / np.linalg.norm(H0, 2))


def _width(ctx, section: dict, m: int, seeds, ds, *, n: int, eta, rec, sigma: float, bar) -> dict:
    """Every seed's network of width ``m`` on ``ds`` (``n`` windows): masses and weights at T and
    t = 0, their records, the inequality per neuron and record, and the kernel change."""
    fm, wm, im, tm, nm, ok_neg, n_neg, okm, wtm, km = [], [], [], [], [], 0, 0, [], [], []
    for s in seeds:
        p = init_params(jax.random.key(s), m, sigma=sigma, output_signs="minus")
        tr = ctx.train(
            p,
            ds.X,
            ds.y,
            learning_rate=eta,
            seed=s,
            memo={"claim": "C3", "n": n, "width": m, "record_at": rec, "sigma": sigma},
            record_at=rec,
            record_ntk=False,
            record_neurons=True,
        )
        PM, Wt = np.asarray(tr.position_mass), np.asarray(tr.weights)
        fm.append(PM[-1]), wm.append(Wt[-1]), im.append(PM[0])
        tm.append(np.asarray(tr.mean_position_mass)), nm.append((Wt < 0).mean(axis=1))
        okt = neuron_ok(PM, section["versus"], 1e-12)  # (R, m)
        ok_neg = ok_neg + ((Wt < 0) & okt).sum(axis=1)  # (R,)
        okm.append(okt), wtm.append(Wt)
        km.append(_kernel_change(jax.random.key(s), m, sigma, tr, ds.X))
        n_neg = n_neg + (Wt < 0).sum(axis=1)
        bar.update(1)
    with np.errstate(invalid="ignore", divide="ignore"):  # no negative neuron at a record: NaN
        conc = ok_neg / n_neg
    return {
        "final": np.stack(fm),
        "weights": np.stack(wm),
        "init": np.stack(im),
        "traj": np.mean(tm, axis=0),
        "negative": np.mean(nm, axis=0),
        "conclusion": conc,
        "ok": np.stack(okm),
        "w": np.stack(wtm),
        "kernel": np.asarray(km),
    }


def evidence_c3(section: dict, ctx) -> dict:
    """Train every width × seed and measure what :func:`check_c3` reads; returns its keyword
    arguments."""
    n = ctx.config["data"]["n"]
    ds = ctx.dataset(n)
    sigma = ctx.sigma()
    eta = ctx.step_size(section, sizes=[n], sigma=sigma)
    seeds = ctx.network_seeds(section["seeds"])
    W = section["widths"]
    rec = record_steps(section["steps"], section["records"])
    bar = ctx.progress("C3 all a_r = -1", len(W) * len(seeds))
    runs = [
        _width(ctx, section, m, seeds, ds, n=n, eta=eta, rec=rec, sigma=sigma, bar=bar) for m in W
    ]
    bar.close()
    X = np.asarray(ds.X, np.float64)
    lam = ctx.lambda_star(n, sigma=sigma)[0]  # shared with C1, C2 and the stability pre-check
    w_traj = [r["w"] for r in runs]
    w_grid, grid = _data_curve(w_traj, ds.X)
    return dict(
        widths=W,
        seeds=seeds,
        masses_final=[r["final"] for r in runs],
        weights_final=[r["weights"] for r in runs],
        masses_init=[r["init"] for r in runs],
        delta=section["delta"],
        alpha=section["alpha"],
        expectation=section["expectation"],
        versus=section["versus"],
        second_moments=(X[:, -1:] * X).mean(axis=0),
        steps=rec,
        mass_trajectory=np.stack([r["traj"] for r in runs]),
        negative_trajectory=np.stack([r["negative"] for r in runs]),
        conclusion_trajectory=np.stack([r["conclusion"] for r in runs]),
        kernel_change=[r["kernel"] for r in runs],
        kernel_threshold=section["kernel_threshold"],
        eta=eta,
        lam=lam.value,
        lam_resolution=lam.resolution,
        neuron_ok_trajectory=[r["ok"] for r in runs],
        weights_trajectory=w_traj,
        w_grid=w_grid,
        grid_masses=grid,
        source=str(ctx.config["data"].get("source", "")),
        data_process=process_sample(ctx, n),
        training_windows=n,
        config={"C3": section, "data": ctx.config["data"]},
        seed=ctx.seed,
    )


def _data_curve(w_traj, X) -> tuple[np.ndarray, np.ndarray]:
    """The data's own boundary: masses at a common weight w < 0 on a 160-point grid, out to beyond
    the trained weights (at most :data:`W_GRID_MAX`)."""
    finite = np.concatenate([np.abs(w[np.isfinite(w)]) for w in w_traj] + [np.ones(1)])
    wmax = min(1.5 * float(finite.max()), W_GRID_MAX)
    w_grid = -np.geomspace(1e-3, wmax, 160)
    grid = np.asarray(
        mean_attention_mass(Params(w_grid.astype(X.dtype), -np.ones(w_grid.size, X.dtype)), X),
        np.float64,
    )
    return w_grid, grid


def run_c3(section: dict, ctx) -> Verdict:
    """C3's verdict on the configured run: :func:`check_c3` of what ``evidence_c3`` measures."""
    return check_c3(**evidence_c3(section, ctx))


def memory_c3(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: one training run at a time at ``[data] n``, the per-neuron records
    (weights, position masses and the inequality flags at ``records + 2`` log-spaced steps) of
    every width × seed kept until the check, the check's float64 copies of the masses (all neurons,
    the negative ones, one network's rows), two n × n kernels per run, the training windows' mass
    curve on a 160-point grid of weights, and the data process (about :data:`PROCESS_WINDOWS`
    windows: their masses on a block of them, per-unit sums, a block of bootstrap curves)."""
    R, S, d = section["records"] + 2, section["seeds"], data["d"]
    neurons, widest = sum(section["widths"]), max(section["widths"])
    kept = 9 * R * S * neurons  # weights (float64) and inequality flags (bool) per record
    # float64 masses at T and t = 0, the negative neurons, one network
    check = 8 * d * (3 * S * neurons + 2 * widest)
    G, N = W_ABS.size, PROCESS_WINDOWS + data["n"]
    U = N // data["n"] + 1  # units: draws of n windows (a series has fewer, larger blocks)
    process = 8 * (4 * G * d * MASS_CHUNK + U * G * d + BOOT_CHUNK * (U + 2 * G * d) + 3 * N * d)
    return memory_sum(
        train_bytes(
            n=data["n"],
            d=d,
            widths=section["widths"],
            seeds=S,
            steps=R - 1,
            record_every=1,
            held=True,
        ),
        (
            kept + check + 16 * data["n"] ** 2 + 8 * 160 * (data["n"] + 1) * d + process,
            "weights and flags per record, the check's float64 masses, H(0) and H(T), the mass "
            "curves of the training windows and of the data process",
        ),
    )
