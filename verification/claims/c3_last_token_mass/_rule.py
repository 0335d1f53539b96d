r"""C3's pure check: premises, the conclusion under the chosen reading, diagnostics and the observed
law, each its own part; statuses and numbers are decided here, the words come from :mod:`._words`.

**Verdict rule** (:func:`check_c3`). Theorem: :func:`verification.rules._verdict.combine_parts` — a
premise not met or not checked makes it VACUOUS; else the conclusion decides, one trial per network
(the first negative neuron, or the network's averaged masses) by
:func:`verification.rules._laws.seed_decision` (Clopper–Pearson, Holm over widths). Observed: the
same rule at every log-spaced record (:func:`._observed.observed_law`).
"""

from __future__ import annotations

import math

import numpy as np

from verification.claims.c3_last_token_mass import _words as words
from verification.claims.c3_last_token_mass._data import data_evidence
from verification.claims.c3_last_token_mass._observed import observed
from verification.claims.c3_last_token_mass._readings import (
    C3_EXPECTATIONS,
    C3_READINGS,
    C3_VERSUS,
    READING_KEYS,
    decide,
    neuron_ok,
    seed_reading,
)
from verification.rules import _laws as laws
from verification.rules import clopper_pearson
from verification.rules._verdict import (
    HOLDS,
    VACUOUS,
    VIOLATED,
    Part,
    Verdict,
    combine_parts,
)

# --------------------------------------------------------------------------------- premises


def kernel_premise(kernel_change, widths, threshold: float) -> Part:
    r"""Premise: the run stays in the kernel regime,
    :math:`\max_s \|H(T)-H(0)\|_2/\|H(0)\|_2 \le` ``threshold``."""
    name = words.kernel_name(threshold)
    if kernel_change is None:
        return Part(
            name, VACUOUS, "not measured.", role="premise", why="kernel regime not measured"
        )
    worst = [float(np.max(k)) for k in kernel_change]
    ok = max(worst) <= threshold
    finding, why = words.kernel_finding(worst, widths, threshold, ok)
    return Part(name, HOLDS if ok else VIOLATED, finding, role="premise", why=why)


def step_premise(eta, lam, lam_resolution, delta: float) -> tuple[Part, float]:
    """Premise η ≤ O(λδ/poly) (:func:`verification.rules._laws.step_size_premise`) and its orders
    of magnitude."""
    if eta is None or lam is None:
        part = Part(
            words.STEP_NAME,
            VACUOUS,
            "λ or η not given.",
            role="premise",
            why="step size not checked",
        )
        return part, math.nan
    sp = laws.step_size_premise(float(eta), float(lam), float(lam_resolution), delta=delta)
    why = words.step_why(sp.status, sp.orders)
    return Part(words.STEP_NAME, sp.status, sp.finding + ".", role="premise", why=why), sp.orders


def negative_premise(
    weights, widths, seeds, *, delta: float, alpha: float
) -> tuple[Part, list, dict]:
    r"""Premise :math:`w_r(T) < 0`: the designated neuron (neuron 0) of each network, seeds as
    trials."""
    res, intervals = [], {}
    for w, m in zip(weights, widths):
        neg = w < 0
        fails, trials, _ = laws.designated_outcomes(neg[:, :1])
        res.append({"fails": fails, "trials": trials, "fraction": float(neg.mean())})
        lo, hi = clopper_pearson(np.int64(trials - fails), np.int64(trials), alpha)
        intervals[f"negative_designated[m={m}]"] = [float(lo), float(hi)]
    status, rule = decide(res, widths, delta=delta, alpha=alpha)
    part = Part(
        words.NEGATIVE_NAME,
        status,
        words.negative_finding(res, widths, delta, rule),
        role="premise",
        why=words.negative_why(status, len(seeds)),
    )
    return part, res, intervals


# --------------------------------------------------------------------------------- conclusion


