"""SIMULATION.md "Money": fees, PnL, one-way netting, hedge mode, leverage and margin; plus
liquidation, reduce-only, expiry and the order of the events."""

from __future__ import annotations

from decimal import Decimal

import pytest
from paper_kit import fills, paper

from rulebot.exchange import Exchange, OrderRejected
from rulebot.model import (
    Execution,
    ExitReason,
    MarginMode,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PlaceOrder,
    PositionMode,
    PositionUpdate,
    SetLeverage,
    SetMarginMode,
    SetTradingStop,
    Side,
    SwitchPositionMode,
    TpslMode,
    WalletUpdate,
)


def test_default_fees_are_bybit_linear_taker_and_maker() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "1")  # market: taker 0.055%
    p.order(Side.SELL, "1", "101.0")  # resting limit: maker 0.02%
    p.feed(100.0, 101.5, 99.9, 101.2)
    taker, maker = p.executions()
    assert taker.fee == "0.055" and not taker.is_maker
    assert maker.fee == "0.0202" and maker.is_maker


def test_triggered_stops_pay_taker() -> None:
    p = paper(maker="0.0001", taker="0.001")
    p.flat_bar(100.0)
    p.order(Side.BUY, "1", take_profit=Decimal("101.0"))
    p.feed(100.0, 101.5, 99.9, 101.2)
    assert [e.fee for e in p.executions()] == ["0.1", "0.101"]


def test_zero_fees_are_allowed() -> None:
    p = paper(maker="0", taker="0")
    p.flat_bar(100.0)
    p.order(Side.BUY, "1", take_profit=Decimal("101.0"))
    p.feed(100.0, 101.5, 99.9, 101.2)
    assert p.wallet().balance == pytest.approx(100000 + 1.0)


def test_long_pnl_is_exit_minus_entry_times_qty_minus_fees() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "2", take_profit=Decimal("103.0"))
    p.feed(100.0, 103.5, 99.9, 103.2)
    fees = 100.0 * 2 * 0.00055 + 103.0 * 2 * 0.00055
    assert p.wallet().balance == pytest.approx(100000 + (103.0 - 100.0) * 2 - fees)


def test_short_pnl_is_the_reverse() -> None:
    p = paper(taker="0")
    p.flat_bar(100.0)
    p.order(Side.SELL, "2", stop_loss=Decimal("104.0"))
    p.feed(100.0, 104.5, 99.9, 104.2)
    assert p.wallet().balance == pytest.approx(100000 - (104.0 - 100.0) * 2)


def test_one_way_mode_nets_and_flips() -> None:
    p = paper(taker="0")
    p.flat_bar(100.0)
    p.order(Side.BUY, "1")
    p.feed(100.0, 100.0, 100.0, 100.0)
    p.order(Side.SELL, "3")
    got = p.feed(110.0, 110.0, 110.0, 110.0)
    # the sell closes the long (an exit) and opens a short with the rest (an entry)
    assert fills(got) == [("sell", "110.0", "1.000", "rule"), ("sell", "110.0", "2.000", "")]
    pos = p.position()
    assert pos.side is Side.SELL and pos.size == 2.0 and pos.entry_price == 110.0
    assert p.wallet().balance == pytest.approx(100000 + 10.0)


def test_adding_averages_the_entry() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "1")
    p.feed(100.0, 100.0, 100.0, 100.0)
    p.order(Side.BUY, "3")
    p.feed(104.0, 104.0, 104.0, 104.0)
    assert p.position().entry_price == pytest.approx(103.0)


def test_hedge_mode_keeps_a_long_and_a_short_side() -> None:
    p = paper(taker="0", position_mode=PositionMode.HEDGE)
    p.flat_bar(100.0)
    p.order(Side.BUY, "1", position_idx=1, stop_loss=Decimal("95.0"))
    p.order(Side.SELL, "2", position_idx=2, take_profit=Decimal("95.0"))
    p.feed(100.0, 100.0, 100.0, 100.0)
    long, short = p.position(1), p.position(2)
    assert (long.side, long.size, short.side, short.size) == (Side.BUY, 1.0, Side.SELL, 2.0)
    # both sides' stops sit at 95: the long's SL and the short's TP fill on one bar
    got = p.feed(100.0, 100.2, 94.0, 94.5)
    assert sorted(fills(got)) == [("buy", "95.0", "2.000", "tp"), ("sell", "95.0", "1.000", "sl")]
    assert p.wallet().balance == pytest.approx(100000 - 5.0 + 10.0)


def test_hedge_mode_sell_on_the_long_side_only_closes_it() -> None:
    p = paper(taker="0", position_mode=PositionMode.HEDGE)
    p.flat_bar(100.0)
    p.order(Side.BUY, "1", position_idx=1)
    p.feed(100.0, 100.0, 100.0, 100.0)
    p.order(Side.SELL, "1", position_idx=1)
    assert fills(p.feed(101.0, 101.0, 101.0, 101.0)) == [("sell", "101.0", "1.000", "rule")]
    assert p.position(1).size == 0.0 and p.position(2).size == 0.0


