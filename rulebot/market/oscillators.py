"""Bar-by-bar oscillators that repeat ta 0.11's formulas step for step.

The companion of `kernels.py` (same contract: ``update`` with the next valid bar, outputs
bit-identical to ta over the same bars, LANGUAGE.md §3 scales, infinite results unknown).
"""

from __future__ import annotations

import numpy as np

from rulebot.market.rolling import NAN, Ewm, Ring, RollingMean, finite_or_nan, ieee_div


class RsiKernel:
    """ta ``RSIIndicator``: Wilder smoothing seeded with zero gains at the first bar.

    The two means are `Ewm` recursions (``ewm(alpha=1/n, min_periods=n, adjust=False)`` of the
    gains and of the losses), written out here with the same operations in the same order: the
    RSI of a replay's rule runs on every bar, and two method calls per bar were a fair part of it.
    Gains and losses are never NaN (the difference of two valid closes, or 0 at the first bar),
    so `Ewm`'s leading-NaN case never arises.
    """

    __slots__ = ("_n", "_old_wt", "_new_wt", "_total_wt", "_up", "_down", "_nobs", "_prev_close")

    def __init__(self, n: int) -> None:
        self._n = n
        self._old_wt, self._new_wt = Ewm.alpha(1 / n, n).weights
        self._total_wt = self._old_wt + self._new_wt
        self._up = self._down = NAN
        self._nobs = 0
        self._prev_close = NAN

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        diff = c - self._prev_close
        self._prev_close = c
        # ta: up = diff where diff > 0 else 0; down = -(diff where diff < 0 else 0), so -0.0 for no loss
        if diff > 0:
            up, down = diff, -0.0
        elif diff < 0:
            up, down = 0.0, -diff
        else:
            up, down = 0.0, -0.0
        nobs = self._nobs = self._nobs + 1
        if nobs == 1:
            self._up = up
            self._down = down
        else:
            w = self._up
            if w != up:
                self._up = (self._old_wt * w + self._new_wt * up) / self._total_wt
            w = self._down
            if w != down:
                self._down = (self._old_wt * w + self._new_wt * down) / self._total_wt
        if nobs < self._n:
            return (NAN,)
        ema_down = self._down
        if ema_down == 0:
            return (100.0,)
        return (100 - (100 / (1 + self._up / ema_down)),)


class StochKernel:
    """ta ``StochasticOscillator``: (%K, %D)."""

    def __init__(self, n: int, smooth: int) -> None:
        self._highs = Ring(n)
        self._lows = Ring(n)
        self._signal = RollingMean(smooth)

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        self._highs.push(h)
        self._lows.push(lo)
        k = NAN
        if self._highs.full():
            low_min = float(self._lows.window().min())
            high_max = float(self._highs.window().max())
            k = ieee_div(100 * (c - low_min), high_max - low_min)
        d = self._signal.push(k)
        return (finite_or_nan(k), finite_or_nan(d))


class StochRsiKernel:
    """ta ``StochRSIIndicator.stochrsi`` x 100 (ta gives 0..1)."""

    def __init__(self, n: int) -> None:
        self._rsi = RsiKernel(n)
        self._window = Ring(n)

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        (rsi,) = self._rsi.update(o, h, lo, c, v)
        if rsi != rsi:
            return (NAN,)
        self._window.push(rsi)
        if not self._window.full():
            return (NAN,)
        values = self._window.window()
        low = float(values.min())
        high = float(values.max())
        return (finite_or_nan(ieee_div(rsi - low, high - low)) * 100,)


class MfiKernel:
    """ta ``MFIIndicator``: signed raw money flow summed over each window."""

    def __init__(self, n: int) -> None:
        self._flows = Ring(n)
        self._prev_tp = NAN

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        tp = (h + lo + c) / 3.0
        prev = self._prev_tp
        self._prev_tp = tp
        direction = 1 if tp > prev else (-1 if tp < prev else 0)
        self._flows.push(tp * v * direction)
        if not self._flows.full():
            return (NAN,)
        flows = self._flows.window()
        positive = float(np.sum(np.where(flows >= 0.0, flows, 0.0)))
        negative = abs(float(np.sum(np.where(flows < 0.0, flows, 0.0))))
        ratio = ieee_div(positive, negative)
        return (finite_or_nan(100 - (100 / (1 + ratio))),)


