"""A wrong example and its fix for every diagnostic code, for ``docs/diagnostics.md``.

An example is either *rule text* (one line, as written after ``- `` under ``rules:``) or a
whole small rule file (it has a line break). Tests lint every example: the wrong one must
give its code, the fixed one nothing at all. Rule text is linted inside a file holding
``symbol: BTCUSDT`` and ``risk: {max_position: 0.05}``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Example:
    """A wrong example, its fix, and (rarely) the encoding the wrong file is saved in."""

    bad: str
    fixed: str
    saved_as: str = "utf-8"


_HEAD = "symbol: BTCUSDT\nrisk: {max_position: 0.05}\nrules:\n"

EXAMPLES: dict[str, Example] = {
    # file and YAML
    "E101": Example(
        _HEAD + '  - when price > 70000 then notify "prix élevé"\n',
        _HEAD + '  - when price > 70000 then notify "prix élevé"\n',
        saved_as="latin-1"),
    "E102": Example(
        "# symbol: BTCUSDT\n# rules:\n#   - when rsi(14) < 30 and position == 0 then buy 0.01\n",
        _HEAD + "  - when rsi(14) < 30 and position == 0 then buy 0.01\n"),
    "E103": Example(
        "symbol: [BTCUSDT, ETHUSDT\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when rsi(14) < 30 and position == 0 then buy 0.01\n",
        "symbol: [BTCUSDT, ETHUSDT]\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when rsi(14) < 30 and position == 0 then buy 0.01\n"),
    "E104": Example(
        "- when rsi(14) < 30 and position == 0 then buy 0.01\n",
        _HEAD + "  - when rsi(14) < 30 and position == 0 then buy 0.01\n"),
    "E105": Example(
        "symbol: BTCUSDT\nrisk: {max_position: 0.05}\nrules:\n  - name: exit\n"
        "    when: rsi(14) > 70 and position > 0\n    then: close\n    cooldwn: 15m\n",
        "symbol: BTCUSDT\nrisk: {max_position: 0.05}\nrules:\n  - name: exit\n"
        "    when: rsi(14) > 70 and position > 0\n    then: close\n    cooldown: 15m\n"),
    "E106": Example(
        "risk: {max_position: 0.05}\nrules:\n  - when rsi(14) < 30 and position == 0 then buy 0.01\n",
        _HEAD + "  - when rsi(14) < 30 and position == 0 then buy 0.01\n"),
    "E107": Example(
        "symbol: BTCUSDT\nrisk: {max_position: 0.05}\nrules: when rsi(14) < 30 and position == 0 then buy 0.01\n",
        _HEAD + "  - when rsi(14) < 30 and position == 0 then buy 0.01\n"),
    "E108": Example(
        "symbol: BTCUSDT\nsettings:\n  leverage: five\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when rsi(14) < 30 and position == 0 then buy 0.01\n",
        "symbol: BTCUSDT\nsettings:\n  leverage: 5\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when rsi(14) < 30 and position == 0 then buy 0.01\n"),
    "E109": Example(
        _HEAD + '  - when rsi(14) < 30 then notify "rsi: low"\n',
        _HEAD + "  - 'when rsi(14) < 30 then notify \"rsi: low\"'\n"),
    "E110": Example(
        "symbol: BTCUSDT\ncategory: futures\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when rsi(14) < 30 and position == 0 then buy 0.01\n",
        "symbol: BTCUSDT\ncategory: linear\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when rsi(14) < 30 and position == 0 then buy 0.01\n"),
    "E111": Example(
        _HEAD + "  - name: exit\n    when: rsi(14) > 70 and position > 0\n    then: close\n"
        "  - name: exit\n    when: upnl_pct < -2% and position > 0\n    then: close market\n",
        _HEAD + "  - name: exit high\n    when: rsi(14) > 70 and position > 0\n    then: close\n"
        "  - name: stop out\n    when: upnl_pct < -2% and position > 0\n    then: close market\n"),
    "E112": Example(
        _HEAD + "  - when rsi(14) < ${rsi_low} and position == 0 then buy 0.01\n",
        "symbol: BTCUSDT\nparams: {rsi_low: 30}\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when rsi(14) < ${rsi_low} and position == 0 then buy 0.01\n"),
    "E113": Example(
        _HEAD + '  - cron: "0 */4 * *"\n    then: notify "price {price}"\n',
        _HEAD + '  - cron: "0 */4 * * *"\n    then: notify "price {price}"\n'),
    "E114": Example(
        _HEAD + '  - at: "24:00"\n    then: notify "price {price}"\n',
        _HEAD + '  - at: "00:00"\n    then: notify "price {price}"\n'),
    "E115": Example(
        "symbol: BTCUSDT\ntimeframe: 10m\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when rsi(14) < 30 and position == 0 then buy 0.01\n",
        "symbol: BTCUSDT\ntimeframe: 15m\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when rsi(14) < 30 and position == 0 then buy 0.01\n"),
    "E116": Example(
        _HEAD + "  - name: exit\n    when: rsi(14) > 70 and position > 0\n    then: close\n    cooldown: 15\n",
        _HEAD + "  - name: exit\n    when: rsi(14) > 70 and position > 0\n    then: close\n    cooldown: 15m\n"),
    "E117": Example(
        "symbol: BTCUSDT\ntimezone: Berlin\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when time between 09:00 and 17:00 and position == 0 then buy 0.01\n",
        "symbol: BTCUSDT\ntimezone: Europe/Berlin\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when time between 09:00 and 17:00 and position == 0 then buy 0.01\n"),
    "E118": Example(
        "symbol: BTCUSDT\nsymbol: ETHUSDT\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when rsi(14) < 30 and position == 0 then buy 0.01\n",
        "symbol: [BTCUSDT, ETHUSDT]\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when rsi(14) < 30 and position == 0 then buy 0.01\n"),
    "E119": Example(
        "symbol: BTC/USDT\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when rsi(14) < 30 and position == 0 then buy 0.01\n",
        _HEAD + "  - when rsi(14) < 30 and position == 0 then buy 0.01\n"),
    # syntax and names
    "E201": Example("when rsi(14) < 30 and position == 0 buy 0.01",
                    "when rsi(14) < 30 and position == 0 then buy 0.01"),
    "E202": Example("when prise > 70000 and position > 0 then close",
                    "when price > 70000 and position > 0 then close"),
    "E203": Example("when rsii(14) < 30 and position == 0 then buy 0.01",
                    "when rsi(14) < 30 and position == 0 then buy 0.01"),
    "E204": Example("when rsi(14) > 70 and position > 0 then exit market",
                    "when rsi(14) > 70 and position > 0 then close market"),
    "E205": Example('when ' + "(" * 101 + "price > 70000" + ")" * 101 + ' then notify "high"',
                    'when price > 70000 then notify "high"'),
    "E206": Example("when rsi(14, 2) < 30 and position == 0 then buy 0.01",
                    "when rsi(14) < 30 and position == 0 then buy 0.01"),
    "E207": Example("when 30 < rsi(14) < 70 and position == 0 then buy 0.01",
                    "when rsi(14) between 30 and 70 and position == 0 then buy 0.01"),
    "E208": Example("when rsi(length=14) < 30 and position == 0 then buy 0.01",
                    "when rsi(n=14) < 30 and position == 0 then buy 0.01"),
    "E209": Example("when price > price[1] and position == 0 then buy 0.01",
                    "when close > close[1] and position == 0 then buy 0.01"),
    "E210": Example("when position is sideways then cancel orders",
                    "when position is flat then cancel orders"),
    "E211": Example('when price > 70000 then notify "price {price"',
                    'when price > 70000 then notify "price {price}"'),
    "E212": Example("when rsi(14) < 30 and position == 0 then buy 0.01 limit bid1 post only ioc",
                    "when rsi(14) < 30 and position == 0 then buy 0.01 limit bid1 post only"),
    # kinds and values
    "E301": Example("when rsi(14) > 5m and position == 0 then buy 0.01",
                    "when rsi(14, 5m) > 50 and position == 0 then buy 0.01"),
    "E302": Example("when rsi(0) < 30 and position == 0 then buy 0.01",
                    "when rsi(14) < 30 and position == 0 then buy 0.01"),
    "E303": Example("when position == 0 and leverage > 10 then set leverage 500",
                    "when position == 0 and leverage > 10 then set leverage 10"),
    "E304": Example("when rsi(14) < 30 and position == 0 then buy 0",
                    "when rsi(14) < 30 and position == 0 then buy 0.01"),
    "E305": Example("when rsi(14) < 30 and position == 0 then buy 0.01 sl 100%",
                    "when rsi(14) < 30 and position == 0 then buy 0.01 sl 1%"),
    "E306": Example("when rsi(14) < 30 and position == 0 then buy 0.01 limit 64000 sl 65000",
                    "when rsi(14) < 30 and position == 0 then buy 0.01 limit 64000 sl 63000"),
    "E307": Example("when rsi(14) < 30 and position == 0 then buy 100 doge",
                    "when rsi(14) < 30 and position == 0 then buy 100 usdt"),
    "E308": Example("when close[6000] < close and position == 0 then buy 0.01",
                    "when close[60] < close and position == 0 then buy 0.01"),
    "E309": Example("when rsi(14) and position == 0 then buy 0.01",
                    "when rsi(14) < 30 and position == 0 then buy 0.01"),
    # rule safety
    "W101": Example("when rsi(14) < 30 then buy 0.01",
                    "when rsi(14) < 30 and position == 0 then buy 0.01"),
    "W102": Example(
        "symbol: BTCUSDT\nrules:\n  - when rsi(14) < 30 and position == 0 then buy 0.01\n",
        _HEAD + "  - when rsi(14) < 30 and position == 0 then buy 0.01\n"),
    "W103": Example(
        _HEAD + "  - when rsi(14) < 40 and position <= 0 then buy 0.01\n"
        "  - when rsi(14) < 45 and position <= 0 then sell 0.01\n",
        _HEAD + "  - when rsi(14) < 40 and position == 0 then buy 0.01\n"
        "  - when rsi(14) > 60 and position == 0 then sell 0.01\n"),
    "W104": Example("when rsi(14) < 30 and rsi(14) > 70 and position == 0 then buy 0.01",
                    "when (rsi(14) < 30 or close > ema(200)) and position == 0 then buy 0.01"),
    "W105": Example(
        "symbol: BTCUSDT\nsettings: {leverage: 20}\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when rsi(14) < 30 and position == 0 then buy 0.01 sl 10%\n",
        "symbol: BTCUSDT\nsettings: {leverage: 20}\nrisk: {max_position: 0.05}\nrules:\n"
        "  - when rsi(14) < 30 and position == 0 then buy 0.01 sl 2%\n"),
    "W106": Example("when position == 0 and rsi(14) > 70 then close",
                    "when position > 0 and rsi(14) > 70 then close"),
    "W107": Example(
        _HEAD + '  - when rsi(14) < 30 and position == 0 then buy 0.01 tag "dip #1"\n',
        _HEAD + "  - 'when rsi(14) < 30 and position == 0 then buy 0.01 tag \"dip #1\"'\n"),
}
"""The examples by code; ``rulebot.lang.codes`` attaches them to its table."""
