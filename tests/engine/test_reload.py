"""Reload: a clean file is swapped in keeping the state of unchanged rules; a file with errors is
journalled as `reload_rejected` and the old rules keep running; the watcher only enqueues."""

from __future__ import annotations

import threading
from pathlib import Path

from engine_kit import file_harness

from rulebot.engine.reload import FileWatcher
from rulebot.journal import EntryKind
from rulebot.model import Event, ReloadRequested, SimClock

HEAD = "symbol: BTCUSDT\ntimeframe: 1m\nrisk:\n  max_position: 1\nrules:\n"
KEEP = '  - name: keep\n    when: close > 100\n    then: notify "keep"\n'
EDIT = '  - name: edit\n    when: close > 100\n    then: notify "edit"\n'


def events(h, kind: str) -> list[str]:  # noqa: ANN001
    return [e.summary for e in h.journal.entries(kind=EntryKind.EVENT) if e.summary.startswith(kind)]


def test_a_clean_reload_swaps_the_rules_and_keeps_the_state_of_unchanged_ones(tmp_path: Path) -> None:
    h = file_harness(HEAD + KEEP + EDIT, tmp_path)
    h.bar(101, 101, 101, 101)
    keep, edit = h.slot("keep"), h.slot("edit")
    assert (keep.state.fire_seq, keep.state.armed) == (1, False)
    path = tmp_path / "rules.yaml"
    path.write_text(HEAD + KEEP + EDIT.replace('"edit"', '"edited"') +
                    '  - name: new\n    when: close > 100\n    then: notify "new"\n')
    h.engine.process(ReloadRequested(str(path), h.clock.now_ms(), h.clock.now_ms()))
    assert h.slot("keep") is not keep  # a new compiled rule ...
    assert (h.slot("keep").state.fire_seq, h.slot("keep").state.armed) == (1, False)  # ... with its state
    assert (h.slot("edit").state.fire_seq, h.slot("edit").state.armed) == (0, True)  # edited: fresh
    assert h.slot("new").state.fire_seq == 0
    h.bar(102, 102, 102, 102)
    assert h.slot("keep").state.fire_seq == 1  # still disarmed: the edge rule does not fire again
    assert h.slot("edit").state.fire_seq == 1 and h.slot("new").state.fire_seq == 1
    assert len(events(h, "reload")) == 1


def test_a_reload_with_errors_keeps_the_old_rules_trading(tmp_path: Path) -> None:
    h = file_harness(HEAD + KEEP.replace("when: close > 100", "when: close > 100\n    trigger: level"), tmp_path)
    h.bar(101, 101, 101, 101)
    path = tmp_path / "rules.yaml"
    path.write_text(HEAD + '  - name: keep\n    when: rsii(14) < 30\n    then: notify "x"\n')
    h.engine.process(ReloadRequested(str(path), h.clock.now_ms(), h.clock.now_ms()))
    rejected = events(h, "reload_rejected")
    assert len(rejected) == 1 and "E2" in rejected[0] and "rsii" in rejected[0]
    h.bar(101, 101, 101, 101)
    assert h.slot("keep").state.fire_seq == 2  # the old rule still runs


def test_a_reload_of_a_file_that_cannot_be_read_is_rejected(tmp_path: Path) -> None:
    h = file_harness(HEAD + KEEP, tmp_path)
    h.bar(101, 101, 101, 101)
    missing = tmp_path / "gone.yaml"
    h.engine.process(ReloadRequested(str(missing), h.clock.now_ms(), h.clock.now_ms()))
    assert len(events(h, "reload_rejected")) == 1
    assert h.slot("keep").state.fire_seq == 1


def test_the_watcher_only_enqueues_a_reload_request_for_the_watched_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(HEAD + KEEP)
    other = tmp_path / "other.yaml"
    got: list[Event] = []
    arrived = threading.Event()

    def emit(event: Event) -> None:
        got.append(event)
        arrived.set()

    watcher = FileWatcher([str(rules)], emit, SimClock(5), debounce_ms=50)
    watcher.start()
    try:
        other.write_text("not watched")
        rules.write_text(HEAD + KEEP + EDIT)
        assert arrived.wait(timeout=20)
    finally:
        watcher.stop()
    assert got and all(isinstance(e, ReloadRequested) and e.path == str(rules) for e in got)
    assert got[0].ts_event_ms == 5
