"""The `rulebot` command line: typer structures, rich displays.

The product goes to stdout (diagnostics, JSON, tables); everything else (summaries, logs,
progress) goes to stderr. Exit codes are one enum shared by every command.
"""

from __future__ import annotations

import gc
import sys
from enum import Enum, IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from rulebot import __version__
from rulebot.model.enums import Category

if TYPE_CHECKING:
    from pybit.unified_trading import HTTP

    from rulebot.backtest.fetch import DownloadStopped, FetchRequest, FetchResult
    from rulebot.model.clock import LiveClock

app = typer.Typer(
    name="rulebot",
    help="A rules engine for trading on Bybit: write rules in plain words, lint, explain, backtest, run.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class ExitCode(IntEnum):
    """0: all good; 1: problems found (lint errors, a failed run); 2: could not run at all."""

    OK = 0
    PROBLEMS = 1
    CANNOT_RUN = 2


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


def _stderr() -> Console:
    # soft_wrap: a message is one line, whatever the width (logs and CI are not terminals)
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"rulebot {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """rulebot: lint, explain and run trading rules for Bybit."""


@app.command()
def lint(
    paths: Annotated[list[Path], typer.Argument(help="Rule files (.yaml/.yml) or folders holding them.")],
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
) -> None:
    """Check rule files without touching the network.

    Exit status: 0 no errors, 1 at least one error, 2 a path could not be read.
    """
    from rulebot.lang.lint import lint_paths
    from rulebot.lang.diagnostics import render_json, render_text, strict as make_strict, summary

    report = lint_paths([str(p) for p in paths])
    diagnostics = make_strict(report.diagnostics) if strict else list(report.diagnostics)
    if format is OutputFormat.json:
        sys.stdout.write(render_json(diagnostics))
    else:
        sys.stdout.write(render_text(diagnostics, report.lines))
    for problem in report.unreadable:
        _stderr().print(f"[red]error[/red]: {escape(problem)}", markup=True)
    _stderr().print(summary(diagnostics, report.files_checked))
    if report.unreadable:
        raise typer.Exit(ExitCode.CANNOT_RUN)
    raise typer.Exit(ExitCode.PROBLEMS if any(d.is_error for d in diagnostics) else ExitCode.OK)


@app.command()
def explain(
    file: Annotated[Path, typer.Argument(help="A rule file (.yaml/.yml).")],
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
    price: Annotated[
        Optional[list[str]],
        typer.Option("--price", help="Sample price for exact order parameters: 65000, or SYMBOL=65000 "
                                     "(repeat for each symbol). Without it, market-dependent values are described."),
    ] = None,
    equity: Annotated[str, typer.Option("--equity", help="Sample account equity in the settle coin.")] = "10000",
) -> None:
    """Read each rule in plain English, with its triggers, warm-up and the Bybit requests it would send.

    Exit status: 0 explained, 1 the file has lint errors (they are printed), 2 it could not be read
    or an option is wrong.
    """
    from rulebot.engine.explain_report import explain_report, report_json, report_text
    from rulebot.engine.preview import Sample, SampleError
    from rulebot.lang.diagnostics import render_json, render_text, summary
    from rulebot.lang.lint import analyze_file

    def cannot_run(message: str) -> typer.Exit:
        _stderr().print(f"[red]error[/red]: {escape(message)}", markup=True)
        return typer.Exit(ExitCode.CANNOT_RUN)

    if not file.is_file():
        raise cannot_run(f"{file}: no such file" if not file.exists() else f"{file}: not a file")
    analysis = analyze_file(file)
    if analysis.rule_file is None and any(
            d.code == "E101" and d.message.startswith("cannot read the file") for d in analysis.diagnostics):
        raise cannot_run(f"{analysis.file}: cannot be read")
    if analysis.has_errors or analysis.rule_file is None:
        lines = {analysis.file: analysis.lines}
        sys.stdout.write(render_json(list(analysis.diagnostics)) if format is OutputFormat.json
                         else render_text(list(analysis.diagnostics), lines))
        _stderr().print(summary(analysis.diagnostics, 1) + "; nothing explained")
        raise typer.Exit(ExitCode.PROBLEMS)
    try:
        sample = Sample.from_options(price or [], equity, analysis.rule_file.symbols)
    except SampleError as problem:
        raise cannot_run(str(problem)) from None
    report = explain_report(analysis, sample)
    if format is OutputFormat.json:
        sys.stdout.write(report_json(report))
    else:
        Console(soft_wrap=True, highlight=False).print(report_text(report), end="")
    warnings = len(analysis.diagnostics)
    _stderr().print(f"{len(report.rules)} rule{'s' if len(report.rules) != 1 else ''} explained"
                    + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""))
    raise typer.Exit(ExitCode.OK)


@app.command()
def backtest(
    files: Annotated[list[Path], typer.Argument(help="Rule files; all their rules trade one simulated account.")],
    data: Annotated[
        Optional[list[str]],
        typer.Option("--data", help="Candles CSV[.gz] (timestamp,open,high,low,close,volume), or SYMBOL=CSV "
                                    "once per symbol."),
    ] = None,
    date_from: Annotated[Optional[str], typer.Option("--from", help="Start, UTC, included: 2024-01-01[T08:00].")] = None,
    date_to: Annotated[Optional[str], typer.Option("--to", help="End, UTC, not included.")] = None,
    balance: Annotated[str, typer.Option("--balance", help="Starting balance in USDT.")] = "10000",
    fee_maker: Annotated[str, typer.Option("--fee-maker", help="Maker fee: 0.02% or 0.0002.")] = "0.02%",
    fee_taker: Annotated[str, typer.Option("--fee-taker", help="Taker fee: 0.055% or 0.00055.")] = "0.055%",
    slippage: Annotated[int, typer.Option("--slippage", min=0, help="Market fills this many ticks worse.")] = 0,
    timeframe: Annotated[
        Optional[str], typer.Option("--timeframe", help="Replay bars of this interval, built from finer data.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print only the result as JSON on stdout.")] = False,
    report: Annotated[Optional[Path], typer.Option("--report", help="Write the HTML report here.")] = None,
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Write a PNG of equity and drawdown here.")] = None,
    vary: Annotated[
        Optional[list[str]],
        typer.Option("--vary", help='Sweep a ${param}: "rsi_low=20..35 step 5" (repeat for a grid).'),
    ] = None,
    oos: Annotated[Optional[str], typer.Option("--oos", help="With --vary: keep the last share out of sample: 30%.")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", help="With --vary: processes (default: all cores).")] = None,
    journal: Annotated[
        Optional[Path], typer.Option("--journal", help="Keep the run's journal in this new SQLite file "
                                                       "(read it with `rulebot journal`).")
    ] = None,
) -> None:
    """Replay candles through the rules, the engine and the paper exchange, and show what they would have done.

    Exit status: 0 the backtest ran (data warnings included);
    1 a rule file has errors (they are printed);
    2 could not run (a missing or damaged file, no bars in the range, a bad option).
    """
    # Importing the engine, pandas and numpy makes a few hundred thousand objects that live as
    # long as the process and no garbage: without the collector over them the start is a
    # quarter faster, and once frozen no later collection scans them again.
    first = "rulebot.backtest.command" not in sys.modules
    collecting = gc.isenabled()
    if first:
        gc.disable()
    try:
        from rulebot.backtest.command import BacktestOptions, run_command
        from rulebot.backtest.errors import CannotRun, RuleFileError
        from rulebot.backtest.options import OptionError
        from rulebot.lang.diagnostics import render_text, summary
    finally:
        if first:
            gc.freeze()
            if collecting:
                gc.enable()

    err = _stderr()
    options = BacktestOptions(
        files=tuple(files), data=tuple(data or ()), date_from=date_from, date_to=date_to, balance=balance,
        fee_maker=fee_maker, fee_taker=fee_taker, slippage=slippage, timeframe=timeframe, json=json_out,
        report=report, plot=plot, vary=tuple(vary or ()), oos=oos, workers=workers, journal=journal,
    )
    try:
        run_command(options, Console(soft_wrap=True, highlight=False), err)
    except RuleFileError as problem:
        for analysis in problem.analyses:
            sys.stderr.write(render_text(list(analysis.diagnostics), {analysis.file: analysis.lines}))
        diagnostics = [d for a in problem.analyses for d in a.diagnostics]
        tail = f"{summary(diagnostics, len(problem.analyses))}; nothing run" if problem.analyses else problem.message
        err.print(f"[red]error[/red]: {escape(tail)}")
        raise typer.Exit(ExitCode.PROBLEMS) from None
    except (CannotRun, OptionError) as problem:
        err.print(f"[red]error[/red]: {escape(str(problem))}")
        raise typer.Exit(ExitCode.CANNOT_RUN) from None
    except KeyboardInterrupt:
        err.print("interrupted; nothing written")
        raise typer.Exit(ExitCode.CANNOT_RUN) from None
    except Exception as bug:  # the one place: a bug still ends in one line, never a traceback
        err.print(f"[red]internal error[/red]: {escape(type(bug).__name__)}: {escape(str(bug))} "
                  "(please report it with the command that caused it)")
        raise typer.Exit(ExitCode.CANNOT_RUN) from None
    raise typer.Exit(ExitCode.OK)


class JournalKind(str, Enum):
    """The kinds of journal entries (``rulebot.journal.EntryKind``; the journal is imported only when used)."""

    fire = "fire"
    action = "action"
    rejection = "rejection"
    order = "order"
    fill = "fill"
    event = "event"


@app.command("journal")
def journal_command(
    path: Annotated[Path, typer.Argument(help="A journal file (SQLite), e.g. written by `backtest --journal`.")],
    rule: Annotated[Optional[str], typer.Option("--rule", "-r", help="Only this rule (its exact name).")] = None,
    symbol: Annotated[
        Optional[str],
        typer.Option(
            "--symbol",
            "-s",
            help="Only entries of this symbol (e.g. BTCUSDT); events, which belong to no symbol, are left out.",
        ),
    ] = None,
    kind: Annotated[
        Optional[list[JournalKind]], typer.Option("--kind", "-k", help="Only entries of this kind (repeat for more).")
    ] = None,
    since: Annotated[
        Optional[str], typer.Option("--since", help="From this time, UTC, included: 2026-01-01[T08:00], or 2h ago: 2h.")
    ] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Up to this time, not included (same forms).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="The most recent N entries; 0 for all.")] = 100,
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
) -> None:
    """List what the engine did, oldest first: fires, actions, rejections, orders, fills and events.

    Exit status: 0 listed (also when nothing matches); 2 could not run (no such file, not a
    rulebot journal, a journal of a newer rulebot, a bad option).
    """
    from rulebot.journal.listing import (
        JournalQuery, ListingError, entries_table, parse_moment, read_listing, render_json, render_lines,
    )
    from rulebot.journal.records import EntryKind
    from rulebot.journal.schema import JournalError
    from rulebot.model.clock import LiveClock

    err = _stderr()
    now_ms = LiveClock().now_ms()
    try:
        query = JournalQuery(
            kinds=tuple(EntryKind(k.value) for k in kind or ()),
            rule=rule,
            since_ms=None if since is None else parse_moment(since, "--since", now_ms),
            until_ms=None if until is None else parse_moment(until, "--until", now_ms),
            limit=limit or None,
            symbol=symbol,
        )
        listing = read_listing(path, query)
    except (ListingError, JournalError) as problem:
        err.print(f"[red]error[/red]: {escape(str(problem))}")
        raise typer.Exit(ExitCode.CANNOT_RUN) from None
    out = Console(soft_wrap=True, highlight=False)
    if format is OutputFormat.json:
        sys.stdout.write(render_json(listing.entries))
    elif out.is_terminal and listing.entries:
        out.print(entries_table(listing.entries))
    else:
        sys.stdout.write(render_lines(listing.entries))
    count = len(listing.entries)
    if not count:
        err.print("no entries match")
    elif listing.more:
        err.print(f"the last {count} matching entries; older ones left out (--limit 0 shows all)")
    else:
        err.print(f"{count} entr{'y' if count == 1 else 'ies'}")
    raise typer.Exit(ExitCode.OK)


data_app = typer.Typer(help="Market data: download candles from Bybit for backtests.", no_args_is_help=True)
app.add_typer(data_app, name="data")


class Interval(str, Enum):
    """Bar lengths Bybit serves (its ``1 3 5 … D W M``)."""

    m1 = "1m"
    m3 = "3m"
    m5 = "5m"
    m15 = "15m"
    m30 = "30m"
    h1 = "1h"
    h2 = "2h"
    h4 = "4h"
    h6 = "6h"
    h12 = "12h"
    d1 = "1d"
    w1 = "1w"
    mo1 = "1M"


@data_app.command("fetch")
def data_fetch(
    symbol: Annotated[str, typer.Argument(help="Bybit symbol, e.g. BTCUSDT.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to write, .csv or .csv.gz; an existing one is resumed.")
    ],
    interval: Annotated[Interval, typer.Option("--interval", help="Bar length.")] = Interval.m1,
    category: Annotated[Category, typer.Option("--category", help="Bybit market.")] = Category.LINEAR,
    days: Annotated[Optional[int], typer.Option("--days", min=1, help="The last N days (default 30).")] = None,
    date_from: Annotated[
        Optional[str], typer.Option("--from", help="Start, UTC: 2025-06-01 or 2025-06-01T12:00.")
    ] = None,
    date_to: Annotated[Optional[str], typer.Option("--to", help="End, UTC, not included; default now.")] = None,
    testnet: Annotated[bool, typer.Option("--testnet", help="Use Bybit's testnet.")] = False,
    endpoint: Annotated[
        Optional[str],
        typer.Option("--endpoint", envvar="RULEBOT_BYBIT_REST_URL", help="Base REST URL, e.g. a local simulator."),
    ] = None,
) -> None:
    """Download closed candles from Bybit into a CSV file: timestamp,open,high,low,close,volume.

    An existing file is resumed: only the bars it lacks before its first and after its last row are fetched.

    Exit status: 0 written or up to date; 1 the exchange failed, no candles, or interrupted
    (what was fetched is kept); 2 could not run (a bad option, an unknown symbol, a file
    that is not a kline file).
    """
    from rulebot.backtest.fetch import DownloadStopped, FetchError, FetchRequest, NoCandles, resolve_window
    from rulebot.exchange.bybit.market_data import kline_session, rest_url
    from rulebot.model.clock import LiveClock

    err = _stderr()
    clock = LiveClock()
    try:
        start_ms, end_ms = resolve_window(now_ms=clock.now_ms(), days=days, date_from=date_from, date_to=date_to)
        base_url = rest_url(testnet=testnet, override=endpoint)
    except (FetchError, ValueError) as e:
        err.print(f"error: {e}", markup=False, soft_wrap=True)
        raise typer.Exit(ExitCode.CANNOT_RUN) from None
    request = FetchRequest(category, symbol.strip().upper(), interval.value, start_ms, end_ms, output)
    try:
        with kline_session(base_url) as http:
            result = _download_with_progress(request, http, clock, err)
    except NoCandles as e:
        err.print(f"error: {e}; nothing written", markup=False, soft_wrap=True)
        raise typer.Exit(ExitCode.PROBLEMS) from None
    except FetchError as e:
        err.print(f"error: {e}", markup=False, soft_wrap=True)
        raise typer.Exit(ExitCode.CANNOT_RUN) from None
    except DownloadStopped as stop:
        message, code = _stopped_message(stop, request)
        err.print(message, markup=False, soft_wrap=True)
        raise typer.Exit(code) from None
    except KeyboardInterrupt:
        err.print(f"interrupted; {output} is unchanged", markup=False, soft_wrap=True)
        raise typer.Exit(ExitCode.PROBLEMS) from None
    if result.written:
        err.print(f"{output}: {_rows_text(result)}, {result.fetched:,} new", markup=False, soft_wrap=True)
    else:
        err.print(f"{output} is up to date: {_rows_text(result)}", markup=False, soft_wrap=True)


def _download_with_progress(request: FetchRequest, http: HTTP, clock: LiveClock, err: Console) -> FetchResult:
    """``download`` with a rich progress bar on a terminal (stderr) and a line per retry."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from rulebot.backtest.fetch import FetchProgress, download
    from rulebot.exchange.bybit.market_data import RetryNotice

    def say_retry(notice: RetryNotice) -> None:
        err.print(
            f"{notice.error}; attempt {notice.attempt} of {notice.attempts} failed, "
            f"retrying in {notice.delay_s:.1f} s",
            markup=False,
            soft_wrap=True,
        )

    if not err.is_terminal:
        return download(request, http=http, clock=clock, on_retry=say_retry)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(f"{request.symbol} {request.timeframe} bars", total=None)

        def show(p: FetchProgress) -> None:
            progress.update(task, total=p.expected, completed=p.done)

        return download(request, http=http, clock=clock, on_progress=show, on_retry=say_retry)


def _stopped_message(stop: DownloadStopped, request: FetchRequest) -> tuple[str, ExitCode]:
    """What to tell after a download stopped part way, and the exit status."""
    from rulebot.exchange.bybit.market_data import UnknownSymbol
    from rulebot.exchange.errors import ExchangeUnavailable, OrderRejected, WireFormatError

    cause = stop.cause
    code = ExitCode.PROBLEMS
    if isinstance(cause, KeyboardInterrupt):
        what = "interrupted"
    elif isinstance(cause, UnknownSymbol):
        what = f"Bybit has no symbol '{request.symbol}' in category {request.category.value} ({cause})"
        code = ExitCode.CANNOT_RUN
    elif isinstance(cause, OrderRejected):
        what = f"Bybit refused the request: {cause}"
        code = ExitCode.CANNOT_RUN
    elif isinstance(cause, (ExchangeUnavailable, WireFormatError)):
        what = f"download failed: {cause}"
    else:
        what = f"cannot download: {cause}"
        code = ExitCode.CANNOT_RUN
    if stop.saved is None:
        return f"error: {what}; {request.output} is unchanged", code
    kept = f"kept {_rows_text(stop.saved)} in {request.output}; run the same command again to fetch the rest"
    return f"error: {what}; {kept}", code


def _rows_text(result: FetchResult) -> str:
    from datetime import UTC, datetime

    def utc(ms: int | None) -> str:
        return "-" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")

    return f"{result.rows:,} rows, {utc(result.first_ms)} to {utc(result.last_ms)} UTC"


def main() -> None:
    """Entry point of the `rulebot` script."""
    app()


if __name__ == "__main__":  # python -m rulebot.cli, where the script is not on PATH
    main()
