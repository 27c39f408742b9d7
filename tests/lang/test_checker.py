"""The checker: one focused test per diagnostic code, the W1xx warnings both ways, and the
facts it derives (reads, timeframes, warm-up, offsets)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rulebot.lang import ast as A
from rulebot.lang.checker import CheckContext, CheckedRule, RuleInput, check_rule, check_rules
from rulebot.lang.diagnostics import Diagnostic, Severity
from rulebot.lang.expressions import Read
from rulebot.lang.parser import parse
from rulebot.lang.source import Source
from rulebot.lang.vocabulary import ReadSource
from rulebot.model.enums import Category

CTX = CheckContext.for_symbols(["BTCUSDT"], leverage=5, has_max_position=True)


def rule_input(text: str, name: str = "r", index: int = 0, cooldown: int | None = None,
               scheduled: bool = False) -> RuleInput:
    """A one-line rule (``when ... then ...``) or, for a scheduled rule, just its actions."""
    source = Source.contiguous("t.yaml", text)
    if text.startswith("when "):
        result = parse(source, "rule")
        assert not result.diagnostics, result.diagnostics
        assert isinstance(result.node, A.RuleBody)
        condition, actions = result.node.condition, result.node.actions
    else:
        result = parse(source, "actions")
        assert not result.diagnostics, result.diagnostics
        assert isinstance(result.node, tuple)
        condition, actions = None, result.node
    return RuleInput(name, index, condition, actions, source, source, cooldown, scheduled)


def check(text: str, ctx: CheckContext = CTX, **kw: object) -> CheckedRule:
    return check_rule(rule_input(text, **kw), ctx)  # type: ignore[arg-type]


def codes(c: CheckedRule) -> list[str]:
    return [d.code for d in c.diagnostics]


def one(c: CheckedRule, code: str) -> Diagnostic:
    found = [d for d in c.diagnostics if d.code == code]
    assert len(found) == 1, c.diagnostics
    return found[0]


def under(d: Diagnostic, text: str) -> str:
    """The text a one-line diagnostic's span covers."""
    assert d.line == d.end_line == 1
    return text[d.column - 1:d.end_column - 1]


def guarded(cond: str) -> str:
    return f"when {cond} and position == 0 then buy 0.01"


# --- the language reference's example has nothing to say -------------------------------------

EXAMPLE = (
    "when rsi(14) < 30 and position == 0 then buy 0.01 limit bid1 tp 2% trail 1%",
    "when rsi(14) > 70 and position > 0 then close market",
)


def test_language_example_is_clean() -> None:
    rules = [rule_input(t, name=f"r{i}", index=i) for i, t in enumerate(EXAMPLE)]
    rules[1] = replace(rules[1], cooldown_s=900)
    funding = rule_input("when funding_rate > 0.05% and position > 0 then close 50% market, "
                         'notify "funding high: {funding_rate}"', name="funding check", index=2)
    rules.append(replace(funding, scheduled=True))
    checked, extra = check_rules(rules, CTX)
    assert [d for c in checked for d in c.diagnostics] == [] and extra == []


# --- E2xx: names ------------------------------------------------------------------------------


def test_e203_unknown_indicator_points_at_the_name() -> None:
    text = guarded("rsii(14) < 30")
    d = one(check(text), "E203")
    assert d.message == "unknown indicator 'rsii'"
    assert d.hint == "did you mean 'rsi'?"
    assert under(d, text) == "rsii"
    assert d.severity is Severity.ERROR


def test_e203_synonyms_count() -> None:
    assert one(check(guarded("ma(20) < close")), "E203").hint == "did you mean 'sma'?"
    assert one(check(guarded("willr(14) < -80")), "E203").hint == "did you mean 'williams_r'?"


def test_e202_unknown_field() -> None:
    text = guarded("positon_size > 1")
    d = one(check(text), "E202")
    assert d.message == "unknown field 'positon_size'"
    assert d.hint == "did you mean 'position_size'?"
    assert under(d, text) == "positon_size"
    assert one(check(guarded("best_bid > 1")), "E202").hint == "did you mean 'bid1'?"


