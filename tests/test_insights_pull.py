"""pull_events against the loopback fake: completeness, slicing, statuses, errors, deadline, cache."""
from __future__ import annotations

import json
import signal
import threading
import time
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

import s3audit
from s3audit.insights import (
    AccessDenied,
    IncompleteResult,
    InvalidParameter,
    LogGroupNotFound,
    MalformedQuery,
    coverage_frame,
)
from s3audit.testing import Faults
from _insights_support import (
    GROUP,
    LIMIT,
    T0,
    data_ranges,
    fake_service,
    load,
    pull_kwargs,
    truth_ids,
)


def _t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def _ids(df) -> list[str]:
    return df["eventID"].astype(str).tolist()


def _assert_tiling(fake, cov) -> None:
    """Data queries share boundaries: sorted ranges chain end -> start, covering the padded window."""
    ranges = data_ranges(fake)
    S = int(_t(cov["queried"]["start"]).timestamp() * 1000)
    E = int(_t(cov["queried"]["end"]).timestamp() * 1000)
    covered = S
    for a, b in ranges:
        assert a <= covered, f"gap before {a}"
        covered = max(covered, b)
    assert covered >= E
    owned = sorted((int(_t(s["start"]).timestamp()), int(_t(s["end"]).timestamp())) for s in cov["slices"])
    for (a1, b1), (a2, b2) in zip(owned, owned[1:]):
        assert b1 == a2, "owned slices must neither overlap nor leave a gap"


# --------------------------------------------------------------------------------- completeness
@pytest.mark.parametrize("seed", range(8))
def test_every_event_exactly_once_over_random_windows_with_bursts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    start = T0 + timedelta(hours=int(rng.integers(0, 12)), seconds=int(rng.integers(0, 3600)))
    end = start + timedelta(hours=int(rng.integers(6, 36)), seconds=int(rng.integers(0, 3600)))
    bursts = [
        (start + (end - start) * float(rng.random()), int(rng.integers(2_000, 6_000)), float(rng.integers(5, 600)))
        for _ in range(int(rng.integers(1, 4)))
    ]
    # one burst lands right at the window's end: delivered late, it must still be found
    bursts.append((end - timedelta(seconds=30), 1_500, 29))
    with fake_service(faults=Faults(seed=seed)) as fake:
        msgs = load(fake, 4_000, start - timedelta(hours=2), end + timedelta(hours=2), seed=seed, bursts=bursts)
        df = s3audit.pull_events(GROUP, start, end, **pull_kwargs(fake, seed=seed))
        truth = truth_ids(msgs, start, end)
        ids = _ids(df)
        assert len(ids) == len(set(ids)), "duplicates"
        assert set(ids) == truth
        assert len(truth) > 10 * LIMIT  # far above one query's row cap
        cov = df.attrs["coverage"]
        assert cov["complete"] and cov["missing"] == []
        assert cov["events"] == len(truth)
        assert cov["outside_window"] > 0  # events delivered inside the padding, eventTime outside
        _assert_tiling(fake, cov)
        assert all(s["returned"] < LIMIT or "saturated" in s["note"] or "both ways" in s["note"]
                   for s in cov["slices"])


def test_saturated_slice_is_split_and_nothing_is_lost_when_the_plan_is_wrong() -> None:
    """Events added after planning (a live window) saturate planned slices; they are re-split."""
    with fake_service() as fake:
        msgs = load(fake, 3_000, T0, T0 + timedelta(hours=6), seed=3)
        end = T0 + timedelta(hours=6)
        original = fake._op_StartQuery
        added = {}

        def start_query(body):  # the first data query triggers a burst arriving "now"
            if "sort" in body.get("queryString", "") and not added:
                added["m"] = load(fake, 0, T0, end, seed=9,
                                  bursts=[(T0 + timedelta(hours=2), 2_000, 60)])
            return original(body)

        fake._op_StartQuery = start_query
        df = s3audit.pull_events(GROUP, T0, end, **pull_kwargs(fake, max_concurrency=1))
        truth = truth_ids(msgs, T0, end) | truth_ids(added["m"], T0, end)
        assert sorted(_ids(df)) == sorted(truth)
        notes = [s["note"] for s in df.attrs["coverage"]["slices"]]
        assert any("saturated" in n for n in notes)


