"""``count_events``: server-side ``stats count(*) by ...`` for windows too big to pull.

The counting happens in Logs Insights; only the groups come back. Events are selected by
``eventTime`` in ``[start, end)`` on the server (CloudTrail's fixed ``YYYY-MM-DDTHH:MM:SSZ`` text
compares in time order) inside a query window padded like :func:`pull_events`.

More groups than one query can return (the row cap) are handled the careful way: a query that
returns ``limit`` rows (or leaves a ``nextToken``) is split in time and the halves are counted
separately. Halves are made disjoint on the server with ``filter toMillis(@timestamp) < b``
(StartQuery ranges are inclusive at both ends), so summing the halves counts every event once.
"""
from __future__ import annotations

import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta, timezone
from typing import Any

import pandas as pd

from s3audit.insights.errors import IncompleteResult, LogGroupNotFound
from s3audit.insights.runner import QueryOutcome, QueryRunner, QuerySpec
from s3audit.insights.session import check_where, logs_client, missing_log_groups, normalize_log_groups
from s3audit.insights.timeutil import as_seconds, iso, iso_seconds, require_aware

log = logging.getLogger(__name__)

_PLAIN = re.compile(r"^[@A-Za-z0-9_.]+$")


def quote_field(name: str) -> str:
    """A field name as Insights QL needs it (backticks around names with other characters)."""
    if _PLAIN.match(name):
        return name
    if "`" in name:
        raise ValueError(f"field name {name!r} contains a backtick")
    return f"`{name}`"