def test_e204_unknown_action_comes_from_the_parser_with_a_synonym() -> None:
    result = parse(Source.contiguous("t.yaml", "when rsi(14) < 30 then purchase 0.01"), "rule")
    assert [(d.code, d.hint) for d in result.diagnostics] == [("E204", "did you mean 'buy'?")]


def test_e206_too_many_arguments_points_at_the_extra_ones() -> None:
    text = guarded("rsi(14, 2, 3) < 30")
    d = one(check(text), "E206")
    assert d.message == "'rsi' takes at most 1 argument and a timeframe, found 3"
    assert under(d, text) == "2, 3"


def test_e206_missing_argument_and_bare_indicator() -> None:
    assert one(check(guarded("sma() < close")), "E206").message == "'sma' needs its argument 'n'"
    d = one(check(guarded("rsi < 30")), "E206")
    assert d.message == "indicator 'rsi' needs its arguments in parentheses"
    assert d.hint == "for example 'rsi(14)'"
    assert one(check(guarded("bid1(5m) > 1")), "E206").message == "'bid1' is a live field and takes no arguments"


def test_e207_chained_comparison_offers_between() -> None:
    text = guarded("30 < rsi(14) < 70")
    d = one(check(text), "E207")
    assert d.message == "comparisons cannot be chained"
    assert d.hint == "write 'rsi(14) between 30 and 70'"
    assert under(d, text) == "30 < rsi(14) < 70"
    assert one(check(guarded("70 > rsi(14) > 30")), "E207").hint == "write 'rsi(14) between 30 and 70'"


def test_e208_unknown_named_argument() -> None:
    text = guarded("rsi(length=14) < 30")
    d = one(check(text), "E208")
    assert d.message == "unknown argument 'length' of 'rsi'"
    assert d.hint == "did you mean 'n'?"
    assert under(d, text) == "length"
    assert codes(check(guarded("macd(fast=8, slow=21) > 0"))) == []


def test_e209_history_on_a_live_field() -> None:
    text = guarded("bid1[1] < close")
    d = one(check(text), "E209")
    assert d.message == "'bid1' is a live field and has no bar history"
    assert under(d, text) == "bid1"
    assert one(check(guarded("spread rising 3")), "E209").message == "'spread' is a live field and has no bar history"
    assert codes(check(guarded("close[1] < close and rsi(14)[2] < 30"))) == []


def test_e210_words_after_is_and_in() -> None:
    text = "when position is sideways then close"
    d = one(check(text), "E210")
    assert d.message == "unknown word 'sideways' after 'position is'"
    assert d.hint == "expected one of long, short, flat"
    assert under(d, text) == "sideways"
    assert one(check("when weekday in [mon, fri, sundy] then close"), "E210").hint == "did you mean 'sun'?"
    assert one(check("when weekday is monday then close"), "E210").hint == "did you mean 'mon'?"
    assert "E210" in codes(check("when weekday is long then close"))
    assert codes(check("when weekday is weekend and position is not flat then close")) == []


def test_e211_templates_are_parsed_and_checked_in_place() -> None:
    text = 'when position > 0 then notify "rsi {rsii(14)} now"'
    d = one(check(text), "E203")
    assert under(d, text) == "rsii"
    text = 'when position > 0 then notify "rsi {rsi(} now"'
    d = one(check(text), "E211")
    assert d.message == "invalid expression '{rsi(}' in the message"
    assert one(check('when position > 0 then notify "a { b"'), "E211").message == "unclosed '{' in the message"
    assert one(check('when position > 0 then notify "a } b"'), "E211").message == "unmatched '}' in the message"
    assert one(check('when position > 0 then notify "a {} b"'), "E211").message == "empty '{}' in the message"
    assert codes(check('when position > 0 then notify "{{literal}} {price} {rsi(14, 1h)}"')) == []


def test_e211_escaped_string_points_at_the_string_start() -> None:
    text = r'when position > 0 then notify "say \"hi\" {rsii(14)}"'
    d = one(check(text), "E203")
    assert d.column == text.index('"') + 1


