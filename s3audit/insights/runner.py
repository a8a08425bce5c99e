"""Run one Logs Insights query to the end: start, poll, page, stop — within a deadline.

:class:`QueryRunner` is the only place that calls StartQuery / GetQueryResults / StopQuery. It is
thread-safe (one runner is shared by the worker threads of a pull) and takes the clock and
``sleep`` as arguments, so tests run without waiting.

Behaviour (``shared/reference/aws-apis.md`` §1.2–1.5):

- StartQuery: ``LimitExceededException`` (account concurrency quota) queues the query — wait and
  retry until the deadline; throttling and ``ServiceUnavailableException`` back off with
  jitter; ``MalformedQueryException`` / ``InvalidParameterException`` / access denied /
  ``ResourceNotFoundException`` raise typed errors at once (retrying cannot help).
- GetQueryResults: polled every ``max(first, min(max, age / 5))`` seconds until a terminal status. ``Scheduled`` and
  ``Running`` are not terminal. Polls ask for ``poll_items`` rows (default 1): ``Running`` rows
  are partial, and downloading (and decoding) up to a full page of them on every poll cost as
  much as a fifth of a pull's transfer; the one row a poll returns is kept only as a salvage in
  case the query is abandoned. The poll that sees ``Complete`` is the first page, and paging
  goes on from its ``nextToken`` (one call more per query than pages of ``page_size``). ``Complete`` is paged with ``nextToken``/``maxItems`` up to the
  query's limit. ``Failed``, ``Cancelled``, ``Timeout`` and ``Unknown`` are returned to the caller,
  which re-runs or splits. An unknown/expired query id reads as ``Unknown``.
- With ``QuerySpec.on_page``, each page of a ``Complete`` query is handed over as it arrives
  (the pull parses it while the next one downloads); the outcome then counts them (``streamed``).
- Deadline or abort (Ctrl-C): the running query is stopped with StopQuery (best effort) and the
  outcome is ``Abandoned``.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from s3audit.insights import fastpage
from s3audit.insights.errors import (
    AccessDenied,
    InsightsError,
    InvalidParameter,
    LogGroupNotFound,
    MalformedQuery,
)

log = logging.getLogger(__name__)

POLL_FRACTION = 0.2
"""Poll interval as a share of the query's age (see :meth:`QueryRunner.next_poll`)."""
STOP_GRACE_S = 5.0
"""After Ctrl-C: how long workers may take to stop the queries they had just started."""
TERMINAL = frozenset({"Complete", "Failed", "Cancelled", "Timeout", "Unknown"})
THROTTLE_CODES = frozenset({
    "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
    "ServiceUnavailableException", "ServiceUnavailable", "InternalFailure", "InternalServerError",
})
ACCESS_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation",
                          "UnrecognizedClientException", "ExpiredTokenException", "InvalidSignatureException"})


class Abandoned(Exception):
    """Internal: the deadline passed or the pull was aborted while waiting."""


@dataclass
class QuerySpec:
    """One StartQuery: ``start_s``/``end_s`` are epoch seconds, both inclusive (AWS semantics)."""

    query: str
    log_groups: list[str]
    start_s: int
    end_s: int
    limit: int
    kind: str = "data"  # "data" or "plan" (for counters)
    columns: tuple[str, ...] | None = None  # decode pages column-wise for these fields (fastpage)
    # called with each page of a Complete query as it arrives (rows, column pages); the outcome
    # then holds none of them, only their number (``streamed``)
    on_page: Callable[[list[dict[str, str]], list[fastpage.ColumnPage]], None] | None = None
    # called with the query id once StartQuery has accepted the query
    on_start: Callable[[str], None] | None = None


