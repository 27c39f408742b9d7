"""Rule-safety warnings (W1xx): rules that may misbehave although they are valid.

W101 unguarded-order-rule, W102 no-max-position, W103 conflicting-rules, W104
condition-never-true, W105 stop-beyond-liquidation, W106 close-when-flat. Each is conservative:
it warns only on what interval reasoning (``intervals.py``) proves or the rule text shows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from operator import attrgetter

from rulebot.lang import ast as A
from rulebot.lang.intervals import MAX_DISJUNCTS, Analyzer, Disjuncts, overlap, requires_flat
from rulebot.lang.kinds import Kind
from rulebot.lang.report import Reporter
from rulebot.lang.vocabulary import POSITION_GUARD_FIELDS, Scale

MAINTENANCE_MARGIN = 0.005
"""Maintenance margin rate assumed for the liquidation distance (Bybit's lowest tier is 0.5%)."""

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def opening_orders(actions: Sequence[A.Action]) -> list[A.Order]:
    """The buy and sell orders that may open or grow a position (not ``reduce only``)."""
    # loops rather than a comprehension and any(): this runs twice per rule checked
    orders: list[A.Order] = []
    for a in actions:
        if isinstance(a, A.Order):
            for o in a.options:
                if o.kind == "reduce_only":
                    break
            else:
                orders.append(a)
    return orders


def order_span(order: A.Order) -> A.Span:
    """``buy 0.01`` of ``buy 0.01 limit bid1 tp 2%``: the side and size, where a warning about the order points."""
    end = order.quantity.span.end or order.quantity.amount.span.end
    return A.Span(order.span.start, end) if end > order.span.start else order.span


def never_true(cond: A.Expr, an: Analyzer, rep: Reporter) -> Disjuncts:
    """W104 on the smallest part of the condition proved never true (and on dead parts of an
    ``or``); returns the condition's disjuncts."""
    _locate(cond, an, rep, whole=True)
    return an.disjuncts(cond)


def _locate(e: A.Expr, an: Analyzer, rep: Reporter, whole: bool) -> None:
    an.conflicts.clear()
    if an.disjuncts(e) == ():
        conflicts = list(an.conflicts)
        if isinstance(e, A.And):
            for operand in e.operands:
                if an.disjuncts(operand) == ():
                    _locate(operand, an, rep, whole)
                    return
        if isinstance(e, A.For):
            _locate(e.condition, an, rep, whole)
            return
        hint = conflicts[0].hint(rep.text) if conflicts and not isinstance(e, A.Or) \
            else "none of its alternatives can be true"
        message = "this condition can never be true" if whole else "this part of the condition can never be true"
        rep.warning("W104", e.span, message, hint=hint, label="never true")
        return
    # A part of an `and` or a `for` is never true only when the whole is, or when an `or`
    # inside it has a dead alternative: only parts holding an `or` are worth a look.
    if isinstance(e, A.Or):
        for operand in e.operands:
            _locate(operand, an, rep, whole=False)
    elif isinstance(e, A.And):
        for operand in e.operands:
            if _has_or(operand):
                _locate(operand, an, rep, whole=False)
    elif isinstance(e, A.For) and _has_or(e.condition):
        _locate(e.condition, an, rep, whole=False)


def _has_or(e: A.Expr) -> bool:
    """Whether an `or` stands in ``e`` where ``_locate`` would reach it (through `and` and `for`)."""
    if isinstance(e, A.Or):
        return True
    if isinstance(e, A.And):
        return any(_has_or(operand) for operand in e.operands)
    return isinstance(e, A.For) and _has_or(e.condition)


def unguarded(actions: Sequence[A.Action], reads_names: Iterable[str], cooldown_s: int | None,
              scheduled: bool, has_condition: bool, rep: Reporter) -> None:
    """W101: a streamed rule that opens positions with no position/order guard and no cooldown."""
    if scheduled or not has_condition or (cooldown_s or 0) > 0:
        return
    orders = opening_orders(actions)
    if not orders or not POSITION_GUARD_FIELDS.isdisjoint(reads_names):
        return
    rep.warning("W101", order_span(orders[0]),
                "this rule places orders with no position or order guard and no cooldown",
                hint="add 'and position == 0' (or 'open_orders == 0') to its condition, or a cooldown",
                label="may fire again and again")


def close_when_flat(actions: Sequence[A.Action], flat: bool, rep: Reporter) -> None:
    """W106: ``close`` in a rule that only fires when flat (``flat``: ``requires_flat`` of its condition)."""
    if not flat:
        return
    for action in actions:
        if isinstance(action, A.Close):
            rep.warning("W106", action.span, "'close' in a rule whose condition requires a flat position",
                        hint="there is nothing to close when the position is flat; "
                             "did you mean 'position != 0'?", label="nothing to close")


def stops_beyond_liquidation(actions: Sequence[A.Action], leverage: float | None, spot: bool,
                             rep: Reporter) -> None:
    """W105: a percent ``sl`` or ``trail`` at least as wide as the liquidation distance."""
    if spot:
        return
    for action in actions:
        if isinstance(action, A.SetSetting) and action.setting == "leverage":
            leverage = action.value.value if isinstance(action.value, A.Number) else None
            continue
        if leverage is None or leverage < 1:
            continue
        stops: list[tuple[str, A.Expr | None]] = []
        if isinstance(action, A.Order):
            stops = [(o.kind, o.value) for o in action.options if o.kind in ("sl", "trail")]
        elif isinstance(action, A.SetSetting) and action.setting in ("sl", "trail"):
            stops = [(action.setting, action.value)]
        distance = 1.0 / leverage - MAINTENANCE_MARGIN
        for kind, value in stops:
            if isinstance(value, A.Percent) and distance > 0 and distance <= value.fraction < 1:
                what = "stop loss" if kind == "sl" else "trailing stop"
                rep.warning("W105", value.span,
                            f"{what} {value.text}% is beyond the liquidation distance at {leverage:g}x leverage "
                            f"(about {distance * 100:.3g}%)",
                            hint="the position would be liquidated before the stop triggers; "
                                 "use a tighter stop or a lower leverage", label="beyond liquidation")


_side = attrgetter("side")


def sides(actions: Sequence[A.Action]) -> frozenset[str]:
    """The sides (``buy``, ``sell``) of a rule's opening orders."""
    return frozenset(map(_side, opening_orders(actions)))


def conflicting(facts_a: Disjuncts, facts_b: Disjuncts, sides_a: frozenset[str], sides_b: frozenset[str]) -> bool:
    """W103's test: opposite opening orders and conditions not proved exclusive."""
    opposite = ("buy" in sides_a and "sell" in sides_b) or ("sell" in sides_a and "buy" in sides_b)
    return opposite and overlap(facts_a, facts_b)


def plainly_possible(cond: A.Expr, an: Analyzer) -> bool | None:
    """A cheap exact pre-test for W104 on the common condition: an ``and`` (or ``for``) of atoms
    that each bound a different value and each can hold alone. Such a condition can be true, so
    ``never_true`` would report nothing and its disjuncts are not ``()``.

    None when the test does not apply (``or``, ``not``, a value bounded twice, an atom never
    true alone): work it out with ``never_true``. Otherwise ``requires_flat`` of the
    condition's disjuncts, which then come from the one atom that bounds the position."""
    seen = _Seen()
    if not _possible(cond, an, seen):
        return None
    return seen.flat


class _Seen:
    """The values bounded so far by the atoms of a plainly possible condition."""

    __slots__ = ("keys", "count", "flat")

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.count = 1        # disjuncts of the whole: the product of the atoms' counts
        self.flat = False     # requires_flat of the atom that bounds the position


_AND, _FOR, _OR, _NOT, _COMPARE = A.And, A.For, A.Or, A.Not, A.Compare
_ERROR, _WORD = Kind.ERROR, Kind.WORD  # enum members read through their class cost a look-up each time


def _possible(e: A.Expr, an: Analyzer, seen: _Seen) -> bool:
    kind = e.__class__
    if kind is _AND:
        for operand in e.operands:
            if not _possible(operand, an, seen):
                return False
        return True
    if kind is _FOR:
        return _possible(e.condition, an, seen)
    if kind is _OR or kind is _NOT:
        return False
    if kind is _COMPARE:
        plain = _plain_compare(e, an, seen)
        if plain is not None:
            return plain
    found = an.disjuncts(e)
    if found is None:
        return True
    if not found or len(found) * seen.count > MAX_DISJUNCTS:
        return False
    touched = {key for conj in found for key in conj.bounds}
    if not seen.keys.isdisjoint(touched):
        return False
    seen.keys |= touched
    seen.count *= len(found)
    if "position" in touched:
        seen.flat = requires_flat(found)
    return True


def _plain_compare(e: A.Compare, an: Analyzer, seen: _Seen) -> bool | None:
    """``Analyzer._compare`` for a value and a constant, without building its bound (None: ask it)."""
    values = an.values
    left, right = values.get(id(e.left)), values.get(id(e.right))
    if left is None or right is None:
        return True  # no bound
    left_kind, _, left_const, left_key, left_scale = left
    right_kind, _, right_const, right_key, right_scale = right
    if left_kind is _ERROR or right_kind is _ERROR:
        return True  # no bound
    if left_kind is _WORD or right_kind is _WORD:
        return None
    if left_key and right_key is None and right_const is not None:
        key, op, const, scale = left_key, e.op, right_const, left_scale
    elif right_key and left_key is None and left_const is not None:
        key, op, const, scale = right_key, _FLIP[e.op], left_const, right_scale
    elif left_key and right_key and left_key == right_key:
        return None  # the same value on both sides: rare, ask the analyzer
    else:
        return True  # no bound
    found = _settle(op, const, scale)
    if found is _EMPTY:
        return False
    if key in seen.keys:
        return False
    seen.keys.add(key)
    if key == "position_size":
        # the analyzer may bound the position too (not in hedge mode): count it as bounded
        if "position" in seen.keys:
            return False
        seen.keys.add("position")
        seen.flat = found is _ZERO and not an.hedge
    elif key == "position":
        seen.flat = found is _ZERO
    return True


_EMPTY, _ZERO, _SOME = 0, 1, 2  # what ``_settle`` finds: no value, only 0, other values
_INF = math.inf
_NEG_INF = -math.inf


def _settle(op: str, c: float, scale: Scale | None) -> int:
    """``Interval.of(op, c)`` met with ``scale``: empty, exactly 0, or else; worked out on the
    ends as floats (``Interval.of_scale(scale).meet(...)``, ``is_empty``, ``is_zero`` written
    out), as this runs for every comparison of every rule and the Interval objects cost more."""
    point = None  # the one excluded point (of "!=")
    if op == "<":
        lo, lo_open, hi, hi_open = _NEG_INF, False, c, True
    elif op == "<=":
        lo, lo_open, hi, hi_open = _NEG_INF, False, c, False
    elif op == ">":
        lo, lo_open, hi, hi_open = c, True, _INF, False
    elif op == ">=":
        lo, lo_open, hi, hi_open = c, False, _INF, False
    elif op == "==":
        lo, lo_open, hi, hi_open = c, False, c, False
    else:
        lo, lo_open, hi, hi_open, point = _NEG_INF, False, _INF, False, c
    integer = False
    if scale is not None:
        # Interval.meet, with the scale's closed ends on the left
        s_lo = _NEG_INF if scale.lo is None else scale.lo
        s_hi = _INF if scale.hi is None else scale.hi
        if not (lo > s_lo or (lo == s_lo and lo_open)):
            lo, lo_open = s_lo, False
        if not (hi < s_hi or (hi == s_hi and hi_open)):
            hi, hi_open = s_hi, False
        integer = scale.integer
    if integer and lo < _INF and hi > _NEG_INF:  # Interval.is_empty on whole numbers
        first, last = lo, hi
        if first > _NEG_INF:
            first = math.floor(first) + 1 if lo_open else math.ceil(first)
        if last < _INF:
            last = math.ceil(last) - 1 if hi_open else math.floor(last)
        if first > last or (point is not None and first == last == point):
            return _EMPTY
    elif lo > hi or (lo == hi and (lo_open or hi_open or lo == point)):
        return _EMPTY
    return _ZERO if lo == hi == 0 and not (lo_open or hi_open) else _SOME