def readings(Ms, neg, seeds, widths, *, atol: float) -> tuple[dict, dict]:
    """Every reading at every width: on the premise's neurons (:math:`w_r(T) < 0`) and on every
    neuron (unconditional), as :func:`._readings.seed_reading` counts."""
    cond = {
        r: [seed_reading(M, k, seeds, m, *r, atol=atol) for M, k, m in zip(Ms, neg, widths)]
        for r in C3_READINGS
    }
    uncond = {
        r: [
            seed_reading(M, np.ones_like(k), seeds, m, *r, atol=atol)
            for M, k, m in zip(Ms, neg, widths)
        ]
        for r in C3_READINGS
    }
    return cond, uncond


def conclusion(cond, chosen, widths, networks: int, *, delta: float, alpha: float):
    """The decisive part (the chosen reading on the premise's neurons, seed-level) and, when it is
    VIOLATED, the first failing network as the counterexample."""
    status, rule = decide(cond[chosen], widths, delta=delta, alpha=alpha)
    finding = words.per_width(chosen[0], cond[chosen], widths) + f". Rule: {rule}."
    part = Part(
        words.conclusion_name(chosen), status, finding, why=words.conclusion_why(status, networks)
    )
    counter = None
    if status == VIOLATED:
        failing = [x for x in cond[chosen] if "counterexample" in x]
        counter = dict(failing[0]["counterexample"], premise="w_r(T) < 0") if failing else None
    return part, counter


def diagnostics(cond, uncond, chosen, widths, *, delta: float, alpha: float) -> list[Part]:
    """The other readings on the premise's neurons, then every reading on every neuron."""
    parts = []
    for results, conditional in ((cond, True), (uncond, False)):
        for r in C3_READINGS:
            if conditional and r == chosen:
                continue
            status, _ = decide(results[r], widths, delta=delta, alpha=alpha)
            name = words.diagnostic_name(r, conditional=conditional)
            parts.append(Part(name, status, words.per_width(r[0], results[r], widths), False))
    return parts


# --------------------------------------------------------------------------------- the verdict


