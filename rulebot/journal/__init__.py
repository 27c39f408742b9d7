"""rulebot.journal: the SQLite journal of fires, actions, rejections, orders, fills and rule state."""

from rulebot.journal.journal import Journal
from rulebot.journal.records import (
    FINAL_ORDER_STATUSES, ORDER_INTENT, EntryKind, FillRecord, JournalEntry, OrderRecord, RuleStateRecord,
)
from rulebot.journal.schema import MIGRATIONS, JournalError, current_version

__all__ = [
    "FINAL_ORDER_STATUSES",
    "MIGRATIONS",
    "ORDER_INTENT",
    "EntryKind",
    "FillRecord",
    "Journal",
    "JournalEntry",
    "JournalError",
    "OrderRecord",
    "RuleStateRecord",
    "current_version",
]
