"""``ntk-verify bounds``: the theory calculator (:mod:`verification.training._bounds`) for the
configured data.

The calculator's η comes from ``[C1] eta`` through the one step-size resolver
(:meth:`verification.contract.Context.step_size`), exactly as ``run`` trains C1. Below it, every
claim's own step sizes, each with the n, σ and width it is resolved and checked at (the numbers of
``run``'s stability pre-check); a step size at or past 2/λ_max(H(0)) is warned about on stderr.
"""

from __future__ import annotations

import json
import sys

import jax
import numpy as np

from ntk_attention.stability import stability_limit, stability_words
from verification import pipeline
from verification.claims import CLAIMS
from verification.commands._shared import (
    UsageError,
    add_data_option,
    config_for_source,
    enable_x64,
    parse_source,
)
from verification.contract import Context
from verification.training import _bounds as bounds

__all__ = ["register"]


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
        "sigma": (
            args.sigma,
            "--sigma",
            config["data"]["sigma"],
            from_file.format("data") + " sigma",
        ),
        "n": (args.n, "--n", config["data"]["n"], from_file.format("data") + " n"),
    }
    return {
        k: ((flag_value, flag) if flag_value is not None else (value, source))
        for k, (flag_value, flag, value, source) in picks.items()
    }


def _check_flags(args) -> None:
    if args.n is not None and not 2 <= args.n <= 4096:
        raise UsageError(f"--n: expected an integer in [2, 4096], got {args.n}")
    if args.width is not None and args.width < 1:
        raise UsageError(f"--width: expected an integer >= 1, got {args.width}")
    for name in ("eta", "sigma"):
        v = getattr(args, name)
        if v is not None and not (np.isfinite(v) and v > 0):
            raise UsageError(f"--{name}: expected a finite number > 0, got {v}")


def _c1_eta(args, config: dict, ctx: Context, inputs: dict) -> None:
    """A relative ``[C1] eta`` resolved as ``run`` trains C1 (at C1's sizes and σ), in place."""
    c1 = config.get("C1", {})
    if args.eta is not None or c1.get("eta_mode") != "relative":
        return
    frac, src = inputs["eta"]
    sizes, c1_sigma = c1["sizes"], c1.get("sigma", config["data"]["sigma"])
    eta = ctx.step_size(c1, sizes=sizes, sigma=c1_sigma)
    inputs["eta"] = (
        eta,
        f"{src} = {frac:g} (relative: η = {frac:g} · 2/λ_max(H*) at the most restrictive "
        f"of C1's sizes n = {', '.join(map(str, sizes))}, σ = {c1_sigma:g}, as `run` trains C1)",
    )


def _claim_step_sizes(config: dict, ctx: Context) -> dict:
    """Every claim's declared runs (:attr:`verification.contract.Claim.training`) with the η
    ``run`` trains them at, the n, σ and width it was checked at, λ_max(H(0)) and 2/λ_max(H(0))
    (:func:`verification.pipeline.training_step_sizes`, the same numbers as the run's pre-check)."""
    claims = [c for c in CLAIMS if c in config]
    return pipeline.training_step_sizes(config, claims, context=ctx)


def _step_size_lines(per_claim: dict) -> list[str]:
    lines = ["step sizes each claim trains with (the same as `ntk-verify run`):"]
    for c, entries in per_claim.items():
        for e in entries:
            side = "PAST" if e["eta"] >= e["limit"] else "below"
            lines.append(
                f"  {c}: η = {e['eta']:.4g} ({e['eta_mode']} eta = {e['eta_config']:g}) at n = "
                f"{e['n']}, σ = {e['sigma']:g}, width {e['width']}: {side} 2/λ_max(H(0)) = "
                f"{e['limit']:.4g}"
            )
    return lines


