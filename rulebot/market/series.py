"""Whole-history indicator series, for backtests: values identical to the bar-by-bar kernels.

`compute_series` gives, for every bar of a candle history, the value the `IndicatorCache`
would hold after that bar closed. Where ta is vectorised (rolling means, sums, variances,
min/max, exponential means) it calls ta itself; the kernels mirror that arithmetic bit for
bit. Where ta loops in Python per window or per bar, and would take seconds to minutes on
a year of minutes (WMA ~60 s, PSAR ~60 s, CCI and MFI ~8 s, ADX ~5 s for 525,600 bars),
this module computes the same formula with numpy over sliding windows (same reductions,
same operand order) or repeats the kernel's recursion in one tight loop. tests/market/
proves both claims: series == bar-by-bar exactly, and series == ta over the full history.

Invalid bars (NaN, zero or inconsistent prices; see `candles.bar_is_valid`) are skipped as
the kernels skip them: the indicator runs over the valid bars only and is NaN at an invalid
bar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from ta.momentum import (
    ROCIndicator,
    RSIIndicator,
    StochasticOscillator,
    StochRSIIndicator,
    WilliamsRIndicator,
)
from ta.trend import MACD, EMAIndicator, SMAIndicator
from ta.volatility import BollingerBands, DonchianChannel
from ta.volume import OnBalanceVolumeIndicator, VolumeWeightedAveragePrice

from rulebot.market.indicator_spec import Family, IndicatorSpec, family_of
from rulebot.market.kernels import wma_weights

# rows of a sliding-window block: bounds the temporary (rows x window) arrays to ~32 MB
_BLOCK_ELEMENTS = 1 << 22


@dataclass(frozen=True, slots=True)
class CandleArrays:
    """A candle history as numpy float64 arrays of equal length, oldest first."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.close)
        if any(len(a) != n for a in (self.open, self.high, self.low, self.volume)):
            raise ValueError("candle arrays must have the same length")


def valid_mask(c: CandleArrays) -> np.ndarray:
    """Which bars are valid (vectorised `candles.bar_is_valid`)."""
    with np.errstate(invalid="ignore"):
        mask: np.ndarray = (
            np.isfinite(c.open)
            & np.isfinite(c.high)
            & np.isfinite(c.low)
            & np.isfinite(c.close)
            & np.isfinite(c.volume)
            & (c.low > 0)
            & (c.volume >= 0)
            & (c.low <= c.open)
            & (c.low <= c.close)
            & (c.high >= c.open)
            & (c.high >= c.close)
        )
    return mask


def compute_series(spec: IndicatorSpec, candles: CandleArrays) -> np.ndarray:
    """The indicator for every bar of ``candles`` (NaN where unknown), in the language's scale."""
    family, output = family_of(spec)
    return compute_family(family, candles)[output]


def compute_family(family: Family, candles: CandleArrays) -> tuple[np.ndarray, ...]:
    """All outputs of one computation family for every bar (see `compute_series`)."""
    valid = valid_mask(candles)
    columns = [np.asarray(a, dtype=np.float64) for a in (candles.open, candles.high, candles.low, candles.close, candles.volume)]
    if not valid.all():
        columns = [a[valid] for a in columns]
    with np.errstate(divide="ignore", invalid="ignore"):
        outputs = _FAMILIES[family.name](family.params, *columns)
    finite = [np.where(np.isfinite(x), x, np.nan) for x in outputs]
    if valid.all():
        return tuple(finite)
    scattered = []
    for x in finite:
        full = np.full(len(valid), np.nan)
        full[valid] = x
        scattered.append(full)
    return tuple(scattered)


Arrays = tuple[np.ndarray, ...]
Params = tuple[int | float, ...]
_Fn = Callable[..., Arrays]


def _s(x: np.ndarray) -> pd.Series:
    return pd.Series(x)


def _np(x: pd.Series) -> np.ndarray:
    out: np.ndarray = x.to_numpy(dtype=np.float64, copy=True)
    return out


