"""A syntax error told in the author's words, the way rustc tells it.

Lark's interactive parser is driven up to the first token it cannot take; ``accepts()`` there
gives every token that could come next, and only those, which are said in words: ``expected a
number, a field or an indicator after '<', found 'then'``. A hint follows where a common slip is
recognisable (a missing ``then``, ``=`` for ``==``, a misspelled keyword, an unterminated string).
A word where an action must start is E204 (unknown action) with a suggestion, and a value
after ``is`` is E301 (``position is 30``: ``is`` takes a word). Slips in the YAML around a rule
are told in ``yaml_slips.py``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass
from functools import cache

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr
from lark.parsers.lalr_interactive_parser import InteractiveParser

from rulebot.lang.vocabulary import IS_WORDS

__all__ = ["SyntaxReport", "describe", "ACTION_WORDS", "ACTION_SYNONYMS"]

ACTION_WORDS = ("buy", "sell", "close", "cancel", "set", "notify", "pause", "halt")
"""The words an action starts with (LANGUAGE.md §6)."""

ACTION_SYNONYMS = {
    "purchase": "buy", "acquire": "buy", "long": "buy", "enter": "buy", "open": "buy",
    "short": "sell", "exit": "close", "flatten": "close", "liquidate": "close",
    "alert": "notify", "message": "notify", "log": "notify", "stop": "halt",
}
"""Words authors write for an action, and the action they mean."""

_OPTION_WORDS = {"tp", "sl", "trail", "post", "ioc", "fok", "reduce", "expire", "tag"}
_SETTING_WORDS = {"leverage", "mode", "margin", "tpsl", "tp", "sl", "trail"}
_OPERATOR_WORDS = {"crosses", "between", "rising", "falling", "is", "in", "for"}
# `[` is left out: where it is the only operator (after a quantity) no author thinks of one.
_OPERATOR_SIGNS = {"+", "-", "*", "/"}
# Keywords said one by one, in this order, before the groups.
_SPECIFIC_WORDS = ("when", "not", "above", "below", "then", "bars", "long", "short", "market",
                   "limit", "orders", "buys", "sells", "only")
_BASIS_WORDS = ("equity", "balance", "available")
_KNOWN_COINS = {"usdt", "usdc", "btc", "eth"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_CHAR_HINTS = {
    "&": "use 'and' to join conditions",
    "|": "use 'or' to join conditions",
    "!": "use 'not' to negate a condition, or '!=' for 'not equal'",
    "'": "strings are written in double quotes",
    "%": "write the percent sign right after the number, like '2%'",
    ";": "separate actions with ','",
}
_MAX_QUOTED = 24


@dataclass(frozen=True, slots=True)
class SyntaxReport:
    """Where the error is (offsets into the rule text, end exclusive) and what to say."""

    code: str
    start: int
    end: int
    message: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class _Terminals:
    words: dict[str, str]  # terminal name -> keyword, for terminals that are words
    signs: dict[str, str]  # terminal name -> punctuation


@cache
def _terminals(lark: Lark) -> _Terminals:
    words: dict[str, str] = {}
    signs: dict[str, str] = {}
    for t in lark.terminals:
        if isinstance(t.pattern, PatternStr):
            value = t.pattern.value.lower()
            (words if _WORD.fullmatch(value) else signs)[t.name] = value
    return _Terminals(words, signs)


def _quiet(ip: InteractiveParser) -> InteractiveParser:
    """Drop the tree-building callbacks: only the parser's states matter here."""
    quiet = copy(ip.parser_state.parse_conf)
    quiet.callbacks = {}
    ip.parser_state.parse_conf = quiet
    return ip


def _first_error(lark: Lark, text: str, start: str) -> UnexpectedInput | None:
    try:
        _quiet(lark.parse_interactive(text, start=start)).resume_parse()
    except UnexpectedInput as e:
        return _unlinked(e)
    return None


def _unlinked(error: UnexpectedInput) -> UnexpectedInput:
    """``error`` without its traceback and context. lark re-raises it from a frame that holds it:
    a cycle, which would keep the frames of the whole call (the file's analysis so far) until
    the cyclic collector ran."""
    error.__traceback__ = None
    error.__context__ = None
    return error


