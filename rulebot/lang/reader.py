"""The table-driven reader: rule text -> AST over lark's LALR(1) table, without lark's parser.

``tables(lark)`` takes the compiled grammar's parse table apart once; ``read(tables, text,
start)`` reads a text with it. It lexes the way lark's contextual lexer does (a word is a keyword
only where the parser expects that keyword, or where the keyword is reserved), reduces with lark's
tree-builder conventions and calls ``AstBuilder`` on every reduction, so no parse tree is built
and nothing recurses. What it does on a text depends only on the text's shape (its token types),
so what it did on a shape that parsed is kept as a plan, and the next text of that shape is built
from the plan without the table (``read``). When it cannot go on it raises ``Stop``; ``parser.py``
turns that into a diagnostic.

Depth is bounded while reading: more than ``MAX_NESTING`` nested parentheses, or an expression
nested deeper than that (``- - - x``, ``a + a + ... + a``), is E205 before any deeper node exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from lark import Lark
from lark.grammar import Rule
from lark.lexer import PatternStr
from lark.parsers.lalr_analysis import Shift

from rulebot.lang import ast
from rulebot.lang.ast_builder import LEAVES, AstBuilder, SyntaxProblem
from rulebot.lang.lexpattern import END_GROUP, NOT_A_TOKEN, TokenPattern, token_pattern
from rulebot.lang.plans import Shape, Tok, make_plan

__all__ = ["MAX_NESTING", "MAX_PLANS", "Stop", "Tables", "read", "tables", "too_deep"]

MAX_NESTING = 100
"""Deepest nesting of parentheses, and of expressions, that a rule may have (E205)."""


# tuple.__new__ makes a token or a span (named tuples) without their Python __new__ frame.
_new_tok = tuple.__new__
_Span = ast.Span


class _Splice(list[Any]):
    """Children of an ``_inlined`` rule, spliced into the parent's children (lark's convention)."""


class Stop(Exception):
    """The reader cannot go on: with a span, the diagnostic to give; without one, a syntax error
    that lark's interactive parser (``syntax_errors.describe``) is to put in words."""

    def __init__(self, span: ast.Span | None = None, code: str = "E201", message: str = "",
                 hint: str = "") -> None:
        super().__init__(message)
        self.span = span
        self.code = code
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class _Reducer:
    """One grammar rule as the fast reader applies it (mirrors lark's ``ChildFilterLALR``)."""

    size: int
    origin: str
    include: tuple[tuple[int, bool, int], ...] | None  # (index, splice it, Nones before); None: keep all
    trailing_nones: int
    splice: bool
    inline_single: bool
    unit: bool  # `?a: b`: the child stands for the rule; only the parser state changes
    deepens: bool  # the node it builds counts towards MAX_NESTING (start symbols do not)
    callback: Callable[[ast.Span, list[Any]], Any] | None
    leaf: Callable[[str, ast.Span], Any] | None  # the callback, from its one token's text (``LEAVES``)


def _reducer(rule: Rule, builder: AstBuilder, starts: frozenset[str]) -> _Reducer:
    expansion = rule.expansion
    opts = rule.options
    empty = list(opts.empty_indices or ())
    if empty:
        runs = [len(ones) for ones in "".join(str(int(b)) for b in empty).split("0")]
    else:
        runs = [0] * (len(expansion) + 1)
    include: list[tuple[int, bool, int]] = []
    nones = 0
    for i, sym in enumerate(expansion):
        nones += runs[i]
        if opts.keep_all_tokens or not (sym.is_term and sym.filter_out):
            include.append((i, not sym.is_term and sym.name.startswith("_"), nones))
            nones = 0
    trailing = nones + runs[len(expansion)]
    trivial = len(include) == len(expansion) and not trailing and not any(
        splice or before for _, splice, before in include)
    origin = rule.origin.name
    splice = origin.startswith("_")
    name = rule.alias or origin
    callback = None if splice else getattr(builder, name, None)
    inline_single = bool(opts.expand1) and not rule.alias
    if callback is None and not splice and not inline_single:
        raise RuntimeError(f"the grammar rule '{name}' has no AstBuilder callback")
    unit = inline_single and trivial and len(expansion) == 1
    leaf = LEAVES.get(name) if len(expansion) == 1 and expansion[0].is_term else None
    return _Reducer(len(expansion), origin, None if trivial else tuple(include), trailing, splice,
                    inline_single, unit, origin not in starts, callback, leaf)


