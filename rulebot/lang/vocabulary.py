"""The words of the rule language: fields, indicators, timeframes, words, actions (LANGUAGE.md §2–§6).

Everything the checker, the compiler and ``explain`` need to know about a name lives in these
tables, so that a new field or indicator is one row here.

Warm-up (history loaded at start, in closed bars of the indicator's timeframe) is chosen so
that the value computed over that window equals the full-history value:

* windowed indicators (``sma``, ``wma``, Bollinger, Donchian, ``highest``, ``cci``, ``vwap``,
  ``williams_r``, Keltner in ``ta``'s default original version) need exactly their window
  ``n`` (``n + 1`` when they use the previous close: ``roc``, ``change``, ``mfi``);
* recursive smoothers never forget their seed, so the window is made long enough that the
  seed's weight is below e^-20 (about 2e-9, far under any price tick): ``10 × (n + 1)`` bars
  for an EMA (``ta`` uses ``ewm(span=n, adjust=False)``, α = 2 / (n + 1)) and ``20 × n`` for
  Wilder smoothing (α = 1 / n: ``rsi``, ``atr``; ``adx`` chains two, so ``40 × n``); chained
  indicators add their stages (``macd_signal``: ``10 × (slow + 1) + 10 × (signal + 1)``);
* ``psar`` is path dependent; it restarts at every reversal, so 500 bars (many reversals on
  any real market) are taken as enough — a heuristic, not a bound;
* ``obv`` is a running total: its level depends on where history starts and is never equal
  to "full history"; only its changes (``obv() > obv()[5]``, ``obv() rising 3``) mean
  anything. It needs 2 bars.

History offsets (``[n]``, ``rising n``, ``crosses``, ``for n bars``) add to these counts.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from rulebot.lang.kinds import Kind

MAX_PERIOD = 5000
"""Largest indicator period (``n``, ``slow``, …) accepted."""

MAX_HISTORY = 5000
"""Largest history offset in bars (``close[n]``, ``rising n``, ``for n bars``)."""

MAX_MULTIPLIER = 10.0
"""Largest band width multiplier ``k`` (Bollinger)."""


class ReadSource(str, Enum):
    """Where a value a rule reads comes from; decides what triggers the rule (§5)."""

    MARKET = "market"      # ticker / order-book updates
    CANDLE = "candle"      # the last closed bar
    INDICATOR = "indicator"
    ACCOUNT = "account"    # position, order and wallet updates
    TIME = "time"          # the clock, each minute

    # Reads are deduplicated in dicts for every rule; Enum's own __hash__ is Python code. The
    # str hash agrees with the str equality these members have.
    __hash__ = str.__hash__


@dataclass(frozen=True, slots=True)
class Scale:
    """The values a field or indicator can take (``None``: unbounded); ends are inclusive."""

    lo: float | None = None
    hi: float | None = None
    integer: bool = False

    @property
    def text(self) -> str:
        def show(x: float) -> str:
            return f"{x:g}"
        if self.lo is not None and self.hi is not None:
            return f"between {show(self.lo)} and {show(self.hi)}"
        if self.lo is not None:
            return f"never below {show(self.lo)}"
        if self.hi is not None:
            return f"never above {show(self.hi)}"
        return "unbounded"


UNBOUNDED = Scale()
NON_NEGATIVE = Scale(0.0, None)
OSCILLATOR = Scale(0.0, 100.0)


@dataclass(frozen=True, slots=True)
class Field:
    """A name a condition can read (§3). ``name`` is canonical (``price`` is ``last``)."""

    name: str
    kind: Kind
    source: ReadSource
    scale: Scale
    meaning: str

    @property
    def is_live(self) -> bool:
        """Live fields have no bar history: ``[n]`` on them is an error (E209)."""
        return self.source is not ReadSource.CANDLE


def _fields() -> dict[str, Field]:
    m, c, a, t = ReadSource.MARKET, ReadSource.CANDLE, ReadSource.ACCOUNT, ReadSource.TIME
    P, N, PCT, MON = Kind.PRICE, Kind.NUMBER, Kind.PERCENT, Kind.MONEY
    rows = (
        Field("last", P, m, NON_NEGATIVE, "the last traded price"),
        Field("mark_price", P, m, NON_NEGATIVE, "the mark price"),
        Field("index_price", P, m, NON_NEGATIVE, "the index price"),
        Field("bid1", P, m, NON_NEGATIVE, "the best bid"),
        Field("ask1", P, m, NON_NEGATIVE, "the best ask"),
        Field("mid", P, m, NON_NEGATIVE, "the mid price between best bid and best ask"),
        Field("bid1_size", N, m, NON_NEGATIVE, "the size at the best bid"),
        Field("ask1_size", N, m, NON_NEGATIVE, "the size at the best ask"),
        Field("spread", P, m, NON_NEGATIVE, "the spread (best ask − best bid)"),
        Field("spread_pct", PCT, m, NON_NEGATIVE, "the spread as a share of the mid price"),
        Field("funding_rate", PCT, m, UNBOUNDED, "the funding rate"),
        Field("open_interest", N, m, NON_NEGATIVE, "the open interest"),
        Field("volume_24h", N, m, NON_NEGATIVE, "the 24-hour volume"),
        Field("turnover_24h", MON, m, NON_NEGATIVE, "the 24-hour turnover"),
        Field("change_24h", PCT, m, Scale(-1.0, None), "the 24-hour price change"),
        Field("high_24h", P, m, NON_NEGATIVE, "the 24-hour high"),
        Field("low_24h", P, m, NON_NEGATIVE, "the 24-hour low"),
        Field("open", P, c, NON_NEGATIVE, "the open of the last closed bar"),
        Field("high", P, c, NON_NEGATIVE, "the high of the last closed bar"),
        Field("low", P, c, NON_NEGATIVE, "the low of the last closed bar"),
        Field("close", P, c, NON_NEGATIVE, "the close of the last closed bar"),
        Field("volume", N, c, NON_NEGATIVE, "the volume of the last closed bar"),
        Field("position", N, a, UNBOUNDED, "the signed position size"),
        Field("long_size", N, a, NON_NEGATIVE, "the size of the long side"),
        Field("short_size", N, a, NON_NEGATIVE, "the size of the short side"),
        Field("position_size", N, a, NON_NEGATIVE, "the absolute position size"),
        Field("entry_price", P, a, NON_NEGATIVE, "the position's entry price"),
        Field("liq_price", P, a, NON_NEGATIVE, "the position's liquidation price"),
        Field("upnl", MON, a, UNBOUNDED, "the unrealised PnL"),
        Field("upnl_pct", PCT, a, UNBOUNDED, "the unrealised PnL as a share of the position value"),
        Field("leverage", N, a, NON_NEGATIVE, "the position's leverage"),
        Field("balance", MON, a, UNBOUNDED, "the wallet balance"),
        Field("equity", MON, a, UNBOUNDED, "the equity"),
        Field("available", MON, a, NON_NEGATIVE, "the available balance"),
        Field("open_orders", N, a, Scale(0.0, None, integer=True), "the number of open orders"),
        Field("time_in_position", Kind.DURATION, a, NON_NEGATIVE, "the time since the position opened"),
        Field("bars_in_position", N, a, Scale(0.0, None, integer=True), "the bars since the position opened"),
        Field("pnl_today", MON, a, UNBOUNDED, "the PnL realised since 00:00 UTC"),
        Field("time", Kind.TIME_OF_DAY, t, UNBOUNDED, "the time of day"),
        Field("weekday", Kind.WORD, t, UNBOUNDED, "the day of the week"),
        Field("hour", N, t, Scale(0.0, 23.0, integer=True), "the hour of the day"),
        Field("minute", N, t, Scale(0.0, 59.0, integer=True), "the minute of the hour"),
    )
    table = {f.name: f for f in rows}
    table["price"] = table["last"]
    return table


FIELDS: Mapping[str, Field] = _fields()
"""Every field by its name (aliases included: ``price`` maps to the ``last`` row)."""

CANDLE_FIELDS = tuple(name for name, f in FIELDS.items() if f.source is ReadSource.CANDLE)

POSITION_GUARD_FIELDS = frozenset({
    "position", "long_size", "short_size", "position_size", "entry_price", "liq_price", "upnl",
    "upnl_pct", "time_in_position", "bars_in_position", "open_orders",
})
"""Fields that change when an order of the rule is placed or fills (a guard against refiring)."""


# --- indicators ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Param:
    """An indicator parameter: a whole number (periods) or a decimal (``k``), with its range."""

    name: str
    default: float | None = None
    integer: bool = True
    lo: float = 1
    hi: float = MAX_PERIOD
    lo_open: bool = False

    @property
    def required(self) -> bool:
        return self.default is None

    def admits(self, value: float) -> bool:
        above = value > self.lo if self.lo_open else value >= self.lo
        return above and value <= self.hi and (not self.integer or value == int(value))

    @property
    def range_text(self) -> str:
        low = f"above {self.lo:g}" if self.lo_open else f"at least {self.lo:g}"
        what = "a whole number" if self.integer else "a number"
        return f"{what} {low} and at most {self.hi:g}"


@dataclass(frozen=True, slots=True)
class Indicator:
    """An indicator of §3: its parameters, result kind and scale, and the warm-up it needs."""

    name: str
    params: tuple[Param, ...]
    kind: Kind
    scale: Scale
    meaning: str
    warmup: Callable[[Mapping[str, float]], int]
    less_than: tuple[tuple[str, str], ...] = ()

    def warmup_bars(self, args: Mapping[str, float]) -> int:
        """Closed bars of history needed before the value equals the full-history value."""
        return self.warmup(args)

    @property
    def signature(self) -> str:
        """``rsi(n=14)``, ``sma(n)``: how hints show the parameters."""
        parts = [p.name if p.required else f"{p.name}={p.default:g}" for p in self.params]
        return f"{self.name}({', '.join(parts)})"


def _window(extra: int = 0) -> Callable[[Mapping[str, float]], int]:
    return lambda a: int(a["n"]) + extra


def _ema_bars(n: float) -> int:
    return 10 * (int(n) + 1)


def _wilder_bars(n: float) -> int:
    return 20 * int(n)


def _fixed(bars: int) -> Callable[[Mapping[str, float]], int]:
    return lambda a: bars


def _indicators() -> dict[str, Indicator]:
    P, N, PCT = Kind.PRICE, Kind.NUMBER, Kind.PERCENT
    n_req = (Param("n"),)

    def n(default: int) -> Param:
        return Param("n", default)

    k = Param("k", 2, integer=False, lo=0, hi=MAX_MULTIPLIER, lo_open=True)
    macd_params = (Param("fast", 12), Param("slow", 26), Param("signal", 9))
    stoch_params = (n(14), Param("smooth", 3))
    rows: list[Indicator] = [
        Indicator("sma", n_req, P, NON_NEGATIVE, "the simple moving average", _window()),
        Indicator("ema", n_req, P, NON_NEGATIVE, "the exponential moving average",
                  lambda a: _ema_bars(a["n"])),
        Indicator("wma", n_req, P, NON_NEGATIVE, "the weighted moving average", _window()),
        Indicator("vwap", (n(14),), P, NON_NEGATIVE, "the volume-weighted average price", _window()),
        Indicator("psar", (), P, NON_NEGATIVE, "the parabolic SAR", _fixed(500)),
        Indicator("keltner_upper", (n(20),), P, NON_NEGATIVE, "the upper Keltner channel", _window()),
        Indicator("keltner_lower", (n(20),), P, UNBOUNDED, "the lower Keltner channel", _window()),
        Indicator("donchian_upper", (n(20),), P, NON_NEGATIVE, "the upper Donchian channel", _window()),
        Indicator("donchian_lower", (n(20),), P, NON_NEGATIVE, "the lower Donchian channel", _window()),
        Indicator("highest", n_req, P, NON_NEGATIVE, "the highest high", _window()),
        Indicator("lowest", n_req, P, NON_NEGATIVE, "the lowest low", _window()),
        Indicator("atr", (n(14),), P, NON_NEGATIVE, "the average true range",
                  lambda a: _wilder_bars(a["n"]) + 1),
        Indicator("macd", macd_params, P, UNBOUNDED, "the MACD line",
                  lambda a: _ema_bars(a["slow"]), less_than=(("fast", "slow"),)),
        Indicator("macd_signal", macd_params, P, UNBOUNDED, "the MACD signal line",
                  lambda a: _ema_bars(a["slow"]) + _ema_bars(a["signal"]),
                  less_than=(("fast", "slow"),)),
        Indicator("macd_hist", macd_params, P, UNBOUNDED, "the MACD histogram",
                  lambda a: _ema_bars(a["slow"]) + _ema_bars(a["signal"]),
                  less_than=(("fast", "slow"),)),
        Indicator("rsi", (n(14),), N, OSCILLATOR, "the RSI", lambda a: _wilder_bars(a["n"]) + 1),
        Indicator("stoch", stoch_params, N, OSCILLATOR, "the stochastic %K",
                  lambda a: int(a["n"]) + int(a["smooth"])),
        Indicator("stoch_signal", stoch_params, N, OSCILLATOR, "the stochastic %D",
                  lambda a: int(a["n"]) + int(a["smooth"])),
        Indicator("stoch_rsi", (n(14),), N, OSCILLATOR, "the stochastic RSI",
                  lambda a: _wilder_bars(a["n"]) + 1 + int(a["n"]) + 6),
        Indicator("mfi", (n(14),), N, OSCILLATOR, "the money flow index", _window(1)),
        Indicator("adx", (n(14),), N, OSCILLATOR, "the ADX", lambda a: 2 * _wilder_bars(a["n"]) + 1),
        Indicator("williams_r", (n(14),), N, Scale(-100.0, 0.0), "Williams %R", _window()),
        Indicator("cci", (n(20),), N, UNBOUNDED, "the commodity channel index", _window()),
        Indicator("roc", (n(12),), PCT, Scale(-1.0, None), "the rate of change", _window(1)),
        Indicator("change", n_req, PCT, Scale(-1.0, None), "the change of the close", _window(1)),
        Indicator("obv", (), N, UNBOUNDED, "the on-balance volume", _fixed(2)),
    ]
    for band, meaning, scale, kind in (
        ("bb_upper", "the upper Bollinger band", NON_NEGATIVE, P),
        ("bb_mid", "the middle Bollinger band", NON_NEGATIVE, P),
        ("bb_lower", "the lower Bollinger band", UNBOUNDED, P),
        ("bb_pct", "the Bollinger %B", UNBOUNDED, N),
        ("bb_width", "the Bollinger band width", NON_NEGATIVE, PCT),
    ):
        rows.append(Indicator(band, (n(20), k), kind, scale, meaning, _window()))
    return {i.name: i for i in rows}


INDICATORS: Mapping[str, Indicator] = _indicators()

TF_ARG = "tf"
"""The named argument that gives an indicator's or candle field's timeframe."""


# --- timeframes ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timeframe:
    """A Bybit kline interval: our name (``1h``), its length and Bybit's code (``60``)."""

    name: str
    seconds: int
    bybit: str


