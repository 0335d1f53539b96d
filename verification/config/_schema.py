"""A configuration as a whole: :func:`schema` (every section's fields), :func:`default_config`,
:func:`validate` (defaults filled; unknown keys, wrong types and impossible values refused with a
one-line :class:`~verification.config.ConfigError`), TOML in (:func:`load`, :func:`loads`) and out
(:func:`to_toml`)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from verification.config._fields import ConfigError, Field
from verification.config._sections import (
    DATA_FIELDS,
    EXTRA_SECTIONS,
    HAAR_STATE_DIM,
    RUN_FIELDS,
    _claims_field,
)

REGISTERED: dict[str, Any] = {}
"""The claims (id -> object with ``params``) that ``claims=None`` stands for;
:mod:`verification.claims` fills it with the built-in claims and every registered plug-in. This
module imports no claim."""


def schema(claims: Mapping[str, Any] | None = None) -> dict[str, dict[str, Field]]:
    """Every section's fields: ``run``, ``data``, each claim's ``params`` (``claims``: id -> claim;
    ``None``: :data:`REGISTERED`), then :data:`EXTRA_SECTIONS`."""
    claims = REGISTERED if claims is None else claims
    out = {"run": {**RUN_FIELDS, "claims": _claims_field(tuple(claims))}, "data": DATA_FIELDS}
    for cid, claim in claims.items():
        out[cid] = dict(claim.params)
    out.update(EXTRA_SECTIONS)
    return out


def default_config(claims: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The built-in configuration: every section of :func:`schema` with its defaults (copies, safe
    to edit)."""
    return {
        sec: {k: _copy(f.default) for k, f in fields.items()}
        for sec, fields in schema(claims).items()
    }


def _copy(v):
    return list(v) if isinstance(v, list) else v


def validate(
    raw: Mapping[str, Any], claims: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """Defaults overlaid with ``raw``; unknown sections/keys, bad types and values raise ConfigError
    (``claims`` as in :func:`schema`)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"config: expected a table of sections, got {type(raw).__name__}")
    sch = schema(claims)
    out = default_config(claims)
    for sec, body in raw.items():
        if sec not in sch:
            raise ConfigError(f"{sec}: unknown section; allowed sections: {', '.join(sch)}")
        if not isinstance(body, Mapping):
            raise ConfigError(f"{sec}: expected a [{sec}] table of keys, got {body!r}")
        for key, value in body.items():
            fields = sch[sec]
            if key not in fields:
                raise ConfigError(
                    f"{sec}.{key}: unknown key; allowed keys in [{sec}]: "
                    f"{', '.join(fields) or '(none)'}"
                )
            out[sec][key] = fields[key].parse(f"{sec}.{key}", value)
    if out["data"]["source"] == "haar" and "state_dim" not in raw.get("data", {}):
        # the original default, so that "haar" alone reproduces it
        out["data"]["state_dim"] = HAAR_STATE_DIM
    _cross_checks(out)
    return out


def _cross_checks(cfg):
    """Constraints between keys (one line each)."""
    data = cfg["data"]
    if data["r_lo"] > data["r_hi"]:
        raise ConfigError(
            f"data.r_hi: expected a number >= data.r_lo = {data['r_lo']}, got {data['r_hi']}"
        )
    for sec, body in cfg.items():
        steps, every = body.get("steps"), body.get("record_every")
        if isinstance(steps, int) and isinstance(every, int) and steps % every:
            raise ConfigError(
                f"{sec}.record_every: expected a divisor of {sec}.steps = {steps}, got {every}"
            )
    sweep = cfg.get("sweep")
    if sweep is not None:
        if sweep["seeds"] % sweep["seeds_per_block"]:
            raise ConfigError(
                "sweep.seeds: expected a multiple of sweep.seeds_per_block = "
                f"{sweep['seeds_per_block']}, "
                f"got {sweep['seeds']}"
            )
        if sweep["chunk_size"] and any(m % sweep["chunk_size"] for m in sweep["widths"]):
            raise ConfigError(
                f"sweep.chunk_size: expected a divisor of every width {sweep['widths']}, "
                f"got {sweep['chunk_size']}"
            )


def _overlay(
    raw: Mapping[str, Any], override: Mapping[str, Mapping[str, Any]] | None
) -> Mapping[str, Any]:
    """``raw`` with the keys of ``override`` (section -> key -> value) set, before validation."""
    if not override:
        return raw
    out = {sec: (dict(body) if isinstance(body, Mapping) else body) for sec, body in raw.items()}
    for sec, body in override.items():
        if not isinstance(out.get(sec, {}), Mapping):
            continue  # validate names the bad section
        out[sec] = {**out.get(sec, {}), **body}
    return out


def loads(
    text: str,
    claims: Mapping[str, Any] | None = None,
    *,
    override: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Parse TOML text and :func:`validate` it; ``override`` (section -> key -> value, e.g. from the
    command line) is set before validation, as if written in the text."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config: not valid TOML ({err})") from None
    return validate(_overlay(raw, override), claims)


def load(
    path: str | Path,
    claims: Mapping[str, Any] | None = None,
    *,
    override: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Read a TOML file and :func:`validate` it (``override`` as in :func:`loads`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"--config: cannot read {str(path)!r} ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"--config: {str(path)!r} is not UTF-8 text") from None
    return loads(text, claims, override=override)


def to_toml(
    config: Mapping[str, Mapping[str, Any]],
    *,
    comments: bool = True,
    claims: Mapping[str, Any] | None = None,
) -> str:
    """TOML text of ``config``; with ``comments`` each key is preceded by its doc and allowed
    values."""
    sch = schema(claims)
    chunks = []
    for sec, body in config.items():
        lines = [f"[{sec}]"]
        for key, value in body.items():
            field = sch.get(sec, {}).get(key)
            if comments and field is not None:
                lines.append(f"# {field.doc} ({field.allowed})")
            lines.append(tomli_w.dumps({key: value}).rstrip("\n"))
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks) + "\n"