@dataclass
class QueryOutcome:
    """What one query produced."""

    status: str  # Complete, Failed, Cancelled, Timeout, Unknown, Abandoned
    rows: list[dict[str, str]] = field(default_factory=list)
    statistics: dict[str, float] = field(default_factory=dict)
    query_id: str | None = None
    token_left: bool = False  # a nextToken was still there when we stopped paging
    partial: bool = False  # rows are partial (Running rows of an abandoned query)
    message: str = ""
    pages: list[fastpage.ColumnPage] = field(default_factory=list)  # rows decoded column-wise
    streamed: int = 0  # rows handed to QuerySpec.on_page (not in rows/pages)

    @property
    def n_rows(self) -> int:
        """Rows returned, whichever way their pages were decoded or handed on."""
        return len(self.rows) + sum(len(p) for p in self.pages) + self.streamed


class QueryRunner:
    """Runs queries against one ``logs`` client; shared by a pull's worker threads.

    Parameters
    ----------
    client
        A boto3 ``logs`` client.
    deadline_at
        A ``clock()`` value after which every wait gives up (None: no deadline).
    clock, sleep
        Injected for tests (``time.monotonic`` / an abortable wait by default).
    poll_interval
        ``(first, max)`` seconds between GetQueryResults polls; in between, a fifth of the
        query's age (:meth:`next_poll`).
    page_size
        ``maxItems`` per GetQueryResults page (AWS maximum 10,000).
    poll_items
        ``maxItems`` of the polls made before the query is ``Complete``.
    """

    def __init__(
        self,
        client: Any,
        *,
        deadline_at: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] | None = None,
        poll_interval: tuple[float, float] = (0.5, 5.0),
        page_size: int = 10_000,
        poll_items: int = 1,
        rng: random.Random | None = None,
        abort: threading.Event | None = None,
    ) -> None:
        self.client = client
        self.deadline_at = deadline_at
        self.clock = clock
        self.abort = abort or threading.Event()
        self._sleep = sleep if sleep is not None else (lambda s: self.abort.wait(s))
        self.poll_interval = poll_interval
        self.page_size = page_size
        self.poll_items = max(1, poll_items)
        self.rng = rng or random.Random(0)
        self.counters: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._active: dict[str, str] = {}  # query id -> status

    # ------------------------------------------------------------------------------ helpers
    def count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counters[key] += n

    def remaining(self) -> float | None:
        return None if self.deadline_at is None else self.deadline_at - self.clock()

    def _check(self) -> None:
        if self.abort.is_set():
            raise Abandoned("aborted")
        rem = self.remaining()
        if rem is not None and rem <= 0:
            raise Abandoned("deadline passed")

    def _wait(self, seconds: float) -> None:
        self._check()
        rem = self.remaining()
        if rem is not None:
            seconds = min(seconds, max(rem, 0.0))
        self._sleep(seconds)
        self._check()

    def _backoff(self, attempt: int, base: float = 0.25, cap: float = 10.0) -> float:
        with self._lock:
            jitter = self.rng.random()
        return min(cap, base * (2 ** min(attempt, 10))) * (0.5 + 0.5 * jitter)

    def call(self, op: str, **params: Any) -> dict[str, Any]:
        """One API call, retried with backoff on throttling / transient errors until the deadline.

        Non-transient ``ClientError`` s propagate unchanged.
        """
        attempt = 0
        while True:
            self._check()
            self.count("api:" + op)
            try:
                return getattr(self.client, op)(**params)  # type: ignore[no-any-return]
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code not in THROTTLE_CODES:
                    raise
                self.count("throttled")
                log.debug("%s throttled (%s), attempt %d", op, code, attempt)
            except BotoCoreError as exc:  # connection reset, read timeout...
                if attempt >= 5:
                    raise
                self.count("transport_retries")
                log.debug("%s transport error %r, attempt %d", op, exc, attempt)
            self._wait(self._backoff(attempt))
            attempt += 1

    def next_poll(self, age: float) -> float:
        """Seconds to wait before the next poll of a query started ``age`` seconds ago: the
        first interval, then :data:`POLL_FRACTION` of the age, at most the longest interval.
        A query is thus seen done at most a fifth of its run time late (a 1.5x back-off could be
        a third late), while a long query is polled no more often than every ``max`` seconds."""
        first, cap = self.poll_interval
        return max(first, min(cap, POLL_FRACTION * age))

    # ---------------------------------------------------------------------------- the query
    def start(self, spec: QuerySpec) -> str:
        """StartQuery; queues on the concurrency quota; raises typed errors for bad requests."""
        params: dict[str, Any] = {
            "queryString": spec.query,
            "startTime": spec.start_s,  # epoch seconds, inclusive
            "endTime": spec.end_s,  # epoch seconds, inclusive
            "limit": spec.limit,
        }
        if any(g.startswith("arn:") for g in spec.log_groups):
            params["logGroupIdentifiers"] = spec.log_groups
        else:
            params["logGroupNames"] = spec.log_groups
        waits = 0
        while True:
            try:
                qid = self.call("start_query", **params)["queryId"]
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code == "LimitExceededException":
                    self.count("limit_exceeded")
                    self._wait(self._backoff(waits, base=0.5, cap=5.0))
                    waits += 1
                    continue
                raise _typed(exc, spec.query) from exc
            self.count("start_query")
            self.count("start_query:" + spec.kind)
            with self._lock:
                self._active[qid] = "Scheduled"
            if spec.on_start is not None:
                spec.on_start(qid)
            return qid

    def run(self, spec: QuerySpec) -> QueryOutcome:
        """Start ``spec`` and wait for it; never raises :class:`Abandoned`."""
        try:
            qid = self.start(spec)
        except Abandoned as exc:
            return QueryOutcome("Abandoned", message=f"not started: {exc}")
        try:
            return self.wait(qid, spec)
        except BaseException:  # Ctrl-C (or a bug) while waiting in this thread: do not leak the query
            self.stop(qid)
            raise
        finally:
            with self._lock:
                self._active.pop(qid, None)

    def wait(self, qid: str, spec: QuerySpec) -> QueryOutcome:
        started = self.clock()
        partial: list[dict[str, str]] = []
        partial_pages: list[fastpage.ColumnPage] = []
        stats: dict[str, float] = {}
        last = ""
        try:
            while True:
                self._wait(self.next_poll(self.clock() - started))
                try:
                    with fastpage.wanted(spec.columns):
                        resp = self.call("get_query_results", queryId=qid,
                                         maxItems=min(self.poll_items, self.page_size, spec.limit))
                except ClientError as exc:
                    code = exc.response.get("Error", {}).get("Code", "")
                    if code == "ResourceNotFoundException":  # unknown or expired id
                        return QueryOutcome("Unknown", query_id=qid, message=str(exc))
                    raise _typed(exc, spec.query, qid) from exc
                status = resp.get("status", "Unknown")
                stats = resp.get("statistics") or stats
                if status != last:
                    log.debug("query %s: %s", qid, status)
                    last = status
                    with self._lock:
                        if qid in self._active:
                            self._active[qid] = status
                if status in ("Scheduled", "Running"):
                    if resp.get("results") or resp.get(fastpage.KEY):
                        partial, partial_pages = _rows(resp.get("results") or []), _pages(resp)
                    continue
                if status != "Complete":
                    if status not in TERMINAL:
                        log.warning("query %s: unexpected status %r, treated as Unknown", qid, status)
                        status = "Unknown"
                    return QueryOutcome(status, query_id=qid, statistics=stats, message=f"query ended {status}")
                return self._page(qid, spec, resp)
        except Abandoned as exc:
            self.stop(qid)
            return QueryOutcome("Abandoned", rows=partial, statistics=stats, query_id=qid, partial=True,
                                message=str(exc), pages=partial_pages)

    def _page(self, qid: str, spec: QuerySpec, resp: dict[str, Any]) -> QueryOutcome:
        rows: list[dict[str, str]] = []
        pages: list[fastpage.ColumnPage] = []

        def take(response: dict[str, Any]) -> int:
            got_rows, got_pages = _rows(response.get("results") or []), _pages(response)
            if spec.on_page is not None:
                spec.on_page(got_rows, got_pages)
            else:
                rows.extend(got_rows)
                pages.extend(got_pages)
            return len(got_rows) + sum(len(p) for p in got_pages)

        n = take(resp)
        streamed = n if spec.on_page is not None else 0
        stats = resp.get("statistics") or {}
        token = resp.get("nextToken")
        seen: set[str] = set()
        while token and n < spec.limit:
            if token in seen:
                log.warning("query %s: nextToken repeated; paging stopped", qid)
                break
            seen.add(token)
            try:
                with fastpage.wanted(spec.columns):
                    page = self.call("get_query_results", queryId=qid, nextToken=token,
                                     maxItems=min(self.page_size, spec.limit - n))
            except Abandoned:
                raise
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in ("ResourceNotFoundException", "InvalidParameterException"):  # token expired
                    return QueryOutcome("Unknown", rows=rows, statistics=stats, query_id=qid, partial=True,
                                        message=f"paging failed: {exc}", pages=pages, streamed=streamed)
                raise _typed(exc, spec.query, qid) from exc
            k = take(page)
            n += k
            if spec.on_page is not None:
                streamed += k
            token = page.get("nextToken")
            self.count("pages")
        return QueryOutcome("Complete", rows=rows, statistics=stats, query_id=qid, token_left=bool(token),
                            pages=pages, streamed=streamed)

    def stop(self, qid: str) -> bool:
        """StopQuery, best effort (the query may have ended meanwhile)."""
        try:
            self.count("stop_query")
            ok = bool(self.client.stop_query(queryId=qid).get("success"))
            log.info("stopped abandoned query %s", qid)
            return ok
        except (ClientError, BotoCoreError) as exc:
            log.debug("StopQuery %s: %s", qid, exc)
            return False

    def interrupt(self, pool: ThreadPoolExecutor, busy: Iterable[Future[Any]], grace: float = STOP_GRACE_S) -> list[str]:
        """After Ctrl-C in the thread that waits for the workers: stop every running query and
        drop queued work. A worker whose StartQuery was under way learns its query id only
        now; it sees the abort and stops that query itself, so the workers in ``busy`` get up
        to ``grace`` seconds for it. Returns the ids stopped here."""
        self.abort.set()
        stopped = self.stop_all()
        pool.shutdown(wait=False, cancel_futures=True)
        _, late = wait(list(busy), timeout=grace)
        log.warning("interrupted: stopped %d running queries%s", len(stopped),
                    f"; {len(late)} workers still busy after {grace:.0f}s" if late else "")
        return stopped

    def stop_all(self) -> list[str]:
        """Stop every query still running (used on Ctrl-C / deadline by the orchestrator)."""
        with self._lock:
            ids = list(self._active)
        for qid in ids:
            self.stop(qid)
        return ids


