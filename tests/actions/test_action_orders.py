"""`buy` / `sell` / `close` through ``prepare``: sizing, rounding, time in force, stops, positionIdx."""

from __future__ import annotations

from decimal import Decimal

import pytest
from action_factories import BTC, INVERSE, NO_LIMITS, SPOT, account, hedge_account, rules

from rulebot.actions import (
    AccountView,
    CloseIntent,
    OrderIntent,
    PlaceOrderAction,
    PositionSide,
    Prepared,
    PriceTarget,
    QtySpec,
    QtyUnit,
    RejectCode,
    Rejection,
    Trail,
    TrailUnit,
    prepare,
    resolve_after_fill,
)
from rulebot.model import InstrumentRules, OrderType, PlaceOrder, PositionMode, Side, TimeInForce, TpslMode

D = Decimal
LINK = "rb-0123abcd-7"


def ok(intent: object, r: InstrumentRules = BTC, acc: AccountView | None = None,
       mode: PositionMode = PositionMode.ONEWAY, tpsl: TpslMode = TpslMode.FULL) -> Prepared:
    result = prepare(intent, r, acc or account(), NO_LIMITS, mode, LINK, tpsl_mode=tpsl)  # type: ignore[arg-type]
    assert isinstance(result, Prepared), result
    return result


def refused(intent: object, r: InstrumentRules = BTC, acc: AccountView | None = None,
            mode: PositionMode = PositionMode.ONEWAY) -> Rejection:
    result = prepare(intent, r, acc or account(), NO_LIMITS, mode, LINK)  # type: ignore[arg-type]
    assert isinstance(result, Rejection), result
    return result


def order_of(prepared: Prepared) -> PlaceOrder:
    (request,) = prepared.requests
    assert isinstance(request, PlaceOrder)
    return request


def buy(qty: QtySpec | float = 0.01, **kw: object) -> OrderIntent:
    spec = qty if isinstance(qty, QtySpec) else QtySpec.base(qty)
    return OrderIntent("BTCUSDT", kw.pop("side", Side.BUY), spec, **kw)  # type: ignore[arg-type]


def limit(price: float, qty: QtySpec | float = 0.01, **kw: object) -> OrderIntent:
    return buy(qty, order_type=OrderType.LIMIT, price=price, **kw)


# --- quantities --------------------------------------------------------------------------

def test_base_qty_rounds_down_to_the_step() -> None:
    order = order_of(ok(buy(0.0199)))
    assert order.qty == D("0.019") and str(order.qty) == "0.019"


def test_quote_money_converts_at_the_mark_price_for_market_orders() -> None:
    assert order_of(ok(buy(QtySpec.money(100, "usdt")))).qty == D("0.001")  # 100 / 64000 = 0.0015625
    assert order_of(ok(buy(QtySpec.money(1000, "USDT")))).qty == D("0.015")  # 0.015625


def test_quote_money_converts_at_the_limit_price() -> None:
    assert order_of(ok(limit(50_000, QtySpec.money(1000, "usdt")))).qty == D("0.020")


def test_base_money_is_the_base_amount() -> None:
    assert order_of(ok(buy(QtySpec.money(0.5, "btc")))).qty == D("0.500")


@pytest.mark.parametrize(("unit", "expected"), [
    (QtyUnit.EQUITY, D("0.015")),  # 10% of 10000 = 1000 USDT -> 0.015625
    (QtyUnit.BALANCE, D("0.031")),  # 10% of 20000
    (QtyUnit.AVAILABLE, D("0.007")),  # 10% of 5000
])
def test_a_share_of_the_account(unit: QtyUnit, expected: Decimal) -> None:
    acc = account(equity=10_000, balance=20_000, available=5_000)
    assert order_of(ok(buy(QtySpec.share(0.1, unit)), acc=acc)).qty == expected


def test_a_share_of_nothing_is_refused() -> None:
    rejection = refused(buy(QtySpec.share(0.1, QtyUnit.AVAILABLE)), acc=account(available=0))
    assert rejection.code is RejectCode.OUT_OF_RANGE
    assert rejection.reason == "available is 0.00 USDT; cannot size 10% available"


def test_money_in_a_foreign_coin_is_refused() -> None:
    rejection = refused(buy(QtySpec.money(1, "eth")))
    assert rejection.reason == "cannot size a BTCUSDT order in ETH; use BTC or USDT"


