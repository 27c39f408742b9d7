"""Replay speed: the RSI-dip strategy on a year of 1-minute bars, event by event through the engine
and the paper exchange, against backtesting.py running the same strategy on the same data.

    .venv/bin/python benchmarks/replay_bench.py [--days 365] [--seed 7]

Prints one figure per line:

    replay_bars_per_s X                 rule file loaded and compiled, every bar a KlineUpdate event
    backtesting_py_bars_per_s X         backtesting.py (Backtest + run), RSI from ta, same data
    replay_ratio_vs_backtesting_py X    target >= 1.0
    replay_peak_mb X                    peak resident memory of this process after the replay (< 500)
    parity_loop_bars_per_s X            the plain numpy loop of benchmarks/parity_loop.py (the floor)
    replay_trades X / parity_loop_trades X / backtesting_py_trades X

Times are CPU time of this process (``time.process_time``): on a shared machine they move much less
than wall-clock time when other processes compete for the cores, and all three are measured alike.
The replay and backtesting.py run ``--repeat`` times each (default 3), alternately, and the best
run of each counts, as ``timeit`` does: a slow run says only that the machine was busy.
The replay runs first, so the peak resident size read after it is the replay's (data included).
backtesting.py cannot place a stop at a percent of the coming fill price, so its stops are set
from the signal bar's close: its trade count is close to, not equal to, the other two, which
must be equal.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "examples"), str(Path(__file__).resolve().parent)]

from generate_candles import generate  # noqa: E402
from parity_loop import Params, rsi_ta, run_loop  # noqa: E402

from rulebot.backtest.replay import KlineSeries, kline_events  # noqa: E402
from rulebot.engine.replay import prepare_replay  # noqa: E402
from rulebot.exchange.paper import PaperConfig  # noqa: E402
from rulebot.journal import EntryKind  # noqa: E402

RULES = ROOT / "examples" / "rsi_dip.yaml"
BALANCE = 10_000_000  # margin is never the reason an order is refused: the bench times the strategy


def candles(days: float, seed: int) -> KlineSeries:
    c = generate(days, seed)
    p = c.prices()
    return KlineSeries("BTCUSDT", "1m", 60_000, c.timestamp_ms, p["open"], p["high"], p["low"], p["close"],
                       c.volume_milli / 1000.0)


def run_replay(series: KlineSeries) -> tuple[float, int, int]:
    """Bars per second (compile included), exits counted, orders refused."""
    start = time.process_time()
    replay = prepare_replay([str(RULES)], paper=PaperConfig(initial_balance=Decimal(BALANCE)),
                            start_ms=int(series.ts_ms[0]))
    stats = replay.run(kline_events(series))
    elapsed = time.process_time() - start
    exits = sum(1 for f in replay.journal.entries(kind=EntryKind.FILL) if dict(f.fields)["exit_reason"])
    return len(series) / elapsed, exits, stats.rejected


def run_backtesting_py(series: KlineSeries) -> tuple[float, int]:
    """backtesting.py on the same bars: bars per second (data frame to result), trades."""
    from backtesting import Backtest, Strategy

    def rsi(close: np.ndarray) -> np.ndarray:
        return rsi_ta(np.asarray(close, dtype=np.float64), 14)

    class RsiDip(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            self.rsi = self.I(rsi, self.data.Close)

        def next(self) -> None:
            r = self.rsi[-1]
            if not self.position:
                if r < 30:
                    close = self.data.Close[-1]
                    self.buy(size=1, tp=close * 1.02, sl=close * 0.99)
            elif r > 70:
                self.position.close()

    start = time.process_time()
    frame = pd.DataFrame(
        {"Open": series.open, "High": series.high, "Low": series.low, "Close": series.close, "Volume": series.volume},
        index=pd.to_datetime(series.ts_ms, unit="ms"),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # backtesting.py warns about fractional prices and more
        result = Backtest(frame, RsiDip, cash=BALANCE * 100, commission=0.00055).run()
    return len(series) / (time.process_time() - start), int(result["# Trades"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="alternate runs of each; the best of each counts")
    args = parser.parse_args(argv)
    series = candles(args.days, args.seed)

    replay_speed, replay_trades, rejected = run_replay(series)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    bt_speed, bt_trades = run_backtesting_py(series)
    for _ in range(args.repeat - 1):
        replay_speed = max(replay_speed, run_replay(series)[0])
        bt_speed = max(bt_speed, run_backtesting_py(series)[0])
    start = time.process_time()
    loop_trades, _ = run_loop(series.open, series.high, series.low, series.close, rsi_ta(series.close), Params(qty=0.1))
    loop_speed = len(series) / (time.process_time() - start)

    print(f"bars {len(series)}")
    print(f"replay_bars_per_s {replay_speed:.0f}")
    print(f"backtesting_py_bars_per_s {bt_speed:.0f}")
    print(f"replay_ratio_vs_backtesting_py {replay_speed / bt_speed:.2f}")
    print(f"replay_peak_mb {peak_mb:.0f}")
    print(f"parity_loop_bars_per_s {loop_speed:.0f}")
    print(f"replay_trades {replay_trades}")
    print(f"parity_loop_trades {len(loop_trades)}")
    print(f"backtesting_py_trades {bt_trades}")
    print(f"replay_rejections {rejected}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
