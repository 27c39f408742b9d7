"""Requests the paper exchange refuses, each with the retCode Bybit sends (NOTES.md §5–§7)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from paper_kit import Paper, paper

from rulebot.exchange import OrderRejected
from rulebot.model import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Category,
    InstrumentRules,
    MarginMode,
    OrderStatus,
    OrderType,
    PlaceOrder,
    PositionMode,
    SetLeverage,
    SetMarginMode,
    SetTradingStop,
    Side,
    SwitchPositionMode,
    TimeInForce,
    TpslMode,
)


def _ready() -> Paper:
    p = paper(balance="1000", leverage="10")
    p.flat_bar(100.0)
    return p


def _buy(qty: str = "0.1", price: str | None = None, link: str = "x", **kw: object) -> PlaceOrder:
    return PlaceOrder(
        "BTCUSDT",
        Side.BUY,
        OrderType.LIMIT if price else OrderType.MARKET,
        Decimal(qty),
        link,
        price=Decimal(price) if price else None,
        **kw,  # type: ignore[arg-type]
    )


CASES: dict[str, tuple[int, Callable[[Paper], object]]] = {
    "balance": (110007, lambda p: p.ex.submit(_buy("101"))),
    "qty below one step": (110017, lambda p: p.ex.submit(_buy("0.0004"))),
    "qty zero": (110017, lambda p: p.ex.submit(_buy("0"))),
    "qty off the step": (10001, lambda p: p.ex.submit(_buy("0.0015"))),
    "qty above max": (10001, lambda p: p.ex.submit(_buy("1190.001"))),
    "below min notional": (110094, lambda p: p.ex.submit(_buy("0.04"))),
    "price off the tick": (10001, lambda p: p.ex.submit(_buy("0.1", "99.95"))),
    "limit without price": (
        10001,
        lambda p: p.ex.submit(PlaceOrder("BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.1"), "x")),
    ),
    "bad link id": (10001, lambda p: p.ex.submit(_buy(link="has space"))),
    "link id too long": (10001, lambda p: p.ex.submit(_buy(link="a" * 37))),
    "idx in one-way": (10001, lambda p: p.ex.submit(_buy(position_idx=1))),
    "tp below a buy": (10001, lambda p: p.ex.submit(_buy(take_profit=Decimal("99.0")))),
    "sl above a buy": (10001, lambda p: p.ex.submit(_buy(stop_loss=Decimal("101.0")))),
    "sl off the tick": (10001, lambda p: p.ex.submit(_buy(stop_loss=Decimal("98.05")))),
    "reduce-only with tp": (
        10001,
        lambda p: p.ex.submit(_buy(reduce_only=True, take_profit=Decimal("110.0"))),
    ),
    "reduce-only flat": (110017, lambda p: p.ex.submit(_buy(reduce_only=True))),
    "post-only market": (10001, lambda p: p.ex.submit(_buy(time_in_force=TimeInForce.POST_ONLY))),
    "sl percent 100": (10001, lambda p: p.ex.submit(_buy(sl_pct=Decimal("100")))),
    "partial trailing": (
        10001,
        lambda p: p.ex.submit(_buy(trail_pct=Decimal("1"), tpsl_mode=TpslMode.PARTIAL)),
    ),
    "expire not positive": (10001, lambda p: p.ex.submit(_buy("0.1", "99.0", expire_after_ms=0))),
    "cancel unknown": (110001, lambda p: p.ex.submit(CancelOrder("BTCUSDT", "nope"))),
    "amend unknown": (110001, lambda p: p.ex.submit(AmendOrder("BTCUSDT", "nope", price=Decimal("99.0")))),
    "leverage same": (110043, lambda p: p.ex.submit(SetLeverage("BTCUSDT", Decimal("10"), Decimal("10")))),
    "leverage above max": (
        10001,
        lambda p: p.ex.submit(SetLeverage("BTCUSDT", Decimal("101"), Decimal("101"))),
    ),
    "leverage below 1": (
        10001,
        lambda p: p.ex.submit(SetLeverage("BTCUSDT", Decimal("0.5"), Decimal("0.5"))),
    ),
    "leverage off step": (
        10001,
        lambda p: p.ex.submit(SetLeverage("BTCUSDT", Decimal("5.005"), Decimal("5.005"))),
    ),
    "leverage unequal one-way": (
        10001,
        lambda p: p.ex.submit(SetLeverage("BTCUSDT", Decimal("5"), Decimal("6"))),
    ),
    "mode same": (110025, lambda p: p.ex.submit(SwitchPositionMode("BTCUSDT", PositionMode.ONEWAY))),
    "margin same": (110026, lambda p: p.ex.submit(SetMarginMode("BTCUSDT", MarginMode.CROSS))),
    "trading stop flat": (
        10001,
        lambda p: p.ex.submit(SetTradingStop("BTCUSDT", take_profit=Decimal("110.0"))),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_rejected_with_bybit_ret_code(name: str) -> None:
    code, act = CASES[name]
    p = _ready()
    with pytest.raises(OrderRejected) as err:
        act(p)
    assert err.value.ret_code == code
    assert err.value.ret_msg  # a message that says what was wrong
    assert p.ex.open_orders("BTCUSDT") == []


def test_messages_name_the_numbers() -> None:
    p = _ready()
    with pytest.raises(OrderRejected, match=r"order value 4\.0+ is below the minimum order value 5"):
        p.ex.submit(_buy("0.04"))
    with pytest.raises(OrderRejected, match=r"99\.95 is not on the tick size 0\.10"):
        p.ex.submit(_buy("0.1", "99.95"))


def test_duplicate_order_link_id_110072() -> None:
    p = _ready()
    p.ex.submit(_buy(link="same"))
    with pytest.raises(OrderRejected) as err:
        p.ex.submit(_buy(link="same"))
    assert err.value.ret_code == 110072


def test_link_id_of_a_finished_order_is_still_taken() -> None:
    p = _ready()
    p.ex.submit(_buy(link="done"))
    p.feed(100.0, 100.0, 100.0, 100.0)
    with pytest.raises(OrderRejected) as err:
        p.ex.submit(_buy(link="done"))
    assert err.value.ret_code == 110072
    with pytest.raises(OrderRejected) as err:
        p.ex.submit(CancelOrder("BTCUSDT", "done"))
    assert err.value.ret_code == 110008


def test_a_pending_market_order_cannot_be_cancelled() -> None:
    p = _ready()
    p.ex.submit(_buy(link="m"))
    with pytest.raises(OrderRejected) as err:
        p.ex.submit(CancelOrder("BTCUSDT", "m"))
    assert err.value.ret_code == 110008
    assert p.ex.submit(CancelAll("BTCUSDT")).cancelled == ()


def test_mode_switch_refused_with_position_110024_and_with_orders_110028() -> None:
    p = _ready()
    p.ex.submit(_buy("0.1", "90.0", link="rest"))
    with pytest.raises(OrderRejected) as err:
        p.ex.submit(SwitchPositionMode("BTCUSDT", PositionMode.HEDGE))
    assert err.value.ret_code == 110028
    p.ex.submit(CancelOrder("BTCUSDT", "rest"))
    p.ex.submit(_buy(link="pos"))
    p.feed(100.0, 100.0, 100.0, 100.0)
    with pytest.raises(OrderRejected) as err:
        p.ex.submit(SwitchPositionMode("BTCUSDT", PositionMode.HEDGE))
    assert err.value.ret_code == 110024


def test_hedge_mode_needs_position_idx_1_or_2() -> None:
    p = paper(position_mode=PositionMode.HEDGE)
    p.flat_bar(100.0)
    with pytest.raises(OrderRejected, match="position idx 0 not match position mode hedge"):
        p.ex.submit(_buy())


def test_trading_stop_checks_sides_and_not_modified() -> None:
    p = _ready()
    p.ex.submit(_buy("1"))
    p.feed(100.0, 100.0, 100.0, 100.0)
    with pytest.raises(OrderRejected) as err:
        p.ex.submit(SetTradingStop("BTCUSDT", stop_loss=Decimal("100.5")))
    assert err.value.ret_code == 10001
    p.ex.submit(SetTradingStop("BTCUSDT", stop_loss=Decimal("98.0")))
    with pytest.raises(OrderRejected) as err:
        p.ex.submit(SetTradingStop("BTCUSDT", stop_loss=Decimal("98.0")))
    assert err.value.ret_code == 34040
    p.ex.submit(SetTradingStop("BTCUSDT", stop_loss=Decimal("0")))  # 0 removes it
    assert p.position().stop_loss is None


def test_amend_moves_a_resting_order_and_checks_it() -> None:
    p = _ready()
    p.ex.submit(_buy("0.1", "95.0", link="r"))
    p.ex.submit(AmendOrder("BTCUSDT", "r", price=Decimal("96.0"), qty=Decimal("0.2")))
    (o,) = p.ex.open_orders("BTCUSDT")
    assert (o.price, o.qty) == ("96.0", "0.2")
    with pytest.raises(OrderRejected) as err:
        p.ex.submit(AmendOrder("BTCUSDT", "r", qty=Decimal("200")))
    assert err.value.ret_code == 110007
    p.ex.submit(CancelOrder("BTCUSDT", "r"))
    assert p.order_updates("r")[-1].status is OrderStatus.CANCELLED


def test_cancel_all_by_side() -> None:
    p = _ready()
    p.ex.submit(_buy("0.1", "95.0", link="b1"))
    p.ex.submit(
        PlaceOrder("BTCUSDT", Side.SELL, OrderType.LIMIT, Decimal("0.1"), "s1", price=Decimal("105.0"))
    )
    assert p.ex.submit(CancelAll("BTCUSDT", side=Side.BUY)).cancelled == ("b1",)
    assert [o.order_link_id for o in p.ex.open_orders("BTCUSDT")] == ["s1"]


def test_only_usdt_linear_contracts_are_simulated() -> None:
    p = paper()
    inverse = InstrumentRules(
        "BTCUSD",
        Category.INVERSE,
        "BTC",
        "USD",
        "BTC",
        Decimal("0.5"),
        Decimal("1"),
        Decimal("1"),
        Decimal("1000000"),
        Decimal("0"),
        Decimal("100"),
    )
    from rulebot.exchange.paper import PaperExchange

    ex = PaperExchange(p.events.append, p.clock, instruments={"BTCUSD": inverse})
    with pytest.raises(OrderRejected, match="linear contracts only"):
        ex.submit(PlaceOrder("BTCUSD", Side.BUY, OrderType.LIMIT, Decimal("1"), "i", price=Decimal("100")))
