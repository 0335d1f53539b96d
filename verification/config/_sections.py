"""The sections beside the claims': ``[run]`` (seed, claims, maps), ``[data]`` (the data every
claim trains on) and ``[sweep]`` (:data:`EXTRA_SECTIONS`, known without importing a command)."""

from __future__ import annotations

from typing import Any

from ntk_attention.data import DEFAULT_FAMILY, FAMILIES
from verification.config._fields import (
    Field,
    _bounded,
    boolean,
    choice,
    int_list,
    nonneg_int,
    positive_float,
    positive_int,
)
from verification.data._sources import DETRENDS, REAL_SERIES
from verification.data._windows import PLACEMENT_CHOICES
from verification.training._step_size import MODES as ETA_MODES


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
        "'haar' is the original data set",
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
        "auto",
        PLACEMENT_CHOICES,
        "series sources: where the n training windows sit — 'spread' evenly over the whole "
        "series (test windows: those sharing no value with a training window), 'first' n from "
        "the offset (consecutive; test windows follow them), or 'auto': spread for a real or "
        "user series (first when a test set asked for would get under half its windows), first "
        "for a synthetic family (drawn at the length needed)",
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
