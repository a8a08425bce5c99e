"""Every sample event gets the access source the generator recorded (data/samples/truth.csv.gz)."""
from __future__ import annotations

import pandas as pd
import pytest

from s3audit.paths import SAMPLES_DIR
from s3audit.sources import SOURCES, classify
from s3audit.tables import tabulate

OWN_VPC_ENDPOINTS = ["vpce-0c3f5a9e1b7d24680", "vpce-07e1d2c3b4a596870"]  # data/samples/README.md

pytestmark = pytest.mark.skipif(not (SAMPLES_DIR / "truth.csv.gz").exists(),
                                reason="data/samples not generated")


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    table = pd.read_csv(SAMPLES_DIR / "truth.csv.gz", dtype=str)
    return table[table["source"] != "-"]  # NetworkActivity copies and management events


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    from s3audit import load_events
    return load_events(SAMPLES_DIR / "events.jsonl.gz")


def compare(classified: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    merged = classified[["eventID", "source", "source_reason"]].astype({"source": str}).merge(
        truth, on="eventID", how="outer", suffixes=("", "_truth"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged["_merge"].value_counts()
    return merged[merged["source"] != merged["source_truth"]]


@pytest.mark.parametrize("options", [{"own_vpc_endpoints": OWN_VPC_ENDPOINTS}, {}],
                         ids=["own-endpoints", "defaults"])
def test_every_sample_event_gets_the_recorded_label(events, truth, options):
    wrong = compare(classify(events, **options), truth)
    assert wrong.empty, wrong.groupby(["source_truth", "source", "story"]).size().to_string()


def test_samples_cover_the_whole_vocabulary(truth):
    assert set(truth["source"]) == set(SOURCES)


def test_trail_files_and_insights_export_classify_the_same(truth):
    from s3audit import load_events
    trail = classify(load_events(SAMPLES_DIR / "trail"), own_vpc_endpoints=OWN_VPC_ENDPOINTS)
    assert compare(trail, truth).empty
    export = classify(load_events(SAMPLES_DIR / "insights-export.json"),
                      own_vpc_endpoints=OWN_VPC_ENDPOINTS)
    assert len(export) > 0
    merged = export[["eventID", "source"]].astype({"source": str}).merge(truth, on="eventID",
                                                                        suffixes=("", "_truth"))
    assert len(merged) == len(export)
    assert (merged["source"] == merged["source_truth"]).all()


def test_the_intrusion_stands_out(events, truth):
    out = classify(events, own_vpc_endpoints=OWN_VPC_ENDPOINTS)
    stories = out.merge(truth[["eventID", "story"]], on="eventID")
    intrusion = stories[stories["story"] == "intrusion"]
    assert len(intrusion) > 0
    # the story's events are labelled as the generator says, and the table shows the address
    table = tabulate(out)
    for source in intrusion["source"].astype(str).unique():
        top_ips = table.loc[source, "sourceIPAddress_top"]
        assert any(ip in top_ips for ip in intrusion["sourceIPAddress"].astype(str).unique())
