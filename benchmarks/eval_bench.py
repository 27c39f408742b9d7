"""Cost of evaluating compiled conditions on ticker events, against hand-written Python.

    .venv/bin/python benchmarks/eval_bench.py [--events 40000] [--seed 7]

Ten rule files, one per symbol, of ten typical live rules each (100 rules) are linted and
compiled; a seeded stream of ticker deltas is applied to the market state, and after each
event the ten rules of its symbol are evaluated: once as compiled conditions, once as
hand-written functions doing the same comparisons on the same `LiveFields` and account
objects (plain two-valued Python, the cheapest possible reading). Only the evaluation is
timed, per event, alternating which of the two goes first. Prints, one figure per line:
``eval_us_per_event_p50``, ``eval_us_per_event_p99`` (compiled, microseconds per event)
and ``eval_ratio_vs_handwritten`` (compiled p50 / hand-written p50); ``eval_handwritten_us_p50``
and ``eval_ratio_p99`` for context.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from rulebot.lang.compiled import Bindings
from rulebot.lang.compiler import compile_file
from rulebot.lang.lint import analyze_text
from rulebot.market.live import LiveFields
from rulebot.market.state import MarketState
from rulebot.model.clock import SimClock
from rulebot.model.events import TickerUpdate

SYMBOLS = {
    "BTCUSDT": 60000.0, "ETHUSDT": 3000.0, "SOLUSDT": 150.0, "XRPUSDT": 0.6, "DOGEUSDT": 0.15,
    "ADAUSDT": 0.45, "BNBUSDT": 580.0, "AVAXUSDT": 35.0, "LINKUSDT": 15.0, "DOTUSDT": 7.0,
}


class Account:
    """Account fields of one symbol, as the engine keeps them."""

    __slots__ = ("position", "long_size", "short_size", "position_size", "entry_price", "liq_price", "upnl",
                 "upnl_pct", "leverage", "balance", "equity", "available", "open_orders", "time_in_position",
                 "bars_in_position", "pnl_today")

    def __init__(self, position: float) -> None:
        self.position = position
        self.long_size = max(position, 0.0)
        self.short_size = max(-position, 0.0)
        self.position_size = abs(position)
        self.entry_price = self.liq_price = math.nan
        self.upnl = self.upnl_pct = 0.0
        self.leverage = 3.0
        self.balance = self.equity = self.available = 10_000.0
        self.open_orders = 0.0
        self.time_in_position = self.bars_in_position = 0.0
        self.pnl_today = 0.0


Hand = Callable[[LiveFields, Account, float], Callable[[], bool]]

# (rule text with {p} the symbol's price, the same comparisons written by hand)
RULES: list[tuple[str, Hand]] = [
    ("bid1 > {p} and spread_pct < 0.05% and position == 0",
     lambda L, A, p: lambda L=L, A=A, p=p: L.bid1 > p and L.spread_pct < 0.0005 and A.position == 0),
    ("ask1 < {p99} or (last > {p101} and position > 0)",
     lambda L, A, p: lambda L=L, A=A, lo=p * 0.99, hi=p * 1.01: L.ask1 < lo or (L.last > hi and A.position > 0)),
    ("mid between {p98} and {p102} and open_orders == 0",
     lambda L, A, p: lambda L=L, A=A, lo=p * 0.98, hi=p * 1.02: lo <= L.mid <= hi and A.open_orders == 0),
    ("spread < {p0001} and bid1_size > 1 and not (position < 0)",
     lambda L, A, p: lambda L=L, A=A, w=p * 0.001: L.spread < w and L.bid1_size > 1 and not A.position < 0),
    ("funding_rate > 0.01% and position > 0 or funding_rate < -0.01% and position < 0",
     lambda L, A, p: lambda L=L, A=A: (L.funding_rate > 0.0001 and A.position > 0)
     or (L.funding_rate < -0.0001 and A.position < 0)),
    ("last > mark_price + 0.1% and position == 0",
     lambda L, A, p: lambda L=L, A=A: L.last > L.mark_price * 1.001 and A.position == 0),
    ("upnl_pct > 2% or upnl_pct < -1% or last < {p98}",
     lambda L, A, p: lambda L=L, A=A, lo=p * 0.98: A.upnl_pct > 0.02 or A.upnl_pct < -0.01 or L.last < lo),
    ("bid1 > {p} and ask1 < {p1001} and available > 100",
     lambda L, A, p: lambda L=L, A=A, p=p, hi=p * 1.001: L.bid1 > p and L.ask1 < hi and A.available > 100),
    ("mark_price < index_price - 0.2% or mark_price > index_price + 0.2%",
     lambda L, A, p: lambda L=L: L.mark_price < L.index_price * 0.998 or L.mark_price > L.index_price * 1.002),
    ("change_24h > 5% and volume_24h > 1000 and position is flat",
     lambda L, A, p: lambda L=L, A=A: L.change_24h > 0.05 and L.volume_24h > 1000 and A.position == 0),
]


def rule_file(symbol: str, price: float) -> str:
    """A rule file of the ten rules for one symbol."""
    values = {"p": f"{price:g}", "p99": f"{price * 0.99:g}", "p101": f"{price * 1.01:g}", "p98": f"{price * 0.98:g}",
              "p102": f"{price * 1.02:g}", "p1001": f"{price * 1.001:g}",
              "p0001": f"{price * 0.001:g}"}
    lines = [f"symbol: {symbol}", "rules:"]
    for i, (text, _) in enumerate(RULES):
        lines.append(f"  - name: r{i}\n    when: {text.format(**values)}\n    then: 'notify \"r{i}\"'")
    return "\n".join(lines) + "\n"


@dataclass
class Setup:
    market: MarketState
    compiled: dict[str, list[Callable[[], bool | None]]]
    hand: dict[str, list[Callable[[], bool]]]


def build() -> Setup:
    market = MarketState()
    clock = SimClock(0)
    accounts = {s: Account(0.0 if i % 3 else 0.01) for i, s in enumerate(SYMBOLS)}
    bindings = Bindings(market, accounts.__getitem__, clock, "UTC", lambda s: 0.01)
    compiled: dict[str, list[Callable[[], bool | None]]] = {}
    hand: dict[str, list[Callable[[], bool]]] = {}
    for symbol, price in SYMBOLS.items():
        analysis = analyze_text(rule_file(symbol, price), f"{symbol}.yaml")
        errors = [d for d in analysis.diagnostics if d.is_error]
        if errors:
            raise SystemExit(f"rule file for {symbol} has errors: {errors[0].message}")
        rules = compile_file(analysis, bindings)
        compiled[symbol] = [r.condition for r in rules if r.condition is not None]
        live = market.live_fields(symbol)
        # the hand-written functions use the prices the rule text was written with
        hand[symbol] = [make(live, accounts[symbol], float(f"{price:g}")) for _, make in RULES]
        if len(compiled[symbol]) != len(RULES):
            raise SystemExit(f"{symbol}: compiled {len(compiled[symbol])} rules, expected {len(RULES)}")
    return Setup(market, compiled, hand)


def events(count: int, seed: int) -> list[TickerUpdate]:
    """Snapshots for every symbol, then seeded ticker deltas (a random walk of the quotes)."""
    rng = random.Random(seed)
    out: list[TickerUpdate] = []
    mids = dict(SYMBOLS)
    for symbol, price in SYMBOLS.items():
        out.append(TickerUpdate(symbol, 0, 0, True, last=price, mark_price=price, index_price=price,
                                bid1=price * 0.9999, bid1_size=2.0, ask1=price * 1.0001, ask1_size=2.0,
                                funding_rate=0.0001, open_interest=1e6, volume_24h=5e4, turnover_24h=1e9,
                                change_24h=0.01, high_24h=price * 1.05, low_24h=price * 0.95))
    names = list(SYMBOLS)
    for i in range(count):
        symbol = rng.choice(names)
        mid = mids[symbol] = mids[symbol] * math.exp(rng.gauss(0.0, 0.002))
        half = mid * rng.uniform(0.00002, 0.0008)
        out.append(TickerUpdate(symbol, i + 1, i + 1, False, last=mid + rng.uniform(-half, half),
                                bid1=mid - half, ask1=mid + half, bid1_size=rng.uniform(0.1, 5.0),
                                mark_price=mid * (1 + rng.gauss(0, 0.001)), index_price=mid,
                                funding_rate=rng.gauss(0.0, 0.0002), change_24h=rng.gauss(0.0, 0.04)))
    return out


def measure(setup: Setup, stream: list[TickerUpdate]) -> tuple[list[int], list[int], int]:
    """Per-event evaluation time (ns) of the compiled and the hand-written rules; and how often
    the two readings disagree where the compiled one is known (must be 0)."""
    clock = time.perf_counter_ns
    compiled_ns: list[int] = []
    hand_ns: list[int] = []
    mismatches = 0
    for n, event in enumerate(stream):
        changed = setup.market.apply(event)
        if not changed:
            continue
        symbol = event.symbol
        fast = setup.compiled[symbol]
        slow = setup.hand[symbol]
        if n % 2:
            t0 = clock()
            for f in fast:
                f()
            t1 = clock()
            for h in slow:
                h()
            t2 = clock()
            compiled_ns.append(t1 - t0)
            hand_ns.append(t2 - t1)
        else:
            t0 = clock()
            for h in slow:
                h()
            t1 = clock()
            for f in fast:
                f()
            t2 = clock()
            hand_ns.append(t1 - t0)
            compiled_ns.append(t2 - t1)
        if n % 97 == 0:
            for f, h in zip(fast, slow):
                result = f()
                if result is not None and result != bool(h()):
                    mismatches += 1
    return compiled_ns, hand_ns, mismatches


def quantile(xs: list[int], q: float) -> float:
    ordered = sorted(xs)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    setup = build()
    stream = events(args.events, args.seed)
    measure(setup, stream[: len(SYMBOLS) + 2000])  # warm up caches and the allocator
    setup = build()
    compiled_ns, hand_ns, mismatches = measure(setup, stream)
    if mismatches:
        raise SystemExit(f"compiled and hand-written rules disagree {mismatches} times")
    p50, p99 = quantile(compiled_ns, 0.5), quantile(compiled_ns, 0.99)
    h50, h99 = quantile(hand_ns, 0.5), quantile(hand_ns, 0.99)
    print(f"eval_us_per_event_p50 {p50 / 1000:.3f}")
    print(f"eval_us_per_event_p99 {p99 / 1000:.3f}")
    print(f"eval_ratio_vs_handwritten {p50 / h50:.2f}")
    print(f"eval_handwritten_us_p50 {h50 / 1000:.3f}")
    print(f"eval_ratio_p99 {p99 / h99:.2f}")
    print(f"# events {len(compiled_ns)}, mean compiled {statistics.fmean(compiled_ns) / 1000:.3f} us, "
          f"mean hand-written {statistics.fmean(hand_ns) / 1000:.3f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
