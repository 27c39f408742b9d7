"""How the checker reports: diagnostics placed through a Source, and expressions quoted as written.

Messages quote the author's own text (the source slice under a node's span); a node without
a usable span (built in code rather than parsed) is printed back in the language's syntax.
"""

from __future__ import annotations

from rulebot.lang import ast as A
from rulebot.lang.diagnostics import Diagnostic, Severity, in_source
from rulebot.lang.source import Source


class Reporter:
    """Collects the diagnostics of one piece of rule text (a ``when``, a ``then``, a template)."""

    def __init__(self, source: Source, sink: list[Diagnostic]) -> None:
        self.source = source
        self.sink = sink

    def error(self, code: str, span: A.Span, message: str, hint: str = "", label: str = "") -> None:
        """Report an error over ``span`` of this source."""
        self._emit(code, Severity.ERROR, span, message, hint, label)

    def warning(self, code: str, span: A.Span, message: str, hint: str = "", label: str = "") -> None:
        """Report a warning over ``span`` of this source."""
        self._emit(code, Severity.WARNING, span, message, hint, label)

    def _emit(self, code: str, severity: Severity, span: A.Span, message: str, hint: str, label: str) -> None:
        self.sink.append(in_source(code, severity, self.source, span.start, span.end, message, hint, label))

    def text(self, node: object) -> str:
        """The node as the author wrote it (or printed back when it has no span)."""
        span = getattr(node, "span", None)
        if isinstance(span, A.Span) and 0 <= span.start < span.end <= len(self.source.text):
            return " ".join(self.source.text[span.start:span.end].split())
        return show(node)

    def quoted(self, node: object) -> str:
        return f"'{self.text(node)}'"


def show(node: object) -> str:
    """Print an expression back in the rule language (used when no source text is at hand)."""
    if isinstance(node, A.Number):
        return node.text
    if isinstance(node, A.Percent):
        return f"{node.text}%"
    if isinstance(node, (A.Duration, A.TimeOfDay)):
        return node.text
    if isinstance(node, A.Money):
        return f"{node.amount} {node.coin}"
    if isinstance(node, A.Ticks):
        return f"{node.count} ticks"
    if isinstance(node, A.String):
        escaped = node.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(node, A.Name):
        return node.name
    if isinstance(node, A.Keyword):
        return f"{node.name}={show(node.value)}"
    if isinstance(node, A.Call):
        parts = [show(a) for a in node.args] + [show(k) for k in node.kwargs]
        return f"{node.name}({', '.join(parts)})"
    if isinstance(node, A.Index):
        return f"{_paren(node.target, atomic=True)}[{node.offset}]"
    if isinstance(node, A.Neg):
        return f"-{_paren(node.operand, atomic=True)}"
    if isinstance(node, A.BinOp):
        return f"{_paren(node.left)} {node.op} {_paren(node.right)}"
    if isinstance(node, A.Compare):
        return f"{show(node.left)} {node.op} {show(node.right)}"
    if isinstance(node, A.ChainedCompare):
        out = show(node.operands[0])
        for op, operand in zip(node.ops, node.operands[1:]):
            out += f" {op} {show(operand)}"
        return out
    if isinstance(node, A.Crosses):
        middle = f"crosses {node.direction}".strip()
        return f"{show(node.left)} {middle} {show(node.right)}"
    if isinstance(node, A.Between):
        return f"{show(node.subject)} between {show(node.low)} and {show(node.high)}"
    if isinstance(node, A.Trend):
        return f"{show(node.subject)} {node.direction} {node.bars}"
    if isinstance(node, A.Is):
        return f"{show(node.subject)} is {'not ' if node.negated else ''}{show(node.word)}"
    if isinstance(node, A.In):
        return f"{show(node.subject)} in [{', '.join(show(w) for w in node.words)}]"
    if isinstance(node, A.For):
        inner = _paren(node.condition, atomic=True)
        amount = f"{node.bars} bars" if node.bars is not None else show(node.duration)
        return f"{inner} for {amount}"
    if isinstance(node, A.Not):
        return f"not {_paren(node.operand, atomic=True)}"
    if isinstance(node, A.And):
        return " and ".join(_paren(o) for o in node.operands)
    if isinstance(node, A.Or):
        return " or ".join(_paren(o) for o in node.operands)
    return type(node).__name__.lower()


_ATOMS = (A.Number, A.Percent, A.Duration, A.TimeOfDay, A.Money, A.Ticks, A.String, A.Name, A.Call, A.Index)


def _paren(node: object, atomic: bool = False) -> str:
    simple = isinstance(node, _ATOMS) or (not atomic and isinstance(node, (A.Compare, A.Neg)))
    return show(node) if simple else f"({show(node)})"
