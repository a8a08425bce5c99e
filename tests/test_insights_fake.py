"""The fake Logs Insights service behaves like AWS where s3audit relies on it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from s3audit.insights.planner import Bin, choose_bin, pack, parse_bins
from s3audit.testing import FakeLogsInsights, Faults
from _insights_support import T0


def _run(c, qid, polls=5):
    for _ in range(polls):
        r = c.get_query_results(queryId=qid)
        if r["status"] == "Complete":
            return r
    raise AssertionError(r["status"])


@pytest.fixture()
def fake():
    with FakeLogsInsights(max_limit=1000, page_size=100) as f:
        base = int(T0.timestamp()) * 1000
        # events at T.000, T.500, T+1.000 and 250 more later
        f.put_events("g", [base, base + 500, base + 1000] + [base + 5000 + i for i in range(250)],
                     ['{"eventName":"A","n":%d}' % i for i in range(253)])
        yield f


def test_seconds_inclusive_ends_and_milliseconds_above_1e11(fake) -> None:
    c = fake.client()
    s = int(T0.timestamp())
    q = c.start_query(logGroupNames=["g"], startTime=s, endTime=s, queryString="fields @message")["queryId"]
    assert len(_run(c, q)["results"]) == 1  # T.000 only, not T.500
    q = c.start_query(logGroupNames=["g"], startTime=s, endTime=s + 1, queryString="fields @message")["queryId"]
    assert len(_run(c, q)["results"]) == 3  # T.000, T.500, T+1.000
    q = c.start_query(logGroupNames=["g"], startTime=s * 1000, endTime=s * 1000 + 600,
                      queryString="fields @message")["queryId"]  # awswrangler sends ms
    assert len(_run(c, q)["results"]) == 2


def test_limit_default_max_and_paging(fake) -> None:
    c = fake.client()
    s = int(T0.timestamp())
    with pytest.raises(ClientError, match="InvalidParameter"):
        c.start_query(logGroupNames=["g"], startTime=s, endTime=s + 999, queryString="fields @message", limit=1001)
    q = c.start_query(logGroupNames=["g"], startTime=s, endTime=s + 999, queryString="fields @message | sort @timestamp asc",
                      limit=200)["queryId"]
    r = _run(c, q)
    rows = r["results"]
    assert len(rows) == 100 and r["nextToken"] and r["statistics"]["recordsMatched"] == 253
    r2 = c.get_query_results(queryId=q, nextToken=r["nextToken"], maxItems=100)
    rows += r2["results"]
    assert len(rows) == 200 and "nextToken" not in r2  # stops at the limit, though 253 matched
    ptrs = [f["value"] for row in rows for f in row if f["field"] == "@ptr"]
    assert len(set(ptrs)) == 200


def test_statuses_partial_rows_concurrency_and_stop(fake) -> None:
    fake.max_concurrent = 1
    c = fake.client()
    s = int(T0.timestamp())
    q = c.start_query(logGroupNames=["g"], startTime=s, endTime=s + 999, queryString="fields @message")["queryId"]
    with pytest.raises(ClientError, match="LimitExceeded"):
        c.start_query(logGroupNames=["g"], startTime=s, endTime=s + 999, queryString="fields @message")
    assert c.get_query_results(queryId=q)["status"] == "Scheduled"
    running = c.get_query_results(queryId=q)
    assert running["status"] == "Running" and 0 < len(running["results"]) < 253
    assert c.stop_query(queryId=q)["success"]
    assert c.get_query_results(queryId=q)["status"] == "Cancelled"
    with pytest.raises(ClientError, match="InvalidParameter"):
        c.stop_query(queryId=q)  # already ended
    c.start_query(logGroupNames=["g"], startTime=s, endTime=s + 999, queryString="fields @message")


def test_stats_bins_filters_and_errors(fake) -> None:
    c = fake.client()
    s = int(T0.timestamp())
    q = c.start_query(logGroupNames=["g"], startTime=s, endTime=s + 999,
                      queryString="filter n >= 3 and eventName = 'A' | stats count(*) as n by bin(1s) as t")["queryId"]
    r = _run(c, q)
    bins = parse_bins([{f["field"]: f["value"] for f in row} for row in r["results"]], 1, s, s + 999)
    assert sum(b.count for b in bins) == 250 and r["statistics"]["recordsMatched"] == 250
    with pytest.raises(ClientError, match="MalformedQuery"):
        c.start_query(logGroupNames=["g"], startTime=s, endTime=s + 1, queryString="dedup @message")
    with pytest.raises(ClientError, match="ResourceNotFound"):
        c.start_query(logGroupNames=["nope"], startTime=s, endTime=s + 1, queryString="fields @message")
    rec = c.get_log_record(logRecordPointer=[f["value"] for f in r["results"][0]] and
                           _run(c, c.start_query(logGroupNames=["g"], startTime=s, endTime=s,
                                                 queryString="fields @message")["queryId"])["results"][0][-1]["value"])
    assert rec["logRecord"]["@message"] == '{"eventName":"A","n":0}'


def test_faults_are_injected() -> None:
    with FakeLogsInsights(faults=Faults(errors={"StartQuery": ["ThrottlingException"]}, outcomes=["Timeout"])) as f:
        f.put_events("g", [0], ["{}"])
        c = f.client()
        with pytest.raises(ClientError, match="Throttling"):
            c.start_query(logGroupNames=["g"], startTime=0, endTime=1, queryString="fields @message")
        q = c.start_query(logGroupNames=["g"], startTime=0, endTime=1, queryString="fields @message")["queryId"]
        statuses = [c.get_query_results(queryId=q)["status"] for _ in range(3)]
        assert statuses == ["Scheduled", "Running", "Timeout"]


def test_planner_packs_bins_without_gaps() -> None:
    assert choose_bin(30 * 86400, 5000) == (600, "10m")
    bins = [Bin(0, 10, 40), Bin(10, 20, 40), Bin(30, 40, 300), Bin(50, 60, 10)]
    slices = pack(bins, 0, 100, 100)
    assert slices[0][0] == 0 and slices[-1][1] == 100
    assert all(a[1] == b[0] for a, b in zip(slices, slices[1:]))
    assert [s[2] for s in slices] == [80, 300, 10]


def test_where_clause_and_log_group_checks() -> None:
    from s3audit.insights.session import check_where, normalize_log_groups

    assert check_where(None) is None and check_where("  ") is None
    assert check_where('filter eventName = "GetObject"') == 'eventName = "GetObject"'
    assert check_where("userAgent like /aws-cli|Boto3/") == "userAgent like /aws-cli|Boto3/"
    assert check_where('key = "a|b"') == 'key = "a|b"'
    with pytest.raises(ValueError, match=r"\|"):
        check_where('eventName = "x" | stats count(*)')
    with pytest.raises(ValueError, match="unterminated"):
        check_where('eventName = "x')
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:trail:*"
    assert normalize_log_groups([arn, "a", "a"]) == [arn[:-2], "a"]
    with pytest.raises(ValueError):
        normalize_log_groups([])


def test_timestamps_in_both_formats() -> None:
    from s3audit.insights.planner import ms_array
    from s3audit.insights.timeutil import parse_timestamp_ms

    assert parse_timestamp_ms("2026-10-01 00:00:01.250") == int(T0.timestamp()) * 1000 + 1250
    assert parse_timestamp_ms("1790812801250") == 1790812801250  # moto's epoch-ms text
    assert ms_array(["2026-10-01 00:00:01.250", "2026-10-01 00:00:02.000"]).tolist() == [
        int(T0.timestamp()) * 1000 + 1250, int(T0.timestamp()) * 1000 + 2000]


def test_prerender_serves_the_same_pages() -> None:
    import json
    from datetime import datetime, timedelta, timezone

    from s3audit.testing import FakeLogsInsights, synthetic_trail

    t0 = datetime(2026, 9, 1, tzinfo=timezone.utc)
    ts, msgs = synthetic_trail(1_500, t0, t0 + timedelta(hours=6), seed=2)
    fake = FakeLogsInsights(mode="polls", scheduled_polls=0, running_polls=0)
    fake.put_events("g", ts[:700], msgs[:700])
    fake.put_events("g", ts[700:], list(msgs[700:]))  # a plain list too (no render_many)
    body = {"logGroupName": "g", "startTime": int(t0.timestamp()) - 3600, "endTime": int(t0.timestamp()) + 86400,
            "queryString": "fields @timestamp, @message | sort @timestamp desc", "limit": 2_000}
    qid = fake.handle("StartQuery", body)["queryId"]
    before = [fake.handle("GetQueryResults", {"queryId": qid, "maxItems": 1_000})["results"]]
    fake.prerender("g")
    after = [fake.handle("GetQueryResults", {"queryId": qid, "maxItems": 1_000})["results"]]
    plain = [json.loads(str(r)) for r in before]
    assert plain == [json.loads(str(r)) for r in after]
    assert len(plain[0]) == 1_000 and plain[0][0][1]["field"] == "@message"
    assert json.loads(plain[0][0][1]["value"])["eventID"]
    fake.put_events("g", ts[:1], msgs[:1])  # new events: the prerender no longer covers the group
    assert fake._groups[0].escaped is None and fake._groups[0].page_rows is None


def test_prerendered_ascending_pages_are_slices_identical_to_rendered_ones() -> None:
    import json
    from datetime import datetime, timedelta, timezone

    from s3audit.testing import FakeLogsInsights, synthetic_trail

    t0 = datetime(2026, 9, 1, tzinfo=timezone.utc)
    ts, msgs = synthetic_trail(1_500, t0, t0 + timedelta(hours=6), seed=3)
    body = {"logGroupName": "g", "startTime": int(t0.timestamp()) - 3600, "endTime": int(t0.timestamp()) + 86400,
            "queryString": "fields @timestamp, @message | sort @timestamp asc", "limit": 2_000}
    pages = {}
    for prerender in (False, True):
        fake = FakeLogsInsights(mode="polls", scheduled_polls=0, running_polls=0)
        fake.put_events("g", ts, msgs)
        if prerender:
            fake.prerender("g")
        qid = fake.handle("StartQuery", body)["queryId"]
        token, got = None, []
        while True:
            page = fake.handle("GetQueryResults", {"queryId": qid, "maxItems": 1_000, **({"nextToken": token} if token else {})})
            assert page["results"].bracket is prerender  # a zero-copy slice only with the prerender
            got.append(json.loads(str(page["results"])))
            token = page.get("nextToken")
            if not token:
                break
        pages[prerender] = got
    assert pages[True] == pages[False]
    assert [len(p) for p in pages[True]] == [1_000, 500]
    stamps = [row[0]["value"] for p in pages[True] for row in p]
    assert stamps == sorted(stamps) and pages[True][0][0][2]["field"] == "@ptr"