def test_initial_margin_is_value_over_leverage() -> None:
    p = paper(balance="1000", leverage="5", taker="0")
    p.flat_bar(100.0)
    p.order(Side.BUY, "10")  # value 1000 at 5x: 200 margin reserved while the order is open
    assert p.wallet().available == pytest.approx(800.0)
    p.feed(100.0, 100.0, 100.0, 100.0)
    assert p.wallet().available == pytest.approx(800.0)


def test_order_needing_more_than_available_is_rejected_110007() -> None:
    p = paper(balance="1000", leverage="5")
    p.flat_bar(100.0)
    p.order(Side.BUY, "30")  # 600 of margin
    with pytest.raises(OrderRejected) as err:
        p.order(Side.BUY, "25")  # 500 more: only 400 left
    assert err.value.ret_code == 110007
    assert "needs 500.0000 USDT of margin, 400.0000 is available" in err.value.ret_msg
    p.feed(100.0, 100.0, 100.0, 100.0)
    p.order(Side.SELL, "30", link="flat")  # in one-way mode a sell nets against the long: no margin
    assert p.ex.open_orders("BTCUSDT")[-1].order_link_id == "flat"


def test_leverage_change_moves_the_margin_and_the_liquidation_price() -> None:
    p = paper(balance="1000", leverage="10", margin_mode=MarginMode.ISOLATED)
    p.flat_bar(100.0)
    p.ex.submit(SetLeverage("BTCUSDT", Decimal("20"), Decimal("20")))
    p.order(Side.BUY, "1")
    p.feed(100.0, 100.0, 100.0, 100.0)
    # isolated long: entry x (1 - 1/20 + 0.005) = 95.5
    assert p.position().liq_price == pytest.approx(95.5)
    assert p.position().leverage == 20.0


def test_isolated_liquidation_when_the_walk_reaches_the_price() -> None:
    p = paper(balance="1000", leverage="10", taker="0", margin_mode=MarginMode.ISOLATED)
    p.flat_bar(100.0)
    p.order(Side.BUY, "1")
    p.feed(100.0, 100.0, 100.0, 100.0)
    assert p.position().liq_price == pytest.approx(90.5)
    got = p.feed(95.0, 95.5, 90.0, 91.0)
    assert fills(got) == [("sell", "90.5", "1.000", "liquidation")]
    assert p.wallet().balance == pytest.approx(1000 - 9.5)


def test_isolated_short_liquidation_price() -> None:
    p = paper(balance="1000", leverage="4", margin_mode=MarginMode.ISOLATED)
    p.flat_bar(200.0)
    p.order(Side.SELL, "1")
    p.feed(200.0, 200.0, 200.0, 200.0)
    assert p.position().liq_price == pytest.approx(200.0 * (1 + 0.25 - 0.005))


def test_stop_loss_goes_before_a_farther_liquidation() -> None:
    p = paper(balance="1000", leverage="10", margin_mode=MarginMode.ISOLATED)
    p.flat_bar(100.0)
    p.order(Side.BUY, "1", stop_loss=Decimal("95.0"))
    p.feed(100.0, 100.0, 100.0, 100.0)
    assert [e.exit_reason for e in p.feed(99.0, 99.0, 85.0, 86.0)] == ["sl"]


def test_cross_liquidation_uses_the_whole_balance() -> None:
    p = paper(balance="100", leverage="10", taker="0")
    p.flat_bar(100.0)
    p.order(Side.BUY, "5")  # value 500, 50 margin, the other 50 of balance also backs it
    p.feed(100.0, 100.0, 100.0, 100.0)
    liq = p.position().liq_price
    assert liq is not None
    assert liq == pytest.approx((500 - 100) / (5 * 0.995), abs=0.1)


def test_reduce_only_never_increases_a_position() -> None:
    p = paper(taker="0")
    p.flat_bar(100.0)
    p.order(Side.BUY, "1")
    p.feed(100.0, 100.0, 100.0, 100.0)
    link = p.order(Side.SELL, "3", reduce_only=True)
    got = p.feed(101.0, 101.0, 101.0, 101.0)
    assert fills(got) == [("sell", "101.0", "1.000", "rule")]
    assert p.position().size == 0.0
    last = p.order_updates(link)[-1]
    assert last.status is OrderStatus.CANCELLED and last.filled_qty == "1.000"


