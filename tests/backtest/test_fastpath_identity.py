"""The fast replay (rulebot/backtest/fastpath.py) gives the event-by-event replay's result exactly:
every journal entry (fires, orders, fills with their prices, fees and exit reasons, rejections),
the final wallet, the replay's counts, the rules' states and the market's anomaly counts — on
every example file, on real data (a gap, flat zero-volume candles, a first hour the data starts
inside), on several symbols, and on random rule files built from templates. The vectorised
masks are also checked against the compiled conditions at every evaluation of a replay."""

from __future__ import annotations

import logging
import random
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulebot.backtest.fastpath import fast_replay, merged_events
from rulebot.backtest.maskops import MaskContext
from rulebot.backtest.masks import rule_mask
from rulebot.backtest.precomputed import SymbolBars
from rulebot.backtest.replay import KlineSeries, read_klines
from rulebot.engine.replay import Replay, ReplayStats, prepare_replay
from rulebot.exchange.paper import PaperConfig
from rulebot.journal import EntryKind
from rulebot.model.events import WalletUpdate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
KLINES = ROOT.parent / "shared" / "data" / "klines"
BYBIT = KLINES / "bybit_linear_BTCUSDT_1m_2025-05-29_2025-06-29.csv"
BINANCE_2023 = KLINES / "binance_spot_BTCUSDT_1m_2023-03-16_2023-05-05.csv"
DAY = 86_400_000

sys.path.insert(0, str(ROOT / "examples"))
from generate_candles import generate  # noqa: E402


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    """The engine logs every fire and refusal; thousands of them only slow the tests down."""
    logger = logging.getLogger("rulebot")
    before = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(before)


def generated(days: float, seed: int, symbol: str = "BTCUSDT") -> KlineSeries:
    c = generate(days, seed)
    p = c.prices()
    return KlineSeries(symbol, "1m", 60_000, c.timestamp_ms, p["open"], p["high"], p["low"], p["close"],
                       c.volume_milli / 1000.0)


def real(path: Path, first_ms: int | None = None, end_ms: int | None = None) -> KlineSeries:
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    return read_klines(path, "BTCUSDT").window(first_ms, end_ms)


@dataclass(frozen=True)
class Outcome:
    """Everything a replay leaves that a backtest reports."""

    stats: ReplayStats
    journal: list[tuple[object, ...]]
    wallet: WalletUpdate
    states: list[tuple[object, ...]]
    anomalies: dict[str, int]
    bad: dict[str, int]
    market: list[tuple[object, ...]]

    def executions(self) -> list[tuple[object, ...]]:
        return [e for e in self.journal if e[0] is EntryKind.FILL]


def replay_for(paths: list[Path], balance: str, clock_ms: int) -> Replay:
    """A fresh replay whose clock starts at ``clock_ms`` (the first bar's open)."""
    return prepare_replay([str(p) for p in paths], paper=PaperConfig(initial_balance=Decimal(balance)),
                          start_ms=clock_ms)


def outcome(replay: Replay, stats: ReplayStats) -> Outcome:
    journal = [(e.kind, e.ts_ms, e.rule, e.symbol, e.summary, e.fields) for e in replay.journal.entries()]
    states = [(s.key, s.state.armed, s.state.fire_seq, s.state.last_fired_ms, tuple(s.state.in_flight),
               tuple(sorted(s.rule.snapshot_state().items())))
              for s in replay.engine.routes.slots]
    market = replay.market
    return Outcome(stats, journal, replay.paper.wallet(), states,
                   {k.value: v for k, v in market.anomaly_counts.items()}, dict(replay.engine.bad.counts),
                   market_state(replay))


def market_state(replay: Replay) -> list[tuple[object, ...]]:
    """Every candle series' kept bars and every indicator's kept values, bit for bit."""
    out: list[tuple[object, ...]] = []
    market = replay.market
    for symbol in market.symbols():
        live = market.live_fields(symbol)
        out.append((symbol, live.last))
        for tf, series in market.symbol(symbol).candles.items():
            a = series.arrays()
            out.append((symbol, tf, series.count, series.starts().tobytes(),
                        np.vstack([a.open, a.high, a.low, a.close, a.volume]).tobytes()))
            for handle in series.indicators.handles():
                kept = [handle.at(i) for i in range(min(handle.count, handle.lookback + 1))]
                out.append((str(handle.spec), handle.count, np.array(kept).tobytes()))
    return out


