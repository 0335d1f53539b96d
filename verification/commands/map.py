"""``ntk-verify map``: regime maps of C1, C2, C3 over width, time and (C3) :math:`|w_r|`
(docs/theory.md, "Regime maps").

A thin shell over :func:`verification.regime.build_maps`: parse, build the maps on the
configured (or ``--data``) data, write ``OUT/map.json`` (a list, one object per claim:
:func:`verification.regime._map.to_json`) and one heatmap per claim ``OUT/map_C*.png``
(:func:`verification.regime._plot.heatmap`), print a short table (or, with ``--json``, the JSON).
Runs are checkpointed under ``OUT/checkpoints``: an interrupted map resumes where it stopped.
"""

from __future__ import annotations

import math
from pathlib import Path

import jax

from verification import config as cfg
from verification.files import json_text
from verification.regime import _runs as regime_runs
from verification.regime._build import build_maps
from verification.regime._report import figure_name, format_map, write_maps

__all__ = ["register", "parse_widths", "format_map"]  # format_map: verification.regime._report


def _usage(flag: str, expected: str, got) -> cfg.ConfigError:
    return cfg.ConfigError(f"{flag}: expected {expected}, got {got!r}")


def parse_widths(text: str) -> tuple[int, ...]:
    """``--widths 16,64,256`` → ``(16, 64, 256)``; strictly increasing integers >= 2, else one line
    naming the flag."""
    try:
        w = tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise _usage(
            "--widths", "comma-separated integers >= 2, strictly increasing", text
        ) from None
    if not w or any(m < 2 for m in w) or any(b <= a for a, b in zip(w, w[1:])):
        raise _usage("--widths", "comma-separated integers >= 2, strictly increasing", text)
    return w


def _claims(text: str) -> list[str]:
    ids = [c.strip().upper() for c in text.split(",") if c.strip()]
    if not ids or any(c not in regime_runs.MAP_CLAIMS for c in ids) or len(set(ids)) != len(ids):
        raise _usage(
            "--claims",
            f"a comma-separated list of {', '.join(regime_runs.MAP_CLAIMS)}, each once",
            text,
        )
    return ids


def _settings(args) -> regime_runs.MapSettings:
    s = regime_runs.MapSettings()
    kw = {}
    if args.widths is not None:
        kw["widths"] = parse_widths(args.widths)
    if args.seeds is not None:
        if not 1 <= args.seeds <= 1024:
            raise _usage("--seeds", "an integer in [1, 1024]", args.seeds)
        kw["seeds"] = args.seeds
    if args.horizon is not None:
        if not (
            math.isfinite(args.horizon)
            and 1 <= args.horizon <= 1e8
            and args.horizon == round(args.horizon)
        ):
            raise _usage("--horizon", "a whole number of steps in [1, 1e8]", args.horizon)
        kw["horizon"] = int(args.horizon)
    if args.records is not None:
        if not 2 <= args.records <= 200:
            raise _usage("--records", "an integer in [2, 200]", args.records)
        kw["records"] = args.records
    if args.eps is not None:
        if not (math.isfinite(args.eps) and args.eps > 0):
            raise _usage("--eps", "a finite target loss > 0", args.eps)
        kw["eps"] = args.eps
    for flag, name in (("--eta", "eta"), ("--eta-c3", "eta_c3")):
        v = getattr(args, name)
        if v is not None:
            if not (math.isfinite(v) and 0 < v < 1):
                raise _usage(flag, "a fraction in (0, 1) of the stability limit 2/λ_max(H*)", v)
            kw[name] = v
    return s._replace(**kw)


