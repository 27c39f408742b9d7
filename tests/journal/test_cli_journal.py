"""`rulebot journal` end to end in-process, on a journal written by a real `rulebot backtest
--journal` run: listing, every filter, the formats, and one clear message with exit status 2 for
every bad input (issue 3, item 7)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bt_kit import BREAKOUT_RULES, HAND_BARS, MIN, T0, csv_text
from rulebot.cli import JournalKind, app
from rulebot.journal import EntryKind, Journal
from rulebot.journal.listing import (
    JournalQuery, ListingError, entries_table, format_time, parse_moment, read_listing,
)

runner = CliRunner()

# The hand-checked bars of tests/backtest: "breakout" buys at bar 2's open (106), its tp 10% is
# hit in bar 3; it buys again at bar 4 (110); "exit low" closes at bar 7's open; "too big" is
# refused each time.
BARS = HAND_BARS
RULES = BREAKOUT_RULES
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z  (fire|action|rejection|order|fill|event) ")


def _inputs(folder: Path) -> tuple[Path, Path]:
    rules = folder / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    data = folder / "bars.csv"
    data.write_text(csv_text(BARS), encoding="utf-8")
    return rules, data


@pytest.fixture(scope="module")
def backtest_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """A journal written by ``rulebot backtest --journal``, and that run's JSON document."""
    folder = tmp_path_factory.mktemp("bt")
    rules, data = _inputs(folder)
    journal = folder / "runs" / "bt.db"
    result = runner.invoke(app, ["backtest", str(rules), "--data", str(data), "--journal", str(journal), "--json"])
    assert result.exit_code == 0, result.stderr
    assert f"journal written to {journal}" in result.stderr
    return journal, json.loads(result.stdout)


@pytest.fixture()
def journal(backtest_run: tuple[Path, dict[str, object]]) -> Path:
    return backtest_run[0]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["journal", *args])
    return result.exit_code, result.stdout, result.stderr


def listed(journal: Path, *args: str) -> list[dict[str, object]]:
    code, out, err = run(str(journal), "--format", "json", "--limit", "0", *args)
    assert code == 0, err
    doc = json.loads(out)
    assert isinstance(doc, list)
    return doc


# -- what a backtest journals, listed ---------------------------------------------------------------


def test_the_journal_holds_what_the_backtest_reported(backtest_run: tuple[Path, dict[str, object]]) -> None:
    journal, doc = backtest_run
    entries = listed(journal)
    by_kind: dict[str, int] = {}
    for e in entries:
        by_kind[str(e["kind"])] = by_kind.get(str(e["kind"]), 0) + 1
    rules = {r["rule"]: r for r in doc["rules"]}  # type: ignore[union-attr, index]
    assert by_kind["fire"] == sum(r["fired"] for r in rules.values()) == 7
    assert by_kind["rejection"] == 3
    trades = doc["trades"]
    assert isinstance(trades, list) and len(trades) == 3
    assert by_kind["fill"] == 2 * len(trades)  # an entry and an exit each
    assert [e["summary"] for e in entries if e["kind"] == "event"] == ["start: files=1 rules=3",
                                                                       "stop: fired=7 rejected=3"]
    times = [int(e["ts_ms"]) for e in entries]  # type: ignore[call-overload]
    assert times == sorted(times) and times[0] == T0


def test_text_lines_are_oldest_first_with_utc_times(journal: Path) -> None:
    code, out, err = run(str(journal))
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 26 and err.strip() == "26 entries"
    assert all(LINE.match(line) for line in lines), lines
    assert lines[0].startswith("2024-01-01T00:00:00Z  event ")
    assert lines[-1].startswith("2024-01-01T00:10:00Z  event ") and lines[-1].endswith("stop: fired=7 rejected=3")
    # the first buy: fired, its action read as name=value, the order and its fill, in that order
    at_2 = [line for line in lines if line.startswith("2024-01-01T00:02:00Z") and "breakout" in line]
    assert [line.split()[1] for line in at_2] == ["fire", "action", "order", "fill"]
    assert "side=buy order_type=market qty=0.500" in at_2[1] and "tp_pct=10.0 sl_pct=10.0" in at_2[1]
    assert "buy 0.500 @ 106.0" in at_2[3]
    assert any("sell 0.500 @ 116.6" in line and "exit tp" in line for line in lines)


