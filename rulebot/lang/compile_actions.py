"""Compiling a rule's actions (LANGUAGE.md §6) into `CompiledAction`s with value callables.

Planning happens once per rule: every expression an action reads (a size, a limit price, a
tp/sl/trail, a notify part) becomes an entry of the rule's generated code. Binding happens
once per symbol: each plan is a function from the rule's entry callables to the action.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rulebot.lang import ast as A
from rulebot.lang.codegen import Codegen
from rulebot.lang.compiled import (
    CompiledAction,
    CompiledCancel,
    CompiledClose,
    CompiledHalt,
    CompiledNotify,
    CompiledOrder,
    CompiledPause,
    CompiledSet,
    CompileError,
    ValueFn,
)
from rulebot.lang.expressions import ExprChecker
from rulebot.lang.kinds import Kind
from rulebot.lang.parser import parse
from rulebot.lang.source import Source
from rulebot.lang.templates import split_template
from rulebot.lang.vocabulary import DAY_NAMES
from rulebot.model.enums import OrderType, Side, TimeInForce

Entries = Sequence[Callable[[], object]]
ActionPlan = Callable[[Entries], CompiledAction]

_KIND_NAMES = {Kind.NUMBER: "number", Kind.PERCENT: "percent", Kind.PRICE: "price", Kind.MONEY: "money",
               Kind.DURATION: "duration", Kind.TIME_OF_DAY: "time of day"}
_TIF = {"post_only": TimeInForce.POST_ONLY, "ioc": TimeInForce.IOC, "fok": TimeInForce.FOK}


@dataclass(frozen=True, slots=True)
class ValuePlan:
    """An action value: the entry that computes it, its kind and coin."""

    entry: int
    kind: str
    coin: str | None = None

    def bind(self, entries: Entries) -> ValueFn:
        return ValueFn(entries[self.entry], self.kind, self.coin)  # type: ignore[arg-type]


def _opt(plan: ValuePlan | None, entries: Entries) -> ValueFn | None:
    return plan.bind(entries) if plan is not None else None


class ActionPlanner:
    """Turns actions into plans, adding their expressions to the rule's ``gen``; ``checker``
    gives the kinds (it records them into the mapping ``gen`` reads)."""

    def __init__(self, gen: Codegen, checker: ExprChecker) -> None:
        self.gen = gen
        self.checker = checker
        # nodes made here stay alive while the rule compiles: kinds and codegen's caches key on id()
        self._made: list[A.Expr] = []

    def plan(self, actions: Sequence[A.Action]) -> tuple[ActionPlan, ...]:
        """A plan per action, in order."""
        return tuple(self._action(a) for a in actions)

    def _value(self, expr: A.Expr, kind: str | None = None, coin: str | None = None) -> ValuePlan:
        v = self.checker.value(expr)
        if v.kind is Kind.CONDITION:
            raise CompileError("an action value must not be a condition")
        return ValuePlan(self.gen.value(expr), kind or _KIND_NAMES.get(v.kind, "number"), coin)

    def _distance(self, expr: A.Expr) -> ValuePlan:
        """A tp/sl/trail: a percent (fraction), a count of ticks, or a price."""
        if isinstance(expr, A.Ticks):
            self.checker.value(expr)
            count = A.Number(expr.count)
            self._made.append(count)
            return ValuePlan(self.gen.value(count), "ticks")
        v = self.checker.value(expr)
        return self._value(expr, "percent" if v.kind is Kind.PERCENT else "price")

    def _action(self, a: A.Action) -> ActionPlan:
        if isinstance(a, A.Order):
            return self._order(a)
        if isinstance(a, A.Close):
            price = self._value(a.price, "price") if a.price is not None else None
            side = a.side
            fraction = a.percent.fraction if a.percent is not None else None
            order_type = OrderType.LIMIT if a.order_type == "limit" else OrderType.MARKET
            return lambda e: CompiledClose(side, fraction, order_type, _opt(price, e))
        if isinstance(a, A.Cancel):
            which = a.which
            return lambda e: CompiledCancel(which)
        if isinstance(a, A.SetSetting):
            return self._set(a)
        if isinstance(a, A.Notify):
            return self._notify(a.message)
        if isinstance(a, A.Pause):
            return lambda e: CompiledPause()
        if isinstance(a, A.Halt):
            return lambda e: CompiledHalt()
        raise CompileError(f"unknown action {type(a).__name__}")

    def _order(self, o: A.Order) -> ActionPlan:
        q = o.quantity
        if q.basis:
            qty = self._value(q.amount, "percent")
        else:
            kind = self.checker.value(q.amount).kind
            qty = self._value(q.amount, "money" if kind is Kind.MONEY else "number", _coin(q.amount))
        price = self._value(o.price, "price") if o.price is not None else None
        stops: dict[str, ValuePlan] = {}
        tif, post_only, reduce_only, expire_s, tag = TimeInForce.GTC, False, False, None, ""
        for opt in o.options:
            if opt.kind in ("tp", "sl", "trail") and opt.value is not None:
                stops[opt.kind] = self._distance(opt.value)
            elif opt.kind in _TIF:
                tif = _TIF[opt.kind]
                post_only = opt.kind == "post_only"
            elif opt.kind == "reduce_only":
                reduce_only = True
            elif opt.kind == "expire" and isinstance(opt.value, A.Duration):
                expire_s = opt.value.seconds
            elif opt.kind == "tag" and isinstance(opt.value, A.String):
                tag = opt.value.value
            else:
                raise CompileError(f"unknown order option '{opt.kind}'")
        side = Side(o.side)
        order_type = OrderType.LIMIT if o.order_type == "limit" else OrderType.MARKET
        basis = q.basis
        tp, sl, trail = stops.get("tp"), stops.get("sl"), stops.get("trail")
        return lambda e: CompiledOrder(
            side=side, qty=qty.bind(e), qty_basis=basis, order_type=order_type, price=_opt(price, e),
            tp=_opt(tp, e), sl=_opt(sl, e), trail=_opt(trail, e), post_only=post_only, tif=tif,
            reduce_only=reduce_only, expire_s=expire_s, tag=tag)

    def _set(self, s: A.SetSetting) -> ActionPlan:
        setting = s.setting
        if setting in ("mode", "margin", "tpsl"):
            if not isinstance(s.value, A.Name):
                raise CompileError(f"'set {setting}' needs a word")
            word = s.value.name
            return lambda e: CompiledSet(setting, None, word)
        value = self._value(s.value, "number") if setting == "leverage" else self._distance(s.value)
        return lambda e: CompiledSet(setting, value.bind(e), None)

    def _notify(self, message: A.String) -> ActionPlan:
        parts, problem = split_template(message.value)
        if problem is not None:
            raise CompileError(problem.message)
        pieces: list[str | tuple[int, Kind]] = []
        for part in parts:
            if not part.is_expr:
                pieces.append(part.text)
                continue
            node = parse(Source.contiguous("<notify>", part.text), "condition").node
            if node is None or isinstance(node, (A.RuleBody, tuple)):
                raise CompileError(f"cannot read '{{{part.text}}}' in the message")
            self._made.append(node)
            kind = self.checker.value(node).kind
            if kind is Kind.CONDITION:
                pieces.append((self.gen.tri(node), kind))
            elif kind is Kind.WORD and isinstance(node, A.Name) and node.name != "weekday":
                pieces.append(node.name)
            else:
                pieces.append((self.gen.value(node), kind))
        frozen = tuple(pieces)
        return lambda e: CompiledNotify(_renderer(frozen, e))


def _coin(expr: A.Expr) -> str | None:
    """The coin of a money amount: the one coin its literals name (None: several or none)."""
    coins: set[str] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, A.Money):
            coins.add(node.coin)
        elif isinstance(node, A.BinOp):
            stack.extend((node.left, node.right))
        elif isinstance(node, A.Neg):
            stack.append(node.operand)
    return coins.pop() if len(coins) == 1 else None


def _renderer(pieces: tuple[str | tuple[int, Kind], ...], entries: Entries) -> Callable[[], str]:
    bound: list[str | Callable[[], str]] = []
    for piece in pieces:
        if isinstance(piece, str):
            bound.append(piece)
        else:
            fn, kind = entries[piece[0]], piece[1]
            bound.append(lambda fn=fn, kind=kind: format_value(fn(), kind))  # type: ignore[misc]
    parts = tuple(bound)

    def render() -> str:
        return "".join(p if isinstance(p, str) else p() for p in parts)
    return render


def format_value(x: object, kind: Kind) -> str:
    """A value as a notify message shows it: ``64123.46``, ``0.05%``, ``1h 5m``, ``08:30``,
    ``sat``, ``true`` / ``false``; ``unknown`` when it is not known."""
    if kind is Kind.CONDITION:
        return "unknown" if x is None else ("true" if x else "false")
    if not isinstance(x, (int, float)) or x != x:
        return "unknown"
    value = float(x)
    if kind is Kind.PERCENT:
        return f"{short_number(value * 100)}%"
    if kind is Kind.DURATION:
        return _duration(value)
    if kind is Kind.TIME_OF_DAY:
        minutes = int(value)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    if kind is Kind.WORD:
        return DAY_NAMES[int(value) % 7]
    return short_number(value)


def short_number(x: float) -> str:
    """2 decimals from 1 up, 4 significant digits below; no trailing zeros, no exponent."""
    if not math.isfinite(x):
        return "unknown" if x != x else ("inf" if x > 0 else "-inf")
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    decimals = 2 if magnitude >= 0 else 3 - magnitude
    text = f"{x:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _duration(seconds: float) -> str:
    total = int(round(seconds))
    sign = "-" if total < 0 else ""
    total = abs(total)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    return sign + (" ".join(parts) if parts else "0s")
