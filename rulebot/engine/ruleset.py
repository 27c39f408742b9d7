"""The ``RuleSet``: the compiled rules of every rule file the engine runs, immutable.

A reload builds a new ``FileRules`` beside the running one and the engine swaps a new
``RuleSet`` in with one assignment (ARCHITECTURE.md, "reload is a value swap"). Building one
from a file goes load -> parse -> check (``rulebot.lang.lint.analyze_file``) -> compile
(``rulebot.lang.compiler.compile_file``) with the engine's market, account fields and clock
bound in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError

from rulebot.actions.risk import Money, Percent, RiskConfigError, RiskLimits
from rulebot.engine.account import AccountBook
from rulebot.engine.rulestate import RuleLike
from rulebot.lang import filemodel as fm
from rulebot.lang.compiled import Bindings, Feed
from rulebot.lang.compiler import compile_file
from rulebot.lang.lint import FileAnalysis, analyze_file
from rulebot.market.state import MarketState
from rulebot.market.timeframes import normalize_timeframe, timeframe_ms
from rulebot.model.clock import Clock
from rulebot.model.enums import MarginMode, PositionMode, TpslMode
from rulebot.model.instruments import InstrumentRules, default_rules


@dataclass(frozen=True, slots=True)
class FileSettings:
    """The ``settings:`` of a file; ``None`` leaves the exchange's setting as it is."""

    leverage: Decimal | None = None
    position_mode: PositionMode | None = None
    margin_mode: MarginMode | None = None
    tpsl_mode: TpslMode | None = None


@dataclass(frozen=True, slots=True, eq=False)
class FileRules:
    """The compiled rules of one file (one per usable, enabled rule and symbol, in file order).

    ``key`` (the file's name) prefixes every rule's state key. ``feeds`` are the candle series
    the rules read: which timeframe is fed klines, which are aggregated from it, and the
    closed bars of history each needs at start.
    """

    path: str
    symbols: tuple[str, ...]
    rules: tuple[RuleLike, ...]
    timeframe: str = "1m"
    timezone: str = "UTC"
    limits: RiskLimits = field(default_factory=RiskLimits)
    settings: FileSettings = field(default_factory=FileSettings)
    feeds: tuple[Feed, ...] = ()
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", Path(self.path).name)

    @property
    def tpsl_mode(self) -> TpslMode:
        return self.settings.tpsl_mode or TpslMode.FULL


@dataclass(frozen=True, slots=True, eq=False)
class RuleSet:
    """Every file the engine runs, in the order given."""

    files: tuple[FileRules, ...] = ()

    def file(self, path: str) -> FileRules | None:
        """The file loaded from ``path`` (compared as resolved paths)."""
        wanted = _resolved(path)
        return next((f for f in self.files if _resolved(f.path) == wanted), None)

    def with_file(self, new: FileRules) -> RuleSet:
        """A new set with ``new`` in place of the file of the same path (or added at the end)."""
        wanted = _resolved(new.path)
        files = [new if _resolved(f.path) == wanted else f for f in self.files]
        if not any(f is new for f in files):
            files.append(new)
        return RuleSet(tuple(files))

    def symbols(self) -> tuple[str, ...]:
        """Every symbol of every file, in first-seen order."""
        return tuple(dict.fromkeys(s for f in self.files for s in f.symbols))


def _resolved(path: str) -> str:
    return str(Path(path).resolve())


@dataclass(frozen=True, slots=True)
class CompileContext:
    """What compiled rules are bound to: the engine's market, account fields, clock and instruments."""

    market: MarketState
    accounts: AccountBook
    clock: Clock
    instruments: Callable[[str], InstrumentRules]
    feed_timeframe: str | None = None  # the timeframe of the klines fed (a replay's data); None: the rules' lowest