def both(paths: list[Path], data: Mapping[str, KlineSeries], start_ms: int | None,
         balance: str = "10000") -> tuple[Outcome, Outcome]:
    first = min(int(s.ts_ms[0]) for s in data.values())
    slow = replay_for(paths, balance, first)
    slow_stats = slow.run(merged_events(data), start_ms=start_ms)
    fast = replay_for(paths, balance, first)
    fast_stats = fast_replay(fast, data, start_ms)
    return outcome(slow, slow_stats), outcome(fast, fast_stats)


def assert_identical(slow: Outcome, fast: Outcome) -> None:
    assert fast.executions() == slow.executions()
    assert fast.journal == slow.journal
    assert fast.wallet == slow.wallet
    assert fast.stats == slow.stats
    assert fast.states == slow.states
    assert fast.anomalies == slow.anomalies
    assert fast.bad == slow.bad
    assert fast.market == slow.market


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rules")


def write_rules(folder: Path, text: str) -> Path:
    path = folder / f"rules{len(list(folder.iterdir()))}.yaml"
    path.write_text(text)
    return path


# --- the example files ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_weeks() -> KlineSeries:
    return generated(21, 7)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_on_generated_data(path: Path, three_weeks: KlineSeries) -> None:
    start = int(three_weeks.ts_ms[0]) + 2 * DAY
    slow, fast = both([path], {"BTCUSDT": three_weeks}, start)
    assert_identical(slow, fast)
    assert slow.stats.bars == len(three_weeks) - 2 * 1440


def test_the_examples_trade_on_generated_data(three_weeks: KlineSeries) -> None:
    """The comparisons above compare trades, not empty journals."""
    slow, fast = both(EXAMPLES, {"BTCUSDT": three_weeks}, int(three_weeks.ts_ms[0]) + 2 * DAY, "1000000")
    assert_identical(slow, fast)
    fired_rules = {e[2] for e in slow.journal if e[0] is EntryKind.FIRE}
    assert len(fired_rules) >= 12
    assert len(slow.executions()) > 100
    assert {dict(e[5])["exit_reason"] for e in slow.executions()} >= {"", "sl", "rule", "end"}


# --- real data -------------------------------------------------------------------------------------


