"""SIMULATION.md "Replaying bars" and "Prices on the tick", one test per sentence, on hand-built bars."""

from __future__ import annotations

from decimal import Decimal

from paper_kit import fills, paper

from rulebot.model import ExitReason, OrderStatus, SetTradingStop, Side

# -- "Each bar is walked as four price points: open -> the extreme nearer to the open -> the other
# extreme -> close (if high - open <= open - low the high comes first, else the low)."


def test_walk_goes_to_the_nearer_extreme_first_low_nearer() -> None:
    p = paper(maker="0")
    p.flat_bar(100.0)
    p.order(Side.BUY, "0.1", "98.0")
    p.order(Side.SELL, "0.1", "102.0")
    # open - low = 1.5 < high - open = 3: the low comes first, so the buy fills first.
    got = p.feed(100.0, 103.0, 98.0 - 0.5 + 0.0, 101.0)
    assert fills(got) == [("buy", "98.0", "0.100", ""), ("sell", "102.0", "0.100", "rule")]


def test_walk_goes_to_the_nearer_extreme_first_high_nearer() -> None:
    p = paper(maker="0")
    p.flat_bar(100.0)
    p.order(Side.BUY, "0.1", "98.0")
    p.order(Side.SELL, "0.1", "102.0")
    got = p.feed(100.0, 102.5, 97.0, 99.0)
    assert fills(got) == [("sell", "102.0", "0.100", ""), ("buy", "98.0", "0.100", "rule")]


def test_walk_tie_takes_the_high_first() -> None:
    p = paper(maker="0")
    p.flat_bar(100.0)
    p.order(Side.BUY, "0.1", "98.0")
    p.order(Side.SELL, "0.1", "102.0")
    got = p.feed(100.0, 103.0, 97.0, 100.0)  # high - open == open - low
    assert [e.side for e in got] == [Side.SELL, Side.BUY]


# -- 1. "Market orders decided at the previous bar's close fill first, at this bar's open
# (± slippage ticks against the trader). Buys pay the open, sells receive it."


def test_market_order_waits_for_the_next_open() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "0.1")
    assert p.executions() == []
    got = p.feed(100.7, 101.0, 100.5, 100.9)
    assert fills(got) == [("buy", "100.7", "0.100", "")]
    assert got[0].ts_event_ms == 1 * 60_000  # at the bar's open time
    assert not got[0].is_maker


def test_market_orders_pay_slippage_against_the_trader() -> None:
    p = paper(slippage=2)
    p.flat_bar(100.0)
    p.order(Side.BUY, "0.1")
    assert fills(p.feed(100.0, 100.0, 100.0, 100.0)) == [("buy", "100.2", "0.100", "")]
    p.order(Side.SELL, "0.1", reduce_only=True)
    assert fills(p.feed(100.0, 100.0, 100.0, 100.0)) == [("sell", "99.8", "0.100", "rule")]


def test_market_orders_fill_before_the_walk_reaches_anything() -> None:
    p = paper(maker="0")
    p.flat_bar(100.0)
    p.order(Side.BUY, "0.1", "99.0")  # a resting limit reached later in the bar
    p.order(Side.BUY, "0.2")  # the market order goes first, at the open
    got = p.feed(100.0, 100.2, 98.0, 99.5)
    assert fills(got) == [("buy", "100.0", "0.200", ""), ("buy", "99.0", "0.100", "")]


# -- 2. "a resting limit order fills at its limit price when the walk reaches or passes it"


def test_limit_fills_at_its_price_when_passed() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "0.1", "99.0")
    got = p.feed(100.0, 100.5, 98.2, 98.9)
    assert fills(got) == [("buy", "99.0", "0.100", "")]
    assert got[0].is_maker


def test_limit_fills_when_reached_exactly_and_not_when_missed() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "0.1", "99.0")
    assert p.feed(100.0, 100.5, 99.1, 99.6) == []
    assert fills(p.feed(99.6, 99.8, 99.0, 99.5)) == [("buy", "99.0", "0.100", "")]


# -- "if the bar opens through it, it fills at the open (the better price)"


def test_limit_fills_at_the_open_when_the_bar_opens_through_it() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.SELL, "0.1", "101.0")
    got = p.feed(101.6, 102.0, 101.2, 101.5)
    assert fills(got) == [("sell", "101.6", "0.100", "")]
    assert got[0].is_maker  # it was resting: maker


