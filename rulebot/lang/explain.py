"""`rulebot explain`, the language half: each rule of a checked file in plain English.

For every rule: its reading as one sentence (``reading.py`` reads the parts), the events that
make it due (LANGUAGE.md §5), how it fires (edge or level, cooldown, in-flight guard, priority,
enabled), the history it needs at start per timeframe, and how each percent offset was read.
Pure functions of a ``FileAnalysis``; the exact requests an action would send are the
engine's business (``rulebot.engine.preview``), since this layer knows no venue.
"""

from __future__ import annotations

from dataclasses import dataclass

from rulebot.lang import ast as A
from rulebot.lang import filemodel as fm
from rulebot.lang.checker import CheckedRule, Warmup
from rulebot.lang.diagnostics import Diagnostic
from rulebot.lang.lint import AnalyzedRule, FileAnalysis
from rulebot.lang.parser import parse
from rulebot.lang.printer import format_rule
from rulebot.lang.phrases import duration_words, timeframe_words
from rulebot.lang.reading import ActionReading, Reader, ReadingContext
from rulebot.lang.source import Location, Source
from rulebot.lang.vocabulary import ReadSource
from rulebot.model.enums import Category, TriggerMode
from rulebot.model.instruments import default_rules

__all__ = [
    "FileExplanation", "OffsetReading", "RuleExplanation", "explain_analysis", "explain_rule", "firing",
    "reading_context", "rule_reading", "rule_text", "schedule_words", "triggers", "warmup_words",
]

EDGE_WORDS = "fires once each time the condition becomes true"
LEVEL_WORDS = "fires at every evaluation where the condition is true"


@dataclass(frozen=True, slots=True)
class OffsetReading:
    """A percent read as a relative offset: as written, as a product, and in words."""

    text: str
    reading: str
    words: str
    part: str  # "condition" or "actions"


@dataclass(frozen=True, slots=True)
class RuleExplanation:
    """Everything `explain` says about one rule, before the action previews."""

    name: str
    index: int
    text: str
    reading: str
    triggers: tuple[str, ...]
    firing: tuple[str, ...]
    warmup: tuple[Warmup, ...]
    offsets: tuple[OffsetReading, ...]
    actions: tuple[ActionReading, ...]
    enabled: bool
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True, slots=True)
class FileExplanation:
    """A file explained: its rules, and the diagnostics (warnings) that belong to no single rule."""

    file: str
    symbols: tuple[str, ...]
    category: Category
    timeframe: str
    timezone: str
    context: ReadingContext
    rules: tuple[RuleExplanation, ...]
    diagnostics: tuple[Diagnostic, ...] = ()


def reading_context(rule_file: fm.RuleFile) -> ReadingContext:
    """The reading context of a file: its timeframe, timezone and coins (from the bundled instrument rules)."""
    instruments = [default_rules(s, rule_file.category) for s in rule_file.symbols]
    inverse = rule_file.category is Category.INVERSE

    def shared(coins: set[str]) -> str:
        return next(iter(coins)) if len(coins) == 1 else ""

    mode = rule_file.settings.position_mode
    return ReadingContext(
        timeframe=rule_file.timeframe,
        timezone=rule_file.timezone,
        base_coin=shared({r.base_coin for r in instruments}),
        # inverse contracts are counted in USD, the quote coin
        size_unit=shared({f"{r.quote_coin} contracts" if inverse else r.base_coin for r in instruments}),
        settle_coin=shared({r.settle_coin for r in instruments}),
        quote_coin=shared({r.quote_coin for r in instruments}),
        position_mode=mode.value if mode is not None else "oneway",
        spot=rule_file.category is Category.SPOT,
    )


def rule_text(rule: AnalyzedRule) -> str:
    """The rule in the language's canonical one-line spelling (``when ... then ...``)."""
    return format_rule(A.RuleBody(rule.condition, rule.actions))


