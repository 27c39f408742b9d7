"""Plans: how the reader builds the AST of a text whose shape it has read before.

What the LALR table makes the reader do depends only on a text's shape (its token types). The
reader (``reader.py``) records what it did on a text that parsed (``Step``s), ``make_plan``
works that out into a ``Plan``, and ``Shape.build`` builds a text of that shape from it: the same
callbacks on the same kinds of children, with no table look-up. A rule file repeats a few shapes
with other numbers and names; once a shape has been built ``COMPILE_AFTER`` times, its plan is
compiled (``compile_plan``) into a Python function that makes the same calls in the same order,
straight-line, without the loop over the plan. Compiling costs several table reads of the text,
so a shape that comes back only a few times is never compiled.

The generated source holds only numbers (token indices, slots) and the grammar's terminal names;
the callbacks and the text are passed in. Nothing of a rule text is ever compiled.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from typing import Any, Callable, NamedTuple, Protocol

from rulebot.lang import ast
from rulebot.lang.ast_builder import PASSED_ON

__all__ = ["COMPILE_AFTER", "Builder", "Plan", "Reduction", "Shape", "Tok", "build_plan", "compile_plan", "make_plan"]

COMPILE_AFTER = 16
"""Builds of a shape from its plan before the plan is compiled."""


class Tok(NamedTuple):
    """A token of the fast lexer, shaped like lark's ``Token`` for ``AstBuilder``."""

    type: str
    value: str
    start_pos: int
    end_pos: int


class Reduction(Protocol):
    """What a plan needs of a grammar rule the reader reduced (the reader's ``_Reducer``)."""

    size: int
    include: tuple[tuple[int, bool, int], ...] | None
    trailing_nones: int
    splice: bool
    inline_single: bool
    callback: Callable[[ast.Span, Any], Any] | None
    leaf: Callable[[str, ast.Span], Any] | None


Builder = Callable[[str, list[int], list[int]], Any]
"""A compiled plan: (text, token starts, token ends) -> the AST."""


@dataclass(frozen=True, slots=True)
class Plan:
    """How to build the AST of any text of one shape: the reductions the reader did on it,
    worked out into the callbacks to call and where each takes its children from.

    Results go to numbered slots (slot 0 holds None, lark's placeholder for an absent optional
    part): the kept tokens and leaves (nodes made from one token's text, ``LEAVES``) first, then
    one slot per callback, in the order the table reduced. Splices, filtered tokens, unit and
    single-child rules leave nothing to do at build time.
    """

    tokens: tuple[tuple[int, str, int], ...]  # (slot, token type, index of the token)
    leaves: tuple[tuple[int, Callable[[str, ast.Span], Any], int], ...]  # (slot, maker, index of the token)
    # (slot, callback, index of its first token, of its last token, the slots of its children)
    nodes: tuple[tuple[int, Callable[[ast.Span, Any], Any], int, int, tuple[int, ...]], ...]
    result: int
    token_count: int  # tokens of the shape, the end of the text included
    slots: int


class Shape:
    """A shape's plan, how often it was built, and once built ``COMPILE_AFTER`` times, its compiled form."""

    __slots__ = ("plan", "builds", "compiled")

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.builds = 0
        self.compiled: Builder | None = None

    def build(self, text: str, starts: list[int], ends: list[int]) -> Any:
        """The AST of ``text``, whose tokens (of this shape) start at ``starts`` and end at ``ends``."""
        compiled = self.compiled
        if compiled is not None:
            return compiled(text, starts, ends)
        self.builds += 1
        if self.builds >= COMPILE_AFTER:
            self.compiled = compile_plan(self.plan)
        return build_plan(self.plan, text, starts, ends)


_new_tuple = tuple.__new__


def build_plan(plan: Plan, text: str, starts: list[int], ends: list[int]) -> Any:
    """The AST of ``text`` (of the shape ``plan`` was made for), the plan read step by step."""
    new_tuple, span_class, tok_class = _new_tuple, ast.Span, Tok
    slots: list[Any] = [None] * plan.slots
    for slot, kind, index in plan.tokens:
        tok_start, tok_end = starts[index], ends[index]
        slots[slot] = new_tuple(tok_class, (kind, text[tok_start:tok_end], tok_start, tok_end))
    for slot, leaf, index in plan.leaves:
        tok_start, tok_end = starts[index], ends[index]
        slots[slot] = leaf(text[tok_start:tok_end], new_tuple(span_class, (tok_start, tok_end)))
    for slot, callback, first, last, children in plan.nodes:
        slots[slot] = callback(new_tuple(span_class, (starts[first], ends[last])), tuple([slots[c] for c in children]))
    return slots[plan.result]


