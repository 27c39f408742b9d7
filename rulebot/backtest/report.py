"""The HTML report of a backtest: one self-contained file a trader opens in a browser.

Candles with every trade's entry, exit, take-profit and stop-loss, the equity curve with its
drawdown shaded, the rules' fires on a timeline, and the summary tables. plotly's JavaScript
is inlined, so the file opens offline. plotly is imported inside the writer, so the CLI pays
its import time only when a report is asked for (``pip install rulebot[report]``). Long runs
are thinned for display by :mod:`rulebot.backtest.report_display`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rulebot.backtest.report_display import (
    MINUTE_MS,
    CandleSeries,
    DisplayCandles,
    candles_for_display,
    equity_for_display,
    fire_counts,
    rule_names,
    rule_rows,
    step_label,
    summary_rows,
)
from rulebot.backtest.result import BacktestResult, EquityCurve, Trade, TradeSide, iso_utc

if TYPE_CHECKING:
    import plotly.graph_objects as go

UP, DOWN, ACCENT = "#26a69a", "#ef5350", "#1f77b4"


def _trade_hover(trade: Trade, exit_: bool) -> str:
    head = f"{html.escape(trade.rule)}<br>{trade.side.value} {trade.qty:g} {trade.symbol}"
    if not exit_:
        return f"{head}<br>entry {trade.entry_price:,.2f} at {iso_utc(trade.entry_time_ms)}"
    return (
        f"{head}<br>exit {trade.exit_price:,.2f} at {iso_utc(trade.exit_time_ms)} "
        f"({trade.exit_reason.value})<br>PnL {trade.pnl:,.2f} after {trade.fee:,.2f} fees"
    )


def _segments(trades: Sequence[Trade], level: str) -> tuple[list[float | None], list[float | None]]:
    """One horizontal segment per trade from entry to exit at its TP or SL; None breaks lines."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for trade in trades:
        price = trade.tp_price if level == "tp" else trade.sl_price
        if price is not None:
            xs += [float(trade.entry_time_ms), float(trade.exit_time_ms), None]
            ys += [price, price, None]
    return xs, ys


def _add_symbol_traces(
    fig: go.Figure, row: int, symbol: str, shown: DisplayCandles, trades: Sequence[Trade]
) -> None:
    import plotly.graph_objects as go

    first = row == 1  # legend entries once, for the first symbol's row
    c = shown.candles
    fig.add_trace(
        go.Candlestick(
            x=c.ts_ms.astype(np.float64),
            open=c.open,
            high=c.high,
            low=c.low,
            close=c.close,
            name=f"{symbol} candles",
            increasing_line_color=UP,
            decreasing_line_color=DOWN,
            showlegend=False,
        ),
        row=row,
        col=1,
    )
    for level, name, color in (("tp", "take profit", UP), ("sl", "stop loss", DOWN)):
        xs, ys = _segments(trades, level)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=name,
                legendgroup=name,
                showlegend=first,
                line={"color": color, "width": 1.5, "dash": "dot"},
                hoverinfo="skip",
                connectgaps=False,
            ),
            row=row,
            col=1,
        )
    for side, name, symbol_shape in (
        (TradeSide.LONG, "long entry", "triangle-up"),
        (TradeSide.SHORT, "short entry", "triangle-down"),
    ):
        picked = [t for t in trades if t.side is side]
        fig.add_trace(
            go.Scatter(
                x=[float(t.entry_time_ms) for t in picked],
                y=[t.entry_price for t in picked],
                mode="markers",
                name=name,
                legendgroup=name,
                showlegend=first,
                marker={
                    "symbol": symbol_shape,
                    "size": 10,
                    "color": ACCENT,
                    "line": {"width": 1, "color": "white"},
                },
                hovertext=[_trade_hover(t, exit_=False) for t in picked],
                hoverinfo="text",
            ),
            row=row,
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=[float(t.exit_time_ms) for t in trades],
            y=[t.exit_price for t in trades],
            mode="markers",
            name="exit",
            legendgroup="exit",
            showlegend=first,
            marker={"symbol": "x", "size": 9, "color": [UP if t.is_win else DOWN for t in trades]},
            hovertext=[_trade_hover(t, exit_=True) for t in trades],
            hoverinfo="text",
        ),
        row=row,
        col=1,
    )


def _add_equity_traces(fig: go.Figure, row: int, curve: EquityCurve) -> None:
    import plotly.graph_objects as go

    times, values, peak = equity_for_display(curve)
    x = times.astype(np.float64)
    fig.add_trace(
        go.Scatter(
            x=x, y=values, mode="lines", name="equity", line={"color": ACCENT, "width": 1.5}
        ),
        row=row,
        col=1,
    )
    # Filled down to the previous trace (the equity), so the shaded band is the drawdown.
    fig.add_trace(
        go.Scatter(
            x=x,
            y=peak,
            mode="lines",
            name="drawdown",
            fill="tonexty",
            fillcolor="rgba(239, 83, 80, 0.25)",
            line={"color": "rgba(239, 83, 80, 0.6)", "width": 0.8, "dash": "dot"},
        ),
        row=row,
        col=1,
    )


