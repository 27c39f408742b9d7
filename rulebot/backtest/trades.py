"""Round-trip trades and the equity curve, rebuilt from what the paper exchange reported.

During a replay the runner keeps a :class:`FillTape`: every execution, position and wallet
event the paper exchange emits, stamped with the simulated clock (the close time of the bar
being walked). Nothing is computed per bar; after the run:

* :func:`build_trades` pairs entry and exit fills per symbol and position direction: entries
  (no exit reason) open or add to a position at its average price; each exit fill closes
  part or all of it and becomes one :class:`Trade` of that size, carrying its share of the
  entry fees, the exit fill's fee and reason, the rule of the opening order, and the first
  take-profit and stop-loss levels the position had;
* :func:`equity_curve` marks the account to every bar close at once with numpy: the balance
  and the positions are step functions of the tape, the closes come from the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from rulebot.backtest.result import EquityCurve, Trade, TradeSide
from rulebot.model.clock import Clock
from rulebot.model.enums import ExitReason, Side
from rulebot.model.events import Event, Execution, PositionUpdate, WalletUpdate

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

UNKNOWN_RULE = "(unknown rule)"


@dataclass(slots=True)
class FillTape:
    """What the paper exchange reported during a replay, in order, with the clock time of each.

    ``record`` is the exchange's emit tap: it keeps executions, positions and wallets and
    ignores the rest (order updates), at the cost of one type lookup per event.
    """

    clock: Clock
    executions: list[Execution] = field(default_factory=list)
    positions: list[tuple[int, int, PositionUpdate]] = field(default_factory=list)  # (clock ms, exec count, event)
    wallets: list[tuple[int, float]] = field(default_factory=list)  # (clock ms, balance)

    def record(self, event: Event) -> None:
        """Keep ``event`` if it is an execution, a position or a wallet update."""
        kind = type(event)
        if kind is Execution:
            self.executions.append(event)  # type: ignore[arg-type]
        elif kind is PositionUpdate:
            self.positions.append((self.clock.now_ms(), len(self.executions), event))  # type: ignore[arg-type]
        elif kind is WalletUpdate:
            self.wallets.append((self.clock.now_ms(), event.balance))  # type: ignore[union-attr]


@dataclass(slots=True)
class _OpenPosition:
    """The part of a position (one symbol, one direction) not closed yet."""

    rule_link: str
    entry_time_ms: int
    qty: Decimal
    cost: Decimal  # sum of qty x price of the entries still open (exact: the fills' strings)
    fee: Decimal  # entry fees not yet given to a trade
    tp: float | None = None
    sl: float | None = None


def _direction(update: PositionUpdate) -> int:
    if update.side is None or update.size <= 0:
        return 0
    return 1 if update.side is Side.BUY else -1


def build_trades(tape: FillTape, rule_of_link: Mapping[str, str]) -> tuple[Trade, ...]:
    """The round trips of ``tape`` in exit order; ``rule_of_link`` maps an orderLinkId to its rule.

    Raises ``ValueError`` for an exit fill with no open position to close (the tape is not
    from one account from its start).
    """
    open_: dict[tuple[str, int], _OpenPosition] = {}
    trades: list[Trade] = []
    pos_iter = iter(tape.positions)
    pending = next(pos_iter, None)
    for n, fill in enumerate(tape.executions, start=1):
        # the position reports made after the previous fill: the stops the positions have now
        while pending is not None and pending[1] < n:
            _note_stops(open_, pending[2])
            pending = next(pos_iter, None)
        qty = Decimal(fill.qty)
        price = Decimal(fill.price)
        fee = Decimal(fill.fee)
        if not fill.exit_reason:
            key = (fill.symbol, fill.side.sign)
            lot = open_.get(key)
            if lot is None:
                open_[key] = _OpenPosition(fill.order_link_id, fill.ts_event_ms, qty, qty * price, fee)
            else:
                lot.qty += qty
                lot.cost += qty * price
                lot.fee += fee
            continue
        sign = -fill.side.sign
        key = (fill.symbol, sign)
        lot = open_.get(key)
        if lot is None or qty > lot.qty:
            raise ValueError(f"exit fill {fill.exec_id} of {fill.qty} {fill.symbol} closes more than is open")
        entry = lot.cost / lot.qty
        entry_fee = lot.fee * qty / lot.qty
        gross = (price - entry) * qty * sign
        trades.append(
            Trade(
                symbol=fill.symbol,
                side=TradeSide.LONG if sign > 0 else TradeSide.SHORT,
                qty=float(qty),
                entry_time_ms=lot.entry_time_ms,
                entry_price=float(entry),
                exit_time_ms=fill.ts_event_ms,
                exit_price=float(price),
                pnl=float(gross - entry_fee - fee),
                fee=float(entry_fee + fee),
                exit_reason=ExitReason(fill.exit_reason),
                rule=rule_of_link.get(lot.rule_link, UNKNOWN_RULE),
                tp_price=lot.tp,
                sl_price=lot.sl,
            )
        )
        lot.qty -= qty
        if lot.qty == 0:
            del open_[key]
        else:
            lot.cost -= qty * entry
            lot.fee -= entry_fee
    return tuple(trades)


def _note_stops(open_: dict[tuple[str, int], _OpenPosition], update: PositionUpdate) -> None:
    """Keep the first take profit and stop loss an open position is seen with."""
    direction = _direction(update)
    if not direction:
        return
    lot = open_.get((update.symbol, direction))
    if lot is None:
        return
    if lot.tp is None and update.take_profit:
        lot.tp = update.take_profit
    if lot.sl is None and update.stop_loss:
        lot.sl = update.stop_loss


@dataclass(frozen=True, slots=True, eq=False)
class Closes:
    """One symbol's replayed bars for marking: close times (ms, ascending) and close prices."""

    times_ms: IntArray
    prices: FloatArray


