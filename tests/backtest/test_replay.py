"""Reading kline files: the real data in ../shared/data, and small bad files made here."""

from __future__ import annotations

import dataclasses
import gzip
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.backtest.replay import DataError, ProblemKind, kline_events, read_klines
from rulebot.model import KlineUpdate

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "klines"
HEADER = "timestamp,open,high,low,close,volume\n"
T0 = 1_700_000_000_000 - 1_700_000_000_000 % 60_000  # a minute boundary


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def _write(tmp_path: Path, body: str, name: str = "k.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body)
    return path


def _rows(*minutes: int, price: float = 100.0) -> str:
    return "".join(f"{T0 + m * 60_000},{price},{price + 1},{price - 1},{price},1.5\n" for m in minutes)


needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="the shared kline data is not here")


@needs_data
def test_binance_2023_gap_and_flat_zero_volume_candles() -> None:
    s = read_klines(DATA / "binance_spot_BTCUSDT_1m_2023-03-16_2023-05-05.csv", "BTCUSDT")
    assert (len(s), s.timeframe, s.interval_ms) == (71_041, "1m", 60_000)
    gap = s.report.problem(ProblemKind.GAP)
    assert gap is not None and (gap.count, gap.missing_bars) == (1, 80)
    assert gap.first_ts_ms == (_ms("2023-03-24T12:40:00"),)
    assert "1 gap, 80 bars missing; first: 2023-03-24 12:40 UTC (80 bars)" in gap.message
    flat = s.report.problem(ProblemKind.ZERO_VOLUME)
    assert flat is not None and flat.count == 72 and flat.first_ts_ms[0] == _ms("2023-03-24T11:28:00")
    assert not flat.dropped
    assert {p.kind for p in s.report.problems} == {ProblemKind.GAP, ProblemKind.ZERO_VOLUME}


@needs_data
def test_binance_2021_two_maintenance_gaps() -> None:
    s = read_klines(DATA / "binance_spot_BTCUSDT_1m_2021-04-02_2021-05-20.csv", "BTCUSDT")
    gap = s.report.problem(ProblemKind.GAP)
    assert gap is not None and (gap.count, gap.missing_bars) == (2, 434)
    assert gap.first_ts_ms == (_ms("2021-04-20T02:00:00"), _ms("2021-04-25T04:01:00"))


@needs_data
def test_binance_hourly_gaps_match_the_provenance() -> None:
    s = read_klines(DATA / "binance_spot_BTCUSDT_1h_2017-08-17_2024-04-21.csv", "BTCUSDT")
    gap = s.report.problem(ProblemKind.GAP)
    assert s.timeframe == "1h" and gap is not None and (gap.count, gap.missing_bars) == (28, 128)


@needs_data
def test_bybit_file_is_clean_and_matches_its_first_row() -> None:
    s = read_klines(DATA / "bybit_linear_BTCUSDT_1m_2025-05-29_2025-06-29.csv", "BTCUSDT")
    assert s.report.clean and len(s) == 44_499 == s.report.rows_used == s.report.rows_read
    assert (int(s.ts_ms[0]), s.open[0], s.high[0], s.low[0], s.close[0], s.volume[0]) == (
        1748545200000,
        105796.0,
        105911.5,
        105796.0,
        105874.0,
        277.448,
    )
    assert bool(np.all(np.diff(s.ts_ms) == 60_000))


def test_gzip_reads_like_plain_csv(tmp_path: Path) -> None:
    body = _rows(0, 1, 2, 3)
    plain = read_klines(_write(tmp_path, body), "X")
    packed = tmp_path / "k.csv.gz"
    packed.write_bytes(gzip.compress((HEADER + body).encode()))
    zipped = read_klines(packed, "X")
    assert np.array_equal(plain.ts_ms, zipped.ts_ms) and np.array_equal(plain.close, zipped.close)


def test_events_are_closed_bars_stamped_at_their_close(tmp_path: Path) -> None:
    s = read_klines(_write(tmp_path, _rows(0, 1, 2)), "BTCUSDT")
    events = list(kline_events(s))
    assert events[0] == KlineUpdate(
        "BTCUSDT", "1m", T0 + 60_000, T0 + 60_000, T0, 100.0, 101.0, 99.0, 100.0, 1.5, True
    )
    assert [e.start_ms for e in s.events()] == [T0, T0 + 60_000, T0 + 120_000]
    assert all(e.confirm and type(e.open) is float and type(e.start_ms) is int for e in events)


