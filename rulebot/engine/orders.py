"""Running a fired rule's actions: prepare, journal, send; and following the orders it placed.

For each action of a rule that fired, in order (LANGUAGE.md §6):

1. the compiled action and the values it reads now become an intent (``engine.intents``);
2. ``actions.dispatch.prepare`` validates, rounds and risk-checks it against the instrument
   rules, an ``AccountView`` of now, the file's ``RiskLimits`` and the position mode;
3. the journal records the validated action, and each order *before* it is sent
   (``record_order_intent``, keyed by its ``orderLinkId``), so a crash never sends one twice;
4. the exchange gets the requests. ``OrderRejected`` is journalled and never retried.

A refusal at any step is logged and journalled, and the rule's following actions are
skipped. A refusal that halts (``max_daily_loss``) halts the file.

Orders are followed by their ``orderLinkId``: an order in flight blocks its rule until it is
no longer open. Stops that depend on the fill go one of two ways, chosen by the exchange's
``resolves_percent_stops``: the paper exchange resolves an order's ``tp_pct`` / ``sl_pct`` /
``trail_pct`` itself at the fill; for the others the engine keeps the ``after_fill`` stops and
sends them as a trading stop when the fill arrives.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from enum import Enum

from rulebot.actions.dispatch import Prepared, prepare, resolve_after_fill
from rulebot.actions.intents import HaltIntent, NotifyIntent, OrderIntent, CloseIntent, PauseIntent
from rulebot.actions.link_ids import make_order_link_id
from rulebot.actions.notify import LogNotifier, Notifier
from rulebot.actions.rejection import RejectCode, Rejection
from rulebot.actions.stops import AfterFill
from rulebot.engine.account import AccountBook
from rulebot.engine.intents import Position, to_intent
from rulebot.engine.routes import Routes
from rulebot.engine.rulestate import RuleSlot
from rulebot.engine.ruleset import FileRules
from rulebot.exchange.base import Exchange
from rulebot.exchange.errors import ExchangeUnavailable, OrderRejected
from rulebot.journal.journal import Journal, JsonText
from rulebot.journal.records import FillRecord
from rulebot.journal.schema import JournalError
from rulebot.model.enums import OrderStatus, PositionMode
from rulebot.model.events import Execution, OrderUpdate
from rulebot.model.instruments import InstrumentRules
from rulebot.model.requests import CancelOrder, PlaceOrder, Request, SwitchPositionMode

log = logging.getLogger(__name__)

_MINUTE_MS = 60_000


class ActionRunner:
    """Turns fired rules into journalled, validated requests and follows their orders.

    The engine thread owns it; ``routes`` is set by the engine at start and at each reload.
    """

    def __init__(
        self,
        exchange: Exchange,
        journal: Journal,
        accounts: AccountBook,
        instruments: Callable[[str], InstrumentRules],
        notifier: Notifier | None = None,
        *,
        resolves_percent_stops: bool,
    ) -> None:
        self._exchange = exchange
        self._journal = journal
        self._accounts = accounts
        self._instruments = instruments
        self._notifier = notifier or LogNotifier()
        self._resolves_stops = resolves_percent_stops
        self.routes: Routes | None = None
        self._owner: dict[str, str] = {}  # orderLinkId -> state key of the rule that placed it
        self._after: dict[str, tuple[AfterFill, str, int]] = {}  # link -> (stops, rule key, fire seq)
        self._fills: dict[str, list[float]] = {}  # link -> [qty, qty * price] of an order awaiting stops
        self._recent: dict[str, deque[int]] = {}  # file key -> send times of its orders
        self._modes: dict[str, PositionMode] = {}
        self.fired = 0
        self.rejected = 0

    # -- firing -------------------------------------------------------------------------------

    def run(self, slot: RuleSlot, now_ms: int, cause: str) -> None:
        """Do the actions of a rule that just fired (its fire sequence already counted)."""
        seq = slot.state.fire_seq
        self.fired += 1
        self._journal.record_fire(slot.name, slot.symbol, seq, now_ms, cause)
        log.info("fire rule=%r symbol=%s seq=%d cause=%s", slot.name, slot.symbol, seq, cause)
        orders = 0
        file = slot.file
        for action in slot.rule.actions:
            intent = to_intent(action, slot.symbol, slot.name, seq, lambda: self._position(slot.symbol))
            if isinstance(intent, Rejection):
                self._refuse(slot, intent, now_ms)
                return
            link = ""
            if isinstance(intent, (OrderIntent, CloseIntent)):
                # one orderLinkId per order action of this firing, a pure function of (rule, seq)
                suffix = f"\x00{orders}" if orders else ""
                link = make_order_link_id(slot.name, slot.link_text + suffix, seq)
                orders += 1
            view = self._accounts.view(slot.symbol, now_ms, self._recent_orders(file, now_ms))
            prepared = prepare(intent, self._instruments(slot.symbol), view, file.limits,
                               self.position_mode(slot.symbol, file), link, tpsl_mode=file.tpsl_mode)
            if isinstance(prepared, Rejection):
                self._refuse(slot, prepared, now_ms)
                return
            params = JsonText(prepared.action.model_dump_json())
            self._journal.record_action(slot.name, slot.symbol, seq, prepared.action.kind, params, now_ms)
            if prepared.note:
                log.info("action_note rule=%r symbol=%s note=%r", slot.name, slot.symbol, prepared.note)
            if isinstance(intent, PauseIntent):
                self.pause(slot, now_ms)
                return  # the rest of the rule waits for it to be resumed
            if isinstance(intent, HaltIntent):
                self.halt(file, intent.reason, now_ms)
                return
            if isinstance(intent, NotifyIntent):
                self._notifier.notify(intent.text)
            if not self._send(slot, prepared, seq, now_ms, params):
                return

    def _position(self, symbol: str) -> Position:
        leg = self._accounts.state(symbol).main_leg()
        tick = float(self._instruments(symbol).tick_size)
        return Position(0, float("nan"), tick) if leg is None else Position(leg.sign, leg.entry, tick)

    def _refuse(self, slot: RuleSlot, rejection: Rejection, now_ms: int) -> None:
        self.rejected += 1
        log.warning("rejected rule=%r symbol=%s code=%s reason=%r", slot.name, slot.symbol,
                    rejection.code.value, rejection.reason)
        self._journal.record_rejection(slot.name, slot.symbol, rejection.reason, rejection.code.value, now_ms)
        if rejection.halt:
            self.halt(slot.file, rejection.reason, now_ms)

    def _send(self, slot: RuleSlot, prepared: Prepared, seq: int, now_ms: int, params: str) -> bool:
        """Journal and send the requests of one action; False when one was refused.

        ``params`` is the validated action as JSON: an action of one order journals it as the
        order's parameters, one of several orders (a `close` of both hedge sides) each order's own.
        """
        single = len(prepared.requests) == 1
        for request in prepared.requests:
            if isinstance(request, PlaceOrder):
                link = request.order_link_id
                try:
                    self._journal.record_order_intent(
                        link, slot.name, slot.symbol, request.side.value, request.order_type.value,
                        request.qty, request.price, params if single else request_json(request), now_ms,
                    )
                except JournalError as err:
                    # the same orderLinkId again: never send an intent twice
                    self._refuse(slot, Rejection(RejectCode.INVALID, str(err)), now_ms)
                    return False
                slot.state.in_flight.append(link)
                self._owner[link] = slot.key
                self._recent.setdefault(slot.file.key, deque()).append(now_ms)
                if prepared.after_fill is not None and not self._resolves_stops:
                    self._after[link] = (prepared.after_fill, slot.key, seq)
            if not self._submit(slot, request, now_ms):
                return False
        return True

    def _submit(self, slot: RuleSlot, request: Request, now_ms: int) -> bool:
        try:
            self._exchange.submit(request)
        except OrderRejected as err:
            self._refused_by_exchange(slot, request, str(err.ret_code), err.ret_msg, now_ms)
            return False
        except ExchangeUnavailable as err:
            self._refused_by_exchange(slot, request, "unavailable", str(err), now_ms)
            return False
        if isinstance(request, SwitchPositionMode):
            self._modes[request.symbol] = request.mode
        return True

    def _refused_by_exchange(self, slot: RuleSlot, request: Request, code: str, reason: str, now_ms: int) -> None:
        self.rejected += 1
        log.warning("exchange_rejected rule=%r symbol=%s code=%s reason=%r", slot.name, slot.symbol, code, reason)
        self._journal.record_rejection(slot.name, slot.symbol, reason, code, now_ms)
        if isinstance(request, PlaceOrder) and code == "unavailable":
            # the order may have reached the venue: it stays an intent in the journal and in
            # flight (blocking its rule) until a reconciliation finds it open or not
            log.warning("order_unknown link=%s: the next reconciliation settles it", request.order_link_id)
        elif isinstance(request, PlaceOrder):
            link = request.order_link_id
            self._journal.update_order(link, OrderStatus.REJECTED.value, now_ms, reject_reason=reason)
            self._forget(link)

    # -- following orders ----------------------------------------------------------------------

    def on_order(self, event: OrderUpdate) -> None:
        """An order's new status: journal it; a finished order no longer blocks its rule."""
        link = event.order_link_id
        if not link:
            return
        self._journal.update_order(
            link, event.status.value, event.ts_event_ms, order_id=event.order_id,
            filled_qty=event.filled_qty, reject_reason=event.reject_reason or None,
        )
        if event.status.is_open:
            return
        after = self._after.pop(link, None)
        if after is not None and _positive(event.filled_qty):
            self._send_after_fill(event, after)
        self._fills.pop(link, None)
        self._forget(link)

    def on_execution(self, event: Execution) -> None:
        """A fill: journal it; remember the average price of an order whose stops wait for it."""
        self._journal.record_fill(FillRecord(
            event.exec_id, event.ts_event_ms, event.symbol, event.order_id, event.order_link_id,
            event.side.value, event.price, event.qty, event.fee, event.is_maker, event.exit_reason,
        ))
        link = event.order_link_id
        if link and link in self._after:
            acc = self._fills.setdefault(link, [0.0, 0.0])
            qty = float(event.qty)
            acc[0] += qty
            acc[1] += qty * float(event.price)

    def _send_after_fill(self, event: OrderUpdate, after: tuple[AfterFill, str, int]) -> None:
        stops, key, seq = after
        rules = self._instruments(event.symbol)
        qty, value = self._fills.get(event.order_link_id, [0.0, 0.0])
        leg = self._accounts.state(event.symbol).leg_of(stops.side.sign)
        entry = leg.entry if leg is not None and leg.entry == leg.entry else (value / qty if qty else 0.0)
        filled = qty or float(event.filled_qty)
        slot = self.routes.by_key.get(key) if self.routes is not None else None
        name = slot.name if slot is not None else key
        now = event.ts_event_ms
        result = resolve_after_fill(stops, rules, entry, filled)
        if isinstance(result, Rejection):
            self.rejected += 1
            log.warning("after_fill_rejected rule=%r link=%s reason=%r", name, event.order_link_id, result.reason)
            self._journal.record_rejection(name, event.symbol, result.reason, result.code.value, now)
            return
        self._journal.record_action(name, event.symbol, seq, result.action.kind,
                                   JsonText(result.action.model_dump_json()), now)
        for request in result.requests:
            try:
                self._exchange.submit(request)
            except (OrderRejected, ExchangeUnavailable) as err:
                self.rejected += 1
                code = str(err.ret_code) if isinstance(err, OrderRejected) else "unavailable"
                log.warning("after_fill_refused rule=%r link=%s error=%s", name, event.order_link_id, err)
                self._journal.record_rejection(name, event.symbol, str(err), code, now)

    def _forget(self, link: str) -> None:
        key = self._owner.pop(link, None)
        slot = self.routes.by_key.get(key) if key is not None and self.routes is not None else None
        if slot is not None and link in slot.state.in_flight:
            slot.state.in_flight.remove(link)

    def adopt_in_flight(self, routes: Routes) -> None:
        """Follow the in-flight orders of restored or carried-over rule states (after a start or reload)."""
        self.routes = routes
        for slot in routes.slots:
            for link in slot.state.in_flight:
                self._owner[link] = slot.key

    def settle_in_flight(self, open_links: set[str]) -> list[str]:
        """After a reconciliation: orders in flight that the venue no longer lists are finished."""
        gone = [link for link in self._owner if link not in open_links]
        for link in gone:
            self._forget(link)
        return gone

    # -- pause, halt, modes ------------------------------------------------------------------------

    def pause(self, slot: RuleSlot, now_ms: int) -> None:
        """`pause`: block the rule until it is edited or resumed."""
        slot.state.paused = True
        log.info("pause rule=%r symbol=%s", slot.name, slot.symbol)
        self._journal.record_event("pause", f"symbol={slot.symbol}", now_ms, rule=slot.name)

    def halt(self, file: FileRules, reason: str, now_ms: int) -> None:
        """`halt` (or a daily loss breach): block every rule of the file and cancel its open orders."""
        if self.routes is None:
            return
        keys = set()
        for slot in self.routes.in_file(file):
            slot.state.paused = True
            keys.add(slot.key)
        log.warning("halt file=%s reason=%r", file.path, reason)
        self._journal.record_event("halt", f"file={file.path} reason={reason}", now_ms)
        for symbol in file.symbols:
            for order in list(self._accounts.state(symbol).orders.values()):
                if self._owner.get(order.order_link_id) not in keys:
                    continue
                try:
                    self._exchange.submit(CancelOrder(symbol=symbol, order_link_id=order.order_link_id))
                except (OrderRejected, ExchangeUnavailable) as err:
                    # a market order cannot be cancelled; it finishes on its own
                    log.info("halt_cancel_failed symbol=%s link=%s error=%s", symbol, order.order_link_id, err)

    def position_mode(self, symbol: str, file: FileRules) -> PositionMode:
        """The position mode orders of ``symbol`` are built for: the last switch a rule made, the
        file's setting, or what the venue's positions show."""
        mode = self._modes.get(symbol) or file.settings.position_mode
        if mode is not None:
            return mode
        return PositionMode.HEDGE if self._accounts.hedged(symbol) else PositionMode.ONEWAY

    def note_mode(self, symbol: str, mode: PositionMode) -> None:
        """The venue's position mode for ``symbol`` is now ``mode`` (settings applied at start)."""
        self._modes[symbol] = mode

    def _recent_orders(self, file: FileRules, now_ms: int) -> tuple[int, ...]:
        sent = self._recent.get(file.key)
        if not sent:
            return ()
        while sent and sent[0] <= now_ms - _MINUTE_MS:
            sent.popleft()
        return tuple(sent)


def request_json(request: Request) -> JsonText:
    """A request's fields as JSON text, numbers as the exact strings sent."""
    out: dict[str, object] = {"request": type(request).__name__}
    for f in dataclasses.fields(request):
        value = getattr(request, f.name)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, Enum):
            value = value.value
        out[f.name] = value
    return JsonText(json.dumps(out, separators=(",", ":")))


def _positive(text: str) -> bool:
    try:
        return float(text) > 0.0
    except ValueError:
        return False
