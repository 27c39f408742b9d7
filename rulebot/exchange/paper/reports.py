"""Model events made from the paper exchange's internal state (what Bybit would push)."""

from __future__ import annotations

from rulebot.exchange.paper.account import PaperPosition
from rulebot.exchange.paper.orders import PaperOrder
from rulebot.exchange.paper.symbol import SymbolState
from rulebot.model.events import OrderUpdate, PositionUpdate


def order_update(s: SymbolState, order: PaperOrder, ts_ms: int, reason: str = "") -> OrderUpdate:
    """The order's state now; quantities as exact strings on the qty step."""
    return OrderUpdate(
        symbol=s.symbol,
        ts_event_ms=ts_ms,
        ts_recv_ms=ts_ms,
        order_id=order.order_id,
        order_link_id=order.link_id,
        side=order.side,
        order_type=order.order_type,
        status=order.status,
        qty=order.qty_text,
        price=order.price_text,
        filled_qty=str(order.filled * s.step_dec),
        reduce_only=order.reduce_only,
        reject_reason=reason,
    )


def position_update(s: SymbolState, pos: PaperPosition, ts_ms: int) -> PositionUpdate:
    """One position slot as Bybit's position stream shows it, marked to the last price."""
    flat = pos.sign == 0
    lev = s.leverage(pos.sign if pos.sign else (1 if pos.idx != 2 else -1))
    return PositionUpdate(
        symbol=s.symbol,
        ts_event_ms=ts_ms,
        ts_recv_ms=ts_ms,
        position_idx=pos.idx,
        size=pos.steps * s.step,
        side=pos.side,
        entry_price=None if flat else pos.entry,
        liq_price=None if flat or not pos.liq else pos.liq,
        leverage=lev,
        unrealised_pnl=pos.upnl(s.last, s.step),
        take_profit=pos.tp or None,
        stop_loss=pos.sl or None,
        trailing_stop=pos.trail or None,
    )
