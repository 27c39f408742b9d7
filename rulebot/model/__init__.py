"""The shared vocabulary: events, enums, instrument rules, the clock. Imports no other rulebot package."""

from rulebot.model.clock import Clock, LiveClock, SimClock
from rulebot.model.enums import (
    Category,
    ExitReason,
    MarginMode,
    OrderStatus,
    OrderType,
    PositionMode,
    Side,
    TimeInForce,
    TpslMode,
    TriggerMode,
)
from rulebot.model.events import (
    BookUpdate,
    Event,
    Execution,
    KlineUpdate,
    OrderUpdate,
    PositionUpdate,
    ReloadRequested,
    Shutdown,
    TickerUpdate,
    TimerFired,
    TradePrint,
    WalletUpdate,
)
from rulebot.model.instruments import InstrumentRules, default_rules, split_symbol
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

__all__ = [
    "AmendOrder", "CancelAll", "CancelOrder", "PlaceOrder", "Request", "SetLeverage",
    "SetMarginMode", "SetTpslMode", "SetTradingStop", "SwitchPositionMode",
    "BookUpdate", "Category", "Clock", "Event", "Execution", "ExitReason", "InstrumentRules",
    "KlineUpdate", "LiveClock", "MarginMode", "OrderStatus", "OrderType", "OrderUpdate",
    "PositionMode", "PositionUpdate", "ReloadRequested", "Shutdown", "Side", "SimClock",
    "TickerUpdate", "TimeInForce", "TimerFired", "TpslMode", "TradePrint", "TriggerMode",
    "WalletUpdate", "default_rules", "split_symbol",
]
