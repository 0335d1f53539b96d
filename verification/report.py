r"""Results on disk: ``summary.json``, ``evidence.npz``, ``report.md`` and PNG figures.

Layout of a results folder::

    summary.json   verdicts (id, status, explanation, measured, bounds, intervals, tested range,
                   config, seed, parts, counterexample, constants), the whole configuration, the
                   seed, package versions, JAX devices, dtype and the x64 flag; no timestamps, so the
                   same configuration and seed give byte-identical files; also the SHA-256 of
                   evidence.npz
    evidence.npz   figure data, key "<claim>/<name>"; written with fixed zip timestamps
                   (byte-deterministic) and read with ``allow_pickle=False``
    report.md      the verdict table, then per claim its statement, two or three sentences and figures
    *.png          figures (matplotlib, Agg)
    timing.json    wall time of the run (kept apart: it changes from run to run)

Every file is written atomically (temporary file in the same folder, then ``os.replace``).

Extension hook: :data:`EXTRA_RENDERERS` is a list of callables ``fn(results_dir: Path) -> str | None``;
``ntk-verify report DIR`` (and every run) calls each, after the claims' sections, and appends the
Markdown it returns to ``report.md`` (``None``: nothing to add). A renderer may write its own PNGs
into ``results_dir`` and link them. The sweep command appends one that renders ``sweep.npz``.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from verification.claims import CLAIMS, PLUGINS, load_extensions, load_plugin
from verification.files import atomic_write
from verification.verdict import Verdict

__all__ = [
    "EXTRA_RENDERERS",
    "FORMAT",
    "ResultsError",
    "atomic_write",
    "check_output_dir",
    "evidence_bytes",
    "load_evidence",
    "summary_dict",
    "write_results",
    "load_results",
    "render",
    "rerender",
    "verdict_table",
]

FORMAT = "ntk-verify/1"
EXTRA_RENDERERS: list[Callable[[Path], str | None]] = []
"""Hooks appending Markdown sections to report.md (see module docstring)."""


class ResultsError(ValueError):
    """A results folder cannot be written (exists) or read (missing, truncated, edited)."""


def check_output_dir(out: str | Path, *, force: bool) -> Path:
    """Create ``out`` if needed; refuse an existing non-empty folder unless ``force``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ResultsError(f"--out: {str(out)!r} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ResultsError(f"--out: {str(out)!r} is not empty; pass --force to overwrite it or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    for tmp in out.glob(".*.tmp"):  # hardening: temporary files of a killed run (atomic_write's names)
        tmp.unlink(missing_ok=True)
    return out


def evidence_bytes(verdicts: list[Verdict]) -> bytes:
    """An .npz archive of every verdict's arrays (keys ``C1/name``), byte-deterministic."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for v in verdicts:
            for name in sorted(v.arrays):
                arr = np.asarray(v.arrays[name])
                arr = arr if arr.flags.c_contiguous else arr.copy(order="C")  # keeps 0-d arrays 0-d
                if arr.dtype.kind not in "biuf":
                    raise ResultsError(f"arrays: {v.claim}/{name} has dtype {arr.dtype}; only numeric arrays are stored")
                member = io.BytesIO()
                np.lib.format.write_array(member, arr, allow_pickle=False)
                info = zipfile.ZipInfo(f"{v.claim}/{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, member.getvalue())
    return buf.getvalue()


def load_evidence(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """Arrays of ``evidence.npz`` grouped by claim id (``allow_pickle=False``)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for key in npz.files:
                cid, _, name = key.partition("/")
                out.setdefault(cid, {})[name] = npz[key]
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise ResultsError(f"{path}: cannot read the evidence archive ({err})") from None
    return out


CHECKSUM_KEY = "content_sha256"
"""Last key of summary.json: SHA-256 of the file's text without this key (an edit is refused)."""


def content_sha256(summary: dict) -> str:
    """SHA-256 of ``summary`` written as summary.json, without its :data:`CHECKSUM_KEY`."""
    return hashlib.sha256(_json({k: v for k, v in summary.items() if k != CHECKSUM_KEY}).encode("utf-8")).hexdigest()


def plugins_used(verdicts: list[Verdict]) -> dict[str, list[str]]:
    """The loaded plug-ins (:data:`verification.claims.PLUGINS`) that gave one of ``verdicts``: name -> claim ids."""
    ids = {v.claim for v in verdicts}
    return {name: [c for c in cids if c in ids] for name, cids in PLUGINS.items() if ids & set(cids)}


def summary_dict(verdicts: list[Verdict], config: dict, environment: dict, evidence_sha256: str) -> dict:
    """The content of ``summary.json`` (no timestamps); ``plugins`` (name -> claim ids) only when a
    plug-in's claim ran, so that ``ntk-verify report`` can reload it."""
    out = {
        "format": FORMAT,
        "seed": config["run"]["seed"],
        "claims": [v.claim for v in verdicts],
        "verdicts": [v.to_dict(include_arrays=False) for v in verdicts],
        "config": config,
        "environment": environment,
        "evidence_sha256": evidence_sha256,
    }
    plugins = plugins_used(verdicts)
    if plugins:
        out["plugins"] = plugins
    return out


def _json(obj) -> str:
    return json.dumps(obj, indent=2, allow_nan=False, ensure_ascii=False) + "\n"  # key order is the code's: deterministic


def write_results(out: str | Path, verdicts: list[Verdict], config: dict, environment: dict, *,
                  elapsed_s: float | None = None) -> Path:
    """Write evidence, summary, figures and report into the (already checked) folder ``out``."""
    out = Path(out)
    (out / "summary.json").unlink(missing_ok=True)  # a crash below must not leave an old summary looking complete
    ev = evidence_bytes(verdicts)
    atomic_write(out / "evidence.npz", ev)
    summary = summary_dict(verdicts, config, environment, hashlib.sha256(ev).hexdigest())
    if elapsed_s is not None:
        atomic_write(out / "timing.json", _json({"wall_seconds": round(float(elapsed_s), 3)}))
    render(out, summary, verdicts)
    summary[CHECKSUM_KEY] = content_sha256(summary)
    atomic_write(out / "summary.json", _json(summary))  # last: its presence marks a complete run
    return out


def load_results(results_dir: str | Path) -> tuple[dict, list[Verdict]]:
    """Read ``summary.json`` and ``evidence.npz``; refuse missing, truncated or edited files."""
    d = Path(results_dir)
    path = d / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: not found (is {str(d)!r} an ntk-verify results folder?)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path}: not valid JSON, truncated or edited ({err})") from None
    if not isinstance(summary, dict) or summary.get("format") != FORMAT:
        raise ResultsError(f"{path}: expected format {FORMAT!r}, got {summary.get('format') if isinstance(summary, dict) else summary!r}")
    if summary.get(CHECKSUM_KEY) != content_sha256(summary):
        raise ResultsError(f"{path}: its content does not match its {CHECKSUM_KEY}; the file was edited or corrupted")
    ev_path = d / "evidence.npz"
    try:
        raw = ev_path.read_bytes()
    except FileNotFoundError:
        raise ResultsError(f"{ev_path}: not found; the run did not finish or the file was removed") from None
    if hashlib.sha256(raw).hexdigest() != summary.get("evidence_sha256"):
        raise ResultsError(f"{ev_path}: SHA-256 differs from summary.json's evidence_sha256; truncated or edited")
    arrays = load_evidence(io.BytesIO(raw))
    try:
        verdicts = [Verdict.from_dict(v, arrays=arrays.get(v["id"], {})) for v in summary["verdicts"]]
    except (KeyError, TypeError, ValueError) as err:
        raise ResultsError(f"{path}: malformed verdict ({err})") from None
    return summary, verdicts