def test_inverse_quantities_are_usd_contracts() -> None:
    acc = account(equity=1.0, mark=50_000)  # 1 BTC of equity
    inverse_buy = OrderIntent("BTCUSD", Side.BUY, QtySpec.share(0.1, QtyUnit.EQUITY))
    assert order_of(ok(inverse_buy, r=INVERSE, acc=acc)).qty == D("5000")  # 0.1 BTC at 50000
    in_usd = OrderIntent("BTCUSD", Side.BUY, QtySpec.money(100.7, "usd"))
    assert order_of(ok(in_usd, r=INVERSE, acc=acc)).qty == D("100")


def test_below_minimum_qty_is_refused_with_the_numbers() -> None:
    rejection = refused(buy(0.0004))
    assert rejection.code is RejectCode.BELOW_MIN_QTY
    assert rejection.reason == "order size 0.0004 BTC is below the minimum 0.001 BTC"


def test_below_minimum_from_money_says_how_it_was_sized() -> None:
    rejection = refused(buy(QtySpec.money(50, "usdt")))
    assert rejection.reason == "order size 0.00078125 BTC (50 USDT at 64000) is below the minimum 0.001 BTC"


def test_below_minimum_value_is_refused_with_the_numbers() -> None:
    cheap = rules(min_order_qty=D("0.0001"), qty_step=D("0.0001"))
    rejection = refused(buy(0.0005), r=cheap, acc=account(mark=6400))
    assert rejection.code is RejectCode.BELOW_MIN_NOTIONAL
    assert rejection.reason == "order value 3.20 USDT is below the minimum 5 USDT"


def test_above_maximum_qty_is_refused() -> None:
    rejection = refused(buy(2000))
    assert rejection.code is RejectCode.ABOVE_MAX_QTY
    assert rejection.reason == "order size 2000 BTC is above the maximum 1190 BTC"


@pytest.mark.parametrize("qty", [0.0, -1.0, float("nan"), float("inf")])
def test_nonsense_quantities_are_refused(qty: float) -> None:
    assert refused(buy(qty)).code is RejectCode.OUT_OF_RANGE


def test_a_market_order_needs_a_mark_price() -> None:
    assert refused(buy(0.01), acc=account(mark=None)).code is RejectCode.NO_PRICE


# --- prices and time in force -----------------------------------------------------------

def test_limit_prices_round_away_from_the_market() -> None:
    assert order_of(ok(limit(63_999.97))).price == D("63999.90")
    assert order_of(ok(limit(64_000.01, side=Side.SELL))).price == D("64000.10")


def test_a_market_order_with_a_price_and_a_limit_without_are_refused() -> None:
    assert refused(buy(0.01, price=64_000.0)).reason == "a market order takes no price"
    assert refused(buy(0.01, order_type=OrderType.LIMIT)).reason == "a limit order needs a price"


def test_market_orders_are_ioc() -> None:
    assert order_of(ok(buy(0.01))).time_in_force is TimeInForce.IOC
    assert order_of(ok(buy(0.01, tif=TimeInForce.IOC))).time_in_force is TimeInForce.IOC


@pytest.mark.parametrize(("kw", "expected"), [
    ({"post_only": True}, TimeInForce.POST_ONLY),
    ({"tif": TimeInForce.POST_ONLY}, TimeInForce.POST_ONLY),
    ({"tif": TimeInForce.IOC}, TimeInForce.IOC),
    ({"tif": TimeInForce.FOK}, TimeInForce.FOK),
    ({}, TimeInForce.GTC),
])
def test_limit_time_in_force(kw: dict[str, object], expected: TimeInForce) -> None:
    assert order_of(ok(limit(64_000, **kw))).time_in_force is expected


@pytest.mark.parametrize(("intent", "reason"), [
    (buy(0.01, post_only=True), "post only needs a limit order"),
    (buy(0.01, tif=TimeInForce.FOK), "fok needs a limit order; a market order is already immediate"),
    (limit(64_000, post_only=True, tif=TimeInForce.IOC), "post only cannot be combined with ioc"),
])
def test_inconsistent_time_in_force_is_refused(intent: OrderIntent, reason: str) -> None:
    rejection = refused(intent)
    assert (rejection.code, rejection.reason) == (RejectCode.INVALID, reason)


def test_expire_becomes_milliseconds() -> None:
    assert order_of(ok(limit(64_000, expire_s=300.0))).expire_after_ms == 300_000


def test_a_rule_for_another_symbol_is_refused() -> None:
    other = OrderIntent("ETHUSDT", Side.BUY, QtySpec.base(1))
    assert refused(other).reason == "the action is for ETHUSDT but the instrument rules are for BTCUSDT"


# --- take profit, stop loss, trail ------------------------------------------------------

