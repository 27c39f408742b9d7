"""Rule text together with where each of its characters stands in the YAML file.

A rule may be a plain YAML scalar, a quoted one with escapes, or a folded block; its text is
not a slice of the file. The loader records, for every character of the text, the file line
and column it came from, so that parser offsets map back to the file exactly.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Location:
    """A 1-based line and column (in characters) in a file."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Source:
    """A piece of rule text and the file position of each character (one extra for the end)."""

    file: str
    text: str
    positions: tuple[Location, ...]

    def __post_init__(self) -> None:
        if len(self.positions) != len(self.text) + 1:
            raise ValueError("positions must have one entry per character plus one for the end")

    def location(self, offset: int) -> Location:
        """The file position of the character at ``offset`` (clamped to the text)."""
        return self.positions[max(0, min(offset, len(self.text)))]

    @classmethod
    def contiguous(cls, file: str, text: str, line: int = 1, column: int = 1) -> "Source":
        """Text that stands in the file as it is, starting at ``line``:``column`` (newlines advance lines)."""
        positions: list[Location] = []
        for ch in text:
            positions.append(Location(line, column))
            if ch == "\n":
                line, column = line + 1, 1
            else:
                column += 1
        positions.append(Location(line, column))
        return cls(file, text, tuple(positions))