def _rows(results: list[list[dict[str, str]]]) -> list[dict[str, str]]:
    return [{f["field"]: f.get("value", "") for f in row} for row in results]


def _pages(resp: dict[str, Any]) -> list[fastpage.ColumnPage]:
    """The page's rows decoded by :mod:`fastpage` (its ``results`` are then absent from ``resp``)."""
    page = resp.get(fastpage.KEY)
    return [] if page is None else [page]


def _typed(exc: ClientError, query: str | None, qid: str | None = None) -> InsightsError:
    err = exc.response.get("Error", {})
    code = err.get("Code", "")
    msg = err.get("Message", str(exc))
    if code == "MalformedQueryException":
        detail = exc.response.get("queryCompileError") or {}
        return MalformedQuery(f"Logs Insights rejected the query: {msg}\n  query: {query}", code=code,
                              query=query, query_id=qid, details={"queryCompileError": detail})
    if code == "InvalidParameterException":
        return InvalidParameter(f"Logs Insights rejected a parameter: {msg}", code=code, query=query, query_id=qid)
    if code in ACCESS_CODES:
        return AccessDenied(f"access denied: {msg} (needs logs:StartQuery, logs:GetQueryResults, "
                            f"logs:StopQuery, logs:GetLogRecord)", code=code, query=query, query_id=qid)
    if code == "ResourceNotFoundException":
        return LogGroupNotFound(f"log group not found: {msg}", code=code, query=query, query_id=qid)
    return InsightsError(f"{code}: {msg}", code=code, query=query, query_id=qid)
