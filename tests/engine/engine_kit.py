"""Hand-made compiled rules and an engine over the paper exchange in bar mode, for engine tests."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from rulebot.actions.notify import Notifier
from rulebot.actions.risk import RiskLimits
from rulebot.engine.loop import Engine
from rulebot.engine.replay import prepare_replay, replay_bars
from rulebot.engine.ruleset import FileRules, FileSettings, RuleSet
from rulebot.exchange.paper import PaperConfig, PaperExchange
from rulebot.journal import Journal
from rulebot.lang.compiled import (
    CompiledAction,
    CompiledCancel,
    CompiledClose,
    CompiledHalt,
    CompiledNotify,
    CompiledPause,
    CompiledOrder,
    CompiledRule,
    Trigger,
    ValueFn,
)
from rulebot.market import MarketState
from rulebot.exchange.base import Ack
from rulebot.model import (
    KlineUpdate,
    OrderType,
    OrderUpdate,
    PositionUpdate,
    Request,
    Side,
    SimClock,
    TimeInForce,
    TriggerMode,
    WalletUpdate,
)

SYMBOL = "BTCUSDT"
MINUTE = 60_000
T0 = 1_750_000_020_000 - 1_750_000_020_000 % MINUTE  # a whole minute


class Switch:
    """A condition whose value the test sets: True, False or None (unknown)."""

    def __init__(self, value: bool | None = False) -> None:
        self.value = value
        self.calls = 0

    def __call__(self) -> bool | None:
        self.calls += 1
        return self.value


def const(x: float, kind: str = "number", coin: str | None = None) -> ValueFn:
    return ValueFn(lambda: x, kind, coin)


def buy(qty: float = 0.01, *, order_type: OrderType = OrderType.MARKET, price: float | None = None,
        tp: ValueFn | None = None, sl: ValueFn | None = None, trail: ValueFn | None = None,
        side: Side = Side.BUY) -> CompiledOrder:
    return CompiledOrder(
        side=side, qty=const(qty), qty_basis="", order_type=order_type,
        price=None if price is None else const(price, "price"), tp=tp, sl=sl, trail=trail,
        post_only=False, tif=TimeInForce.GTC, reduce_only=False, expire_s=None, tag="",
    )


class Inbox:
    """A notifier that keeps the messages."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def notify(self, text: str) -> None:
        self.texts.append(text)


def say(text: str) -> CompiledNotify:
    return CompiledNotify(render=lambda: text)


PAUSE = CompiledPause()
HALT = CompiledHalt()
CANCEL_ALL = CompiledCancel(which="orders")


def close_all() -> CompiledClose:
    return CompiledClose(side="", fraction=None, order_type=OrderType.MARKET, price=None)


def rule(
    name: str,
    condition: Callable[[], bool | None] | None,
    actions: Sequence[CompiledAction] = (),
    *,
    index: int = 0,
    symbol: str = SYMBOL,
    priority: int = 0,
    level: bool = False,
    cooldown_ms: int | None = None,
    triggers: tuple[Trigger, ...] = (Trigger("bar", "1m"),),
    every_s: int | None = None,
    at: tuple[tuple[int, int], ...] = (),
    cron: str | None = None,
    text: str = "",
) -> CompiledRule:
    scheduled = every_s is not None or bool(at) or cron is not None
    return CompiledRule(
        name=name, index=index, symbol=symbol, priority=priority,
        trigger_mode=TriggerMode.LEVEL if level else TriggerMode.EDGE, enabled=True,
        cooldown_ms=cooldown_ms, every_s=every_s, at=at, cron=cron,
        triggers=() if scheduled else triggers, condition=condition, actions=tuple(actions),
        text_hash=hashlib.sha256(f"{name}\x00{text}".encode()).hexdigest(),
    )


