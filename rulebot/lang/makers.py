"""Makers: frozen, slotted dataclasses made without their ``__init__``.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, called from
Python, which costs about twice as much as the object is worth to make. Linting makes a dozen
nodes, spans and locations per rule, and a ``Rule`` and a ``CheckedRule`` of ten to eighteen
fields: a maker sets the slots through their descriptors instead. The object is the same, and
the maker takes every field, in order, with no defaults and no ``__post_init__``.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any, Callable, TypeVar

__all__ = ["maker"]

T = TypeVar("T")

_new_object = object.__new__


def maker(cls: type[T]) -> Callable[..., T]:
    """A function making ``cls`` (a frozen, slotted dataclass without ``__post_init__``) from all
    its fields, in order."""
    if not is_dataclass(cls) or not hasattr(cls, "__slots__") or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} is not a slotted dataclass without __post_init__")
    setters = tuple(getattr(cls, f.name).__set__ for f in fields(cls))
    if len(setters) == 2:
        set0, set1 = setters

        def make2(a: Any, b: Any) -> T:
            made = _new_object(cls)
            set0(made, a)
            set1(made, b)
            return made  # type: ignore[no-any-return]
        return make2
    if len(setters) == 3:
        set0, set1, set2 = setters

        def make3(a: Any, b: Any, c: Any) -> T:
            made = _new_object(cls)
            set0(made, a)
            set1(made, b)
            set2(made, c)
            return made  # type: ignore[no-any-return]
        return make3
    if len(setters) == 5:
        set0, set1, set2, set3, set4 = setters

        def make5(a: Any, b: Any, c: Any, d: Any, e: Any) -> T:
            made = _new_object(cls)
            set0(made, a)
            set1(made, b)
            set2(made, c)
            set3(made, d)
            set4(made, e)
            return made  # type: ignore[no-any-return]
        return make5

    def make(*values: Any) -> T:
        if len(values) != len(setters):
            raise TypeError(f"{cls.__name__} takes {len(setters)} fields, not {len(values)}")
        made = _new_object(cls)
        for setter, value in zip(setters, values):
            setter(made, value)
        return made  # type: ignore[no-any-return]
    return make