def _cmd_map(args) -> int:
    claims = _claims(args.claims)
    s = _settings(args)
    override = {"data": {"source": args.data}} if args.data is not None else None
    try:
        config = (
            cfg.load(args.config, override=override)
            if args.config
            else cfg.validate(override or {})
        )
    except (
        cfg.ConfigError
    ) as err:  # a bad --data names the flag, not the configuration key it overrides
        text = str(err)
        if args.data is not None and text.startswith("data.source:"):
            raise cfg.ConfigError("--data:" + text[len("data.source:") :]) from None
        raise
    if args.seed is not None:
        if args.seed < 0:
            raise _usage("--seed", "an integer >= 0", args.seed)
        config["run"]["seed"] = args.seed
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise _usage("--out", "a folder", str(out))
    jax.config.update("jax_enable_x64", True)  # λ_min(H*) and long runs need float64
    maps = build_maps(
        config, claims, s, checkpoint_dir=out / "checkpoints", quiet=args.quiet or args.json
    )
    out.mkdir(parents=True, exist_ok=True)
    js = write_maps(out, maps)
    if args.json:
        print(json_text(js), end="")
    else:
        print("\n".join(format_map(m) for m in js))
        print(
            f"wrote {out / 'map.json'} and "
            + ", ".join(str(out / figure_name(m.claim)) for m in maps)
        )
    return 0


def register(subparsers) -> None:
    """Add ``ntk-verify map`` to the CLI (called by
    :func:`verification.commands._cli.build_parser`)."""
    d = regime_runs.MapSettings()
    p = subparsers.add_parser(
        "map",
        help="regime maps: where each conclusion holds over width, time (and |w_r| for C3)",
        description=(
            "Per claim (C1, C2, C3), the conclusion's status on a log grid of (m, t) "
            "(C3 also m x |w_r|), "
            "each cell decided by the probability rule over seeds with its Clopper-Pearson "
            "interval; the observed boundary; the theorem's premise curve; the looseness. "
            "Writes OUT/map.json and OUT/map_C*.png; "
            "runs are checkpointed in OUT/checkpoints (a rerun resumes)."
        ),
    )
    p.add_argument(
        "--claims",
        default="C1,C2,C3",
        metavar="C1,C2,C3",
        help="claims to map (default: all three)",
    )
    p.add_argument(
        "--widths", metavar="M1,M2,...", help=f"widths (default: {','.join(map(str, d.widths))})"
    )
    p.add_argument(
        "--seeds",
        type=int,
        help=f"seeds per width (default {d.seeds}: the fewest at which a cell with "
        "no failure reads HOLDS at δ = 0.1)",
    )
    p.add_argument(
        "--horizon",
        type=float,
        help=f"last step (default {d.horizon:g}; records log-spaced up to it)",
    )
    p.add_argument(
        "--records",
        type=int,
        help=f"log-spaced records from step 1 to the horizon (default {d.records})",
    )
    p.add_argument(
        "--eta",
        type=float,
        help=f"C1, C2 step size as a fraction of 2/λ_max(H*) (default {d.eta:g})",
    )
    p.add_argument(
        "--eta-c3",
        type=float,
        dest="eta_c3",
        help=f"C3 step size as a fraction of 2/λ_max(H*) (default {d.eta_c3:g})",
    )
    p.add_argument(
        "--eps", type=float, help=f"C1's target loss ε, L = ½Σ(f - y)² (default {d.eps:g})"
    )
    p.add_argument(
        "--data",
        metavar="SOURCE",
        help="data source, overriding [data] source (a family, a real series, "
        "csv:PATH[#COLUMN] or npy:PATH)",
    )
    p.add_argument(
        "--config",
        metavar="FILE.toml",
        help="configuration ([data], [run] seed, [C1] c_T, [C2] c_A)",
    )
    p.add_argument("--seed", type=int, help="master seed (overrides [run] seed)")
    p.add_argument("--out", default="maps", metavar="DIR", help="output folder (default: maps/)")
    p.add_argument(
        "--json",
        action="store_true",
        help="print the maps as JSON (keys claim, axes, grid, status, "
        "interval, boundary, premise, looseness)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_map)
