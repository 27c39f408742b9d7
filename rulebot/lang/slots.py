"""What a rule's generated factory is called with: its slots, and the factory itself.

The code generator names a slot for everything compiled code reads; the compiler resolves
each slot for a symbol (the live fields object, a candle series, an indicator handle, a
memory of ``crosses``/``for``) and passes the objects to the factory in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rulebot.market.indicator_spec import IndicatorSpec


@dataclass(frozen=True, slots=True)
class LiveSlot:
    """The symbol's `LiveFields`."""


@dataclass(frozen=True, slots=True)
class AccountSlot:
    """The symbol's `AccountFields`."""


@dataclass(frozen=True, slots=True)
class TimeSlot:
    """The clock in the file's timezone (`runtime.LocalTime`)."""


@dataclass(frozen=True, slots=True)
class TickSlot:
    """A callable giving the symbol's tick size."""


@dataclass(frozen=True, slots=True)
class SeriesSlot:
    timeframe: str


@dataclass(frozen=True, slots=True)
class IndicatorSlot:
    spec: IndicatorSpec


@dataclass(frozen=True, slots=True)
class CrossSlot:
    direction: str
    index: int


@dataclass(frozen=True, slots=True)
class ForTimeSlot:
    seconds: int
    index: int


@dataclass(frozen=True, slots=True)
class ForBarsSlot:
    bars: int
    timeframe: str
    index: int


Slot = LiveSlot | AccountSlot | TimeSlot | TickSlot | SeriesSlot | IndicatorSlot | CrossSlot | ForTimeSlot | ForBarsSlot
MEMORY_SLOTS = (CrossSlot, ForTimeSlot, ForBarsSlot)
"""Slots bound to a memory object (what a rule's state snapshot holds)."""


@dataclass(frozen=True)
class Generated:
    """A rule's factory: its source, its parameters (slots, in order) and the history each
    indicator handle must keep. The factory returns the rule's entry functions in the order
    they were added."""

    source: str
    slots: tuple[Slot, ...]
    lookback: Mapping[IndicatorSpec, int]
