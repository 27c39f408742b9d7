"""Previewing a rule's actions: the exact Bybit requests it would send, for `rulebot explain`.

Each action becomes the engine's intent under a sample (``samples.py``), goes through the real
action layer (``prepare``: conversion, rounding, risk guards) and the real wire mapping
(``to_bybit_params``), so what is shown is what would be sent. The sample is a flat account
holding ``equity`` of the settle coin (a position of the required side for `close` and
`set tp/sl/trail`), and, when the trader gives one, a sample price per symbol.

A parameter the sample does not decide (a limit at the best bid without a sample price, a size
converted at an indicator's price, a stop measured from the fill) is *described*, never shown
with a made-up number: the request is built with stand-ins, and such parameters carry the
words of how they are decided when the rule fires. A refusal is *certain* when it does not
depend on a stand-in; otherwise the preview tries other stand-ins and, if every one is refused,
says the refusal depends on the market.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from rulebot.actions import (
    AccountView,
    OpenOrderView,
    Prepared,
    RejectCode,
    Rejection,
    RiskConfigError,
    RiskLimits,
    make_order_link_id,
    prepare,
    resolve_after_fill,
)
from rulebot.engine.describe import Described, action_notes, describe_request
from rulebot.engine.samples import Stand, evaluate, intent_for, position_direction
from rulebot.exchange.bybit.params import bybit_method, to_bybit_params
from rulebot.lang import ast as A
from rulebot.lang import filemodel as fm
from rulebot.lang.explain import reading_context, rule_text
from rulebot.lang.lint import AnalyzedRule
from rulebot.lang.reading import ReadingContext
from rulebot.model import InstrumentRules, OrderType, PlaceOrder, PositionMode, Request, Side, TpslMode
from rulebot.model.instruments import default_rules

__all__ = [
    "ActionPreview", "DEFAULT_EQUITY", "Param", "PreviewContext", "Refusal", "RequestPreview", "Sample",
    "SampleError", "preview_rule",
]

DEFAULT_EQUITY = Decimal("10000")
"""The sample account's equity, balance and available funds (the backtest's default balance)."""

FIRE = "when the rule fires"
AFTER_FILL = "after the fill"

# Refusals that may come from a stand-in (a price, a size or a position not known until fire time).
_DEPENDENT = frozenset({
    RejectCode.BELOW_MIN_NOTIONAL, RejectCode.MAX_ORDER_VALUE, RejectCode.PRICE_BAND, RejectCode.NO_PRICE,
    RejectCode.BAD_TARGET, RejectCode.OUT_OF_RANGE, RejectCode.BELOW_MIN_QTY, RejectCode.ABOVE_MAX_QTY,
    RejectCode.MAX_POSITION,
})
# Stand-in prices tried when no sample price is given, the most common magnitudes first.
_LADDER = (1e4, 1e3, 1e5, 1e2, 1e6, 10.0, 1e7, 1.0, 1e8, 0.1, 0.01)
# With a sample price, stand-ins for the values it does not decide stay near it.
_NEAR = (1.0, 0.99, 1.01, 0.9, 1.1, 0.5, 2.0)
_SAMPLE_LINK = "rb-00000000-1"


@dataclass(frozen=True, slots=True)
class Param:
    """One request parameter: its exact value, or (``value`` None) how it is decided at fire time."""

    name: str
    value: str | int | bool | None
    described: str = ""


@dataclass(frozen=True, slots=True)
class RequestPreview:
    """One request as pybit's ``HTTP`` method name and its keyword arguments."""

    symbol: str
    method: str
    stage: str
    params: tuple[Param, ...]


@dataclass(frozen=True, slots=True)
class Refusal:
    """The action layer's refusal; ``certain`` is false when it depends on values known only at fire time."""

    symbol: str
    code: str
    reason: str
    certain: bool


@dataclass(frozen=True, slots=True)
class ActionPreview:
    """What one action would send, per symbol of the file, with notes and refusals."""

    kind: str
    requests: tuple[RequestPreview, ...]
    notes: tuple[str, ...] = ()
    refusals: tuple[Refusal, ...] = ()


class SampleError(ValueError):
    """A sample option that cannot be used; the message says which and why."""


