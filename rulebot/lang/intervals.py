"""Interval reasoning on conditions: can a condition ever be true, can two be true at once.

A condition is turned into a disjunction of conjunctions of bounds on values (each value
named by its canonical key: ``rsi(n=14)@1m``, ``position``), keeping only comparisons of a
value with a constant, ``between`` with constant bounds, ``crosses`` a constant and the words
after ``is``/``in``. Anything else adds no bound. So "never true" is a proof (every
disjunct has an empty bound), while "may be true" only means no contradiction was found.

A value's own scale (``rsi`` is 0 … 100, ``open_orders`` a whole number ≥ 0) is its first bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rulebot.lang import ast as A
from rulebot.lang.expressions import Value
from rulebot.lang.kinds import Kind
from rulebot.lang.vocabulary import DAY_NAMES, Scale

MAX_DISJUNCTS = 256
"""Beyond this many disjuncts a condition is taken as "may be true" (no bound)."""

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_DAY_GROUPS = {"weekday": frozenset(DAY_NAMES[:5]), "weekend": frozenset(DAY_NAMES[5:])}
_MINUTES_PER_DAY = 1440.0


@dataclass(frozen=True, slots=True)
class Interval:
    """A set of reals: from ``lo`` to ``hi`` (each end open or closed), minus some points."""

    lo: float = -math.inf
    lo_open: bool = False
    hi: float = math.inf
    hi_open: bool = False
    excluded: frozenset[float] = frozenset()

    @classmethod
    def of(cls, op: str, c: float) -> "Interval":
        """The values x with ``x op c``."""
        if op == "<":
            return _interval(-math.inf, False, c, True, _NO_POINTS)
        if op == "<=":
            return _interval(-math.inf, False, c, False, _NO_POINTS)
        if op == ">":
            return _interval(c, True, math.inf, False, _NO_POINTS)
        if op == ">=":
            return _interval(c, False, math.inf, False, _NO_POINTS)
        if op == "==":
            return _interval(c, False, c, False, _NO_POINTS)
        return cls(excluded=frozenset({c}))

    @classmethod
    def of_scale(cls, scale: Scale | None) -> "Interval":
        if scale is None:
            return cls()
        lo = -math.inf if scale.lo is None else scale.lo
        hi = math.inf if scale.hi is None else scale.hi
        return _interval(lo, False, hi, False, _NO_POINTS)

    def meet(self, other: "Interval") -> "Interval":
        if (other.lo, other.lo_open) > (self.lo, self.lo_open):
            lo, lo_open = other.lo, other.lo_open
        else:
            lo, lo_open = self.lo, self.lo_open
        if (other.hi, not other.hi_open) < (self.hi, not self.hi_open):
            hi, hi_open = other.hi, other.hi_open
        else:
            hi, hi_open = self.hi, self.hi_open
        excluded = self.excluded | other.excluded if other.excluded else self.excluded
        return _interval(lo, lo_open, hi, hi_open, excluded)

    def is_empty(self, integer: bool) -> bool:
        lo, hi = self.lo, self.hi
        if integer and lo < math.inf and hi > -math.inf:  # an end beyond every number has no whole neighbour
            if lo > -math.inf:
                lo = math.floor(lo) + 1 if self.lo_open else math.ceil(lo)
            if hi < math.inf:
                hi = math.ceil(hi) - 1 if self.hi_open else math.floor(hi)
            if lo > hi:
                return True
            if hi - lo < len(self.excluded):
                return all(float(i) in self.excluded for i in range(int(lo), int(hi) + 1))
            return False
        if lo > hi or (lo == hi and (self.lo_open or self.hi_open)):
            return True
        return lo == hi and lo in self.excluded

    @property
    def is_zero(self) -> bool:
        return self.lo == self.hi == 0 and not (self.lo_open or self.hi_open)

    def excludes_zero(self) -> bool:
        return 0 in self.excluded or self.lo > 0 or self.hi < 0 or (self.lo == 0 and self.lo_open) \
            or (self.hi == 0 and self.hi_open)


@dataclass(frozen=True, slots=True)
class Bound:
    """What one conjunction says of one value: an interval (numbers) or a set of words (days).

    ``display`` and ``atoms`` are the nodes (the value, the comparisons) that made the bound;
    they are printed only when a hint needs them."""

    display: object
    interval: Interval | None = None
    words: frozenset[str] | None = None
    integer: bool = False
    atoms: tuple[object, ...] = ()
    scale: Scale | None = None
    own: Interval | None = None   # the comparisons' interval without the value's scale

    def meet(self, other: "Bound") -> "Bound":
        return _bound(self.display, _meet(self.interval, other.interval), _meet(self.words, other.words),
                      self.integer or other.integer, self.atoms + other.atoms, self.scale or other.scale,
                      _meet(self.own, other.own))

    def clashes(self, other: "Bound") -> bool:
        """Whether this bound and ``other`` exclude each other (``meet(...).is_empty``, without building it)."""
        if self.words is not None and other.words is not None and not self.words & other.words:
            return True
        if self.interval is None or other.interval is None:
            return False
        return self.interval.meet(other.interval).is_empty(self.integer or other.integer)

    @property
    def is_empty(self) -> bool:
        if self.words is not None and not self.words:
            return True
        return self.interval is not None and self.interval.is_empty(self.integer)

    @property
    def conflict(self) -> "Conflict":
        """Why this bound is empty: the comparisons alone, or with the value's scale or wholeness."""
        if self.own is None or not self.own.is_empty(self.integer):
            bounded = self.scale is not None and (self.scale.lo is not None or self.scale.hi is not None)
            return Conflict(self.display, self.atoms, self.scale.text if bounded and self.scale else "")
        if not self.own.is_empty(False):
            return Conflict(self.display, self.atoms, "a whole number")
        return Conflict(self.display, self.atoms, "")


