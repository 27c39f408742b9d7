"""Bar-by-bar indicator computations that repeat ta 0.11's formulas step for step.

One kernel per computation family (see `indicator_spec.Family`). ``update`` takes the next
*valid* closed bar and returns the family's outputs for it, NaN while unknown. Each kernel
mirrors the ta source it names, with the same operations in the same order, so its values
equal ta's over the same bars bit for bit (proved in tests/market/test_indicators_ta.py).
Scale conversions of LANGUAGE.md §3 are applied here and in `series.py` alike: stoch_rsi
x 100, bb_width and roc / 100. An infinite result (a zero divisor) is NaN: unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from rulebot.market.indicator_spec import Family
from rulebot.market.oscillators import (
    AdxKernel,
    CciKernel,
    ChangeKernel,
    MfiKernel,
    RocKernel,
    RsiKernel,
    StochKernel,
    StochRsiKernel,
    WilliamsKernel,
)
from rulebot.market.rolling import (
    NAN,
    Ewm,
    Ring,
    RollingMean,
    RollingSum,
    RollingVar,
    finite_or_nan,
    ieee_div,
    zsqrt,
)


class Kernel(Protocol):
    """A bar-by-bar computation: ``update`` with the next valid bar, get its outputs."""

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        """Advance by one valid closed bar; return the outputs for that bar."""
        ...


class SmaKernel:
    """ta ``SMAIndicator``: ``close.rolling(n).mean()``."""

    def __init__(self, n: int) -> None:
        self._mean = RollingMean(n)

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        return (self._mean.push(c),)


class EmaKernel:
    """ta ``EMAIndicator``: ``close.ewm(span=n, min_periods=n, adjust=False).mean()``."""

    def __init__(self, n: int) -> None:
        self._ewm = Ewm.span(n, n)

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        return (self._ewm.push(c),)


def wma_weights(n: int) -> np.ndarray:
    """ta ``WMAIndicator``'s weights, built with the same float operations."""
    return np.array([i * 2 / (n * (n + 1)) for i in range(1, n + 1)])


class WmaKernel:
    """ta ``WMAIndicator``: ``(weights * window).sum()`` over each full window."""

    def __init__(self, n: int) -> None:
        self._ring = Ring(n)
        self._weights = wma_weights(n)

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        self._ring.push(c)
        if not self._ring.full():
            return (NAN,)
        return (float((self._weights * self._ring.window()).sum()),)


class VwapKernel:
    """ta ``VolumeWeightedAveragePrice``: rolling sum of typical price x volume / rolling volume."""

    def __init__(self, n: int) -> None:
        self._pv = RollingSum(n)
        self._vol = RollingSum(n)

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        tp = (h + lo + c) / 3.0
        pv = self._pv.push(tp * v)
        vol = self._vol.push(v)
        return (finite_or_nan(ieee_div(pv, vol)),)


class PsarKernel:
    """ta ``PSARIndicator._run``, one bar per call; unknown for the first two bars."""

    def __init__(self, step: float, max_step: float) -> None:
        self._step = step
        self._max_step = max_step
        self._i = 0
        self._up = True
        self._af = step
        self._up_high = NAN
        self._down_low = NAN
        self._psar = NAN
        self._h1 = self._h2 = self._l1 = self._l2 = NAN

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        i = self._i
        self._i += 1
        if i < 2:
            if i == 0:
                self._up_high = h
                self._down_low = lo
            # ta's series starts as a copy of close; the loop starts at the third bar
            self._psar = c
            self._h2, self._h1 = self._h1, h
            self._l2, self._l1 = self._l1, lo
            return (NAN,)
        prev = self._psar
        reversal = False
        if self._up:
            psar = prev + self._af * (self._up_high - prev)
            if lo < psar:
                reversal = True
                psar = self._up_high
                self._down_low = lo
                self._af = self._step
            else:
                if h > self._up_high:
                    self._up_high = h
                    self._af = min(self._af + self._step, self._max_step)
                if self._l2 < psar:
                    psar = self._l2
                elif self._l1 < psar:
                    psar = self._l1
        else:
            psar = prev - self._af * (prev - self._down_low)
            if h > psar:
                reversal = True
                psar = self._down_low
                self._up_high = h
                self._af = self._step
            else:
                if lo < self._down_low:
                    self._down_low = lo
                    self._af = min(self._af + self._step, self._max_step)
                if self._h2 > psar:
                    psar = self._h2
                elif self._h1 > psar:
                    psar = self._h1
        self._up = self._up != reversal
        self._psar = psar
        self._h2, self._h1 = self._h1, h
        self._l2, self._l1 = self._l1, lo
        return (psar,)


