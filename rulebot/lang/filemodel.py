"""The shape of a rule file (LANGUAGE.md §1): pydantic models that validate it, and the frozen
results the rest of rulebot reads.

Validation is pydantic v2, strict and ``extra="forbid"``: ``FileModel``, ``SettingsModel`` (kept
as ``Settings``), ``RiskModel`` (kept as ``Risk``) and ``RuleItemModel``. Values that need reading
(durations, times of day, timeframes, money, ...) go through ``rulebot.lang.values`` inside
validators that raise ``PydanticCustomError`` of type ``rulebot`` carrying the diagnostic code,
message and hint, so that the loader turns every validation error into a diagnostic in the
author's words at the right YAML node. The loader hands these validators the scalar text as
written wherever YAML's own typing would lose it (``at: 8:30`` is an integer in YAML 1.1).

The results, ``RuleFile`` and ``Rule``, are frozen slotted dataclasses: they carry ``Source``
objects and spans, which need no validation, and they are read on hot paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Callable, Mapping

from pydantic import BaseModel, BeforeValidator, ConfigDict, StrictBool, StrictInt
from pydantic_core import PydanticCustomError

from rulebot.lang import values
from rulebot.lang.makers import maker
from rulebot.lang.source import Location, Source
from rulebot.model.enums import Category, MarginMode, PositionMode, TpslMode, TriggerMode

_STRICT = ConfigDict(strict=True, frozen=True, extra="forbid")


def problem(code: str, message: str, hint: str = "") -> PydanticCustomError:
    """A validation error that the loader reports as diagnostic ``code`` with this message and hint."""
    return PydanticCustomError("rulebot", "{message}", {"code": code, "message": message, "hint": hint})


def wrong_kind(expected: str, hint: str = "", code: str = "E108") -> PydanticCustomError:
    """A value of the wrong kind; the loader says "`field` must be <expected>, found <what>"."""
    return PydanticCustomError("rulebot_kind", "must be {expected}",
                               {"code": code, "expected": expected, "hint": hint})


def _reader(code: str, read: Callable[[str], Any], expected: str) -> Callable[[Any], Any]:
    def validate(value: Any) -> Any:
        if not isinstance(value, str):
            raise wrong_kind(expected, code=code)
        try:
            return read(value)
        except values.ValueProblem as error:
            raise problem(code, error.message, error.hint) from None
    return validate


def _choice(enum: type, expected: str) -> Callable[[Any], Any]:
    words = tuple(member.value for member in enum)

    def validate(value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in words:
            return enum(value.strip().lower())
        shown = values.shown(value) if isinstance(value, str) else None
        if shown is None:
            raise wrong_kind(expected, code="E110")
        hint = values.suggest(value.strip(), list(words)) or "choose " + " or ".join(words)
        raise problem("E110", f"{shown} is not one of {', '.join(words)}", hint)
    return validate


def _number(minimum: Decimal, whole: bool) -> Callable[[Any], Any]:
    expected = "a whole number" if whole else "a number"

    def validate(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not isinstance(value, int)):
            hint = "remove the quotes" if isinstance(value, str) and _looks_numeric(value) else ""
            raise wrong_kind(expected, hint)
        number = values.decimal_of(value)
        if not number.is_finite() or number < minimum:
            raise wrong_kind(f"at least {minimum}", code="E308")
        return int(value) if whole else number
    return validate


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _one_or_list(empty: tuple[str, str] | None = None,
                 most: tuple[int, str, str] | None = None) -> Callable[[Any], Any]:
    """One value or a list of them, as a tuple. ``empty``: (code, message) when an empty list is an
    error; ``most``: (count, noun, code) for the longest list accepted."""
    def validate(value: Any) -> Any:
        items = tuple(value) if isinstance(value, list) else (value,)
        if empty is not None and not items:
            raise problem(*empty)
        if most is not None and len(items) > most[0]:
            # Each item is read on its own; a list of thousands is a mistake, and reading it would be slow.
            count, noun, code = most
            raise problem(code, f"the list holds {len(items):,} {noun}, more than the {count:,} rulebot takes")
        return items
    return validate


def _mapping_or_none(value: Any) -> Any:
    return {} if value is None else value


class Percent(BaseModel):
    """A percent, kept as its fraction: ``3%`` is ``Decimal('0.03')``."""

    model_config = _STRICT
    fraction: Decimal


class Money(BaseModel):
    """An amount of a coin; ``coin`` is ``None`` for a bare number, read in the settle coin."""

    model_config = _STRICT
    amount: Decimal
    coin: str | None = None


def _percent(lowest: Decimal, highest: Decimal) -> Callable[[Any], Any]:
    def validate(value: Any) -> Any:
        if not isinstance(value, str) or "%" not in value:
            raise wrong_kind("a percent like 2%")
        try:
            fraction = values.parse_percent(value)
        except values.ValueProblem as error:
            raise problem("E108", error.message, error.hint) from None
        if not lowest < fraction <= highest:
            raise wrong_kind(f"a percent above {lowest * 100:g}% and at most {highest * 100:g}%", code="E308")
        return Percent(fraction=fraction)
    return validate


def _money(value: Any) -> Any:
    if isinstance(value, str):
        try:
            amount, coin = values.parse_money(value)
        except values.ValueProblem as error:
            raise problem("E108", error.message, error.hint) from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        amount, coin = values.decimal_of(value), None
    else:
        raise wrong_kind("an amount like 5000 usdt")
    if not amount.is_finite() or amount < 0:
        raise wrong_kind("an amount of 0 or more", code="E308")
    return Money(amount=amount, coin=coin)


def _loss_limit(value: Any) -> Any:
    if isinstance(value, str) and "%" in value:
        return _percent(Decimal(0), Decimal(1))(value)
    return _money(value)


def _param_value(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise wrong_kind("a number or text")
    return value


def _param_name(value: Any) -> Any:
    if not isinstance(value, str) or not value.isidentifier():
        raise problem("E108", f"{values.shown(str(value))} is not a parameter name",
                      "a parameter name is letters, digits and '_', like rsi_low")
    return value


def _duration(minimum: int) -> Callable[[Any], Any]:
    read = _reader("E116", values.parse_duration, "a duration like 15m")

    def validate(value: Any) -> Any:
        seconds = read(value)
        if seconds < minimum:
            raise wrong_kind(f"at least {minimum}s", code="E116")
        return seconds
    return validate


Symbol = Annotated[str, BeforeValidator(_reader("E119", values.parse_symbol, "a symbol like BTCUSDT"))]
Timeframe = Annotated[str, BeforeValidator(_reader("E115", values.parse_timeframe, "a timeframe like 5m"))]
Timezone = Annotated[str, BeforeValidator(_reader("E117", values.parse_timezone, "a timezone like UTC"))]
TimeOfDay = Annotated[tuple[int, int], BeforeValidator(
    _reader("E114", values.parse_time_of_day, "a time of day like 08:00"))]
Cron = Annotated[str, BeforeValidator(_reader("E113", values.parse_cron, "a cron expression like '0 */4 * * *'"))]
ParamName = Annotated[str, BeforeValidator(_param_name)]
ParamValue = Annotated[int | float | str, BeforeValidator(_param_value)]


class SettingsModel(BaseModel):
    """``settings:``; ``None`` leaves the exchange's setting as it is."""

    model_config = _STRICT
    leverage: Annotated[Decimal, BeforeValidator(_number(Decimal(1), whole=False))] | None = None
    position_mode: Annotated[PositionMode, BeforeValidator(_choice(PositionMode, "oneway or hedge"))] | None = None
    margin_mode: Annotated[MarginMode, BeforeValidator(_choice(MarginMode, "isolated or cross"))] | None = None
    tpsl_mode: Annotated[TpslMode, BeforeValidator(_choice(TpslMode, "full or partial"))] | None = None


