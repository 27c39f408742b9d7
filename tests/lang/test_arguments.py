"""The quick binding of plain calls (``arguments.plain_arguments``) agrees with the full one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.lang import ast as A
from rulebot.lang.arguments import bind, plain_arguments
from rulebot.lang.diagnostics import Diagnostic
from rulebot.lang.parser import parse
from rulebot.lang.report import Reporter
from rulebot.lang.source import Source
from rulebot.lang.vocabulary import INDICATORS

NUMBERS = ("0", "1", "2", "2.5", "3", "9", "14", "20", "26", "50", "1e999", "100000", "1000000")


def _call(text: str) -> tuple[A.Call, Reporter]:
    source = Source.contiguous("t.yaml", text)
    node = parse(source, "condition").node
    assert isinstance(node, A.Call)
    return node, Reporter(source, [])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(INDICATORS)), st.lists(st.sampled_from(NUMBERS), max_size=4),
       st.sampled_from(("", "5m", "7m")))
def test_the_quick_binding_is_the_full_binding_by_keywords(name: str, numbers: list[str], tf: str) -> None:
    indicator = INDICATORS[name]
    positional, _ = _call(f"{name}({', '.join(numbers + ([tf] if tf else []))})")
    plain = plain_arguments(positional, indicator.params, indicator.less_than)
    if plain is None or len(numbers) > len(indicator.params):
        return
    # the same call by keywords takes the full way through bind
    keywords = [f"{p.name}={n}" for p, n in zip(indicator.params, numbers)] + ([f"tf={tf}"] if tf else [])
    if not keywords:
        return  # no argument: nothing to write by keyword
    call, rep = _call(f"{name}({', '.join(keywords)})")
    sink: list[Diagnostic] = rep.sink
    full = bind(call, indicator.params, rep, lambda: name, indicator.less_than)
    assert full.ok and not sink
    assert (tuple(plain[0].items()), plain[1]) == (full.values, full.timeframe)


def test_calls_with_a_problem_are_left_to_the_full_binding() -> None:
    rsi = INDICATORS["rsi"]
    for text in ("rsi(0)", "rsi(14.5)", "rsi(14, 7m)", "rsi(n=14)", "rsi(14, 5, 3)", "rsi(close)", "rsi(1e999)"):
        call, _ = _call(text)
        assert plain_arguments(call, rsi.params, rsi.less_than) is None, text
    call, _ = _call("rsi(14, 5m)")
    assert plain_arguments(call, rsi.params, rsi.less_than) == ({"n": 14}, "5m")
