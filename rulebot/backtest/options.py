"""The values a trader types for ``rulebot backtest``, checked and turned into typed ones.

Each parser raises :class:`OptionError` with one sentence naming the option and what was
expected; the CLI prints it and exits with status 2 (could not run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

# A fee above this is surely a percent written without its '%' (Bybit's highest is 0.1%).
MAX_FEE_RATE = Decimal("0.01")
_SYMBOL = re.compile(r"^[A-Za-z0-9]{2,30}$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RANGE = re.compile(r"^(?P<a>[^.][^ ]*?)\s*\.\.\s*(?P<b>\S+?)(?:\s+step\s+(?P<s>\S+))?$")
MAX_GRID = 10_000


class OptionError(ValueError):
    """A command-line value that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class DataSpec:
    """One ``--data``: a kline file, for ``symbol`` or (``None``) for the one symbol traded."""

    path: Path
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class VarySpec:
    """One ``--vary``: a parameter name and the texts of the values to try, in order."""

    name: str
    values: tuple[str, ...]


def parse_time(text: str, option: str) -> int:
    """``2024-01-01`` or ``2024-01-01T08:00`` (UTC unless an offset is given) as epoch ms."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise OptionError(f"{option} {text!r}: expected a UTC date like 2024-01-01 or 2024-01-01T08:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _decimal(text: str, option: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace("_", ""))
    except InvalidOperation:
        raise OptionError(f"{option} {text!r}: expected {what}") from None
    if not value.is_finite():
        raise OptionError(f"{option} {text!r}: expected {what}")
    return value


def parse_rate(text: str, option: str) -> Decimal:
    """A fee rate as a percent (``0.055%``) or a fraction (``0.00055``); 0 is allowed."""
    raw = text.strip()
    percent = raw.endswith("%")
    value = _decimal(raw.rstrip("%"), option, "a rate like 0.055% or 0.00055")
    if percent:
        value /= 100
    if value < 0:
        raise OptionError(f"{option} {text!r}: a fee rate cannot be negative")
    if value > MAX_FEE_RATE:
        raise OptionError(
            f"{option} {text!r} is a fee of {value * 100:f}% per fill; for a percent write it with '%' (0.055%)"
        )
    return value


def parse_balance(text: str) -> Decimal:
    """A positive starting balance."""
    value = _decimal(text, "--balance", "a number like 10000")
    if value <= 0:
        raise OptionError(f"--balance {text!r}: the starting balance must be above 0")
    return value


def parse_data(values: list[str]) -> tuple[DataSpec, ...]:
    """``--data FILE`` (once) or ``--data SYMBOL=FILE`` (once per symbol)."""
    if not values:
        raise OptionError("--data is required: a kline CSV, or SYMBOL=CSV for each symbol")
    specs: list[DataSpec] = []
    for value in values:
        symbol, sep, path = value.partition("=")
        if sep and _SYMBOL.match(symbol.strip()):
            specs.append(DataSpec(Path(path.strip()), symbol.strip().upper()))
        else:
            specs.append(DataSpec(Path(value)))
    unnamed = [s for s in specs if s.symbol is None]
    if unnamed and len(specs) > 1:
        raise OptionError(
            f"--data {unnamed[0].path}: with several --data options, name each symbol: --data BTCUSDT=btc.csv"
        )
    seen: set[str] = set()
    for spec in specs:
        if spec.symbol is not None:
            if spec.symbol in seen:
                raise OptionError(f"--data: {spec.symbol} is given twice")
            seen.add(spec.symbol)
    return tuple(specs)


def parse_vary(text: str) -> VarySpec:
    """``NAME=A..B step S`` (A, A+S, ... up to B included when on the grid) or ``NAME=A,B,C``."""
    name, sep, rest = text.partition("=")
    name, rest = name.strip(), rest.strip()
    usage = f'--vary {text!r}: expected NAME=A..B step S, e.g. "rsi_low=20..35 step 5", or NAME=A,B,C'
    if not sep or not _NAME.match(name) or not rest:
        raise OptionError(usage)
    match = _RANGE.match(rest)
    if match is None:
        values = [v.strip() for v in rest.split(",")]
        if any(not v for v in values):
            raise OptionError(usage)
        numbers = [_decimal(v, "--vary", f"numbers in {usage[len('--vary '):]}") for v in values]
        return VarySpec(name, tuple(_text(n) for n in numbers))
    if match["s"] is None:
        raise OptionError(f"--vary {text!r}: a range needs a step: {name}={match['a']}..{match['b']} step 1")
    a = _decimal(match["a"], "--vary", "a number before '..'")
    b = _decimal(match["b"], "--vary", "a number after '..'")
    step = _decimal(match["s"], "--vary", "a number after 'step'")
    if step <= 0:
        raise OptionError(f"--vary {text!r}: the step must be above 0")
    if b < a:
        raise OptionError(f"--vary {text!r}: the range goes down ({_text(a)} > {_text(b)})")
    count = int((b - a) / step) + 1
    if count > MAX_GRID:
        raise OptionError(f"--vary {text!r}: {count:,} values; at most {MAX_GRID:,}")
    return VarySpec(name, tuple(_text(a + i * step) for i in range(count)))


def _text(value: Decimal) -> str:
    """A value as the rule language writes it: ``20``, ``0.15`` (no exponent, no trailing zeros)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def parse_share(text: str, option: str) -> float:
    """A share of the time range: ``30%`` or ``0.3``, strictly between 0 and 1."""
    raw = text.strip()
    value = _decimal(raw.rstrip("%"), option, "a share like 30%")
    if raw.endswith("%") or value >= 1:
        value /= 100
    if not Decimal(0) < value < Decimal(1):
        raise OptionError(f"{option} {text!r}: expected a share between 0% and 100%, like 30%")
    return float(value)