def verdict_table(verdicts: list[Verdict]) -> str:
    """Markdown table: id, source, title, status, key numbers."""
    rows = ["| Claim | Source | Statement | Verdict | Key numbers |", "|---|---|---|---|---|"]
    for v in verdicts:
        claim = CLAIMS.get(v.claim)
        key = claim.summary(v) if claim is not None and claim.summary is not None else ""
        rows.append(f"| {v.claim} | {claim.source if claim else ''} | {claim.title if claim else ''} | "
                    f"**{v.status}** | {key} |")
    return "\n".join(rows)


def _section(v: Verdict, figures: list[str]) -> str:
    claim = CLAIMS.get(v.claim)
    head = f"## {v.claim}: {claim.title} ({claim.source})" if claim else f"## {v.claim}"
    lines = [head, ""]
    if claim:
        lines += [f"$$ {claim.statement} $$", ""]
    lines += [f"**Verdict: {v.status}.** {v.explanation}", ""]
    if v.parts:
        for p in v.parts:
            tag = "" if p.decisive else " (diagnostic, not part of the verdict)"
            lines.append(f"- *{p.name}* — **{p.status}**{tag}: {p.finding}")
        lines.append("")
    if v.counterexample:
        ce = ", ".join(f"{k} = {val}" for k, val in v.counterexample.items())
        lines += [f"Smallest counterexample found: {ce}.", ""]
    if v.constants:
        cs = ", ".join(f"{k} = {val:g}" for k, val in v.constants.items())
        lines += [f"Unknown constants used (the paper's Ω/O): {cs}.", ""]
    tr = ", ".join(f"{k} = {val}" for k, val in v.tested_range.items())
    if tr:
        lines += [f"Tested range: {tr}" + (f"; seed {v.seed}." if v.seed is not None else "."), ""]
    for f in figures:
        lines += [f"![{v.claim}]({f})", ""]
    return "\n".join(lines)


