"""The Examples sections of the alarm-design modules run as doctests (they are documentation)."""
from __future__ import annotations

import doctest
import importlib

import matplotlib
import pytest

matplotlib.use("Agg")

MODULES = ["s3audit.design", "s3audit.exclusions", "s3audit.cidr", "s3audit.backtesting",
           "s3audit.widgets"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no Examples"
    assert result.failed == 0
