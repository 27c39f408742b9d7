"""The items of ``rules:``: each becomes a ``Rule`` whose texts are ``Source`` objects mapped into
the YAML file, with ``${param}`` substituted and YAML's traps (``: `` and `` #`` in unquoted text)
reported in the author's words."""

from __future__ import annotations

import re
from typing import Any, Collection, Iterable, Mapping, Protocol, Sequence

import yaml

from rulebot.lang import filemodel as fm
from rulebot.lang import values
from rulebot.lang.diagnostics import Severity
from rulebot.lang.scalarmap import LineIndex, scalar_segments
from rulebot.lang.plainrules import PLAIN_KEYS, Entry
from rulebot.lang.source import Location, Source, new_location
from rulebot.lang.yamlnodes import (
    NULL_TAG, TEXT_KEYS, SpanTable, node_span, plain_tag, scalar_value, span_tables,
)
from rulebot.model.enums import TriggerMode

_PARAM = re.compile(r"\$\{([^{}\n]*)\}")
_COMMENT_AFTER = re.compile(r"[ \t]+#")
# Words and signs after which rule text cannot end: a ` #` right after them cut the text short.
_CUT_END = re.compile(
    r"(?:(?<![\w.])(?:and|or|not|then|when|crosses|above|below|between|is|in|limit|tp|sl|trail|"
    r"notify|tag|expire|buy|sell|set)|[<>=!+\-*/,(\[])$", re.IGNORECASE)
_WORD_WHEN = re.compile(r"\bwhen\b", re.IGNORECASE)
_WORD_THEN = re.compile(r"\bthen\b", re.IGNORECASE)
_SCHEDULE_KEYS = ("cooldown", "every", "cron", "at")
_RULE_KEYS = frozenset(fm.RULE_KEYS)  # a rule with only these keys was not read as a mapping by mistake (E109)
_PARAM_EXAMPLES = {"cooldown": "5m", "every": "1h", "cron": "'0 * * * *'", "at": "'08:00'"}


class Host(Protocol):
    """What the rule builder needs from the loader of the file."""

    text: str
    file: str
    index: LineIndex

    def report(self, code: str, span: fm.Span, message: str, hint: str = "",
               severity: Severity = Severity.ERROR) -> None: ...

    def span(self, node: yaml.Node) -> fm.Span: ...

    def pairs(self, node: yaml.MappingNode, where: str) -> dict[str, tuple[yaml.Node, yaml.Node]]: ...

    def value(self, node: yaml.Node, as_text: bool, depth: int) -> Any: ...

    def item_values(self, pairs: dict[str, tuple[yaml.Node, yaml.Node]], keys: Collection[str],
                    depth: int) -> dict[str, Any]: ...

    def validate(self, model: type[fm.BaseModel], partial: type[fm.BaseModel], data: dict[str, Any],
                 node: yaml.MappingNode, head: fm.Span, where: str,
                 missing_hints: Mapping[str, str] | None = None) -> Any: ...


def _scalar_positions(index: LineIndex, start: int, end: int, style: str | None, value: str) -> list[Location]:
    """The file position of each character of the scalar at ``index.text[start:end]``, and of its end."""
    mapped = scalar_segments(index.text, start, end, style, value)
    if mapped is None:
        # A construct the scanner does not follow: every character points at the value's start.
        return [index.location(start)] * (len(value) + 1)
    segments, content_end = mapped
    positions = index.locations(segments)
    positions.append(index.location(content_end))
    return positions


def _substituted_positions(template: Source, runs: list[tuple[int, int, int]]) -> list[Location]:
    """Positions of a substituted text: the template's, a value's all at its ``${``."""
    positions: list[Location] = []
    for start, end, width in runs:
        if width < 0:
            positions.extend(template.positions[start:end])
        else:
            positions.extend([template.positions[start]] * width)
    return positions


