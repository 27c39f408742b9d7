"""Restart: a process writes rule state and an order intent, is killed with SIGKILL (no clean
shutdown, no close), and a new process finds everything it had written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import rulebot
from rulebot.journal import ORDER_INTENT, EntryKind, Journal, RuleStateRecord

_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from rulebot.journal import Journal, RuleStateRecord

    j = Journal(sys.argv[1])
    j.save_rule_states([
        RuleStateRecord("dip", "hash-1", armed=False, last_fired_ms=120000, fire_seq=7,
                        in_flight=("rb-0a1b2c3d-7",), for_started_ms=(("c1", 60000),)),
        RuleStateRecord("exit", "hash-2", paused=True),
    ], 120000)
    j.record_fire("dip", "BTCUSDT", 7, 120000, "rsi(14)=27.9")
    j.record_order_intent("rb-0a1b2c3d-7", "dip", "BTCUSDT", "buy", "limit", "0.010", "64000.0", "{}", 120000)
    sys.stdout.write("written\\n")
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_state_survives_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    env = dict(os.environ, PYTHONPATH=str(Path(rulebot.__file__).parent.parent))
    proc = subprocess.run(
        [sys.executable, "-c", _WRITER, str(path)], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout == "written\n"
    with Journal(path) as j:
        states = j.load_rule_states()
        assert states["dip"] == RuleStateRecord(
            "dip",
            "hash-1",
            armed=False,
            last_fired_ms=120000,
            fire_seq=7,
            in_flight=("rb-0a1b2c3d-7",),
            for_started_ms=(("c1", 60000),),
        )
        assert states["exit"].paused
        (unfinished,) = j.unfinished_orders()
        assert (unfinished.order_link_id, unfinished.status, unfinished.price) == (
            "rb-0a1b2c3d-7",
            ORDER_INTENT,
            "64000.0",
        )
        assert [e.kind for e in j.entries()] == [EntryKind.FIRE, EntryKind.ORDER]