TIMEFRAMES: tuple[Timeframe, ...] = (
    Timeframe("1m", 60, "1"), Timeframe("3m", 180, "3"), Timeframe("5m", 300, "5"),
    Timeframe("15m", 900, "15"), Timeframe("30m", 1800, "30"), Timeframe("1h", 3600, "60"),
    Timeframe("2h", 7200, "120"), Timeframe("4h", 14400, "240"), Timeframe("6h", 21600, "360"),
    Timeframe("12h", 43200, "720"), Timeframe("1d", 86400, "D"), Timeframe("1w", 604800, "W"),
    Timeframe("1M", 2592000, "M"),
)
_TF_BY_NAME = {t.name: t for t in TIMEFRAMES}
_TF_BY_SECONDS = {t.seconds: t for t in TIMEFRAMES if t.name != "1M"}
TIMEFRAME_NAMES = ", ".join(t.name for t in TIMEFRAMES)


def timeframe_for(count: int, unit: str) -> str | None:
    """The canonical timeframe of a duration (``60m`` -> ``1h``), or None if Bybit has none."""
    if unit == "M":
        return "1M" if count == 1 else None
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}.get(unit)
    if seconds is None:
        return None
    tf = _TF_BY_SECONDS.get(count * seconds)
    return tf.name if tf else None