def _warnings(th_eta: float, lmax: float, per_claim: dict) -> list[str]:
    out = []
    if th_eta >= stability_limit(lmax):
        out.append(f"warning: {stability_words(th_eta, lmax)}: T_req assumes a stable step size")
    for c, entries in per_claim.items():
        out += [
            f"warning: {c}: {stability_words(e['eta'], e['lambda_max_h0'])} (n = {e['n']}, "
            f"σ = {e['sigma']:g}, width {e['width']})"
            for e in entries
            if e["eta"] >= e["limit"]
        ]
    return out


def _cmd_bounds(args) -> int:
    config = config_for_source(args.config, parse_source(args.data))
    _check_flags(args)
    inputs = _bounds_inputs(args, config)
    enable_x64()
    data_cfg = {**config["data"], "sigma": inputs["sigma"][0]}
    ctx = Context(config={**config, "data": data_cfg}, seed=config["run"]["seed"], quiet=True)
    _c1_eta(args, config, ctx, inputs)
    val = {k: v for k, (v, _) in inputs.items()}
    ds = ctx.dataset(val["n"])
    seed = ctx.network_seeds(1)[0]
    lmax = ctx.lambda_max_h0(val["width"], val["n"], sigma=val["sigma"], seed=seed)
    consts = bounds.configured_constants(config)
    th = bounds.theory(
        np.asarray(ds.X),
        np.asarray(ds.y),
        eta=val["eta"],
        delta=val["delta"],
        eps=val["eps"],
        sigma=val["sigma"],
        width=val["width"],
        lambda_max_h0=lmax,
        constants=consts,
        extended=True,
    )
    per_claim = _claim_step_sizes(config, Context(config, seed=ctx.seed, quiet=True))
    for line in _warnings(val["eta"], lmax, per_claim):
        print(f"ntk-verify bounds: {line}", file=sys.stderr)
    if args.json:
        out = bounds.summary(th, steps=config.get("C1", {}).get("steps"))
        out["inputs"] = {k: {"value": v, "from": src} for k, (v, src) in inputs.items()}
        out["claims"] = per_claim
        out["seed"] = ctx.seed
        print(json.dumps(out, indent=2, sort_keys=True))
        return 0
    sources = "; ".join(f"{k} = {v:g} from {src}" for k, (v, src) in inputs.items())
    ssm = f", SSM N = {config['data']['state_dim']}" if ds.ssm is not None else ""
    header = (
        f"data: n = {ds.X.shape[0]}, d = {ds.X.shape[1]} (source {config['data']['source']}{ssm}, "
        f"seed {ctx.seed}); inputs: {sources}; lambda_max(H(0)) = {lmax:.4g} from one draw at "
        f"m = {val['width']}, n = {val['n']}, σ = {val['sigma']:g}, seed {seed}; "
        f"backend {jax.default_backend()}"
    )
    print(bounds.format_theory(th, consts, header=header))
    print("\n".join(_step_size_lines(per_claim)))
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "bounds",
        help='print the theory calculator (docs/theory.md, "Theory calculator") for the '
        "configured data",
        description="The theory calculator for the configured data. Training figures (eta, "
        "delta, eps, the width m) come from [C1], sigma and n from [data]; each printed input "
        "names its source; the flags override. Then every claim's own step sizes, with the n, "
        "sigma and width each is resolved and checked at (as `ntk-verify run` trains).",
    )
    p.add_argument("--config", metavar="FILE.toml", help="configuration (default: built in)")
    add_data_option(p)
    p.add_argument("--n", type=int, help="number of windows (default: [data] n)")
    p.add_argument("--eta", type=float, help="step size η (default: [C1] eta)")
    p.add_argument(
        "--width",
        type=int,
        metavar="M",
        help="width m for t_align and λ_max(H(0)) (default: max [C1] widths)",
    )
    p.add_argument("--sigma", type=float, help="initialisation scale σ (default: [data] sigma)")
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (verification.training._bounds.summary, plus inputs and "
        "their sources, and 'claims': each claim's step sizes)",
    )
    p.set_defaults(func=_cmd_bounds)
