"""The loader's shortcuts read a file exactly as the long way does: rule items taken without
pydantic, the resolver's remembered tags, and objects made without their dataclass ``__init__``."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.lang import filemodel as fm
from rulebot.lang import ruleitems
from rulebot.lang.loader import LoadResult, load_text
from rulebot.lang.scalarmap import LineIndex
from rulebot.lang.source import Location, new_location
from rulebot.lang.yamlnodes import YamlLoader, node_span, span_tables

_NAMES = ["rule a", "' '", "''", "[a, b]", "~", "12", "'dip buy'", "yes"]
_TEXTS = ["'rsi(14) < 30'", "close > open", "'buy 0.1 market'", "~", "''", "[a, b]", "'${n}'", "7"]
_DURATIONS = ["5m", "0s", "1s", "0", "90", "1.5h", "3M", "2 weeks", "99999999999w", "~", "[5m]", "'5m'",
              "${cd}", "${nope}", "5 m", "１５m", "{a: 1}"]
_OTHERS = ["enabled: false", "enabled: 1", "enabled: 'true'", "enabled: Yes", "priority: 3", "priority: yes",
           "priority: 0x1f", "priority: 2.0", "priority: -1", "trigger: level", "trigger: ' EDGE'", "trigger: up",
           "trigger: 1", "at: '08:00'", "cron: '0 * * * *'", "color: red", "then close: market"]


def _rule_item(draw: Any) -> list[str]:
    lines: list[str] = []
    for key, choices in (("name", _NAMES), ("when", _TEXTS), ("then", _TEXTS), ("cooldown", _DURATIONS),
                         ("every", _DURATIONS)):
        if draw(st.booleans()):
            lines.append(f"{key}: {draw(st.sampled_from(choices))}")
    lines.extend(draw(st.lists(st.sampled_from(_OTHERS), max_size=2, unique=True)))
    return lines


@st.composite
def _files(draw: Any) -> str:
    out = ["symbol: BTCUSDT", "params: {n: 14, cd: 5m}", "rules:"]
    for _ in range(draw(st.integers(1, 3))):
        item = _rule_item(draw) or ["then: close market"]
        out.append("  - " + item[0])
        out.extend("    " + line for line in item[1:])
    return "\n".join(out) + "\n"


def _shape(result: LoadResult) -> Any:
    diagnostics = [(d.code, d.line, d.column, d.end_line, d.end_column, d.message, d.hint)
                   for d in result.diagnostics]
    if result.rule_file is None:
        return diagnostics, None
    rules = [(r.index, r.name, r.name_span, r.span, r.when, r.then, r.line, dict(r.templates), r.param_uses,
              r.cooldown, r.every, r.at, r.cron, r.trigger, r.enabled, r.priority, dict(r.key_spans),
              dict(r.value_spans)) for r in result.rule_file.rules]
    return diagnostics, rules


@settings(max_examples=300, deadline=None)
@given(_files())
def test_rule_items_read_without_pydantic_as_with_it(text: str) -> None:
    quick = _shape(load_text(text, "t.yaml"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ruleitems, "_plain_fields", lambda data, durations: None)
        validated = _shape(load_text(text, "t.yaml"))
    assert quick == validated


def test_the_plain_way_is_taken_for_texts_and_durations() -> None:
    data = {"name": "a", "when": "x > 1", "then": "close market", "cooldown": "5m", "every": "1h"}
    assert ruleitems._plain_fields(data, {}) == ("a", "x > 1", "close market", 300, 3600, (), None,
                                             fm.TriggerMode.EDGE, True, 0)
    data = {"then": "close market", "trigger": " Level", "enabled": False, "priority": -2}
    assert ruleitems._plain_fields(data, {}) == (None, None, "close market", None, None, (), None,
                                             fm.TriggerMode.LEVEL, False, -2)
    for odd in ({"then": None}, {"then": "x", "name": " "}, {"then": "x", "cooldown": "90"},
                {"then": "x", "every": "0s"}, {"then": "x", "enabled": "no"}, {"then": "x", "priority": True},
                {"then": "x", "trigger": "rising"}, {"then": "x", "at": "08:00"}, {"when": "x"}):
        assert ruleitems._plain_fields(odd, {}) is None


_SCALARS = st.text(alphabet="0123456789abcnoyYNT~.:_-+ex<=!&*", max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SCALARS, min_size=1, max_size=6))
def test_remembered_tags_are_the_resolvers(words: list[str]) -> None:
    text = "".join(f"- {word}\n- {word}\n" for word in words)  # each twice: once resolved, once remembered
    try:
        expected = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return
    got = yaml.compose(text, Loader=YamlLoader)
    assert _tags(got) == _tags(expected)


def _tags(node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return node.tag, node.value
    if isinstance(node, yaml.SequenceNode):
        return node.tag, [_tags(item) for item in node.value]
    return node.tag, [(_tags(key), _tags(value)) for key, value in node.value]


def test_new_rule_takes_the_fields_in_order() -> None:
    values = {item.name: object() for item in fields(fm.Rule)}
    rule = fm.new_rule(*values.values())
    assert all(getattr(rule, name) is value for name, value in values.items())


def test_objects_made_without_init_equal_those_made_with_it() -> None:
    assert new_location(3, 4) == Location(3, 4) and hash(new_location(3, 4)) == hash(Location(3, 4))
    span = fm.new_span(Location(1, 2), Location(1, 5))
    made = fm.Span(Location(1, 2), Location(1, 5))
    assert span == made and repr(span) == repr(made)
    node = yaml.compose("a: 1\nbb: [2]\n", Loader=YamlLoader)
    pairs = {k.value: (k, v) for k, v in node.value}
    line_index = LineIndex("a: 1\nbb: [2]\n")
    keys, written = span_tables(line_index, pairs)
    assert list(keys) == list(written) == ["a", "bb"]
    for key, (key_node, value_node) in pairs.items():
        assert keys[key] == node_span(line_index, key_node)
        assert written[key] == node_span(line_index, value_node)
