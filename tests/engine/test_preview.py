"""Action previews for `rulebot explain`: the exact Bybit parameters an action would send, through
the real action layer, with the values only known at fire time described rather than invented."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from rulebot.actions import (
    AccountView,
    OrderIntent,
    Prepared,
    PriceTarget,
    QtySpec,
    RiskLimits,
    make_order_link_id,
    prepare,
)
from rulebot.engine.preview import ActionPreview, Param, PreviewContext, RequestPreview, Sample, preview_rule
from rulebot.engine.samples import Stand, evaluate, position_direction
from rulebot.exchange.bybit.params import to_bybit_params
from rulebot.lang import ast as A
from rulebot.lang.explain import rule_text
from rulebot.lang.lint import FileAnalysis, analyze_file, analyze_text
from rulebot.lang.parser import parse
from rulebot.lang.source import Source
from rulebot.model import OrderType, PositionMode, Side
from rulebot.model.instruments import BTCUSDT_LINEAR

HEAD = "symbol: BTCUSDT\n{extra}risk:\n  max_position: 0.05\nrules:\n"


def analyzed(rule: str, extra: str = "") -> FileAnalysis:
    analysis = analyze_text(HEAD.format(extra=extra) + f"  - {rule}\n", "t.yaml")
    assert not analysis.has_errors, analysis.diagnostics
    return analysis


def previews(rule: str, price: str | None = None, extra: str = "") -> tuple[ActionPreview, ...]:
    analysis = analyzed(rule, extra)
    assert analysis.rule_file is not None
    sample = Sample({"BTCUSDT": Decimal(price)} if price else {})
    return preview_rule(analysis.rules[0], PreviewContext.for_file(analysis.rule_file), sample)


def params(request: RequestPreview) -> dict[str, object]:
    """Exact values by name; a described parameter shows as ``<words>``."""
    return {p.name: p.value if p.value is not None else f"<{p.described}>" for p in request.params}


def test_a_market_buy_is_exact_and_its_stops_wait_for_the_fill() -> None:
    (buy,) = previews("when rsi(14) < 30 and position == 0 then buy 0.01 market tp 2% sl 1%")
    order, stops = buy.requests
    link = make_order_link_id("rule 1", "when rsi(14) < 30 and position == 0 then buy 0.01 market tp 2% sl 1%", 1)
    assert (order.method, order.stage) == ("place_order", "when the rule fires")
    assert params(order) == {
        "category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.010",
        "timeInForce": "IOC", "positionIdx": 0, "orderLinkId": link, "reduceOnly": False,
    }
    assert (stops.method, stops.stage) == ("set_trading_stop", "after the fill")
    assert params(stops) == {
        "category": "linear", "symbol": "BTCUSDT",
        "takeProfit": "<2% above the fill price, rounded toward it to the tick 0.10>",
        "stopLoss": "<1% below the fill price, rounded toward it to the tick 0.10>",
        "tpslMode": "Full", "positionIdx": 0,
    }
    assert buy.refusals == ()


def test_with_a_sample_price_the_stops_after_the_fill_are_numbers() -> None:
    (buy,) = previews("when rsi(14) < 30 and position == 0 then buy 0.01 market tp 2% sl 1%", price="65000")
    stops = buy.requests[1]
    assert stops.stage == "after the fill (assuming it fills at 65000)"
    assert params(stops)["takeProfit"] == "66300.00"
    assert params(stops)["stopLoss"] == "64350.00"


def test_a_limit_at_the_best_bid_is_described_without_a_price_and_rounded_with_one() -> None:
    rule = "when rsi(14) < 30 and position == 0 then buy 0.01 limit bid1 tp 2% trail 1%"
    (described,) = previews(rule)
    order = params(described.requests[0])
    assert order["price"] == "<the best bid when it fires, rounded down to the tick 0.10>"
    assert order["takeProfit"] == "<2% above the limit price, rounded toward it to the tick 0.10>"
    assert order["qty"] == "0.010"
    assert params(described.requests[1])["trailingStop"] == (
        "<1% of the entry price after the fill, rounded down to the tick 0.10 (at least one tick)>")
    (exact,) = previews(rule, price="64000.05")
    order = params(exact.requests[0])
    assert (order["price"], order["takeProfit"]) == ("64000.00", "65280.00")
    assert exact.requests[1].stage == "after the fill (assuming it fills at 64000.00)"
    assert params(exact.requests[1])["trailingStop"] == "640.00"


def test_the_preview_sends_what_the_action_layer_makes_of_the_same_intent() -> None:
    rule = "when position == 0 then sell 0.02 limit ask1 + 2 ticks sl 2%"
    (sell,) = previews(rule, price="64000")
    link = make_order_link_id("rule 1", rule, 1)
    intent = OrderIntent("BTCUSDT", Side.SELL, QtySpec.base(0.02), OrderType.LIMIT, price=64000.3,
                         sl=PriceTarget.percent(0.02), rule="rule 1", seq=1)
    account = AccountView.one_way(position=0.0, entry_price=None, equity=10000, balance=10000, available=10000,
                                  mark_price=64000, now_ms=0, equity_at_midnight=10000)
    direct = prepare(intent, BTCUSDT_LINEAR, account, RiskLimits(max_position=Decimal("0.05")),
                     PositionMode.ONEWAY, link)
    assert isinstance(direct, Prepared), direct
    expected = to_bybit_params(direct.requests[0], BTCUSDT_LINEAR.category, BTCUSDT_LINEAR)
    assert params(sell.requests[0]) == expected
    assert expected["price"] == "64000.30" and expected["stopLoss"] == "65280.30"


def test_an_order_value_is_converted_at_the_sample_price_or_described() -> None:
    rule = "when position == 0 then buy 100 usdt market"
    (exact,) = previews(rule, price="64000")
    assert params(exact.requests[0])["qty"] == "0.001"  # 100 / 64000 = 0.00156 rounded down
    (described,) = previews(rule)
    assert params(described.requests[0])["qty"] == (
        "<100 USDT ÷ the mark price when it fires, rounded down to the step 0.001>")
    assert any("the minimum order value (5 USDT)" in n for n in described.notes)


def test_an_indicator_price_stays_described_even_with_a_sample_price() -> None:
    (buy,) = previews("when position == 0 then buy 100 usdt limit ema(20) - 0.1% post only", price="64000")
    order = params(buy.requests[0])
    assert order["price"] == "<0.1% below the 20-bar EMA on 1-minute bars when it fires, rounded down to the tick 0.10>"
    assert order["qty"] == "<100 USDT ÷ the limit price, rounded down to the step 0.001>"
    assert order["timeInForce"] == "PostOnly"


@pytest.mark.parametrize("price", [None, "64000"])
def test_refusals_that_do_not_depend_on_the_market_are_certain(price: str | None) -> None:
    (big,) = previews("when position == 0 then buy 1 market", price=price)
    assert big.requests == ()
    (refusal,) = big.refusals
    assert (refusal.code, refusal.certain) == ("max_position", True)
    assert refusal.reason == "position would be 1 BTC (now 0, this order 1), above max_position 0.05"
    (tiny,) = previews("when position == 0 then buy 0.0001 market", price=price)
    assert [(r.code, r.certain) for r in tiny.refusals] == [("below_min_qty", True)]


def test_a_refusal_that_depends_on_fire_time_values_is_not_certain() -> None:
    # for a short, a stop below the close is on the wrong side whatever the prices turn out to be,
    # but the numbers in the message are stand-ins: the preview says so
    (sell, _) = previews("when position == 0 then sell 0.01 market sl close - 2 * atr(20), halt", price="64000")
    (refusal,) = sell.refusals
    assert (refusal.code, refusal.certain) == ("bad_target", False)
    assert "stand-in prices, not real ones" in refusal.reason


def test_a_close_takes_its_side_from_the_condition_or_describes_it() -> None:
    (known,) = previews("when position > 0 then close 50% limit ask1 + 2 ticks", price="64000")
    order = params(known.requests[0])
    assert (order["side"], order["reduceOnly"], order["price"]) == ("Sell", True, "64000.30")
    assert order["qty"] == "<50% of the long position when it fires, rounded down to the step 0.001>"
    assert "sends nothing when there is no position" in known.notes
    (unknown,) = previews("when spread_pct > 1% then close market")
    order = params(unknown.requests[0])
    assert order["side"] == "<Sell when the position is long, Buy when it is short>"
    assert order["qty"] == "<the position when it fires, rounded down to the step 0.001>"


def test_a_hedge_mode_close_sends_one_order_per_side() -> None:
    (close,) = previews("when rsi(14) > 70 then close market", extra="settings: {position_mode: hedge}\n")
    link = make_order_link_id("rule 1", "when rsi(14) > 70 then close market", 1)
    assert [(params(r)["side"], params(r)["positionIdx"], params(r)["orderLinkId"]) for r in close.requests] == [
        ("Sell", 1, f"{link}-L"), ("Buy", 2, f"{link}-S")]


def test_settings_cancels_and_position_stops() -> None:
    rule = ("when position != 0 then set leverage 3, set mode hedge, set mode oneway, set margin cross, "
            "set tpsl partial, cancel orders, cancel buys, set trail 5 ticks, set sl 1%")
    lev, hedge, oneway, margin, tpsl, cancel_all, cancel_buys, trail, sl = previews(rule)
    assert params(lev.requests[0]) == {"category": "linear", "symbol": "BTCUSDT", "buyLeverage": "3",
                                       "sellLeverage": "3"}
    assert (hedge.requests[0].method, params(hedge.requests[0])["mode"]) == ("switch_position_mode", 3)
    assert oneway.requests == () and oneway.notes == ("position mode is already oneway",)
    assert params(margin.requests[0]) == {"setMarginMode": "REGULAR_MARGIN"}
    assert params(tpsl.requests[0])["tpSlMode"] == "Partial"
    assert (cancel_all.requests[0].method, params(cancel_all.requests[0])) == (
        "cancel_all_orders", {"category": "linear", "symbol": "BTCUSDT"})
    assert cancel_buys.requests[0].method == "cancel_order"
    assert params(cancel_buys.requests[0])["orderLinkId"] == (
        "<the orderLinkId of each open buy order when it fires (orders without one are left alone)>")
    assert params(trail.requests[0])["trailingStop"] == "0.50"
    assert params(sl.requests[0])["stopLoss"] == (
        "<1% below the entry price for a long, 1% above it for a short, rounded toward it to the tick 0.10>")


def test_actions_without_requests_say_what_they_do() -> None:
    notify, pause, halt = previews('when rsi(14) > 70 then notify "hot {rsi(14)}", pause, halt')
    assert all(a.requests == () and a.refusals == () for a in (notify, pause, halt))
    assert notify.notes == ('no request: sends "hot {rsi(14)}" to the log and every configured notifier, '
                            "with each {…} filled in when it fires",)
    assert pause.notes == ("no request: the engine blocks this rule until it is edited or resumed",)
    assert halt.notes[0].startswith("no request of its own: the engine blocks every rule of the file")


def test_spot_has_no_leverage() -> None:
    analysis = analyze_text("symbol: ETHUSDT\ncategory: spot\nrules:\n  - every: 1h\n    then: set margin cross\n",
                            "t.yaml")
    assert analysis.rule_file is not None and not analysis.has_errors
    (margin,) = preview_rule(analysis.rules[0], PreviewContext.for_file(analysis.rule_file), Sample())
    assert [(r.code, r.certain) for r in margin.refusals] == [("not_supported", True)]


def test_sample_values_are_exact_only_where_the_sample_decides_them() -> None:
    def value(text: str, price: float | None) -> tuple[float, bool]:
        node = parse(Source.contiguous("t", text), "condition").node
        assert node is not None and not isinstance(node, (tuple, A.RuleBody))
        sampled = evaluate(node, Stand(price, 1000.0, 0.1))
        return round(sampled.value, 6), sampled.exact
    assert value("ask1 + 2 ticks", 100.0) == (100.3, True)
    assert value("bid1 - 1%", 100.0) == (99.0, True)
    assert value("mid", 100.0) == (100.05, True)
    assert value("close(5m)", 100.0) == (100.0, True)
    assert value("close[1]", 100.0)[1] is False
    assert value("ema(20)", 100.0) == (1000.0, False)
    assert value("bid1", None) == (1000.0, False)
    assert value("64000", None) == (64000.0, True)


@pytest.mark.parametrize("text, direction", [
    ("position > 0 and rsi(14) > 70", "long"), ("position is short", "short"), ("0 > position", "short"),
    ("long_size > 0", "long"), ("position != 0", None), ("position > 0 or position < 0", None),
])
def test_the_side_a_condition_requires(text: str, direction: str | None) -> None:
    node = parse(Source.contiguous("t", text), "condition").node
    assert node is not None and not isinstance(node, (tuple, A.RuleBody))
    assert position_direction(node) == direction


@pytest.mark.parametrize("price", [None, "100", "64000"])
def test_every_example_previews_with_values_or_words(price: str | None) -> None:
    for path in sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml")):
        analysis = analyze_file(path)
        assert analysis.rule_file is not None
        pc = PreviewContext.for_file(analysis.rule_file)
        sample = Sample({s: Decimal(price) for s in pc.symbols} if price else {})
        for rule in analysis.rules:
            for action in preview_rule(rule, pc, sample):
                assert action.requests or action.refusals or action.notes, (path, rule.rule.name)
                for request in action.requests:
                    assert all(isinstance(p, Param) and (p.value is not None or p.described) for p in request.params)
                    if request.method == "place_order":
                        assert dict((p.name, p.value) for p in request.params)["orderLinkId"].startswith(
                            make_order_link_id(rule.rule.name, rule_text(rule), 1))
