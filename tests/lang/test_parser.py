"""The parser: every construct of LANGUAGE.md §2–§6 and the precedence of §4."""

from __future__ import annotations

import pytest

from rulebot.lang import ast
from rulebot.lang.parser import ParseResult, Start, parse, parse_duration, parse_time_of_day
from rulebot.lang.source import Source


def _parse(text: str, start: Start) -> ParseResult:
    return parse(Source.contiguous("rules/t.yaml", text), start)


def cond(text: str) -> ast.Expr:
    result = _parse(text, "condition")
    assert result.diagnostics == (), [d.message for d in result.diagnostics]
    assert result.node is not None
    return result.node  # type: ignore[return-value]


def acts(text: str) -> tuple[ast.Action, ...]:
    result = _parse(text, "actions")
    assert result.diagnostics == (), [d.message for d in result.diagnostics]
    assert isinstance(result.node, tuple)
    return result.node


def act(text: str) -> ast.Action:
    (single,) = acts(text)
    return single


def rule(text: str) -> ast.RuleBody:
    result = _parse(text, "rule")
    assert result.diagnostics == (), [d.message for d in result.diagnostics]
    assert isinstance(result.node, ast.RuleBody)
    return result.node


N = ast.Name


def num(text: str) -> ast.Number:
    return ast.Number(text)


def call(name: str, *args: ast.Expr, **kwargs: ast.Expr) -> ast.Call:
    return ast.Call(name, args, tuple(ast.Keyword(k, v) for k, v in kwargs.items()))


def cmp(op: str, left: ast.Expr, right: ast.Expr) -> ast.Compare:
    return ast.Compare(op, left, right)


# --- the three start symbols --------------------------------------------------------------------


def test_one_line_rule_reads_condition_and_actions() -> None:
    body = rule("when rsi(14) < 30 and position == 0 then buy 0.01 limit bid1 tp 2% trail 1%")
    assert body == ast.RuleBody(
        ast.And((cmp("<", call("rsi", num("14")), num("30")), cmp("==", N("position"), num("0")))),
        (ast.Order("buy", ast.Quantity(num("0.01")), "limit", N("bid1"),
                   (ast.OrderOption("tp", ast.Percent("2")), ast.OrderOption("trail", ast.Percent("1")))),),
    )


def test_condition_and_actions_start_symbols() -> None:
    assert cond("close > open") == cmp(">", N("close"), N("open"))
    assert acts("close 50% market, notify \"x\"") == (
        ast.Close("", ast.Percent("50"), "market"), ast.Notify(ast.String("x")))


def test_keywords_are_case_insensitive_and_names_lower_cased() -> None:
    assert rule("WHEN RSI(14) < 30 THEN BUY 100 USDT") == rule("when rsi(14) < 30 then buy 100 usdt")
    assert cond("Position Is Not Flat") == ast.Is(N("position"), True, N("flat"))


# --- values ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, value", [
    ("30", num("30")),
    ("0.01", num("0.01")),
    ("1e-4", num("1e-4")),
    ("2%", ast.Percent("2")),
    ("0.05%", ast.Percent("0.05")),
    ("30s", ast.Duration(30, "s")),
    ("15m", ast.Duration(15, "m")),
    ("4h", ast.Duration(4, "h")),
    ("1d", ast.Duration(1, "d")),
    ("1w", ast.Duration(1, "w")),
    ("1M", ast.Duration(1, "M")),
    ("240m", ast.Duration(240, "m")),
    ("08:00", ast.TimeOfDay(8, 0)),
    ("21:30", ast.TimeOfDay(21, 30)),
    ("100 usdt", ast.Money("100", "usdt")),
    ("0.5 BTC", ast.Money("0.5", "btc")),
    ("2 ticks", ast.Ticks("2")),
    ("1 tick", ast.Ticks("1")),
    ('"a \\"b\\" \\\\ c\\nd"', ast.String('a "b" \\ c\nd')),
    ('"{price} and {rsi(14)}"', ast.String("{price} and {rsi(14)}")),
    ("bid1", N("bid1")),
])
def test_values(text: str, value: ast.Expr) -> None:
    assert cond(text) == value


def test_units_are_case_sensitive() -> None:
    assert cond("1m") == ast.Duration(1, "m")
    assert cond("1M") == ast.Duration(1, "M")
    assert cond("1m").seconds == 60


def test_unknown_escape_is_kept_as_written() -> None:
    assert cond('"a\\qb"') == ast.String("a\\qb")


def test_minus_is_unary() -> None:
    assert cond("-5") == ast.Neg(num("5"))
    assert cond("pnl_today < -200") == cmp("<", N("pnl_today"), ast.Neg(num("200")))


