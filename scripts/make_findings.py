"""Generate ``docs/findings.md`` from the ``summary.json`` that ``ntk-verify run`` writes.

    python scripts/make_findings.py [SUMMARY] [--evidence EVIDENCE.npz] [--sources SOURCES.json]
                                    [--out FINDINGS.md] [--check]

``SUMMARY`` defaults to ``docs/default_summary.json`` (a run of the built-in default
configuration, committed) and ``--evidence`` to the file beside it named like it with
``summary.json`` replaced by ``evidence.npz`` (``docs/default_evidence.npz``: the same run's
``evidence.npz``, whose SHA-256 must match the summary's; the claims' one-line summaries read their
figure data from it; without it they may be empty), ``--out`` to ``docs/findings.md``. ``--check``
writes nothing and exits with status 1 when the file on disk differs from what the summary gives
(the test suite does the same, so the findings cannot drift from the summary). Every number in the
output comes from these two files; claim titles, sources and statements come from the claim registry
(:data:`verification.claims.CLAIMS`). Each claim's section says which decisive parts decided it and
by which rule (the text after "Rule:" in a part's finding) and, for C1–C4, which regime the run
reached (t/T_req, T/t_align, the premise fraction, the widths tested), read from the verdict's
numbers.

The file opens with one screen: per claim the theorem verdict (premises first, with its headline of
parts counted by status), the observed verdict (its conclusion as an empirical law, with the rule
that decided it, and the budget for power 0.8 where INCONCLUSIVE), the scale of the observation
and its looseness (:mod:`verification.report._presentation`); "—" where a verdict carries no
observed one.

``--sources`` (default ``docs/sources_summary.json``, used when it exists) is the ``summary.json``
of a run over several data sources (``scripts/make_sources_summary.py``); its matrix (claims ×
sources, each cell theorem / observed) follows the opening table, and a section "Verdicts across
data sources" gives each claim and source with headline, scale and looseness, and the command that
produced it.

To refresh the findings after a change to the claims or their defaults: the commands, in order, are
in the docstring of ``scripts/make_sources_summary.py`` (default run, sources run, then this
script).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _docgen import write_or_check  # noqa: E402

from verification.claims import load_extensions  # noqa: E402
from verification.report._presentation import (  # noqa: E402
    COLUMNS,
    fmt,  # re-exported: tests and readers use make_findings.fmt
    overview_table,
    source_rows,
    tally,
    verdict_lines,
    verdict_matrix,
    verdict_table,
)
from verification.report._presentation import cell as _cell  # noqa: E402
from verification.rules._verdict import Verdict  # noqa: E402

DEFAULT_SUMMARY = ROOT / "docs" / "default_summary.json"
DEFAULT_OUT = ROOT / "docs" / "findings.md"
DEFAULT_SOURCES = ROOT / "docs" / "sources_summary.json"

MEANING = {
    "HOLDS": "every measurement within the bound over the tested range, intervals included",
    "VIOLATED": "a reproducible counterexample (the smallest found, with its seed)",
    "VACUOUS": "the hypotheses cannot be met or checked at this precision or size",
    "INCONCLUSIVE": "the intervals straddle the bound",
}


def _table(rows: dict, header=("quantity", "value"), render=fmt) -> list[str]:
    if not rows:
        return []
    out = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    out += [f"| `{_cell(k)}` | {_cell(render(v))} |" for k, v in rows.items()]
    return out + [""]


def _interval(v) -> str:
    if isinstance(v, (list, tuple, np.ndarray)) and len(v) == 2 and all(np.ndim(x) == 0 for x in v):
        return f"[{fmt(v[0])}, {fmt(v[1])}]"
    return fmt(v)


def _claim_info(cid: str):
    from verification.claims import CLAIMS

    return CLAIMS.get(cid)


def rule_of(finding: str) -> str | None:
    """The text after the first "Rule:" in a part's finding (trailing period dropped), or None."""
    head, sep, tail = str(finding).partition("Rule:")
    text = tail.strip().rstrip(".").strip()
    return text if sep and text else None


def decided_by(v) -> str | None:
    """ "Decided by: ..." — each decisive part with its status and its rule (or its name alone)."""
    items = []
    for p in v.parts:
        if not p.decisive:
            continue
        rule = rule_of(p.finding)
        role = "premise " if p.role == "premise" else ""  # premises decide first (combine_parts)
        items.append(f"{role}{p.name}: **{p.status}**" + (f" ({rule})" if rule else ""))
    return "Decided by: " + "; ".join(items) + "." if items else None


