r"""Calibration of the decision rules of :mod:`verification.rules` on planted truths.

For every rule, inputs whose truth is known are generated in numpy from fixed integer seeds
(``numpy.random.default_rng``: the same draws on every machine) — a **true** case, a **false**
case and the **boundary** — at the rule's default budget, and the rule is run on ``replicates``
independent draws. Each row reports the fraction of each status.

The standard (docs/calibration.md): at the default budget a true case is VIOLATED at most
:math:`\alpha` of the time, a false case is HOLDS at most :math:`\alpha` of the time, and a true
case reaches HOLDS at least 80% of the time where the budget allows; each row states its own
limits (``standard``) and whether they are met (``meets``), allowing three Monte-Carlo standard
errors :math:`3\sqrt{q(1-q)/R}` around a limit :math:`q`.

The rows of the rate, bound, probability, envelope and resolution rules are
:mod:`verification.calibration._stats`; the other families are the modules of
:data:`RULE_MODULES`, an explicit tuple.

Determinism: decisions compare continuous statistics with thresholds, so a last-bit difference
in ``log`` or a quantile between CPUs flips a replicate only if it sits within rounding of a
threshold; counts are therefore compared with a tolerance of two (:func:`doc_differences`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from verification import rules as stats
from verification.calibration import _c1 as calibration_c1
from verification.calibration import _fractions as calibration_fractions
from verification.calibration import _ood as calibration_ood
from verification.calibration import _regime as calibration_regime
from verification.calibration import _robustness as calibration_robustness
from verification.calibration import _seeds as calibration_seeds
from verification.calibration._stats import (
    ALPHA,
    DELTA,
    PROBABILITY_RUNS,
    PROBABILITY_WIDTHS,
    RATE_SEEDS,
    RATE_WIDTHS,
    stats_rows,
)
from verification.files import atomic_write, json_text
from verification.rules._verdict import HOLDS, INCONCLUSIVE, STATUSES, VACUOUS, VIOLATED

__all__ = [
    "ALPHA",
    "RATE_WIDTHS",
    "RATE_SEEDS",
    "PROBABILITY_WIDTHS",
    "PROBABILITY_RUNS",
    "calibrate",
    "markdown_table",
    "write_calibration",
    "doc_differences",
    "probability_budget",
    "render_doc",
]

QUICK_REPLICATES = 40
REPLICATES = 1000

_SHORT = {HOLDS: "H", VIOLATED: "V", VACUOUS: "Va", INCONCLUSIVE: "I"}


RULE_MODULES = (
    calibration_c1,
    calibration_seeds,
    calibration_fractions,
    calibration_ood,
    calibration_regime,
    calibration_robustness,
)
"""Modules of further rules (``verification/calibration_*.py``), each with ``rows(R) -> list[dict]``
built with :mod:`verification.calibration._planted`; :func:`calibrate` appends their rows in this
order."""


def calibrate(replicates: int = 1000, quick: bool = False) -> list[dict]:
    """Run every rule on its planted cases; ``quick`` caps replicates at 40 (for tests).

    Returns one dict per (rule, planted case): ``rule``, ``case`` ("true"/"false"/"boundary"),
    ``planted`` (what was planted), ``budget``, ``replicates``, ``counts`` and ``rates`` (per
    status), ``standard`` ([status, "<=" or ">=", limit] triples), ``meets``, ``note``.
    """
    R = int(replicates)
    if R < 1:
        raise ValueError(f"replicates: expected a positive integer, got {replicates!r}")
    if quick:
        R = min(R, QUICK_REPLICATES)
    rows = stats_rows(R)
    for module in RULE_MODULES:
        rows += (
            module.rows(R, quick=True)
            if quick and module is calibration_robustness
            else module.rows(R)
        )
    return rows


# ----------------------------------------------------------------------------- output


def _budget_text(b: dict) -> str:
    parts = []
    for k, v in b.items():
        if k == "alpha" or (k == "violation_margin" and v == b.get("margin")):
            continue
        if isinstance(v, list):
            v = f"{v[0]}…{v[-1]} ({len(v)})" if len(v) > 4 else ",".join(map(str, v))
        elif isinstance(v, float):
            v = f"{v:.3g}"
        parts.append(f"{k} {v}")
    return ", ".join(parts)


def _standard_text(std) -> str:
    return "; ".join(f"{_SHORT[s]} {'≤' if op == '<=' else '≥'} {lim:g}" for s, op, lim in std)


def markdown_table(rows: list[dict]) -> str:
    """One Markdown table: rule, case, planted truth, budget, replicates, status fractions,
    standard."""
    head = (
        "| rule | case | planted | budget | R | HOLDS | VIOLATED | VACUOUS | INCONCLUSIVE | "
        "standard | met |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        rates = " | ".join(f"{r['rates'][s]:.3f}" for s in STATUSES)
        met = "yes" if r["meets"] else "**no**"
        note = f" — {r['note']}" if r["note"] else ""
        planted = (r["planted"] + note).replace("|", "\\|")  # a pipe would end the cell
        lines.append(
            f"| {r['rule']} | {r['case']} | {planted} | {_budget_text(r['budget'])} | "
            f"{r['replicates']} | {rates} | {_standard_text(r['standard'])} | {met} |"
        )
    return head + "\n".join(lines) + "\n"


def write_calibration(out_dir, rows: list[dict]) -> tuple[Path, Path]:
    """Write ``calibration.json`` (the rows) and ``calibration.md`` (:func:`markdown_table`) into
    ``out_dir``."""
    out = Path(out_dir)
    js, md = out / "calibration.json", out / "calibration.md"
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(js, json_text(rows))  # the one writer: 0666 & ~umask, never 0600
    atomic_write(md, "# Calibration of the decision rules\n\n" + markdown_table(rows))
    return js, md


def probability_budget(
    runs=(30, 40, 60, 80, 100, 120, 150, 200),
    *,
    p: float = 0.02,
    delta: float = DELTA,
    widths: int = PROBABILITY_WIDTHS,
    alpha: float = ALPHA,
) -> list[dict]:
    r"""Exact HOLDS probability of :func:`~verification.rules.probability_decision` for a true rate
    ``p``.

    HOLDS needs the Clopper–Pearson upper end :math:`\le \delta` at every width, i.e. at most
    :math:`k^*(n)` failures of :math:`n` runs; at ``widths`` independent widths the HOLDS
    probability is :math:`P(\mathrm{Bin}(n, p) \le k^*)^{W}` (intersection–union, the default),
    and likewise with each upper end at :math:`\alpha/W` (``adjust_holds=True``).
    """
    from scipy import stats as sps

    out = []
    for n in runs:
        row = {"runs": int(n)}
        for key, level in (("iut", alpha), ("adjusted", alpha / widths)):
            k = np.arange(n + 1)
            _, hi = stats.clopper_pearson(k, np.full_like(k, n), level)
            ok = k[hi <= delta]
            kmax = int(ok.max()) if ok.size else -1
            row[f"max_failures_{key}"] = kmax
            row[f"holds_{key}"] = float(sps.binom.cdf(kmax, n, p) ** widths) if kmax >= 0 else 0.0
        out.append(row)
    return out


def render_doc(rows: list[dict] | None = None) -> str:
    """The text of docs/calibration.md: the rules, the standard, the budgets and the calibration
    table."""
    rows = calibrate(REPLICATES) if rows is None else rows
    budget = probability_budget()
    btab = (
        "| runs per width | max failures (IUT) | P(HOLDS), IUT | max failures (α/W) | P(HOLDS), "
        "α/W "
        "|\n|---|---|---|---|---|\n"
    )

    def kmax(k):
        return str(k) if k >= 0 else "none"

    btab += (
        "\n".join(
            f"| {b['runs']} | {kmax(b['max_failures_iut'])} | {b['holds_iut']:.3f} | "
            f"{kmax(b['max_failures_adjusted'])} | {b['holds_adjusted']:.3f} |"
            for b in budget
        )
        + "\n"
    )
    failing = [
        f"{r['rule']} / {r['case']} at {_budget_text(r['budget'])}: {r['note'] or 'NOT EXPLAINED'}"
        for r in rows
        if not r["meets"]
    ]
    failing_text = "".join(f"- {f}\n" for f in failing) if failing else "- none\n"
    return rf"""# Calibration of the decision rules