def check_c3(
    *,
    widths,
    seeds,
    masses_final,
    weights_final,
    masses_init=None,
    delta: float,
    alpha: float = 0.05,
    atol: float = 1e-12,
    expectation: str = "neuron",
    versus: str = "every",
    second_moments=None,
    steps=None,
    mass_trajectory=None,
    negative_trajectory=None,
    conclusion_trajectory=None,
    kernel_change=None,
    kernel_threshold: float = 0.25,
    eta=None,
    lam=None,
    lam_resolution: float = 0.0,
    neuron_ok_trajectory=None,
    weights_trajectory=None,
    w_grid=None,
    grid_masses=None,
    source: str = "",
    data_process=None,
    training_windows: int | None = None,
    config: dict | None = None,
    seed: int | None = None,
) -> Verdict:
    r"""C3 from the final weights and data-averaged masses
    :math:`\bar s_{r,k} = \frac1n\sum_i s_{r,k}(x_i)`.

    Per width ``widths[w]``: ``weights_final[w]`` (S, m_w) holds :math:`w_r(T)` and
    ``masses_final[w]`` (S, m_w, d) the masses at T (``masses_init`` likewise at t = 0). The unit
    of every probability is the network draw (seed; :mod:`verification.rules._laws`).

    1. **Premises** (``role="premise"``, all checked before the conclusion): the kernel regime,
       ``kernel_change[w]`` (S,) :math:`\|H(T)-H(0)\|_2/\|H(0)\|_2` at most ``kernel_threshold``
       (1/4: above it no λ can keep :math:`\|H(T)-H(0)\| \le \lambda/4`); the step size
       :math:`\eta \le c_\eta\lambda\delta` (``eta``, ``lam``, ``lam_resolution``); and
       :math:`\Pr[w_r(T) < 0] \ge 1-\delta` with neuron 0 of each network as one trial
       (:func:`verification.rules._laws.seed_decision`). Any premise not met or not checked:
       VACUOUS.
    2. **Conclusion**, under the chosen reading, one trial per network: ``neuron`` — the first
       neuron with :math:`w_r(T) < 0` satisfies :math:`\bar s_d \le \min_{k<d}\bar s_k`
       (``every``) or :math:`\le \frac1{d-1}\sum_{k<d}\bar s_k` (``average``,
       ⇔ :math:`\le 1/d`); ``population`` — the masses averaged over the network's negative
       neurons do. Seed-level rule, Holm over widths.
    3. Diagnostics: the other readings; all readings on every neuron; the data condition
       :math:`\max_{k<d}\mathbb E[x_d x_k] \le \mathbb E[x_d^2]` of the data process with its
       interval from ``data_process`` (a :class:`._boundary.ProcessSample`), else of the
       ``training_windows`` training windows from ``second_moments`` (d,) (:mod:`._data`).
    4. **Observed** (:class:`verification.rules._verdict.Observed`, when
       ``neuron_ok_trajectory[w]`` and ``weights_trajectory[w]`` (S, R, m) at ``steps`` are
       given): the conclusion per record, seed-level, with the last t and median :math:`|w_r|`
       where it held and the first where it fails; ``w_grid`` (G,) with ``grid_masses`` (G, d),
       the training windows' masses at a common weight, give their boundary (a diagnostic); the
       data process's :math:`|w|^*` with its interval comes from ``data_process``.

    ``mass_trajectory`` (W, R, d), ``negative_trajectory`` (W, R) and ``conclusion_trajectory``
    (W, R) (fraction of the negative neurons meeting the inequality per record) are figure data.
    """
    chosen = _reading(expectation, versus)
    Ms, Ws = _final(masses_final, weights_final, widths)
    widths = [int(m) for m in widths]
    d = Ms[0].shape[-1]
    neg = [w < 0 for w in Ws]
    kpart = kernel_premise(kernel_change, widths, kernel_threshold)
    spart, orders = step_premise(eta, lam, lam_resolution, delta)
    npart, nres, intervals = negative_premise(Ws, widths, seeds, delta=delta, alpha=alpha)
    measured = _measured(chosen, (kpart, spart, npart), orders, nres, Ms, Ws, kernel_change)
    cond, uncond = readings(Ms, neg, seeds, widths, atol=atol)
    measured.update(_statistics(cond, uncond))
    part, counter = conclusion(cond, chosen, widths, len(seeds), delta=delta, alpha=alpha)
    parts = [kpart, spart, npart, part]
    parts += diagnostics(cond, uncond, chosen, widths, delta=delta, alpha=alpha)
    de = data_evidence(
        second_moments=second_moments,
        data_process=data_process,
        w_grid=w_grid,
        grid_masses=grid_masses,
        d=d,
        versus=versus,
        alpha=alpha,
        atol=atol,
        seed=seed,
        training_windows=training_windows,
    )
    parts += de.parts
    measured.update(de.measured)
    intervals.update(de.intervals)
    if masses_init is not None:
        measured.update(_at_init(masses_init, atol))
    obs = None
    if neuron_ok_trajectory is not None and weights_trajectory is not None and steps is not None:
        obs, measured["observed_record_status"] = observed(
            neuron_ok_trajectory,
            weights_trajectory,
            steps,
            widths,
            delta=delta,
            alpha=alpha,
            step_orders=orders,
            kernel_change=measured.get("kernel_change", []),
            source=source,
            data=de.words,
            process=de.process,
        )
    status = combine_parts(parts)
    explanation = words.explanation(
        status, chosen, parts, cond[chosen][-1], measured, widths, d, obs
    )
    arrays = _arrays(Ms, neg, widths, measured, masses_init, second_moments, w_grid, grid_masses)
    arrays.update(de.arrays)
    if steps is not None:
        arrays.update(
            _trajectories(steps, mass_trajectory, negative_trajectory, conclusion_trajectory)
        )
        if conclusion_trajectory is not None:
            measured["conclusion_over_time"] = _over_time(arrays["conclusion_trajectory"], versus)
    return Verdict(
        claim="C3",
        status=status,
        explanation=explanation,
        measured=measured,
        bounds={"one_minus_delta": 1 - delta, "kernel_threshold": kernel_threshold},
        intervals=intervals,
        parts=tuple(parts),
        counterexample=counter,
        tested_range=_tested(widths, seeds, steps),
        config=config or {},
        seed=seed,
        arrays=arrays,
        observed=obs,
    )