def _plain_fields(data: dict[str, Any], durations: dict[str, int | None]) -> tuple[Any, ...] | None:
    """The fields of a rule item that is plainly valid, exactly as ``RuleItemModel`` reads them;
    ``None`` when it might not be (pydantic then validates it and says what is wrong).

    Most items are texts and a duration: validating them through pydantic took a fifth of a load.
    ``durations`` holds the durations read so far in the file (``cooldown: 5m`` comes back often)."""
    if not PLAIN_KEYS.issuperset(data):
        return None
    name, when, then = data.get("name"), data.get("when"), data.get("then")
    if not isinstance(then, str) or ("when" in data and not isinstance(when, str)) or \
            ("name" in data and not (isinstance(name, str) and name.strip())):
        return None
    cooldown = every = None
    if "cooldown" in data:
        cooldown = _seconds(data["cooldown"], durations)
        if cooldown is None:
            return None
    if "every" in data:
        every = _seconds(data["every"], durations)
        if every is None or every < 1:
            return None
    trigger, enabled, priority = data.get("trigger", "edge"), data.get("enabled", True), data.get("priority", 0)
    # as pydantic reads them: a trigger word in any case, a bool, an int that is not a bool
    if not isinstance(trigger, str) or trigger.strip().lower() not in _TRIGGERS or \
            enabled.__class__ is not bool or priority.__class__ is not int:
        return None
    return name, when, then, cooldown, every, (), None, _TRIGGERS[trigger.strip().lower()], enabled, priority


_TRIGGERS = {mode.value: mode for mode in TriggerMode}


def _seconds(value: Any, durations: dict[str, int | None]) -> int | None:
    """The duration ``value`` in seconds, as ``filemodel`` reads it; ``None`` if it is not one."""
    if not isinstance(value, str):
        return None
    if value not in durations:
        try:
            durations[value] = values.parse_duration(value)
        except ValueError:  # ValueProblem, or one the validator meets too: pydantic reports it
            durations[value] = None
    return durations[value]


def plain_fields(items: Sequence[Mapping[str, Entry]]) -> list[tuple[Any, ...]] | None:
    """``_plain_fields`` of each item of a list read in the plain form (``plainrules``); ``None``
    when one of them is not plainly valid (then the file is composed and validated as usual)."""
    durations: dict[str, int | None] = {}
    found = []
    for item in items:
        fields = _plain_fields({key: _typed(key, entry) for key, entry in item.items()}, durations)
        if fields is None:
            return None
        found.append(fields)
    return found


def _typed(key: str, entry: Entry) -> Any:
    """An entry's value as the loader reads it from a node: as written under the text keys,
    typed by YAML (``enabled: false``, ``priority: 2``) under the others."""
    if key in TEXT_KEYS or entry.style:  # a quoted value is text
        return entry.value
    return scalar_value(yaml.ScalarNode(plain_tag(entry.value), entry.value), False)