@dataclass(frozen=True, slots=True)
class Conjunction:
    """Bounds that hold together, one per value key (the mapping is never changed once built)."""

    bounds: Mapping[str, Bound] = field(default_factory=dict)

    def get(self, key: str) -> Bound | None:
        return self.bounds.get(key)


@dataclass(frozen=True, slots=True)
class Conflict:
    """Why a conjunction is empty: the value, the comparisons that exclude each other, and what
    the value is known to be (``between 0 and 100``, ``a whole number``) when that matters."""

    display: object
    atoms: tuple[object, ...]
    reason: str

    def hint(self, text: Callable[[object], str]) -> str:
        """The hint of W104, with nodes printed by ``text``."""
        atoms = list(dict.fromkeys(text(a) for a in self.atoms))
        if len(atoms) == 1 and self.reason:
            return f"'{text(self.display)}' is {self.reason}"
        if len(atoms) == 1:
            return f"'{atoms[0]}' is never true"
        said = " and ".join(f"'{a}'" for a in atoms)
        both = "both" if len(atoms) == 2 else "all"
        return f"{said} cannot {both} hold" + (f" ('{text(self.display)}' is {self.reason})" if self.reason else "")


# Intervals, bounds and conjunctions are made for every comparison of every rule. The frozen
# dataclass's __init__ sets each field through object.__setattr__ in Python; setting the slots
# through their descriptors makes the same objects at a quarter of the cost.
_new_object = object.__new__
_NO_POINTS: frozenset[float] = frozenset()
_INTERVAL_SLOTS = tuple(getattr(Interval, name).__set__ for name in ("lo", "lo_open", "hi", "hi_open", "excluded"))
_BOUND_SLOTS = tuple(getattr(Bound, name).__set__
                     for name in ("display", "interval", "words", "integer", "atoms", "scale", "own"))
_set_bounds = Conjunction.bounds.__set__  # type: ignore[attr-defined]


def _interval(lo: float, lo_open: bool, hi: float, hi_open: bool, excluded: frozenset[float]) -> Interval:
    """``Interval(lo, lo_open, hi, hi_open, excluded)`` without the dataclass's __init__."""
    iv = _new_object(Interval)
    set_lo, set_lo_open, set_hi, set_hi_open, set_excluded = _INTERVAL_SLOTS
    set_lo(iv, lo)
    set_lo_open(iv, lo_open)
    set_hi(iv, hi)
    set_hi_open(iv, hi_open)
    set_excluded(iv, excluded)
    return iv


