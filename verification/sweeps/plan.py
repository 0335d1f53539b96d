r"""The configuration of a sweep: ``[run]`` seed, ``[data]`` and ``[sweep]``
(:data:`verification.config.cfg.SWEEP_FIELDS`), its step size (the one reader,
:mod:`verification.training._step_size`), fingerprint and blocks of seeds: seeds
``j*B … (j+1)*B − 1`` (``B = seeds_per_block``) of ``Context.network_seeds`` form **block j**,
covering every width."""

from __future__ import annotations

import hashlib
import json

import jax
import jax.numpy as jnp

from ntk_attention import Params, init_params
from ntk_attention.stability import h0_lambda_max, stability_limit, stability_words
from verification import config as cfg
from verification.contract import Context

__all__ = [
    "FORMAT",
    "SECTIONS",
    "resolve_config",
    "learning_rate",
    "fingerprint",
    "context",
    "block_seeds",
    "config_differences",
    "stability_warning",
]


FORMAT = "ntk-verify-sweep/1"


SECTIONS = ("run", "data", "sweep")
"""Configuration sections a sweep depends on (the ones kept in sweep.json)."""


def resolve_config(path: str | None = None, *, source: str | None = None, **overrides) -> dict:
    """The validated configuration: defaults, then the TOML file, then non-None ``overrides``.

    ``source`` sets ``[data] source`` as if written in the file (its source-dependent defaults
    apply); ``overrides`` are ``[sweep]`` keys (``widths=[64, 256]``, ``seeds=8`` …); they pass the
    same validation as the file (ConfigError naming ``sweep.<key>``).
    """
    override = {"data": {"source": source}} if source is not None else None
    config = cfg.load(path, override=override) if path else cfg.validate(override or {})
    raw = {sec: dict(body) for sec, body in config.items()}
    for key, value in overrides.items():
        if value is not None:
            if key not in cfg.SWEEP_FIELDS:
                raise cfg.ConfigError(
                    f"sweep.{key}: unknown key; allowed keys in [sweep]: "
                    f"{', '.join(cfg.SWEEP_FIELDS)}"
                )
            raw["sweep"][key] = value
    return cfg.validate(raw)  # [sweep] is validated once, there (its cross-checks included)


def learning_rate(config: dict) -> float:
    """The sweep's step size η from ``[sweep] eta``/``eta_mode``, read by the one reader
    (:meth:`verification.contract.Context.learning_rate`: relative to 2/λ_max(H*) of ``[data]``, σ =
    ``[data] sigma``)."""
    # a sweep.json written before [sweep] eta held the step size itself
    if "eta" not in config["sweep"]:
        return float(config["sweep"]["learning_rate"])
    return context(config).learning_rate(config["sweep"], sigma=config["data"]["sigma"])


def fingerprint(config: dict) -> str:
    """SHA-256 of everything that determines a block's numbers: [run], [data], [sweep] but the seed
    count, with the step size η itself in place of how it is configured (``eta``, ``eta_mode``)."""
    sweep = {
        k: v
        for k, v in config["sweep"].items()
        if k not in ("seeds", "eta", "eta_mode", "learning_rate")
    }
    # the key sweeps before `eta` hashed: their folders still resume
    sweep["learning_rate"] = learning_rate(config)
    text = json.dumps(
        {
            "format": FORMAT,
            "run": {"seed": config["run"]["seed"]},
            "data": config["data"],
            "sweep": sweep,
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def context(config):
    return Context(config=config, seed=config["run"]["seed"], quiet=True)


def block_seeds(config: dict) -> list[tuple[int, ...]]:
    """The seeds of each block, in block order."""
    seeds = context(config).network_seeds(config["sweep"]["seeds"])
    b = config["sweep"]["seeds_per_block"]
    return [tuple(seeds[i : i + b]) for i in range(0, len(seeds), b)]


# -------------------------------------------------------------------------------------------- files


def config_differences(old: dict, new: dict) -> list[tuple[str, object, object]]:
    """``(section.key, old value, new value)`` for every key of :data:`SECTIONS` that differs,
    the seed count excepted (more seeds extend a sweep); a key missing on one side shows as None."""
    diffs = []
    for sec in SECTIONS:
        a, b = old.get(sec) or {}, new.get(sec) or {}
        for key in sorted(set(a) | set(b)):
            if (sec, key) != ("sweep", "seeds") and a.get(key) != b.get(key):
                diffs.append((f"{sec}.{key}", a.get(key), b.get(key)))
    return diffs


def stability_warning(config: dict) -> str | None:
    r"""A warning when the sweep's step size is at or past :math:`2/\lambda_{\max}(H(0))`, else
    None.

    :math:`H(0)` is the empirical NTK of the first network seed's draw at the smallest width (the
    nested prefix the sweep trains, where :math:`H(0)` fluctuates most) on the configured data;
    gradient descent on :math:`\frac12\|f - y\|^2` is stable in the NTK regime only for
    :math:`\eta < 2/\lambda_{\max}(H(0))`.
    """
    sweep = config["sweep"]
    ctx = context(config)
    data = ctx.dataset()
    dtype = jnp.dtype(sweep["dtype"])
    seed = ctx.network_seeds(1)[0]
    m = sweep["widths"][0]
    w, a = init_params(
        jax.random.key(seed),
        sweep["widths"][-1],
        sigma=config["data"]["sigma"],
        output_signs=sweep["output_signs"],
        dtype=dtype,
    )
    lmax = h0_lambda_max(Params(w[:m], a[:m]), jnp.asarray(data.X, dtype))
    eta = learning_rate(config)
    if eta < stability_limit(lmax):
        return None
    return (
        f"warning: learning rate {stability_words(eta, lmax)} at width {m}, seed {seed}, "
        f"n = {data.X.shape[0]}: training may diverge (diverged_step in sweep.npz), "
        "and the sweep does not describe the NTK regime"
    )
