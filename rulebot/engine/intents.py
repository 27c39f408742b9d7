"""Compiled actions + the values they read at fire time -> ``rulebot.actions`` intents.

A compiled action carries value callables (``ValueFn``) that are evaluated only when the
rule fires (`buy 0.01 limit ema(20)` reads the EMA then). A value that is unknown at that
moment (NaN: no data yet, a stale book) makes the action impossible: it becomes a
``Rejection`` with a reason naming the value, which the engine journals like any other
refusal, and the rule's following actions are skipped (LANGUAGE.md §5).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from rulebot.actions.intents import (
    CancelIntent,
    CancelWhich,
    CloseIntent,
    HaltIntent,
    Intent,
    NotifyIntent,
    OrderIntent,
    PauseIntent,
    PositionSide,
    PriceTarget,
    QtySpec,
    QtyUnit,
    SetLeverageIntent,
    SetMarginModeIntent,
    SetPositionModeIntent,
    SetTpslModeIntent,
    SetTradingStopIntent,
    Trail,
    TrailUnit,
)
from rulebot.actions.rejection import ActionRejected, RejectCode, Rejection
from rulebot.lang.compiled import (
    CompiledAction,
    CompiledCancel,
    CompiledClose,
    CompiledHalt,
    CompiledNotify,
    CompiledOrder,
    CompiledPause,
    CompiledSet,
    ValueFn,
)
from rulebot.model.enums import MarginMode, PositionMode, Side, TpslMode


@dataclass(frozen=True, slots=True)
class Position:
    """What a take profit or stop loss written in ticks is measured from: the open position's
    side (+1 long, -1 short, 0 flat) and entry price, and the symbol's tick size."""

    sign: int
    entry: float
    tick_size: float


def to_intent(
    action: CompiledAction, symbol: str, rule: str, seq: int, position: Callable[[], Position] | None = None
) -> Intent | Rejection:
    """The intent of one compiled action, its values read now, or why it cannot be made.

    ``position`` is asked only for a `tp`/`sl` written in ticks."""
    try:
        if isinstance(action, CompiledOrder):
            return _order(action, symbol, rule, seq, position)
        if isinstance(action, CompiledClose):
            return _close(action, symbol, rule, seq)
        if isinstance(action, CompiledCancel):
            return CancelIntent(symbol=symbol, which=_CANCEL[action.which], rule=rule, seq=seq)
        if isinstance(action, CompiledSet):
            return _set(action, symbol, rule, seq, position)
        if isinstance(action, CompiledNotify):
            return _notify(action, symbol, rule, seq)
        if isinstance(action, CompiledPause):
            return PauseIntent(symbol=symbol, rule=rule, seq=seq)
        if isinstance(action, CompiledHalt):
            return HaltIntent(symbol=symbol, reason=f"halt by rule '{rule}'", rule=rule, seq=seq)
    except ActionRejected as refused:
        return refused.rejection
    return Rejection(RejectCode.NOT_SUPPORTED, f"the engine cannot run the action {type(action).__name__}")


def _value(fn: ValueFn, what: str) -> float:
    try:
        x = float(fn.fn())
    except (ArithmeticError, ValueError, TypeError) as err:
        raise ActionRejected(RejectCode.NO_PRICE, f"the {what} cannot be worked out now ({err})") from None
    if not math.isfinite(x):
        raise ActionRejected(RejectCode.NO_PRICE, f"the {what} is unknown now")
    return x


def _target(fn: ValueFn | None, what: str, from_ticks: Callable[[float], float] | None = None) -> PriceTarget | None:
    """A take profit or stop loss; ``from_ticks`` turns a distance in ticks into a price (it
    raises when there is no reference price to measure from)."""
    if fn is None:
        return None
    x = _value(fn, what)
    if fn.kind == "percent":
        return PriceTarget.percent(x)
    if fn.kind in ("price", "number"):
        return PriceTarget.price(x)
    if fn.kind == "ticks" and from_ticks is not None:
        return PriceTarget.price(from_ticks(x))
    raise ActionRejected(RejectCode.NOT_SUPPORTED, f"a {what} given as {fn.kind} is not supported here")


def _ticks_from(reference: float, tick_size: float, *, above: bool) -> Callable[[float], float]:
    def price(ticks: float) -> float:
        distance = ticks * tick_size
        return reference + distance if above else reference - distance
    return price


def _trail(fn: ValueFn | None) -> Trail | None:
    if fn is None:
        return None
    x = _value(fn, "trailing stop")
    if fn.kind == "percent":
        return Trail(TrailUnit.PERCENT, x)
    if fn.kind == "ticks":
        return Trail(TrailUnit.TICKS, x)
    return Trail(TrailUnit.DISTANCE, x)


