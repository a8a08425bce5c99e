"""load_events on real records (shared/realworld) and on the bundled samples (three formats)."""
from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from s3audit.loader import LoadError, load_events
from s3audit.paths import PROJECT_ROOT, SAMPLES_DIR
from s3audit.schema import EVENT_COLUMNS

REALWORLD = PROJECT_ROOT.parent / "shared" / "realworld"
JSONL_FILES = sorted(REALWORLD.glob("*/*.jsonl"))
needs_realworld = pytest.mark.skipif(not JSONL_FILES, reason="shared/realworld not present")


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@needs_realworld
@pytest.mark.parametrize("path", JSONL_FILES, ids=lambda p: p.parent.name + "/" + p.name)
def test_every_realworld_jsonl_file_loads_completely(path: Path) -> None:
    recs = _records(path)
    df = load_events(path, keep="all")
    assert df.attrs["skipped_total"] == 0
    assert len(df) == len(recs)  # nothing lost, nothing invented
    assert df["raw"].tolist() == path.read_text().splitlines()
    assert df["eventID"].tolist() == [r["eventID"] for r in recs]
    assert df["eventName"].astype("string").tolist() == [r["eventName"] for r in recs]
    assert df["eventTime"].notna().all()
    for name in EVENT_COLUMNS:
        assert name in df.columns
    # the typed columns match the records
    for rec, (_, row) in zip(recs, df.iterrows()):
        out = (rec.get("additionalEventData") or {}).get("bytesTransferredOut")
        got = row["additionalEventData.bytesTransferredOut"]
        assert (pd.isna(got) and out is None) or float(out) == got
        assert (pd.isna(row["readOnly"]) and "readOnly" not in rec) or row["readOnly"] == rec["readOnly"]


@needs_realworld
def test_ibm_samples_default_filters() -> None:
    path = REALWORLD / "ibm-universal-connectors-s3" / "s3_cloudtrail_samples.jsonl"
    recs = _records(path)
    df = load_events(path)
    # SOURCE.md: 53 data events (1.07) and 16 management events (1.05, without managementEvent)
    assert df.attrs["filtered"]["management"] == 16
    unique_data_ids = {r["eventID"] for r in recs if r.get("eventCategory") == "Data"}
    assert set(df["eventID"]) == unique_data_ids
    assert df.attrs["filtered"]["duplicates"] == 53 - len(unique_data_ids)
    assert df["eventID"].is_unique
    # old records spell the host header in lower case, as a list
    assert "requestParameters.host.0" in load_events(path, keep="all").columns


@needs_realworld
def test_otrf_logstash_copies_use_timestamp() -> None:
    path = REALWORLD / "otrf-security-datasets" / "ec2_proxy_s3_exfiltration_s3_records.jsonl"
    recs = _records(path)
    df = load_events(path, keep="all")
    assert df.attrs["time_from_timestamp"] == len(recs) == 11
    expected = pd.to_datetime([r["@timestamp"] for r in recs], utc=True)
    assert df["eventTime"].tolist() == list(expected)
    assert df["additionalEventData.bytesTransferredOut"].dtype == "Float64"
    assert df["userIdentity.sessionContext.ec2RoleDelivery"].astype("string").unique().tolist() == ["1.0"]
    default = load_events(path)
    assert default.attrs["filtered"]["management"] == 2  # the two ListBuckets
    assert len(default) == 9


@needs_realworld
def test_honey_bucket_csv_is_refused_clearly() -> None:
    path = REALWORLD / "otrf-security-datasets" / "AWS_S3_HoneyBucketLogs.csv"
    with pytest.raises(LoadError, match="not CloudTrail JSON") as info:
        load_events(path)
    assert info.value.source == str(path)
    # and a directory load does not pick it up
    df = load_events(path.parent, keep="all")
    assert str(path) in df.attrs["ignored_files"]
    assert len(df) == 11


# ------------------------------------------------------------------ data/samples

EVENTS = SAMPLES_DIR / "events.jsonl.gz"
TRAIL = SAMPLES_DIR / "trail"
EXPORT = SAMPLES_DIR / "insights-export.json"
TRUTH = SAMPLES_DIR / "truth.csv.gz"
needs_samples = pytest.mark.skipif(not (EVENTS.exists() and TRAIL.exists() and EXPORT.exists()),
                                   reason="data/samples not generated yet")


@pytest.fixture(scope="module")
def sample_frames() -> dict[str, pd.DataFrame]:
    return {"events": load_events(EVENTS, keep="all"), "trail": load_events(TRAIL, keep="all")}


@needs_samples
def test_samples_load_without_skips_and_match_truth(sample_frames) -> None:
    df = sample_frames["events"]
    assert df.attrs["skipped_total"] == 0
    with gzip.open(EVENTS, "rt") as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    assert df["raw"].tolist() == lines
    if TRUTH.exists():
        with gzip.open(TRUTH, "rt") as f:
            truth = {row["eventID"]: row["source"] for row in csv.DictReader(f)}
        assert set(df["eventID"]) == set(truth)
        data = load_events(EVENTS)  # default filters leave the data events
        assert set(data["eventID"]) == {k for k, v in truth.items() if v != "-"}


@needs_samples
def test_samples_three_formats_give_the_same_events(sample_frames) -> None:
    lines_df = sample_frames["events"].sort_values("eventID").reset_index(drop=True)
    trail_df = sample_frames["trail"].sort_values("eventID").reset_index(drop=True)
    assert trail_df.attrs["skipped_total"] == 0
    assert lines_df["eventID"].tolist() == trail_df["eventID"].tolist()
    assert list(lines_df.columns) == list(trail_df.columns)
    # same values and dtypes; raw differs only in being a slice of the trail file vs the line
    pd.testing.assert_frame_equal(lines_df.drop(columns="raw"), trail_df.drop(columns="raw"),
                                  check_categorical=False)
    assert [json.loads(t) for t in trail_df["raw"]] == [json.loads(t) for t in lines_df["raw"]]

    export = load_events(EXPORT, keep="all")
    assert export.attrs["skipped_total"] == 0 and len(export) > 0
    ids = set(export["eventID"])
    subset = lines_df[lines_df["eventID"].isin(ids)].sort_values("eventID").reset_index(drop=True)
    export = export.sort_values("eventID").reset_index(drop=True)
    assert export["eventID"].tolist() == subset["eventID"].tolist()
    assert export["raw"].tolist() == subset["raw"].tolist()  # @message is the line CloudWatch Logs holds
    for name in EVENT_COLUMNS:
        left, right = export[name], subset[name]
        assert left.dtype == right.dtype or (isinstance(left.dtype, pd.CategoricalDtype)
                                             and isinstance(right.dtype, pd.CategoricalDtype)), name
        assert left.astype(object).where(left.notna(), None).tolist() == \
            right.astype(object).where(right.notna(), None).tolist(), name


@needs_samples
def test_samples_directory_dedupes_across_formats() -> None:
    df = load_events(SAMPLES_DIR)
    once = load_events(EVENTS)
    assert sorted(df["eventID"]) == sorted(once["eventID"])
    assert df.attrs["filtered"]["duplicates"] > 0