@dataclass(frozen=True, slots=True)
class Tables:
    """What the reader needs of the compiled grammar, and what it learns while reading."""

    # state -> token type -> (True, next state) to shift, or (False, _Reducer) to reduce
    actions: dict[Any, dict[str, tuple[bool, Any]]]
    gotos: dict[Any, dict[str, Any]]  # state -> rule name -> state after reducing to it
    start_states: dict[str, Any]
    end_states: dict[str, Any]
    # one token and the blanks after it: a terminal, the end of the text (``END_GROUP``) or,
    # where no terminal matches, one character (``NOT_A_TOKEN``); see ``lexpattern.py``
    lexer: TokenPattern
    keywords: dict[str, str]  # keyword -> its terminal, for words the lexer reads as NAME
    reserved: frozenset[str]  # keyword terminals that are keywords in every parser state
    kept: frozenset[str]  # token types some rule keeps as a child; the others are never read
    # (state below, top state, token type) -> top state after the unit reductions done there
    units: dict[tuple[Any, Any, str], Any]
    # (start symbol, shape of a text that parsed) -> how to build its AST (see ``read``)
    plans: dict[tuple[str, tuple[str, ...]], Shape]


def _pattern_sort_key(t: Any) -> tuple[int, int, int, str]:
    return (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name)


def tables(lark: Lark) -> Tables:
    """The reader's tables for the grammar ``lark`` compiled (LALR, contextual lexer, the
    reserved words as its postlex's ``always_accept``)."""
    builder = AstBuilder()
    starts = frozenset(lark.options.start)
    conf = lark.parse_interactive("", start="rule").parser_state.parse_conf
    reducers: dict[int, _Reducer] = {}
    actions: dict[Any, dict[str, tuple[bool, Any]]] = {}
    gotos: dict[Any, dict[str, Any]] = {}
    kept: set[str] = set()
    for state, row in conf.states.items():
        actions[state], gotos[state] = {}, {}
        for symbol, (action, arg) in row.items():
            if action is Shift:
                if symbol.isupper() or symbol == "$END":
                    actions[state][symbol] = (True, arg)
                else:
                    gotos[state][symbol] = arg
            else:
                if id(arg) not in reducers:
                    reducers[id(arg)] = _reducer(arg, builder, starts)
                    kept.update(sym.name for sym in arg.expansion
                                if sym.is_term and (arg.options.keep_all_tokens or not sym.filter_out))
                actions[state][symbol] = (False, reducers[id(arg)])
    name_re = re.compile(next(t for t in lark.terminals if t.name == "NAME").pattern.to_regexp(),
                         re.ASCII)
    keywords: dict[str, str] = {}
    patterns = []
    blanks = []
    # Alternatives in lark's order, so that the first one that matches is the one lark picks.
    for t in sorted(lark.terminals, key=_pattern_sort_key):
        if t.name in lark.lexer_conf.ignore:
            blanks.append(t.pattern.to_regexp())
        elif isinstance(t.pattern, PatternStr) and name_re.fullmatch(t.pattern.value):
            keywords[t.pattern.value.lower()] = t.name
        else:
            patterns.append((t.name, t.pattern.to_regexp()))
    return Tables(
        actions=actions,
        gotos=gotos,
        start_states=dict(conf.parse_table.start_states),
        end_states=dict(conf.parse_table.end_states),
        # Blanks are skipped after each token rather than read as tokens: no token starts with
        # one, so the token each match finds is the one lark's order picks.
        lexer=token_pattern(patterns, blanks),
        keywords=keywords,
        reserved=frozenset(lark.options.postlex.always_accept) - {"NAME"},
        kept=frozenset(kept),
        units={},
        plans={},
    )


