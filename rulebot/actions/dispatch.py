"""``prepare``: one intent in, the validated action and its exchange requests out, or a ``Rejection``.

Pure: it reads the instrument rules, an account snapshot and the risk limits, and returns
values; the engine journals them and sends the requests. Nothing here raises for bad input:
every refusal is a ``Rejection`` with a reason that names the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from rulebot.actions.account import AccountView
from rulebot.actions.instruments import positive_decimal, round_qty, show, to_step
from rulebot.actions.intents import (
    CancelIntent,
    CancelWhich,
    CloseIntent,
    HaltIntent,
    Intent,
    NotifyIntent,
    OrderIntent,
    PauseIntent,
    PriceTarget,
    SetLeverageIntent,
    SetMarginModeIntent,
    SetPositionModeIntent,
    SetTpslModeIntent,
    SetTradingStopIntent,
    Trail,
)
from rulebot.actions.models import (
    Action,
    CancelOrdersAction,
    HaltAction,
    NotifyAction,
    PauseAction,
    SetLeverageAction,
    SetMarginModeAction,
    SetPositionModeAction,
    SetTpslModeAction,
    SetTradingStopAction,
    TradingStopLeg,
    build,
)
from rulebot.actions.orders import PositionLeg, build_close, build_order, check_symbol, open_legs
from rulebot.actions.rejection import ActionRejected, RejectCode, Rejection
from rulebot.actions.risk import RiskLimits, check_order
from rulebot.actions.stops import STOP_LOSS, TAKE_PROFIT, AfterFill, needs_entry, target_price, trail_distance
from rulebot.model import Category, InstrumentRules, PlaceOrder, PositionMode, Request, Side, TpslMode

NOTIFY_MAX_CHARS = 4000


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated action, the requests to send now, and the stops to set once an order has filled.

    ``requests`` may be empty (``notify``, ``pause``, ``halt``, or nothing to do, which ``note`` says).
    An order whose stops depend on its fill carries them itself (``tp_pct``, ``sl_pct``,
    ``trail_pct``, ``trailing_stop``), for an exchange that resolves them at the fill
    (``PaperExchange``); ``after_fill`` describes the same stops for one that cannot (Bybit's
    create-order takes no trailing stop and no percent): resolve it with
    ``resolve_after_fill`` when the order fills and send that instead. Use one or the other.
    """

    action: Action
    requests: tuple[Request, ...]
    after_fill: AfterFill | None = None
    note: str = ""


def prepare(
    intent: Intent,
    rules: InstrumentRules,
    account: AccountView,
    limits: RiskLimits,
    position_mode: PositionMode,
    link_id: str = "",
    *,
    tpsl_mode: TpslMode = TpslMode.FULL,
) -> Prepared | Rejection:
    """Turn ``intent`` into requests for the instrument ``rules``, or refuse it.

    ``link_id`` is the orderLinkId of the order (``make_order_link_id``); a close of both
    hedge sides sends ``link_id + "-L"`` and ``link_id + "-S"``. ``tpsl_mode`` is the file's
    `tpsl_mode` setting, used for the stops an order or `set tp` sends.
    """
    try:
        return _prepare(intent, rules, account, limits, position_mode, link_id, tpsl_mode)
    except ActionRejected as refused:
        return refused.rejection


def resolve_after_fill(
    after: AfterFill, rules: InstrumentRules, entry_price: float | Decimal, filled_qty: float | Decimal
) -> Prepared | Rejection:
    """The trading stop an order left for after its fill.

    ``entry_price`` is the position's entry price after the fill (the fill price when the
    order opened it); ``filled_qty`` is what the order filled, the size a partial TP/SL covers.
    """
    try:
        leg = PositionLeg(
            long=after.side is Side.BUY,
            size=positive_decimal(filled_qty, "filled qty"),
            entry=positive_decimal(entry_price, "entry price"),
            position_idx=after.position_idx,
        )
        action = _trading_stop(rules, after.symbol, [leg], after.take_profit, after.stop_loss, after.trail,
                               after.tpsl_mode, basis="fill price")
        return Prepared(action, action.requests())
    except ActionRejected as refused:
        return refused.rejection


def _prepare(
    intent: Intent, rules: InstrumentRules, account: AccountView, limits: RiskLimits,
    mode: PositionMode, link_id: str, tpsl_mode: TpslMode,
) -> Prepared | Rejection:
    if isinstance(intent, OrderIntent):
        order, after = build_order(intent, rules, account, mode, link_id, tpsl_mode)
        return _guarded(Prepared(order, order.requests(), after), rules, account, limits)
    if isinstance(intent, CloseIntent):
        close, note = build_close(intent, rules, account, mode, link_id)
        return _guarded(Prepared(close, close.requests(), note=note), rules, account, limits)
    symbol = check_symbol(intent.symbol, rules)
    if isinstance(intent, CancelIntent):
        return _cancel(intent, rules, account, symbol)
    if isinstance(intent, NotifyIntent):
        text = intent.text if len(intent.text) <= NOTIFY_MAX_CHARS else intent.text[: NOTIFY_MAX_CHARS - 1] + "…"
        return Prepared(build(NotifyAction, rules, symbol=symbol, text=text), ())
    if isinstance(intent, PauseIntent):
        return Prepared(build(PauseAction, rules, symbol=symbol, rule=intent.rule), ())
    if isinstance(intent, HaltIntent):
        return Prepared(build(HaltAction, rules, symbol=symbol, reason=intent.reason), ())
    if rules.category is Category.SPOT:
        raise ActionRejected(
            RejectCode.NOT_SUPPORTED, f"{rules.symbol} is spot: it has no leverage, modes or position stops"
        )
    if isinstance(intent, SetLeverageIntent):
        return _leverage(intent, rules, symbol)
    if isinstance(intent, SetPositionModeIntent):
        return _position_mode(intent, rules, account, mode, symbol)
    if isinstance(intent, SetMarginModeIntent):
        action: Action = build(SetMarginModeAction, rules, symbol=symbol, mode=intent.mode)
        return Prepared(action, action.requests())
    if isinstance(intent, SetTpslModeIntent):
        action = build(SetTpslModeAction, rules, symbol=symbol, mode=intent.mode)
        return Prepared(action, action.requests())
    return _set_trading_stop(intent, rules, account, mode, tpsl_mode, symbol)