def test_e212_conflicting_options() -> None:
    text = "when position == 0 then buy 0.01 limit bid1 tp 2% tp 3%"
    d = one(check(text), "E212")
    assert d.message == "'take profit' is given twice"
    assert under(d, text) == "tp 3%"
    assert one(check("when position == 0 then buy 0.01 limit bid1 ioc fok"), "E212").message == \
        "'fok' and 'ioc' exclude each other"
    assert one(check("when position == 0 then buy 0.01 post only"), "E212").message == \
        "'post only' needs a limit order"


def test_e205_a_tree_too_deep_to_walk_is_reported_not_raised() -> None:
    expr: A.Expr = A.Name("close")
    for _ in range(20_000):
        expr = A.Neg(expr)
    cond = A.Compare("<", expr, A.Number("1"))
    rule = RuleInput("deep", 0, cond, (A.Close(),), Source.contiguous("t.yaml", "x"), None)
    assert "E205" in codes(check_rule(rule, CTX))


# --- E1xx that the checker reads inside rule text ---------------------------------------------


def test_e115_timeframe_bybit_does_not_offer() -> None:
    text = guarded("rsi(14, 7m) < 30")
    d = one(check(text), "E115")
    assert d.message == "'7m' is not a Bybit timeframe"
    assert under(d, text) == "7m"
    assert codes(check(guarded("rsi(14, 60m) < 30 and rsi(14, D) < 30 and close(tf=1M) > 1"))) == []


def test_e114_time_of_day_out_of_range() -> None:
    assert one(check("when time between 25:00 and 02:00 then close"), "E114").message == "'25:00' is not a time of day"


def test_e110_setting_words() -> None:
    d = one(check("when position == 0 then set mode sideways"), "E110")
    assert d.message == "unknown position mode 'sideways'"
    assert d.hint == "expected oneway or hedge"
    assert one(check("when position == 0 then set margin isolate"), "E110").hint == "did you mean 'isolated'?"


# --- E3xx: kinds and values -------------------------------------------------------------------


@pytest.mark.parametrize("cond, message", [
    ("rsi(14) > 5m", "cannot compare 'rsi(14)' (a number) with '5m' (a duration)"),
    ("time_in_position > 7200", "cannot compare 'time_in_position' (a duration) with '7200' (a number)"),
    ("time > 8", "cannot compare 'time' (a time of day) with '8' (a number)"),
    ("rsi(14) > ema(20)", "cannot compare 'rsi(14)' (a number) with 'ema(20)' (a price)"),
    ("upnl > 2%", "cannot compare 'upnl' (an amount of money) with '2%' (a percent)"),
    ("rsi(14) < 30%", "cannot compare 'rsi(14)' (a number) with '30%' (a percent)"),
    ("close + 5m > 1", "'+' does not combine 'close' (a price) with '5m' (a duration)"),
    ("volume + 10% > 1", "'+' does not combine 'volume' (a number) with '10%' (a percent)"),
    ("weekday > mon", "'>' does not apply to words such as 'mon'"),
])
def test_e301_kind_mismatch(cond: str, message: str) -> None:
    assert one(check(guarded(cond)), "E301").message == message


def test_e301_spans_and_hints() -> None:
    text = guarded("rsi(14) > 5m")
    d = one(check(text), "E301")
    assert under(d, text) == "5m"
    assert d.hint == "a timeframe goes inside the call, as in 'rsi(..., 5m)'"
    assert one(check("when position == long then close"), "E301").hint == "write 'position is long'"
    assert one(check(guarded("rsi(14) < 30%")), "E301").hint == \
        "'rsi(14)' is on a scale between 0 and 100: write 30, not 30%"
    assert one(check("when rsi(14) is long then close"), "E301").message == \
        "'is' applies to 'position' and 'weekday', not to 'rsi(14)' (a number)"