def _after_units(actions: dict[Any, dict[str, tuple[bool, Any]]], gotos: dict[Any, dict[str, Any]],
                 below: Any, top: Any, kind: str) -> Any:
    """Run the unit reductions that ``kind`` causes on ``top`` (standing on ``below``): each
    replaces the top state by a goto from ``below``, so the outcome depends on these three only."""
    while True:
        action = actions[top].get(kind)
        if action is None or action[0] or not action[1].unit:
            return top
        top = gotos[below][action[1].origin]


def too_deep(start: int, end: int, what: str) -> Stop:
    """E205 for ``what`` (parentheses, an expression) nested deeper than ``MAX_NESTING``."""
    return Stop(ast.Span(start, end), "E205", f"{what} nested more than {MAX_NESTING} deep",
                 "split the condition into simpler parts")


class _Tokens(NamedTuple):
    """A text's tokens. ``kinds`` ends with ``$END``, or with "" where a character is not a token."""

    text: str
    kinds: list[str]  # each token's terminal (a word is NAME, whether or not it is a keyword)
    # where each token starts and ends (two lists of ints: a (start, end) pair per token was a
    # tuple made and freed per token of every rule)
    starts: list[int]
    ends: list[int]
    # each token's terminal, or for a word that is a keyword, that keyword: what decides how the
    # text parses (see ``read``); None when a character is not a token
    shape: tuple[str, ...] | None


MAX_PLANS = 512
"""Plans kept (see ``read``): a few dozen shapes cover a rule file of any length."""

_MAX_SHAPE = 256
"""Longest shape, in tokens, whose plan is kept."""


_match_start = re.Match.start


def _lex(t: Tables, text: str) -> _Tokens:
    """The tokens of ``text``, and its shape. Each match is a token and the blanks after it, the
    end of the text or a character no terminal matches; as every position matches something,
    ``finditer`` yields them back to back from the first character that is not a blank."""
    matches = list(t.lexer.tokens.finditer(text, t.lexer.blanks.match(text).end()))
    kinds = [m.lastgroup or "" for m in matches]
    starts = list(map(_match_start, matches))
    ends = list(map(_match_start, matches, kinds))  # each kind's group is empty, at the token's end
    if NOT_A_TOKEN in kinds:  # lexing stops at the first character that is not a token
        cut = kinds.index(NOT_A_TOKEN)
        return _Tokens(text, kinds[:cut] + [""], starts[:cut + 1], ends[:cut + 1], None)
    if "NAME" in kinds:
        keyword = t.keywords.get
        shape = tuple([keyword(text[start:end].lower(), kind) if kind == "NAME" else kind
                       for kind, start, end in zip(kinds, starts, ends)])
    else:
        shape = tuple(kinds)
    kinds[-1] = "$END"
    return _new_tok(_Tokens, (text, kinds, starts, ends, shape))  # as _Tokens(...), without its Python __new__


def read(t: Tables, text: str, start: str) -> Any:
    """Read ``text`` from the start symbol ``start``; raise ``Stop`` when it cannot.

    What the LALR table makes the reader do depends only on the text's shape (the types of its
    tokens), not on their values: a rule file repeats a few shapes (``NAME ( NUMBER ) COMP_OP
    NUMBER _AND NAME COMP_OP NUMBER``) with other numbers and names. So the reductions done on a
    text that parsed are worked out into a plan for its shape (``plans.py``), and a text of the
    same shape is built by the plan: the same callbacks on the same kinds of children, the
    same AST, with no table look-up. A shape that parsed once cannot nest too deep or hold a
    token the grammar refuses there; a value that cannot be read (``for 2.5 bars``) still stops
    the build, as it would the table. Texts that do not parse keep no plan.
    """
    tokens = _lex(t, text)
    shape = tokens.shape
    if shape is not None:
        known = t.plans.get((start, shape))
        if known is not None:
            try:
                return known.build(text, tokens.starts, tokens.ends)
            except SyntaxProblem as e:
                raise Stop(e.span, "E201", e.message, e.hint) from None
    steps: list[Any] = []
    result = _parse_tokens(t, tokens, start, steps)
    if shape is not None and len(shape) <= _MAX_SHAPE:
        if len(t.plans) >= MAX_PLANS:
            t.plans.clear()
        t.plans[start, shape] = Shape(make_plan(steps))
    return result


