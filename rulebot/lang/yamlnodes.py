"""Small helpers over PyYAML nodes: their values as written or typed, their spans, and finding the
node a validation error points at."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import yaml

from rulebot.lang import values
from rulebot.lang.filemodel import Span
from rulebot.lang.scalarmap import LineIndex
from rulebot.lang.source import Location

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
    start, end = node.start_mark, node.end_mark
    if end.index > start.index and index.text[end.index - 1] not in " \t\n":
        # The marks' own lines and columns (0-based, in characters) need no search.
        return Span(Location(start.line + 1, start.column + 1), Location(end.line + 1, end.column + 1))
    return span_between(index, start.index, end.index)


class SpanTable(Mapping[str, Span]):
    """Spans by key, made when asked for: a file holds thousands and few are ever read.

    ``pairs`` maps each key to its (key node, value node), as ``Loader.pairs`` gives them; one dict
    serves the key table (``values=False``) and the value table of a mapping. Only the nodes'
    marks are read, and only when a span is asked for.
    """

    __slots__ = ("_index", "_pairs", "_which")

    def __init__(self, index: LineIndex, pairs: Mapping[str, tuple[yaml.Node, yaml.Node]], values: bool) -> None:
        self._index = index
        self._pairs = pairs
        self._which = 1 if values else 0

    def __getitem__(self, key: str) -> Span:
        node = self._pairs[key][self._which]
        return span_between(self._index, node.start_mark.index, node.end_mark.index)

    def __iter__(self) -> Iterator[str]:
        return iter(self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def __repr__(self) -> str:
        return f"SpanTable({sorted(self._pairs)})"


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


class Locator:
    """Finds the key and value nodes that a pydantic error ``loc`` points at, as deep as they exist.

    Each mapping's keys are indexed once, so thousands of errors in one mapping stay linear.
    """

    def __init__(self) -> None:
        self._entries: dict[int, dict[str, tuple[yaml.Node, yaml.Node]]] = {}

    def entries(self, node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """The mapping's entries by key text (the last of a repeated key, as YAML keeps it)."""
        entries = self._entries.get(id(node))
        if entries is None:
            entries = {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
            self._entries[id(node)] = entries
        return entries

    def locate(self, root: yaml.Node, loc: tuple[Any, ...]) -> tuple[yaml.Node | None, yaml.Node]:
        """The key node (``None`` for a list item) and the value node at ``loc`` under ``root``."""
        key_node: yaml.Node | None = None
        node = root
        for part in loc:
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                found = self.entries(node).get(part)
                if found is not None:
                    key_node, node = found
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                key_node, node = None, node.value[part]
        return key_node, node


