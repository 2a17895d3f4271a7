"""Every test in the suites is a conformance test: it must name the contract clauses it
checks, and the conformance plugin's rules and reports apply to it.

The mark is given here, beside the suites, so it travels with them into the installed package
(``fsconformance run``); a project's own tests are never marked unless it marks them.
"""

from __future__ import annotations

import pytest


def pytest_itemcollected(item: pytest.Item) -> None:
    # Called for the tests below this folder only (pytest scopes the hook by path).
    item.add_marker(pytest.mark.conformance)
