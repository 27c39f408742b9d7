"""The rule-file loader: every diagnostic it emits, at the exact line and column; hostile files;
the shape of what it returns; its speed."""

from __future__ import annotations

import re
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.lang.diagnostics import Diagnostic, Severity, render_text
from rulebot.lang.filemodel import Money, Percent
from rulebot.lang.loader import MAX_BYTES, MAX_DIAGNOSTICS, LoadResult, load_file, load_text
from rulebot.model.enums import Category, MarginMode, PositionMode, TpslMode, TriggerMode

ROOT = Path(__file__).resolve().parents[2]
HEAD = "symbol: BTCUSDT\nrules:\n"


def load(text: str) -> LoadResult:
    result = load_text(text, "f.yaml")
    render_text(result.diagnostics, {"f.yaml": result.lines})  # rendering never fails either
    return result


def found(text: str) -> list[tuple[str, int, int, int, int]]:
    return [(d.code, d.line, d.column, d.end_line, d.end_column) for d in load(text).diagnostics]


def only(text: str) -> Diagnostic:
    diagnostics = load(text).diagnostics
    assert len(diagnostics) == 1, diagnostics
    return diagnostics[0]


# One case per diagnostic code: (code, file text, line, column, end line, end column).
CASES = [
    ("E102", "", 1, 1, 1, 2),
    ("E102", "# only a comment\n", 1, 1, 1, 2),
    ("E103", HEAD + "  - name: a\n    then: notify \"a: b\"\n", 4, 20, 4, 21),
    ("E103", HEAD + "  - name: a\n    when: x\n   - name: b\n", 5, 4, 5, 5),
    ("E103", "symbol: [BTCUSDT\nrules: []\n", 2, 6, 2, 7),
    ("E103", "symbol: BTCUSDT\n---\nsymbol: ETHUSDT\n", 2, 1, 2, 2),
    ("E104", "- BTCUSDT\n", 1, 1, 1, 10),
    ("E104", HEAD + "  - when x then y\n  - [a, b]\n", 4, 5, 4, 11),
    ("E104", HEAD + "  -\n", 3, 3, 3, 4),
    ("E105", HEAD + "  - name: a\n    when: x\n    then: y\n    cooldwn: 5m\n", 6, 5, 6, 12),
    ("E105", "symbol: BTCUSDT\nsettings:\n  levrage: 5\n", 3, 3, 3, 10),
    ("E106", "category: linear\n", 1, 1, 1, 9),
    ("E106", HEAD + "  - name: a\n    when: x\n", 3, 11, 3, 12),
    ("E106", HEAD + "  - when: x\n    then:\n", 4, 5, 4, 9),
    ("E106", "symbol: []\n", 1, 9, 1, 11),
    ("E107", "symbol: BTCUSDT\nrules: when x then y\n", 2, 8, 2, 21),
    ("E108", "symbol: BTCUSDT\nsettings:\n  leverage: abc\n", 3, 13, 3, 16),
    ("E108", HEAD + "  - name: a\n    when: x\n    then: y\n    priority: high\n", 6, 15, 6, 19),
    ("E109", HEAD + "  - when rsi(14) < 30 then notify \"rsi: low\"\n", 3, 5, 3, 39),
    ("E110", "symbol: BTCUSDT\ncategory: futures\n", 2, 11, 2, 18),
    ("E110", HEAD + "  - when: x\n    then: y\n    trigger: edgy\n", 5, 14, 5, 18),
    ("E111", HEAD + "  - name: a\n    when: x\n    then: y\n  - name: a\n    when: x\n    then: y\n", 6, 11, 6, 12),
    ("E112", "symbol: BTCUSDT\nparams: {low: 30}\nrules:\n  - when rsi(14) < ${lowe} then buy 1\n", 4, 20, 4, 27),
    ("E113", HEAD + "  - then: y\n    cron: '61 * * * *'\n", 4, 11, 4, 23),
    ("E114", HEAD + "  - then: y\n    at: [8:00, '25:00']\n", 4, 16, 4, 23),
    ("E115", "symbol: BTCUSDT\ntimeframe: 7m\n", 2, 12, 2, 14),
    ("E116", HEAD + "  - when: x\n    then: y\n    cooldown: 15\n", 5, 15, 5, 17),
    ("E117", "symbol: BTCUSDT\ntimezone: Europe/Berlín\n", 2, 11, 2, 24),
    ("E118", "symbol: BTCUSDT\nsymbol: ETHUSDT\n", 2, 1, 2, 7),
    ("E119", "symbol: [BTCUSDT, btc/usdt]\n", 1, 19, 1, 27),
    ("E308", "symbol: BTCUSDT\nrisk:\n  max_daily_loss: 300%\n", 3, 19, 3, 23),
    ("W107", HEAD + "  - when: rsi(14) < 30 and # position == 0\n    then: buy 1\n", 3, 28, 3, 43),
]