class RuleBuilder:
    """Turns the nodes of ``rules:`` into ``Rule``s, reporting through ``host``."""

    def __init__(self, host: Host, params: Mapping[str, fm.Param], invalid_params: set[str]) -> None:
        self.host = host
        self.params = params
        self.invalid_params = invalid_params
        self._durations: dict[str, int | None] = {}

    def build(self, items: list[yaml.Node]) -> tuple[fm.Rule, ...]:
        """One ``Rule`` per readable item, in file order; reports duplicate names."""
        return self._named(self._mapping(index, node) if isinstance(node, yaml.MappingNode) else self._other(index, node)
                           for index, node in enumerate(items))

    def build_plain(self, items: Sequence[Mapping[str, Entry]], fields: Sequence[tuple[Any, ...]]) -> tuple[fm.Rule, ...]:
        """``build`` for a list read in the plain form (``plainrules``), with each item's fields
        as ``plain_fields`` read them."""
        return self._named(self._plain(index, item, read) for index, (item, read) in enumerate(zip(items, fields)))

    def _named(self, made: Iterable[fm.Rule | None]) -> tuple[fm.Rule, ...]:
        """The rules made, in order, reporting each name given twice."""
        rules: list[fm.Rule] = []
        seen: dict[str, fm.Rule] = {}
        for rule in made:
            if rule is None:
                continue
            first = seen.get(rule.name)
            if first is not None:
                hint = f"the first rule named so is on line {first.span.start.line}; names must be unique in a file"
                self.host.report("E111", rule.name_span or rule.span, f"a second rule is named '{rule.name}'", hint)
            else:
                seen[rule.name] = rule
            rules.append(rule)
        return tuple(rules)

    def _other(self, index: int, node: yaml.Node) -> fm.Rule | None:
        number = index + 1
        if not isinstance(node, yaml.ScalarNode):
            self.host.report("E104", self.host.span(node), f"rule {number} must be rule text or a mapping, found a list",
                             "write '- when ... then ...' or a mapping with 'when:' and 'then:'")
            return None
        if node.tag == NULL_TAG or not node.value.strip():
            self.host.report("E104", self._item_span(node), f"rule {number} is empty",
                             "write the rule after '- ', or remove the empty item")
            return None
        uses: list[fm.ParamUse] = []
        template = self.text_source(node, "line")
        line = self._substitute("line", template, uses)
        return fm.Rule(index=index, name=f"rule {number}", name_span=None, span=self.host.span(node), line=line,
                       templates={"line": template}, param_uses=tuple(uses))

    def _mapping(self, index: int, node: yaml.MappingNode) -> fm.Rule | None:
        host = self.host
        pairs = host.pairs(node, f"rule {index + 1}")
        if not pairs:
            host.report("E104", host.span(node), f"rule {index + 1} is empty",
                        "write 'when:' and 'then:' in it, or remove it")
            return None
        if not _RULE_KEYS.issuperset(pairs) and self._read_as_mapping(index, pairs):
            return None
        data = host.item_values(pairs, _RULE_KEYS, 3)
        named = isinstance(data.get("name"), str) and data["name"].strip() != ""
        head = node_span(host.index, pairs["name"][1] if named else next(iter(pairs.values()))[0])
        uses: list[fm.ParamUse] = []
        for key in _SCHEDULE_KEYS:
            value = data.get(key)
            if isinstance(value, list) or (isinstance(value, str) and "${" in value):
                used = len(uses)
                data[key] = self._substitute_value(value, pairs[key][1], key, uses)
                if len(uses) > used and any(not use.declared for use in uses[used:]):
                    del data[key]  # already reported as E112; reading the value would only repeat it
        fields = _plain_fields(data, self._durations)
        if fields is None:
            fields = self._validated(index, node, pairs, data, named, head)
            if fields is None:
                return None
        texts: dict[str, Source] = {}
        when = then = None
        if isinstance(fields[1], str):
            when = self._text("when", self.text_source(pairs["when"][1], "when"), texts, uses)
        if isinstance(fields[2], str):
            then = self._text("then", self.text_source(pairs["then"][1], "then"), texts, uses)
        return self._rule(index, named, head, fields, when, then, texts, uses, span_tables(host.index, pairs))

    def _plain(self, index: int, item: Mapping[str, Entry], fields: tuple[Any, ...]) -> fm.Rule:
        """``_mapping`` for an item read in the plain form: its values are texts, its fields plainly
        valid, and no comment follows a value (so W107 has nothing to say)."""
        named = fields[0] is not None  # ``plain_fields`` let a name through only if it is not blank
        entry = item["name"] if named else next(iter(item.values()))
        start, end = (entry.value_start, entry.value_end) if named else (entry.key_start, entry.key_end)
        before = entry.line_start - 1  # columns count from 1
        head = fm.new_span(new_location(entry.line, start - before), new_location(entry.line, end - before))
        texts: dict[str, Source] = {}
        uses: list[fm.ParamUse] = []
        when = self._text("when", self._entry_source(item["when"]), texts, uses) if fields[1] is not None else None
        then = self._text("then", self._entry_source(item["then"]), texts, uses)
        offsets = {key: (e.key_start, e.key_end, e.value_start, e.value_end) for key, e in item.items()}
        spans = (SpanTable(self.host.index, offsets, 0), SpanTable(self.host.index, offsets, 2))
        return self._rule(index, named, head, fields, when, then, texts, uses, spans)

    def _entry_source(self, entry: Entry) -> Source:
        """``text_source`` of a value read in the plain form."""
        return self._source_at(entry.value, entry.value_start, entry.value_end, entry.style)

    def _text(self, field: str, template: Source, texts: dict[str, Source], uses: list[fm.ParamUse]) -> Source:
        """A rule text: kept as written in ``texts``, given with its ``${param}``s substituted."""
        texts[field] = template
        return self._substitute(field, template, uses)

    @staticmethod
    def _rule(index: int, named: bool, head: fm.Span, fields: tuple[Any, ...], when: Source | None,
              then: Source | None, texts: dict[str, Source], uses: list[fm.ParamUse],
              spans: tuple[SpanTable, SpanTable]) -> fm.Rule:
        name, _, _, cooldown, every, at, cron, trigger, enabled, priority = fields
        return fm.new_rule(index, name.strip() if named else f"rule {index + 1}", head if named else None, head,
                           when, then, None, texts, tuple(uses), cooldown, every, at, cron, trigger, enabled,
                           priority, *spans)

    def _validated(self, index: int, node: yaml.MappingNode, pairs: dict[str, tuple[yaml.Node, yaml.Node]],
                   data: dict[str, Any], named: bool, head: fm.Span) -> tuple[Any, ...] | None:
        """The item's fields through ``RuleItemModel``, reporting what is invalid; ``None`` if unreadable."""
        host = self.host
        where = f"rule '{data['name'].strip()}'" if named else f"rule {index + 1}"
        when = data.get("when")
        hints = {"then": "the `then` part is inside `when`: put it on its own line as 'then: ...'"} \
            if isinstance(when, str) and "then" in when.lower() and _WORD_THEN.search(when) else None
        model = host.validate(fm.RuleItemModel, fm.PartialRuleItemModel, data, node, head, where, hints)
        if model is None:
            return None
        then_node = pairs["then"][1] if "then" in pairs else None
        if isinstance(then_node, yaml.ScalarNode) and then_node.tag == NULL_TAG:
            host.report("E106", host.span(pairs["then"][0]), f"the `then` of {where} is empty",
                        "write the actions after 'then:', e.g. 'then: close market'")
        if model.name is not None and not model.name.strip():
            host.report("E108", host.span(pairs["name"][1]), "`name` is empty",
                        "give the rule a name, or remove the line to use the default")
        return (model.name, model.when, model.then, model.cooldown, model.every, model.at, model.cron,
                model.trigger, model.enabled, model.priority)

    def _read_as_mapping(self, index: int, pairs: dict[str, tuple[yaml.Node, yaml.Node]]) -> bool:
        """E109: an unquoted rule with ': ' in it, which YAML read as a mapping (``when x: y``)."""
        for key, (key_node, value_node) in pairs.items():
            if key not in fm.RULE_KEYS and key.strip().lower().startswith(("when ", "then ")):
                text = self.host.text
                written = text[key_node.start_mark.index:value_node.end_mark.index]
                if "\n" in written or not isinstance(value_node, yaml.ScalarNode):
                    written = key + ": …"
                quoted = "'" + written.replace("'", "''") + "'"
                self.host.report("E109", self.host.span(key_node),
                                 f"YAML read rule {index + 1} as a mapping because of the ': ' in it",
                                 f"quote the whole rule: - {quoted}")
                return True
        return False

    def text_source(self, node: yaml.ScalarNode, field: str, rule_text: bool = True) -> Source:
        """The node's value with the file position of each character; for rule text, warns when ` #` cut it short."""
        if rule_text and not node.style:
            self._check_comment(node, field)
        return self._source_at(node.value, node.start_mark.index, node.end_mark.index, node.style)

    def _source_at(self, value: str, start: int, end: int, style: str | None) -> Source:
        """The scalar ``value``, written in ``style`` from ``start`` to ``end`` of the file, as a
        ``Source``. Its map is made only if a diagnostic or explain asks for it (most rules never do)."""
        host = self.host
        return Source.deferred(host.file, value, _scalar_positions, host.index, start, end, style, value)

    def _check_comment(self, node: yaml.ScalarNode, field: str) -> None:
        """W107: an unquoted rule text that YAML cut at ' #', when what is left cannot be a whole rule."""
        text = self.host.text
        end = node.end_mark.index
        line_end = text.find("\n", end)
        rest = text[end:line_end if line_end >= 0 else len(text)]
        match = _COMMENT_AFTER.match(rest)
        if match is None:
            return
        comment = rest[match.end() - 1:].rstrip()
        kept = node.value.rstrip()
        cut = bool(_CUT_END.search(kept)) or kept.count('"') % 2 == 1 \
            or kept.count("(") > kept.count(")") or kept.count("[") > kept.count("]") \
            or (field == "line" and _WORD_WHEN.search(kept) is not None
                and _WORD_THEN.search(kept) is None and _WORD_THEN.search(comment) is not None)
        if not cut:
            return
        hash_at = end + match.end() - 1
        span = fm.Span(self.host.index.location(hash_at), self.host.index.location(hash_at + len(comment)))
        hint = "quote the whole text: " + ("'" + (kept + rest).rstrip().replace("'", "''") + "'"
                                           if "\n" not in node.value else "'...'")
        self.host.report("W107", span, "YAML reads ' #' as the start of a comment, which cuts this rule text short",
                         hint, Severity.WARNING)

    def _substitute(self, field: str, template: Source, uses: list[fm.ParamUse]) -> Source:
        """``template`` with each ``${name}`` replaced by the parameter's text, mapped to the ``${``."""
        text = template.text
        if "${" not in text:
            return template
        pieces: list[str] = []
        # (start, end, width) of the template: its own characters (width < 0), or the `${` that
        # ``width`` characters of a value stand for
        runs: list[tuple[int, int, int]] = []
        last = 0
        for match in _PARAM.finditer(text):
            name = match.group(1).strip()
            pieces.append(text[last:match.start()])
            runs.append((last, match.start(), -1))
            param = self.params.get(name)
            if param is not None:
                value = param.text
            else:
                value = match.group(0)
                if name not in self.invalid_params:
                    self._undeclared(template, match.start(), match.end(), name, field)
            uses.append(fm.ParamUse(field, name, match.start(), match.end(), param is not None))
            pieces.append(value)
            runs.append((match.start(), match.start(), len(value)))
            last = match.end()
        pieces.append(text[last:])
        runs.append((last, len(text) + 1, -1))
        return Source.deferred(template.file, "".join(pieces), _substituted_positions, template, runs)

    def _undeclared(self, source: Source, start: int, end: int, name: str, field: str) -> None:
        if name.isidentifier():
            message = f"the parameter '{name}' is not declared"
            # a value the key it stands in accepts; in actions a small one, as it may be a quantity
            in_actions = field == "then" or (field == "line" and _WORD_THEN.search(source.text, 0, start) is not None)
            example = _PARAM_EXAMPLES.get(field, "0.01" if in_actions else "30")
            hint = values.suggest(name, list(self.params)) or \
                f"declare it under 'params:', e.g. params: {{{name}: {example}}}"
        else:
            message = f"{values.shown(source.text[start:end])} is not a parameter reference"
            hint = "write ${name} with a declared parameter name"
        last = source.location(end - 1)
        self.host.report("E112", fm.Span(source.location(start), Location(last.line, last.column + 1)), message, hint)

    def _substitute_value(self, value: Any, node: yaml.Node, field: str, uses: list[fm.ParamUse]) -> Any:
        """``${name}`` in a schedule value (``cooldown: ${cd}``), substituted before validation."""
        if isinstance(value, str) and "${" in value and isinstance(node, yaml.ScalarNode):
            return self._substitute(field, self.text_source(node, field, rule_text=False), uses).text
        if isinstance(value, list) and isinstance(node, yaml.SequenceNode):
            return [self._substitute_value(v, n, field, uses) for v, n in zip(value, node.value)]
        return value

    def _item_span(self, node: yaml.Node) -> fm.Span:
        # An empty item's node has no width; point at the '- ' before it.
        text = self.host.text
        at = node.start_mark.index
        dash = text.rfind("-", 0, at + 1)
        if dash >= 0 and text[dash:at].strip(" -\t") == "":
            at = dash
        start = self.host.index.location(at)
        return fm.Span(start, Location(start.line, start.column + 1))
