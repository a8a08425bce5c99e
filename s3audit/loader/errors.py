"""Typed loading error and the bookkeeping of skipped input."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class LoadError(ValueError):
    """Input that cannot be loaded as CloudTrail events.

    Raised for unusable arguments (a missing file, an unsupported format such as CSV) and, with
    ``strict=True``, for the first piece of bad input that would otherwise be skipped.

    Attributes
    ----------
    source : str or None
        The file (or ``"<iterable>"``) the bad input came from.
    line : int or None
        1-based line (JSON lines) or record/row number (documents) of the bad input.
    reason : str
        What was wrong.
    """

    def __init__(self, reason: str, *, source: str | None = None, line: int | None = None) -> None:
        self.reason = reason
        self.source = source
        self.line = line
        where = ""
        if source is not None:
            where = f"{source}" + (f":{line}" if line is not None else "") + ": "
        super().__init__(where + reason)

    def __reduce__(self) -> tuple[Any, ...]:  # keep keyword data through pickling
        return (_rebuild_load_error, (self.reason, self.source, self.line))


def _rebuild_load_error(reason: str, source: str | None, line: int | None) -> LoadError:
    return LoadError(reason, source=source, line=line)


@dataclass
class SkipLog:
    """Collects skipped input: a capped list of ``{"source", "line", "reason"}`` plus a total.

    With ``strict=True`` the first :meth:`add` raises :class:`LoadError` instead.
    """

    strict: bool = False
    cap: int = 100
    entries: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0

    def add(self, source: str, line: int | None, reason: str) -> None:
        if self.strict:
            raise LoadError(reason, source=source, line=line)
        self.total += 1
        if len(self.entries) < self.cap:
            self.entries.append({"source": source, "line": line, "reason": reason})