def test_one_second_above_the_limit_is_read_both_ways() -> None:
    with fake_service() as fake:
        # 800 events delivered within the same second (LIMIT 500 < 800 < 2 x 500)
        msgs = load(fake, 0, T0, T0, seed=4, bursts=[(T0 + timedelta(hours=1), 800, 1)], delay_s=(120, 120.9))
        df = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=2), **pull_kwargs(fake))
        assert sorted(_ids(df)) == sorted(truth_ids(msgs, T0, T0 + timedelta(hours=2)))
        assert any("both ways" in s["note"] for s in df.attrs["coverage"]["slices"])
        # the two reads overlap: 2 x 500 rows for 800 events, the 200 repeated pointers dropped
        assert df.attrs["coverage"]["duplicate_ptr"] == 2 * LIMIT - 800


def test_one_second_above_twice_the_limit_is_reported_not_hidden() -> None:
    with fake_service() as fake:
        load(fake, 0, T0, T0, seed=5, bursts=[(T0 + timedelta(hours=1), 1_500, 1)], delay_s=(120, 120.9))
        with pytest.raises(IncompleteResult) as info:
            s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=2), **pull_kwargs(fake))
        exc = info.value
        cov = exc.coverage
        assert not cov["complete"]
        [gap] = cov["missing"]
        assert gap["reason"].startswith("saturated")
        # the gap lies inside the saturated second
        sec = T0 + timedelta(hours=1, seconds=120)
        assert sec <= _t(gap["start"]) < _t(gap["end"]) <= sec + timedelta(seconds=1)
        assert len(exc.frame) == 2 * LIMIT and exc.frame["eventID"].is_unique
        assert "could not be retrieved" in str(exc)
        # allow_partial returns the same frame, and the ledger says it is incomplete
        df = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=2), **pull_kwargs(fake, allow_partial=True))
        assert len(df) == 2 * LIMIT and df.attrs["coverage"]["complete"] is False


@pytest.mark.slow
def test_real_limits_100k_rows_and_10k_pages_with_a_burst_above_the_limit() -> None:
    """AWS's real numbers: limit 100,000, pages of 10,000, a burst of 130,000 events. The planning
    query fails here, so the first query over the whole window really returns 100,000 rows and
    must be recognised as saturated, kept up to its last second, and the rest re-queried."""
    faults = Faults(outcomes=["Failed"] * 4)
    with fake_service(faults=faults, max_limit=100_000, page_size=10_000) as fake:
        start, end = T0, T0 + timedelta(hours=3)
        msgs = load(fake, 2_000, start, end, seed=6, bursts=[(T0 + timedelta(hours=1), 130_000, 180)])
        df = s3audit.pull_events(GROUP, start, end, client=fake.client(), progress=False, sleep=lambda s: None,
                                 max_concurrency=4, deadline=600, plan_queries=1)
        truth = truth_ids(msgs, start, end)
        assert len(truth) > 100_000
        assert df["eventID"].is_unique and set(_ids(df)) == truth
        cov = df.attrs["coverage"]
        assert cov["complete"]
        assert {s["limit"] for s in fake.started if "sort" in s["queryString"]} == {100_000}
        saturated = [s for s in cov["slices"] if "saturated" in s["note"]]
        assert saturated and saturated[0]["returned"] == 100_000  # 10 pages of 10,000
        assert fake.calls["GetQueryResults"] >= 14
        _assert_tiling(fake, cov)