def test_limit_that_crossed_when_placed_takes_liquidity_at_the_open() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "0.1", "100.5")  # above the last close: marketable
    got = p.feed(100.2, 100.4, 100.1, 100.3)
    assert fills(got) == [("buy", "100.2", "0.100", "")]
    assert not got[0].is_maker


# -- "a stop loss, take profit (both exchange-side, market on trigger) or trailing stop triggers
# when the walk reaches its trigger price and fills at that price"


def _long_at_100(**stops: str) -> object:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "1", **{k: Decimal(v) for k, v in stops.items()})
    p.feed(100.0, 100.0, 100.0, 100.0)
    assert p.position().size == 1.0
    return p


def test_stop_loss_fills_at_its_trigger() -> None:
    p = _long_at_100(stop_loss="99.0")
    got = p.feed(100.0, 100.2, 98.5, 98.7)
    assert fills(got) == [("sell", "99.0", "1.000", "sl")]
    assert not got[0].is_maker


def test_take_profit_fills_at_its_trigger() -> None:
    p = _long_at_100(take_profit="102.0")
    assert fills(p.feed(100.0, 102.3, 99.9, 102.1)) == [("sell", "102.0", "1.000", "tp")]


def test_short_stops_mirror_the_long_ones() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.SELL, "1", stop_loss=Decimal("101.0"), take_profit=Decimal("97.0"))
    p.feed(100.0, 100.0, 100.0, 100.0)
    assert fills(p.feed(100.0, 101.5, 99.8, 101.2)) == [("buy", "101.0", "1.000", "sl")]


# -- "if the bar opens beyond it, it fills at the open (the worse price for a stop, the better
# for a take profit)"


def test_stop_loss_gap_fills_at_the_worse_open() -> None:
    p = _long_at_100(stop_loss="99.0")
    assert fills(p.feed(98.0, 98.5, 97.5, 98.2)) == [("sell", "98.0", "1.000", "sl")]


def test_take_profit_gap_fills_at_the_better_open() -> None:
    p = _long_at_100(take_profit="102.0")
    assert fills(p.feed(103.0, 103.5, 102.5, 103.2)) == [("sell", "103.0", "1.000", "tp")]


# -- "when one bar touches both the stop loss and the take profit of a position, the stop loss is
# taken (conservative), whatever the walk's order"


def test_stop_loss_wins_when_the_walk_reaches_the_target_first() -> None:
    p = _long_at_100(take_profit="102.0", stop_loss="99.0")
    got = p.feed(100.0, 102.5, 97.0, 99.5)  # high nearer: the walk reaches 102 before 99
    assert fills(got) == [("sell", "99.0", "1.000", "sl")]


def test_stop_loss_wins_even_when_the_bar_opens_beyond_the_target() -> None:
    p = _long_at_100(take_profit="102.0", stop_loss="99.0")
    assert fills(p.feed(102.5, 102.8, 98.8, 99.0)) == [("sell", "99.0", "1.000", "sl")]


# -- "a position opened at this bar's open can be stopped or take profit in the same bar"


def test_position_opened_at_the_open_is_stopped_in_the_same_bar() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "1", sl_pct=Decimal("1"))
    got = p.feed(100.0, 100.4, 98.8, 99.2)
    assert fills(got) == [("buy", "100.0", "1.000", ""), ("sell", "99.0", "1.000", "sl")]


def test_position_opened_at_the_open_takes_profit_in_the_same_bar() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "1", tp_pct=Decimal("2"))
    got = p.feed(100.0, 102.4, 99.9, 102.0)
    assert fills(got) == [("buy", "100.0", "1.000", ""), ("sell", "102.0", "1.000", "tp")]


# -- "a trailing stop's best price moves with each point of the walk; it triggers when the price
# retreats by the trailing distance from the best price reached so far"


def test_trailing_stop_follows_the_high_then_triggers_on_the_retreat() -> None:
    p = _long_at_100(trailing_stop="2.0")
    # high nearer (2 <= 3): best 102 at the high, then the low 97 retreats past 100.
    assert fills(p.feed(100.0, 102.0, 97.0, 98.0)) == [("sell", "100.0", "1.000", "trail")]