def test_window_cuts_by_open_time(tmp_path: Path) -> None:
    s = read_klines(_write(tmp_path, _rows(0, 1, 2, 3, 4)), "X")
    w = s.window(T0 + 60_000, T0 + 180_000)
    assert list(w.ts_ms) == [T0 + 60_000, T0 + 120_000]
    assert len(s.window(T0 + 10 * 60_000)) == 0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "nope.csv", "no such file"),
        (lambda p: p, "is a folder"),
        (lambda p: _bytes(p, b""), "the file is empty"),
        (lambda p: _bytes(p, HEADER.encode()), "has a header but no rows"),
        (
            lambda p: _bytes(p, b"time,o,h,l,c,v\n1,2,3,4,5,6\n"),
            "wrong columns: expected timestamp,open,high,low,close",
        ),
        (lambda p: _bytes(p, b"\x00\x9f\x92\x96\xff" * 200), "not a"),
        (lambda p: _bytes(p, b"not gzip at all", "k.csv.gz"), "not a readable CSV or CSV.gz"),
        (
            lambda p: _bytes(p, (HEADER + "1700000000,1,2,0.5,1,1\n1700000060,1,2,0.5,1,1\n").encode()),
            "look like seconds",
        ),
        (
            lambda p: _bytes(p, (HEADER + "2025-05-30 16:39:00,1,2,0.5,1,1\n").encode()),
            "no epoch milliseconds",
        ),
        (lambda p: _bytes(p, (HEADER + _rows(0, 2, 4, 6)).encode()), "no Bybit timeframe"),
        (lambda p: _bytes(p, (HEADER + _rows(0)).encode()), "one bar only"),
        (
            lambda p: _bytes(p, (HEADER + f"{T0},0,0,0,0,1\n{T0 + 60_000},x,1,1,1,1\n").encode()),
            "no usable row",
        ),
    ],
    ids=[
        "missing",
        "folder",
        "empty",
        "header-only",
        "columns",
        "binary",
        "bad-gzip",
        "seconds",
        "iso-times",
        "two-minute-bars",
        "one-bar",
        "nothing-usable",
    ],
)
def test_unusable_files_raise_one_clear_data_error(tmp_path: Path, make: object, message: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(DataError, match=message) as err:
        read_klines(path, "X")
    assert str(path) in str(err.value)


def _bytes(folder: Path, data: bytes, name: str = "k.csv") -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_an_explicit_timeframe_reads_a_single_bar(tmp_path: Path) -> None:
    s = read_klines(_write(tmp_path, _rows(0)), "X", timeframe="1m")
    assert len(s) == 1 and s.interval_ms == 60_000


def test_bad_rows_are_left_out_and_reported_with_their_lines(tmp_path: Path) -> None:
    body = (
        _rows(0)
        + f"{T0 + 60_000},abc,101,99,100,1\n"  # line 3: not a number
        + f"{T0 + 120_000},100,101,99,,1\n"  # line 4: empty cell
        + f"{T0 + 180_000},NaN,101,99,100,1\n"  # line 5: NaN
        + f"{T0 + 240_000},0,0,0,0,1\n"  # line 6: zero price
        + f"{T0 + 300_000},100,99,98,100,1\n"  # line 7: high below open
        + f"{T0 + 360_000},100,101,99,100,-1\n"  # line 8: negative volume
        + _rows(7, 8)
    )
    s = read_klines(_write(tmp_path, body), "X")
    r = s.report
    assert (r.rows_read, r.rows_used, len(s)) == (9, 3, 3)
    by_kind = {p.kind: p for p in r.problems}
    assert by_kind[ProblemKind.NON_NUMERIC].first_lines == (3,)
    assert "line 3: open 'abc'" in by_kind[ProblemKind.NON_NUMERIC].message
    assert by_kind[ProblemKind.MISSING_VALUE].first_lines == (4, 5)
    assert by_kind[ProblemKind.NON_POSITIVE_PRICE].first_ts_ms == (T0 + 240_000,)
    assert by_kind[ProblemKind.INCONSISTENT_OHLC].first_lines == (7,)
    assert by_kind[ProblemKind.NEGATIVE_VOLUME].first_lines == (8,)
    assert all(p.dropped for k, p in by_kind.items() if k is not ProblemKind.GAP)
    gap = by_kind[ProblemKind.GAP]
    assert (gap.count, gap.missing_bars, gap.first_ts_ms) == (1, 6, (T0 + 60_000,))
    assert all(m.startswith(str(tmp_path)) for m in r.messages())


def test_unsorted_rows_are_sorted_and_duplicates_keep_the_last(tmp_path: Path) -> None:
    body = _rows(0, 2, 1) + _rows(3) + _rows(3, price=200.0) + _rows(4)
    s = read_klines(_write(tmp_path, body), "X")
    assert list(s.ts_ms) == [T0 + m * 60_000 for m in range(5)]
    assert s.close[3] == 200.0
    unsorted = s.report.problem(ProblemKind.UNSORTED)
    dup = s.report.problem(ProblemKind.DUPLICATE)
    assert (
        unsorted is not None and unsorted.count == 1 and unsorted.first_lines == (4,) and not unsorted.dropped
    )
    assert dup is not None and dup.count == 1 and dup.first_ts_ms == (T0 + 180_000,) and dup.dropped
    assert s.report.problem(ProblemKind.GAP) is None


def test_bars_off_the_grid_are_reported(tmp_path: Path) -> None:
    body = _rows(0, 1) + f"{T0 + 150_000},100,101,99,100,1\n" + _rows(3, 4)
    s = read_klines(_write(tmp_path, body), "X")
    off = s.report.problem(ProblemKind.OFF_GRID)
    assert off is not None and off.first_ts_ms == (T0 + 150_000,)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=2, max_size=60))