def _state_before(lark: Lark, text: str, start: str, pos: int) -> tuple[InteractiveParser, list[Token]]:
    """The parser after every token that starts before ``pos``, and those tokens."""
    ip = _quiet(lark.parse_interactive(text, start=start))
    before: list[Token] = []
    try:
        for tok in ip.iter_parse():
            if tok.start_pos is not None and tok.start_pos >= pos:
                break
            before.append(tok)
    except UnexpectedInput as e:
        _unlinked(e)
    return ip, before


def _join(labels: Sequence[str]) -> str:
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def _end_of(start: str) -> str:
    return {"rule": "the end of the rule", "condition": "the end of the condition"}.get(
        start, "the end of the actions")


def _operand_label(acc: set[str], before: list[Token]) -> str:
    prev = before[-1].value.lower() if before else ""
    prev2 = before[-2].value.lower() if len(before) > 1 else ""
    if prev in ("buy", "sell"):
        return "a quantity such as '0.01', '100 usdt' or '10% equity'"
    if prev == "limit":
        return "a price such as 'bid1' or '64000'"
    if prev2 == "set":
        return "a value"
    if prev in ("tp", "sl"):
        return "a percent or a price"
    if prev == "trail":
        return "a percent or a price distance"
    if "_NOT" in acc:
        return "a condition"
    return "a number, a field or an indicator"


def _expected(acc: set[str], before: list[Token], start: str, terms: _Terminals) -> list[str]:
    words = {terms.words[t] for t in acc if t in terms.words}
    signs = {terms.signs[t] for t in acc if t in terms.signs}
    prev = before[-1] if before else None
    prev_word = prev.value.lower() if prev is not None else ""
    operand = "NUMBER" in acc and "NAME" in acc

    specific = [f"'{w}'" for w in _SPECIFIC_WORDS if w in words and not (operand and w == "not")]
    if prev is not None and prev.type == "PERCENT":
        specific += [f"'{w}'" for w in _BASIS_WORDS if w in words]
    values: list[str] = []
    minor: list[str] = []
    if operand:
        values.append(_operand_label(acc, before))
    elif "NUMBER" in acc:
        values.append("a number of bars or a duration such as '5m'" if "DURATION" in acc
                      else "a number of bars")
    elif "DURATION" in acc:
        values.append("a duration such as '5m'")
    if not operand:
        if "PERCENT" in acc:
            values.append("a percent such as '50%'")
        if "STRING" in acc:
            values.append("a string in double quotes")
        if "NAME" in acc:
            if prev is not None and prev.type == "NUMBER":
                minor.append("a coin such as 'usdt'")
            elif prev_word in ("is", "not"):
                values.append("a word such as 'long' or 'flat'")
            else:
                values.append("a word such as 'mon'")
    groups: list[str] = []
    if words & set(ACTION_WORDS):
        groups.append("an action such as 'buy', 'sell' or 'close'")
    if prev_word == "set" and words & _SETTING_WORDS:
        groups.append("a setting such as 'leverage' or 'mode'")
    elif words & _OPTION_WORDS:
        groups.append("an order option such as 'tp', 'sl' or 'post only'")
    punctuation = [f"'{s}'" for s in (")", "]", ",", "=") if s in signs]
    logic = [] if operand else [f"'{w}'" for w in ("and", "or") if w in words]
    operators = []
    if not operand and (words & _OPERATOR_WORDS or signs & _OPERATOR_SIGNS or "COMP_OP" in acc):
        operators.append("an operator")
    if "(" in signs and not operand:
        minor.append("'('")
    if words & {"tick", "ticks"}:
        minor.append("'ticks'")
    labels = specific + values + groups + punctuation + logic + operators
    if not labels:
        labels = minor or [f"'{s}'" for s in sorted(signs)]
    if "$END" in acc:
        labels.append(_end_of(start))
    return labels


def _shown(text: str, tok: Token) -> str:
    return text[tok.start_pos:tok.end_pos]