def timeframe_seconds(name: str) -> int:
    """The length of a canonical timeframe in seconds (``1M`` counts 30 days)."""
    return _TF_BY_NAME[name].seconds


def bybit_interval(name: str) -> str:
    """Bybit's code for a canonical timeframe (``1h`` -> ``60``)."""
    return _TF_BY_NAME[name].bybit


# --- words ---------------------------------------------------------------------------------

POSITION_WORDS = ("long", "short", "flat")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_WORDS = DAY_NAMES + ("weekday", "weekend")
IS_WORDS: Mapping[str, tuple[str, ...]] = {"position": POSITION_WORDS, "weekday": DAY_WORDS}
"""The words allowed after ``is`` / ``in`` for each subject."""

SETTING_CHOICES: Mapping[str, tuple[str, ...]] = {
    "mode": ("oneway", "hedge"),
    "margin": ("isolated", "cross"),
    "tpsl": ("full", "partial"),
}
"""``set mode|margin|tpsl`` and their allowed words."""

WORDS = frozenset(POSITION_WORDS + DAY_WORDS + tuple(w for ws in SETTING_CHOICES.values() for w in ws))
"""Every named constant of the language (§2 "word")."""

WORD_SYNONYMS: Mapping[str, str] = {
    "none": "flat", "empty": "flat", "closed": "flat", "buy": "long", "sell": "short",
    "monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu", "friday": "fri",
    "saturday": "sat", "sunday": "sun", "weekdays": "weekday", "weekends": "weekend",
    "one_way": "oneway", "oneway_mode": "oneway", "hedged": "hedge", "isolate": "isolated",
}


