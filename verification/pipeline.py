r"""Running the claims: :func:`run_claims`, the stability and memory checks, the run environment.

Nothing here writes files (that is :mod:`verification.report`); the shared data set is
:mod:`verification.datasets`. What the pipeline needs from a claim is declared on its
:class:`verification.contract.Claim` (``preflight``, ``training``, ``memory``), never inferred from
the names of its configuration keys.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import platform

import jax
import jax.numpy as jnp
import numpy as np

from ntk_attention import empirical_ntk, init_params
from verification.claims import CLAIMS, load_extensions
from verification.config import ConfigError
from verification.contract import DIVERGED, Context, memory_bytes, memory_sum, sweep_bytes
from verification.verdict import VACUOUS, Part, Verdict

__all__ = ["run_claims", "check_data", "environment", "selected_claims", "stability_report", "stability_warnings",
           "divergence_verdict", "memory_estimate", "check_memory", "physical_memory", "BASELINE_BYTES"]

PACKAGES = ("ntk-attention", "jax", "jaxlib", "numpy", "scipy", "optax", "matplotlib")


def selected_claims(config: dict, claims: list[str] | None = None) -> list[str]:
    """Claim ids to run: ``claims`` if given, else ``[run] claims``, else every registered claim."""
    load_extensions()
    chosen = claims or config["run"]["claims"] or list(CLAIMS)
    unknown = [c for c in chosen if c not in CLAIMS]
    if unknown:
        raise ValueError(f"claims: unknown claim id(s) {unknown}; registered: {', '.join(CLAIMS)}")
    return [c for c in CLAIMS if c in chosen]


def run_claims(config: dict, claims: list[str] | None = None, *, quiet: bool = False,
               stability: dict | None = None) -> list[Verdict]:
    """Run the selected claims in registry order on one shared :class:`Context`; returns their verdicts.

    A claim whose runs diverged, or whose ``eta`` is past the gradient-descent stability limit
    (``stability``: :func:`stability_report`, computed when ``None``), gets a VACUOUS verdict
    naming η, λ_max(H(0)) and the limit (:func:`divergence_verdict`).
    """
    ids = selected_claims(config, claims)
    stability = stability_report(config, ids) if stability is None else stability
    ctx = Context(config=config, seed=config["run"]["seed"], quiet=quiet)
    for c in ids:  # refuse a bad configuration before any long computation
        if CLAIMS[c].preflight is not None:
            CLAIMS[c].preflight(config[c], ctx)
    verdicts = []
    for c in ids:
        seen = len(ctx.memo.get(DIVERGED, []))
        try:
            v = CLAIMS[c].run(config[c], ctx)
        except Exception as err:  # hardening: a check fed non-finite records of diverged runs
            if not ctx.memo.get(DIVERGED, [])[seen:]:
                raise
            v = Verdict(claim=c, status="VACUOUS", explanation=f"Its checks could not run on them ({err}).",
                        config={c: config[c], "data": config["data"]}, seed=ctx.seed)
        verdicts.append(divergence_verdict(v, ctx.memo.get(DIVERGED, [])[seen:], stability.get(c)))
    return verdicts


def check_data(config: dict) -> None:
    """Build the data set of ``[data]`` with ``n`` windows once (what every claim starts from), so that an
    unreadable file or a too-short source is refused before any work: raises
    :class:`verification.sources.SourceError` (one line naming the source). A claim asking for more
    windows than the source holds is refused when it asks, with the same kind of line."""
    Context(config=config, seed=config["run"]["seed"], quiet=True).dataset()


# ----------------------------------------------------------------------------------------------
# Hardening (issue 8): gradient-descent stability, before training (a warning) and after (the verdict)

def _stability_words(eta: float, lmax: float) -> str:
    limit = 2.0 / lmax if lmax > 0 else float("inf")
    side = "past" if eta >= limit else "below"
    return f"η = {eta:g} is {side} the gradient-descent stability limit 2/λ_max(H(0)) = {limit:.3g} (λ_max(H(0)) = {lmax:.3g})"


def divergence_verdict(v: Verdict, diverged: list[dict], stability: dict | None = None) -> Verdict:
    """``v`` unchanged when no run diverged and η is below the stability limit (``stability``: an
    entry of :func:`stability_report`); else VACUOUS, naming the first diverged run's step, η,
    λ_max(H(0)) and the limit 2/λ_max(H(0)); the claim's own parts stay, as diagnostics."""
    unstable = stability is not None and stability["eta"] >= stability["limit"]
    if not diverged and not unstable:
        return v
    if diverged:
        first = min(diverged, key=lambda e: (e["step"], e["width"], e["seed"]))
        finding = (f"gradient descent diverged in {len(diverged)} run(s); first at step {first['step']} (width "
                   f"{first['width']}, seed {first['seed']}, n = {first['n']}: loss non-finite or above "
                   f"divergence_factor × L(0)); {_stability_words(first['eta'], first['lambda_max_h0'])}.")
    else:
        s = stability
        finding = (f"{_stability_words(s['eta'], s['lambda_max_h0'])} at width {s['width']}, n = {s['n']}, seed "
                   f"{s['seed']}: the step size is outside the regime the theorem describes (no run diverged: the loss "
                   f"stays bounded because f is).")
    why = "diverged" if diverged else "η past 2/λ_max(H(0))"
    parts = (Part("gradient descent stable", VACUOUS, finding, role="premise", why=why),) + tuple(
        dataclasses.replace(p, decisive=False) for p in v.parts)
    return dataclasses.replace(
        v, status=VACUOUS, parts=parts, counterexample=None,
        measured={**v.measured, "diverged_runs": diverged},
        explanation=(f"{finding[0].upper() if finding[0].isascii() else finding[0]}{finding[1:]} The theorem assumes a step size small enough for gradient "
                     f"descent to converge, so these runs cannot test it; the claim's own checks (diagnostics "
                     f"below) include them. {v.explanation}"))