def _positive(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise SampleError(f"{what} must be a number, found '{text}'") from None
    if not value.is_finite() or value <= 0:
        raise SampleError(f"{what} must be above 0, found '{text}'")
    return value


@dataclass(frozen=True, slots=True)
class Sample:
    """The sample market: a price per symbol (none given: market values are described) and the equity."""

    prices: Mapping[str, Decimal] = field(default_factory=dict)
    equity: Decimal = DEFAULT_EQUITY

    def price_for(self, symbol: str) -> Decimal | None:
        return self.prices.get(symbol)

    @classmethod
    def from_options(cls, prices: Sequence[str], equity: str, symbols: Sequence[str]) -> Sample:
        """Read `--price 65000` / `--price BTCUSDT=65000` (one per symbol) and `--equity`; raises ``SampleError``."""
        read: dict[str, Decimal] = {}
        for item in prices:
            name, _, number = item.rpartition("=")
            if not name and len(symbols) > 1:
                raise SampleError(f"--price {item} does not say which of {', '.join(symbols)}; "
                                  f"write --price {symbols[0]}={item}")
            symbol = name.strip().upper() or symbols[0]
            if symbol not in symbols:
                raise SampleError(f"--price {item}: the file trades {', '.join(symbols)}, not {symbol}")
            read[symbol] = _positive(number, "--price")
        return cls(read, _positive(equity, "--equity"))


@dataclass(frozen=True, slots=True)
class PreviewContext:
    """What previews need to know of the file: symbols, instrument rules, modes and risk limits."""

    symbols: tuple[str, ...]
    instruments: Mapping[str, InstrumentRules]
    position_mode: PositionMode
    tpsl_mode: TpslMode
    limits: RiskLimits
    reading: ReadingContext
    notes: tuple[str, ...] = ()

    @classmethod
    def for_file(cls, rule_file: fm.RuleFile) -> PreviewContext:
        """The context of a loaded rule file (bundled instrument rules, its `settings:` and `risk:`)."""
        limits, notes = _risk_limits(rule_file.risk)
        settings = rule_file.settings
        return cls(
            symbols=rule_file.symbols,
            instruments={s: default_rules(s, rule_file.category) for s in rule_file.symbols},
            position_mode=settings.position_mode or PositionMode.ONEWAY,
            tpsl_mode=settings.tpsl_mode or TpslMode.FULL,
            limits=limits,
            reading=reading_context(rule_file),
            notes=notes,
        )


def _risk_limits(risk: fm.Risk) -> tuple[RiskLimits, tuple[str, ...]]:
    """The file's `risk:` as the action layer's limits (the loader already validated the values)."""
    raw: dict[str, object] = {}
    if risk.max_position is not None:
        raw["max_position"] = str(risk.max_position)
    if risk.max_order_value is not None:
        raw["max_order_value"] = f"{risk.max_order_value.amount} {risk.max_order_value.coin or ''}".strip()
    if risk.max_open_orders is not None:
        raw["max_open_orders"] = risk.max_open_orders
    if risk.max_orders_per_minute is not None:
        raw["max_orders_per_minute"] = risk.max_orders_per_minute
    loss = risk.max_daily_loss
    if isinstance(loss, fm.Percent):
        raw["max_daily_loss"] = f"{loss.fraction * 100}%"
    elif loss is not None:
        raw["max_daily_loss"] = f"{loss.amount} {loss.coin or ''}".strip()
    if risk.price_band is not None:
        raw["price_band"] = f"{risk.price_band.fraction * 100}%"
    try:
        return RiskLimits.from_config(raw), ()
    except RiskConfigError as error:
        return RiskLimits(), (f"the risk limits are not applied in this preview: {error}",)


def _kind(action: A.Action) -> str:
    if isinstance(action, A.Order):
        return action.side
    names = {A.Close: "close", A.Cancel: "cancel", A.SetSetting: "set", A.Notify: "notify", A.Pause: "pause"}
    return names.get(type(action), "halt")


def _stands(price: Decimal | None, tick: float) -> list[Stand]:
    if price is None:
        return [Stand(None, s, tick) for s in _LADDER]
    p = float(price)
    return [Stand(p, p * f, tick) for f in _NEAR]


def _holds_position(action: A.Action) -> bool:
    """Whether the action acts on an open position (`close`, `set tp/sl/trail`)."""
    return isinstance(action, A.Close) or (isinstance(action, A.SetSetting) and action.setting in ("tp", "sl", "trail"))


def _position_size(rules: InstrumentRules) -> float:
    # Large enough that any share of it a `close` takes stays above the minimum quantity.
    return float(rules.min_order_qty * 100)


def _account(action: A.Action, market: float, equity: float, rules: InstrumentRules,
             mode: PositionMode, direction: str | None) -> AccountView:
    """The sample account: flat, or holding what the action acts on (a position, open orders)."""
    size = _position_size(rules)
    flat = AccountView(equity=equity, balance=equity, available=equity, mark_price=market, now_ms=0,
                       equity_at_midnight=equity)
    if isinstance(action, A.Cancel) and action.which != "orders":
        side = Side.BUY if action.which == "buys" else Side.SELL
        return replace(flat, open_orders=(OpenOrderView(side=side, qty=size, order_link_id=_SAMPLE_LINK),))
    if not _holds_position(action):
        return flat
    if mode is PositionMode.HEDGE and not (isinstance(action, A.Close) and action.side):
        return replace(flat, long_size=size, long_entry=market, short_size=size, short_entry=market)
    held = action.side if isinstance(action, A.Close) and action.side else direction or "long"
    if held == "long":
        return replace(flat, long_size=size, long_entry=market)
    return replace(flat, short_size=size, short_entry=market)


def _params(request: Request, rules: InstrumentRules, described: Mapping[str, str], symbol: str,
            stage: str) -> RequestPreview:
    raw = to_bybit_params(request, rules.category, rules)
    params = tuple(Param(k, None, described[k]) if k in described else Param(k, v) for k, v in raw.items())
    return RequestPreview(symbol, bybit_method(request), stage, params)


@dataclass(frozen=True, slots=True)
class _Outcome:
    requests: tuple[RequestPreview, ...] = ()
    notes: tuple[str, ...] = ()
    refusal: Refusal | None = None


def _preview_symbol(action: A.Action, symbol: str, pc: PreviewContext, sample: Sample, name: str,
                    link_id: str, direction: str | None) -> _Outcome:
    rules = pc.instruments[symbol]
    price = sample.price_for(symbol)
    first: Rejection | None = None
    for stand in _stands(price, float(rules.tick_size)):
        intent, exact = intent_for(action, symbol, stand, name, 1)
        market = stand.price if stand.price is not None else stand.stand_in
        account = _account(action, market, float(sample.equity), rules, pc.position_mode, direction)
        result = prepare(intent, rules, account, pc.limits, pc.position_mode, link_id, tpsl_mode=pc.tpsl_mode)
        if isinstance(result, Prepared):
            return _outcome(action, result, rules, symbol, stand, price, direction, pc)
        fire_time = not exact or price is None or _holds_position(action)
        # A refusal names its numbers: the same words at two stand-ins do not depend on them.
        if result.code not in _DEPENDENT or not fire_time or (first is not None and result == first):
            return _Outcome(refusal=Refusal(symbol, result.code.value, result.reason, True))
        first = first or result
    assert first is not None
    reason = (f"refused with every stand-in price tried, for example: {first.reason} "
              "(stand-in prices, not real ones; the market when it fires decides)")
    return _Outcome(refusal=Refusal(symbol, first.code.value, reason, False))


def _outcome(action: A.Action, prepared: Prepared, rules: InstrumentRules, symbol: str, stand: Stand,
             price: Decimal | None, direction: str | None, pc: PreviewContext) -> _Outcome:
    ctx = Described(action, rules, stand, direction, pc.reading)
    requests = [_params(r, rules, describe_request(ctx, r, after_fill=False), symbol, FIRE)
                for r in prepared.requests]
    notes: list[str] = [prepared.note] if prepared.note else []
    notes += action_notes(ctx, prepared.requests, pc.limits, pc.position_mode)
    after = prepared.after_fill
    order = next((r for r in prepared.requests if isinstance(r, PlaceOrder)), None)
    if after is not None and order is not None:
        fill = _assumed_fill(action, order, stand, price)
        entry = fill if fill is not None else Decimal(str(stand.stand_in))
        resolved = resolve_after_fill(after, rules, entry, order.qty)
        if isinstance(resolved, Rejection):
            notes.append(f"after the fill: {resolved.reason}")
        else:
            stage = AFTER_FILL if fill is None else f"{AFTER_FILL} (assuming it fills at {fill})"
            described = describe_request(ctx, resolved.requests[0], after_fill=True) if fill is None else {}
            requests += [_params(r, rules, described, symbol, stage) for r in resolved.requests]
    return _Outcome(tuple(requests), tuple(notes))


def _assumed_fill(action: A.Action, order: PlaceOrder, stand: Stand, price: Decimal | None) -> Decimal | None:
    """The fill price the preview may assume: the limit price when exact, else the sample price."""
    if not isinstance(action, A.Order):
        return None
    if order.order_type is OrderType.LIMIT and order.price is not None:
        return order.price if action.price is not None and evaluate(action.price, stand).exact else None
    return price


def preview_rule(analyzed: AnalyzedRule, pc: PreviewContext, sample: Sample) -> tuple[ActionPreview, ...]:
    """Preview every action of a checked rule for each symbol of its file, at its first firing."""
    name = analyzed.rule.name
    link_id = make_order_link_id(name, rule_text(analyzed), 1)
    direction = position_direction(analyzed.condition)
    previews: list[ActionPreview] = []
    for action in analyzed.actions:
        requests: list[RequestPreview] = []
        notes: list[str] = []
        refusals: list[Refusal] = []
        for symbol in pc.symbols:
            outcome = _preview_symbol(action, symbol, pc, sample, name, link_id, direction)
            requests += outcome.requests
            prefix = f"{symbol}: " if len(pc.symbols) > 1 else ""
            notes += [prefix + n for n in outcome.notes]
            if outcome.refusal is not None:
                refusals.append(outcome.refusal)
        if isinstance(action, (A.Order, A.Close)) and requests:
            notes.append(f"orderLinkId {link_id} is that of the rule's first firing; "
                         "the number after the last '-' counts its firings")
        previews.append(ActionPreview(_kind(action), tuple(requests), tuple(dict.fromkeys(notes)), tuple(refusals)))
    return tuple(previews)
