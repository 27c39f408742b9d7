"""Rule text -> typed AST (``lang/ast.py``), or one diagnostic saying what is wrong.

The grammar is ``grammar/rulebot.lark``, compiled once by lark into an LALR(1) table (contextual
lexer, no conflicts under ``strict=True``). Rules are read by a small table-driven reader over
that table (``reader.py``), which builds the AST without a parse tree and without recursion, about
eight times faster than ``Lark.parse`` plus a ``Transformer``, which gives the same AST and spans
(tests compare them). When the text does not parse, lark's own interactive parser finds the error
and what it would accept there (``syntax_errors.py``).

Depth is bounded while reading: more than ``MAX_NESTING`` nested parentheses, or an expression
nested deeper than that (``- - - x``, ``a + a + ... + a``), is E205 before any deeper node exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Iterator, Literal

from lark import Lark, Token
from lark.lark import PostLex

import rulebot
from rulebot.lang import ast
from rulebot.lang.ast_builder import AstBuilder, TreeToAst
from rulebot.lang.diagnostics import Diagnostic, Severity, in_source
from rulebot.lang.makers import maker
from rulebot.lang.reader import MAX_NESTING, Stop, Tables, read, tables, too_deep
from rulebot.lang.source import Source
from rulebot.lang.syntax_errors import SyntaxReport, describe
from rulebot.lang.yaml_slips import indented_item

__all__ = [
    "MAX_LENGTH",
    "MAX_NESTING",
    "ParseResult",
    "Start",
    "grammar_path",
    "grammar_text",
    "lark_parser",
    "make_lark",
    "parse",
    "parse_duration",
    "parse_time_of_day",
    "parse_with_lark",
]

Start = Literal["rule", "condition", "actions"]
START_SYMBOLS: tuple[Start, ...] = ("rule", "condition", "actions")

MAX_LENGTH = 20_000
"""Longest rule text read, in characters; it keeps the time spent on any text bounded."""

Node = ast.RuleBody | ast.Expr | tuple[ast.Action, ...]


@dataclass(frozen=True, slots=True)
class ParseResult:
    """The parsed node (None when the text has an error) and the diagnostics (at most one)."""

    node: Node | None
    diagnostics: tuple[Diagnostic, ...] = ()


# --- the grammar, loaded once -----------------------------------------------------------------


def grammar_path() -> Path:
    """Where ``rulebot.lark`` is: inside the installed package (the wheel), else the source tree."""
    packaged = Path(rulebot.__file__).parent / "grammar" / "rulebot.lark"
    if packaged.is_file():
        return packaged
    return Path(rulebot.__file__).parent.parent / "grammar" / "rulebot.lark"


@cache
def grammar_text() -> str:
    """The grammar file's text."""
    return grammar_path().read_text(encoding="utf-8")


# Reserved words are the grammar's `_WORD: "word"i` terminals (see the grammar's header).
_RESERVED_DEF = re.compile(r'^(_[A-Z]+):\s*"([a-z]+)"i\s*$', re.MULTILINE)


class _Reserved(PostLex):
    """Makes the lexer recognise reserved words, and names, in every parser state."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.always_accept = names

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        return stream


def make_lark(strict: bool = False, cache_tables: bool = True) -> Lark:
    """Compile the grammar. ``strict=True`` fails on any LALR conflict or terminal collision
    (it needs the ``interegular`` package); the tables are cached on disk by lark."""
    text = grammar_text()
    reserved = tuple(m.group(1) for m in _RESERVED_DEF.finditer(text))
    return Lark(
        text,
        parser="lalr",
        lexer="contextual",
        start=list(START_SYMBOLS),
        propagate_positions=True,
        maybe_placeholders=True,
        postlex=_Reserved(("NAME",) + reserved),
        g_regex_flags=re.ASCII,
        strict=strict,
        cache=cache_tables and not strict,
    )


@cache
def lark_parser() -> Lark:
    """The one compiled grammar of this process."""
    return make_lark()


@cache
def _tables() -> Tables:
    """The reader's view of the compiled grammar (``reader.py``), made once."""
    return tables(lark_parser())


# --- the public API ---------------------------------------------------------------------------


def parse(source: Source, start: Start) -> ParseResult:
    """Parse ``source.text`` as a one-line rule, a condition or a list of actions.

    Never raises on any text: a problem comes back as exactly one diagnostic (E201 syntax,
    E204 unknown action, E205 nested too deeply, E301 a value after ``is``, E103 a line YAML
    joined to the rule) placed in the file through ``source``.
    """
    text = source.text
    if len(text) > MAX_LENGTH:
        return ParseResult(None, (_too_long(source),))
    try:
        return _parsed(read(_tables(), text, start), ())
    except Stop as stop:
        if stop.span is not None:
            return ParseResult(None, (in_source(stop.code, Severity.ERROR, source, stop.span.start,
                                                stop.span.end, stop.message, stop.hint),))
    err: SyntaxReport = indented_item(describe(lark_parser(), text, start), text, source.location)
    return ParseResult(None, (in_source(err.code, Severity.ERROR, source, err.start, err.end,
                                        err.message, err.hint),))


_parsed = maker(ParseResult)  # ParseResult(node), without the frozen dataclass's __init__: two per rule


def _too_long(source: Source) -> Diagnostic:
    """E205 at the first parenthesis nested too deep, if any; else E201 for the length."""
    depth = 0
    for m in _PARENTHESIS.finditer(source.text):
        depth += 1 if m.group() == "(" else -1
        if depth > MAX_NESTING:
            stop = too_deep(m.start(), m.end(), "parentheses")
            return in_source(stop.code, Severity.ERROR, source, m.start(), m.end(), stop.message,
                             stop.hint)
    return in_source("E201", Severity.ERROR, source, MAX_LENGTH, len(source.text),
                     f"rule text too long ({len(source.text)} characters, at most {MAX_LENGTH})",
                     "split it into several rules")


_PARENTHESIS = re.compile(r"[()]")


def parse_with_lark(text: str, start: Start) -> Node:
    """The reference reading: ``Lark.parse`` and a ``Transformer`` over its tree.

    Raises lark's ``UnexpectedInput`` or ``SyntaxProblem``, and recurses as deep as the text
    nests: for tests that compare it with ``parse``, not for production.
    """
    tree = lark_parser().parse(text, start=start)
    return TreeToAst(AstBuilder()).build(tree)  # type: ignore[no-any-return]


_DURATION = re.compile(r"\s*([0-9]+)([smhdwM])\s*", re.ASCII)
_ALIAS = {"D": ast.Duration(1, "d"), "W": ast.Duration(1, "w")}
_TIME = re.compile(r"\s*([0-9]{1,2}):([0-9]{2})\s*", re.ASCII)


def parse_duration(text: str) -> ast.Duration | None:
    """A duration or timeframe written alone (``cooldown: 15m``, ``every: 1h``, ``timeframe: D``).

    Units are case-sensitive (``m`` minutes, ``M`` months); Bybit's ``D`` and ``W`` read as
    ``1d`` and ``1w``. None when ``text`` is not one.
    """
    alias = _ALIAS.get(text.strip())
    if alias is not None:
        return alias
    m = _DURATION.fullmatch(text)
    return ast.Duration(int(m.group(1)), m.group(2)) if m else None


def parse_time_of_day(text: str) -> ast.TimeOfDay | None:
    """``HH:MM`` between 00:00 and 23:59 (``at: "08:00"``); None otherwise."""
    m = _TIME.fullmatch(text)
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour > 23 or minute > 59:
        return None
    return ast.TimeOfDay(hour, minute)