def _iso_ceil(dt: datetime) -> str:
    s = math.ceil(dt.timestamp())
    return datetime.fromtimestamp(s, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def count_events(
    log_groups: str | Sequence[str],
    start: datetime,
    end: datetime,
    by: str | Sequence[str] = ("eventName",),
    *,
    where: str | None = None,
    client: Any = None,
    session: Any = None,
    max_concurrency: int = 25,
    deadline: float | timedelta | None = timedelta(hours=1),
    progress: bool = True,
    allow_partial: bool = False,
    padding: timedelta = timedelta(minutes=15),
    limit: int = 100_000,
    page_size: int = 10_000,
    max_retries: int = 3,
    poll_interval: tuple[float, float] = (0.5, 5.0),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Any] | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """Count events of ``[start, end)`` by fields, in Logs Insights (nothing is downloaded).

    Parameters
    ----------
    log_groups, start, end, where, client, session, max_concurrency, deadline, padding
        As in :func:`s3audit.pull_events`.
    by : str or sequence of str
        Fields to group by (Insights names: ``vpcEndpointId``, ``sourceIPAddress``,
        ``userAgent``, ``eventName``, ``userIdentity.arn``...).
    limit, page_size
        Group rows one query may return (100,000) and rows per page (10,000); a query that
        returns ``limit`` groups is split in time.

    Returns
    -------
    pandas.DataFrame
        One row per group: the ``by`` columns (NA where the field is missing) and ``count``,
        largest first. ``df.attrs["bytes_scanned"]`` and ``df.attrs["coverage"]`` (slices,
        queries, ``complete``) describe the work.

    Raises
    ------
    IncompleteResult
        Some time range could not be counted (``allow_partial=True`` returns the partial counts).
    MalformedQuery, InvalidParameter, AccessDenied, LogGroupNotFound
        As in :func:`s3audit.pull_events`.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> counts = s3audit.count_events("aws-cloudtrail-logs", datetime(2026, 10, 1, tzinfo=timezone.utc),
    ...                               datetime(2026, 11, 1, tzinfo=timezone.utc),
    ...                               by=["vpcEndpointId", "sourceIPAddress"])  # doctest: +SKIP
    >>> counts.attrs["bytes_scanned"]  # doctest: +SKIP
    """
    groups = normalize_log_groups(log_groups)
    t0, t1 = require_aware(start, "start"), require_aware(end, "end")
    if t1 <= t0:
        raise ValueError(f"end ({t1}) must be after start ({t0})")
    by_list = [by] if isinstance(by, str) else list(by)
    if not by_list:
        raise ValueError("give at least one field in by")
    where = check_where(where)
    pad = as_seconds(padding, "padding") or 0.0
    budget = as_seconds(deadline, "deadline")
    S = math.floor((t0 - timedelta(seconds=pad)).timestamp())
    E = math.ceil((t1 + timedelta(seconds=pad)).timestamp())
    cond = f'eventTime >= "{_iso_ceil(t0)}" and eventTime < "{_iso_ceil(t1)}"'
    if where:
        cond += f" and ({where})"
    names = [f"n{i}" for i in range(len(by_list))]
    keys = ", ".join(f"{quote_field(f)} as {n}" for f, n in zip(by_list, names))
    stats = f"stats count(*) as n_events by {keys}"  # (an alias that is not a function name)

    logs = logs_client(client, session, max_concurrency)
    abort = threading.Event()
    runner = QueryRunner(logs, deadline_at=None if budget is None else clock() + budget, clock=clock, sleep=sleep,
                         poll_interval=poll_interval, page_size=page_size, rng=random.Random(seed), abort=abort)

    def spec(a: int, b: int) -> QuerySpec:
        bound = f" and toMillis(@timestamp) < {b * 1000}" if b < E else ""
        return QuerySpec(f"filter {cond}{bound} | {stats}", groups, a, b, limit, kind="data")

    from tqdm.auto import tqdm

    bar = tqdm(total=1, unit="slice", desc="count", disable=not progress)
    totals: dict[tuple[Any, ...], int] = {}
    slices: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="s3audit-count")
    pending: dict[Future[QueryOutcome], tuple[int, int, int]] = {pool.submit(runner.run, spec(S, E)): (S, E, 0)}
    try:
        while pending:
            done, _ = wait(list(pending), timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in done:
                a, b, attempt = pending.pop(fut)
                out = fut.result()
                follow: list[tuple[int, int, int]] = []
                entry = {"start": iso_seconds(a), "end": iso_seconds(b), "status": out.status,
                         "rows": len(out.rows), "records_matched": _f(out, "recordsMatched"),
                         "bytes_scanned": _f(out, "bytesScanned"), "query_id": out.query_id, "note": ""}
                saturated = out.status == "Complete" and (len(out.rows) >= limit or out.token_left)
                if out.status == "Complete" and not saturated:
                    for row in out.rows:
                        key = tuple(row.get(n) for n in names)
                        totals[key] = totals.get(key, 0) + int(float(row.get("n_events", 0)))
                    entry["status"] = "complete"
                elif (saturated or out.status == "Timeout") and b - a > 1:
                    mid = a + (b - a) // 2
                    follow = [(a, mid, 0), (mid, b, 0)]
                    entry["status"] = "split"
                    entry["note"] = "row cap reached: split" if saturated else "timed out: split"
                elif out.status in ("Failed", "Cancelled", "Unknown", "Timeout") and attempt < max_retries:
                    follow = [(a, b, attempt + 1)]
                    entry["status"] = "rerun"
                else:
                    reason = "more groups in one second than the row cap" if saturated else f"query {out.status}"
                    entry["status"] = "saturated" if saturated else out.status.lower()
                    entry["note"] = reason
                    missing.append({"start": entry["start"], "end": entry["end"], "reason": reason})
                slices.append(entry)
                for t in follow:
                    pending[pool.submit(runner.run, spec(t[0], t[1]))] = t
                bar.total += len(follow)
                bar.update(1)
    except KeyboardInterrupt:
        runner.interrupt(pool, list(pending))
        raise
    except LogGroupNotFound as exc:
        abort.set()
        pool.shutdown(wait=True, cancel_futures=True)
        exc.missing = missing_log_groups(logs, groups)
        raise
    except BaseException:
        abort.set()
        runner.stop_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    bar.close()

    frame = pd.DataFrame([list(k) + [v] for k, v in totals.items()], columns=by_list + ["count"])
    for col in by_list:
        frame[col] = frame[col].astype("string")
    frame["count"] = frame["count"].astype("int64")
    frame = frame.sort_values(["count"] + by_list, ascending=[False] + [True] * len(by_list),
                              na_position="last", kind="stable").reset_index(drop=True)
    c = runner.counters
    coverage = {
        "complete": not missing, "requested": {"start": iso(t0), "end": iso(t1)},
        "queried": {"start": iso_seconds(S), "end": iso_seconds(E), "padding_s": pad},
        "log_groups": groups, "where": where, "by": by_list, "limit": limit,
        "slices": sorted(slices, key=lambda e: (e["start"], e["end"])), "missing": missing,
        "start_queries": int(c["start_query"]), "stop_queries": int(c["stop_query"]),
        "throttled": int(c["throttled"]), "limit_exceeded_waits": int(c["limit_exceeded"]),
        "bytes_scanned": float(sum(e["bytes_scanned"] for e in slices)),
        "events": int(frame["count"].sum()),
    }
    frame.attrs["coverage"] = coverage
    frame.attrs["bytes_scanned"] = coverage["bytes_scanned"]
    if missing:
        text = "; ".join(f"{m['start']}..{m['end']} ({m['reason']})" for m in missing[:5])
        message = f"count incomplete: {len(missing)} range(s) not counted: {text}"
        if allow_partial:
            log.warning(message)
            return frame
        raise IncompleteResult(message, frame=frame, coverage=coverage)
    return frame


def _f(out: QueryOutcome, key: str) -> float:
    try:
        return float(out.statistics.get(key, 0.0) or 0.0)
    except (TypeError, ValueError):
        return 0.0
