"""The account as the engine knows it: positions, open orders, wallet and today's PnL, per symbol.

One owner, the engine thread: it feeds every exchange event (``PositionUpdate``,
``OrderUpdate``, ``Execution``, ``WalletUpdate``) to the ``AccountBook``, which keeps

* the ``AccountFields`` objects compiled rules read (LANGUAGE.md §3, position and account
  fields; floats, NaN = unknown), one per (symbol, timeframe of the file) so that
  ``bars_in_position`` counts the file's bars, all refreshed in place on each event;
* the ``AccountView`` snapshots the action layer sizes and guards orders with.

Realised PnL is worked out from executions against the entry price known before the fill,
fees included, as Bybit's ``cumRealisedPnl`` counts them; ``pnl_today`` restarts at 00:00 UTC.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rulebot.actions.account import AccountView, OpenOrderView
from rulebot.market.live import LiveFields
from rulebot.model.clock import Clock
from rulebot.model.enums import OrderType
from rulebot.model.events import Execution, OrderUpdate, PositionUpdate, WalletUpdate

NAN = math.nan
DAY_MS = 86_400_000


@dataclass(slots=True)
class Leg:
    """One position slot (``position_idx`` 0 one-way, 1 long / 2 short in hedge mode)."""

    size: float = 0.0
    sign: int = 0  # +1 long, -1 short, 0 flat
    entry: float = NAN
    liq: float = NAN
    leverage: float = NAN
    upnl: float = 0.0
    opened_ms: int = -1


class AccountFields:
    """The position and account fields of one symbol that compiled rules read (NaN = unknown).

    Plain attributes are refreshed by the ``AccountBook`` on every account event; ``upnl``,
    ``upnl_pct``, ``time_in_position``, ``bars_in_position`` and ``pnl_today`` depend on the
    price or the time and are worked out when read.
    """

    __slots__ = (
        "symbol", "position", "long_size", "short_size", "position_size", "entry_price", "liq_price",
        "leverage", "balance", "equity", "available", "open_orders",
        "_state", "_live", "_clock", "_tf_ms",
    )

    def __init__(self, state: SymbolAccount, live: LiveFields, clock: Clock, tf_ms: int) -> None:
        self.symbol = state.symbol
        self._state = state
        self._live = live
        self._clock = clock
        self._tf_ms = tf_ms
        self.position = self.long_size = self.short_size = self.position_size = NAN
        self.entry_price = self.liq_price = self.leverage = NAN
        self.balance = self.equity = self.available = NAN
        self.open_orders = NAN

    @property
    def upnl(self) -> float:
        """Unrealised PnL in the settle coin, marked to the mark price (else the last price)."""
        return self._state.upnl(_mark(self._live))

    @property
    def upnl_pct(self) -> float:
        """``upnl`` / the position's value at entry (unknown when flat)."""
        value = self._state.entry_value()
        if not value > 0.0:
            return NAN
        return self._state.upnl(_mark(self._live)) / value

    @property
    def time_in_position(self) -> float:
        """Seconds since the position was opened (unknown when flat)."""
        opened = self._state.opened_ms()
        if opened < 0:
            return NAN
        return (self._clock.now_ms() - opened) / 1000.0

    @property
    def bars_in_position(self) -> float:
        """Bars of the file's timeframe that closed since the position was opened (unknown when flat)."""
        opened = self._state.opened_ms()
        if opened < 0:
            return NAN
        tf = self._tf_ms
        return float(self._clock.now_ms() // tf - opened // tf)

    @property
    def pnl_today(self) -> float:
        """Realised PnL (fees included) since 00:00 UTC."""
        return self._state.pnl_today(self._clock.now_ms())

    def refresh(self) -> None:
        """Copy the symbol's state into the plain attributes."""
        st = self._state
        long_size, short_size = st.sides()
        known = st.known
        self.long_size = long_size if known else NAN
        self.short_size = short_size if known else NAN
        self.position = long_size - short_size if known else NAN
        self.position_size = abs(long_size - short_size) if known else NAN
        leg = st.main_leg()
        self.entry_price = leg.entry if leg is not None else NAN
        self.liq_price = leg.liq if leg is not None else NAN
        self.leverage = st.leverage
        self.open_orders = float(len(st.orders)) if st.orders_known else NAN
        wallet = st.wallet
        if wallet is None:
            self.balance = self.equity = self.available = NAN
        else:
            self.balance, self.equity, self.available = wallet.balance, wallet.equity, wallet.available


def _mark(live: LiveFields) -> float:
    mark = live.mark_price
    return mark if mark == mark else live.last


@dataclass(slots=True)
class Wallet:
    """The balance of one coin, and its equity at the start of the UTC day."""

    balance: float
    equity: float
    available: float
    day: int
    equity_at_midnight: float


class SymbolAccount:
    """What is known of one symbol's positions and orders (the ``AccountBook`` writes it)."""

    __slots__ = ("symbol", "legs", "orders", "known", "orders_known", "leverage", "wallet", "_pnl", "_pnl_day")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.legs: dict[int, Leg] = {}
        self.orders: dict[str, OrderUpdate] = {}  # open orders by order id
        self.known = False
        self.orders_known = False
        self.leverage = NAN
        self.wallet: Wallet | None = None
        self._pnl = 0.0
        self._pnl_day = -1

    def sides(self) -> tuple[float, float]:
        """(long size, short size)."""
        long_size = short_size = 0.0
        for leg in self.legs.values():
            if leg.sign > 0:
                long_size += leg.size
            elif leg.sign < 0:
                short_size += leg.size
        return long_size, short_size

    def main_leg(self) -> Leg | None:
        """The open leg whose entry and liquidation prices the fields show: the larger side."""
        best = None
        for leg in self.legs.values():
            if leg.sign and (best is None or leg.size > best.size):
                best = leg
        return best

    def leg_of(self, sign: int) -> Leg | None:
        """The open leg on side ``sign``."""
        for leg in self.legs.values():
            if leg.sign == sign and leg.size > 0.0:
                return leg
        return None

    def upnl(self, mark: float) -> float:
        """Unrealised PnL at ``mark``; the venue's last figure when no price is known."""
        total = 0.0
        for leg in self.legs.values():
            if leg.sign:
                total += (mark - leg.entry) * leg.size * leg.sign if mark == mark else leg.upnl
        return total

    def entry_value(self) -> float:
        return sum(leg.size * leg.entry for leg in self.legs.values() if leg.sign)

    def opened_ms(self) -> int:
        """When the oldest open leg was opened; -1 when flat."""
        opened = [leg.opened_ms for leg in self.legs.values() if leg.sign and leg.opened_ms >= 0]
        return min(opened) if opened else -1

    def pnl_today(self, now_ms: int) -> float:
        return self._pnl if now_ms // DAY_MS == self._pnl_day else 0.0

    def book_pnl(self, amount: float, ts_ms: int) -> None:
        day = ts_ms // DAY_MS
        if day != self._pnl_day:
            self._pnl_day, self._pnl = day, 0.0
        self._pnl += amount


class AccountBook:
    """Every symbol's account state and the fields objects rules read; the engine thread owns it.

    ``settle_coin(symbol)`` names the coin whose wallet the symbol's money fields show.
    """

    def __init__(self, clock: Clock, settle_coin: Callable[[str], str], live: Callable[[str], LiveFields]) -> None:
        self._clock = clock
        self._settle_coin = settle_coin
        self._live = live
        self._symbols: dict[str, SymbolAccount] = {}
        self._fields: dict[str, list[AccountFields]] = {}
        self._wallets: dict[str, Wallet] = {}

    def state(self, symbol: str) -> SymbolAccount:
        """The state of ``symbol``, created empty (unknown) on first use."""
        st = self._symbols.get(symbol)
        if st is None:
            st = self._symbols[symbol] = SymbolAccount(symbol)
            st.wallet = self._wallets.get(self._settle_coin(symbol))
        return st

    def fields(self, symbol: str, tf_ms: int = 60_000) -> AccountFields:
        """The fields object of ``symbol`` for a file whose timeframe lasts ``tf_ms``; the same
        object for the engine's lifetime."""
        for f in self._fields.get(symbol, ()):
            if f._tf_ms == tf_ms:
                return f
        f = AccountFields(self.state(symbol), self._live(symbol), self._clock, tf_ms)
        f.refresh()
        self._fields.setdefault(symbol, []).append(f)
        return f

    def symbols(self) -> tuple[str, ...]:
        return tuple(self._symbols)

    # -- events -------------------------------------------------------------------------------

    def on_position(self, event: PositionUpdate) -> None:
        """A position slot as the venue reports it."""
        st = self.state(event.symbol)
        leg = st.legs.get(event.position_idx)
        if leg is None:
            leg = st.legs[event.position_idx] = Leg()
        sign = 0 if event.size <= 0.0 or event.side is None else event.side.sign
        if sign == 0:
            leg.opened_ms = -1
        elif leg.sign != sign:
            leg.opened_ms = event.ts_event_ms
        leg.sign = sign
        leg.size = event.size if sign else 0.0
        leg.entry = _known(event.entry_price) if sign else NAN
        leg.liq = _known(event.liq_price) if sign else NAN
        leg.leverage = event.leverage
        leg.upnl = event.unrealised_pnl if sign else 0.0
        st.leverage = event.leverage
        st.known = True
        self._refresh(event.symbol)

    def on_order(self, event: OrderUpdate) -> OrderUpdate | None:
        """An order's new status; returns what was known of it before (``None``: new to us)."""
        st = self.state(event.symbol)
        before = st.orders.get(event.order_id)
        if event.status.is_open:
            st.orders[event.order_id] = event
        else:
            st.orders.pop(event.order_id, None)
        st.orders_known = True
        self._refresh(event.symbol)
        return before

    def on_execution(self, event: Execution) -> float:
        """A fill: book its realised PnL (fee included) before the position update arrives.

        Returns the PnL booked. A fill against the open position's side closes (part of) it at
        the entry known now; a fill on its side only pays its fee.
        """
        st = self.state(event.symbol)
        price, qty, fee = _float(event.price), _float(event.qty), _float(event.fee)
        closing = self._closing_leg(st, event)
        pnl = -fee if fee == fee else 0.0
        if closing is not None and price == price and qty == qty and closing.entry == closing.entry:
            pnl += (price - closing.entry) * min(qty, closing.size) * closing.sign
        st.book_pnl(pnl, event.ts_event_ms)
        return pnl

    def on_wallet(self, event: WalletUpdate) -> None:
        """The wallet of one coin; the first figure of a UTC day is that day's starting equity."""
        coin = event.coin.upper()
        day = event.ts_event_ms // DAY_MS
        wallet = self._wallets.get(coin)
        if wallet is None:
            wallet = self._wallets[coin] = Wallet(event.balance, event.equity, event.available, day, event.equity)
        else:
            if day != wallet.day:
                # equity only moves with fills and prices: yesterday's last figure is the one at midnight
                wallet.day, wallet.equity_at_midnight = day, wallet.equity
            wallet.balance, wallet.equity, wallet.available = event.balance, event.equity, event.available
        for symbol, st in self._symbols.items():
            if self._settle_coin(symbol) == coin:
                st.wallet = wallet
                self._refresh(symbol)

    def forget_orders(self, symbol: str, keep: Iterable[str]) -> None:
        """After a reconciliation: drop open orders the venue no longer lists (by order id)."""
        st = self.state(symbol)
        kept = set(keep)
        for order_id in [o for o in st.orders if o not in kept]:
            del st.orders[order_id]
        st.orders_known = True
        self._refresh(symbol)

    # -- snapshots ----------------------------------------------------------------------------

    def view(self, symbol: str, now_ms: int, recent_order_ms: tuple[int, ...] = ()) -> AccountView:
        """The ``AccountView`` of ``symbol`` now, for the action layer."""
        st = self.state(symbol)
        live = self._live(symbol)
        mark = _mark(live)
        wallet = st.wallet
        if wallet is not None and now_ms // DAY_MS != wallet.day:
            wallet.day, wallet.equity_at_midnight = now_ms // DAY_MS, wallet.equity
        long_leg, short_leg = st.leg_of(1), st.leg_of(-1)
        orders = tuple(
            OpenOrderView(
                side=o.side,
                qty=max(_float(o.qty) - _float(o.filled_qty or "0"), 0.0),
                reduce_only=o.reduce_only,
                order_link_id=o.order_link_id,
                price=_float(o.price) if o.order_type is OrderType.LIMIT else None,
            )
            for o in st.orders.values()
        )
        equity = wallet.equity if wallet is not None else 0.0
        return AccountView(
            equity=equity,
            balance=wallet.balance if wallet is not None else 0.0,
            available=wallet.available if wallet is not None else 0.0,
            mark_price=mark if mark == mark and mark > 0.0 else None,
            now_ms=now_ms,
            equity_at_midnight=wallet.equity_at_midnight if wallet is not None else equity,
            realised_pnl_today=st.pnl_today(now_ms),
            long_size=long_leg.size if long_leg is not None else 0.0,
            long_entry=_or_none(long_leg.entry) if long_leg is not None else None,
            short_size=short_leg.size if short_leg is not None else 0.0,
            short_entry=_or_none(short_leg.entry) if short_leg is not None else None,
            open_orders=orders,
            recent_order_ms=recent_order_ms,
        )

    def hedged(self, symbol: str) -> bool:
        """Whether the venue reports this symbol's positions in hedge-mode slots (1 and 2)."""
        return any(idx in (1, 2) for idx in self.state(symbol).legs)

    # -- internals ------------------------------------------------------------------------------

    def _closing_leg(self, st: SymbolAccount, event: Execution) -> Leg | None:
        """The open leg a fill reduces, if it reduces one."""
        against = st.leg_of(-event.side.sign)
        if against is None:
            return None
        if event.exit_reason:
            return against
        order = st.orders.get(event.order_id)
        if order is not None and order.reduce_only:
            return against
        hedge = any(idx in (1, 2) for idx in st.legs)
        # one-way: any fill against the position reduces it; hedge: only reduce-only orders do
        return None if hedge else against

    def _refresh(self, symbol: str) -> None:
        for f in self._fields.get(symbol, ()):
            f.refresh()


def _known(x: float | None) -> float:
    return NAN if x is None or not x > 0.0 else float(x)


def _or_none(x: float) -> float | None:
    return x if x == x else None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return NAN


__all__ = ["AccountBook", "AccountFields", "Leg", "SymbolAccount", "Wallet"]
