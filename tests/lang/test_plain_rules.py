"""A `rules:` list in the plain form (``plainrules``) is read without composing it, exactly as
composing the whole file reads it: the same rules, spans, positions and diagnostics."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.lang import loader
from rulebot.lang.loader import LoadResult, load_text
from rulebot.lang.plainrules import compose_header, read_plain_rules

# values read in the plain form, then values that are not (or that the validation refuses)
_VALUES = {
    "name": (["dip buy", "'dip buy'", "'it''s'", '"quoted"', "a#b", "12", "dîp — buy", "'買い'", "🚀 moon"],
             ["' '", "~", "rule: a", "a #b", "-x", "&a b", "a\u00a0b", "a:\u00a0b", "\u00a0a"]),
    "when": (["rsi(14) < 30 and position == 0", "'rsi(${n}) < 30'", "close > open", "'close > ''x'''",
              '"close > 1"', "time between 08:30 and 09:00", "rsii(14) < 30", "${nope} > 1", "'null'",
              "close > 1  ", "close > 1 and"],
             ['"close > \\"x\\""', "rsi(14) < 30: x", "rsi(14) #x", "null", "[a]", "{a: 1}", "!x y", "|", "> x",
              "%x", "@x", "`x`", "?x", ":x", "close > 1:", "close >\t1", "*alias", "'a\n  b'"]),
    "then": (["buy 0.01 market", "'buy 0.01 limit bid1 tp 2%'", 'close market, notify "at {{price}}"',
              "buy ${qty}", "sell 0.01 market", "'close market'", "''"],
             ["buy 0.01 market # size", "~", ""]),
    "cooldown": (["5m", "1h", "'5m'"], ["0s", "90", "${cd}", "5 m"]),
    "every": (["5m", "'1h'"], ["0s", "${cd}"]),
    "trigger": (["level", "edge", "'Level'"], ["up", "1", "~"]),
    "enabled": (["false", "true", "yes", "Off"], ["'false'", "1", "null"]),
    "priority": (["2", "-1", "0", "1_000"], ["2.0", "0x1f", "'3'", "true", "010"]),
}


def _value(draw: Any, key: str) -> str:
    good, odd = _VALUES[key]
    return draw(st.sampled_from(odd if draw(st.integers(0, 24)) == 0 else good))


@st.composite
def _item(draw: Any) -> list[str]:
    lines = [f"{key}: {_value(draw, key)}" for key, chance in (("name", 5), ("when", 8), ("then", 19),
                                                                ("cooldown", 4), ("every", 1), ("trigger", 2),
                                                                ("enabled", 1), ("priority", 1))
             if draw(st.integers(0, 9)) < chance // 2 + 1 or (key == "then" and draw(st.integers(0, 19)))]
    if draw(st.integers(0, 29)) == 0:
        lines.append(draw(st.sampled_from(["at: '08:00'", "cron: '0 * * * *'", "color: red"])))
    if draw(st.integers(0, 39)) == 0 and lines:
        lines.append(lines[0])  # a key given twice
    return list(draw(st.permutations(lines))) if lines else ["then: close market"]


@st.composite
def _files(draw: Any) -> str:
    out = ["symbol: BTCUSDT"]
    if draw(st.booleans()):
        out += ["params:", "  n: 14", "  cd: 5m", "  qty: 0.01"]
    if draw(st.booleans()):
        out += ["# risk first — always", "risk:", "  max_position: 0.5"]
    out.append(draw(st.sampled_from(["rules:"] * 20 + ["rules:  ", "rules: # mine", "rules: []", "'rules':"])))
    indent = draw(st.sampled_from(["", "  ", "    "]))
    for _ in range(draw(st.integers(1, 4))):
        dash = indent if draw(st.integers(0, 39)) else indent + " "
        item = draw(_item())
        out.append(f"{dash}- {item[0]}")
        for line in item[1:]:
            out.append(f"{indent}  " + line if draw(st.integers(0, 39)) else f"{indent}   " + line)
            if draw(st.integers(0, 9)) == 0:
                out.append(draw(st.sampled_from(["", "  # note", "# note", "   "])))
    if draw(st.integers(0, 9)) == 0:
        out.append(draw(st.sampled_from(["timeframe: 5m", "# the end", "", "rules:", "---", "  - then: close market"])))
    return "\n".join(out) + draw(st.sampled_from(["\n"] * 8 + ["", "\n\n"]))


def _shape(result: LoadResult) -> Any:
    diagnostics = [(d.code, d.severity, d.line, d.column, d.end_line, d.end_column, d.message, d.hint)
                   for d in result.diagnostics]
    rule_file = result.rule_file
    if rule_file is None:
        return diagnostics, None
    rules = [(r.index, r.name, r.name_span, r.span, r.when, r.then, r.line, dict(r.templates), r.param_uses,
              r.cooldown, r.every, r.at, r.cron, r.trigger, r.enabled, r.priority, dict(r.key_spans),
              dict(r.value_spans)) for r in rule_file.rules]
    head = (rule_file.symbols, rule_file.settings, rule_file.risk, rule_file.params, rule_file.span,
            dict(rule_file.key_spans), dict(rule_file.value_spans))
    return diagnostics, head, rules


def _composed(text: str) -> Any:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loader, "read_plain_rules", lambda text: None)
        return _shape(load_text(text, "t.yaml"))


@settings(max_examples=400, deadline=None)
@given(_files())
def test_a_plain_list_reads_as_the_composed_file(text: str) -> None:
    assert _shape(load_text(text, "t.yaml")) == _composed(text)


_PLAIN = """symbol: BTCUSDT
params: {n: 14}
rules:
  - name: dip buy
    when: 'rsi(${n}) < 30 and position == 0'
    then: buy 0.01 limit bid1 tp 2%
    cooldown: 5m

  # exits
  - when: "rsi(14) > 70"
    then: close market
