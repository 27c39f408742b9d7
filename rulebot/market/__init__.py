"""rulebot.market: the market state, fed events by the engine (it never fetches).

Live fields (tickers, order book, trades), candles per timeframe (from klines or
aggregated), and indicators of LANGUAGE.md §3 through `ta`, computed once per closed bar
(`IndicatorCache`) or for a whole history at once (`compute_series`), with identical values.
"""

from rulebot.market.anomalies import Anomaly, AnomalyLog
from rulebot.market.candles import CandleField, CandleSeries, FormingBar, bar_is_valid
from rulebot.market.indicator_spec import (
    INDICATORS,
    Family,
    IndicatorDef,
    IndicatorSpec,
    Param,
    Scale,
    family_of,
    warmup_bars,
)
from rulebot.market.indicators import IndicatorCache, IndicatorHandle
from rulebot.market.live import LIVE_FIELDS, LiveFields, TickerState
from rulebot.market.orderbook import OrderBook
from rulebot.market.series import CandleArrays, compute_family, compute_series, valid_mask
from rulebot.market.state import Changed, ChangeKind, MarketState, SymbolState
from rulebot.market.timeframes import TIMEFRAMES, bucket_start, normalize_timeframe, timeframe_ms

__all__ = [
    "INDICATORS", "LIVE_FIELDS", "TIMEFRAMES",
    "Anomaly", "AnomalyLog", "CandleArrays", "CandleField", "CandleSeries", "ChangeKind", "Changed",
    "Family", "FormingBar", "IndicatorCache", "IndicatorDef", "IndicatorHandle", "IndicatorSpec",
    "LiveFields", "MarketState", "OrderBook", "Param", "Scale", "SymbolState", "TickerState",
    "bar_is_valid", "bucket_start", "compute_family", "compute_series", "family_of",
    "normalize_timeframe", "timeframe_ms", "valid_mask", "warmup_bars",
]