def _bound(display: object, interval: Interval | None, words: frozenset[str] | None, integer: bool,
           atoms: tuple[object, ...], scale: Scale | None, own: Interval | None) -> Bound:
    """``Bound(display, interval, words, integer, atoms, scale, own)`` without the dataclass's __init__."""
    b = _new_object(Bound)
    set_display, set_interval, set_words, set_integer, set_atoms, set_scale, set_own = _BOUND_SLOTS
    set_display(b, display)
    set_interval(b, interval)
    set_words(b, words)
    set_integer(b, integer)
    set_atoms(b, atoms)
    set_scale(b, scale)
    set_own(b, own)
    return b


def _conjunction(bounds: Mapping[str, Bound]) -> Conjunction:
    """``Conjunction(bounds)`` without the dataclass's __init__."""
    c = _new_object(Conjunction)
    _set_bounds(c, bounds)
    return c


_SCALE_INTERVALS: dict[tuple[float | None, float | None], Interval] = {}


def _scale_interval(scale: Scale) -> Interval:
    """``Interval.of_scale(scale)``, made once per range (scales are a few constants)."""
    key = (scale.lo, scale.hi)
    found = _SCALE_INTERVALS.get(key)
    if found is None:
        found = _SCALE_INTERVALS[key] = Interval.of_scale(scale)
    return found


# Enum members read through their class cost an attribute look-up on the enum type each time.
_ERROR = Kind.ERROR
_WORD = Kind.WORD

_ALWAYS: tuple[Conjunction, ...] = (Conjunction(),)
"""A condition that holds always: one conjunction without bounds (never changed once built)."""

Disjuncts = tuple[Conjunction, ...] | None
"""A condition as alternatives: () is never true, None is unknown (no bound found)."""


