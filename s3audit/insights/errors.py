"""Typed errors of the Logs Insights client. Each carries the data needed to act on it."""
from __future__ import annotations

from typing import Any


class InsightsError(RuntimeError):
    """Base class: a Logs Insights call failed in a way s3audit will not retry.

    Attributes
    ----------
    code : str or None
        The AWS error code (``MalformedQueryException``...), when there is one.
    query : str or None
        The query string involved.
    query_id : str or None
        The query id, when a query had been started.
    """

    def __init__(self, message: str, *, code: str | None = None, query: str | None = None,
                 query_id: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.query = query
        self.query_id = query_id
        self.details = details or {}


class MalformedQuery(InsightsError):
    """The query does not compile (``MalformedQueryException``); ``details`` holds the
    ``queryCompileError`` (location and message). Usually a bad ``where`` clause."""


class InvalidParameter(InsightsError):
    """AWS rejected a parameter (``InvalidParameterException``): time range, limit, log groups."""


class AccessDenied(InsightsError):
    """The caller lacks a permission (``AccessDeniedException``); the message names the action."""


class LogGroupNotFound(InsightsError):
    """A log group does not exist (``ResourceNotFoundException`` on StartQuery).

    ``missing`` lists the groups that DescribeLogGroups could not find (empty if that call
    was not allowed)."""

    def __init__(self, message: str, *, missing: list[str] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.missing = missing or []


class IncompleteResult(InsightsError):
    """Part of the requested window could not be retrieved.

    Attributes
    ----------
    frame : pandas.DataFrame
        Every event that *was* retrieved (same schema as a complete result).
    coverage : dict
        The coverage ledger (``frame.attrs["coverage"]``): every slice with its status, and
        ``missing``, the exact ranges not covered and why.

    Pass ``allow_partial=True`` to get the frame back instead of this exception.
    """

    def __init__(self, message: str, *, frame: Any, coverage: dict[str, Any]) -> None:
        super().__init__(message)
        self.frame = frame
        self.coverage = coverage

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_incomplete, (str(self), self.frame, self.coverage))


def _rebuild_incomplete(message: str, frame: Any, coverage: dict[str, Any]) -> IncompleteResult:
    return IncompleteResult(message, frame=frame, coverage=coverage)
