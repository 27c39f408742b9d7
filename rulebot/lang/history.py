"""Which constructs of a condition read bar history and which must remember evaluations.

``[n]``, ``rising n`` and, when the condition reads only one timeframe's bars, ``for n bars``
read history; ``crosses`` reads ``[1]`` when its sides are bars of the timeframe whose closes
make a bar rule due (then the previous evaluation is the previous bar). Otherwise — live or
account fields, several timeframes, a scheduled rule — ``crosses`` and ``for n bars`` keep a
memory of earlier evaluations, as ``for DURATION`` always does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rulebot.lang import ast as A
from rulebot.lang.vocabulary import FIELDS, ReadSource, timeframe_seconds


@dataclass
class Reads:
    """What a subtree reads: the timeframes of its bar reads and whether it reads anything else."""

    timeframes: frozenset[str] = frozenset()
    other: bool = False


class HistoryFacts:
    """Answers about the nodes of one rule (cached by node identity while it compiles).

    ``timeframe``: the file's; ``call_timeframe``: the timeframe a call reads; ``eval_tf``: for
    a bar rule, the timeframe whose consecutive closes are its consecutive evaluations (None
    for a scheduled rule or an action value).
    """

    def __init__(self, timeframe: str, call_timeframe: Callable[[A.Call], str]) -> None:
        self.timeframe = timeframe
        self.call_timeframe = call_timeframe
        self.eval_tf: str | None = None
        self._reads: dict[int, Reads] = {}

    def reads(self, e: A.Expr) -> Reads:
        """The bar timeframes ``e`` reads, and whether it reads live, account or time fields."""
        found = self._reads.get(id(e))
        if found is not None:
            return found
        if isinstance(e, A.Name):
            f = FIELDS.get(e.name)
            if f is None:
                result = Reads()
            elif f.source is ReadSource.CANDLE:
                result = Reads(frozenset({self.timeframe}))
            else:
                result = Reads(other=True)
        elif isinstance(e, A.Call):
            result = Reads(frozenset({self.call_timeframe(e)}))
        elif isinstance(e, A.For) and e.duration is not None:
            inner = self.reads(e.condition)
            result = Reads(inner.timeframes, True)
        else:
            parts = [self.reads(c) for c in children(e)]
            result = Reads(frozenset().union(*(p.timeframes for p in parts)), any(p.other for p in parts))
        self._reads[id(e)] = result
        return result

    def crosses_by_history(self, e: A.Crosses) -> bool:
        """Whether the previous evaluation of ``e`` is its sides read one bar back."""
        r = self.reads(e)
        return self.eval_tf is not None and not r.other and r.timeframes <= {self.eval_tf}

    def for_by_history(self, e: A.For) -> bool:
        """Whether ``C for n bars`` can read C back in history: C reads bars of one timeframe only
        and holds nothing that must be remembered."""
        r = self.reads(e.condition)
        return not r.other and len(r.timeframes) <= 1 and not self.remembers(e.condition)

    def remembers(self, e: A.Expr) -> bool:
        """Whether ``e`` holds a construct that keeps a memory."""
        if isinstance(e, A.Crosses) and not self.crosses_by_history(e):
            return True
        if isinstance(e, A.For) and (e.duration is not None or not self.for_by_history(e)):
            return True
        return any(self.remembers(c) for c in children(e))

    def counting_timeframe(self, condition: A.Expr) -> str:
        """The timeframe whose bars ``for n bars`` counts: the smallest C reads, else the file's."""
        tfs = self.reads(condition).timeframes
        return min(tfs, key=timeframe_seconds) if tfs else self.timeframe


def children(e: A.Expr) -> tuple[A.Expr, ...]:
    """The sub-expressions of a node that are read (a call's arguments are parameters, not reads)."""
    if isinstance(e, (A.Index,)):
        return (e.target,)
    if isinstance(e, (A.Neg, A.Not)):
        return (e.operand,)
    if isinstance(e, (A.BinOp, A.Compare, A.Crosses)):
        return (e.left, e.right)
    if isinstance(e, A.Between):
        return (e.subject, e.low, e.high)
    if isinstance(e, (A.Trend, A.Is, A.In)):
        return (e.subject,)
    if isinstance(e, A.For):
        return (e.condition,)
    if isinstance(e, (A.And, A.Or)):
        return e.operands
    if isinstance(e, A.ChainedCompare):
        return e.operands
    return ()
