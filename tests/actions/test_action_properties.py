"""Property tests: random intents only ever give a ``Prepared`` or a typed ``Rejection``, and what is
prepared is always on the tick and step, never below the minimums, within the risk limits."""

from __future__ import annotations

from decimal import Decimal

from action_factories import NOW_MS, rules
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.actions import (
    AccountView,
    CancelIntent,
    CancelWhich,
    CloseIntent,
    OpenOrderView,
    OrderIntent,
    PositionSide,
    Prepared,
    PriceTarget,
    QtySpec,
    QtyUnit,
    RejectCode,
    Rejection,
    RiskLimits,
    SetLeverageIntent,
    SetTradingStopIntent,
    Trail,
    TrailUnit,
    prepare,
    resolve_after_fill,
)
from rulebot.actions.instruments import is_on_step, order_value
from rulebot.model import (
    Category,
    InstrumentRules,
    OrderType,
    PlaceOrder,
    PositionMode,
    SetLeverage,
    SetTradingStop,
    Side,
    TimeInForce,
    TpslMode,
)

D = Decimal

sane = st.floats(min_value=1e-4, max_value=2e5, allow_nan=False)
wild = st.one_of(sane, st.floats(), st.sampled_from([0.0, -1.0, 1e-12, 1e300]))
maybe = st.one_of(st.none(), wild)
LEVEL = 50_000.0  # the market price every test draws around; wild values stray from it


