"""Compiled actions and their fire-time values -> action-layer intents (engine/intents.py)."""

from __future__ import annotations

import math

import pytest
from engine_kit import buy, const

from rulebot.actions import (
    CancelIntent,
    CancelWhich,
    CloseIntent,
    HaltIntent,
    NotifyIntent,
    OrderIntent,
    PauseIntent,
    PositionSide,
    PriceTarget,
    QtySpec,
    QtyUnit,
    RejectCode,
    Rejection,
    SetLeverageIntent,
    SetPositionModeIntent,
    SetTradingStopIntent,
    Trail,
    TrailUnit,
)
from rulebot.engine.intents import Position, to_intent
from rulebot.lang.compiled import (
    CompiledCancel,
    CompiledClose,
    CompiledHalt,
    CompiledNotify,
    CompiledOrder,
    CompiledPause,
    CompiledSet,
    ValueFn,
)
from rulebot.model import OrderType, PositionMode, Side, TimeInForce

LONG = Position(1, 100_000.0, 0.1)


def intent(action: object, position: Position = LONG) -> object:
    return to_intent(action, "BTCUSDT", "r", 7, lambda: position)  # type: ignore[arg-type]


def test_a_market_buy_with_percent_targets_and_trail() -> None:
    got = intent(buy(0.01, tp=const(0.02, "percent"), sl=const(0.01, "percent"), trail=const(0.005, "percent")))
    assert got == OrderIntent(
        symbol="BTCUSDT", side=Side.BUY, qty=QtySpec.base(0.01), order_type=OrderType.MARKET,
        tp=PriceTarget.percent(0.02), sl=PriceTarget.percent(0.01), trail=Trail(TrailUnit.PERCENT, 0.005),
        tif=TimeInForce.GTC, rule="r", seq=7,
    )


@pytest.mark.parametrize(("qty", "basis", "expected"), [
    (const(100.0, "money", "usdt"), "", QtySpec.money(100.0, "usdt")),
    (const(0.1, "percent"), "equity", QtySpec.share(0.1, QtyUnit.EQUITY)),
    (const(0.25, "percent"), "available", QtySpec.share(0.25, QtyUnit.AVAILABLE)),
    (const(0.5), "", QtySpec.base(0.5)),
])
def test_order_sizes(qty: ValueFn, basis: str, expected: QtySpec) -> None:
    action = CompiledOrder(Side.SELL, qty, basis, OrderType.MARKET, None, None, None, None, False,
                           TimeInForce.GTC, False, None, "")
    got = intent(action)
    assert isinstance(got, OrderIntent) and got.qty == expected


def test_a_limit_order_reads_its_price_and_ticks_now() -> None:
    action = buy(0.01, order_type=OrderType.LIMIT, price=64_000.0, tp=const(20, "ticks"), sl=const(10, "ticks"))
    got = intent(action)
    assert isinstance(got, OrderIntent)
    assert got.price == 64_000.0
    assert got.tp == PriceTarget.price(pytest.approx(64_002.0))  # type: ignore[arg-type]
    assert got.sl == PriceTarget.price(pytest.approx(63_999.0))  # type: ignore[arg-type]


def test_ticks_on_a_market_order_are_refused_with_a_reason() -> None:
    got = intent(buy(0.01, tp=const(20, "ticks")))
    assert isinstance(got, Rejection) and got.code is RejectCode.NOT_SUPPORTED and "limit" in got.reason


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_an_unknown_value_at_fire_time_is_a_rejection_naming_it(bad: float) -> None:
    got = intent(buy(0.01, order_type=OrderType.LIMIT, price=bad))
    assert isinstance(got, Rejection) and got.code is RejectCode.NO_PRICE and "limit price" in got.reason


def test_a_value_that_raises_is_a_rejection_too() -> None:
    action = buy(0.01)
    broken = CompiledOrder(action.side, ValueFn(lambda: 1 / 0, "number"), "", OrderType.MARKET, None, None, None,
                           None, False, TimeInForce.GTC, False, None, "")
    got = intent(broken)
    assert isinstance(got, Rejection) and "order size" in got.reason


def test_close_cancel_notify_pause_halt() -> None:
    assert intent(CompiledClose("long", 0.5, OrderType.LIMIT, const(70_000.0, "price"))) == CloseIntent(
        symbol="BTCUSDT", side=PositionSide.LONG, fraction=0.5, order_type=OrderType.LIMIT, price=70_000.0,
        rule="r", seq=7)
    assert intent(CompiledClose("", None, OrderType.MARKET, None)) == CloseIntent(symbol="BTCUSDT", rule="r", seq=7)
    assert intent(CompiledCancel("sells")) == CancelIntent(symbol="BTCUSDT", which=CancelWhich.SELLS, rule="r", seq=7)
    assert intent(CompiledNotify(lambda: "rsi 28.1")) == NotifyIntent(symbol="BTCUSDT", text="rsi 28.1", rule="r",
                                                                      seq=7)
    assert intent(CompiledPause()) == PauseIntent(symbol="BTCUSDT", rule="r", seq=7)
    halt = intent(CompiledHalt())
    assert isinstance(halt, HaltIntent) and "'r'" in halt.reason


def test_settings() -> None:
    assert intent(CompiledSet("leverage", const(5.0), None)) == SetLeverageIntent(
        symbol="BTCUSDT", leverage=5.0, rule="r", seq=7)
    assert intent(CompiledSet("mode", None, "hedge")) == SetPositionModeIntent(
        symbol="BTCUSDT", mode=PositionMode.HEDGE, rule="r", seq=7)
    assert intent(CompiledSet("trail", const(30, "ticks"), None)) == SetTradingStopIntent(
        symbol="BTCUSDT", trail=Trail(TrailUnit.TICKS, 30), rule="r", seq=7)


def test_set_tp_in_ticks_is_measured_from_the_entry_in_the_positions_direction() -> None:
    long_tp = intent(CompiledSet("tp", const(50, "ticks"), None))
    short_sl = intent(CompiledSet("sl", const(50, "ticks"), None), Position(-1, 100_000.0, 0.1))
    assert isinstance(long_tp, SetTradingStopIntent) and long_tp.tp == PriceTarget.price(pytest.approx(100_005.0))  # type: ignore[arg-type]
    assert isinstance(short_sl, SetTradingStopIntent) and short_sl.sl == PriceTarget.price(pytest.approx(100_005.0))  # type: ignore[arg-type]
    flat = intent(CompiledSet("tp", const(50, "ticks"), None), Position(0, math.nan, 0.1))
    assert isinstance(flat, Rejection) and flat.code is RejectCode.NO_PRICE
