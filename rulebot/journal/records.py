"""What the journal gives back: typed records, never rows or dicts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class EntryKind(str, Enum):
    """The kinds of journal entries, as ``rulebot journal --kind`` names them."""

    FIRE = "fire"
    ACTION = "action"
    REJECTION = "rejection"
    ORDER = "order"
    FILL = "fill"
    EVENT = "event"


ORDER_INTENT = "intent"
"""The status of an order recorded before it was sent, until the exchange answers."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One line of the journal: when, what kind, which rule and symbol, a one-line summary, and
    the stored columns as text (``fields``, in column order) for machine-readable output."""

    kind: EntryKind
    ts_ms: int
    rule: str
    symbol: str
    summary: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order as journalled: the intent as sent (exact strings) and its latest known status."""

    order_link_id: str
    ts_ms: int
    rule: str
    symbol: str
    side: str
    order_type: str
    qty: str
    price: str
    params: str
    status: str
    order_id: str
    filled_qty: str
    reject_reason: str
    updated_ms: int


@dataclass(frozen=True, slots=True)
class RuleStateRecord:
    """The state of one rule that survives a restart (LANGUAGE.md §5).

    ``text_hash`` identifies the rule's text: the engine restores a state only when the rule's
    name and text are unchanged. ``for_started_ms`` holds, per ``for``-condition key, when the
    condition started to hold; ``memory`` is the compiled condition's snapshot.
    """

    name: str
    text_hash: str
    armed: bool = True
    last_fired_ms: int | None = None
    fire_seq: int = 0
    paused: bool = False
    in_flight: tuple[str, ...] = ()
    for_started_ms: tuple[tuple[str, int], ...] = ()
    # The compiled condition's own memory (``crosses``, ``for``, ``rising``: CompiledRule.snapshot_state),
    # as (key, value) pairs in the order the rule gave them.
    memory: tuple[tuple[str, float | int | bool | None], ...] = ()


FINAL_ORDER_STATUSES = ("filled", "cancelled", "rejected")
"""Order statuses after which an order can change no more (the journal's ``status`` column holds
``model.enums.OrderStatus`` values; a test pins these to the ones that are not open)."""


@dataclass(frozen=True, slots=True)
class FillRecord:
    """A fill as the journal stores it: the engine makes one from each execution event."""

    exec_id: str
    ts_ms: int
    symbol: str
    order_id: str
    order_link_id: str
    side: str
    price: str
    qty: str
    fee: str
    is_maker: bool
    exit_reason: str = ""
