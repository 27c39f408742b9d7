"""The compiler: checked rules -> callables that read the market through pre-resolved slots.

``compile_file(analysis, bindings)`` compiles every usable, enabled rule of a file once per
symbol (symbol by symbol, rules in file order) and says which candle series the rules need
(`Feed`s: which timeframe the engine feeds, which are aggregated from it, how much history to
preload). ``compile_condition`` compiles one expression, for tests and tools.

How a rule becomes code: the checker's kinds (which ``+ 1%`` is a relative offset, which
comparison is of words, ...) drive ``codegen.Codegen``, which writes one factory function per
rule; it is compiled once (cached by its source: every symbol of a file shares it) and called
per symbol with the slot objects — the live fields, the account fields, candle series,
indicator handles, the local time, the memories of ``crosses``/``for``. Evaluation is a call
of a plain function: no tree walking, no lookup by name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from types import CodeType

from rulebot.lang import ast as A
from rulebot.lang import filemodel as fm
from rulebot.lang.checker import CheckedRule
from rulebot.lang.codegen import Codegen
from rulebot.lang.compile_actions import ActionPlan, ActionPlanner
from rulebot.lang.compiled import Bindings, CompiledFile, CompiledRule, CompileError, Feed, Memory, Trigger
from rulebot.lang.diagnostics import Severity
from rulebot.lang.expressions import ExprChecker, Value
from rulebot.lang.history import children
from rulebot.lang.lint import AnalyzedRule, FileAnalysis
from rulebot.lang.report import Reporter
from rulebot.lang.runtime import GLOBALS, CrossMemory, ForBars, ForDuration, LocalTime
from rulebot.lang.slots import (
    MEMORY_SLOTS,
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
from rulebot.lang.vocabulary import STANDARD_COINS, ReadSource, timeframe_seconds
from rulebot.market.state import MarketState
from rulebot.market.timeframes import check_aggregation

__all__ = [
    "CompiledCondition", "build_condition", "compile_condition", "compile_file", "plan_feeds", "text_hash",
    "triggers_of",
]

_COINS = frozenset(STANDARD_COINS)
_LIVE_TRIGGERS = {ReadSource.MARKET: "market", ReadSource.ACCOUNT: "account", ReadSource.TIME: "minute"}


@dataclass(frozen=True)
class CompiledCondition:
    """One compiled condition with its memories (``crosses``/``for``) and generated source."""

    fn: Callable[[], bool | None]
    memories: tuple[Memory, ...]
    source: str


def compile_condition(expr: A.Expr, symbol: str, bindings: Bindings, *, timeframe: str = "1m",
                      scheduled: bool = False) -> Callable[[], bool | None]:
    """Compile a condition for ``symbol``: a callable giving True, False or None (unknown).

    ``timeframe``: the file's default candle timeframe; ``scheduled``: evaluated on a schedule
    (then ``crosses`` compares with the previous scheduled evaluation, never with ``[1]``).
    Raises `CompileError` for an expression the checker does not accept.
    """
    return build_condition(expr, symbol, bindings, timeframe=timeframe, scheduled=scheduled).fn


def build_condition(expr: A.Expr, symbol: str, bindings: Bindings, *, timeframe: str = "1m",
                    scheduled: bool = False) -> CompiledCondition:
    """Like `compile_condition`, also giving the memories and the generated source."""
    kinds: dict[int, Value] = {}
    checker = _checker(timeframe, in_actions=False)
    _check_condition(checker, expr)
    kinds.update(checker.values)
    gen = Codegen(kinds, timeframe)
    eval_tf = None
    if not scheduled and gen.history.reads(expr).timeframes:
        # a bar rule (it reads candles or indicators): due on the closes of these timeframes
        eval_tf = min(_bar_timeframes(gen, expr), key=timeframe_seconds)
    gen.condition(expr, eval_tf)
    generated = gen.finish()
    entries, memories = _instantiate(generated, symbol, bindings, LocalTime(bindings.clock, bindings.timezone))
    return CompiledCondition(entries[0], memories, generated.source)  # type: ignore[arg-type]


def _bar_timeframes(gen: Codegen, expr: A.Expr) -> set[str]:
    """The timeframes whose bar closes make a condition due (as the checker's ``timeframes``)."""
    found = set(gen.history.reads(expr).timeframes)
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, A.For) and node.bars is not None:
            found.add(gen.history.counting_timeframe(node.condition))
        stack.extend(children(node))
    return found


def _checker(timeframe: str, in_actions: bool) -> ExprChecker:
    return ExprChecker(Reporter(Source.contiguous("<compile>", ""), []), timeframe, _COINS, in_actions=in_actions)


def _check_condition(checker: ExprChecker, expr: A.Expr) -> None:
    """Give every node of ``expr`` its kind; CompileError if the checker refuses it."""
    try:
        checker.condition(expr)
    except RecursionError:
        raise CompileError("the condition is nested too deeply to read") from None
    _raise_errors(checker)


