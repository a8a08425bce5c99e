"""A loopback fake of CloudWatch Logs Insights: real HTTP, the awsJson1.1 protocol, real semantics.

moto accepts Logs Insights calls but ignores ``filter``/``stats``, the row cap, paging and
statistics (see ``shared/reference/aws-apis.md`` §3.2), so s3audit tests and benchmarks use this
service instead. It listens on ``127.0.0.1`` in a background thread; boto3 talks to it through
``endpoint_url`` exactly as it talks to AWS (``X-Amz-Target: Logs_20140328.StartQuery`` ...).

Semantics implemented (AWS API reference, botocore 1.44 model):

- ``StartQuery`` times are epoch **seconds**, both ends inclusive, converted straight to
  milliseconds (``endTime=T`` includes ``T.000`` but not ``T.500``, aws/aws-sdk#280). A value
  above 10**11 is read as milliseconds, because awswrangler sends milliseconds and AWS accepts it.
- ``limit``: default 10,000, maximum 100,000 (``max_limit``); above it -> ``InvalidParameterException``.
- ``GetQueryResults`` pages of at most 10,000 rows (``page_size``) with ``nextToken``/``maxItems``;
  statuses ``Scheduled`` -> ``Running`` (with partial rows) -> a terminal status; ``statistics``
  with ``recordsMatched`` (pre-limit), ``recordsScanned``, ``bytesScanned``.
- At most ``max_concurrent`` queries run at once (account quota 100), else
  ``LimitExceededException: Account maximum query concurrency limit of [N] reached.``
- ``StopQuery`` (error if the query already ended), ``GetLogRecord`` (``@ptr``),
  ``DescribeLogGroups``; unknown log group -> ``ResourceNotFoundException``; unparsable query ->
  ``MalformedQueryException`` with ``queryCompileError``.
- Seeded fault injection (:class:`Faults`) and per-call latency for benchmarks.

Events are stored compactly (numpy arrays of timestamps plus any ``Sequence[str]`` of messages,
which may render lazily), so a million-event benchmark fits in little memory.

Examples
--------
>>> from s3audit.testing import FakeLogsInsights
>>> with FakeLogsInsights() as fake:                       # doctest: +SKIP
...     fake.put_events("trail", [1_700_000_000_000], ['{"eventName": "GetObject"}'])
...     logs = fake.client()
...     qid = logs.start_query(logGroupNames=["trail"], startTime=1_699_999_999,
...                            endTime=1_700_000_001, queryString="fields @message")["queryId"]
"""
from __future__ import annotations

import base64
import bisect
import json
import logging
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from s3audit.testing.fake_query import Query, QuerySyntaxError, compile_query

log = logging.getLogger(__name__)

ACCOUNT = "123456789012"
TERMINAL = frozenset({"Complete", "Failed", "Cancelled", "Timeout", "Unknown"})
_MS_THRESHOLD = 10**11  # StartQuery values above this are milliseconds (awswrangler sends ms)


