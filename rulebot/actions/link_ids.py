"""orderLinkIds: a pure function of (rule, fire sequence), so a replay or a restart makes the same ids."""

from __future__ import annotations

import hashlib
from functools import lru_cache

PREFIX = "rb-"
MAX_SEQ = 10**22 - 1  # keeps the id at most 34 characters: room for a close's "-L" / "-S"


@lru_cache(maxsize=4096)  # a rule fires many times: hash its text once
def rule_hash(rule_name: str, rule_text: str) -> str:
    """8 hex characters identifying a rule by its name and text (an edited rule gets new ids)."""
    data = f"{rule_name}\x00{rule_text}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:8]


def make_order_link_id(rule_name: str, rule_text: str, seq: int) -> str:
    """``rb-`` + the rule's 8-character hash + ``-`` + ``seq``: at most 34 characters of ``[A-Za-z0-9_-]``."""
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        raise ValueError(f"fire sequence must be a whole number in [0, {MAX_SEQ}], got {seq!r}")
    return f"{PREFIX}{rule_hash(rule_name, rule_text)}-{seq}"
