"""Parameter sweeps: grid expansion, --vary parsing, ranking, the out-of-sample split, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bt_kit import HAND_BARS, MIN, SWEEP_RULES, T0, csv_text, write
from rulebot.backtest.errors import CannotRun
from rulebot.backtest.options import DataSpec, OptionError, VarySpec, parse_vary
from rulebot.backtest.runner import BacktestConfig, run_backtest
from rulebot.backtest.sweep import RunSummary, SweepRow, expand_grid, overfit_warning, run_sweep, split_ms
from rulebot.cli import app


def test_vary_ranges_include_the_end_on_the_grid_with_exact_decimals() -> None:
    assert parse_vary("rsi_low=20..35 step 5") == VarySpec("rsi_low", ("20", "25", "30", "35"))
    assert parse_vary("x=20..34 step 5").values == ("20", "25", "30")
    assert parse_vary("size = 0.1..0.3 step 0.1").values == ("0.1", "0.2", "0.3")
    assert parse_vary("k=-1..1 step 0.5").values == ("-1", "-0.5", "0", "0.5", "1")
    assert parse_vary("n=7,14,21").values == ("7", "14", "21")
    for bad in ("rsi_low", "rsi_low=20..35", "x=35..20 step 5", "x=1..2 step 0", "x=a..b step 1", "=1,2"):
        with pytest.raises(OptionError):
            parse_vary(bad)


def test_the_grid_is_every_combination_first_option_slowest() -> None:
    grid = expand_grid([VarySpec("a", ("1", "2")), VarySpec("b", ("x", "y", "z"))])
    assert grid == [(("a", "1"), ("b", "x")), (("a", "1"), ("b", "y")), (("a", "1"), ("b", "z")),
                    (("a", "2"), ("b", "x")), (("a", "2"), ("b", "y")), (("a", "2"), ("b", "z"))]
    with pytest.raises(CannotRun):
        expand_grid([VarySpec("a", ("1",)), VarySpec("a", ("2",))])


def test_the_split_is_on_a_bar_boundary() -> None:
    assert split_ms(T0, T0 + 10 * MIN, 0.3, MIN) == T0 + 7 * MIN
    assert split_ms(T0, T0 + 10 * MIN, 0.25, MIN) == T0 + 8 * MIN  # 7.5 bars round to 8
    with pytest.raises(CannotRun):
        split_ms(T0, T0 + 2 * MIN, 0.01, MIN)


def summary(ret: float, days: float) -> RunSummary:
    return RunSummary(trades=3, net_pnl=ret * 100, return_pct=ret, max_drawdown_pct=1.0, sharpe=None,
                      win_rate_pct=None, days=days)


def test_overfitting_is_told_when_out_of_sample_is_much_worse_per_day() -> None:
    worse = SweepRow((("a", "1"),), summary(7.0, 7.0), summary(-0.5, 3.0))
    text = overfit_warning(worse)
    assert text is not None and text.startswith("a=1: +7.00% in sample (7 days) but -0.50% out of sample")
    assert overfit_warning(SweepRow((("a", "1"),), summary(7.0, 7.0), summary(2.5, 3.0))) is None  # 0.83 vs 1 a day
    assert overfit_warning(SweepRow((("a", "1"),), summary(-1.0, 7.0), summary(-9.0, 3.0))) is None  # never earned
    assert overfit_warning(SweepRow((("a", "1"),), summary(7.0, 7.0))) is None


@pytest.fixture()
def sweep_config(tmp_path: Path) -> BacktestConfig:
    rules = write(tmp_path / "sweep.yaml", SWEEP_RULES)
    data = write(tmp_path / "bars.csv", csv_text(HAND_BARS))
    return BacktestConfig(files=(rules,), data=(DataSpec(data),))


def test_a_sweep_ranks_by_net_pnl_and_matches_single_runs(sweep_config: BacktestConfig) -> None:
    specs = [VarySpec("level", ("104", "105", "110.5")), VarySpec("size", ("0.2", "0.5"))]
    sweep = run_sweep(sweep_config, specs, workers=2)
    assert len(sweep.rows) == 6
    pnls = [row.in_sample.net_pnl for row in sweep.rows]
    assert pnls == sorted(pnls, reverse=True)
    for row in sweep.rows:
        single = run_backtest(BacktestConfig(sweep_config.files, sweep_config.data, params=row.params))
        assert row.in_sample == RunSummary.of(single)
    # at level 110.5 no close is above it: nothing trades
    assert all(r.in_sample.trades == 0 for r in sweep.rows if dict(r.params)["level"] == "110.5")


def test_out_of_sample_runs_the_top_candidates_on_the_last_part(sweep_config: BacktestConfig) -> None:
    sweep = run_sweep(sweep_config, [VarySpec("level", ("104", "105"))], oos=0.3, workers=1)
    assert sweep.in_sample == (T0, T0 + 7 * MIN) and sweep.out_of_sample == (T0 + 7 * MIN, T0 + 10 * MIN)
    assert all(row.out_of_sample is not None for row in sweep.rows)
    best = sweep.rows[0]
    inside = run_backtest(BacktestConfig(sweep_config.files, sweep_config.data, end_ms=T0 + 7 * MIN,
                                         params=best.params))
    outside = run_backtest(BacktestConfig(sweep_config.files, sweep_config.data, start_ms=T0 + 7 * MIN,
                                          params=best.params))
    assert best.in_sample == RunSummary.of(inside) and best.out_of_sample == RunSummary.of(outside)
    assert best.out_of_sample.days == pytest.approx(3 / 1440)


def test_a_parameter_no_file_declares_is_refused(sweep_config: BacktestConfig) -> None:
    with pytest.raises(CannotRun, match="no rule file declares 'levle'"):
        run_sweep(sweep_config, [VarySpec("levle", ("1",))], workers=1)


def test_the_cli_prints_a_ranked_table_or_json(sweep_config: BacktestConfig) -> None:
    runner = CliRunner()
    base = ["backtest", str(sweep_config.files[0]), "--data", str(sweep_config.data[0].path)]
    result = runner.invoke(app, [*base, "--vary", "level=104..106 step 1", "--oos", "30%", "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    assert "ranked by net pnl in sample" in result.stdout and "OOS net PnL" in result.stdout
    result = runner.invoke(app, [*base, "--vary", "level=104,105", "--json", "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "rulebot.sweep/1" and doc["ranked_by"] == "net_pnl" and doc["params"] == ["level"]
    assert [set(run) for run in doc["runs"]] == [{"params", "in_sample", "out_of_sample"}] * 2
    assert doc["out_of_sample"] is None
    result = runner.invoke(app, [*base, "--vary", "level=104,105", "--report", "x.html"])
    assert result.exit_code == 2 and "without --vary" in result.stderr
