"""Bybit V5 public WebSocket messages turned into model events.

The pybit callback calls `parse_public(message, recv_ms)` and emits what it returns; no
Bybit dict goes further. Topics: ``tickers.*`` (snapshot and delta), ``orderbook.*``
(snapshot and delta), ``publicTrade.*`` and ``kline.*`` (see bybit-v5/NOTES.md §10).

Numbers arrive as decimal strings and become floats (market data is compared as floats).
A message that lacks a field, or has one that is not what Bybit sends (not a decimal, an
unknown side, an unknown interval...), raises `WireFormatError` naming the field as a path
into the message (``data.b[3][0]``). In a ticker, an empty string means "no value" (a
dated future's funding rate) and becomes NaN, unknown; an absent field stays ``None``,
unchanged. Prices of 0 in klines and trades are well formed and are passed on: the market
state treats them as unknown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from rulebot.exchange.errors import WireFormatError
from rulebot.model.enums import Side
from rulebot.model.events import BookUpdate, KlineUpdate, TickerUpdate, TradePrint

PublicEvent = TickerUpdate | BookUpdate | TradePrint | KlineUpdate

KLINE_INTERVALS: Mapping[str, str] = {
    "1": "1m", "3": "3m", "5": "5m", "15": "15m", "30": "30m", "60": "1h", "120": "2h",
    "240": "4h", "360": "6h", "720": "12h", "D": "1d", "W": "1w", "M": "1M",
}
"""Bybit kline interval -> the language's timeframe."""

TRADE_SIDES: Mapping[str, Side] = {"Buy": Side.BUY, "Sell": Side.SELL}

# TickerUpdate field <- Bybit ticker key (linear, inverse and spot tickers)
_TICKER_KEYS: tuple[tuple[str, str], ...] = (
    ("last", "lastPrice"),
    ("mark_price", "markPrice"),
    ("index_price", "indexPrice"),
    ("bid1", "bid1Price"),
    ("bid1_size", "bid1Size"),
    ("ask1", "ask1Price"),
    ("ask1_size", "ask1Size"),
    ("funding_rate", "fundingRate"),
    ("open_interest", "openInterest"),
    ("volume_24h", "volume24h"),
    ("turnover_24h", "turnover24h"),
    ("change_24h", "price24hPcnt"),
    ("high_24h", "highPrice24h"),
    ("low_24h", "lowPrice24h"),
)


def parse_public(msg: object, recv_ms: int) -> tuple[PublicEvent, ...]:
    """Events of one public-topic message, dispatched on its ``topic``."""
    topic = _str(_get(_obj(msg, "message"), "topic", "topic"), "topic")
    kind = topic.split(".", 1)[0]
    if kind == "tickers":
        return (parse_ticker(msg, recv_ms),)
    if kind == "orderbook":
        return (parse_orderbook(msg, recv_ms),)
    if kind == "publicTrade":
        return parse_trades(msg, recv_ms)
    if kind == "kline":
        return parse_klines(msg, recv_ms)
    raise WireFormatError("topic", f"unknown public topic {topic!r}")


def parse_ticker(msg: object, recv_ms: int) -> TickerUpdate:
    """A ``tickers.{symbol}`` snapshot or delta (a delta carries only what changed)."""
    m = _obj(msg, "message")
    data = _obj(_get(m, "data", "data"), "data")
    symbol = _str(_get(data, "symbol", "data.symbol"), "data.symbol")
    _check_topic_symbol(m, symbol, "data.symbol")
    values = {name: _opt_number(data, key, f"data.{key}") for name, key in _TICKER_KEYS}
    return TickerUpdate(
        symbol=symbol,
        ts_event_ms=_int(_get(m, "ts", "ts"), "ts"),
        ts_recv_ms=recv_ms,
        is_snapshot=_is_snapshot(m),
        **values,
    )


def parse_orderbook(msg: object, recv_ms: int) -> BookUpdate:
    """An ``orderbook.{depth}.{symbol}`` snapshot or delta."""
    m = _obj(msg, "message")
    data = _obj(_get(m, "data", "data"), "data")
    symbol = _str(_get(data, "s", "data.s"), "data.s")
    _check_topic_symbol(m, symbol, "data.s")
    return BookUpdate(
        symbol=symbol,
        ts_event_ms=_int(_get(m, "ts", "ts"), "ts"),
        ts_recv_ms=recv_ms,
        is_snapshot=_is_snapshot(m),
        bids=_levels(_get(data, "b", "data.b"), "data.b"),
        asks=_levels(_get(data, "a", "data.a"), "data.a"),
        update_id=_int(_get(data, "u", "data.u"), "data.u"),
        seq=_int(_get(data, "seq", "data.seq"), "data.seq"),
    )