def test_reduce_only_orders_are_cancelled_when_the_position_goes_flat() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "1", stop_loss=Decimal("99.0"))
    p.feed(100.0, 100.0, 100.0, 100.0)
    link = p.order(Side.SELL, "1", "105.0", reduce_only=True)
    p.feed(100.0, 100.0, 98.0, 98.0)
    assert p.order_updates(link)[-1].reject_reason == "CancelByReduceOnly"
    assert p.ex.open_orders("BTCUSDT") == []


def test_expire_cancels_an_unfilled_order_after_its_time() -> None:
    p = paper()
    p.flat_bar(100.0)  # the clock is at 1 minute now
    link = p.order(Side.BUY, "0.1", "90.0", expire_after_ms=3 * 60_000)
    for _ in range(3):
        p.feed(100.0, 100.0, 99.0, 100.0)
    assert p.ex.open_orders("BTCUSDT")[0].order_link_id == link
    p.feed(100.0, 100.0, 80.0, 100.0)  # the bar opening at 4 minutes is past the expiry
    assert p.executions() == []
    assert p.order_updates(link)[-1].reject_reason == "Expired"


def test_fill_events_come_as_execution_position_wallet_then_order() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "1")
    p.events.clear()
    p.feed(100.0, 100.0, 100.0, 100.0)
    assert [type(e) for e in p.events] == [Execution, PositionUpdate, WalletUpdate, OrderUpdate]
    assert p.events[-1].status is OrderStatus.FILLED


def test_equity_is_balance_plus_unrealised_pnl() -> None:
    p = paper(taker="0")
    p.flat_bar(100.0)
    p.order(Side.SELL, "2")
    p.feed(100.0, 100.0, 100.0, 100.0)
    p.feed(100.0, 100.0, 97.0, 97.0)
    w = p.wallet()
    assert w.equity - w.balance == pytest.approx(6.0)
    assert p.position().unrealised_pnl == pytest.approx(6.0)


def test_close_all_takes_a_price_and_a_reason() -> None:
    p = paper(taker="0")
    p.flat_bar(100.0)
    p.order(Side.BUY, "1")
    p.feed(100.0, 100.0, 100.0, 100.0)
    p.ex.close_all(ExitReason.RULE, price=120.0)
    assert fills(p.executions()[-1:]) == [("sell", "120.0", "1.000", "rule")]


def test_settings_change_modes() -> None:
    p = paper()
    p.ex.submit(SwitchPositionMode("BTCUSDT", PositionMode.HEDGE))
    assert [x.position_idx for x in p.ex.positions("BTCUSDT")] == [1, 2]
    p.ex.submit(SetMarginMode("BTCUSDT", MarginMode.ISOLATED))
    p.ex.submit(SetLeverage("BTCUSDT", Decimal("3"), Decimal("7")))  # may differ: hedge isolated
    p.flat_bar(100.0)
    p.order(Side.SELL, "1", position_idx=2)
    p.feed(100.0, 100.0, 100.0, 100.0)
    assert p.position(2).leverage == 7.0


def test_partial_tpsl_covers_only_the_order_it_came_with() -> None:
    p = paper(taker="0")
    p.flat_bar(100.0)
    p.order(Side.BUY, "1")
    p.feed(100.0, 100.0, 100.0, 100.0)
    p.order(Side.BUY, "2", take_profit=Decimal("103.0"), tpsl_mode=TpslMode.PARTIAL)
    p.feed(100.0, 100.0, 100.0, 100.0)
    assert p.position().take_profit is None  # a partial leg is not the position's full TP
    got = p.feed(100.0, 103.5, 99.9, 103.2)
    assert fills(got) == [("sell", "103.0", "2.000", "tp")]
    assert p.position().size == 1.0


def test_partial_trading_stop_with_a_size() -> None:
    p = paper(taker="0")
    p.flat_bar(100.0)
    p.order(Side.BUY, "3")
    p.feed(100.0, 100.0, 100.0, 100.0)
    p.ex.submit(
        SetTradingStop("BTCUSDT", stop_loss=Decimal("98.0"), tpsl_mode=TpslMode.PARTIAL, size=Decimal("1"))
    )
    p.ex.submit(SetTradingStop("BTCUSDT", stop_loss=Decimal("97.0")))  # full: the rest
    got = p.feed(99.0, 99.5, 96.5, 97.5)
    assert fills(got) == [("sell", "98.0", "1.000", "sl"), ("sell", "97.0", "2.000", "sl")]


def test_paper_exchange_serves_the_exchange_protocol() -> None:
    p = paper()
    ex: Exchange = p.ex
    p.flat_bar(100.0)
    ack = ex.submit(
        PlaceOrder("BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.1"), "proto", price=Decimal("99.0"))
    )
    assert (ack.order_link_id, [o.order_link_id for o in ex.open_orders("BTCUSDT")]) == ("proto", ["proto"])
    assert ex.wallet().coin == "USDT" and ex.positions("BTCUSDT")[0].size == 0.0