def render(out: Path, summary: dict | None, verdicts: list[Verdict]) -> int:
    """Figures and ``report.md`` from verdicts (no recomputation), then :data:`EXTRA_RENDERERS`.

    Returns the number of sections written (claims plus extras).
    """
    load_extensions()
    out = Path(out)
    parts = ["# ntk-verify report", ""]
    if verdicts:
        env = (summary or {}).get("environment", {})
        parts += [verdict_table(verdicts), ""]
        if env:
            seed = summary.get("seed")
            parts += [(f"Seed {seed}; " if seed is not None else "") + f"dtype {env.get('dtype')}, x64 {env.get('x64')}; "
                      f"JAX {env.get('packages', {}).get('jax')} on {', '.join(env.get('jax_devices', []))}.", ""]
        for v in verdicts:
            claim = CLAIMS.get(v.claim)
            figures = list(claim.plot(v, out)) if claim is not None and claim.plot is not None and v.arrays else []
            parts.append(_section(v, figures))
    sections = len(verdicts)
    for fn in EXTRA_RENDERERS:
        extra = fn(out)
        if extra:
            parts += [extra.rstrip(), ""]
            sections += 1
    if sections:
        atomic_write(out / "report.md", "\n".join(parts).rstrip() + "\n")
    return sections


def rerender(results_dir: str | Path) -> Path:
    """``ntk-verify report DIR``: rebuild report.md and figures from saved results (and extras).

    The plug-ins the results record (``summary.json`` ``plugins``) are loaded unless their claims are
    registered already; one that cannot be loaded, or a verdict whose claim is not registered, is
    refused with one line naming it."""
    d = Path(results_dir)
    if not d.is_dir():
        raise ResultsError(f"DIR: {str(d)!r} is not a folder")
    summary, verdicts = load_results(d) if (d / "summary.json").exists() else (None, [])
    load_extensions()
    for name, ids in (summary or {}).get("plugins", {}).items():
        if all(c in CLAIMS for c in ids):  # already given (e.g. `report --plugin`, or an installed entry point)
            continue
        try:
            load_plugin(name)
        except ValueError as err:
            raise ResultsError(f"{d / 'summary.json'}: plug-in {name!r} of these results cannot be loaded; "
                               f"pass it with --plugin ({err})") from None
    unknown = [v.claim for v in verdicts if v.claim not in CLAIMS]
    if unknown:
        raise ResultsError(f"{d / 'summary.json'}: claim(s) {', '.join(unknown)} are not registered; pass the plug-in "
                           f"that defines them with --plugin MODULE_OR_FILE")
    if not render(d, summary, verdicts):
        raise ResultsError(f"{d / 'summary.json'}: not found, and no other results to render in {str(d)!r}")
    return d / "report.md"