# ------------------------------------------------------------------------------- window rules
def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        s3audit.pull_events(GROUP, datetime(2026, 10, 1), T0, client=object())
    with pytest.raises(ValueError, match="naive"):
        s3audit.pull_events(GROUP, T0, datetime(2026, 10, 2), client=object())
    with pytest.raises(ValueError, match="after"):
        s3audit.pull_events(GROUP, T0, T0, client=object())
    with pytest.raises(ValueError, match="50"):
        s3audit.pull_events([f"g{i}" for i in range(51)], T0, T0 + timedelta(hours=1), client=object())
    with pytest.raises(ValueError, match=r"\|"):
        s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), client=object(), where="eventName = 'x' | limit 1")


def test_padding_catches_late_deliveries_and_rows_are_selected_by_event_time() -> None:
    start, end = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    with fake_service() as fake:
        msgs = load(fake, 3_000, T0, T0 + timedelta(hours=3), seed=8, delay_s=(300, 840))
        truth = truth_ids(msgs, start, end)
        df = s3audit.pull_events(GROUP, start, end, **pull_kwargs(fake))
        assert set(_ids(df)) == truth
        assert df["eventTime"].min() >= start and df["eventTime"].max() < end
        cov = df.attrs["coverage"]
        assert _t(cov["queried"]["end"]) == end + timedelta(minutes=15)
        assert cov["outside_window"] > 0
        # without padding, events delivered after `end` are missed (why padding exists)
        short = s3audit.pull_events(GROUP, start, end, **pull_kwargs(fake, padding=timedelta(0)))
        assert set(_ids(short)) < truth
        # a padding shorter than the delivery lag is flagged
        warned = s3audit.pull_events(GROUP, start, end, **pull_kwargs(fake, padding=timedelta(minutes=10)))
        assert warned.attrs["coverage"]["warnings"]


def test_where_is_pushed_to_the_server() -> None:
    with fake_service() as fake:
        msgs = load(fake, 2_000, T0, T0 + timedelta(hours=2), seed=2)
        df = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=2),
                                 **pull_kwargs(fake, where='requestParameters.bucketName = "team-share"'))
        want = {json.loads(m)["eventID"] for m in msgs
                if json.loads(m)["requestParameters"]["bucketName"] == "team-share"
                and T0.strftime("%Y-%m-%dT%H:%M:%SZ") <= json.loads(m)["eventTime"]
                < (T0 + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")}
        assert set(_ids(df)) == want and 0 < len(want) < len(msgs)
        assert all('filter requestParameters.bucketName = "team-share"' in s["queryString"] for s in fake.started)


def test_several_log_groups_and_arns_with_a_trailing_star() -> None:
    with fake_service() as fake:
        a = load(fake, 700, T0, T0 + timedelta(hours=1), seed=1, group="trail-a")
        b = load(fake, 900, T0, T0 + timedelta(hours=1), seed=2, group="trail-b")
        arn = "arn:aws:logs:us-east-1:123456789012:log-group:trail-b:*"
        df = s3audit.pull_events(["trail-a", arn], T0, T0 + timedelta(hours=1), **pull_kwargs(fake))
        want = truth_ids(a, T0, T0 + timedelta(hours=1)) | truth_ids(b, T0, T0 + timedelta(hours=1))
        assert set(_ids(df)) == want and df["eventID"].is_unique
        assert all("logGroupIdentifiers" in s for s in fake.started)
        assert all(not g.endswith("*") for s in fake.started for g in s["logGroupIdentifiers"])


def test_cut_messages_are_fetched_with_get_log_record() -> None:
    with fake_service(truncate_messages_at=300) as fake:
        msgs = load(fake, 80, T0, T0 + timedelta(hours=1), seed=3)
        df = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), **pull_kwargs(fake))
        truth = truth_ids(msgs, T0, T0 + timedelta(hours=1))
        assert set(_ids(df)) == truth
        assert df["raw"].map(lambda r: json.loads(r)["eventID"]).tolist() == _ids(df)  # raw is the full record
        assert fake.calls["GetLogRecord"] >= len(truth)
        assert df.attrs["coverage"]["get_log_record"] >= len(truth)