def _number(x):
    """``x`` as a float, or None when it is not a finite-or-infinite real number."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        return None
    return float(x)


def _numeric(x) -> bool:
    """Whether ``x`` is a real number or a non-empty list of them."""
    if isinstance(x, list):
        return bool(x) and all(_number(e) is not None for e in x)
    return _number(x) is not None


def _regime_c1(v) -> list[str]:
    steps = _number(v.tested_range.get("steps"))
    out = []
    for key, value in v.bounds.items():
        if not (key.startswith("T_req[") and key.endswith("]")):
            continue
        size, t_req = key[len("T_req[") : -1], _number(value)
        if t_req is None or t_req <= 0 or steps is None:
            continue
        text = f"{size}: t/T_req = {fmt(steps)}/{fmt(t_req)} = {fmt(steps / t_req)}"
        if f"linearised_loss_at_T_req_max[{size}]" in v.measured:
            text += " (T_req reached in the linearised model)"
        out.append(text)
    return out


def _regime_c2(v) -> list[str]:
    out = []
    widths = v.tested_range.get("widths")
    ratio = v.measured.get("t_over_t_align")
    if ratio is None:
        steps, t_align = _number(v.tested_range.get("steps")), v.bounds.get("t_align")
        if steps is not None and _numeric(t_align) and isinstance(t_align, list) and all(t_align):
            ratio = [steps / float(t) for t in t_align]
        elif steps is not None and _number(t_align):
            ratio = steps / float(t_align)
    if _numeric(ratio):
        out.append(
            f"T/t_align = {fmt(ratio)}" + (f" at m = {fmt(widths)}" if _numeric(widths) else "")
        )
    if _numeric(v.measured.get("data_term_fraction")):
        out.append(f"data-term fraction at t = 0 {fmt(v.measured['data_term_fraction'])}")
    return out


def _regime_c3(v) -> list[str]:
    if not _numeric(v.measured.get("negative_fraction")):
        return []
    widths = v.tested_range.get("widths")
    text = f"premise fraction of w_r(T) < 0 = {fmt(v.measured['negative_fraction'])}"
    if _numeric(widths):
        text += f" at m = {fmt(widths)}"
    if _numeric(v.bounds.get("one_minus_delta")):
        text += f" vs 1 − δ = {fmt(v.bounds['one_minus_delta'])}"
    if isinstance(v.measured.get("premise_status"), str):
        text += f" (premise {v.measured['premise_status']})"
    return [text]


def _regime_c4(v) -> list[str]:
    widths = v.tested_range.get("widths")
    if not isinstance(widths, list) or not widths:
        return []
    nums = [_number(w) for w in widths]
    if any(n is None for n in nums):
        return []
    text = f"{len(widths)} widths tested, m = {fmt(widths)}"
    seeds = v.tested_range.get("seeds")
    if isinstance(seeds, list):
        text += f" × {len(seeds)} seeds"
    return [text]


REGIME = {"C1": _regime_c1, "C2": _regime_c2, "C3": _regime_c3, "C4": _regime_c4}


def regime_reached(v) -> str | None:
    """ "Regime reached: ..." from the verdict's measured/bounds/tested_range; None when nothing is
    there."""
    try:
        items = REGIME[v.claim](v) if v.claim in REGIME else []
    except (
        TypeError,
        ValueError,
        AttributeError,
        ZeroDivisionError,
    ):  # a malformed number: no line
        items = []
    return "Regime reached: " + "; ".join(items) + "." if items else None


def _section(v) -> list[str]:
    info = _claim_info(v.claim)
    title = f"{v.claim}: {info.title} ({info.source})" if info else v.claim
    lines = [f"## {title}", ""]
    for line in verdict_lines(
        v
    ):  # first: theorem (premises first), observed law, looseness, budget
        lines += [line, ""]
    if info:
        lines += ["$$", info.statement.strip(), "$$", ""]
    lines += [v.explanation, ""]
    for line in (decided_by(v), regime_reached(v)):
        if line:
            lines += [line, ""]
    if v.parts:
        lines += ["| checked part | verdict | finding |", "|---|---|---|"]
        for p in v.parts:
            tag = "" if p.decisive else " (diagnostic)"
            lines.append(f"| {_cell(p.name)} | {p.status}{tag} | {_cell(p.finding)} |")
        lines.append("")
    if v.counterexample:
        lines += [
            "Smallest counterexample found: "
            + ", ".join(f"{k} = {fmt(x)}" for k, x in v.counterexample.items())
            + ".",
            "",
        ]
    if v.measured:
        lines += ["Measured:", ""] + _table(v.measured)
    if v.bounds:
        lines += ["Bounds it is checked against:", ""] + _table(v.bounds, ("bound", "value"))
    if v.intervals:
        lines += ["Intervals:", ""] + _table(v.intervals, ("quantity", "interval"), _interval)
    if v.tested_range:
        lines += [
            "Tested range: "
            + "; ".join(f"{k} = {fmt(x)}" for k, x in v.tested_range.items())
            + (f"; seed {v.seed}." if v.seed is not None else "."),
            "",
        ]
    if v.constants:
        lines += [
            "Unknown constants of the paper's Ω/O, as used: "
            + ", ".join(f"{k} = {fmt(x)}" for k, x in v.constants.items())
            + ".",
            "",
        ]
    own = {k: x for k, x in v.config.items() if k != "data"}  # [data] is shown once, at the top
    own = own.get(v.claim, own) if set(own) == {v.claim} else own
    if own:
        lines += [
            "Configuration: " + ", ".join(f"{k} = {fmt(x)}" for k, x in own.items()) + ".",
            "",
        ]
    return lines


def evidence_beside(summary_path: Path) -> Path:
    """``X/summary.json`` -> ``X/evidence.npz``; ``docs/default_summary.json`` ->
    ``docs/default_evidence.npz``."""
    return summary_path.with_name(summary_path.name.replace("summary", "evidence")).with_suffix(
        ".npz"
    )


def load_arrays(evidence: Path, summary: dict) -> dict:
    """Figure data by claim id from ``evidence``, refused unless its SHA-256 is the summary's."""
    from verification.report import load_evidence

    raw = evidence.read_bytes()
    if hashlib.sha256(raw).hexdigest() != summary.get("evidence_sha256"):
        raise ValueError(
            f"evidence: {evidence} is not the evidence of this summary "
            "(SHA-256 differs from evidence_sha256)"
        )
    return load_evidence(evidence)


