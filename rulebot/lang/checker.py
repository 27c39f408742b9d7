"""The checker: names, arguments and kinds of every rule, every error and warning of §7 that
concerns rule text, and the facts ``explain`` and the compiler need (LANGUAGE.md §2–§7).

``check_rule`` checks one rule; ``check_rules`` checks a file's rules and adds the warnings
that concern several rules (W103) or the whole file (W102). Inputs are plain dataclasses
(``CheckContext``, ``RuleInput``) so the loader's own classes stay its business.

Expressions are checked in ``expressions.py`` (with ``arguments.py`` for calls), actions in
``actioncheck.py``, the W1xx analysis in ``safety.py`` over ``intervals.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from operator import attrgetter

from rulebot.lang import ast as A
from rulebot.lang.actioncheck import check_actions
from rulebot.lang.diagnostics import Diagnostic, Severity
from rulebot.lang.expressions import ExprChecker, Offset, Read
from rulebot.lang.intervals import Analyzer, Disjuncts, requires_flat
from rulebot.lang.makers import maker
from rulebot.lang.report import Reporter
from rulebot.lang.safety import (
    close_when_flat,
    conflicting,
    never_true,
    opening_orders,
    order_span,
    plainly_possible,
    sides,
    stops_beyond_liquidation,
    unguarded,
)
from rulebot.lang.source import Source
from rulebot.lang.vocabulary import STANDARD_COINS, ReadSource, timeframe_seconds
from rulebot.model.enums import Category
from rulebot.model.instruments import default_rules

__all__ = ["CheckContext", "CheckedRule", "Offset", "Read", "RuleInput", "Warmup", "check_rule", "check_rules"]


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What the checker needs to know of the file a rule belongs to."""

    symbols: tuple[str, ...]
    base_coins: tuple[str, ...]
    quote_coins: tuple[str, ...]
    timeframe: str = "1m"
    max_leverage: float = 100.0
    leverage: float | None = None
    has_max_position: bool = False
    position_mode: str = "oneway"
    category: Category = Category.LINEAR

    @classmethod
    def for_symbols(cls, symbols: Sequence[str], *, category: Category = Category.LINEAR, timeframe: str = "1m",
                    leverage: float | None = None, has_max_position: bool = False,
                    position_mode: str = "oneway") -> "CheckContext":
        """A context from the symbols, with coins and the maximum leverage from the bundled instrument rules."""
        rules = [default_rules(s, category) for s in symbols]
        return cls(
            symbols=tuple(s.upper() for s in symbols),
            base_coins=tuple(r.base_coin.lower() for r in rules),
            quote_coins=tuple(r.quote_coin.lower() for r in rules),
            timeframe=timeframe,
            max_leverage=float(min((r.max_leverage for r in rules), default=1)),
            leverage=leverage,
            has_max_position=has_max_position,
            position_mode=position_mode,
            category=category,
        )

    @property
    def coins(self) -> frozenset[str]:
        """Coins an amount may name: the symbols' base and quote coins and usdt, usdc, btc, eth."""
        return _coins(self.base_coins, self.quote_coins)


@cache
def _coins(base: tuple[str, ...], quote: tuple[str, ...]) -> frozenset[str]:
    return frozenset(base) | frozenset(quote) | frozenset(STANDARD_COINS)


@dataclass(frozen=True, slots=True)
class RuleInput:
    """One rule as the loader read it. Spans in ``condition`` index ``condition_source.text``;
    spans in ``actions`` index ``actions_source.text`` (one Source for both when the rule is a
    one-line ``when ... then ...``)."""

    name: str
    index: int
    condition: A.Expr | None
    actions: tuple[A.Action, ...]
    condition_source: Source | None = None
    actions_source: Source | None = None
    cooldown_s: int | None = None
    scheduled: bool = False
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Warmup:
    """Closed bars of history a rule needs at start on one timeframe."""

    timeframe: str
    bars: int


