"""Matching: when and at what price simulated orders and stops fill (SIMULATION.md).

Bars: each bar is walked open -> nearer extreme -> other extreme -> close. Immediate orders
(market, IOC, FOK) get the open; then every resting limit and every exchange-side stop is
checked along each leg of the walk, in the order the walk reaches them. A level the walk
*starts* beyond (a gap at the open, or a stop that appears beyond the price) fills at the
current price; one the walk reaches later fills at its own level.

Live: a market order takes the book, level by level (the last trade price when there is no
book); a trade printing at or through a resting limit fills it at its price; stops trigger on
the trade price and close at market.

This module decides; the ``Filler`` (the exchange) books the fills and emits the events.
"""

from __future__ import annotations

from typing import Protocol

from rulebot.exchange.paper.account import PaperPosition, StopLeg
from rulebot.exchange.paper.orders import CANCEL_FOK, CANCEL_IOC, PaperOrder
from rulebot.exchange.paper.symbol import SymbolState
from rulebot.model.enums import ExitReason, OrderType, TimeInForce
from rulebot.model.events import KlineUpdate

_INF = float("inf")

# Candidate kinds, in the order they go first when the walk reaches several at one price:
# exits before entries, the stop loss before anything else of its position.
_SL, _LEG_SL, _TRAIL, _LIQ, _TP, _LEG_TP, _LIMIT = range(7)
_REASON = {
    _SL: ExitReason.SL,
    _LEG_SL: ExitReason.SL,
    _TRAIL: ExitReason.TRAIL,
    _LIQ: ExitReason.LIQUIDATION,
    _TP: ExitReason.TP,
    _LEG_TP: ExitReason.TP,
}


class Filler(Protocol):
    """What matching needs from the exchange: book a fill, close a position, cancel an order."""

    slippage_ticks: int

    def fill_order(
        self, s: SymbolState, order: PaperOrder, price: float, steps: int, is_maker: bool, ts_ms: int
    ) -> None:
        """Fill ``steps`` of ``order`` at ``price``."""
        ...

    def exit_position(
        self,
        s: SymbolState,
        pos: PaperPosition,
        price: float,
        reason: ExitReason,
        ts_ms: int,
        leg: StopLeg | None = None,
    ) -> None:
        """Close ``pos`` (or the part a partial ``leg`` covers) at ``price``, taker fee."""
        ...

    def cancel_order(self, s: SymbolState, order: PaperOrder, reason: str, ts_ms: int) -> None:
        """Cancel what is left of ``order``."""
        ...

    def expire_orders(self, s: SymbolState, now_ms: int) -> None:
        """Cancel the orders whose expiry time has come."""
        ...

    def slipped(self, s: SymbolState, price: float, sign: int) -> float:
        """``price`` moved ``slippage_ticks`` against a taker on side ``sign``."""
        ...


