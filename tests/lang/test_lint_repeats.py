"""Rule texts written again in the same file (lint reads each once): every rule still gets its own
diagnostics, at its own place, and the same facts as when its text is alone in the file."""

from __future__ import annotations

from rulebot.lang.diagnostics import Diagnostic
from rulebot.lang.lint import FileAnalysis, analyze_text

HEAD = "symbol: BTCUSDT\nrisk: {max_position: 0.5}\nrules:\n"


def analyze(rules: list[tuple[str, str]]) -> FileAnalysis:
    text = HEAD + "".join(f"  - name: r{i}\n    when: '{when}'\n    then: '{then}'\n    cooldown: 5m\n"
                          for i, (when, then) in enumerate(rules))
    return analyze_text(text, "t.yaml")


def where(analysis: FileAnalysis, code: str) -> list[tuple[int, int]]:
    found: list[Diagnostic] = [d for d in analysis.diagnostics if d.code == code]
    return [(d.line, d.column) for d in found]


def test_a_repeated_text_with_a_syntax_error_is_reported_in_each_rule() -> None:
    analysis = analyze([("position == 0", "buy 0.01 limit")] * 3)
    assert where(analysis, "E201") == [(6, 26), (10, 26), (14, 26)]  # after "limit"
    assert not any(r.parsed for r in analysis.rules)


def test_a_repeated_condition_never_true_is_reported_in_each_rule() -> None:
    analysis = analyze([("rsi(14) > 150 and position == 0", "buy 0.01 market")] * 2)
    assert where(analysis, "W104") == [(5, 12), (9, 12)]


def test_repeated_actions_with_an_error_are_reported_in_each_rule() -> None:
    analysis = analyze([("position == 0", "buy 0.01 market tp 150%"), ("position > 0", "buy 0.01 market tp 150%")])
    assert where(analysis, "E305") == [(6, 31), (10, 31)]  # at "150%"


def test_a_repeated_clean_text_gives_each_rule_the_facts_it_has_alone() -> None:
    when, then = "ema(20, 5m) crosses above ema(50) and position == 0", "buy 0.01 limit bid1 - 0.1% tp 2%"
    repeated = analyze([(when, then), ("close > open", then), (when, then)])
    alone = analyze([(when, then)])
    assert repeated.diagnostics == alone.diagnostics == ()
    expected = alone.rules[0].checked
    assert expected is not None and expected.offsets and expected.reads
    for analyzed in (repeated.rules[0], repeated.rules[2]):
        checked = analyzed.checked
        assert checked is not None
        assert analyzed.condition == alone.rules[0].condition
        assert analyzed.actions == alone.rules[0].actions
        assert (checked.reads, checked.action_reads, checked.timeframes, checked.warmup_bars,
                checked.offsets, checked.is_bar_rule, checked.places_orders, checked.facts) == (
            expected.reads, expected.action_reads, expected.timeframes, expected.warmup_bars,
            expected.offsets, expected.is_bar_rule, expected.places_orders, expected.facts)
    middle = repeated.rules[1].checked
    assert middle is not None and middle.action_reads == expected.action_reads
    assert middle.reads != expected.reads