@dataclass(frozen=True, slots=True)
class CheckedRule:
    """A checked rule: its diagnostics and what it reads and needs.

    * ``reads``: what the condition reads, in order of appearance, each once; it decides the
      rule's triggers (§5). ``action_reads``: values read only by actions (limit prices,
      notify templates), read when the rule fires.
    * ``is_bar_rule``: a streamed rule whose condition reads a candle field or an indicator.
    * ``timeframes``: the timeframes whose bar closes the condition needs (candle fields,
      indicators, and the bars of ``for N bars``), shortest first.
    * ``warmup_bars``: history to load at start per timeframe (condition and actions), shortest first.
    * ``offsets``: each percent read as a relative offset, as ``explain`` prints it.
    """

    rule: RuleInput
    diagnostics: tuple[Diagnostic, ...]
    reads: tuple[Read, ...] = ()
    action_reads: tuple[Read, ...] = ()
    is_bar_rule: bool = False
    timeframes: tuple[str, ...] = ()
    warmup_bars: tuple[Warmup, ...] = ()
    places_orders: bool = False
    offsets: tuple[Offset, ...] = ()
    condition_facts: "ConditionFacts | None" = field(default=None, compare=False, repr=False)

    @property
    def facts(self) -> Disjuncts:
        """The condition as disjuncts (``intervals.py``); None when unknown or there is no condition."""
        return self.condition_facts.disjuncts() if self.condition_facts is not None else None

    @property
    def has_errors(self) -> bool:
        return bool(self.diagnostics) and any(d.severity is Severity.ERROR for d in self.diagnostics)

    def warmup_for(self, timeframe: str) -> int:
        """Bars of history needed on ``timeframe`` (0 when the rule does not read it)."""
        return next((w.bars for w in self.warmup_bars if w.timeframe == timeframe), 0)


_UNKNOWN = object()  # the disjuncts are not worked out yet


class ConditionFacts:
    """A checked condition's disjuncts, worked out on first use: W103 (rules that trade
    opposite ways) and conditions the quick test of W104 cannot settle need them, most rules not.

    ``flat``, when given, is ``requires_flat`` of the disjuncts (W106), known without them."""

    __slots__ = ("_condition", "_analyzer", "_disjuncts", "_flat")

    def __init__(self, condition: A.Expr, analyzer: Analyzer, disjuncts: Disjuncts | object = _UNKNOWN,
                 flat: bool | None = None) -> None:
        self._condition = condition
        self._analyzer = analyzer
        self._disjuncts = disjuncts
        self._flat = flat

    def disjuncts(self) -> Disjuncts:
        """The condition as alternatives (``Analyzer.disjuncts``)."""
        found = self._disjuncts
        if found is _UNKNOWN:
            found = self._disjuncts = self._analyzer.disjuncts(self._condition)
        return found  # type: ignore[return-value]

    def requires_flat(self) -> bool:
        """Whether every way of the condition being true needs a flat position."""
        return self._flat if self._flat is not None else requires_flat(self.disjuncts())


def _source(source: Source | None, rule: RuleInput) -> Source:
    return source if source is not None else Source.contiguous(f"<rule {rule.name}>", "")


class _Repeats:
    """The conditions and actions of one file's rules that checked without a word: rules repeat
    their actions, and some their conditions, word for word, and the parser gives them the same
    AST, so each is read once. A text with a diagnostic is checked in every rule it is in, as its
    diagnostics are placed through that rule's source.

    What is kept is the checker that read the text (with the condition's facts): it is not
    changed once done, and copying what it found for every rule, when most texts of a file are
    distinct, cost more than the repeats saved."""

    __slots__ = ("conditions", "actions", "coins", "order_sides")

    def __init__(self, coins: frozenset[str]) -> None:
        # (id of the AST, its text) -> what read it; the ASTs live as long as the rules checked
        self.conditions: dict[tuple[int, str], tuple[ExprChecker, ConditionFacts]] = {}
        self.actions: dict[tuple[int, str], ExprChecker] = {}
        self.coins = coins  # ``CheckContext.coins``, asked once per file
        # the sides of every order of the file, opening or not: without both, W103 has no pair
        self.order_sides: set[str] = set()


def check_rule(rule: RuleInput, ctx: CheckContext) -> CheckedRule:
    """Check one rule: every error of §7 about its text, and the warnings W101, W104, W105, W106."""
    return _check_rule(rule, ctx, _Repeats(ctx.coins))


