"""CloudWatch Logs Insights -> pandas, complete or loudly incomplete.

- :func:`pull_events`: every event of a window, exactly once (planned slices, paging, adaptive
  splitting, a coverage ledger in ``df.attrs["coverage"]``).
- :func:`count_events`: server-side ``stats count(*) by ...`` for windows too big to pull.
- :class:`IncompleteResult` and the other typed errors.

See ``docs/insights.md``.
"""
from __future__ import annotations

from s3audit.insights.counts import count_events
from s3audit.insights.errors import (
    AccessDenied,
    IncompleteResult,
    InsightsError,
    InvalidParameter,
    LogGroupNotFound,
    MalformedQuery,
)
from s3audit.insights.pull import coverage_frame, pull_events

__all__ = [
    "AccessDenied", "IncompleteResult", "InsightsError", "InvalidParameter", "LogGroupNotFound",
    "MalformedQuery", "count_events", "coverage_frame", "pull_events",
]
