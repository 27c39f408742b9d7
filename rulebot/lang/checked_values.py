"""What the checker records of expressions: the ``Value`` of each node, what a rule ``Read``s,
and each percent read as an ``Offset``; and how the checker makes them on its hot path.

The checker makes a Value for every node of every rule and a Read for every field and indicator.
A frozen dataclass's __init__ sets each field through ``object.__setattr__`` in Python, which
made them a large part of a check: a Value is a named tuple, made in one step, and
``indicator_read`` sets a Read's slots through their descriptors, a quarter of the cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from rulebot.lang import ast as A
from rulebot.lang.kinds import Kind, Operand
from rulebot.lang.vocabulary import Field, ReadSource, Scale

__all__ = ["CONDITION", "ERROR", "Offset", "Read", "Value", "field_reading", "indicator_read", "make_value",
           "new_value"]


@dataclass(frozen=True, slots=True)
class Read:
    """One thing a rule reads: a field, a candle field or an indicator (with its timeframe and arguments)."""

    source: ReadSource
    name: str
    timeframe: str | None = None
    args: tuple[tuple[str, int | float], ...] = ()

    @property
    def text(self) -> str:
        """``rsi(n=14) on 5m``, ``close on 1m``, ``bid1``."""
        args = f"({', '.join(f'{k}={v:g}' for k, v in self.args)})" if self.source is ReadSource.INDICATOR else ""
        return f"{self.name}{args}" + (f" on {self.timeframe}" if self.timeframe else "")


@dataclass(frozen=True, slots=True)
class Offset:
    """A percent read as a relative offset: ``ema(50) + 1%`` read as ``ema(50) × 1.01``."""

    span: A.Span
    text: str
    reading: str
    in_actions: bool


class Value(NamedTuple):
    """What the checker knows of an expression's value.

    A named tuple, not a dataclass: one is made for every node of every rule, and a tuple is
    made in one step (``make_value``) where a frozen dataclass sets each field in Python."""

    kind: Kind
    bare: bool = False              # a bare number literal: takes the kind of what it meets
    const: float | None = None      # its value when constant (a percent as its fraction)
    key: str | None = None          # canonical text of a non-constant value (same key, same value)
    scale: Scale | None = None      # the range of a field or indicator read directly

    @property
    def operand(self) -> Operand:
        """What the combination rules of ``kinds.py`` need of it."""
        return _OPERANDS[self.kind, self.bare]


_OPERANDS = {(kind, bare): Operand(kind, bare) for kind in Kind for bare in (False, True)}

_new_object = object.__new__
new_value = tuple.__new__
"""``new_value(Value, (kind, bare, const, key, scale))``: a Value without a Python call (hot paths)."""


def make_value(kind: Kind, bare: bool = False, const: float | None = None, key: str | None = None,
               scale: Scale | None = None) -> Value:
    """``Value(kind, bare, const, key, scale)``, made without the named tuple's Python __new__."""
    return new_value(Value, (kind, bare, const, key, scale))  # type: ignore[arg-type]


_INDICATOR = ReadSource.INDICATOR
_set_source = Read.source.__set__  # type: ignore[attr-defined]
_set_name = Read.name.__set__  # type: ignore[attr-defined]
_set_timeframe = Read.timeframe.__set__  # type: ignore[attr-defined]
_set_args = Read.args.__set__  # type: ignore[attr-defined]


def indicator_read(name: str, timeframe: str, args: tuple[tuple[str, int | float], ...]) -> Read:
    """``Read(ReadSource.INDICATOR, name, timeframe, args)``, made without the dataclass's __init__."""
    read = _new_object(Read)
    _set_source(read, _INDICATOR)
    _set_name(read, name)
    _set_timeframe(read, timeframe)
    _set_args(read, args)
    return read


_FIELD_READINGS: dict[tuple[str, str | None], tuple[Read, Value]] = {}


def field_reading(field: Field, timeframe: str | None) -> tuple[Read, Value]:
    """What reading ``field`` gives: a candle field on ``timeframe``, or a live field (None).
    The same for every rule, so made once per field and timeframe."""
    found = _FIELD_READINGS.get((field.name, timeframe))
    if found is None:
        if timeframe is None:
            found = Read(field.source, field.name), make_value(field.kind, key=field.name, scale=field.scale)
        else:
            found = (Read(ReadSource.CANDLE, field.name, timeframe),
                     make_value(field.kind, key=f"{field.name}@{timeframe}", scale=field.scale))
        _FIELD_READINGS[field.name, timeframe] = found
    return found


ERROR = Value(Kind.ERROR)
"""The value of an expression with an error already reported: it combines with everything."""
CONDITION = Value(Kind.CONDITION)
