"""Small hand-made candle files and rule files for the backtest runner, CLI and sweep tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

MIN = 60_000
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC

# Bars (open, high, low, close) whose trades under BREAKOUT_RULES are worked out by hand in
# test_runner.py; prices on BTCUSDT's 0.1 tick.
HAND_BARS: tuple[tuple[float, float, float, float], ...] = (
    (100.0, 101.0, 99.0, 100.0),    # 0
    (100.0, 106.0, 100.0, 106.0),   # 1  close > 105, flat: buy at the next open
    (106.0, 107.0, 105.5, 107.0),   # 2  bought 0.5 at 106: tp 116.6, sl 95.4
    (107.0, 117.0, 106.0, 110.0),   # 3  low first, then the high passes 116.6: take profit; close 110: buy again
    (110.0, 111.0, 108.0, 109.0),   # 4  bought 0.5 at 110: tp 121, sl 99
    (109.0, 109.5, 104.6, 104.8),   # 5
    (104.8, 105.0, 100.8, 100.9),   # 6  close < 101: close at the next open
    (100.9, 101.0, 100.0, 100.5),   # 7  closed at 100.9 (rule)
    (100.5, 106.0, 100.5, 105.5),   # 8  close > 105: buy at the next open
    (105.5, 106.0, 105.0, 105.8),   # 9  bought at 105.5; the last bar: closed at 105.8 (end)
)

BREAKOUT_RULES = """\
symbol: BTCUSDT
timeframe: 1m
settings:
  leverage: 10
risk:
  max_position: 1
rules:
  - name: breakout
    when: close > 105 and position is flat
    then: buy 0.5 market tp 10% sl 10%
    trigger: level
  - name: too big
    when: close > 105 and position is flat
    then: buy 5 market
    trigger: level
  - name: exit low
    when: close < 101 and position > 0
    then: close market
    trigger: level
"""

SWEEP_RULES = """\
symbol: BTCUSDT
timeframe: 1m
params:
  level: 105
  size: 0.5
risk:
  max_position: 1
rules:
  - name: breakout
    when: close > ${level} and position is flat
    then: buy ${size} market tp 10% sl 10%
    trigger: level
  - name: exit low
    when: close < 101 and position > 0
    then: close market
    trigger: level
"""


def csv_text(bars: Sequence[tuple[float, float, float, float]], start_ms: int = T0, step_ms: int = MIN) -> str:
    """The kline CSV of ``bars`` (volume 1), one bar every ``step_ms`` from ``start_ms``."""
    lines = ["timestamp,open,high,low,close,volume"]
    for i, (o, h, lo, c) in enumerate(bars):
        lines.append(f"{start_ms + i * step_ms},{o},{h},{lo},{c},1")
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
