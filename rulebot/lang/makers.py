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
    names = [f.name for f in fields(cls)]
    # Straight-line code, as dataclasses writes ``__init__``: a loop over the setters cost half
    # again as much for the ten to eighteen fields of a rule. The source holds only numbers.
    scope: dict[str, Any] = {"new": _new_object, "cls": cls}
    scope.update((f"set{i}", getattr(cls, name).__set__) for i, name in enumerate(names))
    params = "".join(f"v{i}, " for i in range(len(names)))
    lines = [f"def make({params}):", "    made = new(cls)"]
    lines += [f"    set{i}(made, v{i})" for i in range(len(names))]
    lines.append("    return made")
    exec(compile("\n".join(lines), f"<maker of {cls.__name__}>", "exec"), scope)  # noqa: S102 - numbers only
    made: Callable[..., T] = scope["make"]
    made.__qualname__ = made.__name__ = f"make_{cls.__name__}"
    return made