class BbKernel:
    """ta ``BollingerBands``: (upper, mid, lower, %B, width as a fraction)."""

    def __init__(self, n: int, k: float) -> None:
        self._mean = RollingMean(n)
        self._var = RollingVar(n, ddof=0)
        self._k = k

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        mid = self._mean.push(c)
        std = zsqrt(self._var.push(c))
        upper = mid + self._k * std
        lower = mid - self._k * std
        band = upper - lower
        pct = ieee_div(c - lower, band) if upper != lower else NAN
        width = ieee_div(band, mid) * 100 / 100
        return (upper, mid, lower, finite_or_nan(pct), finite_or_nan(width))


class AtrKernel:
    """ta ``AverageTrueRange``: SMA seed of the first n true ranges, then Wilder smoothing."""

    def __init__(self, n: int) -> None:
        self._n = n
        self._seed: list[float] = []
        self._atr = NAN
        self._prev_close = NAN

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        pc = self._prev_close
        self._prev_close = c
        tr = h - lo
        if pc == pc:
            tr = max(tr, abs(h - pc), abs(lo - pc))
        n = self._n
        if len(self._seed) < n:
            self._seed.append(tr)
            if len(self._seed) < n:
                return (NAN,)
            self._atr = float(np.array(self._seed).sum()) / n
        else:
            self._atr = (self._atr * (n - 1) + tr) / float(n)
        return (self._atr,)


class KeltnerKernel:
    """ta ``KeltnerChannel(window=n, window_atr=10, original_version=False)``: (upper, lower)."""

    def __init__(self, n: int) -> None:
        self._ema = Ewm.span(n, n)
        self._atr = AtrKernel(10)

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        mid = self._ema.push(c)
        (atr,) = self._atr.update(o, h, lo, c, v)
        return (mid + (2 * atr), mid - (2 * atr))


class HighestKernel:
    """ta ``DonchianChannel.donchian_channel_hband``: ``high.rolling(n).max()``."""

    def __init__(self, n: int) -> None:
        self._ring = Ring(n)

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        self._ring.push(h)
        return (float(self._ring.window().max()),) if self._ring.full() else (NAN,)


class LowestKernel:
    """ta ``DonchianChannel.donchian_channel_lband``: ``low.rolling(n).min()``."""

    def __init__(self, n: int) -> None:
        self._ring = Ring(n)

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        self._ring.push(lo)
        return (float(self._ring.window().min()),) if self._ring.full() else (NAN,)


class MacdKernel:
    """ta ``MACD``: (line, signal, histogram); the signal EMA starts where the line is known."""

    def __init__(self, fast: int, slow: int, signal: int) -> None:
        self._fast = Ewm.span(fast, fast)
        self._slow = Ewm.span(slow, slow)
        self._signal = Ewm.span(signal, signal)

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        line = self._fast.push(c) - self._slow.push(c)
        signal = self._signal.push(line)
        return (line, signal, line - signal)


class ObvKernel:
    """ta ``OnBalanceVolumeIndicator``: cumulative ± volume from the first bar fed."""

    def __init__(self) -> None:
        self._total = 0.0
        self._prev_close = NAN

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        self._total += -v if c < self._prev_close else v
        self._prev_close = c
        return (self._total,)


def make_kernel(family: Family) -> Kernel:
    """A fresh kernel for a computation family."""
    p = family.params
    name = family.name
    if name == "bb":
        return BbKernel(int(p[0]), float(p[1]))
    if name == "psar":
        return PsarKernel(float(p[0]), float(p[1]))
    if name == "macd":
        return MacdKernel(int(p[0]), int(p[1]), int(p[2]))
    if name == "stoch":
        return StochKernel(int(p[0]), int(p[1]))
    if name == "obv":
        return ObvKernel()
    single = _SINGLE.get(name)
    if single is None:
        raise ValueError(f"no kernel for indicator family '{name}'")
    return single(int(p[0]))


_SINGLE: dict[str, Callable[[int], Kernel]] = {
    "sma": SmaKernel,
    "ema": EmaKernel,
    "wma": WmaKernel,
    "vwap": VwapKernel,
    "keltner": KeltnerKernel,
    "highest": HighestKernel,
    "lowest": LowestKernel,
    "atr": AtrKernel,
    "rsi": RsiKernel,
    "stoch_rsi": StochRsiKernel,
    "mfi": MfiKernel,
    "adx": AdxKernel,
    "williams_r": WilliamsKernel,
    "cci": CciKernel,
    "roc": RocKernel,
    "change": ChangeKernel,
}

