"""The example strategies in examples/*.yaml load, parse and check without a diagnostic."""

from __future__ import annotations

from pathlib import Path

import pytest

from rulebot.lang.checker import CheckContext, RuleInput, check_rules
from rulebot.lang.loader import load_file
from rulebot.lang.parser import parse

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STRATEGIES = sorted(EXAMPLES.glob("*.yaml"))


def test_the_six_classic_strategies_and_a_sweep_are_there() -> None:
    names = {p.stem for p in STRATEGIES}
    assert {
        "rsi_dip",
        "ema_cross_adx",
        "bollinger_reversion",
        "donchian_breakout",
        "macd_trailing",
        "dca_dips",
        "rsi_sweep",
    } <= names


@pytest.mark.parametrize("path", STRATEGIES, ids=lambda p: p.name)
def test_example_lints_clean(path: Path) -> None:
    loaded = load_file(path)
    assert loaded.diagnostics == ()
    rule_file = loaded.rule_file
    assert rule_file is not None
    assert rule_file.symbols == ("BTCUSDT",)
    assert rule_file.risk.max_position is not None  # every example places orders
    inputs = []
    for rule in rule_file.rules:
        assert rule.when is not None and rule.then is not None  # mapping form throughout
        condition = parse(rule.when, "condition")
        actions = parse(rule.then, "actions")
        assert condition.diagnostics == () and actions.diagnostics == (), rule.name
        assert isinstance(actions.node, tuple)
        inputs.append(
            RuleInput(
                name=rule.name,
                index=rule.index,
                condition=condition.node,  # type: ignore[arg-type]
                actions=actions.node,
                condition_source=rule.when,
                actions_source=rule.then,
                cooldown_s=rule.cooldown,
                scheduled=rule.scheduled,
            )
        )
    leverage = rule_file.settings.leverage
    context = CheckContext.for_symbols(
        rule_file.symbols,
        category=rule_file.category,
        timeframe=rule_file.timeframe,
        leverage=float(leverage) if leverage is not None else None,
        has_max_position=True,
    )
    checked, file_diagnostics = check_rules(inputs, context)
    assert file_diagnostics == []
    for result in checked:
        assert result.diagnostics == (), (result.rule.name, result.diagnostics)


def test_rsi_dip_is_the_parity_strategy() -> None:
    loaded = load_file(EXAMPLES / "rsi_dip.yaml")
    assert loaded.rule_file is not None
    entry, exit_ = loaded.rule_file.rules
    assert entry.when is not None and entry.then is not None and exit_.when is not None
    assert entry.when.text == "rsi(14) < 30 and position is flat"
    assert entry.then.text == "buy 0.1 market tp 2% sl 1%"
    assert exit_.when.text == "rsi(14) > 70 and position > 0"
    assert entry.trigger.value == exit_.trigger.value == "level"


def test_sweep_parameters_take_overrides() -> None:
    loaded = load_file(EXAMPLES / "rsi_sweep.yaml", overrides={"rsi_low": "25"})
    assert loaded.diagnostics == ()
    assert loaded.rule_file is not None
    first = loaded.rule_file.rules[0]
    assert first.when is not None
    assert first.when.text == "rsi(14) < 25 and position is flat"
