"""PyYAML's loader as rulebot composes with it, and small helpers over its nodes: their values as
written or typed, their spans, and finding the node a validation error points at."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

import yaml

from rulebot.lang import values
from rulebot.lang.filemodel import Span, new_span
from rulebot.lang.scalarmap import LineIndex
from rulebot.lang.source import new_location

_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Keys whose scalar values are kept as written: YAML 1.1 would turn `at: 8:30` into 510 and
# `symbol: NO` into false, and rule text must stay text.
TEXT_KEYS = frozenset({
    "symbol", "category", "timeframe", "timezone", "position_mode", "margin_mode", "tpsl_mode",
    "max_order_value", "max_daily_loss", "price_band", "name", "when", "then", "cooldown", "every",
    "at", "cron", "trigger",
})


class YamlLoader(_SAFE_LOADER):  # type: ignore[misc, valid-type]
    """PyYAML's safe loader (libyaml's when installed), its resolver calls made cheaper (one per node)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        if not self.yaml_path_resolvers:
            # called for every node, both return at once: builtins taking the same arguments cost less
            self.descend_resolver = slice  # type: ignore[method-assign, assignment]  # (parent, index) -> a slice
            self.ascend_resolver = tuple  # type: ignore[method-assign, assignment]  # () -> ()
            # ``_RESOLVER``'s resolve, not this loader's own: a bound method kept on its instance
            # would make a cycle, and the parser and its buffer would wait for the collector
            self.resolve = _tag_resolver(_RESOLVER.resolve, self.yaml_implicit_resolvers)  # type: ignore[method-assign]


# Without path resolvers (``yaml_path_resolvers``), resolving a tag reads only the class's tables.
_RESOLVER = yaml.resolver.Resolver()
NULL_TAG = "tag:yaml.org,2002:null"


def plain_tag(value: str) -> str:
    """The tag YAML gives the plain (unquoted) scalar ``value``."""
    return str(_RESOLVER.resolve(yaml.ScalarNode, value, (True, False)))


def _tag_resolver(resolve: Callable[[type, Any, tuple[bool, bool]], str],
                  implicit: Mapping[str | None, Any]) -> Callable[[type, Any, tuple[bool, bool]], str]:
    """``resolve`` (with no path resolvers), remembering within one file the tag of each plain scalar.

    The keys (``name``, ``when``, ``then``, ...) come back on every rule, and each was matched
    against the implicit-type patterns (bool, int, float, ...) every time; a plain scalar whose
    first character starts no pattern (``rule 12``) is text without matching any. A closure,
    kept on the loader instance: the composer calls it once per node."""
    plain_tags: dict[str, str] = {}
    firsts = frozenset(key for key in implicit if key)  # '' (null) and None (any) are not first characters
    scalar, text_tag = yaml.ScalarNode, str(_SAFE_LOADER.DEFAULT_SCALAR_TAG)

    def tag_of(kind: type, value: Any, how: tuple[bool, bool]) -> str:
        if kind is not scalar:
            return resolve(kind, value, how)
        if not how[0]:
            return text_tag  # quoted: no implicit type applies
        tag = plain_tags.get(value)
        if tag is None:
            if value and value[0] not in firsts and None not in implicit:
                tag = text_tag
            else:
                tag = resolve(kind, value, how)
            plain_tags[value] = tag
        return tag
    return tag_of


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
        return new_span(new_location(start.line + 1, start.column + 1), new_location(end.line + 1, end.column + 1))
    return span_between(index, start.index, end.index)


class SpanTable(Mapping[str, Span]):
    """Spans by key, made when asked for: a file holds thousands and few are ever read.

    ``offsets`` maps each key to where its key node and its value node start and end in the
    text; one dict serves the key table (``which=0``) and the value table (``which=2``) of a
    mapping. Offsets rather than the nodes: the nodes and their marks are then freed with the
    composed document, not kept (and walked by the cyclic collector) as long as the rules are.
    """

    __slots__ = ("_index", "_offsets", "_which")

    def __init__(self, index: LineIndex, offsets: Mapping[str, tuple[int, int, int, int]], which: int) -> None:
        self._index = index
        self._offsets = offsets
        self._which = which

    def __getitem__(self, key: str) -> Span:
        offsets, which = self._offsets[key], self._which
        return span_between(self._index, offsets[which], offsets[which + 1])

    def __iter__(self) -> Iterator[str]:
        return iter(self._offsets)

    def __len__(self) -> int:
        return len(self._offsets)

    def __repr__(self) -> str:
        return f"SpanTable({sorted(self._offsets)})"


def span_tables(index: LineIndex, pairs: Mapping[str, tuple[yaml.Node, yaml.Node]]) -> tuple[SpanTable, SpanTable]:
    """The key and the value ``SpanTable`` of a mapping's ``pairs`` (two per rule)."""
    offsets = {key: (k.start_mark.index, k.end_mark.index, v.start_mark.index, v.end_mark.index)
               for key, (k, v) in pairs.items()}
    return SpanTable(index, offsets, 0), SpanTable(index, offsets, 2)


def scalar_value(node: yaml.ScalarNode, as_text: bool) -> Any:
    """A scalar as YAML types it, or as written (``as_text``); ``None`` for YAML's null."""
    tag = node.tag
    if tag == NULL_TAG:
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
    if node.tag == NULL_TAG:
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