Generated by `python scripts/make_calibration.py` from `verification.calibration._table` (also
`ntk-verify calibrate --out DIR`, which writes `calibration.json` and `calibration.md`); a test
checks that this page is current. Every rule of `verification.rules` is run on planted truths
(numpy, fixed integer seeds) at its default budget, {REPLICATES} replicates per row; the columns
give the fraction of each status.

## The rules

- **rate** (`rate_decision`, a claim $O(m^p)$): log value on log width, slope $\bar b$ = mean of
  the per-seed least-squares slopes, interval $\bar b \pm t_{{0.975, S-1}}\,\mathrm{{sd}}/\sqrt S$
  (clustered by seed). HOLDS when the upper end $\le p + \Delta$; VIOLATED when the lower end
  $> p + \Delta_v$; INCONCLUSIVE otherwise. $\Delta = \Delta_v = 0.1$. The violation margin covers
  the pre-asymptotic bias of a maximum of $m$ Gaussian-tailed terms (slope bias about
  $\log(\log m_1/\log m_0)/(2\log(m_1/m_0)) = 0.076$ over 64…16384, 0.08 measured); maxima of
  sub-exponential terms (bias about 0.15) need $\Delta_v = 0.2$ or, better, their explicit bound.
- **bounded_by**: where an explicit bound exists, decide by it (VIOLATED at the first exceedance
  beyond a relative tolerance $10^{{-9}}$; with a $1-\delta$ bound, the exceedances per width go to
  the probability rule; VACUOUS when the bound is at or above the measurement scale).
