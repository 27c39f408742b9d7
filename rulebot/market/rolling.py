"""Streaming primitives that repeat pandas' own arithmetic, one value at a time.

`ta` computes its indicators with pandas: rolling means and sums are running Kahan sums,
rolling variance is Welford's method with Kahan compensation, exponential means are a
recursion seeded by the first value. A bar-by-bar engine that recomputed each window from
scratch would differ from `ta` in the last bits (and, for the rolling variance, by up to
1e-8 relative on BTC prices, because pandas' running variance carries rounding from the
whole history). These classes carry pandas' running state forward instead, with the same
operations in the same order, so a value computed bar by bar is *bit-identical* to the one
`ta` computes over the full history (tests/market/test_indicators_ta.py proves it on real
candles). They mirror pandas 3.x (`pandas/_libs/window/aggregations.pyx`: `roll_mean`,
`roll_sum`, `roll_var`, `ewm`); if pandas changes that arithmetic, those tests say so.

Every window here has a fixed length ``n`` and ``min_periods == n``, as `ta` uses them.
"""

from __future__ import annotations

import math

import numpy as np

NAN = math.nan
_INV_COND_TOL = float(np.finfo(np.float64).eps) * 1e3


def ieee_div(a: float, b: float) -> float:
    """``a / b`` as numpy computes it: a zero divisor gives ±inf or NaN, never an exception."""
    if b == 0.0:
        if a != a or a == 0.0:
            return NAN
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def finite_or_nan(x: float) -> float:
    """The value, or NaN (unknown) if it is infinite."""
    return x if math.isfinite(x) else NAN


class Ring:
    """The last ``size`` values of a stream, readable oldest-first as one contiguous view.

    Each value is written twice (at ``i`` and ``i + size``) so that the current window is
    always one slice of the buffer: no copy, and numpy reduces it exactly as it reduces the
    same window inside a pandas rolling ``apply``.
    """

    __slots__ = ("size", "count", "_buf", "_pos")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"window size must be at least 1, got {size}")
        self.size = size
        self.count = 0
        self._buf = np.full(2 * size, NAN)
        self._pos = 0

    def push(self, x: float) -> float:
        """Append ``x``; return the value that left the window (NaN while it is filling)."""
        i = self._pos
        buf = self._buf
        size = self.size
        old = float(buf[i]) if self.count >= size else NAN
        buf[i] = x
        buf[i + size] = x
        self._pos = i + 1 if i + 1 < size else 0
        self.count += 1
        return old

    def window(self) -> np.ndarray:
        """The values held, oldest first (a view; do not keep it across pushes)."""
        if self.count >= self.size:
            return self._buf[self._pos : self._pos + self.size]
        return self._buf[: self.count]

    def full(self) -> bool:
        """True once ``size`` values have been pushed."""
        return self.count >= self.size

    def oldest(self) -> float:
        """The oldest value held (NaN when empty)."""
        if self.count == 0:
            return NAN
        return float(self._buf[self._pos]) if self.count >= self.size else float(self._buf[0])


class RollingMean:
    """pandas ``Series.rolling(n).mean()``: running Kahan sum, sign and same-value guards."""

    __slots__ = ("n", "_ring", "_sum", "_comp_add", "_comp_rem", "_nobs", "_neg", "_same", "_prev", "_started")

    def __init__(self, n: int) -> None:
        self.n = n
        self._ring = Ring(n)
        self._sum = 0.0
        self._comp_add = 0.0
        self._comp_rem = 0.0
        self._nobs = 0
        self._neg = 0
        self._same = 0
        self._prev = NAN
        self._started = False

    def push(self, x: float) -> float:
        """Add the next value; return the mean of the last ``n`` (NaN until ``n`` are known)."""
        old = self._ring.push(x)
        if not self._started or self.n == 1:
            # pandas sets up a window from scratch at the first row, and at every row when
            # consecutive windows do not overlap (a window of one)
            self._started = True
            self._sum = self._comp_add = self._comp_rem = 0.0
            self._nobs = self._neg = self._same = 0
            self._prev = x
        elif old == old:
            self._nobs -= 1
            y = -old - self._comp_rem
            t = self._sum + y
            self._comp_rem = t - self._sum - y
            self._sum = t
            if math.copysign(1.0, old) < 0.0:
                self._neg -= 1
        if x == x:
            self._nobs += 1
            y = x - self._comp_add
            t = self._sum + y
            self._comp_add = t - self._sum - y
            self._sum = t
            if math.copysign(1.0, x) < 0.0:
                self._neg += 1
            if x == self._prev:
                self._same += 1
            else:
                self._same = 1
            self._prev = x
        nobs = self._nobs
        if nobs < self.n or nobs == 0:
            return NAN
        result = self._sum / nobs
        if self._same >= nobs:
            return self._prev
        if self._neg == 0 and result < 0.0:
            return 0.0
        if self._neg == nobs and result > 0.0:
            return 0.0
        return result


