"""Makes the helper module of this folder (``bt_kit``) importable under both of pytest's import
modes (prepend and importlib)."""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))
