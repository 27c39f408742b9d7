"""`rulebot lint` starts in well under a second: its import path leaves out the market, engine and
action layers and their heavy dependencies (pandas, numpy, ta, APScheduler, pybit)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("pandas", "numpy", "ta", "apscheduler", "pybit", "asyncio", "rulebot.market", "rulebot.engine",
         "rulebot.actions", "rulebot.exchange", "rulebot.backtest", "rulebot.journal")

_PROBE = """
import json, sys
from rulebot.cli import app
from rulebot.lang.lint import lint_paths
lint_paths([sys.argv[1]])
print(json.dumps(sorted(m for m in sys.modules)))
"""


def _heavy(loaded: set[str]) -> set[str]:
    return {m for m in HEAVY if m in loaded or any(x.startswith(m + ".") for x in loaded)}


def test_only_a_cron_schedule_brings_apscheduler(tmp_path: Path) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text("symbol: BTCUSDT\ntimezone: UTC\nrules:\n  - name: a\n    when: rsi(14) < 30 and position == 0\n"
                     "    then: buy 0.01 market tp 2%\n    cooldown: 5m\n  - name: b\n    cron: '0 8 * * *'\n"
                     "    then: close market\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", _PROBE, str(rules)], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert "rulebot.lang.lint" in loaded
    assert _heavy(loaded) == {"apscheduler", "asyncio"}  # to validate the cron expression


def test_lint_without_cron_does_not_import_apscheduler(tmp_path: Path) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text("symbol: BTCUSDT\nrules:\n  - when rsi(14) < 30 and position == 0 then close market\n",
                     encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", _PROBE, str(rules)], capture_output=True, text=True, check=True)
    assert _heavy(set(json.loads(out.stdout))) == set()
