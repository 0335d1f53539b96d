"""What the commands share: the one-line user error, float64, plug-ins, configuration and claim ids.

Private to :mod:`verification.commands`; each command module imports what it needs from here.
"""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path

import jax

from verification import config as cfg
from verification.claims import CLAIMS, load_plugin

__all__ = [
    "UsageError",
    "CACHE_ENV",
    "compilation_cache_dir",
    "enable_compilation_cache",
    "enable_x64",
    "load_plugins",
    "add_plugin_option",
    "load_config",
    "parse_claims",
    "parse_sources",
    "parse_source",
    "add_data_option",
    "config_for_source",
]


class UsageError(ValueError):
    """A user error reported as one line with exit status 2."""


CACHE_ENV = "NTK_VERIFY_CACHE"
"""Environment variable: a folder for JAX's persistent compilation cache, or ``off``."""


def _machine_key(env) -> str:
    """What a compiled program depends on besides its inputs: the CPU's features, XLA's flags and
    the JAX version (a cache folder per key: another machine's programs are never loaded)."""
    try:
        flags = next(
            (ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("flags")),
            "",
        )
    except OSError:
        flags = platform.processor()
    text = "|".join((platform.machine(), flags, env.get("XLA_FLAGS", ""), jax.__version__))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def compilation_cache_dir(env=None) -> Path | None:
    """The folder of JAX's persistent compilation cache: ``$NTK_VERIFY_CACHE`` (``off``: none),
    else ``$XDG_CACHE_HOME/ntk-attention/jax`` (default ``~/.cache``), one subfolder per machine
    key (CPU features, ``XLA_FLAGS``, JAX version)."""
    env = os.environ if env is None else env
    setting = env.get(CACHE_ENV, "").strip()
    if setting.lower() in ("off", "0", "no", "none", "disabled"):
        return None
    base = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ntk-attention" / "jax"
    return (Path(setting).expanduser() if setting else base) / _machine_key(env)


def enable_compilation_cache(env=None) -> Path | None:
    """Turn on JAX's persistent compilation cache (:func:`compilation_cache_dir`), so that a second
    run compiles nothing it compiled before; returns the folder, or ``None`` when it is off or
    cannot be created (then every program compiles, as without a cache)."""
    path = compilation_cache_dir(env)
    if path is None:
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
    return path


def enable_x64() -> None:
    """Float64 for everything computed after this (λ_min(H*) needs it); recorded in summary.json."""
    jax.config.update("jax_enable_x64", True)


def load_plugins(specs: list[str] | None) -> None:
    """Register the claims of every ``--plugin`` (a ``.py`` path is made absolute, so that the
    results record a name ``ntk-verify report`` can reload from any folder)."""
    for spec in specs or []:
        name = str(Path(spec).resolve()) if spec.endswith(".py") else spec
        try:
            load_plugin(name)
        except ValueError as err:
            raise UsageError(str(err)) from None


def add_plugin_option(p) -> None:
    p.add_argument(
        "--plugin",
        action="append",
        metavar="MODULE_OR_FILE",
        help=(
            "load claims from a module (dotted name) or a .py file defining CLAIMS or CLAIM "
            "(repeatable)"
        ),
    )


def load_config(path: str | None) -> dict:
    return cfg.load(path) if path else cfg.default_config()


def parse_claims(text: str | None) -> list[str] | None:
    if text is None:
        return None
    ids = [c.strip().upper() for c in text.split(",") if c.strip()]
    unknown = [c for c in ids if c not in CLAIMS]
    if not ids or unknown:
        raise UsageError(
            f"--claims: expected a comma-separated list of {', '.join(CLAIMS)}, got {text!r}"
        )
    return ids


def parse_sources(text: str | None) -> list[str] | None:
    """``--data a,b``: the data sources in order (None when not given); each checked as
    ``[data] source``."""
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
            raise UsageError(
                f"--data: expected {cfg.DATA_FIELDS['source'].allowed}, got {s!r}"
            ) from None
    return sources


def parse_source(text: str | None) -> str | None:
    """``--data SOURCE`` of a command that takes one source (None when not given), checked as
    ``[data] source``."""
    if text is None:
        return None
    sources = parse_sources(text)
    if len(sources) != 1:
        raise UsageError(f"--data: expected one data source, got {len(sources)}: {text!r}")
    return sources[0]


def add_data_option(p) -> None:
    """``--data SOURCE`` of a command that takes one source (checked by :func:`parse_source`)."""
    p.add_argument(
        "--data",
        metavar="SOURCE",
        help="data source, overriding [data] source: a family, a real series, "
        "csv:PATH[#COLUMN] or npy:PATH",
    )


def config_for_source(path: str | None, source: str | None) -> dict:
    """The configuration of ``path`` (or the built-in one) with ``[data] source`` set to ``source``
    as if written in the file (so that its source-dependent defaults apply)."""
    override = {"data": {"source": source}} if source is not None else None
    return cfg.load(path, override=override) if path else cfg.validate(override or {})
