"""Run every benchmark of `make bench`; each prints one figure per line as ``name value``.

Each benchmark runs in its own process so that one's imports and caches do not colour another's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ("lint_bench.py", "eval_bench.py", "replay_bench.py", "backtest_bench.py")


def main() -> int:
    failed = 0
    for name in BENCHES:
        script = HERE / name
        if not script.exists():
            continue
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, check=False)
        if result.returncode != 0:
            print(f"# {name} failed with exit status {result.returncode}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
