"""Read a rule file: YAML with positions, validated against ``filemodel``, rule texts as ``Source``.

``load_file`` and ``load_text`` never raise for any input: every problem is a diagnostic with the
file line and column of the value or key it is about. The YAML is composed with PyYAML's libyaml
``compose``: node marks, and no Python object is ever built from a tag. On 2,000 rules it took
40 ms where ruamel.yaml's round-trip loader took 1.2 s (``benchmarks/yaml_loaders.py``). A list
of rules written in the plain form is read line by line instead (``plainrules.py``), to the same
rules and diagnostics.
"""

from __future__ import annotations

import gc
import os
import re
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Iterator, Mapping

import yaml
from pydantic import ValidationError

from rulebot.lang import filemodel as fm
from rulebot.lang import values
from rulebot.lang.diagnostics import Diagnostic, Severity, at_location
from rulebot.lang.plainrules import compose_header, read_plain_rules
from rulebot.lang.ruleitems import RuleBuilder, plain_fields
from rulebot.lang.scalarmap import LineIndex
from rulebot.lang.source import Location
from rulebot.lang.yaml_slips import yaml_problem_near_rule
from rulebot.lang.yamlproblems import YAML_PROBLEMS
from rulebot.lang.yamlnodes import (
    NULL_TAG, TEXT_KEYS, Locator, YamlLoader, describe, node_span, scalar_value, span_between,
)

