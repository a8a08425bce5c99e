"""The per-source table from server-side counts (count_events against the loopback fake)."""
from __future__ import annotations

import gzip
import json
import time
from datetime import timedelta

import pandas as pd
import pytest

import s3audit
from s3audit.paths import SAMPLES_DIR
from s3audit.tables import CLASSIFY_FIELDS, source_table_from_logs, tabulate, tabulate_counts

SAMPLES = SAMPLES_DIR / "events.jsonl.gz"
OWN = ["vpce-0c3f5a9e1b7d24680", "vpce-07e1d2c3b4a596870"]
GROUP = "aws-cloudtrail-logs"

pytestmark = pytest.mark.skipif(not SAMPLES.exists(), reason="data/samples not generated")


def test_tabulate_counts_from_count_events_matches_the_events():
    testing = pytest.importorskip("s3audit.testing")
    lines = [line for line in gzip.decompress(SAMPLES.read_bytes()).decode().splitlines() if line]
    records = [json.loads(line) for line in lines]
    times = pd.to_datetime([r["eventTime"] for r in records], utc=True)
    # CloudWatch Logs timestamps are the delivery time, a few minutes after eventTime
    stamps = (times.as_unit("ms").asi8 + 180_000).tolist()
    start, end = times.min().floor("D").to_pydatetime(), (times.max().ceil("D")).to_pydatetime()
    with testing.FakeLogsInsights(max_limit=100_000, page_size=10_000) as fake:
        fake.put_events(GROUP, stamps, lines)
        counts = s3audit.count_events(
            GROUP, start, end, by=list(CLASSIFY_FIELDS), client=fake.client(), progress=False,
            sleep=lambda s: time.sleep(min(s, 0.002)), deadline=120, padding=timedelta(minutes=15),
            where='eventCategory = "Data"')
        one_call = source_table_from_logs(
            GROUP, start.isoformat(), end.isoformat(), client=fake.client(), progress=False,
            sleep=lambda s: time.sleep(min(s, 0.002)), deadline=120,
            classify_options={"own_vpc_endpoints": OWN})
    assert counts.attrs["coverage"]["complete"]
    events = s3audit.load_events(SAMPLES)
    assert int(counts["count"].sum()) == len(events)
    from_counts = tabulate_counts(counts, classify_options={"own_vpc_endpoints": OWN})
    direct = tabulate(events, classify_options={"own_vpc_endpoints": OWN})
    assert from_counts.attrs["missing_fields"] == []
    assert from_counts["events"].astype(int).tolist() == direct["events"].tolist()
    assert list(from_counts.index) == list(direct.index)
    for col in ("vpcEndpointId_top", "sourceIPAddress_top", "ua_family_top",
                "vpcEndpointId_distinct", "sourceIPAddress_distinct", "principal_distinct"):
        assert from_counts[col].tolist() == direct[col].tolist(), col
    assert one_call["events"].tolist() == from_counts["events"].tolist()
    assert one_call.attrs["counts"]["events"] == len(events)
