"""The quick W104 test (``safety.plainly_possible``) agrees with the full interval reasoning: when
it settles a condition, ``never_true`` reports nothing, the disjuncts are not ``()``, and the
``requires_flat`` it gives is that of the disjuncts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.lang import ast as A
from rulebot.lang.diagnostics import Diagnostic
from rulebot.lang.expressions import ExprChecker
from rulebot.lang.intervals import Analyzer, requires_flat
from rulebot.lang.parser import parse
from rulebot.lang.report import Reporter
from rulebot.lang.safety import never_true, plainly_possible
from rulebot.lang.source import Source

SUBJECTS = ("rsi(14)", "rsi(14, 5m)", "position", "position_size", "open_orders", "close", "hour", "adx(14)",
            "spread_pct", "change(10)", "time", "sma(20)")
OPS = ("<", "<=", ">", ">=", "==", "!=")
CONSTANTS = ("-5", "0", "0.5", "1", "2", "30", "50", "70", "99.5", "100", "101", "1e999", "0.1%", "08:00", "22:30")

atoms = st.one_of(
    st.builds(lambda s, op, c: f"{s} {op} {c}", st.sampled_from(SUBJECTS), st.sampled_from(OPS),
              st.sampled_from(CONSTANTS)),
    st.builds(lambda c, op, s: f"{c} {op} {s}", st.sampled_from(CONSTANTS), st.sampled_from(OPS),
              st.sampled_from(SUBJECTS)),
    st.builds(lambda s, a, b: f"{s} between {a} and {b}", st.sampled_from(SUBJECTS), st.sampled_from(CONSTANTS),
              st.sampled_from(CONSTANTS)),
    st.builds(lambda s, d, c: f"{s} crosses {d} {c}", st.sampled_from(SUBJECTS), st.sampled_from(("above", "below")),
              st.sampled_from(CONSTANTS)),
    st.builds(lambda w: f"position is {w}", st.sampled_from(("long", "short", "flat", "not long", "not flat"))),
    st.builds(lambda w: f"weekday is {w}", st.sampled_from(("monday", "weekend", "weekday"))),
    st.sampled_from(("close > sma(20)", "close > close", "close >= close", "rsi(14) rising 3", "position == 0",
                     "position_size == 0", "position_size > 0", "open_orders == 0")),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(children, min_size=2, max_size=4).map(lambda parts: " and ".join(f"({p})" for p in parts)),
        st.lists(children, min_size=2, max_size=3).map(lambda parts: " or ".join(f"({p})" for p in parts)),
        children.map(lambda p: f"not ({p})"),
        st.builds(lambda p, n: f"({p}) for {n} bars", children, st.integers(1, 3)),
    )


conditions = st.recursive(atoms, _combine, max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(conditions, st.booleans())
def test_the_quick_test_agrees_with_the_full_reasoning(text: str, hedge: bool) -> None:
    source = Source.contiguous("t.yaml", text)
    result = parse(source, "condition")
    if result.node is None or isinstance(result.node, (A.RuleBody, tuple)):
        return
    sink: list[Diagnostic] = []
    checker = ExprChecker(Reporter(source, sink), "1m", frozenset({"usdt"}))
    checker.condition(result.node)
    if sink:
        return  # the checker only asks for W104 on conditions without errors
    flat = plainly_possible(result.node, Analyzer(checker.values, hedge))
    warnings: list[Diagnostic] = []
    disjuncts = never_true(result.node, Analyzer(checker.values, hedge), Reporter(source, warnings))
    if flat is not None:
        assert warnings == []
        assert disjuncts != ()
        assert flat == requires_flat(disjuncts)


def _quick(text: str) -> bool | None:
    source = Source.contiguous("t.yaml", text)
    node = parse(source, "condition").node
    assert isinstance(node, (A.And, A.Compare, A.For, A.Or))
    checker = ExprChecker(Reporter(source, []), "1m", frozenset({"usdt"}))
    checker.condition(node)
    return plainly_possible(node, Analyzer(checker.values))


def test_the_quick_test_settles_the_common_condition_and_leaves_the_rest() -> None:
    assert _quick("rsi(14) < 30 and position == 0") is True
    assert _quick("(rsi(14) > 70 and close > sma(20)) for 3 bars and position > 0") is False
    assert _quick("time between 22:00 and 02:00 and position_size == 0") is True
    assert _quick("rsi(14) > 101 and position == 0") is None       # never true alone
    assert _quick("rsi(14) > 30 and rsi(14) < 20") is None         # one value bounded twice
    assert _quick("position == 0 and position_size > 0") is None   # both bound the position
    assert _quick("rsi(14) < 30 or position == 0") is None


def test_a_bound_beyond_every_number_on_a_whole_number_does_not_crash_the_check() -> None:
    assert _quick("open_orders > 1e999 and position == 0") is None  # was an OverflowError
    assert _quick("open_orders < 1e999 and position == 0") is True
