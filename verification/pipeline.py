r"""Running the claims: :func:`run_claims`, the stability and memory checks, the run environment.

Nothing here writes files (that is :mod:`verification.report`); the shared data set is
:mod:`verification.data._datasets`. What the pipeline needs from a claim is declared on its
:class:`verification.contract.Claim` (``preflight``, ``training``, ``memory``), never inferred from
the names of its configuration keys.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

from ntk_attention.stability import stability_limit, stability_words
from verification.claims import BUILTIN, CLAIMS, load_extensions
from verification.config import ConfigError
from verification.contract import DIVERGED, STEP_SIZES, Context, StepSize
from verification.data._sources import SourceError
from verification.rules._verdict import VACUOUS, Part, Verdict
from verification.training._memory import BASELINE_BYTES, memory_estimate, physical_memory

__all__ = [
    "run_claims",
    "run_context",
    "unserved_claims",
    "claim_seconds",
    "TIMINGS",
    "with_step_sizes",
    "unserved_verdict",
    "claim_error",
    "error_lines",
    "check_data",
    "environment",
    "selected_claims",
    "stability_report",
    "training_step_sizes",
    "stability_warnings",
    "divergence_verdict",
    "check_memory",
]  # memory estimates: verification.training._memory

PACKAGES = ("ntk-attention", "jax", "jaxlib", "numpy", "scipy", "optax", "matplotlib")


def selected_claims(config: dict, claims: list[str] | None = None) -> list[str]:
    """Claim ids to run: ``claims`` if given, else ``[run] claims``, else every registered claim."""
    load_extensions()
    chosen = claims or config["run"]["claims"] or list(CLAIMS)
    unknown = [c for c in chosen if c not in CLAIMS]
    if unknown:
        raise ValueError(f"claims: unknown claim id(s) {unknown}; registered: {', '.join(CLAIMS)}")
    return [c for c in CLAIMS if c in chosen]


def claim_error(
    claim: str, stage: str, err: BaseException | str, source: str | None = None
) -> dict:
    """An error entry of ``summary.json`` ``errors``: the claim, the stage (``run``, ``plot``), the
    exception as ``Type: message`` (first line) and the data source."""
    text = (
        err
        if isinstance(err, str)
        else f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}"
    )
    return {"claim": claim, "stage": stage, "error": text, "data_source": source}


def error_lines(errors: list[dict]) -> list[str]:
    """One line per error entry of :func:`claim_error`."""
    return [
        f"{e['claim']}{' [' + e['data_source'] + ']' if e.get('data_source') else ''}: "
        f"{e['stage']} failed: {e['error']}"
        for e in errors
    ]


def _plugin_verdict(c: str, ctx: Context, config: dict) -> Verdict | str:
    """A plug-in claim's verdict, or why there is none (it raised, returned no Verdict, or a
    verdict of another id): one claim's failure must not discard the others' results."""
    try:
        v = CLAIMS[c].run(config[c], ctx)
    except SourceError as err:  # the data cannot serve it: a VACUOUS cell, as for a built-in claim
        return unserved_verdict(c, config, str(err), ctx.seed)
    except Exception as err:  # noqa: BLE001 - third-party code: any exception is reported, by name
        return f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}"
    if not isinstance(v, Verdict):
        return f"returned {type(v).__name__}, expected a Verdict"
    if v.claim != c:
        return f"returned a verdict with id {v.claim!r}; claim {c!r} must return its own id"
    return v


def run_claims(
    config: dict,
    claims: list[str] | None = None,
    *,
    quiet: bool = False,
    stability: dict | None = None,
    errors: list[dict] | None = None,
    context: Context | None = None,
) -> list[Verdict]:
    """The verdicts of the selected claims, run in registry order on one shared :class:`Context`.

    A claim whose runs diverged, or whose ``eta`` is past the gradient-descent stability limit
    (``stability``: :func:`stability_report`, computed when ``None``), gets a VACUOUS verdict
    naming η, λ_max(H(0)) and the limit (:func:`divergence_verdict`).

    A plug-in claim (not in :data:`verification.claims.BUILTIN`) that raises, returns no
    :class:`Verdict` or a verdict of another id gives no verdict: with ``errors`` (a list) an entry
    of :func:`claim_error` is appended and the other claims run on; without, a ``ValueError``
    names it.

    ``context``: the run's :class:`Context` (:func:`run_context`), shared with the stability
    pre-check so that λ* and λ_max(H(0)) are computed once per run; a new one when ``None``.
    Each verdict records the step sizes its claim resolved as ``measured["step_size"]``.
    """
    ids = selected_claims(config, claims)
    ctx = run_context(config, quiet=quiet) if context is None else context
    stability = stability_report(config, ids, context=ctx) if stability is None else stability
    unserved = unserved_claims(config, ids, ctx)
    verdicts, builtin = [], {b.id for b in BUILTIN}
    for c in ids:
        if c in unserved:
            verdicts.append(unserved_verdict(c, config, unserved[c], ctx.seed))
            continue
        started = time.perf_counter()
        _run_one(c, c in builtin, ctx, config, stability, verdicts, errors)
        ctx.memo.setdefault(TIMINGS, {})[c] = time.perf_counter() - started
    return verdicts


TIMINGS = "claim_seconds"
"""``Context.memo`` key: wall seconds of each claim's run (its compiles included), in run order;
``ntk-verify run`` prints them and writes them to ``timing.json`` (never to summary.json or
report.md, which are byte-identical across reruns)."""


def claim_seconds(ctx: Context) -> dict[str, float]:
    """Wall seconds of each claim the run on ``ctx`` ran (:data:`TIMINGS`)."""
    return dict(ctx.memo.get(TIMINGS, {}))


def _run_one(c, builtin: bool, ctx, config, stability, verdicts, errors) -> None:
    """Run claim ``c`` on ``ctx``; append its verdict (or an error entry of a plug-in)."""
    seen = len(ctx.memo.get(DIVERGED, []))
    resolved = len(ctx.memo.setdefault(STEP_SIZES, []))
    if not builtin:
        v = _plugin_verdict(c, ctx, config)
        if isinstance(v, str):
            if errors is None:
                raise ValueError(f"{c}: run failed: {v}")
            errors.append(claim_error(c, "run", v, config["data"]["source"]))
            return
        v = with_step_sizes(v, ctx.memo[STEP_SIZES][resolved:])
        verdicts.append(divergence_verdict(v, ctx.memo.get(DIVERGED, [])[seen:], stability.get(c)))
        return
    try:
        v = CLAIMS[c].run(config[c], ctx)
    except SourceError as err:
        # the source is too short for the sizes this claim asks (no preflight said so)
        verdicts.append(unserved_verdict(c, config, str(err), ctx.seed))
        return
    except Exception as err:  # a check may fail on the non-finite records of diverged runs
        if not ctx.memo.get(DIVERGED, [])[seen:]:
            raise
        v = Verdict(
            claim=c,
            status="VACUOUS",
            explanation=f"Its checks could not run on them ({err}).",
            config={c: config[c], "data": config["data"]},
            seed=ctx.seed,
        )
    v = with_step_sizes(v, ctx.memo[STEP_SIZES][resolved:])
    verdicts.append(divergence_verdict(v, ctx.memo.get(DIVERGED, [])[seen:], stability.get(c)))


def unserved_claims(config: dict, claims: list[str], ctx: Context) -> dict[str, str]:
    """Each selected claim's ``preflight`` (cheap, before any training): claim -> why the data
    source cannot serve it (its cell is VACUOUS, the others run). A bad configuration raises."""
    unserved = {}
    for c in claims:
        if CLAIMS[c].preflight is not None:
            try:
                CLAIMS[c].preflight(config[c], ctx)
            except SourceError as err:
                unserved[c] = str(err)
    return unserved


def run_context(config: dict, *, quiet: bool = True) -> Context:
    """The one :class:`Context` of a run: shared by the stability pre-check and every claim."""
    return Context(config=config, seed=config["run"]["seed"], quiet=quiet)


def with_step_sizes(v: Verdict, records: list[dict]) -> Verdict:
    """``v`` with the step sizes its claim resolved (:meth:`Context.step_size`: η, how ``eta``
    was read, n and σ) as ``measured["step_size"]``, each once; ``v`` itself when none."""
    distinct = [r for i, r in enumerate(records) if r not in records[:i]]
    if not distinct:
        return v
    return dataclasses.replace(v, measured={**v.measured, "step_size": distinct})


def unserved_verdict(claim: str, config: dict, why: str, seed: int | None = None) -> Verdict:
    """VACUOUS: the data source of ``config`` cannot serve ``claim`` (too short, too few windows
    of the kind the claim needs); ``why`` the :class:`verification.data._sources.SourceError`
    line, which names the source and the count. The claim's hypotheses cannot be met on this
    data, so nothing is decided."""
    source = config["data"]["source"]
    finding = f"data source {source!r} cannot serve {claim}: {why}"
    return Verdict(
        claim=claim,
        status=VACUOUS,
        explanation=f"The {finding}; nothing was trained or measured.",
        parts=(
            Part(
                "the data serves the claim",
                VACUOUS,
                finding,
                role="premise",
                why="data cannot serve it",
            ),
        ),
        config={claim: config[claim], "data": config["data"]},
        seed=seed,
    )


def check_data(config: dict) -> None:
    """Build the data set of ``[data]`` with ``n`` windows once (what every claim starts from), so
    that an unreadable file or a too-short source is refused before any work: raises
    :class:`verification.data._sources.SourceError` (one line naming the source). A claim asking
    for more windows than the source holds is refused when it asks, with the same kind of line."""
    run_context(config).dataset()


# ----------------------------------------------------------------------------------------------
# gradient-descent stability, before training (a warning) and after (the verdict)


def divergence_verdict(v: Verdict, diverged: list[dict], stability: dict | None = None) -> Verdict:
    """``v`` unchanged when no run diverged and η is below the stability limit (``stability``: an
    entry of :func:`stability_report`); else VACUOUS, naming the first diverged run's step, η,
    λ_max(H(0)) and the limit 2/λ_max(H(0)); the claim's own parts stay, as diagnostics."""
    unstable = stability is not None and stability["eta"] >= stability["limit"]
    if not diverged and not unstable:
        return v
    if diverged:
        first = min(diverged, key=lambda e: (e["step"], e["width"], e["seed"]))
        finding = (
            f"gradient descent diverged in {len(diverged)} run(s); first at step {first['step']} "
            f"(width {first['width']}, seed {first['seed']}, n = {first['n']}: "
            "loss non-finite or above divergence_factor × L(0)); "
            f"{stability_words(first['eta'], first['lambda_max_h0'])}."
        )
    else:
        s = stability
        finding = (
            f"{stability_words(s['eta'], s['lambda_max_h0'])} "
            f"at width {s['width']}, n = {s['n']}, seed {s['seed']}: "
            "the step size is outside the regime the theorem describes "
            "(no run diverged: the loss stays bounded because f is)."
        )
    why = "diverged" if diverged else "η past 2/λ_max(H(0))"
    parts = (Part("gradient descent stable", VACUOUS, finding, role="premise", why=why),) + tuple(
        dataclasses.replace(p, decisive=False) for p in v.parts
    )
    return dataclasses.replace(
        v,
        status=VACUOUS,
        parts=parts,
        counterexample=None,
        measured={**v.measured, "diverged_runs": diverged},
        explanation=(
            f"{finding[0].upper() if finding[0].isascii() else finding[0]}{finding[1:]} "
            "The theorem assumes a step size small enough for gradient descent to converge, "
            "so these runs cannot test it; the claim's own checks (diagnostics below) include "
            f"them. {v.explanation}"
        ),
    )