def _guarded(
    prepared: Prepared, rules: InstrumentRules, account: AccountView, limits: RiskLimits
) -> Prepared | Rejection:
    checked: list[PlaceOrder] = []
    for request in prepared.requests:
        if isinstance(request, PlaceOrder):
            rejection = check_order(rules, request, account, limits, checked)
            if rejection is not None:
                return rejection
            checked.append(request)
    return prepared


def _cancel(intent: CancelIntent, rules: InstrumentRules, account: AccountView, symbol: str) -> Prepared:
    if intent.which is CancelWhich.ALL:
        action = build(CancelOrdersAction, rules, symbol=symbol)
        return Prepared(action, action.requests())
    side = Side.BUY if intent.which is CancelWhich.BUYS else Side.SELL
    # Orders placed by hand may have no orderLinkId; they cannot be cancelled by one.
    link_ids = tuple(o.order_link_id for o in account.open_orders if o.side is side and o.order_link_id)
    action = build(CancelOrdersAction, rules, symbol=symbol, side=side, order_link_ids=link_ids)
    return Prepared(action, action.requests(), note="" if link_ids else f"no open {intent.which.value} to cancel")


def _leverage(intent: SetLeverageIntent, rules: InstrumentRules, symbol: str) -> Prepared:
    wanted = positive_decimal(intent.leverage, "leverage")
    leverage = to_step(wanted, rules.leverage_step, ROUND_FLOOR)
    if leverage < 1:
        raise ActionRejected(RejectCode.OUT_OF_RANGE, f"leverage {show(wanted)} is below 1")
    if leverage > rules.max_leverage:
        raise ActionRejected(
            RejectCode.OUT_OF_RANGE,
            f"leverage {show(wanted)} is above the maximum {show(rules.max_leverage)} for {rules.symbol}",
        )
    action = build(SetLeverageAction, rules, symbol=symbol, leverage=leverage)
    return Prepared(action, action.requests())


def _position_mode(
    intent: SetPositionModeIntent, rules: InstrumentRules, account: AccountView, mode: PositionMode, symbol: str
) -> Prepared:
    if intent.mode is PositionMode.HEDGE and rules.category is not Category.LINEAR:
        raise ActionRejected(RejectCode.NOT_SUPPORTED, "hedge mode is only for USDT perpetuals (linear)")
    if intent.mode is mode:
        action = build(SetPositionModeAction, rules, symbol=symbol, mode=intent.mode, unchanged=True)
        return Prepared(action, (), note=f"position mode is already {mode.value}")
    if account.long_size or account.short_size or account.open_orders:
        raise ActionRejected(
            RejectCode.MODE_CHANGE_BLOCKED,
            f"cannot switch to {intent.mode.value} mode with a position ({account.long_size:g} long, "
            f"{account.short_size:g} short) or {len(account.open_orders)} open orders",
        )
    action = build(SetPositionModeAction, rules, symbol=symbol, mode=intent.mode)
    return Prepared(action, action.requests())


def _set_trading_stop(
    intent: SetTradingStopIntent, rules: InstrumentRules, account: AccountView, mode: PositionMode,
    tpsl_mode: TpslMode, symbol: str,
) -> Prepared:
    if intent.tp is None and intent.sl is None and intent.trail is None:
        raise ActionRejected(RejectCode.INVALID, "set a take profit, a stop loss or a trail")
    legs = open_legs(rules, account, mode, intent.side)
    action = _trading_stop(rules, symbol, legs, intent.tp, intent.sl, intent.trail, tpsl_mode, basis="entry price")
    note = "" if legs else "no open position to set stops on"
    return Prepared(action, action.requests(), note=note)


def _trading_stop(
    rules: InstrumentRules, symbol: str, legs: list[PositionLeg], tp: PriceTarget | None,
    sl: PriceTarget | None, trail: Trail | None, tpsl_mode: TpslMode, *, basis: str,
) -> SetTradingStopAction:
    built = []
    for leg in legs:
        entry = leg.entry
        if entry is None and (tp is not None or sl is not None or needs_entry(trail)):
            side = "long" if leg.long else "short"
            raise ActionRejected(RejectCode.NO_PRICE, f"the entry price of the {side} position is unknown")
        prices: dict[str, Decimal | None] = {TAKE_PROFIT: None, STOP_LOSS: None}
        for what, target in ((TAKE_PROFIT, tp), (STOP_LOSS, sl)):
            if target is not None and entry is not None:
                prices[what] = target_price(rules, target, entry, long=leg.long, what=what, basis=basis)
        size = round_qty(rules, leg.size) if tpsl_mode is TpslMode.PARTIAL else None
        built.append(build(
            TradingStopLeg, rules,
            position_idx=leg.position_idx, take_profit=prices[TAKE_PROFIT], stop_loss=prices[STOP_LOSS],
            trailing_stop=None if trail is None else trail_distance(rules, trail, entry),
            size=size if size else None,
        ))
    return build(SetTradingStopAction, rules, symbol=symbol, tpsl_mode=tpsl_mode, legs=tuple(built))
