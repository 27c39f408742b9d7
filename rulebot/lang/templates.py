"""``notify`` message templates: ``"funding high: {funding_rate}"`` (LANGUAGE.md §6).

A message is literal text with ``{expr}`` parts; ``{{`` and ``}}`` stand for literal braces.
Each part is parsed as an expression and checked like any other (E211 when it cannot be
read). Positions: a message without escapes maps each character of a part to its exact place
in the file; when the quoted string holds escapes (``\\"``), the characters no longer line up
with the file, so diagnostics inside it point at the start of the string instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rulebot.lang import ast as A
from rulebot.lang.expressions import ExprChecker
from rulebot.lang.report import Reporter
from rulebot.lang.source import Source


@dataclass(frozen=True, slots=True)
class TemplatePart:
    """A piece of a message: literal ``text``, or (``is_expr``) the text of an expression;
    ``start`` is its offset in the message value."""

    text: str
    is_expr: bool
    start: int


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """Why a message cannot be split: the offset of the offending brace and what is wrong."""

    offset: int
    message: str
    hint: str


_BRACES = re.compile(r"\{\{|\}\}|[{}]")
"""A doubled brace (a literal one) or a single one, leftmost first: ``{{{`` is ``{{`` then ``{``."""


def split_template(value: str) -> tuple[tuple[TemplatePart, ...], TemplateProblem | None]:
    """Split a message into literal and ``{expr}`` parts (the parts read before any problem)."""
    parts: list[TemplatePart] = []
    literal: list[str] = []  # pieces of the literal text since the last part
    literal_start = 0
    i = 0
    search = _BRACES.search
    # from brace to brace: the text between is literal, and most messages have few braces
    while (found := search(value, i)) is not None:
        at = found.start()
        literal.append(value[i:at])
        brace = found.group()
        if len(brace) == 2:
            literal.append(brace[0])
            i = at + 2
            continue
        if brace == "}":
            return tuple(parts), TemplateProblem(at, "unmatched '}' in the message", "write '}}' for a literal brace")
        end = value.find("}", at + 1)
        if end < 0:
            return tuple(parts), TemplateProblem(at, "unclosed '{' in the message",
                                                 "close it with '}', or write '{{' for a literal brace")
        text = "".join(literal)
        if text:
            parts.append(TemplatePart(text, False, literal_start))
        literal = []
        inner = value[at + 1:end]
        if not inner.strip():
            return tuple(parts), TemplateProblem(at, "empty '{}' in the message",
                                                 "put a value inside, such as '{price}'")
        parts.append(TemplatePart(inner, True, at + 1))
        i = end + 1
        literal_start = i
    literal.append(value[i:])
    text = "".join(literal)
    if text:
        parts.append(TemplatePart(text, False, literal_start))
    return tuple(parts), None


def check_template(message: A.String, ec: ExprChecker) -> None:
    """Check every ``{expr}`` of a notify message; what they read joins the checker's reads."""
    outer = ec.rep.source
    exact = _exact(message, outer)
    parts, problem = split_template(message.value)
    if problem is not None:
        at = message.span.start + 1 + problem.offset if exact else message.span.start
        ec.rep.error("E211", A.Span(at, at + 1), problem.message, hint=problem.hint)
    for part in parts:
        if part.is_expr:
            _check_part(part, message, outer, exact, ec)


def _exact(message: A.String, source: Source) -> bool:
    """Whether the string's characters stand one to one in the rule text (no escapes)."""
    s = message.span
    return s.end - s.start == len(message.value) + 2 and source.text[s.start + 1:s.end - 1] == message.value


def _check_part(part: TemplatePart, message: A.String, outer: Source, exact: bool, ec: ExprChecker) -> None:
    from rulebot.lang.parser import parse  # the parser imports the checker's tables, not the reverse

    # the part's map is a slice of the rule text's, made only if a diagnostic needs it
    if exact:
        base = message.span.start + 1 + part.start
        sub = Source.deferred(outer.file, part.text, lambda: outer.positions[base:base + len(part.text) + 1])
    else:
        at = message.span.start
        sub = Source.deferred(outer.file, part.text, lambda: (outer.location(at),) * (len(part.text) + 1))
    result = parse(sub, "condition")
    if result.node is None and not result.diagnostics:
        ec.rep.error("E211", message.span, f"invalid expression '{{{part.text.strip()}}}' in the message")
        return
    if result.diagnostics or result.node is None:
        for d in result.diagnostics:
            ec.rep.sink.append(replace(d, code="E211", message=f"invalid expression '{{{part.text.strip()}}}' "
                                       f"in the message", hint=d.message))
        return
    inner = ExprChecker(Reporter(sub, ec.rep.sink), ec.timeframe, ec.coins, in_actions=True)
    inner.value(result.node)
    ec.absorb(inner)