def equity_curve(
    tape: FillTape, start_ms: int, initial_balance: float, closes: Mapping[str, Closes]
) -> EquityCurve:
    """Equity at ``start_ms`` (the initial balance), then at every bar close of every symbol:
    the balance after the fills up to that close plus each open position marked to it."""
    series = list(closes.values())
    if not series:
        return EquityCurve(np.array([start_ms], dtype=np.int64), np.array([initial_balance]))
    times = series[0].times_ms
    for other in series[1:]:
        times = np.union1d(times, other.times_ms)
    balance = np.full(times.size, initial_balance, dtype=np.float64)
    if tape.wallets:
        w_times = np.fromiter((t for t, _ in tape.wallets), dtype=np.int64, count=len(tape.wallets))
        w_values = np.fromiter((b for _, b in tape.wallets), dtype=np.float64, count=len(tape.wallets))
        i = np.searchsorted(w_times, times, side="right") - 1
        balance = np.where(i >= 0, w_values[np.maximum(i, 0)], initial_balance)
    equity = balance
    slots: dict[tuple[str, int], list[tuple[int, float, float]]] = {}
    for clock_ms, _, update in tape.positions:
        size = update.size * _direction(update)
        slots.setdefault((update.symbol, update.position_idx), []).append(
            (clock_ms, size, update.entry_price or 0.0)
        )
    for (symbol, _), steps in slots.items():
        marks = closes.get(symbol)
        if marks is None:
            raise ValueError(f"a position in {symbol}, which has no bars to mark it to")
        p_times = np.array([s[0] for s in steps], dtype=np.int64)
        sizes = np.array([s[1] for s in steps], dtype=np.float64)
        entries = np.array([s[2] for s in steps], dtype=np.float64)
        j = np.searchsorted(p_times, times, side="right") - 1
        size = np.where(j >= 0, sizes[np.maximum(j, 0)], 0.0)
        entry = entries[np.maximum(j, 0)]
        k = np.searchsorted(marks.times_ms, times, side="right") - 1
        price = marks.prices[np.maximum(k, 0)]
        equity = equity + np.where(size != 0.0, size * (price - entry), 0.0)
    return EquityCurve(
        np.concatenate(([start_ms], times)).astype(np.int64),
        np.concatenate(([initial_balance], equity)),
    )
