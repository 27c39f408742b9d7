"""Position and account settings: leverage, position mode, margin mode, TP/SL on a position.

Each function checks a request the way Bybit does (same retCodes) and applies it to one
symbol's state; the exchange reports the positions afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from rulebot.exchange.errors import RetCode
from rulebot.exchange.paper.account import StopLeg
from rulebot.exchange.paper.orders import check_position_idx, check_price, reject, steps_of
from rulebot.exchange.paper.symbol import SymbolState
from rulebot.model.enums import MarginMode, PositionMode, TpslMode
from rulebot.model.requests import SetLeverage, SetMarginMode, SetTradingStop, SwitchPositionMode


def set_leverage(s: SymbolState, req: SetLeverage, available: Callable[[], float]) -> None:
    """Buy and sell leverage within [1, maxLeverage] on the leverage step; equal unless hedge isolated."""
    rules = s.rules
    for value in (req.buy_leverage, req.sell_leverage):
        if value < 1 or value > rules.max_leverage:
            raise reject(RetCode.PARAMS, f"leverage {value} is outside 1 .. {rules.max_leverage}")
        if (value / rules.leverage_step) % 1:
            raise reject(RetCode.PARAMS, f"leverage {value} is not a multiple of {rules.leverage_step}")
    if req.buy_leverage != req.sell_leverage and (
        s.mode is PositionMode.ONEWAY or s.margin_mode is MarginMode.CROSS
    ):
        raise reject(
            RetCode.PARAMS, "buy and sell leverage must be equal in one-way mode and in cross margin"
        )
    new = (float(req.buy_leverage), float(req.sell_leverage))
    old = (s.buy_leverage, s.sell_leverage)
    if new == old:
        raise reject(RetCode.LEVERAGE_NOT_MODIFIED, f"leverage is already {req.buy_leverage}")
    s.buy_leverage, s.sell_leverage = new
    if available() < 0:
        s.buy_leverage, s.sell_leverage = old
        raise reject(
            RetCode.MARGIN_INSUFFICIENT,
            f"the margin at leverage {req.buy_leverage} exceeds the available balance",
        )


def switch_mode(s: SymbolState, req: SwitchPositionMode) -> None:
    """One-way <-> hedge, only with no position and no open order."""
    if req.mode is s.mode:
        raise reject(RetCode.MODE_NOT_MODIFIED, f"position mode is already {req.mode.value}")
    if s.has_position():
        raise reject(
            RetCode.POSITION_EXISTS_MODE, f"{s.symbol} has a position: the position mode cannot be switched"
        )
    if s.orders:
        raise reject(
            RetCode.ORDERS_EXIST_MODE, f"{s.symbol} has open orders: the position mode cannot be switched"
        )
    s.set_mode(req.mode)


def set_margin_mode(s: SymbolState, req: SetMarginMode) -> None:
    """Isolated <-> cross, only with no position and no open order."""
    if req.mode is s.margin_mode:
        raise reject(RetCode.MARGIN_MODE_NOT_MODIFIED, f"margin mode is already {req.mode.value}")
    if s.has_position() or s.orders:
        raise reject(
            RetCode.MARGIN_MODE_FAILED,
            f"{s.symbol} has a position or open orders: the margin mode cannot be switched",
        )
    if req.mode is MarginMode.CROSS and s.buy_leverage != s.sell_leverage:
        s.sell_leverage = s.buy_leverage
    s.margin_mode = req.mode


def set_trading_stop(s: SymbolState, req: SetTradingStop) -> None:
    """TP / SL / trailing stop on an open position; ``None`` keeps a value, 0 removes it.

    In partial mode the request adds a take profit and/or stop loss covering ``size``.
    """
    check_position_idx(req.position_idx, s.mode)
    pos = s.position(req.position_idx)
    if pos.sign == 0:
        raise reject(RetCode.PARAMS, "can not set tp/sl/ts for zero position")
    ref = s.last or pos.entry
    long = pos.sign > 0
    tp = _level(s, req.take_profit, "take profit", long, ref)
    sl = _level(s, req.stop_loss, "stop loss", not long, ref)
    trail = None
    if req.trailing_stop is not None:
        trail = 0.0
        if req.trailing_stop != 0:
            check_price(req.trailing_stop, s.tick_dec, "trailing stop")
            trail = float(req.trailing_stop)
    if req.tpsl_mode is TpslMode.PARTIAL:
        if trail is not None:
            raise reject(RetCode.PARAMS, "a trailing stop covers the whole position: it needs tpsl mode full")
        if req.size is None:
            raise reject(RetCode.PARAMS, "a partial take profit or stop loss needs a size")
        steps = steps_of(req.size, s.step_dec, "size")
        if steps > pos.steps:
            raise reject(
                RetCode.PARAMS, f"size {req.size} is above the position size {pos.steps * s.step_dec}"
            )
        if not tp and not sl:
            raise reject(RetCode.TPSL_NOT_MODIFIED, "a partial take profit or stop loss needs a price")
        pos.partial.append(StopLeg(tp or 0.0, sl or 0.0, steps))
        return
    new = (
        pos.tp if tp is None else tp,
        pos.sl if sl is None else sl,
        pos.trail if trail is None else trail,
    )
    if new == (pos.tp, pos.sl, pos.trail):
        raise reject(RetCode.TPSL_NOT_MODIFIED, "take profit, stop loss and trailing stop are already set so")
    if new[2] != pos.trail:
        pos.trail_best = ref
    pos.tp, pos.sl, pos.trail = new


def _level(s: SymbolState, value: Decimal | None, what: str, above: bool, ref: float) -> float | None:
    """A TP or SL price: ``None`` unchanged, 0.0 removed; 10001 off the tick or on the wrong side."""
    if value is None:
        return None
    if value == 0:
        return 0.0
    check_price(value, s.tick_dec, what)
    level = float(value)
    if (level - ref) * (1 if above else -1) <= 0:
        word = "higher" if above else "lower"
        raise reject(RetCode.PARAMS, f"{what} {value} should be {word} than the last price {ref!r}")
    return level
