"""``makers.maker``: the object it makes is the one the dataclass's own ``__init__`` makes."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass, fields

import pytest

from rulebot.lang import ast
from rulebot.lang.checker import CheckedRule
from rulebot.lang.filemodel import Rule
from rulebot.lang.makers import maker


@dataclass(frozen=True, slots=True)
class _Four:
    a: int
    b: str
    c: tuple[int, ...]
    d: float | None


@pytest.mark.parametrize("cls", [ast.Number, ast.Compare, ast.Call, _Four, CheckedRule, Rule])
def test_maker_makes_what_init_makes(cls: type) -> None:
    values = [f"value {i}" for i in range(len(fields(cls)))]
    made = maker(cls)(*values)
    expected = cls(*values)
    assert type(made) is cls
    assert [getattr(made, f.name) for f in fields(cls)] == values
    assert repr(made) == repr(expected)
    if cls.__eq__ is not object.__eq__:  # a Rule is equal to itself only
        assert made == expected
    with pytest.raises(FrozenInstanceError):
        made.__setattr__(fields(cls)[0].name, "changed")


def test_maker_takes_every_field() -> None:
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        maker(_Four)(1, "b", ())


def test_maker_refuses_what_it_cannot_make_faithfully() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            raise ValueError

    for cls in (NoSlots, Checked, int):
        with pytest.raises(TypeError):
            maker(cls)