def test_any_order_and_repeats_give_ascending_unique_bars(
    tmp_path_factory: pytest.TempPathFactory, minutes: list[int]
) -> None:
    if len(set(minutes)) < 2:
        minutes = [*minutes, max(minutes) + 1]
    folder = tmp_path_factory.mktemp("k")
    s = read_klines(_write(folder, "".join(_rows(m) for m in minutes)), "X", timeframe="1m")
    assert list(s.ts_ms) == [T0 + m * 60_000 for m in sorted(set(minutes))]
    dup = s.report.problem(ProblemKind.DUPLICATE)
    assert (dup.count if dup else 0) == len(minutes) - len(set(minutes))
    gap = s.report.problem(ProblemKind.GAP)
    assert (gap.missing_bars if gap else 0) == max(minutes) - min(minutes) + 1 - len(set(minutes))


def test_fast_event_building_equals_the_dataclass_constructor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rulebot.backtest import replay

    s = read_klines(_write(tmp_path, _rows(0, 1, 2, 5)), "BTCUSDT")
    assert replay._DRAFT_WORKS  # the fast building is what runs here
    fast = list(kline_events(s))
    monkeypatch.setattr(replay, "_DRAFT_WORKS", False)
    slow = list(kline_events(s))
    assert fast == slow and [hash(e) for e in fast] == [hash(e) for e in slow]
    assert [repr(e) for e in fast] == [repr(e) for e in slow]
    assert all(type(e) is KlineUpdate for e in fast)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast[0].close = 1.0  # type: ignore[misc]


# Cells a kline file may hold: numbers as exchanges write them, and the damage the reader reports.
_CELLS = (
    "100", "100.25", "99", "101.5", "1e2", " 100", "\t100", "+100", ".5", "0", "-1", "", " ", "NaN", " nan", "N/A",
    "inf", " inf", "-inf", "abc", "True", "0x10", "1_000", "1e400", "12345678901234567890", '"100"', ' "100"',
)
# Headers: the usual one, blanks and capitals, an extra text column, names equal once trimmed, one missing.
_HEADERS = (
    HEADER, "Timestamp, Open,High,Low,Close,Volume\n", HEADER.rstrip("\n") + ",note\n",
    "timestamp,open, open,low,close,volume\n", "timestamp,open,high,low,close\n",
)


def _read_all(path: Path) -> tuple[object, ...]:
    """Everything ``read_klines`` gives back, in comparable form (or the error it raises)."""
    try:
        s = read_klines(path, "X")
    except DataError as err:
        return ("error", str(err))
    arrays = (s.ts_ms, s.open, s.high, s.low, s.close, s.volume)
    return (s.timeframe, s.interval_ms, s.report, [a.dtype for a in arrays], [a.tobytes() for a in arrays])


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(_HEADERS),
    st.lists(
        st.tuples(
            st.integers(0, 12),
            st.lists(st.one_of(st.sampled_from(_CELLS), st.floats(0.5, 2e5).map(repr)), min_size=5, max_size=5),
        ),
        min_size=1,
        max_size=25,
    ),
)
def test_reading_as_numbers_first_changes_nothing(
    tmp_path_factory: pytest.TempPathFactory, header: str, rows: list[tuple[int, list[str]]]
) -> None:
    # A file is first read as all numbers, and then checked without a text-to-number pass; it is
    # read again cell by cell only when that fails. The bars and every report must be what the
    # cell-by-cell reading and checking alone give (cells kept as Python objects force that path).
    from rulebot.backtest import replay

    read_any = replay._read_any
    extra = ",x" if header.count(",") == 6 else ""
    body = "".join(f"{T0 + m * 60_000},{','.join(cells)}{extra}\n" for m, cells in rows)
    path = _bytes(tmp_path_factory.mktemp("k"), (header + body).encode())
    first = _read_all(path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay, "_read_numbers", lambda _path: None)
        patch.setattr(replay, "_read_any", lambda path, name: read_any(path, name).astype(object))
        assert _read_all(path) == first
