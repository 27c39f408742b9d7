"""Words for the parts of rule text: units, timeframes, fields, indicators, and the kinds that
decide how a ``+ 1%`` is read (``kinds.combine``, exactly as the checker decides it).

Shared by ``reading.py`` (sentences) and the engine's request previews.
"""

from __future__ import annotations

from dataclasses import fields

from rulebot.lang import ast as A
from rulebot.lang.arguments import bind
from rulebot.lang.kinds import Kind, Operand, combine
from rulebot.lang.report import Reporter
from rulebot.lang.source import Source
from rulebot.lang.vocabulary import CANDLE_FIELDS, FIELDS, INDICATORS, timeframe_for

__all__ = [
    "DAY_WORDS", "FIELD_WORDS", "UNIT_WORDS", "arguments_of", "article", "count", "duration_words",
    "indicator_phrase", "is_literal_number", "join_words", "operand_of", "relative_offset", "timeframe_of",
    "timeframe_words", "timeframes_in",
]

UNIT_WORDS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "M": "month"}
_SECONDS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
DAY_WORDS = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
             "sat": "Saturday", "sun": "Sunday", "weekend": "the weekend", "weekday": "a weekday"}
FIELD_WORDS = {
    "last": "the last price", "bid1_size": "the size at the best bid", "ask1_size": "the size at the best ask",
    "funding_rate": "the funding rate", "open": "the open", "high": "the high", "low": "the low",
    "close": "the close", "volume": "the volume", "position": "the position",
    "long_size": "the size of the long side", "short_size": "the size of the short side",
    "upnl_pct": "the unrealised PnL in percent of the position value", "leverage": "the leverage",
    "open_orders": "the number of open orders", "time_in_position": "the time in the position",
    "bars_in_position": "the number of bars in the position", "pnl_today": "today's realised PnL",
    "time": "the time of day", "weekday": "the day", "hour": "the hour", "minute": "the minute",
}
# Binding arguments reports nothing for a checked rule; the reporter only has to exist.
_QUIET = Source.contiguous("<explain>", "")