@pytest.mark.parametrize("cond", [
    "pnl_today < -200", "atr(14) / close > 2%", "upnl_pct - 1% > 0", "ask1 + 2 ticks < close + 1",
    "close > ema(50) + 1%", "balance > 100 usdt", "equity > 1000", "bb_pct(20) > 50%", "close / open > 1.01",
    "time between 22:00 and 02:00", "time_in_position > 2h", "spread < 3 ticks", "funding_rate > 0.05%",
    "hour >= 8 and minute == 0", "change(5) < -3%", "weekday == mon", "obv() > obv()[5]", "-close < -100",
    "close crosses above ema(20)", "(close > open and volume > volume[1]) for 3 bars", "close > open for 5m",
])
def test_valid_kinds_pass(cond: str) -> None:
    assert codes(check(guarded(cond))) == []


@pytest.mark.parametrize("cond, message", [
    ("rsi(0) < 30", "argument 'n' of 'rsi' must be a whole number at least 1 and at most 5000, found 0"),
    ("rsi(14.5) < 30", "the period 'n' of 'rsi' must be a whole number of bars, found 14.5"),
    ('rsi("a") < 30', "argument 'n' of 'rsi' must be a whole number, found '\"a\"'"),
    ("sma(6000) < close", "argument 'n' of 'sma' must be a whole number at least 1 and at most 5000, found 6000"),
    ("bb_upper(20, 0) < close", "argument 'k' of 'bb_upper' must be a number above 0 and at most 10, found 0"),
    ("macd(26, 12) > 0", "'fast' of 'macd' must be smaller than 'slow', found fast=26 and slow=12"),
    ("rsi(14, n=3) < 30", "argument 'n' of 'rsi' is given twice"),
])
def test_e302_invalid_argument(cond: str, message: str) -> None:
    assert one(check(guarded(cond)), "E302").message == message


def test_e301_history_of_a_condition() -> None:
    assert one(check(guarded("(close > open)[1]")), "E301").message == \
        "'[n]' needs a candle field or an indicator, found 'close > open' (a condition)"
    assert codes(check(guarded("(close - open)[1] > 0"))) == []


def test_e302_points_at_the_argument() -> None:
    text = guarded("rsi(0) < 30")
    assert under(one(check(text), "E302"), text) == "0"


def test_e303_leverage_range() -> None:
    text = "when position == 0 then set leverage 150"
    d = one(check(text), "E303")
    assert d.message == "leverage 150 is outside 1 … 100 for BTCUSDT"
    assert under(d, text) == "150"
    assert "E303" in codes(check("when position == 0 then set leverage 0.5"))
    assert codes(check("when position == 0 then set leverage 100")) == []
    spot = CheckContext.for_symbols(["BTCUSDT"], category=Category.SPOT, has_max_position=True)
    assert "E303" in codes(check("when position == 0 then set leverage 2", spot))


@pytest.mark.parametrize("size", ["0", "-1", "0 usdt", "0% equity"])
def test_e304_non_positive_size(size: str) -> None:
    text = f"when position == 0 then buy {size}"
    d = one(check(text), "E304")
    assert d.message == f"an order size must be above zero, found '{size.removesuffix(' equity')}'"
    assert under(d, text) == size.removesuffix(" equity")


@pytest.mark.parametrize("option, message", [
    ("tp 0%", "a take profit must be above 0% and below 100%, found 0%"),
    ("sl 100%", "a stop loss must be above 0% and below 100%, found 100%"),
    ("trail 150%", "a trailing stop must be above 0% and below 100%, found 150%"),
])
def test_e305_tp_sl_percent_range(option: str, message: str) -> None:
    text = f"when position == 0 then buy 0.01 {option}"
    d = one(check(text), "E305")
    assert d.message == message
    assert under(d, text) == option.split(" ")[1]


def test_e306_stop_on_the_wrong_side_of_a_fixed_limit() -> None:
    text = "when position == 0 then buy 0.01 limit 64000 sl 65000 tp 66000"
    d = one(check(text), "E306")
    assert d.message == "stop loss 65000 is not below the buy limit price 64000"
    assert under(d, text) == "65000"
    assert one(check("when position == 0 then sell 0.01 limit 64000 tp 65000"), "E306").message == \
        "take profit 65000 is not below the sell limit price 64000"
    assert codes(check("when position == 0 then sell 0.01 limit 64000 tp 63000 sl 65000")) == []
    assert codes(check("when position == 0 then buy 0.01 limit bid1 sl 65000")) == []


