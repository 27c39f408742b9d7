"""`rulebot backtest` end to end in-process: the JSON document, the tables, the report files, and
one clear message with the right exit status for every bad input (issue 4, "Bad input")."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bt_kit import BREAKOUT_RULES, HAND_BARS, MIN, T0, csv_text, write
from rulebot.cli import app

runner = CliRunner()

TOP_KEYS = {
    "schema": str, "symbols": list, "timeframe": str, "start": str, "end": str, "bars": int, "seconds": float,
    "bars_per_s": (float, type(None)), "initial_balance": float, "final_equity": float, "net_pnl": float,
    "return_pct": float, "fees": float, "max_drawdown": float, "max_drawdown_pct": float, "trades_count": int,
    "wins": int, "losses": int, "win_rate_pct": (float, type(None)), "profit_factor": (float, type(None)),
    "sharpe": (float, type(None)), "sortino": (float, type(None)), "exposure_pct": (float, type(None)),
    "rules": list, "trades": list, "equity_daily": list, "warnings": list,
}
TRADE_KEYS = {
    "symbol": str, "side": str, "qty": float, "entry_time": str, "entry_price": float, "exit_time": str,
    "exit_price": float, "pnl": float, "fee": float, "exit_reason": str, "rule": str,
    "tp": (float, type(None)), "sl": (float, type(None)),
}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")


@pytest.fixture()
def rules(tmp_path: Path) -> str:
    return str(write(tmp_path / "breakout.yaml", BREAKOUT_RULES))


def data_file(tmp_path: Path, text: str, name: str = "bars.csv") -> str:
    return str(write(tmp_path / name, text))


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["backtest", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_is_the_only_thing_on_stdout_with_every_documented_key(tmp_path: Path, rules: str) -> None:
    code, out, err = run(rules, "--data", data_file(tmp_path, csv_text(HAND_BARS)), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == set(TOP_KEYS)
    for key, kind in TOP_KEYS.items():
        assert isinstance(doc[key], kind), key
    assert doc["schema"] == "rulebot.backtest/1" and doc["symbols"] == ["BTCUSDT"] and doc["timeframe"] == "1m"
    assert ISO.match(doc["start"]) and ISO.match(doc["end"])
    assert doc["bars"] == len(HAND_BARS) and doc["trades_count"] == len(doc["trades"]) == 3
    for trade in doc["trades"]:
        assert set(trade) == set(TRADE_KEYS)
        for key, kind in TRADE_KEYS.items():
            assert isinstance(trade[key], kind), key
        assert ISO.match(trade["entry_time"]) and ISO.match(trade["exit_time"])
    assert [t["exit_reason"] for t in doc["trades"]] == ["tp", "rule", "end"]
    assert doc["trades"][0]["exit_time"] == "2024-01-01T00:03:30Z"
    assert doc["rules"][1] == {"rule": "too big", "fired": 3, "orders": 0,
                               "rejections": [{"reason": "max_position", "count": 3}]}
    assert doc["net_pnl"] == pytest.approx(sum(t["pnl"] for t in doc["trades"]))
    assert doc["equity_daily"] == [{"date": "2024-01-01", "equity": doc["final_equity"]}]
    assert doc["warnings"] == []


def test_the_tables_name_every_statistic_and_rule(tmp_path: Path, rules: str) -> None:
    code, out, err = run(rules, "--data", data_file(tmp_path, csv_text(HAND_BARS)))
    assert code == 0, err
    for label in ("Trades", "Win rate", "Net PnL", "Return", "Max drawdown", "Sharpe", "Sortino",
                  "Profit factor", "Exposure time", "Fees paid", "breakout", "too big", "exit low",
                  "max_position: 3"):
        assert label in out, label
    assert err == ""  # no terminal: no progress bar, and nothing to warn about
    # what was replayed is one line, however narrow the table below it
    heading = out.splitlines()[0]
    assert re.fullmatch(r"BTCUSDT 1m: \d+ bars, \S+Z to \S+Z", heading), heading


def test_report_and_plot_from_a_real_run(tmp_path: Path, rules: str) -> None:
    report, plot = tmp_path / "out" / "r.html", tmp_path / "out" / "p.png"
    code, _, err = run(rules, "--data", data_file(tmp_path, csv_text(HAND_BARS)), "--report", str(report),
                       "--plot", str(plot))
    assert code == 0, err
    page = report.read_text(encoding="utf-8")
    # plotly is inlined: the page opens offline, loading nothing
    assert not re.search(r"<script[^>]*\ssrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\shref\s*=\s*['\"]?https?:", page, re.IGNORECASE)
    assert len(page) > 1_000_000
    for trace in ("BTCUSDT candles", "take profit", "stop loss", "long entry", "exit", "equity",
                  "drawdown", "rule fires"):
        assert f'"name":"{trace}"' in page, trace
    assert "breakout" in page and "max_position" in page
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"report written to {report}" in err


# -- bad input: one clear message each, never a traceback --------------------------------------


def assert_one_message(err: str, *fragments: str) -> None:
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def test_missing_data_file_exits_2(tmp_path: Path, rules: str) -> None:
    code, out, err = run(rules, "--data", str(tmp_path / "nope.csv"))
    assert (code, out) == (2, "")
    assert_one_message(err, "nope.csv: no such file")


def test_missing_rule_file_exits_2(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path / "nope.yaml"), "--data", data_file(tmp_path, csv_text(HAND_BARS)))
    assert code == 2
    assert_one_message(err, "nope.yaml: no such file")


def test_wrong_columns_exit_2_naming_both_headers(tmp_path: Path, rules: str) -> None:
    text = csv_text(HAND_BARS).replace("timestamp,open", "time,open")
    code, _, err = run(rules, "--data", data_file(tmp_path, text))
    assert code == 2
    assert_one_message(err, "wrong columns", "expected timestamp,open,high,low,close,volume", "found time,open")


def test_a_non_numeric_cell_exits_2_with_its_line(tmp_path: Path, rules: str) -> None:
    lines = csv_text(HAND_BARS).splitlines()
    lines[4] = lines[4].replace(",106.0,", ",abc,", 1)
    code, _, err = run(rules, "--data", data_file(tmp_path, "\n".join(lines) + "\n"))
    assert code == 2
    assert_one_message(err, "not a number", "line 5", "'abc'", "damaged")


def test_unsorted_and_duplicate_timestamps_run_on_with_warnings(tmp_path: Path, rules: str) -> None:
    lines = csv_text(HAND_BARS).splitlines()
    body = lines[1:]
    body[3], body[4] = body[4], body[3]  # out of order
    body.insert(6, body[6])  # a duplicate
    code, out, err = run(rules, "--data", data_file(tmp_path, "\n".join([lines[0], *body]) + "\n"), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["bars"] == len(HAND_BARS) and doc["trades_count"] == 3  # the same run as the clean file
    warnings = " | ".join(doc["warnings"])
    assert "1 row out of time order (sorted)" in warnings
    assert "1 duplicate timestamp (the last row of each kept); first: 2024-01-01 00:06 UTC" in warnings
    assert_one_message(err, "warning", "out of time order", "duplicate timestamp")


def test_gaps_are_counted_and_the_run_goes_on(tmp_path: Path, rules: str) -> None:
    lines = csv_text(HAND_BARS).splitlines()
    del lines[6]  # bar 5 missing
    code, out, err = run(rules, "--data", data_file(tmp_path, "\n".join(lines) + "\n"), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["bars"] == len(HAND_BARS) - 1
    assert any("1 gap, 1 bar missing; first: 2024-01-01 00:05 UTC" in w for w in doc["warnings"])
    assert_one_message(err, "1 gap")


def test_a_date_range_without_data_exits_2_giving_the_data_range(tmp_path: Path, rules: str) -> None:
    code, _, err = run(rules, "--data", data_file(tmp_path, csv_text(HAND_BARS)), "--from", "2024-02-01")
    assert code == 2
    assert_one_message(err, "no bars from 2024-02-01 00:00 UTC on",
                       "the data runs from 2024-01-01 00:00 UTC to 2024-01-01 00:10 UTC")


def test_from_and_to_cut_the_range(tmp_path: Path, rules: str) -> None:
    code, out, err = run(rules, "--data", data_file(tmp_path, csv_text(HAND_BARS)), "--json",
                         "--from", "2024-01-01T00:02", "--to", "2024-01-01T00:08")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["start"], doc["end"], doc["bars"]) == ("2024-01-01T00:02:00Z", "2024-01-01T00:08:00Z", 6)


def test_lint_errors_exit_1_printed_as_lint_prints_them(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", BREAKOUT_RULES.replace("close < 101", "clsoe < 101"))
    code, out, err = run(str(bad), "--data", data_file(tmp_path, csv_text(HAND_BARS)), "--json")
    assert (code, out) == (1, "")
    assert re.search(r"bad\.yaml:\d+:\d+: error E\d+ ", err), err
    assert "clsoe" in err and "nothing run" in err
    assert_one_message(err)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--fee-taker", "abc"], "--fee-taker 'abc'"),
        (["--fee-maker", "0.02"], "write it with '%'"),
        (["--balance", "-5"], "above 0"),
        (["--from", "yesterday"], "--from 'yesterday'"),
        (["--from", "2024-01-02", "--to", "2024-01-01"], "is not before --to"),
        (["--oos", "30%"], "use it with --vary"),
        (["--timeframe", "7m"], "unknown timeframe '7m'"),
        (["--vary", "size"], "expected NAME=A..B step S"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, rules: str, args: list[str], fragment: str) -> None:
    code, out, err = run(rules, "--data", data_file(tmp_path, csv_text(HAND_BARS)), *args)
    assert (code, out) == (2, "")
    assert_one_message(err, fragment)


def test_no_data_option_exits_2(rules: str) -> None:
    code, _, err = run(rules)
    assert code == 2
    assert_one_message(err, "--data is required")


def test_timeframe_aggregates_finer_data(tmp_path: Path, rules: str) -> None:
    bars = [(100.0, 101.0, 99.0, 100.0 + (i % 7)) for i in range(30)]
    bars = [(o, max(h, c), lo, c) for o, h, lo, c in bars]
    five = str(write(tmp_path / "five.yaml", BREAKOUT_RULES.replace("timeframe: 1m", "timeframe: 5m")))
    code, out, err = run(five, "--data", data_file(tmp_path, csv_text(bars)), "--timeframe", "5m", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["timeframe"], doc["bars"]) == ("5m", 6)
    # rules on 1m bars cannot run on 5m data
    code, _, err = run(rules, "--data", data_file(tmp_path, csv_text(bars, step_ms=5 * MIN), "b5.csv"))
    assert code == 2
    assert_one_message(err, "the rules read 1m bars of BTCUSDT")


def test_gzipped_data_and_symbol_form(tmp_path: Path, rules: str) -> None:
    path = tmp_path / "bars.csv.gz"
    path.write_bytes(gzip.compress(csv_text(HAND_BARS).encode()))
    code, out, err = run(rules, "--data", f"BTCUSDT={path}", "--json")
    assert code == 0, err
    assert json.loads(out)["trades_count"] == 3
    code, _, err = run(rules, "--data", f"ETHUSDT={path}")
    assert code == 2
    assert_one_message(err, "no --data for BTCUSDT")


def test_an_unexpected_bug_is_one_line_and_exit_2(tmp_path: Path, rules: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import rulebot.backtest.command as command

    def broken(*_: object) -> None:
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(command, "run_command", broken)
    code, _, err = run(rules, "--data", data_file(tmp_path, csv_text(HAND_BARS)))
    assert code == 2
    assert err.strip().count("\n") == 0
    assert_one_message(err, "internal error", "ZeroDivisionError: float division by zero")


def test_trade_entry_times_are_bar_opens(tmp_path: Path, rules: str) -> None:
    code, out, _ = run(rules, "--data", data_file(tmp_path, csv_text(HAND_BARS)), "--json")
    doc = json.loads(out)
    assert doc["trades"][0]["entry_time"] == "2024-01-01T00:02:00Z"
    assert T0 + 2 * MIN == 1_704_067_320_000


def test_several_symbols_trade_one_account(tmp_path: Path) -> None:
    two = str(write(tmp_path / "two.yaml", BREAKOUT_RULES.replace("symbol: BTCUSDT", "symbol: [BTCUSDT, ETHUSDT]")
                    .replace("max_position: 1", "max_position: 1\n  max_open_orders: 4")))
    btc = data_file(tmp_path, csv_text(HAND_BARS), "btc.csv")
    eth = data_file(tmp_path, csv_text([(o * 2, h * 2, lo * 2, c * 2) for o, h, lo, c in HAND_BARS]), "eth.csv")
    code, out, err = run(two, "--data", f"BTCUSDT={btc}", "--data", f"ETHUSDT={eth}", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["symbols"] == ["BTCUSDT", "ETHUSDT"] and doc["bars"] == 2 * len(HAND_BARS)
    by_symbol = {s: [t for t in doc["trades"] if t["symbol"] == s] for s in doc["symbols"]}
    assert [t["exit_reason"] for t in by_symbol["BTCUSDT"]] == ["tp", "rule", "end"]
    # ETH's bars are BTC's doubled: close > 105 already at bar 0 (200), and never below 101
    assert [t["entry_price"] for t in by_symbol["ETHUSDT"]][:1] == [200.0]
    assert doc["net_pnl"] == pytest.approx(sum(t["pnl"] for t in doc["trades"]))
    code, _, err = run(two, "--data", btc)
    assert code == 2
    assert_one_message(err, "the rule files trade BTCUSDT, ETHUSDT: give each its data")


def test_a_plain_backtest_loads_no_scheduler_sweep_or_terminal_display() -> None:
    # Start-up cost: APScheduler (with asyncio and ssl) loads only for scheduled rules, the sweep
    # only with --vary, rich's tables and progress bar only when they are shown.
    code = (
        "import sys, rulebot.cli, rulebot.backtest.command\n"
        "print(sorted(m for m in ('apscheduler', 'asyncio', 'ssl', 'rulebot.backtest.sweep', 'rich.progress',"
        " 'rich.table') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