- **probability** (`probability_decision`, "fails with probability $\le\delta$ at every width"):
  HOLDS when the Clopper–Pearson upper end (one-sided $1-\alpha/2$) is $\le\delta$ at every width
  and part (an intersection–union test: its false-HOLDS rate is at most $\alpha/2$ without
  adjustment); VIOLATED when a Holm-adjusted one-sided p-value of $p\le\delta$ is $\le\alpha/2$
  (family-wise error over widths and parts at most $\alpha/2$); INCONCLUSIVE otherwise.
- **envelope** (`envelope_decision`): a point breaks only when
  $L > \mathrm{{env}} + L_{{\text{{floor}}}}$,
  $L_{{\text{{floor}}}} = n(\epsilon(\sqrt m B + \max|y|))^2$ (`float_floor`); VACUOUS when
  the envelope demands a relative decrease below $10^{{-2}}$ over the run.
- **resolution** (`resolution_check`): VACUOUS when a check demands less than its resolution.
- **seed_probability** (`laws.seed_decision`, C2 and C3): the network draw (seed) is the unit — one
  designated neuron per network (the first that meets the premise) is one Bernoulli trial, decided
  by the probability rule over widths; planted networks have correlated neurons (ρ = 0.5). HOLDS
  needs at least 36 networks per width (`laws.seeds_for_power`); the contrast row pools neurons.
  C3 uses it; for C2 it is a diagnostic.
- **seed_fraction** (`laws.fraction_decision`, C2): the network draw is still the unit, but every
  neuron counts — network s gives its failure fraction $f_s\in[0,1]$ (i.i.d. over draws, whatever
  the dependence within a network; $\mathbb E f_s = p$). Per width and group two p-values that
  depend on the set of fractions, never their order: an exact binomial test on Bernoulli-rounded
  fractions (strong when whole groups flip, fractions 0 or ≈ 1) and a constant-bet betting
  e-value (strong on concentrated fractions), combined by a weighted Bonferroni fixed in advance
  (binomial weight 0.6 for HOLDS, 0.8 for VIOLATED). HOLDS when every member's p of
  $p\ge\delta$ is $\le\alpha/2$ (intersection–union); VIOLATED when a Holm-adjusted p of
  $p\le\delta$ is $\le\alpha/2$. Neither part wins on every law (the binomial part alone loses
  on concentrated fractions, the betting part alone on 0/1 fractions), so the rule pays a factor
  of 1/0.6 (or 1/0.8) in p to have both; that is the cost of not knowing the law, not of validity.
  Planted networks: a Beta random effect per network (correlation ρ), neurons binomial given it,
  group sizes m/2.
- **robustness rows**: C7's margin rule, C5's noise exponent and C2's fraction rule
  under the noise the runs produce — skewness ≈ ±2, Student t tails, a spread that depends on the
  level, whole-group flips. C5 and C7 decide on the median over seeds by exact sign tests (10 and
  12 seeds by default); the rows read with `estimand="mean"` show why the mean is not the
  default (no test of a mean is exact at a few seeds).

## Budget of the probability rule

A true claim reaches HOLDS only once the runs can push the upper end below δ. Exact numbers for
δ = {DELTA}, α = {ALPHA}, a true failure rate 0.02 at {PROBABILITY_WIDTHS} widths (IUT: each
width at α/2, the default; α/W: `adjust_holds=True`). Proposed default: {PROBABILITY_RUNS} runs
per width.

{btab}
## Calibration

Standard: a true case VIOLATED at most α = {ALPHA}, a false case HOLDS at most α, a true case
HOLDS at least 0.8 where the budget allows, boundary cases at most α for both; "met" allows
three Monte-Carlo standard errors. Rows marked **no** say why in the planted column.

{markdown_table(rows)}
Not met:

{failing_text}

Counts can differ by a replicate or two between CPUs (a last-bit difference of `log` or of a
quantile moves a replicate that sits at a threshold); `--check` allows two.
"""


_NUM = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def doc_differences(
    old: str, new: str, *, count_tolerance: int = 2, replicates: int = 1000
) -> list[str]:
    """Lines where two renderings differ by more than the tolerance (empty: current).

    Text outside numbers must agree exactly; numbers may differ by ``count_tolerance`` (integers)
    or ``count_tolerance / replicates`` plus print rounding (fractions): a last-bit difference of
    ``log`` or a quantile between CPUs may move a replicate that sits at a threshold.
    """
    a, b = old.splitlines(), new.splitlines()
    if len(a) != len(b):
        return [f"{len(a)} lines against {len(b)}"]
    out = []
    for x, y in zip(a, b):
        if x == y:
            continue
        if _NUM.sub("#", x) != _NUM.sub("#", y):
            out.append(f"text: {x!r} != {y!r}")
            continue
        for u, v in zip(_NUM.findall(x), _NUM.findall(y)):
            fu, fv = float(u), float(v)
            tol = (
                count_tolerance
                if ("." not in u and "e" not in u)
                else count_tolerance / replicates + 0.0011
            )
            if abs(fu - fv) > tol:
                out.append(f"number {u} != {v} in {y!r}")
                break
    return out