# --- reading fields and indicators ----------------------------------------------------------------


def test_calls_with_positional_and_named_arguments() -> None:
    assert cond("macd(fast=8, slow=21)") == call("macd", fast=num("8"), slow=num("21"))
    assert cond("rsi(14, 5m)") == call("rsi", num("14"), ast.Duration(5, "m"))
    assert cond("rsi(14, tf=5m)") == call("rsi", num("14"), tf=ast.Duration(5, "m"))
    assert cond("psar()") == call("psar")
    assert cond("close(5m)") == call("close", ast.Duration(5, "m"))


def test_bybit_day_and_week_aliases_in_arguments() -> None:
    assert cond("rsi(14, D)") == call("rsi", num("14"), ast.Duration(1, "d"))
    assert cond("close(tf=W)") == call("close", tf=ast.Duration(1, "w"))
    assert cond("D") == N("d")  # outside a call it stays a name, for the checker


def test_history_index() -> None:
    assert cond("close[1]") == ast.Index(N("close"), 1)
    assert cond("rsi(14)[2]") == ast.Index(call("rsi", num("14")), 2)
    assert cond("-close[1]") == ast.Neg(ast.Index(N("close"), 1))


@pytest.mark.parametrize("text", ["close > open", "close(5m) > 1", "leverage > 5",
                                  "balance > 100 usdt", "equity > available", "long_size > 0"])
def test_action_keywords_are_names_in_conditions(text: str) -> None:
    cond(text)


def test_words_that_are_action_keywords() -> None:
    assert cond("position is long") == ast.Is(N("position"), False, N("long"))
    assert cond("position is short") == ast.Is(N("position"), False, N("short"))
    assert act("buy 0.01 limit close") == ast.Order("buy", ast.Quantity(num("0.01")), "limit", N("close"))
    assert act("set mode hedge") == ast.SetSetting("mode", N("hedge"))


# --- conditions -----------------------------------------------------------------------------------


def test_crosses() -> None:
    a, b = call("ema", num("20")), call("ema", num("50"))
    assert cond("ema(20) crosses above ema(50)") == ast.Crosses(a, "above", b)
    assert cond("ema(20) crosses below ema(50)") == ast.Crosses(a, "below", b)
    assert cond("ema(20) crosses ema(50)") == ast.Crosses(a, "", b)


def test_between_takes_its_own_and() -> None:
    assert cond("time between 08:00 and 20:00") == ast.Between(
        N("time"), ast.TimeOfDay(8, 0), ast.TimeOfDay(20, 0))
    assert cond("x between 1 and 2 and y > 3") == ast.And((
        ast.Between(N("x"), num("1"), num("2")), cmp(">", N("y"), num("3"))))


def test_rising_falling_is_in() -> None:
    assert cond("close rising 3") == ast.Trend(N("close"), "rising", 3)
    assert cond("rsi(14) falling 2") == ast.Trend(call("rsi", num("14")), "falling", 2)
    assert cond("weekday is weekend") == ast.Is(N("weekday"), False, N("weekend"))
    assert cond("weekday in [mon, TUE, fri]") == ast.In(N("weekday"), (N("mon"), N("tue"), N("fri")))


def test_for_bars_and_for_duration() -> None:
    c = cmp(">", N("close"), N("open"))
    assert cond("close > open for 3 bars") == ast.For(c, 3, None)
    assert cond("close > open for 1 bar") == ast.For(c, 1, None)
    assert cond("close > open for 5m") == ast.For(c, None, ast.Duration(5, "m"))


def test_chained_comparison_parses_for_the_checker() -> None:
    assert cond("30 < rsi(14) < 70") == ast.ChainedCompare(
        (num("30"), call("rsi", num("14")), num("70")), ("<", "<"))


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_comparison_operators(op: str) -> None:
    assert cond(f"a {op} b") == cmp(op, N("a"), N("b"))


# --- precedence (LANGUAGE.md §4) ------------------------------------------------------------------

a, b, c, d = N("a"), N("b"), N("c"), N("d")