def _sources_verdicts(sources: dict) -> tuple[list[str], list[str], list, list[str]]:
    """Data sources in order, claims in order, and the verdicts with their sources, of a
    multi-source summary.json. The ``matrix`` (claim -> source -> theorem status) is authoritative;
    a cell whose verdict is not listed (an older file) is a verdict of that status without parts or
    observed."""
    if not isinstance(sources, dict) or not isinstance(sources.get("matrix"), dict):
        raise ValueError(
            "sources: expected the parsed summary.json of `ntk-verify run --data A,B,...` "
            "(a dict with 'matrix': {claim: {source: status}})"
        )
    matrix = sources["matrix"]
    order = list(sources.get("data_sources") or [])
    for by in matrix.values():
        order += [s for s in by if s not in order]
    listed = sources.get("claims") or []
    claims = [c for c in listed if c in matrix] + [c for c in matrix if c not in listed]
    found = {}
    for d in sources.get("verdicts") or []:
        if isinstance(d, dict) and "id" in d:
            found[(d["id"], d.get("data_source"))] = Verdict.from_dict(
                {k: x for k, x in d.items() if k != "data_source"}
            )
    verdicts, where = [], []
    for cid in claims:
        for s in order:
            if s in matrix[cid]:
                v = found.get((cid, s))
                verdicts.append(
                    v
                    if v is not None and v.status == matrix[cid][s]
                    else Verdict(cid, matrix[cid][s], "")
                )
                where.append(s)
    return order, claims, verdicts, where


def sources_command(sources: dict) -> str:
    """The ``ntk-verify run --data … --claims …`` command that produced a multi-source
    summary.json."""
    order, claims, _, _ = _sources_verdicts(sources)
    return f"ntk-verify run --data {','.join(order)} --claims {','.join(claims)}"


def sources_glance(
    sources: dict, *, source: str = "docs/sources_summary.json", default: str | None = None
) -> list[str]:
    """The one-screen matrix (claims × data sources, each cell theorem / observed) for the top of
    findings.md; ``default``: the default run's data source, named as such when it is one of
    them."""
    order, _, verdicts, where = _sources_verdicts(sources)
    which = f"; `{default}` is the default data of the table above" if default in order else ""
    return [
        f"Across {len(order)} data sources ([`{Path(source).name}`]({Path(source).name}), seed "
        f'{sources.get("seed")}{which}; details in "Verdicts across data sources"), '
        "theorem / observed:",
        "",
        verdict_matrix(verdicts, where),
        "",
    ]