class RiskModel(BaseModel):
    """``risk:``, the guards of the action layer; ``None`` means no such guard."""

    model_config = _STRICT
    max_position: Annotated[Decimal, BeforeValidator(_number(Decimal(0), whole=False))] | None = None
    max_order_value: Annotated[Money, BeforeValidator(_money)] | None = None
    max_open_orders: Annotated[int, BeforeValidator(_number(Decimal(0), whole=True))] | None = None
    max_orders_per_minute: Annotated[int, BeforeValidator(_number(Decimal(0), whole=True))] | None = None
    max_daily_loss: Annotated[Percent | Money, BeforeValidator(_loss_limit)] | None = None
    price_band: Annotated[Percent, BeforeValidator(_percent(Decimal(0), Decimal(1)))] | None = None


Settings = SettingsModel
Risk = RiskModel


class FileModel(BaseModel):
    """The top level of a rule file. ``rules`` is only checked to be a list here; each item is a ``RuleItemModel``."""

    model_config = _STRICT
    symbol: Annotated[tuple[Symbol, ...], BeforeValidator(
        _one_or_list(empty=("E106", "`symbol` lists no symbol"), most=(1000, "symbols", "E119")))]
    category: Annotated[Category, BeforeValidator(_choice(Category, "linear, inverse or spot"))] = Category.LINEAR
    timeframe: Timeframe = "1m"
    timezone: Timezone = "UTC"
    settings: Annotated[SettingsModel, BeforeValidator(_mapping_or_none)] = SettingsModel()
    risk: Annotated[RiskModel, BeforeValidator(_mapping_or_none)] = RiskModel()
    params: Annotated[dict[ParamName, ParamValue], BeforeValidator(_mapping_or_none)] = {}
    rules: list[Any] | None = None


class PartialFileModel(FileModel):
    """``FileModel`` once the invalid values are removed: what is left, with a missing symbol allowed."""

    symbol: Annotated[tuple[Symbol, ...], BeforeValidator(_one_or_list())] = ()


