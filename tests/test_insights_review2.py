"""Adversarial review (round 2) of pull_events / count_events against the loopback fake.

Each xfail(strict=True) test is a proven bug: it fails today and must pass once the bug is fixed.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

import s3audit
from s3audit.insights import IncompleteResult
from s3audit.testing import Faults
from _insights_support import GROUP, T0, fake_service, load, pull_kwargs, truth_ids


def _ids(df) -> set[str]:
    return {json.loads(r)["eventID"] for r in df["raw"]}


@pytest.mark.parametrize("fake_kw", [
    {"denied_actions": ["GetLogRecord"]},  # an IAM policy without logs:GetLogRecord
    # sustained LimitExceeded (GetLogRecord's quota is low): s3audit gives up after 5 tries per message
    {"faults": Faults(errors={"GetLogRecord": ["LimitExceededException"] * 1_000})},
], ids=["denied", "limit-exceeded"])
def test_cut_message_whose_get_log_record_fails_is_not_silently_dropped(fake_kw) -> None:
    """A cut @message that GetLogRecord cannot fetch is an event the pull did not get: it must be
    returned or the pull must raise IncompleteResult."""
    end = T0 + timedelta(hours=1)
    with fake_service(truncate_messages_at=300, **fake_kw) as fake:
        msgs = load(fake, 40, T0, end, seed=3)
        truth = truth_ids(msgs, T0, end)
        with pytest.raises(IncompleteResult) as info:
            s3audit.pull_events(GROUP, T0, end, **pull_kwargs(fake))
        partial = s3audit.pull_events(GROUP, T0, end, **pull_kwargs(fake, allow_partial=True))
    lost = truth - _ids(info.value.frame)
    missing = info.value.coverage["missing"]
    assert lost and len(missing) >= len(lost)  # every event the frame lacks is listed
    assert all("GetLogRecord" in m["reason"] and "@ptr" in m["reason"] for m in missing), missing
    assert not partial.attrs["coverage"]["complete"] and _ids(partial) == _ids(info.value.frame)


def test_second_below_twice_the_limit_next_to_a_busy_millisecond_is_read_completely() -> None:
    """Second A holds 60 events (limit 50 < 60 < 2 x 50), so reading it oldest-first and newest-first
    covers it. 45 events (< limit) sit at exactly (A+1).000. The newest-first read of A is sent as
    StartQuery [A, A+1] - both ends inclusive - and its 50 rows are 45 rows of (A+1).000 plus only
    the 5 newest of A: 5 events of A are never read and the pull reports a gap in a second it could
    have read completely."""
    from s3audit.testing import synthetic_trail

    import numpy as np

    limit = 50
    a_ms = int((T0 + timedelta(minutes=42)).timestamp()) * 1000
    ts, gen = synthetic_trail(105, T0 + timedelta(minutes=40), T0 + timedelta(minutes=40, seconds=1), seed=21)
    msgs = [gen[i] for i in range(len(gen))]
    log_ts = np.concatenate([a_ms + np.arange(60) * 10, np.full(45, a_ms + 1000)])  # 60 in A, 45 at (A+1).000
    end = T0 + timedelta(hours=1)
    with fake_service(max_limit=limit, page_size=10) as fake:
        fake.put_events(GROUP, log_ts, msgs)
        want = {json.loads(m)["eventID"] for m in msgs}
        try:
            df = s3audit.pull_events(GROUP, T0 + timedelta(minutes=20), end,
                                     **pull_kwargs(fake, limit=limit, page_size=10))
        except IncompleteResult as exc:
            pytest.fail(f"reported incomplete: {exc.coverage['missing']}")
        assert _ids(df) == want


def test_a_deadline_passing_in_get_log_records_backoff_is_an_incomplete_result() -> None:
    """GetLogRecord answers LimitExceeded for good; its backoff waits run the clock past the
    deadline: the pull ends with IncompleteResult (the runner's internal Abandoned, raised by the
    wait, must not escape), and the unread events are listed missing."""
    import threading

    now = [0.0]
    lock = threading.Lock()

    def clock() -> float:
        with lock:
            return now[0]

    def sleep(seconds: float) -> None:  # virtual time: every wait moves the clock
        with lock:
            now[0] += max(seconds, 0.001)

    end = T0 + timedelta(hours=1)
    with fake_service(Faults(errors={"GetLogRecord": ["LimitExceededException"] * 10_000}),
                      truncate_messages_at=300) as fake:
        load(fake, 40, T0, end, seed=3)
        with pytest.raises(IncompleteResult) as info:
            s3audit.pull_events(GROUP, T0, end, **pull_kwargs(fake, clock=clock, sleep=sleep, deadline=60))
    reasons = [m["reason"] for m in info.value.coverage["missing"]]
    assert reasons and any("GetLogRecord abandoned" in r for r in reasons), reasons


def test_a_field_only_an_event_outside_the_window_has_leaves_no_column() -> None:
    """The padding brings events whose eventTime lies outside [start, end); they are dropped after
    the frame is built, and must leave no trace: no all-NA column, no dtype decided by them."""
    from tests._loader_support import line, record

    inside = record("in", eventTime="2026-10-01T00:30:00Z")
    inside["additionalEventData"]["CipherSuite"] = "ECDHE-RSA-AES128-GCM-SHA256"
    before = record("before", eventTime="2026-09-30T23:59:30Z")  # delivered after start, happened before it
    before["onlyOutside"] = "x"
    before["additionalEventData"]["CipherSuite"] = "ECDHE-RSA-AES128-GCM-SHA256"
    start = T0.replace(year=2026, month=10, day=1, hour=0, minute=0, second=0, microsecond=0)
    with fake_service() as fake:
        ms = int(start.timestamp() * 1000)
        fake.put_events(GROUP, [ms + 60_000, ms + 31 * 60_000], [line(before), line(inside)])
        df = s3audit.pull_events(GROUP, start, start + timedelta(hours=1), **pull_kwargs(fake))
    alone = s3audit.load_events([line(inside)])
    assert df["eventID"].tolist() == ["in"] and df.attrs["coverage"]["outside_window"] == 1
    assert "onlyOutside" not in df.columns
    assert {c: str(t) for c, t in df.dtypes.items()} == {c: str(t) for c, t in alone.dtypes.items()}
