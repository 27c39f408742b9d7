"""The indicators of LANGUAGE.md §3: names, parameters, defaults, scales and warm-up.

An `IndicatorSpec` names one indicator series: ``IndicatorSpec("rsi", (14,), "5m")``. Its
``params`` are complete (defaults filled in) and normalised (windows as ``int``), so two
spellings of the same indicator (``rsi()`` and ``rsi(14)``) are one cache key.

Several indicators are outputs of one computation (``bb_upper``/``bb_mid``/``bb_lower``/
``bb_pct``/``bb_width`` are Bollinger bands; ``macd``/``macd_signal``/``macd_hist`` one MACD;
``donchian_upper(n)`` is ``highest(n)``). `family_of` maps a spec to that computation and the
output it reads, so the cache computes each computation once per closed bar.

Warm-up (`warmup_bars`): the number of valid bars needed before the value is known, by
ta's conventions (rows where ta returns NaN, or the placeholder 0 that ta's ATR, ADX and
PSAR put before their first real value, are unknown here):

======================================  ==============================================
``sma ema wma vwap highest lowest``     n
``donchian_* bb_* atr rsi mfi``         n
``williams_r cci``                      n
``keltner_upper/lower(n)``              max(n, 10)  (EMA(n) of close ± 2 x ATR(10))
``psar()``                              3
``macd(f, s, sig)``                     max(f, s)
``macd_signal, macd_hist``              max(f, s) + sig - 1
``stoch(n, smooth)``                    n
``stoch_signal(n, smooth)``             n + smooth - 1
``stoch_rsi(n)``                        2n - 1
``adx(n)``                              2n
``roc(n) change(n)``                    n + 1
``obv()``                               1
======================================  ==============================================

Recursive indicators (ema, rsi, atr, adx, macd, keltner, stoch_rsi, psar, obv) depend on
the whole history they were fed, exactly as ta's value does: fed the same bars, the engine
and ta agree to the last bit; fed a shorter history, the seed still shows (an EMA forgets
it at the rate (1 - alpha) per bar; OBV's level never forgets where it started).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from rulebot.market.timeframes import normalize_timeframe

Number = int | float


class Scale(str, Enum):
    """The kind and scale of an indicator's value, as LANGUAGE.md §3 fixes it."""

    PRICE = "price"
    PRICE_DIFF = "price difference"
    OSC_0_100 = "number 0..100"
    OSC_NEG100_0 = "number -100..0"
    NUMBER = "number"
    FRACTION = "percent (fraction)"


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter: its name, default (None: required) and whether it is a whole number."""

    name: str
    default: Number | None
    integer: bool = True


@dataclass(frozen=True, slots=True)
class IndicatorDef:
    """One indicator name of the language and the computation behind it."""

    name: str
    params: tuple[Param, ...]
    family: str
    output: int
    scale: Scale
    summary: str


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """One indicator series: name, complete parameters, timeframe (canonical, e.g. ``"5m"``)."""

    name: str
    params: tuple[Number, ...]
    timeframe: str

    @classmethod
    def make(
        cls,
        name: str,
        args: Sequence[Number] = (),
        timeframe: str = "1m",
        kwargs: Mapping[str, Number] | None = None,
    ) -> IndicatorSpec:
        """Build a spec from positional and named arguments, filling in defaults.

        Raises ValueError naming the problem (unknown indicator, missing or extra argument,
        a window that is not a positive whole number).
        """
        key = name.lower()
        definition = INDICATORS.get(key)
        if definition is None:
            raise ValueError(f"unknown indicator '{name}'")
        named = dict(kwargs or {})
        if len(args) > len(definition.params):
            raise ValueError(f"{key}() takes at most {len(definition.params)} arguments, got {len(args)}")
        values: list[Number] = []
        for i, param in enumerate(definition.params):
            if i < len(args):
                if param.name in named:
                    raise ValueError(f"{key}(): '{param.name}' given twice")
                raw: Number | None = args[i]
            else:
                raw = named.pop(param.name, param.default)
            if raw is None:
                raise ValueError(f"{key}() needs '{param.name}'")
            values.append(_check_param(key, param, raw))
        if named:
            raise ValueError(f"{key}() has no parameter '{sorted(named)[0]}'")
        return cls(key, tuple(values), normalize_timeframe(timeframe))

    def __str__(self) -> str:
        args = ", ".join(str(p) for p in self.params)
        return f"{self.name}({args}) on {self.timeframe}"


def _check_param(indicator: str, param: Param, raw: Number) -> Number:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ValueError(f"{indicator}(): '{param.name}' must be a number, got {raw!r}")
    if param.integer:
        if raw != int(raw) or raw < 1:
            raise ValueError(f"{indicator}(): '{param.name}' must be a whole number of bars >= 1, got {raw}")
        return int(raw)
    if not raw > 0:
        raise ValueError(f"{indicator}(): '{param.name}' must be positive, got {raw}")
    return float(raw)


def _p(name: str, default: Number | None = None, integer: bool = True) -> Param:
    return Param(name, default, integer)


_N = (_p("n"),)
_BB = (_p("n", 20), _p("k", 2, integer=False))
_MACD = (_p("fast", 12), _p("slow", 26), _p("signal", 9))
_STOCH = (_p("n", 14), _p("smooth", 3))
_PSAR = (_p("step", 0.02, integer=False), _p("max_step", 0.2, integer=False))


def _def(name: str, params: tuple[Param, ...], family: str, output: int, scale: Scale, summary: str) -> IndicatorDef:
    return IndicatorDef(name, params, family, output, scale, summary)


INDICATORS: Mapping[str, IndicatorDef] = {
    d.name: d
    for d in (
        _def("sma", _N, "sma", 0, Scale.PRICE, "simple moving average of close"),
        _def("ema", _N, "ema", 0, Scale.PRICE, "exponential moving average of close"),
        _def("wma", _N, "wma", 0, Scale.PRICE, "linearly weighted moving average of close"),
        _def("vwap", (_p("n", 14),), "vwap", 0, Scale.PRICE, "rolling volume-weighted typical price"),
        _def("psar", _PSAR, "psar", 0, Scale.PRICE, "parabolic stop and reverse"),
        _def("bb_upper", _BB, "bb", 0, Scale.PRICE, "upper Bollinger band (population std)"),
        _def("bb_mid", _BB, "bb", 1, Scale.PRICE, "middle Bollinger band (SMA)"),
        _def("bb_lower", _BB, "bb", 2, Scale.PRICE, "lower Bollinger band"),
        _def("bb_pct", _BB, "bb", 3, Scale.NUMBER, "%B: 0 at the lower band, 1 at the upper"),
        _def("bb_width", _BB, "bb", 4, Scale.FRACTION, "(upper - lower) / mid"),
        _def("keltner_upper", (_p("n", 20),), "keltner", 0, Scale.PRICE, "EMA(n) + 2 ATR(10)"),
        _def("keltner_lower", (_p("n", 20),), "keltner", 1, Scale.PRICE, "EMA(n) - 2 ATR(10)"),
        _def("donchian_upper", (_p("n", 20),), "highest", 0, Scale.PRICE, "highest high of n bars"),
        _def("donchian_lower", (_p("n", 20),), "lowest", 0, Scale.PRICE, "lowest low of n bars"),
        _def("highest", _N, "highest", 0, Scale.PRICE, "highest high of n bars"),
        _def("lowest", _N, "lowest", 0, Scale.PRICE, "lowest low of n bars"),
        _def("atr", (_p("n", 14),), "atr", 0, Scale.PRICE_DIFF, "average true range (Wilder)"),
        _def("macd", _MACD, "macd", 0, Scale.PRICE_DIFF, "MACD line"),
        _def("macd_signal", _MACD, "macd", 1, Scale.PRICE_DIFF, "MACD signal line"),
        _def("macd_hist", _MACD, "macd", 2, Scale.PRICE_DIFF, "MACD histogram"),
        _def("rsi", (_p("n", 14),), "rsi", 0, Scale.OSC_0_100, "relative strength index (Wilder)"),
        _def("stoch", _STOCH, "stoch", 0, Scale.OSC_0_100, "stochastic %K"),
        _def("stoch_signal", _STOCH, "stoch", 1, Scale.OSC_0_100, "stochastic %D (SMA of %K)"),
        _def("stoch_rsi", (_p("n", 14),), "stoch_rsi", 0, Scale.OSC_0_100, "stochastic RSI x 100"),
        _def("mfi", (_p("n", 14),), "mfi", 0, Scale.OSC_0_100, "money flow index"),
        _def("adx", (_p("n", 14),), "adx", 0, Scale.OSC_0_100, "average directional index"),
        _def("williams_r", (_p("n", 14),), "williams_r", 0, Scale.OSC_NEG100_0, "Williams %R"),
        _def("cci", (_p("n", 20),), "cci", 0, Scale.NUMBER, "commodity channel index"),
        _def("roc", (_p("n", 12),), "roc", 0, Scale.FRACTION, "rate of change as a fraction"),
        _def("change", _N, "change", 0, Scale.FRACTION, "close / close[n] - 1"),
        _def("obv", (), "obv", 0, Scale.NUMBER, "on-balance volume"),
    )
}


@dataclass(frozen=True, slots=True)
class Family:
    """One computation (e.g. Bollinger bands with n=20, k=2), shared by the outputs that read it."""

    name: str
    params: tuple[Number, ...]


def family_of(spec: IndicatorSpec) -> tuple[Family, int]:
    """The computation behind a spec and the index of the output it reads."""
    definition = INDICATORS[spec.name]
    return Family(definition.family, spec.params), definition.output


def warmup_bars(spec: IndicatorSpec) -> int:
    """Valid bars needed before the indicator is known (see the module docstring)."""
    family, output = family_of(spec)
    p = family.params
    name = family.name
    if name == "keltner":
        return max(int(p[0]), 10)
    if name == "psar":
        return 3
    if name == "macd":
        longest = max(int(p[0]), int(p[1]))
        return longest if output == 0 else longest + int(p[2]) - 1
    if name == "stoch":
        return int(p[0]) if output == 0 else int(p[0]) + int(p[1]) - 1
    if name == "stoch_rsi":
        return 2 * int(p[0]) - 1
    if name == "adx":
        return 2 * int(p[0])
    if name in ("roc", "change"):
        return int(p[0]) + 1
    if name == "obv":
        return 1
    return int(p[0])
