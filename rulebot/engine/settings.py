"""A file's ``settings:`` applied to the exchange at start and after every reload, where they differ.

Leverage is compared with what the venue reports for the symbol's positions and the
position mode with the slots it reports; margin and TP/SL mode are not reported by the
position stream, so they are sent and a "not modified" answer is expected and ignored.
Each request goes through the action layer (``prepare``), like a rule's `set` action.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

from rulebot.actions.dispatch import prepare
from rulebot.actions.intents import (
    Intent,
    SetLeverageIntent,
    SetMarginModeIntent,
    SetPositionModeIntent,
    SetTpslModeIntent,
)
from rulebot.actions.rejection import Rejection
from rulebot.actions.risk import RiskLimits
from rulebot.engine.account import AccountBook
from rulebot.engine.ruleset import FileRules
from rulebot.exchange.base import Exchange
from rulebot.exchange.errors import ExchangeUnavailable, OrderRejected, RetCode
from rulebot.journal.journal import Journal
from rulebot.model.enums import Category, PositionMode
from rulebot.model.instruments import InstrumentRules

log = logging.getLogger(__name__)

_NOT_MODIFIED = {
    RetCode.LEVERAGE_NOT_MODIFIED, RetCode.MODE_NOT_MODIFIED, RetCode.MARGIN_MODE_NOT_MODIFIED,
    RetCode.TPSL_NOT_MODIFIED,
}


def setting_intents(file: FileRules, symbol: str, accounts: AccountBook) -> list[Intent]:
    """The settings of ``file`` that differ from what is known of ``symbol`` on the venue."""
    s = file.settings
    out: list[Intent] = []
    if s.position_mode is not None:
        venue = PositionMode.HEDGE if accounts.hedged(symbol) else PositionMode.ONEWAY
        if not accounts.state(symbol).known or venue is not s.position_mode:
            out.append(SetPositionModeIntent(symbol=symbol, mode=s.position_mode, rule="settings"))
    if s.margin_mode is not None:
        out.append(SetMarginModeIntent(symbol=symbol, mode=s.margin_mode, rule="settings"))
    if s.tpsl_mode is not None:
        out.append(SetTpslModeIntent(symbol=symbol, mode=s.tpsl_mode, rule="settings"))
    if s.leverage is not None:
        known = accounts.state(symbol).leverage
        if known != known or Decimal(str(known)) != s.leverage:
            out.append(SetLeverageIntent(symbol=symbol, leverage=float(s.leverage), rule="settings"))
    return out


def apply_settings(
    file: FileRules,
    exchange: Exchange,
    journal: Journal,
    accounts: AccountBook,
    instruments: Callable[[str], InstrumentRules],
    now_ms: int,
) -> list[tuple[str, PositionMode]]:
    """Send the settings of ``file`` that differ; returns the position modes now in force."""
    modes: list[tuple[str, PositionMode]] = []
    for symbol in file.symbols:
        rules = instruments(symbol)
        if rules.category is Category.SPOT:
            continue
        for intent in setting_intents(file, symbol, accounts):
            view = accounts.view(symbol, now_ms)
            mode = PositionMode.HEDGE if accounts.hedged(symbol) else PositionMode.ONEWAY
            prepared = prepare(intent, rules, view, RiskLimits(), mode)
            if isinstance(prepared, Rejection):
                log.warning("setting_rejected file=%s symbol=%s reason=%r", file.path, symbol, prepared.reason)
                journal.record_rejection("settings", symbol, prepared.reason, prepared.code.value, now_ms)
                continue
            in_force = True
            for request in prepared.requests:
                try:
                    exchange.submit(request)
                except OrderRejected as err:
                    if err.ret_code in _NOT_MODIFIED:
                        continue
                    in_force = False
                    log.warning("setting_refused file=%s symbol=%s error=%s", file.path, symbol, err)
                    journal.record_rejection("settings", symbol, err.ret_msg, str(err.ret_code), now_ms)
                except ExchangeUnavailable as err:
                    in_force = False
                    log.warning("setting_failed file=%s symbol=%s error=%s", file.path, symbol, err)
                    journal.record_rejection("settings", symbol, str(err), "unavailable", now_ms)
                else:
                    journal.record_action("settings", symbol, 0, prepared.action.kind,
                                          prepared.action.model_dump_json(), now_ms)
            if in_force and isinstance(intent, SetPositionModeIntent):
                modes.append((symbol, intent.mode))
    return modes