def schedule_words(rule: fm.Rule, timezone: str) -> tuple[str, ...]:
    """``every hour``, ``at 08:00 and 20:00 (UTC)``, ``on the cron schedule '0 */4 * * *' (UTC)``."""
    out: list[str] = []
    if rule.every is not None:
        words = duration_words(rule.every)
        out.append("every " + (words[2:] if words.startswith("1 ") else words))
    if rule.at:
        times = [f"{h:02d}:{m:02d}" for h, m in rule.at]
        joined = times[0] if len(times) == 1 else ", ".join(times[:-1]) + " and " + times[-1]
        out.append(f"at {joined} ({timezone})")
    if rule.cron is not None:
        out.append(f"on the cron schedule '{rule.cron}' ({timezone})")
    return tuple(out)


def rule_reading(rule: fm.Rule, condition: A.Expr | None, actions: tuple[A.Action, ...],
                 ctx: ReadingContext) -> tuple[str, tuple[ActionReading, ...]]:
    """The rule as one sentence, and each action's own reading.

    ``buy 0.01 BTC with a limit order at the best bid when RSI(14) on 1-minute bars is below
    30 and there is no position; then take profit 2% above the limit price``. A scheduled rule
    starts with its schedule: ``every hour, close the position ... if ...``.
    """
    # One reader, in the order the sentence is spoken, so a timeframe is named where it first appears.
    reader = Reader(ctx)
    schedule = " and ".join(schedule_words(rule, ctx.timezone))
    main = reader.action_main(actions[0]) if actions else "do nothing"
    if schedule:
        sentence = f"{schedule}, {main}"
        if condition is not None:
            sentence += f" if {reader.condition(condition)}"
    else:
        sentence = main + (f" when {reader.condition(condition)}" if condition is not None else "")
    readings: list[ActionReading] = []
    for i, action in enumerate(actions):
        if i:
            main = reader.action_main(action)
            sentence += f"; then {main}"
        after = reader.action_after(action)
        if after:
            sentence += f"; then {after}" if i == 0 else f", then {after}"
        readings.append(ActionReading(main, after))
    return sentence, tuple(readings)


def _symbols_words(symbols: tuple[str, ...]) -> str:
    if len(symbols) == 1:
        return symbols[0]
    return ", ".join(symbols[:-1]) + " and " + symbols[-1] + " (each on its own)"


def triggers(rule: fm.Rule, checked: CheckedRule, ctx: ReadingContext, symbols: tuple[str, ...]) -> tuple[str, ...]:
    """The events that make the rule due (LANGUAGE.md §5), one phrase each."""
    if rule.scheduled:
        return schedule_words(rule, ctx.timezone)
    of = _symbols_words(symbols)
    if checked.is_bar_rule:
        return tuple(f"on the close of each {timeframe_words(tf)} bar of {of}" for tf in checked.timeframes)
    sources = {r.source for r in checked.reads}
    out: list[str] = []
    if ReadSource.MARKET in sources:
        out.append(f"on every ticker/order-book update of {of}")
    if ReadSource.ACCOUNT in sources:
        out.append("on position, order or wallet updates")
    if ReadSource.TIME in sources:
        out.append("each minute, for its time condition")
    if not out:
        out.append("none: the condition reads no market, account or time value, so nothing makes it due")
    return tuple(out)


def firing(rule: fm.Rule, checked: CheckedRule, has_condition: bool) -> tuple[str, ...]:
    """How the rule fires once due: trigger mode, cooldown, in-flight guard, priority, enabled."""
    out: list[str] = []
    if not rule.enabled:
        out.append("disabled (enabled: false): it is loaded and checked but never evaluated")
    if rule.scheduled:
        out.append("fires at every scheduled time where the condition is true" if has_condition
                   else "fires at every scheduled time (it has no condition)")
    elif rule.trigger is TriggerMode.LEVEL:
        out.append(f"{LEVEL_WORDS} (trigger: level)")
    else:
        out.append(f"{EDGE_WORDS} (trigger: edge): a false evaluation re-arms it")
    if rule.cooldown:
        out.append(f"after firing, waits {duration_words(rule.cooldown)} before it can fire again (cooldown)")
    if checked.places_orders:
        out.append("does not fire while an order it placed is still open and unfilled")
    if rule.priority:
        out.append(f"priority {rule.priority} (default 0): among rules of one symbol that fire on the same "
                   "event, higher priority acts first")
    return tuple(out)