def test_cut_message_ending_with_a_brace_gets_a_second_chance() -> None:
    """A cut that happens to end in '}' passes the cheap check; the loader's skip list catches it."""
    from s3audit.testing import synthetic_trail

    ts, gen = synthetic_trail(200, T0, T0 + timedelta(hours=1), seed=3)
    cut = gen[0].index("}") + 1  # the '}' closing userIdentity
    keep = [i for i in range(len(gen)) if gen[i].index("}") + 1 == cut]
    msgs = [gen[i] for i in keep]
    with fake_service(truncate_messages_at=cut) as fake:
        fake.put_events(GROUP, ts[keep], msgs)
        df = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), **pull_kwargs(fake))
        want = {json.loads(m)["eventID"] for m in msgs if json.loads(m)["eventTime"] < "2026-10-01T01:00:00Z"}
        assert set(_ids(df)) == want and len(want) > 20
        assert fake.calls["GetLogRecord"] >= len(msgs)


# ------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("kwargs", "fake_kw", "error", "text"),
    [
        ({"where": "eventName = "}, {}, MalformedQuery, "rejected the query"),
        ({"where": "parse @message"}, {}, MalformedQuery, "query"),
        ({"limit": LIMIT + 1}, {}, InvalidParameter, "limit"),
        ({}, {"denied_actions": ["StartQuery"]}, AccessDenied, "logs:StartQuery"),
    ],
)
def test_requests_that_cannot_succeed_fail_fast_with_typed_errors(kwargs, fake_kw, error, text) -> None:
    with fake_service(**fake_kw) as fake:
        load(fake, 100, T0, T0 + timedelta(hours=1))
        t = time.monotonic()
        with pytest.raises(error, match=text) as info:
            s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), **pull_kwargs(fake, **kwargs))
        assert time.monotonic() - t < 10
        assert fake.calls["StartQuery"] == 1  # no retry of a hopeless request
        assert info.value.code
        if error is MalformedQuery:
            assert info.value.details["queryCompileError"]["message"]


def test_unknown_log_group_names_the_missing_group() -> None:
    with fake_service() as fake:
        load(fake, 10, T0, T0 + timedelta(hours=1))
        with pytest.raises(LogGroupNotFound) as info:
            s3audit.pull_events([GROUP, "no-such-group"], T0, T0 + timedelta(hours=1), **pull_kwargs(fake))
        assert info.value.missing == ["no-such-group"]
        assert "no-such-group" in str(info.value)


# ---------------------------------------------------------------------------------- statuses
def test_scheduled_and_running_with_partial_rows_are_waited_out() -> None:
    with fake_service(scheduled_polls=2, running_polls=3) as fake:
        msgs = load(fake, 1_200, T0, T0 + timedelta(hours=2), seed=5)
        df = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=2), **pull_kwargs(fake))
        assert set(_ids(df)) == truth_ids(msgs, T0, T0 + timedelta(hours=2))
        # every query was polled through Scheduled x2 and Running x3 (partial rows ignored)
        assert fake.calls["GetQueryResults"] >= 6 * fake.calls["StartQuery"]


def test_failed_cancelled_unknown_are_rerun() -> None:
    faults = Faults(outcomes=["Complete", "Failed", "Cancelled", "Unknown"])  # plan, then the data slice x3
    with fake_service(faults=faults) as fake:
        msgs = load(fake, 300, T0, T0 + timedelta(hours=1), seed=6)
        df = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), **pull_kwargs(fake))
        assert set(_ids(df)) == truth_ids(msgs, T0, T0 + timedelta(hours=1))
        cov = df.attrs["coverage"]
        assert cov["reruns"] == 3 and cov["complete"]