def _raise_errors(checker: ExprChecker) -> None:
    # the compiler names only the standard coins; a coin of the symbol is no error here
    errors = [d for d in checker.rep.sink if d.severity is Severity.ERROR and d.code != "E307"]
    if errors:
        raise CompileError(f"{errors[0].code} {errors[0].message}")


# --- files ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RulePlan:
    """A rule compiled once, before it is bound to a symbol."""

    analyzed: AnalyzedRule
    generated: Generated
    condition_entry: int | None
    actions: tuple[ActionPlan, ...]
    triggers: tuple[Trigger, ...]
    text_hash: str


def compile_file(analysis: FileAnalysis, bindings: Bindings, *, feed_timeframe: str | None = None) -> CompiledFile:
    """Compile every usable, enabled rule of a file for each of its symbols.

    ``feed_timeframe``: the timeframe whose klines the engine feeds (say, a replay's data);
    by default the lowest the rules read. Other timeframes are aggregated from it where they
    are whole multiples. Candle series are created in ``bindings.market`` with that wiring; a
    series that already exists keeps its own (the feeds say what it is). Time conditions use
    the file's timezone. Raises `CompileError` when the file could not be read.
    """
    rule_file = analysis.rule_file
    if rule_file is None:
        raise CompileError(f"{analysis.file}: the file has errors and cannot be compiled")
    chosen = [a for a in analysis.rules if a.usable and a.rule.enabled and a.checked is not None]
    feeds = plan_feeds(rule_file.symbols, [a.checked for a in chosen if a.checked is not None], feed_timeframe)
    feeds = _wire(bindings.market, feeds)
    plans = [_plan_rule(a, rule_file) for a in chosen]
    local_time = LocalTime(bindings.clock, rule_file.timezone)
    rules = [_bind_rule(plan, symbol, bindings, local_time) for symbol in rule_file.symbols for plan in plans]
    return CompiledFile(tuple(rules), feeds)


def _plan_rule(analyzed: AnalyzedRule, rule_file: fm.RuleFile) -> _RulePlan:
    checked = analyzed.checked
    if checked is None:
        raise CompileError(f"rule '{analyzed.rule.name}' was not checked")
    rule = analyzed.rule
    kinds: dict[int, Value] = {}
    gen = Codegen(kinds, rule_file.timeframe)
    condition_entry = None
    if analyzed.condition is not None:
        checker = _checker(rule_file.timeframe, in_actions=False)
        _check_condition(checker, analyzed.condition)
        kinds.update(checker.values)
        eval_tf = checked.timeframes[0] if checked.is_bar_rule and checked.timeframes else None
        condition_entry = gen.condition(analyzed.condition, eval_tf)
    action_checker = _checker(rule_file.timeframe, in_actions=True)
    action_checker.values = kinds
    actions = ActionPlanner(gen, action_checker).plan(analyzed.actions)
    _raise_errors(action_checker)
    triggers = triggers_of(checked, analyzed.condition, rule.scheduled)
    return _RulePlan(analyzed, gen.finish(), condition_entry, actions, triggers, text_hash(rule, rule_file))


def _bind_rule(plan: _RulePlan, symbol: str, bindings: Bindings, local_time: LocalTime) -> CompiledRule:
    entries, memories = _instantiate(plan.generated, symbol, bindings, local_time)
    rule = plan.analyzed.rule
    condition = entries[plan.condition_entry] if plan.condition_entry is not None else None
    return CompiledRule(
        name=rule.name,
        index=rule.index,
        symbol=symbol,
        priority=rule.priority,
        trigger_mode=rule.trigger,
        enabled=rule.enabled,
        cooldown_ms=rule.cooldown * 1000 if rule.cooldown is not None else None,
        every_s=rule.every,
        at=rule.at,
        cron=rule.cron,
        triggers=plan.triggers,
        condition=condition,  # type: ignore[arg-type]
        actions=tuple(build(entries) for build in plan.actions),
        text_hash=plan.text_hash,
        memories=memories,
    )


def triggers_of(checked: CheckedRule, condition: A.Expr | None, scheduled: bool) -> tuple[Trigger, ...]:
    """What makes a streamed rule due (§5): a bar rule, the bar closes of the timeframes it
    reads; a live rule, updates of what it reads (market, account, each minute for time),
    bar closes for ``for N bars``, and each minute for ``for DURATION`` (so it can become true
    while nothing else changes). Scheduled rules have none."""
    if scheduled or condition is None:
        return ()
    if checked.is_bar_rule:
        return tuple(Trigger("bar", tf) for tf in checked.timeframes)
    found: list[Trigger] = []
    for read in checked.reads:
        kind = _LIVE_TRIGGERS.get(read.source)
        if kind is not None:
            found.append(Trigger(kind, None))
    found.extend(Trigger("bar", tf) for tf in checked.timeframes)
    if _has_duration(condition):
        found.append(Trigger("minute", None))
    return tuple(dict.fromkeys(found))


