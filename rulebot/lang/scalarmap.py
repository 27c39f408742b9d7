"""Where each character of a YAML scalar's value stands in the file.

A scalar's value is not a slice of the file: quotes, escapes, line folding and block
indentation change it. For each style we re-scan the raw file text between the node's start
and end marks, the way libyaml reads it, and emit *segments*: a piece of the value and the file
index it comes from, either character for character (``contiguous``) or all at one index (an
escape, a folded line break). The caller checks that the pieces join to the value YAML gave.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from itertools import accumulate, repeat
from typing import NamedTuple

from rulebot.lang.source import Location


class Segment(NamedTuple):
    """``text`` taken from the file at ``index``: one character per file character, or all at ``index``."""

    text: str
    index: int
    contiguous: bool


_BLANKS = " \t"
_SIMPLE_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
    "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "'": "'", "\\": "\\", "N": "\x85",
    "_": "\xa0", "L": "\u2028", "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def scalar_segments(text: str, start: int, end: int, style: str | None,
                    value: str) -> tuple[list[Segment], int] | None:
    """The segments of the scalar at ``text[start:end]`` and the index just after its content.

    ``style`` is PyYAML's: ``None`` or ``""`` plain, ``'`` , ``"``, ``|`` or ``>``; ``value`` is
    the value YAML read. Returns ``None`` when the segments do not join to ``value`` (a construct
    this reader does not follow); the caller then falls back to the scalar's start.
    Line breaks in ``text`` must be ``\\n``.
    """
    start = _skip_properties(text, start, end)
    quoted = style == "'" or style == '"'
    if (not style or quoted) and "\n" not in text[start:end]:
        # One line without escapes (most rule texts): the value is the file text as it stands.
        inner = start + 1 if quoted else start
        stop = end - 1 if quoted else end
        if text[inner:stop] == value and stop >= inner:
            return [Segment(value, inner, True)], stop
    if not style:
        results = [_plain(text, start, end)]
    elif style == "'" or style == '"':
        if text[start:start + 1] != style or text[end - 1:end] != style or end - start < 2:
            return None
        results = [(_quoted(text, start + 1, end - 1, style == '"'), end - 1)]
    elif style == "|" or style == ">":
        results = _block(text, start, end, literal=style == "|")
    else:
        return None
    for segments, content_end in results:
        if "".join(piece.text for piece in segments) == value:
            return segments, content_end
    return None


def _skip_properties(text: str, start: int, end: int) -> int:
    # libyaml marks a scalar from its anchor or tag (`&a !!str text`); the value starts after them.
    while start < end and text[start] in "&!":
        while start < end and text[start] not in " \t\n":
            start += 1
        while start < end and text[start] in " \t\n":
            start += 1
    return start


def _fold(text: str, pos: int, end: int, after_content: int, out: list[Segment]) -> int:
    """Fold the line break at ``pos``: skip blanks and empty lines, emit a space or the kept breaks.

    ``after_content`` is the file index just after the last character before the blanks; a
    folded space points there. Returns the index of the next content character.
    """
    breaks: list[int] = []
    pos += 1
    while pos < end:
        ch = text[pos]
        if ch in _BLANKS:
            pos += 1
        elif ch == "\n":
            breaks.append(pos)
            pos += 1
        else:
            break
    if breaks:
        out.extend(Segment("\n", b, False) for b in breaks)
    else:
        out.append(Segment(" ", after_content, False))
    return pos


def _plain(text: str, start: int, end: int) -> tuple[list[Segment], int]:
    out: list[Segment] = []
    pos = start
    while pos < end:
        newline = text.find("\n", pos, end)
        if newline < 0:
            out.append(Segment(text[pos:end], pos, True))
            break
        content = text[pos:newline].rstrip(_BLANKS)
        if content:
            out.append(Segment(content, pos, True))
        pos = _fold(text, newline, end, pos + len(content), out)
    return out, end


def _quoted(text: str, pos: int, end: int, double: bool) -> list[Segment]:
    out: list[Segment] = []
    stops = '\\" \t\n' if double else "' \t\n"
    while pos < end:
        ch = text[pos]
        if ch in _BLANKS:
            run = pos
            while run < end and text[run] in _BLANKS:
                run += 1
            if run < end and text[run] == "\n":
                pos = _fold(text, run, end, pos, out)
            else:
                out.append(Segment(text[pos:run], pos, True))
                pos = run
        elif ch == "\n":
            pos = _fold(text, pos, end, pos, out)
        elif ch == "'" and not double:
            out.append(Segment("'", pos, False))  # '' stands for one quote
            pos += 2
        elif ch == "\\" and double:
            pos = _escape(text, pos, end, out)
        else:
            run = pos + 1
            while run < end and text[run] not in stops:
                run += 1
            out.append(Segment(text[pos:run], pos, True))
            pos = run
    return out


def _escape(text: str, pos: int, end: int, out: list[Segment]) -> int:
    code = text[pos + 1:pos + 2]
    if code == "\n":
        # An escaped line break joins the lines; only the empty lines after it stay breaks.
        after = pos + 2
        while after < end and text[after] in _BLANKS + "\n":
            if text[after] == "\n":
                out.append(Segment("\n", after, False))
            after += 1
        return after
    if code in _SIMPLE_ESCAPES:
        out.append(Segment(_SIMPLE_ESCAPES[code], pos, False))
        return pos + 2
    width = _HEX_ESCAPES.get(code, 0)
    digits = text[pos + 2:pos + 2 + width]
    try:
        out.append(Segment(chr(int(digits, 16)), pos, False))
    except ValueError:
        out.append(Segment(text[pos:pos + 2], pos, True))  # not an escape YAML knows; the check catches it
        return pos + 2
    return pos + 2 + width


def _block(text: str, start: int, end: int, literal: bool) -> list[tuple[list[Segment], int]]:
    pos = start + 1
    chomp = ""
    explicit = 0
    while pos < end and text[pos] in "+-123456789":
        if text[pos] in "+-":
            chomp = text[pos]
        else:
            explicit = int(text[pos])
        pos += 1
    header_end = text.find("\n", pos, end)
    if header_end < 0:
        return [([], pos)]
    body = header_end + 1
    if explicit:
        # The indicator counts from the parent's indentation, which the node does not record:
        # try each possible parent column; the check against the value picks the right one.
        indents = [explicit + parent for parent in range(0, _column(text, start) + 1)]
    else:
        indents = [_detect_indent(text, body, end)]
    return [_block_body(text, body, end, indent, literal, chomp, pos) for indent in indents]


def _column(text: str, index: int) -> int:
    return index - (text.rfind("\n", 0, index) + 1)


def _detect_indent(text: str, pos: int, end: int) -> int:
    # libyaml: the largest indentation among the leading empty lines and the first content line.
    best = 0
    while pos < end:
        run = pos
        while run < end and text[run] == " ":
            run += 1
        best = max(best, run - pos)
        if run < end and text[run] == "\n":
            pos = run + 1
            continue
        break
    return max(best, 1)


def _block_body(text: str, pos: int, end: int, indent: int, literal: bool,
                chomp: str, header_end: int) -> tuple[list[Segment], int]:
    out: list[Segment] = []
    leading_break = -1
    trailing: list[int] = []
    leading_blank = False
    content_end = header_end
    while pos < end:
        run = pos
        while run < end and run - pos < indent and text[run] == " ":
            run += 1
        if run < end and text[run] == "\n":
            trailing.append(run)
            pos = run + 1
            continue
        if run >= end or run - pos < indent:
            break
        trailing_blank = text[run] in _BLANKS
        if not literal and leading_break >= 0 and not leading_blank and not trailing_blank:
            if not trailing:
                out.append(Segment(" ", leading_break, False))
        elif leading_break >= 0:
            out.append(Segment("\n", leading_break, False))
        out.extend(Segment("\n", b, False) for b in trailing)
        trailing = []
        leading_blank = trailing_blank
        newline = text.find("\n", run, end)
        stop = newline if newline >= 0 else end
        out.append(Segment(text[run:stop], run, True))
        content_end = stop
        leading_break = newline
        if newline < 0:
            break
        pos = newline + 1
    if chomp != "-" and leading_break >= 0:
        out.append(Segment("\n", leading_break, False))
    if chomp == "+":
        out.extend(Segment("\n", b, False) for b in trailing)
    return out, content_end


# Source maps hold one Location per character: over 100,000 for 2,000 rules, the largest part of
# a load. Making them without the frozen dataclass's __init__ (object.__setattr__ through Python,
# once per field), in loops that run in C (map over the slot setters), takes half the time;
# Location has no __post_init__, so the objects are the same as Location(line, column) makes.
_new_object = object.__new__
_set_line = Location.line.__set__  # type: ignore[attr-defined]
_set_column = Location.column.__set__  # type: ignore[attr-defined]


def _row(line: int, first: int, count: int) -> list[Location]:
    """Locations of ``count`` consecutive columns of ``line`` from column ``first``."""
    row = list(map(_new_object, repeat(Location, count)))
    deque(map(_set_line, row, repeat(line, count)), 0)
    deque(map(_set_column, row, range(first, first + count)), 0)
    return row


class LineIndex:
    """Turns file indices into 1-based line and column ``Location``s."""

    def __init__(self, text: str) -> None:
        self.text = text
        # each line starts one past the end of the one before: running sums of length + 1, in C
        self._starts = list(accumulate(map((1).__add__, map(len, text.split("\n")[:-1])), initial=0))

    def line_column(self, index: int) -> tuple[int, int]:
        """The 1-based line and column of the character at ``index`` (an index past the end is the end)."""
        index = max(0, min(index, len(self.text)))
        line = bisect_right(self._starts, index)
        return line, index - self._starts[line - 1] + 1

    def location(self, index: int) -> Location:
        """The location of the character at ``index``."""
        return Location(*self.line_column(index))

    def locations(self, segments: list[Segment]) -> list[Location]:
        """One ``Location`` per character of the joined segments."""
        out: list[Location] = []
        starts = self._starts
        for piece, index, contiguous in segments:
            line = bisect_right(starts, index)
            column = index - starts[line - 1] + 1
            if contiguous:
                out += _row(line, column, len(piece))
            else:
                out += [Location(line, column)] * len(piece)
        return out
