"""Instrument trading rules (Bybit's instruments-info filters) as the engine sees them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rulebot.model.enums import Category


@dataclass(frozen=True, slots=True)
class InstrumentRules:
    """Price and size filters of one instrument; all numbers exact, as Bybit publishes them."""

    symbol: str
    category: Category
    base_coin: str
    quote_coin: str
    settle_coin: str
    tick_size: Decimal
    qty_step: Decimal
    min_order_qty: Decimal
    max_order_qty: Decimal
    min_notional: Decimal
    max_leverage: Decimal
    leverage_step: Decimal = Decimal("0.01")


def split_symbol(symbol: str) -> tuple[str, str]:
    """Split a Bybit symbol into base and quote coin (``BTCUSDT`` -> ``BTC``, ``USDT``)."""
    upper = symbol.upper()
    for quote in ("USDT", "USDC", "USD", "BTC", "ETH", "EUR"):
        if upper.endswith(quote) and len(upper) > len(quote):
            return upper[: -len(quote)], quote
    return upper, "USDT"


BTCUSDT_LINEAR = InstrumentRules(
    symbol="BTCUSDT",
    category=Category.LINEAR,
    base_coin="BTC",
    quote_coin="USDT",
    settle_coin="USDT",
    tick_size=Decimal("0.10"),
    qty_step=Decimal("0.001"),
    min_order_qty=Decimal("0.001"),
    max_order_qty=Decimal("1190.000"),
    min_notional=Decimal("5"),
    max_leverage=Decimal("100.00"),
)


def default_rules(symbol: str, category: Category = Category.LINEAR) -> InstrumentRules:
    """The bundled rules for a symbol when no instruments file or exchange is at hand.

    BTCUSDT linear is Bybit's published snapshot; other symbols get conservative generic
    filters so that lint and backtests can run, and the live adapter replaces them at start.
    """
    if symbol.upper() == "BTCUSDT" and category is Category.LINEAR:
        return BTCUSDT_LINEAR
    base, quote = split_symbol(symbol)
    return InstrumentRules(
        symbol=symbol.upper(),
        category=category,
        base_coin=base,
        quote_coin=quote,
        settle_coin=base if category is Category.INVERSE else quote,
        tick_size=Decimal("0.0001"),
        qty_step=Decimal("0.001"),
        min_order_qty=Decimal("0.001"),
        max_order_qty=Decimal("1000000"),
        min_notional=Decimal("5"),
        max_leverage=Decimal("1") if category is Category.SPOT else Decimal("50"),
    )
