"""The paper exchange against a plain loop over real hourly candles, written from SIMULATION.md alone:
same entries, exits, prices, reasons and final balance."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path

import pytest

from rulebot.backtest.replay import read_klines
from rulebot.exchange.paper import PaperConfig, PaperExchange
from rulebot.model import Execution, ExitReason, OrderType, PlaceOrder, Side, SimClock

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "klines"
FILE = DATA / "bybit_linear_BTCUSDT_1h_2023-11-29_2026-02-08.csv"
TICK = Decimal("0.1")
TP_PCT, SL_PCT, TAKER = Decimal("1"), Decimal("0.7"), 0.00055
Trade = tuple[int, str, float, int, float, str]  # entry bar, side, entry, exit bar, exit, reason


def _signal(i: int) -> Side | None:
    """Enter every 7th bar when flat, alternating long and short."""
    if i % 7:
        return None
    return Side.BUY if (i // 7) % 2 == 0 else Side.SELL


def _targets(entry: float, long: bool) -> tuple[float, float]:
    e = Decimal(repr(entry))
    up, down = ROUND_CEILING, ROUND_FLOOR
    tp_raw = e * (1 + TP_PCT / 100) if long else e * (1 - TP_PCT / 100)
    sl_raw = e * (1 - SL_PCT / 100) if long else e * (1 + SL_PCT / 100)
    # toward the entry: a long's target rounds down and its stop up; a short's the other way
    tp = (tp_raw / TICK).to_integral_value(down if long else up) * TICK
    sl = (sl_raw / TICK).to_integral_value(up if long else down) * TICK
    return float(tp), float(sl)


def _hand_loop(
    ts: list[int], o: list[float], h: list[float], lo: list[float], c: list[float]
) -> tuple[list[Trade], float]:
    trades: list[Trade] = []
    balance = 1_000_000.0
    pending: Side | None = None
    pos: tuple[int, Side, float, float, float] | None = None
    for i in range(len(ts)):
        if pending is not None:
            tp, sl = _targets(o[i], pending is Side.BUY)
            pos = (i, pending, o[i], tp, sl)
            balance -= o[i] * TAKER
            pending = None
        if pos is not None:
            start, side, entry, tp, sl = pos
            exit_: tuple[float, str] | None = None
            if side is Side.BUY:
                if o[i] <= sl:
                    exit_ = (o[i], "sl")
                elif lo[i] <= sl:
                    exit_ = (sl, "sl")
                elif o[i] >= tp:
                    exit_ = (o[i], "tp")
                elif h[i] >= tp:
                    exit_ = (tp, "tp")
            else:
                if o[i] >= sl:
                    exit_ = (o[i], "sl")
                elif h[i] >= sl:
                    exit_ = (sl, "sl")
                elif o[i] <= tp:
                    exit_ = (o[i], "tp")
                elif lo[i] <= tp:
                    exit_ = (tp, "tp")
            if exit_ is not None:
                sign = 1 if side is Side.BUY else -1
                balance += (exit_[0] - entry) * sign - exit_[0] * TAKER
                trades.append((start, side.value, entry, i, exit_[0], exit_[1]))
                pos = None
        if pos is None and i < len(ts) - 1:
            pending = _signal(i)
    if pos is not None:
        start, side, entry, _, _ = pos
        sign = 1 if side is Side.BUY else -1
        balance += (c[-1] - entry) * sign - c[-1] * TAKER
        trades.append((start, side.value, entry, len(ts) - 1, c[-1], "end"))
    return trades, balance


@pytest.mark.skipif(not FILE.exists(), reason="the shared kline data is not here")
def test_paper_exchange_trades_exactly_like_the_hand_loop() -> None:
    series = read_klines(FILE, "BTCUSDT")
    events: list[object] = []
    clock = SimClock(0)
    ex = PaperExchange(
        events.append, clock, PaperConfig(initial_balance=Decimal("1000000"), leverage=Decimal("1"))
    )
    bars = list(series.events())
    n = 0
    for i, bar in enumerate(bars):
        ex.on_bar(bar)
        clock.advance_to(bar.ts_event_ms)
        flat = ex.positions("BTCUSDT")[0].size == 0.0 and not ex.open_orders("BTCUSDT")
        side = _signal(i)
        if flat and side is not None and i < len(bars) - 1:
            n += 1
            ex.submit(
                PlaceOrder(
                    "BTCUSDT", side, OrderType.MARKET, Decimal("1"), f"p-{n}", tp_pct=TP_PCT, sl_pct=SL_PCT
                )
            )
    ex.close_all(ExitReason.END)

    start0, step = int(series.ts_ms[0]), series.interval_ms
    got: list[Trade] = []
    entry: Execution | None = None
    for e in events:
        if not isinstance(e, Execution):
            continue
        if not e.exit_reason:
            entry = e
            continue
        assert entry is not None
        exit_bar = min((e.ts_event_ms - start0) // step, len(bars) - 1)
        got.append(
            (
                (entry.ts_event_ms - start0) // step,
                entry.side.value,
                float(entry.price),
                exit_bar,
                float(e.price),
                e.exit_reason,
            )
        )
    want, balance = _hand_loop(
        series.ts_ms.tolist(),
        series.open.tolist(),
        series.high.tolist(),
        series.low.tolist(),
        series.close.tolist(),
    )
    assert len(want) > 400  # the comparison means something
    assert {"tp", "sl"} <= {t[5] for t in want}
    assert got == want
    assert ex.wallet().balance == pytest.approx(balance, abs=1e-6)