def parse_trades(msg: object, recv_ms: int) -> tuple[TradePrint, ...]:
    """The trades of a ``publicTrade.{symbol}`` message, in the order sent."""
    m = _obj(msg, "message")
    trades = []
    for i, item in enumerate(_list(_get(m, "data", "data"), "data")):
        path = f"data[{i}]"
        t = _obj(item, path)
        side = _str(_get(t, "S", f"{path}.S"), f"{path}.S")
        if side not in TRADE_SIDES:
            raise WireFormatError(f"{path}.S", f"unknown side {side!r}")
        trades.append(
            TradePrint(
                symbol=_str(_get(t, "s", f"{path}.s"), f"{path}.s"),
                ts_event_ms=_int(_get(t, "T", f"{path}.T"), f"{path}.T"),
                ts_recv_ms=recv_ms,
                price=_number(_get(t, "p", f"{path}.p"), f"{path}.p"),
                size=_number(_get(t, "v", f"{path}.v"), f"{path}.v"),
                side=TRADE_SIDES[side],
            )
        )
    return tuple(trades)


def parse_klines(msg: object, recv_ms: int) -> tuple[KlineUpdate, ...]:
    """The candles of a ``kline.{interval}.{symbol}`` message (``confirm`` marks a closed bar)."""
    m = _obj(msg, "message")
    topic = _str(_get(m, "topic", "topic"), "topic")
    parts = topic.split(".")
    if len(parts) != 3 or not parts[2]:
        raise WireFormatError("topic", f"expected 'kline.<interval>.<symbol>', found {topic!r}")
    symbol = parts[2]
    out = []
    for i, item in enumerate(_list(_get(m, "data", "data"), "data")):
        path = f"data[{i}]"
        k = _obj(item, path)
        interval = _str(_get(k, "interval", f"{path}.interval"), f"{path}.interval")
        timeframe = KLINE_INTERVALS.get(interval)
        if timeframe is None or interval != parts[1]:
            raise WireFormatError(f"{path}.interval", f"unknown interval {interval!r} (topic {topic!r})")
        confirm = _get(k, "confirm", f"{path}.confirm")
        if not isinstance(confirm, bool):
            raise WireFormatError(f"{path}.confirm", f"expected true or false, found {confirm!r}")
        out.append(
            KlineUpdate(
                symbol=symbol,
                timeframe=timeframe,
                ts_event_ms=_int(_get(k, "timestamp", f"{path}.timestamp"), f"{path}.timestamp"),
                ts_recv_ms=recv_ms,
                start_ms=_int(_get(k, "start", f"{path}.start"), f"{path}.start"),
                open=_number(_get(k, "open", f"{path}.open"), f"{path}.open"),
                high=_number(_get(k, "high", f"{path}.high"), f"{path}.high"),
                low=_number(_get(k, "low", f"{path}.low"), f"{path}.low"),
                close=_number(_get(k, "close", f"{path}.close"), f"{path}.close"),
                volume=_number(_get(k, "volume", f"{path}.volume"), f"{path}.volume"),
                confirm=confirm,
            )
        )
    return tuple(out)


def _get(obj: Mapping[str, object], key: str, path: str) -> object:
    if key not in obj:
        raise WireFormatError(path, "missing")
    return obj[key]


def _obj(value: object, path: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise WireFormatError(path, f"expected an object, found {_show(value)}")
    return value


def _list(value: object, path: str) -> list[object]:
    if not isinstance(value, list):
        raise WireFormatError(path, f"expected a list, found {_show(value)}")
    return value


def _str(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise WireFormatError(path, f"expected a non-empty string, found {_show(value)}")
    return value


def _int(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WireFormatError(path, f"expected an integer, found {_show(value)}")
    return value


def _number(value: object, path: str) -> float:
    """A decimal string (as Bybit sends numbers) or a JSON number; finite."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise WireFormatError(path, f"expected a decimal, found {_show(value)}") from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        raise WireFormatError(path, f"expected a decimal, found {_show(value)}")
    if not math.isfinite(number):
        raise WireFormatError(path, f"expected a finite decimal, found {_show(value)}")
    return number


def _opt_number(obj: Mapping[str, object], key: str, path: str) -> float | None:
    """None when absent (unchanged), NaN for ``""`` (no value), else the number."""
    if key not in obj:
        return None
    value = obj[key]
    if value == "":
        return math.nan
    return _number(value, path)


def _levels(value: object, path: str) -> tuple[tuple[float, float], ...]:
    levels = []
    for i, level in enumerate(_list(value, path)):
        pair = _list(level, f"{path}[{i}]")
        if len(pair) != 2:
            raise WireFormatError(f"{path}[{i}]", f"expected [price, size], found {_show(pair)}")
        price = _number(pair[0], f"{path}[{i}][0]")
        size = _number(pair[1], f"{path}[{i}][1]")
        if price <= 0:
            raise WireFormatError(f"{path}[{i}][0]", f"price must be positive, found {_show(pair[0])}")
        if size < 0:
            raise WireFormatError(f"{path}[{i}][1]", f"size must not be negative, found {_show(pair[1])}")
        levels.append((price, size))
    return tuple(levels)


def _is_snapshot(m: Mapping[str, object]) -> bool:
    kind = _get(m, "type", "type")
    if kind == "snapshot":
        return True
    if kind == "delta":
        return False
    raise WireFormatError("type", f"expected 'snapshot' or 'delta', found {_show(kind)}")


def _check_topic_symbol(m: Mapping[str, object], symbol: str, path: str) -> None:
    topic = _str(_get(m, "topic", "topic"), "topic")
    if topic.rsplit(".", 1)[-1] != symbol:
        raise WireFormatError(path, f"symbol {symbol!r} does not match topic {topic!r}")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