def duration_words(seconds: int) -> str:
    """``3600`` -> ``1 hour``, ``900`` -> ``15 minutes``: in the largest unit that divides it."""
    for unit, size in _SECONDS:
        if seconds and seconds % size == 0:
            return count(seconds // size, UNIT_WORDS[unit])
    return count(seconds, "second")


def timeframe_words(timeframe: str) -> str:
    """``1m`` -> ``1-minute``, ``4h`` -> ``4-hour``, ``1M`` -> ``1-month``."""
    return f"{timeframe[:-1]}-{UNIT_WORDS[timeframe[-1]]}"


def count(n: int | str, word: str) -> str:
    """``1 bar``, ``3 bars``."""
    return f"{n} {word}" + ("" if str(n) == "1" else "s")


def join_words(items: list[str], last: str = "and") -> str:
    """``a, b and c`` (or ``a, b or c``)."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def article(phrase: str) -> str:
    """``a limit order``, ``an immediate-or-cancel limit order``."""
    return ("an " if phrase[:1] in "aeiou" else "a ") + phrase


def timeframe_of(call: A.Call, default: str) -> str:
    """The bar timeframe a candle-field or indicator call reads (``default``: the file's)."""
    node: A.Expr | None = call.args[-1] if call.args and isinstance(call.args[-1], A.Duration) else None
    node = next((k.value for k in call.kwargs if k.name == "tf"), node)
    if isinstance(node, A.Duration):
        return timeframe_for(node.count, node.unit) or default
    return default


def arguments_of(call: A.Call) -> dict[str, int | float]:
    """An indicator call's parameters with defaults filled in (the call was checked already)."""
    indicator = INDICATORS[call.name]
    bound = bind(call, indicator.params, Reporter(_QUIET, []), lambda: "")
    return dict(bound.values)


def operand_of(e: A.Expr) -> Operand:
    """The kind of an expression (and whether it is a bare number), as the checker decides it."""
    if isinstance(e, A.Number):
        return Operand(Kind.NUMBER, bare=True)
    simple = {A.Percent: Kind.PERCENT, A.Money: Kind.MONEY, A.Ticks: Kind.PRICE, A.Duration: Kind.DURATION,
              A.TimeOfDay: Kind.TIME_OF_DAY, A.String: Kind.STRING}
    for node_type, kind in simple.items():
        if isinstance(e, node_type):
            return Operand(kind)
    if isinstance(e, A.Name):
        field = FIELDS.get(e.name)
        return Operand(field.kind if field is not None else Kind.WORD)
    if isinstance(e, A.Call):
        if e.name in FIELDS:
            return Operand(FIELDS[e.name].kind)
        indicator = INDICATORS.get(e.name)
        return Operand(indicator.kind if indicator is not None else Kind.ERROR)
    if isinstance(e, A.Index):
        return operand_of(e.target)
    if isinstance(e, A.Neg):
        return operand_of(e.operand)
    if isinstance(e, A.BinOp):
        combined = combine(e.op, operand_of(e.left), operand_of(e.right))
        return Operand(Kind.ERROR) if combined is None else Operand(combined.kind, combined.bare)
    return Operand(Kind.CONDITION)


def relative_offset(e: A.BinOp) -> bool:
    """Whether ``e`` adds or takes a percent of its left side (``ema(50) + 1%`` is ``ema(50) × 1.01``)."""
    combined = combine(e.op, operand_of(e.left), operand_of(e.right))
    return combined is not None and combined.relative_offset


def is_literal_number(e: A.Expr) -> bool:
    """``30`` or ``-200`` as written (a bare number the other side gives a unit to)."""
    return isinstance(e, A.Number) or (isinstance(e, A.Neg) and isinstance(e.operand, A.Number))


def timeframes_in(e: A.Expr, default: str) -> list[str]:
    """The bar timeframes an expression reads (candle fields and indicators)."""
    found: list[str] = []
    stack: list[object] = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, A.Name) and node.name in CANDLE_FIELDS:
            found.append(default)
        elif isinstance(node, A.Call) and (node.name in CANDLE_FIELDS or node.name in INDICATORS):
            found.append(timeframe_of(node, default))
        elif isinstance(node, tuple):
            stack.extend(node)
        elif isinstance(node, (A.Index, A.Neg, A.BinOp, A.Compare, A.Crosses, A.Between, A.Trend, A.For,
                               A.Not, A.And, A.Or, A.ChainedCompare)):
            stack.extend(getattr(node, f.name) for f in fields(node) if f.name != "span")
    return found


def _number(x: int | float) -> str:
    return f"{x:g}"


def indicator_phrase(name: str, a: dict[str, int | float]) -> str:
    """``RSI(14)``, ``the 50-bar EMA``, ``the upper Bollinger band (20 bars, 2 standard deviations)``."""
    n = _number(a.get("n", 0))
    bands = f"({n} bars, {_number(a.get('k', 2))} standard deviations)"
    macd = f"({_number(a.get('fast', 12))}, {_number(a.get('slow', 26))}"
    phrases = {
        "sma": f"the {n}-bar SMA", "ema": f"the {n}-bar EMA", "wma": f"the {n}-bar WMA",
        "vwap": f"the {n}-bar VWAP", "psar": "the parabolic SAR",
        "bb_upper": f"the upper Bollinger band {bands}", "bb_mid": f"the middle Bollinger band ({n} bars)",
        "bb_lower": f"the lower Bollinger band {bands}", "bb_pct": f"Bollinger %B {bands}",
        "bb_width": f"the Bollinger band width {bands}",
        "keltner_upper": f"the upper Keltner channel ({n} bars)",
        "keltner_lower": f"the lower Keltner channel ({n} bars)",
        "donchian_upper": f"the upper Donchian channel ({n} bars)",
        "donchian_lower": f"the lower Donchian channel ({n} bars)",
        "highest": f"the highest high of the last {n} bars", "lowest": f"the lowest low of the last {n} bars",
        "atr": f"ATR({n})", "macd": f"the MACD line {macd})",
        "macd_signal": f"the MACD signal line {macd}, {_number(a.get('signal', 9))})",
        "macd_hist": f"the MACD histogram {macd}, {_number(a.get('signal', 9))})",
        "rsi": f"RSI({n})", "mfi": f"MFI({n})", "adx": f"ADX({n})", "cci": f"CCI({n})",
        "stoch": f"the stochastic %K ({n}, {_number(a.get('smooth', 3))})",
        "stoch_signal": f"the stochastic %D ({n}, {_number(a.get('smooth', 3))})",
        "stoch_rsi": f"the stochastic RSI({n})", "williams_r": f"Williams %R({n})",
        "roc": f"the {n}-bar rate of change", "change": f"the {n}-bar change of the close",
        "obv": "the on-balance volume",
    }
    return phrases.get(name, name)