def _children(r: _Reducer, children: list[Any]) -> list[Any]:
    """The children lark's tree builder hands to the rule's callback (see ``_Reducer``)."""
    assert r.include is not None
    filtered: list[Any] = []
    for i, splice, nones_before in r.include:
        if nones_before:
            filtered.extend([None] * nones_before)
        if splice:
            filtered.extend(children[i])
        else:
            filtered.append(children[i])
    if r.trailing_nones:
        filtered.extend([None] * r.trailing_nones)
    return filtered


def _parse_tokens(t: Tables, tokens: _Tokens, start: str, steps: list[Any]) -> Any:
    """Parse ``tokens`` with the LALR table, appending to ``steps`` what is done: for each token
    shifted its type (or "" when no rule keeps it), for each reduction other than a unit one its
    ``_Reducer``.

    The current state is ``state``; the states under it, the values, spans and depths run on
    stacks, one entry per symbol read (``below`` holds one state fewer). A unit reduction
    (``?sum: product``), most of the reductions of a rule, only changes the state. Tokens no
    rule keeps (keywords, punctuation) stand on the value stack as None.
    """
    actions, gotos, units, kept, keywords, reserved = t.actions, t.gotos, t.units, t.kept, t.keywords, t.reserved
    end_state = t.end_states[start]
    state = t.start_states[start]
    below: list[Any] = []
    values: list[Any] = []
    starts: list[int] = []
    ends: list[int] = []
    depths: list[int] = []
    parens = 0
    text = tokens.text
    for kind, tok_start, tok_end in zip(tokens.kinds, tokens.starts, tokens.ends):
        value = text[tok_start:tok_end]
        if kind == "NAME":
            # a word is a keyword where the parser expects that keyword, or everywhere if reserved
            keyword = keywords.get(value.lower())
            if keyword is not None and (keyword in reserved or keyword in actions[state]):
                kind = keyword
        elif kind == "_LPAR":
            parens += 1
            if parens > MAX_NESTING:
                raise too_deep(tok_start, tok_end, "parentheses")
        elif kind == "_RPAR":
            parens -= 1
        while True:
            action = actions[state].get(kind)
            if action is None:
                raise Stop()
            shift, arg = action
            if shift:
                below.append(state)
                state = arg
                if kind in kept:
                    steps.append(kind)
                    values.append(_new_tok(Tok, (kind, value, tok_start, tok_end)))
                else:
                    steps.append("")
                    values.append(None)
                starts.append(tok_start)
                ends.append(tok_end)
                depths.append(0)
                break
            r: _Reducer = arg
            if r.unit:
                key = (below[-1], state, kind)
                top = units.get(key)
                if top is None:
                    top = units[key] = _after_units(actions, gotos, below[-1], state, kind)
                state = top
                if top == end_state and kind == "$END":
                    return values[-1]
                continue
            steps.append(r)
            n = r.size
            children = values[-n:]
            span_start, span_end = starts[-n], ends[-1]
            depth = max(depths[-n:])
            if r.include is not None:
                children = _children(r, children)
            if r.splice:
                result: Any = _Splice(children)
            elif r.inline_single and len(children) == 1:
                result = children[0]
            else:
                depth += r.deepens
                if depth > MAX_NESTING:
                    raise too_deep(span_start, span_end, "expression")
                assert r.callback is not None
                try:
                    result = r.callback(_new_tok(_Span, (span_start, span_end)), children)
                except SyntaxProblem as e:
                    raise Stop(e.span, "E201", e.message, e.hint) from None
            # n symbols become one: the states of all but the lowest go, the others are replaced
            if n > 1:
                del below[1 - n:]
            values[-n:] = (result,)
            starts[-n:] = (span_start,)
            ends[-n:] = (span_end,)
            depths[-n:] = (depth,)
            state = gotos[below[-1]][r.origin]
            if state == end_state and kind == "$END":
                return result
    raise Stop()  # not reached: the tokens end with $END, or with one no action takes
