"""The engine package's public names: each one in ``__all__`` resolves to the object of its module."""

from __future__ import annotations

import importlib

import pytest

import rulebot.engine as engine


@pytest.mark.parametrize("name", engine.__all__)
def test_every_public_name_resolves(name: str) -> None:
    obj = getattr(engine, name)
    assert obj.__module__.startswith("rulebot.engine.")
    assert getattr(importlib.import_module(obj.__module__), name) is obj


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        engine.NoSuchThing  # noqa: B018
