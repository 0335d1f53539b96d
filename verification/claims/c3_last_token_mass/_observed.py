r"""C3's observed law: Theorem 5.3's conclusion decided at every log-spaced record, seed-level,
with where it holds and where it fails, beside the data's own boundary :math:`|w|^*` (of the data
process, with its interval: :mod:`._boundary`; of the training windows as a diagnostic)."""

from __future__ import annotations

import math

import numpy as np

from verification.claims.c3_last_token_mass import _words as words
from verification.claims.c3_last_token_mass._readings import decide, neuron_ok
from verification.rules import _laws as laws
from verification.rules._verdict import VACUOUS, VIOLATED, Observed


def observed_law(
    ok_traj,
    w_traj,
    steps,
    widths,
    *,
    delta: float,
    alpha: float,
    step_orders: float = math.nan,
    kernel_worst: float = math.nan,
) -> dict:
    r"""The conclusion as an empirical law over the records: ``ok_traj[w]`` (S, R, m) whether
    neuron r's masses satisfy the inequality at record j, ``w_traj[w]`` (S, R, m) its weight.

    At each record the designated neuron of every network (its first neuron with
    :math:`w_r(t) < 0`, the theorem's premise) is one trial
    (:func:`verification.rules._laws.seed_decision`, Holm over widths). The status is the decision
    at the last record T; ``t_hold`` is the last record before the first VIOLATED one at which
    every designated neuron held, ``t_star`` the first VIOLATED record, each with the median
    :math:`|w_r|` of the designated neurons; ``w_grid``/``grid_ok`` (the inequality of the
    data-averaged masses at a common weight w on a grid) give the data's boundary :math:`|w|^*`.
    """
    steps = np.asarray(steps)
    R = steps.size
    statuses, rules, allok = [], [], []
    med = np.full(R, math.nan)
    for j in range(R):
        res, absw_j = _designated_at(ok_traj, w_traj, j)
        st, rule = decide(res, widths, delta=delta, alpha=alpha)
        statuses.append(st), rules.append(rule)
        allok.append(all(r["fails"] == 0 and r["trials"] for r in res))
        if absw_j:
            med[j] = float(np.median(absw_j))
    bad = [j for j in range(R) if statuses[j] == VIOLATED]
    j_star = bad[0] if bad else None
    held = [j for j in range(R if j_star is None else j_star) if allok[j]]
    look = {"step_size_orders": step_orders, "kernel_change": kernel_worst}
    if held:
        look.update(t_hold=int(steps[held[-1]]), median_abs_w_at_t_hold=float(med[held[-1]]))
    if j_star is not None:
        look.update(t_star=int(steps[j_star]), median_abs_w_at_t_star=float(med[j_star]))
    return {
        "status": statuses[-1],
        "rule_at_T": rules[-1],
        "record_status": statuses,
        "early": set(statuses[: R if j_star is None else j_star]) - {VACUOUS},
        "looseness": look,
        "fails": [r["fails"] for r in res],
        "trials": [r["trials"] for r in res],
        "absw_max": float(np.concatenate([np.abs(w) for w in w_traj], axis=None).max()),
    }


def _designated_at(ok_traj, w_traj, j: int) -> tuple[list, list]:
    """Record j, per width: the designated neurons' outcomes and the |w_r| of the designated
    ones."""
    res, absw = [], []
    for ok, w in zip(ok_traj, w_traj):
        # the designated neuron: the first with w_r(t) < 0 (the premise)
        fails, trials, idx = laws.designated_outcomes(ok[:, j], w[:, j] < 0)
        res.append({"fails": fails, "trials": trials})
        absw += [abs(w[s, j, i]) for s, i in enumerate(idx) if i >= 0]
    return res, absw


def sample_boundary(w_grid, grid_masses, versus: str, atol: float) -> tuple[float, float]:
    """``(w_hold, w_fail)`` of :func:`verification.rules._laws.conclusion_boundary` for the
    training windows' masses ``grid_masses`` (G, d) at the common weights ``w_grid`` (G,)."""
    ok = neuron_ok(np.asarray(grid_masses, np.float64), versus, atol)
    order = np.argsort(np.abs(w_grid))
    return laws.conclusion_boundary(np.abs(np.asarray(w_grid))[order], ok[order])


def process_looseness(dp: dict | None) -> dict:
    """The data process's |w|* beside the law (only where its data condition holds), with its
    interval and the windows it rests on."""
    if dp is None or dp["gate"] != "HOLDS":
        return {}
    return {
        "w_star_process": dp["w_star"],
        "w_star_process_interval": dp["w_star_interval"],
        "w_star_process_windows": dp["windows"],
    }


def observed(
    neuron_ok_trajectory,
    weights_trajectory,
    steps,
    widths,
    *,
    delta: float,
    alpha: float,
    step_orders: float = math.nan,
    kernel_change=(),
    source: str = "",
    data: tuple = (),
    process: dict | None = None,
) -> tuple[Observed, list]:
    """:func:`observed_law` of :func:`check_c3`'s inputs as a
    :class:`verification.rules._verdict.Observed` (words from :mod:`._words`), and the status at
    each record. ``kernel_change`` lists each width's relative kernel changes (the largest one is
    reported beside the law); ``data`` the data's boundary in words, ``process`` the data
    process's (:func:`._boundary.process_boundary`)."""
    steps = np.asarray(steps)
    ok_traj = [np.asarray(x, bool) for x in neuron_ok_trajectory]
    law = observed_law(
        ok_traj,
        [np.asarray(x, np.float64) for x in weights_trajectory],
        steps,
        widths,
        delta=delta,
        alpha=alpha,
        step_orders=step_orders,
        kernel_worst=max((max(k) for k in kernel_change), default=math.nan),
    )
    law["looseness"].update(process_looseness(process))
    draws = ok_traj[0].shape[0]
    obs = Observed(
        status=law["status"],
        rule=laws.SEED_RULE,
        scale=words.observed_scale(widths, steps, law["absw_max"], draws, source),
        finding=words.observed_finding(
            law, steps, delta=delta, alpha=alpha, draws=draws, data=data
        ),
        looseness=law["looseness"],
        budget=words.observed_budget(law, delta=delta, alpha=alpha),
    )
    return obs, law["record_status"]
