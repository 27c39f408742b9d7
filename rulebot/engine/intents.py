"""Compiled actions + the values they read at fire time -> ``rulebot.actions`` intents.

A compiled action carries value callables (``ValueFn``) that are evaluated only when the
rule fires (`buy 0.01 limit ema(20)` reads the EMA then). A value that is unknown at that
moment (NaN: no data yet, a stale book) makes the action impossible: it becomes a
``Rejection`` with a reason naming the value, which the engine journals like any other
refusal, and the rule's following actions are skipped (LANGUAGE.md §5).
"""

from __future__ import annotations

import math

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
from rulebot.model.enums import MarginMode, PositionMode, TpslMode


def to_intent(action: CompiledAction, symbol: str, rule: str, seq: int) -> Intent | Rejection:
    """The intent of one compiled action, its values read now, or why it cannot be made."""
    try:
        if isinstance(action, CompiledOrder):
            return _order(action, symbol, rule, seq)
        if isinstance(action, CompiledClose):
            return _close(action, symbol, rule, seq)
        if isinstance(action, CompiledCancel):
            return CancelIntent(symbol=symbol, which=_CANCEL[action.which], rule=rule, seq=seq)
        if isinstance(action, CompiledSet):
            return _set(action, symbol, rule, seq)
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


def _target(fn: ValueFn | None, what: str) -> PriceTarget | None:
    if fn is None:
        return None
    x = _value(fn, what)
    if fn.kind == "percent":
        return PriceTarget.percent(x)
    if fn.kind in ("price", "number"):
        return PriceTarget.price(x)
    raise ActionRejected(RejectCode.NOT_SUPPORTED, f"a {what} given as {fn.kind} is not supported")


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


def _order(a: CompiledOrder, symbol: str, rule: str, seq: int) -> Intent:
    return OrderIntent(
        symbol=symbol,
        side=a.side,
        qty=_qty(a.qty, a.qty_basis),
        order_type=a.order_type,
        price=None if a.price is None else _value(a.price, "limit price"),
        tp=_target(a.tp, "take profit"),
        sl=_target(a.sl, "stop loss"),
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


def _set(a: CompiledSet, symbol: str, rule: str, seq: int) -> Intent:
    setting, value, word = a.setting, a.value, a.word
    if setting == "leverage" and value is not None:
        return SetLeverageIntent(symbol=symbol, leverage=_value(value, "leverage"), rule=rule, seq=seq)
    if setting == "mode" and word:
        return SetPositionModeIntent(symbol=symbol, mode=PositionMode(word), rule=rule, seq=seq)
    if setting == "margin" and word:
        return SetMarginModeIntent(symbol=symbol, mode=MarginMode(word), rule=rule, seq=seq)
    if setting == "tpsl" and word:
        return SetTpslModeIntent(symbol=symbol, mode=TpslMode(word), rule=rule, seq=seq)
    if setting == "tp":
        return SetTradingStopIntent(symbol=symbol, tp=_target(value, "take profit"), rule=rule, seq=seq)
    if setting == "sl":
        return SetTradingStopIntent(symbol=symbol, sl=_target(value, "stop loss"), rule=rule, seq=seq)
    if setting == "trail":
        return SetTradingStopIntent(symbol=symbol, trail=_trail(value), rule=rule, seq=seq)
    raise ActionRejected(RejectCode.NOT_SUPPORTED, f"the engine cannot run `set {setting}`")


def _notify(a: CompiledNotify, symbol: str, rule: str, seq: int) -> Intent:
    try:
        text = a.render()
    except (ArithmeticError, ValueError, TypeError) as err:
        raise ActionRejected(RejectCode.NO_PRICE, f"the message cannot be written now ({err})") from None
    return NotifyIntent(symbol=symbol, text=text, rule=rule, seq=seq)