def _tested(widths, seeds, steps) -> dict:
    return {
        "widths": widths,
        "seeds": [int(x) for x in seeds],
        **({"steps": int(np.asarray(steps)[-1])} if steps is not None else {}),
    }


def _reading(expectation: str, versus: str) -> tuple[str, str]:
    if expectation not in C3_EXPECTATIONS:
        raise ValueError(f"expectation: expected one of {C3_EXPECTATIONS}, got {expectation!r}")
    if versus not in C3_VERSUS:
        raise ValueError(f"versus: expected one of {C3_VERSUS}, got {versus!r}")
    return (expectation, versus)


def _final(masses_final, weights_final, widths) -> tuple[list, list]:
    """The masses (S, m, d) and weights (S, m) at T per width, float64, their shapes checked."""
    if len(masses_final) != len(widths) or len(weights_final) != len(widths):
        raise ValueError(
            f"masses_final, weights_final: expected one array per width ({len(widths)}), "
            f"got {len(masses_final)} and {len(weights_final)}"
        )
    Ms = [np.asarray(M, np.float64) for M in masses_final]
    Ws = [np.asarray(w, np.float64) for w in weights_final]
    for wi, (M, w) in enumerate(zip(Ms, Ws)):
        if M.ndim != 3 or w.shape != M.shape[:2]:
            raise ValueError(
                f"weights_final[{wi}]: expected shape {M.shape[:2]} (seeds, m) matching "
                f"masses_final[{wi}] {M.shape}, got {w.shape}"
            )
    return Ms, Ws


def _measured(chosen, premises, orders, nres, Ms, Ws, kernel_change) -> dict:
    """The premises' numbers and the descriptive masses and weights at T."""
    kpart, spart, npart = premises
    neg = [w < 0 for w in Ws]
    n_neg, n_all = [int(x.sum()) for x in neg], [x.size for x in neg]
    measured = {
        "decisive_reading": f"{chosen[0]}/{chosen[1]}",
        "premise_status": npart.status,
        "kernel_premise": kpart.status,
        "step_size_premise": spart.status,
        "step_size_orders": orders,
        "negative_fraction": [float(k / t) for k, t in zip(n_neg, n_all)],
        "negative_count": n_neg,
        "neurons": n_all,
        "negative_designated": [r["trials"] - r["fails"] for r in nres],
        "networks": [r["trials"] for r in nres],
        "mean_last_mass": [float(M[..., -1].mean()) for M in Ms],
        "median_abs_weight": [float(np.median(np.abs(w))) for w in Ws],
    }
    if kernel_change is not None:
        measured["kernel_change"] = [[float(x) for x in np.ravel(k)] for k in kernel_change]
    return measured


def _statistics(cond: dict, uncond: dict) -> dict:
    """Each reading's descriptive statistic on the premise's neurons and on every neuron, and its
    failing networks."""
    out = {}
    for r in C3_READINGS:
        out[READING_KEYS[r] + "_premise"] = [x["value"] for x in cond[r]]
        out[READING_KEYS[r]] = [x["value"] for x in uncond[r]]
        out[READING_KEYS[r] + "_network_failures"] = [x["fails"] for x in cond[r]]
    return out


def _at_init(masses_init, atol: float) -> dict:
    """The neuron reading's fraction at t = 0, against every other position and their average."""
    return {
        READING_KEYS[("neuron", v_)] + "_at_init": [
            float(neuron_ok(np.asarray(M0, np.float64), v_, atol).mean()) for M0 in masses_init
        ]
        for v_ in C3_VERSUS
    }


