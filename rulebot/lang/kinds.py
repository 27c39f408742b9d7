"""Kinds of values in the rule language and how they combine (LANGUAGE.md §2).

The checker gives every expression a kind. These functions are the whole of §2's
combination rules; they decide kinds only — the checker turns a refusal into E301.

A *bare number* (a literal such as ``30`` or ``-200``) is more flexible than an expression of
kind ``number``: it compares with and adds to a price, money or percent, and takes that kind
(``pnl_today < -200``, ``ema(50) + 100``). An expression of kind number (``rsi(14)``,
``position``) does not: ``rsi(14) > ema(20)`` is a mismatch. Both compare with a percent,
read as its fraction (``atr(14) / close > 2%``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cache


class Kind(str, Enum):
    NUMBER = "number"
    PERCENT = "percent"
    PRICE = "price"
    DURATION = "duration"
    MONEY = "money"
    WORD = "word"
    TIME_OF_DAY = "time of day"
    STRING = "string"
    CONDITION = "condition"
    # An expression whose kind could not be decided because of an error already reported;
    # it combines with everything silently so one mistake gives one diagnostic.
    ERROR = "error"

    # Kinds are looked up in sets and dicts for every node the checker visits; Enum's own
    # __hash__ is Python code. The str hash agrees with the str equality these members have.
    __hash__ = str.__hash__

    @property
    def article(self) -> str:
        """``a number``, ``a percent``, ``money``, ``an error``: how a message names the kind."""
        if self is Kind.MONEY:
            return "an amount of money"
        if self is Kind.CONDITION:
            return "a condition"
        return f"a {self.value}"


NUMERIC = frozenset({Kind.NUMBER, Kind.PERCENT, Kind.PRICE, Kind.MONEY})
"""Kinds that take part in arithmetic with numbers."""


@dataclass(frozen=True, slots=True)
class Operand:
    """What the combination rules need to know of one side: its kind and whether it is a bare number."""

    kind: Kind
    bare: bool = False


@dataclass(frozen=True, slots=True)
class Combined:
    """The result of ``left op right``: its kind, whether it is still a bare number, and whether
    the right side was read as a relative offset (``ema(50) + 1%`` is ``ema(50) × 1.01``)."""

    kind: Kind
    bare: bool = False
    relative_offset: bool = False


def comparable(left: Operand, right: Operand, op: str) -> bool:
    """Whether ``left op right`` is allowed (op: ``<``, ``==``, …, or ``crosses``/``between``)."""
    return comparable_kinds(left.kind, left.bare, right.kind, right.bare, op)


# The answers depend on a few kinds and operators only; the checker asks for every comparison
# of every rule, so each is worked out once.
@cache
def comparable_kinds(a: Kind, left_bare: bool, b: Kind, right_bare: bool, op: str) -> bool:
    """``comparable`` for the kinds and bareness of both sides."""
    if Kind.ERROR in (a, b):
        return True
    if Kind.CONDITION in (a, b) or Kind.STRING in (a, b):
        return False
    if a is Kind.WORD or b is Kind.WORD:
        return a is b and op in ("==", "!=")
    if a is b:
        return True
    if a not in NUMERIC or b not in NUMERIC:
        return False
    # A bare number takes the kind of the other side.
    if left_bare or right_bare:
        return True
    # A number and a percent: the percent is read as its fraction.
    return {a, b} == {Kind.NUMBER, Kind.PERCENT}


def combine(op: str, left: Operand, right: Operand) -> Combined | None:
    """The kind of ``left op right`` for op in ``+ - * /``, or None when the kinds do not combine."""
    a, b = left.kind, right.kind
    if Kind.ERROR in (a, b):
        return Combined(Kind.ERROR)
    if a is Kind.DURATION or b is Kind.DURATION:
        return _combine_durations(op, left, right)
    if a not in NUMERIC or b not in NUMERIC:
        return None
    if left.bare and right.bare:
        return Combined(Kind.NUMBER, bare=True)
    if op in ("+", "-"):
        return _add(left, right)
    if op == "*":
        return _multiply(left, right)
    return _divide(left, right)


def _add(left: Operand, right: Operand) -> Combined | None:
    a, b = left.kind, right.kind
    if a is b:
        return Combined(a)
    if b is Kind.PERCENT and a in (Kind.PRICE, Kind.MONEY):
        return Combined(a, relative_offset=True)
    if right.bare:
        return Combined(a)
    if left.bare:
        return Combined(b)
    return None


def _multiply(left: Operand, right: Operand) -> Combined | None:
    a, b = left.kind, right.kind
    scalars = (Kind.NUMBER, Kind.PERCENT)
    # A number or a percent scales anything numeric; two amounts do not multiply.
    if a in scalars and b in scalars:
        return Combined(Kind.PERCENT if Kind.PERCENT in (a, b) else Kind.NUMBER)
    if a in scalars:
        return Combined(b)
    if b in scalars:
        return Combined(a)
    return None


def _divide(left: Operand, right: Operand) -> Combined | None:
    a, b = left.kind, right.kind
    if a is b:
        return Combined(Kind.NUMBER)
    if b in (Kind.NUMBER, Kind.PERCENT):
        return Combined(a)
    if a is Kind.MONEY and b is Kind.PRICE:
        # money / price is a quantity of the base coin
        return Combined(Kind.NUMBER)
    return None


def _combine_durations(op: str, left: Operand, right: Operand) -> Combined | None:
    a, b = left.kind, right.kind
    if op in ("+", "-") and a is b is Kind.DURATION:
        return Combined(Kind.DURATION)
    if op == "*" and {a, b} == {Kind.DURATION, Kind.NUMBER}:
        return Combined(Kind.DURATION)
    if op == "/" and a is Kind.DURATION and b is Kind.NUMBER:
        return Combined(Kind.DURATION)
    if op == "/" and a is b is Kind.DURATION:
        return Combined(Kind.NUMBER)
    return None


def negatable(kind: Kind) -> bool:
    """Whether unary minus applies to a value of this kind."""
    return kind in NUMERIC or kind in (Kind.DURATION, Kind.ERROR)