def sources_section(sources: dict, *, source: str = "docs/sources_summary.json") -> list[str]:
    """The section "Verdicts across data sources" from a multi-source ``summary.json``: the command
    that produced it, and per claim and source the theorem verdict with its headline, the observed
    verdict, its scale and looseness."""
    order, _, verdicts, where = _sources_verdicts(sources)
    return [
        "## Verdicts across data sources",
        "",
        f"The same claims on {len(order)} data sources, "
        f"from [`{Path(source).name}`]({Path(source).name}), "
        f"produced by `{sources_command(sources)}` (seed {sources.get('seed')}; "
        "`python scripts/make_sources_summary.py` runs it and writes the file):",
        "",
        source_rows(verdicts, where),
        "",
    ] + c2_onset_across_sources(verdicts, where)


def c2_onset_across_sources(verdicts, where) -> list[str]:
    r"""C2's onset against v_min across data sources: per source the median network's onset of 1-δ
    agreement at the widest width (``measured["median_onset"]``), v_min, η and λ, and the fitted
    exponent of log onset on log v_min (:func:`verification.rules.loglog_slope`, theory −1:
    :math:`t_{align} \propto m/(\eta\lambda v_{\min})`), beside the same fit of onset × ηλ (η and λ
    differ across sources too). Uninformative with fewer than 3 sources whose onset is finite and
    after the first record (t = 1: censored). Nothing when no C2 verdict carries those numbers."""
    rows = []
    for v, s in zip(verdicts, where):
        M = v.measured if v.claim == "C2" else {}
        onset, v_min, eta, lam = (M.get(k) for k in ("median_onset", "v_min", "eta", "lam"))
        if not (
            isinstance(onset, list)
            and onset
            and _number(onset[-1]) is not None
            and all(_number(x) is not None for x in (v_min, eta, lam))
        ):
            continue
        widths = v.tested_range.get("widths") or ["?"]
        rows.append((s, widths[-1], float(onset[-1]), float(v_min), float(eta), float(lam)))
    if not rows:
        return []
    lines = [
        "C2's onset against v_min across sources "
        "(theory: t_align ∝ m/(ηλ v_min), exponent −1 in v_min; "
        "median network's onset of 1-δ agreement at the widest width):",
        "",
        "| source | m | median onset | v_min | η | λ |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| `{s}` | {m} | {fmt(t)} | {fmt(vm)} | {fmt(e)} | {fmt(la)} |"
        for s, m, t, vm, e, la in rows
    ]
    ok = [r for r in rows if np.isfinite(r[2]) and r[2] > 1 and r[3] > 0 and r[4] > 0 and r[5] > 0]
    if len(ok) < 3 or len({r[3] for r in ok}) < 2:
        why = (
            f"{len(ok)} source(s) with a finite onset after the first record"
            if len(ok) < 3
            else "one v_min across sources"
        )
        return lines + [
            "",
            (
                f"Exponent of onset in v_min: uninformative ({why}; "
                "the fit needs 3 at 2 or more v_min)."
            ),
            "",
        ]
    from verification.rules import loglog_slope, rate_status

    x = np.array([r[3] for r in ok])
    words = []
    for name, y in (
        ("onset", np.array([r[2] for r in ok])),
        ("onset × ηλ", np.array([r[2] * r[4] * r[5] for r in ok])),
    ):
        f = loglog_slope(x, y)
        words.append(
            f"{name} ∝ v_min^{f.slope:.2f} [{f.lo:.2f}, {f.hi:.2f}] "
            f"({rate_status(f.lo, f.hi, exponent=-1.0, margin=0.1)} against −1, Δ = 0.1)"
        )
    return lines + [
        "",
        f"Exponent across {len(ok)} sources (least squares, t interval, {len(ok) - 2} d.o.f.): "
        + "; ".join(words)
        + ". A diagnostic: the sources differ in more than v_min.",
        "",
    ]


