"""`rulebot data fetch`: paging, resuming, atomic writes and the command itself, with the real
pybit client downloading real candles from a test double of Bybit's /v5/market/kline."""

from __future__ import annotations

import gzip
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pybit.unified_trading import HTTP
from typer.testing import CliRunner

from rulebot.backtest.fetch import (
    HEADER,
    DownloadStopped,
    FetchError,
    FetchProgress,
    FetchRequest,
    FetchResult,
    NoCandles,
    download,
    parse_utc,
    resolve_window,
)
from rulebot.cli import app
from rulebot.exchange.bybit.market_data import RetryPolicy, UnknownSymbol, kline_session
from rulebot.exchange.errors import ExchangeUnavailable
from rulebot.model.clock import SimClock
from rulebot.model.enums import Category

# the kline test double lives in tests/support, shared with tests/exchange
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from kline_server import SOURCE_CSV, Candle, Fault, KlineServer, load_candles  # noqa: E402

pytestmark = pytest.mark.skipif(not SOURCE_CSV.is_file(), reason="the shared kline data is not here")

MINUTE = 60_000
DAY = 1440 * MINUTE
SMALL = 5000  # rows served by most tests: five pages


def _line(c: Candle) -> str:
    return f"{c.start_ms},{c.open},{c.high},{c.low},{c.close},{c.volume}\n"


def _csv(candles: tuple[Candle, ...] | list[Candle]) -> str:
    return HEADER + "\n" + "".join(_line(c) for c in candles)


@pytest.fixture(scope="module")
def all_candles() -> tuple[Candle, ...]:
    return load_candles()


@pytest.fixture(scope="module")
def candles(all_candles: tuple[Candle, ...]) -> tuple[Candle, ...]:
    return all_candles[:SMALL]


@pytest.fixture
def server(candles: tuple[Candle, ...]) -> Iterator[KlineServer]:
    with KlineServer(candles) as srv:
        yield srv


@pytest.fixture
def http(server: KlineServer) -> Iterator[HTTP]:
    with kline_session(server.url) as session:
        yield session


def _after_last(candles: tuple[Candle, ...]) -> SimClock:
    """A clock at which the last candle has closed."""
    return SimClock(candles[-1].start_ms + MINUTE + 5_000)


def _request(out: Path, candles: tuple[Candle, ...], **kw: object) -> FetchRequest:
    fields: dict[str, object] = {
        "category": Category.LINEAR,
        "symbol": "BTCUSDT",
        "timeframe": "1m",
        "start_ms": candles[0].start_ms,
        "end_ms": candles[-1].start_ms + MINUTE,
        "output": out,
    }
    fields.update(kw)
    return FetchRequest(**fields)  # type: ignore[arg-type]


def _no_wait(_: float) -> None:
    """Stands in for time.sleep: the tests do not wait between retries."""


def _fetch(http: HTTP, request: FetchRequest, clock: SimClock, **kw: object) -> FetchResult:
    return download(request, http=http, clock=clock, sleep=_no_wait, **kw)  # type: ignore[arg-type]


