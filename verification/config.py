"""Configuration of ``ntk-verify``: TOML sections, typed fields with defaults, strict validation.

A configuration is a dict of sections: ``[run]`` (seed, which claims), ``[data]`` (the state-space
data every claim trains on) and one section per registered claim (``[C1]`` …), whose fields the
claim declares (:attr:`verification.contract.Claim.params`). :func:`validate` fills defaults and
refuses unknown keys, wrong types and impossible values with a :class:`ConfigError` whose message
is **one line** naming the key, the allowed values and what came.

>>> f = positive_int(3, "number of seeds")
>>> f.parse("C1.seeds", 5)
5
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import tomli_w

from ntk_attention.data import DEFAULT_FAMILY, FAMILIES
from verification.data._sources import DETRENDS, REAL_SERIES
from verification.training._step_size import MODES as ETA_MODES

__all__ = [
    "ConfigError",
    "Field",
    "positive_int",
    "nonneg_int",
    "positive_float",
    "nonneg_float",
    "probability",
    "choice",
    "boolean",
    "int_list",
    "float_list",
    "RUN_FIELDS",
    "MAP_CLAIMS",
    "DATA_FIELDS",
    "HAAR_STATE_DIM",
    "data_source",
    "EXTRA_SECTIONS",
    "SWEEP_FIELDS",
    "schema",
    "default_config",
    "validate",
    "load",
    "loads",
    "to_toml",
]


class ConfigError(ValueError):
    """A configuration value is unknown, of the wrong type or impossible; the message is one
    line."""


@dataclasses.dataclass(frozen=True)
class Field:
    """One configuration key: default value, a parser/validator and the allowed values in words.

    ``parse(key, value)`` returns the normalised value or raises :class:`ConfigError`.
    """

    default: Any
    doc: str
    allowed: str
    convert: Callable[[Any], Any]

    def parse(self, key: str, value: Any) -> Any:
        try:
            return self.convert(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key}: expected {self.allowed}, got {value!r}") from None


def _number(v, *, integer: bool):
    if isinstance(v, bool):
        raise TypeError
    if integer:
        if not isinstance(v, numbers.Integral):
            raise TypeError
        return int(v)
    if not isinstance(v, numbers.Real):
        raise TypeError
    v = float(v)
    if not math.isfinite(v):
        raise ValueError
    return v


def _bounded(lo=None, hi=None, *, integer: bool, lo_open=False, hi_open=False):
    def convert(v):
        v = _number(v, integer=integer)
        if lo is not None and (v < lo or (lo_open and v == lo)):
            raise ValueError
        if hi is not None and (v > hi or (hi_open and v == hi)):
            raise ValueError
        return v

    return convert


def positive_int(default: int, doc: str, *, minimum: int = 1, maximum: int | None = None) -> Field:
    """An integer in ``[minimum, maximum]``."""
    words = f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
    return Field(default, doc, words, _bounded(minimum, maximum, integer=True))


def nonneg_int(default: int, doc: str) -> Field:
    """An integer >= 0."""
    return positive_int(default, doc, minimum=0)


def positive_float(default: float, doc: str, *, maximum: float | None = None) -> Field:
    """A finite number > 0 (and <= ``maximum``)."""
    words = "a finite number > 0" + (f" and <= {maximum}" if maximum is not None else "")
    return Field(float(default), doc, words, _bounded(0.0, maximum, integer=False, lo_open=True))


def nonneg_float(default: float, doc: str) -> Field:
    """A finite number >= 0."""
    return Field(float(default), doc, "a finite number >= 0", _bounded(0.0, None, integer=False))


def probability(default: float, doc: str) -> Field:
    """A number in the open interval (0, 1)."""
    return Field(
        float(default),
        doc,
        "a number in (0, 1)",
        _bounded(0.0, 1.0, integer=False, lo_open=True, hi_open=True),
    )


def choice(default: str, options: tuple[str, ...], doc: str) -> Field:
    """One of the strings ``options``."""

    def convert(v):
        if not isinstance(v, str) or v not in options:
            raise ValueError
        return v

    return Field(default, doc, "one of " + ", ".join(repr(o) for o in options), convert)


def boolean(default: bool, doc: str) -> Field:
    """``true`` or ``false``."""

    def convert(v):
        if not isinstance(v, bool):
            raise TypeError
        return v

    return Field(default, doc, "true or false", convert)


def _list_of(item: Callable, *, min_len: int, increasing: bool):
    def convert(v):
        if not isinstance(v, (list, tuple)) or len(v) < min_len:
            raise TypeError
        out = [item(x) for x in v]
        if increasing and any(b <= a for a, b in zip(out, out[1:])):
            raise ValueError
        return out

    return convert


def int_list(
    default: list[int], doc: str, *, minimum: int = 1, min_len: int = 1, increasing: bool = True
) -> Field:
    """A list of at least ``min_len`` integers >= ``minimum`` (strictly increasing by default)."""
    words = f"a list of at least {min_len} integer(s) >= {minimum}" + (
        ", strictly increasing" if increasing else ""
    )
    return Field(
        list(default),
        doc,
        words,
        _list_of(_bounded(minimum, None, integer=True), min_len=min_len, increasing=increasing),
    )


def float_list(
    default: list[float], doc: str, *, min_len: int = 1, increasing: bool = True
) -> Field:
    """A list of at least ``min_len`` finite numbers > 0 (``min_len = 0``: the empty list
    allowed)."""
    words = (
        f"a list of at least {min_len} finite number(s) > 0"
        if min_len
        else "a list (possibly empty) of finite numbers > 0"
    ) + (", strictly increasing" if increasing else "")
    conv = _bounded(0.0, None, integer=False, lo_open=True)
    return Field(
        [float(x) for x in default],
        doc,
        words,
        _list_of(conv, min_len=min_len, increasing=increasing),
    )


def _claims_field(ids: tuple[str, ...]) -> Field:
    """``[run] claims``: a list of the ids ``ids`` (kept in that order), or empty (all)."""

    def convert(v):
        if v == []:
            return []
        if not isinstance(v, (list, tuple)) or not v:
            raise TypeError
        if any(not isinstance(c, str) or c.strip().upper() not in ids for c in v):
            raise ValueError
        chosen = {c.strip().upper() for c in v}  # case-insensitive, as `--claims c2`
        return [c for c in ids if c in chosen]  # registry order

    return Field(
        [],
        "claims to run (empty: all registered)",
        "a list of registered claim ids (any case), e.g. ['C1', 'C3']",
        convert,
    )


MAP_CLAIMS = ("C1", "C2", "C3")
"""The claims with a regime map (:mod:`verification.regime._runs`)."""


def _maps_field() -> Field:
    """``[run] maps``: claims of :data:`MAP_CLAIMS` whose regime map ``run`` also builds (any case;
    empty: none)."""

    def convert(v):
        if not isinstance(v, (list, tuple)):
            raise TypeError
        if any(not isinstance(c, str) or c.strip().upper() not in MAP_CLAIMS for c in v):
            raise ValueError
        chosen = {c.strip().upper() for c in v}
        return [c for c in MAP_CLAIMS if c in chosen]

    return Field(
        [],
        "regime maps to build after the claims, with `ntk-verify map`'s default settings "
        "(about 30 s each; empty: none)",
        f"a list of claim ids with a regime map ({', '.join(MAP_CLAIMS)}), e.g. ['C3']",
        convert,
    )


RUN_FIELDS: dict[str, Field] = {
    "seed": nonneg_int(0, "master seed: every claim derives its keys from it"),
    "claims": _claims_field(()),
    "maps": _maps_field(),
}
"""``[run]``'s fields; ``claims`` here accepts no id: :func:`schema` builds it from the claims it is
given."""


def data_source(v: Any) -> str:
    """``[data] source``: a synthetic family, a bundled real series, ``csv:PATH[#COLUMN]`` or
    ``npy:PATH`` (the name only; the file is read when the data set is built). Raises ValueError
    otherwise."""
    if not isinstance(v, str):
        raise TypeError
    if v in FAMILIES or v in REAL_SERIES or (v[:4] in ("csv:", "npy:") and v[4:].strip()):
        return v
    raise ValueError


_SOURCE_WORDS = (
    f"a family ({', '.join(FAMILIES)}), a real series ({', '.join(REAL_SERIES)}), "
    "'csv:PATH[#COLUMN]' or 'npy:PATH'"
)

HAAR_STATE_DIM = 6
"""``[data] state_dim`` when ``source = "haar"`` and the key is not given: the original
default."""

DATA_FIELDS: dict[str, Field] = {
    "source": Field(
        DEFAULT_FAMILY[0],
        "where the data comes from (docs/data.md): a synthetic family, a bundled "
        "real series, the user's csv:PATH[#COLUMN] or npy:PATH; "
        "'haar' is the pre-issue-13 data set",
        _SOURCE_WORDS,
        data_source,
    ),
    "state_dim": positive_int(
        DEFAULT_FAMILY[1]["state_dim"],
        "state dimension N of the family's SSM (residual, "
        f"slow_modes, haar; haar: {HAAR_STATE_DIM} when not given)",
    ),
    "r_lo": Field(
        float(DEFAULT_FAMILY[1]["r_lo"]),
        "residual/slow_modes: lowest eigenvalue of the slow modes",
        "a number in [0, 1)",
        _bounded(0.0, 1.0, integer=False, hi_open=True),
    ),
    "r_hi": Field(
        float(DEFAULT_FAMILY[1]["r_hi"]),
        "residual/slow_modes: highest eigenvalue of the slow modes (>= r_lo)",
        "a number in [0, 1)",
        _bounded(0.0, 1.0, integer=False, hi_open=True),
    ),
    "radius": positive_float(
        1.0, "haar: spectral norm of the SSM's closed-loop map (1 = marginally stable)", maximum=1.5
    ),
    "d": positive_int(
        8, "window length d (the last entry x_d is the residual feature)", minimum=2, maximum=64
    ),
    "n": positive_int(24, "training windows n (claims may override)", minimum=2, maximum=4096),
    "offset": nonneg_int(
        0,
        "series sources: index of the first training value; "
        "test windows follow the training values",
    ),
    "placement": choice(
        "first",
        ("first", "spread"),
        "series sources: the n training windows are the first n from the "
        "offset (consecutive; test windows follow them) or spread evenly over the whole series "
        "(test windows: those sharing no value with a training window)",
    ),
    "detrend": choice(
        "none",
        DETRENDS,
        "series sources: none, first differences, or the least-squares line removed",
    ),
    "windows": choice(
        "independent",
        ("independent", "sliding"),
        "haar: windows from independent initial states, or consecutive windows of one series",
    ),
    "burn_in": nonneg_int(0, "haar: steps of the SSM discarded before the first window value"),
    "normalize": boolean(
        True,
        "series sources: z-score with the training values' mean and sd; haar: divide by the "
        "root-mean-square of a fixed reference batch of windows",
    ),
    "sigma": positive_float(1.0, "initialisation scale: w_r(0) ~ N(0, sigma^2)"),
}


SWEEP_FIELDS: dict[str, Field] = {  # ntk-verify sweep (verification.sweep_cmd)
    "widths": int_list(
        [64, 256, 1024], "widths m (strictly increasing; the chunk divides all of them)"
    ),
    "seeds": positive_int(4, "network seeds per width (Context.network_seeds)"),
    "steps": positive_int(100, "gradient-descent steps T"),
    "record_every": positive_int(10, "record every k steps (divides steps)"),
    "eta": positive_float(
        0.05,
        "learning rate: with eta_mode = 'absolute' the step size η itself (the same for "
        "every width); 'relative': the fraction of the stability limit, η = eta · 2/λ_max(H*) "
        "of the [data] set",
    ),
    "eta_mode": choice(
        "absolute",
        ETA_MODES,
        "how eta is read (verification.training._step_size): the step size itself, "
        "or a fraction of 2/λ_max(H*) of the data",
    ),
    "output_signs": choice("random", ("random", "minus", "plus"), "output weights a_r"),
    "seeds_per_block": positive_int(
        1, "seeds per block: the unit of work, of saving and of resuming"
    ),
    "chunk_size": nonneg_int(0, "neurons per chunk, a divisor of every width (0: automatic)"),
    "divergence_factor": positive_float(
        1e8, "a run stops once L(t) > factor * L(0) or is not finite"
    ),
    "dtype": choice("float64", ("float64", "float32"), "floating-point type of the computation"),
}


EXTRA_SECTIONS: dict[str, dict[str, Field]] = {"sweep": SWEEP_FIELDS}
"""The sections of commands beside ``[run]``, ``[data]`` and the claims' — an explicit mapping,
known without importing any command or building a parser: name -> fields."""

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