def render_findings(
    summary: dict,
    *,
    source: str = "docs/default_summary.json",
    arrays: dict | None = None,
    sources: dict | None = None,
    sources_source: str = "docs/sources_summary.json",
) -> str:
    """The Markdown of ``findings.md`` for a parsed ``summary.json`` (``arrays``: figure data by
    claim; ``sources``: a parsed multi-source summary.json whose verdict matrix opens the file
    beside the default run's table, with its own section below).

    It opens with one screen: per claim the theorem verdict (with its headline), the observed
    verdict (with its rule), the observation's scale and looseness; then the same across sources."""
    if not isinstance(summary, dict) or "verdicts" not in summary:
        raise ValueError(
            "summary: expected the parsed summary.json of `ntk-verify run` (a dict with 'verdicts')"
        )
    load_extensions()
    verdicts = [
        Verdict.from_dict(
            {k: x for k, x in v.items() if k != "data_source"},
            arrays=(arrays or {}).get(v["id"], {}),
        )
        for v in summary["verdicts"]
    ]
    env = summary.get("environment", {})
    lines = [
        "# Findings under the default configuration",
        "",
        f"<!-- generated by scripts/make_findings.py from {source}; do not edit by hand -->",
        "",
        f"What `ntk-verify run` concludes about each claim of the paper on the built-in default "
        f"configuration (seed {summary.get('seed')}): {len(verdicts)} claims; {tally(verdicts)}. "
        f"Generated from [`{Path(source).name}`]({Path(source).name}) "
        "by `scripts/make_findings.py`; "
        "every number below is read from that file.",
        "",
        overview_table(verdicts),
        "",
    ]
    if sources is not None:
        lines += sources_glance(
            sources,
            source=sources_source,
            default=summary.get("config", {}).get("data", {}).get("source"),
        )
    lines += [
        COLUMNS,
        "",
        "Statuses: " + "; ".join(f"**{s}**: {m}" for s, m in MEANING.items()) + ".",
        "",
        "Key numbers:",
        "",
        verdict_table(verdicts),
        "",
    ]
    if env:
        pk = env.get("packages", {})
        lines += [
            f"Run on JAX {pk.get('jax')} ({', '.join(env.get('jax_devices', []))}), default dtype "
            f"{env.get('dtype')}, x64 {env.get('x64')}, Python {env.get('python')}.",
            "",
        ]
    data = summary.get("config", {}).get("data")
    if data:
        lines += [
            "Data (`[data]`): " + ", ".join(f"{k} = {fmt(x)}" for k, x in data.items()) + ".",
            "",
        ]
    if sources is not None:
        lines += sources_section(sources, source=sources_source)
    for v in verdicts:
        lines += _section(v)
    return "\n".join(lines).rstrip() + "\n"


def read_json(path: Path):
    """The JSON in ``path``, or ``None`` after a one-line error on stderr."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        print(f"make_findings: error: cannot read {path} ({err})", file=sys.stderr)
        return None


def relative_name(path: Path) -> str:
    """``path`` relative to the repository root, else its file name."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return path.name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "summary", nargs="?", default=str(DEFAULT_SUMMARY), help="summary.json of `ntk-verify run`"
    )
    parser.add_argument(
        "--evidence",
        help="evidence.npz of the same run (default: beside SUMMARY, e.g. "
        "default_summary.json -> default_evidence.npz)",
    )
    parser.add_argument(
        "--sources",
        help="summary.json of a run over several data sources (default: "
        "docs/sources_summary.json when it exists)",
    )
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="Markdown file to write")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if --out differs from what the summary gives"
    )
    args = parser.parse_args(argv)
    summary_path = Path(args.summary)
    summary = read_json(summary_path)
    if summary is None:
        return 2
    source = relative_name(summary_path)
    evidence = Path(args.evidence) if args.evidence else evidence_beside(summary_path)
    try:
        arrays = load_arrays(evidence, summary) if evidence.exists() else None
    except ValueError as err:
        print(f"make_findings: error: {err}", file=sys.stderr)
        return 2
    sources_path = Path(args.sources) if args.sources else DEFAULT_SOURCES
    sources = None
    if args.sources or sources_path.exists():
        sources = read_json(sources_path)
        if sources is None:
            return 2
    sources_source = relative_name(sources_path)
    try:
        text = render_findings(
            summary, source=source, arrays=arrays, sources=sources, sources_source=sources_source
        )
    except ValueError as err:
        print(f"make_findings: error: {err}", file=sys.stderr)
        return 2
    return write_or_check(
        Path(args.out),
        text,
        check=args.check,
        prog="make_findings",
        command=f"python scripts/make_findings.py {args.summary}",
    )


if __name__ == "__main__":
    sys.exit(main())
