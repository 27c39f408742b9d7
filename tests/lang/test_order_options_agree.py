"""`fok` and a `tp`/`sl` in ticks need a limit order: lint refuses them on a market order (E212),
as the engine does at run time, and on a limit order the engine runs them (ticks measured from
the limit price), as `explain` shows. Lint and run time must agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rulebot.cli import app
from rulebot.lang.lint import analyze_text

runner = CliRunner()

HEAD = "symbol: BTCUSDT\nrisk:\n  max_position: 1\nrules:\n"
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
MIN = 60_000


def errors(then: str) -> list[tuple[str, str, int]]:
    """(code, message, column) of each error lint reports for a rule doing ``then``."""
    text = HEAD + f"  - when: position == 0\n    then: {then}\n    cooldown: 1m\n"
    return [(d.code, d.message, d.column) for d in analyze_text(text, "t.yaml").diagnostics if d.is_error]


@pytest.mark.parametrize("then", ["buy 0.01 market fok", "buy 0.01 fok", "sell 0.01 fok tp 2%",
                                  "buy 0.01 market fok reduce only"])
def test_fok_on_a_market_order_is_an_error(then: str) -> None:
    found = errors(then)
    assert [(code, message) for code, message, _ in found] == [("E212", "'fok' needs a limit order")]
    assert found[0][2] == len("    then: ") + then.index("fok") + 1


@pytest.mark.parametrize(("then", "what"), [
    ("buy 0.01 tp 10 ticks", ["take profit"]),
    ("sell 0.01 market sl 1 tick", ["stop loss"]),
    ("buy 0.01 market tp 10 ticks sl 5 ticks", ["take profit", "stop loss"]),
])
def test_tp_or_sl_in_ticks_on_a_market_order_is_an_error(then: str, what: list[str]) -> None:
    found = errors(then)
    assert [(code, message) for code, message, _ in found] == [("E212", f"a {w} in ticks needs a limit order")
                                                               for w in what]


@pytest.mark.parametrize("then", [
    "buy 0.01 limit bid1 fok",
    "buy 0.01 limit bid1 tp 10 ticks sl 5 ticks",
    "sell 0.01 limit ask1 fok tp 3 ticks",
    "buy 0.01 market tp 2% sl 1%",             # percents of a market order: from the fill price
    "buy 0.01 market tp ask1 + 10 ticks",      # a price that adds ticks is a price, not a distance
    "buy 0.01 market ioc",
    "buy 0.01 trail 5 ticks",
])
def test_the_forms_run_time_accepts_are_clean(then: str) -> None:
    assert errors(then) == []


def test_explain_reads_ticks_from_the_limit_price_as_the_engine_does(tmp_path: Path) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text(HEAD + "  - when: position == 0\n    then: buy 0.01 limit bid1 fok tp 10 ticks sl 5 ticks\n"
                     "    cooldown: 1m\n", encoding="utf-8")
    result = runner.invoke(app, ["explain", str(rules), "--price", "65000", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    action = json.loads(result.stdout)["rules"][0]["actions"][0]
    assert action["refusals"] == []
    params = action["requests"][0]["params"]
    assert (params["price"], params["timeInForce"]) == ("65000.00", "FOK")
    assert (params["takeProfit"], params["stopLoss"]) == ("65001.00", "64999.50")


def _bars_csv(path: Path) -> Path:
    bars = [(100.0, 101.0, 99.0, 100.0), (100.0, 106.0, 100.0, 106.0), (106.0, 107.0, 105.5, 107.0),
            (107.0, 108.0, 106.5, 107.5)]
    rows = ["timestamp,open,high,low,close,volume"]
    rows += [f"{T0 + i * MIN},{o},{h},{lo},{c},1" for i, (o, h, lo, c) in enumerate(bars)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _backtest(tmp_path: Path, then: str) -> tuple[int, str, str]:
    rules = tmp_path / "r.yaml"
    rules.write_text("symbol: BTCUSDT\ntimeframe: 1m\nrisk:\n  max_position: 1\nrules:\n"
                     f"  - name: entry\n    when: close > 105 and position is flat\n    then: {then}\n"
                     "    trigger: level\n", encoding="utf-8")
    journal = tmp_path / "j.db"
    result = runner.invoke(app, ["backtest", str(rules), "--data", str(_bars_csv(tmp_path / "b.csv")),
                                 "--journal", str(journal)])
    if result.exit_code != 0:
        return result.exit_code, "", result.stderr
    listing = runner.invoke(app, ["journal", str(journal), "--kind", "fill", "--kind", "rejection"])
    return result.exit_code, listing.stdout, result.stderr


def test_the_engine_runs_ticks_and_fok_on_a_limit_order(tmp_path: Path) -> None:
    # bought at 106 (the next open, the limit price): tp 10 ticks = 107.0, hit by that bar's high;
    # bought again at 107 (limit: that bar's close), out at 108.0 (10 ticks) by the last bar's high
    code, fills, err = _backtest(tmp_path, "buy 0.5 limit close fok tp 10 ticks sl 10 ticks")
    assert code == 0, err
    got = [(line.split()[4], line.split()[7], line.split()[-1]) for line in fills.splitlines()]
    assert [(side, price) for side, price, _ in got] == [("buy", "106.0"), ("sell", "107.0"),
                                                         ("buy", "107.0"), ("sell", "108.0")], fills
    assert [reason for _, _, reason in got][1::2] == ["tp", "tp"]


@pytest.mark.parametrize("then", ["buy 0.5 market fok", "buy 0.5 market tp 10 ticks"])
def test_a_backtest_refuses_the_market_forms_before_running(tmp_path: Path, then: str) -> None:
    code, _, err = _backtest(tmp_path, then)
    assert code == 1 and "E212" in err and "nothing run" in err
