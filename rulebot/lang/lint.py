"""The front half of the pipeline: load -> parse -> check, for `lint`, `explain` and the engine.

``analyze_text``/``analyze_file`` give everything known about one file; ``lint_paths`` walks
files and folders and collects what `rulebot lint` prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from pathlib import Path

from rulebot.lang import ast as A
from rulebot.lang import filemodel as fm
from rulebot.lang.checker import CheckContext, CheckedRule, RuleInput, check_rules
from rulebot.lang.diagnostics import Diagnostic, Severity, at_location, sort_key
from rulebot.lang.loader import LoadResult, collection_paused, load_file, load_text
from rulebot.lang.makers import maker
from rulebot.lang.parser import ParseResult, Start, parse
from rulebot.lang.source import Source

RULE_FILE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class AnalyzedRule:
    """One rule: as written, as parsed (``None`` where its text has an error), as checked."""

    rule: fm.Rule
    condition: A.Expr | None
    actions: tuple[A.Action, ...]
    checked: CheckedRule | None
    parsed: bool

    @property
    def usable(self) -> bool:
        """Parsed and checked without errors: the engine may run it."""
        return self.parsed and self.checked is not None and not self.checked.has_errors


@dataclass(frozen=True, slots=True)
class FileAnalysis:
    """Everything lint knows of one file; ``diagnostics`` are sorted by position."""

    file: str
    lines: tuple[str, ...]
    rule_file: fm.RuleFile | None
    rules: tuple[AnalyzedRule, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)


@dataclass(frozen=True, slots=True)
class LintReport:
    """What `rulebot lint` prints: diagnostics of every file, their lines for excerpts, and the
    paths that could not be read at all (exit status 2)."""

    diagnostics: tuple[Diagnostic, ...]
    lines: Mapping[str, Sequence[str]]
    files_checked: int
    unreadable: tuple[str, ...]


def analyze_text(text: str, file: str, *, overrides: Mapping[str, str] | None = None) -> FileAnalysis:
    """Load, parse and check the rule file ``text`` (named ``file`` in diagnostics)."""
    with collection_paused():
        return _analyze(load_text(text, file, overrides=overrides))


def analyze_file(path: str | Path, *, overrides: Mapping[str, str] | None = None) -> FileAnalysis:
    """Load, parse and check the rule file at ``path``."""
    with collection_paused():
        return _analyze(load_file(path, overrides=overrides))


def context_for(rule_file: fm.RuleFile) -> CheckContext:
    """What the checker needs to know of a file."""
    leverage = rule_file.settings.leverage
    mode = rule_file.settings.position_mode
    return CheckContext.for_symbols(
        rule_file.symbols,
        category=rule_file.category,
        timeframe=rule_file.timeframe,
        leverage=float(leverage) if leverage is not None else None,
        # an invalid max_position is reported where it is written, not again as missing (W102)
        has_max_position=rule_file.risk.max_position is not None or "risk.max_position" in rule_file.key_spans,
        position_mode=mode.value if mode is not None else "oneway",
    )


def _analyze(loaded: LoadResult) -> FileAnalysis:
    diagnostics = list(loaded.diagnostics)
    rule_file = loaded.rule_file
    analyzed: list[AnalyzedRule] = []
    if rule_file is not None:
        inputs: list[RuleInput] = []
        parsed_ok: list[bool] = []
        texts: dict[tuple[str, Start], ParseResult] = {}
        for rule in rule_file.rules:
            skip = {u.field for u in rule.param_uses if not u.declared} if rule.param_uses else _NOTHING
            condition, actions, ok = _parse_rule(rule, rule_file.file, skip, diagnostics, texts)
            parsed_ok.append(ok)
            inputs.append(_new_input(  # RuleInput's fields, in order
                rule.name,
                rule.index,
                condition,
                actions,
                rule.line or rule.when,
                rule.line or rule.then,
                rule.cooldown,
                rule.scheduled,
                rule.enabled,
            ))
        checkable = [i for i, ok in zip(inputs, parsed_ok) if ok]
        checked, extra = check_rules(checkable, context_for(rule_file))
        diagnostics.extend(extra)
        by_index = {c.rule.index: c for c in checked}
        for rule, item, ok in zip(rule_file.rules, inputs, parsed_ok):
            result = by_index.get(rule.index) if ok else None
            if result is not None:
                diagnostics.extend(result.diagnostics)
            analyzed.append(_new_analyzed(rule, item.condition, item.actions, result, ok))
    diagnostics.sort(key=sort_key)
    return FileAnalysis(loaded.file, loaded.lines, rule_file, tuple(analyzed), tuple(_unique(diagnostics)))


# one of each per rule linted (see ``makers``)
_new_input = maker(RuleInput)
_new_analyzed = maker(AnalyzedRule)


def _parse_once(source: Source, start: Start, texts: dict[tuple[str, Start], ParseResult]) -> ParseResult:
    """``parse``, once per text in a file: rules repeat their actions (and some their conditions)
    word for word, and an AST holds no file positions, so it serves each rule that has the text.
    A text with an error is parsed again, as its diagnostic is placed through its own source."""
    key = (source.text, start)
    result = texts.get(key)
    if result is None:
        result = parse(source, start)
        if result.node is not None:
            texts[key] = result
    return result


_NOTHING: frozenset[str] = frozenset()


def _parse_rule(rule: fm.Rule, file: str, skip: Set[str], sink: list[Diagnostic],
                texts: dict[tuple[str, Start], ParseResult]) -> tuple[A.Expr | None, tuple[A.Action, ...], bool]:
    """Parse a rule's texts; texts holding an undeclared ${param} are not parsed (E112 says why)."""
    if rule.line is not None:
        if "line" in skip:
            return None, (), False
        result = _parse_once(rule.line, "rule", texts)
        sink.extend(result.diagnostics)
        if isinstance(result.node, A.RuleBody):
            return result.node.condition, result.node.actions, True
        return None, (), False
    ok = True
    condition: A.Expr | None = None
    actions: tuple[A.Action, ...] = ()
    if rule.when is not None and "when" not in skip:
        parsed = _parse_once(rule.when, "condition", texts)
        sink.extend(parsed.diagnostics)
        ok = ok and parsed.node is not None
        condition = parsed.node if parsed.node is not None and not isinstance(parsed.node, (A.RuleBody, tuple)) else None
    elif rule.when is not None:
        ok = False
    elif not rule.scheduled and not {"when", "every", "at", "cron"} & set(rule.key_spans):
        # A `when` or schedule that was written but invalid is reported where it is written.
        sink.append(_at_span(rule.span, file, "E106",
                             f"{_rule_called(rule)} has no `when`",
                             "a rule without `every`, `at` or `cron` needs `when:`; "
                             "to run it on a schedule add `every: 1h`"))
        ok = False
    if rule.then is not None and "then" not in skip:
        parsed = _parse_once(rule.then, "actions", texts)
        sink.extend(parsed.diagnostics)
        ok = ok and parsed.node is not None
        if isinstance(parsed.node, tuple):
            actions = parsed.node
    else:
        ok = False
    return condition, actions, ok


