"""Binding the arguments of an indicator or candle-field call (LANGUAGE.md §3).

``rsi(14)``, ``rsi(n=14)``, ``rsi(14, 5m)``, ``rsi(14, tf=5m)``, ``macd(fast=8, slow=21)``,
``close(5m)``: positional arguments fill the parameters in order, a timeframe may come last
or as ``tf=``; every value is a number as written. Errors: E206, E208, E302, E115.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rulebot.lang import ast as A
from rulebot.lang.report import Reporter
from rulebot.lang.vocabulary import (
    TF_ARG,
    TIMEFRAME_NAMES,
    Param,
    did_you_mean,
    timeframe_for,
)

ARG_SYNONYMS = {
    "length": "n", "period": "n", "window": "n", "len": "n", "periods": "n", "bars": "n",
    "std": "k", "stddev": "k", "mult": "k", "dev": "k", "multiplier": "k",
    "fast_period": "fast", "slow_period": "slow", "signal_period": "signal",
    "smooth_k": "smooth", "smoothing": "smooth",
    "timeframe": "tf", "interval": "tf", "time_frame": "tf",
}


@dataclass(frozen=True, slots=True)
class Bound:
    """A call's arguments read: parameter values (defaults filled) and its timeframe (None: the file's)."""

    values: tuple[tuple[str, int | float], ...]
    timeframe: str | None
    ok: bool


def bind(call: A.Call, params: Sequence[Param], rep: Reporter, example: Callable[[], str],
         less_than: Sequence[tuple[str, str]] = ()) -> Bound:
    """Read the arguments of ``call`` against ``params``, reporting every problem found;
    ``example`` gives a call to show in hints (only computed when one is needed)."""
    plain = plain_arguments(call, params, less_than)
    if plain is not None:
        bound = _new_object(Bound)  # Bound(tuple(values.items()), timeframe, True), as in checked_values
        _set_values(bound, tuple(plain[0].items()))
        _set_timeframe(bound, plain[1])
        _set_ok(bound, True)
        return bound
    ok = True
    positional = list(call.args)
    tf_node: A.Expr | None = positional.pop() if positional and isinstance(positional[-1], A.Duration) else None
    if len(positional) > len(params):
        extra = positional[len(params):]
        total = len(call.args)
        if params:
            k = len(params)
            message = (f"'{call.name}' takes at most {k} argument{'s' if k != 1 else ''} "
                       f"and a timeframe, found {total}")
        else:
            message = f"'{call.name}' takes only a timeframe, found {total} argument{'s' if total != 1 else ''}"
        rep.error("E206", A.Span(extra[0].span.start, extra[-1].span.end), message,
                  hint=f"for example '{example()}'", label="too many arguments")
        ok = False
        positional = positional[: len(params)]
    given: dict[str, A.Expr] = {p.name: node for p, node in zip(params, positional)}
    names = [p.name for p in params] if call.kwargs else []
    for kw in call.kwargs:
        name_span = A.Span(kw.span.start, kw.span.start + len(kw.name)) if kw.span.end > kw.span.start else kw.span
        if kw.name == TF_ARG:
            if tf_node is not None:
                rep.error("E302", kw.span, f"the timeframe of '{call.name}' is given twice")
                ok = False
            tf_node = kw.value
        elif kw.name in names:
            if kw.name in given:
                rep.error("E302", kw.span, f"argument '{kw.name}' of '{call.name}' is given twice")
                ok = False
            given[kw.name] = kw.value
        else:
            rep.error("E208", name_span, f"unknown argument '{kw.name}' of '{call.name}'",
                      hint=did_you_mean(kw.name, names + [TF_ARG], ARG_SYNONYMS),
                      label="not an argument of this indicator")
            ok = False
    values: dict[str, int | float] = {}
    for p in params:
        node = given.get(p.name)
        if node is None:
            if p.required:
                rep.error("E206", call.name_span if call.name_span.end > call.name_span.start else call.span,
                          f"'{call.name}' needs its argument '{p.name}'", hint=f"for example '{example()}'")
                ok = False
                continue
            assert p.default is not None
            values[p.name] = int(p.default) if p.integer else p.default
            continue
        value = _read_value(node, p, call.name, rep)
        if value is None:
            ok = False
        else:
            values[p.name] = value
    for small, big in less_than:
        if small in values and big in values and not values[small] < values[big]:
            rep.error("E302", call.span, f"'{small}' of '{call.name}' must be smaller than '{big}', "
                      f"found {small}={values[small]:g} and {big}={values[big]:g}")
            ok = False
    timeframe = _read_timeframe(tf_node, call.name, rep) if tf_node is not None else None
    if tf_node is not None and timeframe is None:
        ok = False
    return Bound(tuple(values.items()), timeframe, ok)  # in the order of params, as they were read


def plain_arguments(call: A.Call, params: Sequence[Param],
                    less_than: Sequence[tuple[str, str]] = ()) -> tuple[dict[str, int | float], str | None] | None:
    """The parameter values and timeframe (None: the file's) of a call whose arguments are all
    valid numbers in order, perhaps with a timeframe last (``rsi(14)``, ``ema(20, 5m)``): most
    calls, read with nothing to report. None for any other call, which ``bind`` reads in full."""
    if call.kwargs:
        return None
    args = call.args
    timeframe = None
    if args:
        last = args[-1]
        if last.__class__ is _DURATION:
            timeframe = timeframe_for(last.count, last.unit)
            if timeframe is None:
                return None
            args = args[:-1]
    given = len(args)
    if given > len(params):
        return None
    values: dict[str, int | float] = {}
    for i, p in enumerate(params):
        if i < given:
            node = args[i]
            if node.__class__ is not _NUMBER:
                return None
            value = float(node.text)
            # p.admits(value) written out (NaN is admitted by nothing)
            if not (value > p.lo if p.lo_open else value >= p.lo) or not value <= p.hi:
                return None
            if p.integer:
                if value != int(value):
                    return None
                values[p.name] = int(value)
            else:
                values[p.name] = value
        elif p.default is None:  # required
            return None
        else:
            values[p.name] = int(p.default) if p.integer else p.default
    for small, big in less_than:
        if small in values and big in values and not values[small] < values[big]:
            return None
    return values, timeframe


_DURATION, _NUMBER = A.Duration, A.Number
_new_object = object.__new__
_set_values = Bound.values.__set__  # type: ignore[attr-defined]
_set_timeframe = Bound.timeframe.__set__  # type: ignore[attr-defined]
_set_ok = Bound.ok.__set__  # type: ignore[attr-defined]


def _read_value(node: A.Expr, p: Param, name: str, rep: Reporter) -> int | float | None:
    what = "a whole number" if p.integer else "a number"
    value: float | None = None
    if isinstance(node, A.Number):
        value = node.value
    elif isinstance(node, A.Neg) and isinstance(node.operand, A.Number):
        value = -node.operand.value
    if value is None:
        rep.error("E302", node.span, f"argument '{p.name}' of '{name}' must be {what}, found {rep.quoted(node)}",
                  label=f"not {what}")
        return None
    if p.integer and math.isfinite(value) and not float(value).is_integer():
        # a period counts bars: 14.5 is not out of range, it is not a count
        near = [f"{n:g}" for n in (math.floor(value), math.ceil(value)) if p.admits(n)]
        rep.error("E302", node.span, f"the period '{p.name}' of '{name}' must be a whole number of bars, "
                  f"found {rep.text(node)}", hint=f"write {' or '.join(near)}" if near else "",
                  label="not a whole number")
        return None
    if value != value or not p.admits(value):
        rep.error("E302", node.span, f"argument '{p.name}' of '{name}' must be {p.range_text}, "
                  f"found {rep.text(node)}", label="out of range")
        return None
    return int(value) if p.integer else value


def _read_timeframe(node: A.Expr, name: str, rep: Reporter) -> str | None:
    if isinstance(node, A.Duration):
        tf = timeframe_for(node.count, node.unit)
        if tf is None:
            rep.error("E115", node.span, f"'{node.text}' is not a Bybit timeframe",
                      hint=f"Bybit offers {TIMEFRAME_NAMES}", label="not a Bybit timeframe")
        return tf
    rep.error("E302", node.span, f"the timeframe of '{name}' must be one such as 5m or 1h, found {rep.quoted(node)}",
              label="not a timeframe")
    return None
