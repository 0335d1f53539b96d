"""``ntk-verify run``: check the claims and write a report (:mod:`verification.pipeline` does the
work)."""

from __future__ import annotations

import sys
import time

from verification import config as cfg
from verification import files, pipeline, report
from verification.commands._shared import (
    UsageError,
    add_plugin_option,
    config_for_source,
    enable_x64,
    load_plugins,
    parse_claims,
    parse_sources,
)
from verification.regime import _report as regime_report

__all__ = ["register"]


def _cmd_run(args) -> int:
    load_plugins(args.plugin)
    sources = parse_sources(args.data)
    configs = [config_for_source(args.config, s) for s in (sources or [None])]
    if args.seed is not None:
        if args.seed < 0:
            raise UsageError(f"--seed: expected an integer >= 0, got {args.seed}")
        for config in configs:
            config["run"]["seed"] = args.seed
    if args.maps is not None:
        maps = _parse_maps(args.maps)
        for config in configs:
            config["run"]["maps"] = maps
    if len(configs) > 1 and configs[0]["run"]["maps"]:
        raise UsageError(
            f"{'--maps' if args.maps is not None else 'run.maps'}: "
            "regime maps need one data source, "
            f"got {len(configs)} (--data); run "
            "`ntk-verify map --data SOURCE` per source"
        )
    claims = parse_claims(args.claims)
    for config in configs:
        # before any work
        pipeline.check_memory(config, pipeline.selected_claims(config, claims))
    # a file, or a folder that takes no file: refused before any work
    files.check_output_folder(args.out)
    # refuse now; create once results exist
    report.check_output_dir(args.out, force=args.force, create=False)
    enable_x64()
    for config in configs:
        # a file that cannot be read, or is too short: one line, nothing written
        pipeline.check_data(config)
    t0 = time.perf_counter()
    verdicts, per_verdict_source, errors, timings = [], [], [], []
    for config in configs:
        name = config["data"]["source"]
        context = pipeline.run_context(config, quiet=args.quiet)
        # warn before training: claims the data cannot serve, step sizes past the limit
        ids = pipeline.selected_claims(config, claims)
        for c, why in pipeline.unserved_claims(config, ids, context).items():
            print(
                f"ntk-verify run: warning: {c} reads VACUOUS, decided before any training: {why}",
                file=sys.stderr,
                flush=True,
            )
        stability = pipeline.stability_report(config, claims, context=context)
        for line in pipeline.stability_warnings(stability):
            print(
                "ntk-verify run: warning: "
                f"{'[' + name + '] ' if sources and len(sources) > 1 else ''}{line}",
                file=sys.stderr,
                flush=True,
            )
        got = pipeline.run_claims(
            config, claims, stability=stability, errors=errors, context=context
        )
        seconds = pipeline.claim_seconds(context)
        timings += [(c, config["data"]["source"], seconds[c]) for c in seconds]
        verdicts += got
        per_verdict_source += [name] * len(got)
    out = report.check_output_dir(args.out, force=args.force)
    # [run] maps / --maps; [] by default
    maps = regime_report.run_maps(configs[0], out, quiet=args.quiet, errors=errors)
    elapsed = time.perf_counter() - t0
    report.write_results(
        out,
        verdicts,
        configs[0],
        pipeline.environment(),
        elapsed_s=elapsed,
        claim_seconds=timings,
        data_sources=per_verdict_source,
        data_configs={c["data"]["source"]: c["data"] for c in configs},
        errors=errors,
        maps=regime_report.built_entries(maps),
    )
    if len(configs) > 1:
        for config in configs:
            name = config["data"]["source"]
            print(f"data source {name}:")
            print(
                _text_table([v for v, s in zip(verdicts, per_verdict_source) if s == name]) + "\n"
            )
    else:
        print(_text_table(verdicts))
    for m in maps:
        print(regime_report.map_summary_line(m))
    print(f"\n{len(verdicts)} verdict(s) in {elapsed:.1f} s; report: {out / 'report.md'}")
    print(_time_line(timings, len(configs) > 1))
    # claims without a verdict or a figure: the others' results stay
    for line in pipeline.error_lines(errors):
        print(f"ntk-verify run: error: {line}", file=sys.stderr)
    return 1 if errors else 0


def _parse_maps(text: str) -> list[str]:
    """``--maps C3,C2`` → ``["C2", "C3"]`` (checked as ``[run] maps``), else one line naming the
    flag."""
    try:
        maps = cfg.RUN_FIELDS["maps"].parse("--maps", [c for c in text.split(",") if c.strip()])
    except cfg.ConfigError:
        maps = []
    if not maps:
        raise UsageError(
            f"--maps: expected a comma-separated list of {', '.join(cfg.MAP_CLAIMS)} "
            f"(the claims with a regime map), got {text!r}"
        )
    return maps


def _time_line(timings, several: bool) -> str:
    """Where the time went: each claim's wall seconds (compiles included; timing.json)."""
    parts = [f"{c}{' [' + s + ']' if several else ''} {t:.1f} s" for c, s, t in timings]
    return "time per claim (wall, compiles included): " + ", ".join(parts)


def _text_table(verdicts) -> str:
    # claim, theorem, observed, key numbers (verification.report._presentation)
    return report.text_table(verdicts)


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="check the claims and write a report",
        description="Check the claims C1..; "
        "write summary.json, evidence.npz, report.md and figures to --out.",
    )
    p.add_argument(
        "--config",
        metavar="FILE.toml",
        help="configuration (default: built in; see `ntk-verify config --default`)",
    )
    p.add_argument(
        "--out", default="results", metavar="DIR", help="results folder (default: results/)"
    )
    p.add_argument("--seed", type=int, help="master seed (overrides [run] seed)")
    p.add_argument("--claims", metavar="C1,C3", help="comma-separated claim ids (default: all)")
    p.add_argument(
        "--data",
        metavar="SOURCE[,SOURCE...]",
        help="data source(s), overriding [data] source: a family "
        "(residual, haar, ...), a real series (sunspots, nile, ...), csv:PATH[#COLUMN] "
        "or npy:PATH; several give one report with a verdict matrix (claims x sources)",
    )
    p.add_argument(
        "--maps",
        metavar="C3[,C2]",
        help="also build these claims' regime maps (C1, C2, C3; about 30 s "
        "each) with `ntk-verify map`'s defaults: OUT/map.json, OUT/map_C*.png and a section of "
        "report.md (overrides [run] maps)",
    )
    p.add_argument("--force", action="store_true", help="overwrite a non-empty results folder")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_plugin_option(p)
    p.set_defaults(func=_cmd_run)
