"""The candle ring and the per-bar fast paths: the same answers as the plain definitions."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.market import AnomalyLog, CandleField, CandleSeries, IndicatorSpec, MarketState, bar_is_valid
from rulebot.market.series import CandleArrays, valid_mask
from rulebot.model.events import KlineUpdate, TickerUpdate

MIN = 60_000
T0 = 1_748_545_200_000

# prices that hit every edge of the validity test: NaN, infinities, zero, negatives, equal values
_VALUE = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, -1.0, 1.0, 2.0, 3.0, 1e308]),
    st.floats(allow_nan=True, allow_infinity=True),
)


@settings(max_examples=300, deadline=None)
@given(st.tuples(_VALUE, _VALUE, _VALUE, _VALUE, _VALUE))
def test_the_validity_test_agrees_with_the_vectorised_one(bar: tuple[float, float, float, float, float]) -> None:
    o, h, lo, c, v = bar
    mask = valid_mask(CandleArrays(*(np.array([x]) for x in bar)))
    assert bar_is_valid(o, h, lo, c, v) is bool(mask[0])
    # the series applies the same test when a bar closes
    s = CandleSeries("BTCUSDT", "1m", 3, AnomalyLog())
    s.append_closed(T0, o, h, lo, c, v)
    assert math.isnan(s.close) is (not mask[0])


def _bars(n: int) -> list[tuple[int, float, float, float, float, float]]:
    rng = np.random.default_rng(3)
    closes = 100 + np.cumsum(rng.normal(0, 1, n))
    return [(T0 + i * MIN, c - 0.5, c + 1.0, c - 1.0, float(c), float(i % 7)) for i, c in enumerate(closes.tolist())]


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def test_restored_bars_read_back_exactly_as_appended_ones_across_the_wrap() -> None:
    bars = _bars(23)
    fed = CandleSeries("BTCUSDT", "1m", 5, AnomalyLog())
    restored = CandleSeries("BTCUSDT", "1m", 5, AnomalyLog())
    done = 0
    for cut in (2, 3, 9, 10, 16, 23):  # pieces shorter and longer than the ring, some wrapping it
        for bar in bars[done:cut]:
            fed.append_closed(*bar)
        piece = bars[done:cut]
        starts = np.array([b[0] for b in piece], dtype=np.int64)
        values = np.array([b[1:] for b in piece], dtype=np.float64).reshape(-1, 5).T
        restored.restore_closed(starts, values, cut)
        done = cut
        assert (restored.count, restored.start_ms, restored.close) == (fed.count, fed.start_ms, fed.close)
        for back in range(-1, 7):
            assert restored.start_at(back) == fed.start_at(back)
            assert all(_same(restored.at(f, back), fed.at(f, back)) for f in CandleField)
        np.testing.assert_array_equal(restored.starts(), fed.starts())
        ours, theirs = restored.arrays(), fed.arrays()
        for name in ("open", "high", "low", "close", "volume"):
            np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name))
    assert fed.at(CandleField.VOLUME, 0) == 22 % 7 and fed.start_at(4) == T0 + 18 * MIN


def test_an_empty_series_reads_unknown_everywhere() -> None:
    s = CandleSeries("BTCUSDT", "1m", 4, AnomalyLog())
    assert s.arrays().close.shape == (0,) and s.starts().tolist() == []
    assert math.isnan(s.at(CandleField.CLOSE)) and s.start_at() == -1


def test_apply_kline_is_apply_for_klines() -> None:
    plain, fast = MarketState(), MarketState()
    spec = IndicatorSpec.make("rsi", (14,))
    handles = (plain.indicator("BTCUSDT", spec, 3), fast.indicator("BTCUSDT", spec, 3))
    answers = []
    for start, o, h, lo, c, v in [*_bars(40), _bars(1)[0]]:  # the last one again: a duplicate
        k = KlineUpdate("BTCUSDT", "1m", start + MIN, start + MIN, start, o, h, lo, c, v, True)
        got = fast.apply_kline(k)
        assert got == plain.apply(k)
        answers.append(got)
    assert answers[-1] == () and all(a is answers[0] for a in answers[:-1])  # interned: nothing allocated
    assert [h.at(2) for h in handles] == [handles[0].at(2)] * 2 and handles[0].value == handles[1].value
    assert not math.isnan(handles[1].value)
    assert fast.apply(TickerUpdate("BTCUSDT", 1, 1, True, last=1.0)) != ()
