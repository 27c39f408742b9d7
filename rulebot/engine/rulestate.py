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

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from rulebot.engine.badinput import BadInputLog
from rulebot.journal.records import RuleStateRecord
from rulebot.lang.compiled import CompiledAction
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

    @property
    def name(self) -> str: ...

    @property
    def index(self) -> int: ...

    @property
    def symbol(self) -> str: ...

    @property
    def priority(self) -> int: ...

    @property
    def trigger_mode(self) -> TriggerMode: ...

    @property
    def enabled(self) -> bool: ...

    @property
    def cooldown_ms(self) -> int | None: ...

    @property
    def every_s(self) -> int | None: ...

    @property
    def at(self) -> tuple[tuple[int, int], ...]: ...

    @property
    def cron(self) -> str | None: ...

    @property
    def triggers(self) -> Sequence[TriggerLike]: ...

    @property
    def condition(self) -> Callable[[], bool | None] | None: ...

    @property
    def actions(self) -> Sequence[CompiledAction]: ...

    @property
    def text_hash(self) -> str: ...

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
        "link_text", "scheduled",
    )

    def __init__(self, rule: RuleLike, key: str, file: FileRules, rank: int) -> None:
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


def evaluate(slots: Iterable[RuleSlot], now_ms: int, bad: BadInputLog) -> list[RuleSlot] | None:
    """Evaluate each rule's condition and apply §5 to its state; the rules that fire now, in the
    order given (``None`` when none does). One loop for all the rules due on an event: this
    runs on every bar of a replay."""
    fired: list[RuleSlot] | None = None
    for slot in slots:
        cond = slot.cond
        if cond is None:
            value: bool | None = True
        else:
            try:
                value = cond()
            except (ArithmeticError, ValueError, TypeError, IndexError) as err:
                # the contract makes these unknown inside the condition; one that escapes is
                # unknown too, and logged once per kind
                bad.record(f"eval:{type(err).__name__}", f"rule={slot.name!r} symbol={slot.symbol} error={err}")
                continue
        if value is None:
            continue
        st = slot.state
        if not value:
            # the common case, made cheap: an armed rule stays armed; another is re-armed unless
            # it is blocked (paused, orders in flight, cooling down)
            if not st.armed and not (st.paused or st.in_flight or now_ms < st.blocked_until_ms):
                st.armed = True
            continue
        if st.paused or st.in_flight or now_ms < st.blocked_until_ms:
            continue
        if not slot.level:
            if not st.armed:
                continue
            st.armed = False
        st.last_fired_ms = now_ms
        st.fire_seq += 1
        if slot.cooldown_ms:
            st.blocked_until_ms = now_ms + slot.cooldown_ms
        if fired is None:
            fired = [slot]
        else:
            fired.append(slot)
    return fired


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