def _only_file(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- full downloads ----------------------------------------------------------------------------


def test_a_full_download_equals_the_source_file(tmp_path: Path, all_candles: tuple[Candle, ...]) -> None:
    out = tmp_path / "btc.csv"
    with KlineServer(all_candles) as server, kline_session(server.url) as http:
        result = _fetch(http, _request(out, all_candles), _after_last(all_candles))
        assert len(server.served()) == -(-len(all_candles) // 1000)
    assert out.read_text() == SOURCE_CSV.read_text()
    assert (result.rows, result.fetched, result.written) == (len(all_candles), len(all_candles), True)
    assert (result.first_ms, result.last_ms) == (all_candles[0].start_ms, all_candles[-1].start_ms)
    assert _only_file(tmp_path) == ["btc.csv"]


def test_gzip_output_holds_the_same_rows_and_the_same_bytes_each_time(
    tmp_path: Path, http: HTTP, candles: tuple[Candle, ...]
) -> None:
    a, b = tmp_path / "a.csv.gz", tmp_path / "b.csv.GZ"
    _fetch(http, _request(a, candles), _after_last(candles))
    _fetch(http, _request(b, candles), _after_last(candles))
    assert gzip.decompress(a.read_bytes()).decode() == _csv(candles)
    assert a.read_bytes() == b.read_bytes()


def test_only_closed_candles_are_written(tmp_path: Path, http: HTTP, candles: tuple[Candle, ...]) -> None:
    out = tmp_path / "btc.csv"
    forming = SimClock(candles[-1].start_ms + 30_000)  # the last candle is still open
    result = _fetch(http, _request(out, candles), forming)
    assert out.read_text() == _csv(candles[:-1]) and result.last_ms == candles[-2].start_ms
    later = _fetch(http, _request(out, candles), _after_last(candles))
    assert out.read_text() == _csv(candles) and later.fetched == 1


def test_progress_reaches_the_expected_bar_count(tmp_path: Path, http: HTTP, candles: tuple[Candle, ...]) -> None:
    seen: list[FetchProgress] = []
    _fetch(http, _request(tmp_path / "btc.csv", candles), _after_last(candles), on_progress=seen.append)
    assert seen[0] == FetchProgress(0, SMALL) and seen[-1] == FetchProgress(SMALL, SMALL)
    assert [p.done for p in seen] == sorted(p.done for p in seen)


# --- resuming ----------------------------------------------------------------------------------


def test_resuming_a_truncated_file_fetches_only_the_rest(
    tmp_path: Path, server: KlineServer, http: HTTP, candles: tuple[Candle, ...]
) -> None:
    out = tmp_path / "btc.csv"
    out.write_text(_csv(candles[:2300]))
    result = _fetch(http, _request(out, candles), _after_last(candles))
    assert out.read_text() == _csv(candles)
    assert result.fetched == SMALL - 2300
    assert all(int(q["start"]) > candles[2299].start_ms for q in server.served())
    assert len(server.served()) == 3


def test_resuming_a_middle_part_fetches_both_sides_and_never_the_part_itself(
    tmp_path: Path, server: KlineServer, http: HTTP, candles: tuple[Candle, ...]
) -> None:
    out = tmp_path / "btc.csv.gz"
    out.write_bytes(gzip.compress(_csv(candles[1500:3200]).encode()))
    _fetch(http, _request(out, candles), _after_last(candles))
    assert gzip.decompress(out.read_bytes()).decode() == _csv(candles)
    for q in server.served():
        assert int(q["end"]) < candles[1500].start_ms or int(q["start"]) > candles[3199].start_ms


def test_a_window_away_from_the_file_fills_the_bars_between(
    tmp_path: Path, http: HTTP, candles: tuple[Candle, ...]
) -> None:
    out = tmp_path / "btc.csv"
    out.write_text(_csv(candles[4000:4100]))
    _fetch(http, _request(out, candles[:10]), _after_last(candles))
    assert out.read_text() == _csv(candles[:4100])


def test_an_up_to_date_file_is_left_alone(
    tmp_path: Path, server: KlineServer, http: HTTP, candles: tuple[Candle, ...]
) -> None:
    out = tmp_path / "btc.csv"
    out.write_text(_csv(candles))
    before = out.stat().st_mtime_ns
    result = _fetch(http, _request(out, candles[100:200]), _after_last(candles))
    assert (result.written, result.fetched, result.rows) == (False, 0, SMALL)
    assert server.served() == [] and out.stat().st_mtime_ns == before


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.tuples(st.integers(0, 1200), st.integers(0, 1200)).map(sorted))
def test_resuming_any_contiguous_part_gives_the_full_download(
    http: HTTP, candles: tuple[Candle, ...], cut: list[int]
) -> None:
    part = candles[:1200]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "btc.csv"
        out.write_text(_csv(part[cut[0] : cut[1]]))
        result = _fetch(http, _request(out, part), _after_last(candles))
        assert out.read_text() == _csv(part)
        assert result.fetched == len(part) - (cut[1] - cut[0])


# --- files that are not resumed ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("time,o,h,l,c,v\n", ":1: the header"),
        (HEADER + "\n1748545200000,1,2,0.5,1.5\n", ":2: "),
        (HEADER + "\n1748545200000,1,2,0.5,1.5,nan\n", ":2: "),
        (HEADER + "\n1748545260000,1,2,0.5,1.5,3\n1748545200000,1,2,0.5,1.5,3\n", ":3: timestamp"),
        (HEADER + "\n1748545200000,1,2,0.5,1.5,3\n1748545200000,1,2,0.5,1.5,3\n", ":3: timestamp"),
        (HEADER + "\n1748545200001,1,2,0.5,1.5,3\n", ":2: 1748545200001 is not the open time"),
        (HEADER + "\n1748545200000,1,2,0.5,1.5,3\n1748548800000,1,2,0.5,1.5,3\n", "60 minutes apart"),
    ],
)
def test_a_file_that_is_not_a_kline_file_is_never_touched(
    tmp_path: Path, server: KlineServer, http: HTTP, candles: tuple[Candle, ...], text: str, problem: str
) -> None:
    out = tmp_path / "btc.csv"
    out.write_text(text)
    with pytest.raises(FetchError, match=problem.replace("(", r"\(")):
        _fetch(http, _request(out, candles), _after_last(candles))
    assert out.read_text() == text and server.served() == [] and _only_file(tmp_path) == ["btc.csv"]


