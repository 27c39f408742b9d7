"""``rulebot backtest`` behind its options: check them, run, and show or write the result.

The CLI (``rulebot/cli.py``) collects the options into :class:`BacktestOptions` and calls
:func:`run_command`; everything that can go wrong comes back as a typed error
(``OptionError``, ``CannotRun``, ``RuleFileError``) that the CLI turns into a message and an
exit status. The product (the tables, or with ``--json`` only the JSON document) goes to
``out``; progress, warnings and notes go to ``err``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement

from rulebot.backtest.console import progress_bar, result_heading, result_tables
from rulebot.backtest.data import MarketData, load_market_data, window
from rulebot.backtest.errors import CannotRun
from rulebot.backtest.options import (
    OptionError,
    parse_balance,
    parse_data,
    parse_rate,
    parse_share,
    parse_time,
    parse_vary,
)
from rulebot.backtest.result import BacktestResult
from rulebot.backtest.runner import BacktestConfig, load_rule_files, replay, traded_symbols

if TYPE_CHECKING:
    from rich.table import Table

PROGRESS_EVERY = 20_000  # bars between progress updates: often enough to move, rare enough to cost nothing


@dataclass(frozen=True, slots=True)
class BacktestOptions:
    """The options as typed on the command line (texts, not yet checked)."""

    files: tuple[Path, ...]
    data: tuple[str, ...]
    date_from: str | None = None
    date_to: str | None = None
    balance: str = "10000"
    fee_maker: str = "0.02%"
    fee_taker: str = "0.055%"
    slippage: int = 0
    timeframe: str | None = None
    json: bool = False
    report: Path | None = None
    plot: Path | None = None
    vary: tuple[str, ...] = ()
    oos: str | None = None
    workers: int | None = None
    journal: Path | None = None


def build_config(opts: BacktestOptions) -> BacktestConfig:
    """The run's configuration; ``OptionError`` names the first bad option."""
    start = parse_time(opts.date_from, "--from") if opts.date_from else None
    end = parse_time(opts.date_to, "--to") if opts.date_to else None
    if start is not None and end is not None and start >= end:
        raise OptionError(f"--from {opts.date_from} is not before --to {opts.date_to}")
    if opts.slippage < 0:
        raise OptionError("--slippage: a number of ticks, 0 or more")
    if opts.oos is not None and not opts.vary:
        raise OptionError("--oos splits a sweep: use it with --vary")
    if opts.workers is not None and not opts.vary:
        raise OptionError("--workers spreads a sweep over processes: use it with --vary")
    if opts.workers is not None and opts.workers < 1:
        raise OptionError("--workers: at least 1")
    if opts.vary and (opts.report or opts.plot):
        raise OptionError("--report and --plot show one run: run the combination you chose without --vary")
    if opts.vary and opts.journal:
        raise OptionError("--journal keeps one run: run the combination you chose without --vary")
    return BacktestConfig(
        files=opts.files,
        data=parse_data(list(opts.data)),
        start_ms=start,
        end_ms=end,
        balance=parse_balance(opts.balance),
        fee_maker=parse_rate(opts.fee_maker, "--fee-maker"),
        fee_taker=parse_rate(opts.fee_taker, "--fee-taker"),
        slippage_ticks=opts.slippage,
        timeframe=opts.timeframe,
        journal=opts.journal,
    )


