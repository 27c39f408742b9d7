"""The action layer: intents in, validated and rounded exchange requests out, risk guards in between.

``prepare(intent, rules, account, limits, position_mode, link_id)`` is the entry point; it
returns a ``Prepared`` (the validated action, its requests and any stops to set after the
fill) or a ``Rejection`` with a reason that names the numbers.
"""

from rulebot.actions.account import AccountView, OpenOrderView
from rulebot.actions.dispatch import Prepared, prepare, resolve_after_fill
from rulebot.actions.instruments import (
    order_value,
    round_limit_price,
    round_qty,
    round_target,
    round_trail,
    to_decimal,
)
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
from rulebot.actions.link_ids import make_order_link_id
from rulebot.actions.models import (
    Action,
    CancelOrdersAction,
    ClosePositionAction,
    HaltAction,
    NotifyAction,
    PauseAction,
    PlaceOrderAction,
    SetLeverageAction,
    SetMarginModeAction,
    SetPositionModeAction,
    SetTpslModeAction,
    SetTradingStopAction,
    TradingStopLeg,
    parse_action_json,
)
from rulebot.actions.notify import FanoutNotifier, LogNotifier, Notifier, WebhookNotifier
from rulebot.actions.rejection import ActionRejected, RejectCode, Rejection
from rulebot.actions.risk import (
    Money,
    Percent,
    RiskConfigError,
    RiskLimits,
    check_order,
    parse_money,
    parse_money_or_percent,
    parse_percent,
)
from rulebot.actions.stops import AfterFill

__all__ = [
    "AccountView", "Action", "ActionRejected", "AfterFill", "CancelIntent", "CancelOrdersAction",
    "CancelWhich", "CloseIntent", "ClosePositionAction", "FanoutNotifier", "HaltAction", "HaltIntent",
    "Intent", "LogNotifier", "Money", "Notifier", "NotifyAction", "NotifyIntent", "OpenOrderView",
    "OrderIntent", "PauseAction", "PauseIntent", "Percent", "PlaceOrderAction", "PositionSide",
    "Prepared", "PriceTarget", "QtySpec", "QtyUnit", "RejectCode", "Rejection", "RiskConfigError",
    "RiskLimits", "SetLeverageAction", "SetLeverageIntent", "SetMarginModeAction", "SetMarginModeIntent",
    "SetPositionModeAction", "SetPositionModeIntent", "SetTpslModeAction", "SetTpslModeIntent",
    "SetTradingStopAction", "SetTradingStopIntent", "TradingStopLeg", "Trail", "TrailUnit",
    "WebhookNotifier", "check_order", "make_order_link_id", "order_value", "parse_action_json",
    "parse_money", "parse_money_or_percent", "parse_percent",
    "prepare", "resolve_after_fill", "round_limit_price", "round_qty", "round_target", "round_trail",
    "to_decimal",
]