def walk_bar(fx: Filler, s: SymbolState, bar: KlineUpdate) -> None:
    """Walk one closed bar over the symbol's orders and positions (the slow path of ``on_bar``)."""
    o, h, lo, c = bar.open, bar.high, bar.low, bar.close
    start = bar.start_ms
    if s.next_expiry <= start:
        fx.expire_orders(s, start)
    if s.immediate:
        _fill_immediates(fx, s, o, start)
    elif s.trig_lo < lo and h < s.trig_hi and _only_trailing_moves(s, lo, h):
        return
    span = max(bar.ts_event_ms - start, 0)
    p1, p2 = (h, lo) if h - o <= o - lo else (lo, h)
    # Extremes of the walk from point k on, for "touches both SL and TP in this bar".
    lo3, hi3 = c, c
    lo2, hi2 = min(p2, c), max(p2, c)
    lo1, hi1 = min(p1, lo2), max(p1, hi2)
    moved = False
    _leg(fx, s, o, o, lo, h, start, True)
    moved |= _move_trailing(s, o)
    _leg(fx, s, o, p1, lo1, hi1, start + span // 4, False)
    moved |= _move_trailing(s, p1)
    _leg(fx, s, p1, p2, lo2, hi2, start + span // 2, False)
    moved |= _move_trailing(s, p2)
    _leg(fx, s, p2, c, lo3, hi3, start + 3 * span // 4, False)
    moved |= _move_trailing(s, c)
    if moved:
        s.retrail()


def _fill_immediates(fx: Filler, s: SymbolState, o: float, ts: int) -> None:
    """Market orders fill at the open (with slippage); IOC/FOK limits fill there or are cancelled."""
    for order in [x for x in s.orders if x.immediate]:
        if not order.status.is_open:
            continue
        if order.order_type is OrderType.MARKET:
            fx.fill_order(s, order, fx.slipped(s, o, order.sign), order.remaining, False, ts)
        elif (o - order.price) * order.sign <= 0:
            fx.fill_order(s, order, o, order.remaining, False, ts)
        else:
            reason = CANCEL_FOK if order.tif is TimeInForce.FOK else CANCEL_IOC
            fx.cancel_order(s, order, reason, ts)


def _only_trailing_moves(s: SymbolState, lo: float, h: float) -> bool:
    """A bar inside the trigger range fires nothing unless a trailing stop, pulled up (down)
    by the bar's new extreme, is then reached. When even the widest swing of the bar (its whole
    range) cannot reach it, just move the best prices and report True."""
    moves = []
    for pos in s.positions:
        if pos.trail and pos.sign:
            best = pos.trail_best
            if pos.sign > 0:
                top = h if h > best else best
                if lo <= top - pos.trail:
                    return False
                if top != best:
                    moves.append((pos, top))
            else:
                bottom = lo if lo < best else best
                if h >= bottom + pos.trail:
                    return False
                if bottom != best:
                    moves.append((pos, bottom))
    for pos, best in moves:
        pos.trail_best = best
        if pos.sign > 0:
            level = best - pos.trail
            if level > s.trig_lo:
                s.trig_lo = level
        else:
            level = best + pos.trail
            if level < s.trig_hi:
                s.trig_hi = level
    if moves:
        s.retrail()
    return True


def _move_trailing(s: SymbolState, price: float) -> bool:
    """Move each trailing stop's best price to ``price`` if better; tighten the trigger range."""
    moved = False
    for pos in s.positions:
        if pos.trail and pos.sign:
            if pos.sign > 0:
                if price > pos.trail_best:
                    pos.trail_best = price
                    s.trig_lo = max(s.trig_lo, price - pos.trail)
                    moved = True
            elif price < pos.trail_best:
                pos.trail_best = price
                s.trig_hi = min(s.trig_hi, price + pos.trail)
                moved = True
    return moved


def _leg(
    fx: Filler, s: SymbolState, a: float, b: float, rest_lo: float, rest_hi: float, ts: int, at_open: bool
) -> None:
    """Walk from ``a`` to ``b``, filling whatever the walk reaches, nearest first.

    ``rest_lo`` / ``rest_hi`` are the extremes of the walk from ``b`` to the close.
    """
    cur = a
    while True:
        seg_lo = cur if cur < b else b
        seg_hi = cur if cur > b else b
        if s.trig_lo < seg_lo and seg_hi < s.trig_hi:
            break
        best_key = (_INF, 99)
        best_order: PaperOrder | None = None
        best_exit: tuple[PaperPosition, StopLeg | None] | None = None
        best_level = best_price = 0.0
        for order in s.orders:
            if order.immediate:
                continue
            level = order.price
            if order.sign > 0:
                if seg_lo > level:
                    continue
                dist = cur - level if cur > level else 0.0
                price = level if cur > level else cur
            else:
                if seg_hi < level:
                    continue
                dist = level - cur if level > cur else 0.0
                price = level if level > cur else cur
            if (dist, _LIMIT) < best_key:
                best_key, best_level, best_price = (dist, _LIMIT), level, price
                best_order, best_exit = order, None
        for pos in s.positions:
            if pos.sign == 0:
                continue
            rem_lo = cur if cur < rest_lo else rest_lo
            rem_hi = cur if cur > rest_hi else rest_hi
            for kind, level, leg in _position_levels(pos, rem_lo, rem_hi):
                falls = (pos.sign > 0) == (kind in (_SL, _LEG_SL, _TRAIL, _LIQ))
                if falls:
                    if seg_lo > level:
                        continue
                    dist = cur - level if cur > level else 0.0
                    price = level if cur > level else cur
                else:
                    if seg_hi < level:
                        continue
                    dist = level - cur if level > cur else 0.0
                    price = level if level > cur else cur
                if (dist, kind) < best_key:
                    best_key, best_level, best_price = (dist, kind), level, price
                    best_order, best_exit = None, (pos, leg)
        if best_order is not None:
            is_maker = not (at_open and best_order.taker_at_open)
            fx.fill_order(s, best_order, best_price, best_order.remaining, is_maker, ts)
        elif best_exit is not None:
            fx.exit_position(s, best_exit[0], best_price, _REASON[best_key[1]], ts, best_exit[1])
        else:
            break
        if best_key[0] > 0.0:
            cur = best_level
    if at_open:
        # Past the open, a limit that crossed when placed rests like any other (maker).
        for order in s.orders:
            order.taker_at_open = False


def _position_levels(
    pos: PaperPosition, rem_lo: float, rem_hi: float
) -> list[tuple[int, float, StopLeg | None]]:
    """The trigger levels of one position; a take profit is left out when the rest of the bar
    also touches its stop loss (SIMULATION.md: the stop loss is taken, whatever the order)."""
    out: list[tuple[int, float, StopLeg | None]] = []
    long = pos.sign > 0
    if pos.sl:
        out.append((_SL, pos.sl, None))
    if pos.trail:
        out.append((_TRAIL, pos.trail_best - pos.trail if long else pos.trail_best + pos.trail, None))
    if pos.liq:
        out.append((_LIQ, pos.liq, None))
    if pos.tp and not (pos.sl and (rem_lo <= pos.sl if long else rem_hi >= pos.sl)):
        out.append((_TP, pos.tp, None))
    for leg in pos.partial:
        if leg.sl:
            out.append((_LEG_SL, leg.sl, leg))
        if leg.tp and not (leg.sl and (rem_lo <= leg.sl if long else rem_hi >= leg.sl)):
            out.append((_LEG_TP, leg.tp, leg))
    return out


def match_trade(fx: Filler, s: SymbolState, price: float, ts: int) -> None:
    """A public trade at ``price``: stops trigger and close at market, resting limits fill."""
    for pos in s.positions:
        if pos.sign == 0:
            continue
        if pos.trail and (price - pos.trail_best) * pos.sign > 0:
            pos.trail_best = price
        for kind, level, leg in _position_levels(pos, price, price):
            falls = (pos.sign > 0) == (kind in (_SL, _LEG_SL, _TRAIL, _LIQ))
            if (price <= level) if falls else (price >= level):
                close_sign = -pos.sign
                fill_price = take_price(s, close_sign, price)
                fx.exit_position(s, pos, fill_price, _REASON[kind], ts, leg)
                if pos.sign == 0:
                    break
    for order in list(s.orders):
        if order.immediate or not order.status.is_open:
            continue
        if (price - order.price) * order.sign <= 0:
            fx.fill_order(s, order, order.price, order.remaining, True, ts)
    s.refresh()


def take_price(s: SymbolState, sign: int, fallback: float) -> float:
    """The best opposite price for a taker on side ``sign``, ``fallback`` with no book."""
    side = s.asks if sign > 0 else s.bids
    if not side:
        return fallback
    return min(side) if sign > 0 else max(side)


def take_book(s: SymbolState, sign: int, steps: int, limit: float) -> list[tuple[float, int]]:
    """Walk the opposite side of the book for ``steps``, no worse than ``limit`` (0.0: any price).

    Returns ``(price, steps)`` per level taken and removes what was taken from the local copy,
    so two orders in a row do not take the same liquidity. With no book, the last trade price
    stands in for one level of unlimited size.
    """
    side = s.asks if sign > 0 else s.bids
    if not side:
        if s.last <= 0.0 or (limit and (s.last - limit) * sign > 0):
            return []
        return [(s.last, steps)]
    fills: list[tuple[float, int]] = []
    left = steps
    for price in sorted(side, reverse=sign < 0):
        if left == 0 or (limit and (price - limit) * sign > 0):
            break
        avail = int(side[price] / s.step + 1e-9)
        take = min(avail, left)
        if take <= 0:
            continue
        fills.append((price, take))
        left -= take
        remaining = side[price] - take * s.step
        if remaining <= s.step * 1e-9:
            del side[price]
        else:
            side[price] = remaining
    return fills


def book_depth(s: SymbolState, sign: int, limit: float) -> int:
    """Steps available to a taker on side ``sign`` at ``limit`` or better (for FOK)."""
    side = s.asks if sign > 0 else s.bids
    if not side:
        return 2**62 if s.last > 0.0 and (not limit or (s.last - limit) * sign <= 0) else 0
    return sum(
        int(size / s.step + 1e-9) for price, size in side.items() if not limit or (price - limit) * sign <= 0
    )
