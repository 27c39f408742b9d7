"""Builders shared by the action-layer tests: instrument rules, account snapshots, limits."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from rulebot.actions import AccountView, OpenOrderView, RiskLimits
from rulebot.model import Category, InstrumentRules, default_rules

BTC = default_rules("BTCUSDT")
NOW_MS = 1_700_000_000_000
NO_LIMITS = RiskLimits()


def rules(**changes: object) -> InstrumentRules:
    """BTCUSDT linear with some filters changed."""
    return replace(BTC, **changes)  # type: ignore[arg-type]


SPOT = rules(category=Category.SPOT)
INVERSE = InstrumentRules(
    symbol="BTCUSD", category=Category.INVERSE, base_coin="BTC", quote_coin="USD", settle_coin="BTC",
    tick_size=Decimal("0.5"), qty_step=Decimal("1"), min_order_qty=Decimal("1"),
    max_order_qty=Decimal("1000000"), min_notional=Decimal("0"), max_leverage=Decimal("100"),
)


def account(
    position: float = 0.0,
    entry: float | None = None,
    *,
    equity: float = 10_000.0,
    balance: float | None = None,
    available: float | None = None,
    mark: float | None = 64_000.0,
    midnight: float | None = None,
    realised: float = 0.0,
    orders: tuple[OpenOrderView, ...] = (),
    recent: tuple[int, ...] = (),
) -> AccountView:
    """A one-way account; balance, available and midnight equity default to ``equity``."""
    return AccountView.one_way(
        position=position,
        entry_price=entry if entry is not None else (mark if position else None),
        equity=equity,
        balance=equity if balance is None else balance,
        available=equity if available is None else available,
        mark_price=mark,
        now_ms=NOW_MS,
        equity_at_midnight=equity if midnight is None else midnight,
        realised_pnl_today=realised,
        open_orders=orders,
        recent_order_ms=recent,
    )


def hedge_account(long: float, short: float, *, long_entry: float = 64_000.0, short_entry: float = 65_000.0,
                  **kwargs: object) -> AccountView:
    """A hedge-mode account with both sides as given."""
    base = account(**kwargs)  # type: ignore[arg-type]
    return replace(
        base, long_size=long, long_entry=long_entry if long else None,
        short_size=short, short_entry=short_entry if short else None,
    )
