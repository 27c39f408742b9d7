"""What the compiler hands the engine (ENGINE_CONTRACT.md): compiled rules, their actions and feeds.

A `CompiledRule` holds its condition as a plain callable (``None``: a scheduled rule without
``when``), its actions with their values as callables evaluated when the rule fires, and the
memory of its ``crosses`` / ``for`` constructs (``snapshot_state`` / ``restore_state``).
A `CompiledFile` is the rules of one file plus the candle `Feed`s they need.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, overload

from rulebot.market.state import MarketState
from rulebot.market.timeframes import timeframe_ms
from rulebot.model.clock import Clock
from rulebot.model.enums import OrderType, Side, TimeInForce, TriggerMode

__all__ = [
    "ACCOUNT_FIELDS", "AccountFields", "Bindings", "CompileError", "CompiledAction", "CompiledCancel",
    "CompiledClose", "CompiledFile", "CompiledHalt", "CompiledNotify", "CompiledOrder", "CompiledPause",
    "CompiledRule", "CompiledSet", "Feed", "Memory", "Trigger", "ValueFn",
]

ACCOUNT_FIELDS: tuple[str, ...] = (
    "position", "long_size", "short_size", "position_size", "entry_price", "liq_price", "upnl",
    "upnl_pct", "leverage", "balance", "equity", "available", "open_orders", "time_in_position",
    "bars_in_position", "pnl_today",
)
"""The attributes of `AccountFields` that compiled code reads (LANGUAGE.md §3)."""


class CompileError(ValueError):
    """A tree the compiler cannot turn into code (only for trees the checker did not accept)."""


class AccountFields(Protocol):
    """Per symbol position/account values, implemented by the engine's account state.

    Attributes read by compiled code (floats, NaN = unknown): position, long_size, short_size,
    position_size, entry_price, liq_price, upnl, upnl_pct (a fraction), leverage, balance,
    equity, available, open_orders, time_in_position (seconds), bars_in_position, pnl_today.
    """

    position: float
    long_size: float
    short_size: float
    position_size: float
    entry_price: float
    liq_price: float
    upnl: float
    upnl_pct: float
    leverage: float
    balance: float
    equity: float
    available: float
    open_orders: float
    time_in_position: float
    bars_in_position: float
    pnl_today: float


@dataclass(frozen=True)
class Bindings:
    """Where compiled code reads: the market, each symbol's account fields, the clock."""

    market: MarketState
    account: Callable[[str], AccountFields]   # symbol -> the (mutable, long-lived) fields object
    clock: Clock                              # now_ms() for time conditions and `for DURATION`
    timezone: str                             # IANA name, for hour/minute/weekday/time between
    tick_size: Callable[[str], float]         # symbol -> tick size (for `N ticks`)


class Trigger(NamedTuple):
    """What makes a streamed rule due: ``kind`` is "bar" (a bar close of ``timeframe``), "market"
    (ticker/book/trade update), "account" (position/order/wallet update) or "minute" (each minute)."""

    kind: str
    timeframe: str | None


@dataclass(frozen=True)
class ValueFn:
    """A compiled expression: ``fn()`` gives its value now (NaN when unknown).

    ``kind``: "number" | "percent" (a fraction) | "price" | "money" | "ticks" (a count of ticks) |
    "duration" (seconds). ``coin``: for money, the coin written (``100 usdt``), else None (the
    settle coin).
    """

    fn: Callable[[], float]
    kind: str
    coin: str | None = None


@dataclass(frozen=True)
class CompiledOrder:
    """`buy` / `sell`. ``qty_basis``: "" (``qty`` is base coin, or money when its kind is money),
    or "equity" / "balance" / "available" (``qty`` is then a percent). tp/sl/trail kinds:
    "percent" (a fraction), "price" (tp/sl: an absolute price; trail: a distance) or "ticks"
    (a distance in ticks)."""

    side: Side
    qty: ValueFn
    qty_basis: str
    order_type: OrderType
    price: ValueFn | None
    tp: ValueFn | None
    sl: ValueFn | None
    trail: ValueFn | None
    post_only: bool
    tif: TimeInForce
    reduce_only: bool
    expire_s: int | None
    tag: str


@dataclass(frozen=True)
class CompiledClose:
    """`close [long|short] [PCT%] [market | limit PRICE]`; ``fraction`` None closes all."""

    side: str
    fraction: float | None
    order_type: OrderType
    price: ValueFn | None