def _trajectories(steps, mass_trajectory, negative_trajectory, conclusion_trajectory) -> dict:
    """The figure data over the records (those given)."""
    arrays = {"steps": np.asarray(steps)}
    for name, x in (
        ("mean_position_mass", mass_trajectory),
        ("negative_fraction_trajectory", negative_trajectory),
        ("conclusion_trajectory", conclusion_trajectory),
    ):
        if x is not None:
            arrays[name] = np.asarray(x, np.float64)
    return arrays


def _over_time(ct: np.ndarray, versus: str) -> dict:
    """The fraction of negative neurons meeting the inequality over the records: least and last."""
    return {
        "reading": f"neuron/{versus}",
        "min": [float(np.nanmin(r)) if np.isfinite(r).any() else float("nan") for r in ct],
        "last": [float(r[-1]) for r in ct],
    }


def _arrays(Ms, neg, widths, measured, masses_init, second_moments, w_grid, grid_masses) -> dict:
    """The figure data at T (and t = 0): mean masses per position, counts, each reading's
    statistic, the second moments and the data's mass curve."""
    d = Ms[0].shape[-1]
    mean_neg = [(M[k].mean(axis=0) if k.any() else np.full(d, np.nan)) for M, k in zip(Ms, neg)]
    arrays = {
        "widths": np.asarray(widths),
        "mean_mass_final": np.asarray([M.reshape(-1, d).mean(axis=0) for M in Ms]),
        "mean_mass_final_negative": np.asarray(mean_neg),
        "negative_count": np.asarray(measured["negative_count"], np.int64),
        "neurons": np.asarray(measured["neurons"], np.int64),
        **{READING_KEYS[r]: np.asarray(measured[READING_KEYS[r]]) for r in C3_READINGS},
        **{
            READING_KEYS[r] + "_premise": np.asarray(measured[READING_KEYS[r] + "_premise"])
            for r in C3_READINGS
        },
    }
    if masses_init is not None:
        arrays["mean_mass_init"] = np.asarray(
            [np.asarray(M0, np.float64).reshape(-1, d).mean(axis=0) for M0 in masses_init]
        )
    if second_moments is not None:
        arrays["second_moments"] = np.asarray(second_moments, np.float64)
    if w_grid is not None and grid_masses is not None:
        arrays["w_grid"] = np.asarray(w_grid, np.float64)
        arrays["grid_masses"] = np.asarray(grid_masses, np.float64)
    return arrays


def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c3` whose verdict is known, and that verdict: 40 networks
    of 60 neurons, all with :math:`w_r(T) < 0`, in the kernel regime (relative change 0.01) with
    :math:`\eta = 10^{-3} \le \lambda\delta = 10^{-2}`; each neuron puts mass 0.1 on the last of
    d = 4 positions and 0.3 on each other one. The designated neuron holds in 40 of 40 networks
    (Clopper–Pearson upper end 0.09 ≤ δ = 0.1): HOLDS."""
    S = 40
    M = np.tile([0.3, 0.3, 0.3, 0.1], (S, 60, 1))
    return dict(
        widths=[60],
        seeds=list(range(S)),
        masses_final=[M],
        weights_final=[-np.ones((S, 60))],
        masses_init=[M],
        delta=0.1,
        second_moments=np.array([0.1, 0.2, 0.3, 0.5]),
        steps=np.array([0, 5, 10]),
        mass_trajectory=np.tile(M.mean(axis=(0, 1)), (1, 3, 1)),
        negative_trajectory=np.array([[0.5, 0.9, 1.0]]),
        kernel_change=[np.full(S, 0.01)],
        eta=1e-3,
        lam=0.1,
        lam_resolution=1e-12,
        neuron_ok_trajectory=[np.ones((S, 3, 60), bool)],
        weights_trajectory=[-np.ones((S, 3, 60))],
        w_grid=-np.array([0.1, 1.0]),
        grid_masses=M[0, :2],
    ), HOLDS
