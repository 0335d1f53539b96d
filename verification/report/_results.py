r"""Results on disk: ``summary.json``, ``evidence.npz``, ``report.md`` and PNG figures.

Layout of a results folder::

    summary.json   verdicts (id, status, explanation, measured, bounds, intervals, tested range,
                   config, seed, parts, counterexample, constants, data_source), the whole
                   configuration, the seed, package versions, JAX devices, dtype and the x64 flag;
                   no timestamps, so the same configuration and seed give byte-identical files; also
                   the SHA-256 of evidence.npz
    evidence.npz   figure data, key "<claim>/<name>"; written with fixed zip timestamps
                   (byte-deterministic) and read with ``allow_pickle=False``
    report.md      the verdict table (theorem and observed verdicts), then per claim first the lines
                   ``Theorem: STATUS — <headline>`` and ``Observed: STATUS — <finding> (rule;
                   scale)`` with the looseness (:mod:`verification.report._presentation`), then its
                   statement, two or three sentences and figures
    *.png          figures (matplotlib, Agg)
    timing.json    wall time of the run and of each claim (kept apart: it changes from run to run)

``summary.json`` ``data_windows``: per data source, where the training windows of its ``[data] n``
data set sit — the placement used (``[data] placement`` resolved: ``"auto"`` spreads the windows
over a real or user series, takes the first for a synthetic family) and the part of the series they
span (:func:`verification.data._placement.window_placement`); report.md says it in one line per
source.

``summary.json`` ``maps`` (only when ``run`` built regime maps: ``[run] maps``, ``run --maps C3``):
one entry ``{claim, status, figure}`` per map, whose numbers are in ``map.json`` and heatmaps in
``map_C*.png`` (:mod:`verification.regime._report`); report.md then has a section "Regime maps"
after the claims, rendered from ``map.json`` (also by ``ntk-verify report DIR``).

``summary.json`` ``errors`` (only when there are some): claims that gave no verdict — a plug-in that
raised, returned no :class:`~verification.rules._verdict.Verdict` or one of another id — or no
figure (its ``plot`` raised), each ``{claim, stage, error, data_source}`` with the exception named;
the other claims' results and the report stay, and report.md lists them under "Errors". A data
source that cannot serve a claim is not an error: that claim's verdict is VACUOUS, naming the source
and the count.

Several data sources in one folder (``ntk-verify run --data a,b``): summary.json also holds
``data_sources`` (in order), ``matrix`` (claim -> source -> status) and ``data_configs`` (source ->
its ``[data]`` section; ``config`` is the first source's); every verdict names its ``data_source``;
evidence keys are ``"<claim>@<k>/<name>"`` (``k`` the source's 0-based position) and figure files
are prefixed by the source (:func:`source_prefix`); report.md shows the verdict matrix (claims ×
sources) above one part per source.

Every file is written atomically (temporary file in the same folder, then ``os.replace``).

Drawing report.md and the figures is :mod:`verification.report._report` (:func:`rerender`
re-runs it from the saved files, its extra sections included).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

from verification.claims import CLAIMS, PLUGINS, load_extensions, load_plugin
from verification.data._placement import window_placement
from verification.data._sources import SourceError
from verification.files import (
    ResultsError,
    atomic_write,
    check_output_folder,
    json_text,
    read_json,
    reporting_write_errors,
)
from verification.report._report import SECTIONS, distinct, render
from verification.rules._verdict import Verdict

__all__ = [
    "FORMAT",
    "CHECKSUM_KEY",
    "check_output_dir",
    "content_sha256",
    "evidence_bytes",
    "load_evidence",
    "summary_dict",
    "write_results",
    "load_results",
    "rerender",
]

FORMAT = "ntk-verify/1"


def check_output_dir(out: str | Path, *, force: bool, create: bool = True) -> Path:
    """Create ``out`` if needed; refuse a file, a folder that cannot be written, or an existing
    non-empty folder unless ``force`` (:func:`verification.files.check_output_folder`).

    ``create=False`` only checks (nothing is left behind: for a check before the work starts)."""
    out = check_output_folder(out, force=force)
    if not create:
        return out
    with reporting_write_errors(out, "results folder"):
        out.mkdir(parents=True, exist_ok=True)
    # temporary files of a killed run (atomic_write's names)
    for tmp in out.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
    return out


def evidence_bytes(verdicts: list[Verdict], tags: list[str] | None = None) -> bytes:
    """An .npz archive of every verdict's arrays (keys ``C1/name``; ``tags[i]`` instead of the claim
    id of verdict ``i`` when given, e.g. ``C1@0``), byte-deterministic."""
    buf = io.BytesIO()
    tags = [v.claim for v in verdicts] if tags is None else tags
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for v, tag in zip(verdicts, tags):
            for name in sorted(v.arrays):
                arr = np.asarray(v.arrays[name])
                arr = arr if arr.flags.c_contiguous else arr.copy(order="C")  # keeps 0-d arrays 0-d
                if arr.dtype.kind not in "biuf":
                    raise ResultsError(
                        f"arrays: {v.claim}/{name} has dtype {arr.dtype}; "
                        "only numeric arrays are stored"
                    )
                member = io.BytesIO()
                np.lib.format.write_array(member, arr, allow_pickle=False)
                info = zipfile.ZipInfo(f"{tag}/{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
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
    return hashlib.sha256(
        _json({k: v for k, v in summary.items() if k != CHECKSUM_KEY}).encode("utf-8")
    ).hexdigest()


def plugins_used(verdicts: list[Verdict]) -> dict[str, list[str]]:
    """The loaded plug-ins (:data:`verification.claims.PLUGINS`) that gave one of ``verdicts``: name
    -> claim ids."""
    ids = {v.claim for v in verdicts}
    return {
        name: [c for c in cids if c in ids] for name, cids in PLUGINS.items() if ids & set(cids)
    }


def _sources_of(verdicts: list[Verdict], config: dict, data_sources: list[str] | None) -> list[str]:
    """The data source of each verdict: ``data_sources`` (parallel to ``verdicts``) or
    ``[data] source``."""
    if data_sources is None:
        return [str(config.get("data", {}).get("source", "haar"))] * len(verdicts)
    if len(data_sources) != len(verdicts):
        raise ValueError(
            f"data_sources: expected one per verdict ({len(verdicts)}), got {len(data_sources)}"
        )
    return list(data_sources)


def _tags(verdicts: list[Verdict], sources: list[str]) -> list[str]:
    """Evidence keys: the claim id for one source; ``claim@k`` (k the source's position) for
    several."""
    order = distinct(sources)
    if len(order) <= 1:
        return [v.claim for v in verdicts]
    return [f"{v.claim}@{order.index(s)}" for v, s in zip(verdicts, sources)]


def data_windows(configs: dict[str, dict]) -> dict[str, dict]:
    """Source -> :func:`verification.data._placement.window_placement` of its ``[data]`` section
    (the windows of ``[data] n``); a section that cannot say (incomplete, the file gone) is left
    out."""
    out = {}
    for source, data_cfg in configs.items():
        try:
            out[source] = window_placement(data_cfg)
        except (SourceError, KeyError, TypeError, ValueError, OSError):
            continue
    return out


def summary_dict(
    verdicts: list[Verdict],
    config: dict,
    environment: dict,
    evidence_sha256: str,
    *,
    data_sources: list[str] | None = None,
    data_configs: dict | None = None,
    errors: list[dict] | None = None,
    maps: list[dict] | None = None,
) -> dict:
    """The content of ``summary.json`` (no timestamps); ``maps`` (the regime maps built:
    :func:`verification.regime._report.run_maps` entries) only when there are some; ``plugins``
    (name -> claim ids) only when a plug-in's claim ran, so that ``ntk-verify report`` can reload
    it; ``errors`` (claims that gave no verdict or no figure:
    :func:`verification.pipeline.claim_error` entries) only when there are some.

    Every verdict carries its ``data_source`` (``data_sources[i]``, default ``[data] source``); with
    several sources the summary adds ``data_sources``, ``matrix`` (claim -> source -> status) and
    ``data_configs`` (source -> ``[data]`` section, default ``config["data"]`` for each). Every
    source's training windows, placement and coverage: ``data_windows`` (:func:`data_windows`)."""
    sources = _sources_of(verdicts, config, data_sources)
    order = distinct(sources)
    configs = {s: (data_configs or {}).get(s, config.get("data", {})) for s in order}
    out = {
        "format": FORMAT,
        "seed": config["run"]["seed"],
        "claims": distinct(v.claim for v in verdicts)
        if len(order) > 1
        else [v.claim for v in verdicts],
        "verdicts": [
            {**v.to_dict(include_arrays=False), "data_source": s} for v, s in zip(verdicts, sources)
        ],
        "config": config,
        "environment": environment,
        "evidence_sha256": evidence_sha256,
    }
    if len(order) > 1:
        matrix: dict[str, dict[str, str]] = {}
        for v, s in zip(verdicts, sources):
            matrix.setdefault(v.claim, {})[s] = v.status
        out["data_sources"] = order
        out["matrix"] = matrix
        out["data_configs"] = configs
    windows = data_windows(configs)
    if windows:
        out["data_windows"] = windows
    plugins = plugins_used(verdicts)
    if plugins:
        out["plugins"] = plugins
    if maps:
        out["maps"] = list(maps)
    if errors:
        out["errors"] = list(errors)
    return out


_json = json_text  # the one JSON layout (verification.files)


def write_results(
    out: str | Path,
    verdicts: list[Verdict],
    config: dict,
    environment: dict,
    *,
    elapsed_s: float | None = None,
    claim_seconds: list | None = None,
    data_sources: list[str] | None = None,
    data_configs: dict | None = None,
    errors: list[dict] | None = None,
    maps: list[dict] | None = None,
) -> Path:
    """Write evidence, summary, figures and report into the (already checked) folder ``out``.

    ``data_sources``: the source of each verdict (default ``[data] source``); several distinct ones
    give the verdict-matrix layout (module docstring), ``data_configs`` their ``[data]`` sections.
    ``errors``: claims that gave no verdict (:func:`verification.pipeline.claim_error`); a figure
    whose ``plot`` raises is appended to this list (stage ``plot``) and the report is written
    without it. ``maps``: the regime maps already written into ``out``
    (:func:`verification.regime._report.run_maps`). A failed write (a full disk) raises
    :class:`ResultsError` naming the files kept."""
    out = Path(out)
    with reporting_write_errors(out):
        return _write_results(
            out,
            verdicts,
            config,
            environment,
            elapsed_s=elapsed_s,
            claim_seconds=claim_seconds,
            data_sources=data_sources,
            data_configs=data_configs,
            errors=[] if errors is None else errors,
            maps=maps,
        )


def _write_results(
    out: Path,
    verdicts,
    config,
    environment,
    *,
    elapsed_s,
    claim_seconds,
    data_sources,
    data_configs,
    errors: list[dict],
    maps: list[dict] | None,
) -> Path:
    # a crash below must not leave an old summary looking complete
    (out / "summary.json").unlink(missing_ok=True)
    sources = _sources_of(verdicts, config, data_sources)
    ev = evidence_bytes(verdicts, _tags(verdicts, sources))
    atomic_write(out / "evidence.npz", ev)
    summary = summary_dict(
        verdicts,
        config,
        environment,
        hashlib.sha256(ev).hexdigest(),
        data_sources=sources,
        data_configs=data_configs,
        errors=errors,
        maps=maps,
    )
    if elapsed_s is not None:
        timing = {"wall_seconds": round(float(elapsed_s), 3)}
        timing["claims"] = [
            {"claim": c, "data_source": s, "seconds": round(float(t), 3)}
            for c, s, t in claim_seconds or []
        ]
        atomic_write(out / "timing.json", _json(timing))
    render(out, summary, verdicts, errors=errors)
    if errors:
        summary["errors"] = errors  # with the figures that could not be drawn
    summary[CHECKSUM_KEY] = content_sha256(summary)
    atomic_write(out / "summary.json", _json(summary))  # last: its presence marks a complete run
    return out


def load_results(results_dir: str | Path) -> tuple[dict, list[Verdict]]:
    """Read ``summary.json`` and ``evidence.npz``; refuse missing, truncated or edited files."""
    d = Path(results_dir)
    path = d / "summary.json"
    summary = read_json(path, f" (is {str(d)!r} an ntk-verify results folder?)")
    if not isinstance(summary, dict) or summary.get("format") != FORMAT:
        raise ResultsError(
            f"{path}: expected format {FORMAT!r}, "
            f"got {summary.get('format') if isinstance(summary, dict) else summary!r}"
        )
    if summary.get(CHECKSUM_KEY) != content_sha256(summary):
        raise ResultsError(
            f"{path}: its content does not match its {CHECKSUM_KEY}; "
            "the file was edited or corrupted"
        )
    ev_path = d / "evidence.npz"
    try:
        raw = ev_path.read_bytes()
    except FileNotFoundError:
        raise ResultsError(
            f"{ev_path}: not found; the run did not finish or the file was removed"
        ) from None
    if hashlib.sha256(raw).hexdigest() != summary.get("evidence_sha256"):
        raise ResultsError(
            f"{ev_path}: SHA-256 differs from summary.json's evidence_sha256; truncated or edited"
        )
    arrays = load_evidence(io.BytesIO(raw))
    try:
        sources = [v.get("data_source", "haar") for v in summary["verdicts"]]
        tags = _tags([Verdict(v["id"], v["status"], "") for v in summary["verdicts"]], sources)
        verdicts = [
            Verdict.from_dict(
                {k: x for k, x in v.items() if k != "data_source"}, arrays=arrays.get(tag, {})
            )
            for v, tag in zip(summary["verdicts"], tags)
        ]
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ResultsError(f"{path}: malformed verdict ({err})") from None
    return summary, verdicts


def rerender(results_dir: str | Path, *, sections: tuple = SECTIONS) -> Path:
    """``ntk-verify report DIR``: rebuild report.md and figures from saved results (and extras).

    The plug-ins the results record (``summary.json`` ``plugins``) are loaded unless their claims
    are registered already; one that cannot be loaded, or a verdict whose claim is not registered,
    is refused with one line naming it."""
    d = Path(results_dir)
    if not d.is_dir():
        raise ResultsError(f"DIR: {str(d)!r} is not a folder")
    summary, verdicts = load_results(d) if (d / "summary.json").exists() else (None, [])
    load_extensions()
    for name, ids in (summary or {}).get("plugins", {}).items():
        # already given (e.g. `report --plugin`, or an installed entry point)
        if all(c in CLAIMS for c in ids):
            continue
        try:
            load_plugin(name)
        except ValueError as err:
            raise ResultsError(
                f"{d / 'summary.json'}: plug-in {name!r} of these results cannot be loaded; "
                f"pass it with --plugin ({err})"
            ) from None
    unknown = [v.claim for v in verdicts if v.claim not in CLAIMS]
    if unknown:
        raise ResultsError(
            f"{d / 'summary.json'}: claim(s) {', '.join(unknown)} are not registered; "
            "pass the plug-in that defines them with --plugin MODULE_OR_FILE"
        )
    if not render(d, summary, verdicts, sections=sections):
        raise ResultsError(
            f"{d / 'summary.json'}: not found, and no other results to render in {str(d)!r}"
        )
    return d / "report.md"
