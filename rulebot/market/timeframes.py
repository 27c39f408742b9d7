"""Timeframes: canonical names, lengths, and bar boundaries aligned to UTC epoch multiples."""

from __future__ import annotations

MINUTE_MS = 60_000
DAY_MS = 86_400_000

# canonical name -> length in ms; 1w and 1M come only from the venue's own klines (a week
# starts on a Monday, a month has no fixed length), so they have no fixed length here
_FIXED_MS: dict[str, int] = {
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": 60 * MINUTE_MS,
    "2h": 120 * MINUTE_MS,
    "4h": 240 * MINUTE_MS,
    "6h": 360 * MINUTE_MS,
    "12h": 720 * MINUTE_MS,
    "1d": DAY_MS,
}
TIMEFRAMES: tuple[str, ...] = (*_FIXED_MS, "1w", "1M")

_ALIASES = {"60m": "1h", "120m": "2h", "240m": "4h", "360m": "6h", "720m": "12h", "D": "1d", "W": "1w", "M": "1M"}


def normalize_timeframe(name: str) -> str:
    """The canonical spelling of a timeframe (``60m`` -> ``1h``, ``D`` -> ``1d``); ValueError if unknown."""
    if name in _FIXED_MS or name in ("1w", "1M"):
        return name
    alias = _ALIASES.get(name)
    if alias is None:
        raise ValueError(f"unknown timeframe '{name}' (known: {', '.join(TIMEFRAMES)})")
    return alias


def timeframe_ms(name: str) -> int | None:
    """Length of a bar in ms, or None for 1w and 1M (not a fixed multiple of the epoch)."""
    return _FIXED_MS.get(normalize_timeframe(name))


def bucket_start(ts_ms: int, tf_ms: int) -> int:
    """Start of the bar of length ``tf_ms`` holding ``ts_ms``: the epoch multiple at or before it."""
    return ts_ms - ts_ms % tf_ms


def check_aggregation(source: str, target: str) -> tuple[int, int]:
    """Lengths of a source and a target timeframe that bars can be aggregated between.

    The target must be a whole multiple of the source and divide a day, so that its bars
    start at UTC epoch multiples made of whole source bars. Raises ValueError otherwise.
    """
    src_ms = timeframe_ms(source)
    dst_ms = timeframe_ms(target)
    if src_ms is None or dst_ms is None:
        raise ValueError(f"cannot aggregate '{source}' into '{target}': only fixed timeframes up to 1d")
    if dst_ms <= src_ms or dst_ms % src_ms or DAY_MS % dst_ms:
        raise ValueError(f"cannot aggregate '{source}' into '{target}': not a whole multiple")
    return src_ms, dst_ms
