"""The whole `rulebot backtest` command on a year of 1-minute bars, against backtesting.py on the same data.

    .venv/bin/python benchmarks/backtest_bench.py [--days 365] [--seed 7] [--repeat 2]

Prints one figure per line:

    backtest_bars_per_s X                  bars / wall time of `rulebot backtest examples/rsi_dip.yaml
                                           --data FILE --json` as a subprocess: start-up, reading the
                                           csv.gz, the replay and the JSON all included
    backtesting_py_bars_per_s X            bars / wall time of backtesting.py in this process: reading the
                                           same csv.gz with pandas, RSI from `ta`, Backtest(...).run()
    backtest_ratio_vs_backtesting_py X     the first over the second (issue 4's target: >= 5)
    backtest_trades X / backtesting_py_trades X     trades closed before the end of the data
    backtest_matching_trades X             of those, equal in entry bar, entry price, exit bar and exit price
    backtest_same_trades 1|0               1 when every one matches and both made as many
    backtest_open_at_end 0|1               rulebot's position still open after the last bar (not compared)

Each timing is the best of ``--repeat`` runs (the machine is shared). The rulebot run gets
``--balance 10000000``, and backtesting.py as much cash, so that margin never refuses an order:
the comparison is of the strategy and the fill rules, not of an account running dry.

How backtesting.py is made to follow SIMULATION.md: market orders at the next bar's open
(``trade_on_close=False``); take profit and stop loss as exchange-side orders checked from the
bar of the entry on, the stop loss first when one bar touches both (backtesting.py puts stop
orders first in its queue), each filled at its level or at the open when the bar opens beyond
it. rulebot measures ``tp 2% sl 1%`` from the fill price and rounds them toward the entry on the
0.1 tick; backtesting.py takes absolute levels when the order is placed, so the strategy
computes them from the signal bar's close with the same rounding. The generated bars open at
the previous close, so the levels are the same. backtesting.py sizes in whole units: it buys 1
BTC where rulebot buys 0.1, which changes no entry, exit or price.

One convention differs and is left out of the comparison: a position still open after the
last bar is closed by rulebot at the last close (exit reason ``end``, SIMULATION.md), while
backtesting.py's ``finalize_trades=True`` closes it at the last bar's *open*. So backtesting.py
runs with ``finalize_trades=False`` (its open trade is not listed) and rulebot's ``end`` trade
is counted apart, as ``backtest_open_at_end``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

from generate_candles import generate, write  # noqa: E402

RULES = ROOT / "examples" / "rsi_dip.yaml"
BALANCE = 10_000_000
TICK = Decimal("0.1")
MINUTE_MS = 60_000


def rulebot_command() -> list[str]:
    script = Path(sys.executable).parent / "rulebot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "rulebot.cli"]


def run_rulebot(data: Path) -> tuple[float, dict[str, object]]:
    """Wall seconds of the whole CLI run, and its JSON document."""
    args = [*rulebot_command(), "backtest", str(RULES), "--data", str(data), "--json", "--balance", str(BALANCE)]
    began = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"rulebot backtest failed ({done.returncode}): {done.stderr.strip()}")
    return seconds, json.loads(done.stdout)


def _tp_sl(close: float) -> tuple[float, float]:
    """rulebot's `tp 2% sl 1%` for a buy filled at ``close``: rounded toward the entry on the tick."""
    fill = Decimal(repr(float(close)))
    tp = (fill * Decimal("1.02") / TICK).to_integral_value(ROUND_FLOOR) * TICK
    sl = (fill * Decimal("0.99") / TICK).to_integral_value(ROUND_CEILING) * TICK
    return float(tp), float(sl)


def run_backtesting_py(data: Path) -> tuple[float, pd.DataFrame]:
    """Wall seconds from reading the file to the result, and backtesting.py's trades."""
    from backtesting import Backtest, Strategy
    from ta.momentum import RSIIndicator

    def rsi(close: np.ndarray) -> np.ndarray:
        return RSIIndicator(pd.Series(close), window=14).rsi().to_numpy()

    class RsiDip(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            self.rsi = self.I(rsi, self.data.Close)

        def next(self) -> None:
            r = self.rsi[-1]
            if not self.position:
                if r < 30:
                    tp, sl = _tp_sl(self.data.Close[-1])
                    self.buy(size=1, tp=tp, sl=sl)
            elif r > 70:
                self.position.close()

    began = time.perf_counter()
    frame = pd.read_csv(data)
    frame.index = pd.to_datetime(frame.pop("timestamp"), unit="ms")
    frame.columns = ["Open", "High", "Low", "Close", "Volume"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # backtesting.py warns about sizes and more; not what is measured
        stats = Backtest(frame, RsiDip, cash=BALANCE * 10, commission=0.00055, trade_on_close=False,
                         exclusive_orders=False, finalize_trades=False).run()
    return time.perf_counter() - began, stats["_trades"]


def compare(ours: list[dict[str, object]], theirs: pd.DataFrame, ts_ms: np.ndarray) -> int:
    """How many of our trades backtesting.py also made: same entry and exit bars and prices."""

    def bar(iso: str) -> int:
        ms = int(pd.Timestamp(iso).value // 1_000_000)
        return min(int(np.searchsorted(ts_ms, ms, side="right")) - 1, ts_ms.size - 1)

    mine = {(bar(str(t["entry_time"])), round(float(t["entry_price"]), 6), bar(str(t["exit_time"])),  # type: ignore[arg-type]
             round(float(t["exit_price"]), 6)) for t in ours}  # type: ignore[arg-type]
    index = {pd.Timestamp(t).value // 1_000_000: i for i, t in enumerate(ts_ms.astype("datetime64[ms]"))}
    matched = 0
    for row in theirs.itertuples():
        key = (index[row.EntryTime.value // 1_000_000], round(float(row.EntryPrice), 6),
               index[row.ExitTime.value // 1_000_000], round(float(row.ExitPrice), 6))
        matched += key in mine
    return matched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    candles = generate(args.days, args.seed)
    bars = int(candles.timestamp_ms.size)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "candles.csv.gz"
        write(candles, data)
        ours_s, doc = min((run_rulebot(data) for _ in range(args.repeat)), key=lambda r: r[0])
        theirs_s, trades = min((run_backtesting_py(data) for _ in range(args.repeat)), key=lambda r: r[0])
    listed = doc["trades"]
    assert isinstance(listed, list)
    ours = [t for t in listed if t["exit_reason"] != "end"]
    matched = compare(ours, trades, candles.timestamp_ms)
    print(f"bars {bars}")
    print(f"backtest_bars_per_s {bars / ours_s:.0f}")
    print(f"backtesting_py_bars_per_s {bars / theirs_s:.0f}")
    print(f"backtest_ratio_vs_backtesting_py {theirs_s / ours_s:.2f}")
    print(f"backtest_trades {len(ours)}")
    print(f"backtesting_py_trades {len(trades)}")
    print(f"backtest_matching_trades {matched}")
    print(f"backtest_same_trades {int(matched == len(ours) == len(trades))}")
    print(f"backtest_open_at_end {len(listed) - len(ours)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
