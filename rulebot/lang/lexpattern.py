"""The one regular expression the fast reader (``reader.py``) lexes a rule text with.

Each match is one token and the blanks after it; the token's terminal is the match's
``lastgroup``. Each alternative is the terminal's pattern followed by an empty group named
after the terminal, rather than the pattern inside that group: Python's regex engine skips an
alternative at once when its first character cannot match, but only when the alternative does
not open with a group, and the empty group is still the last one the match closes. The
terminals' own groups are made non-capturing for the same reason (fewer marks to save and
restore). The token is ``match.start()`` to ``match.start(lastgroup)``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

END_GROUP = "_END_OF_TEXT"
"""The group of the end of the text (after the last token's blanks)."""
NOT_A_TOKEN = "_NOT_A_TOKEN"
"""The group of a character no terminal matches."""

_CHAR_RUN = re.compile(r"\[(?:[^\]\\]|\\.)*\]\+")
"""A run of one character class, such as the blanks (`[ ]+`)."""


@dataclass(frozen=True, slots=True)
class TokenPattern:
    """The token expression, and the blanks a text may start with (skipped before the first token)."""

    tokens: re.Pattern[str]
    blanks: re.Pattern[str]


def token_pattern(terminals: Sequence[tuple[str, str]], blanks: Sequence[str]) -> TokenPattern:
    """The expression for ``terminals`` (name, regexp), in the order they are to be tried, and
    ``blanks`` (the regexps of the ignored terminals)."""
    skip = f"(?:{'|'.join(blanks)})*+" if blanks else ""
    if len(blanks) == 1 and _CHAR_RUN.fullmatch(blanks[0]):
        skip = blanks[0][:-1] + "*+"  # `[ ]*+`, not `(?:[ ]+)*+`: the same blanks, a simpler loop
    alternatives = [f"(?:{uncaptured(regexp)})(?P<{name}>)" for name, regexp in terminals]
    alternatives += [f"\\Z(?P<{END_GROUP}>)", f"(?s:.)(?P<{NOT_A_TOKEN}>)"]
    return TokenPattern(re.compile(f"(?:{'|'.join(alternatives)}){skip}", re.ASCII), re.compile(skip, re.ASCII))


def uncaptured(regexp: str) -> str:
    """``regexp`` with its capturing groups made non-capturing (it matches the same text); the
    regexp itself when it has named groups or back references, which need their groups."""
    out: list[str] = []
    i = 0
    while i < len(regexp):
        c = regexp[i]
        if c == "\\":
            out.append(regexp[i:i + 2])
            i += 2
            continue
        if c == "[":  # a class: its brackets and parentheses are characters
            j = i + 1
            if j < len(regexp) and regexp[j] == "^":
                j += 1
            if j < len(regexp) and regexp[j] == "]":
                j += 1
            while j < len(regexp) and regexp[j] != "]":
                j += 2 if regexp[j] == "\\" else 1
            out.append(regexp[i:j + 1])
            i = j + 1
            continue
        out.append("(?:" if c == "(" and regexp[i + 1:i + 2] != "?" else c)
        i += 1
    result = "".join(out)
    try:
        same = re.compile(result).groups == 0 and "(?P" not in regexp and not re.search(r"\\[1-9]", regexp)
    except re.error:
        same = False
    return result if same else regexp
