"""Small helpers over PyYAML nodes: their values as written or typed, their spans, and finding the
node a validation error points at."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import yaml

from rulebot.lang import values
from rulebot.lang.filemodel import Span
from rulebot.lang.scalarmap import LineIndex

_CONSTRUCTOR = yaml.constructor.SafeConstructor()
# Keys whose scalar values are kept as written: YAML 1.1 would turn `at: 8:30` into 510 and
# `symbol: NO` into false, and rule text must stay text.
TEXT_KEYS = frozenset({
    "symbol", "category", "timeframe", "timezone", "position_mode", "margin_mode", "tpsl_mode",
    "max_order_value", "max_daily_loss", "price_band", "name", "when", "then", "cooldown", "every",
    "at", "cron", "trigger",
})


def span_between(index: LineIndex, start: int, end: int) -> Span:
    """The span of ``text[start:end]``, without the blank lines a block value's end mark takes along."""
    text = index.text
    while end > start + 1 and text[end - 1] in " \t\n":
        end -= 1
    return Span(index.location(start), index.location(end))


def node_span(index: LineIndex, node: yaml.Node) -> Span:
    """Where ``node`` is written."""
    return span_between(index, node.start_mark.index, node.end_mark.index)


class SpanTable(Mapping[str, Span]):
    """Spans by key, made when asked for: a file holds thousands and few are ever read."""

    __slots__ = ("_index", "_ranges")

    def __init__(self, index: LineIndex, nodes: Mapping[str, yaml.Node]) -> None:
        self._index = index
        self._ranges = {key: (node.start_mark.index, node.end_mark.index) for key, node in nodes.items()}

    def __getitem__(self, key: str) -> Span:
        start, end = self._ranges[key]
        return span_between(self._index, start, end)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ranges)

    def __len__(self) -> int:
        return len(self._ranges)

    def __repr__(self) -> str:
        return f"SpanTable({sorted(self._ranges)})"


def scalar_value(node: yaml.ScalarNode, as_text: bool) -> Any:
    """A scalar as YAML types it, or as written (``as_text``); ``None`` for YAML's null."""
    tag = node.tag
    if tag == "tag:yaml.org,2002:null":
        return None
    if as_text or tag == "tag:yaml.org,2002:str":
        return node.value
    try:
        if tag == "tag:yaml.org,2002:int":
            return _CONSTRUCTOR.construct_yaml_int(node)
        if tag == "tag:yaml.org,2002:float":
            return _CONSTRUCTOR.construct_yaml_float(node)
        if tag == "tag:yaml.org,2002:bool":
            return _CONSTRUCTOR.construct_yaml_bool(node)
    except ValueError:
        pass  # e.g. an integer of more digits than Python converts: validation reports the text
    return node.value


def describe(node: yaml.Node | None) -> str:
    """What a node holds, for "found ..." in messages."""
    if node is None:
        return "nothing"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if node.tag == "tag:yaml.org,2002:null":
        return "nothing"
    return values.shown(node.value)


def locate(root: yaml.Node, loc: tuple[Any, ...]) -> tuple[yaml.Node | None, yaml.Node]:
    """The key node and value node that a pydantic error ``loc`` points at (as deep as it exists)."""
    key_node: yaml.Node | None = None
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            found = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part]
            if not found:
                continue
            key_node, node = found[-1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            key_node, node = None, node.value[part]
    return key_node, node


