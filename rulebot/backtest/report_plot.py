"""A PNG picture of a backtest — equity and drawdown — for sharing in a chat.

Drawn with matplotlib's Agg canvas directly (no pyplot, no global backend switch, no
window), imported inside the writer so the CLI pays for it only when ``--plot`` is given.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rulebot.backtest.report_display import equity_for_display, fmt_money, fmt_pct, fmt_ratio
from rulebot.backtest.result import BacktestResult, iso_utc

UP, DOWN_FILL, EQUITY = "#26a69a", "#ef5350", "#1f77b4"


def write_png_plot(result: BacktestResult, path: Path | str, dpi: int = 120) -> None:
    """Write equity (with its running peak) above drawdown in percent to a PNG at ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    times, values, peak = equity_for_display(result.equity)
    when = times.astype("datetime64[ms]")
    drawdown_pct = np.divide(values - peak, peak, out=np.zeros_like(values), where=peak > 0) * 100.0

    fig = Figure(figsize=(11, 6.2), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.3))

    top.plot(when, values, color=EQUITY, linewidth=1.2, label="equity")
    top.plot(when, peak, color=UP, linewidth=0.8, linestyle=":", label="running peak")
    top.fill_between(when, values, peak, color=DOWN_FILL, alpha=0.2, linewidth=0)
    top.set_ylabel("equity")
    top.grid(alpha=0.3)
    top.legend(loc="upper left", frameon=False)
    summary = result.summary()
    top.set_title(
        f"{', '.join(result.symbols)} {result.timeframe} · "
        f"return {fmt_pct(summary.return_fraction)} · "
        f"max drawdown {fmt_money(summary.max_drawdown)} "
        f"({fmt_pct(summary.max_drawdown_fraction)}) · {summary.trades:,} trades · "
        f"Sharpe {fmt_ratio(summary.sharpe)}",
        loc="left",
        fontsize=10,
    )

    bottom.fill_between(when, drawdown_pct, 0.0, color=DOWN_FILL, alpha=0.45, linewidth=0)
    bottom.plot(when, drawdown_pct, color=DOWN_FILL, linewidth=0.6)
    bottom.set_ylabel("drawdown %")
    bottom.grid(alpha=0.3)
    bottom.set_xlabel(f"{iso_utc(result.start_ms)} → {iso_utc(result.end_ms)} (UTC)")
    fig.savefig(path, format="png")