def run_command(opts: BacktestOptions, out: Console, err: Console) -> None:
    """Run the backtest (or the sweep) the options describe and show it."""
    config = build_config(opts)
    for path, option in ((opts.report, "--report"), (opts.plot, "--plot")):
        if path is not None:
            _make_folder(path, option)
    if opts.journal is not None:
        if opts.journal.exists():
            # A journal may be a live engine's record of its orders: never write over one.
            raise CannotRun(f"--journal {opts.journal}: already exists; give a new file name")
        _make_folder(opts.journal, "--journal")
    if opts.vary:
        _sweep(opts, config, out, err)
        return
    analyses = load_rule_files(config.files, {})
    data = load_market_data(config.data, traded_symbols(analyses), config.timeframe)
    _warn(err, data.warnings)
    span = window(data, config.start_ms, config.end_ms)
    total = sum(len(s.window(None, span.cut_ms)) for s in data.series.values())
    with progress_bar(err, "replaying bars", total if not opts.json else None) as advance:
        show = advance if not opts.json else None
        result = replay(analyses, data, config, show, every=PROGRESS_EVERY)
    _warn(err, result.data_warnings[len(data.warnings):])
    if opts.report is not None:
        _write_report(result, data, opts.report)
    if opts.plot is not None:
        _write_plot(result, opts.plot)
    if opts.json:
        _print_json(result.to_json_dict())
    else:
        out.print(escape(result_heading(result)))
        for table in result_tables(result):
            _print_table(out, table)
    for path, what in ((opts.report, "report"), (opts.plot, "plot"), (opts.journal, "journal")):
        if path is not None:
            err.print(f"{what} written to {escape(str(path))}")


def _sweep(opts: BacktestOptions, config: BacktestConfig, out: Console, err: Console) -> None:
    # the sweep and its table are loaded only with --vary
    from rulebot.backtest.console import sweep_table
    from rulebot.backtest.sweep import run_sweep, runs_needed

    specs = [parse_vary(v) for v in opts.vary]
    oos = parse_share(opts.oos, "--oos") if opts.oos is not None else None
    total = runs_needed(specs, oos)
    with progress_bar(err, "backtests", total if not opts.json else None) as advance:
        sweep = run_sweep(config, specs, oos=oos, workers=opts.workers, done=None if opts.json else advance)
    _warn(err, sweep.warnings)
    _warn(err, sweep.overfit)
    if opts.json:
        _print_json(sweep.to_json_dict())
    else:
        _print_table(out, sweep_table(sweep))


def _make_folder(path: Path, option: str) -> None:
    """Make the folder a file will be written to, before the run rather than after it."""
    if path.is_dir():
        raise CannotRun(f"{option} {path}: is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CannotRun(f"{option} {path}: cannot make its folder: {error.strerror or error}") from None


def _print_table(out: Console, table: Table) -> None:
    """A terminal's width limits a table; a file or a pipe gets it whole, never cut with '…'."""
    if out.is_terminal:
        out.print(table)
        return
    width = Measurement.get(out, out.options.update_width(10_000), table).maximum
    Console(file=out.file, width=max(out.width, width), highlight=False, color_system=None).print(table)


def _warn(err: Console, warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        err.print(f"[yellow]warning[/yellow]: {escape(warning)}")


def _print_json(document: dict[str, Any]) -> None:
    # allow_nan=False: a NaN that slipped through is a bug to see, not invalid JSON to ship
    sys.stdout.write(json.dumps(document, allow_nan=False) + "\n")


def _write_report(result: BacktestResult, data: MarketData, path: Path) -> None:
    try:
        from rulebot.backtest.report import write_html_report
        from rulebot.backtest.report_display import CandleSeries
    except ImportError as missing:
        raise CannotRun(f"--report needs plotly ({missing.name}): pip install 'rulebot[report]'") from None
    candles = {}
    for symbol, series in data.series.items():
        part = series.window(result.start_ms, result.end_ms)
        candles[symbol] = CandleSeries(part.ts_ms, part.open, part.high, part.low, part.close)
    try:
        write_html_report(result, candles, path)
    except ImportError as missing:
        raise CannotRun(f"--report needs plotly ({missing.name}): pip install 'rulebot[report]'") from None
    except OSError as error:
        raise CannotRun(f"--report {path}: cannot be written: {error.strerror or error}") from None


def _write_plot(result: BacktestResult, path: Path) -> None:
    from rulebot.backtest.report_plot import write_png_plot

    try:
        write_png_plot(result, path)
    except ImportError as missing:
        raise CannotRun(f"--plot needs matplotlib ({missing.name}): pip install 'rulebot[report]'") from None
    except OSError as error:
        raise CannotRun(f"--plot {path}: cannot be written: {error.strerror or error}") from None