def _check_rule(rule: RuleInput, ctx: CheckContext, repeats: _Repeats) -> CheckedRule:
    sink: list[Diagnostic] = []
    condition = rule.condition
    cond_rep = Reporter(_source(rule.condition_source, rule), sink)
    act_rep = Reporter(_source(rule.actions_source or rule.condition_source, rule), sink)
    hedge = ctx.position_mode == "hedge"
    cond_key = (id(condition), cond_rep.source.text)
    known = repeats.conditions.get(cond_key) if condition is not None else None
    if known is not None:
        cond = known[0]
        condition_ok = True
    else:
        cond = ExprChecker(cond_rep, ctx.timeframe, repeats.coins)
        if condition is not None:
            try:
                cond.condition(condition)
            except RecursionError:
                cond_rep.error("E205", condition.span, "the condition is nested too deeply to read")
        condition_ok = not sink or not any(d.severity is _ERROR for d in sink)
    acts_key = (id(rule.actions), act_rep.source.text)
    acts = repeats.actions.get(acts_key)
    if acts is None:
        reported = len(sink)
        acts = ExprChecker(act_rep, ctx.timeframe, repeats.coins, in_actions=True)
        try:
            check_actions(rule.actions, acts, ctx.max_leverage, ctx.symbols)
        except RecursionError:
            act_rep.error("E205", A.Span(0, len(act_rep.source.text)), "the actions are nested too deeply to read")
        if len(sink) == reported:
            repeats.actions[acts_key] = acts

    reads = _each_once(cond.reads)
    timeframes = set(cond.for_bar_timeframes)
    reads_bars = False
    for r in reads:
        if r.source in _BAR_SOURCES:
            reads_bars = True
            if r.timeframe:
                timeframes.add(r.timeframe)
    history = cond.history
    if acts.history:
        history = dict(history)
        for tf, bars in acts.history.items():
            if bars > history.get(tf, 0):
                history[tf] = bars

    facts: ConditionFacts | None = None
    if known is not None:
        facts = known[1]
    elif condition is not None and condition_ok:
        analyzer = Analyzer(cond.values, hedge)
        flat = plainly_possible(condition, analyzer)
        if flat is None:
            # a disabled rule never runs: that its condition can never be true is no news (W104)
            never_rep = cond_rep if rule.enabled else Reporter(cond_rep.source, [])
            facts = ConditionFacts(condition, analyzer, never_true(condition, analyzer, never_rep))
        else:
            facts = ConditionFacts(condition, analyzer, flat=flat)
        if not sink and rule.enabled:
            repeats.conditions[cond_key] = (cond, facts)
    places_orders = has_close = False
    for a in rule.actions:  # a loop, not two any(): this runs for every rule checked
        kind = a.__class__
        if kind is _ORDER:
            places_orders = True
            repeats.order_sides.add(a.side)
        elif kind is _CLOSE:
            places_orders = has_close = True
    if facts is not None and condition_ok and not hedge and has_close:
        # in hedge mode position == 0 may be two equal sides, which close does close
        close_when_flat(rule.actions, facts.requires_flat(), act_rep)
    if condition_ok:
        # an unknown name in the condition may be the guard, misspelt: its error says enough
        unguarded(rule.actions, map(_name_of, reads), rule.cooldown_s, rule.scheduled, condition is not None, act_rep)
    stops_beyond_liquidation(rule.actions, ctx.leverage, ctx.category is Category.SPOT, act_rep)

    return _new_checked_rule(  # CheckedRule's fields, in order
        rule,
        tuple(sink),
        reads,
        _each_once(acts.reads),
        reads_bars and not rule.scheduled,
        _by_length(timeframes),
        tuple([_new_warmup(tf, history[tf]) for tf in _by_length(history)]) if history else (),
        places_orders,
        tuple(cond.offsets) + tuple(acts.offsets) if cond.offsets or acts.offsets else (),
        facts,
    )


_new_checked_rule = maker(CheckedRule)  # one per rule checked
_new_warmup = maker(Warmup)  # one per rule and timeframe


