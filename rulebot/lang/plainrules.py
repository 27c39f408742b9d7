"""A file's `rules:` list in the plain form, read line by line without composing it as YAML.

Most rule files end with their list of rules, each a few ``key: value`` lines. Composing them
with PyYAML made two nodes, four marks and a resolver call per line: half of a load. When every
line of the list is in the plain form below, ``read_plain_rules`` reads the list itself and the
loader has PyYAML compose only the text before it; otherwise (or when anything is in doubt) the
whole file is composed, as always. Both ways give the same rules and the same diagnostics
(``tests/lang/test_plain_rules.py`` compares them on random files).

The plain form, chosen so that YAML can read it only one way:

* a text ending with a line break (the loader makes every line break a newline); a line
  ``rules:`` (nothing after the colon), then to the end of the file only items, blank lines and
  comment lines;
* each item starts ``- key: value`` with its dash at the same indentation as every other item,
  and goes on with ``key: value`` lines two columns further in;
* each key is one of ``name``, ``when``, ``then``, ``cooldown``, ``every``, ``trigger``,
  ``enabled`` and ``priority``, at most once per item; each value is on its key's line:
  single-quoted, double-quoted without a backslash, or plain (no indicator first, no ``': '``,
  no ``' #'``, no blank but the space), and not YAML's null; positions count characters, as
  libyaml's marks do;
* nothing follows a value but spaces: no comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import yaml

from rulebot.lang.yamlnodes import NULL_TAG, YamlLoader, plain_tag

PLAIN_KEYS = frozenset(("name", "when", "then", "cooldown", "every", "trigger", "enabled", "priority"))
"""The keys of an item in the plain form."""

_RULES_KEY = re.compile(r"^rules:[ ]*\n", re.MULTILINE)
# A plain scalar: not starting with an indicator or a blank; no ': ', no ' #', no blank at its end.
# Runs are possessive (``++``): a character-by-character alternation cost as much as composing.
_PLAIN = r"[^-?:,\[\]{}#&*!|>'\"%@`\s](?:[^\s:#]++|:(?=\S)|#|[ ]++(?=[^\s#]))*+"
_LINE = re.compile(
    r"[ ]*+(?:#[^\n]*+)?\n"  # a blank line, or a comment alone on its line
    r"|(?P<indent>[ ]*+)(?P<dash>- )?(?P<key>[a-z]++): ++"
    r"(?P<value>'[^'\n]*+(?:''[^'\n]*+)*+'|\"[^\"\\\n]*+\"|" + _PLAIN + r")[ ]*+(?:\n|\Z)")
# the first characters of the plain scalars that YAML reads as null (``~``, ``null``, ...)
_NULL_FIRSTS = frozenset(first for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
                         if any(tag == NULL_TAG for tag, _ in resolvers))


class Entry(NamedTuple):
    """One ``key: value`` line of an item: where the key and the value stand, and the value as
    YAML reads it, with PyYAML's style (``''`` plain, ``"'"`` or ``'"'``)."""

    key_start: int
    key_end: int
    value_start: int
    value_end: int
    value: str
    style: str
    line: int  # 1-based
    line_start: int  # the index of the line's first character


@dataclass(frozen=True, slots=True)
class PlainRules:
    """A `rules:` list in the plain form: PyYAML composes ``text[:header_end]`` (which ends with
    the ``rules:`` line); the list starts at ``start`` and runs to the end of the text."""

    header_end: int
    start: int
    items: tuple[dict[str, Entry], ...]


def read_plain_rules(text: str) -> PlainRules | None:
    """The `rules:` list of ``text`` if every line of it is in the plain form; ``None`` otherwise."""
    if not text.endswith("\n"):
        return None  # (libyaml ends a list at the end of a last line without a break one line further on)
    found = list(_RULES_KEY.finditer(text))
    if len(found) != 1:
        return None
    header_end = pos = found[0].end()
    line = text.count("\n", 0, pos) + 1
    items: list[dict[str, Entry]] = []
    item: dict[str, Entry] = {}
    dash_at = -1
    start = -1
    match, end = _LINE.match, len(text)
    while pos < end:
        m = match(text, pos)
        if m is None:
            return None
        indent, dash, key, written = m.groups()
        if key is not None:
            if dash is not None:
                if dash_at < 0:
                    dash_at, start = len(indent), pos + len(indent)
                elif len(indent) != dash_at:
                    return None
                item = {}
                items.append(item)
            elif not items or len(indent) != dash_at + 2:
                return None
            if key not in PLAIN_KEYS or key in item:
                return None
            key_start = pos + dash_at + 2  # after the dash, or as far in as the keys after it
            entry = _entry(written, key_start, key_start + len(key), m.span("value"), line, pos)
            if entry is None:
                return None
            item[key] = entry
        pos = m.end()
        line += 1
    if not items:
        return None
    return PlainRules(header_end, start, tuple(items))


def _entry(written: str, key_start: int, key_end: int, where: tuple[int, int], line: int,
           line_start: int) -> Entry | None:
    quote = written[0]
    if quote == "'":
        value, style = written[1:-1].replace("''", "'"), "'"
    elif quote == '"':
        value, style = written[1:-1], '"'
    elif quote in _NULL_FIRSTS and plain_tag(written) == NULL_TAG:
        return None  # `when: null` is no text: the validation says so
    else:
        value, style = written, ""
    return _new_entry(Entry, (key_start, key_end, where[0], where[1], value, style, line, line_start))


_new_entry = tuple.__new__  # as Entry(...), without its Python __new__: four per rule


def compose_header(text: str, plain: PlainRules) -> yaml.MappingNode | None:
    """The file composed up to its plain list: a mapping whose last key is ``rules``, with no
    value yet. ``None`` when the text before the list does not compose so on its own (an
    error, or a ``rules:`` line inside some other value): then the whole file is composed."""
    try:
        root = yaml.compose(text[:plain.header_end], Loader=YamlLoader)
    except (yaml.YAMLError, RecursionError):
        return None
    if not isinstance(root, yaml.MappingNode) or not root.value:
        return None
    key, value = root.value[-1]
    if isinstance(key, yaml.ScalarNode) and key.value == "rules" and not key.style and \
            isinstance(value, yaml.ScalarNode) and value.tag == NULL_TAG and not value.value:
        return root
    return None
