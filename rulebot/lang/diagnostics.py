"""One Diagnostic type and its two renderings: text with a caret, and JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from enum import Enum
from typing import Iterable, Mapping, Sequence

from rulebot.lang.source import Location, Source


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A problem found in a file. Lines and columns are 1-based; ``end_column`` is exclusive."""

    code: str
    severity: Severity
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    hint: str = ""
    label: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "hint": self.hint or None,
        }


def at_location(
    code: str,
    severity: Severity,
    file: str,
    start: Location,
    end: Location | None,
    message: str,
    hint: str = "",
    label: str = "",
) -> Diagnostic:
    """A diagnostic between two file locations (``end`` exclusive; one character when absent)."""
    if end is None or (end.line, end.column) <= (start.line, start.column):
        end = Location(start.line, start.column + 1)
    return Diagnostic(code, severity, file, start.line, start.column, end.line, end.column,
                      message, hint, label)


def in_source(
    code: str,
    severity: Severity,
    source: Source,
    start: int,
    end: int,
    message: str,
    hint: str = "",
    label: str = "",
) -> Diagnostic:
    """A diagnostic over ``source.text[start:end]``, placed in the file through the source map."""
    first = source.location(start)
    last = source.location(max(start, end - 1))
    stop = Location(last.line, last.column + 1) if end > start else None
    return at_location(code, severity, source.file, first, stop, message, hint, label)


def strict(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """``--strict``: warnings count as errors; the code stays the same."""
    return [replace(d, severity=Severity.ERROR) for d in diagnostics]


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.file, d.line, d.column, d.code)


def render_text(diagnostics: Sequence[Diagnostic], files: Mapping[str, Sequence[str]]) -> str:
    """Render as ``file:line:col: severity CODE message`` with the source line, a caret and the hint.

    ``files`` maps a file name to its lines (without line ends), for the excerpt.
    """
    out: list[str] = []
    for d in diagnostics:
        out.append(f"{d.file}:{d.line}:{d.column}: {d.severity.value} {d.code} {d.message}")
        lines = files.get(d.file, ())
        if 1 <= d.line <= len(lines):
            text = lines[d.line - 1].replace("\t", " ")
            gutter = " " * len(str(d.line))
            width = d.end_column - d.column if d.end_line == d.line else len(text) - d.column + 1
            width = max(1, min(width, max(1, len(text) - d.column + 1)))
            caret = " " * (d.column - 1) + "^" * width
            out.append(f"{gutter} |")
            out.append(f"{d.line} | {text}")
            out.append(f"{gutter} | {caret}" + (f" {d.label}" if d.label else ""))
        if d.hint:
            out.append(f"  = hint: {d.hint}")
    return "\n".join(out) + ("\n" if out else "")


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    """A JSON list of objects with keys file, line, column, end_line, end_column, severity, code, message, hint."""
    return json.dumps([d.as_dict() for d in diagnostics], indent=2, ensure_ascii=False) + "\n"


def summary(diagnostics: Sequence[Diagnostic], n_files: int) -> str:
    """``2 errors, 1 warning in 3 files``."""
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"
    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')} in {plural(n_files, 'file')}"