def make_plan(steps: list[Any]) -> Plan:
    """Work ``steps`` out into a ``Plan``: for each token shifted its type (or "" when no rule
    keeps it), for each reduction other than a unit one its ``Reduction``."""
    # per symbol on the parser's stack: its slot (or the slots of a splice), first and last token
    stack: list[tuple[Any, int, int]] = []
    tokens: list[tuple[int, str, int]] = []
    leaves: list[tuple[int, Callable[[str, ast.Span], Any], int]] = []
    nodes: list[tuple[int, Callable[[ast.Span, Any], Any], int, int, tuple[int, ...]]] = []
    slots = 1
    shifted = 0
    for step in steps:
        if step.__class__ is str:
            if step:
                tokens.append((slots, step, shifted))
                stack.append((slots, shifted, shifted))
                slots += 1
            else:
                stack.append((0, shifted, shifted))
            shifted += 1
            continue
        r: Reduction = step
        symbols = stack[-r.size:]
        del stack[-r.size:]
        first, last = symbols[0][1], symbols[-1][2]
        children: list[Any] = [slot for slot, _, _ in symbols]
        if r.include is not None:
            children = []
            for i, splice, nones_before in r.include:
                children.extend([0] * nones_before)
                if splice:
                    children.extend(symbols[i][0])
                else:
                    children.append(symbols[i][0])
            children.extend([0] * r.trailing_nones)
        if r.splice:
            stack.append((children, first, last))
        elif r.inline_single and len(children) == 1:
            stack.append((children[0], first, last))
        elif r.leaf is not None and tokens and children == [tokens[-1][0]]:
            # its one child is the token shifted last: make the node from the token's text
            tokens.pop()
            leaves.append((slots, r.leaf, first))
            stack.append((slots, first, last))
            slots += 1
        elif r.callback is not None and r.callback.__name__ in PASSED_ON:
            stack.append((children[0], first, last))  # the callback gives its one child back
        else:
            assert r.callback is not None
            nodes.append((slots, r.callback, first, last, tuple(children)))
            stack.append((slots, first, last))
            slots += 1
    ((result, _, _),) = stack
    return Plan(tuple(tokens), tuple(leaves), tuple(nodes), result, shifted + 1, slots)


def compile_plan(plan: Plan) -> Builder:
    """``plan`` as a function of (text, token starts, token ends): one statement per token,
    leaf and node of the plan, so building a text costs its callbacks and little else."""
    names: dict[str, Any] = {"new": tuple.__new__, "Span": ast.Span, "Tok": Tok}
    numbers = count()

    def bind(obj: Any) -> str:
        name = f"f{next(numbers)}"
        names[name] = obj
        return name

    def slot(n: int) -> str:
        return f"v{n}" if n else "None"

    n = plan.token_count
    lines = ["def build(text, starts, ends):",
             f"    {''.join(f's{i}, ' for i in range(n))}= starts",
             f"    {''.join(f'e{i}, ' for i in range(n))}= ends"]
    for at, kind, i in plan.tokens:
        lines.append(f"    v{at} = new(Tok, ({kind!r}, text[s{i}:e{i}], s{i}, e{i}))")
    for at, leaf, i in plan.leaves:
        lines.append(f"    v{at} = {bind(leaf)}(text[s{i}:e{i}], new(Span, (s{i}, e{i})))")
    for at, callback, first, last, children in plan.nodes:
        args = "".join(f"{slot(c)}, " for c in children)
        lines.append(f"    v{at} = {bind(callback)}(new(Span, (s{first}, e{last})), ({args}))")
    lines.append(f"    return {slot(plan.result)}")
    exec(compile("\n".join(lines), "<rulebot plan>", "exec"), names)  # noqa: S102 - numbers and terminal names only
    built: Builder = names["build"]
    return built
