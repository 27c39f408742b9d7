"""The one table of diagnostic codes. Codes are stable and never reused.

E1xx: the file and its YAML; E2xx: syntax and names; E3xx: kinds and values; W1xx: rule
safety. ``docs/diagnostics.md`` is generated from this table (``python -m rulebot.lang.codes``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rulebot.lang.code_examples import EXAMPLES


@dataclass(frozen=True, slots=True)
class Code:
    """A diagnostic code: stable ``code``, kebab-case ``name``, one-line ``summary``, and a wrong
    example with its fix (rule text on one line, or a whole small rule file)."""

    code: str
    name: str
    summary: str
    bad: str = ""
    fixed: str = ""
    bad_saved_as: str = "utf-8"

    @property
    def severity(self) -> str:
        """``error`` for E codes, ``warning`` for W codes (``--strict`` changes the level, not the code)."""
        return "warning" if self.code.startswith("W") else "error"


_TABLE = (
    # file and YAML
    Code("E101", "unreadable-file", "the file cannot be read as UTF-8 text (binary, wrong encoding, too large)"),
    Code("E102", "empty-file", "the file holds no settings and no rules"),
    Code("E103", "yaml-syntax", "the file is not valid YAML, or a line is indented so that YAML reads it "
                                "as more of the line above"),
    Code("E104", "not-a-mapping", "the file (or a rule, or a section) is not a mapping of keys to values"),
    Code("E105", "unknown-key", "a key that rulebot does not know"),
    Code("E106", "missing-key", "a required key is missing (symbol, then, or when in a streamed rule)"),
    Code("E107", "rules-not-a-list", "`rules` must be a list of rules"),
    Code("E108", "wrong-value-type", "a setting has a value of the wrong type"),
    Code("E109", "rule-read-as-mapping", "YAML read an unquoted rule containing ': ' as a mapping"),
    Code("E110", "invalid-choice", "a word that is not one of the allowed choices (category, trigger, modes)"),
    Code("E111", "duplicate-rule-name", "two rules of one file have the same name"),
    Code("E112", "undeclared-param", "a ${param} that the file does not declare under `params`"),
    Code("E113", "invalid-cron", "a cron expression that cannot be read"),
    Code("E114", "invalid-time-of-day", "a time of day that is not HH:MM between 00:00 and 23:59"),
    Code("E115", "invalid-timeframe", "a timeframe that Bybit does not offer"),
    Code("E116", "invalid-duration", "a duration that cannot be read (cooldown, every, expire)"),
    Code("E117", "invalid-timezone", "a timezone name that is not in the IANA database"),
    Code("E118", "duplicate-key", "a key given twice in one YAML mapping"),
    Code("E119", "invalid-symbol", "a symbol that is not a Bybit symbol name"),
    # syntax and names
    Code("E201", "syntax-error", "the rule text does not follow the rule language"),
    Code("E202", "unknown-field", "a name that is not a field of the rule language"),
    Code("E203", "unknown-indicator", "a call of an indicator that does not exist"),
    Code("E204", "unknown-action", "an action that does not exist"),
    Code("E205", "too-deeply-nested", "parentheses or expressions nested deeper than rulebot reads"),
    Code("E206", "wrong-argument-count", "an indicator called with too many or too few arguments"),
    Code("E207", "chained-comparison", "a chain of comparisons like `30 < rsi(14) < 70`"),
    Code("E208", "unknown-argument", "a named argument that the indicator does not take"),
    Code("E209", "history-on-live-field", "`[n]` on a live field, which has no bar history"),
    Code("E210", "unknown-word", "a word that is not allowed here (`position is sideways`)"),
    Code("E211", "invalid-template", "a `{...}` in a notify message that is not a valid expression"),
    Code("E212", "conflicting-options", "an order option given twice, or options that exclude each other"),
    # kinds and values
    Code("E301", "kind-mismatch", "values of kinds that cannot be compared or combined"),
    Code("E302", "invalid-argument", "an indicator argument of the wrong kind or out of range"),
    Code("E303", "leverage-out-of-range", "`set leverage` outside 1 and the symbol's maximum"),
    Code("E304", "non-positive-size", "an order size of zero or less"),
    Code("E305", "tp-sl-out-of-range", "a percent take profit or stop loss of 0% or 100% and more"),
    Code("E306", "stop-on-wrong-side", "a stop loss or take profit on the wrong side of a fixed limit price"),
    Code("E307", "unknown-coin", "an amount in a coin that is not the symbol's base or quote coin"),
    Code("E308", "invalid-value", "a number out of its allowed range (a risk limit, a priority, a history offset)"),
    Code("E309", "condition-not-boolean", "a `when` that is a value, not a condition (`when rsi(14)`)"),
    # rule safety
    Code("W101", "unguarded-order-rule", "an order rule with no position/order guard and no cooldown"),
    Code("W102", "no-max-position", "a file that places orders without `risk: max_position`"),
    Code("W103", "conflicting-rules", "two rules can be true together and trade opposite ways"),
    Code("W104", "condition-never-true", "a condition that can never be true"),
    Code("W105", "stop-beyond-liquidation", "a stop or trail wider than the liquidation distance"),
    Code("W106", "close-when-flat", "`close` in a rule whose condition requires a flat position"),
    Code("W107", "yaml-comment-in-rule", "an unquoted ' #' cut the rule text short: YAML read a comment"),
)


def _with_example(c: Code) -> Code:
    example = EXAMPLES.get(c.code)
    if example is None:
        return c  # a test fails for a code without an example
    return replace(c, bad=example.bad, fixed=example.fixed, bad_saved_as=example.saved_as)


CODES: dict[str, Code] = {c.code: _with_example(c) for c in _TABLE}


def code_name(code: str) -> str:
    """The kebab-case name of a code (``E203`` -> ``unknown-indicator``)."""
    return CODES[code].name


_GROUPS = (
    ("E1", "E1xx: the file and its YAML"),
    ("E2", "E2xx: syntax and names"),
    ("E3", "E3xx: kinds and values"),
    ("W1", "W1xx: rule safety (warnings)"),
)


def _anchor(c: Code) -> str:
    return f"#{c.code.lower()}-{c.name}"


def _example(label: str, text: str, note: str = "") -> list[str]:
    if "\n" in text:
        return [f"{label} file{note}:", "", "```yaml", text.rstrip("\n"), "```", ""]
    return [f"{label} rule{note}:", "", "```text", text, "```", ""]


def render_catalogue() -> str:
    """``docs/diagnostics.md``: every code with its summary, a wrong example and its fix."""
    out = [
        "# Diagnostics",
        "",
        "<!-- Generated from rulebot/lang/codes.py by `python -m rulebot.lang.codes > docs/diagnostics.md`;"
        " do not edit by hand. -->",
        "",
        "`rulebot lint` reports every problem as `file:line:col: severity CODE message`. Codes are",
        "stable and never reused. Errors (`E`) keep a file from running; warnings (`W`) do not,",
        "unless `rulebot lint --strict` counts them as errors (the code stays the same).",
        "A *rule* example below is rule text as written after `- ` under `rules:`, in a file that",
        "sets `symbol: BTCUSDT` and `risk: {max_position: 0.05}`; a *file* example is a whole rule file.",
        "",
        "| code | name | severity | what it reports |",
        "|---|---|---|---|",
    ]
    out += [f"| [{c.code}]({_anchor(c)}) | {c.name} | {c.severity} | {c.summary} |" for c in CODES.values()]
    for prefix, title in _GROUPS:
        out += ["", f"## {title}", ""]
        for c in (c for c in CODES.values() if c.code.startswith(prefix)):
            out += [f"### {c.code} {c.name}", "", f"{c.severity}: {c.summary}.", ""]
            # an encoding problem shows the same text twice: say how each file is saved
            saved = c.bad_saved_as != "utf-8"
            out += _example("Wrong", c.bad, f" (saved as {c.bad_saved_as})" if saved else "")
            out += _example("Fixed", c.fixed, " (saved as utf-8)" if saved else "")
    while out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(render_catalogue())
