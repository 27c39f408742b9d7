"""Typed syntax tree of the rule language (LANGUAGE.md §2–§6).

Nodes are frozen, slotted dataclasses. Every node has a ``span``: the (start, end) character
offsets in the rule text it was parsed from (end exclusive); the loader's ``Source`` maps them
to the file. Spans do not take part in equality, so a tree printed and parsed again compares
equal to the original. Names (fields, indicators, words) are stored lower-cased.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Span(NamedTuple):
    """Where a node is written: offsets ``start`` (inclusive) to ``end`` into the rule text.

    A named tuple rather than a slotted dataclass: one is made for every node, and a tuple is
    made in one call, holds only ints (so the collector stops tracking it) and is freed cheaply.
    """

    start: int
    end: int


NO_SPAN = Span(0, 0)


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)  # type: ignore[return-value]


# --- values -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Number:
    """A decimal number as written (``text`` keeps it exact for the action layer)."""

    text: str
    span: Span = _span()

    @property
    def value(self) -> float:
        return float(self.text)


@dataclass(frozen=True, slots=True)
class Percent:
    """``2%``: ``text`` is the number before the sign; ``fraction`` is 0.02."""

    text: str
    span: Span = _span()

    @property
    def fraction(self) -> float:
        return float(self.text) / 100.0


@dataclass(frozen=True, slots=True)
class Duration:
    """``15m``, ``4h``, ``1M``: a count and a unit (s m h d w M; case matters, ``M`` is months)."""

    count: int
    unit: str
    span: Span = _span()

    UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000}

    @property
    def seconds(self) -> int:
        return self.count * self.UNIT_SECONDS[self.unit]

    @property
    def text(self) -> str:
        return f"{self.count}{self.unit}"


@dataclass(frozen=True, slots=True)
class TimeOfDay:
    """``08:00`` in the file's timezone."""

    hour: int
    minute: int
    span: Span = _span()

    @property
    def text(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"


@dataclass(frozen=True, slots=True)
class Money:
    """``100 usdt``: an amount of a coin (``coin`` lower-cased)."""

    amount: str
    coin: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Ticks:
    """``2 ticks``: a price distance of N times the tick size."""

    count: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class String:
    """A double-quoted string (escapes resolved); ``{expr}`` parts are read by the checker."""

    value: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Name:
    """A bare name: a field (``bid1``, ``position``) or a word (``long``, ``weekend``, ``mon``)."""

    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Keyword:
    """A named argument ``fast=8`` of a call."""

    name: str
    value: "Expr"
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Call:
    """``rsi(14)``, ``macd(fast=8)``, ``close(5m)``."""

    name: str
    args: tuple["Expr", ...] = ()
    kwargs: tuple[Keyword, ...] = ()
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class Index:
    """``close[1]``: the value ``offset`` bars back."""

    target: "Expr"
    offset: int
    span: Span = _span()


# --- arithmetic -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Neg:
    operand: "Expr"
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class BinOp:
    """``left op right`` with op one of ``+ - * /``."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span = _span()


# --- conditions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compare:
    """``left op right`` with op one of ``< <= > >= == !=``."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span = _span()
    op_span: Span = _span()


@dataclass(frozen=True, slots=True)
class ChainedCompare:
    """``30 < rsi(14) < 70``: kept so the checker can say what to write instead (always an error)."""

    operands: tuple["Expr", ...]
    ops: tuple[str, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Crosses:
    """``A crosses above B``; ``direction`` is ``above``, ``below`` or ``""`` (either way)."""

    left: "Expr"
    direction: str
    right: "Expr"
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Between:
    """``A between B and C``: B <= A <= C."""

    subject: "Expr"
    low: "Expr"
    high: "Expr"
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Trend:
    """``A rising n`` / ``A falling n``: strictly monotonic over the last n bars."""

    subject: "Expr"
    direction: str
    bars: int
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Is:
    """``position is long``, ``position is not flat``, ``weekday is weekend``."""

    subject: "Expr"
    negated: bool
    word: Name
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class In:
    """``weekday in [mon, tue]``."""

    subject: "Expr"
    words: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class For:
    """``C for 3 bars`` (``bars`` set) or ``C for 5m`` (``duration`` set)."""

    condition: "Expr"
    bars: int | None
    duration: Duration | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Not:
    operand: "Expr"
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple["Expr", ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple["Expr", ...]
    span: Span = _span()


Expr = (
    Number | Percent | Duration | TimeOfDay | Money | Ticks | String | Name | Call | Index
    | Neg | BinOp | Compare | ChainedCompare | Crosses | Between | Trend | Is | In | For
    | Not | And | Or
)


# --- actions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Quantity:
    """``0.01``, ``100 usdt``, ``10% equity``: ``basis`` is ``equity``/``balance``/``available`` or ``""``."""

    amount: Expr
    basis: str = ""
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class OrderOption:
    """One order option. ``kind`` is one of tp, sl, trail, post_only, ioc, fok, reduce_only,
    expire, tag; ``value`` is an expression (tp, sl, trail), a Duration (expire), a String (tag)
    or None."""

    kind: str
    value: Expr | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Order:
    """``buy``/``sell`` QTY [market | limit PRICE] [OPTIONS]; ``order_type`` ``""`` means the default (market)."""

    side: str
    quantity: Quantity
    order_type: str = ""
    price: Expr | None = None
    options: tuple[OrderOption, ...] = ()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Close:
    """``close [long|short] [PCT%] [market | limit PRICE]``."""

    side: str = ""
    percent: Percent | None = None
    order_type: str = ""
    price: Expr | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Cancel:
    """``cancel orders|buys|sells``."""

    which: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SetSetting:
    """``set leverage|mode|margin|tpsl|tp|sl|trail VALUE``."""

    setting: str
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Notify:
    message: String
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Pause:
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Halt:
    span: Span = _span()


Action = Order | Close | Cancel | SetSetting | Notify | Pause | Halt


@dataclass(frozen=True, slots=True)
class RuleBody:
    """A parsed rule: its condition (None for a scheduled rule without ``when``) and its actions."""

    condition: Expr | None
    actions: tuple[Action, ...]
    span: Span = _span()
