"""Which rules an event makes due: the precomputed index from what changed to the rules that read it.

Built once per ``RuleSet`` (at start and at each reload), so that routing an event is a
dictionary lookup: a market change (``Changed``: ticker, book, trade, or a bar close of one
timeframe) -> the rules whose triggers name it; an account event -> the symbol's rules with
an ``account`` trigger; the minute tick -> the rules that read the time; a timer -> its
scheduled rule. Every list is in firing order: higher ``priority`` first, then files in the
order given, then rules in their file's order (LANGUAGE.md §5).
"""

from __future__ import annotations

from collections.abc import Iterable

from rulebot.engine.rulestate import RuleSlot
from rulebot.engine.ruleset import FileRules, RuleSet
from rulebot.engine.scheduler import MINUTE_JOB, Job, make_trigger, minute_trigger
from rulebot.market.state import Changed, ChangeKind
from rulebot.market.timeframes import normalize_timeframe

BAR = "bar"
MARKET = "market"
ACCOUNT = "account"
MINUTE = "minute"
_ANY = "*"

RouteKey = tuple[str, str, str | None]


def state_key(file: FileRules, rule_name: str, symbol: str) -> str:
    """The name of a rule's state in the journal: file, rule name and symbol."""
    return f"{file.key}:{rule_name}@{symbol}"


class Routes:
    """The rule slots of a ``RuleSet`` and the index that routes events to them."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        ordered = []
        for file_no, file in enumerate(ruleset.files):
            for rule in file.rules:
                if not rule.enabled:
                    continue
                place = file.symbols.index(rule.symbol) if rule.symbol in file.symbols else len(file.symbols)
                ordered.append(((-rule.priority, file_no, rule.index, place), file, rule))
        ordered.sort(key=lambda item: item[0])
        slots = [RuleSlot(rule, state_key(file, rule.name, rule.symbol), file, rank)
                 for rank, (_, file, rule) in enumerate(ordered)]
        self.slots: tuple[RuleSlot, ...] = tuple(slots)
        self.by_key: dict[str, RuleSlot] = {}
        for slot in slots:
            if slot.key in self.by_key:
                raise ValueError(f"two rules share the state key {slot.key!r}: rule names must be unique in a file")
            self.by_key[slot.key] = slot
        index: dict[RouteKey, list[RuleSlot]] = {}
        for slot in slots:
            if slot.scheduled:
                continue
            for trigger in slot.rule.triggers:
                key = _route_key(slot.symbol, trigger.kind, trigger.timeframe)
                bucket = index.setdefault(key, [])
                if slot not in bucket:
                    bucket.append(slot)
        self._index: dict[RouteKey, tuple[RuleSlot, ...]] = {k: tuple(v) for k, v in index.items()}
        self.minute: tuple[RuleSlot, ...] = self._index.get((_ANY, MINUTE, None), ())
        self._account_symbols = tuple(dict.fromkeys(k[0] for k in self._index if k[1] == ACCOUNT))
        self.scheduled: dict[str, RuleSlot] = {s.key: s for s in slots if s.scheduled}
        # what ``for_change`` answered, by the id of the (interned, long-lived) Changed object
        self.by_change: dict[int, tuple[RuleSlot, ...]] = {}
        self._keep: list[Changed] = []  # the Changed objects cached by id stay alive with the cache

    def for_change(self, changed: Changed) -> tuple[RuleSlot, ...]:
        """The rules due on a market change, in firing order."""
        found = self.by_change.get(id(changed))
        if found is None:
            if changed.kind is ChangeKind.BAR_CLOSE:
                key: RouteKey = (changed.symbol, BAR, normalize_timeframe(changed.timeframe or ""))
            else:
                key = (changed.symbol, MARKET, None)
            found = self._index.get(key, ())
            self.by_change[id(changed)] = found
            self._keep.append(changed)
        return found

    def for_account(self, symbol: str) -> tuple[RuleSlot, ...]:
        """The rules of ``symbol`` that read position, order or wallet fields."""
        return self._index.get((symbol, ACCOUNT, None), ())

    def account_symbols(self) -> tuple[str, ...]:
        """Symbols that have rules with an account trigger."""
        return self._account_symbols

    def jobs(self, start_ms: int) -> list[Job]:
        """The scheduler's jobs: one per scheduled rule (its state key), and the minute tick if a rule needs it."""
        jobs = [
            Job(slot.key, make_trigger(
                every_s=slot.rule.every_s, at=slot.rule.at, cron=slot.rule.cron,
                timezone=slot.file.timezone, start_ms=start_ms,
            ))
            for slot in self.slots if slot.scheduled
        ]
        if self.minute:
            jobs.append(Job(MINUTE_JOB, minute_trigger(start_ms)))
        return jobs

    def in_file(self, file: FileRules) -> Iterable[RuleSlot]:
        """The slots of one file, in firing order."""
        return (s for s in self.slots if s.file is file)


def _route_key(symbol: str, kind: str, timeframe: str | None) -> RouteKey:
    if kind == BAR:
        return (symbol, BAR, normalize_timeframe(timeframe or "1m"))
    if kind == MINUTE:
        return (_ANY, MINUTE, None)
    if kind in (MARKET, ACCOUNT):
        return (symbol, kind, None)
    raise ValueError(f"unknown trigger kind {kind!r}")


def describe(cause: Changed | str) -> str:
    """What made rules due, in the journal's words (``bar_close 1m``, ``ticker``, ``account``)."""
    if isinstance(cause, str):
        return cause
    if cause.timeframe:
        return f"{cause.kind.value} {cause.timeframe}"
    return cause.kind.value


__all__ = ["ACCOUNT", "BAR", "MARKET", "MINUTE", "Routes", "describe", "state_key"]
