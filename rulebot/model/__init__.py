"""The shared vocabulary: events, enums, instrument rules, the clock. Imports no other rulebot package."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Where the names are looked for, in order. The submodules are imported when a name of theirs is
# first asked for: `rulebot lint` needs only the enums and the instrument rules, and the events
# and requests cost it 30 ms of its start-up.
_MODULES = ("enums", "instruments", "clock", "events", "requests")


def __getattr__(name: str) -> Any:
    if name in __all__:
        for module in _MODULES:
            found = getattr(import_module(f"rulebot.model.{module}"), name, _MISSING)
            if found is not _MISSING:
                globals()[name] = found
                return found
    raise AttributeError(f"module 'rulebot.model' has no attribute {name!r}")


_MISSING = object()
