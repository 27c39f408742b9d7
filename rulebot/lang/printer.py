"""AST -> canonical rule text, with only the parentheses that precedence needs.

``parse(format_rule(body))`` gives ``body`` back (spans aside); a property test holds it to
that. The canonical text uses lower-case keywords, single spaces and ``a, b`` between actions.
"""

from __future__ import annotations

from rulebot.lang import ast

__all__ = ["format_action", "format_actions", "format_expr", "format_rule"]

# Binding strength, loosest first (LANGUAGE.md §4).
_OR, _AND, _NOT, _COMPARE, _SUM, _PRODUCT, _UNARY, _POSTFIX, _ATOM = range(1, 10)

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n"}


def _precedence(e: ast.Expr) -> int:
    if isinstance(e, ast.Or):
        return _OR
    if isinstance(e, ast.And):
        return _AND
    if isinstance(e, ast.Not):
        return _NOT
    if isinstance(e, (ast.Compare, ast.ChainedCompare, ast.Crosses, ast.Between, ast.Trend,
                      ast.Is, ast.In, ast.For)):
        return _COMPARE
    if isinstance(e, ast.BinOp):
        return _SUM if e.op in "+-" else _PRODUCT
    if isinstance(e, ast.Neg):
        return _UNARY
    if isinstance(e, ast.Index):
        return _POSTFIX
    return _ATOM


def _quote(text: str) -> str:
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in text) + '"'


def _at(e: ast.Expr, weakest: int) -> str:
    """``e`` as text, in parentheses if it binds looser than ``weakest`` allows."""
    text = format_expr(e)
    return f"({text})" if _precedence(e) < weakest else text


def format_expr(e: ast.Expr) -> str:
    """An expression as rule text."""
    if isinstance(e, ast.Or):
        return " or ".join(_at(x, _AND) for x in e.operands)
    if isinstance(e, ast.And):
        return " and ".join(_at(x, _NOT) for x in e.operands)
    if isinstance(e, ast.Not):
        return "not " + _at(e.operand, _NOT)
    if isinstance(e, ast.For):
        if e.duration is not None:
            return f"{_at(e.condition, _COMPARE)} for {e.duration.text}"
        return f"{_at(e.condition, _COMPARE)} for {e.bars} {'bar' if e.bars == 1 else 'bars'}"
    if isinstance(e, ast.Compare):
        return f"{_at(e.left, _SUM)} {e.op} {_at(e.right, _SUM)}"
    if isinstance(e, ast.ChainedCompare):
        parts = [_at(e.operands[0], _SUM)]
        for op, operand in zip(e.ops, e.operands[1:]):
            parts += [op, _at(operand, _SUM)]
        return " ".join(parts)
    if isinstance(e, ast.Crosses):
        direction = f" {e.direction}" if e.direction else ""
        return f"{_at(e.left, _SUM)} crosses{direction} {_at(e.right, _SUM)}"
    if isinstance(e, ast.Between):
        return f"{_at(e.subject, _SUM)} between {_at(e.low, _SUM)} and {_at(e.high, _SUM)}"
    if isinstance(e, ast.Trend):
        return f"{_at(e.subject, _SUM)} {e.direction} {e.bars}"
    if isinstance(e, ast.Is):
        return f"{_at(e.subject, _SUM)} is {'not ' if e.negated else ''}{e.word.name}"
    if isinstance(e, ast.In):
        return f"{_at(e.subject, _SUM)} in [{', '.join(w.name for w in e.words)}]"
    if isinstance(e, ast.BinOp):
        level = _precedence(e)
        # Left-associative: the right operand must bind tighter to stay on the right.
        return f"{_at(e.left, level)} {e.op} {_at(e.right, level + 1)}"
    if isinstance(e, ast.Neg):
        return "-" + _at(e.operand, _UNARY)
    if isinstance(e, ast.Index):
        return f"{_at(e.target, _POSTFIX)}[{e.offset}]"
    return _format_atom(e)


def _format_atom(e: ast.Expr) -> str:
    if isinstance(e, ast.Number):
        return e.text
    if isinstance(e, ast.Percent):
        return f"{e.text}%"
    if isinstance(e, (ast.Duration, ast.TimeOfDay)):
        return e.text
    if isinstance(e, ast.Money):
        return f"{e.amount} {e.coin}"
    if isinstance(e, ast.Ticks):
        return f"{e.count} {'tick' if e.count == '1' else 'ticks'}"
    if isinstance(e, ast.String):
        return _quote(e.value)
    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, ast.Call):
        args = [format_expr(a) for a in e.args]
        args += [f"{k.name}={format_expr(k.value)}" for k in e.kwargs]
        return f"{e.name}({', '.join(args)})"
    raise TypeError(f"not an expression: {e!r}")


def _order_type(order_type: str, price: ast.Expr | None) -> str:
    if order_type == "limit" and price is not None:
        return f" limit {_at(price, _SUM)}"
    if order_type == "market":
        return " market"
    return ""


def _option(o: ast.OrderOption) -> str:
    if o.kind in ("tp", "sl", "trail") and o.value is not None:
        return f"{o.kind} {_at(o.value, _SUM)}"
    if o.kind == "expire" and isinstance(o.value, ast.Duration):
        return f"expire {o.value.text}"
    if o.kind == "tag" and isinstance(o.value, ast.String):
        return f"tag {_quote(o.value.value)}"
    return o.kind.replace("_", " ")


def format_action(a: ast.Action) -> str:
    """One action as rule text."""
    if isinstance(a, ast.Order):
        basis = f" {a.quantity.basis}" if a.quantity.basis else ""
        text = f"{a.side} {_at(a.quantity.amount, _UNARY)}{basis}"
        text += _order_type(a.order_type, a.price)
        return " ".join([text] + [_option(o) for o in a.options])
    if isinstance(a, ast.Close):
        text = "close"
        if a.side:
            text += f" {a.side}"
        if a.percent is not None:
            text += f" {a.percent.text}%"
        return text + _order_type(a.order_type, a.price)
    if isinstance(a, ast.Cancel):
        return f"cancel {a.which}"
    if isinstance(a, ast.SetSetting):
        return f"set {a.setting} {_at(a.value, _SUM)}"
    if isinstance(a, ast.Notify):
        return f"notify {_quote(a.message.value)}"
    if isinstance(a, ast.Pause):
        return "pause"
    if isinstance(a, ast.Halt):
        return "halt"
    raise TypeError(f"not an action: {a!r}")


def format_actions(actions: tuple[ast.Action, ...]) -> str:
    """Actions as the text of a ``then``: ``buy 0.01, notify "x"``."""
    return ", ".join(format_action(a) for a in actions)


def format_rule(body: ast.RuleBody) -> str:
    """A rule as one line: ``when CONDITION then ACTIONS``.

    A rule without a condition (a scheduled rule) prints as its actions alone, the text of
    its ``then``.
    """
    if body.condition is None:
        return format_actions(body.actions)
    return f"when {format_expr(body.condition)} then {format_actions(body.actions)}"
