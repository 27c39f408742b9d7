"""Pieces of generated code: float expressions, conditions as (known true, known false), shifts.

A condition ``c`` is two plain boolean expressions, ``T(c)`` (c is known true) and ``F(c)``
(c is known false); both are false when c is unknown. ``T(x and y) = T(x) and T(y)``,
``F(x and y) = F(x) or F(y)``, ``not`` swaps them: Kleene's logic with Python's own
short-circuit ``and``/``or``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Val:
    """A float expression; ``const`` when it is a constant."""

    text: str
    depth: int = 0
    const: float | None = None


@dataclass(frozen=True, slots=True)
class Cond:
    """A condition as two boolean expressions: known true, known false."""

    t: str
    f: str
    depth: int = 0


TRUE, FALSE, UNKNOWN = Cond("True", "False"), Cond("False", "True"), Cond("False", "False")


@dataclass(frozen=True, slots=True)
class Shift:
    """Bars back for every bar read: ``const`` plus, inside a history loop, the variable ``k``
    (whose largest value is ``runtime``)."""

    const: int = 0
    runtime: int | None = None

    @property
    def zero(self) -> bool:
        return self.const == 0 and self.runtime is None

    @property
    def most(self) -> int:
        return self.const + (self.runtime or 0)

    @property
    def text(self) -> str:
        if self.runtime is None:
            return str(self.const)
        return f"k + {self.const}" if self.const else "k"

    def plus(self, n: int) -> Shift:
        return Shift(self.const + n, self.runtime)


NOW = Shift()


def lit(x: float) -> str:
    """A float literal (NaN and infinities by name)."""
    if x != x:
        return "NAN"
    if x in (float("inf"), float("-inf")):
        return "INF" if x > 0 else "(-INF)"
    return repr(float(x))


def tri(c: Cond) -> str:
    """An expression giving True, False or None."""
    return f"True if {c.t} else (False if {c.f} else None)"


def and_(parts: list[Cond]) -> Cond:
    """Kleene ``and`` of the parts."""
    if len(parts) == 1:
        return parts[0]
    depth = max(p.depth for p in parts) + 1
    return Cond("(" + " and ".join(p.t for p in parts) + ")", "(" + " or ".join(p.f for p in parts) + ")", depth)


def or_(parts: list[Cond]) -> Cond:
    """Kleene ``or`` of the parts."""
    if len(parts) == 1:
        return parts[0]
    depth = max(p.depth for p in parts) + 1
    return Cond("(" + " or ".join(p.t for p in parts) + ")", "(" + " and ".join(p.f for p in parts) + ")", depth)


def not_(c: Cond) -> Cond:
    """Kleene ``not``."""
    return Cond(c.f, c.t, c.depth)


def fold(op: str, a: float, b: float) -> float:
    """``a op b`` as compiled code computes it (division by zero is NaN)."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b if b else float("nan")


def compare_values(op: str, a: float, b: float) -> bool | None:
    """``a op b`` with NaN unknown."""
    if a != a or b != b:
        return None
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]
