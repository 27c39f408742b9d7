"""Turns the grammar's reductions into typed AST nodes (``lang/ast.py``).

One method per named rule or alias of ``grammar/rulebot.lark``; each gets the node's span and
its children as lark's tree builder hands them over (anonymous keywords and punctuation
filtered out, ``[optional]`` parts as ``None``). The same methods serve the fast table-driven
parser in ``parser.py`` and lark's own parse tree (through ``TreeToAst``), so both readings of
a rule give the same AST.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from lark import Token, Transformer, Tree
from lark.exceptions import VisitError

from rulebot.lang import ast
from rulebot.lang.makers import maker


class TokenLike(Protocol):
    """What the builder reads of a token: lark's ``Token`` and the fast lexer's token both have it."""

    type: str
    value: str
    start_pos: int
    end_pos: int


class SyntaxProblem(Exception):
    """A rule text that the grammar accepts but that still cannot be read (``for 2.5 bars``)."""

    def __init__(self, span: ast.Span, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.span = span
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class _OrderType:
    kind: str
    price: ast.Expr | None


_WHOLE = re.compile(r"[0-9]+")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
# Bybit writes the daily and weekly kline intervals as D and W; inside a call they are timeframes.
_TIMEFRAME_ALIASES = {"d": "d", "w": "w"}


# Every rule makes a dozen nodes: the ones made most often are made by a maker (``makers.py``).
_new_object = object.__new__


_new_number = maker(ast.Number)
_new_compare = maker(ast.Compare)
_new_call = maker(ast.Call)
_new_and = maker(ast.And)
_new_quantity = maker(ast.Quantity)
_new_option = maker(ast.OrderOption)


_new_tuple = tuple.__new__


def _span(tok: TokenLike) -> ast.Span:
    return _new_tuple(ast.Span, (tok.start_pos, tok.end_pos))  # as ast.Span(...), without its Python __new__


def _whole(tok: TokenLike, what: str) -> int:
    if not _WHOLE.fullmatch(tok.value):
        raise SyntaxProblem(_span(tok), f"expected a whole number of {what}, found '{tok.value}'")
    return int(tok.value)


def _unescape(quoted: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), quoted[1:-1])


def _duration(tok: TokenLike) -> ast.Duration:
    return ast.Duration(int(tok.value[:-1]), tok.value[-1], _span(tok))


def _timeframe_alias(arg: Any) -> Any:
    if isinstance(arg, ast.Name) and arg.name in _TIMEFRAME_ALIASES:
        return ast.Duration(1, _TIMEFRAME_ALIASES[arg.name], arg.span)
    return arg


_MARKET = _OrderType("market", None)


number_of: Callable[[str, ast.Span], ast.Number] = _new_number
"""The node of a NUMBER token's text (the maker itself: one call less per number)."""

# The leaves below set their node's slots themselves, for the same reason.
_set_percent_text, _set_percent_span = ast.Percent.text.__set__, ast.Percent.span.__set__  # type: ignore[attr-defined]
_set_name_name, _set_name_span = ast.Name.name.__set__, ast.Name.span.__set__  # type: ignore[attr-defined]


def percent_of(text: str, span: ast.Span) -> ast.Percent:
    """The node of a PERCENT token's text (``2.5%``)."""
    node = _new_object(ast.Percent)
    _set_percent_text(node, text[:-1])
    _set_percent_span(node, span)
    return node


def name_of(text: str, span: ast.Span) -> ast.Name:
    """The node of a NAME token's text."""
    node = _new_object(ast.Name)
    _set_name_name(node, text.lower())
    _set_name_span(node, span)
    return node


LEAVES: dict[str, Callable[[str, ast.Span], Any]] = {"number": number_of, "percent": percent_of, "name": name_of}
"""The callbacks whose node is made from their one token's text alone: a reader that has the text
may call these instead, with no token object (most of a rule's nodes are such leaves)."""

PASSED_ON = frozenset({"condition"})
"""The callbacks that give their one child back as it is: a reader may skip the call."""