@dataclass(slots=True)
class Analyzer:
    """Builds disjunctive forms of conditions from the values the checker found."""

    values: Mapping[int, Value]
    hedge: bool = False   # in hedge mode position_size > 0 does not mean position != 0
    conflicts: list[Conflict] = field(default_factory=list)
    _memo: dict[tuple[int, bool], tuple[Disjuncts, list[Conflict]]] = field(default_factory=dict)

    def disjuncts(self, expr: A.Expr, positive: bool = True) -> Disjuncts:
        """The condition (or its negation) as alternatives; None when nothing is known."""
        if isinstance(expr, A.Compare):
            # a comparison is quicker to work out again than to remember (most are asked once)
            return self._compare(expr, expr.op if positive else _NEGATE[expr.op])
        memo_key = (id(expr), positive)
        hit = self._memo.get(memo_key)
        if hit is not None:
            self.conflicts.extend(hit[1])
            return hit[0]
        before = len(self.conflicts)
        result = self._disjuncts(expr, positive)
        self._memo[memo_key] = (result, self.conflicts[before:])
        return result

    def _disjuncts(self, expr: A.Expr, positive: bool) -> Disjuncts:
        # comparisons are worked out in ``disjuncts``
        if isinstance(expr, A.Not):
            return self.disjuncts(expr.operand, not positive)
        if isinstance(expr, (A.And, A.Or)):
            conjunctive = isinstance(expr, A.And) == positive
            parts = [self.disjuncts(o, positive) for o in expr.operands]
            return self._all(parts) if conjunctive else self._any(parts)
        if isinstance(expr, A.For):
            return self.disjuncts(expr.condition) if positive else None
        if isinstance(expr, A.Between):
            return self._between(expr, positive)
        if isinstance(expr, A.Crosses) and positive:
            return self._crosses(expr)
        if isinstance(expr, (A.Is, A.In)):
            return self._words(expr, positive)
        return None

    # --- combining ---------------------------------------------------------------------------

    def _all(self, parts: list[tuple[Conjunction, ...] | None]) -> tuple[Conjunction, ...] | None:
        known = [p for p in parts if p is not None]
        if not known:
            return None
        result: tuple[Conjunction, ...] = _ALWAYS
        for part in known:
            merged = []
            for a in result:
                for b in part:
                    m = self.merge(a, b)
                    if m is not None:
                        merged.append(m)
            if len(merged) > MAX_DISJUNCTS:
                return None
            result = tuple(merged)
        return result

    def _any(self, parts: list[tuple[Conjunction, ...] | None]) -> tuple[Conjunction, ...] | None:
        if any(p is None for p in parts):
            return None
        joined = tuple(c for p in parts if p is not None for c in p)
        return joined if len(joined) <= MAX_DISJUNCTS else None

    def merge(self, a: Conjunction, b: Conjunction) -> Conjunction | None:
        """Both conjunctions at once, or None (and a recorded conflict) when they exclude each other."""
        if not a.bounds:
            return b
        if not b.bounds:
            return a
        bounds = dict(a.bounds)
        for key, bound in b.bounds.items():
            mine = bounds.get(key)
            if mine is not None:
                # a bound alone is never empty (``_atom`` does not keep one): only a meet can be
                bound = mine.meet(bound)
                if bound.is_empty:
                    self.conflicts.append(bound.conflict)
                    return None
            bounds[key] = bound
        return _conjunction(bounds)

    # --- atoms -------------------------------------------------------------------------------

    def _atom(self, node: A.Expr, subject: Value, display: A.Expr, interval: Interval | None = None,
              words: frozenset[str] | None = None) -> tuple[Conjunction, ...]:
        assert subject.key is not None
        scale = subject.scale
        integer = bool(scale and scale.integer)
        if interval is None:
            full = None
        elif scale is None:
            full = interval  # what the meet with the whole line gives
        else:
            full = (_SCALE_INTERVALS.get((scale.lo, scale.hi)) or _scale_interval(scale)).meet(interval)
        bound = _bound(display, full, words, integer, (node,), scale, interval)
        if (words is not None and not words) or (full is not None and full.is_empty(integer)):  # bound.is_empty
            self.conflicts.append(bound.conflict)
            return ()
        bounds = {subject.key: bound}
        if subject.key == "position_size" and full is not None and not self.hedge:
            # position_size == 0 says the position is flat; position_size > 0 that it is not
            if full.is_zero:
                bounds["position"] = Bound(display, Interval(lo=0, hi=0), atoms=(node,))
            elif full.excludes_zero():
                bounds["position"] = Bound(display, Interval(excluded=frozenset({0.0})), atoms=(node,))
        return (_conjunction(bounds),)

    def _value(self, node: A.Expr) -> Value | None:
        v = self.values.get(id(node))
        return v if v is not None and v.kind is not _ERROR else None

    def _compare(self, e: A.Compare, op: str) -> tuple[Conjunction, ...] | None:
        values = self.values  # ``_value`` and ``_bound_by_constant`` written out (the most frequent atom)
        left, right = values.get(id(e.left)), values.get(id(e.right))
        if left is None or right is None or left.kind is _ERROR or right.kind is _ERROR:
            return None
        if left.kind is _WORD or right.kind is _WORD:
            return self._word_compare(e, left, right, op)
        left_key, right_key = left.key, right.key
        if left_key and right_key and left_key == right_key:
            if op in ("<", ">", "!="):
                self.conflicts.append(Conflict(e.left, (e,), ""))
                return ()
            return None
        if left_key and right_key is None and right.const is not None:
            return self._atom(e, left, e.left, Interval.of(op, right.const))
        if right_key and left_key is None and left.const is not None:
            return self._atom(e, right, e.right, Interval.of(_FLIP[op], left.const))
        return None

    def _word_compare(self, e: A.Compare, left: Value, right: Value, op: str) -> tuple[Conjunction, ...] | None:
        if left.key == "weekday" and right.key and right.key.startswith("word:"):
            subject, word = left, right.key[5:]
        elif right.key == "weekday" and left.key and left.key.startswith("word:"):
            subject, word = right, left.key[5:]
        else:
            return None
        days = _days(word)
        if op == "!=":
            days = frozenset(DAY_NAMES) - days
        return self._atom(e, subject, e.left if left is subject else e.right, words=days)

    def _between(self, e: A.Between, positive: bool) -> tuple[Conjunction, ...] | None:
        subject, low, high = self._value(e.subject), self._value(e.low), self._value(e.high)
        if subject is None or low is None or high is None or not subject.key \
                or low.const is None or high.const is None or low.key or high.key:
            return None
        lo, hi, display = low.const, high.const, e.subject
        if subject.kind is Kind.TIME_OF_DAY and lo > hi:
            # a window across midnight: [lo, 24:00) or [00:00, hi]
            if positive:
                return self._atom(e, subject, display, Interval(lo=lo, hi=_MINUTES_PER_DAY, hi_open=True)) + \
                    self._atom(e, subject, display, Interval(lo=0, hi=hi))
            return self._atom(e, subject, display, Interval(lo=hi, lo_open=True, hi=lo, hi_open=True))
        if positive:
            return self._atom(e, subject, display, Interval(lo=lo, hi=hi))
        return self._atom(e, subject, display, Interval(hi=lo, hi_open=True)) + \
            self._atom(e, subject, display, Interval(lo=hi, lo_open=True))

    def _crosses(self, e: A.Crosses) -> tuple[Conjunction, ...] | None:
        op = {"above": ">", "below": "<", "": "!="}.get(e.direction)
        if op is None:
            return None
        return self._compare_values(e, e.left, e.right, op)

    def _compare_values(self, node: A.Expr, ln: A.Expr, rn: A.Expr, op: str) -> tuple[Conjunction, ...] | None:
        left, right = self._value(ln), self._value(rn)
        if left is None or right is None:
            return None
        return self._bound_by_constant(node, ln, left, rn, right, op)

    def _bound_by_constant(self, node: A.Expr, ln: A.Expr, left: Value, rn: A.Expr, right: Value,
                           op: str) -> tuple[Conjunction, ...] | None:
        """``left op right`` as a bound on one side when the other is a constant; else no bound."""
        if left.key and right.key is None and right.const is not None:
            return self._atom(node, left, ln, Interval.of(op, right.const))
        if right.key and left.key is None and left.const is not None:
            return self._atom(node, right, rn, Interval.of(_FLIP[op], left.const))
        return None

    def _words(self, e: A.Is | A.In, positive: bool) -> tuple[Conjunction, ...] | None:
        subject = self._value(e.subject)
        if subject is None or subject.key not in ("position", "weekday"):
            return None
        words = [w.name for w in ((e.word,) if isinstance(e, A.Is) else e.words) if isinstance(w, A.Name)]
        if isinstance(e, A.Is) and e.negated:
            positive = not positive
        display = e.subject
        if subject.key == "weekday":
            days = frozenset().union(*(_days(w) for w in words)) if words else frozenset()
            if not positive:
                days = frozenset(DAY_NAMES) - days
            return self._atom(e, subject, display, words=days)
        chosen = [_SIDES[w] for w in words if w in _SIDES]
        if len(chosen) != len(words):
            return None
        if positive:
            return tuple(c for iv in chosen for c in self._atom(e, subject, display, iv))
        conj: tuple[Conjunction, ...] | None = (Conjunction(),)
        for w in words:
            conj = self._all([conj, self._atom(e, subject, display, _NOT_SIDES[w])])
            if conj is None:
                return None
        return conj


