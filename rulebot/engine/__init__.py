"""rulebot.engine: the engine loop, rule state and firing, the schedule, reloads and replays.

The public names load on first use (PEP 562), so that commands that only need part of the
package (``rulebot explain``) do not pay for the whole engine at start.
"""

from __future__ import annotations

from importlib import import_module

_EXPORTS = {
    "AccountBook": "rulebot.engine.account",
    "AccountFields": "rulebot.engine.account",
    "ActionRunner": "rulebot.engine.orders",
    "BadInputLog": "rulebot.engine.badinput",
    "CompileContext": "rulebot.engine.ruleset",
    "Engine": "rulebot.engine.loop",
    "FileRules": "rulebot.engine.ruleset",
    "FileSettings": "rulebot.engine.ruleset",
    "FileWatcher": "rulebot.engine.reload",
    "Reloader": "rulebot.engine.reload",
    "Replay": "rulebot.engine.replay",
    "ReplayError": "rulebot.engine.replay",
    "ReplayStats": "rulebot.engine.replay",
    "RuleSet": "rulebot.engine.ruleset",
    "RuleSlot": "rulebot.engine.rulestate",
    "RuleState": "rulebot.engine.rulestate",
    "Routes": "rulebot.engine.routes",
    "SimSchedule": "rulebot.engine.scheduler",
    "LiveScheduler": "rulebot.engine.scheduler",
    "load_ruleset": "rulebot.engine.ruleset",
    "prepare_replay": "rulebot.engine.replay",
    "replay_bars": "rulebot.engine.replay",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rulebot.engine' has no attribute {name!r}")
    return getattr(import_module(module), name)
