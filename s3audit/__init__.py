"""s3audit: who reads this S3 bucket, by which path, and an alarm for the unexpected.

The public API is re-exported here lazily (PEP 562), so ``import s3audit`` does no work and
pulls in no heavy dependency until a name is used.

Examples
--------
>>> import s3audit
>>> s3audit.compile_pattern('{ $.eventName = "GetObject" }').matches({"eventName": "GetObject"})
True
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # loading (issue: foundation)
    "load_events": "s3audit.loader",
    "LoadError": "s3audit.loader",
    "EVENT_COLUMNS": "s3audit.schema",
    "generate_samples": "s3audit.samples",
    # filter-pattern engine
    "compile_pattern": "s3audit.pattern",
    "FilterPattern": "s3audit.pattern",
    "PatternError": "s3audit.pattern",
    # Logs Insights
    "pull_events": "s3audit.insights",
    "count_events": "s3audit.insights",
    "IncompleteResult": "s3audit.insights",
    # classification and tabulation
    "classify": "s3audit.sources",
    "tabulate": "s3audit.tables",
    # alarm design and backtest
    "FilterDesign": "s3audit.design",
    "backtest": "s3audit.backtesting",
    # deployment
    "plan": "s3audit.deploy",
    "teardown": "s3audit.deploy",
    "load_spec": "s3audit.deploy",
    # sharing
    "redact": "s3audit.redaction",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 's3audit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