class _ExpiresMidPaging:
    """A logs client whose second paging call (after a full page was handed on) fails as an expired
    token: the slice's streamed rows must leave no trace when the slice is re-run."""

    def __init__(self, client) -> None:
        self._client = client
        self.meta = client.meta
        self.paging_calls = 0
        self.data_queries: set[str] = set()

    def __getattr__(self, name):
        return getattr(self._client, name)

    def start_query(self, **params):
        out = self._client.start_query(**params)
        if "@message" in params["queryString"]:
            self.data_queries.add(out["queryId"])
        return out

    def get_query_results(self, **params):
        if "nextToken" in params and params["queryId"] in self.data_queries:
            self.paging_calls += 1
            if self.paging_calls == 2:
                from botocore.exceptions import ClientError

                raise ClientError({"Error": {"Code": "InvalidParameterException",
                                             "Message": "The specified nextToken is expired"}}, "GetQueryResults")
        return self._client.get_query_results(**params)


def test_rows_streamed_before_a_paging_failure_leave_no_trace() -> None:
    with fake_service() as fake:
        msgs = load(fake, 2_000, T0, T0 + timedelta(hours=2), seed=12)
        client = _ExpiresMidPaging(fake.client())
        df = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=2), **pull_kwargs(fake, client=client))
        ids = _ids(df)
        assert len(ids) == len(set(ids)) and set(ids) == truth_ids(msgs, T0, T0 + timedelta(hours=2))
        cov = df.attrs["coverage"]
        assert client.paging_calls > 2 and cov["reruns"] == 1 and cov["complete"]
        assert cov["duplicate_ptr"] == 0 and df.attrs["filtered"]["duplicates"] == 0
        assert df.attrs["rows_read"] == cov["rows_retrieved"] - cov["duplicate_ptr"]


def test_a_slice_that_keeps_failing_is_reported() -> None:
    faults = Faults(outcomes=["Complete"] + ["Failed"] * 10)
    with fake_service(faults=faults) as fake:
        load(fake, 300, T0, T0 + timedelta(hours=1), seed=6)
        with pytest.raises(IncompleteResult) as info:
            s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), **pull_kwargs(fake, max_retries=2))
        cov = info.value.coverage
        assert [s["status"] for s in cov["slices"]] == ["failed"]
        assert cov["slices"][0]["attempts"] == 3
        assert "Failed" in cov["missing"][0]["reason"]
        assert len(info.value.frame) == 0


def test_without_a_plan_the_window_is_halved_until_nothing_saturates() -> None:
    faults = Faults(outcomes=["Failed"] * 4)  # the (single) planning query fails on every attempt
    with fake_service(faults=faults) as fake:
        msgs = load(fake, 3_000, T0, T0 + timedelta(hours=4), seed=14)
        df = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=4), **pull_kwargs(fake, plan_queries=1))
        assert set(_ids(df)) == truth_ids(msgs, T0, T0 + timedelta(hours=4)) and df["eventID"].is_unique
        cov = df.attrs["coverage"]
        assert cov["complete"] and [p["status"] for p in cov["planning"]] == ["Failed"] * 4
        _assert_tiling(fake, cov)


def test_planning_in_parallel_parts_tiles_the_window_and_plans_the_same_slices() -> None:
    with fake_service() as fake:
        end = T0 + timedelta(days=5)
        msgs = load(fake, 3_000, T0, end, seed=15, bursts=[(T0 + timedelta(hours=50), 900, 60)])
        one = s3audit.pull_events(GROUP, T0, end, **pull_kwargs(fake, plan_queries=1))
        n_one = fake.calls["StartQuery"]
        four = s3audit.pull_events(GROUP, T0, end, **pull_kwargs(fake, plan_queries=4))
        assert set(_ids(four)) == set(_ids(one)) == truth_ids(msgs, T0, end) and four["eventID"].is_unique
        c1, c4 = one.attrs["coverage"], four.attrs["coverage"]
        # the same slices (the same counts, only counted in four parts)
        assert [(s["start"], s["end"]) for s in c4["slices"]] == [(s["start"], s["end"]) for s in c1["slices"]]
        parts = [p for p in c4["planning"] if p["bin"] == c1["planning"][0]["bin"]][:4]
        assert len(parts) == 4 and parts[0]["start"] == c1["queried"]["start"] and parts[-1]["end"] == c1["queried"]["end"]
        assert all(x["end"] == y["start"] for x, y in zip(parts, parts[1:]))  # no gap, no overlap
        assert sum(p["records_matched"] for p in parts) == c1["planning"][0]["records_matched"]
        assert c4["planning_queries"] == c1["planning_queries"] + 3
        assert fake.calls["StartQuery"] - n_one == c4["start_queries"]
        _assert_tiling(fake, c4)