def _window_reduce(x: np.ndarray, n: int, reduce: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``reduce`` over every full window of ``n`` values (NaN before), in bounded blocks."""
    out = np.full(len(x), np.nan)
    if len(x) < n:
        return out
    windows = sliding_window_view(x, n)
    step = max(1, _BLOCK_ELEMENTS // n)
    for start in range(0, len(windows), step):
        out[n - 1 + start : n - 1 + start + step] = reduce(windows[start : start + step])
    return out


def _sma(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    return (_np(SMAIndicator(_s(c), int(p[0])).sma_indicator()),)


def _ema(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    return (_np(EMAIndicator(_s(c), int(p[0])).ema_indicator()),)


def _wma(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    weights = wma_weights(int(p[0]))
    return (_window_reduce(c, int(p[0]), lambda w: (w * weights).sum(axis=1)),)


def _vwap(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    ind = VolumeWeightedAveragePrice(_s(h), _s(lo), _s(c), _s(v), window=int(p[0]))
    return (_np(ind.volume_weighted_average_price()),)


def _bb(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    bands = BollingerBands(_s(c), window=int(p[0]), window_dev=p[1])
    width = _np(bands.bollinger_wband()) / 100
    return (
        _np(bands.bollinger_hband()),
        _np(bands.bollinger_mavg()),
        _np(bands.bollinger_lband()),
        _np(bands.bollinger_pband()),
        width,
    )


def _atr_array(h: np.ndarray, lo: np.ndarray, c: np.ndarray, n: int) -> np.ndarray:
    """`kernels.AtrKernel` over all bars: true ranges vectorised, the Wilder recursion in a tight loop."""
    out = np.full(len(c), np.nan)
    if len(c) < n:
        return out
    tr = h - lo
    tr[1:] = np.maximum(np.maximum(tr[1:], np.abs(h[1:] - c[:-1])), np.abs(lo[1:] - c[:-1]))
    atr = float(tr[:n].sum()) / n
    values = [atr]
    k = n - 1
    fn = float(n)
    for x in tr[n:].tolist():
        atr = (atr * k + x) / fn
        values.append(atr)
    out[n - 1 :] = values
    return out


def _atr(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    return (_atr_array(h, lo, c, int(p[0])),)


def _keltner(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    n = int(p[0])
    # ta KeltnerChannel(original_version=False): EMA(n) of close (computed by pandas, as in
    # ta) plus/minus 2 x ATR(10); ta's ATR is a Python loop, so the kernel computes it
    mid = _np(_s(c).ewm(span=n, min_periods=n, adjust=False).mean())
    atr = _atr_array(h, lo, c, 10)
    return (mid + (2 * atr), mid - (2 * atr))


def _highest(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    return (_np(DonchianChannel(_s(h), _s(lo), _s(c), window=int(p[0])).donchian_channel_hband()),)


def _lowest(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    return (_np(DonchianChannel(_s(h), _s(lo), _s(c), window=int(p[0])).donchian_channel_lband()),)


def _macd(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    ind = MACD(_s(c), window_fast=int(p[0]), window_slow=int(p[1]), window_sign=int(p[2]))
    return (_np(ind.macd()), _np(ind.macd_signal()), _np(ind.macd_diff()))


def _rsi(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    return (_np(RSIIndicator(_s(c), window=int(p[0])).rsi()),)


def _stoch(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    ind = StochasticOscillator(_s(h), _s(lo), _s(c), window=int(p[0]), smooth_window=int(p[1]))
    return (_np(ind.stoch()), _np(ind.stoch_signal()))


def _stoch_rsi(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    return (_np(StochRSIIndicator(_s(c), window=int(p[0])).stochrsi()) * 100,)


def _mfi(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    n = int(p[0])
    tp = (h + lo + c) / 3.0
    prev = np.concatenate(([np.nan], tp[:-1]))
    direction = np.where(tp > prev, 1, np.where(tp < prev, -1, 0))
    flows = tp * v * direction
    positive = _window_reduce(np.where(flows >= 0.0, flows, 0.0), n, lambda w: w.sum(axis=1))
    negative = np.abs(_window_reduce(np.where(flows < 0.0, flows, 0.0), n, lambda w: w.sum(axis=1)))
    return (100 - (100 / (1 + positive / negative)),)


def _williams(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    return (_np(WilliamsRIndicator(_s(h), _s(lo), _s(c), lbp=int(p[0])).williams_r()),)


def _cci(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    n = int(p[0])
    tp = (h + lo + c) / 3.0
    mean = _np(_s(tp).rolling(n, min_periods=n).mean())
    mad = _window_reduce(tp, n, lambda w: np.abs(w - w.mean(axis=1, keepdims=True)).mean(axis=1))
    return ((tp - mean) / (0.015 * mad),)


def _roc(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    return (_np(ROCIndicator(_s(c), window=int(p[0])).roc()) / 100,)


def _change(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    n = int(p[0])
    out = np.full(len(c), np.nan)
    out[n:] = c[n:] / c[:-n] - 1
    return (out,)


def _obv(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    return (_np(OnBalanceVolumeIndicator(_s(c), _s(v)).on_balance_volume()),)


def _adx(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    """`oscillators.AdxKernel` over all bars: the per-bar arithmetic vectorised, the recursions in loops."""
    n = int(p[0])
    size = len(c)
    out = np.full(size, np.nan)
    if size < 2 * n:
        return (out,)
    tr = np.maximum(h[1:], c[:-1]) - np.minimum(lo[1:], c[:-1])
    up = h[1:] - h[:-1]
    down = lo[:-1] - lo[1:]
    pos = np.where((up > down) & (up > 0), np.abs(up), 0.0)
    neg = np.where((down > up) & (down > 0), np.abs(down), 0.0)
    # Wilder sums from bar n on (index i here is bar i + 1)
    smoothed = []
    for series in (tr, pos, neg):
        total = float(series[:n].sum())
        sums = [total]
        for x in series[n:].tolist():
            total = total - (total / float(n)) + x
            sums.append(total)
        smoothed.append(np.array(sums))
    s_tr, s_pos, s_neg = smoothed
    di_pos = np.where(s_tr != 0, 100 * (s_pos / s_tr), 0.0)
    di_neg = np.where(s_tr != 0, 100 * (s_neg / s_tr), 0.0)
    total_di = di_pos + di_neg
    dx = np.where(total_di != 0, 100 * np.abs((di_pos - di_neg) / total_di), 0.0)  # dx[j] is bar n + j
    adx = float(dx[:n].mean())
    values = [adx]
    for x in dx[n:].tolist():
        adx = ((adx * (n - 1)) + x) / float(n)
        values.append(adx)
    out[2 * n - 1 :] = values
    return (out,)


def _psar(p: Params, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> Arrays:
    """`kernels.PsarKernel` over all bars, as one loop with local state (ta's own loop is ~40x slower)."""
    step, max_step = float(p[0]), float(p[1])
    size = len(c)
    out = np.full(size, np.nan)
    if size < 3:
        return (out,)
    highs, lows = h.tolist(), lo.tolist()
    up = True
    af = step
    up_high, down_low = highs[0], lows[0]
    psar = float(c[1])
    values = []
    for i in range(2, size):
        high, low = highs[i], lows[i]
        reversal = False
        if up:
            psar = psar + af * (up_high - psar)
            if low < psar:
                reversal = True
                psar = up_high
                down_low = low
                af = step
            else:
                if high > up_high:
                    up_high = high
                    af = min(af + step, max_step)
                if lows[i - 2] < psar:
                    psar = lows[i - 2]
                elif lows[i - 1] < psar:
                    psar = lows[i - 1]
        else:
            psar = psar - af * (psar - down_low)
            if high > psar:
                reversal = True
                psar = down_low
                up_high = high
                af = step
            else:
                if low < down_low:
                    down_low = low
                    af = min(af + step, max_step)
                if highs[i - 2] > psar:
                    psar = highs[i - 2]
                elif highs[i - 1] > psar:
                    psar = highs[i - 1]
        up = up != reversal
        values.append(psar)
    out[2:] = values
    return (out,)


_FAMILIES: dict[str, _Fn] = {
    "sma": _sma,
    "ema": _ema,
    "wma": _wma,
    "vwap": _vwap,
    "psar": _psar,
    "bb": _bb,
    "keltner": _keltner,
    "highest": _highest,
    "lowest": _lowest,
    "atr": _atr,
    "macd": _macd,
    "rsi": _rsi,
    "stoch": _stoch,
    "stoch_rsi": _stoch_rsi,
    "mfi": _mfi,
    "adx": _adx,
    "williams_r": _williams,
    "cci": _cci,
    "roc": _roc,
    "change": _change,
    "obv": _obv,
}
