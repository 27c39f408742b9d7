"""SIMULATION.md "Live paper trading": the book, trades, post-only, IOC and FOK."""

from __future__ import annotations

from decimal import Decimal

from paper_kit import fills, paper

from rulebot.model import OrderStatus, OrderType, PlaceOrder, Side, TimeInForce


def test_market_order_walks_the_book_for_size() -> None:
    p = paper(live=True)
    p.book(bids=[(99.9, 1.0)], asks=[(100.0, 0.3), (100.1, 0.5), (100.3, 5.0)])
    p.order(Side.BUY, "1")
    assert fills(p.executions()) == [
        ("buy", "100.0", "0.300", ""),
        ("buy", "100.1", "0.500", ""),
        ("buy", "100.3", "0.200", ""),
    ]
    assert abs(p.position().entry_price - (100.0 * 0.3 + 100.1 * 0.5 + 100.3 * 0.2)) < 1e-9


def test_market_sell_takes_the_bids() -> None:
    p = paper(live=True)
    p.book(bids=[(99.9, 2.0), (99.8, 1.0)], asks=[(100.0, 1.0)])
    p.order(Side.SELL, "0.5")
    assert fills(p.executions()) == [("sell", "99.9", "0.500", "")]


def test_market_order_without_a_book_fills_at_the_last_trade() -> None:
    p = paper(live=True)
    p.trade(100.4)
    p.order(Side.BUY, "0.2")
    assert fills(p.executions()) == [("buy", "100.4", "0.200", "")]


def test_market_order_before_any_price_waits_for_the_first_one() -> None:
    p = paper(live=True)
    p.ex.submit(
        PlaceOrder(
            "BTCUSDT",
            Side.BUY,
            OrderType.LIMIT,
            Decimal("0.2"),
            "w",
            price=Decimal("101.0"),
            time_in_force=TimeInForce.IOC,
        )
    )
    assert p.executions() == []
    p.trade(100.5)
    assert fills(p.executions()) == [("buy", "100.5", "0.200", "")]


def test_limit_rests_and_fills_when_a_trade_prints_at_its_price() -> None:
    p = paper(live=True)
    p.book(bids=[(99.9, 1.0)], asks=[(100.0, 1.0)])
    p.order(Side.BUY, "0.1", "99.5")
    assert p.trade(99.6) == []
    got = p.trade(99.5)
    assert fills(got) == [("buy", "99.5", "0.100", "")]
    assert got[0].is_maker


def test_limit_fills_at_its_price_when_a_trade_prints_through_it() -> None:
    p = paper(live=True)
    p.book(bids=[(99.9, 1.0)], asks=[(100.0, 1.0)])
    p.order(Side.SELL, "0.1", "100.5")
    assert fills(p.trade(100.9)) == [("sell", "100.5", "0.100", "")]


def test_post_only_that_would_cross_is_cancelled_live() -> None:
    p = paper(live=True)
    p.book(bids=[(99.9, 1.0)], asks=[(100.0, 1.0)])
    link = p.order(Side.BUY, "0.1", "100.0", time_in_force=TimeInForce.POST_ONLY)
    last = p.order_updates(link)[-1]
    assert last.status is OrderStatus.CANCELLED
    assert last.reject_reason == "EC_PostOnlyWillTakeLiquidity"
    assert p.executions() == []


def test_post_only_that_would_cross_is_cancelled_in_a_replay() -> None:
    p = paper()
    p.flat_bar(100.0)
    link = p.order(Side.SELL, "0.1", "99.9", time_in_force=TimeInForce.POST_ONLY)
    assert p.order_updates(link)[-1].reject_reason == "EC_PostOnlyWillTakeLiquidity"
    resting = p.order(Side.SELL, "0.1", "100.1", time_in_force=TimeInForce.POST_ONLY)
    assert p.order_updates(resting)[-1].status is OrderStatus.OPEN


def test_ioc_fills_what_it_can_and_cancels_the_rest() -> None:
    p = paper(live=True)
    p.book(bids=[(99.9, 1.0)], asks=[(100.0, 0.4), (100.5, 1.0)])
    link = p.order(Side.BUY, "1", "100.2", time_in_force=TimeInForce.IOC)
    assert fills(p.executions()) == [("buy", "100.0", "0.400", "")]
    last = p.order_updates(link)[-1]
    assert last.status is OrderStatus.CANCELLED and last.filled_qty == "0.400"
    assert last.reject_reason == "EC_NoImmediateQtyToFill"


def test_fok_fills_whole_or_not_at_all() -> None:
    p = paper(live=True)
    p.book(bids=[(99.9, 1.0)], asks=[(100.0, 0.4), (100.5, 1.0)])
    none = p.order(Side.BUY, "1", "100.2", time_in_force=TimeInForce.FOK)
    assert p.executions() == []
    assert p.order_updates(none)[-1].reject_reason == "EC_CancelForNoFullFill"
    whole = p.order(Side.BUY, "1", "100.5", time_in_force=TimeInForce.FOK)
    assert fills(p.executions()) == [("buy", "100.0", "0.400", ""), ("buy", "100.5", "0.600", "")]
    assert p.order_updates(whole)[-1].status is OrderStatus.FILLED


def test_ioc_in_a_replay_gets_only_the_next_open() -> None:
    p = paper()
    p.flat_bar(100.0)
    miss = p.order(Side.BUY, "0.1", "99.0", time_in_force=TimeInForce.IOC)
    p.feed(99.5, 99.6, 98.0, 98.5)  # the low passes 99, but the open did not
    assert p.executions() == []
    assert p.order_updates(miss)[-1].status is OrderStatus.CANCELLED
    p.order(Side.BUY, "0.1", "99.0", time_in_force=TimeInForce.FOK)
    assert fills(p.feed(98.8, 99.0, 98.7, 98.9)) == [("buy", "98.8", "0.100", "")]


def test_stops_trigger_on_trades_and_close_at_the_book() -> None:
    p = paper(live=True)
    p.book(bids=[(99.9, 5.0)], asks=[(100.0, 5.0)])
    p.order(Side.BUY, "1", stop_loss=Decimal("99.0"))
    p.book(bids=[(98.7, 5.0)], asks=[(98.8, 5.0)])
    got = p.trade(98.9)
    assert fills(got) == [("sell", "98.7", "1.000", "sl")]


def test_book_delta_deletes_a_level_with_size_zero() -> None:
    from rulebot.model import BookUpdate

    p = paper(live=True)
    p.book(bids=[(99.9, 1.0)], asks=[(100.0, 1.0), (100.1, 1.0)])
    p.ex.on_book(BookUpdate("BTCUSDT", 0, 0, False, (), ((100.0, 0.0),), 2, 2))
    p.order(Side.BUY, "0.5")
    assert fills(p.executions()) == [("buy", "100.1", "0.500", "")]


def test_bar_mode_ignores_book_and_trades() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "0.1")
    p.book(bids=[(99.0, 1.0)], asks=[(99.5, 1.0)])
    p.trade(99.5)
    assert p.executions() == []