def mostly(good: st.SearchStrategy[object], bad: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """``good`` about 19 times in 20, otherwise ``bad``."""
    return st.integers(0, 19).flatmap(lambda i: bad if i == 0 else good)


near = st.floats(min_value=LEVEL * 0.95, max_value=LEVEL * 1.05)
fraction = st.floats(min_value=0.0005, max_value=0.2)


@st.composite
def instrument(draw: st.DrawFn) -> InstrumentRules:
    tick = draw(st.sampled_from([D("0.1"), D("0.5"), D("0.01"), D("0.0001"), D("1")]))
    step = draw(st.sampled_from([D("0.001"), D("0.001"), D("0.01"), D("0.1"), D("1")]))
    category = draw(st.sampled_from([Category.LINEAR] * 3 + [Category.SPOT, Category.INVERSE]))
    return rules(
        tick_size=tick, qty_step=step, min_order_qty=step * draw(st.integers(1, 3)),
        min_notional=D(draw(st.sampled_from(["0", "5", "100"]))), category=category,
        quote_coin="USD" if category is Category.INVERSE else "USDT",
        settle_coin="BTC" if category is Category.INVERSE else "USDT",
    )


@st.composite
def accounts(draw: st.DrawFn) -> AccountView:
    orders = tuple(
        OpenOrderView(draw(st.sampled_from(Side)), draw(st.floats(0.001, 1)), draw(st.booleans()),
                      f"rb-abcdef01-{i}", draw(st.sampled_from([0, 1, 2])))
        for i in range(draw(st.integers(0, 4)))
    )
    equity = draw(mostly(st.floats(1_000, 1e6), wild))
    size = st.one_of(st.just(0.0), st.floats(0.001, 2))
    return AccountView(
        equity=equity, balance=draw(mostly(st.floats(1_000, 1e6), wild)),
        available=draw(mostly(st.floats(1_000, 1e6), wild)), mark_price=draw(mostly(near, maybe)), now_ms=NOW_MS,
        equity_at_midnight=draw(mostly(st.just(equity), wild)), realised_pnl_today=draw(st.floats(-1e4, 1e4)),
        long_size=draw(size), long_entry=draw(mostly(near, maybe)),
        short_size=draw(size), short_entry=draw(mostly(near, maybe)), open_orders=orders,
        recent_order_ms=tuple(NOW_MS - draw(st.integers(0, 120_000)) for _ in range(draw(st.integers(0, 12)))),
    )


qty_specs = st.one_of(
    st.builds(QtySpec.base, mostly(st.floats(0.0001, 2), wild)),
    st.builds(QtySpec.money, mostly(st.floats(1, 1e5), wild), mostly(st.sampled_from(["usdt", "usd"]), st.just("eth"))),
    st.builds(QtySpec.money, mostly(st.floats(0.0001, 2), wild), st.just("btc")),
    st.builds(QtySpec.share, mostly(fraction, wild), st.sampled_from([QtyUnit.EQUITY, QtyUnit.BALANCE,
                                                                      QtyUnit.AVAILABLE])),
)
targets = st.one_of(
    st.none(), st.none(), st.builds(PriceTarget.price, mostly(near, wild)),
    st.builds(PriceTarget.percent, mostly(fraction, wild)),
)
trails = st.one_of(
    st.none(), st.none(), st.none(), st.builds(Trail, st.sampled_from(TrailUnit), mostly(fraction, wild)),
)
symbols = mostly(st.just("BTCUSDT"), st.sampled_from(["btcusdt", "ETHUSDT"]))


@st.composite
def order_intents(draw: st.DrawFn) -> OrderIntent:
    order_type = draw(st.sampled_from(OrderType))
    good_price = near if order_type is OrderType.LIMIT else st.none()
    return OrderIntent(
        symbol=draw(symbols), side=draw(st.sampled_from(Side)), qty=draw(qty_specs), order_type=order_type,
        price=draw(mostly(good_price, maybe)), tp=draw(targets), sl=draw(targets), trail=draw(trails),
        post_only=draw(mostly(st.just(False), st.booleans())),
        tif=draw(mostly(st.just(TimeInForce.GTC), st.sampled_from(TimeInForce))),
        reduce_only=draw(mostly(st.just(False), st.booleans())), expire_s=draw(mostly(st.none(), maybe)),
        tag=draw(st.text(max_size=20)),
    )


other_intents = st.one_of(
    st.builds(CloseIntent, symbols, st.sampled_from([None, *PositionSide]), mostly(st.floats(0.01, 1), wild),
              st.just(OrderType.MARKET), mostly(st.none(), wild)),
    st.builds(CloseIntent, symbols, st.sampled_from([None, *PositionSide]), mostly(st.floats(0.01, 1), wild),
              st.just(OrderType.LIMIT), mostly(near, maybe)),
    st.builds(CancelIntent, symbols, st.sampled_from(CancelWhich)),
    st.builds(SetLeverageIntent, symbols, mostly(st.floats(1, 100), wild)),
    st.builds(SetTradingStopIntent, symbols, targets, targets, trails, st.sampled_from([None, *PositionSide])),
)
limits = st.builds(
    RiskLimits.from_config,
    st.fixed_dictionaries({}, optional={
        "max_position": st.sampled_from([0.05, 1, 1000]),
        "max_order_value": st.sampled_from(["5000 usdt", "100", "1e9"]),
        "max_open_orders": st.integers(0, 6),
        "max_orders_per_minute": st.integers(0, 12),
        "max_daily_loss": st.sampled_from(["3%", "300 usdt"]),
        "price_band": st.sampled_from(["1%", "10%"]),
    }),
)


def _check_order(r: InstrumentRules, order: PlaceOrder, acc: AccountView, lim: RiskLimits) -> None:
    assert is_on_step(order.qty, r.qty_step)
    assert r.min_order_qty <= order.qty <= r.max_order_qty
    for price in (order.price, order.take_profit, order.stop_loss, order.trailing_stop):
        assert price is None or (price > 0 and is_on_step(price, r.tick_size))
    value_price = order.price if order.price is not None else (
        D(str(acc.mark_price)) if acc.mark_price is not None else None)
    if not order.reduce_only:
        assert value_price is not None
        assert order_value(r, order.qty, value_price) >= r.min_notional
        if lim.max_order_value is not None:
            assert order_value(r, order.qty, value_price) <= lim.max_order_value.amount
    if order.price is not None:
        sign = order.side.sign
        assert order.take_profit is None or (order.take_profit - order.price) * sign > 0
        assert order.stop_loss is None or (order.price - order.stop_loss) * sign > 0
        if lim.price_band is not None and acc.mark_price is not None:
            mark = D(str(acc.mark_price))
            assert abs(order.price - mark) <= lim.price_band.fraction * mark


def _check(r: InstrumentRules, result: Prepared | Rejection, acc: AccountView, lim: RiskLimits) -> None:
    if isinstance(result, Rejection):
        assert isinstance(result.code, RejectCode) and result.reason
        assert result.halt == (result.code is RejectCode.MAX_DAILY_LOSS)
        return
    assert isinstance(result, Prepared)
    for request in result.requests:
        if isinstance(request, PlaceOrder):
            _check_order(r, request, acc, lim)
        if isinstance(request, SetTradingStop):
            for price in (request.take_profit, request.stop_loss):
                assert price is None or (price > 0 and is_on_step(price, r.tick_size))
            assert request.trailing_stop is None or (
                request.trailing_stop >= r.tick_size and is_on_step(request.trailing_stop, r.tick_size))
        if isinstance(request, SetLeverage):
            assert 1 <= request.buy_leverage <= r.max_leverage


@settings(max_examples=300, deadline=None)
@given(r=instrument(), acc=accounts(), lim=limits, intent=order_intents(), mode=st.sampled_from(PositionMode))
def test_random_orders_are_prepared_correctly_or_refused(
    r: InstrumentRules, acc: AccountView, lim: RiskLimits, intent: OrderIntent, mode: PositionMode
) -> None:
    result = prepare(intent, r, acc, lim, mode, "rb-0123abcd-9")
    _check(r, result, acc, lim)
    if isinstance(result, Prepared) and intent.order_type is OrderType.LIMIT:
        (order,) = result.requests
        assert isinstance(order, PlaceOrder) and order.price is not None and intent.price is not None
        requested = D(str(intent.price))
        assert (order.price <= requested) if intent.side is Side.BUY else (order.price >= requested)
    if isinstance(result, Prepared) and result.after_fill is not None:
        fill = acc.mark_price if acc.mark_price is not None else 1.0
        _check(r, resolve_after_fill(result.after_fill, r, fill, 1.0), acc, lim)


@settings(max_examples=300, deadline=None)
@given(r=instrument(), acc=accounts(), lim=limits, intent=other_intents, mode=st.sampled_from(PositionMode),
       tpsl=st.sampled_from(TpslMode))
def test_random_other_actions_are_prepared_correctly_or_refused(
    r: InstrumentRules, acc: AccountView, lim: RiskLimits, intent: object, mode: PositionMode, tpsl: TpslMode
) -> None:
    result = prepare(intent, r, acc, lim, mode, "rb-0123abcd-9", tpsl_mode=tpsl)  # type: ignore[arg-type]
    _check(r, result, acc, lim)


@settings(max_examples=200, deadline=None)
@given(intent=order_intents())
def test_an_order_never_rounds_to_nothing_silently(intent: OrderIntent) -> None:
    acc = AccountView.one_way(position=0.0, entry_price=None, equity=1e4, balance=1e4, available=1e4,
                              mark_price=64_000.0, now_ms=NOW_MS, equity_at_midnight=1e4)
    r = rules()
    result = prepare(intent, r, acc, RiskLimits(), PositionMode.ONEWAY, "rb-0123abcd-9")
    if isinstance(result, Prepared):
        (order,) = result.requests
        assert isinstance(order, PlaceOrder) and order.qty >= r.min_order_qty


@st.composite
def well_formed(draw: st.DrawFn) -> tuple[InstrumentRules, OrderIntent]:
    r = rules(tick_size=draw(st.sampled_from([D("0.1"), D("0.5"), D("0.01"), D("1")])),
              qty_step=draw(st.sampled_from([D("0.001"), D("0.01")])))
    order_type = draw(st.sampled_from(OrderType))
    percent = st.builds(PriceTarget.percent, st.floats(0.001, 0.5))
    intent = OrderIntent(
        "BTCUSDT", draw(st.sampled_from(Side)), QtySpec.base(draw(st.floats(0.01, 10))), order_type,
        price=draw(near) if order_type is OrderType.LIMIT else None,
        tp=draw(st.one_of(st.none(), percent)), sl=draw(st.one_of(st.none(), percent)),
        trail=draw(st.one_of(st.none(), st.builds(Trail, st.sampled_from(TrailUnit), st.floats(0.001, 0.05)))),
        post_only=order_type is OrderType.LIMIT and draw(st.booleans()),
    )
    return r, intent


@settings(max_examples=200, deadline=None)
@given(case=well_formed(), fill=near)
def test_well_formed_orders_are_accepted_on_tick_and_step(
    case: tuple[InstrumentRules, OrderIntent], fill: float
) -> None:
    r, intent = case
    acc = AccountView.one_way(position=0.0, entry_price=None, equity=1e6, balance=1e6, available=1e6,
                              mark_price=LEVEL, now_ms=NOW_MS, equity_at_midnight=1e6)
    result = prepare(intent, r, acc, RiskLimits(), PositionMode.ONEWAY, "rb-0123abcd-9")
    assert isinstance(result, Prepared), result
    _check(r, result, acc, RiskLimits())
    (order,) = result.requests
    assert isinstance(order, PlaceOrder)
    requested = D(str(intent.qty.amount))
    assert requested - r.qty_step < order.qty <= requested  # rounded down, by less than a step
    if result.after_fill is not None:
        stop = resolve_after_fill(result.after_fill, r, fill, 1.0)
        assert isinstance(stop, Prepared), stop
        _check(r, stop, acc, RiskLimits())
        (request,) = stop.requests
        assert isinstance(request, SetTradingStop)
        sign = intent.side.sign
        assert request.take_profit is None or (request.take_profit - D(str(fill))) * sign > 0
        assert request.stop_loss is None or (D(str(fill)) - request.stop_loss) * sign > 0
