"""Makes the helper modules of this folder (``engine_kit``) and ``benchmarks/`` importable under
both of pytest's import modes (prepend and importlib)."""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
for folder in (_HERE, _HERE.parents[1] / "benchmarks"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
