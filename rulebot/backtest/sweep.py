"""Parameter sweeps: the same backtest over a grid of ``${param}`` values, on every core.

``--vary "rsi_low=20..35 step 5"`` (repeatable) makes the grid: every combination of the
values given, each run as its own backtest of the rule files with those values substituted
by the loader (``analyze_file(path, overrides=...)``). The runs are spread over processes
(``ProcessPoolExecutor``); each worker gets the loaded candles once, at its start, and then
only parameter values per run. The rows are ranked by net PnL, best first.

``--oos 30%`` keeps the last 30% of the time range out of sample: the grid is ranked on the
first 70% only, then the top candidates are run on the last 30% (their indicators warmed up
on the bars before it) and shown next to their in-sample figures. A candidate whose return
per day out of sample is much worse than in sample gets a plain warning: it was probably
fitted to noise.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rulebot.backtest.data import MarketData, load_market_data, window
from rulebot.backtest.errors import CannotRun
from rulebot.backtest.options import VarySpec
from rulebot.backtest.result import BacktestResult, iso_utc
from rulebot.backtest.runner import BacktestConfig, load_rule_files, replay, traded_symbols
from rulebot.backtest.stats import DAY_MS

SWEEP_SCHEMA_ID = "rulebot.sweep/1"
RANKED_BY = "net_pnl"
OOS_CANDIDATES = 5
# Out of sample is "much worse" below this share of the in-sample return per day.
OVERFIT_SHARE = 0.5

Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class RunSummary:
    """The figures of one run that a sweep table shows (percent as percent, ``None`` undefined)."""

    trades: int
    net_pnl: float
    return_pct: float
    max_drawdown_pct: float
    sharpe: float | None
    win_rate_pct: float | None
    days: float

    @classmethod
    def of(cls, result: BacktestResult) -> RunSummary:
        """The figures of ``result``."""
        s = result.summary()
        return cls(
            trades=s.trades,
            net_pnl=s.net_pnl,
            return_pct=s.return_fraction * 100.0,
            max_drawdown_pct=s.max_drawdown_fraction * 100.0,
            sharpe=s.sharpe,
            win_rate_pct=None if s.win_rate is None else s.win_rate * 100.0,
            days=(result.end_ms - result.start_ms) / DAY_MS,
        )

    def to_json_dict(self) -> dict[str, Any]:
        """The figures as the ``in_sample`` / ``out_of_sample`` objects of the sweep's JSON."""
        return {
            "trades_count": self.trades, "net_pnl": self.net_pnl, "return_pct": self.return_pct,
            "max_drawdown_pct": self.max_drawdown_pct, "sharpe": self.sharpe, "win_rate_pct": self.win_rate_pct,
            "days": self.days,
        }


@dataclass(frozen=True, slots=True)
class SweepRow:
    """One combination: its values, its in-sample figures and, for the top ones with ``--oos``,
    its out-of-sample figures."""

    params: Params
    in_sample: RunSummary
    out_of_sample: RunSummary | None = None


@dataclass(frozen=True, slots=True)
class SweepResult:
    """Every combination, best first by ``RANKED_BY`` in sample; the ranges are [start, end) in ms."""

    rows: tuple[SweepRow, ...]
    names: tuple[str, ...]
    in_sample: tuple[int, int]
    out_of_sample: tuple[int, int] | None
    warnings: tuple[str, ...]
    overfit: tuple[str, ...]

    def to_json_dict(self) -> dict[str, Any]:
        """The sweep as the JSON document of ``rulebot backtest --vary ... --json``."""
        def span(r: tuple[int, int] | None) -> dict[str, str] | None:
            return None if r is None else {"start": iso_utc(r[0]), "end": iso_utc(r[1])}

        return {
            "schema": SWEEP_SCHEMA_ID,
            "ranked_by": RANKED_BY,
            "params": list(self.names),
            "in_sample": span(self.in_sample),
            "out_of_sample": span(self.out_of_sample),
            "runs": [
                {
                    "params": dict(row.params),
                    "in_sample": row.in_sample.to_json_dict(),
                    "out_of_sample": None if row.out_of_sample is None else row.out_of_sample.to_json_dict(),
                }
                for row in self.rows
            ],
            "warnings": list(self.warnings),
            "overfitting": list(self.overfit),
        }


def expand_grid(specs: Sequence[VarySpec]) -> list[Params]:
    """Every combination of the values, the first ``--vary`` varying slowest."""
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise CannotRun("--vary: each parameter may be varied once")
    return [tuple(zip(names, values, strict=True)) for values in itertools.product(*(s.values for s in specs))]


def split_ms(start_ms: int, end_ms: int, oos: float, interval_ms: int) -> int:
    """Where the out-of-sample part begins: the last ``oos`` share of [start, end), on a bar boundary."""
    bars = (end_ms - start_ms) // interval_ms
    in_bars = round(bars * (1.0 - oos))
    if in_bars < 1 or in_bars >= bars:
        raise CannotRun(f"--oos {oos:.0%}: the range of {bars} bars cannot be split so that both parts have bars")
    return start_ms + in_bars * interval_ms