def test_filter_by_kind_and_by_several_kinds(journal: Path) -> None:
    fills = listed(journal, "--kind", "fill")
    assert [e["kind"] for e in fills] == ["fill"] * 6
    assert [e["fields"]["price"] for e in fills] == ["106.0", "116.6", "110.0", "100.9", "105.5", "105.8"]  # type: ignore[index]
    mixed = listed(journal, "-k", "rejection", "-k", "fill")
    assert {e["kind"] for e in mixed} == {"fill", "rejection"} and len(mixed) == 9
    keys = [(e["ts_ms"], list(EntryKind).index(EntryKind(e["kind"]))) for e in mixed]
    assert keys == sorted(keys)  # merged in time order, a rejection before a fill of the same moment


def test_filter_by_rule(journal: Path) -> None:
    entries = listed(journal, "--rule", "too big")
    assert {e["rule"] for e in entries} == {"too big"}
    assert [e["kind"] for e in entries] == ["fire", "rejection"] * 3
    assert "position would be 5 BTC" in str(entries[1]["summary"])
    assert listed(journal, "--rule", "no such rule") == []


def test_filter_by_symbol(journal: Path, tmp_path: Path) -> None:
    two = tmp_path / "two.db"
    shutil.copy(journal, two)
    with Journal(two) as j:
        # ETHUSDT's entries are the most recent ones, after the backtest's stop
        j.record_fire("eth", "ETHUSDT", 1, T0 + 20 * MIN, "close=2000")
        j.record_rejection("eth", "ETHUSDT", "max_open_orders 1 reached", "max_open_orders", T0 + 21 * MIN)
    btc = listed(two, "--symbol", "btcusdt")
    assert len(btc) == 24 and {e["symbol"] for e in btc} == {"BTCUSDT"}  # the 26 entries but the 2 events
    assert "event" not in {e["kind"] for e in btc}
    assert [e["kind"] for e in listed(two, "-s", "ETHUSDT")] == ["fire", "rejection"]
    code, out, err = run(str(two), "--symbol", "btcusdt", "--format", "json", "--limit", "2")
    assert code == 0 and "the last 2 matching entries" in err
    assert [(e["kind"], e["fields"]["price"]) for e in json.loads(out)] == [("fill", "105.5"), ("fill", "105.8")]


def test_filter_by_time_window(journal: Path) -> None:
    entries = listed(journal, "--since", "2024-01-01T00:04", "--until", "2024-01-01T00:09")
    assert entries and {e["time"] for e in entries} == {"2024-01-01T00:04:00Z", "2024-01-01T00:07:00Z"}
    with_offset = listed(journal, "--since", "2024-01-01T02:04+02:00", "--until", "2024-01-01T00:09Z")
    assert with_offset == entries
    # a span back from now: this journal is of 2024, nothing in it is from the last 2 hours
    code, out, err = run(str(journal), "--since", "2h")
    assert code == 0 and out == "" and "no entries match" in err


def test_limit_keeps_the_most_recent_and_says_so(journal: Path) -> None:
    code, out, err = run(str(journal), "--limit", "3")
    assert code == 0
    assert [line.split()[1] for line in out.splitlines()] == ["fill", "fill", "event"]
    assert "the last 3 matching entries" in err and "--limit 0" in err
    code, out, err = run(str(journal), "-n", "26")
    assert len(out.splitlines()) == 26 and err.strip() == "26 entries"


def test_json_entries_carry_exact_fields(journal: Path) -> None:
    orders = listed(journal, "--kind", "order", "--rule", "breakout")
    assert len(orders) == 3
    first = orders[0]
    assert set(first) == {"time", "ts_ms", "kind", "rule", "symbol", "summary", "fields"}
    assert first["time"] == format_time(int(first["ts_ms"])) == "2024-01-01T00:02:00Z"  # type: ignore[call-overload]
    fields = first["fields"]
    assert isinstance(fields, dict)
    assert fields["qty"] == "0.500" and fields["status"] == "filled" and fields["order_link_id"].startswith("rb-")
    actions = listed(journal, "--kind", "action", "--rule", "breakout")
    params = json.loads(actions[0]["fields"]["params"])  # type: ignore[index]
    assert params["qty"] == "0.500" and params["tp_pct"] == "10.0"


def test_a_terminal_gets_a_table(journal: Path) -> None:
    listing = read_listing(journal, JournalQuery(kinds=(EntryKind.REJECTION,)))
    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None).print(entries_table(listing.entries))
    text = buffer.getvalue()
    assert "time (UTC)" in text and text.count("too big") == 3 and "max_position" in text


