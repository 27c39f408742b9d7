"""Property: the compiled condition agrees exactly (True / False / None) with a slow tree-walking
reference interpreter, on random valid conditions over random sequences of market, account,
bar and clock changes.

The reference reads the same market objects through their public API, computes local time
with ``datetime`` itself, and keeps the whole history of its evaluations (lists, not counters)
for ``crosses``, ``for N bars`` and ``for DURATION``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rulebot.lang import ast as A
from rulebot.lang.arguments import bind
from rulebot.lang.compiled import Bindings
from rulebot.lang.compiler import build_condition
from rulebot.lang.expressions import ExprChecker, Value
from rulebot.lang.kinds import Kind, combine
from rulebot.lang.report import Reporter
from rulebot.lang.source import Source
from rulebot.lang.vocabulary import FIELDS, INDICATORS, ReadSource, timeframe_seconds
from rulebot.market.candles import CandleField
from rulebot.market.indicator_spec import IndicatorSpec
from rulebot.market.state import MarketState
from rulebot.model.clock import SimClock
from rulebot.model.events import KlineUpdate

SYMBOL = "BTCUSDT"
TZ = "Europe/Berlin"
TICK = 0.5
START_MS = 1_711_839_600_000  # 2024-03-30 23:00 UTC: Berlin changes to summer time that night
NAN = math.nan
DAYS = {"mon": {0}, "tue": {1}, "wed": {2}, "thu": {3}, "fri": {4}, "sat": {5}, "sun": {6},
        "weekday": {0, 1, 2, 3, 4}, "weekend": {5, 6}}


class Account:
    def __init__(self) -> None:
        for name in ("position", "long_size", "short_size", "position_size", "entry_price", "liq_price", "upnl",
                     "upnl_pct", "leverage", "balance", "equity", "available", "open_orders",
                     "time_in_position", "bars_in_position", "pnl_today"):
            setattr(self, name, 0.0)


# --- the reference interpreter --------------------------------------------------------------------


def and3(xs: list[bool | None]) -> bool | None:
    if any(x is False for x in xs):
        return False
    return None if any(x is None for x in xs) else True


def or3(xs: list[bool | None]) -> bool | None:
    if any(x is True for x in xs):
        return True
    return None if any(x is None for x in xs) else False


def not3(x: bool | None) -> bool | None:
    return None if x is None else not x


def cmp3(op: str, a: float, b: float) -> bool | None:
    if math.isnan(a) or math.isnan(b):
        return None
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]


@dataclass
class Ref:
    """Evaluates a condition by walking its tree at each call."""

    expr: A.Expr
    market: MarketState
    account: Account
    clock: SimClock
    timeframe: str = "1m"
    kinds: dict[int, Value] = field(default_factory=dict)
    crosses: dict[int, list[tuple[int, float, float]]] = field(default_factory=dict)
    durations: dict[int, list[tuple[int, bool | None]]] = field(default_factory=dict)
    bar_records: dict[int, list[tuple[int, bool | None]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        checker = ExprChecker(Reporter(Source.contiguous("<t>", ""), []), self.timeframe, frozenset({"usdt"}))
        checker.condition(self.expr)
        self.kinds = checker.values
        bar_rule = bool(self.reads(self.expr)[0])
        self.eval_tf = min(self.bar_timeframes(self.expr), key=timeframe_seconds) if bar_rule else None

    def __call__(self) -> bool | None:
        return self.cond(self.expr, 0, True)

    # what a node reads
    def call_of(self, e: A.Call) -> tuple[IndicatorSpec | None, str]:
        rep = Reporter(Source.contiguous("<t>", ""), [])
        if e.name in ("open", "high", "low", "close", "volume"):
            return None, bind(e, (), rep, str).timeframe or self.timeframe
        ind = INDICATORS[e.name]
        bound = bind(e, ind.params, rep, str)
        tf = bound.timeframe or self.timeframe
        return IndicatorSpec.make(e.name, (), tf, dict(bound.values)), tf

    def reads(self, e: A.Expr) -> tuple[set[str], bool]:
        if isinstance(e, A.Name):
            f = FIELDS.get(e.name)
            if f is None:
                return set(), False
            return ({self.timeframe}, False) if f.source is ReadSource.CANDLE else (set(), True)
        if isinstance(e, A.Call):
            return {self.call_of(e)[1]}, False
        tfs: set[str] = set()
        other = isinstance(e, A.For) and e.duration is not None
        for c in kids(e):
            t, o = self.reads(c)
            tfs |= t
            other = other or o
        return tfs, other

    def bar_timeframes(self, e: A.Expr) -> set[str]:
        found = set(self.reads(e)[0])
        if isinstance(e, A.For) and e.bars is not None:
            tfs = self.reads(e.condition)[0]
            found.add(min(tfs, key=timeframe_seconds) if tfs else self.timeframe)
        for c in kids(e):
            found |= self.bar_timeframes(c)
        return found

    def cross_history(self, e: A.Crosses) -> bool:
        tfs, other = self.reads(e)
        return self.eval_tf is not None and not other and tfs <= {self.eval_tf}

    def for_history(self, e: A.For) -> bool:
        tfs, other = self.reads(e.condition)
        return e.bars is not None and not other and len(tfs) <= 1 and not self.remembers(e.condition)

    def remembers(self, e: A.Expr) -> bool:
        if isinstance(e, A.Crosses) and not self.cross_history(e):
            return True
        if isinstance(e, A.For) and not self.for_history(e):
            return True
        return any(self.remembers(c) for c in kids(e))

    # values
    def val(self, e: A.Expr, back: int) -> float:
        if isinstance(e, A.Number):
            return float(e.text)
        if isinstance(e, A.Percent):
            return float(e.text) / 100.0
        if isinstance(e, A.Duration):
            return float(e.seconds)
        if isinstance(e, A.TimeOfDay):
            return float(e.hour * 60 + e.minute)
        if isinstance(e, A.Money):
            return float(e.amount)
        if isinstance(e, A.Ticks):
            return float(e.count) * TICK
        if isinstance(e, A.Index):
            return self.val(e.target, back + e.offset)
        if isinstance(e, A.Neg):
            return -self.val(e.operand, back)
        if isinstance(e, A.BinOp):
            a, b = self.val(e.left, back), self.val(e.right, back)
            comb = combine(e.op, self.kinds[id(e.left)].operand, self.kinds[id(e.right)].operand)
            assert comb is not None
            if comb.relative_offset:
                return a * (1.0 + b) if e.op == "+" else a * (1.0 - b)
            if e.op == "+":
                return a + b
            if e.op == "-":
                return a - b
            if e.op == "*":
                return a * b
            return a / b if b != 0 else NAN
        if isinstance(e, A.Call):
            spec, tf = self.call_of(e)
            if spec is None:
                return self.market.candles(SYMBOL, tf).at(CandleField[e.name.upper()], back)
            return self.market.indicator(SYMBOL, spec, 60).at(back)
        assert isinstance(e, A.Name)
        f = FIELDS[e.name]
        if f.source is ReadSource.CANDLE:
            return self.market.candles(SYMBOL, self.timeframe).at(CandleField[f.name.upper()], back)
        assert back == 0
        if f.source is ReadSource.MARKET:
            return float(getattr(self.market.live_fields(SYMBOL), f.name))
        if f.source is ReadSource.ACCOUNT:
            return float(getattr(self.account, f.name))
        local = datetime.fromtimestamp(self.clock.now_ms() / 1000, tz=ZoneInfo(TZ))
        return float({"hour": local.hour, "minute": local.minute, "time": local.hour * 60 + local.minute,
                      "weekday": local.weekday()}[f.name])

    # conditions
    def cond(self, e: A.Expr, back: int, top: bool) -> bool | None:
        if isinstance(e, A.And):
            return and3([self.cond(x, back, top) for x in e.operands])
        if isinstance(e, A.Or):
            return or3([self.cond(x, back, top) for x in e.operands])
        if isinstance(e, A.Not):
            return not3(self.cond(e.operand, back, top))
        if isinstance(e, A.Compare):
            if self.kinds[id(e.left)].kind is Kind.WORD:
                assert isinstance(e.right, A.Name)
                inside = self.val(e.left, 0) in DAYS[e.right.name]
                return inside if e.op == "==" else not inside
            return cmp3(e.op, self.val(e.left, back), self.val(e.right, back))
        if isinstance(e, A.Between):
            s, lo, hi = self.val(e.subject, back), self.val(e.low, back), self.val(e.high, back)
            if self.kinds[id(e.subject)].kind is Kind.TIME_OF_DAY:
                return lo <= s <= hi if lo <= hi else (s >= lo or s <= hi)
            return and3([cmp3("<=", lo, s), cmp3("<=", s, hi)])
        if isinstance(e, A.Is):
            return self.is_word(e.subject, [e.word.name], e.negated)
        if isinstance(e, A.In):
            return self.is_word(e.subject, [w.name for w in e.words], False)
        if isinstance(e, A.Trend):
            op = "<" if e.direction == "rising" else ">"
            return and3([cmp3(op, self.val(e.subject, back + j + 1), self.val(e.subject, back + j))
                         for j in range(e.bars)])
        if isinstance(e, A.Crosses):
            return self.crossing(e, back, top)
        assert isinstance(e, A.For)
        return self.held(e, back, top)

    def is_word(self, subject: A.Expr, words: list[str], negated: bool) -> bool | None:
        assert isinstance(subject, A.Name)
        if subject.name == "weekday":
            result: bool | None = any(self.val(subject, 0) in DAYS[w] for w in words)
        else:
            p = self.val(subject, 0)
            ops = {"long": ">", "short": "<", "flat": "=="}
            result = or3([cmp3(ops[w], p, 0.0) for w in words])
        return not3(result) if negated else result

    def crossing(self, e: A.Crosses, back: int, top: bool) -> bool | None:
        now_a, now_b = self.val(e.left, back), self.val(e.right, back)
        if self.cross_history(e):
            pa, pb = self.val(e.left, back + 1), self.val(e.right, back + 1)
        else:
            assert top and back == 0
            log = self.crosses.setdefault(id(e), [])
            earlier = [x for x in log if x[0] < self.clock.now_ms()]
            pa, pb = (earlier[-1][1], earlier[-1][2]) if earlier else (NAN, NAN)
            log.append((self.clock.now_ms(), now_a, now_b))
        up = and3([cmp3("<=", pa, pb), cmp3(">", now_a, now_b)])
        down = and3([cmp3(">=", pa, pb), cmp3("<", now_a, now_b)])
        return up if e.direction == "above" else down if e.direction == "below" else or3([up, down])

    def held(self, e: A.For, back: int, top: bool) -> bool | None:
        if e.bars is not None and self.for_history(e):
            return and3([self.cond(e.condition, back + j, top) for j in range(e.bars)])
        assert top and back == 0
        c = self.cond(e.condition, 0, top)
        now = self.clock.now_ms()
        if e.duration is not None:
            log = self.durations.setdefault(id(e), [])
            log.append((now, c))
            if c is False:
                return False
            run_true = [t for t, _ in _trailing(log, lambda x: x is True)]
            if run_true and now - run_true[0] >= e.duration.seconds * 1000:
                return True
            known = _trailing(log, lambda x: x is not False)
            if len(known) == len(log) or now - known[0][0] >= e.duration.seconds * 1000:
                return None
            return False
        tfs = self.reads(e.condition)[0]
        tf = min(tfs, key=timeframe_seconds) if tfs else self.timeframe
        series = self.market.candles(SYMBOL, tf)
        start = series.start_at(0)
        records = self.bar_records.setdefault(id(e), [])
        if start >= 0 and (not records or records[-1][0] != start):
            if records:   # bars that closed without an evaluation are unknown
                records.extend((t, None) for t in range(records[-1][0] + series.tf_ms, start, series.tf_ms))
            records.append((start, c))
        last = [r for _, r in records[-e.bars:]]
        last = [None] * (e.bars - len(last)) + last
        return and3([c] + last)


def _trailing(log: list[tuple[int, bool | None]], keep: object) -> list[tuple[int, bool | None]]:
    run: list[tuple[int, bool | None]] = []
    for entry in reversed(log):
        if not keep(entry[1]):  # type: ignore[operator]
            break
        run.insert(0, entry)
    return run


def kids(e: A.Expr) -> tuple[A.Expr, ...]:
    if isinstance(e, A.Index):
        return (e.target,)
    if isinstance(e, (A.Neg, A.Not)):
        return (e.operand,)
    if isinstance(e, (A.BinOp, A.Compare, A.Crosses)):
        return (e.left, e.right)
    if isinstance(e, A.Between):
        return (e.subject, e.low, e.high)
    if isinstance(e, (A.Trend, A.Is, A.In)):
        return (e.subject,)
    if isinstance(e, A.For):
        return (e.condition,)
    if isinstance(e, (A.And, A.Or)):
        return e.operands
    return ()


# --- random valid conditions ------------------------------------------------------------------------


def N(text: str) -> A.Number:
    return A.Number(text)


def call(name: str, *args: str, tf: str | None = None) -> A.Call:
    parts: list[A.Expr] = [N(a) for a in args]
    if tf:
        parts.append(A.Duration(int(tf[:-1]), tf[-1]))
    return A.Call(name, tuple(parts))


bar_prices = st.one_of(
    st.sampled_from(["close", "open", "high", "low"]).map(A.Name),
    st.sampled_from([call("ema", "3"), call("sma", "2"), call("highest", "3"), call("bb_upper", "3"),
                     call("close", tf="5m"), call("ema", "2", tf="5m"), call("lowest", "2")]),
)
bar_numbers = st.sampled_from([call("rsi", "3"), A.Name("volume"), call("stoch", "3"), call("cci", "3")])
live_prices = st.sampled_from(["bid1", "ask1", "price", "mark_price", "mid"]).map(A.Name)
percents = st.one_of(st.sampled_from(["spread_pct", "funding_rate", "upnl_pct"]).map(A.Name),
                     st.sampled_from(["0.05", "1", "2", "0"]).map(A.Percent))
numbers_lit = st.sampled_from(["0", "1", "30", "50", "99.5", "100", "100.25", "101", "-1", "1e999"]).map(N)
account_numbers = st.sampled_from(["position", "open_orders"]).map(A.Name)


def indexed(s: st.SearchStrategy[A.Expr]) -> st.SearchStrategy[A.Expr]:
    return st.one_of(s, st.builds(A.Index, s, st.integers(1, 3)))


def prices(bar_only: bool) -> st.SearchStrategy[A.Expr]:
    base = indexed(bar_prices) if bar_only else st.one_of(indexed(bar_prices), live_prices)

    def extend(inner: st.SearchStrategy[A.Expr]) -> st.SearchStrategy[A.Expr]:
        return st.one_of(
            st.builds(A.BinOp, st.sampled_from(["+", "-"]), inner, st.sampled_from(["0.5", "1", "2"]).map(A.Percent)),
            st.builds(A.BinOp, st.sampled_from(["+", "-"]), inner, st.sampled_from(["1", "3"]).map(A.Ticks)),
            st.builds(A.BinOp, st.sampled_from(["+", "-"]), inner, inner),
            st.builds(A.BinOp, st.just("*"), inner, numbers_lit),
            st.builds(A.BinOp, st.just("/"), inner, numbers_lit),
            st.builds(A.Neg, inner),
        )
    return st.recursive(base, extend, max_leaves=3)


def numbers(bar_only: bool) -> st.SearchStrategy[A.Expr]:
    base = indexed(bar_numbers) if bar_only else st.one_of(indexed(bar_numbers), account_numbers)
    ratio = st.builds(A.BinOp, st.just("/"), prices(bar_only), prices(bar_only))
    return st.one_of(base, ratio, st.builds(A.BinOp, st.sampled_from(["-", "*"]), base, base))


def comparisons(bar_only: bool) -> st.SearchStrategy[A.Expr]:
    ops = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
    p, n = prices(bar_only), numbers(bar_only)
    out = [
        st.builds(A.Compare, ops, p, st.one_of(p, numbers_lit)),
        st.builds(A.Compare, ops, n, st.one_of(n, numbers_lit)),
        st.builds(A.Between, p, st.one_of(p, numbers_lit), st.one_of(p, numbers_lit)),
        st.builds(A.Crosses, p, st.sampled_from(["above", "below", ""]), st.one_of(p, numbers_lit)),
        st.builds(A.Trend, indexed(st.one_of(bar_prices, bar_numbers)), st.sampled_from(["rising", "falling"]),
                  st.integers(1, 3)),
    ]
    if not bar_only:
        out += [
            st.builds(A.Compare, ops, percents, st.one_of(percents, numbers_lit)),
            st.builds(A.Is, st.just(A.Name("position")), st.booleans(),
                      st.sampled_from(["long", "short", "flat"]).map(A.Name)),
            st.builds(A.In, st.just(A.Name("weekday")),
                      st.lists(st.sampled_from(list(DAYS)).map(A.Name), min_size=1, max_size=3).map(tuple)),
            st.builds(A.Compare, st.sampled_from(["==", "!="]), st.just(A.Name("weekday")),
                      st.sampled_from(list(DAYS)).map(A.Name)),
            st.builds(A.Between, st.just(A.Name("time")), st.builds(A.TimeOfDay, st.integers(0, 23), st.just(0)),
                      st.builds(A.TimeOfDay, st.integers(0, 23), st.just(30))),
            st.builds(A.Compare, ops, st.sampled_from(["hour", "minute"]).map(A.Name), numbers_lit),
        ]
    return st.one_of(*out)


def conditions(bar_only: bool) -> st.SearchStrategy[A.Expr]:
    def extend(inner: st.SearchStrategy[A.Expr]) -> st.SearchStrategy[A.Expr]:
        return st.one_of(
            st.builds(A.Not, inner),
            st.builds(A.And, st.lists(inner, min_size=2, max_size=3).map(tuple)),
            st.builds(A.Or, st.lists(inner, min_size=2, max_size=3).map(tuple)),
            st.builds(A.For, inner, st.integers(1, 3), st.none()),
            st.builds(A.For, inner, st.none(), st.builds(A.Duration, st.integers(1, 5), st.just("m"))),
        )
    return st.recursive(comparisons(bar_only), extend, max_leaves=5)


any_condition = st.one_of(conditions(True), conditions(False))


@dataclass(frozen=True)
class Step:
    advance_ms: int
    bar: tuple[float, float, float, float, float] | None
    quotes: tuple[float, float] | None
    last: float
    mark: float
    position: float
    funding: float


prices_drawn = st.one_of(st.floats(97, 103).map(lambda x: round(x * 4) / 4), st.just(NAN))
steps = st.builds(
    Step,
    st.sampled_from([0, 0, 30_000, 60_000, 60_000, 300_000, 3_600_000 * 5]),
    st.one_of(st.none(), st.tuples(*([st.floats(97, 103).map(lambda x: round(x * 2) / 2)] * 4),
                                   st.sampled_from([0.0, 1.0, 5.0, -1.0]))),
    st.one_of(st.none(), st.tuples(prices_drawn, st.floats(0, 2).map(lambda x: round(x * 2) / 2))),
    prices_drawn,
    prices_drawn,
    st.sampled_from([0.0, 1.0, -1.0, NAN]),
    st.sampled_from([0.0, 0.0001, -0.0002, NAN]),
)


class World:
    """A market, an account and a clock, changed step by step."""

    def __init__(self) -> None:
        self.market = MarketState(history=200)
        self.market.candles(SYMBOL, "5m", aggregate_from="1m")
        self.account = Account()
        self.clock = SimClock(START_MS)
        self.bar_start = START_MS - 60 * 60_000
        self.bindings = Bindings(self.market, lambda s: self.account, self.clock, TZ, lambda s: TICK)  # type: ignore[arg-type,return-value]
        for i in range(12):
            self.bar((100.0 + i % 3, 101.0 + i % 3, 99.0, 100.5, 3.0))

    def bar(self, ohlcv: tuple[float, float, float, float, float]) -> None:
        o, h, lo, c, v = ohlcv
        self.market.apply(KlineUpdate(SYMBOL, "1m", self.bar_start + 60_000, 0, self.bar_start, o,
                                      max(o, h, c), min(o, lo, c) if v >= 0 else lo, c, v, True))
        self.bar_start += 60_000

    def apply(self, s: Step) -> None:
        self.clock.advance_to(self.clock.now_ms() + s.advance_ms)
        if s.bar is not None:
            self.bar(s.bar)
        live = self.market.live_fields(SYMBOL)
        if s.quotes is not None:
            live.set_quotes(s.quotes[0], 1.0, s.quotes[0] + s.quotes[1], 1.0)
        live.set_last(s.last)
        live.mark_price = s.mark
        live.funding_rate = s.funding
        self.account.position = s.position


def checks(expr: A.Expr) -> bool:
    sink: list = []
    ExprChecker(Reporter(Source.contiguous("<t>", ""), sink), "1m", frozenset({"usdt"})).condition(expr)
    return not any(d.severity.value == "error" for d in sink)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(any_condition, st.booleans(), st.lists(steps, min_size=5, max_size=30))
def test_compiled_agrees_with_the_reference(expr: A.Expr, scheduled: bool, sequence: list[Step]) -> None:
    assume(checks(expr))
    world = World()
    compiled = build_condition(expr, SYMBOL, world.bindings, scheduled=scheduled)
    reference = Ref(expr, world.market, world.account, world.clock)
    if scheduled:
        reference.eval_tf = None
    got, want = [], []
    for step in sequence:
        world.apply(step)
        got.append(compiled.fn())
        want.append(reference())
    assert got == want, compiled.source


def test_the_reference_sees_every_kind_of_result() -> None:
    """The property above must be able to fail: the reference gives all three answers."""
    world = World()
    expr = A.Compare(">", A.Name("bid1"), N("100"))
    ref = Ref(expr, world.market, world.account, world.clock)
    seen = {ref()}
    world.market.live_fields(SYMBOL).set_quotes(101.0, 1.0, 102.0, 1.0)
    seen.add(ref())
    world.market.live_fields(SYMBOL).set_quotes(99.0, 1.0, 102.0, 1.0)
    seen.add(ref())
    assert seen == {None, True, False}