def _has_duration(expr: A.Expr) -> bool:
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, A.For) and node.duration is not None:
            return True
        stack.extend(children(node))
    return False


def text_hash(rule: fm.Rule, rule_file: fm.RuleFile) -> str:
    """sha256 of what gives a rule its meaning: its name and texts, and the file's default
    timeframe and timezone (``rsi(14)`` on another timeframe is another rule)."""
    texts = [rule.name, rule_file.timeframe, rule_file.timezone]
    texts += [s.text if s is not None else "" for s in (rule.line, rule.when, rule.then)]
    return hashlib.sha256("\x1f".join(texts).encode()).hexdigest()


# --- feeds ---------------------------------------------------------------------------------------


def plan_feeds(symbols: Sequence[str], checked: Sequence[CheckedRule],
               feed_timeframe: str | None = None) -> tuple[Feed, ...]:
    """The candle series the rules need per symbol, shortest timeframe first: the base (fed
    with klines: ``feed_timeframe``, else the shortest read), the others aggregated from it
    when they are whole multiples of it (else fed too), each with its warm-up in its own bars."""
    need: dict[str, int] = {}
    for c in checked:
        for tf in c.timeframes:
            need.setdefault(tf, 0)
        for read in c.reads + c.action_reads:
            if read.timeframe is not None:
                need.setdefault(read.timeframe, 0)
        for w in c.warmup_bars:
            need[w.timeframe] = max(need.get(w.timeframe, 0), w.bars)
    if not need:
        return ()
    base = feed_timeframe or min(need, key=timeframe_seconds)
    need.setdefault(base, 0)
    feeds = []
    for symbol in symbols:
        for tf in sorted(need, key=timeframe_seconds):
            source = None if tf == base or not _aggregates(base, tf) else base
            feeds.append(Feed(symbol, tf, source, need[tf]))
    return tuple(feeds)


def _aggregates(source: str, target: str) -> bool:
    try:
        check_aggregation(source, target)
    except ValueError:
        return False
    return True


def _wire(market: MarketState, feeds: tuple[Feed, ...]) -> tuple[Feed, ...]:
    """Create the series (aggregated ones wired to their source); report what each really is."""
    out = []
    for feed in feeds:
        existing = market.symbol(feed.symbol).candles.get(feed.timeframe)
        if existing is None:
            existing = market.candles(feed.symbol, feed.timeframe, aggregate_from=feed.aggregate_from)
        out.append(Feed(feed.symbol, feed.timeframe, existing.source, feed.warmup_bars))
    return tuple(out)


# --- binding -------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _code(source: str) -> CodeType:
    try:
        return compile(source, "<rulebot rule>", "exec")
    except (SyntaxError, RecursionError, MemoryError) as error:
        # codegen keeps expressions shallow; a tree beyond that is refused, not a crash
        raise CompileError(f"the rule is too large to compile ({type(error).__name__}: {error})") from None


def _instantiate(generated: Generated, symbol: str, bindings: Bindings, local_time: LocalTime
                 ) -> tuple[tuple[Callable[[], object], ...], tuple[Memory, ...]]:
    """Bind a factory's slots for ``symbol`` and call it: its entries and memories."""
    objects = [_resolve(slot, generated, symbol, bindings, local_time) for slot in generated.slots]
    namespace = dict(GLOBALS)
    # the source is generated by codegen from a checked tree (never rule text), see its docstring
    exec(_code(generated.source), namespace)  # noqa: S102
    entries = namespace["_factory"](*objects)  # type: ignore[operator]
    memories = tuple(o for s, o in zip(generated.slots, objects)
                     if isinstance(s, MEMORY_SLOTS))
    return tuple(entries), memories  # type: ignore[arg-type]


def _resolve(slot: Slot, generated: Generated, symbol: str, bindings: Bindings, local_time: LocalTime) -> object:
    market = bindings.market
    if isinstance(slot, LiveSlot):
        return market.live_fields(symbol)
    if isinstance(slot, AccountSlot):
        return bindings.account(symbol)
    if isinstance(slot, TimeSlot):
        return local_time
    if isinstance(slot, TickSlot):
        return partial(bindings.tick_size, symbol)
    if isinstance(slot, SeriesSlot):
        return market.candles(symbol, slot.timeframe)
    if isinstance(slot, IndicatorSlot):
        return market.indicator(symbol, slot.spec, generated.lookback.get(slot.spec, 1))
    if isinstance(slot, CrossSlot):
        return CrossMemory(bindings.clock, slot.direction)
    if isinstance(slot, ForTimeSlot):
        return ForDuration(bindings.clock, slot.seconds)
    if isinstance(slot, ForBarsSlot):
        return ForBars(market.candles(symbol, slot.timeframe), slot.bars)
    raise CompileError(f"unknown slot {slot!r}")
