"""`make demo`: make candles, backtest an example strategy with its report, then lint and explain it.

    python examples/demo.py [--days 30] [--seed 7] [--out out]

Everything runs offline with no API key. The candles come from examples/generate_candles.py
(seeded: the same bytes every time); the rest is the real `rulebot` command line, run as a
trader would run it, so the demo proves the CLI end to end.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate_candles import DEFAULT_START, _parse_date, generate, write  # noqa: E402

STRATEGY = "examples/rsi_dip.yaml"


def rulebot_command() -> list[str]:
    """The `rulebot` script of this interpreter's environment (the .venv of `make demo`)."""
    script = Path(sys.executable).parent / "rulebot"
    if script.exists():
        return [str(script)]
    found = shutil.which("rulebot")
    return [found] if found else [sys.executable, "-m", "rulebot.cli"]


def step(title: str, args: list[str]) -> None:
    """Run one rulebot command from the project folder, showing it first; stop the demo if it fails."""
    shown = " ".join(["rulebot", *args])
    print(f"\n=== {title}\n$ {shown}", flush=True)
    result = subprocess.run([*rulebot_command(), *args], cwd=ROOT, check=False)
    if result.returncode != 0:
        print(f"demo: `{shown}` exited with status {result.returncode}", file=sys.stderr)
        raise SystemExit(result.returncode)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30.0, help="days of 1-minute candles (default 30)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the candles (default 7)")
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the candles and the report")
    args = parser.parse_args(argv)
    out = args.out if args.out.is_absolute() else ROOT / args.out
    began = time.perf_counter()

    candles_path = out / "candles.csv.gz"
    print(f"=== {args.days:g} days of 1-minute BTCUSDT-like candles (seed {args.seed}) -> {candles_path}", flush=True)
    write(generate(args.days, args.seed, _parse_date(DEFAULT_START)), candles_path)

    report, plot = out / "rsi_dip.html", out / "rsi_dip.png"
    step("Backtest the RSI-dip example", ["backtest", STRATEGY, "--data", str(candles_path),
                                          "--report", str(report), "--plot", str(plot)])
    step("Lint the example and starter rule files", ["lint", "examples", "rules"])
    step("Explain the strategy in plain English", ["explain", STRATEGY])

    print(f"\nDone in {time.perf_counter() - began:.1f} s. Open the report in a browser: {report}")
    print(f"A picture of the equity curve for a chat: {plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