def test_a_hopeless_request_is_sent_once_although_the_planning_is_split() -> None:
    with fake_service(denied_actions=["StartQuery"]) as fake:
        load(fake, 300, T0, T0 + timedelta(days=4), seed=18)
        with pytest.raises(AccessDenied):
            s3audit.pull_events(GROUP, T0, T0 + timedelta(days=4), **pull_kwargs(fake, plan_queries=4))
        assert fake.calls["StartQuery"] == 1


def test_a_short_window_is_planned_by_one_query() -> None:
    with fake_service() as fake:
        load(fake, 300, T0, T0 + timedelta(hours=20), seed=17)
        df = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=20), **pull_kwargs(fake, plan_queries=4))
        assert df.attrs["coverage"]["planning_queries"] == 1  # parts are at least a day


def test_a_planning_part_that_always_fails_is_sliced_without_counts_and_the_others_keep_theirs() -> None:
    with fake_service() as fake:
        end = T0 + timedelta(days=4)
        msgs = load(fake, 3_000, T0, end, seed=16)
        original, lock, second = fake._op_StartQuery, threading.Lock(), []

        def start_query(body):
            with lock:  # one StartQuery at a time: the outcome below is this query's
                if "stats" in body["queryString"] and (second or [None])[0] in (None, body["startTime"]):
                    if not second and len([q for q in fake.started if "stats" in q["queryString"]]) == 1:
                        second.append(body["startTime"])  # the second part to be started fails, always
                    if second and body["startTime"] == second[0]:
                        fake.faults.outcomes = ["Failed"]
                return original(body)

        fake._op_StartQuery = start_query
        df = s3audit.pull_events(GROUP, T0, end, **pull_kwargs(fake, plan_queries=4))
        assert set(_ids(df)) == truth_ids(msgs, T0, end) and df["eventID"].is_unique
        cov = df.attrs["coverage"]
        assert cov["complete"] and len(cov["planning"]) == 3 + 4  # three parts counted, one failed 4 times
        assert sorted(p["status"] for p in cov["planning"]) == ["Complete"] * 3 + ["Failed"] * 4
        _assert_tiling(fake, cov)
        (fa, fb), = {(p["start"], p["end"]) for p in cov["planning"] if p["status"] == "Failed"}
        inside = [s for s in cov["slices"] if fa <= s["start"] and s["end"] <= fb]
        outside = [s for s in cov["slices"] if s["end"] <= fa or s["start"] >= fb]
        assert inside and outside and len(inside) + len(outside) == len(cov["slices"])  # none straddles
        assert all(s["expected"] is None for s in inside)  # the failed part: no counts
        assert all(s["expected"] is not None for s in outside)  # the others: sliced by their counts
        assert sum(s["expected"] for s in outside) == sum(p["records_matched"] for p in cov["planning"]
                                                          if p["status"] == "Complete")