def stability_warnings(stability: dict) -> list[str]:
    """One line per claim of :func:`stability_report` whose ``eta`` is at or past 2/λ_max(H(0))."""
    return [f"{c}: {_stability_words(s['eta'], s['lambda_max_h0'])} at width {s['width']}, n = {s['n']}, seed "
            f"{s['seed']}: training may diverge, and the verdict will be VACUOUS"
            for c, s in stability.items() if s["eta"] >= s["limit"]]


def stability_report(config: dict, claims: list[str] | None = None) -> dict:
    """Per selected claim declaring ``training`` (:class:`verification.contract.TrainingRun`): η,
    λ_max(H(0)) for the largest data size and smallest width of its runs (λ_max grows with n; H(0)
    fluctuates most at small m) and the first network seed, and the limit 2/λ_max(H(0)); of several
    runs, the one with the largest η / limit."""
    ctx = Context(config=config, seed=config["run"]["seed"], quiet=True)
    seed = ctx.network_seeds(1)[0]
    out = {}
    for c in selected_claims(config, claims):
        training = CLAIMS[c].training
        for run in (training(config[c], config["data"]) if training is not None else []):
            n, m = max(run.sizes), min(run.widths)
            p = init_params(jax.random.key(seed), m, sigma=config[c].get("sigma", config["data"]["sigma"]))  # C1 has its own σ
            lmax = float(np.linalg.eigvalsh(np.asarray(empirical_ntk(p, ctx.dataset(n).X)))[-1])
            entry = {"eta": float(run.eta), "lambda_max_h0": lmax, "limit": 2.0 / lmax if lmax > 0 else float("inf"),
                     "width": m, "n": n, "seed": seed}
            if c not in out or entry["eta"] / entry["limit"] > out[c]["eta"] / out[c]["limit"]:
                out[c] = entry
    return out


def environment() -> dict:
    """Package versions, JAX backend and devices, default dtype and the x64 flag (no timestamps)."""
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            versions[p] = None
    return {
        "python": platform.python_version(),
        "packages": versions,
        "jax_backend": jax.default_backend(),
        "jax_devices": [f"{d.platform}:{d.id}:{d.device_kind}" for d in jax.devices()],
        "dtype": str(jnp.zeros(()).dtype),
        "x64": bool(jax.config.jax_enable_x64),
        "numpy_float64_eps": float(np.finfo(np.float64).eps),
    }


# ----------------------------------------------------------------------------------------------
# Hardening (issue 8): refuse sizes that cannot fit in this machine's memory, before any work


def physical_memory() -> int:
    """Bytes of physical memory (``os.sysconf``); 0 when the platform does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


BASELINE_BYTES = 1 << 30
"""Memory a run holds whatever its sizes: the interpreter, JAX, numpy, scipy, matplotlib and the
compiled programs. Measured (peak RSS of a fresh process running ``ntk-verify run`` at tiny sizes,
CPU, jax 0.10): 0.44 GiB for C4, 0.49 GiB for C3, 0.50 GiB for C2; a tiny C5, C6 or C7 run after
another claim adds 40-75 MiB of its own programs (tests/verification/test_memory.py prints these);
rounded up to 1 GiB for other backends and allocator slack. A claim's ``memory`` estimates what
comes on top."""


def memory_estimate(section: dict, data: dict) -> tuple[int, str]:
    r"""Estimated peak bytes (float64) for a section that is not a claim's (``[sweep]``), and why:
    :func:`verification.contract.sweep_bytes` of its ``widths``, ``seeds``, ``steps``,
    ``record_every``, ``seeds_per_block`` at ``n`` (or ``max(sizes)``, else ``[data] n``), and the
    data windows. A claim's section uses the claim's own ``memory``."""
    widths = list(section.get("widths") or ([section["width"]] if "width" in section else []))
    sizes = section.get("sizes")
    n = max(sizes) if isinstance(sizes, list) and sizes else int(section.get("n", data["n"]))
    windows = memory_bytes(d=int(data["d"]), n=n, windows=int(section.get("pool", 0)) + int(section.get("test_windows", 0)))
    if not widths:
        return windows
    steps = int(section.get("steps", 1))
    return memory_sum(sweep_bytes(n=n, widths=widths, seeds=int(section.get("seeds", 1)), steps=steps,
                                  record_every=int(section.get("record_every", steps) or steps),
                                  seeds_per_block=int(section.get("seeds_per_block", 1))), windows)


def check_memory(config: dict, sections: list[str]) -> None:
    """Raise :class:`verification.config.ConfigError` when a section's estimate (its claim's ``memory``,
    else :func:`memory_estimate`) plus :data:`BASELINE_BYTES` exceeds the machine's physical memory,
    naming the section, the estimate and its parts, and the memory. Claims run one after another
    and free what they held (shared sweeps keep only their records), so each is checked alone."""
    total = physical_memory()
    if not total:
        return
    for sec in sections:
        claim = CLAIMS.get(sec)
        if claim is not None:
            if claim.memory is None:
                continue
            need, why = claim.memory(config[sec], config["data"])
        else:
            need, why = memory_estimate(config[sec], config["data"])
        if need + BASELINE_BYTES > total:
            raise ConfigError(f"{sec}: needs about {need / 2**30:.3g} GiB (mostly {why}) plus {BASELINE_BYTES / 2**30:.3g} GiB "
                              f"for Python, JAX and the compiled programs, more than this machine's "
                              f"{total / 2**30:.3g} GiB of physical memory; use smaller sizes")