class ServiceError(Exception):
    """An AWS error the server returns as ``{"__type": code, "message": ...}``."""

    def __init__(self, code: str, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra


@dataclass
class Faults:
    """Seeded fault injection. Rates are probabilities per call (or per query for outcomes).

    ``outcomes`` / ``errors`` are scripts consumed first: ``outcomes`` gives the terminal status
    of the next started queries (``"Complete"``, ``"Timeout"``, ``"Failed"``, ``"Cancelled"``,
    ``"Unknown"``); ``errors`` maps an operation name to error codes raised by its next calls.
    """

    seed: int = 0
    throttle_rate: float = 0.0  # ThrottlingException on any call
    limit_exceeded_rate: float = 0.0  # spurious LimitExceededException on StartQuery
    timeout_rate: float = 0.0
    failed_rate: float = 0.0
    cancelled_rate: float = 0.0
    unknown_rate: float = 0.0
    slow_poll_rate: float = 0.0
    slow_poll_seconds: float = 0.05
    outcomes: list[str] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    timeout_if_span_over: float | None = None  # seconds of query range that always time out
    hang: bool = False  # queries never leave Running (deadline tests)
    cut_bodies: int = 0  # the next N responses holding rows stop halfway through the body (connection closed)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)


@dataclass
class _Group:
    name: str
    created_ms: int
    ts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    serial: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    chunk_starts: list[int] = field(default_factory=list)
    chunks: list[Sequence[str]] = field(default_factory=list)
    streams: list[str] = field(default_factory=list)
    ingest_delay_ms: int = 700
    next_serial: int = 0
    escaped: list[str] | None = None  # every message JSON-escaped, by serial (prerender)
    # data-query rows ("@timestamp", "@message" + "@ptr") rendered in storage order, each ending
    # in ",": (UTF-8 text, offsets of the rows) (prerender)
    page_rows: tuple[bytes, np.ndarray] | None = None

    def message(self, serial: int) -> tuple[str, str]:
        c = bisect.bisect_right(self.chunk_starts, serial) - 1
        return self.chunks[c][serial - self.chunk_starts[c]], self.streams[c]


@dataclass
class _Query:
    qid: str
    created: float
    outcome: str
    duration: float
    query: Query
    refs: np.ndarray | None  # (group index, sorted position) packed, for event queries
    rows: list[dict[str, str]] | None  # for stats queries
    fields: list[str]
    statistics: dict[str, float]
    groups: list[int]
    polls: int = 0
    stopped: bool = False
    status: str = "Scheduled"

    @property
    def n_results(self) -> int:
        return len(self.rows) if self.rows is not None else len(self.refs)  # type: ignore[arg-type]


class RawResults:
    """Pre-encoded JSON of a ``results`` list (the handler splices it into the response):
    UTF-8 bytes, or a zero-copy view of a prerendered page (:meth:`FakeLogsInsights.prerender`)."""

    def __init__(self, data: str | bytes | memoryview, n: int, *, bracket: bool = False) -> None:
        self.data = data.encode() if isinstance(data, str) else data
        self.n = n
        self.bracket = bracket  # data holds the rows only: "[" and "]" go around it

    def __len__(self) -> int:  # rows, for the per-row latency
        return self.n

    def parts(self) -> tuple[bytes | memoryview, ...]:
        """The JSON text of the list, in pieces (no copy of the data)."""
        return (b"[", self.data, b"]") if self.bracket else (self.data,)

    def __str__(self) -> str:
        return b"".join(self.parts()).decode()


def format_timestamp(ms: int) -> str:
    """Insights' ``@timestamp`` text: ``YYYY-MM-DD HH:MM:SS.mmm`` in UTC."""
    dt = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    return f"{dt:%Y-%m-%d %H:%M:%S}.{ms % 1000:03d}"


def _scalar_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


_REF_SHIFT = 40
_DATA_ROW = ('[{"field":"@timestamp","value":"%s"},{"field":"@message","value":"%s"},'
             '{"field":"@ptr","value":"Cm%xx%x"}],')
"""One row of a data query's page (prerendered), with its trailing comma."""


class FakeLogsInsights:
    """The fake service. Start it with ``with`` (or :meth:`start` / :meth:`stop`).

    Parameters
    ----------
    max_limit, default_limit, page_size
        StartQuery ``limit`` maximum (AWS: 100,000) and default (10,000); rows per
        GetQueryResults page (10,000). Tests lower them to keep data small.
    max_concurrent
        Concurrent running queries allowed (the account quota, 100).
    mode
        ``"polls"``: a query is ``Scheduled`` for ``scheduled_polls`` polls, ``Running`` (with
        partial rows) for ``running_polls`` more, then terminal — deterministic, no waiting.
        ``"time"``: a query runs ``query_base_s + recordsScanned / scan_rate`` seconds of wall
        time (the benchmark's model).
    latency
        Seconds added to every call (``(lo, hi)`` for a uniform jitter); ``per_row_latency`` is
        added per returned row.
    truncate_messages_at
        Cut ``@message`` values in query results to this many characters (GetLogRecord returns
        the full record), to exercise the GetLogRecord fallback.
    faults
        A :class:`Faults` instance.
    """

    def __init__(
        self,
        *,
        max_limit: int = 100_000,
        default_limit: int = 10_000,
        page_size: int = 10_000,
        max_concurrent: int = 100,
        mode: str = "polls",
        scheduled_polls: int = 1,
        running_polls: int = 1,
        query_base_s: float = 1.0,
        scan_rate: float = 2_000_000.0,
        latency: float | tuple[float, float] = 0.0,
        per_row_latency: float = 0.0,
        truncate_messages_at: int | None = None,
        faults: Faults | None = None,
        region: str = "us-east-1",
        denied_actions: Sequence[str] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_limit = max_limit
        self.default_limit = default_limit
        self.page_size = page_size
        self.max_concurrent = max_concurrent
        self.mode = mode
        self.scheduled_polls = scheduled_polls
        self.running_polls = running_polls
        self.query_base_s = query_base_s
        self.scan_rate = scan_rate
        self.latency = latency
        self.per_row_latency = per_row_latency
        self.truncate_messages_at = truncate_messages_at
        self.faults = faults or Faults()
        self.region = region
        self.denied_actions = set(denied_actions)
        self.clock = clock
        self._groups: list[_Group] = []
        self._by_name: dict[str, int] = {}
        self._queries: dict[str, _Query] = {}
        self._lock = threading.RLock()
        self.calls: Counter[str] = Counter()
        self.started: list[dict[str, Any]] = []  # StartQuery requests that created a query
        self.stopped: list[str] = []
        self.max_running_seen = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._rng = random.Random(self.faults.seed + 1)

    # ------------------------------------------------------------------------------- lifecycle
    def start(self) -> FakeLogsInsights:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-logs", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeLogsInsights:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def client(self, *, max_pool_connections: int = 50, retries: int = 1) -> Any:
        """A boto3 ``logs`` client for this endpoint (dummy credentials, botocore retries off)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "logs",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(
                retries={"total_max_attempts": retries, "mode": "standard"},
                max_pool_connections=max_pool_connections,
                connect_timeout=5,
                read_timeout=60,
            ),
        )

    # -------------------------------------------------------------------------------- storage
    def create_log_group(self, name: str) -> None:
        with self._lock:
            if name not in self._by_name:
                self._by_name[name] = len(self._groups)
                self._groups.append(_Group(name, created_ms=int(time.time() * 1000)))

    def put_events(
        self,
        group: str,
        timestamps_ms: Sequence[int] | np.ndarray,
        messages: Sequence[str],
        *,
        stream: str = "123456789012_CloudTrail_us-east-1",
        lengths: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        """Store events. ``timestamps_ms`` is each event's log timestamp (for CloudTrail: the
        delivery time, minutes after ``eventTime``). ``messages`` may be any sequence (also a
        lazy one); ``lengths`` (bytes per message) avoids rendering them all up front."""
        ts = np.asarray(timestamps_ms, dtype=np.int64)
        if len(ts) != len(messages):
            raise ValueError("timestamps and messages differ in length")
        if lengths is None:
            lens = np.fromiter((len(m.encode()) for m in messages), dtype=np.int64, count=len(ts))
        else:
            lens = np.asarray(lengths, dtype=np.int64)
        self.create_log_group(group)
        with self._lock:
            g = self._groups[self._by_name[group]]
            serial = np.arange(g.next_serial, g.next_serial + len(ts), dtype=np.int64)
            g.escaped = None  # a prerender no longer covers every serial
            g.page_rows = None
            g.chunk_starts.append(g.next_serial)
            g.chunks.append(messages)
            g.streams.append(stream)
            g.next_serial += len(ts)
            all_ts = np.concatenate([g.ts, ts])
            all_serial = np.concatenate([g.serial, serial])
            all_len = np.concatenate([g.lengths, lens])
            order = np.argsort(all_ts, kind="stable")
            g.ts, g.serial, g.lengths = all_ts[order], all_serial[order], all_len[order]

    def prerender(self, group: str) -> None:
        """Render every message of ``group`` JSON-escaped now, not per page, and the rows of the
        pull's data queries (``fields @timestamp, @message | sort @timestamp asc``) as one text,
        so such a page is a zero-copy slice of it (benchmarks: keeps the fake's own CPU out of a
        measured pull when client and fake share a small machine; costs the memory of the
        rendered text). ``put_events`` on the group drops it again."""
        enc = json.encoder.encode_basestring  # type: ignore[attr-defined]
        with self._lock:
            gi = self._by_name[group]
            g = self._groups[gi]
            out: list[str] = []
            for seq in g.chunks:
                many = getattr(seq, "render_many", None)
                out.extend(many(range(len(seq)), json_escaped=True) if many else [enc(m)[1:-1] for m in seq])
            g.escaped = out
            stamps = np.datetime_as_string(g.ts.astype("datetime64[ms]"), unit="ms").tolist()
            rows = [_DATA_ROW % (stamp.replace("T", " "), out[serial], gi, serial)
                    for stamp, serial in zip(stamps, g.serial.tolist())]
            encoded = [r.encode() for r in rows]
            offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
            np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
            g.page_rows = (b"".join(encoded), offsets)

    def count_between(self, group: str, start_ms: int, end_ms: int) -> int:
        """Events of ``group`` with ``start_ms <= timestamp < end_ms`` (for tests/benchmarks)."""
        g = self._groups[self._by_name[group]]
        return int(np.searchsorted(g.ts, end_ms, "left") - np.searchsorted(g.ts, start_ms, "left"))

    def stats(self) -> dict[str, Any]:
        """Counters: API calls, StartQuery requests (range, limit), peak concurrency, stops."""
        with self._lock:
            return {"calls": dict(self.calls), "max_running_seen": self.max_running_seen,
                    "stopped": len(self.stopped),
                    "started": [{"startMs": s["startMs"], "endMs": s["endMs"], "limit": s.get("limit"),
                                 "queryString": s.get("queryString", "")} for s in self.started]}

    def reset_counters(self) -> None:
        with self._lock:
            self.calls.clear()
            self.started.clear()
            self.stopped.clear()
            self.max_running_seen = 0

    def running_queries(self) -> int:
        with self._lock:
            return sum(1 for q in self._queries.values() if self._is_active(q))

    # ------------------------------------------------------------------------------ API calls
    def handle(self, op: str, body: dict[str, Any]) -> dict[str, Any]:
        """Dispatch one API call (the HTTP handler calls this)."""
        with self._lock:
            self.calls[op] += 1
            self._inject(op)
        fn = getattr(self, "_op_" + op, None)
        if fn is None:
            raise ServiceError("UnknownOperationException", f"{op} is not implemented by the fake")
        return fn(body)

    def _inject(self, op: str) -> None:
        f = self.faults
        if op in self.denied_actions:
            raise ServiceError(
                "AccessDeniedException",
                f"User: arn:aws:iam::{ACCOUNT}:user/tester is not authorized to perform: logs:{op}",
            )
        scripted = f.errors.get(op)
        if scripted:
            code = scripted.pop(0)
            raise ServiceError(code, f"injected {code}", status=503 if code == "ServiceUnavailableException" else 400)
        if f.throttle_rate and f.rng.random() < f.throttle_rate:
            raise ServiceError("ThrottlingException", "Rate exceeded")
        if op == "StartQuery" and f.limit_exceeded_rate and f.rng.random() < f.limit_exceeded_rate:
            raise ServiceError("LimitExceededException", f"Account maximum query concurrency limit of [{self.max_concurrent}] reached.")

    def take_cut(self) -> bool:
        """Whether this response is one of the :attr:`Faults.cut_bodies` still due (counted in ``cut``)."""
        with self._lock:
            if self.faults.cut_bodies <= 0:
                return False
            self.faults.cut_bodies -= 1
            self.calls["cut"] += 1
            return True

    def call_delay(self, op: str, rows: int) -> float:
        lat = self.latency
        base = self._rng.uniform(*lat) if isinstance(lat, tuple) else float(lat)
        extra = rows * self.per_row_latency
        if op == "GetQueryResults" and self.faults.slow_poll_rate:
            with self._lock:
                if self.faults.rng.random() < self.faults.slow_poll_rate:
                    extra += self.faults.slow_poll_seconds
        return base + extra

    def _resolve_groups(self, body: dict[str, Any]) -> list[int]:
        given = [k for k in ("logGroupName", "logGroupNames", "logGroupIdentifiers") if k in body]
        if len(given) != 1:
            raise ServiceError("InvalidParameterException", "Exactly one of logGroupName, logGroupNames or logGroupIdentifiers must be specified")
        names = body[given[0]]
        if isinstance(names, str):
            names = [names]
        if not names or len(names) > 50:
            raise ServiceError("InvalidParameterException", "Between 1 and 50 log groups can be queried at once")
        out = []
        for ident in names:
            name = ident
            if ident.startswith("arn:"):
                if given[0] == "logGroupNames":
                    raise ServiceError("InvalidParameterException", "logGroupNames takes names, not ARNs")
                if ident.endswith("*"):
                    raise ServiceError("InvalidParameterException", f"Log group ARN must not end with '*': {ident}")
                parts = ident.split(":log-group:", 1)
                if len(parts) != 2 or parts[0].split(":")[4] != ACCOUNT:
                    raise ServiceError("ResourceNotFoundException", f"Log group {ident} does not exist")
                name = parts[1]
            idx = self._by_name.get(name)
            if idx is None:
                raise ServiceError("ResourceNotFoundException", f"Log group '{name}' does not exist for account ID '{ACCOUNT}'")
            out.append(idx)
        return sorted(set(out))

    @staticmethod
    def _to_ms(value: Any, name: str) -> int:
        if not isinstance(value, int) or value < 0:
            raise ServiceError("InvalidParameterException", f"{name} must be a non-negative integer")
        return value if value > _MS_THRESHOLD else value * 1000

    def _op_StartQuery(self, body: dict[str, Any]) -> dict[str, Any]:
        lang = body.get("queryLanguage", "CWLI")
        if lang != "CWLI":
            raise ServiceError("InvalidParameterException", f"the fake supports only CWLI, not {lang}")
        text = body.get("queryString", "")
        if len(text) > 10_000:
            raise ServiceError("InvalidParameterException", "queryString is longer than 10,000 characters")
        with self._lock:
            groups = self._resolve_groups(body)
        start_ms = self._to_ms(body.get("startTime"), "startTime")
        end_ms = self._to_ms(body.get("endTime"), "endTime")
        if end_ms < start_ms:
            raise ServiceError("InvalidParameterException", "endTime must be greater than or equal to startTime")
        limit = body.get("limit")
        if limit is not None and not (1 <= limit <= self.max_limit):
            raise ServiceError("InvalidParameterException", f"limit must be between 1 and {self.max_limit}")
        try:
            q = compile_query(text)
        except QuerySyntaxError as exc:
            raise ServiceError(
                "MalformedQueryException",
                f"unexpected symbol found: {exc.message}",
                queryCompileError={"location": {"startCharOffset": exc.start, "endCharOffset": exc.end}, "message": exc.message},
            ) from None
        effective = limit if limit is not None else (q.limit if q.limit is not None else self.default_limit)
        if limit is not None and q.limit is not None:
            effective = min(limit, q.limit)
        effective = min(effective, self.max_limit)
        with self._lock:
            running = sum(1 for x in self._queries.values() if self._is_active(x))
            if running >= self.max_concurrent:
                raise ServiceError("LimitExceededException", f"Account maximum query concurrency limit of [{self.max_concurrent}] reached.")
            refs, rows, fields, stats = self._execute(q, groups, start_ms, end_ms, effective)
            f = self.faults
            outcome = "Complete"
            if f.outcomes:
                outcome = f.outcomes.pop(0)
            elif f.timeout_if_span_over is not None and (end_ms - start_ms) / 1000 > f.timeout_if_span_over:
                outcome = "Timeout"
            else:
                r = f.rng.random()
                for status, rate in (("Timeout", f.timeout_rate), ("Failed", f.failed_rate), ("Cancelled", f.cancelled_rate), ("Unknown", f.unknown_rate)):
                    if r < rate:
                        outcome = status
                        break
                    r -= rate
            qid = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            duration = self.query_base_s + stats["recordsScanned"] / self.scan_rate
            self._queries[qid] = _Query(qid, self.clock(), outcome, duration, q, refs, rows, fields, stats, groups)
            self.started.append({k: v for k, v in body.items()} | {"queryId": qid, "startMs": start_ms, "endMs": end_ms})
            self.max_running_seen = max(self.max_running_seen, running + 1)
        return {"queryId": qid}

    def _is_active(self, q: _Query) -> bool:
        if q.stopped or q.status in TERMINAL:
            return False
        if self.faults.hang:
            return True
        if self.mode == "time":
            return self.clock() - q.created < q.duration
        return True  # polls mode: running until polled to the end (or stopped)

    def _status(self, q: _Query, advance: bool) -> str:
        if q.stopped:
            return "Cancelled"
        if q.status in TERMINAL:
            return q.status
        if self.faults.hang:
            q.status = "Running"
            return q.status
        if self.mode == "time":
            elapsed = self.clock() - q.created
            status = "Scheduled" if elapsed < min(0.05, q.duration / 4) else ("Running" if elapsed < q.duration else q.outcome)
        else:
            if advance:
                q.polls += 1
            if q.polls <= self.scheduled_polls:
                status = "Scheduled"
            elif q.polls <= self.scheduled_polls + self.running_polls:
                status = "Running"
            else:
                status = q.outcome
        q.status = status
        return status

    def _op_GetQueryResults(self, body: dict[str, Any]) -> dict[str, Any]:
        qid = body.get("queryId", "")
        max_items = body.get("maxItems") or self.page_size
        if max_items > self.page_size:
            raise ServiceError("InvalidParameterException", f"maxItems must be at most {self.page_size}")
        with self._lock:
            q = self._queries.get(qid)
            if q is None:
                raise ServiceError("ResourceNotFoundException", f"Query {qid} not found")
            status = self._status(q, advance="nextToken" not in body)
            out: dict[str, Any] = {"status": status, "queryLanguage": "CWLI"}
            n = q.n_results
            if status == "Complete":
                offset = 0
                if body.get("nextToken"):
                    try:
                        tq, off = base64.urlsafe_b64decode(body["nextToken"]).decode().split(":")
                        offset = int(off)
                        assert tq == qid
                    except Exception:
                        raise ServiceError("InvalidParameterException", "The specified nextToken is invalid") from None
                hi = min(n, offset + max_items)
                out["results"] = self._render_fast(q, offset, hi) or self._render(q, offset, hi)
                if hi < n:
                    out["nextToken"] = base64.urlsafe_b64encode(f"{qid}:{hi}".encode()).decode()
                out["statistics"] = dict(q.statistics)
            elif status == "Running":
                # partial rows, in another order than the final result, and partial statistics
                k = min(max_items, n // 2)
                out["results"] = self._render(q, 0, k, reverse=True)
                out["statistics"] = {key: float(int(v // 2)) for key, v in q.statistics.items()}
            else:
                out["results"] = []
                out["statistics"] = {key: 0.0 for key in q.statistics}
            return out

    def _op_StopQuery(self, body: dict[str, Any]) -> dict[str, Any]:
        qid = body.get("queryId", "")
        with self._lock:
            q = self._queries.get(qid)
            if q is None:
                raise ServiceError("ResourceNotFoundException", f"Query {qid} not found")
            if not self._is_active(q):
                raise ServiceError("InvalidParameterException", f"Query {qid} is not running")
            q.stopped = True
            q.status = "Cancelled"
            self.stopped.append(qid)
        return {"success": True}

    def _op_GetLogRecord(self, body: dict[str, Any]) -> dict[str, Any]:
        ptr = body.get("logRecordPointer", "")
        try:
            if not ptr.startswith("Cm"):
                raise ValueError(ptr)
            gi, serial = (int(x, 16) for x in ptr[2:].split("x"))
            g = self._groups[gi]
            pos = int(np.nonzero(g.serial == serial)[0][0])
        except Exception:
            raise ServiceError("InvalidParameterException", "Invalid log record pointer") from None
        msg, stream = g.message(serial)
        ts = int(g.ts[pos])
        return {"logRecord": {
            "@timestamp": str(ts),
            "@ingestionTime": str(ts + g.ingest_delay_ms),
            "@message": msg,
            "@logStream": stream,
            "@log": f"{ACCOUNT}:{g.name}",
        }}

    def _op_DescribeLogGroups(self, body: dict[str, Any]) -> dict[str, Any]:
        prefix = body.get("logGroupNamePrefix")
        idents = body.get("logGroupIdentifiers")
        limit = body.get("limit", 50)
        start = int(body.get("nextToken") or 0)
        with self._lock:
            names = sorted(self._by_name)
        if prefix:
            names = [n for n in names if n.startswith(prefix)]
        if idents:
            wanted = {i.split(":log-group:", 1)[-1] for i in idents}
            names = [n for n in names if n in wanted]
        page = names[start : start + limit]
        out: dict[str, Any] = {"logGroups": [self._describe(n) for n in page]}
        if start + limit < len(names):
            out["nextToken"] = str(start + limit)
        return out

    def _describe(self, name: str) -> dict[str, Any]:
        g = self._groups[self._by_name[name]]
        arn = f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:{name}"
        return {"logGroupName": name, "creationTime": g.created_ms, "arn": arn + ":*", "logGroupArn": arn,
                "storedBytes": int(g.lengths.sum()), "logGroupClass": "STANDARD"}

    # ------------------------------------------------------------------------------ execution
    def _execute(self, q: Query, groups: list[int], start_ms: int, end_ms: int, limit: int) -> tuple[
        np.ndarray | None, list[dict[str, str]] | None, list[str], dict[str, float]
    ]:
        spans = []
        scanned = 0
        nbytes = 0
        for gi in groups:
            g = self._groups[gi]
            lo = int(np.searchsorted(g.ts, start_ms, "left"))
            hi = int(np.searchsorted(g.ts, end_ms, "right"))  # inclusive end (milliseconds)
            spans.append((gi, lo, hi))
            scanned += hi - lo
            nbytes += int(g.lengths[lo:hi].sum())
        stats = {"recordsMatched": 0.0, "recordsScanned": float(scanned), "bytesScanned": float(nbytes),
                 "logGroupsScanned": float(len(groups))}
        if not q.filters and not q.needs_fields and q.stats is None:
            refs = np.concatenate([(np.int64(gi) << _REF_SHIFT) + np.arange(lo, hi, dtype=np.int64) for gi, lo, hi in spans]) if spans else np.zeros(0, np.int64)
            stats["recordsMatched"] = float(len(refs))
            refs = self._sort_refs(q, refs)
            refs = refs[:limit]
            stats["resultCount"] = float(len(refs))
            return refs, None, self._out_fields(q), stats
        if q.stats is not None and not q.filters and all(k.field is None for k in q.by) and all(a.arg is None for a in q.stats):
            # fast path: count(*) by bin(...) only
            ts = np.concatenate([self._groups[gi].ts[lo:hi] for gi, lo, hi in spans]) if spans else np.zeros(0, np.int64)
            stats["recordsMatched"] = float(len(ts))
            rows = self._bin_counts(q, ts)
            rows = rows[:limit]
            stats["resultCount"] = float(len(rows))
            return None, rows, [], stats
        matched: list[int] = []
        records: list[dict[str, Any]] = []
        for gi, lo, hi in spans:
            for pos in range(lo, hi):
                rec = self._record(gi, pos)
                if all(f(rec) for f in q.filters):
                    matched.append((gi << _REF_SHIFT) + pos)
                    if q.stats is not None:
                        records.append(rec)
        stats["recordsMatched"] = float(len(matched))
        if q.stats is not None:
            rows = self._aggregate(q, records)[:limit]
            stats["resultCount"] = float(len(rows))
            return None, rows, [], stats
        refs = self._sort_refs(q, np.asarray(matched, dtype=np.int64))[:limit]
        stats["resultCount"] = float(len(refs))
        return refs, None, self._out_fields(q), stats

    def _out_fields(self, q: Query) -> list[str]:
        return list(q.fields) if q.fields is not None else ["@timestamp", "@message", "@logStream", "@log"]

    def _ts_of(self, refs: np.ndarray) -> np.ndarray:
        out = np.empty(len(refs), dtype=np.int64)
        gis = refs >> _REF_SHIFT
        pos = refs & ((1 << _REF_SHIFT) - 1)
        for gi in np.unique(gis):
            sel = gis == gi
            out[sel] = self._groups[int(gi)].ts[pos[sel]]
        return out

    def _sort_refs(self, q: Query, refs: np.ndarray) -> np.ndarray:
        if len(refs) == 0:
            return refs
        if q.sort is None or q.sort[0] == "@timestamp":
            ts = self._ts_of(refs)
            order = np.argsort(ts, kind="stable")
            if q.sort is not None and q.sort[1]:
                order = np.argsort(-ts, kind="stable")
            return refs[order]
        name, desc = q.sort
        keyed = [(self._record(int(r >> _REF_SHIFT), int(r & ((1 << _REF_SHIFT) - 1))).get(name), int(r)) for r in refs]
        present = sorted([k for k in keyed if k[0] is not None], key=lambda k: (str(type(k[0])), k[0]), reverse=desc)
        return np.asarray([r for _, r in present] + [r for v, r in keyed if v is None], dtype=np.int64)

    def _record(self, gi: int, pos: int) -> dict[str, Any]:
        from s3audit.flatten import flatten_record

        g = self._groups[gi]
        serial = int(g.serial[pos])
        msg, stream = g.message(serial)
        rec: dict[str, Any] = {}
        try:
            parsed = json.loads(msg)
            if isinstance(parsed, dict):
                rec.update(flatten_record(parsed))
        except ValueError:
            pass
        rec.update({"@timestamp": int(g.ts[pos]), "@message": msg, "@logStream": stream,
                    "@log": f"{ACCOUNT}:{g.name}", "@ingestionTime": int(g.ts[pos]) + g.ingest_delay_ms,
                    "@ptr": self._ptr(gi, serial)})
        return rec

    @staticmethod
    def _ptr(gi: int, serial: int) -> str:
        return f"Cm{gi:x}x{serial:x}"  # opaque to clients; the fake decodes it in GetLogRecord

    def _bin_counts(self, q: Query, ts: np.ndarray) -> list[dict[str, str]]:
        assert q.stats is not None
        if not q.by:
            return [{a.name: str(len(ts)) for a in q.stats}]
        if len(q.by) != 1:
            return self._aggregate(q, [{"@timestamp": int(t)} for t in ts])
        key = q.by[0]
        bins, counts = np.unique((ts // key.bin_ms) * key.bin_ms, return_counts=True)
        return [{key.name: format_timestamp(int(b)), **{a.name: str(int(c)) for a in q.stats}} for b, c in zip(bins, counts)]

    def _aggregate(self, q: Query, records: list[dict[str, Any]]) -> list[dict[str, str]]:
        assert q.stats is not None
        groups: dict[tuple[Any, ...], list[Any]] = {}
        for rec in records:
            key = []
            for k in q.by:
                if k.field is None:
                    key.append(format_timestamp((rec["@timestamp"] // k.bin_ms) * k.bin_ms))
                else:
                    v = rec.get(k.field)
                    key.append(None if v is None else _scalar_text(v))
            acc = groups.setdefault(tuple(key), [None] * len(q.stats))
            for i, a in enumerate(q.stats):
                v = 1 if a.arg is None else rec.get(a.arg)
                if a.func == "count":
                    acc[i] = (acc[i] or 0) + (1 if v is not None else 0)
                elif v is not None and isinstance(v, (int, float)) and not isinstance(v, bool):
                    if acc[i] is None:
                        acc[i] = v
                    elif a.func == "sum":
                        acc[i] += v
                    elif a.func == "min":
                        acc[i] = min(acc[i], v)
                    elif a.func == "max":
                        acc[i] = max(acc[i], v)
        rows = []
        for key, acc in groups.items():
            row = {k.name: v for k, v in zip(q.by, key) if v is not None}
            row.update({a.name: _scalar_text(v) for a, v in zip(q.stats, acc) if v is not None})
            rows.append(row)
        if q.sort is not None:
            name, desc = q.sort
            def _k(r: dict[str, str]) -> Any:
                v = r.get(name)
                try:
                    return (0, float(v)) if v is not None else (1, 0.0)
                except ValueError:
                    return (0, v)
            rows.sort(key=_k, reverse=desc)
        return rows

    @staticmethod
    def _messages(g: _Group, serials: list[int], *, json_escaped: bool = False) -> list[str]:
        """Messages of ``serials``, rendered in batches when the sequence can (``render_many``);
        ``json_escaped``: as the inside of JSON string literals."""
        if json_escaped and g.escaped is not None:
            return [g.escaped[s] for s in serials]
        out: list[str] = []
        starts = g.chunk_starts
        run: list[int] = []
        run_chunk = -1
        for serial in serials + [-1]:
            c = bisect.bisect_right(starts, serial) - 1 if serial >= 0 else -2
            if c != run_chunk and run:
                seq = g.chunks[run_chunk]
                idx = [x - starts[run_chunk] for x in run]
                many = getattr(seq, "render_many", None)
                if json_escaped:
                    enc = json.encoder.encode_basestring  # type: ignore[attr-defined]
                    out.extend(many(idx, json_escaped=True) if many else [enc(seq[i])[1:-1] for i in idx])
                else:
                    out.extend(many(idx) if many else [seq[i] for i in idx])
                run = []
            run_chunk = c
            if serial >= 0:
                run.append(serial)
        return out

    def _render_fast(self, q: _Query, lo: int, hi: int) -> RawResults | None:
        """The ``results`` JSON text of an event query built directly (benchmarks: a million rows)."""
        fast = ("@timestamp", "@message", "@log", "@logStream")
        if q.rows is not None or q.refs is None or any(f not in fast for f in q.fields):
            return None
        enc = json.encoder.encode_basestring  # type: ignore[attr-defined]
        cut = self.truncate_messages_at
        arr = np.asarray(q.refs[lo:hi], dtype=np.int64)
        if cut is None and list(q.fields) == ["@timestamp", "@message"] and len(arr):
            page = self._prerendered_page(arr)
            if page is not None:
                return page
        parts: list[str] = []
        for gi in np.unique(arr >> _REF_SHIFT).tolist():
            if len(np.unique(arr >> _REF_SHIFT)) > 1:
                return None  # several groups: keep the generic path (order across groups)
            g = self._groups[gi]
            pos = arr & ((1 << _REF_SHIFT) - 1)
            serials = g.serial[pos].tolist()
            stamps = [t.replace("T", " ") for t in np.datetime_as_string(g.ts[pos].astype("datetime64[ms]"), unit="ms").tolist()]
            if cut is None and set(q.fields) <= {"@timestamp", "@message"}:
                # the data query's shape: one format per row over pre-escaped messages
                texts = self._messages(g, serials, json_escaped=True)
                fmt = "[" + "".join('{"field":"%s","value":"%%s"},' % f for f in q.fields) + \
                    '{"field":"@ptr","value":"Cm%x' % gi + 'x%x"}]'
                cols = [stamps if f == "@timestamp" else texts for f in q.fields]
                parts.extend(fmt % row for row in zip(*cols, serials))
                continue
            log_text = enc(f"{ACCOUNT}:{g.name}")
            starts = g.chunk_starts
            texts = self._messages(g, serials)
            for k, (serial, stamp) in enumerate(zip(serials, stamps)):
                c = bisect.bisect_right(starts, serial) - 1
                items = []
                for f in q.fields:
                    if f == "@timestamp":
                        items.append('{"field":"@timestamp","value":"' + stamp + '"}')
                    elif f == "@message":
                        m = texts[k]
                        if cut is not None and len(m) > cut:
                            m = m[:cut]
                        items.append('{"field":"@message","value":' + enc(m) + "}")
                    elif f == "@log":
                        items.append('{"field":"@log","value":' + log_text + "}")
                    else:
                        items.append('{"field":"@logStream","value":' + enc(g.streams[c]) + "}")
                items.append('{"field":"@ptr","value":"' + self._ptr(gi, serial) + '"}')
                parts.append("[" + ",".join(items) + "]")
        return RawResults("[" + ",".join(parts) + "]", len(parts))

    def _prerendered_page(self, refs: np.ndarray) -> RawResults | None:
        """The page of ``refs`` as a slice of the prerendered rows, when they are consecutive
        positions of one prerendered group (an ascending data query)."""
        gi = int(refs[0] >> _REF_SHIFT)
        g = self._groups[gi]
        if g.page_rows is None:
            return None
        first = int(refs[0])
        if int(refs[-1]) - first != len(refs) - 1 or not bool(np.all(np.diff(refs) == 1)):
            return None
        text, offsets = g.page_rows
        pos = first & ((1 << _REF_SHIFT) - 1)
        view = memoryview(text)[int(offsets[pos]):int(offsets[pos + len(refs)]) - 1]  # without the last ","
        return RawResults(view, len(refs), bracket=True)

    def _render(self, q: _Query, lo: int, hi: int, reverse: bool = False) -> list[list[dict[str, str]]]:
        if q.rows is not None:
            rows = q.rows[lo:hi]
            if reverse:
                rows = rows[::-1]
            return [[{"field": k, "value": v} for k, v in r.items()] for r in rows]
        assert q.refs is not None
        refs = q.refs[lo:hi]
        if reverse:
            refs = refs[::-1]
        need_record = any(f not in ("@timestamp", "@message", "@log", "@logStream", "@ptr", "@ingestionTime") for f in q.fields)
        out = []
        cut = self.truncate_messages_at
        arr = np.asarray(refs, dtype=np.int64)
        gis = (arr >> _REF_SHIFT).tolist()
        poss = (arr & ((1 << _REF_SHIFT) - 1)).tolist()
        stamp_cache: dict[int, list[str]] = {}
        for gi in set(gis):
            g = self._groups[gi]
            sel = [p for gg, p in zip(gis, poss) if gg == gi]
            ts = g.ts[sel]
            text = np.datetime_as_string(ts.astype("datetime64[ms]"), unit="ms")
            stamp_cache[gi] = [t.replace("T", " ") for t in text.tolist()]
        counters = {gi: 0 for gi in stamp_cache}
        for gi, pos in zip(gis, poss):
            g = self._groups[gi]
            stamp = stamp_cache[gi][counters[gi]]
            counters[gi] += 1
            serial = int(g.serial[pos])
            c = bisect.bisect_right(g.chunk_starts, serial) - 1
            rec = self._record(gi, pos) if need_record else None
            row = []
            for f in q.fields:
                if f == "@timestamp":
                    v: Any = stamp
                elif f == "@message":
                    v = g.chunks[c][serial - g.chunk_starts[c]]
                    if cut is not None and len(v) > cut:
                        v = v[:cut]
                elif f == "@log":
                    v = f"{ACCOUNT}:{g.name}"
                elif f == "@logStream":
                    v = g.streams[c]
                elif f == "@ingestionTime":
                    v = format_timestamp(int(g.ts[pos]) + g.ingest_delay_ms)
                elif f == "@ptr":
                    continue
                else:
                    v = rec.get(f) if rec is not None else None
                    if v is None:
                        continue
                    v = _scalar_text(v)
                row.append({"field": f, "value": v})
            row.append({"field": "@ptr", "value": self._ptr(gi, serial)})
            out.append(row)
        return out


def _make_handler(fake: FakeLogsInsights) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and
        # the client's delayed ACK hold every small response for ~40 ms
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            log.debug("fake-logs: " + format, *args)

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            raw = payload.get("results")
            if isinstance(raw, RawResults):
                rest = {k: v for k, v in payload.items() if k != "results"}
                head = json.dumps(rest, separators=(",", ":"))
                pieces = [(head[:-1] + (',' if rest else '') + '"results":').encode(), *raw.parts(), b"}"]
            else:
                pieces = [json.dumps(payload, separators=(",", ":")).encode()]
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(sum(len(p) for p in pieces)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            self.end_headers()
            if payload.get("results") and fake.take_cut():  # the connection breaks mid-body
                whole = b"".join(bytes(p) for p in pieces)
                self.wfile.write(whole[: len(whole) // 2])
                self.close_connection = True
                return
            for piece in pieces:  # a prerendered page goes out as a view, never copied
                self.wfile.write(piece)

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            """``GET /__fake__/stats``: counters for benchmarks running the fake in another process."""
            if self.path.rstrip("/") != "/__fake__/stats":
                self._send(404, {"message": "not found"})
                return
            self._send(200, fake.stats())

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            if self.path.rstrip("/") == "/__fake__/reset":
                fake.reset_counters()
                self._send(200, {"ok": True})
                return
            target = self.headers.get("X-Amz-Target", "")
            op = target.split(".", 1)[-1]
            t0 = time.monotonic()
            rows = 0
            try:
                if not target.startswith("Logs_20140328."):
                    raise ServiceError("UnknownOperationException", f"unknown target {target!r}")
                body = json.loads(raw or b"{}")
                result = fake.handle(op, body)
                rows = len(result.get("results", ()))
                status, payload = 200, result
            except ServiceError as exc:
                status, payload = exc.status, {"__type": exc.code, "message": exc.message, **exc.extra}
            except Exception as exc:  # a fake bug must surface, not hang the client
                log.exception("fake-logs internal error")
                status, payload = 500, {"__type": "InternalFailure", "message": repr(exc)}
            delay = fake.call_delay(op, rows) - (time.monotonic() - t0)
            if delay > 0:
                time.sleep(delay)
            self._send(status, payload)

    return Handler