class RollingSum:
    """pandas ``Series.rolling(n).sum()``: running Kahan sum with the same-value guard."""

    __slots__ = ("n", "_ring", "_sum", "_comp_add", "_comp_rem", "_nobs", "_same", "_prev", "_started")

    def __init__(self, n: int) -> None:
        self.n = n
        self._ring = Ring(n)
        self._sum = 0.0
        self._comp_add = 0.0
        self._comp_rem = 0.0
        self._nobs = 0
        self._same = 0
        self._prev = NAN
        self._started = False

    def push(self, x: float) -> float:
        """Add the next value; return the sum of the last ``n`` (NaN until ``n`` are known)."""
        old = self._ring.push(x)
        if not self._started or self.n == 1:
            self._started = True
            self._sum = self._comp_add = self._comp_rem = 0.0
            self._nobs = self._same = 0
            self._prev = x
        elif old == old:
            self._nobs -= 1
            y = -old - self._comp_rem
            t = self._sum + y
            self._comp_rem = t - self._sum - y
            self._sum = t
        if x == x:
            self._nobs += 1
            y = x - self._comp_add
            t = self._sum + y
            self._comp_add = t - self._sum - y
            self._sum = t
            if x == self._prev:
                self._same += 1
            else:
                self._same = 1
            self._prev = x
        nobs = self._nobs
        if nobs < self.n:
            return NAN
        if self._same >= nobs:
            return self._prev * nobs
        return self._sum


class RollingVar:
    """pandas ``Series.rolling(n).var(ddof)``: Welford with Kahan compensation.

    pandas recomputes the whole window when a step loses too many significant digits
    (``InvCondTol``); so does this class, from the values it keeps.
    """

    __slots__ = ("n", "ddof", "_ring", "_nobs", "_mean", "_ssq", "_comp_add", "_comp_rem", "_unstable", "_started")

    def __init__(self, n: int, ddof: int = 0) -> None:
        self.n = n
        self.ddof = ddof
        self._ring = Ring(n)
        self._nobs = 0.0
        self._mean = 0.0
        self._ssq = 0.0
        self._comp_add = 0.0
        self._comp_rem = 0.0
        self._unstable = False
        self._started = False

    def _add(self, x: float) -> None:
        if x != x:
            return
        prev_m2 = self._ssq
        self._nobs += 1.0
        prev_mean = self._mean - self._comp_add
        y = x - self._comp_add
        t = y - self._mean
        self._comp_add = t + self._mean - y
        self._mean = self._mean + t / self._nobs
        self._ssq = self._ssq + (x - prev_mean) * (x - self._mean)
        if prev_m2 * _INV_COND_TOL > self._ssq:
            self._unstable = True

    def _remove(self, x: float) -> None:
        if x != x:
            return
        prev_m2 = self._ssq
        self._nobs -= 1.0
        if self._nobs:
            prev_mean = self._mean - self._comp_rem
            y = x - self._comp_rem
            t = y - self._mean
            self._comp_rem = t + self._mean - y
            self._mean = self._mean - t / self._nobs
            self._ssq = self._ssq - (x - prev_mean) * (x - self._mean)
            if prev_m2 * _INV_COND_TOL > self._ssq:
                self._unstable = True
        else:
            self._mean = 0.0
            self._ssq = 0.0
            self._unstable = False

    def push(self, x: float) -> float:
        """Add the next value; return the variance of the last ``n`` (NaN until ``n`` are known)."""
        old = self._ring.push(x)
        recompute = not self._started or self.n == 1
        self._started = True
        if not recompute:
            self._remove(old)
            self._add(x)
        if recompute or self._unstable:
            self._mean = self._ssq = self._nobs = self._comp_add = self._comp_rem = 0.0
            for value in self._ring.window().tolist():
                self._add(value)
            self._unstable = False
        nobs = self._nobs
        if nobs >= self.n and nobs > self.ddof:
            return self._ssq / (nobs - self.ddof)
        return NAN


def zsqrt(var: float) -> float:
    """pandas' ``zsqrt``: the square root, 0 for a (rounding-negative) variance, NaN stays NaN."""
    if var != var:
        return NAN
    return math.sqrt(var) if var >= 0.0 else 0.0


class Ewm:
    """pandas ``ewm(..., adjust=False).mean()`` with ``min_periods``, one value at a time.

    Leading NaNs are skipped as pandas skips them (MACD's signal line starts where the MACD
    line becomes known). A NaN after the first number is refused: pandas then decays the
    weights across the gap, and no indicator here ever feeds one.
    """

    __slots__ = ("_owf", "_new_wt", "minp", "_weighted", "_nobs")

    def __init__(self, com: float, minp: int) -> None:
        alpha = 1.0 / (1.0 + com)
        self._owf = 1.0 - alpha
        self._new_wt = alpha
        self.minp = minp
        self._weighted = NAN
        self._nobs = 0

    @classmethod
    def span(cls, span: int, minp: int) -> Ewm:
        """``ewm(span=span)``, as ta's EMA and MACD use it."""
        return cls((span - 1) / 2.0, minp)

    @classmethod
    def alpha(cls, alpha: float, minp: int) -> Ewm:
        """``ewm(alpha=alpha)``, as ta's RSI uses it (Wilder's smoothing, alpha = 1/n)."""
        return cls((1.0 - alpha) / alpha, minp)

    @property
    def weights(self) -> tuple[float, float]:
        """``(old, new)``: each step's mean is ``(old * mean + new * x) / (old + new)``."""
        return self._owf, self._new_wt

    def push(self, x: float) -> float:
        """Add the next value; return the mean (NaN until ``minp`` values were observed)."""
        if x != x:
            if self._nobs:
                raise ValueError("a gap after the first value is not supported by Ewm")
            return NAN
        self._nobs += 1
        if self._nobs == 1:
            self._weighted = x
        else:
            w = self._weighted
            if w != x:
                # pandas: old_wt = 1 * (1 - alpha); weighted = (old_wt*w + alpha*x) / (old_wt + alpha)
                old_wt = self._owf
                self._weighted = (old_wt * w + self._new_wt * x) / (old_wt + self._new_wt)
        return self._weighted if self._nobs >= self.minp else NAN