def _qty(fn: ValueFn, basis: str) -> QtySpec:
    x = _value(fn, "order size")
    if basis:
        return QtySpec.share(x, QtyUnit(basis))
    if fn.kind == "money" and fn.coin:
        return QtySpec.money(x, fn.coin)
    return QtySpec.base(x)


def _order(a: CompiledOrder, symbol: str, rule: str, seq: int, position: Callable[[], Position] | None) -> Intent:
    price = None if a.price is None else _value(a.price, "limit price")
    tp_ticks = sl_ticks = None
    if (a.tp is not None and a.tp.kind == "ticks") or (a.sl is not None and a.sl.kind == "ticks"):
        # measured from the order price: known for a limit order only (a market order's fill
        # price is not known when it is sent)
        if price is None or position is None:
            raise ActionRejected(RejectCode.NOT_SUPPORTED,
                                 "a take profit or stop loss in ticks needs a limit order; write it in percent")
        tick, long = position().tick_size, a.side is Side.BUY
        tp_ticks = _ticks_from(price, tick, above=long)
        sl_ticks = _ticks_from(price, tick, above=not long)
    return OrderIntent(
        symbol=symbol,
        side=a.side,
        qty=_qty(a.qty, a.qty_basis),
        order_type=a.order_type,
        price=price,
        tp=_target(a.tp, "take profit", tp_ticks),
        sl=_target(a.sl, "stop loss", sl_ticks),
        trail=_trail(a.trail),
        post_only=a.post_only,
        tif=a.tif,
        reduce_only=a.reduce_only,
        expire_s=a.expire_s,
        tag=a.tag,
        rule=rule,
        seq=seq,
    )


def _close(a: CompiledClose, symbol: str, rule: str, seq: int) -> Intent:
    return CloseIntent(
        symbol=symbol,
        side=PositionSide(a.side) if a.side else None,
        fraction=1.0 if a.fraction is None else float(a.fraction),
        order_type=a.order_type,
        price=None if a.price is None else _value(a.price, "limit price"),
        rule=rule,
        seq=seq,
    )


_CANCEL = {"orders": CancelWhich.ALL, "buys": CancelWhich.BUYS, "sells": CancelWhich.SELLS}


def _set(a: CompiledSet, symbol: str, rule: str, seq: int, position: Callable[[], Position] | None) -> Intent:
    setting, value, word = a.setting, a.value, a.word
    if setting == "leverage" and value is not None:
        return SetLeverageIntent(symbol=symbol, leverage=_value(value, "leverage"), rule=rule, seq=seq)
    if setting == "mode" and word:
        return SetPositionModeIntent(symbol=symbol, mode=PositionMode(word), rule=rule, seq=seq)
    if setting == "margin" and word:
        return SetMarginModeIntent(symbol=symbol, mode=MarginMode(word), rule=rule, seq=seq)
    if setting == "tpsl" and word:
        return SetTpslModeIntent(symbol=symbol, mode=TpslMode(word), rule=rule, seq=seq)
    if setting in ("tp", "sl"):
        what = "take profit" if setting == "tp" else "stop loss"
        from_ticks = None
        if value is not None and value.kind == "ticks":
            # measured from the open position's entry price
            pos = position() if position is not None else None
            if pos is None or pos.sign == 0 or pos.entry != pos.entry:
                raise ActionRejected(RejectCode.NO_PRICE, f"a {what} in ticks needs an open position's entry price")
            from_ticks = _ticks_from(pos.entry, pos.tick_size, above=(setting == "tp") == (pos.sign > 0))
        target = _target(value, what, from_ticks)
        if setting == "tp":
            return SetTradingStopIntent(symbol=symbol, tp=target, rule=rule, seq=seq)
        return SetTradingStopIntent(symbol=symbol, sl=target, rule=rule, seq=seq)
    if setting == "trail":
        return SetTradingStopIntent(symbol=symbol, trail=_trail(value), rule=rule, seq=seq)
    raise ActionRejected(RejectCode.NOT_SUPPORTED, f"the engine cannot run `set {setting}`")


def _notify(a: CompiledNotify, symbol: str, rule: str, seq: int) -> Intent:
    try:
        text = a.render()
    except (ArithmeticError, ValueError, TypeError) as err:
        raise ActionRejected(RejectCode.NO_PRICE, f"the message cannot be written now ({err})") from None
    return NotifyIntent(symbol=symbol, text=text, rule=rule, seq=seq)
