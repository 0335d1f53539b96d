"""Typed configuration fields: :class:`Field` (default, doc, allowed values, parser) and the
constructors every section uses (:func:`positive_int`, :func:`probability`, :func:`choice` …);
:class:`ConfigError`, one line naming the key, the allowed values and what came. A leaf.

>>> f = positive_int(3, "number of seeds")
>>> f.parse("C1.seeds", 5)
5
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable
from typing import Any


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
