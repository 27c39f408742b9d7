"""Makes the helper modules of this folder (``paper_kit``) importable under both of pytest's
import modes (prepend and importlib)."""

import sys
from pathlib import Path

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