def _rule_called(rule: fm.Rule) -> str:
    """How messages name a rule, as the loader does: ``rule 'exit'`` or, unnamed, ``rule 2``."""
    return f"rule '{rule.name}'" if rule.name_span is not None else rule.name


def _at_span(span: fm.Span, file: str, code: str, message: str, hint: str) -> Diagnostic:
    return at_location(code, Severity.ERROR, file, span.start, span.end, message, hint)


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[Diagnostic] = set()
    out: list[Diagnostic] = []
    for d in diagnostics:
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def rule_files_in(path: Path) -> list[Path]:
    """The rule files a lint path names: the file itself, or the .yaml/.yml files under a folder."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix.lower() in RULE_FILE_SUFFIXES and p.is_file())
    return [path]


def lint_paths(paths: Sequence[str]) -> LintReport:
    """Lint files and folders. A path that does not exist or cannot be read is reported apart."""
    diagnostics: list[Diagnostic] = []
    lines: dict[str, Sequence[str]] = {}
    unreadable: list[str] = []
    checked = 0
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            unreadable.append(f"{raw}: no such file or folder")
            continue
        files = rule_files_in(path)
        if path.is_dir() and not files:
            unreadable.append(f"{raw}: the folder holds no .yaml or .yml rule files")
            continue
        for file in files:
            linted = _lint_file(file)
            checked += 1
            lines[linted.file] = linted.lines
            diagnostics.extend(linted.diagnostics)
            if linted.unreadable:
                unreadable.append(f"{linted.file}: cannot be read")
    return LintReport(tuple(diagnostics), lines, checked, tuple(unreadable))


@dataclass(frozen=True, slots=True)
class _Linted:
    """What lint keeps of one file's analysis."""

    file: str
    lines: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]
    unreadable: bool


def _lint_file(path: Path) -> _Linted:
    """Lint one file. Lint keeps only the diagnostics: the rules, ASTs and checks are freed before
    the cyclic collector resumes, so it never walks them (``analyze_file`` hands them over, and
    the collector walked them once per file: a tenth of lint's time)."""
    with collection_paused():
        return _kept(analyze_file(path))


def _kept(analysis: FileAnalysis) -> _Linted:
    # A file the OS would not give us (permissions, a folder named like a file) counts as
    # unreadable; a file that is read but holds bad bytes is an ordinary E101 problem.
    unreadable = analysis.rule_file is None and any(
        d.code == "E101" and d.message.startswith("cannot read the file") for d in analysis.diagnostics)
    return _Linted(analysis.file, analysis.lines, analysis.diagnostics, unreadable)
