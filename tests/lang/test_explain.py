"""`rulebot explain`, the language half: each rule read in plain English (exact sentences), its
triggers, how it fires, its warm-up and how each percent offset was read."""

from __future__ import annotations

import pytest

from rulebot.lang.explain import (
    EDGE_WORDS,
    LEVEL_WORDS,
    FileExplanation,
    RuleExplanation,
    explain_analysis,
    warmup_words,
)
from rulebot.lang.lint import analyze_text
from rulebot.lang.parser import parse
from rulebot.lang.phrases import duration_words, timeframe_words
from rulebot.lang.reading import ReadingContext, read_condition, read_value
from rulebot.lang.source import Source

HEAD = "symbol: BTCUSDT\ntimeframe: {tf}\nrisk: {{max_position: 0.05}}\nrules:\n"
CTX = ReadingContext(timeframe="1m", timezone="UTC", base_coin="BTC", size_unit="BTC", settle_coin="USDT",
                     quote_coin="USDT")


def explain(rules: str, tf: str = "1m", head: str = HEAD) -> FileExplanation:
    analysis = analyze_text(head.format(tf=tf) + rules, "t.yaml")
    assert not analysis.has_errors, analysis.diagnostics
    return explain_analysis(analysis)


def one(rule: str, tf: str = "1m") -> RuleExplanation:
    return explain(f"  - {rule}\n", tf).rules[0]


def condition(text: str, ctx: ReadingContext = CTX) -> str:
    node = parse(Source.contiguous("t", text), "condition").node
    assert node is not None and not isinstance(node, tuple)
    return read_condition(node, ctx)


def test_the_issue_example_reads_as_one_sentence() -> None:
    rule = one("when rsi(14) < 30 and position == 0 then buy 0.01 limit bid1 tp 2% trail 1%")
    assert rule.reading == (
        "buy 0.01 BTC with a limit order at the best bid when RSI(14) on 1-minute bars is below 30 and "
        "there is no position; then take profit 2% above the limit price and trail the stop 1% of the "
        "entry price behind")
    assert rule.triggers == ("on the close of each 1-minute bar of BTCUSDT",)
    assert [warmup_words(w) for w in rule.warmup] == ["needs 281 closed 1m bars of history at start"]
    assert rule.text == "when rsi(14) < 30 and position == 0 then buy 0.01 limit bid1 tp 2% trail 1%"


def test_a_market_order_measures_its_stops_from_the_fill() -> None:
    rule = one("when rsi(14) > 70 and position is flat then sell 0.02 market tp 2% sl 1%")
    assert rule.reading == (
        "sell 0.02 BTC with a market order when RSI(14) on 1-minute bars is above 70 and there is no "
        "position; then take profit 2% below the fill price and stop loss 1% above the fill price")


