"""Shared helpers for the Logs Insights tests: a fake service with small limits and truth sets."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from s3audit.testing import FakeLogsInsights, Faults, synthetic_trail

T0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
GROUP = "aws-cloudtrail-logs"
LIMIT = 500  # the fake's row cap in most tests (AWS: 100,000)
PAGE = 100  # rows per page (AWS: 10,000)


def tiny_sleep(seconds: float) -> None:
    """Tests never really wait: polls and back-offs sleep at most 2 ms."""
    time.sleep(min(seconds, 0.002))


@contextmanager
def fake_service(faults: Faults | None = None, **kw: Any) -> Iterator[FakeLogsInsights]:
    kw.setdefault("max_limit", LIMIT)
    kw.setdefault("page_size", PAGE)
    with FakeLogsInsights(faults=faults, **kw) as fake:
        yield fake


def pull_kwargs(fake: FakeLogsInsights, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"client": fake.client(), "limit": LIMIT, "page_size": PAGE, "progress": False,
                           "sleep": tiny_sleep, "max_concurrency": 8, "seed": 1, "deadline": 120}
    out.update(kw)
    return out


def load(fake: FakeLogsInsights, n: int, start: datetime, end: datetime, *, seed: int = 0,
         bursts: Sequence[tuple[datetime, int, float]] = (), delay_s: tuple[float, float] = (60.0, 600.0),
         group: str = GROUP) -> Any:
    """Put synthetic events into ``group``; returns the message sequence (for the truth)."""
    ts, msgs = synthetic_trail(n, start, end, bursts=bursts, delay_s=delay_s, seed=seed)
    fake.put_events(group, ts, msgs, lengths=msgs.lengths())
    return msgs


def truth_ids(msgs: Any, start: datetime, end: datetime) -> set[str]:
    """eventIDs of the events whose eventTime lies in ``[start, end)``."""
    ev = msgs.event_time_s
    idx = np.nonzero((ev >= start.timestamp()) & (ev < end.timestamp()))[0]
    return {json.loads(msgs[int(i)])["eventID"] for i in idx}


def data_ranges(fake: FakeLogsInsights) -> list[tuple[int, int]]:
    """(startMs, endMs) of the data (non-stats) queries the fake received, sorted."""
    return sorted((s["startMs"], s["endMs"]) for s in fake.started if "stats" not in s["queryString"]
                  and "sort @timestamp asc" in s["queryString"])


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


__all__ = ["GROUP", "LIMIT", "PAGE", "T0", "Faults", "data_ranges", "fake_service", "load", "pull_kwargs",
           "tiny_sleep", "truth_ids", "utc", "timedelta"]


def start_data_query(client: Any) -> str:
    """A StartQuery of the pull's data-query shape over the hour after T0 (100 rows at most)."""
    return client.start_query(logGroupName=GROUP, startTime=int(T0.timestamp()) - 3600,
                              endTime=int(T0.timestamp()) + 7200, limit=100,
                              queryString="fields @timestamp, @message | sort @timestamp asc")["queryId"]


def results_when_complete(client: Any, qid: str, **kw: Any) -> dict[str, Any]:
    """GetQueryResults (50 rows a page) until the query is Complete (a fake with no Running polls)."""
    for _ in range(10):
        resp = client.get_query_results(queryId=qid, maxItems=50, **kw)
        if resp["status"] == "Complete":
            return resp
    raise AssertionError("query did not complete")
