"""Splitting notify messages into literal text and ``{expr}`` parts (``templates.split_template``)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.lang.templates import TemplatePart, split_template


def _written(parts: tuple[TemplatePart, ...]) -> str:
    """The message the parts were read from: literal braces doubled, parts in braces."""
    return "".join("{" + p.text + "}" if p.is_expr else p.text.replace("{", "{{").replace("}", "}}")
                   for p in parts)


def test_parts_and_escapes() -> None:
    parts, problem = split_template("rsi {rsi(14)} at {{price}} {close}")
    assert problem is None
    assert parts == (TemplatePart("rsi ", False, 0), TemplatePart("rsi(14)", True, 5),
                     TemplatePart(" at {price} ", False, 13), TemplatePart("close", True, 28))
    assert split_template("") == ((), None)
    assert split_template("{{{a}}}") == ((TemplatePart("{", False, 0), TemplatePart("a", True, 3),
                                          TemplatePart("}", False, 5)), None)


def test_problems_point_at_their_brace() -> None:
    assert split_template("a } b")[1].offset == 2
    assert split_template("x {a")[1].offset == 2
    assert split_template("x { } y")[1].message == "empty '{}' in the message"
    # a brace right after a part is read on its own, not as half of a doubled one
    parts, problem = split_template("{a}}x")
    assert parts == (TemplatePart("a", True, 1),)
    assert problem is not None and problem.offset == 3 and problem.message == "unmatched '}' in the message"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{}a b", max_size=16))
def test_a_message_read_without_a_problem_is_its_parts(message: str) -> None:
    parts, problem = split_template(message)
    if problem is None:
        assert _written(parts) == message
    else:
        assert message[problem.offset] in "{}"
        assert message.startswith(_written(parts))
    for p in parts:
        if p.is_expr:
            assert message[p.start:p.start + len(p.text)] == p.text
        assert p.text != ""
