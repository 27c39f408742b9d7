"""Property: the checker never raises on any tree the AST can hold, and only uses catalogued codes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulebot.lang import ast as A
from rulebot.lang.checker import CheckContext, RuleInput, check_rules
from rulebot.lang.codes import CODES
from rulebot.lang.parser import parse
from rulebot.lang.source import Source
from rulebot.lang.vocabulary import FIELDS, INDICATORS, WORDS

TEXT = "when rsi(14) < 30 and position == 0 then buy 0.01 limit bid1 tp 2% trail 1%"
names = st.sampled_from(sorted(FIELDS) + sorted(WORDS) + sorted(INDICATORS) + ["rsii", "foo", "d", "w", "m"])
offsets = st.integers(0, len(TEXT) + 3)
spans = st.builds(lambda a, b: A.Span(min(a, b), max(a, b)), offsets, offsets)
numbers = st.sampled_from(["0", "1", "14", "14.5", "-3", "30", "100", "1e-4", "6000", "1e999"])
units = st.sampled_from(list(A.Duration.UNIT_SECONDS))

leaves = st.one_of(
    st.builds(A.Number, numbers, spans),
    st.builds(A.Percent, numbers, spans),
    st.builds(A.Duration, st.integers(0, 400), units, spans),
    st.builds(A.TimeOfDay, st.integers(0, 30), st.integers(0, 70), spans),
    st.builds(A.Money, numbers, st.sampled_from(["usdt", "btc", "doge", "eth"]), spans),
    st.builds(A.Ticks, numbers, spans),
    st.builds(A.String, st.sampled_from(["x", "{price}", "{", "}", "{{}}", "{}", "{rsi(14) + 1%}"]), spans),
    st.builds(A.Name, names, spans),
)


def _extend(children: st.SearchStrategy[A.Expr]) -> st.SearchStrategy[A.Expr]:
    kw = st.builds(A.Keyword, st.sampled_from(["n", "k", "tf", "fast", "slow", "length"]), children, spans)
    ops = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
    return st.one_of(
        st.builds(A.Call, names, st.lists(children, max_size=3).map(tuple), st.lists(kw, max_size=2).map(tuple),
                  spans, spans),
        st.builds(A.Index, children, st.integers(-2, 6000), spans),
        st.builds(A.Neg, children, spans),
        st.builds(A.BinOp, st.sampled_from(["+", "-", "*", "/"]), children, children, spans),
        st.builds(A.Compare, ops, children, children, spans, spans),
        st.builds(A.ChainedCompare, st.lists(children, min_size=3, max_size=4).map(tuple),
                  st.lists(ops, min_size=2, max_size=3).map(tuple), spans),
        st.builds(A.Crosses, children, st.sampled_from(["above", "below", ""]), children, spans),
        st.builds(A.Between, children, children, children, spans),
        st.builds(A.Trend, children, st.sampled_from(["rising", "falling"]), st.integers(-1, 6000), spans),
        st.builds(A.Is, children, st.booleans(), st.builds(A.Name, names, spans), spans),
        st.builds(A.In, children, st.lists(st.builds(A.Name, names, spans), max_size=3).map(tuple), spans),
        st.builds(A.For, children, st.one_of(st.none(), st.integers(-1, 9)),
                  st.one_of(st.none(), st.builds(A.Duration, st.integers(0, 9), units, spans)), spans),
        st.builds(A.Not, children, spans),
        st.builds(A.And, st.lists(children, min_size=2, max_size=3).map(tuple), spans),
        st.builds(A.Or, st.lists(children, min_size=2, max_size=3).map(tuple), spans),
    )


exprs = st.recursive(leaves, _extend, max_leaves=12)
options = st.builds(A.OrderOption, st.sampled_from(["tp", "sl", "trail", "post_only", "ioc", "fok", "reduce_only",
                                                    "expire", "tag", "bogus"]), st.one_of(st.none(), exprs), spans)
actions = st.one_of(
    st.builds(A.Order, st.sampled_from(["buy", "sell"]),
              st.builds(A.Quantity, exprs, st.sampled_from(["", "equity", "balance"]), spans),
              st.sampled_from(["", "market", "limit"]), st.one_of(st.none(), exprs),
              st.lists(options, max_size=4).map(tuple), spans),
    st.builds(A.Close, st.sampled_from(["", "long", "short"]),
              st.one_of(st.none(), st.builds(A.Percent, numbers, spans)),
              st.sampled_from(["", "market", "limit"]), st.one_of(st.none(), exprs), spans),
    st.builds(A.Cancel, st.sampled_from(["orders", "buys", "x"]), spans),
    st.builds(A.SetSetting, st.sampled_from(["leverage", "mode", "margin", "tpsl", "tp", "sl", "trail", "x"]),
              exprs, spans),
    st.builds(A.Notify, st.builds(A.String, st.sampled_from(["x {price}", "{rsi(}", "{", "}", "{{}}", "{}",
                                                             "{rsi(14) + 1%}", "{rsii(14)}"]), spans), spans),
    st.builds(A.Pause, spans),
    st.builds(A.Halt, spans),
)
rules = st.builds(
    lambda i, cond, acts, cooldown, scheduled: RuleInput(
        f"r{i}", i, cond, tuple(acts), SOURCE, SOURCE, cooldown, scheduled),
    st.integers(0, 5), st.one_of(st.none(), exprs), st.lists(actions, max_size=3),
    st.one_of(st.none(), st.integers(0, 60)), st.booleans(),
)
SOURCE = Source.contiguous("fuzz.yaml", TEXT, 4, 9)
CTX = CheckContext.for_symbols(["BTCUSDT"], leverage=20)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rules, min_size=1, max_size=3))
def test_checker_never_raises_on_random_trees(batch: list[RuleInput]) -> None:
    checked, extra = check_rules(batch, CTX)
    assert len(checked) == len(batch)
    for d in [d for c in checked for d in c.diagnostics] + extra:
        assert d.code in CODES
        assert d.line >= 1 and d.column >= 1


# --- random texts through the real parser -----------------------------------------------------

VALID = [
    "when rsi(14) < 30 and position == 0 then buy 0.01 limit bid1 tp 2% trail 1%",
    "when close crosses above ema(50) + 1% and weekday is not weekend then sell 100 usdt sl 64000 ioc",
    'when (macd(fast=8, slow=21) > 0 or close[2] rising 3) for 3 bars then close 50% market, notify "x {rsi(14, 5m)}"',
    "when time between 22:00 and 02:00 and upnl_pct - 1% > 0 then set leverage 5, set mode hedge, cancel orders",
    "when 30 < rsi(14) < 70 and position is flat then buy 10% equity limit mid - 0.05% expire 5m tag \"a\"",
]
TOKENS = ["rsi", "(", ")", "14", "0", "-", "+", "*", "/", "<", ">=", "==", "and", "or", "not", "5m", "7m", "1M",
          "2%", "100%", "usdt", "doge", "ticks", "[", "]", "1", "position", "is", "in", "flat", "long", "weekday",
          "mon", "between", "crosses", "above", "for", "bars", "rising", "close", "buy", "sell", "limit", "tp",
          "sl", "trail", "set", "leverage", "150", "mode", "notify", '"{rsii(}"', '"{price}"', "08:00", "25:99",
          ",", "price", "bid1", "[1]", "x", "=", "n=", "tf=", "k=0", "post", "only", "ioc", "fok"]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    words = draw(st.sampled_from(VALID)).replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(words)))
        kind = draw(st.sampled_from(["insert", "replace", "delete"]))
        if kind == "insert" or not words:
            words.insert(i, draw(st.sampled_from(TOKENS)))
        elif kind == "replace":
            words[min(i, len(words) - 1)] = draw(st.sampled_from(TOKENS))
        else:
            del words[min(i, len(words) - 1)]
    return " ".join(words)


@settings(max_examples=300, deadline=None)
@given(mutated())
def test_checker_never_raises_on_mutated_rules(text: str) -> None:
    source = Source.contiguous("fuzz.yaml", text, 7, 5)
    result = parse(source, "rule")
    if not isinstance(result.node, A.RuleBody):
        return
    rule = RuleInput("m", 0, result.node.condition, result.node.actions, source, source)
    checked, extra = check_rules([rule], CTX)
    for d in list(checked[0].diagnostics) + extra:
        assert d.code in CODES
        assert d.line == 7 and d.column >= 5
