"""What stops a backtest before or instead of running, as typed errors the CLI turns into exit codes."""

from __future__ import annotations

from collections.abc import Sequence

from rulebot.lang.lint import FileAnalysis


class BacktestError(Exception):
    """A backtest that cannot give a result; the message is one sentence for the trader."""


class CannotRun(BacktestError):
    """The inputs cannot be used: a missing or unreadable file, damaged data, no bars in the
    date range, a bad option (exit status 2)."""


class RuleFileError(BacktestError):
    """A rule file has errors (exit status 1); ``analyses`` hold their diagnostics, or
    ``message`` says what else is wrong with a file (a risk limit the simulation cannot apply)."""

    def __init__(self, analyses: Sequence[FileAnalysis], message: str = "") -> None:
        self.analyses = tuple(analyses)
        names = ", ".join(a.file for a in self.analyses)
        super().__init__(message or f"{len(self.analyses)} rule file(s) have errors: {names}")
        self.message = message

    def __reduce__(self) -> tuple[type[RuleFileError], tuple[tuple[FileAnalysis, ...], str]]:
        # raised in a sweep's worker process, it crosses back to the parent pickled
        return (type(self), (self.analyses, self.message))
