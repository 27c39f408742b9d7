"""`rulebot explain` put together: each rule's plain-English explanation (``lang.explain``) with
the requests its actions would send (``preview``), rendered as text for a trader or as JSON.

Both renderings are pure functions of an ``ExplainReport``. The text is a ``rich`` ``Text`` (the
CLI prints it; ``.plain`` is the same without styles); the JSON is one object per file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text

from rulebot.engine.preview import ActionPreview, PreviewContext, RequestPreview, Sample, preview_rule
from rulebot.lang.diagnostics import render_text
from rulebot.lang.explain import FileExplanation, RuleExplanation, explain_analysis, warmup_words
from rulebot.lang.lint import FileAnalysis
from rulebot.model import InstrumentRules
from rulebot.model.instruments import BTCUSDT_LINEAR

__all__ = ["ExplainReport", "RuleReport", "explain_report", "report_json", "report_text"]

_LABEL = 10  # width of the labels in the text rendering


@dataclass(frozen=True, slots=True)
class RuleReport:
    """One rule: its explanation and one preview per action."""

    explanation: RuleExplanation
    actions: tuple[ActionPreview, ...]


@dataclass(frozen=True, slots=True)
class ExplainReport:
    """Everything `rulebot explain` prints about one file."""

    explanation: FileExplanation
    sample: Sample
    context: PreviewContext
    rules: tuple[RuleReport, ...]
    lines: tuple[str, ...] = ()


def explain_report(analysis: FileAnalysis, sample: Sample) -> ExplainReport:
    """Explain a file without errors and preview its actions against ``sample``."""
    explanation = explain_analysis(analysis)
    assert analysis.rule_file is not None  # explain_analysis refuses a file that did not load
    context = PreviewContext.for_file(analysis.rule_file)
    rules = tuple(RuleReport(e, preview_rule(r, context, sample)) for e, r in zip(explanation.rules, analysis.rules))
    return ExplainReport(explanation, sample, context, rules, analysis.lines)


# --- shared words ----------------------------------------------------------------------------


def _instrument_source(rules: InstrumentRules) -> str:
    if rules == BTCUSDT_LINEAR:
        return "Bybit's published snapshot"
    return "generic placeholder filters; the real ones are loaded from Bybit at start"


def _instrument_line(rules: InstrumentRules) -> str:
    return (f"{rules.symbol}: tick {rules.tick_size}, qty step {rules.qty_step}, min qty {rules.min_order_qty}, "
            f"min order value {rules.min_notional} {rules.quote_coin} ({_instrument_source(rules)})")


def _sample_lines(report: ExplainReport) -> list[str]:
    out: list[str] = []
    for symbol in report.context.symbols:
        price = report.sample.price_for(symbol)
        if price is None:
            out.append(f"{symbol}: no sample price; values that depend on the market are described "
                       "(give --price for numbers)")
            continue
        tick = report.context.instruments[symbol].tick_size
        out.append(f"{symbol}: last, mark and index price, best bid and last close {price}; "
                   f"best ask {price + tick} (one tick above)")
    coins = sorted({r.settle_coin for r in report.context.instruments.values()})
    out.append(f"account: flat, no open orders, {report.sample.equity} {'/'.join(coins)} equity "
               "(a position of the side the rule needs for close and set tp/sl/trail)")
    return out


def _action_reading(rule: RuleExplanation, i: int) -> str:
    reading = rule.actions[i]
    return reading.main + (f", then {reading.after}" if reading.after else "")


def _value_text(value: str | int | bool | None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- JSON ------------------------------------------------------------------------------------


def _request_json(r: RequestPreview) -> dict[str, object]:
    return {
        "symbol": r.symbol,
        "method": r.method,
        "stage": r.stage,
        "params": {p.name: p.value for p in r.params if p.value is not None},
        "at_fire_time": {p.name: p.described for p in r.params if p.value is None},
    }


def _instrument_json(rules: InstrumentRules) -> dict[str, str]:
    return {
        "symbol": rules.symbol, "tick_size": str(rules.tick_size), "qty_step": str(rules.qty_step),
        "min_order_qty": str(rules.min_order_qty), "min_order_value": f"{rules.min_notional} {rules.quote_coin}",
        "source": _instrument_source(rules),
    }


def _rule_json(rr: RuleReport) -> dict[str, object]:
    e = rr.explanation
    out: dict[str, object] = {
        "name": e.name,
        "index": e.index + 1,
        "enabled": e.enabled,
        "text": e.text,
        "reading": e.reading,
        "triggers": list(e.triggers),
        "firing": list(e.firing),
        "warmup": [{"timeframe": w.timeframe, "bars": w.bars, "text": warmup_words(w)} for w in e.warmup],
        "offsets": [{"text": o.text, "read_as": o.reading, "words": o.words, "in": o.part} for o in e.offsets],
        "actions": [
            {
                "kind": a.kind,
                "reading": _action_reading(e, i),
                "requests": [_request_json(r) for r in a.requests],
                "notes": list(a.notes),
                "refusals": [{"symbol": f.symbol, "code": f.code, "reason": f.reason, "certain": f.certain}
                             for f in a.refusals],
            }
            for i, a in enumerate(rr.actions)
        ],
    }
    if e.diagnostics:
        out["diagnostics"] = [d.as_dict() for d in e.diagnostics]
    return out


def report_json(report: ExplainReport) -> str:
    """The report as one JSON object: ``{file, symbols, ..., rules: [...]}``."""
    e = report.explanation
    document = {
        "file": e.file,
        "symbols": list(e.symbols),
        "category": e.category.value,
        "timeframe": e.timeframe,
        "timezone": e.timezone,
        "sample": {
            "prices": {s: str(p) for s, p in report.sample.prices.items()},
            "equity": str(report.sample.equity),
            "describes": _sample_lines(report),
        },
        "instruments": [_instrument_json(report.context.instruments[s]) for s in report.context.symbols],
        "notes": list(report.context.notes),
        "diagnostics": [d.as_dict() for d in e.diagnostics],
        "rules": [_rule_json(rr) for rr in report.rules],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- text ------------------------------------------------------------------------------------


class _Writer:
    def __init__(self) -> None:
        self.text = Text()

    def line(self, content: str = "", style: str = "") -> None:
        self.text.append(content + "\n", style=style)

    def field(self, label: str, values: Sequence[str], indent: str = "  ") -> None:
        for i, value in enumerate(values or ("none",)):
            self.text.append(f"{indent}{label if i == 0 else '':<{_LABEL}}", style="bold" if i == 0 else "")
            self.text.append(value + "\n")


def _requests(w: _Writer, requests: Sequence[RequestPreview], several: bool) -> None:
    for r in requests:
        where = f" for {r.symbol}" if several else ""
        w.line(f"      {r.method}{where}, {r.stage}", style="cyan")
        width = max(len(p.name) for p in r.params) + 2
        for p in r.params:
            w.text.append(f"        {p.name:<{width}}")
            if p.value is None:
                w.text.append(f"<{p.described}>\n", style="italic")
            else:
                w.text.append(_value_text(p.value) + "\n")


def _rule_text(w: _Writer, rr: RuleReport, total: int, several: bool, lines: Mapping[str, Sequence[str]]) -> None:
    e = rr.explanation
    state = "" if e.enabled else " (disabled)"
    w.line(f"rule {e.index + 1} of {total}: {e.name}{state}", style="bold underline")
    w.field("text", [e.text])
    w.field("reading", [e.reading])
    w.field("triggers", list(e.triggers))
    w.field("firing", list(e.firing))
    w.field("warm-up", [warmup_words(x) for x in e.warmup] or ["needs no bar history"])
    w.field("offsets", [f"{o.text} is read as {o.reading}: {o.words}" for o in e.offsets])
    for i, action in enumerate(rr.actions):
        w.field(f"action {i + 1}", [_action_reading(e, i)])
        _requests(w, action.requests, several)
        for refusal in action.refusals:
            what = "refused" if refusal.certain else "may be refused"
            where = f" for {refusal.symbol}" if several else ""
            w.line(f"      {what}{where} ({refusal.code}): {refusal.reason}", style="red")
        for note in action.notes:
            w.line(f"      note: {note}", style="dim")
    if e.diagnostics:
        w.line("  warnings", style="bold yellow")
        for row in render_text(list(e.diagnostics), lines).rstrip("\n").split("\n"):
            w.line(f"    {row}")
    w.line()


def report_text(report: ExplainReport) -> Text:
    """The report for a trader: the file's setting and sample, then each rule with its requests."""
    e = report.explanation
    w = _Writer()
    symbols = ", ".join(e.symbols)
    w.line(f"{e.file}: {symbols} ({e.category.value}), {e.timeframe} bars, timezone {e.timezone}", style="bold")
    w.field("filters", [_instrument_line(report.context.instruments[s]) for s in report.context.symbols], "")
    w.field("sample", _sample_lines(report), "")
    for note in report.context.notes:
        w.line(f"note: {note}", style="dim")
    lines = {e.file: report.lines}
    if e.diagnostics:
        w.line("warnings", style="bold yellow")
        w.text.append(render_text(list(e.diagnostics), lines))
    w.line()
    several = len(e.symbols) > 1
    for rr in report.rules:
        _rule_text(w, rr, len(report.rules), several, lines)
    return w.text
