"""Checking a rule's actions (LANGUAGE.md §6): sizes, prices, order options, settings, notify.

Errors: E301 (a value of the wrong kind), E303 (leverage), E304 (sizes), E305 (tp/sl/trail
percents), E306 (a stop on the wrong side of a fixed limit price), E307 (coins), E308, E110
(setting words), E210, E212 (conflicting options) and, through ``templates.py``, E211.
"""

from __future__ import annotations

from collections.abc import Sequence

from rulebot.lang import ast as A
from rulebot.lang.expressions import ExprChecker, Value
from rulebot.lang.kinds import Kind
from rulebot.lang.templates import check_template
from rulebot.lang.vocabulary import (
    ORDER_OPTIONS,
    SETTING_CHOICES,
    SETTINGS,
    TIME_IN_FORCE_OPTIONS,
    WORD_SYNONYMS,
    did_you_mean,
)

_SETTING_WHAT = {"mode": "position mode", "margin": "margin mode", "tpsl": "tp/sl mode"}


def check_actions(actions: Sequence[A.Action], ec: ExprChecker, max_leverage: float, symbols: Sequence[str]) -> None:
    """Check every action of a rule, in order."""
    for action in actions:
        if isinstance(action, A.Order):
            _order(action, ec)
        elif isinstance(action, A.Close):
            _close(action, ec)
        elif isinstance(action, A.Cancel):
            if action.which not in ("orders", "buys", "sells"):
                ec.rep.error("E210", action.span, f"unknown word '{action.which}' after 'cancel'",
                             hint="expected orders, buys or sells")
        elif isinstance(action, A.SetSetting):
            _setting(action, ec, max_leverage, symbols)
        elif isinstance(action, A.Notify):
            check_template(action.message, ec)


def _order(o: A.Order, ec: ExprChecker) -> None:
    rep = ec.rep
    q = o.quantity
    qv = ec.value(q.amount)
    if q.basis:
        if qv.kind not in (Kind.PERCENT, Kind.ERROR):
            rep.error("E301", q.amount.span, f"a size of '{q.basis}' must be a percent, found "
                      f"{rep.quoted(q.amount)} ({qv.kind.article})", hint=f"write '10% {q.basis}'")
    elif qv.kind is Kind.PERCENT:
        rep.error("E301", q.amount.span, f"a percent size needs a basis, found {rep.quoted(q.amount)}",
                  hint=f"write '{rep.text(q.amount)} equity', '{rep.text(q.amount)} balance' "
                       f"or '{rep.text(q.amount)} available'")
    elif qv.kind not in (Kind.NUMBER, Kind.MONEY, Kind.ERROR):
        rep.error("E301", q.amount.span, f"an order size must be a number or an amount of money, found "
                  f"{rep.quoted(q.amount)} ({qv.kind.article})")
    if qv.const is not None and qv.const <= 0:
        rep.error("E304", q.amount.span, f"an order size must be above zero, found {rep.quoted(q.amount)}",
                  label="not above zero")
    limit = _price(o.price, ec) if o.price is not None else None
    seen: set[str] = set()
    tif: list[A.OrderOption] = []
    for opt in o.options:
        word = ORDER_OPTIONS.get(opt.kind, opt.kind)
        if opt.kind in seen:
            rep.error("E212", opt.span, f"'{word}' is given twice", label="given again")
            continue
        seen.add(opt.kind)
        if opt.kind in TIME_IN_FORCE_OPTIONS:
            tif.append(opt)
            if len(tif) > 1:
                rep.error("E212", opt.span, f"'{word}' and '{ORDER_OPTIONS[tif[0].kind]}' exclude each other",
                          hint="keep one of post only, ioc and fok")
            elif opt.kind == "post_only" and o.order_type != "limit":
                rep.error("E212", opt.span, "'post only' needs a limit order", hint="add 'limit PRICE'")
            elif opt.kind == "fok" and o.order_type != "limit":
                # Bybit runs every market order as IOC: all-or-nothing needs a limit price
                rep.error("E212", opt.span, "'fok' needs a limit order",
                          hint="add 'limit PRICE'; a market order fills what it can at once, like 'ioc'")
        elif opt.kind in ("tp", "sl"):
            if isinstance(opt.value, A.Ticks) and o.order_type != "limit":
                # ticks are measured from the order price, which a market order does not have
                rep.error("E212", opt.value.span, f"a {word} in ticks needs a limit order",
                          hint=f"write the {word} in percent (measured from the fill price) or add 'limit PRICE'")
            if opt.value is not None:
                _tp_sl(opt.kind, opt.value, ec, o.side, limit)
        elif opt.kind == "trail":
            if opt.value is not None:
                _trail(opt.value, ec)
        elif opt.kind == "expire":
            _expire(opt, ec)
        elif opt.kind == "tag":
            if not isinstance(opt.value, A.String):
                rep.error("E301", opt.span, "'tag' needs a quoted label", hint="write 'tag \"dip buy\"'")
        elif opt.kind != "reduce_only":
            rep.error("E210", opt.span, f"unknown order option '{opt.kind}'",
                      hint=did_you_mean(opt.kind, list(ORDER_OPTIONS)))


