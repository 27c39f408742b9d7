"""The language's tables against LANGUAGE.md §2–§3, and the kind rules of §2."""

from __future__ import annotations

import pytest

from rulebot.lang.kinds import Kind, Operand, combine, comparable
from rulebot.lang.vocabulary import (
    FIELDS,
    INDICATORS,
    TIMEFRAMES,
    ReadSource,
    did_you_mean,
    timeframe_for,
)

P, N, PCT, MON, DUR = Kind.PRICE, Kind.NUMBER, Kind.PERCENT, Kind.MONEY, Kind.DURATION

SPEC_FIELDS = {
    "price": P, "last": P, "mark_price": P, "index_price": P, "bid1": P, "ask1": P, "mid": P,
    "bid1_size": N, "ask1_size": N, "spread": P, "spread_pct": PCT, "funding_rate": PCT,
    "open_interest": N, "volume_24h": N, "turnover_24h": MON, "change_24h": PCT, "high_24h": P, "low_24h": P,
    "open": P, "high": P, "low": P, "close": P, "volume": N,
    "position": N, "long_size": N, "short_size": N, "position_size": N, "entry_price": P, "liq_price": P,
    "upnl": MON, "upnl_pct": PCT, "leverage": N, "balance": MON, "equity": MON, "available": MON,
    "open_orders": N, "time_in_position": DUR, "bars_in_position": N, "pnl_today": MON,
    "time": Kind.TIME_OF_DAY, "weekday": Kind.WORD, "hour": N, "minute": N,
}
SPEC_INDICATORS = {
    "sma": (P, ["n"]), "ema": (P, ["n"]), "wma": (P, ["n"]), "vwap": (P, ["n"]), "psar": (P, []),
    "bb_upper": (P, ["n", "k"]), "bb_mid": (P, ["n", "k"]), "bb_lower": (P, ["n", "k"]),
    "keltner_upper": (P, ["n"]), "keltner_lower": (P, ["n"]), "donchian_upper": (P, ["n"]),
    "donchian_lower": (P, ["n"]), "highest": (P, ["n"]), "lowest": (P, ["n"]), "atr": (P, ["n"]),
    "macd": (P, ["fast", "slow", "signal"]), "macd_signal": (P, ["fast", "slow", "signal"]),
    "macd_hist": (P, ["fast", "slow", "signal"]), "rsi": (N, ["n"]), "stoch": (N, ["n", "smooth"]),
    "stoch_signal": (N, ["n", "smooth"]), "stoch_rsi": (N, ["n"]), "mfi": (N, ["n"]), "adx": (N, ["n"]),
    "williams_r": (N, ["n"]), "cci": (N, ["n"]), "bb_pct": (N, ["n", "k"]), "bb_width": (PCT, ["n", "k"]),
    "roc": (PCT, ["n"]), "change": (PCT, ["n"]), "obv": (N, []),
}


def test_every_field_of_section_3_with_its_kind() -> None:
    assert {name: f.kind for name, f in FIELDS.items()} == SPEC_FIELDS
    assert FIELDS["price"] is FIELDS["last"]
    assert {n for n, f in FIELDS.items() if f.source is ReadSource.CANDLE} == {"open", "high", "low", "close", "volume"}
    assert not FIELDS["close"].is_live and FIELDS["bid1"].is_live and FIELDS["position"].is_live


def test_every_indicator_of_section_3_with_its_parameters_and_defaults() -> None:
    assert {name: (i.kind, [p.name for p in i.params]) for name, i in INDICATORS.items()} == SPEC_INDICATORS
    assert INDICATORS["rsi"].signature == "rsi(n=14)"
    assert INDICATORS["sma"].signature == "sma(n)"
    assert INDICATORS["macd"].signature == "macd(fast=12, slow=26, signal=9)"
    assert INDICATORS["bb_upper"].signature == "bb_upper(n=20, k=2)"
    assert (INDICATORS["rsi"].scale.lo, INDICATORS["rsi"].scale.hi) == (0, 100)
    assert (INDICATORS["williams_r"].scale.lo, INDICATORS["williams_r"].scale.hi) == (-100, 0)