# --- actions -------------------------------------------------------------------------------

ACTIONS = ("buy", "sell", "close", "cancel", "set", "notify", "pause", "halt")
ACTION_SYNONYMS: Mapping[str, str] = {
    "purchase": "buy", "acquire": "buy", "long": "buy", "enter": "buy",
    "short": "sell", "exit": "close", "flatten": "close", "liquidate": "close",
    "alert": "notify", "message": "notify", "send": "notify", "log": "notify",
    "stop": "halt", "kill": "halt", "suspend": "pause", "abort": "cancel",
}
SETTINGS = ("leverage", "mode", "margin", "tpsl", "tp", "sl", "trail")
ORDER_OPTIONS: Mapping[str, str] = {
    "tp": "take profit", "sl": "stop loss", "trail": "trailing stop", "post_only": "post only",
    "ioc": "ioc", "fok": "fok", "reduce_only": "reduce only", "expire": "expire", "tag": "tag",
}
"""Order options (the AST's ``OrderOption.kind``) and how messages name them."""
TIME_IN_FORCE_OPTIONS = ("post_only", "ioc", "fok")
STANDARD_COINS = ("usdt", "usdc", "btc", "eth")
"""Coins every rule may name, besides its symbol's base and quote coin."""


# --- suggestions ---------------------------------------------------------------------------

