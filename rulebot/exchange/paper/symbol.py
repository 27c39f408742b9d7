"""Everything the paper exchange knows about one symbol: settings, positions, open orders, prices.

``quick_lo`` / ``quick_hi`` summarise every price at which something could happen (a limit, a
stop, a liquidation, a trailing stop's new best): a bar strictly inside them changes nothing,
which is what lets the replay skip a bar in about a microsecond.
"""

from __future__ import annotations

import math
from decimal import Decimal

from rulebot.exchange.paper.account import PaperPosition
from rulebot.exchange.paper.orders import NEVER_MS, PaperOrder
from rulebot.model.enums import MarginMode, PositionMode, TpslMode
from rulebot.model.instruments import InstrumentRules

INF = math.inf
_nextafter = math.nextafter


class SymbolState:
    """Mutable per-symbol state, owned by one ``PaperExchange`` and touched only by its thread."""

    __slots__ = (
        "rules",
        "symbol",
        "tick",
        "tick_dec",
        "step",
        "step_dec",
        "mode",
        "margin_mode",
        "tpsl_mode",
        "buy_leverage",
        "sell_leverage",
        "positions",
        "orders",
        "last",
        "bids",
        "asks",
        "busy",
        "immediate",
        "quick_lo",
        "quick_hi",
        "trig_lo",
        "trig_hi",
        "next_expiry",
    )

    def __init__(
        self,
        rules: InstrumentRules,
        mode: PositionMode,
        margin_mode: MarginMode,
        leverage: Decimal,
    ) -> None:
        self.rules = rules
        self.symbol = rules.symbol
        self.tick_dec = rules.tick_size
        self.tick = float(rules.tick_size)
        self.step_dec = rules.qty_step
        self.step = float(rules.qty_step)
        self.margin_mode = margin_mode
        self.tpsl_mode = TpslMode.FULL
        lev = float(min(leverage, rules.max_leverage))
        self.buy_leverage = lev
        self.sell_leverage = lev
        self.mode = mode
        self.positions: list[PaperPosition] = []
        self.set_mode(mode)
        self.orders: list[PaperOrder] = []
        self.last = 0.0
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.busy = False
        self.immediate = False
        self.quick_lo = -INF
        self.quick_hi = INF
        self.trig_lo = -INF
        self.trig_hi = INF
        self.next_expiry = NEVER_MS

    def set_mode(self, mode: PositionMode) -> None:
        """Switch position mode; the caller has checked that nothing is open."""
        self.mode = mode
        if mode is PositionMode.ONEWAY:
            self.positions = [PaperPosition(self.symbol, 0)]
        else:
            self.positions = [PaperPosition(self.symbol, 1), PaperPosition(self.symbol, 2)]

    def position(self, idx: int) -> PaperPosition:
        """The slot for a request's position index (already checked against the mode)."""
        if self.mode is PositionMode.ONEWAY:
            return self.positions[0]
        return self.positions[idx - 1]

    def leverage(self, sign: int) -> float:
        """Leverage of the long (``sign`` > 0) or short side."""
        return self.buy_leverage if sign > 0 else self.sell_leverage

    def quiet_range(self, walks: bool = True) -> tuple[float, float, int]:
        """``(low, high, until_ms)``: a bar that opens before ``until_ms``, with its low above
        ``low`` and its high below ``high``, changes nothing here but the last price, so a replay
        may skip it. Every bar is quiet when nothing is open or bars are not walked (``walks``
        False, live mode); none is while a market or immediate order waits for the next open."""
        if not (self.busy and walks):
            return -INF, INF, NEVER_MS
        if self.immediate:
            return INF, -INF, -1
        return self.quick_lo, self.quick_hi, self.next_expiry

    def has_position(self) -> bool:
        """Whether any slot holds a position."""
        return any(p.sign for p in self.positions)

    def refresh(self) -> None:
        """Recompute the trigger and quick ranges, ``busy``, ``immediate`` and the next expiry.

        ``trig_lo`` / ``trig_hi`` bound the levels that fill; ``quick_lo`` / ``quick_hi`` also
        stop short of each trailing stop's best price, which a new extreme moves.

        Called after every change to orders or positions, never per bar.
        """
        lo, hi = -INF, INF
        immediate = False
        expiry = NEVER_MS
        for order in self.orders:
            if order.immediate:
                immediate = True
            elif order.sign > 0:
                lo = max(lo, order.price)
            else:
                hi = min(hi, order.price)
            expiry = min(expiry, order.expire_at_ms)
        for pos in self.positions:
            if pos.sign == 0:
                continue
            # Levels that fire when the price falls (long stops, short targets) raise lo;
            # levels that fire when it rises lower hi.
            falls = [pos.sl, pos.liq] if pos.sign > 0 else [pos.tp]
            rises = [pos.tp] if pos.sign > 0 else [pos.sl, pos.liq]
            for leg in pos.partial:
                (falls if pos.sign > 0 else rises).append(leg.sl)
                (rises if pos.sign > 0 else falls).append(leg.tp)
            for level in falls:
                if level > 0.0 and level > lo:
                    lo = level
            for level in rises:
                if level > 0.0 and level < hi:
                    hi = level
            if pos.trail:
                # The trailing stop fills like any stop.
                if pos.sign > 0:
                    lo = max(lo, pos.trail_best - pos.trail)
                else:
                    hi = min(hi, pos.trail_best + pos.trail)
        self.trig_lo, self.trig_hi = lo, hi
        self.retrail()
        self.immediate = immediate
        self.next_expiry = expiry
        self.busy = bool(self.orders) or any(p.sign for p in self.positions)

    def retrail(self) -> None:
        """Narrow the quick range to each trailing stop's best price (after the trigger range
        changed, or a best price moved): a bar making a new best is not quiet."""
        lo, hi = self.trig_lo, self.trig_hi
        for pos in self.positions:
            if pos.trail and pos.sign:
                if pos.sign > 0:
                    level = _nextafter(pos.trail_best, INF)
                    if level < hi:
                        hi = level
                else:
                    level = _nextafter(pos.trail_best, -INF)
                    if level > lo:
                        lo = level
        self.quick_lo, self.quick_hi = lo, hi