def test_a_plain_file_named_gz_is_refused(tmp_path: Path, http: HTTP, candles: tuple[Candle, ...]) -> None:
    out = tmp_path / "btc.csv.gz"
    out.write_text(_csv(candles[:5]))
    with pytest.raises(FetchError, match="cannot be read as gzip"):
        _fetch(http, _request(out, candles), _after_last(candles))


def test_an_output_name_must_be_csv(tmp_path: Path, http: HTTP, candles: tuple[Candle, ...]) -> None:
    with pytest.raises(FetchError, match=r"must end in \.csv or \.csv\.gz"):
        _fetch(http, _request(tmp_path / "btc.parquet", candles), _after_last(candles))


# --- failures part way ---------------------------------------------------------------------------


def test_a_failure_part_way_keeps_the_pages_already_fetched_and_a_rerun_finishes(
    tmp_path: Path, server: KlineServer, http: HTTP, candles: tuple[Candle, ...]
) -> None:
    out = tmp_path / "btc.csv"
    server.fail_next(Fault.BAD_GATEWAY, times=3, after=2)
    with pytest.raises(DownloadStopped) as caught:
        _fetch(http, _request(out, candles), _after_last(candles), retry=RetryPolicy(attempts=3))
    assert isinstance(caught.value.cause, ExchangeUnavailable)
    saved = caught.value.saved
    assert saved is not None and saved.rows == 2000
    assert out.read_text() == _csv(candles[-2000:])
    assert _only_file(tmp_path) == ["btc.csv"]
    _fetch(http, _request(out, candles), _after_last(candles))
    assert out.read_text() == _csv(candles)


def test_an_interrupt_keeps_the_pages_already_fetched(
    tmp_path: Path, http: HTTP, candles: tuple[Candle, ...]
) -> None:
    out = tmp_path / "btc.csv"

    def interrupt_after_three_pages(progress: FetchProgress) -> None:
        if progress.done >= 3000:
            raise KeyboardInterrupt

    with pytest.raises(DownloadStopped) as caught:
        _fetch(http, _request(out, candles), _after_last(candles), on_progress=interrupt_after_three_pages)
    assert isinstance(caught.value.cause, KeyboardInterrupt)
    assert out.read_text() == _csv(candles[-3000:])


def test_a_failure_after_the_file_keeps_the_file_as_it_was(
    tmp_path: Path, server: KlineServer, http: HTTP, candles: tuple[Candle, ...]
) -> None:
    # the newest pages of the part after the file do not reach the file yet: saving them
    # would leave a hole that resuming never fills
    out = tmp_path / "btc.csv"
    text = _csv(candles[:1500])
    out.write_text(text)
    server.fail_next(Fault.DROP, times=2, after=1)
    with pytest.raises(DownloadStopped) as caught:
        _fetch(http, _request(out, candles), _after_last(candles), retry=RetryPolicy(attempts=2))
    assert caught.value.saved is None and out.read_text() == text


def test_an_unknown_symbol_stops_before_writing(tmp_path: Path, http: HTTP, candles: tuple[Candle, ...]) -> None:
    out = tmp_path / "nope.csv"
    with pytest.raises(DownloadStopped) as caught:
        _fetch(http, _request(out, candles, symbol="NOPEUSDT"), _after_last(candles))
    assert isinstance(caught.value.cause, UnknownSymbol) and caught.value.saved is None
    assert not out.exists()


def test_a_window_without_candles_writes_nothing(tmp_path: Path, http: HTTP, candles: tuple[Candle, ...]) -> None:
    out = tmp_path / "btc.csv"
    early = candles[0].start_ms - 30 * DAY
    with pytest.raises(NoCandles, match="no closed 1m candle of BTCUSDT"):
        _fetch(http, _request(out, candles, start_ms=early, end_ms=early + DAY), _after_last(candles))
    assert not out.exists()


# --- the window --------------------------------------------------------------------------------


def test_the_window_comes_from_days_or_from_dates() -> None:
    now = parse_utc("2025-06-10T12:00", "--to")
    assert resolve_window(now_ms=now, days=None, date_from=None, date_to=None) == (now - 30 * DAY, now)
    assert resolve_window(now_ms=now, days=2, date_from=None, date_to="2025-06-05") == (
        parse_utc("2025-06-03", "x"),
        parse_utc("2025-06-05", "x"),
    )
    assert resolve_window(now_ms=now, days=None, date_from="2025-06-01", date_to=None) == (
        1748736000000,
        now,
    )
    assert parse_utc("2025-06-01T02:00+02:00", "x") == 1748736000000


