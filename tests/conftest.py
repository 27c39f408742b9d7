"""Options shared by the whole test suite."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    # Here, at the top of the test tree, so that pytest knows the option whichever tests are run.
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite the golden outputs of tests/lang/cases (text and JSON) instead of comparing them",
    )