def _suggestion(word: str, candidates: set[str]) -> str:
    if word in ACTION_SYNONYMS and ACTION_SYNONYMS[word] in candidates:
        return ACTION_SYNONYMS[word]
    close = difflib.get_close_matches(word, sorted(candidates - {word}), n=1, cutoff=0.6)
    return close[0] if close else ""


def _shown_word(word: str) -> str:
    return {"post": "post only", "reduce": "reduce only"}.get(word, word)


def describe(lark: Lark, text: str, start: str) -> SyntaxReport:
    """Say what is wrong with ``text``, which does not parse from ``start``."""
    terms = _terminals(lark)
    err = _first_error(lark, text, start)
    if err is None:
        # The fast reader and lark disagree, which the tests rule out; still say something.
        return SyntaxReport("E201", 0, len(text), "the rule text cannot be read")
    if isinstance(err, UnexpectedCharacters):
        return _bad_character(lark, text, start, err.pos_in_stream, terms)
    assert isinstance(err, UnexpectedToken)
    tok = err.token
    if tok.type == "$END":
        return _unexpected(lark, text, start, len(text), None, terms)
    report = _coin_misread(lark, text, start, tok, terms)
    return report or _unexpected(lark, text, start, tok.start_pos or 0, tok, terms)


def _coin_misread(lark: Lark, text: str, start: str, tok: Token, terms: _Terminals) -> SyntaxReport | None:
    """``buy 0.01 limitt bid1``: the misspelled word was read as a coin (``0.01 limitt``) and
    the parser only stumbles on the next token; report the word itself when it looks meant."""
    _, before = _state_before(lark, text, start, tok.start_pos or 0)
    if len(before) < 2 or before[-1].type != "NAME" or before[-2].type != "NUMBER":
        return None
    coin = before[-1]
    word = coin.value.lower()
    if word in _KNOWN_COINS:
        return None
    ip, _ = _state_before(lark, text, start, coin.start_pos or 0)
    acc = ip.accepts()
    accepted_words = {terms.words[t] for t in acc if t in terms.words}
    if word in terms.words.values() or _suggestion(word, accepted_words):
        return _unexpected(lark, text, start, coin.start_pos or 0, coin, terms)
    return None


def _unexpected(lark: Lark, text: str, start: str, pos: int, tok: Token | None,
                terms: _Terminals, bad_char: str = "") -> SyntaxReport:
    ip, before = _state_before(lark, text, start, pos)
    acc = ip.accepts()
    labels = _expected(acc, before, start, terms)
    after = ""
    if before and len(_shown(text, before[-1])) <= _MAX_QUOTED:
        after = f" after '{_shown(text, before[-1])}'"
    if bad_char:
        shown = bad_char if bad_char.isprintable() else ascii(bad_char)[1:-1]
        found, span = f"'{shown}'", (pos, pos + 1)
    elif tok is None:
        found, span = _end_of(start), (len(text), len(text))
    else:
        shown = _shown(text, tok)
        found = f"'{shown}'" if len(shown) <= _MAX_QUOTED else f"'{shown[:_MAX_QUOTED]}...'"
        span = (tok.start_pos or 0, tok.end_pos or 0)
    word = tok.value.lower() if tok is not None and _WORD.fullmatch(tok.value) else ""
    accepted_words = {terms.words[t] for t in acc if t in terms.words}

    if tok is not None and tok.type == "NAME" and acc and all(terms.words.get(t) in ACTION_WORDS for t in acc):
        if word not in ACTION_WORDS:
            suggestion = _suggestion(word, set(ACTION_WORDS))
            hint = (f"did you mean '{suggestion}'?" if suggestion else
                    "an action is one of 'buy', 'sell', 'close', 'cancel', 'set', 'notify', "
                    "'pause' or 'halt'")
            return SyntaxReport("E204", span[0], span[1], f"unknown action '{tok.value}'", hint)
    if tok is not None and not word and tok.type != "$END":
        report = _value_after_is(text, before, span[0])
        if report is not None:
            return report

    message = f"expected {_join(labels)}{after}, found {found}"
    if bad_char:
        hint = _CHAR_HINTS.get(bad_char, "")
        if text.startswith("${", pos):
            hint = f"declare '{text[pos + 2:].split('}', 1)[0]}' under 'params' in the file"
    else:
        hint = _hint(start, acc, tok, word, accepted_words)
    if not hint and before and before[-1].type == "NAME":
        hint = _misspelled_before(lark, text, start, before[-1], terms)
    return SyntaxReport("E201", span[0], span[1], message, hint)


