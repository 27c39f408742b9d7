"""What a start (or a reconnect) recovers: rule states from the journal, the account from the venue.

Order matters: rule states are restored first (with the ``orderLinkId``s they had in flight),
then the wallet, positions and open orders are read from the exchange, and every restored
order the venue no longer lists as open is finished, so it stops blocking its rule. Nothing is
sent before this is done: an intent the journal holds is never sent a second time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from rulebot.engine.account import AccountBook
from rulebot.engine.orders import ActionRunner
from rulebot.engine.routes import Routes
from rulebot.engine.rulestate import restore
from rulebot.exchange.base import Exchange
from rulebot.journal.journal import Journal

log = logging.getLogger(__name__)


def restore_states(journal: Journal, routes: Routes) -> int:
    """Restore each rule whose name and text are unchanged from the journal; returns how many."""
    stored = journal.load_rule_states()
    restored = 0
    for slot in routes.slots:
        record = stored.get(slot.key)
        if record is not None and restore(slot, record):
            restored += 1
    if stored:
        log.info("rule_state_restored restored=%d stored=%d", restored, len(stored))
    return restored


def reconcile(exchange: Exchange, accounts: AccountBook, runner: ActionRunner, symbols: Sequence[str]) -> list[str]:
    """Learn the wallet, positions and open orders of ``symbols`` from the exchange; returns the
    orderLinkIds that were in flight and are no longer open (now finished)."""
    accounts.on_wallet(exchange.wallet())
    open_links: set[str] = set()
    for symbol in symbols:
        for position in exchange.positions(symbol):
            accounts.on_position(position)
        orders = exchange.open_orders(symbol)
        accounts.forget_orders(symbol, (o.order_id for o in orders))
        for order in orders:
            accounts.on_order(order)
            open_links.add(order.order_link_id)
    gone = runner.settle_in_flight(open_links)
    for link in gone:
        log.info("reconciled link=%s: no longer open", link)
    return gone