@pytest.mark.parametrize(("code", "text", "line", "column", "end_line", "end_column"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_code_at_its_exact_place(code: str, text: str, line: int, column: int,
                                      end_line: int, end_column: int) -> None:
    assert (code, line, column, end_line, end_column) in found(text)


def test_every_code_the_loader_emits_has_a_case() -> None:
    sources = "".join((ROOT / "rulebot" / "lang" / name).read_text()
                      for name in ("loader.py", "ruleitems.py", "filemodel.py", "values.py"))
    emitted = set(re.findall(r'"([EW]\d{3})"', sources))
    assert emitted <= {case[0] for case in CASES} | {"E101"}  # E101 has its own tests below


def test_messages_are_in_the_traders_words() -> None:
    assert only("symbol: BTCUSDT\nsettings:\n  leverage: abc\n").message == "`leverage` must be a number, found 'abc'"
    quoted = only("symbol: BTCUSDT\nsettings:\n  leverage: '5'\n")
    assert quoted.hint == "remove the quotes"
    unknown = only(HEAD + "  - when: x\n    then: y\n    cooldwn: 5m\n")
    assert (unknown.message, unknown.hint) == ("unknown key 'cooldwn'", "did you mean 'cooldown'?")
    synonym = only(HEAD + "  - condition: x\n    then: y\n")
    assert synonym.hint == "did you mean 'when'?"
    misplaced = only("symbol: BTCUSDT\nwhen: x\n")
    assert "belongs to a rule" in misplaced.hint
    assert only("symbol: BTCUSDT\nrules: when x then y\n").hint.startswith("start each rule on its own line")
    then_list = only(HEAD + "  - when: x\n    then:\n      - buy 1\n      - sell 1\n")
    assert then_list.message == "`then` must be rule text, found a list"
    assert then_list.hint == "write the actions on one line, separated by commas"


def test_e109_hint_gives_the_rule_quoted() -> None:
    diagnostic = only(HEAD + "  - when rsi(14) < 30 then notify \"it's: low\"\n")
    assert diagnostic.code == "E109"
    assert diagnostic.hint == "quote the whole rule: - 'when rsi(14) < 30 then notify \"it''s: low\"'"


def test_missing_then_inside_when_says_so() -> None:
    diagnostic = only(HEAD + "  - name: a\n    when: x > 1 then buy 1\n")
    assert diagnostic.code == "E106"
    assert "inside `when`" in diagnostic.hint


def test_yaml_errors_point_at_the_problem_not_its_context() -> None:
    diagnostic = only(HEAD + "  - name: a\n    when: \"abc\n    then: y\n")
    assert (diagnostic.code, diagnostic.line) == ("E103", 6)
    assert diagnostic.hint == "close the quote opened on line 4"


def test_a_cut_comment_warns_but_a_normal_comment_does_not() -> None:
    quiet = HEAD + (
        "  - when rsi(14) < 30 then buy 0.01  # entry\n"
        "  - when rsi(14) > 70 then close # exit all\n"
        "  - name: a  # the first\n    when: price > 100 # then buy\n    then: buy 1 # tp 2%\n"
        "  - when close crosses above ema(20) then buy 100 usdt #tag\n"
    )
    assert found(quiet) == []
    for cut in ("  - when rsi(14) < 30 then notify \"order #1 done\"\n",
                "  - when rsi(14) < 30 # then buy 0.01\n",
                "  - when rsi(14) < 30 then buy 0.01 limit # bid1\n",
                "  - when: x\n    then: buy 0.01 limit ema(20 # - 1%)\n"):
        warning = only(HEAD + cut)
        assert (warning.code, warning.severity) == ("W107", Severity.WARNING)


def test_a_duplicate_default_name_points_at_the_rule() -> None:
    result = load(HEAD + "  - when x then y\n  - name: rule 1\n    when: x\n    then: y\n")
    assert [(d.code, d.line, d.column) for d in result.diagnostics] == [("E111", 4, 11)]


def test_a_valid_file_in_full() -> None:
    text = (
        "symbol: [BTCUSDT, ETHUSDT]\ncategory: inverse\ntimeframe: 240m\ntimezone: Europe/Berlin\n"
        "settings:\n  leverage: 2.5\n  position_mode: hedge\n  margin_mode: cross\n  tpsl_mode: partial\n"
        "risk:\n  max_position: 0.05\n  max_order_value: 5000 usdt\n  max_open_orders: 4\n"
        "  max_orders_per_minute: 10\n  max_daily_loss: 200\n  price_band: 2%\n"
        "params: {low: 30, size: 0.01, word: flat}\n"
        "rules:\n"
        "  - when rsi(14) < ${low} and position is ${word} then buy ${size}\n"
        "  - name: sched\n    at: 8:30\n    then: close\n    trigger: level\n    enabled: no\n    priority: -2\n"
        "  - name: many\n    at: ['08:00', 21:45]\n    every: 1w\n    cron: ' 0  */4 * * * '\n    then: halt\n"
    )
    result = load(text)
    assert result.diagnostics == ()
    rf = result.rule_file
    assert rf is not None
    assert (rf.symbols, rf.category, rf.timeframe, rf.timezone) == (("BTCUSDT", "ETHUSDT"), Category.INVERSE, "4h",
                                                                    "Europe/Berlin")
    assert (rf.settings.leverage, rf.settings.position_mode, rf.settings.margin_mode, rf.settings.tpsl_mode) == (
        Decimal("2.5"), PositionMode.HEDGE, MarginMode.CROSS, TpslMode.PARTIAL)
    assert rf.risk.max_position == Decimal("0.05")
    assert rf.risk.max_order_value == Money(amount=Decimal("5000"), coin="USDT")
    assert (rf.risk.max_open_orders, rf.risk.max_orders_per_minute) == (4, 10)
    assert rf.risk.max_daily_loss == Money(amount=Decimal("200"))
    assert rf.risk.price_band == Percent(fraction=Decimal("0.02"))
    first, sched, many = rf.rules
    assert first.line is not None and first.when is None and first.name == "rule 1"
    assert first.line.text == "when rsi(14) < 30 and position is flat then buy 0.01"
    assert first.templates["line"].text == "when rsi(14) < ${low} and position is ${word} then buy ${size}"
    assert [(u.name, u.start, u.end) for u in first.param_uses] == [("low", 15, 21), ("word", 38, 45),
                                                                   ("size", 55, 62)]
    assert (sched.at, sched.trigger, sched.enabled, sched.priority, sched.scheduled) == (
        ((8, 30),), TriggerMode.LEVEL, False, -2, True)
    assert sched.when is None and sched.then is not None and sched.then.text == "close"
    assert (many.at, many.every, many.cron) == (((8, 0), (21, 45)), 604800, "0 */4 * * *")
    assert not first.scheduled and first.cooldown is None
    assert rf.value_span("risk.price_band").start.line == 16
    assert many.value_span("cron").start.line == 29 and many.key_spans["every"].start.column == 5


def test_substituted_text_maps_to_the_dollar_sign() -> None:
    result = load("symbol: BTCUSDT\nparams: {low: 30}\nrules:\n  - when rsi(14) < ${low} then buy 1\n")
    assert result.rule_file is not None
    line = result.rule_file.rules[0].line
    assert line is not None and line.text == "when rsi(14) < 30 then buy 1"
    assert [line.location(i) for i in (15, 16)] == [line.location(15)] * 2
    assert (line.location(15).line, line.location(15).column) == (4, 20)
    assert (line.location(18).line, line.location(18).column) == (4, 27)  # the 't' of 'then'


def test_overrides_replace_declared_values_and_unknown_ones_are_reported() -> None:
    text = "symbol: BTCUSDT\nparams: {low: 30, cd: 5m}\nrules:\n  - when: rsi(14) < ${low}\n    then: buy 1\n" \
           "    cooldown: ${cd}\n"
    result = load_text(text, "f.yaml", overrides={"low": "25", "cd": "1h"})
    assert result.diagnostics == () and result.rule_file is not None
    rule = result.rule_file.rules[0]
    assert rule.when is not None and rule.when.text == "rsi(14) < 25" and rule.cooldown == 3600
    assert result.rule_file.params["low"].value == 25
    unknown = load_text(text, "f.yaml", overrides={"lo": "25"})
    assert [(d.code, d.line, d.hint) for d in unknown.diagnostics] == [("E112", 2, "did you mean 'low'?")]


def test_an_invalid_value_does_not_hide_the_rest() -> None:
    result = load("symbol: BTCUSDT\ntimeframe: 7m\nsettings:\n  leverage: 0\n" + "rules:\n"
                  "  - name: a\n    when: x\n    then: y\n    cooldown: soon\n  - when x then y\n")
    assert [d.code for d in result.diagnostics] == ["E115", "E308", "E116"]
    rf = result.rule_file
    assert rf is not None and rf.timeframe == "1m" and rf.settings.leverage is None
    assert [r.name for r in rf.rules] == ["a", "rule 2"] and rf.rules[0].cooldown is None


def test_line_endings_and_byte_order_mark_do_not_move_columns() -> None:
    result = load("\ufeffsymbol: BTCUSDT\r\nrules:\r\n  - 'when x then y'\r\n")
    assert result.diagnostics == () and result.rule_file is not None
    line = result.rule_file.rules[0].line
    assert line is not None and (line.location(0).line, line.location(0).column) == (3, 6)


def test_tags_are_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    result = load(f"symbol: !!python/object/apply:os.system ['touch {marker}']\n")
    assert not marker.exists()
    assert [d.code for d in result.diagnostics] == ["E119"]


# --- hostile files -------------------------------------------------------------------------------


def quick(run: Callable[[], LoadResult]) -> LoadResult:
    """``run()``'s result, checked to come back in well under the time a user would call a hang."""
    start = time.process_time()
    result = run()
    assert time.process_time() - start < 3.0
    assert isinstance(result, LoadResult)
    return result


def test_unreadable_files_are_e101(tmp_path: Path) -> None:
    cases = {
        "binary.yaml": bytes(range(256)) * 4,
        "latin1.yaml": "symbol: BTCUSDT\nrules:\n  - when x then notify \"caf\u00e9\"\n".encode("latin-1"),
        "utf16.yaml": "symbol: BTCUSDT\n".encode("utf-16"),
        "big.yaml": b"a: " + b"x" * (10 * 1024 * 1024),
        "over.yaml": b"a: " + b"x" * MAX_BYTES,
    }
    expected = {"binary.yaml": (1, 1), "latin1.yaml": (3, 28), "utf16.yaml": (1, 1), "big.yaml": (1, 1),
                "over.yaml": (1, 1)}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        result = quick(lambda: load_file(tmp_path / name, display_name=name))
        assert [(d.code, d.file, d.line, d.column) for d in result.diagnostics] == [("E101", name, *expected[name])]
        assert result.rule_file is None
    assert "10.0 MB" in load_file(tmp_path / "big.yaml").diagnostics[0].message
    for path in (tmp_path / "missing.yaml", tmp_path):
        assert [d.code for d in load_file(path).diagnostics] == ["E101"]


def test_control_characters_in_text_are_e101_at_their_place() -> None:
    assert found(HEAD + "  - when x\x01 then y\n") == [("E101", 3, 11, 3, 12)]
    assert found("symbol: BTC\x00USDT\n") == [("E101", 1, 12, 1, 13)]
    assert found("a: " + "x" * (MAX_BYTES + 1)) == [("E101", 1, 1, 1, 2)]


@pytest.mark.parametrize("text", [
    "symbol: BTCUSDT\nrules: " + "[" * 10000 + "]" * 10000 + "\n",
    "symbol: BTCUSDT\nsettings: " + "{a: " * 10000 + "}" * 10000 + "\n",
    "symbol: BTCUSDT\nrules:\n" + "- " * 2000 + "x\n",
    "symbol: BTCUSDT\nsettings: " + "[" * 100 + "]" * 100 + "\n",
    "symbol: BTCUSDT\nrules:\n  - when: x\n    then: " + "[" * 100 + "]" * 100 + "\n",
], ids=["flow-10000", "mapping-10000", "block-2000", "settings-100", "rule-100"])
def test_deep_nesting_is_e103(text: str) -> None:
    result = quick(lambda: load(text))
    assert [d.code for d in result.diagnostics] == ["E103"] and result.rule_file is None


def test_alias_bomb_and_alias_cycle_are_e103() -> None:
    anchors = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    unread = quick(lambda: load(anchors + "symbol: BTCUSDT\n"))  # unknown keys are reported, never walked
    assert [d.code for d in unread.diagnostics] == ["E105"] * 9
    result = quick(lambda: load(anchors + "symbol: BTCUSDT\nrisk: {max_position: *i}\n"))
    assert [d.code for d in result.diagnostics] == ["E103"]
    assert "aliases" in result.diagnostics[0].message
    cycle = HEAD + "  - &r\n    when: x\n    then: y\n    name: [*r]\n"
    assert [d.code for d in quick(lambda: load(cycle)).diagnostics] == ["E103"]
    reuse = HEAD + "  - {when: x, then: &t close}\n  - {when: y, then: *t}\n"
    assert load(reuse).diagnostics == ()


def test_a_file_full_of_problems_stops_at_the_cap() -> None:
    result = quick(lambda: load(HEAD + "  - {when: x, thn: y}\n" * 30_000))  # 700 kB, 60,000 problems
    assert len(result.diagnostics) == MAX_DIAGNOSTICS and result.rule_file is None
    assert result.diagnostics[-1].hint.endswith(f"rulebot stopped reading the file here, after {MAX_DIAGNOSTICS} problems")
    many = quick(lambda: load("symbol: [" + "BTCUSDT, " * 1500 + "ETHUSDT]\n"))
    assert [(d.code, d.line, d.column) for d in many.diagnostics] == [("E119", 1, 9)]
    assert "1,501 symbols" in many.diagnostics[0].message


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("ab :-#'\"\\|>[]{},&*!%@`$\n\t\u00e9\x00\x85") +
                                ["when ", "then ", "name: ", "\n  - ", "\n    ", "${a}", "params: {a: 1}\n"]),
                max_size=60))
def test_random_text_only_ever_gives_diagnostics(pieces: list[str]) -> None:
    result = load("symbol: BTCUSDT\nrules:\n  - " + "".join(pieces))
    assert isinstance(result.diagnostics, tuple)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_ever_give_diagnostics(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    assert isinstance(load(text).diagnostics, tuple)


def make_rule_file(rules: int) -> str:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from yaml_loaders import make_rule_file as make  # the benchmark's file, every written form
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return make(rules)


def test_a_2000_rule_file_loads_quickly() -> None:
    text = make_rule_file(2000)
    start = time.process_time()
    result = load_text(text, "bench.yaml")
    elapsed = time.process_time() - start
    assert result.diagnostics == () and result.rule_file is not None and len(result.rule_file.rules) == 2000
    # benchmarks/yaml_loaders.py measures it (0.1-0.35 s of CPU on a shared 2-core machine);
    # this bound catches a quadratic slip, not noise.
    assert elapsed < 2.0
