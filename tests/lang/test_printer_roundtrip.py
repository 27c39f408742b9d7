"""The printer: canonical text with minimal parentheses, and parse(format(ast)) == ast."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.lang import ast
from rulebot.lang.parser import Start, parse
from rulebot.lang.printer import format_action, format_actions, format_expr, format_rule
from rulebot.lang.source import Source


def _node(text: str, start: Start) -> object:
    result = parse(Source.contiguous("t.yaml", text), start)
    assert result.diagnostics == (), (text, [d.message for d in result.diagnostics])
    return result.node


# --- canonical text -------------------------------------------------------------------------------


@pytest.mark.parametrize("text, canonical", [
    ("a or (b and c)", "a or b and c"),
    ("(a or b) and c", "(a or b) and c"),
    ("((a or b)) or c", "(a or b) or c"),
    ("not (a > b)", "not a > b"),
    ("not (a and b)", "not (a and b)"),
    ("(a + b) * c", "(a + b) * c"),
    ("a + (b * c)", "a + b * c"),
    ("(a - b) - c", "a - b - c"),
    ("a - (b - c)", "a - (b - c)"),
    ("a / (b * c)", "a / (b * c)"),
    ("(-a) * b", "-a * b"),
    ("-(a * b)", "-(a * b)"),
    ("(close)[1]", "close[1]"),
    ("(close - open)[1]", "(close - open)[1]"),
    ("(-close)[1]", "(-close)[1]"),
    ("(a > b) for 3 bars", "a > b for 3 bars"),
    ("(a and b) for 1 bars", "(a and b) for 1 bar"),
    ("(a > b) == c", "(a > b) == c"),
    ("30 < rsi(14) < 70", "30 < rsi(14) < 70"),
    ("(a + b) crosses above c", "a + b crosses above c"),
    ("x between (a - 1) and (b + 1)", "x between a - 1 and b + 1"),
    ("POSITION IS NOT FLAT", "position is not flat"),
    ("weekday in [MON,tue]", "weekday in [mon, tue]"),
    ("macd(fast = 8, slow=21)", "macd(fast=8, slow=21)"),
    ("rsi(14,D)", "rsi(14, 1d)"),
    ("ask1 + 1 ticks", "ask1 + 1 tick"),
    ("100 USDT", "100 usdt"),
    ('"say \\"hi\\"\\n"', '"say \\"hi\\"\\n"'),
])
def test_canonical_expression_text(text: str, canonical: str) -> None:
    node = _node(text, "condition")
    assert format_expr(node) == canonical  # type: ignore[arg-type]


@pytest.mark.parametrize("text, canonical", [
    ("BUY 0.01", "buy 0.01"),
    ("buy 10 % equity".replace(" %", "%"), "buy 10% equity"),
    ("buy (0.01 * 2) limit (bid1 - 1 tick)", "buy (0.01 * 2) limit bid1 - 1 tick"),
    ("sell -0.01 market reduce only post only ioc fok", "sell -0.01 market reduce only post only ioc fok"),
    ('buy 1 tag "a" expire 5m tp 2% sl 64000 trail 3 ticks',
     'buy 1 tag "a" expire 5m tp 2% sl 64000 trail 3 ticks'),
    ("close short 50% limit ask1", "close short 50% limit ask1"),
    ("close", "close"),
    ("cancel buys", "cancel buys"),
    ("set sl entry_price - 1%", "set sl entry_price - 1%"),
    ('notify "x {price}"', 'notify "x {price}"'),
    ("pause", "pause"),
    ("halt", "halt"),
])
def test_canonical_action_text(text: str, canonical: str) -> None:
    node = _node(text, "actions")
    assert isinstance(node, tuple) and len(node) == 1
    assert format_action(node[0]) == canonical


def test_rule_text() -> None:
    text = "WHEN rsi(14) < 30 AND position == 0 THEN buy 0.01 LIMIT bid1 tp 2%,notify \"in\""
    body = _node(text, "rule")
    assert isinstance(body, ast.RuleBody)
    assert format_rule(body) == 'when rsi(14) < 30 and position == 0 then buy 0.01 limit bid1 tp 2%, notify "in"'


def test_rule_without_condition_prints_its_actions() -> None:
    body = ast.RuleBody(None, (ast.Notify(ast.String("tick")), ast.Pause()))
    assert format_rule(body) == 'notify "tick", pause'
    assert format_actions(body.actions) == 'notify "tick", pause'


# --- random syntax trees --------------------------------------------------------------------------

_RESERVED = {"when", "then", "and", "or", "not", "crosses", "above", "below", "between", "rising",
             "falling", "for", "is", "in", "buy", "sell", "cancel", "set", "notify", "pause", "halt"}
# Names are anything but reserved words and the d / w timeframe aliases; some are keywords of
# actions, which must stay names where an expression is read.
_names = st.one_of(
    st.sampled_from(["close", "open", "long", "short", "leverage", "equity", "market", "limit", "tp",
                     "bars", "ticks", "orders", "bid1", "position", "rsi", "x", "_a1"]),
    st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True),
).filter(lambda n: n not in _RESERVED and n not in ("d", "w"))
_number_text = st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,3})?([eE][-+]?[0-9]{1,2})?", fullmatch=True)

_atoms: st.SearchStrategy[ast.Expr] = st.one_of(
    st.builds(ast.Number, _number_text),
    st.builds(ast.Percent, _number_text),
    st.builds(ast.Duration, st.integers(0, 500), st.sampled_from("smhdwM")),
    st.builds(ast.TimeOfDay, st.integers(0, 99), st.integers(0, 99)),
    st.builds(ast.Money, _number_text, st.sampled_from(["usdt", "usdc", "btc", "eth", "sol"])),
    st.builds(ast.Ticks, _number_text),
    st.builds(ast.String, st.text(max_size=12)),
    st.builds(ast.Name, _names),
)
_words = st.builds(ast.Name, _names)
_bars = st.integers(0, 300)


def _compound(children: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
    many = st.lists(children, min_size=2, max_size=4).map(tuple)
    return st.one_of(
        st.builds(ast.Call, _names, st.lists(children, max_size=3).map(tuple),
                  st.lists(st.builds(ast.Keyword, _names, children), max_size=2).map(tuple)),
        st.builds(ast.Index, children, _bars),
        st.builds(ast.Neg, children),
        st.builds(ast.BinOp, st.sampled_from("+-*/"), children, children),
        st.builds(ast.Compare, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), children, children),
        st.integers(3, 4).flatmap(lambda n: st.builds(
            ast.ChainedCompare, st.lists(children, min_size=n, max_size=n).map(tuple),
            st.lists(st.sampled_from(["<", "<=", ">"]), min_size=n - 1, max_size=n - 1).map(tuple))),
        st.builds(ast.Crosses, children, st.sampled_from(["above", "below", ""]), children),
        st.builds(ast.Between, children, children, children),
        st.builds(ast.Trend, children, st.sampled_from(["rising", "falling"]), _bars),
        st.builds(ast.Is, children, st.booleans(), _words),
        st.builds(ast.In, children, st.lists(_words, min_size=1, max_size=3).map(tuple)),
        st.builds(ast.For, children, _bars, st.none()),
        st.builds(ast.For, children, st.none(), st.builds(ast.Duration, st.integers(0, 99),
                                                         st.sampled_from("smhdwM"))),
        st.builds(ast.Not, children),
        st.builds(ast.And, many),
        st.builds(ast.Or, many),
    )


exprs: st.SearchStrategy[ast.Expr] = st.recursive(_atoms, _compound, max_leaves=12)

_options = st.one_of(
    st.builds(ast.OrderOption, st.sampled_from(["tp", "sl", "trail"]), exprs),
    st.builds(ast.OrderOption, st.sampled_from(["post_only", "ioc", "fok", "reduce_only"])),
    st.builds(ast.OrderOption, st.just("expire"), st.builds(ast.Duration, st.integers(0, 99),
                                                            st.sampled_from("smhdwM"))),
    st.builds(ast.OrderOption, st.just("tag"), st.builds(ast.String, st.text(max_size=8))),
)
_order_types = st.one_of(st.just(("", None)), st.just(("market", None)),
                         st.tuples(st.just("limit"), exprs))


@st.composite
def _orders(draw: st.DrawFn) -> ast.Order:
    order_type, price = draw(_order_types)
    return ast.Order(
        draw(st.sampled_from(["buy", "sell"])),
        ast.Quantity(draw(exprs), draw(st.sampled_from(["", "equity", "balance", "available"]))),
        order_type, price, tuple(draw(st.lists(_options, max_size=4))),
    )


@st.composite
def _closes(draw: st.DrawFn) -> ast.Close:
    order_type, price = draw(_order_types)
    percent = draw(st.none() | st.builds(ast.Percent, _number_text))
    return ast.Close(draw(st.sampled_from(["", "long", "short"])), percent, order_type, price)


actions: st.SearchStrategy[ast.Action] = st.one_of(
    _orders(),
    _closes(),
    st.builds(ast.Cancel, st.sampled_from(["orders", "buys", "sells"])),
    st.builds(ast.SetSetting, st.sampled_from(["leverage", "mode", "margin", "tpsl", "tp", "sl", "trail"]),
              exprs),
    st.builds(ast.Notify, st.builds(ast.String, st.text(max_size=12))),
    st.builds(ast.Pause),
    st.builds(ast.Halt),
)


@settings(max_examples=200, deadline=None)
@given(exprs)
def test_expression_round_trip(e: ast.Expr) -> None:
    assert _node(format_expr(e), "condition") == e


@settings(max_examples=100, deadline=None)
@given(st.lists(actions, min_size=1, max_size=3).map(tuple))
def test_actions_round_trip(acts: tuple[ast.Action, ...]) -> None:
    assert _node(format_actions(acts), "actions") == acts


@settings(max_examples=80, deadline=None)
@given(st.builds(ast.RuleBody, exprs, st.lists(actions, min_size=1, max_size=3).map(tuple)))
def test_rule_round_trip(body: ast.RuleBody) -> None:
    text = format_rule(body)
    assert _node(text, "rule") == body
    assert format_rule(_node(text, "rule")) == text  # type: ignore[arg-type]
