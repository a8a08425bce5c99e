"""The Examples sections of the access-source modules run and hold."""
from __future__ import annotations

import doctest
import importlib

import matplotlib
import pytest

matplotlib.use("Agg")

MODULES = ["s3audit.sources", "s3audit.tables", "s3audit.charts", "s3audit.ipranges",
           "s3audit.useragent"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