@pytest.mark.parametrize("text, words", [
    ("ema(12) crosses above ema(26)", "the 12-bar EMA on 1-minute bars crosses above the 26-bar EMA"),
    ("macd() crosses below macd_signal()",
     "the MACD line (12, 26) on 1-minute bars crosses below the MACD signal line (12, 26, 9)"),
    ("close crosses ema(20)", "the close on 1-minute bars crosses the 20-bar EMA (either way)"),
    ("rsi(14) between 30 and 70", "RSI(14) on 1-minute bars is between 30 and 70"),
    ("close rising 3", "the close on 1-minute bars has risen at each of the last 3 bars"),
    ("volume falling 1", "the volume on 1-minute bars has fallen since the bar before"),
    ("rsi(14) < 30 for 3 bars", "RSI(14) on 1-minute bars is below 30 at each of the last 3 closes of 1-minute bars"),
    ("(rsi(14, 5m) < 30 and close > open) for 2 bars",
     "(RSI(14) on 5-minute bars is below 30 and the close on 1-minute bars is above the open) "
     "at each of the last 2 closes of 1-minute bars"),
    ("spread_pct < 0.1% for 5m", "the spread as a share of the mid price is below 0.1% throughout the last 5 minutes"),
    ("position is long", "the position is long"),
    ("position is not flat", "there is a position"),
    ("not position is flat", "there is a position"),
    ("position in [long, short]", "the position is long or short"),
    ("weekday is weekend", "it is the weekend (UTC)"),
    ("weekday in [mon, tue, fri]", "it is Monday, Tuesday or Friday (UTC)"),
    ("time between 22:00 and 02:00", "the time of day (UTC) is between 22:00 and 02:00 (across midnight)"),
    ("time > 08:30", "the time of day (UTC) is after 08:30"),
    ("hour >= 8", "the hour (UTC) is at or above 8"),
    ("time_in_position > 1h", "the time in the position is longer than 1 hour"),
    ("close[1] > close[2]", "the close 1 bar ago on 1-minute bars is above the close 2 bars ago"),
    ("close > ema(50) + 1%", "the close on 1-minute bars is more than 1% above the 50-bar EMA"),
    ("close < bid1 - 2 ticks", "the close on 1-minute bars is more than 2 ticks below the best bid"),
    ("close <= ema(20) - 0.5%", "the close on 1-minute bars is at least 0.5% below the 20-bar EMA"),
    ("atr(14) / close > 2%", "ATR(14) on 1-minute bars divided by the close is above 2%"),
    ("pnl_today < -200", "today's realised PnL is below -200 USDT"),
    ("position < 0.05", "the position is below 0.05 BTC"),
    ("0 < position", "the position is long"),
    ("funding_rate > 0.05%", "the funding rate is above 0.05%"),
    ("not rsi(14) > 70", "RSI(14) on 1-minute bars is at or below 70"),
    ("not (hour < 8 or weekday is weekend)",
     "it is not true that (the hour (UTC) is below 8 or it is the weekend (UTC))"),
    ("rsi(14) < 30 and (bid1 > 100 or position > 0) and open_orders == 0",
     "RSI(14) on 1-minute bars is below 30, (the best bid is above 100 or the position is long) and the "
     "number of open orders is 0"),
    ("bb_pct(20, 2.5) > 1 or close > highest(20)[1]",
     "Bollinger %B (20 bars, 2.5 standard deviations) on 1-minute bars is above 1 or the close is above "
     "the highest high of the last 20 bars 1 bar ago"),
    ("change(24, 1h) < -3%", "the 24-bar change of the close on 1-hour bars is below -3%"),
    ("close > ema(20) + 1% - 0.5%",
     "the close on 1-minute bars is above 1% above the 20-bar EMA, then 0.5% below that"),
    ("pnl_today < -300 usdt", "today's realised PnL is below -300 USDT"),
    ("(close - open) * 2 > atr(14)",
     "(the close on 1-minute bars minus the open) times 2 is above ATR(14)"),
])
def test_conditions_read_in_words(text: str, words: str) -> None:
    assert condition(text) == words


def test_a_timeframe_is_named_again_only_where_it_changes() -> None:
    words = condition("rsi(14, 5m) < 30 and rsi(14) < 30 and ema(20) > ema(50)")
    assert words == ("RSI(14) on 5-minute bars is below 30, RSI(14) on 1-minute bars is below 30 and "
                     "the 20-bar EMA is above the 50-bar EMA")


def test_values_in_actions_read_with_their_offsets() -> None:
    node = parse(Source.contiguous("t", "bid1 - 0.1%"), "condition")
    assert node.node is not None and not isinstance(node.node, tuple)
    assert read_value(node.node, CTX) == "0.1% below the best bid"


