"""rulebot.journal: the SQLite journal of fires, actions, rejections, orders, fills and rule state."""

from rulebot.journal.journal import Journal
from rulebot.journal.records import ORDER_INTENT, EntryKind, JournalEntry, OrderRecord, RuleStateRecord
from rulebot.journal.schema import MIGRATIONS, JournalError, current_version

__all__ = [
    "MIGRATIONS",
    "ORDER_INTENT",
    "EntryKind",
    "Journal",
    "JournalEntry",
    "JournalError",
    "OrderRecord",
    "RuleStateRecord",
    "current_version",
]