# -- the workers ----------------------------------------------------------------------------------

_worker_data: MarketData | None = None


def _init_worker(data: MarketData) -> None:
    global _worker_data
    _worker_data = data


def _run_one(config: BacktestConfig, data: MarketData | None = None) -> RunSummary:
    data = data or _worker_data
    if data is None:
        raise RuntimeError("a sweep worker ran before its data was given")
    analyses = load_rule_files(config.files, dict(config.params))
    return RunSummary.of(replay(analyses, data, config))


def _run_all(configs: Sequence[BacktestConfig], data: MarketData, workers: int,
             done: Callable[[int], None] | None) -> list[RunSummary]:
    if workers <= 1 or len(configs) <= 1:
        out = []
        for config in configs:
            out.append(_run_one(config, data))
            if done is not None:
                done(1)
        return out
    # imported here: multiprocessing is a cost every single backtest would pay for nothing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(workers, len(configs)), initializer=_init_worker,
                             initargs=(data,)) as pool:
        futures = [pool.submit(_run_one, config) for config in configs]
        results = []
        for future in futures:
            results.append(future.result())
            if done is not None:
                done(1)
        return results


# -- the sweep -----------------------------------------------------------------------------------


def run_sweep(base: BacktestConfig, specs: Sequence[VarySpec], *, oos: float | None = None,
              workers: int | None = None, done: Callable[[int], None] | None = None) -> SweepResult:
    """Run ``base`` for every combination of ``specs`` and rank them (see the module docstring).

    ``done`` is told each finished run. Raises ``RuleFileError`` / ``CannotRun`` as a backtest does.
    """
    grid = expand_grid(specs)
    analyses = load_rule_files(base.files, {})
    declared = {name for a in analyses if a.rule_file is not None for name in a.rule_file.params}
    for spec in specs:
        if spec.name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise CannotRun(f"--vary {spec.name}: no rule file declares '{spec.name}' under 'params:' "
                            f"(declared: {known})")
    # every value must give a clean file: check each one once, here, before anything runs
    for spec in specs:
        for value in spec.values:
            load_rule_files(base.files, {spec.name: value})
    data = load_market_data(base.data, traded_symbols(analyses), base.timeframe)
    span = window(data, base.start_ms, base.end_ms)
    in_range = (span.start_ms, span.end_ms)
    out_range: tuple[int, int] | None = None
    if oos is not None:
        cut = split_ms(span.start_ms, span.end_ms, oos, data.interval_ms)
        in_range, out_range = (span.start_ms, cut), (cut, span.end_ms)
    jobs = workers if workers is not None else (os.cpu_count() or 1)
    in_configs = [replace(base, params=p, start_ms=in_range[0], end_ms=in_range[1]) for p in grid]
    in_sample = _run_all(in_configs, data, jobs, done)
    order = sorted(range(len(grid)), key=lambda i: -in_sample[i].net_pnl)
    outs: dict[int, RunSummary] = {}
    if out_range is not None:
        top = order[:OOS_CANDIDATES]
        out_configs = [replace(base, params=grid[i], start_ms=out_range[0], end_ms=base.end_ms) for i in top]
        outs = dict(zip(top, _run_all(out_configs, data, jobs, done), strict=True))
    rows = tuple(SweepRow(grid[i], in_sample[i], outs.get(i)) for i in order)
    return SweepResult(
        rows=rows,
        names=tuple(s.name for s in specs),
        in_sample=in_range,
        out_of_sample=out_range,
        warnings=data.warnings,
        overfit=tuple(w for row in rows if (w := overfit_warning(row)) is not None),
    )


def runs_needed(specs: Sequence[VarySpec], oos: float | None) -> int:
    """How many backtests a sweep runs (for a progress bar)."""
    n = 1
    for spec in specs:
        n *= len(spec.values)
    return n + (min(OOS_CANDIDATES, n) if oos is not None else 0)


def overfit_warning(row: SweepRow) -> str | None:
    """A plain sentence when a combination earned in sample but much less out of sample."""
    ins, out = row.in_sample, row.out_of_sample
    if out is None or ins.net_pnl <= 0 or ins.days <= 0 or out.days <= 0:
        return None
    in_rate, out_rate = ins.return_pct / ins.days, out.return_pct / out.days
    if out_rate >= OVERFIT_SHARE * in_rate:
        return None
    values = ", ".join(f"{k}={v}" for k, v in row.params)
    return (f"{values}: {ins.return_pct:+.2f}% in sample ({ins.days:.0f} days) but {out.return_pct:+.2f}% out of "
            f"sample ({out.days:.0f} days): much worse on data it was not chosen on, so probably fitted to noise")