def test_timeout_splits_the_slice() -> None:
    faults = Faults(timeout_if_span_over=1800)
    with fake_service(faults=faults) as fake:
        msgs = load(fake, 800, T0, T0 + timedelta(hours=4), seed=7)
        df = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=4), **pull_kwargs(fake, plan_rows=10))
        assert set(_ids(df)) == truth_ids(msgs, T0, T0 + timedelta(hours=4))
        spans = [(s["endMs"] - s["startMs"]) / 1000 for s in fake.started if "sort" in s["queryString"]]
        assert max(spans) > 1800 and min(spans) <= 1800
        assert df.attrs["coverage"]["complete"]


def test_throttling_and_the_concurrency_quota_are_absorbed() -> None:
    faults = Faults(seed=3, throttle_rate=0.15, limit_exceeded_rate=0.2)
    with fake_service(faults=faults, max_concurrent=2) as fake:
        msgs = load(fake, 6_000, T0, T0 + timedelta(hours=6), seed=8)
        df = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=6), **pull_kwargs(fake, max_concurrency=6))
        assert set(_ids(df)) == truth_ids(msgs, T0, T0 + timedelta(hours=6)) and df["eventID"].is_unique
        cov = df.attrs["coverage"]
        assert cov["throttled"] > 0 and cov["limit_exceeded_waits"] > 0
        assert fake.max_running_seen <= 2


def test_concurrency_budget_is_respected() -> None:
    with fake_service(running_polls=4) as fake:
        load(fake, 8_000, T0, T0 + timedelta(hours=8), seed=9)
        s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=8), **pull_kwargs(fake, max_concurrency=3))
        assert 1 < fake.max_running_seen <= 3


# ------------------------------------------------------------------------ deadline and Ctrl-C
def test_deadline_stops_running_queries_and_reports_the_gap() -> None:
    with fake_service(faults=Faults(hang=True)) as fake:
        load(fake, 300, T0, T0 + timedelta(hours=1))
        t = time.monotonic()
        with pytest.raises(IncompleteResult) as info:
            s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), **pull_kwargs(fake, deadline=0.5))
        assert time.monotonic() - t < 10
        assert fake.stopped and fake.running_queries() == 0  # StopQuery on everything it started
        cov = info.value.coverage
        assert cov["stop_queries"] >= 1
        assert {s["status"] for s in cov["slices"]} == {"abandoned"}


def test_deadline_with_an_injected_clock() -> None:
    now = [0.0]

    def clock() -> float:
        return now[0]

    def sleep(s: float) -> None:
        now[0] += s  # time passes only when the client waits
        time.sleep(0.001)

    with fake_service(faults=Faults(hang=True)) as fake:
        load(fake, 300, T0, T0 + timedelta(hours=1))
        df = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1),
                                 **pull_kwargs(fake, deadline=timedelta(minutes=30), clock=clock, sleep=sleep,
                                               allow_partial=True, poll_interval=(60.0, 300.0)))
        assert df.attrs["coverage"]["complete"] is False
        assert 1800 <= now[0] < 1800 + 60
        assert fake.running_queries() == 0


def test_ctrl_c_stops_running_queries() -> None:
    with fake_service(faults=Faults(hang=True)) as fake:
        load(fake, 300, T0, T0 + timedelta(hours=1))
        done = threading.Event()

        def press_ctrl_c() -> None:
            # as a terminal does: a real SIGINT, once a query runs (not while the client is built)
            while not fake.running_queries() and not done.wait(0.02):
                pass
            if not done.is_set():
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

        presser = threading.Thread(target=press_ctrl_c, daemon=True)
        presser.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1),
                                    **pull_kwargs(fake, deadline=60, sleep=lambda s: time.sleep(0.01)))
        finally:
            done.set()
            presser.join()
        deadline = time.monotonic() + 5
        while fake.running_queries() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake.stopped and fake.running_queries() == 0