"""


def test_a_plain_list_is_read_without_composing_it() -> None:
    plain = read_plain_rules(_PLAIN)
    assert plain is not None and compose_header(_PLAIN, plain) is not None
    assert [list(item) for item in plain.items] == [["name", "when", "then", "cooldown"], ["when", "then"]]
    assert _shape(load_text(_PLAIN, "t.yaml")) == _composed(_PLAIN)


@pytest.mark.parametrize("text", [
    _PLAIN.replace("cooldown: 5m", "cooldown: 5m  # five"),  # a comment after a value
    _PLAIN.replace("then: close market", "then: close market\n    at: '08:00'"),  # another key
    _PLAIN.replace("  - when:", "   - when:"),  # items not aligned
    _PLAIN + "timeframe: 5m\n",  # a key after the list
    _PLAIN.replace("dip buy", "dip buy: now"),  # ': ' in a plain value
    _PLAIN.replace("dip buy", "dip\u00a0buy: x"),  # a no-break space, which YAML does not take for a blank
    _PLAIN.replace("symbol: BTCUSDT", "symbol: BTCUSDT\nnote: |\n  x\nrules:\n  - then: x"),  # rules: twice
])
def test_other_lists_are_composed(text: str) -> None:
    plain = read_plain_rules(text)
    assert plain is None or compose_header(text, plain) is None
    assert _shape(load_text(text, "t.yaml")) == _composed(text)


def test_a_header_that_does_not_compose_alone_is_composed_with_the_list() -> None:
    text = 'symbol: "BTC\nrules:\n  - then: close market\n'  # `rules:` inside a quote never closed
    plain = read_plain_rules(text)
    assert plain is not None and compose_header(text, plain) is None
    assert _shape(load_text(text, "t.yaml")) == _composed(text)


_MARK = re.compile(r"[ \t]+# [EW]: [A-Z0-9, ]+$", re.MULTILINE)


@pytest.mark.parametrize("path", sorted((Path(__file__).parent / "cases").glob("*/*.yaml")), ids=lambda p: p.name)
def test_the_corpus_reads_the_same_both_ways(path: Path) -> None:
    """Every corpus file, without its expected-code marks (a comment after a value keeps a list
    out of the plain form), reads the same with and without the plain form."""
    try:
        text = _MARK.sub("", path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return  # the files that are not UTF-8 never reach the loader's YAML
    assert _shape(load_text(text, "t.yaml")) == _composed(text)