def test_e307_unknown_coin_points_at_the_coin() -> None:
    text = "when position == 0 then buy 100 doge"
    d = one(check(text), "E307")
    assert d.message == "unknown coin 'doge'"
    assert under(d, text) == "doge"
    assert codes(check("when position == 0 then buy 100 usdc")) == []


@pytest.mark.parametrize("text", [
    "when close[6000] < close and position == 0 then buy 0.01",
    "when close rising 0 and position == 0 then buy 0.01",
    "when close > open for 0 bars and position == 0 then buy 0.01",
    "when position > 0 then close 0%",
    "when position == 0 then buy 0.01 limit 0",
])
def test_e308_invalid_value(text: str) -> None:
    one(check(text), "E308")


def test_e309_when_is_not_a_condition() -> None:
    text = "when rsi(14) then close"
    d = one(check(text), "E309")
    assert d.message == "'rsi(14)' is a number, not a condition"
    assert under(d, text) == "rsi(14)"
    assert "E309" in codes(check("when rsi(14) and position == 0 then close"))


# --- warnings -----------------------------------------------------------------------------


def test_w101_unguarded_order_rule() -> None:
    text = "when rsi(14) < 30 then buy 0.01"
    d = one(check(text), "W101")
    assert d.severity is Severity.WARNING
    assert under(d, text) == "buy 0.01"
    assert codes(check(guarded("rsi(14) < 30"))) == []
    assert codes(check("when rsi(14) < 30 and open_orders == 0 then buy 0.01")) == []
    assert codes(check(text, cooldown=900)) == []
    assert codes(check("buy 0.01", scheduled=True)) == []
    assert codes(check("when rsi(14) > 70 then close market")) == []
    assert codes(check("when rsi(14) > 70 then sell 0.01 reduce only")) == []


def _file(*texts: str, ctx: CheckContext = CTX) -> list[str]:
    rules = [rule_input(t, name=f"r{i}", index=i) for i, t in enumerate(texts)]
    checked, extra = check_rules(rules, ctx)
    return [d.code for c in checked for d in c.diagnostics] + [d.code for d in extra]


def test_w102_no_max_position() -> None:
    loose = CheckContext.for_symbols(["BTCUSDT"], leverage=5)
    assert _file(guarded("rsi(14) < 30"), ctx=loose) == ["W102"]
    assert _file(guarded("rsi(14) < 30")) == []
    assert _file("when position > 0 then close", ctx=loose) == []


def test_w103_conflicting_rules() -> None:
    assert _file(guarded("rsi(14) < 30"), guarded("rsi(14) < 40").replace("buy", "sell")) == ["W103"]
    rules = [rule_input(guarded("rsi(14) < 30"), name="dip"), rule_input(guarded("rsi(14) < 40").replace(
        "buy", "sell"), name="fade", index=1)]
    _, extra = check_rules(rules, CTX)
    assert extra[0].message == "rules 'dip' and 'fade' can both be true at once and trade opposite ways"


def test_w103_once_per_rule_naming_every_other_rule() -> None:
    rules = [rule_input(guarded("rsi(14) < 30"), name="a"), rule_input(guarded("rsi(14) < 35"), name="b", index=1),
             rule_input("when rsi(14) < 40 and position == 0 then close, sell 0.01", name="c", index=2)]
    _, extra = check_rules(rules, CTX)
    assert [d.message for d in extra] == [
        "rule 'c' can be true at once with rules 'a' and 'b' and trades the opposite way"]
    text = rules[2].actions_source.text  # type: ignore[union-attr]
    assert under(extra[0], text) == "sell 0.01"


def test_w103_a_scheduled_rule_without_when_is_always_true() -> None:
    rules = [rule_input(guarded("rsi(14) < 30"), name="dip"),
             replace(rule_input("sell 0.01", name="hourly", index=1), scheduled=True)]
    _, extra = check_rules(rules, CTX)
    assert [d.code for d in extra] == ["W103"]