def _price(node: A.Expr, ec: ExprChecker) -> float | None:
    """Check a limit price; return it when it is a fixed number (for E306)."""
    v = ec.value(node)
    if v.kind not in (Kind.PRICE, Kind.ERROR) and not v.bare:
        ec.rep.error("E301", node.span,
                     f"a limit price must be a price, found {ec.rep.quoted(node)} ({v.kind.article})")
        return None
    if v.bare and v.const is not None:
        if v.const <= 0:
            ec.rep.error("E308", node.span, f"a limit price must be above zero, found {ec.rep.quoted(node)}")
            return None
        return v.const
    return None


def _tp_sl(kind: str, node: A.Expr, ec: ExprChecker, side: str | None, limit: float | None) -> None:
    rep = ec.rep
    what = ORDER_OPTIONS[kind]
    v = ec.value(node)
    if v.kind is Kind.PERCENT:
        if v.const is not None and not 0 < v.const < 1:
            rep.error("E305", node.span, f"a {what} must be above 0% and below 100%, found {rep.text(node)}",
                      label="out of range")
        return
    if not _is_price(v):
        rep.error("E301", node.span, f"a {what} must be a percent or a price, found "
                  f"{rep.quoted(node)} ({v.kind.article})")
        return
    if side is None or limit is None or not v.bare or v.const is None:
        return
    above = kind == "tp" if side == "buy" else kind == "sl"
    if above and not v.const > limit:
        rep.error("E306", node.span, f"{what} {rep.text(node)} is not above the {side} limit price {limit:g}",
                  hint=f"for a {side}, the {what} goes above the limit price", label="wrong side")
    elif not above and not v.const < limit:
        rep.error("E306", node.span, f"{what} {rep.text(node)} is not below the {side} limit price {limit:g}",
                  hint=f"for a {side}, the {what} goes below the limit price", label="wrong side")


def _trail(node: A.Expr, ec: ExprChecker) -> None:
    v = ec.value(node)
    if v.kind is Kind.PERCENT:
        if v.const is not None and not 0 < v.const < 1:
            ec.rep.error("E305", node.span, f"a trailing stop must be above 0% and below 100%, "
                         f"found {ec.rep.text(node)}", label="out of range")
        return
    if not _is_price(v):
        ec.rep.error("E301", node.span, f"a trailing stop must be a percent or a price distance, found "
                     f"{ec.rep.quoted(node)} ({v.kind.article})", hint="write 'trail 1%' or 'trail 5 ticks'")
    elif v.const is not None and v.const <= 0:
        ec.rep.error("E308", node.span, f"a trailing distance must be above zero, found {ec.rep.quoted(node)}")


def _is_price(v: Value) -> bool:
    return v.kind in (Kind.PRICE, Kind.ERROR) or (v.bare and v.kind is Kind.NUMBER)


def _expire(opt: A.OrderOption, ec: ExprChecker) -> None:
    if isinstance(opt.value, A.Duration):
        if opt.value.seconds <= 0:
            ec.rep.error("E308", opt.value.span, "an expiry must be longer than zero")
    else:
        ec.rep.error("E301", opt.span, "'expire' needs a duration", hint="write 'expire 5m'")


def _close(c: A.Close, ec: ExprChecker) -> None:
    if c.percent is not None and not 0 < c.percent.fraction <= 1:
        ec.rep.error("E308", c.percent.span, f"a close must be above 0% and at most 100%, found {c.percent.text}%")
    if c.side not in ("", "long", "short"):
        ec.rep.error("E210", c.span, f"unknown word '{c.side}' after 'close'", hint="expected long or short")
    if c.price is not None:
        _price(c.price, ec)


def _setting(s: A.SetSetting, ec: ExprChecker, max_leverage: float, symbols: Sequence[str]) -> None:
    rep = ec.rep
    if s.setting == "leverage":
        v = ec.value(s.value)
        if not (v.bare and v.const is not None):
            if v.kind is not Kind.ERROR:
                rep.error("E301", s.value.span, f"leverage must be a number, found {rep.quoted(s.value)} "
                          f"({v.kind.article})", hint="write 'set leverage 5'")
        elif not 1 <= v.const <= max_leverage:
            where = f" for {', '.join(symbols)}" if symbols else ""
            rep.error("E303", s.value.span, f"leverage {rep.text(s.value)} is outside 1 … {max_leverage:g}{where}",
                      hint=f"the allowed leverage is from 1 to {max_leverage:g}", label="out of range")
    elif s.setting in SETTING_CHOICES:
        choices = SETTING_CHOICES[s.setting]
        word = s.value.name if isinstance(s.value, A.Name) else rep.text(s.value)
        if word not in choices:
            rep.error("E110", s.value.span, f"unknown {_SETTING_WHAT[s.setting]} '{word}'",
                      hint=did_you_mean(word, choices, WORD_SYNONYMS) or f"expected {' or '.join(choices)}",
                      label="not an allowed word")
    elif s.setting in ("tp", "sl"):
        _tp_sl(s.setting, s.value, ec, None, None)
    elif s.setting == "trail":
        _trail(s.value, ec)
    else:
        rep.error("E210", s.span, f"unknown setting '{s.setting}'", hint=did_you_mean(s.setting, SETTINGS))
