"""The Examples in the report/redaction modules' docstrings run and pass."""
from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["s3audit.redaction", "s3audit.leakscan", "s3audit.report",
                                  "s3audit.report_html", "s3audit.demo"])
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0 or name == "s3audit.demo"
