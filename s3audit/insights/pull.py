"""``pull_events``: every event of a window from Logs Insights, exactly once, or a loud error.

How a pull works (docs/insights.md has the long version):

1. **Window.** ``[start, end)`` is padded by ``padding`` on both sides (CloudTrail delivers
   minutes late and CloudWatch Logs stamps the delivery time) into whole epoch seconds
   ``[S, E)``; rows are finally selected by ``eventTime`` in ``[start, end)``.
2. **Plan.** ``stats count(*) by bin(w)`` over ``[S, E)`` (``w`` chosen so the answer fits one
   page); bins holding more than a slice can return are counted again with a finer bin, down to
   one second. Bins are packed into slices expected to hold at most ``fill * limit`` events.
3. **Fetch.** Each slice is one query, ``fields @timestamp, @message | sort @timestamp asc``
   with ``limit`` (100,000) read through ``nextToken`` pages, run concurrently within
   ``max_concurrency``. A slice owns ``[a, b)`` and is queried as the inclusive range
   ``[a, b]``; rows are kept by owner and de-duplicated on ``@ptr``.
4. **Saturation.** A slice that *returns* ``limit`` rows (or leaves a ``nextToken``) is
   saturated. Because its rows are sorted, everything before its last second is complete and is
   kept; the rest is re-planned and queried again. A single second that alone returns the limit
   is also read newest-first; if the two reads do not meet, the gap is reported, never hidden.
5. **Statuses.** ``Timeout`` splits the slice (or re-runs a one-second slice); ``Failed``,
   ``Cancelled`` and ``Unknown`` re-run it up to ``max_retries`` times; after that, and on the
   deadline or Ctrl-C (running queries are stopped with StopQuery), the slice is reported
   missing.
6. **Ledger.** ``df.attrs["coverage"]`` records every slice; if anything is missing,
   :class:`~s3audit.insights.errors.IncompleteResult` is raised (``allow_partial=True`` returns
   the partial frame instead).
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from os import PathLike
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from s3audit.insights import fastpage, planner
from s3audit.insights.cache import SliceCache, cache_key
from s3audit.insights.errors import IncompleteResult, LogGroupNotFound
from s3audit.insights.frame import event_time_ms
from s3audit.insights.planner import Bin
from s3audit.insights.runner import QueryOutcome, QueryRunner, QuerySpec
from s3audit.insights.session import check_where, logs_client, normalize_log_groups, missing_log_groups
from s3audit.insights.timeutil import (
    as_seconds,
    ceil_epoch_seconds,
    floor_epoch_seconds,
    iso,
    iso_ms,
    iso_seconds,
    require_aware,
)
from s3audit.loader.frame import refit_extra_columns, select_rows
from s3audit.loader.scan import string_offsets
from s3audit.loader.stream import TextStream

log = logging.getLogger(__name__)

DATA_FIELDS = "fields @timestamp, @message"
DATA_COLUMNS = ("@timestamp", "@message", "@ptr")  # what a data query's rows hold
PLAN_PART_S = 86_400  # planning queries in parallel each count at least a day of the window
T = TypeVar("T")


@dataclass
class _Rows:
    """Rows of one query, as compact columns."""

    ptr: pa.Array | pa.ChunkedArray  # string: the rows' ``@ptr`` (Arrow, never Python strings)
    ts: np.ndarray  # epoch ms
    msg: pa.Array | pa.ChunkedArray  # large_string: compact (chunks: one per page, not copied)
    fetched_records: int = 0  # GetLogRecord calls made for cut messages
    arrival: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # numbers in the TextStream

    @classmethod
    def empty(cls) -> _Rows:
        return cls(pa.array([], pa.string()), np.zeros(0, np.int64), pa.array([], pa.large_string()))

    def take(self, mask: np.ndarray) -> _Rows:
        if bool(mask.all()):
            return self  # the usual case (a slice owns all its rows): no copy
        return self.reorder(np.nonzero(mask)[0])

    def reorder(self, idx: np.ndarray) -> _Rows:
        """The rows at positions ``idx`` (a take of every column)."""
        take = pa.array(idx, pa.int64())
        return _Rows(self.ptr.take(take), self.ts[idx], self.msg.take(take), fetched_records=self.fetched_records,
                     arrival=self.arrival[idx] if len(self.arrival) else self.arrival)

    def __len__(self) -> int:
        return len(self.ts)


@dataclass
class SliceEntry:
    """One line of the coverage ledger."""

    start: str  # ISO 8601, owned range [start, end)
    end: str
    status: str  # complete | cached | saturated | timeout | failed | abandoned
    rows: int = 0  # events kept from this slice (owned, before the eventTime selection)
    returned: int = 0  # rows the query(ies) returned
    expected: int | None = None  # events the plan predicted
    records_matched: float = 0.0
    records_scanned: float = 0.0
    bytes_scanned: float = 0.0
    query_ids: list[str] = field(default_factory=list)
    attempts: int = 0
    note: str = ""
    missing: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Task:
    a: int
    b: int
    expected: int | None
    attempts: int = 0
    order: str = "asc"
    carry: _Rows | None = None  # asc rows of a saturated second (for the desc read)
    entry_stats: dict[str, Any] = field(default_factory=dict)


def pull_events(
    log_groups: str | Sequence[str],
    start: datetime,
    end: datetime,
    *,
    client: Any = None,
    session: Any = None,
    where: str | None = None,
    max_concurrency: int = 25,
    deadline: float | timedelta | None = timedelta(hours=1),
    progress: bool = True,
    cache_dir: str | PathLike[str] | None = None,
    allow_partial: bool = False,
    padding: timedelta = timedelta(minutes=15),
    limit: int = 100_000,
    page_size: int = 10_000,
    fill: float | None = None,
    plan_rows: int = 5_000,
    plan_queries: int = 4,
    max_retries: int = 3,
    poll_interval: tuple[float, float] = (0.5, 5.0),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Any] | None = None,
    now: Callable[[], datetime] | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """Pull every CloudTrail event of ``[start, end)`` from CloudWatch Logs Insights.

    Parameters
    ----------
    log_groups : str or sequence of str
        Log group names or ARNs (at most 50; a trailing ``:*`` on an ARN is removed).
    start, end : datetime
        Timezone-aware bounds; the result holds the events whose ``eventTime`` lies in
        ``[start, end)``. Naive datetimes raise ``ValueError``.
    client, session
        A boto3 ``logs`` client wins over a ``boto3.Session``, which wins over the default
        session (``AWS_PROFILE``, ``AWS_ENDPOINT_URL`` work as in boto3).
    where : str, optional
        An extra Logs Insights ``filter`` expression pushed to the server, e.g.
        ``'requestParameters.bucketName = "my-bucket"'``. It must not contain ``|``.
    max_concurrency : int
        Queries running at once (default 25: a quarter of the account's 100).
    deadline : seconds or timedelta or None
        Overall time budget; queries still running then are stopped and reported missing.
    progress : bool
        Show a tqdm bar (slices done, events so far).
    cache_dir : path, optional
        Store finished slices as parquet and reuse them on the next call.
    allow_partial : bool
        Return an incomplete frame (ledger says what is missing) instead of raising.
    padding : timedelta
        How much the query window extends beyond ``[start, end)`` on each side (default 15 min),
        to catch events delivered late.
    limit, page_size : int
        StartQuery ``limit`` (AWS maximum 100,000) and GetQueryResults page size (10,000).
    fill : float, optional
        Plan slices for at most ``fill * limit`` events. Default: 0.995 for a window that ended
        before now - padding (counts are final), 0.95 otherwise (headroom for events still
        arriving between planning and fetching).
    plan_rows : int
        Bins per planning query (at most one page).
    plan_queries : int
        The query window is counted by up to this many planning queries at once, each over a
        part of about a day or more, cut at bin edges (default 4, at most ``max_concurrency``): a query's run time grows with
        what it scans, so the parts are counted sooner than the whole, for the same bytes
        scanned. 1 plans with a single query (the fewest StartQuery calls).
    max_retries : int
        Re-runs of a slice whose query ends ``Failed``, ``Cancelled``, ``Unknown`` or
        (one-second slices) ``Timeout``.
    poll_interval : (float, float)
        First and longest wait between GetQueryResults polls.
    clock, sleep, now, seed
        Injected time sources and jitter seed (tests).

    Returns
    -------
    pandas.DataFrame
        The event frame of :func:`s3audit.load_events`; ``df.attrs["coverage"]`` is the ledger:
        ``complete``, ``slices`` (range, status, rows, recordsMatched, bytesScanned, query ids),
        ``missing`` ranges, ``start_queries``, ``bytes_scanned`` and counts of dropped rows.

    Raises
    ------
    IncompleteResult
        Part of the window is missing (carries ``.frame`` and ``.coverage``).
    MalformedQuery, InvalidParameter, AccessDenied, LogGroupNotFound
        Raised at once: retrying cannot help.
    ValueError, TypeError
        Bad arguments (naive datetimes, ``end <= start``, more than 50 log groups...).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> df = s3audit.pull_events("aws-cloudtrail-logs", datetime(2026, 11, 1, tzinfo=timezone.utc),
    ...                          datetime(2026, 11, 8, tzinfo=timezone.utc),
    ...                          where='requestParameters.bucketName = "payroll"')  # doctest: +SKIP
    >>> df.attrs["coverage"]["complete"]  # doctest: +SKIP
    True
    """
    groups = normalize_log_groups(log_groups)
    t0 = require_aware(start, "start")
    t1 = require_aware(end, "end")
    if t1 <= t0:
        raise ValueError(f"end ({t1}) must be after start ({t0})")
    where = check_where(where)
    if not 1 <= limit <= 100_000:
        raise ValueError("limit must be between 1 and 100,000")
    if not 1 <= page_size <= 10_000:
        raise ValueError("page_size must be between 1 and 10,000")
    if max_concurrency < 1:
        raise ValueError("max_concurrency must be at least 1")
    if plan_queries < 1:
        raise ValueError("plan_queries must be at least 1")
    if fill is not None and not 0 < fill <= 1:
        raise ValueError("fill must be in (0, 1]")
    pad = as_seconds(padding, "padding") or 0.0
    budget = as_seconds(deadline, "deadline")
    logs = logs_client(client, session, max_concurrency)
    puller = _Puller(
        logs=logs, groups=groups, start=t0, end=t1, where=where, pad=pad, max_concurrency=max_concurrency,
        deadline_at=None if budget is None else clock() + budget, progress=progress, cache_dir=cache_dir,
        limit=limit, page_size=page_size, fill=fill, plan_rows=plan_rows, plan_queries=plan_queries,
        max_retries=max_retries,
        poll_interval=poll_interval, clock=clock, sleep=sleep, now=now or (lambda: datetime.now(timezone.utc)),
        seed=seed,
    )
    df, coverage = puller.run()
    if not coverage["complete"]:
        missing = coverage["missing"]
        text = "; ".join(f"{m['start']} .. {m['end']} ({m['reason']})"
                         for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        message = (f"pull incomplete: {len(missing)} range(s) of the window could not be retrieved: {text}{more}. "
                   f"The frame holds the {len(df)} events that were; see .coverage")
        if allow_partial:
            log.warning(message)
            return df
        raise IncompleteResult(message, frame=df, coverage=coverage)
    return df


class _Puller:
    def __init__(self, *, logs: Any, groups: list[str], start: datetime, end: datetime, where: str | None,
                 pad: float, max_concurrency: int, deadline_at: float | None, progress: bool,
                 cache_dir: str | PathLike[str] | None, limit: int, page_size: int, fill: float | None,
                 plan_rows: int, plan_queries: int, max_retries: int, poll_interval: tuple[float, float],
                 clock: Callable[[], float], sleep: Callable[[float], Any] | None,
                 now: Callable[[], datetime], seed: int | None) -> None:
        self.logs = logs
        self.groups = groups
        self.start, self.end = start, end
        self.where = where
        self.pad = pad
        self.S = floor_epoch_seconds(start - timedelta(seconds=pad))
        self.E = ceil_epoch_seconds(end + timedelta(seconds=pad))
        self.max_concurrency = max_concurrency
        self.progress = progress
        self.limit = limit
        self.now = now
        if fill is None:
            fill = 0.995 if self.E * 1000 <= self._fresh_ms() else 0.95
        self.target = max(1, min(limit - 1, int(limit * fill)))
        self.plan_rows = max(1, min(plan_rows, 10_000 - 2, limit - 2))
        self.plan_queries = max(1, min(plan_queries, max_concurrency))
        self.max_retries = max_retries
        self.clock = clock
        self.abort = threading.Event()
        self.runner = QueryRunner(logs, deadline_at=deadline_at, clock=clock, sleep=sleep,
                                  poll_interval=poll_interval, page_size=page_size,
                                  rng=random.Random(seed), abort=self.abort)
        head = f"filter {where} | " if where else ""
        self.data_query = {o: f"{head}{DATA_FIELDS} | sort @timestamp {o}" for o in ("asc", "desc")}
        self.cache = SliceCache(cache_dir, cache_key(groups, where, self.data_query["asc"])) if cache_dir else None
        self.entries: list[SliceEntry] = []
        self.planning: list[dict[str, Any]] = []
        self.results: list[_Rows] = []
        self.bins: list[Bin] = []
        self.uncounted: list[tuple[int, int]] = []  # planning parts whose query failed
        self.plan_ok = True
        self.get_log_record = 0
        self.record_failures: dict[str, str] = {}  # @ptr -> why GetLogRecord did not return its record
        self.events_so_far = 0
        self.timings: dict[str, float] = {}
        # every row's message is parsed as soon as its page arrives; the frame is assembled from
        # the rows kept at the end (see _assemble)
        self.stream = TextStream()
        self.inflight: set[Future[Any]] = set()  # submitted work not yet done (see _submit)
        self.inflight_lock = threading.Lock()

    # ------------------------------------------------------------------------------- run
    def run(self) -> tuple[pd.DataFrame, dict[str, Any]]:
        from tqdm.auto import tqdm

        bar = tqdm(total=0, unit="slice", desc="pull", disable=not self.progress, leave=True)
        pool = ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="s3audit-pull")
        uninstall = fastpage.install(self.logs)  # column-wise page decoding for our data queries
        try:
            t = time.perf_counter()
            self.bins = self._plan(pool, bar)
            self.timings["plan_s"] = time.perf_counter() - t
            self._fetch_all(pool, bar)
            self.timings["fetch_s"] = time.perf_counter() - t - self.timings["plan_s"]
        except KeyboardInterrupt:
            self.abort.set()  # first: no worker starts another query while the parser stops
            self.stream.close()
            with self.inflight_lock:
                busy = list(self.inflight)
            self.runner.interrupt(pool, busy)
            bar.close()
            raise
        except LogGroupNotFound as exc:
            self._shutdown(pool)
            exc.missing = missing_log_groups(self.logs, self.groups)
            if exc.missing:
                exc.args = (f"{exc.args[0]} (missing: {', '.join(exc.missing)})",)
            raise
        except BaseException:
            self._shutdown(pool)
            raise
        finally:
            uninstall()
        pool.shutdown(wait=True)
        bar.close()
        t = time.perf_counter()
        out = self._assemble()
        self.timings["frame_s"] = time.perf_counter() - t
        return out

    def _submit(self, pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn`` in a worker, remembered in :attr:`inflight` until it is done."""
        fut = pool.submit(fn, *args)
        with self.inflight_lock:
            self.inflight.add(fut)
        fut.add_done_callback(self._forget)
        return fut

    def _forget(self, fut: Future[Any]) -> None:
        with self.inflight_lock:
            self.inflight.discard(fut)

    @staticmethod
    def _result(fut: Future[T]) -> T:
        """``fut.result()``, waiting in short steps so that Ctrl-C is seen at once."""
        while not fut.done():
            wait([fut], timeout=0.2)
        return fut.result()

    def _shutdown(self, pool: ThreadPoolExecutor) -> None:
        self.abort.set()
        self.runner.stop_all()
        pool.shutdown(wait=True, cancel_futures=True)
        self.stream.close()

    # ------------------------------------------------------------------------------ plan
    def _plan(self, pool: ThreadPoolExecutor, bar: Any) -> list[Bin]:
        if self.cache is not None:
            cached = self.cache.load_plan(self.S, self.E)
            if cached is not None:
                log.info("plan loaded from cache (%d bins)", len(cached))
                return cached
        width, text = planner.choose_bin(self.E - self.S, self.plan_rows)
        bar.set_description("plan")
        # every query runs in a worker: the main thread only waits (a Ctrl-C there never falls
        # between a StartQuery and its answer, which would leave a query nobody can stop)
        parts = planner.split_range(self.S, self.E, width, min(self.plan_queries, max(1, (self.E - self.S) // PLAN_PART_S)))
        # the other parts start once the first StartQuery is accepted: a request that cannot
        # succeed (bad filter, no permission, unknown group) is then sent once, not once a part
        accepted = threading.Event()
        first = self._submit(pool, self._plan_range, *parts[0], width, text, accepted)
        while len(parts) > 1 and not accepted.wait(0.05) and not first.done():
            pass
        # (if the first part ended before any StartQuery was accepted, it raised or failed: the
        # plan cannot succeed and the other parts are not started)
        futures = [first] + ([self._submit(pool, self._plan_range, a, b, width, text)
                              for a, b in parts[1:]] if accepted.is_set() else [])
        counted = [self._result(f) for f in futures] + [None] * (len(parts) - len(futures))
        self.planning.sort(key=lambda p: (p["start"], p["end"]))
        if any(c is None for c in counted):
            # the parts that were counted keep their counts; the others are sliced without
            # (halved while a slice saturates)
            self.plan_ok = False
            self.uncounted = [(a, b) for (a, b), c in zip(parts, counted) if c is None]
            log.warning("planning query failed for %s; %s",
                        ", ".join(f"{iso_seconds(a)}..{iso_seconds(b)}" for a, b in self.uncounted),
                        "slicing without counts (saturated slices are re-split)" if len(self.uncounted) == len(parts)
                        else "that part is sliced without counts, the rest by the counts")
            if len(self.uncounted) == len(parts):
                return []
        bins = [x for c in counted for x in c or []]
        # refine bins that hold more than a slice can return, down to one second
        failed: set[tuple[int, int]] = set()
        for _ in range(6):
            hot = [r for r in planner.hot_ranges(bins, self.target) if r not in failed]
            if not hot:
                break
            jobs: dict[Future[list[Bin] | None], tuple[int, int, int]] = {}
            logged = len(self.planning)
            for a, b in hot:
                cur = max(x.end - x.start for x in bins if x.start >= a and x.end <= b)
                w2, t2 = planner.choose_bin(b - a, self.plan_rows)
                if w2 >= cur:
                    w2, t2 = max(((w, t) for w, t in planner.NICE_BINS if w < cur), default=planner.NICE_BINS[0])
                jobs[self._submit(pool, self._plan_range, a, b, w2, t2)] = (a, b, w2)
            for fut, (a, b, _w) in jobs.items():
                finer = self._result(fut)
                if finer is None:  # keep the coarse bins: such a slice saturates and is re-split
                    failed.add((a, b))
                    continue
                bins = planner.replace_bins(bins, finer, a, b)
            self.planning[logged:] = sorted(self.planning[logged:], key=lambda p: (p["start"], p["end"]))
        if self.cache is not None and self.plan_ok and self.E * 1000 <= self._fresh_ms():
            self.cache.save_plan(self.S, self.E, bins)
        return bins

    def _plan_range(self, a: int, b: int, width: int, text: str,
                    accepted: threading.Event | None = None) -> list[Bin] | None:
        """Counts per bin of ``[a, b)`` (None when the planning query keeps failing);
        ``accepted`` is set once a StartQuery for it has been accepted."""
        spec = QuerySpec(planner.plan_query(self.where, text), self.groups, a, b, limit=min(10_000, self.limit, self.plan_rows + 2),
                         kind="plan", on_start=None if accepted is None else (lambda _qid: accepted.set()))
        for _attempt in range(self.max_retries + 1):
            out = self.runner.run(spec)
            self.planning.append({"start": iso_seconds(a), "end": iso_seconds(b), "bin": text,
                                  "status": out.status, "rows": len(out.rows), "query_id": out.query_id,
                                  "records_matched": _stat(out, "recordsMatched"),
                                  "bytes_scanned": _stat(out, "bytesScanned")})
            if out.status == "Complete" and not out.token_left and len(out.rows) < spec.limit:
                return planner.parse_bins(out.rows, width, a, b)
            if out.status == "Abandoned":
                break
        return None

    # ----------------------------------------------------------------------------- fetch
    def _fresh_ms(self) -> int:
        """Pieces ending after this (epoch ms) may still receive events: not cached."""
        return int((self.now() - timedelta(seconds=max(self.pad, 300))).timestamp() * 1000)

    def _counted(self, a: int, b: int) -> bool:
        """Whether the plan counted all of ``[a, b)``."""
        return bool(self.bins) and not any(x < b and a < y for x, y in self.uncounted)

    def _initial_tasks(self) -> list[_Task]:
        slices: list[tuple[int, int, int | None]] = []
        if self.bins:
            # the counted stretches are packed by their counts; a part whose planning query
            # failed is one slice without counts (halved if it saturates)
            edge = self.S
            for a, b in sorted(self.uncounted) + [(self.E, self.E)]:
                if a > edge:
                    slices += self._pack([x for x in self.bins if x.start >= edge and x.end <= a], edge, a)
                if b > a:
                    slices.append((a, b, None))
                edge = max(edge, b)
        else:
            slices = [(self.S, self.E, None)]
        tasks: list[_Task] = []
        for a, b, expected in slices:
            if self.cache is None:
                tasks.append(_Task(a, b, expected))
                continue
            used, gaps = self.cache.covering(a, b)
            for piece in used:
                ptr, ts, msg = self.cache.load(piece)
                rows = self._admit(_Rows(ptr, ts, msg))
                self.results.append(rows)
                self.entries.append(SliceEntry(iso_seconds(piece["a"]), iso_seconds(piece["b"]),
                                               "cached", rows=len(rows), returned=piece.get("returned", len(rows)),
                                               records_matched=piece.get("records_matched", 0.0),
                                               records_scanned=piece.get("records_scanned", 0.0),
                                               bytes_scanned=0.0, query_ids=piece.get("query_ids", []),
                                               note="reused from cache (no query)"))
                self.events_so_far += len(rows)
            for ga, gb in gaps:
                tasks.append(_Task(ga, gb, self._expected(ga, gb)))
        return tasks

    def _fetch_all(self, pool: ThreadPoolExecutor, bar: Any) -> None:
        bar.set_description("pull")
        tasks = self._initial_tasks()
        bar.total = len(tasks) + len(self.entries)
        bar.update(len(self.entries))
        pending: dict[Future[tuple[QueryOutcome, _Rows]], _Task] = {}
        for t in tasks:
            pending[self._submit(pool, self._fetch, t)] = t
        while pending:
            done, _ = wait(list(pending), timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in done:
                task = pending.pop(fut)
                outcome, rows = fut.result()
                new = self._settle(task, outcome, rows)
                for t in new:
                    pending[self._submit(pool, self._fetch, t)] = t
                if new:
                    bar.total += len(new)
                bar.update(1)
                bar.set_postfix(events=self.events_so_far, refresh=False)

    def _fetch(self, task: _Task) -> tuple[QueryOutcome, _Rows]:
        """Worker: run one slice query; convert each page as it arrives (GetLogRecord for cut
        messages) and hand its messages to the parser at once."""
        parts: list[_Rows] = []

        def on_page(rows: list[dict[str, str]], pages: list[fastpage.ColumnPage]) -> None:
            parts.extend(self._admit(p) for p in [self._convert(rows)] + [self._convert_page(c) for c in pages])

        query = self.data_query[task.order]
        if task.order == "desc":
            # StartQuery's end is inclusive: [a, a+1] holds (a+1).000, which a newest-first read of
            # second a would return first; keep the read inside second a on the server
            query = f"filter toMillis(@timestamp) < {task.b * 1000} | {query}"
        spec = QuerySpec(query, self.groups, task.a, task.b, self.limit, columns=DATA_COLUMNS, on_page=on_page)
        out = self.runner.run(spec)
        # rows not streamed: the partial rows of an abandoned query
        on_page(out.rows, out.pages)
        rows = _concat(parts)
        rows.fetched_records = sum(p.fetched_records for p in parts)
        out.rows, out.pages = [], []  # free the page data
        return out, rows

    def _admit(self, rows: _Rows) -> _Rows:
        """Queue the messages of ``rows`` for parsing, in frame order (timestamp, ``@ptr``: then the
        frame is assembled from the pages without a reordering copy); note their stream numbers."""
        if len(rows):
            order = _order(rows.ts, rows.ptr)
            if not bool(np.all(order[1:] > order[:-1])):
                rows = rows.reorder(order)
            first = self.stream.add(rows.msg)
            rows.arrival = np.arange(first, first + len(rows), dtype=np.int64)
        return rows

    def _convert(self, raw: list[dict[str, str]]) -> _Rows:
        """Rows parsed by botocore (dicts) -> compact columns."""
        if not raw:
            return _Rows.empty()
        ptr = [r.get("@ptr", "") for r in raw]
        ts = planner.ms_array([r.get("@timestamp", "0") for r in raw])
        msg = [r.get("@message", "") for r in raw]
        fetched = 0
        for i, m in enumerate(msg):
            if _looks_cut(m) and ptr[i]:
                # the @message is not a complete record (cut): fetch the full record
                full = self._get_log_record(ptr[i])
                fetched += 1
                if full is not None:
                    msg[i] = full
        rows = _Rows(pa.array(ptr, pa.string()), ts, pa.array(msg, pa.large_string()))
        rows.fetched_records = fetched
        return rows

    def _convert_page(self, page: fastpage.ColumnPage) -> _Rows:
        """A page decoded column-wise -> compact columns; same rules as :meth:`_convert`."""
        if not len(page):
            return _Rows.empty()
        ptr = page.columns["@ptr"]
        ts = planner.ms_array(page.columns["@timestamp"].to_pylist())
        msg = page.columns["@message"].cast(pa.large_string())
        fetched = 0
        cut = np.flatnonzero(_looks_cut_array(msg))
        if len(cut):
            texts = msg.to_pylist()
            for i in cut.tolist():
                if pointer := ptr[i].as_py():
                    full = self._get_log_record(pointer)
                    fetched += 1
                    if full is not None:
                        texts[i] = full
            msg = pa.array(texts, pa.large_string())
        rows = _Rows(ptr, ts, msg)
        rows.fetched_records = fetched
        return rows

    def _get_log_record(self, ptr: str) -> str | None:
        """The whole ``@message`` of the event at ``ptr``; None when GetLogRecord could not return
        it (the reason is kept in :attr:`record_failures`; :meth:`_assemble` reports such an
        event missing)."""
        from botocore.exceptions import ClientError

        for attempt in range(5):
            try:
                rec = self.runner.call("get_log_record", logRecordPointer=ptr)["logRecord"]
                self.runner.count("get_log_record")
                return rec.get("@message")
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code != "LimitExceededException":
                    log.warning("GetLogRecord(%s) failed: %s; keeping the cut message", ptr, exc)
                    self.record_failures[ptr] = f"GetLogRecord failed: {code or exc}"
                    return None
            except Exception as exc:  # noqa: BLE001 - deadline/abort: keep what we have
                log.debug("GetLogRecord(%s) abandoned: %s", ptr, exc)
                self.record_failures[ptr] = f"GetLogRecord abandoned: {exc}"
                return None
            try:
                self.runner._wait(self.runner._backoff(attempt))
            except Exception as exc:  # noqa: BLE001 - the deadline passed while waiting
                self.record_failures[ptr] = f"GetLogRecord abandoned: {exc}"
                return None
        self.record_failures[ptr] = "GetLogRecord failed: LimitExceededException 5 times"
        return None

    # ---------------------------------------------------------------------------- settle
    def _owned(self, rows: _Rows, a: int, b: int) -> _Rows:
        return rows.take((rows.ts >= a * 1000) & (rows.ts < b * 1000))

    def _entry(self, task: _Task, out: QueryOutcome, status: str, kept: _Rows | None, returned: int,
               note: str = "", missing: list[tuple[str, str]] | None = None,
               a: int | None = None, b: int | None = None) -> SliceEntry:
        st = task.entry_stats
        e = SliceEntry(
            iso_seconds(task.a if a is None else a), iso_seconds(task.b if b is None else b), status,
            rows=0 if kept is None else len(kept), returned=returned + st.get("returned", 0), expected=task.expected,
            records_matched=_stat(out, "recordsMatched") + st.get("records_matched", 0.0),
            records_scanned=_stat(out, "recordsScanned") + st.get("records_scanned", 0.0),
            bytes_scanned=_stat(out, "bytesScanned") + st.get("bytes_scanned", 0.0),
            query_ids=st.get("query_ids", []) + ([out.query_id] if out.query_id else []),
            attempts=task.attempts + 1, note=note, missing=missing or [],
        )
        self.entries.append(e)
        if kept is not None and len(kept):
            self.results.append(kept)
            self.events_so_far += len(kept)
        return e

    def _cache_piece(self, a: int, b: int, kept: _Rows, entry: SliceEntry) -> None:
        if self.cache is None or b * 1000 > self._fresh_ms():
            return
        self.cache.save(a, b, kept.ptr, kept.ts, kept.msg, {
            "returned": entry.returned, "records_matched": entry.records_matched,
            "records_scanned": entry.records_scanned, "query_ids": entry.query_ids})

    def _settle(self, task: _Task, out: QueryOutcome, rows: _Rows) -> list[_Task]:
        """Decide what a finished query means; return follow-up tasks."""
        self.get_log_record += rows.fetched_records
        a, b = task.a, task.b
        if out.status == "Complete":
            saturated = len(rows) >= self.limit or out.token_left
            if task.order == "desc":
                return self._settle_second(task, out, rows, saturated)
            if not saturated:
                kept = self._owned(rows, a, b)
                note = ""
                matched = _stat(out, "recordsMatched")
                if matched and matched > len(rows):
                    note = f"recordsMatched {matched:.0f} > rows {len(rows)} although below the limit"
                    log.warning("slice %s..%s: %s", a, b, note)
                entry = self._entry(task, out, "complete", kept, len(rows), note)
                self._cache_piece(a, b, kept, entry)
                return []
            last = int(rows.ts.max())
            cut = last // 1000
            if cut > a:
                kept = self._owned(rows, a, cut)
                entry = self._entry(task, out, "complete", kept, len(rows),
                                    f"saturated ({len(rows)} rows); kept [start, {cut}) from the sorted rows", b=cut)
                self._cache_piece(a, cut, kept, entry)
                return self._replan(cut, b)
            # the first second alone returned the limit: read it newest-first too
            asc = self._owned(rows, a, a + 1)
            follow = [_Task(a, a + 1, task.expected, order="desc", carry=asc,
                            entry_stats={"returned": len(rows), "records_matched": _stat(out, "recordsMatched"),
                                         "records_scanned": _stat(out, "recordsScanned"),
                                         "bytes_scanned": _stat(out, "bytesScanned"),
                                         "query_ids": [out.query_id] if out.query_id else []})]
            if b > a + 1:
                follow += self._replan(a + 1, b)
            return follow
        if out.status == "Timeout" and b - a > 1:
            cut = planner.split_counts(self.bins, a, b)
            log.info("slice %s..%s timed out; split at %s", a, b, cut)
            self.runner.count("timeout_splits")
            return [_Task(a, cut, self._expected(a, cut), order=task.order),
                    _Task(cut, b, self._expected(cut, b), order=task.order)]
        if out.status in ("Timeout", "Failed", "Cancelled", "Unknown") and task.attempts < self.max_retries:
            log.info("slice %s..%s ended %s; re-running (attempt %d)", a, b, out.status, task.attempts + 2)
            self.runner.count("reruns")
            return [_Task(a, b, task.expected, attempts=task.attempts + 1, order=task.order, carry=task.carry,
                          entry_stats=task.entry_stats)]
        # give up on this slice: report it; keep partial rows (abandoned Running rows) if any
        status = {"Timeout": "timeout", "Abandoned": "abandoned"}.get(out.status, "failed")
        kept = self._owned(rows, a, b) if len(rows) else None
        if task.carry is not None:
            kept = task.carry if kept is None else _concat([task.carry, kept])
        reason = f"query {out.status}" + (f" after {task.attempts + 1} attempts" if out.status != "Abandoned" else "")
        if out.message:
            reason += f": {out.message}"
        self._entry(task, out, status, kept, len(rows), reason,
                    missing=[(iso_seconds(a), iso_seconds(b))])
        return []

    def _settle_second(self, task: _Task, out: QueryOutcome, rows: _Rows, saturated: bool) -> list[_Task]:
        a = task.a
        asc = task.carry or _Rows.empty()
        desc_owned = self._owned(rows, a, a + 1)
        both = _concat([asc, desc_owned])
        if not saturated:
            self._entry(task, out, "complete", both, len(rows), "one second above the limit; read both ways, complete")
            return []
        asc_last = int(asc.ts.max()) if len(asc) else a * 1000
        desc_first = int(rows.ts.min())
        if asc_last < desc_first or (asc_last == desc_first):
            gap = (iso_ms(asc_last), iso_ms(desc_first + 1))
            note = (f"one second holds more than 2 x {self.limit} events; events from "
                    f"{gap[0]} to {gap[1]} may be missing")
            log.warning("slice %s: %s", a, note)
            self._entry(task, out, "saturated", both, len(rows), note, missing=[gap])
        else:
            self._entry(task, out, "complete", both, len(rows), "one second above the limit; read both ways, complete")
        return []

    def _pack(self, bins: Sequence[Bin], a: int, b: int) -> list[tuple[int, int, int]]:
        # balanced slices finish sooner; with a cache, greedy slices keep their boundaries from
        # one window to a longer one, so the cached pieces still fall inside the new slices
        if self.cache is not None:
            return planner.pack(bins, a, b, self.target)
        return planner.pack_balanced(bins, a, b, self.target)

    def _expected(self, a: int, b: int) -> int | None:
        return planner.expected_between(self.bins, a, b) if self._counted(a, b) else None

    def _replan(self, a: int, b: int) -> list[_Task]:
        if not self._counted(a, b):  # no counts (planning failed): halve, saturated halves are re-split
            mid = a + (b - a) // 2
            return [_Task(a, mid, None), _Task(mid, b, None)] if b - a > 1 else [_Task(a, b, None)]
        sub = [x for x in self.bins if x.end > a and x.start < b]
        sub = [Bin(max(x.start, a), min(x.end, b), x.count) for x in sub]
        return [_Task(x, y, n) for x, y, n in self._pack(sub, a, b)]

    # -------------------------------------------------------------------------- assemble
    def _assemble(self) -> tuple[pd.DataFrame, dict[str, Any]]:
        allrows = _concat(self.results)
        order = _order(allrows.ts, allrows.ptr)
        ordered_ptr = allrows.ptr.take(pa.array(order, pa.int64()))
        dup = _repeats(allrows.ts[order], ordered_ptr)
        keep = order[~dup]
        n_dup = int(dup.sum())
        ts = allrows.ts[keep]
        ptrs = ordered_ptr.filter(pa.array(~dup)) if n_dup else ordered_ptr
        select = allrows.arrival[keep].copy()  # stream numbers of the frame's rows, in frame order
        n_retrieved = len(allrows)
        self.results = []
        del allrows
        # second chance for messages the loader could not parse although they look like JSON:
        # they were cut; GetLogRecord returns the whole record
        position = np.full(len(self.stream), -1, dtype=np.int64)
        position[select] = np.arange(len(select))
        fixed: dict[int, str] = {}
        unread: list[tuple[int, str]] = []  # (timestamp ms, @ptr) of cut messages GetLogRecord did not return
        for e in self.stream.skipped():
            number = int(e["line"]) - 1 if e.get("line") else -1  # type: ignore[call-overload]
            if number < 0 or position[number] < 0 or not str(e.get("reason", "")).startswith("malformed JSON"):
                continue
            i = int(position[number])
            text = self.stream.text(number) or ""
            if not text.lstrip().startswith("{"):
                continue
            pointer = ptrs[i].as_py()
            full = self._get_log_record(pointer)
            self.get_log_record += 1
            if full is None and int(ts[i]) >= int(self.start.timestamp() * 1000):  # (delivered before start: an earlier event)
                unread.append((int(ts[i]), pointer))
            if full is not None and full != text:
                fixed[i] = full
                select[i] = self.stream.add(pa.array([full], pa.large_string()))
        df = self.stream.finish(select, max_skipped=len(select))
        n_loaded = len(df)
        if "eventTime" in df and len(df):
            sel = (df["eventTime"] >= pd.Timestamp(self.start)) & (df["eventTime"] < pd.Timestamp(self.end))
            if not bool(sel.all()):
                df = refit_extra_columns(select_rows(df, sel.to_numpy(dtype=bool)))
        # delivery lag of the events delivered after `end` (where a short padding loses events)
        tail = np.nonzero(ts >= int(self.end.timestamp() * 1000))[0]
        lags = [ts[i] - t for i in tail.tolist()
                if (t := event_time_ms(fixed.get(i) or self.stream.text(int(select[i])) or "")) is not None and t >= 0]
        lag = np.asarray(lags, dtype=np.int64)
        missing = [{"start": s, "end": e, "reason": en.status + (f": {en.note}" if en.note else "")}
                   for en in self.entries for s, e in en.missing]
        # a cut @message whose whole record could not be read is an event the frame lacks (the
        # loader lists the cut text as a skip): the window is not complete
        missing += [{"start": iso_seconds(t // 1000), "end": iso_seconds(t // 1000 + 1),
                     "reason": f"the event at @ptr {p} was cut in the query results and "
                               f"{self.record_failures.get(p, 'GetLogRecord failed')}"} for t, p in unread]
        complete = not missing
        self.entries.sort(key=lambda e: (e.start, e.end))
        max_lag = float(lag.max() / 1000) if len(lag) else None
        warnings = []
        if max_lag is not None and max_lag > 0.8 * self.pad:
            warnings.append(f"delivery lag up to {max_lag / 60:.1f} min seen; padding is {self.pad / 60:.1f} min - "
                            f"events delivered later than the padding are missed: raise padding=")
            log.warning(warnings[-1])
        c = self.runner.counters
        coverage: dict[str, Any] = {
            "complete": bool(complete),
            "requested": {"start": iso(self.start), "end": iso(self.end)},
            "queried": {"start": iso_seconds(self.S), "end": iso_seconds(self.E),
                        "padding_s": self.pad},
            "log_groups": list(self.groups),
            "where": self.where,
            "limit": self.limit,
            "slices": [asdict(e) for e in self.entries],
            "planning": self.planning,
            "missing": missing,
            "start_queries": int(c["start_query"]),
            "planning_queries": int(c["start_query:plan"]),
            "data_queries": int(c["start_query:data"]),
            "stop_queries": int(c["stop_query"]),
            "throttled": int(c["throttled"]),
            "limit_exceeded_waits": int(c["limit_exceeded"]),
            "reruns": int(c["reruns"]),
            "get_log_record": int(self.get_log_record),
            "bytes_scanned": float(sum(e.bytes_scanned for e in self.entries) + sum(p["bytes_scanned"] for p in self.planning)),
            "rows_retrieved": int(n_retrieved),
            "duplicate_ptr": n_dup,
            "outside_window": int(n_loaded - len(df)),
            "events": int(len(df)),
            "max_delivery_lag_s": max_lag,
            "warnings": warnings,
            "timings": self.timings,
        }
        df.attrs["coverage"] = coverage
        return df, coverage


def _concat(parts: Sequence[_Rows]) -> _Rows:
    parts = [p for p in parts if len(p)]
    if not parts:
        return _Rows.empty()
    if len(parts) == 1:
        return parts[0]
    return _Rows(_chunked([p.ptr for p in parts], pa.string()), np.concatenate([p.ts for p in parts]),
                 _chunked([p.msg for p in parts], pa.large_string()),
                 arrival=np.concatenate([p.arrival for p in parts]))


def _chunked(arrays: Sequence[pa.Array | pa.ChunkedArray], type_: pa.DataType) -> pa.ChunkedArray:
    """The arrays as one chunked array (their chunks, not copied)."""
    return pa.chunked_array([c.cast(type_) for a in arrays for c in (a.chunks if isinstance(a, pa.ChunkedArray) else [a])],
                            type_)


def _order(ts: np.ndarray, ptr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Row order by (timestamp, ``@ptr``), stable (Arrow's multi-key sort: strings compare by code
    point, as numpy's would)."""
    if not len(ts):
        return np.zeros(0, np.int64)
    table = pa.table({"ts": pa.array(ts, pa.int64()), "ptr": ptr})
    return pc.sort_indices(table, sort_keys=[("ts", "ascending"), ("ptr", "ascending")]).to_numpy().astype(np.int64)


def _repeats(ts: np.ndarray, ptr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Which rows repeat an earlier row's ``@ptr``, for rows already in (timestamp, ``@ptr``)
    order: a pointer names one log event, whose timestamp is fixed, so equal pointers are
    neighbours and one comparison with the previous row finds every repeat."""
    dup = np.zeros(len(ts), bool)
    if len(ts) > 1:
        same_ptr = pc.equal(ptr[1:], ptr[:-1])
        dup[1:] = (ts[1:] == ts[:-1]) & pc.fill_null(same_ptr, False).to_numpy(zero_copy_only=False)
    return dup


def _looks_cut(message: str) -> bool:
    """A JSON-looking message that does not end like a JSON object (a cut ``@message``)."""
    head = message[:1]
    return head == "{" and not message.rstrip().endswith("}")


def _looks_cut_array(msg: pa.Array) -> np.ndarray:
    """:func:`_looks_cut` over an Arrow string array (bool numpy array).

    Only the last byte of each text is read, straight from the array's buffers (no copy, no
    per-character walk): a text ending in ``}`` is whole, one ending in another ASCII character
    that is not whitespace is cut. A text ending in whitespace or in a non-ASCII character (rare:
    Python's ``rstrip`` also strips Unicode spaces) is decided by :func:`_looks_cut` itself.
    """
    head = pc.fill_null(pc.starts_with(msg, "{"), False).to_numpy(zero_copy_only=False)
    if not head.any():
        return head
    offsets = string_offsets(msg).astype(np.int64)
    data = np.frombuffer(msg.buffers()[2], dtype=np.uint8)  # a text starting with "{" is not empty
    last = np.zeros(len(msg), dtype=np.uint8)
    last[head] = data[offsets[1:][head] - 1]
    cut = head & (last != ord("}"))
    unsure = np.flatnonzero(cut & ((last >= 0x80) | np.isin(last, _ASCII_SPACE)))
    for i in unsure.tolist():
        cut[i] = _looks_cut(msg[i].as_py())
    return cut


_ASCII_SPACE = np.array([c for c in range(128) if chr(c).isspace()], dtype=np.uint8)
"""The ASCII characters ``str.rstrip`` strips (``\\t\\n\\v\\f\\r``, ``\\x1c``-``\\x1f`` and space)."""


def _stat(out: QueryOutcome, key: str) -> float:
    try:
        return float(out.statistics.get(key, 0.0) or 0.0)
    except (TypeError, ValueError):
        return 0.0


def coverage_frame(df_or_coverage: pd.DataFrame | dict[str, Any]) -> pd.DataFrame:
    """The ledger's slices as a DataFrame (one row per slice), for display.

    Examples
    --------
    >>> coverage_frame(df).query("status != 'complete'")  # doctest: +SKIP
    """
    cov = df_or_coverage.attrs["coverage"] if isinstance(df_or_coverage, pd.DataFrame) else df_or_coverage
    frame = pd.DataFrame(cov["slices"])
    if len(frame):
        frame["missing"] = frame["missing"].map(len)
        frame["start"] = pd.to_datetime(frame["start"], utc=True, format="ISO8601")
        frame["end"] = pd.to_datetime(frame["end"], utc=True, format="ISO8601")
    return frame
