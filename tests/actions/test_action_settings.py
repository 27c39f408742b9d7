"""`cancel`, `set ...`, `notify`, `pause`, `halt` through ``prepare``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from action_factories import BTC, INVERSE, NO_LIMITS, SPOT, account, hedge_account

from rulebot.actions import (
    AccountView,
    CancelIntent,
    CancelWhich,
    HaltIntent,
    NotifyIntent,
    OpenOrderView,
    PauseIntent,
    PositionSide,
    Prepared,
    PriceTarget,
    RejectCode,
    Rejection,
    SetLeverageIntent,
    SetMarginModeIntent,
    SetPositionModeIntent,
    SetTpslModeIntent,
    SetTradingStopIntent,
    Trail,
    TrailUnit,
    prepare,
)
from rulebot.model import (
    CancelAll,
    CancelOrder,
    InstrumentRules,
    MarginMode,
    PositionMode,
    SetLeverage,
    SetMarginMode,
    SetTpslMode,
    SetTradingStop,
    Side,
    SwitchPositionMode,
    TpslMode,
)

D = Decimal


def ok(intent: object, r: InstrumentRules = BTC, acc: AccountView | None = None,
       mode: PositionMode = PositionMode.ONEWAY, tpsl: TpslMode = TpslMode.FULL) -> Prepared:
    result = prepare(intent, r, acc or account(), NO_LIMITS, mode, tpsl_mode=tpsl)  # type: ignore[arg-type]
    assert isinstance(result, Prepared), result
    return result


def refused(intent: object, r: InstrumentRules = BTC, acc: AccountView | None = None,
            mode: PositionMode = PositionMode.ONEWAY) -> Rejection:
    result = prepare(intent, r, acc or account(), NO_LIMITS, mode)  # type: ignore[arg-type]
    assert isinstance(result, Rejection), result
    return result


ORDERS = (
    OpenOrderView(Side.BUY, 0.01, order_link_id="rb-aaaaaaaa-1"),
    OpenOrderView(Side.SELL, 0.01, order_link_id="rb-aaaaaaaa-2"),
    OpenOrderView(Side.BUY, 0.02, order_link_id="rb-aaaaaaaa-3"),
    OpenOrderView(Side.BUY, 0.02, order_link_id=""),  # placed by hand
)


def test_cancel_orders_is_one_cancel_all() -> None:
    assert ok(CancelIntent("BTCUSDT")).requests == (CancelAll("BTCUSDT"),)


def test_cancel_buys_cancels_each_buy_by_its_link_id() -> None:
    prepared = ok(CancelIntent("BTCUSDT", CancelWhich.BUYS), acc=account(orders=ORDERS))
    assert prepared.requests == (CancelOrder("BTCUSDT", "rb-aaaaaaaa-1"), CancelOrder("BTCUSDT", "rb-aaaaaaaa-3"))


def test_cancel_sells_with_none_open_sends_nothing() -> None:
    prepared = ok(CancelIntent("BTCUSDT", CancelWhich.SELLS))
    assert prepared.requests == () and prepared.note == "no open sells to cancel"


def test_leverage_is_set_for_both_sides_on_its_step() -> None:
    assert ok(SetLeverageIntent("BTCUSDT", 5.555)).requests == (SetLeverage("BTCUSDT", D("5.55"), D("5.55")),)


@pytest.mark.parametrize(("leverage", "reason"), [
    (0.5, "leverage 0.5 is below 1"),
    (150, "leverage 150 is above the maximum 100 for BTCUSDT"),
])
def test_leverage_out_of_range(leverage: float, reason: str) -> None:
    assert refused(SetLeverageIntent("BTCUSDT", leverage)).reason == reason


def test_leverage_boundary_passes() -> None:
    assert ok(SetLeverageIntent("BTCUSDT", 100)).requests == (SetLeverage("BTCUSDT", D("100.00"), D("100.00")),)


def test_spot_has_no_position_settings() -> None:
    for intent in (SetLeverageIntent("BTCUSDT", 2), SetMarginModeIntent("BTCUSDT", MarginMode.CROSS),
                   SetPositionModeIntent("BTCUSDT", PositionMode.HEDGE), SetTpslModeIntent("BTCUSDT", TpslMode.FULL),
                   SetTradingStopIntent("BTCUSDT", sl=PriceTarget.percent(0.01))):
        assert refused(intent, r=SPOT).code is RejectCode.NOT_SUPPORTED


def test_switching_position_mode() -> None:
    assert ok(SetPositionModeIntent("BTCUSDT", PositionMode.HEDGE)).requests == (
        SwitchPositionMode("BTCUSDT", PositionMode.HEDGE),
    )


def test_switching_to_the_current_mode_sends_nothing() -> None:
    prepared = ok(SetPositionModeIntent("BTCUSDT", PositionMode.HEDGE), mode=PositionMode.HEDGE)
    assert prepared.requests == () and prepared.note == "position mode is already hedge"


def test_switching_with_a_position_open_is_refused() -> None:
    rejection = refused(SetPositionModeIntent("BTCUSDT", PositionMode.HEDGE), acc=account(0.01))
    assert rejection.code is RejectCode.MODE_CHANGE_BLOCKED
    assert rejection.reason == "cannot switch to hedge mode with a position (0.01 long, 0 short) or 0 open orders"


def test_hedge_mode_is_for_linear_only() -> None:
    intent = SetPositionModeIntent("BTCUSD", PositionMode.HEDGE)
    assert refused(intent, r=INVERSE).reason == "hedge mode is only for USDT perpetuals (linear)"


def test_margin_and_tpsl_modes() -> None:
    assert ok(SetMarginModeIntent("BTCUSDT", MarginMode.ISOLATED)).requests == (
        SetMarginMode("BTCUSDT", MarginMode.ISOLATED),
    )
    assert ok(SetTpslModeIntent("BTCUSDT", TpslMode.PARTIAL)).requests == (SetTpslMode("BTCUSDT", TpslMode.PARTIAL),)


def test_set_stops_on_a_long_from_its_entry_price() -> None:
    intent = SetTradingStopIntent("BTCUSDT", tp=PriceTarget.percent(0.02), sl=PriceTarget.percent(0.01),
                                  trail=Trail(TrailUnit.PERCENT, 0.005))
    (stop,) = ok(intent, acc=account(0.01, entry=50_000.05)).requests
    assert stop == SetTradingStop("BTCUSDT", 0, D("51000.00"), D("49500.10"), D("250.00"), TpslMode.FULL)


def test_set_stops_on_a_short_are_mirrored() -> None:
    intent = SetTradingStopIntent("BTCUSDT", tp=PriceTarget.percent(0.02), sl=PriceTarget.price(51_000))
    (stop,) = ok(intent, acc=account(-0.01, entry=50_000)).requests
    assert isinstance(stop, SetTradingStop)
    assert (stop.take_profit, stop.stop_loss, stop.trailing_stop) == (D("49000.00"), D("51000.00"), None)


def test_a_stop_loss_above_a_long_entry_is_refused() -> None:
    rejection = refused(SetTradingStopIntent("BTCUSDT", sl=PriceTarget.price(51_000)), acc=account(0.01, entry=50_000))
    assert rejection.reason == "stop loss 51000 is not below the entry price 50000 for a long"


def test_set_stops_in_hedge_mode_sets_each_side() -> None:
    intent = SetTradingStopIntent("BTCUSDT", sl=PriceTarget.percent(0.01))
    acc = hedge_account(0.02, 0.03, long_entry=50_000, short_entry=60_000)
    long_stop, short_stop = ok(intent, acc=acc, mode=PositionMode.HEDGE).requests
    assert isinstance(long_stop, SetTradingStop) and isinstance(short_stop, SetTradingStop)
    assert (long_stop.position_idx, long_stop.stop_loss) == (1, D("49500.00"))
    assert (short_stop.position_idx, short_stop.stop_loss) == (2, D("60600.00"))
    only_short = SetTradingStopIntent("BTCUSDT", sl=PriceTarget.percent(0.01), side=PositionSide.SHORT)
    assert len(ok(only_short, acc=acc, mode=PositionMode.HEDGE).requests) == 1


def test_partial_mode_stops_carry_the_position_size() -> None:
    intent = SetTradingStopIntent("BTCUSDT", sl=PriceTarget.percent(0.01))
    (stop,) = ok(intent, acc=account(0.02, entry=50_000), tpsl=TpslMode.PARTIAL).requests
    assert isinstance(stop, SetTradingStop) and stop.size == D("0.020")


def test_set_stops_when_flat_sends_nothing() -> None:
    prepared = ok(SetTradingStopIntent("BTCUSDT", sl=PriceTarget.percent(0.01)))
    assert prepared.requests == () and prepared.note == "no open position to set stops on"


def test_set_stops_needs_something_to_set() -> None:
    assert refused(SetTradingStopIntent("BTCUSDT"), acc=account(0.01)).code is RejectCode.INVALID


def test_notify_pause_halt_send_no_requests() -> None:
    notify = ok(NotifyIntent("BTCUSDT", "funding high: 0.06%"))
    assert notify.requests == () and notify.action.kind == "notify"
    assert ok(PauseIntent("BTCUSDT", rule="dip")).action.kind == "pause"
    halt = ok(HaltIntent("BTCUSDT", reason="enough"))
    assert halt.requests == () and halt.action.kind == "halt"


def test_a_long_notification_is_cut_not_refused() -> None:
    prepared = ok(NotifyIntent("BTCUSDT", "x" * 10_000))
    assert prepared.action.kind == "notify" and len(prepared.action.text) == 4000
