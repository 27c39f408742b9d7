"""``Source``: a map built only when asked for, and a value like the frozen dataclass it was."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError

import pytest

from rulebot.lang.source import Location, Source


def test_contiguous_positions_follow_lines() -> None:
    source = Source.contiguous("f.yaml", "ab\ncd", line=3, column=5)
    assert source.positions == (Location(3, 5), Location(3, 6), Location(3, 7), Location(4, 1),
                                Location(4, 2), Location(4, 3))
    assert source.location(-4) == Location(3, 5)
    assert source.location(99) == Location(4, 3)


def test_a_deferred_map_is_built_once_and_only_when_asked_for() -> None:
    calls: list[int] = []

    def build() -> list[Location]:
        calls.append(1)
        return [Location(1, i) for i in range(1, 5)]

    source = Source.deferred("f.yaml", "abc", build)
    assert calls == []
    assert source.location(1) == Location(1, 2)
    assert source.positions[3] == Location(1, 4)
    assert calls == [1]


def test_a_map_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError):
        Source("f.yaml", "abc", (Location(1, 1),) * 3)
    late = Source.deferred("f.yaml", "abc", lambda: [Location(1, 1)] * 5)
    with pytest.raises(ValueError):
        late.location(0)


def test_equality_hash_repr_and_pickle_do_not_depend_on_when_the_map_was_built() -> None:
    eager = Source("f.yaml", "ab", (Location(2, 1), Location(2, 2), Location(2, 3)))
    lazy = Source.contiguous("f.yaml", "ab", line=2)
    other = Source.contiguous("f.yaml", "ab", line=3)
    assert eager == lazy and hash(eager) == hash(lazy)
    assert eager != other
    assert repr(lazy) == repr(eager)
    assert {eager: 1}[Source.contiguous("f.yaml", "ab", line=2)] == 1
    assert pickle.loads(pickle.dumps(Source.contiguous("f.yaml", "ab", line=2))) == eager


def test_a_source_cannot_be_changed() -> None:
    source = Source.contiguous("f.yaml", "ab")
    with pytest.raises(FrozenInstanceError):
        source.text = "cd"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del source.file  # type: ignore[misc]
