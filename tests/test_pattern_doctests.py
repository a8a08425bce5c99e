"""The Examples sections of the filter-pattern engine's public API run as doctests."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "s3audit.pattern", "s3audit.pattern.errors", "s3audit.pattern.compiled", "s3audit.pattern.parser",
    "s3audit.pattern.render", "s3audit.pattern.regex", "s3audit.pattern.explain", "s3audit.pattern.extract",
    "s3audit.pattern.lint",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if name in ("s3audit.pattern.compiled", "s3audit.pattern.explain", "s3audit.pattern.lint"):
        assert result.attempted > 0