@dataclass(frozen=True)
class CompiledCancel:
    """`cancel orders | buys | sells`."""

    which: str


@dataclass(frozen=True)
class CompiledSet:
    """`set SETTING VALUE`: ``value`` for leverage/tp/sl/trail, ``word`` for mode/margin/tpsl."""

    setting: str
    value: ValueFn | None
    word: str | None


@dataclass(frozen=True)
class CompiledNotify:
    """`notify "..."`: ``render()`` gives the message with its ``{expr}`` parts filled in now."""

    render: Callable[[], str]


@dataclass(frozen=True)
class CompiledPause:
    """`pause`: block this rule until it is edited or resumed."""


@dataclass(frozen=True)
class CompiledHalt:
    """`halt`: block every rule of the file and cancel its open orders."""


CompiledAction = CompiledOrder | CompiledClose | CompiledCancel | CompiledSet | CompiledNotify | CompiledPause | CompiledHalt


class Memory(Protocol):
    """The state of one ``crosses`` / ``for`` construct, as JSON-able values."""

    def snapshot(self) -> dict[str, float | int | bool | None]:
        ...

    def restore(self, state: Mapping[str, object]) -> None:
        ...


@dataclass
class CompiledRule:
    """One rule bound to one symbol, ready to evaluate. See ENGINE_CONTRACT.md."""

    name: str
    index: int
    symbol: str
    priority: int
    trigger_mode: TriggerMode
    enabled: bool
    cooldown_ms: int | None
    every_s: int | None
    at: tuple[tuple[int, int], ...]
    cron: str | None
    triggers: tuple[Trigger, ...]
    condition: Callable[[], bool | None] | None
    actions: tuple[CompiledAction, ...]
    text_hash: str
    memories: tuple[Memory, ...] = field(default=(), repr=False)

    @property
    def scheduled(self) -> bool:
        """Evaluated on a schedule (``every``, ``at`` or ``cron``)."""
        return self.every_s is not None or bool(self.at) or self.cron is not None

    def snapshot_state(self) -> dict[str, float | int | bool | None]:
        """The memory of the rule's ``crosses`` / ``for`` constructs, JSON-able (NaN as None)."""
        out: dict[str, float | int | bool | None] = {}
        for i, memory in enumerate(self.memories):
            for key, value in memory.snapshot().items():
                out[f"m{i}.{key}"] = value
        return out

    def restore_state(self, state: Mapping[str, object]) -> None:
        """Take back a snapshot of the same rule text; keys of other memories are ignored."""
        for i, memory in enumerate(self.memories):
            prefix = f"m{i}."
            part = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            if part:
                memory.restore(part)


@dataclass(frozen=True, slots=True)
class Feed:
    """A candle series the rules of a file read: the engine feeds its klines, or (when
    ``aggregate_from`` is set) the klines of that lower timeframe, from which the market state
    builds it. ``warmup_bars``: closed bars of this timeframe to preload at start."""

    symbol: str
    timeframe: str
    aggregate_from: str | None
    warmup_bars: int

    @property
    def source_bars(self) -> int:
        """Bars of the fed timeframe that give ``warmup_bars`` bars of this one (one more
        bucket, since the first aggregated bar is dropped when history starts inside it)."""
        if self.aggregate_from is None:
            return self.warmup_bars
        src, dst = timeframe_ms(self.aggregate_from), timeframe_ms(self.timeframe)
        if src is None or dst is None:
            return self.warmup_bars
        ratio = dst // src
        return (self.warmup_bars + 1) * ratio if self.warmup_bars else 0


@dataclass(frozen=True)
class CompiledFile(Sequence[CompiledRule]):
    """The compiled rules of one file (a sequence of `CompiledRule`) and the feeds they need."""

    rules: tuple[CompiledRule, ...]
    feeds: tuple[Feed, ...]

    def __len__(self) -> int:
        return len(self.rules)

    @overload
    def __getitem__(self, i: int) -> CompiledRule: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[CompiledRule]: ...

    def __getitem__(self, i: int | slice) -> CompiledRule | Sequence[CompiledRule]:
        return self.rules[i]

    def __iter__(self) -> Iterator[CompiledRule]:
        return iter(self.rules)

    def fed_timeframes(self, symbol: str) -> tuple[str, ...]:
        """The timeframes whose klines the engine must feed for ``symbol`` (not aggregated)."""
        return tuple(f.timeframe for f in self.feeds if f.symbol == symbol and f.aggregate_from is None)