def test_percent_targets_of_a_limit_buy_are_measured_from_the_order_price() -> None:
    order = order_of(ok(limit(63_999.9, tp=PriceTarget.percent(0.02), sl=PriceTarget.percent(0.01))))
    assert order.take_profit == D("65279.80")  # 65279.898 rounded down, toward the entry
    assert order.stop_loss == D("63360.00")  # 63359.901 rounded up, toward the entry
    assert order.tp_pct is None and order.sl_pct is None


def test_percent_targets_of_a_limit_sell_are_mirrored() -> None:
    order = order_of(ok(limit(64_000, side=Side.SELL, tp=PriceTarget.percent(0.02), sl=PriceTarget.percent(0.01))))
    assert order.take_profit == D("62720.00")
    assert order.stop_loss == D("64640.00")


def test_percent_targets_of_a_market_order_wait_for_the_fill() -> None:
    prepared = ok(buy(0.01, tp=PriceTarget.percent(0.02), sl=PriceTarget.price(60_000.04)))
    order = order_of(prepared)
    assert order.tp_pct == D("2") and order.take_profit is None
    assert order.stop_loss == D("60000.10")  # absolute: sent with the order, rounded toward the mark
    assert prepared.after_fill is not None
    assert prepared.after_fill.take_profit == PriceTarget.percent(0.02)
    assert prepared.after_fill.stop_loss is None


def test_a_target_on_the_wrong_side_is_refused() -> None:
    rejection = refused(limit(64_000, tp=PriceTarget.price(63_000)))
    assert rejection.code is RejectCode.BAD_TARGET
    assert rejection.reason == "take profit 63000 is not above the order price 64000 for a long"


def test_a_stop_loss_of_100_percent_below_is_no_price() -> None:
    rejection = refused(buy(0.01, sl=PriceTarget.percent(1.0)))
    assert rejection.reason == "stop loss 100% below the mark price 64000 is not a price"


def test_a_target_rounding_onto_the_entry_is_refused() -> None:
    rejection = refused(limit(64_000, tp=PriceTarget.percent(0.0000005)))
    assert rejection.code is RejectCode.BAD_TARGET
    assert "rounds to 64000" in rejection.reason


def test_reduce_only_cannot_carry_stops() -> None:
    rejection = refused(buy(0.01, side=Side.SELL, reduce_only=True, sl=PriceTarget.percent(0.01)))
    assert rejection.reason == "a reduce-only order cannot carry a take profit, stop loss or trail"


def test_trail_percent_is_of_the_entry_and_set_after_the_fill() -> None:
    prepared = ok(limit(64_000, trail=Trail(TrailUnit.PERCENT, 0.01)))
    assert order_of(prepared).trail_pct == D("1")
    assert prepared.after_fill is not None
    stop = resolve_after_fill(prepared.after_fill, BTC, 64_012.34, 0.01)
    assert isinstance(stop, Prepared)
    (request,) = stop.requests
    assert request.trailing_stop == D("640.10")  # 640.1234 rounded down to the tick


def test_trail_in_ticks_is_a_distance_on_the_order() -> None:
    order = order_of(ok(limit(64_000, trail=Trail(TrailUnit.TICKS, 3))))
    assert order.trailing_stop == D("0.30") and order.trail_pct is None


def test_a_tiny_trail_distance_is_one_tick() -> None:
    assert order_of(ok(limit(64_000, trail=Trail(TrailUnit.DISTANCE, 0.001)))).trailing_stop == D("0.10")


def test_after_fill_targets_are_measured_from_the_fill_price() -> None:
    sell = buy(0.01, side=Side.SELL, tp=PriceTarget.percent(0.02), sl=PriceTarget.percent(0.01))
    prepared = ok(sell)
    assert prepared.after_fill is not None
    stop = resolve_after_fill(prepared.after_fill, BTC, D("50000"), D("0.01"))
    assert isinstance(stop, Prepared)
    (request,) = stop.requests
    assert (request.take_profit, request.stop_loss) == (D("49000.00"), D("50500.00"))
    assert request.position_idx == 0 and request.tpsl_mode is TpslMode.FULL


def test_after_fill_in_partial_mode_covers_the_filled_qty() -> None:
    prepared = ok(buy(0.01, tp=PriceTarget.percent(0.02)), tpsl=TpslMode.PARTIAL)
    assert prepared.after_fill is not None
    stop = resolve_after_fill(prepared.after_fill, BTC, 50_000, 0.004)
    assert isinstance(stop, Prepared)
    (request,) = stop.requests
    assert request.size == D("0.004") and request.tpsl_mode is TpslMode.PARTIAL