def _add_fire_traces(fig: go.Figure, row: int, result: BacktestResult, step_ms: int) -> None:
    import plotly.graph_objects as go

    for index, (rule, starts, counts) in enumerate(fire_counts(result, step_ms)):
        fig.add_trace(
            go.Scatter(
                x=starts.astype(np.float64),
                y=[rule] * int(starts.size),
                mode="markers",
                name="rule fires",
                legendgroup="rule fires",
                showlegend=index == 0,
                marker={"symbol": "line-ns-open", "size": 12, "color": ACCENT},
                hovertext=[f"{html.escape(rule)}: {n} fire{'s' if n > 1 else ''}" for n in counts],
                hoverinfo="text+x",
            ),
            row=row,
            col=1,
        )


def build_figure(result: BacktestResult, candles: Mapping[str, CandleSeries]) -> go.Figure:
    """The report's chart: one candle panel per symbol, the equity panel, the fire timeline."""
    from plotly.subplots import make_subplots

    missing = [s for s in result.symbols if s not in candles]
    if missing:
        raise ValueError(f"no candles given for {', '.join(missing)}")
    shown = {s: candles_for_display(candles[s]) for s in result.symbols}
    rule_count = max(len(rule_names(result)), 1)
    fire_step_ms = min((d.step_ms for d in shown.values()), default=MINUTE_MS)
    heights = [420] * len(shown) + [260, 60 + 28 * rule_count]
    fig = make_subplots(
        rows=len(heights),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        row_heights=[h / sum(heights) for h in heights],
        subplot_titles=[
            *(shown[s].title(s) for s in result.symbols),
            "Equity (drawdown from the running peak shaded)",
            f"Rule fires (counted per {step_label(fire_step_ms)})",
        ],
    )
    for row, symbol in enumerate(result.symbols, start=1):
        trades = [t for t in result.trades if t.symbol == symbol]
        _add_symbol_traces(fig, row, symbol, shown[symbol], trades)
    equity_row = len(shown) + 1
    _add_equity_traces(fig, equity_row, result.equity)
    _add_fire_traces(fig, equity_row + 1, result, fire_step_ms)
    fig.update_xaxes(type="date", rangeslider_visible=False)
    fig.update_yaxes(title_text="equity", row=equity_row, col=1)
    # Every rule gets its row, in file order from the top, also one that never fired.
    fig.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=rule_names(result),
        range=[rule_count - 0.5, -0.5],
        row=equity_row + 1,
        col=1,
    )
    fig.update_layout(
        height=sum(heights) + 120,
        template="plotly_white",
        hovermode="closest",
        legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"},
        margin={"l": 60, "r": 30, "t": 80, "b": 40},
    )
    return fig


def _table(rows: Sequence[tuple[str, ...]], header: Sequence[str] | None = None) -> str:
    head = ""
    if header is not None:
        head = "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table>{head}{body}</table>"


_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 24px; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 4px; } h2 { font-size: 1.1em; margin-top: 28px; }
.meta { color: #666; margin-bottom: 16px; }
.tables { display: flex; gap: 48px; flex-wrap: wrap; align-items: flex-start; }
table { border-collapse: collapse; font-size: 0.95em; }
td, th { padding: 4px 12px; border-bottom: 1px solid #eee; text-align: left; }
td:nth-child(n+2) { font-variant-numeric: tabular-nums; }
th { background: #f6f6f6; }
.warn { color: #b35c00; }
"""


def render_html(result: BacktestResult, candles: Mapping[str, CandleSeries]) -> str:
    """The whole report page as one HTML string, plotly.js inlined."""
    summary = result.summary()
    chart = build_figure(result, candles).to_html(
        include_plotlyjs=True, full_html=False, config={"displaylogo": False}
    )
    symbols = ", ".join(result.symbols)
    title = f"Backtest — {symbols} {result.timeframe}"
    meta = (
        f"{iso_utc(result.start_ms)} → {iso_utc(result.end_ms)} · {result.bars:,} bars · "
        f"replayed in {result.seconds:,.2f} s"
    )
    warnings = "".join(f"<li class='warn'>{html.escape(w)}</li>" for w in result.data_warnings)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            "<html lang='en'><head><meta charset='utf-8'>",
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
            f"<h1>{html.escape(title)}</h1><div class='meta'>{html.escape(meta)}</div>",
            "<div class='tables'><div><h2>Summary</h2>",
            _table(summary_rows(result, summary)),
            "</div><div><h2>Rules</h2>",
            _table(rule_rows(result), ("rule", "fired", "orders", "rejections")),
            "</div></div>",
            f"<h2>Data warnings</h2><ul>{warnings}</ul>" if warnings else "",
            chart,
            "</body></html>",
        ]
    )


def write_html_report(
    result: BacktestResult, candles: Mapping[str, CandleSeries], path: Path | str
) -> None:
    """Write the self-contained HTML report of ``result`` to ``path``.

    ``candles`` maps each of ``result.symbols`` to its bars (the replayed data).
    """
    Path(path).write_text(render_html(result, candles), encoding="utf-8")
