"""The bundled samples through the real loader (and classifier): all formats, same events."""
from __future__ import annotations

import json
from collections import Counter

import pytest
from _samples_support import read_jsonl

from s3audit import samples
from s3audit.paths import SAMPLES_DIR

loader = pytest.importorskip("s3audit.loader")


@pytest.fixture(scope="module")
def frames():
    return {
        "jsonl": loader.load_events(samples.sample_path("jsonl")),
        "trail": loader.load_events(samples.sample_path("trail")),
        "insights": loader.load_events(samples.sample_path("insights")),
    }


@pytest.fixture(scope="module")
def truth():
    return samples.read_truth()


def test_jsonl_and_trail_load_to_the_same_events(frames, truth):
    categories = Counter(r["eventCategory"] for r in read_jsonl(samples.sample_path("jsonl")))
    data_ids = {eid for eid, (src, _) in truth.items() if src != samples.NO_LABEL}
    for name in ("jsonl", "trail"):
        df = frames[name]
        assert set(df["eventID"].astype(str)) == data_ids, name
        assert df.attrs["skipped"] == []
        filtered = df.attrs["filtered"]
        assert filtered["network_activity"] == categories["NetworkActivity"] > 0
        assert filtered["management"] == categories["Management"] > 0
    a = frames["jsonl"].set_index("eventID").sort_index()
    b = frames["trail"].set_index("eventID").sort_index()
    assert [json.loads(x) for x in a["raw"]] == [json.loads(x) for x in b["raw"]]
    assert (a["eventTime"] == b["eventTime"]).all()


def test_insights_export_loads_to_its_subset(frames, truth):
    doc = json.loads((SAMPLES_DIR / samples.INSIGHTS_NAME).read_text())
    ids = {json.loads(row[1]["value"])["eventID"] for row in doc["results"]}
    data_ids = {eid for eid in ids if truth[eid][0] != samples.NO_LABEL}
    df = frames["insights"]
    assert set(df["eventID"].astype(str)) == data_ids
    jsonl = frames["jsonl"].set_index("eventID")
    ins = df.set_index("eventID")
    common = sorted(data_ids)
    assert (jsonl.loc[common, "eventTime"] == ins.loc[common, "eventTime"]).all()
    assert (jsonl.loc[common, "sourceIPAddress"].astype(str)
            == ins.loc[common, "sourceIPAddress"].astype(str)).all()


def test_loaded_frame_types(frames):
    df = frames["jsonl"]
    assert str(df["eventTime"].dt.tz) == "UTC"
    assert df["additionalEventData.bytesTransferredOut"].sum() > 1e10
    assert set(df["eventCategory"].astype(str)) == {"Data"}


def test_classifier_agrees_with_the_truth(frames, truth):
    """Integration check with s3audit.classify (its own tests own the rules)."""
    sources = pytest.importorskip("s3audit.sources")
    df = frames["jsonl"]
    for own in (samples.OWN_VPC_ENDPOINTS, None):
        got = sources.classify(df, own_vpc_endpoints=own)
        expected = got["eventID"].astype(str).map(lambda e: truth[e][0])
        mismatch = got[got["source"].astype(str) != expected]
        assert len(mismatch) == 0, mismatch[["eventID", "source", "source_reason"]].head()