def test_the_whole_bybit_file() -> None:
    data = {"BTCUSDT": real(BYBIT)}
    slow, fast = both([ROOT / "examples" / "rsi_dip.yaml", ROOT / "examples" / "macd_trailing.yaml"], data,
                      int(data["BTCUSDT"].ts_ms[0]) + DAY, "1000000")
    assert_identical(slow, fast)
    assert len(slow.executions()) > 50
    assert {dict(e[5])["exit_reason"] for e in slow.executions()} >= {"", "sl", "rule"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_on_bybit_ten_days(path: Path) -> None:
    series = real(BYBIT)
    data = {"BTCUSDT": series.window(None, int(series.ts_ms[0]) + 10 * DAY)}
    slow, fast = both([path], data, int(series.ts_ms[0]) + DAY)
    assert_identical(slow, fast)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_across_the_binance_halt(path: Path) -> None:
    """2023-03-24: 72 flat zero-volume candles, then 80 minutes missing; the data starts at 22:15,
    inside an hour (the first 1h bar is dropped as partial)."""
    series = real(BINANCE_2023)
    gap = 1679661600000  # 2023-03-24 12:40 UTC, the first missing minute
    data = {"BTCUSDT": series.window(None, gap + 6 * DAY)}
    assert int(np.diff(data["BTCUSDT"].ts_ms).max()) == 81 * 60_000
    slow, fast = both([path], data, int(series.ts_ms[0]) + 3 * DAY)
    assert_identical(slow, fast)


def test_the_binance_halt_makes_rules_see_a_gap(rules_dir: Path) -> None:
    """A rule reading 15m and 1h bars around the gap and the partial first hour."""
    series = real(BINANCE_2023)
    data = {"BTCUSDT": series.window(None, 1679661600000 + 2 * DAY)}
    text = """\
symbol: BTCUSDT
timeframe: 1m
risk:
  max_position: 0.05
rules:
  - name: hourly dip
    when: close(1h) < ema(10, 1h) and rsi(14, 15m) < 45 and position is flat
    then: buy 0.01 market tp 0.5% sl 0.5%
  - name: flat market
    when: volume == 0 and high == low
    then: notify "no trade at {close}"
    trigger: level
"""
    path = write_rules(rules_dir, text)
    slow, fast = both([path], data, int(series.ts_ms[0]) + DAY, "1000000")
    assert_identical(slow, fast)
    assert slow.anomalies == {"partial_bar": 1}  # the first hour (22:15 is on a 15m boundary)
    assert sum(e[2] == "flat market" for e in slow.journal if e[0] is EntryKind.FIRE) == 72


# --- several symbols, and what the masks leave to the engine ---------------------------------------

def test_two_symbols_share_one_wallet(rules_dir: Path) -> None:
    text = """\
symbol: [BTCUSDT, ETHUSDT]
timeframe: 1m
settings:
  leverage: 2
risk:
  max_position: 0.5
rules:
  - name: dip
    when: rsi(14) < 30 and position is flat and available > 9000
    then: buy 0.05 market tp 1% sl 1%
  - name: pop
    when: rsi(14, 5m) > 70 and position > 0
    then: close market
"""
    btc, eth = generated(6, 3), generated(6, 5, "ETHUSDT")
    data = {"BTCUSDT": btc, "ETHUSDT": eth}
    slow, fast = both([write_rules(rules_dir, text)], data, int(btc.ts_ms[0]) + DAY, "12000")
    assert_identical(slow, fast)
    assert {e[3] for e in slow.executions()} == {"BTCUSDT", "ETHUSDT"}


def test_remembered_conditions_scheduled_rules_and_time_windows(rules_dir: Path) -> None:
    text = """\
symbol: BTCUSDT
timeframe: 1m
timezone: America/New_York
risk:
  max_position: 0.05
rules:
  - name: cross of the live price
    when: price crosses above ema(30) and position is flat
    then: buy 0.01 market sl 0.4% tp 0.4%
    cooldown: 20m
  - name: held for a while
    when: (close < ema(30)) for 15m and position > 0
    then: close market
  - name: every hour
    every: 1h
    when: position is flat and time between 09:30 and 16:00
    then: sell 0.01 limit close + 0.05% expire 20m sl 0.5%
  - name: give up
    when: bars_in_position > 45 or upnl_pct < -0.3%
    then: close market
    trigger: level
"""
    series = generated(5, 9)
    slow, fast = both([write_rules(rules_dir, text)], {"BTCUSDT": series}, int(series.ts_ms[0]) + DAY, "100000")
    assert_identical(slow, fast)
    fired = {e[2] for e in slow.journal if e[0] is EntryKind.FIRE}
    assert fired == {"cross of the live price", "held for a while", "every hour", "give up"}


def test_targets_stops_trailing_stops_and_expiring_limits(rules_dir: Path) -> None:
    """Positions both ways left to the paper exchange's levels: the bars skipped while they are
    open are exactly those that cannot reach a level."""
    text = """\
symbol: BTCUSDT
timeframe: 1m
risk:
  max_position: 0.05
rules:
  - name: long
    when: rsi(14) < 35 and position is flat and open_orders == 0
    then: buy 0.01 market tp 0.4% sl 0.3%
  - name: short
    when: rsi(14) > 68 and position is flat and open_orders == 0
    then: sell 0.01 market trail 0.25%
  - name: resting
    when: close < ema(50) and position is flat and open_orders == 0
    then: buy 0.01 limit close - 0.15% expire 15m tp 0.2% sl 0.5%
    cooldown: 10m
"""
    series = generated(4, 21)
    slow, fast = both([write_rules(rules_dir, text)], {"BTCUSDT": series}, int(series.ts_ms[0]) + DAY // 2, "100000")
    assert_identical(slow, fast)
    assert {dict(e[5])["exit_reason"] for e in slow.executions()} >= {"", "tp", "sl", "trail"}
    statuses = {dict(e[5])["status"] for e in slow.journal if e[0] is EntryKind.ORDER}
    assert statuses >= {"filled", "cancelled"}  # limits that expired unfilled are cancelled


def test_progress_is_told_every_bar_once(rules_dir: Path) -> None:
    series = generated(3, 6)
    told: list[int] = []
    replay = replay_for([ROOT / "examples" / "rsi_dip.yaml"], "10000", int(series.ts_ms[0]))
    stats = fast_replay(replay, {"BTCUSDT": series}, int(series.ts_ms[0]) + DAY, progress=told.append, every=500)
    assert sum(told) == len(series) == stats.bars + stats.warmup_bars
    assert len(told) > 5


def test_a_market_already_fed_falls_back_to_event_by_event() -> None:
    series = generated(2, 4)
    path = ROOT / "examples" / "rsi_dip.yaml"
    slow = replay_for([path], "10000", int(series.ts_ms[0]))
    slow.market.load_bars("BTCUSDT", "1m", [0], [1.0], [1.0], [1.0], [1.0], [1.0])
    slow_stats = slow.run(merged_events({"BTCUSDT": series}))
    fast = replay_for([path], "10000", int(series.ts_ms[0]))
    fast.market.load_bars("BTCUSDT", "1m", [0], [1.0], [1.0], [1.0], [1.0], [1.0])
    assert_identical(outcome(slow, slow_stats), outcome(fast, fast_replay(fast, {"BTCUSDT": series})))


# --- random rule files ---------------------------------------------------------------------------

MARKET_PARTS = (
    "rsi(14) < 35", "rsi(14) > 65", "rsi(7, 5m) < 40", "close > ema(20)", "close < sma(50)",
    "ema(12) crosses above ema(26)", "ema(12) crosses below ema(26)", "close crosses below bb_lower(20, 2)",
    "(close > open) for 3 bars", "close rising 3", "close falling 2", "macd_hist() > 0", "adx(14) > 20",
    "close > highest(20)[1]", "close < lowest(10)[1]", "change(5) < -0.2%", "atr(14) / close > 0.05%",
    "close between bb_lower(20) and bb_mid(20)", "hour >= 8", "time between 22:00 and 02:00",
    "weekday is weekend", "weekday in [mon, wed, fri]", "close(15m) > ema(20, 15m)",
    "close > close[5] + 0.3%", "stoch(14) < 20", "williams_r(14) > -20", "cci(20) < -100",
    "close > vwap(14)", "mfi(14) < 30", "price > ema(50)", "bb_width(20, 2) < 0.4%", "-close < -ema(30) * 1.001",
    "close > psar()", "volume > 30", "roc(12) > 0.3%", "minute == 0", "close != close[1]",
    # unknown for a while or at times: indicators still warming up, a division by zero, a live
    # field a bar replay never sets
    "rsi(14, 1h) != 50", "not (sma(200, 15m) > close)", "(close - open) / (high - low) > 0.5",
    "(close - close[3]) / (close - open) > 1",
    "mid > 0 or close > ema(100)",
)
ACCOUNT_PARTS = (
    "position is flat", "position > 0", "position < 0", "position is not flat", "upnl_pct > 0.4%",
    "upnl_pct < -0.3%", "bars_in_position > 20", "open_orders == 0", "time_in_position > 30m",
    "pnl_today > -50", "upnl > 5", "balance > 1000", "entry_price > 0",
)
REMEMBERED_PARTS = ("price crosses above ema(20)", "(close > ema(10)) for 10m", "(price > ema(30)) for 3 bars")
ACTIONS = (
    "buy 0.01 market tp 1% sl 0.5%", "sell 0.01 market sl 0.8%", "buy 0.01 limit close - 0.1% expire 30m",
    "close market", "buy 0.01 market trail 0.5%", "sell 0.01 limit close + 0.1% tp 1%",
    "close 50% market", 'notify "rsi {rsi(14)}"', "cancel orders", "sell 0.01 market trail 1% tp 2%",
)


def random_rule_file(rng: random.Random) -> str:
    """A rule file of 1-4 rules: market conditions with account guards, edge or level, with
    cooldowns, priorities, the odd remembered construct or schedule, on 1m or 5m, in three zones."""
    rules = []
    for i in range(rng.randint(1, 4)):
        parts = [rng.choice(MARKET_PARTS)]
        if rng.random() < 0.7:
            parts.append(rng.choice(ACCOUNT_PARTS))
        if rng.random() < 0.12:
            parts.append(rng.choice(REMEMBERED_PARTS))
        if rng.random() < 0.2:
            parts.append(rng.choice(MARKET_PARTS))
        condition = (" or " if rng.random() < 0.15 else " and ").join(parts)
        if rng.random() < 0.1:
            condition = f"not ({condition})"
        lines = [f"  - name: r{i}", f"    when: '{condition}'", f"    then: '{rng.choice(ACTIONS)}'"]
        if rng.random() < 0.5:
            lines.append("    trigger: level")
        if rng.random() < 0.3:
            lines.append(f"    cooldown: {rng.choice(['5m', '30m', '2h'])}")
        if rng.random() < 0.2:
            lines.append(f"    priority: {rng.randint(1, 3)}")
        if rng.random() < 0.08:
            lines.append(f"    every: {rng.choice(['15m', '1h'])}")
        rules.append("\n".join(lines))
    head = ["symbol: BTCUSDT", f"timeframe: {rng.choice(['1m', '1m', '5m'])}",
            f"timezone: {rng.choice(['UTC', 'Europe/Berlin', 'Asia/Kolkata'])}",
            "risk:", "  max_position: 0.03", "rules:"]
    return "\n".join(head + rules) + "\n"


@pytest.fixture(scope="module")
def two_days() -> KlineSeries:
    return generated(2, 11)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_random_rule_files(seed: int, two_days: KlineSeries, rules_dir: Path) -> None:
    path = write_rules(rules_dir, random_rule_file(random.Random(seed)))
    data = {"BTCUSDT": two_days.window(None, int(two_days.ts_ms[0]) + 3 * DAY // 2)}
    slow, fast = both([path], data, int(two_days.ts_ms[0]) + DAY // 2)
    assert_identical(slow, fast)


# --- the masks against the compiled conditions -----------------------------------------------------


AHEAD = 90  # bars a mask is read ahead, as the fast path reads it to skip


def check_masks(texts: list[str], data: KlineSeries, folder: Path) -> tuple[int, int]:
    """Replay each rule file event by event. At every evaluation of a rule that has a mask, the
    compiled value must equal the mask read at that bar, and the mask read ahead at the rule's
    previous evaluation, when no account event came in between (the fast path's skipping rests
    on those readings ahead). Returns (rules, comparisons)."""
    rules = checked = 0
    for text in texts:
        path = write_rules(folder, text)
        replay = replay_for([path], "10000", int(data.ts_ms[0]))
        bars = SymbolBars(replay.market, data)
        market, accounts = replay.market, replay.engine.accounts
        version = [0]
        for name in ("on_position", "on_order", "on_execution", "on_wallet"):
            setattr(accounts, name, counting(getattr(accounts, name), version))
        ctx = MaskContext(bars, market.live_fields("BTCUSDT"), replay.clock, 0.1, market.history)
        seen: set[str] = set()
        for sb in bars.ordered:
            for slot in replay.engine.routes.for_change(market.symbol("BTCUSDT").bar_closed(sb.timeframe)):
                mask = rule_mask(slot, ctx, accounts, {})
                if mask is None or slot.key in seen:
                    continue
                seen.add(slot.key)
                rules += 1
                original = slot.cond
                assert original is not None
                ahead: dict[str, object] = {}

                def compare(original=original, mask=mask, text=text, ahead=ahead) -> bool | None:  # type: ignore[no-untyped-def]
                    nonlocal checked
                    value = original()
                    k = int(bars.close_ms.searchsorted(replay.clock.now_ms()))
                    t, f = mask.evaluate(k, k + 1)
                    assert value == (True if t[0] else False if f[0] else None), (text, k)
                    checked += 1
                    if ahead.get("version") == version[0] and ahead["lo"] <= k < ahead["hi"]:  # type: ignore[operator]
                        i = k - ahead["lo"]  # type: ignore[operator]
                        predicted = True if ahead["t"][i] else False if ahead["f"][i] else None  # type: ignore[index]
                        assert value == predicted, (text, k, "read ahead")
                        checked += 1
                    hi = min(k + AHEAD, len(bars.close_ms))
                    t, f = mask.evaluate(k, hi)
                    ahead.update(version=version[0], lo=k, hi=hi, t=t, f=f)
                    return value

                slot.cond = compare
        replay.run(merged_events({"BTCUSDT": data}))
    return rules, checked


def counting(method, version: list[int]):  # type: ignore[no-untyped-def]
    """``method``, counting its calls in ``version`` (an account event)."""
    def counted(event):  # type: ignore[no-untyped-def]
        version[0] += 1
        return method(event)
    return counted


def one_rule_per_part(timezone: str) -> str:
    parts = MARKET_PARTS + ACCOUNT_PARTS
    rules = [f"  - name: p{i}\n    when: '{part}'\n    then: 'notify \"{i}\"'" for i, part in enumerate(parts)]
    return "\n".join(["symbol: BTCUSDT", "timeframe: 1m", f"timezone: {timezone}", "rules:", *rules]) + "\n"


def test_masks_equal_the_compiled_conditions_at_every_evaluation(two_days: KlineSeries, rules_dir: Path) -> None:
    """Every template on its own, then random rule files whose orders move the account."""
    one_day = two_days.window(None, int(two_days.ts_ms[0]) + DAY)
    texts = [one_rule_per_part("UTC")] + [random_rule_file(random.Random(1000 + seed)) for seed in range(20)]
    rules, checked = check_masks(texts, one_day, rules_dir)
    assert rules > 20 + len(MARKET_PARTS)
    assert checked > 150_000


def test_masks_read_the_moving_account_fields_ahead(two_days: KlineSeries, rules_dir: Path) -> None:
    """Positions held for a while, over midnight: upnl, upnl_pct, bars_in_position,
    time_in_position and pnl_today read ahead from their value now."""
    text = """\
symbol: BTCUSDT
timeframe: 1m
risk:
  max_position: 0.05
rules:
  - name: long
    when: rsi(14) < 45 and position is flat and minute < 40
    then: buy 0.01 market
  - name: short
    when: rsi(14) > 60 and position is flat
    then: sell 0.01 market
  - name: out
    when: (bars_in_position > 25 or upnl_pct > 0.25% or upnl < -2.5 or time_in_position > 40m) and close > 0
    then: close market
  - name: today
    when: pnl_today < -1 and close > 0
    then: notify "down {pnl_today} today"
  - name: held
    when: bars_in_position >= 3 and upnl_pct > 0.02% and close > 0
    then: notify "{upnl}"
  - name: held long
    when: time_in_position > 20m and close > 0
    then: notify "{time_in_position}"
"""
    rules, checked = check_masks([text], two_days, rules_dir)
    assert rules == 6
    assert checked > 12_000


@pytest.mark.parametrize(("timezone", "start"), [
    ("America/New_York", 1710028800000),  # 2024-03-10 00:00 UTC: the clocks go forward at 07:00 UTC
    ("Europe/Berlin", 1711843200000),  # 2024-03-31: at 01:00 UTC
    ("Australia/Lord_Howe", 1728129600000),  # 2024-10-05 12:00 UTC: half an hour forward at 15:30 UTC
    ("Asia/Kolkata", 1711843200000),  # 5:30 ahead all year
])
def test_masks_read_local_time_across_a_clock_change(timezone: str, start: int, rules_dir: Path) -> None:
    c = generate(0.5, 2, start_ms=start)
    p = c.prices()
    data = KlineSeries("BTCUSDT", "1m", 60_000, c.timestamp_ms, p["open"], p["high"], p["low"], p["close"],
                       c.volume_milli / 1000.0)
    time_parts = [part for part in MARKET_PARTS if part.split()[0] in ("hour", "time", "minute", "weekday")]
    # `and close > 0` makes each a bar rule (a time condition alone is evaluated each minute)
    rules = [f"  - name: t{i}\n    when: '{part} and close > 0'\n    then: 'notify \"{i}\"'\n    trigger: level"
             for i, part in enumerate(time_parts)]
    text = "\n".join(["symbol: BTCUSDT", "timeframe: 1m", f"timezone: {timezone}", "rules:", *rules]) + "\n"
    rules, checked = check_masks([text], data, rules_dir)
    assert rules == len(time_parts)
    assert checked == len(time_parts) * (2 * len(data) - 1)  # each bar, and each bar read ahead
