"""Lint speed: 1,000 rules in 10 files, warm (in-process) and cold (a fresh `rulebot lint` process).

Prints one figure per line: ``lint_rules_per_s`` (warm, whole pipeline: YAML, parse, check)
and ``lint_cold_cli_s`` (wall time of the CLI on the 10 files). Targets: >= 5,000 rules/s
warm, cold CLI under 1.0 s.

Each figure is the best of several runs (``WARM_PASSES`` passes over the corpus, ``COLD_RUNS``
CLI runs): on a shared host, one process's passes over the same files differ by up to 2x, and
the fastest is the one least disturbed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rulebot.lang.lint import analyze_file

FILES = 10
RULES_PER_FILE = 100
WARM_PASSES = 10
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


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="rulebot-lint-bench-"))
    try:
        paths = write_corpus(folder)
        for path in paths:  # warm: grammar loaded, caches filled
            analysis = analyze_file(path)
            errors = [d for d in analysis.diagnostics if d.is_error]
            if errors:
                raise SystemExit(f"bench corpus has errors: {errors[0]}")
        best = float("inf")
        for _ in range(WARM_PASSES):
            start = time.perf_counter()
            for path in paths:
                analyze_file(path)
            best = min(best, time.perf_counter() - start)
        print(f"lint_rules_per_s {FILES * RULES_PER_FILE / best:.0f}")
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