# What `position is long` (and `is not long`) says of the position's size.
_SIDES = {"long": Interval(lo=0, lo_open=True), "short": Interval(hi=0, hi_open=True), "flat": Interval(lo=0, hi=0)}
_NOT_SIDES = {"long": Interval(hi=0), "short": Interval(lo=0), "flat": Interval(excluded=frozenset({0.0}))}


def _meet(a: Any, b: Any) -> Any:
    """Intersection of two optional bounds (intervals or word sets); None means no bound."""
    if a is None:
        return b
    if b is None:
        return a
    return a.meet(b) if isinstance(a, Interval) else a & b


def _days(word: str) -> frozenset[str]:
    return _DAY_GROUPS.get(word, frozenset({word}))


def overlap(a: Disjuncts, b: Disjuncts) -> bool:
    """Whether two conditions (as disjuncts; None for unknown or absent) may be true at once."""
    if a is None or b is None:
        return a != () and b != ()
    return any(_compatible(x, y) for x in a for y in b)


def _compatible(a: Conjunction, b: Conjunction) -> bool:
    small, large = (a.bounds, b.bounds) if len(a.bounds) <= len(b.bounds) else (b.bounds, a.bounds)
    for key, bound in small.items():
        other = large.get(key)
        if other is not None and bound.clashes(other):
            return False
    return True


def requires_flat(d: tuple[Conjunction, ...] | None) -> bool:
    """Whether every way of being true needs ``position == 0``."""
    if not d:
        return False
    for conj in d:
        bound = conj.get("position")
        if bound is None or bound.interval is None or not bound.interval.is_zero:
            return False
    return True
