"""The parity baseline: the RSI-dip strategy as a plain loop over numpy arrays, from SIMULATION.md alone.

"Buy QTY at market when rsi(14) < 30 and flat; exit at tp 2% / sl 1% (from the fill price) or
when rsi(14) > 70", evaluated at each bar close (``trigger: level``), RSI from ``ta``:

* a signal at bar ``i``'s close fills at bar ``i + 1``'s open (a signal on the last bar does
  nothing); the exit signal's market order fills at the open before anything else;
* take profit and stop loss are the fill price ± 2% / 1%, rounded to the tick toward the
  entry; the stop loss wins when one bar touches both; a bar opening beyond a level fills at
  the open;
* a position closed earlier in a bar is flat at its close, so the entry may fire again there;
* whatever is open after the last bar is closed at the last close (reason ``end``);
* taker fees on every fill; PnL of a linear contract.

``rulebot`` must reproduce these trades exactly through its engine and paper exchange
(``tests/engine/test_parity.py``); ``benchmarks/replay_bench.py`` times both.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import numpy as np
import numpy.typing as npt
import pandas as pd
import ta

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Trade:
    """One round trip: bars are indices into the arrays; prices as floats."""

    entry_bar: int
    entry_price: float
    exit_bar: int
    exit_price: float
    reason: str


@dataclass(frozen=True, slots=True)
class Params:
    """The strategy's numbers."""

    qty: float = 0.1
    rsi_n: int = 14
    low: float = 30.0
    high: float = 70.0
    tp_pct: str = "2"
    sl_pct: str = "1"
    tick: str = "0.1"
    taker_fee: float = 0.00055
    balance: float = 10_000.0


def rsi_ta(close: FloatArray, n: int = 14) -> FloatArray:
    """RSI(n) of ``ta`` over the whole series."""
    rsi: FloatArray = ta.momentum.RSIIndicator(pd.Series(close), n).rsi().to_numpy(dtype=np.float64)
    return rsi


def _levels(fill: float, p: Params) -> tuple[float, float]:
    """Take profit and stop loss of a long filled at ``fill``, on the tick toward the entry."""
    tick = Decimal(p.tick)
    entry = Decimal(repr(fill))
    tp = (entry * (1 + Decimal(p.tp_pct) / 100) / tick).to_integral_value(ROUND_FLOOR) * tick
    sl = (entry * (1 - Decimal(p.sl_pct) / 100) / tick).to_integral_value(ROUND_CEILING) * tick
    return float(tp), float(sl)


def run_loop(
    o: FloatArray, h: FloatArray, lo: FloatArray, c: FloatArray, rsi: FloatArray, p: Params = Params()
) -> tuple[list[Trade], float]:
    """The trades of the strategy, and the final balance."""
    opens, highs, lows, closes, rsis = o.tolist(), h.tolist(), lo.tolist(), c.tolist(), rsi.tolist()
    n = len(closes)
    qty, fee_rate, low, high = p.qty, p.taker_fee, p.low, p.high
    trades: list[Trade] = []
    balance = p.balance
    want_in = want_out = False
    in_pos = False
    entry_bar = 0
    entry = tp = sl = 0.0
    for i in range(n):
        op = opens[i]
        if want_out:
            trades.append(Trade(entry_bar, entry, i, op, "rule"))
            balance += (op - entry) * qty - round(op * qty * fee_rate, 8)
            in_pos = want_out = False
        elif want_in:
            entry_bar, entry = i, op
            tp, sl = _levels(op, p)
            balance -= round(op * qty * fee_rate, 8)
            in_pos, want_in = True, False
        if in_pos:
            exit_price = 0.0
            reason = ""
            if op <= sl:
                exit_price, reason = op, "sl"
            elif lows[i] <= sl:
                exit_price, reason = sl, "sl"
            elif op >= tp:
                exit_price, reason = op, "tp"
            elif highs[i] >= tp:
                exit_price, reason = tp, "tp"
            if reason:
                trades.append(Trade(entry_bar, entry, i, exit_price, reason))
                balance += (exit_price - entry) * qty - round(exit_price * qty * fee_rate, 8)
                in_pos = False
        if i == n - 1:
            break
        r = rsis[i]
        if in_pos:
            want_out = r > high
        else:
            want_in = r < low
    if in_pos:
        last = closes[-1]
        trades.append(Trade(entry_bar, entry, n - 1, last, "end"))
        balance += (last - entry) * qty - round(last * qty * fee_rate, 8)
    return trades, balance


def bars_per_second(o: FloatArray, h: FloatArray, lo: FloatArray, c: FloatArray, p: Params = Params()) -> float:
    """The loop's speed, RSI included."""
    start = time.perf_counter()
    run_loop(o, h, lo, c, rsi_ta(c, p.rsi_n), p)
    return len(c) / (time.perf_counter() - start)