def test_trailing_stop_best_only_counts_points_already_walked() -> None:
    p = _long_at_100(trailing_stop="2.0")
    # low first (1 < 5): 99 is within 2 of the best so far (100); the high 105 comes later.
    assert p.feed(100.0, 105.0, 99.0, 104.0) == []
    assert p.position().trailing_stop == 2.0
    # next bar: best is 105 now, so a dip to 102.9 passes 103.
    assert fills(p.feed(104.0, 104.5, 102.9, 103.5)) == [("sell", "103.0", "1.000", "trail")]


def test_trailing_stop_set_on_a_position_starts_from_the_last_price() -> None:
    p = _long_at_100()
    p.feed(100.0, 101.0, 100.0, 101.0)
    p.ex.submit(SetTradingStop("BTCUSDT", trailing_stop=Decimal("1.5")))
    assert fills(p.feed(101.0, 101.2, 99.0, 99.5)) == [("sell", "99.7", "1.000", "trail")]


# -- 3. "A position closed earlier in the bar is flat by then."


def test_position_closed_in_the_bar_is_flat_at_the_close() -> None:
    p = _long_at_100(stop_loss="99.0")
    p.feed(100.0, 100.0, 98.0, 98.5)
    pos = p.position()
    assert pos.size == 0.0 and pos.side is None and pos.stop_loss is None


# -- "A signal on the last bar of the data does nothing (there is no next open). A position still
# open at the end is closed at the last close with exit reason end."


def test_close_all_at_the_end_uses_the_last_close_and_leaves_the_last_signal_unfilled() -> None:
    p = _long_at_100()
    p.feed(100.0, 101.0, 99.5, 100.8)
    p.order(Side.SELL, "0.5")  # decided at the last close: no next open
    p.ex.close_all(ExitReason.END)
    ends = [e for e in p.executions() if e.exit_reason == "end"]
    assert fills(ends) == [("sell", "100.8", "1.000", "end")]
    assert p.position().size == 0.0
    assert p.ex.open_orders("BTCUSDT")[0].status is OrderStatus.OPEN


# -- Prices on the tick: "take profit and stop loss round toward the entry price ... trailing
# distances round down (never below one tick). Fill prices from the data are used as they are."


def test_percent_targets_round_toward_the_entry_long() -> None:
    p = paper()
    p.flat_bar(100.05)
    p.order(Side.BUY, "1", tp_pct=Decimal("2"), sl_pct=Decimal("1"))
    p.feed(100.05, 100.05, 100.05, 100.05)
    pos = p.position()
    assert pos.entry_price == 100.05  # off-tick data price, used as it is
    assert pos.take_profit == 102.0  # 102.051 rounded down, toward the entry
    assert pos.stop_loss == 99.1  # 99.0495 rounded up, toward the entry


def test_percent_targets_round_toward_the_entry_short() -> None:
    p = paper()
    p.flat_bar(100.05)
    p.order(Side.SELL, "1", tp_pct=Decimal("1"), sl_pct=Decimal("1"))
    p.feed(100.05, 100.05, 100.05, 100.05)
    pos = p.position()
    assert pos.take_profit == 99.1  # 99.0495 up
    assert pos.stop_loss == 101.0  # 101.0505 down


def test_trailing_percent_rounds_down_but_never_below_one_tick() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "1", trail_pct=Decimal("0.29"))
    p.feed(100.0, 100.0, 100.0, 100.0)
    assert p.position().trailing_stop == 0.2  # 0.29 -> 0.2
    q = paper()
    q.flat_bar(100.0)
    q.order(Side.BUY, "1", trail_pct=Decimal("0.01"))
    q.feed(100.0, 100.0, 100.0, 100.0)
    assert q.position().trailing_stop == 0.1  # 0.01 -> one tick


def test_fill_prices_from_data_keep_their_digits() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "0.1")
    assert fills(p.feed(28080.01, 28080.01, 28080.01, 28080.01)) == [("buy", "28080.01", "0.100", "")]


def test_absolute_stop_beats_percent_when_both_are_given() -> None:
    p = paper()
    p.flat_bar(100.0)
    p.order(Side.BUY, "1", stop_loss=Decimal("95.0"), sl_pct=Decimal("1"))
    p.feed(100.0, 100.0, 100.0, 100.0)
    assert p.position().stop_loss == 95.0
