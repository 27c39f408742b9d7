"""Slips in the YAML around a rule, told as E103 in the author's words.

libyaml says where it stopped (``mapping values are not allowed here``); the slip that got it
there is often plain from the lines themselves: a one-line rule holding ``: `` that YAML read
as a key (``- when ... notify "note: dip"``), a double-quoted rule holding double quotes, or a
line indented further than the line above it, which YAML read as more of the value above. The
last can also leave valid YAML whose rule text then fails at a ``- `` (``indented_item``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rulebot.lang.source import Location
from rulebot.lang.syntax_errors import SyntaxReport

__all__ = ["YamlReport", "indented_item", "yaml_problem_near_rule"]


@dataclass(frozen=True, slots=True)
class YamlReport:
    """An E103 said in the author's words: where (1-based file line and column) and what to say."""

    line: int
    column: int
    message: str
    hint: str


_RULE_LINE = re.compile(r"(?P<indent>\s*)-[ \t]+(?P<quote>[\"']?)\s*when\b", re.IGNORECASE)
_COMMENT = re.compile(r"[ \t]+#")
# `key:` or `- key:` at the start of a line, and a line whose value is text a further line may continue
_KEY_START = re.compile(r"(-[ \t]+)?([A-Za-z_][\w ]*):(?:\s|$)")
_TEXT_VALUE = re.compile(r"(?:-[ \t]+)?[A-Za-z_][\w ]*:[ \t]+[^\s|>]|-[ \t]+\w")
_ITEM_IN_TEXT = re.compile(r"(?<=\s)- ")
_UNESCAPED_QUOTE = re.compile(r'(?<!\\)"')
_DASH = re.compile(r"-[ \t]+")


def yaml_problem_near_rule(lines: Sequence[str], line: int, other_line: int) -> YamlReport | None:
    """E103 for a YAML error that a slip in a rule explains, or None.

    ``line`` is where libyaml found the problem and ``other_line`` where its context started
    (1-based; the two differ for an unclosed quote, found at the end of the file). Told apart:
    a one-line rule holding ``: `` that YAML read as a key (``- when ... notify "note: dip"``),
    a double-quoted rule holding double quotes, and a line indented further than the line
    above it, which YAML read as more of the value above (``cooldown:`` under ``then:``).
    """
    for number in dict.fromkeys((line, other_line)):
        if 1 <= number <= len(lines):
            report = _one_line_rule(lines[number - 1], number)
            if report is not None:
                return report
    if 1 <= line <= len(lines):
        return _indented_further(lines, line)
    return None


def _rule_body(text: str) -> str:
    """The rule as written after ``- ``, without a trailing ``# comment`` outside double quotes."""
    for match in _COMMENT.finditer(text):
        if text.count('"', 0, match.start()) % 2 == 0:
            return text[:match.start()]
    return text.rstrip()


def _single_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _one_line_rule(text: str, number: int) -> YamlReport | None:
    match = _RULE_LINE.match(text)
    if match is None:
        return None
    body_at = match.start("quote") if match.group("quote") else match.end("indent") + 1
    body_at += len(text[body_at:]) - len(text[body_at:].lstrip())
    body = _rule_body(text[body_at:])
    quotes = [m.start() for m in _UNESCAPED_QUOTE.finditer(body)]
    if match.group("quote") == '"' and len(quotes) > 2:
        inner = body[1:quotes[-1]] if quotes[-1] == len(body) - 1 else body[1:]
        closes = quotes[1]
        return YamlReport(number, body_at + closes + 1,
                          "this rule is in double quotes and holds double quotes too: YAML ended the rule "
                          "at this '\"' and could not read the rest",
                          f"quote the whole rule with single quotes: - {_single_quoted(inner)}")
    colon = body.find(": ")
    if match.group("quote") or colon < 0:
        return None
    return YamlReport(number, body_at + colon + 1,
                      "YAML read the ': ' here as a key: a rule that contains ': ' must be quoted",
                      f"quote the whole rule: - {_single_quoted(body)}")


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _content_column(text: str) -> int:
    """Where a line's key or text starts (0-based): after its indentation and any ``- ``."""
    stripped = text.lstrip(" ")
    dash = _DASH.match(stripped)
    return _indent(text) + (dash.end() if dash else 0)


def _indented_further(lines: Sequence[str], line: int) -> YamlReport | None:
    text = lines[line - 1]
    stripped = text.strip()
    key = _KEY_START.match(stripped)
    above = next((n for n in range(line - 1, 0, -1)
                  if lines[n - 1].strip() and not lines[n - 1].lstrip().startswith("#")), 0)
    if key is None or not above or _indent(text) <= _content_column(lines[above - 1]):
        return None
    upper = lines[above - 1].strip()
    if not _TEXT_VALUE.match(upper):
        return None  # the line above holds no text that this one could continue
    message = (f"this line is indented further than line {above}, so YAML read it as more of the "
               f"value on line {above}")
    if key.group(1):
        dashes = [n for n in range(above, 0, -1) if lines[n - 1].lstrip().startswith("- ")
                  and _indent(lines[n - 1]) < _indent(text)]
        hint = (f"start this '- ' in column {_indent(lines[dashes[0] - 1]) + 1}, like the '- ' on line {dashes[0]}"
                if dashes else "start this '- ' in the same column as the '- ' of the items above it")
    else:
        hint = f"start '{key.group(2)}:' in column {_indent(lines[above - 1]) + 1}, like the keys above it" \
            if not upper.startswith("-") else f"line up '{key.group(2)}:' with the keys of its rule"
    return YamlReport(line, _indent(text) + 1, message, hint)


def indented_item(report: SyntaxReport, text: str, location: Callable[[int], Location]) -> SyntaxReport:
    """E103 instead of ``report`` when the rule text failed at or after a ``- `` that starts a
    file line: a list item indented further than the one above, which YAML read as more of
    its text (``found '-'``). ``location`` gives the file position of an offset of ``text``."""
    for match in _ITEM_IN_TEXT.finditer(text):
        at = match.start()
        if at > report.end:
            break
        if location(at).line != location(at - 1).line:
            return SyntaxReport("E103", at, at + 1,
                                "this line is indented further than the rule above it, so YAML read it "
                                "as more of that rule's text",
                                "start every rule's '- ' in the same column")
    return report
