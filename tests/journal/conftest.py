"""The journal's CLI tests read a journal written by a real backtest of the backtest tests' own
hand-checked bars and rules (``tests/backtest/bt_kit.py``): one fixture, not a copy of it."""

import sys
from pathlib import Path

_KIT = Path(__file__).resolve().parents[1] / "backtest"
if str(_KIT) not in sys.path:
    sys.path.insert(0, str(_KIT))