class AstBuilder:
    """Callbacks named after the grammar's rules and aliases: ``(span, children) -> value``."""

    # --- start symbols -----------------------------------------------------------------------

    def rule(self, span: ast.Span, c: list[Any]) -> ast.RuleBody:
        return ast.RuleBody(c[0], tuple(c[1:]), span)

    def condition(self, span: ast.Span, c: list[Any]) -> ast.Expr:
        return c[0]

    def actions(self, span: ast.Span, c: list[Any]) -> tuple[ast.Action, ...]:
        return tuple(c)

    # --- conditions --------------------------------------------------------------------------

    def or_(self, span: ast.Span, c: list[Any]) -> ast.Or:
        return ast.Or(tuple(c), span)

    def and_(self, span: ast.Span, c: list[Any]) -> ast.And:
        return _new_and(tuple(c), span)

    def not_(self, span: ast.Span, c: list[Any]) -> ast.Not:
        return ast.Not(c[0], span)

    def for_bars(self, span: ast.Span, c: list[Any]) -> ast.For:
        return ast.For(c[0], _whole(c[1], "bars"), None, span)

    def for_duration(self, span: ast.Span, c: list[Any]) -> ast.For:
        return ast.For(c[0], None, _duration(c[1]), span)

    def compare(self, span: ast.Span, c: list[Any]) -> ast.Compare | ast.ChainedCompare:
        if len(c) == 3:
            return _new_compare(c[1].value, c[0], c[2], span, _span(c[1]))
        return ast.ChainedCompare(tuple(c[0::2]), tuple(t.value for t in c[1::2]), span)

    def crosses(self, span: ast.Span, c: list[Any]) -> ast.Crosses:
        return ast.Crosses(c[0], c[1] or "", c[2], span)

    def direction(self, span: ast.Span, c: list[Any]) -> str:
        return str(c[0].value).lower()

    def between(self, span: ast.Span, c: list[Any]) -> ast.Between:
        return ast.Between(c[0], c[1], c[2], span)

    def rising(self, span: ast.Span, c: list[Any]) -> ast.Trend:
        return ast.Trend(c[0], "rising", _whole(c[1], "bars"), span)

    def falling(self, span: ast.Span, c: list[Any]) -> ast.Trend:
        return ast.Trend(c[0], "falling", _whole(c[1], "bars"), span)

    def is_(self, span: ast.Span, c: list[Any]) -> ast.Is:
        word = c[2]
        return ast.Is(c[0], c[1] is not None, ast.Name(word.value.lower(), _span(word)), span)

    def negation(self, span: ast.Span, c: list[Any]) -> bool:
        return True

    def in_(self, span: ast.Span, c: list[Any]) -> ast.In:
        return ast.In(c[0], tuple(ast.Name(t.value.lower(), _span(t)) for t in c[1:]), span)

    # --- arithmetic and values ---------------------------------------------------------------

    def add(self, span: ast.Span, c: list[Any]) -> ast.BinOp:
        return ast.BinOp("+", c[0], c[1], span)

    def sub(self, span: ast.Span, c: list[Any]) -> ast.BinOp:
        return ast.BinOp("-", c[0], c[1], span)

    def mul(self, span: ast.Span, c: list[Any]) -> ast.BinOp:
        return ast.BinOp("*", c[0], c[1], span)

    def div(self, span: ast.Span, c: list[Any]) -> ast.BinOp:
        return ast.BinOp("/", c[0], c[1], span)

    def neg(self, span: ast.Span, c: list[Any]) -> ast.Neg:
        return ast.Neg(c[0], span)

    def index(self, span: ast.Span, c: list[Any]) -> ast.Index:
        return ast.Index(c[0], _whole(c[1], "bars back"), span)

    def number(self, span: ast.Span, c: list[Any]) -> ast.Number:
        return number_of(c[0].value, span)

    def money(self, span: ast.Span, c: list[Any]) -> ast.Money:
        return ast.Money(c[0].value, c[1].value.lower(), span)

    def ticks(self, span: ast.Span, c: list[Any]) -> ast.Ticks:
        return ast.Ticks(c[0].value, span)

    def percent(self, span: ast.Span, c: list[Any]) -> ast.Percent:
        return percent_of(c[0].value, span)

    def duration(self, span: ast.Span, c: list[Any]) -> ast.Duration:
        return _duration(c[0])

    def time_of_day(self, span: ast.Span, c: list[Any]) -> ast.TimeOfDay:
        hour, minute = c[0].value.split(":")
        return ast.TimeOfDay(int(hour), int(minute), span)

    def string(self, span: ast.Span, c: list[Any]) -> ast.String:
        return ast.String(_unescape(c[0].value), span)

    def name(self, span: ast.Span, c: list[Any]) -> ast.Name:
        return name_of(c[0].value, span)

    def call(self, span: ast.Span, c: list[Any]) -> ast.Call:
        name = c[0]
        args: list[ast.Expr] = []
        kwargs: list[ast.Keyword] = []
        for arg in c[1:]:
            if arg is None:
                continue
            if isinstance(arg, ast.Keyword):
                if arg.name == "tf":
                    arg = ast.Keyword(arg.name, _timeframe_alias(arg.value), arg.span)
                kwargs.append(arg)
            elif kwargs:
                raise SyntaxProblem(arg.span, "positional argument after a named argument",
                                    "put the positional arguments first, like 'macd(8, slow=21)'")
            else:
                args.append(_timeframe_alias(arg))
        return _new_call(name.value.lower(), tuple(args), tuple(kwargs), span, _span(name))

    def keyword(self, span: ast.Span, c: list[Any]) -> ast.Keyword:
        return ast.Keyword(c[0].value.lower(), c[1], span)

    # --- actions -----------------------------------------------------------------------------

    def _order(self, side: str, span: ast.Span, c: list[Any]) -> ast.Order:
        order_type: _OrderType | None = c[1]
        return ast.Order(
            side,
            c[0],
            order_type.kind if order_type else "",
            order_type.price if order_type else None,
            tuple(c[2:]),
            span,
        )

    def buy(self, span: ast.Span, c: list[Any]) -> ast.Order:
        return self._order("buy", span, c)

    def sell(self, span: ast.Span, c: list[Any]) -> ast.Order:
        return self._order("sell", span, c)

    def quantity(self, span: ast.Span, c: list[Any]) -> ast.Quantity:
        return _new_quantity(c[0], c[1] or "", span)

    def basis(self, span: ast.Span, c: list[Any]) -> str:
        return str(c[0].value).lower()

    def market(self, span: ast.Span, c: list[Any]) -> _OrderType:
        return _MARKET

    def limit(self, span: ast.Span, c: list[Any]) -> _OrderType:
        return _OrderType("limit", c[0])

    def opt_tp(self, span: ast.Span, c: list[Any]) -> ast.OrderOption:
        return _new_option("tp", c[0], span)

    def opt_sl(self, span: ast.Span, c: list[Any]) -> ast.OrderOption:
        return _new_option("sl", c[0], span)

    def opt_trail(self, span: ast.Span, c: list[Any]) -> ast.OrderOption:
        return _new_option("trail", c[0], span)

    def opt_post_only(self, span: ast.Span, c: list[Any]) -> ast.OrderOption:
        return ast.OrderOption("post_only", None, span)

    def opt_ioc(self, span: ast.Span, c: list[Any]) -> ast.OrderOption:
        return ast.OrderOption("ioc", None, span)

    def opt_fok(self, span: ast.Span, c: list[Any]) -> ast.OrderOption:
        return ast.OrderOption("fok", None, span)

    def opt_reduce_only(self, span: ast.Span, c: list[Any]) -> ast.OrderOption:
        return ast.OrderOption("reduce_only", None, span)

    def opt_expire(self, span: ast.Span, c: list[Any]) -> ast.OrderOption:
        return ast.OrderOption("expire", _duration(c[0]), span)

    def opt_tag(self, span: ast.Span, c: list[Any]) -> ast.OrderOption:
        return ast.OrderOption("tag", ast.String(_unescape(c[0].value), _span(c[0])), span)

    def close(self, span: ast.Span, c: list[Any]) -> ast.Close:
        side, percent, order_type = c
        return ast.Close(
            side or "",
            ast.Percent(percent.value[:-1], _span(percent)) if percent is not None else None,
            order_type.kind if order_type else "",
            order_type.price if order_type else None,
            span,
        )

    def close_side(self, span: ast.Span, c: list[Any]) -> str:
        return str(c[0].value).lower()

    def cancel(self, span: ast.Span, c: list[Any]) -> ast.Cancel:
        return ast.Cancel(c[0], span)

    def cancel_what(self, span: ast.Span, c: list[Any]) -> str:
        return str(c[0].value).lower()

    def set_(self, span: ast.Span, c: list[Any]) -> ast.SetSetting:
        return ast.SetSetting(c[0], c[1], span)

    def setting(self, span: ast.Span, c: list[Any]) -> str:
        return str(c[0].value).lower()

    def notify(self, span: ast.Span, c: list[Any]) -> ast.Notify:
        return ast.Notify(ast.String(_unescape(c[0].value), _span(c[0])), span)

    def pause(self, span: ast.Span, c: list[Any]) -> ast.Pause:
        return ast.Pause(span)

    def halt(self, span: ast.Span, c: list[Any]) -> ast.Halt:
        return ast.Halt(span)


class TreeToAst(Transformer[Token, Any]):
    """The same callbacks over a lark parse tree (built with ``propagate_positions=True``).

    Recursive, like every lark ``Transformer``: use it on trees of bounded depth only. The
    production path is the table-driven parser in ``parser.py``; this one is its reference.
    """

    def __init__(self, builder: AstBuilder) -> None:
        super().__init__(visit_tokens=False)
        self._builder = builder

    def __default__(self, data: str, children: list[Any], meta: Any) -> Any:
        return getattr(self._builder, str(data))(ast.Span(meta.start_pos, meta.end_pos), children)

    def build(self, tree: Tree[Token]) -> Any:
        """Transform ``tree``; a ``SyntaxProblem`` raised by a callback comes out as itself."""
        try:
            return self.transform(tree)
        except VisitError as e:
            if isinstance(e.orig_exc, SyntaxProblem):
                raise e.orig_exc from None
            raise