NAME_SYNONYMS: Mapping[str, str] = {
    "ma": "sma", "moving_average": "sma", "exp_ma": "ema", "vwma": "vwap", "sar": "psar",
    "parabolic_sar": "psar", "bollinger_upper": "bb_upper", "bollinger_lower": "bb_lower",
    "bollinger_mid": "bb_mid", "bb_middle": "bb_mid", "bb_percent": "bb_pct", "percent_b": "bb_pct",
    "stochastic": "stoch", "stoch_k": "stoch", "stoch_d": "stoch_signal", "stochrsi": "stoch_rsi",
    "willr": "williams_r", "williams": "williams_r", "percent_r": "williams_r",
    "macd_histogram": "macd_hist", "histogram": "macd_hist", "signal": "macd_signal",
    "max": "highest", "highest_high": "highest", "min": "lowest", "lowest_low": "lowest",
    "momentum": "roc", "rate_of_change": "roc", "average_true_range": "atr", "money_flow": "mfi",
    "last_price": "price", "ltp": "price", "mark": "mark_price", "index": "index_price",
    "bid": "bid1", "best_bid": "bid1", "ask": "ask1", "best_ask": "ask1", "offer": "ask1",
    "pos": "position", "size": "position_size", "qty": "position_size", "pnl": "upnl",
    "unrealized_pnl": "upnl", "unrealised_pnl": "upnl", "roi": "upnl_pct", "funding": "funding_rate",
    "oi": "open_interest", "vol": "volume", "entry": "entry_price", "liquidation_price": "liq_price",
    "wallet": "balance", "orders": "open_orders", "day": "weekday", "dow": "weekday",
    "o": "open", "h": "high", "l": "low", "c": "close", "v": "volume",
}


def suggest(word: str, candidates: Iterable[str], synonyms: Mapping[str, str] | None = None) -> str | None:
    """The closest candidate to a mistyped word: a known synonym first, then spelling."""
    pool = list(candidates)
    if synonyms and word in synonyms and synonyms[word] in pool:
        return synonyms[word]
    found = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: str, candidates: Iterable[str], synonyms: Mapping[str, str] | None = None) -> str:
    """``did you mean 'rsi'?`` or an empty hint."""
    best = suggest(word, candidates, synonyms)
    return f"did you mean '{best}'?" if best else ""

