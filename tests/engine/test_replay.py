"""The replay path: warm-up before the start, the order of a bar (fills, then the rules at the close,
then market orders at the next open), the end of the data."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_kit import MINUTE, SYMBOL, T0

from rulebot.engine.replay import ReplayError, prepare_replay
from rulebot.journal import EntryKind
from rulebot.model import KlineUpdate

RULES = """\
symbol: BTCUSDT
timeframe: 1m
risk:
  max_position: 1
rules:
  - name: in
    when: rsi(3) < 50 and position is flat
    then: buy 0.01
  - name: out
    when: close > close[1] and position > 0
    then: close market
"""


def bars(closes: list[float], start: int = T0) -> list[KlineUpdate]:
    out = []
    for i, c in enumerate(closes):
        s = start + i * MINUTE
        out.append(KlineUpdate(SYMBOL, "1m", s + MINUTE, s + MINUTE, s, c, c + 5, c - 5, c, 1.0, True))
    return out


def test_bars_before_the_start_only_warm_up(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    data = bars([100_000.0 - 10 * i for i in range(10)])
    replay = prepare_replay([str(path)], start_ms=T0 + 5 * MINUTE)
    stats = replay.run(data, start_ms=T0 + 5 * MINUTE)
    assert (stats.warmup_bars, stats.bars) == (5, 5)
    fires = replay.journal.entries(kind=EntryKind.FIRE)
    # RSI(3) is known from the warm-up: the rule fires at the first bar of the replay
    assert fires and fires[0].ts_ms == T0 + 6 * MINUTE


def test_a_market_order_fills_at_the_next_open_and_whatever_is_open_closes_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    replay = prepare_replay([str(path)], start_ms=T0)
    replay.run(bars([100_000.0, 99_000.0, 98_000.0, 97_000.0, 96_000.0]))
    fills = [dict(f.fields) | {"ts": f.ts_ms} for f in replay.journal.entries(kind=EntryKind.FILL)]
    assert [(f["side"], f["price"], f["exit_reason"]) for f in fills] == [
        ("buy", "97000.0", ""),  # decided at the close of bar 2 (RSI known), filled at bar 3's open
        ("sell", "96000.0", "end"),  # still open after the last bar: closed at the last close
    ]
    assert fills[0]["ts"] == T0 + 3 * MINUTE


def test_a_file_with_errors_cannot_be_replayed(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.replace("rsi(3)", "rsii(3)"))
    with pytest.raises(ReplayError, match="rsii"):
        prepare_replay([str(path)])
