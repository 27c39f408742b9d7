"""The engine's account state: fields rules read and the view the action layer checks orders with."""

from __future__ import annotations

import math

import pytest

from rulebot.engine.account import DAY_MS, AccountBook
from rulebot.market import MarketState
from rulebot.model import (
    Execution,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionUpdate,
    Side,
    SimClock,
    WalletUpdate,
)

SYMBOL = "BTCUSDT"
DAY0 = 20_000 * DAY_MS  # a UTC midnight


def book(now: int = DAY0 + 3_600_000) -> tuple[AccountBook, SimClock, MarketState]:
    clock = SimClock(now)
    market = MarketState()
    return AccountBook(clock, lambda _s: "USDT", market.live_fields), clock, market


def position(size: float, side: Side | None, entry: float | None, ts: int, idx: int = 0) -> PositionUpdate:
    return PositionUpdate(SYMBOL, ts, ts, idx, size, side, entry, None, 5.0, 0.0)


def wallet(equity: float, ts: int) -> WalletUpdate:
    return WalletUpdate("USDT", ts, ts, equity, equity, equity)


def order(oid: str, status: OrderStatus, *, side: Side = Side.BUY, qty: str = "0.010", filled: str = "0",
          reduce_only: bool = False, link: str = "", ts: int = DAY0) -> OrderUpdate:
    return OrderUpdate(SYMBOL, ts, ts, oid, link, side, OrderType.LIMIT, status, qty, "90000", filled,
                       reduce_only=reduce_only)


def fill(side: Side, price: str, qty: str, fee: str, ts: int, *, oid: str = "o", reason: str = "") -> Execution:
    return Execution(SYMBOL, ts, ts, f"e{ts}", oid, "", side, price, qty, fee, False, exit_reason=reason)


def test_fields_are_unknown_until_the_account_is_known() -> None:
    accounts, _, _ = book()
    f = accounts.fields(SYMBOL)
    assert math.isnan(f.position) and math.isnan(f.equity) and math.isnan(f.open_orders)
    accounts.on_position(position(0.0, None, None, DAY0))
    assert f.position == 0.0 and math.isnan(f.entry_price) and math.isnan(f.time_in_position)


def test_a_long_position_and_its_derived_fields() -> None:
    accounts, clock, market = book()
    f = accounts.fields(SYMBOL)
    opened = DAY0 + 3_600_000
    accounts.on_position(position(0.02, Side.BUY, 100_000.0, opened))
    market.live_fields(SYMBOL).set_last(101_000.0)
    clock.advance_to(opened + 150_000)
    assert (f.position, f.long_size, f.short_size, f.position_size) == (0.02, 0.02, 0.0, 0.02)
    assert f.entry_price == 100_000.0
    assert f.upnl == pytest.approx(20.0)
    assert f.upnl_pct == pytest.approx(0.01)
    assert f.time_in_position == 150.0
    assert f.bars_in_position == 2.0  # the 1-minute bars that closed since the entry
    assert accounts.fields(SYMBOL, 3_600_000).bars_in_position == 0.0


def test_hedge_mode_sides() -> None:
    accounts, _, _ = book()
    f = accounts.fields(SYMBOL)
    accounts.on_position(position(0.03, Side.BUY, 100_000.0, DAY0, idx=1))
    accounts.on_position(position(0.01, Side.SELL, 101_000.0, DAY0, idx=2))
    assert (f.long_size, f.short_size, f.position) == (0.03, 0.01, pytest.approx(0.02))
    assert accounts.hedged(SYMBOL)
    view = accounts.view(SYMBOL, DAY0)
    assert (view.long_entry, view.short_entry) == (100_000.0, 101_000.0)


def test_open_orders_are_counted_until_they_finish() -> None:
    accounts, _, _ = book()
    f = accounts.fields(SYMBOL)
    accounts.on_order(order("a", OrderStatus.OPEN, link="rb-1"))
    accounts.on_order(order("b", OrderStatus.PARTIALLY_FILLED, filled="0.004"))
    assert f.open_orders == 2
    view = accounts.view(SYMBOL, DAY0)
    assert sorted(o.qty for o in view.open_orders) == [pytest.approx(0.006), pytest.approx(0.01)]
    accounts.on_order(order("a", OrderStatus.FILLED, filled="0.010"))
    assert f.open_orders == 1


def test_realised_pnl_today_counts_fees_and_restarts_at_midnight() -> None:
    accounts, clock, _ = book()
    f = accounts.fields(SYMBOL)
    t = DAY0 + 3_600_000
    accounts.on_execution(fill(Side.BUY, "100000", "0.1", "5.5", t))
    accounts.on_position(position(0.1, Side.BUY, 100_000.0, t))
    accounts.on_execution(fill(Side.SELL, "101000", "0.1", "5.555", t + 60_000, reason="tp"))
    accounts.on_position(position(0.0, None, None, t + 60_000))
    assert f.pnl_today == pytest.approx(100.0 - 5.5 - 5.555)
    clock.advance_to(DAY0 + DAY_MS + 1)
    assert f.pnl_today == 0.0


def test_a_reduce_only_sell_in_hedge_mode_closes_the_long() -> None:
    accounts, _, _ = book()
    accounts.on_position(position(0.1, Side.BUY, 100_000.0, DAY0, idx=1))
    accounts.on_order(order("c", OrderStatus.OPEN, side=Side.SELL, qty="0.1", reduce_only=True))
    pnl = accounts.on_execution(fill(Side.SELL, "99000", "0.1", "0", DAY0 + 1, oid="c"))
    assert pnl == pytest.approx(-100.0)
    opening = accounts.on_execution(fill(Side.SELL, "99000", "0.1", "1", DAY0 + 2, oid="other"))
    assert opening == -1.0  # a plain sell in hedge mode opens the short side: only its fee


def test_equity_at_midnight_is_the_last_figure_before_the_day_began() -> None:
    accounts, clock, _ = book(DAY0 - 60_000)
    accounts.state(SYMBOL)
    accounts.on_wallet(wallet(10_000.0, DAY0 - 60_000))
    assert accounts.view(SYMBOL, DAY0 - 1).equity_at_midnight == 10_000.0  # started later: equity at start
    accounts.on_wallet(wallet(9_000.0, DAY0 - 30_000))
    accounts.on_wallet(wallet(8_500.0, DAY0 + 60_000))
    view = accounts.view(SYMBOL, DAY0 + 61_000)
    assert (view.equity, view.equity_at_midnight) == (8_500.0, 9_000.0)
    # no wallet update on the next day: the equity then is the day's start
    assert accounts.view(SYMBOL, DAY0 + DAY_MS + 5).equity_at_midnight == 8_500.0


def test_the_view_marks_to_the_mark_price_or_the_last_price() -> None:
    accounts, _, market = book()
    assert accounts.view(SYMBOL, DAY0).mark_price is None
    live = market.live_fields(SYMBOL)
    live.set_last(100.0)
    assert accounts.view(SYMBOL, DAY0).mark_price == 100.0
    live.mark_price = 99.5
    assert accounts.view(SYMBOL, DAY0).mark_price == 99.5