@pytest.mark.parametrize("text, tree", [
    ("a or b and c", ast.Or((a, ast.And((b, c))))),
    ("a and b or c", ast.Or((ast.And((a, b)), c))),
    ("a or b or c", ast.Or((a, b, c))),
    ("a and b and c", ast.And((a, b, c))),
    ("(a or b) or c", ast.Or((ast.Or((a, b)), c))),
    ("not a and b", ast.And((ast.Not(a), b))),
    ("not (a and b)", ast.Not(ast.And((a, b)))),
    ("not not a", ast.Not(ast.Not(a))),
    ("not a > b", ast.Not(cmp(">", a, b))),
    ("a > b and c", ast.And((cmp(">", a, b), c))),
    ("a + b > c * d", cmp(">", ast.BinOp("+", a, b), ast.BinOp("*", c, d))),
    ("a + b * c", ast.BinOp("+", a, ast.BinOp("*", b, c))),
    ("(a + b) * c", ast.BinOp("*", ast.BinOp("+", a, b), c)),
    ("a - b - c", ast.BinOp("-", ast.BinOp("-", a, b), c)),
    ("a - (b - c)", ast.BinOp("-", a, ast.BinOp("-", b, c))),
    ("a / b / c", ast.BinOp("/", ast.BinOp("/", a, b), c)),
    ("-a * b", ast.BinOp("*", ast.Neg(a), b)),
    ("- -a", ast.Neg(ast.Neg(a))),
    ("ema(50) + 1%", ast.BinOp("+", call("ema", num("50")), ast.Percent("1"))),
    ("ask1 + 2 ticks", ast.BinOp("+", N("ask1"), ast.Ticks("2"))),
    ("a > b for 3 bars", ast.For(cmp(">", a, b), 3, None)),
    ("a and b for 3 bars", ast.And((a, ast.For(b, 3, None)))),
    ("(a and b) for 3 bars", ast.For(ast.And((a, b)), 3, None)),
    ("not a for 5m", ast.Not(ast.For(a, None, ast.Duration(5, "m")))),
    ("a > b for 3 bars for 5m", ast.For(ast.For(cmp(">", a, b), 3, None), None, ast.Duration(5, "m"))),
    ("(a > b) == c", cmp("==", cmp(">", a, b), c)),
    ("(close - open) > 5", cmp(">", ast.BinOp("-", N("close"), N("open")), num("5"))),
    ("a + b crosses above c", ast.Crosses(ast.BinOp("+", a, b), "above", c)),
    ("a between b - 1 and c + 1",
     ast.Between(a, ast.BinOp("-", b, num("1")), ast.BinOp("+", c, num("1")))),
])
def test_precedence(text: str, tree: ast.Expr) -> None:
    assert cond(text) == tree


# --- actions --------------------------------------------------------------------------------------

Q = ast.Quantity


@pytest.mark.parametrize("text, action", [
    ("buy 0.01", ast.Order("buy", Q(num("0.01")))),
    ("sell 0.01 market", ast.Order("sell", Q(num("0.01")), "market")),
    ("buy 100 usdt limit bid1", ast.Order("buy", Q(ast.Money("100", "usdt")), "limit", N("bid1"))),
    ("buy 10% equity", ast.Order("buy", Q(ast.Percent("10"), "equity"))),
    ("sell 5% balance", ast.Order("sell", Q(ast.Percent("5"), "balance"))),
    ("buy 5% available", ast.Order("buy", Q(ast.Percent("5"), "available"))),
    ("buy -0.01", ast.Order("buy", Q(ast.Neg(num("0.01"))))),
    ("buy 0.01 limit ask1 + 1 tick",
     ast.Order("buy", Q(num("0.01")), "limit", ast.BinOp("+", N("ask1"), ast.Ticks("1")))),
    ("buy 0.01 limit mid - 0.05%",
     ast.Order("buy", Q(num("0.01")), "limit", ast.BinOp("-", N("mid"), ast.Percent("0.05")))),
    ('sell 0.01 limit ask1 post only reduce only ioc fok expire 5m tag "grid" sl 64000 tp 2% trail 3 ticks',
     ast.Order("sell", Q(num("0.01")), "limit", N("ask1"), (
         ast.OrderOption("post_only"), ast.OrderOption("reduce_only"), ast.OrderOption("ioc"),
         ast.OrderOption("fok"), ast.OrderOption("expire", ast.Duration(5, "m")),
         ast.OrderOption("tag", ast.String("grid")), ast.OrderOption("sl", num("64000")),
         ast.OrderOption("tp", ast.Percent("2")), ast.OrderOption("trail", ast.Ticks("3"))))),
    ("buy 0.01 tp entry_price + 100",
     ast.Order("buy", Q(num("0.01")), options=(
         ast.OrderOption("tp", ast.BinOp("+", N("entry_price"), num("100"))),))),
    ("close", ast.Close()),
    ("close long", ast.Close("long")),
    ("close short 50% limit ask1", ast.Close("short", ast.Percent("50"), "limit", N("ask1"))),
    ("close 50% market", ast.Close("", ast.Percent("50"), "market")),
    ("cancel orders", ast.Cancel("orders")),
    ("cancel buys", ast.Cancel("buys")),
    ("cancel sells", ast.Cancel("sells")),
    ("set leverage 5", ast.SetSetting("leverage", num("5"))),
    ("set mode oneway", ast.SetSetting("mode", N("oneway"))),
    ("set margin isolated", ast.SetSetting("margin", N("isolated"))),
    ("set tpsl partial", ast.SetSetting("tpsl", N("partial"))),
    ("set tp 2%", ast.SetSetting("tp", ast.Percent("2"))),
    ("set sl entry_price - 1%", ast.SetSetting("sl", ast.BinOp("-", N("entry_price"), ast.Percent("1")))),
    ("set trail 1%", ast.SetSetting("trail", ast.Percent("1"))),
    ('notify "funding high: {funding_rate}"', ast.Notify(ast.String("funding high: {funding_rate}"))),
    ("pause", ast.Pause()),
    ("halt", ast.Halt()),
])
def test_actions(text: str, action: ast.Action) -> None:
    assert act(text) == action