def test_w103_not_for_exclusive_conditions_or_closes() -> None:
    # the classic pair: rsi < 30 and rsi > 70 cannot hold together, nor flat and long
    assert _file("when rsi(14) < 30 and position == 0 then buy 0.01",
                 "when rsi(14) > 70 and position > 0 then sell 0.01") == []
    assert _file("when rsi(14) < 30 and position == 0 then buy 0.01",
                 "when rsi(14) > 70 and position is long then close market") == []
    assert _file("when close > open and position is flat then buy 0.01",
                 "when close < open and position is not flat then sell 0.01") == []
    assert _file("when weekday is weekend and position == 0 then buy 0.01",
                 "when weekday in [mon, tue] and position == 0 then sell 0.01") == []


@pytest.mark.parametrize("cond, hint", [
    ("rsi(14) < 30 and rsi(14) > 70", "'rsi(14) < 30' and 'rsi(14) > 70' cannot both hold"),
    ("rsi(14) > 100", "'rsi(14)' is between 0 and 100"),
    ("williams_r(14) > 0", "'williams_r(14)' is between -100 and 0"),
    ("hour > 22 and hour < 23", "'hour > 22' and 'hour < 23' cannot both hold ('hour' is a whole number)"),
    ("open_orders > 0 and open_orders < 1", "'open_orders > 0' and 'open_orders < 1' cannot both hold "
                                            "('open_orders' is a whole number)"),
    ("close > close", "'close > close' is never true"),
    ("rsi(14) between 70 and 30", "'rsi(14) between 70 and 30' is never true"),
    ("weekday is weekend and weekday in [mon, tue]", "'weekday is weekend' and 'weekday in [mon, tue]' "
                                                     "cannot both hold"),
    ("position is flat and position > 0", "'position is flat' and 'position > 0' cannot both hold"),
])
def test_w104_condition_never_true(cond: str, hint: str) -> None:
    text = f"when {cond} then close"
    d = one(check(text), "W104")
    assert d.message == "this condition can never be true"
    assert d.hint == hint
    assert under(d, text) == cond


def test_w104_points_at_the_dead_part() -> None:
    text = "when (rsi(14) > 100 or position > 0) and close > open then close"
    d = one(check(text), "W104")
    assert d.message == "this part of the condition can never be true"
    assert under(d, text) == "rsi(14) > 100"
    text = "when rsi(14) > 101 and close > open then close"
    assert under(one(check(text), "W104"), text) == "rsi(14) > 101"


def test_w104_inside_for() -> None:
    text = "when (rsi(14) > 100) for 3 bars and position > 0 then close"
    assert under(one(check(text), "W104"), text) == "rsi(14) > 100"


@pytest.mark.parametrize("cond", [
    "rsi(14) >= 100", "rsi(14) < 30 or rsi(14) > 70", "time between 22:00 and 02:00", "not (rsi(14) > 100)",
    "rsi(14) < 30 and rsi(14, 5m) > 70", "rsi(14) < 30 and rsi(14)[1] > 70", "williams_r(14) == 0",
    "position != 0 and position_size > 0", "rsi(14) crosses above 30 and rsi(14) < 40",
])
def test_w104_no_false_positives(cond: str) -> None:
    assert "W104" not in codes(check(f"when {cond} then close"))


def test_w105_stop_beyond_liquidation() -> None:
    ctx10 = CheckContext.for_symbols(["BTCUSDT"], leverage=10, has_max_position=True)
    text = "when position == 0 then buy 0.01 sl 10%"
    d = one(check(text, ctx10), "W105")
    assert d.message == "stop loss 10% is beyond the liquidation distance at 10x leverage (about 9.5%)"
    assert under(d, text) == "10%"
    assert "W105" in codes(check("when position == 0 then buy 0.01 trail 20%", ctx10))
    assert codes(check("when position == 0 then buy 0.01 sl 5%", ctx10)) == []
    assert "W105" in codes(check("when position == 0 then set leverage 50, buy 0.01 sl 2%"))
    assert "W105" in codes(check("when position > 0 then set sl 25%"))
    unknown = CheckContext.for_symbols(["BTCUSDT"], has_max_position=True)
    assert codes(check("when position == 0 then buy 0.01 sl 50%", unknown)) == []
    spot = CheckContext.for_symbols(["BTCUSDT"], category=Category.SPOT, leverage=1, has_max_position=True)
    assert codes(check("when position == 0 then buy 0.01 sl 99.9%", spot)) == []


