"""Property tests: whatever the orders and the bars, the account adds up and stops stay honest."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paper_kit import SYMBOL, bar, paper

from rulebot.exchange import OrderRejected
from rulebot.model import (
    Execution,
    ExitReason,
    OrderType,
    PlaceOrder,
    PositionMode,
    PositionUpdate,
    SetTradingStop,
    Side,
)


@dataclass(frozen=True)
class Order:
    side: Side
    qty_steps: int
    limit_offset: int | None  # ticks from the last close, None for market
    reduce_only: bool
    tp_pct: int | None
    sl_pct: int | None
    trail_ticks: int | None
    idx: int


@dataclass(frozen=True)
class Bar:
    moves: tuple[int, int, int, int]  # open, high, low, close as tick offsets (made consistent)


orders = st.builds(
    Order,
    side=st.sampled_from([Side.BUY, Side.SELL]),
    qty_steps=st.integers(10, 3000),
    limit_offset=st.none() | st.integers(-40, 40),
    reduce_only=st.sampled_from([False, False, False, True]),
    tp_pct=st.none() | st.integers(1, 5),
    sl_pct=st.none() | st.integers(1, 5),
    trail_ticks=st.sampled_from([None, None, None, 5, 20]),
    idx=st.sampled_from([1, 2]),
)
bars = st.builds(Bar, moves=st.tuples(*[st.integers(-60, 60)] * 4))
steps = st.lists(st.one_of(orders, bars, bars), min_size=4, max_size=40)


def _run(script: list[Order | Bar], hedge: bool) -> None:
    p = paper(
        balance="20000", leverage="5", position_mode=PositionMode.HEDGE if hedge else PositionMode.ONEWAY
    )
    last = 300.0
    p.flat_bar(last)
    bar_of_exec: dict[str, tuple[float, float]] = {}
    n = 0
    for item in script:
        if isinstance(item, Bar):
            o, a, b, c = (round(last + m * 0.1, 1) for m in item.moves)
            h, lo = max(o, a, b, c), min(o, a, b, c)
            before = len(p.events)
            p.ex.on_bar(bar(p.bars_seen, o, h, lo, c))
            p.bars_seen += 1
            p.clock.advance_to(p.bars_seen * 60_000)
            for e in p.events[before:]:
                if isinstance(e, Execution):
                    bar_of_exec[e.exec_id] = (lo, h)
            last = c
            continue
        n += 1
        price = None if item.limit_offset is None else Decimal(str(round(last + item.limit_offset * 0.1, 1)))
        try:
            p.ex.submit(
                PlaceOrder(
                    SYMBOL,
                    item.side,
                    OrderType.MARKET if price is None else OrderType.LIMIT,
                    Decimal(item.qty_steps) * Decimal("0.001"),
                    f"o{n}",
                    price=price,
                    reduce_only=item.reduce_only,
                    tp_pct=None if item.tp_pct is None or item.reduce_only else Decimal(item.tp_pct),
                    sl_pct=None if item.sl_pct is None or item.reduce_only else Decimal(item.sl_pct),
                    position_idx=item.idx if hedge else 0,
                )
            )
        except OrderRejected as err:
            assert err.ret_code in (10001, 110007, 110017, 110094), err
        if item.trail_ticks is not None:
            try:
                p.ex.submit(
                    SetTradingStop(
                        SYMBOL,
                        position_idx=item.idx if hedge else 0,
                        trailing_stop=Decimal(item.trail_ticks) * Decimal("0.1"),
                    )
                )
            except OrderRejected as err:
                assert err.ret_code in (10001, 34040), err
    p.ex.close_all(ExitReason.END)
    _check(p, bar_of_exec, hedge)


def _check(p: object, bar_of_exec: dict[str, tuple[float, float]], hedge: bool) -> None:
    # Rebuild every slot from the executions alone, with the exits as the exchange labels them.
    size: dict[int, float] = {}
    entry: dict[int, float] = {}
    realised = fees = 0.0
    stops: dict[int, PositionUpdate] = {}
    slot_of_side = {Side.BUY: 1, Side.SELL: 2}
    for e in p.events:  # type: ignore[attr-defined]
        if isinstance(e, PositionUpdate):
            stops[e.position_idx] = e
            continue
        if not isinstance(e, Execution):
            continue
        price, qty, fee = float(e.price), float(e.qty), float(e.fee)
        assert qty > 0 and fee >= 0
        fees += fee
        if e.exec_id in bar_of_exec:  # a fill during a bar happens inside the bar's range
            lo, h = bar_of_exec[e.exec_id]
            assert lo - 1e-9 <= price <= h + 1e-9, (e, lo, h)
        if e.exit_reason:
            idx = slot_of_side[e.side.opposite] if hedge else 0
            held = size.get(idx, 0.0)
            assert held != 0.0 and abs(held) + 1e-9 >= qty, "an exit never closes more than is held"
            sign = 1.0 if held > 0 else -1.0
            assert e.side is (Side.SELL if held > 0 else Side.BUY), "an exit trades against the position"
            realised += (price - entry[idx]) * qty * sign
            size[idx] = held - sign * qty
            pos_before = stops.get(idx)
            if e.exit_reason == "sl" and pos_before and pos_before.stop_loss:
                # a stop never fills at a better price than its trigger
                assert (price - pos_before.stop_loss) * sign <= 1e-9, (e, pos_before)
            if e.exit_reason == "tp" and pos_before and pos_before.take_profit:
                # a take profit never fills at a worse price than its target
                assert (price - pos_before.take_profit) * sign >= -1e-9, (e, pos_before)
        else:
            idx = slot_of_side[e.side] if hedge else 0
            held = size.get(idx, 0.0)
            signed = qty if e.side is Side.BUY else -qty
            assert held == 0.0 or (held > 0) == (signed > 0), "an entry adds to its own side"
            entry[idx] = price if held == 0.0 else (entry[idx] * abs(held) + price * qty) / (abs(held) + qty)
            size[idx] = held + signed
        if abs(size.get(idx, 0.0)) < 1e-9:
            size[idx] = 0.0
    ex = p.ex  # type: ignore[attr-defined]
    wallet = ex.wallet()
    assert wallet.balance == pytest.approx(20000 + realised - fees, abs=1e-6)
    assert all(abs(v) < 1e-9 for v in size.values()), "close_all leaves every slot flat"
    assert all(pos.size == 0.0 for pos in ex.positions(SYMBOL))
    assert wallet.equity == pytest.approx(wallet.balance)


@settings(max_examples=150, deadline=None)
@given(steps)
def test_one_way_account_adds_up(script: list[Order | Bar]) -> None:
    _run(script, hedge=False)


@settings(max_examples=100, deadline=None)
@given(steps)
def test_hedge_account_adds_up(script: list[Order | Bar]) -> None:
    _run(script, hedge=True)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 2000), st.booleans()), min_size=1, max_size=12), st.integers(50, 2000)
)
def test_reduce_only_never_increases_the_position(cuts: list[tuple[int, bool]], start: int) -> None:
    p = paper(balance="1000000")
    p.flat_bar(100.0)
    p.order(Side.BUY, str(Decimal(start) * Decimal("0.001")))
    p.feed(100.0, 100.0, 100.0, 100.0)
    held = p.position().size
    for qty_steps, as_limit in cuts:
        try:
            p.order(
                Side.SELL,
                str(Decimal(qty_steps) * Decimal("0.001")),
                "100.0" if as_limit else None,
                reduce_only=True,
            )
        except OrderRejected as err:
            assert err.ret_code == 110017 and held == 0.0
            continue
        p.feed(100.0, 100.0, 100.0, 100.0)
        now = p.position()
        assert now.side in (Side.BUY, None), "a reduce-only sell never opens a short"
        assert now.size <= held + 1e-12
        held = now.size
