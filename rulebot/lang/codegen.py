"""Python source from a checked rule's AST (ARCHITECTURE.md "Compiled conditions").

One factory function per rule holds an entry function per compiled expression (the
condition, each action value); the compiler binds the factory's parameters to slots (the
live fields object, a candle series, an indicator handle, a memory) and calls it once. The
source is ours: names are slot variables and attribute names from the vocabulary tables,
numbers are ``repr(float)``; no text of the rule reaches it.

Three-valued logic without tree walking: each condition is a pair of plain boolean
expressions, known true and known false (``pieces.py``); the entry returns True if the
first holds, False if the second does, else None. Division by zero gives NaN.

History (``history.py`` decides which constructs read it): ``[n]`` shifts every bar read
below it; ``rising n`` and ``for n bars`` call small loops over a nested function of the
shift ``k``. Constructs that remember earlier evaluations (``crosses`` of live values,
``for DURATION``, ...) call a memory object; their statements come before the test, so
they see every evaluation even when ``and``/``or`` would skip them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from rulebot.lang import ast as A
from rulebot.lang.arguments import bind
from rulebot.lang.compiled import ACCOUNT_FIELDS, CompileError
from rulebot.lang.expressions import Value
from rulebot.lang.history import HistoryFacts
from rulebot.lang.kinds import Kind, combine
from rulebot.lang.pieces import FALSE, NOW, TRUE, UNKNOWN, Cond, Shift, Val, and_, compare_values, fold, lit, not_, or_, tri
from rulebot.lang.report import Reporter
from rulebot.lang.slots import (
    AccountSlot,
    CrossSlot,
    ForBarsSlot,
    ForTimeSlot,
    Generated,
    IndicatorSlot,
    LiveSlot,
    SeriesSlot,
    Slot,
    TickSlot,
    TimeSlot,
)
from rulebot.lang.source import Source
from rulebot.lang.vocabulary import CANDLE_FIELDS, DAY_NAMES, FIELDS, INDICATORS, ReadSource
from rulebot.market.candles import CandleField
from rulebot.market.indicator_spec import IndicatorSpec
from rulebot.market.live import LIVE_FIELDS

MAX_DEPTH = 40
"""Deepest parenthesis nesting of one generated expression; deeper parts go to a local
variable first (CPython refuses more than 200 nested parentheses)."""

_TIME_METHODS = {"time": "time", "hour": "hour", "minute": "minute", "weekday": "weekday"}
_DAY_SETS = {**{d: (i,) for i, d in enumerate(DAY_NAMES)}, "weekday": (0, 1, 2, 3, 4), "weekend": (5, 6)}


@dataclass
class _Function:
    lines: list[str] = field(default_factory=list)
    main: bool = True


class Codegen:
    """Builds the factory of one rule. ``kinds`` maps ``id(node)`` to the checker's `Value`."""

    def __init__(self, kinds: Mapping[int, Value], timeframe: str) -> None:
        self.kinds = kinds
        self.timeframe = timeframe
        self._names: dict[Slot, str] = {}
        self.lookback: dict[IndicatorSpec, int] = {}
        self._defs: list[str] = []
        self._entries: list[str] = []
        self._count = 0
        self._memories = 0
        self._fn = _Function()
        self._used: set[str] = set()
        self.history = HistoryFacts(timeframe, lambda call: self._resolve_call(call)[2])
        self._specs: dict[int, tuple[str, IndicatorSpec | None, str]] = {}
        self._rep = Reporter(Source.contiguous("<compile>", ""), [])

    # --- entries -------------------------------------------------------------------------------

    def condition(self, expr: A.Expr, eval_tf: str | None) -> int:
        """Add an entry giving the condition's value (True/False/None). ``eval_tf``: for a bar
        rule, the timeframe whose consecutive closes are its consecutive evaluations."""
        self.history.eval_tf = eval_tf
        c = self._fit_cond(self.cond(expr, NOW))
        return self._entry([f"if {c.t}:", "    return True", f"if {c.f}:", "    return False", "return None"])

    def tri(self, expr: A.Expr) -> int:
        """Add an entry giving a condition's value, evaluated when an action runs."""
        self.history.eval_tf = None
        return self._entry([f"return {tri(self._fit_cond(self.cond(expr, NOW)))}"])

    def value(self, expr: A.Expr) -> int:
        """Add an entry giving an expression's value (NaN when unknown)."""
        self.history.eval_tf = None
        return self._entry([f"return {self._fit(self.val(expr, NOW)).text}"])

    def _entry(self, tail: list[str]) -> int:
        index = len(self._entries)
        params = ", ".join(f"{n}={n}" for n in sorted(self._used))
        body = self._fn.lines + tail
        self._entries.append("\n".join([f"def _run{index}({params}):"] + ["    " + line for line in body]))
        self._fn = _Function()
        self._used = set()
        return index

    def finish(self) -> Generated:
        """The factory's source and what its parameters are."""
        slots = tuple(self._names)
        params = ", ".join(self._names[s] for s in slots)
        parts = [f"def _factory({params}):"]
        for source in self._defs + self._entries:
            parts.extend("    " + line for line in source.split("\n"))
        parts.append(f"    return ({''.join(f'_run{i}, ' for i in range(len(self._entries)))})")
        return Generated("\n".join(parts) + "\n", slots, dict(self.lookback))

    # --- names, temporaries, functions -----------------------------------------------------------

    def _slot(self, slot: Slot) -> str:
        name = self._names.get(slot)
        if name is None:
            prefix = {LiveSlot: "L", AccountSlot: "A", TimeSlot: "TM", TickSlot: "TK", SeriesSlot: "S",
                      IndicatorSlot: "H", CrossSlot: "M", ForTimeSlot: "M", ForBarsSlot: "M"}[type(slot)]
            name = prefix if prefix in ("L", "A", "TM", "TK") else f"{prefix}{len(self._names)}"
            self._names[slot] = name
        self._used.add(name)
        return name

    def _temp(self, prefix: str = "_t") -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def _fit(self, v: Val) -> Val:
        if v.depth <= MAX_DEPTH:
            return v
        name = self._temp()
        self._fn.lines.append(f"{name} = {v.text}")
        return Val(name, 0, v.const)

    def _fit_cond(self, c: Cond) -> Cond:
        if c.depth <= MAX_DEPTH:
            return c
        name = self._temp()
        self._fn.lines.append(f"{name} = {tri(c)}")
        return Cond(f"{name} is True", f"{name} is False")

    @contextmanager
    def _nested(self) -> Iterator[str]:
        """Generate a nested function of the shift ``k``; yields its name."""
        outer = self._fn
        self._fn = _Function(main=False)
        name = self._temp("_f")
        try:
            yield name
        finally:
            self._fn = outer
        self._used.add(name)

    def _define(self, name: str, inner: _Function, result: str) -> None:
        lines = inner.lines + [f"return {result}"]
        self._defs.append("\n".join([f"def {name}(k):"] + ["    " + line for line in lines]))

    def _memory(self, slot: CrossSlot | ForTimeSlot | ForBarsSlot, argument: str) -> Cond:
        if not self._fn.main:
            raise CompileError("a remembered construct inside a history loop")
        name = self._slot(slot)
        result = self._temp("_m")
        self._fn.lines.append(f"{result} = {name}.step({argument})")
        return Cond(f"{result} is True", f"{result} is False")

    def _next_memory(self) -> int:
        self._memories += 1
        return self._memories - 1

    # --- values --------------------------------------------------------------------------------

    def _kind(self, node: A.Expr) -> Value:
        v = self.kinds.get(id(node))
        if v is None:
            raise CompileError(f"no kind known for {type(node).__name__}")
        return v

    def val(self, e: A.Expr, sh: Shift) -> Val:
        """The float expression of ``e`` read ``sh`` bars back."""
        if isinstance(e, A.Number):
            return Val(lit(e.value), 0, e.value)
        if isinstance(e, A.Percent):
            return Val(lit(e.fraction), 0, e.fraction)
        if isinstance(e, A.Duration):
            return Val(lit(float(e.seconds)), 0, float(e.seconds))
        if isinstance(e, A.TimeOfDay):
            minutes = float(e.hour * 60 + e.minute)
            return Val(lit(minutes), 0, minutes)
        if isinstance(e, A.Money):
            amount = float(e.amount)
            return Val(lit(amount), 0, amount)
        if isinstance(e, A.Ticks):
            return Val(f"({lit(float(e.count))} * {self._slot(TickSlot())}())", 1)
        if isinstance(e, A.Name):
            return self._name(e, sh)
        if isinstance(e, A.Call):
            return self._call(e, sh)
        if isinstance(e, A.Index):
            return self.val(e.target, sh.plus(e.offset))
        if isinstance(e, A.Neg):
            inner = self.val(e.operand, sh)
            if inner.const is not None:
                return Val(lit(-inner.const), 0, -inner.const)
            return self._fit(Val(f"(-{inner.text})", inner.depth + 1))
        if isinstance(e, A.BinOp):
            return self._binop(e, sh)
        raise CompileError(f"{type(e).__name__} is not a value")

    def _name(self, e: A.Name, sh: Shift) -> Val:
        f = FIELDS.get(e.name)
        if f is None:
            raise CompileError(f"'{e.name}' is not a field")
        if f.source is ReadSource.CANDLE:
            return self._candle(f.name, self.timeframe, sh)
        if not sh.zero:
            raise CompileError(f"'{e.name}' has no bar history")
        if f.source is ReadSource.MARKET and f.name in LIVE_FIELDS:
            return Val(f"{self._slot(LiveSlot())}.{f.name}")
        if f.source is ReadSource.ACCOUNT and f.name in ACCOUNT_FIELDS:
            return Val(f"{self._slot(AccountSlot())}.{f.name}")
        if f.source is ReadSource.TIME and f.name in _TIME_METHODS:
            return Val(f"{self._slot(TimeSlot())}.{_TIME_METHODS[f.name]}()")
        raise CompileError(f"no slot for field '{f.name}'")

    def _candle(self, name: str, timeframe: str, sh: Shift) -> Val:
        series = self._slot(SeriesSlot(timeframe))
        column = CandleField[name.upper()]
        if sh.zero:
            return Val(f"{series}.{column.name.lower()}")
        return Val(f"{series}.at({int(column)}, {sh.text})", 1)

    def _call(self, e: A.Call, sh: Shift) -> Val:
        name, spec, timeframe = self._resolve_call(e)
        if spec is None:
            return self._candle(name, timeframe, sh)
        handle = self._slot(IndicatorSlot(spec))
        self.lookback[spec] = max(self.lookback.get(spec, 1), sh.most)
        if sh.zero:
            return Val(f"{handle}.value")
        return Val(f"{handle}.at({sh.text})", 1)

    def _resolve_call(self, e: A.Call) -> tuple[str, IndicatorSpec | None, str]:
        """A call's name, indicator spec (None for a candle field) and timeframe."""
        found = self._specs.get(id(e))
        if found is not None:
            return found
        if e.name in CANDLE_FIELDS:
            bound = bind(e, (), self._rep, lambda: e.name)
            result: tuple[str, IndicatorSpec | None, str] = (e.name, None, bound.timeframe or self.timeframe)
        elif e.name in INDICATORS:
            bound = bind(e, INDICATORS[e.name].params, self._rep, lambda: e.name, INDICATORS[e.name].less_than)
            tf = bound.timeframe or self.timeframe
            result = (e.name, IndicatorSpec.make(e.name, (), tf, dict(bound.values)), tf)
        else:
            raise CompileError(f"unknown indicator '{e.name}'")
        if not bound.ok:
            raise CompileError(f"the arguments of '{e.name}' do not check")
        self._specs[id(e)] = result
        return result

    def _binop(self, e: A.BinOp, sh: Shift) -> Val:
        a = self.val(e.left, sh)
        b = self.val(e.right, sh)
        combined = combine(e.op, self._kind(e.left).operand, self._kind(e.right).operand)
        if combined is None:
            raise CompileError(f"'{e.op}' does not combine these kinds")
        depth = max(a.depth, b.depth) + 1
        if combined.relative_offset:
            # `ema(50) + 1%` is ema(50) × 1.01
            if b.const is not None:
                factor = 1.0 + b.const if e.op == "+" else 1.0 - b.const
                if a.const is not None:
                    return Val(lit(a.const * factor), 0, a.const * factor)
                return self._fit(Val(f"({a.text} * {lit(factor)})", depth))
            return self._fit(Val(f"({a.text} * (1.0 {e.op} {b.text}))", depth + 1))
        if a.const is not None and b.const is not None:
            x = fold(e.op, a.const, b.const)
            return Val(lit(x), 0, x)
        if e.op == "/":
            d = self._temp("_d")
            return self._fit(Val(f"({a.text} / {d} if ({d} := {b.text}) else NAN)", depth + 1))
        return self._fit(Val(f"({a.text} {e.op} {b.text})", depth))

    # --- conditions ----------------------------------------------------------------------------

    def cond(self, e: A.Expr, sh: Shift) -> Cond:
        """The condition ``e`` read ``sh`` bars back."""
        if isinstance(e, A.And):
            return self._fit_cond(and_([self.cond(x, sh) for x in e.operands]))
        if isinstance(e, A.Or):
            return self._fit_cond(or_([self.cond(x, sh) for x in e.operands]))
        if isinstance(e, A.Not):
            return not_(self.cond(e.operand, sh))
        if isinstance(e, A.Compare):
            return self._compare(e, sh)
        if isinstance(e, A.Between):
            return self._between(e, sh)
        if isinstance(e, A.Crosses):
            return self._crosses(e, sh)
        if isinstance(e, A.Trend):
            return self._trend(e, sh)
        if isinstance(e, A.For):
            return self._for(e, sh)
        if isinstance(e, (A.Is, A.In)):
            return self._is_in(e, sh)
        raise CompileError(f"{type(e).__name__} is not a condition")

    def cmp(self, op: str, a: Val, b: Val) -> Cond:
        """``a op b`` in three-valued logic: NaN on either side makes it unknown."""
        if a.const is not None and b.const is not None:
            result = compare_values(op, a.const, b.const)
            return UNKNOWN if result is None else (TRUE if result else FALSE)
        x, y = a.text, b.text
        depth = max(a.depth, b.depth) + 1
        if op in ("<", "<=", ">", ">="):
            opposite = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}[op]
            return self._fit_cond(Cond(f"({x} {op} {y})", f"({x} {opposite} {y})", depth))
        # differ: both known and unequal; each side is evaluated once (a constant needs no name)
        if b.const is not None:
            p = self._temp("_w")
            differ = f"(({p} := {x}) < {y} or {p} > {y})"
        elif a.const is not None:
            q = self._temp("_w")
            differ = f"({x} < ({q} := {y}) or {x} > {q})"
        else:
            p, q = self._temp("_w"), self._temp("_w")
            differ = f"(({p} := {x}) < ({q} := {y}) or {p} > {q})"
        same = f"({x} == {y})"
        if op == "==":
            return self._fit_cond(Cond(same, differ, depth + 1))
        if op == "!=":
            return self._fit_cond(Cond(differ, same, depth + 1))
        raise CompileError(f"unknown comparison '{op}'")

    def _compare(self, e: A.Compare, sh: Shift) -> Cond:
        if Kind.WORD in (self._kind(e.left).kind, self._kind(e.right).kind):
            return self._word_compare(e)
        return self.cmp(e.op, self.val(e.left, sh), self.val(e.right, sh))

    def _word_compare(self, e: A.Compare) -> Cond:
        """``weekday == sat``, ``weekday != weekend`` (the other side of the field ``weekday`` is
        read as a word, so ``weekday == weekday`` means Monday to Friday); two words compare by name."""
        if e.op not in ("==", "!="):
            raise CompileError(f"'{e.op}' does not apply to words")
        left, right = e.left, e.right
        if not isinstance(left, A.Name) or not isinstance(right, A.Name):
            raise CompileError("words are compared by name")
        if left.name == "weekday":
            result = self._days(right.name)
        elif right.name == "weekday":
            result = self._days(left.name)
        else:
            result = TRUE if left.name == right.name else FALSE
        return result if e.op == "==" else not_(result)

    def _days(self, word: str) -> Cond:
        days = _DAY_SETS.get(word)
        if days is None:
            raise CompileError(f"'{word}' is not a day")
        return self._weekday_in(days)

    def _weekday_in(self, days: tuple[int, ...]) -> Cond:
        today = f"{self._slot(TimeSlot())}.weekday()"
        listed = "{" + ", ".join(f"{d}.0" for d in sorted(set(days))) + "}"
        return Cond(f"({today} in {listed})", f"({today} not in {listed})", 1)

    def _is_in(self, e: A.Is | A.In, sh: Shift) -> Cond:
        subject = e.subject.name if isinstance(e.subject, A.Name) else ""
        words = [e.word] if isinstance(e, A.Is) else list(e.words)
        if subject == "weekday":
            days: list[int] = []
            for w in words:
                found = _DAY_SETS.get(w.name)
                if found is None:
                    raise CompileError(f"'{w.name}' is not a day")
                days.extend(found)
            result = self._weekday_in(tuple(days))
        elif subject == "position":
            position = self.val(e.subject, sh)
            zero = Val("0.0", 0, 0.0)
            ops = {"long": ">", "short": "<", "flat": "=="}
            if any(w.name not in ops for w in words):
                raise CompileError("a position is long, short or flat")
            result = or_([self.cmp(ops[w.name], position, zero) for w in words])
        else:
            raise CompileError("'is' and 'in' apply to position and weekday")
        return not_(result) if isinstance(e, A.Is) and e.negated else result

    def _between(self, e: A.Between, sh: Shift) -> Cond:
        s, lo, hi = self.val(e.subject, sh), self.val(e.low, sh), self.val(e.high, sh)
        if self._kind(e.subject).kind is Kind.TIME_OF_DAY:
            # times of day are always known; a window may wrap midnight
            test = f"_time_between({s.text}, {lo.text}, {hi.text})"
            return Cond(test, f"(not {test})", max(s.depth, lo.depth, hi.depth) + 2)
        return and_([self.cmp("<=", lo, s), self.cmp("<=", s, hi)])

    def _crosses(self, e: A.Crosses, sh: Shift) -> Cond:
        if self.history.crosses_by_history(e):
            a0, b0 = self.val(e.left, sh), self.val(e.right, sh)
            a1, b1 = self.val(e.left, sh.plus(1)), self.val(e.right, sh.plus(1))
            up = and_([self.cmp("<=", a1, b1), self.cmp(">", a0, b0)])
            down = and_([self.cmp(">=", a1, b1), self.cmp("<", a0, b0)])
            if e.direction == "above":
                return up
            if e.direction == "below":
                return down
            return self._fit_cond(or_([up, down]))
        if not sh.zero:
            raise CompileError("'crosses' of live values has no bar history")
        a, b = self._fit(self.val(e.left, sh)), self._fit(self.val(e.right, sh))
        return self._memory(CrossSlot(e.direction, self._next_memory()), f"{a.text}, {b.text}")

    def _trend(self, e: A.Trend, sh: Shift) -> Cond:
        with self._nested() as name:
            inner = self._fn
            result = self._fit(self.val(e.subject, Shift(0, sh.most + e.bars))).text
        self._define(name, inner, result)
        call = f"_trend({name}, {sh.text}, {e.bars}, {e.direction == 'rising'})"
        return Cond(f"({call} is True)", f"({call} is False)", 1)

    def _for(self, e: A.For, sh: Shift) -> Cond:
        if e.bars is not None and self.history.for_by_history(e):
            if e.bars == 1:
                return self.cond(e.condition, sh)
            with self._nested() as name:
                inner = self._fn
                result = tri(self._fit_cond(self.cond(e.condition, Shift(0, sh.most + e.bars - 1))))
            self._define(name, inner, result)
            call = f"_all_bars({name}, {sh.text}, {e.bars})"
            return Cond(f"({call} is True)", f"({call} is False)", 1)
        if not sh.zero:
            raise CompileError("a remembered 'for' has no bar history")
        c = self._fit_cond(self.cond(e.condition, sh))
        held = self._temp("_c")
        self._fn.lines.append(f"{held} = {tri(c)}")
        slot: ForTimeSlot | ForBarsSlot
        if e.bars is not None:
            slot = ForBarsSlot(e.bars, self.history.counting_timeframe(e.condition), self._next_memory())
        elif e.duration is not None:
            slot = ForTimeSlot(e.duration.seconds, self._next_memory())
        else:
            raise CompileError("'for' needs bars or a duration")
        return self._memory(slot, held)
