"""Reloading a rule file while the engine runs: build beside, swap only if clean.

The file watcher (``FileWatcher``, a thread of its own) only puts ``ReloadRequested`` on the
engine's queue; the engine thread then calls ``Reloader.rebuild``, which re-analyses and
compiles the file beside the running rules. A file with errors is not swapped in: its
diagnostics go to the log, ``reload_rejected`` to the journal, and the old rules keep
trading (STYLE.md §2, "reload is a value swap"). A clean file gives a new ``RuleSet`` that
the engine puts in force with one assignment, keeping the state of every rule whose name
and text did not change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rulebot.actions.risk import RiskConfigError
from rulebot.engine.ruleset import CompileContext, FileRules, RuleSet, compile_analysis
from rulebot.journal.journal import Journal
from rulebot.lang.diagnostics import render_text
from rulebot.lang.lint import FileAnalysis, analyze_file
from rulebot.model.clock import Clock
from rulebot.model.events import Event, ReloadRequested

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reloaded:
    """A clean reload: the new set, and the file in it that was rebuilt."""

    ruleset: RuleSet
    file: FileRules


class Reloader:
    """Rebuilds one file of a running ``RuleSet`` (on the engine thread)."""

    def __init__(
        self, ctx: CompileContext, journal: Journal, analyze: Callable[[str], FileAnalysis] | None = None
    ) -> None:
        self._ctx = ctx
        self._journal = journal
        self._analyze = analyze or analyze_file

    def rebuild(self, running: RuleSet, path: str, now_ms: int) -> Reloaded | None:
        """The set with ``path`` rebuilt, or ``None`` (reported and journalled) when the file has errors."""
        analysis = self._analyze(path)
        if analysis.rule_file is None or analysis.has_errors:
            errors = [d for d in analysis.diagnostics if d.is_error]
            text = render_text(errors, {analysis.file: analysis.lines})
            self._reject(path, f"{len(errors)} error(s); the running rules stay in force\n{text}", now_ms)
            return None
        try:
            new = compile_analysis(analysis, self._ctx)
        except RiskConfigError as err:
            self._reject(path, str(err), now_ms)
            return None
        if running.file(path) is None:
            log.info("reload_added file=%s rules=%d", path, len(new.rules))
        else:
            log.info("reload file=%s rules=%d", path, len(new.rules))
        self._journal.record_event("reload", f"file={path} rules={len(new.rules)}", now_ms)
        return Reloaded(running.with_file(new), new)

    def _reject(self, path: str, detail: str, now_ms: int) -> None:
        log.error("reload_rejected file=%s %s", path, detail)
        self._journal.record_event("reload_rejected", f"file={path} {detail}", now_ms)


class FileWatcher:
    """A thread that watches rule files and only enqueues ``ReloadRequested`` (debounced).

    It watches the files' folders, since editors often save by writing a new file and
    renaming it over the old one, and reports only the files it was given.
    """

    def __init__(
        self,
        paths: Sequence[str],
        emit: Callable[[Event], None],
        clock: Clock,
        *,
        debounce_ms: int = 500,
    ) -> None:
        self._files = {str(Path(p).resolve()): p for p in paths}
        self._folders = sorted({str(Path(p).resolve().parent) for p in paths})
        self._emit = emit
        self._clock = clock
        self._debounce_ms = debounce_ms
        self._stop = threading.Event()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="rulebot-watch", daemon=True)

    def start(self) -> None:
        """Start watching; returns once the watcher is set up."""
        self._thread.start()
        self._started.wait(timeout=10)

    def stop(self) -> None:
        """Stop watching and wait for the thread."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _watch(self) -> None:
        from watchfiles import watch

        wanted = self._files
        watcher = watch(
            *self._folders,
            watch_filter=lambda _change, path: str(Path(path).resolve()) in wanted,
            debounce=self._debounce_ms,
            stop_event=self._stop,
            recursive=False,
            yield_on_timeout=True,
            rust_timeout=200,
        )
        for changes in watcher:
            self._started.set()
            for path in sorted({str(Path(p).resolve()) for _, p in changes}):
                if path in wanted:
                    now = self._clock.now_ms()
                    self._emit(ReloadRequested(path=wanted[path], ts_event_ms=now, ts_recv_ms=now))
