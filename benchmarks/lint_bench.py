"""Lint speed: 1,000 rules in 10 files, warm (in-process) and cold (a fresh `rulebot lint` process).

Prints one figure per line:

* ``lint_rules_per_s``: warm, what `rulebot lint FOLDER` runs (``lint_paths``: YAML, parse,
  check, keeping the diagnostics). Target >= 5,000 rules/s.
* ``lint_analyze_rules_per_s``: warm, ``analyze_file`` on each file, which also hands over every
  rule's AST and checks (what `explain`, `backtest` and the engine's reload take); the cyclic
  collector walks those once per file, which lint itself spares.
* ``lint_cold_cli_s``: wall time of the CLI on the 10 files. Target under 1.0 s.

Each figure is the best of several runs (``WARM_PASSES`` passes over the corpus, ``COLD_RUNS``
CLI runs): on a shared host, one process's passes over the same files differ by up to 2x, for
seconds at a time, and the fastest is the one least disturbed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from rulebot.lang.lint import analyze_file, lint_paths

FILES = 10
RULES_PER_FILE = 100
WARM_PASSES = 25
COLD_RUNS = 5

# Every number in a rule varies with the rule's index, so no when- or then-text repeats within
# a file (lint parses and checks each distinct text of a file once; repeats would flatter it).
_TEMPLATES = (
    ("rsi({n}) < {lo} and position == 0", "buy 0.{q} limit bid1 tp {tp}% trail {sl}%"),
    ("ema({n}) crosses above ema({m}) and adx({k}) > {lo} and position is flat", "buy 0.{q} market sl {sl}%"),
    ("close < bb_lower({n}, 2) and open_orders == 0", "buy {usd} usdt limit bid1 - 0.0{k}% tp {tp}%"),
    ("macd_hist() > {d} and macd_hist()[{k}] <= 0 and position > 0", "close {pct}% market"),
    ("spread_pct < 0.0{k}% and bid1_size > {lo} and position == 0", "buy 0.{q} limit bid1 post only tp {tp}%"),
    ("time between 08:{mm} and 20:00 and change({n}) < -{d}% and position == 0", "buy 0.{q} market sl {sl}%"),
    ("rsi({n}, 5m) > {hi} and position > 0", 'close market, notify "overbought {q} at {{{{price}}}}"'),
    ("(close > donchian_upper({n}) and close > sma({m})) for {k} bars and position == 0", "buy 0.{q} market tp {tp}%"),
)


def _numbers(f: int, r: int) -> dict[str, object]:
    i = f * RULES_PER_FILE + r
    return {
        "n": 5 + i % 45, "m": 50 + i % 150, "k": 1 + i % 9, "lo": 20 + i % 17, "hi": 60 + i % 31,
        "q": 100 + i, "tp": f"{1 + i % 7}.{i % 10}", "sl": f"0.{1 + i % 9}{i % 7}", "usd": 50 + i,
        "d": f"{i % 5}.{1 + i % 9}", "pct": 1 + i % 99, "mm": f"{i % 60:02d}",
    }


def write_corpus(folder: Path) -> list[Path]:
    """Ten files of one hundred rules each; no when- or then-text occurs twice in a file."""
    paths = []
    for f in range(FILES):
        lines = ["symbol: BTCUSDT", "timeframe: 1m", "risk:", "  max_position: 0.5", "rules:"]
        for r in range(RULES_PER_FILE):
            when, then = _TEMPLATES[(f + r) % len(_TEMPLATES)]
            values = _numbers(f, r)
            lines.append(f"  - name: rule {f}-{r}")
            lines.append(f"    when: '{when.format(**values)}'")
            lines.append(f"    then: '{then.format(**values)}'")
            lines.append("    cooldown: 5m")
        path = folder / f"rules_{f:02d}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _best(run: Callable[[], object]) -> float:
    """The fastest of ``WARM_PASSES`` runs, in seconds."""
    best = float("inf")
    for _ in range(WARM_PASSES):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def _analyze_each(paths: list[Path]) -> None:
    """``analyze_file`` on each file, each analysis dropped before the next (as a reload does)."""
    for path in paths:
        analyze_file(path)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="rulebot-lint-bench-"))
    try:
        paths = write_corpus(folder)
        report = lint_paths([str(folder)])  # warm: grammar loaded, caches filled
        errors = [d for d in report.diagnostics if d.is_error]
        if report.files_checked != FILES or errors:
            raise SystemExit(f"the bench corpus does not lint clean: {errors[:1]}")
        print(f"lint_rules_per_s {FILES * RULES_PER_FILE / _best(lambda: lint_paths([str(folder)])):.0f}")
        rate = FILES * RULES_PER_FILE / _best(lambda: _analyze_each(paths))
        print(f"lint_analyze_rules_per_s {rate:.0f}")
        exe = Path(sys.executable).with_name("rulebot")
        cold = float("inf")
        for _ in range(COLD_RUNS):
            start = time.perf_counter()
            subprocess.run([str(exe), "lint", str(folder)], capture_output=True, check=False)
            cold = min(cold, time.perf_counter() - start)
        print(f"lint_cold_cli_s {cold:.3f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