def test_after_fill_with_a_bad_fill_price_is_refused() -> None:
    prepared = ok(buy(0.01, tp=PriceTarget.percent(0.02)))
    assert prepared.after_fill is not None
    assert isinstance(resolve_after_fill(prepared.after_fill, BTC, float("nan"), 0.01), Rejection)


def test_spot_cannot_trail_or_reduce() -> None:
    assert refused(buy(0.01, trail=Trail(TrailUnit.PERCENT, 0.01)), r=SPOT).code is RejectCode.NOT_SUPPORTED
    assert refused(buy(0.01, side=Side.SELL, reduce_only=True), r=SPOT).code is RejectCode.NOT_SUPPORTED


# --- positionIdx ----------------------------------------------------------------------

@pytest.mark.parametrize(("side", "reduce_only", "idx"), [
    (Side.BUY, False, 1), (Side.SELL, False, 2), (Side.SELL, True, 1), (Side.BUY, True, 2),
])
def test_hedge_mode_position_idx(side: Side, reduce_only: bool, idx: int) -> None:
    acc = hedge_account(0.05, 0.05)
    order = order_of(ok(buy(0.01, side=side, reduce_only=reduce_only), acc=acc, mode=PositionMode.HEDGE))
    assert order.position_idx == idx


def test_one_way_position_idx_is_zero() -> None:
    assert order_of(ok(buy(0.01, side=Side.SELL))).position_idx == 0


# --- close ----------------------------------------------------------------------------

def test_close_a_long_sells_it_all_reduce_only() -> None:
    order = order_of(ok(CloseIntent("BTCUSDT"), acc=account(0.025)))
    assert (order.side, order.qty, order.reduce_only) == (Side.SELL, D("0.025"), True)
    assert order.order_link_id == LINK and order.time_in_force is TimeInForce.IOC


def test_close_half_rounds_down() -> None:
    order = order_of(ok(CloseIntent("BTCUSDT", fraction=0.5), acc=account(-0.025)))
    assert (order.side, order.qty) == (Side.BUY, D("0.012"))


def test_close_below_the_minimum_names_the_numbers() -> None:
    rejection = refused(CloseIntent("BTCUSDT", fraction=0.5), acc=account(0.001))
    assert rejection.code is RejectCode.BELOW_MIN_QTY
    assert rejection.reason == (
        "order size 0.0005 BTC (50% of the long position 0.001) is below the minimum 0.001 BTC"
    )


def test_a_reduce_only_close_ignores_the_minimum_value() -> None:
    assert order_of(ok(CloseIntent("BTCUSDT"), acc=account(0.001, mark=1000))).qty == D("0.001")


def test_close_limit_rounds_away_from_the_market() -> None:
    order = order_of(ok(CloseIntent("BTCUSDT", order_type=OrderType.LIMIT, price=65_000.01), acc=account(0.01)))
    assert order.price == D("65000.10") and order.time_in_force is TimeInForce.GTC


def test_close_when_there_is_nothing_to_close_sends_nothing() -> None:
    prepared = ok(CloseIntent("BTCUSDT", side=PositionSide.SHORT), acc=account(0.01))
    assert prepared.requests == () and prepared.note == "no short position to close"


def test_close_both_hedge_sides_sends_two_orders() -> None:
    prepared = ok(CloseIntent("BTCUSDT"), acc=hedge_account(0.02, 0.03), mode=PositionMode.HEDGE)
    long_close, short_close = prepared.requests
    assert isinstance(long_close, PlaceOrder) and isinstance(short_close, PlaceOrder)
    assert (long_close.side, long_close.qty, long_close.position_idx) == (Side.SELL, D("0.020"), 1)
    assert (short_close.side, short_close.qty, short_close.position_idx) == (Side.BUY, D("0.030"), 2)
    assert (long_close.order_link_id, short_close.order_link_id) == (LINK + "-L", LINK + "-S")


def test_close_on_spot_sells_the_base_balance() -> None:
    order = order_of(ok(CloseIntent("BTCUSDT"), r=SPOT, acc=account(0.01234)))
    assert (order.side, order.qty, order.reduce_only) == (Side.SELL, D("0.012"), False)


@pytest.mark.parametrize("fraction", [0.0, 1.5, float("nan")])
def test_close_fraction_must_be_a_share(fraction: float) -> None:
    assert refused(CloseIntent("BTCUSDT", fraction=fraction), acc=account(0.01)).code is RejectCode.OUT_OF_RANGE


def test_the_validated_order_is_the_action() -> None:
    prepared = ok(limit(64_000, tag="dip"))
    assert isinstance(prepared.action, PlaceOrderAction)
    assert prepared.action.to_request() == order_of(prepared)
    assert prepared.action.tag == "dip"
