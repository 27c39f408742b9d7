"""`make demo` runs end to end through the real CLI (kept short: two days of candles)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_backtests_lints_and_explains(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py"), "--days", "2", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Trades" in result.stdout and "Fees paid" in result.stdout  # the backtest's summary table
    assert "0 errors" in result.stderr  # lint
    assert "rule 1 of 2: buy the dip" in result.stdout  # explain
    assert f"Open the report in a browser: {tmp_path / 'rsi_dip.html'}" in result.stdout
    assert (tmp_path / "rsi_dip.html").stat().st_size > 1_000_000
    assert (tmp_path / "rsi_dip.png").read_bytes()[:4] == b"\x89PNG"
