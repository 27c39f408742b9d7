"""Rule text read aloud: conditions, values and actions in plain English, for `rulebot explain`.

Pure functions of the AST and a ``ReadingContext`` (the file's timeframe, timezone and coins).
A ``Reader`` reads one sentence left to right and names a bar timeframe only where it changes
("RSI(14) on 1-minute bars is below 30 and the close is above the 50-bar EMA"), so a sentence
that reads one timeframe says it once. The words for single names, units and indicators are
in ``phrases.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rulebot.lang import ast as A
from rulebot.lang.kinds import Kind
from rulebot.lang.phrases import (
    DAY_WORDS,
    FIELD_WORDS,
    UNIT_WORDS,
    arguments_of,
    article,
    count,
    indicator_phrase,
    is_literal_number,
    join_words,
    operand_of,
    relative_offset,
    timeframe_of,
    timeframe_words,
    timeframes_in,
)
from rulebot.lang.vocabulary import CANDLE_FIELDS, FIELDS, timeframe_seconds

__all__ = ["ActionReading", "Reader", "ReadingContext", "read_action", "read_condition", "read_value"]


@dataclass(frozen=True, slots=True)
class ReadingContext:
    """What a reading needs to know of the file: its timeframe and timezone, and the coins
    sizes (``size_unit``), money (``settle_coin``) and price distances (``quote_coin``) are in.
    An empty coin means the file's symbols do not share one; the reading then names none."""

    timeframe: str = "1m"
    timezone: str = "UTC"
    base_coin: str = ""
    size_unit: str = ""
    settle_coin: str = ""
    quote_coin: str = ""
    position_mode: str = "oneway"
    spot: bool = False


@dataclass(frozen=True, slots=True)
class ActionReading:
    """One action read aloud: what it does when the rule fires (``main``) and, for an order,
    the stops it leaves on the position (``after``, empty when none)."""

    main: str
    after: str = ""


_COMPARE = {"<": "is below", "<=": "is at or below", ">": "is above", ">=": "is at or above", "==": "is", "!=": "is not"}
_COMPARE_TIME = {"<": "is before", "<=": "is at or before", ">": "is after", ">=": "is at or after",
                 "==": "is", "!=": "is not"}
_COMPARE_DURATION = {"<": "is shorter than", "<=": "is at most", ">": "is longer than", ">=": "is at least",
                     "==": "is", "!=": "is not"}
_INVERSE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
# `close > ema(50) + 1%` reads "more than 1% above"; the other pairings read literally.
_MARGINS = {(">", "+"): "more than", (">=", "+"): "at least", ("<", "-"): "more than", ("<=", "-"): "at least"}
_ARITHMETIC = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}
_CLOCK_FIELDS = ("time", "weekday", "hour")
_SIZE_FIELDS = ("position", "long_size", "short_size", "position_size")
_MONEY_FIELDS = ("upnl", "balance", "equity", "available", "pnl_today", "turnover_24h")
_BASIS_WORDS = {"equity": "the equity", "balance": "the wallet balance", "available": "the available balance"}
_TIME_IN_FORCE_WORDS = {"post_only": "post-only", "ioc": "immediate-or-cancel", "fok": "fill-or-kill",
                        "reduce_only": "reduce-only"}


def _is_offset(e: A.BinOp) -> bool:
    """``ema(50) + 1%`` or ``ask1 + 2 ticks``: read as a distance above or below a price."""
    return e.op in "+-" and (relative_offset(e) or isinstance(e.right, A.Ticks))