def warmup_words(w: Warmup) -> str:
    """``needs 281 closed 1m bars of history at start``."""
    return f"needs {w.bars} closed {w.timeframe} {'bar' if w.bars == 1 else 'bars'} of history at start"


def _offsets(checked: CheckedRule, ctx: ReadingContext) -> tuple[OffsetReading, ...]:
    """Each offset the checker read, in words. Its text is the expression as written (also inside
    a notify template, whose spans are not the rule's), so it is parsed again to be read."""
    out: list[OffsetReading] = []
    for offset in checked.offsets:
        parsed = parse(Source.contiguous("<offset>", offset.text), "condition").node
        words = Reader(ctx).value(parsed) if isinstance(parsed, A.BinOp) else ""
        out.append(OffsetReading(offset.text, offset.reading, words, "actions" if offset.in_actions else "condition"))
    return tuple(out)


def explain_rule(analyzed: AnalyzedRule, ctx: ReadingContext, symbols: tuple[str, ...],
                 diagnostics: tuple[Diagnostic, ...] = ()) -> RuleExplanation:
    """Explain one rule that parsed and checked without errors."""
    checked = analyzed.checked
    if checked is None or not analyzed.usable:
        raise ValueError(f"rule '{analyzed.rule.name}' has errors; lint it first")
    rule = analyzed.rule
    reading, actions = rule_reading(rule, analyzed.condition, analyzed.actions, ctx)
    return RuleExplanation(
        name=rule.name,
        index=rule.index,
        text=rule_text(analyzed),
        reading=reading,
        triggers=triggers(rule, checked, ctx, symbols),
        firing=firing(rule, checked, analyzed.condition is not None),
        warmup=checked.warmup_bars,
        offsets=_offsets(checked, ctx),
        actions=actions,
        enabled=rule.enabled,
        diagnostics=diagnostics,
    )


def _extent(rule: fm.Rule) -> tuple[Location, Location]:
    """The first and last file positions a rule occupies."""
    points: list[Location] = [rule.span.start, rule.span.end]
    for span in (*rule.key_spans.values(), *rule.value_spans.values()):
        points += [span.start, span.end]
    for source in (rule.line, rule.when, rule.then):
        if source is not None:
            points += [source.positions[0], source.positions[-1]]
    ordered = sorted(points, key=lambda p: (p.line, p.column))
    return ordered[0], ordered[-1]


def _owner(d: Diagnostic, extents: list[tuple[int, tuple[Location, Location]]]) -> int | None:
    at = (d.line, d.column)
    for index, (start, end) in extents:
        if (start.line, start.column) <= at <= (end.line, end.column):
            return index
    return None


def explain_analysis(analysis: FileAnalysis) -> FileExplanation:
    """Explain every rule of a file that has no errors (warnings are kept, each with its rule)."""
    rule_file = analysis.rule_file
    if rule_file is None or analysis.has_errors:
        raise ValueError(f"{analysis.file} has errors; lint it first")
    ctx = reading_context(rule_file)
    extents = [(r.index, _extent(r)) for r in rule_file.rules]
    owned: dict[int, list[Diagnostic]] = {}
    loose: list[Diagnostic] = []
    for d in analysis.diagnostics:
        owner = _owner(d, extents)
        if owner is None:
            loose.append(d)
        else:
            owned.setdefault(owner, []).append(d)
    rules = tuple(explain_rule(r, ctx, rule_file.symbols, tuple(owned.get(r.rule.index, ())))
                  for r in analysis.rules)
    return FileExplanation(analysis.file, rule_file.symbols, rule_file.category, rule_file.timeframe,
                           rule_file.timezone, ctx, rules, tuple(loose))

