"""Rule text together with where each of its characters stands in the YAML file.

A rule may be a plain YAML scalar, a quoted one with escapes, or a folded block; its text is
not a slice of the file. A ``Source`` can give, for every character of the text, the file line
and column it came from, so that parser offsets map back to the file exactly.

That map holds one ``Location`` per character and is needed only to place a diagnostic (or to
show a rule's extent in ``explain``): most rules have none. So a ``Source`` made by the loader
keeps only how to build the map (``Source.deferred``) and builds it on the first ``location()``
or ``positions``; lint of 1,000 clean rules then makes none of the 70,000 objects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import FrozenInstanceError, dataclass
from typing import Any

from rulebot.lang.makers import maker


@dataclass(frozen=True, slots=True)
class Location:
    """A 1-based line and column (in characters) in a file."""

    line: int
    column: int


_new = object.__new__
new_location: Callable[[int, int], Location] = maker(Location)
"""``Location(line, column)``, made without the dataclass ``__init__`` (half the cost): the
loader makes a few per rule."""


class Source:
    """A piece of rule text and the file position of each character (one extra for the end).

    Immutable; equal when file, text and positions are equal (as the frozen dataclass it was).
    """

    __slots__ = ("file", "text", "_positions", "_build", "_args")

    file: str
    text: str

    def __init__(self, file: str, text: str, positions: Sequence[Location]) -> None:
        _init(self, file, text, _checked(text, positions), None, ())

    @classmethod
    def deferred(cls, file: str, text: str, build: Callable[..., Sequence[Location]], *args: Any) -> "Source":
        """A source whose map ``build(*args)`` makes when first needed (one entry per character plus one).

        The arguments are kept by the source itself: the loader makes two sources per rule, and a
        ``partial`` each (and its keyword dict) would be two more objects to make and free."""
        source = _new(cls)
        _init(source, file, text, None, build, args)
        return source

    @classmethod
    def contiguous(cls, file: str, text: str, line: int = 1, column: int = 1) -> "Source":
        """Text that stands in the file as it is, starting at ``line``:``column`` (newlines advance lines)."""
        return cls.deferred(file, text, lambda: _contiguous(text, line, column))

    @property
    def positions(self) -> tuple[Location, ...]:
        """The file position of each character, and of the end of the text."""
        positions = self._positions
        if positions is None:
            positions = _checked(self.text, self._build(*self._args))
            _set_positions(self, positions)
            _set_build(self, None)
            _set_args(self, ())
        return positions

    def location(self, offset: int) -> Location:
        """The file position of the character at ``offset`` (clamped to the text)."""
        return self.positions[max(0, min(offset, len(self.text)))]

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field '{name}'")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field '{name}'")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Source)
        return (self.file, self.text) == (other.file, other.text) and self.positions == other.positions

    def __hash__(self) -> int:
        return hash((self.file, self.text, self.positions))

    def __repr__(self) -> str:
        return f"Source(file={self.file!r}, text={self.text!r}, positions={self.positions!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Source, (self.file, self.text, self.positions))


# The slots' own setters: ``__setattr__`` refuses (frozen), and ``object.__setattr__`` costs more
# (``deferred`` runs twice per rule).
_set_file = Source.file.__set__  # type: ignore[attr-defined]
_set_text = Source.text.__set__  # type: ignore[attr-defined]
_set_positions = Source._positions.__set__  # type: ignore[attr-defined]
_set_build = Source._build.__set__  # type: ignore[attr-defined]
_set_args = Source._args.__set__  # type: ignore[attr-defined]


def _init(source: Source, file: str, text: str, positions: tuple[Location, ...] | None,
          build: Callable[..., Sequence[Location]] | None, args: tuple[Any, ...]) -> None:
    _set_file(source, file)
    _set_text(source, text)
    _set_positions(source, positions)
    _set_build(source, build)
    _set_args(source, args)


def _checked(text: str, positions: Sequence[Location]) -> tuple[Location, ...]:
    if len(positions) != len(text) + 1:
        raise ValueError("positions must have one entry per character plus one for the end")
    return tuple(positions)


def _contiguous(text: str, line: int, column: int) -> list[Location]:
    positions: list[Location] = []
    for ch in text:
        positions.append(Location(line, column))
        if ch == "\n":
            line, column = line + 1, 1
        else:
            column += 1
    positions.append(Location(line, column))
    return positions