class Reader:
    """Reads one sentence; remembers the last bar timeframe it named."""

    def __init__(self, ctx: ReadingContext) -> None:
        self.ctx = ctx
        self._timeframe: str | None = None

    # --- values ------------------------------------------------------------------------------

    def value(self, e: A.Expr, ago: int = 0) -> str:
        """A value in words; ``ago`` bars back for candle fields and indicators."""
        if isinstance(e, A.Number):
            return e.text
        if isinstance(e, A.Percent):
            return f"{e.text}%"
        if isinstance(e, A.Money):
            return f"{e.amount} {e.coin.upper()}"
        if isinstance(e, A.Ticks):
            return count(e.count, "tick")
        if isinstance(e, A.Duration):
            return count(e.count, UNIT_WORDS[e.unit])
        if isinstance(e, (A.TimeOfDay,)):
            return e.text
        if isinstance(e, A.String):
            return f'"{e.value}"'
        if isinstance(e, A.Name):
            return self._name(e.name, ago)
        if isinstance(e, A.Call):
            return self._call(e, ago)
        if isinstance(e, A.Index):
            return self.value(e.target, ago + e.offset)
        if isinstance(e, A.Neg):
            if isinstance(e.operand, (A.Number, A.Percent, A.Money)):
                return "-" + self.value(e.operand)
            return "minus " + self.value(e.operand, ago)
        if isinstance(e, A.BinOp):
            return self._binop(e, ago)
        return self.condition(e)

    def _bar(self, phrase: str, ago: int, timeframe: str) -> str:
        text = phrase + (f" {count(ago, 'bar')} ago" if ago else "")
        if timeframe != self._timeframe:
            self._timeframe = timeframe
            text += f" on {timeframe_words(timeframe)} bars"
        return text

    def _name(self, name: str, ago: int) -> str:
        field = FIELDS.get(name)
        if field is None:
            return DAY_WORDS.get(name, name)
        phrase = FIELD_WORDS.get(field.name, field.meaning)
        if name in CANDLE_FIELDS:
            return self._bar(phrase, ago, self.ctx.timeframe)
        if name in _CLOCK_FIELDS:
            return f"{phrase} ({self.ctx.timezone})"
        return phrase

    def _call(self, call: A.Call, ago: int) -> str:
        timeframe = timeframe_of(call, self.ctx.timeframe)
        if call.name in CANDLE_FIELDS:
            return self._bar(FIELD_WORDS[call.name], ago, timeframe)
        return self._bar(indicator_phrase(call.name, arguments_of(call)), ago, timeframe)

    def _binop(self, e: A.BinOp, ago: int) -> str:
        if _is_offset(e):
            side = "above" if e.op == "+" else "below"
            if isinstance(e.left, A.BinOp) and _is_offset(e.left):
                # chains apply left to right: `ema(20) + 1% - 0.5%`
                return f"{self.value(e.left, ago)}, then {self.value(e.right, ago)} {side} that"
            return f"{self.value(e.right, ago)} {side} {self.value(e.left, ago)}"
        left = self.value(e.left, ago)
        right = self.value(e.right, ago)
        if e.op in "*/" and isinstance(e.left, A.BinOp) and e.left.op in "+-":
            left = f"({left})"
        if isinstance(e.right, A.BinOp) and (e.op in "*/" or e.right.op in "+-") and e.op != "+":
            right = f"({right})"
        return f"{left} {_ARITHMETIC[e.op]} {right}"

    # --- conditions --------------------------------------------------------------------------

    def condition(self, e: A.Expr) -> str:
        """A condition in words."""
        if isinstance(e, A.And):
            return join_words([self._grouped(x, A.Or) for x in e.operands])
        if isinstance(e, A.Or):
            return join_words([self._grouped(x, A.And) for x in e.operands], "or")
        if isinstance(e, A.Not):
            return self._not(e.operand)
        if isinstance(e, A.Compare):
            return self._compare(e.op, e.left, e.right)
        if isinstance(e, A.Crosses):
            left = self.value(e.left)
            how = f"crosses {e.direction}" if e.direction else "crosses"
            tail = "" if e.direction else " (either way)"
            return f"{left} {how} {self.value(e.right)}{tail}"
        if isinstance(e, A.Between):
            return self._between(e, negated=False)
        if isinstance(e, A.Trend):
            verb = "risen" if e.direction == "rising" else "fallen"
            subject = self.value(e.subject)
            if e.bars == 1:
                return f"{subject} has {verb} since the bar before"
            return f"{subject} has {verb} at each of the last {e.bars} bars"
        if isinstance(e, A.Is):
            return self._words(e.subject, (e.word,), e.negated)
        if isinstance(e, A.In):
            return self._words(e.subject, e.words, False)
        if isinstance(e, A.For):
            return self._for(e)
        return self.value(e)

    def _grouped(self, e: A.Expr, other: type) -> str:
        text = self.condition(e)
        return f"({text})" if isinstance(e, other) else text

    def _not(self, e: A.Expr) -> str:
        if isinstance(e, A.Not):
            return self.condition(e.operand)
        if isinstance(e, A.Compare):
            return self._compare(_INVERSE[e.op], e.left, e.right)
        if isinstance(e, A.Is):
            return self._words(e.subject, (e.word,), not e.negated)
        if isinstance(e, A.Between):
            return self._between(e, negated=True)
        text = self.condition(e)
        return f"it is not true that ({text})" if isinstance(e, (A.And, A.Or)) else f"it is not true that {text}"

    def _compare(self, op: str, left: A.Expr, right: A.Expr) -> str:
        if is_literal_number(left) and not is_literal_number(right):
            op, left, right = _FLIPPED[op], right, left
        special = self._special_compare(op, left, right)
        if special is not None:
            return special
        if isinstance(right, A.BinOp) and _is_offset(right):
            margin = _MARGINS.get((op, right.op))
            if margin is not None:
                subject = self.value(left)
                side = "above" if right.op == "+" else "below"
                return f"{subject} is {margin} {self.value(right.right)} {side} {self.value(right.left)}"
        kinds = {operand_of(left).kind, operand_of(right).kind}
        words = _COMPARE_TIME if Kind.TIME_OF_DAY in kinds else _COMPARE_DURATION if Kind.DURATION in kinds \
            else _COMPARE
        subject = self.value(left)
        other = self.value(right)
        if is_literal_number(right):
            other += self._unit_of(left)
        return f"{subject} {words[op]} {other}"

    def _special_compare(self, op: str, left: A.Expr, right: A.Expr) -> str | None:
        if isinstance(left, A.Name) and isinstance(right, A.Name) and op in ("==", "!=") \
                and left.name in ("position", "weekday") and right.name not in FIELDS:
            return self._words(left, (right,), op == "!=")
        if isinstance(left, A.Name) and left.name == "position" and isinstance(right, A.Number) \
                and float(right.text) == 0:
            return {"<": "the position is short", "<=": "the position is short or flat",
                    ">": "the position is long", ">=": "the position is long or flat",
                    "==": "there is no position", "!=": "there is a position"}[op]
        return None

    def _unit_of(self, e: A.Expr) -> str:
        if isinstance(e, A.Name) and e.name in _SIZE_FIELDS and self.ctx.size_unit:
            return f" {self.ctx.size_unit}"
        if isinstance(e, A.Name) and e.name in _MONEY_FIELDS and self.ctx.settle_coin:
            return f" {self.ctx.settle_coin}"
        return ""

    def _between(self, e: A.Between, negated: bool) -> str:
        subject = self.value(e.subject)
        low, high = self.value(e.low), self.value(e.high)
        verb = "is not between" if negated else "is between"
        if isinstance(e.low, A.TimeOfDay) and isinstance(e.high, A.TimeOfDay):
            wraps = (e.low.hour, e.low.minute) > (e.high.hour, e.high.minute)
            return f"{subject} {verb} {low} and {high}" + (" (across midnight)" if wraps else "")
        return f"{subject} {verb} {low} and {high}{self._unit_of(e.subject) if is_literal_number(e.high) else ''}"

    def _words(self, subject: A.Expr, words: tuple[A.Name, ...], negated: bool) -> str:
        names = [w.name for w in words]
        if isinstance(subject, A.Name) and subject.name == "weekday":
            days = join_words([DAY_WORDS.get(n, n) for n in names], "or")
            return f"it is {'not ' if negated else ''}{days} ({self.ctx.timezone})"
        if names == ["flat"]:
            return "there is a position" if negated else "there is no position"
        choice = join_words([("no position" if n == "flat" else n) for n in names], "or")
        return f"the position is {'not ' if negated else ''}{choice}"

    def _for(self, e: A.For) -> str:
        inner = self.condition(e.condition)
        if isinstance(e.condition, (A.And, A.Or)):
            inner = f"({inner})"
        if e.duration is not None:
            return f"{inner} throughout the last {self.value(e.duration)}"
        timeframe = min(timeframes_in(e.condition, self.ctx.timeframe), key=timeframe_seconds,
                        default=self.ctx.timeframe)
        bars = e.bars or 1
        closes = "the last close" if bars == 1 else f"each of the last {bars} closes"
        return f"{inner} at {closes} of {timeframe_words(timeframe)} bars"

    # --- actions -----------------------------------------------------------------------------

    def action(self, a: A.Action) -> ActionReading:
        """An action in words: what it does, then the stops an order leaves on the position."""
        main = self.action_main(a)
        return ActionReading(main, self.action_after(a))

    def action_main(self, a: A.Action) -> str:
        """What an action does when the rule fires."""
        if isinstance(a, A.Order):
            return self._order(a)
        if isinstance(a, A.Close):
            return self._close(a)
        if isinstance(a, A.Cancel):
            which = {"orders": "every open order", "buys": "the open buy orders", "sells": "the open sell orders"}
            return f"cancel {which.get(a.which, a.which)} of the symbol"
        if isinstance(a, A.SetSetting):
            return self._setting(a)
        if isinstance(a, A.Notify):
            return f'notify "{a.message.value}" to the log and every configured notifier'
        if isinstance(a, A.Pause):
            return "pause this rule until it is edited or resumed"
        return "halt every rule of the file and cancel its open orders"

    def action_after(self, a: A.Action) -> str:
        """The take profit, stop loss and trailing stop an order leaves on the position ("" if none)."""
        if not isinstance(a, A.Order):
            return ""
        basis = "the limit price" if a.order_type == "limit" else "the fill price"
        return join_words([self._stop(opt.kind, opt.value, a.side == "buy", basis)
                      for opt in a.options if opt.kind in ("tp", "sl", "trail") and opt.value is not None])

    def _quantity(self, q: A.Quantity) -> str:
        coin = self.ctx.base_coin or "each symbol's base coin"
        if q.basis:
            return f"{coin} worth {self.value(q.amount)} of {_BASIS_WORDS.get(q.basis, q.basis)}"
        if isinstance(q.amount, A.Money):
            if q.amount.coin.upper() == self.ctx.base_coin:
                return self.value(q.amount)
            return f"{self.value(q.amount)} worth of {coin}"
        if isinstance(q.amount, A.Number):
            return f"{q.amount.text} {self.ctx.size_unit}" if self.ctx.size_unit else f"{q.amount.text} of {coin}"
        return f"an amount of {self.ctx.size_unit or coin} equal to {self.value(q.amount)}"

    def _order_kind(self, order_type: str, price: A.Expr | None, adjectives: list[str]) -> str:
        limit = order_type == "limit" and price is not None
        phrase = article(" ".join(adjectives + ["limit order" if limit else "market order"]))
        return f"with {phrase}" + (f" at {self.value(price)}" if limit and price is not None else "")

    def _order(self, o: A.Order) -> str:
        adjectives = [_TIME_IN_FORCE_WORDS[opt.kind] for opt in o.options if opt.kind in _TIME_IN_FORCE_WORDS]
        main = f"{o.side} {self._quantity(o.quantity)} {self._order_kind(o.order_type, o.price, adjectives)}"
        for opt in o.options:
            if opt.kind == "expire" and isinstance(opt.value, A.Duration):
                main += f", cancelled if not fully filled within {self.value(opt.value)}"
            elif opt.kind == "tag" and isinstance(opt.value, A.String):
                main += f', tagged "{opt.value.value}"'
        return main

    def _stop(self, kind: str, value: A.Expr, long: bool | None, basis: str) -> str:
        what = {"tp": "take profit", "sl": "stop loss"}.get(kind, "")
        if kind == "trail":
            return f"trail the stop {self._distance(value)} behind"
        if operand_of(value).kind is Kind.PERCENT:
            above = (kind == "tp") == long if long is not None else None
            if above is None:
                side = "above" if kind == "tp" else "below"
                other = "below" if kind == "tp" else "above"
                return f"{what} {self.value(value)} {side} {basis} for a long, {other} it for a short"
            return f"{what} {self.value(value)} {'above' if above else 'below'} {basis}"
        return f"{what} at {self.value(value)}"

    def _distance(self, value: A.Expr) -> str:
        kind = operand_of(value).kind
        if kind is Kind.PERCENT:
            return f"{self.value(value)} of the entry price"
        if is_literal_number(value) and self.ctx.quote_coin:
            return f"{self.value(value)} {self.ctx.quote_coin}"
        return self.value(value)

    def _close(self, c: A.Close) -> str:
        if self.ctx.spot:
            what = f"the {self.ctx.base_coin or 'base coin'} balance"
            amount = f"{c.percent.text}% of {what}" if c.percent is not None else f"all of {what}"
            return f"sell {amount} {self._order_kind(c.order_type, c.price, [])}"
        if c.side:
            what = f"the {c.side} position"
        elif self.ctx.position_mode == "hedge":
            what = "both sides of the position"
        else:
            what = "the position"
        amount = f"{c.percent.text}% of {what}" if c.percent is not None else what
        return f"close {amount} {self._order_kind(c.order_type, c.price, ['reduce-only'])}"

    def _setting(self, s: A.SetSetting) -> str:
        word = s.value.name if isinstance(s.value, A.Name) else self.value(s.value)
        if s.setting == "leverage":
            return f"set the leverage to {word}× for buys and sells"
        if s.setting == "mode":
            return f"switch to {'hedge' if word == 'hedge' else 'one-way'} position mode"
        if s.setting == "margin":
            return f"switch to {word} margin"
        if s.setting == "tpsl":
            return f"set the take-profit/stop-loss mode to {word}"
        if s.setting == "trail":
            return f"set a trailing stop {self._distance(s.value)} behind on the open position"
        return f"set the open position's {self._stop(s.setting, s.value, None, 'its entry price')}"


def read_value(e: A.Expr, ctx: ReadingContext) -> str:
    """A value in words, naming its bar timeframe (``the 50-bar EMA on 1-minute bars``)."""
    return Reader(ctx).value(e)


def read_condition(e: A.Expr, ctx: ReadingContext) -> str:
    """A condition in words (``RSI(14) on 1-minute bars is below 30 and there is no position``)."""
    return Reader(ctx).condition(e)


def read_action(a: A.Action, ctx: ReadingContext) -> ActionReading:
    """An action in words."""
    return Reader(ctx).action(a)
