"""The streaming primitives repeat pandas' rolling and ewm arithmetic bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.market.rolling import Ewm, Ring, RollingMean, RollingSum, RollingVar, ieee_div, zsqrt

# prices with repeats (flat markets) and gaps (unknown values), on several magnitudes
values = st.one_of(
    st.sampled_from([0.1, 0.2, 0.3, 104123.7, 104123.8, 1e-8, 0.0, -0.0, -2.5]),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
)
series = st.lists(st.one_of(values, st.just(math.nan)), min_size=1, max_size=80).flatmap(
    lambda xs: st.integers(min_value=0, max_value=3).map(lambda k: xs + [xs[-1]] * 5 * k)
)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))


@settings(max_examples=200, deadline=None)
@given(xs=series, n=st.integers(min_value=1, max_value=25))
def test_rolling_mean_sum_var_equal_pandas(xs: list[float], n: int) -> None:
    s = pd.Series(xs, dtype=np.float64)
    mean, total, var = RollingMean(n), RollingSum(n), RollingVar(n, ddof=0)
    assert same(np.array([mean.push(x) for x in xs]), s.rolling(n).mean().to_numpy())
    assert same(np.array([total.push(x) for x in xs]), s.rolling(n).sum().to_numpy())
    ours = np.array([var.push(x) for x in xs])
    assert same(ours, s.rolling(n).var(ddof=0).to_numpy())
    assert same(np.array([zsqrt(v) for v in ours]), s.rolling(n).std(ddof=0).to_numpy())


@settings(max_examples=200, deadline=None)
@given(
    lead=st.integers(min_value=0, max_value=5),
    xs=st.lists(values, min_size=1, max_size=80),
    n=st.integers(min_value=1, max_value=40),
)
def test_ewm_equals_pandas_with_leading_gaps(lead: int, xs: list[float], n: int) -> None:
    data = [math.nan] * lead + xs
    s = pd.Series(data, dtype=np.float64)
    by_span, by_alpha = Ewm.span(n, n), Ewm.alpha(1 / n, n)
    assert same(np.array([by_span.push(x) for x in data]), s.ewm(span=n, min_periods=n, adjust=False).mean().to_numpy())
    assert same(np.array([by_alpha.push(x) for x in data]), s.ewm(alpha=1 / n, min_periods=n, adjust=False).mean().to_numpy())


def test_ewm_refuses_a_gap_after_the_first_value() -> None:
    ewm = Ewm.span(3, 1)
    ewm.push(1.0)
    with pytest.raises(ValueError, match="gap"):
        ewm.push(math.nan)


def test_ring_window_is_contiguous_and_ordered() -> None:
    ring = Ring(3)
    assert ring.window().tolist() == [] and math.isnan(ring.oldest())
    pushed = [ring.push(float(x)) for x in range(1, 8)]
    assert [math.isnan(p) for p in pushed[:3]] == [True, True, True] and pushed[3:] == [1.0, 2.0, 3.0, 4.0]
    assert ring.window().tolist() == [5.0, 6.0, 7.0] and ring.oldest() == 5.0
    assert ring.window().flags["C_CONTIGUOUS"]
    with pytest.raises(ValueError):
        Ring(0)


def test_ieee_division() -> None:
    assert ieee_div(1.0, 0.0) == math.inf and ieee_div(-1.0, 0.0) == -math.inf and ieee_div(1.0, -0.0) == -math.inf
    assert math.isnan(ieee_div(0.0, 0.0)) and math.isnan(ieee_div(math.nan, 0.0)) and ieee_div(3.0, 2.0) == 1.5
