"""The public surface of ``rulebot.actions`` is what ``__all__`` says."""

from __future__ import annotations

import rulebot.actions as actions


def test_every_exported_name_exists_once() -> None:
    assert len(set(actions.__all__)) == len(actions.__all__)
    assert all(hasattr(actions, name) for name in actions.__all__)


def test_public_names_are_exported() -> None:
    public = {name for name in vars(actions) if not name.startswith("_")}
    modules = {"account", "dispatch", "instruments", "intents", "link_ids", "models", "notify", "orders",
               "rejection", "risk", "stops"}
    assert public - modules == set(actions.__all__)