class RuleItemModel(BaseModel):
    """A rule written as a mapping. ``name``, ``when`` and ``then`` arrive as the text written."""

    model_config = _STRICT
    name: str | None = None
    when: str | None = None
    then: str | None
    cooldown: Annotated[int, BeforeValidator(_duration(0))] | None = None
    every: Annotated[int, BeforeValidator(_duration(1))] | None = None
    at: Annotated[tuple[TimeOfDay, ...], BeforeValidator(
        _one_or_list(empty=("E114", "`at` lists no time"), most=(1440, "times", "E114")))] = ()
    cron: Cron | None = None
    trigger: Annotated[TriggerMode, BeforeValidator(_choice(TriggerMode, "edge or level"))] = TriggerMode.EDGE
    enabled: StrictBool = True
    priority: StrictInt = 0


class PartialRuleItemModel(RuleItemModel):
    """``RuleItemModel`` once the invalid values are removed, with a missing ``then`` allowed."""

    then: str | None = None


RULE_KEYS: tuple[str, ...] = tuple(RuleItemModel.model_fields)
FILE_KEYS: tuple[str, ...] = tuple(FileModel.model_fields)
# Words authors reach for, and the key they mean (for the `did you mean` hint).
KEY_SYNONYMS: dict[str, str] = {
    "condition": "when", "if": "when", "action": "then", "actions": "then", "do": "then",
    "interval": "every", "schedule": "every", "time": "at", "times": "at", "crontab": "cron",
    "symbols": "symbol", "pair": "symbol", "tf": "timeframe", "interval_tf": "timeframe",
    "tz": "timezone", "rule": "rules", "parameters": "params", "vars": "params", "mode": "trigger",
    "title": "name", "label": "name", "cool_down": "cooldown", "disabled": "enabled",
}


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of the file from ``start`` up to ``end`` (exclusive), 1-based lines and columns."""

    start: Location
    end: Location


new_span: Callable[[Location, Location], Span] = maker(Span)
"""``Span(start, end)``, made without the dataclass ``__init__`` (half the cost)."""


@dataclass(frozen=True, slots=True)
class Param:
    """A declared ``${name}``: its value, the text substituted into rule text, where it is declared."""

    name: str
    value: int | float | str
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class ParamUse:
    """A ``${name}`` in the rule text ``field`` (``when``/``then``/``line``), by offsets in its template.

    ``declared`` is false for a name the file does not declare (reported as E112); the text then
    keeps the ``${name}`` as written, so a caller may skip parsing that text.
    """

    field: str
    name: str
    start: int
    end: int
    declared: bool = True


@dataclass(frozen=True, slots=True, eq=False)
class Rule:
    """One rule of a file, with where each part of it is written.

    ``when``/``then`` (mapping form) or ``line`` (one-line form) are what the parser reads, after
    ``${param}`` substitution; ``templates`` holds the same texts as written. ``index`` is the
    0-based place in ``rules`` (``rule <index + 1>`` is the default name). ``span`` is the rule's
    head (its first key, or the whole one-line text) for diagnostics about the rule as a whole;
    ``key_spans``/``value_spans`` locate each key given in the mapping form and its value.
    """

    index: int
    name: str
    name_span: Span | None
    span: Span
    when: Source | None = None
    then: Source | None = None
    line: Source | None = None
    templates: Mapping[str, Source] = field(default_factory=dict)
    param_uses: tuple[ParamUse, ...] = ()
    cooldown: int | None = None
    every: int | None = None
    at: tuple[tuple[int, int], ...] = ()
    cron: str | None = None
    trigger: TriggerMode = TriggerMode.EDGE
    enabled: bool = True
    priority: int = 0
    key_spans: Mapping[str, Span] = field(default_factory=dict)
    value_spans: Mapping[str, Span] = field(default_factory=dict)

    @property
    def scheduled(self) -> bool:
        """Evaluated on a schedule (``every``, ``at`` or ``cron``) rather than on market events."""
        return self.every is not None or bool(self.at) or self.cron is not None

    def value_span(self, key: str) -> Span:
        """Where the value of ``key`` is written, or the rule's head when it is not given."""
        return self.value_spans.get(key, self.span)


new_rule: Callable[..., Rule] = maker(Rule)
"""``Rule(...)`` with every field given in order, made without the dataclass ``__init__``: the
loader makes one per rule, and its eighteen keyword arguments and frozen assignments were a
tenth of a load."""


@dataclass(frozen=True, slots=True, eq=False)
class RuleFile:
    """A loaded rule file. Spans are keyed by dotted path (``risk.max_position``)."""

    file: str
    symbols: tuple[str, ...]
    category: Category
    timeframe: str
    timezone: str
    settings: Settings
    risk: Risk
    params: Mapping[str, Param]
    rules: tuple[Rule, ...]
    span: Span
    key_spans: Mapping[str, Span] = field(default_factory=dict)
    value_spans: Mapping[str, Span] = field(default_factory=dict)

    def value_span(self, path: str) -> Span:
        """Where the value at ``path`` is written, or the file's head when it is not given."""
        return self.value_spans.get(path, self.span)