@pytest.mark.parametrize(
    ("days", "date_from", "date_to", "message"),
    [
        (3, "2025-06-01", None, "either --days or --from"),
        (None, "2025-06-31", None, "--from '2025-06-31' is not a date"),
        (None, "2025-06-02", "2025-06-01", "the window is empty"),
        (0, None, None, "at least 1"),
    ],
)
def test_a_bad_window_is_said_in_words(days: int | None, date_from: str | None, date_to: str | None, message: str) -> None:
    with pytest.raises(FetchError, match=message):
        resolve_window(now_ms=parse_utc("2025-06-10", "x"), days=days, date_from=date_from, date_to=date_to)


# --- the command -------------------------------------------------------------------------------


def _run(*args: str, env: dict[str, str] | None = None) -> object:
    return CliRunner().invoke(app, ["data", "fetch", *args], env=env)


def test_the_command_writes_the_file_and_says_so_on_stderr(
    tmp_path: Path, server: KlineServer, candles: tuple[Candle, ...]
) -> None:
    out = tmp_path / "btc.csv"
    result = _run("btcusdt", "--from", "2025-05-30", "--to", "2025-05-31", "-o", str(out), "--endpoint", server.url)
    assert result.exit_code == 0, result.stderr
    day = [c for c in candles if parse_utc("2025-05-30", "x") <= c.start_ms < parse_utc("2025-05-31", "x")]
    assert len(day) == 1440 and out.read_text() == _csv(day)
    assert result.stdout == ""
    assert "1,440 rows, 2025-05-30 00:00 to 2025-05-30 23:59 UTC, 1,440 new" in result.stderr
    again = _run("BTCUSDT", "--from", "2025-05-30", "--to", "2025-05-31", "-o", str(out), "--endpoint", server.url)
    assert again.exit_code == 0 and "up to date" in again.stderr


def test_the_endpoint_comes_from_the_environment(tmp_path: Path, server: KlineServer) -> None:
    out = tmp_path / "btc.csv.gz"
    env = {"RULEBOT_BYBIT_REST_URL": server.url}
    result = _run("BTCUSDT", "--from", "2025-05-30T00:00", "--to", "2025-05-30T01:00", "-o", str(out), env=env)
    assert result.exit_code == 0, result.stderr
    assert gzip.decompress(out.read_bytes()).decode().count("\n") == 61


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOPEUSDT", "--from", "2025-05-30"], "Bybit has no symbol 'NOPEUSDT' in category linear"),
        (["BTCUSDT", "--days", "2", "--from", "2025-05-30"], "either --days or --from"),
        (["BTCUSDT", "--from", "yesterday"], "is not a date"),
        (["BTCUSDT", "--from", "2025-05-30", "--interval", "2m"], "2m"),
    ],
)
def test_the_command_cannot_run_on_bad_input(
    tmp_path: Path, server: KlineServer, args: list[str], message: str
) -> None:
    out = tmp_path / "btc.csv"
    result = _run(*args, "-o", str(out), "--endpoint", server.url)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr + result.stdout
    assert not out.exists()


def test_the_command_refuses_a_file_it_would_have_to_overwrite(tmp_path: Path, server: KlineServer) -> None:
    out = tmp_path / "notes.csv"
    out.write_text("my notes, not candles\n")
    result = _run("BTCUSDT", "--from", "2025-05-30", "-o", str(out), "--endpoint", server.url)
    assert result.exit_code == 2 and "notes.csv:1: the header" in result.stderr
    assert out.read_text() == "my notes, not candles\n"


def test_the_command_reports_a_lasting_rate_limit_and_keeps_what_it_has(
    tmp_path: Path, server: KlineServer
) -> None:
    out = tmp_path / "btc.csv"
    server.fail_next(Fault.RATE_LIMIT, times=5, after=1)
    result = _run("BTCUSDT", "--from", "2025-05-30", "--to", "2025-05-31", "-o", str(out), "--endpoint", server.url)
    assert result.exit_code == 1
    assert "retCode 10006" in result.stderr and "gave up after 5 attempts" in result.stderr
    assert "attempt 4 of 5 failed" in result.stderr
    assert "kept 1,000 rows" in result.stderr and "Traceback" not in result.stderr
    assert out.read_text().count("\n") == 1001


def test_the_command_reports_an_unreachable_endpoint(tmp_path: Path, candles: tuple[Candle, ...]) -> None:
    with KlineServer(candles) as server:
        url = server.url + "/wrong/path"
        result = _run("BTCUSDT", "--from", "2025-05-30", "-o", str(tmp_path / "b.csv"), "--endpoint", url)
    assert result.exit_code == 2 and "HTTP 404" in result.stderr and "unchanged" in result.stderr