def test_actions_separated_by_commas_in_order() -> None:
    assert acts('close 50% market, notify "x", pause') == (
        ast.Close("", ast.Percent("50"), "market"), ast.Notify(ast.String("x")), ast.Pause())


def test_rule_text_may_span_lines() -> None:
    assert rule("when rsi(14) < 30\n  and position == 0\nthen buy 0.01") == rule(
        "when rsi(14) < 30 and position == 0 then buy 0.01")


def test_no_break_space_is_a_space() -> None:
    assert cond("close\u00a0>\u00a0open") == cmp(">", N("close"), N("open"))


# --- spans ----------------------------------------------------------------------------------------


def _text(source: str, span: ast.Span) -> str:
    return source[span.start:span.end]


def test_spans_cover_the_text_of_each_node() -> None:
    text = "when not (rsi(14, 5m) < 30) and position is long then buy 0.01 limit bid1 - 2 ticks"
    body = rule(text)
    assert _text(text, body.span) == text
    assert isinstance(body.condition, ast.And)
    negated, is_long = body.condition.operands
    assert _text(text, negated.span) == "not (rsi(14, 5m) < 30)"
    assert isinstance(negated, ast.Not) and isinstance(negated.operand, ast.Compare)
    compare = negated.operand
    assert _text(text, compare.span) == "rsi(14, 5m) < 30"
    assert _text(text, compare.op_span) == "<"
    assert isinstance(compare.left, ast.Call)
    assert _text(text, compare.left.name_span) == "rsi"
    assert _text(text, compare.left.args[1].span) == "5m"
    assert isinstance(is_long, ast.Is)
    assert _text(text, is_long.word.span) == "long"
    (order,) = body.actions
    assert isinstance(order, ast.Order)
    assert _text(text, order.span) == "buy 0.01 limit bid1 - 2 ticks"
    assert order.price is not None and _text(text, order.price.span) == "bid1 - 2 ticks"


def test_spans_of_options_and_strings() -> None:
    text = 'notify "hi", buy 1 tag "t" expire 5m, close short 50%'
    notify, order, close = acts(text)
    assert isinstance(notify, ast.Notify) and _text(text, notify.message.span) == '"hi"'
    assert isinstance(order, ast.Order)
    assert [_text(text, o.span) for o in order.options] == ['tag "t"', "expire 5m"]
    assert isinstance(close, ast.Close) and close.percent is not None
    assert _text(text, close.percent.span) == "50%"


# --- helpers for YAML fields ----------------------------------------------------------------------


@pytest.mark.parametrize("text, duration", [
    ("15m", ast.Duration(15, "m")), (" 1h ", ast.Duration(1, "h")), ("1M", ast.Duration(1, "M")),
    ("30s", ast.Duration(30, "s")), ("D", ast.Duration(1, "d")), ("W", ast.Duration(1, "w")),
    ("15", None), ("m", None), ("1.5h", None), ("15 m", None), ("15min", None), ("", None),
])
def test_parse_duration(text: str, duration: ast.Duration | None) -> None:
    assert parse_duration(text) == duration


@pytest.mark.parametrize("text, time", [
    ("08:00", ast.TimeOfDay(8, 0)), ("8:05", ast.TimeOfDay(8, 5)), ("23:59", ast.TimeOfDay(23, 59)),
    ("24:00", None), ("12:60", None), ("12", None), ("12:5", None), ("noon", None),
])
def test_parse_time_of_day(text: str, time: ast.TimeOfDay | None) -> None:
    assert parse_time_of_day(text) == time
