"""Restart (issue 3, "Done means"): rule state is written to the journal as it changes, the process
is killed (SIGKILL, no shutdown), and a new engine on the same journal and rules restores it:
armed, fire sequence, last fired, orders in flight and the memory of `crosses`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from engine_kit import MINUTE, SYMBOL, T0, StubExchange

from rulebot.engine.loop import Engine
from rulebot.engine.replay import prepare_replay
from rulebot.journal import Journal
from rulebot.model import OrderStatus, OrderType, OrderUpdate, Side, SimClock, TickerUpdate

ROOT = Path(__file__).resolve().parents[2]

RULES = """\
symbol: BTCUSDT
timeframe: 1m
risk:
  max_position: 1
rules:
  - name: up
    when: price crosses above 100000
    then: notify "up"
    trigger: level
  - name: rest
    when: close > 0
    then: buy 0.01 limit 50000
"""

CHILD = """\
import sys
from decimal import Decimal
sys.path.insert(0, {tests!r})
from engine_kit import MINUTE, SYMBOL, T0
from rulebot.engine.loop import Engine
from rulebot.engine.replay import prepare_replay, replay_bars
from rulebot.journal import Journal
from rulebot.model import KlineUpdate, TickerUpdate

journal = Journal({journal!r})
# persist_state: live behaviour, the state is written as it changes
replay = prepare_replay([{rules!r}], journal=journal, start_ms=T0, persist_state=True)
engine = replay.engine
bar = KlineUpdate(SYMBOL, "1m", T0 + MINUTE, T0 + MINUTE, T0, 99_000.0, 99_000.0, 99_000.0, 99_000.0, 1.0, True)
replay_bars(engine, replay.paper, replay.clock, [bar], close_at_end=False)
for i, last in enumerate([99_000.0, 101_000.0, 99_000.0]):
    ts = T0 + MINUTE + 2000 * (i + 1)
    replay.clock.advance_to(ts)
    engine.process(TickerUpdate(SYMBOL, ts, ts, False, last=last))
print("ready", flush=True)
sys.stdin.readline()  # wait to be killed
"""


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the rule file and the journal of a process that was killed (run once)."""
    folder = tmp_path_factory.mktemp("killed")
    run_and_kill(folder)
    return folder


def copy_of(killed: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Each test works on its own copy of the killed process's files (journal and WAL included)."""
    target = tmp_path / "run"
    shutil.copytree(killed, target)
    return target / "rules.yaml", target / "journal.sqlite"


def run_and_kill(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    journal = tmp_path / "journal.sqlite"
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=str(Path(__file__).parent), journal=str(journal), rules=str(rules)))
    child = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=ROOT, text=True)
    try:
        line = child.stdout.readline() if child.stdout else ""
        assert line.strip() == "ready", child.stderr.read() if child.stderr else ""
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        for stream in (child.stdin, child.stdout, child.stderr):
            if stream is not None:
                stream.close()


def test_state_written_before_a_kill_is_restored(killed: Path, tmp_path: Path) -> None:
    rules, journal_path = copy_of(killed, tmp_path)
    with Journal(journal_path) as journal:
        stored = journal.load_rule_states()
        assert set(stored) == {"rules.yaml:up@BTCUSDT", "rules.yaml:rest@BTCUSDT"}
        rest = stored["rules.yaml:rest@BTCUSDT"]
        assert (rest.armed, rest.fire_seq, len(rest.in_flight)) == (False, 1, 1)
        assert rest.last_fired_ms == T0 + MINUTE
        assert stored["rules.yaml:up@BTCUSDT"].fire_seq == 1
        link = rest.in_flight[0]
        order = journal.order(link)
        assert order is not None and order.status == OrderStatus.OPEN.value

        # the venue still lists the resting order: it stays in flight after the restart
        resting = OrderUpdate(SYMBOL, T0, T0, "x1", link, Side.BUY, OrderType.LIMIT, OrderStatus.OPEN,
                              "0.010", "50000", "0")
        clock = SimClock(T0 + 3 * MINUTE)
        engine, failed = Engine.from_files([str(rules)], StubExchange(open_orders=[resting]), journal, clock,
                                           feed_timeframe="1m")
        assert not failed
        engine.start()
        up, rest_slot = (engine.slot(f"rules.yaml:{n}@BTCUSDT") for n in ("up", "rest"))
        assert up is not None and rest_slot is not None
        assert (rest_slot.state.armed, rest_slot.state.fire_seq, rest_slot.state.in_flight) == (False, 1, [link])
        assert rest_slot.state.last_fired_ms == T0 + MINUTE

        # the memory of `crosses` came back: after the last price seen (99,000), 101,000 is a cross
        now = T0 + 3 * MINUTE + 1000
        clock.advance_to(now)
        engine.process(TickerUpdate(SYMBOL, now, now, True, last=101_000.0))
        assert up.state.fire_seq == 2
        assert rest_slot.state.fire_seq == 1  # still blocked by its order in flight


def test_an_order_that_finished_while_the_engine_was_down_no_longer_blocks(killed: Path, tmp_path: Path) -> None:
    rules, journal_path = copy_of(killed, tmp_path)
    with Journal(journal_path) as journal:
        replay = prepare_replay([str(rules)], journal=journal, start_ms=T0 + 3 * MINUTE)
        replay.engine.start()  # a fresh paper exchange lists no open order
        rest = replay.engine.slot("rules.yaml:rest@BTCUSDT")
        assert rest is not None and rest.state.in_flight == [] and rest.state.fire_seq == 1


def test_an_edited_rule_starts_fresh(killed: Path, tmp_path: Path) -> None:
    rules, journal_path = copy_of(killed, tmp_path)
    rules.write_text(RULES.replace("limit 50000", "limit 40000"))
    with Journal(journal_path) as journal:
        replay = prepare_replay([str(rules)], journal=journal, start_ms=T0 + 3 * MINUTE)
        replay.engine.start()
        up, rest = (replay.engine.slot(f"rules.yaml:{n}@BTCUSDT") for n in ("up", "rest"))
        assert up is not None and up.state.fire_seq == 1  # unchanged: restored
        assert rest is not None and (rest.state.fire_seq, rest.state.armed) == (0, True)