@pytest.mark.parametrize("name, args, bars", [
    ("sma", {"n": 20}, 20), ("ema", {"n": 200}, 2010), ("rsi", {"n": 14}, 281), ("atr", {"n": 14}, 281),
    ("adx", {"n": 14}, 561), ("macd", {"fast": 12, "slow": 26, "signal": 9}, 270),
    ("macd_signal", {"fast": 12, "slow": 26, "signal": 9}, 370), ("roc", {"n": 12}, 13),
    ("bb_upper", {"n": 20, "k": 2}, 20), ("obv", {}, 2),
])
def test_warmup_bars(name: str, args: dict[str, float], bars: int) -> None:
    assert INDICATORS[name].warmup_bars(args) == bars


def test_timeframes_are_bybits() -> None:
    assert [t.name for t in TIMEFRAMES] == ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d",
                                            "1w", "1M"]
    assert timeframe_for(60, "m") == "1h" and timeframe_for(240, "m") == "4h" and timeframe_for(1, "M") == "1M"
    assert timeframe_for(7, "m") is None and timeframe_for(30, "s") is None and timeframe_for(2, "M") is None


def test_suggestions_use_synonyms_then_spelling() -> None:
    from rulebot.lang.vocabulary import ACTION_SYNONYMS, ACTIONS, NAME_SYNONYMS
    assert did_you_mean("purchase", ACTIONS, ACTION_SYNONYMS) == "did you mean 'buy'?"
    assert did_you_mean("exit", ACTIONS, ACTION_SYNONYMS) == "did you mean 'close'?"
    assert did_you_mean("ma", INDICATORS, NAME_SYNONYMS) == "did you mean 'sma'?"
    assert did_you_mean("rsii", INDICATORS) == "did you mean 'rsi'?"
    assert did_you_mean("zzzzzz", INDICATORS) == ""


@pytest.mark.parametrize("op, left, right, kind, offset", [
    ("+", Operand(P), Operand(PCT), P, True),            # ema(50) + 1%
    ("-", Operand(MON), Operand(PCT), MON, True),
    ("-", Operand(PCT), Operand(PCT), PCT, False),       # upnl_pct - 1%
    ("+", Operand(P), Operand(P), P, False),
    ("/", Operand(P), Operand(P), N, False),
    ("/", Operand(MON), Operand(MON), N, False),
    ("+", Operand(P), Operand(N, bare=True), P, False),
    ("*", Operand(N), Operand(P), P, False),
    ("/", Operand(MON), Operand(P), N, False),
])
def test_combinations_of_section_2(op: str, left: Operand, right: Operand, kind: Kind, offset: bool) -> None:
    result = combine(op, left, right)
    assert result is not None and result.kind is kind and result.relative_offset is offset


@pytest.mark.parametrize("op, left, right", [
    ("+", Operand(P), Operand(DUR)), ("+", Operand(N), Operand(PCT)), ("*", Operand(P), Operand(P)),
    ("+", Operand(P), Operand(MON)), ("+", Operand(Kind.WORD), Operand(N, bare=True)),
])
def test_combinations_refused(op: str, left: Operand, right: Operand) -> None:
    assert combine(op, left, right) is None


def test_comparisons_of_section_2() -> None:
    bare = Operand(N, bare=True)
    for kind in (N, P, MON, PCT):
        assert comparable(Operand(kind), bare, "<")
    assert comparable(Operand(N), Operand(PCT), ">")                 # atr(14) / close > 2%
    assert not comparable(Operand(N), Operand(P), ">")               # rsi(14) > ema(20)
    for kind in (DUR, Kind.WORD, Kind.TIME_OF_DAY):
        assert not comparable(Operand(kind), bare, "<")
    assert comparable(Operand(Kind.WORD), Operand(Kind.WORD), "==")
    assert not comparable(Operand(Kind.WORD), Operand(Kind.WORD), "<")
