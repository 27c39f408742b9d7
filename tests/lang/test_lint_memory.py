"""Lint frees each file's analysis by reference counting: nothing of it is left for the cyclic
collector, which lint keeps paused until the analysis is gone (``lint._lint_file``)."""

from __future__ import annotations

import gc
from collections import Counter
from pathlib import Path

import pytest
import yaml

from rulebot.lang import ast as A
from rulebot.lang.checker import CheckedRule
from rulebot.lang.filemodel import Rule
from rulebot.lang.lint import AnalyzedRule, FileAnalysis, analyze_file, lint_paths
from rulebot.lang.source import Source
from rulebot.lang.yamlnodes import YamlLoader

CASES = Path(__file__).parent / "cases"
# what one analysis is made of; none of it is cached from one file to the next
_PARTS = (FileAnalysis, AnalyzedRule, CheckedRule, Rule, Source, A.Compare, A.Call, A.Order, yaml.Node, YamlLoader)


def _parts() -> Counter[str]:
    return Counter(type(o).__name__ for o in gc.get_objects() if isinstance(o, _PARTS))


@pytest.mark.parametrize("kind", ["valid", "invalid"])
def test_an_analysis_leaves_nothing_for_the_collector(kind: str) -> None:
    folder = CASES / kind
    lint_paths([str(folder)])  # warm: the grammar and its plans are made once per process
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        before = _parts()
        report = lint_paths([str(folder)])
        for path in sorted(folder.glob("*.yaml")):
            analyze_file(path)
        left = _parts() - before
    finally:
        if was_enabled:
            gc.enable()
    assert report.files_checked > 20
    assert left == Counter()
