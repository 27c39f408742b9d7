"""Rule text keeps the file position of every character, for every YAML scalar style."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rulebot.lang.loader import load_text
from rulebot.lang.scalarmap import LineIndex, scalar_segments
from rulebot.lang.source import Source


def rule_texts(text: str) -> list[Source]:
    result = load_text(text, "f.yaml")
    assert result.diagnostics == ()
    assert result.rule_file is not None
    return [s for r in result.rule_file.rules for s in (r.when, r.then, r.line) if s is not None]


def at(source: Source, offset: int) -> tuple[int, int]:
    location = source.location(offset)
    return location.line, location.column


def assert_maps_onto_file(source: Source, text: str) -> None:
    """Every character that stands in the file as itself points at itself."""
    lines = text.split("\n")
    for offset, char in enumerate(source.text):
        location = source.positions[offset]
        in_file = lines[location.line - 1][location.column - 1:location.column]
        if char not in " \n" and in_file not in ("\\", "'"):
            assert in_file == char, (offset, char, location)


HEAD = "symbol: BTCUSDT\nrules:\n"


def test_the_third_rule_of_a_list() -> None:
    text = HEAD + "  - when a then b\n  - when c then d\n  - when rsii(14) < 30 then buy 0.01\n"
    third = rule_texts(text)[2]
    assert third.text == "when rsii(14) < 30 then buy 0.01"
    assert at(third, 5) == (5, 10)  # 'rsii'
    assert at(third, len(third.text)) == (5, 37)
    assert_maps_onto_file(third, text)


def test_double_quoted_with_escapes() -> None:
    text = HEAD + '  - name: q\n    when: "price > 1"\n    then: "notify \\"caf\\u00e9 \\\\ ok\\"\\tnow"\n'
    then = rule_texts(text)[1]
    assert then.text == yaml.safe_load(text)["rules"][0]["then"] == 'notify "café \\ ok"\tnow'
    assert at(then, 0) == (5, 12)
    assert at(then, 7) == (5, 19)  # the escaped quote points at its backslash
    assert at(then, 11) == (5, 24)  # 'é' points at '\u00e9'
    assert at(then, 13) == (5, 31)  # the escaped backslash
    assert at(then, 15) == (5, 34)  # 'o' of 'ok'
    assert at(then, 18) == (5, 38)  # the tab, written '\t'
    assert at(then, 19) == (5, 40)  # 'n' of 'now'
    assert_maps_onto_file(then, text)


def test_double_quoted_with_an_escaped_line_break() -> None:
    text = HEAD + '  - "when rsi(14) < 30 \\\n     then buy 1"\n'
    line = rule_texts(text)[0]
    assert line.text == "when rsi(14) < 30 then buy 1"
    assert at(line, 18) == (4, 6)  # 'then', after the joined break
    assert_maps_onto_file(line, text)


def test_single_quoted_with_doubled_quotes_and_folding() -> None:
    text = HEAD + "  - name: s\n    when: x\n    then: 'notify ''it''s''   \n\n      now'\n"
    then = rule_texts(text)[1]
    assert then.text == yaml.safe_load(text)["rules"][0]["then"] == "notify 'it's'\nnow"
    assert at(then, 7) == (5, 19)  # the first of the doubled quotes
    assert at(then, 8) == (5, 21)  # 'i'
    assert at(then, 13) == (6, 1)  # the kept line break is the empty line
    assert at(then, 14) == (7, 7)  # 'now'
    assert_maps_onto_file(then, text)


def test_folded_block() -> None:
    text = HEAD + "  - name: f\n    when: >\n      close > ema(50)\n      and volume > sma(20)\n    then: close\n"
    when = rule_texts(text)[0]
    assert when.text == "close > ema(50) and volume > sma(20)\n"
    assert at(when, 0) == (5, 7)
    assert at(when, 15) == (5, 22)  # the folded break points at the end of its line
    assert at(when, 16) == (6, 7)  # 'and'
    assert at(when, len(when.text)) == (6, 27)
    assert_maps_onto_file(when, text)


def test_literal_block_with_explicit_indentation_and_keep() -> None:
    text = HEAD + "  - name: l\n    when: |2+\n        rsi(14) < 30\n       and position == 0\n\n    then: close\n"
    when = rule_texts(text)[0]
    assert when.text == yaml.safe_load(text)["rules"][0]["when"] == "  rsi(14) < 30\n and position == 0\n\n"
    assert at(when, 2) == (5, 9)  # 'rsi'
    assert at(when, 16) == (6, 8)  # 'and'
    assert_maps_onto_file(when, text)


def test_multi_line_plain() -> None:
    text = HEAD + "  - when rsi(14) < 30\n      and position == 0\n\n      then buy 0.01\n"
    line = rule_texts(text)[0]
    assert line.text == "when rsi(14) < 30 and position == 0\nthen buy 0.01"
    assert at(line, 17) == (3, 22)  # the folded space
    assert at(line, 18) == (4, 7)  # 'and'
    assert at(line, 35) == (5, 1)  # the kept break: the empty line
    assert at(line, 36) == (6, 7)  # 'then'
    assert_maps_onto_file(line, text)


def test_flow_sequence_and_anchored_values() -> None:
    text = HEAD + "  - {name: a, when: &w 'x > 1', then: close}\n  - {name: b, when: *w, then: !!str close  }\n"
    sources = rule_texts(text)
    assert [s.text for s in sources] == ["x > 1", "close", "x > 1", "close"]
    assert at(sources[0], 0) == at(sources[2], 0) == (3, 25)
    assert at(sources[3], 0) == (4, 37)


@pytest.mark.parametrize("style", [None, "'", '"', "|", ">"])
@settings(max_examples=150, deadline=None)
@given(value=st.lists(st.sampled_from(list("ab #:'\"\\\t\n\u00e9-") + ["when", " then"]), max_size=40).map("".join),
       width=st.integers(min_value=10, max_value=80), indent=st.integers(min_value=2, max_value=6))
def test_every_style_maps_back_exactly(style: str | None, value: str, width: int, indent: int) -> None:
    document = yaml.dump({"rules": [{"then": value}]}, default_style=style, width=width, indent=indent,
                         allow_unicode=True)
    root = yaml.compose(document, Loader=yaml.CSafeLoader)
    node = root.value[0][1].value[0].value[0][1]
    assume(node.value == value)  # PyYAML's emitter cannot write some values in some styles
    mapped = scalar_segments(document, node.start_mark.index, node.end_mark.index, node.style, node.value)
    assert mapped is not None, (document, node.style)
    segments, _ = mapped
    for piece, index, contiguous in segments:
        if contiguous:
            assert document[index:index + len(piece)] == piece
    positions = LineIndex(document).locations(segments)
    assert len(positions) == len(value)
