"""Per-rule firing state and the firing rule of LANGUAGE.md §5.

A rule starts *armed*. At each evaluation:

* unknown (``None``), or any evaluation while the rule is *blocked* (an order it placed is
  still in flight, its cooldown since it last fired has not passed, it is paused), changes
  nothing;
* false re-arms it;
* true fires it — always for ``trigger: level`` (and for scheduled rules, which fire every
  time their condition holds at a scheduled time), only when armed for ``trigger: edge``,
  which it then disarms.

The condition is evaluated even while the rule is blocked: ``crosses``, ``for`` and
``rising`` keep their memory inside the compiled condition and must see every evaluation
(for a bar rule the previous evaluation is the previous bar close).

State survives a restart and a reload for a rule whose name and text did not change:
``to_record`` / ``restore`` move it through the journal's ``rule_state`` table, the compiled
condition's own memory (``snapshot_state``) included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from rulebot.engine.badinput import BadInputLog
from rulebot.journal.records import RuleStateRecord
from rulebot.model.enums import TriggerMode

if TYPE_CHECKING:
    from rulebot.engine.ruleset import FileRules

_NEVER = -(2**62)


class TriggerLike(Protocol):
    """What makes a streamed rule due (the compiler's ``Trigger``)."""

    @property
    def kind(self) -> str: ...

    @property
    def timeframe(self) -> str | None: ...


class RuleLike(Protocol):
    """The compiled rule as the engine uses it (ENGINE_CONTRACT.md, ``CompiledRule``)."""

    name: str
    index: int
    symbol: str
    priority: int
    trigger_mode: TriggerMode
    enabled: bool
    cooldown_ms: int | None
    every_s: int | None
    at: tuple[tuple[int, int], ...]
    cron: str | None
    triggers: tuple[TriggerLike, ...]
    condition: Callable[[], bool | None] | None
    actions: tuple[object, ...]
    text_hash: str

    def snapshot_state(self) -> dict[str, float | int | bool | None]: ...

    def restore_state(self, state: Mapping[str, float | int | bool | None]) -> None: ...


class RuleState:
    """The firing state of one rule on one symbol (the engine thread owns it)."""

    __slots__ = ("armed", "last_fired_ms", "fire_seq", "in_flight", "paused", "blocked_until_ms")

    def __init__(self) -> None:
        self.armed = True
        self.last_fired_ms: int | None = None
        self.fire_seq = 0
        self.in_flight: list[str] = []  # orderLinkIds of its orders still open and unfilled
        self.paused = False
        self.blocked_until_ms = _NEVER  # end of the cooldown

    def copy_from(self, other: RuleState) -> None:
        """Take over another state's values (a reload keeps an unchanged rule's state)."""
        self.armed = other.armed
        self.last_fired_ms = other.last_fired_ms
        self.fire_seq = other.fire_seq
        self.in_flight = list(other.in_flight)
        self.paused = other.paused
        self.blocked_until_ms = other.blocked_until_ms


class RuleSlot:
    """One compiled rule bound to its state, its file and its place in the firing order.

    ``key`` names the state in the journal (file, rule name, symbol); ``rank`` orders rules
    that fire on the same event: higher ``priority`` first, then the file's order.
    """

    __slots__ = (
        "rule", "key", "file", "state", "cond", "level", "cooldown_ms", "rank", "symbol", "name",
        "link_text", "scheduled", "_bad",
    )

    def __init__(self, rule: RuleLike, key: str, file: FileRules, rank: int, bad: BadInputLog) -> None:
        self.rule = rule
        self.key = key
        self.file = file
        self.state = RuleState()
        self.cond = rule.condition
        self.scheduled = rule.every_s is not None or bool(rule.at) or rule.cron is not None
        # a scheduled rule fires every time its condition holds at a scheduled time (§5)
        self.level = rule.trigger_mode is TriggerMode.LEVEL or self.scheduled
        self.cooldown_ms = rule.cooldown_ms or 0
        self.rank = rank
        self.symbol = rule.symbol
        self.name = rule.name
        # the orderLinkId hash covers the file and the symbol too: one rule text on two symbols
        # (or in two files) must never produce the same id
        self.link_text = f"{key}\x00{rule.text_hash}"
        self._bad = bad

    def evaluate(self, now_ms: int) -> bool:
        """Evaluate the condition and apply §5; True when the rule fires now (its state is updated)."""
        cond = self.cond
        if cond is None:
            value: bool | None = True
        else:
            try:
                value = cond()
            except (ArithmeticError, ValueError, TypeError, IndexError) as err:
                # the contract makes these unknown inside the condition; one that escapes is
                # unknown too, and logged once per kind
                self._bad.record(f"eval:{type(err).__name__}", f"rule={self.name!r} symbol={self.symbol} error={err}")
                return False
        if value is None:
            return False
        st = self.state
        if st.paused or st.in_flight or now_ms < st.blocked_until_ms:
            return False
        if not value:
            st.armed = True
            return False
        if not self.level:
            if not st.armed:
                return False
            st.armed = False
        st.last_fired_ms = now_ms
        st.fire_seq += 1
        if self.cooldown_ms:
            st.blocked_until_ms = now_ms + self.cooldown_ms
        return True

    @property
    def blocked(self) -> bool:
        """Paused or with an order in flight (the cooldown depends on the time; see ``evaluate``)."""
        return self.state.paused or bool(self.state.in_flight)


def to_record(slot: RuleSlot) -> RuleStateRecord:
    """The journal record of a rule's state, with its compiled memory."""
    st = slot.state
    memory = tuple(slot.rule.snapshot_state().items())
    return RuleStateRecord(
        name=slot.key,
        text_hash=slot.rule.text_hash,
        armed=st.armed,
        last_fired_ms=st.last_fired_ms,
        fire_seq=st.fire_seq,
        paused=st.paused,
        in_flight=tuple(st.in_flight),
        memory=memory,
    )


def restore(slot: RuleSlot, record: RuleStateRecord) -> bool:
    """Restore ``slot`` from its stored record when the rule's text is unchanged; True if restored."""
    if record.text_hash != slot.rule.text_hash:
        return False
    st = slot.state
    st.armed = record.armed
    st.last_fired_ms = record.last_fired_ms
    st.fire_seq = record.fire_seq
    st.paused = record.paused
    st.in_flight = list(record.in_flight)
    st.blocked_until_ms = (
        record.last_fired_ms + slot.cooldown_ms if record.last_fired_ms is not None and slot.cooldown_ms else _NEVER
    )
    if record.memory:
        slot.rule.restore_state(dict(record.memory))
    return True


def carry_over(new: RuleSlot, old: RuleSlot) -> bool:
    """A reload: keep the state of a rule whose key and text are unchanged; True if kept."""
    if new.key != old.key or new.rule.text_hash != old.rule.text_hash:
        return False
    st = new.state
    st.copy_from(old.state)
    # the cooldown is a key of its own, not part of the text: the new one applies
    st.blocked_until_ms = st.last_fired_ms + new.cooldown_ms if st.last_fired_ms is not None and new.cooldown_ms else _NEVER
    new.rule.restore_state(old.rule.snapshot_state())
    return True
