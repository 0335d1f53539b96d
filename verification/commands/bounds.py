"""``ntk-verify bounds``: the theory calculator (:mod:`verification.training._bounds`) for the configured data.

η comes from ``[C1] eta`` through the one step-size reader (:meth:`verification.contract.Context.learning_rate`),
exactly as ``run`` trains C1.
"""

from __future__ import annotations

import json

import jax
import numpy as np

from ntk_attention import empirical_ntk, init_params
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


def _cmd_bounds(args) -> int:
    config = config_for_source(args.config, parse_source(args.data))
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
    enable_x64()
    data_cfg = {**config["data"], "sigma": val["sigma"]}
    ctx = Context(config={**config, "data": data_cfg}, seed=config["run"]["seed"], quiet=True)
    ds = ctx.dataset(val["n"])
    params = init_params(ctx.key("bounds/init"), val["width"], sigma=val["sigma"])
    lmax = float(np.linalg.eigvalsh(np.asarray(empirical_ntk(params, ds.X)))[-1])
    c1 = config.get("C1", {})
    if (
        args.eta is None and c1.get("eta_mode") == "relative"
    ):  # [C1] eta is a fraction of 2/λ_max(H*) of C1's data
        frac, src = inputs["eta"]
        sizes, c1_sigma = c1["sizes"], c1.get("sigma", config["data"]["sigma"])
        val["eta"] = ctx.learning_rate(
            c1, sizes=sizes, sigma=c1_sigma
        )  # the one reader, as `run` trains C1
        inputs["eta"] = (
            val["eta"],
            f"{src} = {frac:g} (relative: η = {frac:g} · 2/λ_max(H*) at the most restrictive "
            f"of C1's sizes n = {', '.join(map(str, sizes))}, σ = {c1_sigma:g}, as `run` trains C1)",
        )
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
    steps = config.get("C1", {}).get("steps")
    if args.json:
        out = bounds.summary(th, steps=steps)
        out["inputs"] = {k: {"value": v, "from": src} for k, (v, src) in inputs.items()}
        out["seed"] = ctx.seed
        print(json.dumps(out, indent=2, sort_keys=True))
        return 0
    X = ds.X
    sources = "; ".join(f"{k} = {v:g} from {src}" for k, (v, src) in inputs.items())
    others = [
        f"[{sec}] eta = {config[sec]['eta']:g}"
        for sec in config  # other claims training the paper's network
        if sec != "C1"
        and sec in CLAIMS
        and CLAIMS[sec].training is not None
        and "eta" in config[sec]
        and config[sec]["eta"] != val["eta"]
        and args.eta is None
    ]
    if others:
        sources += f" (not used: {', '.join(others)}; pass --eta for another step size)"
    ssm = (
        f", SSM N = {config['data']['state_dim']}" if ds.ssm is not None else ""
    )  # a real or user series has none
    print(
        bounds.format_theory(
            th,
            consts,
            header=(
                f"data: n = {X.shape[0]}, d = {X.shape[1]} (source {config['data']['source']}{ssm}, seed {ctx.seed}); "
                f"inputs: {sources}; lambda_max(H(0)) from one draw at m = {val['width']}, key 'bounds/init'; "
                f"backend {jax.default_backend()}"
            ),
        )
    )
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "bounds",
        help='print the theory calculator (docs/theory.md, "Theory calculator") for the configured data',
        description="The theory calculator for the configured data. Training figures (eta, delta, eps, "
        "the width m) come from [C1], sigma and n from [data]; each printed input names its "
        "source; the flags override.",
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
        help="print one JSON object (verification.training._bounds.summary, plus inputs and their sources)",
    )
    p.set_defaults(func=_cmd_bounds)