def stability_warnings(stability: dict) -> list[str]:
    """One line per claim of :func:`stability_report` whose ``eta`` is at or past 2/λ_max(H(0))."""
    return [
        f"{c}: {stability_words(s['eta'], s['lambda_max_h0'])} "
        f"at width {s['width']}, n = {s['n']}, seed {s['seed']}: "
        "training may diverge, and the verdict will be VACUOUS"
        for c, s in stability.items()
        if s["eta"] >= s["limit"]
    ]


def stability_report(
    config: dict, claims: list[str] | None = None, *, context: Context | None = None
) -> dict:
    """Per selected claim declaring ``training`` (:class:`verification.contract.TrainingRun`): η
    (resolved by :meth:`Context.step_size`, relative step sizes included), λ_max(H(0)) for the
    largest data size and smallest width of its runs (λ_max grows with n; H(0) fluctuates most at
    small m) and the first network seed, and the limit 2/λ_max(H(0)); of several runs, the one
    with the largest η / limit. ``context``: the run's (λ* and λ_max(H(0)) memoised there)."""
    per_claim = training_step_sizes(config, claims, context=context)
    return {
        c: max(entries, key=lambda e: e["eta"] / e["limit"])
        for c, entries in per_claim.items()
        if entries
    }


def training_step_sizes(
    config: dict, claims: list[str] | None = None, *, context: Context | None = None
) -> dict[str, list[dict]]:
    """Per selected claim, one entry per declared :class:`verification.contract.TrainingRun`:
    η as the claim's run resolves it, how ``eta`` was read, n, σ, the width, λ_max(H(0)) and
    2/λ_max(H(0)) (runs the data source cannot serve are left out)."""
    ctx = run_context(config) if context is None else context
    seed = ctx.network_seeds(1)[0]
    out = {}
    for c in selected_claims(config, claims):
        training = CLAIMS[c].training
        runs = training(config[c], config["data"]) if training is not None else []
        entries = [_stability_entry(ctx, run, config[c].get("sigma"), seed) for run in runs]
        out[c] = [e for e in entries if e is not None]
    return out


