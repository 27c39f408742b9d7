"""The simulated account: positions, margin, fees, realised PnL and the liquidation price.

Everything here is plain floats: the per-bar path of a backtest runs through it 500,000
times. Sizes are whole counts of the instrument's ``qtyStep`` (``steps``), so adding and
reducing a position never drifts; the exact strings for events are made from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from rulebot.model.enums import MarginMode, Side


def dec(x: float) -> Decimal:
    """A float as the Decimal it prints as (``Decimal(str(x))``, never ``Decimal(x)``)."""
    return Decimal(repr(x))


def num_str(x: float) -> str:
    """A float as plain decimal text, without exponent (``1.5e-05`` -> ``0.000015``)."""
    return format(Decimal(repr(x)), "f")


def round_to_tick(price: Decimal, tick: Decimal, *, up: bool) -> Decimal:
    """``price`` on the tick grid, rounded up or down."""
    return (price / tick).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR) * tick


@dataclass(slots=True)
class StopLeg:
    """A partial-mode take profit and/or stop loss covering ``steps`` of a position (0.0 = unset)."""

    tp: float
    sl: float
    steps: int


@dataclass(slots=True)
class PaperPosition:
    """One position slot: index 0 in one-way mode, 1 (long side) or 2 (short side) in hedge mode.

    ``sign`` is +1 long, -1 short, 0 flat. ``tp``, ``sl`` and ``trail`` (a price distance) are
    the full-mode exchange-side stops, 0.0 when unset; ``trail_best`` is the best price seen
    since the trailing stop was set. ``partial`` holds partial-mode legs.
    """

    symbol: str
    idx: int
    sign: int = 0
    steps: int = 0
    entry: float = 0.0
    tp: float = 0.0
    sl: float = 0.0
    trail: float = 0.0
    trail_best: float = 0.0
    liq: float = 0.0
    opened_ms: int = 0
    realised: float = 0.0
    partial: list[StopLeg] = field(default_factory=list)

    @property
    def side(self) -> Side | None:
        """The position's side, ``None`` when flat."""
        if self.sign == 0:
            return None
        return Side.BUY if self.sign > 0 else Side.SELL

    def clear_stops(self) -> None:
        """Drop every exchange-side stop (the position went flat or flipped)."""
        self.tp = self.sl = self.trail = self.trail_best = 0.0
        self.partial.clear()

    def add(self, sign: int, steps: int, price: float, ts_ms: int) -> None:
        """Open or add ``steps`` at ``price`` on the side ``sign``; the entry becomes the average."""
        if self.sign == 0:
            self.sign, self.steps, self.entry, self.opened_ms = sign, steps, price, ts_ms
            return
        total = self.steps + steps
        self.entry = (self.entry * self.steps + price * steps) / total
        self.steps = total

    def reduce(self, steps: int, price: float, step: float) -> float:
        """Close ``steps`` at ``price``; returns the gross realised PnL of the closed part."""
        pnl = (price - self.entry) * (steps * step) * self.sign
        self.steps -= steps
        self.realised += pnl
        if self.steps == 0:
            self.sign = 0
            self.entry = 0.0
            self.liq = 0.0
            self.clear_stops()
        return pnl

    def upnl(self, price: float, step: float) -> float:
        """Unrealised PnL at ``price`` (linear: (price - entry) x qty, reversed for a short)."""
        if self.sign == 0 or price <= 0.0:
            return 0.0
        return (price - self.entry) * (self.steps * step) * self.sign

    def value(self, step: float) -> float:
        """Position value at the entry price."""
        return self.steps * step * self.entry


def liquidation_price(
    pos: PaperPosition,
    step: float,
    leverage: float,
    margin_mode: MarginMode,
    mmr: float,
    cross_buffer: float,
    tick: Decimal,
) -> float:
    """An approximate liquidation price on the tick, 0.0 when there is none.

    Isolated: entry x (1 - 1/leverage + mmr) for a long, entry x (1 + 1/leverage - mmr) for
    a short. Cross: the price where ``cross_buffer`` (the balance not tied up by other
    positions) plus the unrealised PnL falls to the maintenance margin. Rounded toward the
    entry, so the simulated liquidation never comes later than the formula says.
    """
    if pos.sign == 0:
        return 0.0
    qty = pos.steps * step
    if margin_mode is MarginMode.ISOLATED:
        if pos.sign > 0:
            raw = pos.entry * (1.0 - 1.0 / leverage + mmr)
        else:
            raw = pos.entry * (1.0 + 1.0 / leverage - mmr)
    elif pos.sign > 0:
        raw = (pos.entry * qty - cross_buffer) / (qty * (1.0 - mmr))
    else:
        raw = (pos.entry * qty + cross_buffer) / (qty * (1.0 + mmr))
    if raw <= 0.0:
        return 0.0
    return float(round_to_tick(dec(raw), tick, up=pos.sign > 0))


@dataclass(slots=True)
class Account:
    """The settle-coin wallet: balance (deposits + realised PnL - fees) and the fee schedule."""

    coin: str
    balance: float
    maker_fee: float
    taker_fee: float
    mmr: float
    fees_paid: float = 0.0
    realised: float = 0.0

    def fee(self, price: float, qty: float, is_maker: bool) -> float:
        """The fee of one fill, rounded to 8 decimals as Bybit reports it."""
        return round(price * qty * (self.maker_fee if is_maker else self.taker_fee), 8)

    def book(self, pnl: float, fee: float) -> None:
        """Apply a fill's realised PnL and fee to the balance."""
        self.balance += pnl - fee
        self.realised += pnl
        self.fees_paid += fee
