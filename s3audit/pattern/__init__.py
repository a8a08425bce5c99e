"""An exact, offline evaluator of the CloudWatch Logs filter-pattern language.

All three pattern kinds (terms, JSON, space-delimited), every operator and quota, following
``filter-pattern-spec.md``; where AWS is silent the spec's ``D->`` defaults are used and named in
comments. Package layout: :mod:`.tokens`, :mod:`.lexer`, :mod:`.ast`, :mod:`.parser` (grammar in
its docstring), :mod:`.values` (the type rules), :mod:`.evaluate` (per event), :mod:`.mask`
(vectorised over an event frame), :mod:`.render`, :mod:`.explain`, :mod:`.extract`, :mod:`.lint`.

Examples
--------
>>> from s3audit.pattern import compile_pattern
>>> p = compile_pattern('{ $.vpcEndpointId NOT EXISTS || $.vpcEndpointId != "vpce-1" }')
>>> [p.matches(e) for e in ({}, {"vpcEndpointId": "vpce-1"}, {"vpcEndpointId": None})]
[True, False, False]
"""
from __future__ import annotations

from .compiled import FilterPattern, compile_pattern
from .errors import PatternError
from .parser import MAX_LENGTH, MAX_REGEX, MAX_WILDCARD_SELECTORS

__all__ = ["FilterPattern", "PatternError", "compile_pattern", "MAX_LENGTH", "MAX_REGEX",
           "MAX_WILDCARD_SELECTORS"]


def __getattr__(name: str):  # lazily expose LintWarning / Extraction / Explanation
    if name == "LintWarning":
        from .lint import LintWarning

        return LintWarning
    if name == "Extraction":
        from .extract import Extraction

        return Extraction
    if name == "Explanation":
        from .explain import Explanation

        return Explanation
    raise AttributeError(name)