def _stability_entry(ctx: Context, run, section_sigma, seed: int) -> dict | None:
    """η, λ_max(H(0)) and 2/λ_max(H(0)) of one declared run (``None``: no data for it)."""
    n, m = max(run.sizes), min(run.widths)
    sigma = ctx.sigma(run.sigma if run.sigma is not None else section_sigma)
    step = run.eta if isinstance(run.eta, StepSize) else StepSize(float(run.eta))
    try:
        eta = ctx.step_size(run._replace(sigma=sigma))
        lmax = ctx.lambda_max_h0(m, n, sigma=sigma, seed=seed)
    except SourceError:
        return None
    limit = stability_limit(lmax)
    entry = {"eta": eta, "eta_config": step.eta, "eta_mode": step.mode, "n": n, "sigma": sigma}
    entry.update(width=m, seed=seed, lambda_max_h0=lmax, limit=limit)
    return entry


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
# refuse sizes that cannot fit in this machine's memory, before any work


def check_memory(config: dict, sections: list[str]) -> None:
    """Raise :class:`verification.config.ConfigError` when a section's estimate (its claim's
    ``memory``, else :func:`memory_estimate`) plus :data:`BASELINE_BYTES` exceeds the machine's
    physical memory, naming the section, the estimate and its parts, and the memory. Claims run one
    after another and free what they held (shared sweeps keep only their records), so each is
    checked alone."""
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
            raise ConfigError(
                f"{sec}: needs about {need / 2**30:.3g} GiB (mostly {why}) "
                f"plus {BASELINE_BYTES / 2**30:.3g} GiB for Python, JAX and the compiled programs, "
                "more than this machine's "
                f"{total / 2**30:.3g} GiB of physical memory; use smaller sizes"
            )