def test_reading_never_changes_the_journal(journal: Path) -> None:
    before = hashlib.sha256(journal.read_bytes()).hexdigest()
    assert run(str(journal))[0] == 0
    assert hashlib.sha256(journal.read_bytes()).hexdigest() == before


def test_kind_choices_are_the_journal_kinds() -> None:
    assert [k.value for k in JournalKind] == [k.value for k in EntryKind]


def test_spans_and_times_are_read_in_utc() -> None:
    now = T0 + 10 * 86_400_000
    assert parse_moment("2h", "--since", now) == now - 7_200_000
    assert parse_moment("90m", "--since", now) == now - 90 * MIN
    assert parse_moment("1w", "--since", now) == T0 + 3 * 86_400_000
    assert parse_moment("2024-01-01", "--since", now) == T0
    assert parse_moment("2024-01-01T01:00+01:00", "--since", now) == T0
    for bad in ("yesterday", "2h ago", "5M", "", "2024-13-01"):
        with pytest.raises(ListingError, match="--since"):
            parse_moment(bad, "--since", now)
    assert format_time(T0 + 1) == "2024-01-01T00:00:00.001Z"


# -- bad input: one message, exit 2, never a traceback ------------------------------------------------


def _refused(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2, (out, err)
    assert out == ""
    assert err.startswith("error: ") and message in err, err
    assert "Traceback" not in err


def test_a_missing_file_or_a_folder(tmp_path: Path) -> None:
    _refused([str(tmp_path / "missing.db")], "missing.db: no such file")
    _refused([str(tmp_path)], "not a file")


def test_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    text = tmp_path / "rules.yaml"
    text.write_text(RULES, encoding="utf-8")
    _refused([str(text)], "is not a rulebot journal")
    binary = tmp_path / "noise.db"
    binary.write_bytes(bytes(range(256)) * 64)
    _refused([str(binary)], "is not a rulebot journal")


def test_an_sqlite_file_that_is_not_a_journal(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    _refused([str(empty)], "is not a rulebot journal")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE prices (ts INTEGER, close REAL)")
    conn.close()
    _refused([str(other)], "is not a rulebot journal")
    # the journal's version, but not its tables
    impostor = tmp_path / "impostor.db"
    with sqlite3.connect(impostor) as conn:
        conn.execute("CREATE TABLE fires (x TEXT)")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    _refused([str(impostor)], "is not a rulebot journal")


def test_a_journal_of_a_newer_rulebot(journal: Path, tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    shutil.copy(journal, newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    _refused([str(newer)], "journal schema version 99")
    _refused([str(newer)], "upgrade rulebot")


def test_bad_times_and_limits(journal: Path) -> None:
    _refused([str(journal), "--since", "yesterday"], "--since 'yesterday': expected a UTC time")
    _refused([str(journal), "--until", "2024-02-30"], "--until '2024-02-30'")
    _refused([str(journal), "--since", "2024-01-02", "--until", "2024-01-01"], "--since is not before --until")
    code, _, err = run(str(journal), "--limit", "-1")
    assert code == 2 and "Traceback" not in err
    code, _, err = run(str(journal), "--kind", "fired")
    assert code == 2 and "fire" in err and "Traceback" not in err
    _refused([str(journal), "--symbol", " "], "--symbol: a symbol like BTCUSDT")


def test_check_query_refuses_what_selects_nothing() -> None:
    with pytest.raises(ListingError, match="--limit"):
        read_listing(Path("unused.db"), JournalQuery(limit=0))


# -- backtest --journal -------------------------------------------------------------------------------


def test_backtest_never_writes_over_an_existing_file(journal: Path, tmp_path: Path) -> None:
    rules, data = _inputs(tmp_path)
    before = journal.read_bytes()
    result = runner.invoke(app, ["backtest", str(rules), "--data", str(data), "--journal", str(journal)])
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert journal.read_bytes() == before


def test_backtest_journal_is_one_run_not_a_sweep(tmp_path: Path) -> None:
    rules, data = _inputs(tmp_path)
    result = runner.invoke(app, ["backtest", str(rules), "--data", str(data), "--journal", str(tmp_path / "j.db"),
                                 "--vary", "x=1..2"])
    assert result.exit_code == 2 and "--journal keeps one run" in result.stderr
    assert not (tmp_path / "j.db").exists()


def test_backtest_journal_is_a_current_journal_the_api_reads(journal: Path) -> None:
    with Journal(journal, read_only=True) as j:
        assert len(j.entries(kind=EntryKind.ORDER)) == 4
        assert j.unfinished_orders() == []
