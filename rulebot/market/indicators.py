"""The indicator cache: each needed indicator computed once per closed bar, with history.

One `IndicatorCache` belongs to one candle series (a symbol and a timeframe). Rules ask
for an `IndicatorHandle` once, when they are bound to a symbol, and then read
``handle.value`` (the value at the last closed bar) or ``handle.at(n)`` (``n`` bars back)
with no lookup by name. Outputs of one computation (Bollinger upper/mid/lower, the three
MACD lines, ``donchian_upper`` and ``highest``) share one kernel, run once per bar.

A bar with unknown values (NaN, a zero price) does not advance the kernels: the
indicators run over the valid bars only, as `series.compute_series` does, and their value
at that bar is unknown, so ``rsi(14)[1]`` stays aligned with ``close[1]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rulebot.market.indicator_spec import Family, IndicatorSpec, family_of
from rulebot.market.kernels import Kernel, make_kernel
from rulebot.market.series import CandleArrays, valid_mask

NAN = math.nan


class IndicatorHandle:
    """One indicator of one symbol: ``value`` at the last closed bar, ``at(n)`` for history."""

    __slots__ = ("spec", "value", "count", "_hist", "_pos")

    def __init__(self, spec: IndicatorSpec, lookback: int) -> None:
        self.spec = spec
        self.value = NAN
        self.count = 0
        self._hist = [NAN] * (lookback + 1)
        self._pos = 0

    @property
    def lookback(self) -> int:
        """The largest ``n`` that ``at(n)`` answers."""
        return len(self._hist) - 1

    def at(self, back: int) -> float:
        """The value ``back`` closed bars ago (0 = the last); NaN if not known that far back.

        Raises IndexError beyond the lookback the handle was created with.
        """
        hist = self._hist
        if back >= len(hist) or back < 0:
            raise IndexError(f"{self.spec}: history [{back}] beyond the {len(hist) - 1} bars kept")
        if back >= self.count:
            return NAN
        return hist[(self._pos - 1 - back) % len(hist)]

    def push(self, x: float) -> None:
        """Record the value of the bar that just closed (the cache calls this)."""
        hist = self._hist
        pos = self._pos
        hist[pos] = x
        self._pos = pos + 1 if pos + 1 < len(hist) else 0
        self.count += 1
        self.value = x

    def restore(self, values: Sequence[float], count: int) -> None:
        """Hold values worked out elsewhere (a backtest's whole-history series, `series.compute_series`):
        ``values`` are the last ones, oldest first, and ``count`` the number of bars closed in all.
        They either follow the values held now (``count - len(values) == self.count``) or are the
        last ``min(count, lookback + 1)``."""
        k = len(values)
        hist = self._hist
        size = len(hist)
        if count - k != self.count and k < min(count, size):
            raise ValueError(f"{self.spec}: {k} values cannot bring {self.count} bars to {count}")
        pos = self._pos
        for x in values[-size:]:
            hist[pos] = x
            pos = pos + 1 if pos + 1 < size else 0
        self._pos = pos
        self.count = count
        if k:
            self.value = values[-1]

    def grow(self, lookback: int) -> None:
        """Keep at least ``lookback`` bars of history from now on (older ones stay known)."""
        if lookback <= self.lookback:
            return
        kept = [self.at(i) for i in range(min(self.count, len(self._hist)))]
        self._hist = [NAN] * (lookback + 1)
        self._pos = 0
        count = self.count
        for x in reversed(kept):
            self.push(x)
        self.count = count


class IndicatorCache:
    """The indicators of one candle series, updated once per closed bar."""

    __slots__ = ("timeframe", "_handles", "_families", "_plan")

    def __init__(self, timeframe: str) -> None:
        self.timeframe = timeframe
        self._handles: dict[IndicatorSpec, IndicatorHandle] = {}
        self._families: dict[Family, tuple[Kernel, list[tuple[IndicatorHandle, int]]]] = {}
        self._plan: tuple[tuple[Kernel, tuple[tuple[IndicatorHandle, int], ...]], ...] = ()

    def require(self, spec: IndicatorSpec, lookback: int = 1, history: CandleArrays | None = None) -> IndicatorHandle:
        """The handle for ``spec``, created on first request.

        ``lookback`` is the largest ``[n]`` a rule reads (at least 1, for ``crosses``). A new
        computation is fed ``history`` (the bars the series already closed) so that it starts
        in step with them.
        """
        if spec.timeframe != self.timeframe:
            raise ValueError(f"{spec} asked of the {self.timeframe} series")
        handle = self._handles.get(spec)
        if handle is not None:
            handle.grow(lookback)
            return handle
        handle = IndicatorHandle(spec, max(lookback, 1))
        self._handles[spec] = handle
        family, output = family_of(spec)
        entry = self._families.get(family)
        if entry is None:
            kernel = make_kernel(family)
            entry = (kernel, [])
            self._families[family] = entry
            entry[1].append((handle, output))
            if history is not None:
                self._replay(kernel, entry[1], history)
        else:
            entry[1].append((handle, output))
            if history is not None:
                # a sibling output of a running computation: its past values are unknown,
                # but the computation itself is already in step
                for _ in range(len(history.close)):
                    handle.push(NAN)
        self._plan = tuple((k, tuple(outs)) for k, outs in self._families.values())
        return handle

    @staticmethod
    def _replay(kernel: Kernel, outs: list[tuple[IndicatorHandle, int]], history: CandleArrays) -> None:
        valid = valid_mask(history).tolist()
        columns = zip(
            history.open.tolist(),
            history.high.tolist(),
            history.low.tolist(),
            history.close.tolist(),
            history.volume.tolist(),
            strict=True,
        )
        for ok, bar in zip(valid, columns, strict=True):
            if ok:
                values = kernel.update(*bar)
                for handle, i in outs:
                    handle.push(values[i])
            else:
                for handle, _ in outs:
                    handle.push(NAN)

    def on_bar(self, o: float, h: float, lo: float, c: float, v: float, valid: bool) -> None:
        """A bar closed: advance every computation once and record each output."""
        if valid:
            for kernel, outs in self._plan:
                values = kernel.update(o, h, lo, c, v)
                for handle, i in outs:
                    # `IndicatorHandle.push`, inlined: it runs for every handle on every bar
                    x = values[i]
                    pos = handle._pos
                    hist = handle._hist
                    hist[pos] = x
                    handle._pos = pos + 1 if pos + 1 < len(hist) else 0
                    handle.count += 1
                    handle.value = x
        else:
            for handle in self._handles.values():
                handle.push(NAN)

    def handles(self) -> tuple[IndicatorHandle, ...]:
        """Every handle, in the order they were required."""
        return tuple(self._handles.values())
