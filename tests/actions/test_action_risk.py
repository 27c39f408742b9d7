"""Risk guards: each one passes at its limit and refuses just past it, naming the numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from action_factories import BTC, NOW_MS, account, hedge_account

from rulebot.actions import (
    AccountView,
    CloseIntent,
    Money,
    OpenOrderView,
    OrderIntent,
    Percent,
    Prepared,
    QtySpec,
    RejectCode,
    Rejection,
    RiskConfigError,
    RiskLimits,
    check_order,
    prepare,
)
from rulebot.model import OrderType, PlaceOrder, PositionMode, Side, TimeInForce

D = Decimal


def order(qty: str = "0.01", side: Side = Side.BUY, price: str | None = None, *, reduce_only: bool = False,
          idx: int = 0, tif: TimeInForce = TimeInForce.GTC) -> PlaceOrder:
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    return PlaceOrder("BTCUSDT", side, kind, D(qty), "rb-0123abcd-1", D(price) if price else None,
                      TimeInForce.IOC if price is None else tif, reduce_only, position_idx=idx)


def check(o: PlaceOrder, acc: AccountView, **limits: object) -> Rejection | None:
    return check_order(BTC, o, acc, RiskLimits.from_config(limits))


# --- parsing ----------------------------------------------------------------------------

def test_limits_from_the_rule_file() -> None:
    limits = RiskLimits.from_config({
        "max_position": 0.05, "max_order_value": "5000 usdt", "max_open_orders": 4,
        "max_orders_per_minute": 10, "max_daily_loss": "3%", "price_band": "2%",
    })
    assert limits.max_position == D("0.05")
    assert limits.max_order_value == Money(amount=D("5000"), coin="USDT")
    assert limits.max_daily_loss == Percent(fraction=D("0.03"))
    assert limits.price_band == Percent(fraction=D("0.02"))
    assert (limits.max_open_orders, limits.max_orders_per_minute) == (4, 10)


def test_daily_loss_as_money_and_bare_numbers() -> None:
    assert RiskLimits.from_config({"max_daily_loss": "300 USDT"}).max_daily_loss == Money(amount=D("300"), coin="USDT")
    assert RiskLimits.from_config({"max_daily_loss": 300}).max_daily_loss == Money(amount=D("300"), coin="")


@pytest.mark.parametrize(("raw", "message"), [
    ({"max_positon": 1}, "risk.max_positon: unknown risk limit"),
    ({"price_band": 2}, "risk.price_band: expected a percent like '2%', got '2'"),
    ({"max_order_value": "lots"}, "risk.max_order_value: expected an amount like '5000 usdt', got 'lots'"),
    ({"max_open_orders": 2.5}, "risk.max_open_orders: expected a whole number, 0 or more, got 2.5"),
    ({"max_open_orders": True}, "risk.max_open_orders: expected a whole number"),
    ({"max_position": -1}, "risk.max_position: must be above 0, got '-1'"),
    ({"max_daily_loss": "0%"}, "risk.max_daily_loss: must be above 0, got '0'"),
])
def test_bad_limits_name_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(RiskConfigError, match="^" + message.replace("(", r"\(").replace("?", r"\?")):
        RiskLimits.from_config(raw)


# --- max_position -----------------------------------------------------------------------

def test_max_position_counts_the_position_and_open_orders_of_the_side() -> None:
    orders = (OpenOrderView(Side.BUY, 0.02), OpenOrderView(Side.BUY, 0.5, reduce_only=True),
              OpenOrderView(Side.SELL, 0.5))
    acc = account(0.02, orders=orders)
    assert check(order("0.01"), acc, max_position=0.05) is None  # 0.02 + 0.02 + 0.01 = 0.05: at the limit
    rejection = check(order("0.011"), acc, max_position=0.05)
    assert rejection is not None and rejection.code is RejectCode.MAX_POSITION
    assert rejection.reason == (
        "position would be 0.051 BTC (now 0.02, open buys 0.02, this order 0.011), above max_position 0.05"
    )


def test_max_position_lets_an_order_that_shrinks_the_position_through() -> None:
    assert check(order("0.05", Side.SELL), account(0.06), max_position=0.05) is None
    assert check(order("0.12", Side.SELL), account(0.06), max_position=0.05) is not None  # flips to -0.06


def test_max_position_ignores_reduce_only_orders() -> None:
    assert check(order("1", Side.SELL, reduce_only=True), account(0.5), max_position=0.05) is None


def test_max_position_in_hedge_mode_counts_each_side() -> None:
    acc = hedge_account(0.04, 0.05, orders=(OpenOrderView(Side.SELL, 0.01, position_idx=2),))
    assert check(order("0.01", idx=1), acc, max_position=0.05) is None
    rejection = check(order("0.001", Side.SELL, idx=2), acc, max_position=0.05)
    assert rejection is not None and rejection.reason.startswith("position would be 0.061 BTC")


# --- max_order_value --------------------------------------------------------------------

def test_max_order_value_at_the_limit_price_and_at_the_mark() -> None:
    acc = account(mark=50_000)
    assert check(order("0.1", price="50000"), acc, max_order_value="5000 usdt") is None
    rejection = check(order("0.1", price="50000.1"), acc, max_order_value="5000 usdt")
    assert rejection is not None and rejection.reason == "order value 5000.01 USDT is above max_order_value 5000 USDT"
    assert check(order("0.101"), acc, max_order_value="5000 usdt") is not None  # market: at the mark


def test_max_order_value_in_another_coin_is_a_config_error() -> None:
    rejection = check(order(), account(), max_order_value="1 btc")
    assert rejection is not None and rejection.code is RejectCode.RISK_CONFIG


# --- max_open_orders and max_orders_per_minute ------------------------------------------

def test_max_open_orders_counts_resting_orders_only() -> None:
    acc = account(orders=tuple(OpenOrderView(Side.BUY, 0.01) for _ in range(3)))
    assert check(order(price="60000"), acc, max_open_orders=4) is None
    full = account(orders=tuple(OpenOrderView(Side.BUY, 0.01) for _ in range(4)))
    rejection = check(order(price="60000"), full, max_open_orders=4)
    assert rejection is not None and rejection.reason == "open orders would be 5, above max_open_orders 4"
    assert check(order(), full, max_open_orders=4) is None  # a market order does not rest
    assert check(order(price="60000", tif=TimeInForce.IOC), full, max_open_orders=4) is None


def test_max_orders_per_minute_uses_a_sliding_minute() -> None:
    nine = tuple(NOW_MS - 1000 * i for i in range(9)) + (NOW_MS - 60_000,)  # the last one is a minute old
    assert check(order(), account(recent=nine), max_orders_per_minute=10) is None
    ten = tuple(NOW_MS - 1000 * i for i in range(10))
    rejection = check(order(), account(recent=ten), max_orders_per_minute=10)
    assert rejection is not None
    assert rejection.reason == "this would be order 11 in the last minute, above max_orders_per_minute 10"


# --- price_band -------------------------------------------------------------------------

def test_price_band_around_the_mark_price() -> None:
    acc = account(mark=50_000)
    assert check(order(price="51000"), acc, price_band="2%") is None
    assert check(order(price="49000", side=Side.SELL), acc, price_band="2%") is None
    rejection = check(order(price="51000.1"), acc, price_band="2%")
    assert rejection is not None and rejection.code is RejectCode.PRICE_BAND
    assert rejection.reason == "limit price 51000.1 is 2.0002% from the mark price 50000, outside price_band 2%"
    assert check(order(), acc, price_band="2%") is None  # market orders have no limit price


def test_price_band_without_a_mark_price_refuses() -> None:
    rejection = check(order(price="51000"), account(mark=None), price_band="2%")
    assert rejection is not None and rejection.code is RejectCode.NO_PRICE


# --- max_daily_loss ---------------------------------------------------------------------

def test_daily_loss_percent_of_midnight_equity_halts() -> None:
    assert check(order(), account(equity=9_700, midnight=10_000), max_daily_loss="3%") is None
    rejection = check(order(), account(equity=9_699.99, midnight=10_000), max_daily_loss="3%")
    assert rejection is not None and rejection.halt and rejection.code is RejectCode.MAX_DAILY_LOSS
    assert rejection.reason == (
        "loss today 300.01 USDT is above max_daily_loss 300 USDT (3% of 10000 USDT equity at 00:00 UTC); halting"
    )


def test_daily_loss_counts_realised_losses_a_deposit_would_hide() -> None:
    acc = account(equity=12_000, midnight=10_000, realised=-301)
    rejection = check(order(), acc, max_daily_loss="300 usdt")
    assert rejection is not None and rejection.halt
    assert check(order(), account(realised=-300), max_daily_loss="300 usdt") is None


def test_daily_loss_does_not_block_a_close() -> None:
    acc = account(0.01, equity=5_000, midnight=10_000)
    assert check(order("0.01", Side.SELL, reduce_only=True), acc, max_daily_loss="3%") is None


# --- through prepare --------------------------------------------------------------------

def test_prepare_applies_the_guards_and_keeps_the_first_refusal() -> None:
    limits = RiskLimits.from_config({"max_daily_loss": "1%", "max_position": 0.001})
    intent = OrderIntent("BTCUSDT", Side.BUY, QtySpec.base(0.01))
    result = prepare(intent, BTC, account(equity=9_000, midnight=10_000), limits, PositionMode.ONEWAY, "rb-0123abcd-1")
    assert isinstance(result, Rejection) and result.code is RejectCode.MAX_DAILY_LOSS  # the halt wins


def test_a_hedge_close_of_both_sides_counts_its_own_orders() -> None:
    limits = RiskLimits.from_config({"max_orders_per_minute": 1})
    acc = hedge_account(0.01, 0.01)
    result = prepare(CloseIntent("BTCUSDT"), BTC, acc, limits, PositionMode.HEDGE, "rb-0123abcd-1")
    assert isinstance(result, Rejection)
    assert result.reason == "this would be order 2 in the last minute, above max_orders_per_minute 1"
    relaxed = RiskLimits.from_config({"max_orders_per_minute": 2})
    assert isinstance(prepare(CloseIntent("BTCUSDT"), BTC, acc, relaxed, PositionMode.HEDGE, "rb-0123abcd-1"), Prepared)