def test_every_action_reads_in_words() -> None:
    rule = one('when position > 0 then close 50% limit ask1 + 2 ticks, cancel buys, set leverage 5, '
               'set mode hedge, set margin isolated, set tpsl partial, set tp 2%, set trail 5 ticks, '
               'notify "closing {price}", pause, halt')
    assert [a.main for a in rule.actions] == [
        "close 50% of the position with a reduce-only limit order at 2 ticks above the best ask",
        "cancel the open buy orders of the symbol",
        "set the leverage to 5× for buys and sells",
        "switch to hedge position mode",
        "switch to isolated margin",
        "set the take-profit/stop-loss mode to partial",
        "set the open position's take profit 2% above its entry price for a long, below it for a short",
        "set a trailing stop 5 ticks behind on the open position",
        'notify "closing {price}" to the log and every configured notifier',
        "pause this rule until it is edited or resumed",
        "halt every rule of the file and cancel its open orders",
    ]
    assert rule.reading.startswith("close 50% of the position with a reduce-only limit order at 2 ticks "
                                   "above the best ask when the position is long; then cancel the open buy")


def test_order_options_and_sizes_read_in_words() -> None:
    rule = one('when position == 0 then buy 10% equity limit ema(20) - 0.1% post only sl 64000 trail 50 '
               'expire 5m tag "dip"')
    assert rule.reading == (
        "buy BTC worth 10% of the equity with a post-only limit order at 0.1% below the 20-bar EMA on "
        '1-minute bars, cancelled if not fully filled within 5 minutes, tagged "dip" when there is no '
        "position; then stop loss at 64000 and trail the stop 50 USDT behind")
    money = one("when position == 0 then sell 100 usdt market, buy 0.5 btc limit 60000 ioc, "
                "sell 0.01 limit ask1 fok reduce only")
    assert [a.main for a in money.actions] == [
        "sell 100 USDT worth of BTC with a market order",
        "buy 0.5 BTC with an immediate-or-cancel limit order at 60000",
        "sell 0.01 BTC with a fill-or-kill reduce-only limit order at the best ask",
    ]


def test_scheduled_rules_say_their_schedule() -> None:
    e = explain(
        "  - name: hourly\n    every: 1h\n    when: funding_rate > 0.05% and position > 0\n"
        "    then: 'close 50% market'\n"
        "  - name: twice\n    at: ['08:00', '20:00']\n    then: cancel orders\n"
        "  - name: cron\n    cron: '0 */4 * * *'\n    then: notify \"check\"\n"
        "  - name: odd\n    every: 90s\n    then: pause\n")
    hourly, twice, cron, odd = e.rules
    assert hourly.reading == ("every hour, close 50% of the position with a reduce-only market order if "
                              "the funding rate is above 0.05% and the position is long")
    assert hourly.triggers == ("every hour",)
    assert hourly.firing[0] == "fires at every scheduled time where the condition is true"
    assert twice.triggers == ("at 08:00 and 20:00 (UTC)",)
    assert twice.reading == "at 08:00 and 20:00 (UTC), cancel every open order of the symbol"
    assert twice.firing[0] == "fires at every scheduled time (it has no condition)"
    assert cron.triggers == ("on the cron schedule '0 */4 * * *' (UTC)",)
    assert odd.triggers == ("every 90 seconds",)
    assert all(r.warmup == () for r in (twice, cron, odd))


def test_live_rules_are_due_on_what_they_read() -> None:
    e = explain("  - when spread_pct > 0.1% and position < 0 then close market\n"
                "  - when hour == 9 and open_orders == 0 and position == 0 then buy 0.01\n"
                "  - when bid1 > 100 and position == 0 then buy 0.01 limit ema(20)\n")
    market_and_account, clock, market = e.rules
    assert market_and_account.triggers == ("on every ticker/order-book update of BTCUSDT",
                                           "on position, order or wallet updates")
    assert clock.triggers == ("on position, order or wallet updates", "each minute, for its time condition")
    # a value read only by the action does not make the rule a bar rule
    assert market.triggers == ("on every ticker/order-book update of BTCUSDT", "on position, order or wallet updates")
    assert market.warmup[0].timeframe == "1m"


def test_bar_rules_list_each_timeframe_they_read() -> None:
    rule = one("when rsi(14, 5m) < 30 and ema(20, 1h) > ema(50, 1h) and position == 0 then buy 0.01")
    assert rule.triggers == ("on the close of each 5-minute bar of BTCUSDT",
                             "on the close of each 1-hour bar of BTCUSDT")
    assert [(w.timeframe, w.bars) for w in rule.warmup] == [("5m", 281), ("1h", 510)]


