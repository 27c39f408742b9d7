"""rulebot.exchange: the Exchange protocol, its errors, and the paper and Bybit implementations."""

from rulebot.exchange.base import Ack, Emit, Exchange
from rulebot.exchange.errors import (
    ExchangeError,
    ExchangeUnavailable,
    OrderRejected,
    RetCode,
    WireFormatError,
)

__all__ = [
    "Ack",
    "Emit",
    "Exchange",
    "ExchangeError",
    "ExchangeUnavailable",
    "OrderRejected",
    "RetCode",
    "WireFormatError",
]