@pytest.mark.parametrize("call", ["pull_events", "count_events"])
def test_ctrl_c_while_a_query_is_being_started_stops_that_query(call) -> None:
    """The worst moment for Ctrl-C: the service has started the query but its id has not reached
    the client yet. The query must still be stopped, not left running on the account."""
    with fake_service(faults=Faults(hang=True)) as fake:
        load(fake, 300, T0, T0 + timedelta(hours=1))
        original = fake._op_StartQuery

        def start_query(body):
            out = original(body)
            if len(fake.started) == 1:  # the first query: Ctrl-C before its answer leaves
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
                time.sleep(0.3)
            return out

        fake._op_StartQuery = start_query
        kw = pull_kwargs(fake, deadline=60, sleep=lambda s: time.sleep(0.01))
        if call == "count_events":
            kw.pop("page_size")
            with pytest.raises(KeyboardInterrupt):
                s3audit.count_events(GROUP, T0, T0 + timedelta(hours=1), by=["eventName"], **kw)
        else:
            with pytest.raises(KeyboardInterrupt):
                s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), **kw)
        first = fake.started[0]["queryId"]
        assert first in fake.stopped and fake.running_queries() == 0


# ------------------------------------------------------------------------------------- cache
def test_cache_reuses_finished_slices(tmp_path) -> None:
    with fake_service() as fake:
        msgs = load(fake, 3_000, T0, T0 + timedelta(hours=8), seed=10)
        end = T0 + timedelta(hours=6)
        first = s3audit.pull_events(GROUP, T0, end, **pull_kwargs(fake, cache_dir=tmp_path))
        n_first = fake.calls["StartQuery"]
        assert n_first > 1
        second = s3audit.pull_events(GROUP, T0, end, **pull_kwargs(fake, cache_dir=tmp_path))
        assert fake.calls["StartQuery"] == n_first  # nothing re-queried
        assert _ids(second) == _ids(first) and set(_ids(second)) == truth_ids(msgs, T0, end)
        assert {s["status"] for s in second.attrs["coverage"]["slices"]} == {"cached"}
        # a longer window reuses the cached pieces and queries only what is new
        longer = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=7), **pull_kwargs(fake, cache_dir=tmp_path))
        assert set(_ids(longer)) == truth_ids(msgs, T0, T0 + timedelta(hours=7))
        statuses = [s["status"] for s in longer.attrs["coverage"]["slices"]]
        assert "cached" in statuses and "complete" in statuses


def test_recent_slices_are_not_cached(tmp_path) -> None:
    with fake_service() as fake:
        load(fake, 500, T0, T0 + timedelta(hours=1), seed=11)
        kw = pull_kwargs(fake, cache_dir=tmp_path, now=lambda: T0 + timedelta(hours=1, minutes=5))
        s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), **kw)
        n = fake.calls["StartQuery"]
        s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), **kw)
        assert fake.calls["StartQuery"] > n  # the window's tail may still grow: queried again


def test_progress_bar_and_ledger_frame(capsys) -> None:
    with fake_service() as fake:
        load(fake, 1_000, T0, T0 + timedelta(hours=2), seed=12)
        df = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=2), **pull_kwargs(fake, progress=True))
        err = capsys.readouterr().err
        assert "slice" in err and "events=" in err
        led = coverage_frame(df)
        assert {"start", "end", "status", "rows", "records_matched", "bytes_scanned"} <= set(led.columns)
        assert led["rows"].sum() == df.attrs["coverage"]["rows_retrieved"]
        assert (led["bytes_scanned"] > 0).all()
        assert str(led["start"].dtype).startswith("datetime64")


def test_the_frame_with_its_ledger_round_trips_through_parquet(tmp_path) -> None:
    with fake_service() as fake:
        load(fake, 300, T0, T0 + timedelta(hours=1), seed=13)
        df = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), **pull_kwargs(fake))
        df.to_parquet(tmp_path / "events.parquet")
        back = pd.read_parquet(tmp_path / "events.parquet")
        assert back.attrs["coverage"]["complete"] is True
        assert back.attrs["coverage"]["slices"][0]["start"] == df.attrs["coverage"]["slices"][0]["start"]