class AdxKernel:
    """ta ``ADXIndicator.adx``.

    ta sums the first n directional movements (bars 1..n), Wilder-smooths them, and seeds
    ADX with the mean of the first n DX values; the first ADX is at bar 2n - 1 (ta puts 0
    before it).
    """

    def __init__(self, n: int) -> None:
        self._n = n
        self._i = 0
        self._ph = self._pl = self._pc = NAN
        self._tr: list[float] = []
        self._pos: list[float] = []
        self._neg: list[float] = []
        self._s_tr = self._s_pos = self._s_neg = NAN
        self._dx: list[float] = []
        self._adx = NAN

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        i = self._i
        self._i += 1
        ph, pl, pc = self._ph, self._pl, self._pc
        self._ph, self._pl, self._pc = h, lo, c
        if i == 0:
            return (NAN,)
        n = self._n
        tr = max(h, pc) - min(lo, pc)
        up = h - ph
        down = pl - lo
        pos = abs(up) if (up > down and up > 0) else 0.0
        neg = abs(down) if (down > up and down > 0) else 0.0
        if i <= n:
            self._tr.append(tr)
            self._pos.append(pos)
            self._neg.append(neg)
            if i < n:
                return (NAN,)
            self._s_tr = float(np.array(self._tr).sum())
            self._s_pos = float(np.array(self._pos).sum())
            self._s_neg = float(np.array(self._neg).sum())
        else:
            self._s_tr = self._s_tr - (self._s_tr / float(n)) + tr
            self._s_pos = self._s_pos - (self._s_pos / float(n)) + pos
            self._s_neg = self._s_neg - (self._s_neg / float(n)) + neg
        s_tr = self._s_tr
        di_pos = 100 * (self._s_pos / s_tr) if s_tr != 0 else 0.0
        di_neg = 100 * (self._s_neg / s_tr) if s_tr != 0 else 0.0
        total = di_pos + di_neg
        dx = 100 * abs((di_pos - di_neg) / total) if total != 0 else 0.0
        if i < 2 * n - 1:
            self._dx.append(dx)
            return (NAN,)
        if i == 2 * n - 1:
            self._dx.append(dx)
            self._adx = float(np.array(self._dx).mean())
        else:
            self._adx = ((self._adx * (n - 1)) + dx) / float(n)
        return (self._adx,)


class WilliamsKernel:
    """ta ``WilliamsRIndicator``: -100 x (highest - close) / (highest - lowest)."""

    def __init__(self, n: int) -> None:
        self._highs = Ring(n)
        self._lows = Ring(n)

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        self._highs.push(h)
        self._lows.push(lo)
        if not self._highs.full():
            return (NAN,)
        high_max = float(self._highs.window().max())
        low_min = float(self._lows.window().min())
        return (finite_or_nan(ieee_div(-100 * (high_max - c), high_max - low_min)),)


class CciKernel:
    """ta ``CCIIndicator``: (tp - SMA(tp)) / (0.015 x mean absolute deviation)."""

    def __init__(self, n: int) -> None:
        self._mean = RollingMean(n)
        self._tps = Ring(n)

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        tp = (h + lo + c) / 3.0
        mean = self._mean.push(tp)
        self._tps.push(tp)
        if not self._tps.full():
            return (NAN,)
        x = self._tps.window()
        mad = float(np.mean(np.abs(x - np.mean(x))))
        return (finite_or_nan(ieee_div(tp - mean, 0.015 * mad)),)


class RocKernel:
    """ta ``ROCIndicator`` / 100 (ta gives percentage points; the language a fraction)."""

    def __init__(self, n: int) -> None:
        self._closes = Ring(n + 1)

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        self._closes.push(c)
        if not self._closes.full():
            return (NAN,)
        old = self._closes.oldest()
        return (finite_or_nan(ieee_div(c - old, old) * 100 / 100),)


class ChangeKernel:
    """``close / close[n] - 1`` (not in ta; the same arithmetic as `series.change_series`)."""

    def __init__(self, n: int) -> None:
        self._closes = Ring(n + 1)

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        self._closes.push(c)
        if not self._closes.full():
            return (NAN,)
        return (finite_or_nan(ieee_div(c, self._closes.oldest()) - 1),)