def test_w106_close_when_flat() -> None:
    text = "when rsi(14) > 70 and position == 0 then close market"
    d = one(check(text), "W106")
    assert d.message == "'close' in a rule whose condition requires a flat position"
    assert under(d, text) == "close market"
    assert "W106" in codes(check("when position is flat then close"))
    assert "W106" in codes(check("when position_size == 0 then close"))
    assert codes(check("when position > 0 then close")) == []
    assert codes(check("when position == 0 or rsi(14) > 70 then close")) == []
    assert codes(check("when position is not flat then close")) == []
    # in hedge mode position == 0 may be two equal sides, which 'close' does close
    hedge = replace(CTX, position_mode="hedge")
    assert codes(check("when position == 0 then close", hedge)) == []
    assert codes(check("when position == 0 and position_size > 0 then close", hedge)) == []
    assert "W104" in codes(check("when position == 0 and position_size > 0 then close"))


# --- derived facts ------------------------------------------------------------------------


def test_reads_timeframes_and_warmup() -> None:
    c = check("when rsi(14) < 30 and close(5m)[3] > ema(200, 5m) and bid1 > 0 and position == 0 "
              "and rsi(14) < 40 then buy 0.01 limit sma(50, 1h)")
    assert c.reads == (
        Read(ReadSource.INDICATOR, "rsi", "1m", (("n", 14),)),
        Read(ReadSource.CANDLE, "close", "5m"),
        Read(ReadSource.INDICATOR, "ema", "5m", (("n", 200),)),
        Read(ReadSource.MARKET, "bid1"),
        Read(ReadSource.ACCOUNT, "position"),
    )
    assert c.action_reads == (Read(ReadSource.INDICATOR, "sma", "1h", (("n", 50),)),)
    assert c.is_bar_rule and c.places_orders
    assert c.timeframes == ("1m", "5m")
    # rsi: Wilder, 20 × 14 + 1; ema(200): 10 × 201; close[3]: 4 bars; sma(50): 50
    assert [(w.timeframe, w.bars) for w in c.warmup_bars] == [("1m", 281), ("5m", 2010), ("1h", 50)]


def test_history_offsets_add_to_warmup() -> None:
    c = check("when sma(20)[5] < close and sma(20) crosses above ema(10) and close rising 3 and position == 0 "
              "then buy 0.01")
    assert c.warmup_for("1m") == max(20 + 5, 20 + 1, 10 * 11 + 1, 1 + 3)


def test_live_and_scheduled_rules_are_not_bar_rules() -> None:
    live = check("when price > 100000 and position == 0 then buy 0.01")
    assert not live.is_bar_rule and live.timeframes == () and live.warmup_bars == ()
    assert not check("when rsi(14) < 30 then close", scheduled=True).is_bar_rule
    assert check("when (position > 0) for 3 bars then close").timeframes == ("1m",)


def test_notify_templates_are_action_reads() -> None:
    c = check('when position > 0 then notify "rsi {rsi(14, 4h)}"')
    assert c.action_reads == (Read(ReadSource.INDICATOR, "rsi", "4h", (("n", 14),)),)
    assert c.warmup_for("4h") == 281
    assert not c.places_orders


def test_percent_offsets_are_recorded_as_read() -> None:
    c = check("when close > ema(50) + 1% and position == 0 then buy 0.01 limit bid1 - 0.1%")
    assert [(o.text, o.reading, o.in_actions) for o in c.offsets] == [
        ("ema(50) + 1%", "ema(50) × 1.01", False), ("bid1 - 0.1%", "bid1 × 0.999", True)]
    chained = check(guarded("close > ema(50) + 1% - 0.5%"))
    assert chained.offsets[-1].reading == "ema(50) × 1.01 × 0.995"
    assert check(guarded("upnl_pct - 1% > 0")).offsets == ()
