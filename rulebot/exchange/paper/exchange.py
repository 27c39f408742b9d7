"""PaperExchange: a simulated Bybit account behind the ``Exchange`` protocol.

It is fed market data (``on_bar`` in a replay, ``on_book`` / ``on_trade`` live), fills orders
by the rules of SIMULATION.md (see ``matching``), and emits what happened as model events in
the order Bybit's streams would show it: the execution, then the position and the wallet,
then the order's new status, so an engine that unblocks a rule on the order status already
sees the position it produced. Prices and sizes cross the boundary as ``Decimal`` / strings;
inside everything is floats and whole qty steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from rulebot.exchange.base import Ack, Emit
from rulebot.exchange.errors import RetCode
from rulebot.exchange.paper import matching, settings
from rulebot.exchange.paper.account import Account, dec
from rulebot.exchange.paper.ledger import Ledger, slot_sign
from rulebot.exchange.paper.orders import (
    CANCEL_BY_USER,
    CANCEL_FOK,
    CANCEL_IOC,
    CANCEL_POST_ONLY,
    LINK_ID,
    NEVER_MS,
    PaperOrder,
    check_immediate_tif,
    check_pct,
    check_position_idx,
    check_price,
    check_stops_side,
    reject,
    steps_of,
)
from rulebot.exchange.paper.reports import order_update, position_update
from rulebot.exchange.paper.symbol import SymbolState
from rulebot.model.clock import Clock
from rulebot.model.enums import (
    Category,
    ExitReason,
    MarginMode,
    OrderType,
    PositionMode,
    TimeInForce,
    TpslMode,
)
from rulebot.model.events import (
    BookUpdate,
    KlineUpdate,
    OrderUpdate,
    PositionUpdate,
    TradePrint,
    WalletUpdate,
)
from rulebot.model.instruments import InstrumentRules
from rulebot.model.requests import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    PlaceOrder,
    Request,
    SetLeverage,
    SetMarginMode,
    SetTpslMode,
    SetTradingStop,
    SwitchPositionMode,
)


class FillMode(str, Enum):
    """How the paper exchange matches: by walking closed bars (replay), or on the live book and trades."""

    BARS = "bars"
    LIVE = "live"


@dataclass(frozen=True, slots=True)
class PaperConfig:
    """The simulated account. Fees are rates (0.00055 = 0.055%); 0 is allowed."""

    initial_balance: Decimal = Decimal("10000")
    coin: str = "USDT"
    taker_fee: Decimal = Decimal("0.00055")
    maker_fee: Decimal = Decimal("0.0002")
    slippage_ticks: int = 0
    maintenance_margin_rate: Decimal = Decimal("0.005")
    leverage: Decimal = Decimal("10")
    position_mode: PositionMode = PositionMode.ONEWAY
    margin_mode: MarginMode = MarginMode.CROSS
    fill_mode: FillMode = FillMode.BARS


class PaperExchange:
    """A simulated USDT-settled linear-contract account that implements ``Exchange``."""

    # An order's percent targets and trailing stop are resolved here at its fill (ledger).
    resolves_percent_stops = True

    def __init__(
        self,
        emit: Emit,
        clock: Clock,
        config: PaperConfig | None = None,
        instruments: Mapping[str, InstrumentRules] | None = None,
    ) -> None:
        cfg = config or PaperConfig()
        if cfg.taker_fee < 0 or cfg.maker_fee < 0 or cfg.slippage_ticks < 0 or cfg.initial_balance < 0:
            raise ValueError("fees, slippage and the initial balance must not be negative")
        self.config = cfg
        self._clock = clock
        self._bars = cfg.fill_mode is FillMode.BARS
        self.account = Account(
            coin=cfg.coin,
            balance=float(cfg.initial_balance),
            maker_fee=float(cfg.maker_fee),
            taker_fee=float(cfg.taker_fee),
            mmr=float(cfg.maintenance_margin_rate),
        )
        self._ledger = Ledger(
            self.account,
            emit,
            dict(instruments or {}),
            position_mode=cfg.position_mode,
            margin_mode=cfg.margin_mode,
            leverage=cfg.leverage,
            slippage_ticks=cfg.slippage_ticks,
        )
        self._states = self._ledger.states
        self._emit = emit
        self._link_ids: set[str] = set()
        self._walking = False

    # -- the Exchange protocol -------------------------------------------------------------

    def submit(self, request: Request) -> Ack:
        """Accept a request or raise ``OrderRejected`` with the retCode Bybit would send."""
        if self._walking:
            raise RuntimeError("emit must only enqueue: a request arrived while a bar was being matched")
        if isinstance(request, PlaceOrder):
            return self._place(request)
        if isinstance(request, AmendOrder):
            return self._amend(request)
        if isinstance(request, CancelOrder):
            return self._cancel(request)
        if isinstance(request, CancelAll):
            return self._cancel_all(request)
        s = self._tradable(request.symbol)
        now = self._clock.now_ms()
        if isinstance(request, SetLeverage):
            settings.set_leverage(s, request, self._ledger.available)
            self._ledger.update_liquidation()
        elif isinstance(request, SwitchPositionMode):
            settings.switch_mode(s, request)
        elif isinstance(request, SetMarginMode):
            settings.set_margin_mode(s, request)
        elif isinstance(request, SetTpslMode):
            s.tpsl_mode = request.mode
            return Ack()
        elif isinstance(request, SetTradingStop):
            settings.set_trading_stop(s, request)
        else:
            raise reject(RetCode.PARAMS, f"unknown request {type(request).__name__}")
        s.refresh()
        for pos in s.positions:
            self._emit(position_update(s, pos, now))
        return Ack()

    def open_orders(self, symbol: str) -> list[OrderUpdate]:
        """The symbol's open orders, oldest first."""
        s = self._states.get(symbol)
        now = self._clock.now_ms()
        return [order_update(s, o, now) for o in s.orders] if s else []

    def positions(self, symbol: str) -> list[PositionUpdate]:
        """Every position slot of the symbol in its mode, flat ones included."""
        s = self._ledger.state(symbol)
        now = self._clock.now_ms()
        return [position_update(s, p, now) for p in s.positions]

    def wallet(self) -> WalletUpdate:
        """Balance, equity (balance + unrealised PnL) and available balance, at the last prices."""
        return self._ledger.wallet_at(self._clock.now_ms())

    # -- market data -----------------------------------------------------------------------

    def on_bar(self, bar: KlineUpdate) -> None:
        """A closed bar: walk it over this symbol's orders and stops (replay), then remember its close.

        Call it once per bar of the replayed (finest) timeframe, before the engine sees the bar,
        so the fills come first and rules at the close see their result. With nothing open, or
        when the bar stays strictly inside every level that could fire, this returns after a
        few attribute reads. In live mode it only records the close.
        """
        s = self._states.get(bar.symbol)
        if s is None:
            s = self._ledger.state(bar.symbol)
        if (
            s.busy
            and self._bars
            and (
                s.immediate
                or bar.low <= s.quick_lo
                or bar.high >= s.quick_hi
                or bar.start_ms >= s.next_expiry
            )
        ):
            self._walking = True
            try:
                matching.walk_bar(self._ledger, s, bar)
            finally:
                self._walking = False
        s.last = bar.close

    def quiet_range(self, symbol: str) -> tuple[float, float, int]:
        """``(low, high, until_ms)`` of the bars ``on_bar`` only takes the close of (``SymbolState.quiet_range``)."""
        return self._ledger.state(symbol).quiet_range(self._bars)

    def on_trade(self, trade: TradePrint) -> None:
        """Live mode: a public trade sets the last price, triggers stops and fills resting limits."""
        if self._bars:
            return
        s = self._ledger.state(trade.symbol)
        s.last = trade.price
        now = self._clock.now_ms()
        if s.next_expiry <= now:
            self._ledger.expire_orders(s, now)
        self._fill_waiting(s, now)
        if s.busy:
            matching.match_trade(self._ledger, s, trade.price, now)

    def on_book(self, update: BookUpdate) -> None:
        """Live mode: keep a copy of the order book for market orders (a size of 0 deletes a level)."""
        if self._bars:
            return
        s = self._ledger.state(update.symbol)
        if update.is_snapshot:
            s.bids = {p: q for p, q in update.bids if q > 0}
            s.asks = {p: q for p, q in update.asks if q > 0}
        else:
            for book, levels in ((s.bids, update.bids), (s.asks, update.asks)):
                for price, size in levels:
                    if size > 0:
                        book[price] = size
                    else:
                        book.pop(price, None)
        now = self._clock.now_ms()
        if s.next_expiry <= now:
            self._ledger.expire_orders(s, now)
        self._fill_waiting(s, now)

    def close_all(self, reason: ExitReason, price: float | None = None, symbol: str | None = None) -> None:
        """Close every open position (of ``symbol``, or all) at ``price`` or each symbol's last price.

        A backtest calls ``close_all(ExitReason.END)`` after the last bar (SIMULATION.md).
        """
        now = self._clock.now_ms()
        for s in list(self._states.values()):
            if symbol is not None and s.symbol != symbol:
                continue
            for pos in s.positions:
                if pos.sign:
                    self._ledger.exit_position(s, pos, s.last if price is None else price, reason, now)

    # -- internals -------------------------------------------------------------------------

    def _tradable(self, symbol: str) -> SymbolState:
        s = self._ledger.state(symbol)
        if s.rules.category is not Category.LINEAR or s.rules.settle_coin != self.account.coin:
            raise reject(
                RetCode.PARAMS,
                f"the paper exchange simulates {self.account.coin}-settled linear contracts only, "
                f"not {symbol} ({s.rules.category.value}, settled in {s.rules.settle_coin})",
            )
        return s

    def _fill_waiting(self, s: SymbolState, now: int) -> None:
        """Live mode: immediate orders that arrived before any price was known."""
        if s.immediate and (s.bids or s.asks or s.last > 0.0):
            for order in [o for o in s.orders if o.immediate]:
                self._match_live(s, order, now)

    # -- requests --------------------------------------------------------------------------

    def _place(self, req: PlaceOrder) -> Ack:
        s = self._tradable(req.symbol)
        rules = s.rules
        link = req.order_link_id
        if link and not LINK_ID.fullmatch(link):
            raise reject(RetCode.PARAMS, f"orderLinkId {link!r} must be 1-36 characters of A-Z a-z 0-9 _ -")
        if link in self._link_ids:
            raise reject(RetCode.DUPLICATE_LINK_ID, f"orderLinkId {link!r} is duplicate")
        check_position_idx(req.position_idx, s.mode)
        steps = steps_of(req.qty, s.step_dec)
        if req.qty < rules.min_order_qty:
            raise reject(
                RetCode.PARAMS, f"qty {req.qty} is below the minimum order qty {rules.min_order_qty}"
            )
        if req.qty > rules.max_order_qty:
            raise reject(
                RetCode.PARAMS, f"qty {req.qty} is above the maximum order qty {rules.max_order_qty}"
            )
        immediate = check_immediate_tif(req)
        price = 0.0
        if req.order_type is OrderType.LIMIT:
            if req.price is None:
                raise reject(RetCode.PARAMS, "a limit order needs a price")
            check_price(req.price, s.tick_dec, "price")
            price = float(req.price)
        sign = req.side.sign
        ref = price or (matching.take_price(s, sign, s.last) if not self._bars else s.last)
        if ref <= 0.0:
            raise reject(
                RetCode.PARAMS, f"no price is known for {s.symbol} yet: a market order cannot be valued"
            )
        has_stops = not (
            req.take_profit is None
            and req.stop_loss is None
            and req.trailing_stop is None
            and req.tp_pct is None
            and req.sl_pct is None
            and req.trail_pct is None
        )
        if req.reduce_only and has_stops:
            raise reject(
                RetCode.PARAMS, "a reduce-only order cannot carry a take profit, stop loss or trailing stop"
            )
        for value, what in ((req.take_profit, "take profit"), (req.stop_loss, "stop loss")):
            if value is not None:
                check_price(value, s.tick_dec, what)
        if req.trailing_stop is not None:
            check_price(req.trailing_stop, s.tick_dec, "trailing stop")
        check_stops_side(req, ref)
        partial = req.tpsl_mode is TpslMode.PARTIAL
        if partial and (req.trailing_stop is not None or req.trail_pct is not None):
            raise reject(RetCode.PARAMS, "a trailing stop covers the whole position: it needs tpsl mode full")
        pos = s.position(req.position_idx)
        hedge_close = s.mode is PositionMode.HEDGE and sign != slot_sign(pos.idx)
        against = pos.steps if pos.sign == -sign else 0
        if (req.reduce_only or hedge_close) and against == 0:
            raise reject(
                RetCode.QTY_TRUNCATED_TO_ZERO, "current position is zero, cannot fix reduce-only order qty"
            )
        reducing = req.reduce_only or hedge_close
        if hedge_close and has_stops:
            raise reject(RetCode.PARAMS, "an order that closes a hedge-mode side cannot carry stops")
        if not reducing and req.qty * dec(ref) < rules.min_notional:
            raise reject(
                RetCode.BELOW_MIN_NOTIONAL,
                f"order value {req.qty * dec(ref)} is below the minimum order value {rules.min_notional}",
            )
        opening = 0 if reducing else max(steps - against, 0)
        margin = opening * s.step * ref / s.leverage(sign)
        available = self._ledger.available()
        if margin > available:
            raise reject(
                RetCode.INSUFFICIENT_BALANCE,
                f"the order needs {margin:.4f} {self.account.coin} of margin, {available:.4f} is available",
            )
        if req.expire_after_ms is not None and req.expire_after_ms <= 0:
            raise reject(RetCode.PARAMS, f"expire after {req.expire_after_ms} ms must be positive")
        now = self._clock.now_ms()
        crosses = price > 0.0 and self._crosses(s, sign, price)
        order = PaperOrder(
            order_id=self._ledger.next_order_id(),
            link_id=link,
            symbol=s.symbol,
            side=req.side,
            sign=sign,
            order_type=req.order_type,
            tif=req.time_in_force,
            steps=steps,
            qty_text=str(req.qty),
            price=price,
            price_text=str(req.price) if req.price is not None else "0",
            reduce_only=req.reduce_only,
            position_idx=pos.idx if s.mode is PositionMode.HEDGE else 0,
            created_ms=now,
            expire_at_ms=now + req.expire_after_ms if req.expire_after_ms else NEVER_MS,
            immediate=immediate,
            taker_at_open=crosses and not immediate,
            tp=float(req.take_profit or 0),
            sl=float(req.stop_loss or 0),
            trail=float(req.trailing_stop or 0),
            tp_pct=check_pct(req.tp_pct, "tp", False),
            sl_pct=check_pct(req.sl_pct, "sl", True),
            trail_pct=check_pct(req.trail_pct, "trail", True),
            tpsl_partial=partial,
            margin=margin,
        )
        if link:
            self._link_ids.add(link)
        s.orders.append(order)
        s.refresh()
        self._emit(order_update(s, order, now))
        if req.time_in_force is TimeInForce.POST_ONLY and crosses:
            self._ledger.cancel_order(s, order, CANCEL_POST_ONLY, now)
        elif not self._bars and (immediate or crosses):
            self._match_live(s, order, now)
        return Ack(order.order_id, link)

    def _crosses(self, s: SymbolState, sign: int, price: float) -> bool:
        """Whether a limit at ``price`` would take liquidity now (the best opposite price live,
        the last close in a replay)."""
        if not self._bars and (s.asks if sign > 0 else s.bids):
            return (price - matching.take_price(s, sign, 0.0)) * sign >= 0
        return s.last > 0.0 and (price - s.last) * sign >= 0

    def _match_live(self, s: SymbolState, order: PaperOrder, now: int) -> None:
        """Live: take the book for a market, IOC, FOK or crossing limit order; rest or cancel the rest."""
        if not (s.bids or s.asks) and s.last <= 0.0:
            return  # no price yet: the order waits for the first book or trade
        limit = order.price
        if order.tif is TimeInForce.FOK and matching.book_depth(s, order.sign, limit) < order.remaining:
            self._ledger.cancel_order(s, order, CANCEL_FOK, now)
            return
        for price, steps in matching.take_book(s, order.sign, order.remaining, limit):
            if not order.status.is_open:
                return
            self._ledger.fill_order(s, order, price, steps, False, now)
        if order.status.is_open:
            if order.immediate:
                self._ledger.cancel_order(s, order, CANCEL_IOC, now)
            else:
                order.taker_at_open = False
                s.refresh()

    def _find_order(self, symbol: str, link: str) -> tuple[SymbolState, PaperOrder]:
        s = self._states.get(symbol)
        for order in s.orders if s else ():
            if order.link_id == link:
                if order.immediate:
                    raise reject(RetCode.ORDER_FINISHED, f"order {link!r} is a market or immediate order")
                return s, order  # type: ignore[return-value]
        if link in self._link_ids:
            raise reject(RetCode.ORDER_FINISHED, f"order {link!r} has been completed or cancelled")
        raise reject(RetCode.ORDER_NOT_EXIST, f"order {link!r} does not exist")

    def _amend(self, req: AmendOrder) -> Ack:
        s, order = self._find_order(req.symbol, req.order_link_id)
        if req.qty is None and req.price is None:
            raise reject(RetCode.PARAMS, "an amend needs a new qty or a new price")
        steps = steps_of(req.qty, s.step_dec) if req.qty is not None else order.steps
        if steps <= order.filled:
            raise reject(
                RetCode.PARAMS, f"qty {req.qty} is not above the filled qty {order.filled * s.step_dec}"
            )
        price = order.price
        if req.price is not None:
            check_price(req.price, s.tick_dec, "price")
            price = float(req.price)
        margin = 0.0
        if order.margin:
            margin = (steps - order.filled) * s.step * price / s.leverage(order.sign)
            available = self._ledger.available() + order.margin
            if margin > available:
                raise reject(
                    RetCode.INSUFFICIENT_BALANCE,
                    f"the amended order needs {margin:.4f} of margin, {available:.4f} is available",
                )
        now = self._clock.now_ms()
        order.steps, order.margin, order.price = steps, margin, price
        if req.qty is not None:
            order.qty_text = str(req.qty)
        if req.price is not None:
            order.price_text = str(req.price)
        crosses = self._crosses(s, order.sign, price)
        order.taker_at_open = crosses
        s.refresh()
        self._emit(order_update(s, order, now))
        if order.tif is TimeInForce.POST_ONLY and crosses:
            self._ledger.cancel_order(s, order, CANCEL_POST_ONLY, now)
        elif not self._bars and crosses:
            self._match_live(s, order, now)
        return Ack(order.order_id, order.link_id)

    def _cancel(self, req: CancelOrder) -> Ack:
        s, order = self._find_order(req.symbol, req.order_link_id)
        self._ledger.cancel_order(s, order, CANCEL_BY_USER, self._clock.now_ms())
        return Ack(order.order_id, order.link_id)

    def _cancel_all(self, req: CancelAll) -> Ack:
        s = self._states.get(req.symbol)
        now = self._clock.now_ms()
        done: list[str] = []
        for order in list(s.orders) if s else []:
            if order.immediate or (req.side is not None and order.side is not req.side):
                continue
            self._ledger.cancel_order(s, order, CANCEL_BY_USER, now)  # type: ignore[arg-type]
            done.append(order.link_id)
        return Ack(cancelled=tuple(done))


__all__ = ["FillMode", "PaperConfig", "PaperExchange"]
