"""Lint speed: 1,000 rules in 10 files, warm (in-process) and cold (a fresh `rulebot lint` process).

Prints one figure per line: ``lint_rules_per_s`` (warm, whole pipeline: YAML, parse, check)
and ``lint_cold_cli_s`` (wall time of the CLI on the 10 files). Targets: >= 5,000 rules/s
warm, cold CLI under 1.0 s.
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

_TEMPLATES = (
    "when rsi({n}) < {lo} and position == 0 then buy 0.01 limit bid1 tp 2% trail 1%",
    "when ema({n}) crosses above ema({m}) and adx(14) > 25 and position is flat then buy 0.01 market sl 1%",
    "when close < bb_lower({n}, 2) and open_orders == 0 then buy 100 usdt limit bid1 - 0.05% tp 1.5%",
    "when macd_hist() > 0 and macd_hist()[1] <= 0 and position > 0 then close 50% market",
    "when spread_pct < 0.02% and bid1_size > {lo} and position == 0 then buy 0.002 limit bid1 post only",
    "when time between 08:00 and 20:00 and change({n}) < -2% and position == 0 then buy 0.01 market",
    "when rsi({n}, 5m) > {hi} and position > 0 then close market, notify \"overbought at {{price}}\"",
    "when (close > donchian_upper({n}) and close > sma({m})) for 3 bars and position == 0 then buy 0.01 market",
)


def write_corpus(folder: Path) -> list[Path]:
    """Ten files of one hundred distinct rules each."""
    paths = []
    for f in range(FILES):
        lines = ["symbol: BTCUSDT", "timeframe: 1m", "risk:", "  max_position: 0.5", "rules:"]
        for r in range(RULES_PER_FILE):
            template = _TEMPLATES[(f + r) % len(_TEMPLATES)]
            text = template.format(n=5 + (r % 30), m=40 + (r % 50), lo=20 + (r % 10), hi=70 + (r % 10))
            lines.append(f"  - name: rule {f}-{r}")
            lines.append(f"    when: '{text.split(' then ')[0][5:]}'")
            lines.append(f"    then: '{text.split(' then ')[1]}'")
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
        for _ in range(3):
            start = time.perf_counter()
            for path in paths:
                analyze_file(path)
            best = min(best, time.perf_counter() - start)
        print(f"lint_rules_per_s {FILES * RULES_PER_FILE / best:.0f}")
        exe = Path(sys.executable).with_name("rulebot")
        cold = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([str(exe), "lint", str(folder)], capture_output=True, check=False)
            cold = min(cold, time.perf_counter() - start)
        print(f"lint_cold_cli_s {cold:.3f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
