"""What ``rulebot backtest`` shows on a terminal: the progress bar and the result tables.

The tables are the product (stdout); the progress bar and the warnings go to stderr. The
rows are the same as the HTML report's (``report_display``), so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from rulebot.backtest.result import BacktestResult, iso_utc

if TYPE_CHECKING:
    from rich.table import Table

    from rulebot.backtest.sweep import RunSummary, SweepResult

SWEEP_ROWS_SHOWN = 20


@contextmanager
def progress_bar(console: Console, what: str, total: int | None) -> Iterator[Callable[[int], None] | None]:
    """A transient progress bar on ``console`` when it is a terminal; yields the function that
    advances it (``None`` when there is no terminal, so nothing is called at all)."""
    if not console.is_terminal:
        yield None
        return
    # rich's live display is loaded only when there is a terminal to show it on
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(what, total=total)

        def advance(n: int) -> None:
            progress.advance(task, n)

        yield advance


def result_heading(result: BacktestResult) -> str:
    """One line above the tables: what was replayed (a table title would wrap to the table's width)."""
    return (f"{', '.join(result.symbols)} {result.timeframe}: {result.bars:,} bars, "
            f"{iso_utc(result.start_ms)} to {iso_utc(result.end_ms)}")


def result_tables(result: BacktestResult) -> tuple[Table, Table]:
    """The summary table and the per-rule table of one run."""
    # tables are not needed with --json
    from rich.table import Table

    from rulebot.backtest.report_display import rule_rows, summary_rows

    summary = Table(show_header=False)
    summary.add_column("statistic")
    summary.add_column("value", justify="right")
    for label, value in summary_rows(result, result.summary()):
        summary.add_row(label, value)
    rules = Table(title="Rules", title_justify="left")
    rules.add_column("rule")
    rules.add_column("fired", justify="right")
    rules.add_column("orders", justify="right")
    rules.add_column("rejections")
    for row in rule_rows(result):
        rules.add_row(escape(row[0]), *row[1:3], escape(row[3]))
    return summary, rules


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _cells(s: RunSummary | None) -> list[str]:
    from rulebot.backtest.report_display import fmt_money  # see result_tables

    if s is None:
        return ["", "", "", ""]
    return [f"{s.trades:,}", fmt_money(s.net_pnl), f"{s.return_pct:,.2f}%", _ratio(s.sharpe)]


def sweep_table(sweep: SweepResult, limit: int = SWEEP_ROWS_SHOWN) -> Table:
    """The ranked combinations (the best ``limit``), with out-of-sample columns after ``--oos``."""
    from rich.table import Table

    from rulebot.backtest.report_display import fmt_money  # see result_tables
    from rulebot.backtest.sweep import RANKED_BY  # the sweep module is loaded only with --vary

    start, end = sweep.in_sample
    word = "in sample " if sweep.out_of_sample else ""
    table = Table(
        title=f"{len(sweep.rows)} combinations ranked by {RANKED_BY.replace('_', ' ')} {word}"
              f"({iso_utc(start)} to {iso_utc(end)})",
        title_justify="left",
    )
    table.add_column("#", justify="right")
    for name in sweep.names:
        table.add_column(name, justify="right")
    for head in ("trades", "net PnL", "return", "max DD", "Sharpe"):
        table.add_column(head, justify="right")
    if sweep.out_of_sample:
        for head in ("OOS trades", "OOS net PnL", "OOS return", "OOS Sharpe"):
            table.add_column(head, justify="right", style="cyan")
    for rank, row in enumerate(sweep.rows[:limit], start=1):
        s = row.in_sample
        cells = [str(rank), *(value for _, value in row.params), f"{s.trades:,}", fmt_money(s.net_pnl),
                 f"{s.return_pct:,.2f}%", f"{s.max_drawdown_pct:,.2f}%", _ratio(s.sharpe)]
        if sweep.out_of_sample:
            cells += _cells(row.out_of_sample)
        table.add_row(*cells)
    captions = []
    if sweep.out_of_sample:
        oos_start, oos_end = sweep.out_of_sample
        captions.append(f"out of sample (OOS): {iso_utc(oos_start)} to {iso_utc(oos_end)}, for the top candidates")
    if len(sweep.rows) > limit:
        captions.append(f"{len(sweep.rows) - limit} more not shown; --json lists every combination")
    table.caption = "\n".join(captions) or None
    return table