_VALUE_AT = re.compile(r"-?\s*[^\s,()\[\]]+")


def _value_after_is(text: str, before: list[Token], pos: int) -> SyntaxReport | None:
    """``position is 30``: a value where ``is`` (or ``is not``) takes a word is a kind mismatch
    (E301) rather than a syntax error, said with the words that subject allows."""
    words = [t.value.lower() for t in before[-3:]]
    if words[-1:] == ["is"]:
        subject = before[-2] if len(before) > 1 else None
    elif words[-2:] == ["is", "not"]:
        subject = before[-3] if len(before) > 2 else None
    else:
        return None
    name = subject.value.lower() if subject is not None and subject.type == "NAME" else ""
    allowed = IS_WORDS.get(name)
    match = _VALUE_AT.match(text, pos)
    end = match.end() if match is not None else pos + 1
    shown = text[pos:end]
    if allowed is None:
        message = f"'is' takes a word such as 'flat' or 'weekend', found '{shown}'"
        return SyntaxReport("E301", pos, end, message)
    choices = _join([f"'{w}'" for w in allowed])
    message = f"'{name} is' takes only {choices}, found '{shown}'"
    compare = "!=" if words[-1] == "not" else "=="
    hint = f"to compare the size of the position, write 'position {compare} {shown}'" if name == "position" \
        else f"write a day such as '{allowed[0]}'"
    return SyntaxReport("E301", pos, end, message, hint)


def _misspelled_before(lark: Lark, text: str, start: str, name: Token, terms: _Terminals) -> str:
    """``x crosses abovee y`` fails at ``y``: ``abovee`` was read as a field, but looks like a
    keyword that was possible in its place."""
    ip, _ = _state_before(lark, text, start, name.start_pos or 0)
    accepted_words = {terms.words[t] for t in ip.accepts() if t in terms.words}
    suggestion = _suggestion(name.value.lower(), accepted_words)
    if suggestion:
        return f"did you mean '{_shown_word(suggestion)}' instead of '{name.value}'?"
    return ""


def _hint(start: str, acc: set[str], tok: Token | None, word: str, accepted_words: set[str]) -> str:
    found_type = tok.type if tok is not None else "$END"
    if start == "rule" and "_THEN" in acc and word in ACTION_WORDS:
        return "put 'then' between the condition and the actions"
    if tok is not None and tok.value == "=" and "COMP_OP" in acc:
        return "use '==' to compare"
    if start == "condition" and found_type == "_WHEN":
        return "leave out 'when': the 'when' key already says it"
    if start == "actions" and found_type == "_THEN":
        return "leave out 'then': the 'then' key already says it"
    if word:
        suggestion = _suggestion(word, accepted_words)
        if suggestion:
            return f"did you mean '{_shown_word(suggestion)}'?"
    if found_type == "NUMBER" and tok is not None:
        if "PERCENT" in acc:
            return f"did you mean '{tok.value}%'?"
        if "DURATION" in acc:
            return f"give the duration a unit, like '{tok.value}m'"
    if "_RPAR" in acc and (found_type in ("$END", "_THEN", "_COMMA") or word in ACTION_WORDS):
        return "a '(' is not closed"
    if found_type == "_RPAR":
        return "this ')' has no matching '('"
    if acc == {"_LSQB"}:
        return "write the words in brackets, like 'in [mon, tue]'"
    return ""


def _bad_character(lark: Lark, text: str, start: str, pos: int, terms: _Terminals) -> SyntaxReport:
    if text[pos] == '"':
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        return SyntaxReport("E201", pos, end, "unterminated string", "end the string with '\"'")
    return _unexpected(lark, text, start, pos, None, terms, bad_char=text[pos])
