"""The ledger: books fills against the simulated account and emits what Bybit's streams would.

Matching decides that something fills; the ledger does the rest: it closes what the fill
reduces and opens the rest, charges the fee, realises PnL, attaches the order's stops,
updates margins and liquidation prices, and emits the events in a fixed order: the
execution(s), then the position and the wallet, then the order's new status, so an engine
that unblocks a rule on the order status already sees the position it produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from rulebot.exchange.base import Emit
from rulebot.exchange.paper.account import (
    Account,
    PaperPosition,
    StopLeg,
    dec,
    liquidation_price,
    num_str,
    round_to_tick,
)
from rulebot.exchange.paper.orders import CANCEL_EXPIRED, CANCEL_REDUCE_ONLY, NEVER_MS, PaperOrder
from rulebot.exchange.paper.reports import order_update, position_update
from rulebot.exchange.paper.symbol import SymbolState
from rulebot.model.enums import (
    ExitReason,
    MarginMode,
    OrderStatus,
    OrderType,
    PositionMode,
    Side,
    TimeInForce,
)
from rulebot.model.events import Execution, WalletUpdate
from rulebot.model.instruments import InstrumentRules, default_rules


class Ledger:
    """The account, every symbol's state, and the booking of fills (the ``Filler`` of matching)."""

    def __init__(
        self,
        account: Account,
        emit: Emit,
        instruments: Mapping[str, InstrumentRules],
        *,
        position_mode: PositionMode,
        margin_mode: MarginMode,
        leverage: Decimal,
        slippage_ticks: int,
    ) -> None:
        self.account = account
        self.slippage_ticks = slippage_ticks
        self.states: dict[str, SymbolState] = {}
        self._emit = emit
        self._instruments = instruments
        self._position_mode = position_mode
        self._margin_mode = margin_mode
        self._leverage = leverage
        self._seq = 0
        self._exec_seq = 0

    def state(self, symbol: str) -> SymbolState:
        """The symbol's state, made on first use from its instrument rules."""
        s = self.states.get(symbol)
        if s is None:
            rules = self._instruments.get(symbol) or default_rules(symbol)
            s = SymbolState(rules, self._position_mode, self._margin_mode, self._leverage)
            self.states[symbol] = s
        return s

    def next_order_id(self) -> str:
        """A fresh order id; a pure counter, so a replay gives the same ids every time."""
        self._seq += 1
        return f"paper-{self._seq}"

    def available(self) -> float:
        """Balance + unrealised PnL of cross positions - initial margin of positions and orders."""
        free = self.account.balance
        for s in self.states.values():
            for pos in s.positions:
                if pos.sign:
                    free -= pos.value(s.step) / s.leverage(pos.sign)
                    if s.margin_mode is MarginMode.CROSS:
                        free += pos.upnl(s.last, s.step)
            for order in s.orders:
                free -= order.margin
        return free

    def wallet_at(self, ts_ms: int) -> WalletUpdate:
        """The wallet at ``ts_ms``, positions marked to each symbol's last price."""
        upnl = sum(p.upnl(s.last, s.step) for s in self.states.values() for p in s.positions)
        return WalletUpdate(
            coin=self.account.coin,
            ts_event_ms=ts_ms,
            ts_recv_ms=ts_ms,
            balance=self.account.balance,
            equity=self.account.balance + upnl,
            available=self.available(),
        )

    def slipped(self, s: SymbolState, price: float, sign: int) -> float:
        """``price`` moved ``slippage_ticks`` against a taker buying (``sign`` > 0) or selling."""
        if not self.slippage_ticks:
            return price
        return float(dec(price) + sign * self.slippage_ticks * s.tick_dec)

    def fill_order(
        self, s: SymbolState, order: PaperOrder, price: float, steps: int, is_maker: bool, ts_ms: int
    ) -> None:
        """Fill ``steps`` of ``order`` at ``price``: close what it reduces, open the rest.

        A reduce-only order (and, in hedge mode, an order against its slot's side) is cut to
        the position it reduces and never opens one; with nothing to reduce it is cancelled.
        """
        pos = s.position(order.position_idx)
        reducing = order.reduce_only or (s.mode is PositionMode.HEDGE and order.sign != slot_sign(pos.idx))
        against = pos.steps if pos.sign == -order.sign else 0
        clamped = False
        if reducing:
            if against == 0:
                self.cancel_order(s, order, CANCEL_REDUCE_ONLY, ts_ms)
                return
            if steps > against:
                steps, clamped = against, True
        closing = min(steps, against)
        opening = steps - closing
        before = order.remaining
        if closing:
            self._book(s, pos, order, closing, price, is_maker, ts_ms, ExitReason.RULE.value)
        if opening:
            self._book(s, pos, order, opening, price, is_maker, ts_ms, "")
            self._attach_stops(s, pos, order, opening, price)
        order.filled += steps
        order.margin *= order.remaining / before if before else 0.0
        if order.remaining == 0:
            order.status = OrderStatus.FILLED
            s.orders.remove(order)
        else:
            order.status = OrderStatus.PARTIALLY_FILLED
        self._report(s, pos, ts_ms)
        self._emit(order_update(s, order, ts_ms))
        if clamped and order.status.is_open:
            self.cancel_order(s, order, CANCEL_REDUCE_ONLY, ts_ms)
        if pos.sign == 0:
            self._drop_reduce_only(s, pos, ts_ms)

    def exit_position(
        self,
        s: SymbolState,
        pos: PaperPosition,
        price: float,
        reason: ExitReason,
        ts_ms: int,
        leg: StopLeg | None = None,
    ) -> None:
        """Close ``pos`` (or a partial ``leg``'s share of it) at ``price`` with a taker fill.

        The exchange-made closing order has its own id and no ``orderLinkId``, as on Bybit.
        """
        steps = pos.steps if leg is None else min(leg.steps, pos.steps)
        if leg is not None:
            pos.partial.remove(leg)
        side = Side.SELL if pos.sign > 0 else Side.BUY
        closer = PaperOrder(
            order_id=self.next_order_id(),
            link_id="",
            symbol=s.symbol,
            side=side,
            sign=side.sign,
            order_type=OrderType.MARKET,
            tif=TimeInForce.IOC,
            steps=steps,
            qty_text=str(steps * s.step_dec),
            price=0.0,
            price_text="0",
            reduce_only=True,
            position_idx=pos.idx,
            created_ms=ts_ms,
            expire_at_ms=NEVER_MS,
            immediate=True,
            taker_at_open=False,
        )
        self._book(s, pos, closer, steps, price, False, ts_ms, reason.value)
        closer.filled = steps
        closer.status = OrderStatus.FILLED
        self._report(s, pos, ts_ms)
        self._emit(order_update(s, closer, ts_ms))
        if pos.sign == 0:
            self._drop_reduce_only(s, pos, ts_ms)

    def cancel_order(self, s: SymbolState, order: PaperOrder, reason: str, ts_ms: int) -> None:
        """Cancel what is left of ``order`` and release its margin."""
        order.status = OrderStatus.CANCELLED
        order.margin = 0.0
        if order in s.orders:
            s.orders.remove(order)
        s.refresh()
        self._emit(order_update(s, order, ts_ms, reason))

    def expire_orders(self, s: SymbolState, now_ms: int) -> None:
        """Cancel every order whose ``expire`` time has come."""
        for order in [o for o in s.orders if o.expire_at_ms <= now_ms]:
            self.cancel_order(s, order, CANCEL_EXPIRED, now_ms)

    def update_liquidation(self) -> None:
        """Recompute every position's liquidation price (cross ones move with the balance)."""
        margins = {
            id(p): p.value(s.step) / s.leverage(p.sign)
            for s in self.states.values()
            for p in s.positions
            if p.sign
        }
        total = sum(margins.values())
        mmr = self.account.mmr
        for s in self.states.values():
            for pos in s.positions:
                if pos.sign:
                    buffer = self.account.balance - (total - margins[id(pos)])
                    pos.liq = liquidation_price(
                        pos, s.step, s.leverage(pos.sign), s.margin_mode, mmr, buffer, s.tick_dec
                    )
            s.refresh()

    def _book(
        self,
        s: SymbolState,
        pos: PaperPosition,
        order: PaperOrder,
        steps: int,
        price: float,
        is_maker: bool,
        ts_ms: int,
        exit_reason: str,
    ) -> None:
        """One execution: an exit (``exit_reason`` set) closes, an entry opens or adds."""
        fee = self.account.fee(price, steps * s.step, is_maker)
        if exit_reason:
            pnl = pos.reduce(steps, price, s.step)
        else:
            pnl = 0.0
            pos.add(order.sign, steps, price, ts_ms)
        self.account.book(pnl, fee)
        self._exec_seq += 1
        self._emit(
            Execution(
                symbol=s.symbol,
                ts_event_ms=ts_ms,
                ts_recv_ms=ts_ms,
                exec_id=f"paper-e{self._exec_seq}",
                order_id=order.order_id,
                order_link_id=order.link_id,
                side=order.side,
                price=num_str(price),
                qty=str(steps * s.step_dec),
                fee=num_str(fee),
                is_maker=is_maker,
                exit_reason=exit_reason,
            )
        )

    def _attach_stops(
        self, s: SymbolState, pos: PaperPosition, order: PaperOrder, steps: int, price: float
    ) -> None:
        """Give the position the order's TP / SL / trailing stop, percents measured from ``price``.

        Take profit and stop loss round toward the entry; a trailing distance rounds down, to
        one tick at least (SIMULATION.md, "Prices on the tick").
        """
        tp, sl, trail = order.tp, order.sl, order.trail
        if not (tp or sl or trail or order.tp_pct or order.sl_pct or order.trail_pct):
            return
        fill = dec(price)
        long = order.sign > 0
        if not tp and order.tp_pct:
            offset = dec(order.tp_pct) / 100
            tp = float(round_to_tick(fill * (1 + offset if long else 1 - offset), s.tick_dec, up=not long))
        if not sl and order.sl_pct:
            offset = dec(order.sl_pct) / 100
            sl = float(round_to_tick(fill * (1 - offset if long else 1 + offset), s.tick_dec, up=long))
        if not trail and order.trail_pct:
            dist = round_to_tick(fill * dec(order.trail_pct) / 100, s.tick_dec, up=False)
            trail = float(max(dist, s.tick_dec))
        if order.tpsl_partial:
            if tp or sl:
                pos.partial.append(StopLeg(tp, sl, steps))
        else:
            pos.tp = tp or pos.tp
            pos.sl = sl or pos.sl
        if trail:
            pos.trail, pos.trail_best = trail, price

    def _report(self, s: SymbolState, pos: PaperPosition, ts_ms: int) -> None:
        """After a fill: new liquidation prices and quick ranges, then the position and the wallet."""
        self.update_liquidation()
        self._emit(position_update(s, pos, ts_ms))
        self._emit(self.wallet_at(ts_ms))

    def _drop_reduce_only(self, s: SymbolState, pos: PaperPosition, ts_ms: int) -> None:
        """A slot went flat: its reduce-only orders can no longer do anything (Bybit cancels them)."""
        for order in [o for o in s.orders if o.reduce_only and o.position_idx == pos.idx]:
            self.cancel_order(s, order, CANCEL_REDUCE_ONLY, ts_ms)


def slot_sign(idx: int) -> int:
    """The side a hedge-mode slot holds: +1 for index 1 (long), -1 for index 2 (short)."""
    return -1 if idx == 2 else 1
