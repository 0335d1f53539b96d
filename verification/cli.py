"""``ntk-verify``: run the claims, re-render reports, print the theory calculator and the config.

The command line is assembled from registrars, each ``register(subparsers)`` adding one
subcommand whose handler (``set_defaults(func=handler)``) takes the parsed arguments and returns
an exit code: the built-in ``run``, ``report``, ``bounds`` and ``config``, then every module of
:data:`OPTIONAL_COMMAND_MODULES` that exists (``importlib.util.find_spec``), e.g.
``verification.sweep_cmd`` for ``ntk-verify sweep`` and ``verification.calibration`` for
``ntk-verify calibrate``. Installed plug-in claims (entry-point group
``ntk_verify.claims``, :func:`verification.claims.load_extensions`) are loaded first; ``run``,
``report`` and ``config`` also take ``--plugin MODULE_OR_FILE`` (repeatable).

Errors in what the user gave (configuration, folders, claim ids) print one line on stderr and
exit with status 2, without a traceback. Float64 is enabled (``jax_enable_x64``) before ``run``
and ``bounds`` compute (training, H(0) and the data in float64; H* is float64 either way); the summary
records the flag.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import re
import sys
import time
from pathlib import Path

import jax
import numpy as np

from ntk_attention import empirical_ntk, init_params
from verification import bounds, pipeline, report
from verification import config as cfg
from verification.claims import CLAIMS, load_extensions, load_plugin
from verification.contract import Context
from verification.sources import SourceError

__all__ = ["main", "build_parser", "join_negative_values", "OPTIONAL_COMMAND_MODULES"]

OPTIONAL_COMMAND_MODULES = ("verification.sweep_cmd", "verification.data_cmd", "verification.calibration",
                            "verification.regime_cmd")


class UsageError(ValueError):
    """A user error reported as one line with exit status 2."""


def _enable_x64() -> None:
    """Float64 for everything computed after this (λ_min(H*) needs it); recorded in summary.json."""
    jax.config.update("jax_enable_x64", True)


def _load_plugins(specs: list[str] | None) -> None:
    """Register the claims of every ``--plugin`` (a ``.py`` path is made absolute, so that the
    results record a name ``ntk-verify report`` can reload from any folder)."""
    for spec in specs or []:
        name = str(Path(spec).resolve()) if spec.endswith(".py") else spec
        try:
            load_plugin(name)
        except ValueError as err:
            raise UsageError(str(err)) from None


def _add_plugin_option(p) -> None:
    p.add_argument("--plugin", action="append", metavar="MODULE_OR_FILE",
                   help="load claims from a module (dotted name) or a .py file defining CLAIMS or CLAIM (repeatable)")


def _load_config(path: str | None) -> dict:
    return cfg.load(path) if path else cfg.default_config()


def _parse_claims(text: str | None) -> list[str] | None:
    if text is None:
        return None
    ids = [c.strip().upper() for c in text.split(",") if c.strip()]
    unknown = [c for c in ids if c not in CLAIMS]
    if not ids or unknown:
        raise UsageError(f"--claims: expected a comma-separated list of {', '.join(CLAIMS)}, got {text!r}")
    return ids


# ---------------------------------------------------------------------------------------------- run


def _parse_sources(text: str | None) -> list[str] | None:
    """``--data a,b``: the data sources in order (None when not given); each checked as ``[data] source``."""
    if text is None:
        return None
    sources = [t.strip() for t in text.split(",") if t.strip()]
    if not sources:
        raise UsageError(f"--data: expected a comma-separated list of data sources, got {text!r}")
    twice = sorted({s for s in sources if sources.count(s) > 1})
    if twice:
        raise UsageError(f"--data: each source once, got {', '.join(twice)} more than once")
    for s in sources:
        try:
            cfg.data_source(s)
        except (TypeError, ValueError):
            raise UsageError(f"--data: expected {cfg.DATA_FIELDS['source'].allowed}, got {s!r}") from None
    return sources


def _config_for_source(path: str | None, source: str | None) -> dict:
    """The configuration of ``path`` (or the built-in one) with ``[data] source`` set to ``source``
    as if written in the file (so that its source-dependent defaults apply)."""
    override = {"data": {"source": source}} if source is not None else None
    return cfg.load(path, override=override) if path else cfg.validate(override or {})


def _cmd_run(args) -> int:
    _load_plugins(args.plugin)
    sources = _parse_sources(args.data)
    configs = [_config_for_source(args.config, s) for s in (sources or [None])]
    if args.seed is not None:
        if args.seed < 0:
            raise UsageError(f"--seed: expected an integer >= 0, got {args.seed}")
        for config in configs:
            config["run"]["seed"] = args.seed
    claims = _parse_claims(args.claims)
    for config in configs:
        pipeline.check_memory(config, pipeline.selected_claims(config, claims))  # hardening: before any work
    report.check_output_dir(args.out, force=args.force, create=False)  # refuse now; create once results exist
    _enable_x64()
    for config in configs:
        pipeline.check_data(config)  # a file that cannot be read, or is too short: one line, nothing written
    t0 = time.perf_counter()
    verdicts, per_verdict_source = [], []
    for config in configs:
        name = config["data"]["source"]
        stability = pipeline.stability_report(config, claims)  # hardening (issue 8): warn before training
        for line in pipeline.stability_warnings(stability):
            print(f"ntk-verify run: warning: {'[' + name + '] ' if sources and len(sources) > 1 else ''}{line}",
                  file=sys.stderr, flush=True)
        got = pipeline.run_claims(config, claims, quiet=args.quiet, stability=stability)
        verdicts += got
        per_verdict_source += [name] * len(got)
    elapsed = time.perf_counter() - t0
    out = report.check_output_dir(args.out, force=args.force)
    report.write_results(out, verdicts, configs[0], pipeline.environment(), elapsed_s=elapsed,
                         data_sources=per_verdict_source,
                         data_configs={c["data"]["source"]: c["data"] for c in configs})
    if len(configs) > 1:
        for config in configs:
            name = config["data"]["source"]
            print(f"data source {name}:")
            print(_text_table([v for v, s in zip(verdicts, per_verdict_source) if s == name]) + "\n")
    else:
        print(_text_table(verdicts))
    print(f"\n{len(verdicts)} verdict(s) in {elapsed:.1f} s; report: {out / 'report.md'}")
    return 0


def _text_table(verdicts) -> str:
    rows = [("claim", "verdict", "key numbers")]
    for v in verdicts:
        c = CLAIMS.get(v.claim)
        rows.append((f"{v.claim} {c.title if c else ''}", v.status, c.summary(v) if c and c.summary else ""))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    return "\n".join(f"{a:<{w0}}  {b:<{w1}}  {k}" for a, b, k in rows)


def _register_run(sub) -> None:
    p = sub.add_parser("run", help="check the claims and write a report", description="Check the claims C1..; "
                       "write summary.json, evidence.npz, report.md and figures to --out.")
    p.add_argument("--config", metavar="FILE.toml", help="configuration (default: built in; see `ntk-verify config --default`)")
    p.add_argument("--out", default="results", metavar="DIR", help="results folder (default: results/)")
    p.add_argument("--seed", type=int, help="master seed (overrides [run] seed)")
    p.add_argument("--claims", metavar="C1,C3", help="comma-separated claim ids (default: all)")
    p.add_argument("--data", metavar="SOURCE[,SOURCE...]", help="data source(s), overriding [data] source: a family "
                   "(residual, haar, ...), a real series (sunspots, nile, ...), csv:PATH[#COLUMN] or npy:PATH; several "
                   "give one report with a verdict matrix (claims x sources)")
    p.add_argument("--force", action="store_true", help="overwrite a non-empty results folder")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_plugin_option(p)
    p.set_defaults(func=_cmd_run)


# ------------------------------------------------------------------------------------------- report


def _cmd_report(args) -> int:
    _load_plugins(args.plugin)
    path = report.rerender(args.dir)
    print(f"report: {path}")
    return 0


def _register_report(sub) -> None:
    p = sub.add_parser("report", help="re-render report.md and figures from saved results")
    p.add_argument("dir", metavar="DIR", help="a results folder written by `ntk-verify run` (or `sweep`)")
    _add_plugin_option(p)
    p.set_defaults(func=_cmd_report)


# ------------------------------------------------------------------------------------------- bounds


def _bounds_inputs(args, config: dict) -> dict:
    """Each input of the calculator with its value and where it comes from: a flag, a configuration
    section (``[C1]`` for the training figures, ``[data]`` for σ and n) or the built-in default."""
    c1 = config.get("C1", {})
    from_file = f"{args.config} [{{}}]" if args.config else "built-in default [{}]"
    widths = c1.get("widths") or [1024]
    picks = {
        "eta": (args.eta, "--eta", c1.get("eta", 0.05), from_file.format("C1") + " eta"),
        "delta": (None, "", c1.get("delta", 0.1), from_file.format("C1") + " delta"),
        "eps": (None, "", c1.get("eps", 1e-3), from_file.format("C1") + " eps"),
        "width": (args.width, "--width", max(widths), from_file.format("C1") + " max(widths)"),
        "sigma": (args.sigma, "--sigma", config["data"]["sigma"], from_file.format("data") + " sigma"),
        "n": (args.n, "--n", config["data"]["n"], from_file.format("data") + " n"),
    }
    return {k: ((flag_value, flag) if flag_value is not None else (value, source))
            for k, (flag_value, flag, value, source) in picks.items()}


def _cmd_bounds(args) -> int:
    config = _load_config(args.config)
    if args.n is not None and not 2 <= args.n <= 4096:
        raise UsageError(f"--n: expected an integer in [2, 4096], got {args.n}")
    if args.width is not None and args.width < 1:
        raise UsageError(f"--width: expected an integer >= 1, got {args.width}")
    for name in ("eta", "sigma"):
        v = getattr(args, name)
        if v is not None and not (np.isfinite(v) and v > 0):
            raise UsageError(f"--{name}: expected a finite number > 0, got {v}")
    inputs = _bounds_inputs(args, config)
    val = {k: v for k, (v, _) in inputs.items()}
    _enable_x64()
    data_cfg = {**config["data"], "sigma": val["sigma"]}
    ctx = Context(config={**config, "data": data_cfg}, seed=config["run"]["seed"], quiet=True)
    ds = ctx.dataset(val["n"])
    params = init_params(ctx.key("bounds/init"), val["width"], sigma=val["sigma"])
    lmax = float(np.linalg.eigvalsh(np.asarray(empirical_ntk(params, ds.X)))[-1])
    if args.eta is None and config.get("C1", {}).get("eta_mode") == "relative":  # [C1] eta is a fraction of 2/λ_max
        frac, src = inputs["eta"]
        val["eta"] = frac * 2.0 / lmax
        inputs["eta"] = (val["eta"], f"{src} = {frac:g} (relative: η = {frac:g} · 2/λ_max(H(0)))")
    consts = bounds.configured_constants(config)
    th = bounds.theory(np.asarray(ds.X), np.asarray(ds.y), eta=val["eta"], delta=val["delta"], eps=val["eps"],
                       sigma=val["sigma"], width=val["width"], lambda_max_h0=lmax, constants=consts, extended=True)
    steps = config.get("C1", {}).get("steps")
    if args.json:
        out = bounds.summary(th, steps=steps)
        out["inputs"] = {k: {"value": v, "from": src} for k, (v, src) in inputs.items()}
        out["seed"] = ctx.seed
        print(json.dumps(out, indent=2, sort_keys=True))
        return 0
    X = ds.X
    sources = "; ".join(f"{k} = {v:g} from {src}" for k, (v, src) in inputs.items())
    others = [f"[{sec}] eta = {config[sec]['eta']:g}" for sec in config  # other claims training the paper's network
              if sec != "C1" and sec in CLAIMS and CLAIMS[sec].training is not None and "eta" in config[sec]
              and config[sec]["eta"] != val["eta"] and args.eta is None]
    if others:
        sources += f" (not used: {', '.join(others)}; pass --eta for another step size)"
    print(bounds.format_theory(th, consts, header=(
        f"data: n = {X.shape[0]}, d = {X.shape[1]} (SSM N = {config['data']['state_dim']}, seed {ctx.seed}); "
        f"inputs: {sources}; lambda_max(H(0)) from one draw at m = {val['width']}, key 'bounds/init'; "
        f"backend {jax.default_backend()}")))
    return 0


def _register_bounds(sub) -> None:
    p = sub.add_parser("bounds", help="print the theory calculator (docs/theory.md, \"Theory calculator\") for the configured data",
                       description="The theory calculator for the configured data. Training figures (eta, delta, eps, "
                                   "the width m) come from [C1], sigma and n from [data]; each printed input names its "
                                   "source; the flags override.")
    p.add_argument("--config", metavar="FILE.toml", help="configuration (default: built in)")
    p.add_argument("--n", type=int, help="number of windows (default: [data] n)")
    p.add_argument("--eta", type=float, help="step size η (default: [C1] eta)")
    p.add_argument("--width", type=int, metavar="M", help="width m for t_align and λ_max(H(0)) (default: max [C1] widths)")
    p.add_argument("--sigma", type=float, help="initialisation scale σ (default: [data] sigma)")
    p.add_argument("--json", action="store_true", help="print one JSON object (verification.bounds.summary, plus inputs and their sources)")
    p.set_defaults(func=_cmd_bounds)


# ------------------------------------------------------------------------------------------- config


def _cmd_config(args) -> int:
    _load_plugins(args.plugin)
    if args.check:
        try:
            config = cfg.load(args.check)
        except cfg.ConfigError as err:  # cfg.load names --config, the flag of `run`
            text = str(err)
            raise cfg.ConfigError("--check" + text[len("--config"):] if text.startswith("--config") else text) from None
        pipeline.check_memory(config, pipeline.selected_claims(config))  # the same refusal as `run`
        print(f"{args.check}: valid")
        return 0
    print(cfg.to_toml(cfg.default_config()), end="")
    return 0


def _register_config(sub) -> None:
    p = sub.add_parser("config", help="print the default configuration as TOML, or check a file")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--default", action="store_true", help="print the built-in configuration (TOML, commented)")
    g.add_argument("--check", metavar="FILE.toml", help="validate a configuration file")
    _add_plugin_option(p)
    p.set_defaults(func=_cmd_config)


BUILTIN_COMMANDS = (_register_run, _register_report, _register_bounds, _register_config)


def _optional_registrars():
    """``register`` of every module of :data:`OPTIONAL_COMMAND_MODULES` that exists."""
    return [importlib.import_module(name).register for name in OPTIONAL_COMMAND_MODULES
            if importlib.util.find_spec(name) is not None]


def build_parser() -> argparse.ArgumentParser:
    """The ``ntk-verify`` parser: built-in subcommands, then optional command modules."""
    load_extensions()
    parser = argparse.ArgumentParser(
        prog="ntk-verify",
        description="Numerical, honest checks of the NTK theory of 'Curse of Attention' (arXiv 2412.06061).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in (*BUILTIN_COMMANDS, *_optional_registrars()):
        register(sub)
    return parser


_NEGATIVE_VALUE = re.compile(r"^-[0-9.][0-9.,eE+-]*$")


def join_negative_values(argv: list[str]) -> list[str]:
    """``--opt -64,32`` as ``--opt=-64,32``: argparse reads a token starting with ``-`` that is not a
    plain number (``-64,32``) as an option and says "expected one argument"; joined, the value
    reaches the option's own check, which names it."""
    out, i = [], 0
    while i < len(argv):
        tok = argv[i]
        if (tok.startswith("--") and "=" not in tok and i + 1 < len(argv) and _NEGATIVE_VALUE.match(argv[i + 1])):
            out.append(f"{tok}={argv[i + 1]}")
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ntk-verify`` console script; returns the exit status.

    ``run`` and ``bounds`` switch JAX to float64 once their arguments are validated.
    """
    import matplotlib

    matplotlib.use("Agg")
    parser = build_parser()
    args = parser.parse_args(join_negative_values(sys.argv[1:] if argv is None else list(argv)))
    try:
        return int(args.func(args) or 0)
    except (cfg.ConfigError, report.ResultsError, UsageError, SourceError) as err:
        print(f"ntk-verify {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ntk-verify {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
