"""count_events: server-side counts, eventTime selection, group counts above the row cap."""
from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pandas as pd
import pytest

import s3audit
from s3audit.insights import IncompleteResult
from s3audit.insights.counts import quote_field
from s3audit.testing import Faults
from _insights_support import GROUP, T0, fake_service, load, pull_kwargs


def _truth(msgs, start, end, fields):
    lo, hi = start.strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ")
    out: Counter = Counter()
    for m in msgs:
        rec = json.loads(m)
        if lo <= rec["eventTime"] < hi:
            flat = {"eventName": rec["eventName"], "sourceIPAddress": rec["sourceIPAddress"],
                    "requestParameters.bucketName": rec["requestParameters"]["bucketName"]}
            out[tuple(flat[f] for f in fields)] += 1
    return out


def _as_counter(df, fields):
    return Counter({tuple(r[f] for f in fields): int(r["count"]) for _, r in df.iterrows()})


def test_counts_match_the_events_of_the_window() -> None:
    start, end = T0 + timedelta(hours=1), T0 + timedelta(hours=3)
    with fake_service() as fake:
        msgs = load(fake, 1_500, T0, T0 + timedelta(hours=4), seed=1)
        kw = pull_kwargs(fake)
        kw.pop("page_size")
        df = s3audit.count_events(GROUP, start, end, by=["eventName", "requestParameters.bucketName"], **kw,
                                  page_size=100)
        fields = ["eventName", "requestParameters.bucketName"]
        assert _as_counter(df, fields) == _truth(msgs, start, end, fields)
        assert df["count"].is_monotonic_decreasing
        assert df.attrs["bytes_scanned"] > 0 and df.attrs["coverage"]["complete"]
        # the server selected by eventTime: same total as a pull of the window
        pulled = s3audit.pull_events(GROUP, start, end, **pull_kwargs(fake))
        assert int(df["count"].sum()) == len(pulled)


def test_more_groups_than_the_row_cap_are_split_in_time_and_summed() -> None:
    with fake_service(max_limit=60, page_size=20) as fake:
        msgs = load(fake, 1_200, T0, T0 + timedelta(hours=2), seed=2)  # ~1,200 distinct IPs
        kw = pull_kwargs(fake, limit=60, page_size=20)
        df = s3audit.count_events(GROUP, T0, T0 + timedelta(hours=2), by="sourceIPAddress", **kw)
        truth = _truth(msgs, T0, T0 + timedelta(hours=2), ["sourceIPAddress"])
        assert len(truth) > 60
        assert _as_counter(df, ["sourceIPAddress"]) == truth
        statuses = Counter(s["status"] for s in df.attrs["coverage"]["slices"])
        assert statuses["split"] > 0 and statuses["complete"] > 0
        # halves are disjoint on the server: every query but the last bounds toMillis(@timestamp)
        assert sum("toMillis(@timestamp) <" in s["queryString"] for s in fake.started) >= statuses["complete"] - 1


def test_missing_group_field_is_na_and_special_names_are_quoted() -> None:
    assert quote_field("userIdentity.arn") == "userIdentity.arn"
    assert quote_field("additionalEventData.x-amz-id-2") == "`additionalEventData.x-amz-id-2`"
    with fake_service() as fake:
        load(fake, 200, T0, T0 + timedelta(hours=1), seed=3)
        df = s3audit.count_events(GROUP, T0, T0 + timedelta(hours=1), by=["errorCode"], **pull_kwargs(fake))
        assert len(df) == 1 and pd.isna(df["errorCode"][0]) and df["count"][0] > 0


def test_counts_report_what_they_could_not_count() -> None:
    with fake_service(faults=Faults(outcomes=["Failed"] * 4)) as fake:
        load(fake, 200, T0, T0 + timedelta(hours=1), seed=3)
        with pytest.raises(IncompleteResult) as info:
            s3audit.count_events(GROUP, T0, T0 + timedelta(hours=1), **pull_kwargs(fake, max_retries=1))
        assert info.value.coverage["missing"]
        df = s3audit.count_events(GROUP, T0, T0 + timedelta(hours=1), **pull_kwargs(fake, allow_partial=True, max_retries=1))
        assert df.attrs["coverage"]["complete"] is False


def test_counts_reject_naive_datetimes() -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="naive"):
        s3audit.count_events(GROUP, datetime(2026, 1, 1), T0, client=object())