def _each_once(reads: Sequence[Read]) -> tuple[Read, ...]:
    """``reads`` without repeats, in order. A Read hashes in Python, its name in C: reads of
    different names differ, and most rules read each thing once."""
    if len(reads) < 2 or len(set(map(_name_of, reads))) == len(reads):
        return tuple(reads)
    return tuple(dict.fromkeys(reads))


_BAR_SOURCES = frozenset({ReadSource.CANDLE, ReadSource.INDICATOR})
_ORDER, _CLOSE = A.Order, A.Close
_ERROR = Severity.ERROR
_name_of = attrgetter("name")


def _by_length(timeframes: Iterable[str]) -> tuple[str, ...]:
    """Timeframes, shortest first."""
    found = tuple(timeframes)
    return found if len(found) < 2 else tuple(sorted(found, key=timeframe_seconds))


def check_rules(rules: Sequence[RuleInput], ctx: CheckContext) -> tuple[list[CheckedRule], list[Diagnostic]]:
    """Check a file's rules; the second list holds the warnings about several rules or the file:
    W103 (two enabled rules that can be true together and trade opposite ways) and W102 (orders
    without ``risk: max_position``)."""
    repeats = _Repeats(ctx.coins)
    checked = [_check_rule(r, ctx, repeats) for r in rules]
    extra: list[Diagnostic] = []
    usable: list[tuple[CheckedRule, frozenset[str]]] = []
    # W103 needs a buy and a sell among the opening orders of the rules, so among all orders
    if "buy" in repeats.order_sides and "sell" in repeats.order_sides:
        usable = [(c, sides(c.rule.actions)) for c in checked if c.rule.enabled and not c.has_errors]
        if not _both_sides(s for _, s in usable):
            usable = []  # no pair to compare
    # a condition never true (W104) conflicts with nothing; the disjuncts are worked out only here
    usable = [(c, s) for c, s in usable if c.rule.condition is None or c.facts != ()]
    for j, (later, later_sides) in enumerate(usable):
        if not later_sides:
            continue
        against = [earlier for earlier, earlier_sides in usable[:j]
                   if earlier_sides and conflicting(earlier.facts, later.facts, earlier_sides, later_sides)]
        if against:
            _conflict_warning(later, against, extra)
    if not ctx.has_max_position:
        first = next((c for c in checked if opening_orders(c.rule.actions)), None)
        if first is not None:
            order = opening_orders(first.rule.actions)[0]
            rep = Reporter(_source(first.rule.actions_source or first.rule.condition_source, first.rule), extra)
            rep.warning("W102", order_span(order), "this file places orders without 'risk: max_position'",
                        hint="add 'risk: {max_position: 0.05}' (the largest position, in the base coin)",
                        label="no position limit")
    return checked, extra


def _both_sides(all_sides: Iterable[frozenset[str]]) -> bool:
    seen: set[str] = set()
    for s in all_sides:
        seen |= s
        if "buy" in seen and "sell" in seen:
            return True
    return False


def _conflict_warning(later: CheckedRule, against: list[CheckedRule], sink: list[Diagnostic]) -> None:
    """One W103 per rule, at its order that goes against the earlier rules it may fire with."""
    earlier_sides = frozenset().union(*(sides(e.rule.actions) for e in against))
    orders = opening_orders(later.rule.actions)
    order = next((o for o in orders if ({"buy", "sell"} - {o.side}) & earlier_sides), orders[0])
    names = [f"'{e.rule.name}'" for e in against]
    if len(names) == 1:
        message = f"rules {names[0]} and '{later.rule.name}' can both be true at once and trade opposite ways"
    else:
        listed = ", ".join(names[:-1]) + f" and {names[-1]}"
        message = f"rule '{later.rule.name}' can be true at once with rules {listed} and trades the opposite way"
    rep = Reporter(_source(later.rule.actions_source or later.rule.condition_source, later.rule), sink)
    rep.warning("W103", order_span(order), message,
                hint="make their conditions exclude each other, for example with "
                     "'position == 0' in one and 'position > 0' in the other",
                label="opposite order")