@dataclass
class Harness:
    """An engine trading on a bar-mode paper exchange with a simulated clock."""

    engine: Engine
    paper: PaperExchange
    clock: SimClock
    journal: Journal
    market: MarketState
    next_start: int = T0
    last_close: float = 100_000.0
    events: list[object] = field(default_factory=list)

    def bar(self, o: float | None = None, h: float | None = None, lo: float | None = None,
            c: float | None = None) -> KlineUpdate:
        """Replay one 1-minute bar (flat at the last close unless given)."""
        o = self.last_close if o is None else o
        c = o if c is None else c
        h = max(o, c) if h is None else h
        lo = min(o, c) if lo is None else lo
        start = self.next_start
        k = KlineUpdate(SYMBOL, "1m", start + MINUTE, start + MINUTE, start, o, h, lo, c, 1.0, True)
        replay_bars(self.engine, self.paper, self.clock, [k], close_at_end=False)
        self.next_start += MINUTE
        self.last_close = c
        return k

    def bars(self, n: int) -> None:
        for _ in range(n):
            self.bar()

    def slot(self, name: str, symbol: str = SYMBOL):  # noqa: ANN201 - a RuleSlot
        found = self.engine.slot(f"rules.yaml:{name}@{symbol}")
        assert found is not None, name
        return found


def harness(
    rules: Sequence[CompiledRule],
    *,
    limits: RiskLimits | None = None,
    settings: FileSettings | None = None,
    balance: str = "1000000",
    journal: Journal | None = None,
    path: str = "rules.yaml",
    symbols: tuple[str, ...] = (SYMBOL,),
    persist_state: bool = False,
    start_ms: int = T0,
    notifier: Notifier | None = None,
) -> Harness:
    clock = SimClock(start_ms)
    market = MarketState(history=200)
    holder: list[Engine] = []
    paper = PaperExchange(lambda e: holder[0].emit(e), clock, PaperConfig(initial_balance=Decimal(balance)))
    file = FileRules(path=path, symbols=symbols, rules=tuple(rules), limits=limits or RiskLimits(),
                     settings=settings or FileSettings())
    j = journal or Journal.memory()
    engine = Engine(RuleSet((file,)), market, paper, j, clock, persist_state=persist_state, notifier=notifier)
    holder.append(engine)
    return Harness(engine, paper, clock, j, market, next_start=start_ms)


def file_harness(text: str, folder: Path, *, balance: str = "1000000", start_ms: int = T0,
                 name: str = "rules.yaml") -> Harness:
    """An engine running the rule file ``text`` (written to ``folder``) on a bar-mode paper exchange."""
    path = folder / name
    path.write_text(text)
    replay = prepare_replay([str(path)], paper=PaperConfig(initial_balance=Decimal(balance)), start_ms=start_ms)
    return Harness(replay.engine, replay.paper, replay.clock, replay.journal, replay.market, next_start=start_ms)


class StubExchange:
    """A hand-written exchange: records requests, lists the orders and positions it is given, and
    emits nothing unless a test pushes events into the engine itself."""

    def __init__(self, *, resolves_percent_stops: bool = False, balance: float = 100_000.0,
                 open_orders: Sequence[OrderUpdate] = (), positions: Sequence[PositionUpdate] = ()) -> None:
        self.resolves_percent_stops = resolves_percent_stops
        self.requests: list[Request] = []
        self._balance = balance
        self._orders = list(open_orders)
        self._positions = list(positions)
        self._ids = 0

    def submit(self, request: Request) -> Ack:
        self.requests.append(request)
        self._ids += 1
        return Ack(order_id=f"stub-{self._ids}", order_link_id=getattr(request, "order_link_id", ""))

    def open_orders(self, symbol: str) -> list[OrderUpdate]:
        return [o for o in self._orders if o.symbol == symbol]

    def positions(self, symbol: str) -> list[PositionUpdate]:
        return [p for p in self._positions if p.symbol == symbol]

    def wallet(self) -> WalletUpdate:
        return WalletUpdate("USDT", T0, T0, self._balance, self._balance, self._balance)


def stub_engine(rules: Sequence[CompiledRule], exchange: StubExchange, *, journal: Journal | None = None,
                start_ms: int = T0, path: str = "rules.yaml", queue_size: int = 1000,
                notifier: Notifier | None = None) -> tuple[Engine, SimClock]:
    """An engine over a ``StubExchange``; its fills are events the test processes."""
    clock = SimClock(start_ms)
    file = FileRules(path=path, symbols=(SYMBOL,), rules=tuple(rules))
    engine = Engine(RuleSet((file,)), MarketState(history=50), exchange, journal or Journal.memory(), clock,
                    persist_state=False, queue_size=queue_size, notifier=notifier)
    return engine, clock