# A 2,000-rule file is 250 kB; past 1 MB (8,000 rules) a load takes seconds, which no real file needs.
MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_DIAGNOSTICS = 200  # past this, a file is not worth reading on (and a hostile one stays fast)
_ALIAS_ALLOWANCE = 10_000  # node visits allowed beyond twice the distinct nodes, before aliases count as a bomb
_SIZE_HINT = f"rulebot reads rule files up to {MAX_BYTES // (1024 * 1024)} MB (about 8,000 rules)"
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
_DECIMAL = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_BREAKS = re.compile("\r\n?|[\x85\u2028\u2029]")
_PLAIN_ASCII = bytes(range(0x20, 0x7f)) + b"\t\n\r"
_SCALAR = yaml.ScalarNode


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What loading a file gave: its lines (for excerpts), the rules when readable, the diagnostics."""

    file: str
    lines: tuple[str, ...]
    rule_file: fm.RuleFile | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def has_errors(self) -> bool:
        """Whether any diagnostic is an error (a file with errors must not be run)."""
        return any(d.is_error for d in self.diagnostics)


class _Abort(Exception):
    """Stops loading after a diagnostic that leaves nothing further to read."""


def load_file(path: str | Path, *, display_name: str | None = None,
              overrides: Mapping[str, str] | None = None) -> LoadResult:
    """Load the rule file at ``path``; diagnostics name it ``display_name`` (default: the path)."""
    name = display_name if display_name is not None else str(path)
    data = _read_bytes(Path(path), name)
    if isinstance(data, Diagnostic):
        return LoadResult(name, (), None, (data,))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _unreadable(name, "the file is UTF-16 text", "save it as UTF-8")
    if b"\x00" in data:
        return _unreadable(name, "the file is binary, not text (it holds NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = len(data[data.rfind(b"\n", 0, error.start) + 1:error.start].decode("utf-8", "replace")) + 1
        diagnostic = at_location("E101", Severity.ERROR, name, Location(line, column), None,
                                 f"the file is not UTF-8 text (byte 0x{data[error.start]:02x})",
                                 "save the file as UTF-8")
        return LoadResult(name, (), None, (diagnostic,))
    return load_text(text, name, overrides=overrides)


def load_text(text: str, file: str, *, overrides: Mapping[str, str] | None = None) -> LoadResult:
    """Load rule-file ``text``; ``overrides`` replace declared ``params`` values (``backtest --vary``)."""
    if len(text) > MAX_BYTES:
        return _unreadable(file, f"the file is {len(text) / 1e6:.1f} million characters long", _SIZE_HINT)
    text = text.removeprefix("\ufeff")
    ascii_text = text.isascii()
    if "\r" in text or not ascii_text:  # the other line breaks are not ASCII
        text = _BREAKS.sub("\n", text)
    lines = tuple(text.split("\n"))
    # An ASCII file is plain text when deleting its printable characters, tabs and line breaks
    # leaves nothing: one pass in C, ten times quicker than the search, which then finds the culprit.
    clean = ascii_text and not text.encode("ascii").translate(None, _PLAIN_ASCII)
    bad = None if clean else _NOT_TEXT.search(text)
    if bad is not None:
        index = LineIndex(text)
        what = "binary, not text (it holds NUL bytes)" if bad.group() == "\x00" else \
            f"not plain text (it holds the control character U+{ord(bad.group()):04X})"
        diagnostic = at_location("E101", Severity.ERROR, file, index.location(bad.start()), None,
                                 f"the file is {what}")
        return LoadResult(file, lines, None, (diagnostic,))
    loader = _Loader(text, file)
    rule_file = None
    with collection_paused():
        try:
            rule_file = loader.load(overrides or {})
        except _Abort:
            pass
    diagnostics = sorted(loader.diagnostics, key=lambda d: (d.line, d.column))
    return LoadResult(file, lines, rule_file, tuple(diagnostics))


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while one file is read (and, in lint, parsed and checked).

    Reading a file makes tens of thousands of small objects (nodes, spans, values) and none of
    them form cycles; the collector's repeated passes over the growing heap took 40% of a load
    (benchmarks/yaml_loaders.py). A file is at most ``MAX_BYTES``, so what is made meanwhile is
    bounded. It is resumed at once, and left alone when the application has turned it off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_bytes(path: Path, name: str) -> bytes | Diagnostic:
    start = Location(1, 1)
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return at_location("E101", Severity.ERROR, name, start, None, "not a regular file")
            if info.st_size > MAX_BYTES:
                return _too_large(name, info.st_size)
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        return at_location("E101", Severity.ERROR, name, start, None, f"cannot read the file: {reason}")
    if len(data) > MAX_BYTES:
        return _too_large(name, len(data))
    return data


def _too_large(name: str, size: int) -> Diagnostic:
    return at_location("E101", Severity.ERROR, name, Location(1, 1), None,
                       f"the file is {size / (1024 * 1024):.1f} MB", _SIZE_HINT)


def _unreadable(name: str, message: str, hint: str = "") -> LoadResult:
    diagnostic = at_location("E101", Severity.ERROR, name, Location(1, 1), None, message, hint)
    return LoadResult(name, (), None, (diagnostic,))


class _Loader:
    """One load of one file: the text, its line index, and the diagnostics found so far."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.index = LineIndex(text)
        self.diagnostics: list[Diagnostic] = []
        self._visits = 0
        self._distinct: set[int] = set()
        self._open: set[int] = set()
        self._locator = Locator()

    def report(self, code: str, span: fm.Span, message: str, hint: str = "",
               severity: Severity = Severity.ERROR) -> None:
        """Record a diagnostic; stop loading once there are ``MAX_DIAGNOSTICS``, saying so in the last hint."""
        if len(self.diagnostics) + 1 == MAX_DIAGNOSTICS:
            hint = (hint + "; " if hint else "") + f"rulebot stopped reading the file here, after {MAX_DIAGNOSTICS} problems"
        self.diagnostics.append(at_location(code, severity, self.file, span.start, span.end, message, hint))
        if len(self.diagnostics) >= MAX_DIAGNOSTICS:
            raise _Abort

    def span(self, node: yaml.Node) -> fm.Span:
        return node_span(self.index, node)

    def load(self, overrides: Mapping[str, str]) -> fm.RuleFile | None:
        # A list of rules in the plain form is read without composing it (``plainrules``).
        plain = read_plain_rules(self.text)
        fields = plain_fields(plain.items) if plain is not None else None
        root = compose_header(self.text, plain) if plain is not None and fields is not None else None
        if root is None:
            plain = None
            root = self._compose()
        head = fm.Span(Location(1, 1), Location(1, 2))
        if root is None or (isinstance(root, yaml.ScalarNode) and root.tag.endswith(":null")):
            what = "is empty" if not self.text.strip() else "holds no settings and no rules"
            self.report("E102", head, f"the file {what}", "start with 'symbol: BTCUSDT' and a list of 'rules:'")
            return None
        if not isinstance(root, yaml.MappingNode):
            self.report("E104", self.span(root), f"the file must be a mapping of settings, found {describe(root)}",
                        "write 'key: value' lines: symbol, settings, risk, rules, ...")
            return None
        pairs = self.pairs(root, "the file")
        if pairs:
            head = self.span(next(iter(pairs.values()))[0])
        # Unknown keys are reported, not read: their values are never walked, whatever they hold.
        data = {key: self.value(value, key in TEXT_KEYS, 1) if key in fm.FILE_KEYS else None
                for key, (_, value) in pairs.items() if key != "rules"}
        rules_node = pairs.get("rules", (None, None))[1]
        if plain is not None or isinstance(rules_node, yaml.SequenceNode):
            data["rules"] = []
        elif rules_node is not None:
            data["rules"] = self.value(rules_node, True, 1)
        model = self.validate(fm.FileModel, fm.PartialFileModel, data, root, head, "the file")
        if model is None:
            return None
        key_spans, value_spans = self._spans(pairs)
        params = self._params(model, pairs, overrides, head)
        params_node = pairs.get("params", (None, None))[1]
        declared = set(self.pairs_quiet(params_node)) if isinstance(params_node, yaml.MappingNode) else set()
        builder = RuleBuilder(self, params, declared - set(params))
        if plain is not None and fields is not None:
            value_spans["rules"] = span_between(self.index, plain.start, len(self.text))  # as the list's node
            rules = builder.build_plain(plain.items, fields)
        else:
            rules = builder.build(rules_node.value if isinstance(rules_node, yaml.SequenceNode) else [])
        return fm.RuleFile(self.file, model.symbol, model.category, model.timeframe, model.timezone,
                           model.settings, model.risk, params, rules, head, key_spans, value_spans)

    def _compose(self) -> yaml.Node | None:
        try:
            return yaml.compose(self.text, Loader=YamlLoader)
        except yaml.MarkedYAMLError as error:
            # libyaml notices a key without ':' only at the next token; the key is where its context starts
            simple_key = error.context == "while scanning a simple key" and error.context_mark is not None
            mark = error.context_mark if simple_key else (error.problem_mark or error.context_mark)
            location = Location(mark.line + 1, mark.column + 1) if mark else Location(1, 1)
            problem = error.problem or error.context or "unreadable YAML"
            if mark is not None and self.text[mark.index:mark.index + 1] == "\t":
                problem = "found a tab character"  # libyaml says only "cannot start any token"
            message, hint = f"invalid YAML: {problem}", ""
            context_line = error.context_mark.line + 1 if error.context_mark is not None else location.line
            for needle, said, fix in YAML_PROBLEMS:
                if needle in f"{error.context} {problem}":
                    message, hint = said, fix.replace("{context_line}", str(context_line))
                    break
            if error.context and "quoted" in error.context:
                hint = f"close the quote opened on line {context_line}"
            lines = self.text.split("\n")
            slip = None if "tab" in problem else yaml_problem_near_rule(lines, location.line, context_line)
            if slip is not None:
                location, message, hint = Location(slip.line, slip.column), slip.message, slip.hint
            self.report("E103", fm.Span(location, Location(location.line, location.column + 1)), message, hint)
        except yaml.YAMLError as error:
            self.report("E103", fm.Span(Location(1, 1), Location(1, 2)), f"invalid YAML: {error}")
        except RecursionError:
            # Only the pure-Python composer recurses; libyaml stops at its own depth limit.
            self.report("E103", fm.Span(Location(1, 1), Location(1, 2)), "the file nests values too deeply")
        raise _Abort

    def _refuse(self, node: yaml.Node, depth: int) -> None:
        """Reports the guard that ``value`` found broken for ``node``: depth, alias cycles or alias bombs."""
        if depth > MAX_DEPTH:
            self.report("E103", self.span(node), f"the file nests values more than {MAX_DEPTH} levels deep")
            raise _Abort
        if id(node) in self._open:
            self.report("E103", self.span(node), "a YAML alias refers to the value that contains it",
                        "write the value out instead of using '*' aliases")
            raise _Abort
        if self._visits > 2 * len(self._distinct) + _ALIAS_ALLOWANCE:
            self.report("E103", self.span(node), "YAML aliases in this file repeat values too many times",
                        "write the values out instead of using '*' aliases")
            raise _Abort

    def pairs(self, node: yaml.MappingNode, where: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """A mapping's entries by key text; reports duplicate and non-word keys."""
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for pair in node.value:  # the composer's own (key, value) tuples, kept as they are
            key_node = pair[0]
            if not isinstance(key_node, yaml.ScalarNode):
                self.report("E105", self.span(key_node), f"a key must be a word, found {describe(key_node)}")
                continue
            key = key_node.value
            if key in out:
                first = out[key][0].start_mark.line + 1
                self.report("E118", self.span(key_node), f"`{key}` is given twice in {where}",
                            f"the first is on line {first}; keep one of them")
            out[key] = pair
        return out

    def value(self, node: yaml.Node, as_text: bool, depth: int) -> Any:
        """The Python value of ``node`` for validation; scalars under ``as_text`` keep the text written."""
        self._visits += 1  # the guards of every node walked, tested inline (a call less per node)
        node_id = id(node)
        self._distinct.add(node_id)
        if depth > MAX_DEPTH or node_id in self._open or self._visits > 2 * len(self._distinct) + _ALIAS_ALLOWANCE:
            self._refuse(node, depth)
        if isinstance(node, yaml.ScalarNode):
            return scalar_value(node, as_text)
        self._open.add(node_id)
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.value(item, as_text, depth + 1) for item in node.value]
            return {key: self.value(value, key in TEXT_KEYS, depth + 1)
                    for key, (_, value) in self.pairs(node, "one mapping").items()}
        finally:
            self._open.discard(node_id)

    def item_values(self, pairs: dict[str, tuple[yaml.Node, yaml.Node]], keys: Collection[str],
                    depth: int) -> dict[str, Any]:
        """``value`` of each entry whose key is in ``keys`` (``None`` for the others), as validation reads them.

        A rule's entries are mostly text scalars: those are read here, with the guards ``value``
        applies to every node, without its two calls per scalar."""
        data: dict[str, Any] = {}
        distinct = self._distinct
        for key, (_, node) in pairs.items():
            if key not in keys:
                data[key] = None
            elif node.__class__ is _SCALAR and key in TEXT_KEYS:
                # a scalar is never open and ``depth`` is the item's own: only the alias guard applies
                self._visits += 1
                distinct.add(id(node))
                if self._visits > 2 * len(distinct) + _ALIAS_ALLOWANCE:
                    self._refuse(node, depth)
                data[key] = None if node.tag == NULL_TAG else node.value
            else:
                data[key] = self.value(node, key in TEXT_KEYS, depth)
        return data

    def validate(self, model: type[fm.BaseModel], partial: type[fm.BaseModel], data: dict[str, Any],
                 node: yaml.MappingNode, head: fm.Span, where: str,
                 missing_hints: Mapping[str, str] | None = None) -> Any:
        """Validate ``data`` (read from ``node``); report each error, then keep what is valid."""
        try:
            return model.model_validate(data)
        except ValidationError as error:
            errors = error.errors(include_url=False)
        for item in errors:
            self._report_validation(item, node, head, where, missing_hints or {})
        for item in errors:
            _remove(data, item["loc"])
        try:
            return partial.model_validate(data)
        except ValidationError:
            return None  # the problems are reported above; what still fails to read is not used

    def _report_validation(self, error: Any, root: yaml.MappingNode, head: fm.Span, where: str,
                           missing_hints: Mapping[str, str]) -> None:
        loc = tuple(error["loc"])
        kind = error["type"]
        context = error.get("ctx") or {}
        key_node, node = self._locator.locate(root, loc)
        names = [part for part in loc if isinstance(part, str) and part != "[key]"]
        name = names[-1] if names else ""
        if kind == "missing":
            self.report("E106", head, f"{where} has no `{name}`", missing_hints.get(name) or _MISSING_HINTS.get(name, ""))
        elif kind == "extra_forbidden":
            known = fm.FILE_KEYS if len(names) == 1 and where == "the file" else _keys_of(loc, where)
            self.report("E105", self.span(key_node or node), f"unknown key '{name}'", key_hint(name, known, where))
        elif loc and loc[-1] == "[key]":
            self.report(context.get("code", "E108"), self.span(key_node or node), context.get("message", ""),
                        context.get("hint", ""))
        elif kind == "rulebot":
            self.report(context["code"], self.span(node), context["message"], context["hint"])
        elif name == "rules" and kind == "list_type":
            hint = "start each rule on its own line with '- ' under 'rules:'"
            self.report("E107", self.span(node), f"`rules` must be a list, found {describe(node)}", hint)
        else:
            expected = context.get("expected") or _EXPECTED.get(kind, "something else")
            hint = context.get("hint", "")
            if name in ("when", "then"):
                expected = "rule text"
                if isinstance(node, yaml.SequenceNode):
                    hint = _LIST_HINTS[name]
            label = f"the parameter '{name}'" if names[:1] == ["params"] and len(names) == 2 else f"`{name}`"
            self.report(context.get("code", "E108"), self.span(node),
                        f"{label} must be {expected}, found {describe(node)}", hint)

    def _spans(self, pairs: dict[str, tuple[yaml.Node, yaml.Node]]) -> tuple[dict[str, fm.Span], dict[str, fm.Span]]:
        key_spans: dict[str, fm.Span] = {}
        value_spans: dict[str, fm.Span] = {}
        for key, (key_node, value_node) in pairs.items():
            key_spans[key] = self.span(key_node)
            value_spans[key] = self.span(value_node)
            if key in ("settings", "risk", "params") and isinstance(value_node, yaml.MappingNode):
                for sub, (sub_key, sub_value) in self.pairs_quiet(value_node).items():
                    key_spans[f"{key}.{sub}"] = self.span(sub_key)
                    value_spans[f"{key}.{sub}"] = self.span(sub_value)
        return key_spans, value_spans

    def pairs_quiet(self, node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """A mapping's entries by key text, without reporting (``pairs`` reported them already)."""
        return self._locator.entries(node)

    def _params(self, model: fm.FileModel, pairs: dict[str, tuple[yaml.Node, yaml.Node]],
                overrides: Mapping[str, str], head: fm.Span) -> dict[str, fm.Param]:
        params_node = pairs.get("params", (None, None))[1]
        nodes = self.pairs_quiet(params_node) if isinstance(params_node, yaml.MappingNode) else {}
        params: dict[str, fm.Param] = {}
        for name, value in model.params.items():
            value_node = nodes[name][1]
            text = value_node.value
            if not isinstance(value, str) and not _DECIMAL.fullmatch(text):
                text = str(value)  # YAML's other number forms (1_000, 0x1f) as the rule language writes them
            params[name] = fm.Param(name, value, text, self.span(value_node))
        for name, text in overrides.items():
            if name in params:
                params[name] = fm.Param(name, _override_value(text), text, params[name].span)
            else:
                where = self.span(pairs["params"][0]) if "params" in pairs else head
                self.report("E112", where, f"a value is given for the parameter '{name}', which the file does not declare",
                            values.suggest(name, list(params)) or "declare it under 'params:'")
        return params


def key_hint(key: str, known: tuple[str, ...], where: str) -> str:
    """``did you mean`` for an unknown key, with the synonyms authors use."""
    if key.lower() in fm.KEY_SYNONYMS and fm.KEY_SYNONYMS[key.lower()] in known:
        return f"did you mean '{fm.KEY_SYNONYMS[key.lower()]}'?"
    close = values.suggest(key, list(known))
    if close:
        return close
    if where == "the file" and key in fm.RULE_KEYS:
        return f"`{key}` belongs to a rule: write it under 'rules:' as part of a '- ' item"
    if where != "the file" and key in fm.FILE_KEYS:
        return f"`{key}` is set once for the whole file, at the top"
    return "the keys here are " + ", ".join(known)


def _keys_of(loc: tuple[Any, ...], where: str) -> tuple[str, ...]:
    if where != "the file":
        return fm.RULE_KEYS
    section = loc[0]
    if section == "settings":
        return tuple(fm.SettingsModel.model_fields)
    if section == "risk":
        return tuple(fm.RiskModel.model_fields)
    return fm.FILE_KEYS


def _remove(data: Any, loc: tuple[Any, ...]) -> None:
    # Remove the invalid value: the innermost mapping entry on the path (a bad list item takes its list).
    parts = [part for part in loc if part != "[key]"]
    target, key = None, None
    node = data
    for part in parts:
        if isinstance(node, dict) and part in node:
            target, key = node, part
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            break
    if target is not None:
        target.pop(key, None)


def _override_value(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


_EXPECTED = {
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number", "bool_type": "true or false",
    "bool_parsing": "true or false", "string_type": "text", "dict_type": "a mapping of 'key: value' lines",
    "model_type": "a mapping of 'key: value' lines", "list_type": "a list", "tuple_type": "a list",
}
_LIST_HINTS = {"when": "write one condition, joining its parts with 'and' or 'or'",
               "then": "write the actions on one line, separated by commas"}
_MISSING_HINTS = {
    "symbol": "add a line like 'symbol: BTCUSDT' at the top of the file",
    "then": "add 'then:' with the actions, e.g. 'then: close market'",
}