def instrument_lookup(
    instruments: Mapping[str, InstrumentRules] | Callable[[str], InstrumentRules] | None,
) -> Callable[[str], InstrumentRules]:
    """A symbol -> instrument rules function from a table, a function, or the bundled defaults."""
    if instruments is None:
        return default_rules
    if callable(instruments):
        return instruments
    table = dict(instruments)
    return lambda symbol: table.get(symbol) or default_rules(symbol)


def risk_limits(risk: fm.Risk) -> RiskLimits:
    """A file's ``risk:`` block as the action layer's ``RiskLimits``; ``RiskConfigError`` names the bad key."""
    try:
        return RiskLimits(
            max_position=risk.max_position,
            max_order_value=None if risk.max_order_value is None else Money(
                amount=risk.max_order_value.amount, coin=(risk.max_order_value.coin or "").upper()
            ),
            max_open_orders=risk.max_open_orders,
            max_orders_per_minute=risk.max_orders_per_minute,
            max_daily_loss=_loss_limit(risk.max_daily_loss),
            price_band=None if risk.price_band is None else Percent(fraction=risk.price_band.fraction),
        )
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RiskConfigError(f"risk.{where}: {first['msg']}") from None


def _loss_limit(limit: fm.Percent | fm.Money | None) -> Percent | Money | None:
    if limit is None:
        return None
    if isinstance(limit, fm.Percent):
        return Percent(fraction=limit.fraction)
    return Money(amount=limit.amount, coin=(limit.coin or "").upper())


def file_settings(settings: fm.Settings) -> FileSettings:
    """A file's ``settings:`` block."""
    return FileSettings(
        leverage=settings.leverage,
        position_mode=settings.position_mode,
        margin_mode=settings.margin_mode,
        tpsl_mode=settings.tpsl_mode,
    )


def compile_analysis(analysis: FileAnalysis, ctx: CompileContext) -> FileRules:
    """Compile a file that analysed without errors into its ``FileRules``.

    Raises ``ValueError`` for a file with errors (the caller reports its diagnostics) and
    ``RiskConfigError`` for a ``risk:`` value the action layer cannot apply.
    """
    rule_file = analysis.rule_file
    if rule_file is None or analysis.has_errors:
        raise ValueError(f"{analysis.file} has errors; it cannot be compiled")
    tf_ms = timeframe_ms(rule_file.timeframe) or 60_000
    accounts = ctx.accounts
    instruments = ctx.instruments
    bindings = Bindings(
        market=ctx.market,
        account=lambda symbol: accounts.fields(symbol, tf_ms),
        clock=ctx.clock,
        timezone=rule_file.timezone,
        tick_size=lambda symbol: float(instruments(symbol).tick_size),
    )
    compiled = compile_file(analysis, bindings, feed_timeframe=ctx.feed_timeframe)
    return FileRules(
        path=analysis.file,
        symbols=tuple(rule_file.symbols),
        rules=tuple(compiled.rules),
        timeframe=normalize_timeframe(rule_file.timeframe),
        timezone=rule_file.timezone,
        limits=risk_limits(rule_file.risk),
        settings=file_settings(rule_file.settings),
        feeds=compiled.feeds,
    )


def load_ruleset(paths: Sequence[str], ctx: CompileContext) -> tuple[RuleSet, list[FileAnalysis]]:
    """Analyse and compile each file; returns the set of the clean files and the analyses of
    the files with errors (whose diagnostics the caller prints)."""
    files: list[FileRules] = []
    failed: list[FileAnalysis] = []
    for path in paths:
        analysis = analyze_file(path)
        if analysis.rule_file is None or analysis.has_errors:
            failed.append(analysis)
            continue
        files.append(compile_analysis(analysis, ctx))
    return RuleSet(tuple(files)), failed


__all__ = [
    "CompileContext", "FileRules", "FileSettings", "RiskConfigError", "RuleSet", "compile_analysis",
    "file_settings", "instrument_lookup", "load_ruleset", "risk_limits",
]
