"""`rulebot explain` end to end in-process: the text and JSON products on stdout, the summary and
errors on stderr, and the exit codes (0 explained, 1 lint errors, 2 could not run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rulebot.cli import app

ROOT = Path(__file__).resolve().parents[1]
RSI_DIP = str(ROOT / "examples" / "rsi_dip.yaml")
runner = CliRunner()


def write(tmp_path: Path, text: str, name: str = "rules.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_text_goes_to_stdout_and_the_summary_to_stderr() -> None:
    result = runner.invoke(app, ["explain", RSI_DIP])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "rule 1 of 2: buy the dip\n" in out
    assert ("  reading   buy 0.1 BTC with a market order when RSI(14) on 1-minute bars is below 30 and there "
            "is no position; then take profit 2% above the fill price and stop loss 1% below the fill price\n") in out
    assert "  triggers  on the close of each 1-minute bar of BTCUSDT\n" in out
    assert "  warm-up   needs 281 closed 1m bars of history at start\n" in out
    assert "        takeProfit   <2% above the fill price, rounded toward it to the tick 0.10>\n" in out
    assert "\x1b[" not in out  # no colours when stdout is not a terminal
    assert "explained" not in out
    assert result.stderr.strip() == "2 rules explained"


def test_json_is_one_object_per_file() -> None:
    result = runner.invoke(app, ["explain", RSI_DIP, "--format", "json", "--price", "65000"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {"file", "symbols", "sample", "rules"} <= set(doc)
    assert doc["symbols"] == ["BTCUSDT"] and doc["sample"]["prices"] == {"BTCUSDT": "65000"}
    buy, exit_rule = doc["rules"]
    assert {"name", "text", "reading", "triggers", "warmup", "offsets", "actions"} <= set(buy)
    assert "diagnostics" not in buy
    assert buy["warmup"] == [{"timeframe": "1m", "bars": 281, "text": "needs 281 closed 1m bars of history at start"}]
    (action,) = buy["actions"]
    assert action["kind"] == "buy"
    order, stops = action["requests"]
    assert order["method"] == "place_order" and order["params"]["qty"] == "0.100"
    assert order["params"]["reduceOnly"] is False and order["at_fire_time"] == {}
    assert stops["method"] == "set_trading_stop"
    assert stops["params"]["takeProfit"] == "66300.00" and stops["params"]["stopLoss"] == "64350.00"
    (close,) = exit_rule["actions"]
    assert close["kind"] == "close"
    assert close["requests"][0]["at_fire_time"] == {
        "qty": "the long position when it fires, rounded down to the step 0.001"}


def test_warnings_ride_with_their_rule_in_json(tmp_path: Path) -> None:
    path = write(tmp_path, "symbol: BTCUSDT\nrules:\n  - when rsi(14) < 30 then buy 0.01\n")
    result = runner.invoke(app, ["explain", path, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    (rule,) = json.loads(result.stdout)["rules"]
    assert sorted(d["code"] for d in rule["diagnostics"]) == ["W101", "W102"]
    assert "2 warnings" in result.stderr


def test_a_file_with_lint_errors_prints_them_and_exits_1(tmp_path: Path) -> None:
    path = write(tmp_path, "symbol: BTCUSDT\nrisk: {max_position: 1}\nrules:\n"
                           "  - when rsii(14) < 30 and position == 0 then buy 0.01\n")
    result = runner.invoke(app, ["explain", path])
    assert result.exit_code == 1
    assert f"{path}:4:10: error E203 unknown indicator 'rsii'" in result.stdout
    assert "= hint: did you mean 'rsi'?" in result.stdout
    assert "1 error" in result.stderr and "nothing explained" in result.stderr
    as_json = runner.invoke(app, ["explain", path, "--format", "json"])
    assert as_json.exit_code == 1
    assert [d["code"] for d in json.loads(as_json.stdout)] == ["E203"]


def test_a_file_that_is_not_text_is_a_lint_error(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00\x01symbol")
    result = runner.invoke(app, ["explain", str(path)])
    assert result.exit_code == 1
    assert "E101" in result.stdout


@pytest.mark.parametrize("target, message", [("missing.yaml", "no such file"), (".", "not a file")])
def test_a_path_that_cannot_be_read_exits_2(tmp_path: Path, target: str, message: str) -> None:
    result = runner.invoke(app, ["explain", str(tmp_path / target)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--price", "abc"], "--price must be a number, found 'abc'"),
    (["--price", "-5"], "--price must be above 0"),
    (["--price", "ETHUSDT=3000"], "the file trades BTCUSDT, not ETHUSDT"),
    (["--equity", "0"], "--equity must be above 0"),
])
def test_wrong_options_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["explain", RSI_DIP, *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_several_symbols_need_a_price_each(tmp_path: Path) -> None:
    path = write(tmp_path, "symbol: [BTCUSDT, ETHUSDT]\nrisk: {max_position: 1}\nrules:\n"
                           "  - when rsi(14) < 30 and position == 0 then buy 0.01 limit bid1\n")
    ambiguous = runner.invoke(app, ["explain", path, "--price", "100"])
    assert ambiguous.exit_code == 2 and "write --price BTCUSDT=100" in ambiguous.stderr
    both = runner.invoke(app, ["explain", path, "-f", "json", "--price", "btcusdt=64000", "--price", "ETHUSDT=3000"])
    assert both.exit_code == 0, both.stderr
    (action,) = json.loads(both.stdout)["rules"][0]["actions"]
    assert [(r["symbol"], r["params"]["price"]) for r in action["requests"]] == [
        ("BTCUSDT", "64000.00"), ("ETHUSDT", "3000.0000")]