def test_firing_words_for_edge_level_cooldown_priority_and_disabled() -> None:
    e = explain("  - name: a\n    when: rsi(14) < 30 and position == 0\n    then: buy 0.01\n"
                "  - name: b\n    when: rsi(14) > 70\n    then: notify \"hot\"\n    trigger: level\n"
                "    cooldown: 15m\n    priority: 5\n    enabled: false\n")
    a, b = e.rules
    assert a.firing == (f"{EDGE_WORDS} (trigger: edge): a false evaluation re-arms it",
                        "does not fire while an order it placed is still open and unfilled")
    assert EDGE_WORDS == "fires once each time the condition becomes true"
    assert b.firing == (
        "disabled (enabled: false): it is loaded and checked but never evaluated",
        f"{LEVEL_WORDS} (trigger: level)",
        "after firing, waits 15 minutes before it can fire again (cooldown)",
        "priority 5 (default 0): among rules of one symbol that fire on the same event, higher priority acts first",
    )
    assert LEVEL_WORDS == "fires at every evaluation where the condition is true"
    assert not b.enabled


def test_each_percent_offset_is_read_as_a_product_and_in_words() -> None:
    rule = one("when close > ema(50) + 1% and position == 0 then buy 0.01 limit bid1 - 0.1%")
    assert [(o.text, o.reading, o.words, o.part) for o in rule.offsets] == [
        ("ema(50) + 1%", "ema(50) × 1.01", "1% above the 50-bar EMA on 1-minute bars", "condition"),
        ("bid1 - 0.1%", "bid1 × 0.999", "0.1% below the best bid", "actions"),
    ]


def test_offsets_inside_a_notify_template_are_read_too() -> None:
    rule = one('when price > 70000 then notify "ema {ema(20) + 1%}"')
    assert [(o.text, o.words, o.part) for o in rule.offsets] == [
        ("ema(20) + 1%", "1% above the 20-bar EMA on 1-minute bars", "actions")]


def test_offsets_in_a_mapping_rule_point_into_their_own_text() -> None:
    e = explain("  - name: m\n    when: close < entry_price - 2% and position > 0\n"
                "    then: close limit ask1 + 0.05%\n")
    assert [(o.text, o.words, o.part) for o in e.rules[0].offsets] == [
        ("entry_price - 2%", "2% below the position's entry price", "condition"),
        ("ask1 + 0.05%", "0.05% above the best ask", "actions"),
    ]


def test_warnings_stay_with_their_rule() -> None:
    e = explain("  - when rsi(14) < 30 then buy 0.01\n  - when rsi(14) > 70 and position > 0 then close market\n",
                head="symbol: BTCUSDT\ntimeframe: {tf}\nrules:\n")
    first, second = e.rules
    assert {d.code for d in first.diagnostics} == {"W101", "W102"}
    assert second.diagnostics == ()
    assert e.diagnostics == ()


def test_a_file_with_errors_is_not_explained() -> None:
    analysis = analyze_text(HEAD.format(tf="1m") + "  - when rsii(14) < 30 then buy 0.01\n", "t.yaml")
    with pytest.raises(ValueError, match="has errors"):
        explain_analysis(analysis)


def test_words_for_durations_and_timeframes() -> None:
    assert [duration_words(s) for s in (3600, 14400, 900, 90, 86400, 604800)] == [
        "1 hour", "4 hours", "15 minutes", "90 seconds", "1 day", "1 week"]
    assert [timeframe_words(t) for t in ("1m", "4h", "1d", "1M")] == ["1-minute", "4-hour", "1-day", "1-month"]


def test_every_example_file_is_explained() -> None:
    from pathlib import Path

    from rulebot.lang.lint import analyze_file
    files = sorted(Path(__file__).resolve().parents[2].joinpath("examples").glob("*.yaml"))
    assert files
    for path in files:
        e = explain_analysis(analyze_file(path))
        assert all(r.reading and r.triggers and r.firing for r in e.rules), path
