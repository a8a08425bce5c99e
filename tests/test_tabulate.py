"""Per-source tables, crosstabs, baselines, counts and charts."""
from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

matplotlib.use("Agg")

from s3audit import charts  # noqa: E402
from s3audit.sources import classify  # noqa: E402
from s3audit.tables import (CLASSIFY_FIELDS, Baseline, compare_with_baseline,  # noqa: E402
                              coverage, crosstab, fetch_summary, fingerprint_table, load_baseline,
                              make_baseline, new_since_baseline, save_baseline,
                              source_by_endpoint, source_by_ua_family, split_window, tabulate,
                              tabulate_counts, top_values)
from tests._sources_support import RECIPIENT, event, frame, role  # noqa: E402

CONSOLE_UA = "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10]"


def build_events() -> pd.DataFrame:
    records = []
    n = 0
    # 5 console calls from two browser IPs through the AWS-owned endpoint, one denied
    for i in range(5):
        n += 1
        extra = {"errorCode": "AccessDenied"} if i == 0 else {}
        records.append(event(n, userAgent=CONSOLE_UA, vpcEndpointId="vpce-f40dc59d",
                             sourceIPAddress="89.138.37.139" if i < 3 else "89.138.37.140",
                             eventTime=f"2026-11-02T10:0{i}:00Z",
                             **{"additionalEventData.bytesTransferredOut": 1000}, **extra))
    # 3 EC2 calls over the internet from one EC2 address
    ident = role("i-0abc", "web")
    ident["sessionContext"]["ec2RoleDelivery"] = "2.0"
    for i in range(3):
        n += 1
        records.append(event(n, userIdentity=ident, sourceIPAddress="3.112.5.6",
                             userAgent="[Boto3/1.40.4 md/Botocore#1.40.4]",
                             eventTime=f"2026-11-02T11:0{i}:00Z",
                             **{"additionalEventData.bytesTransferredOut": 5_000_000}))
    # 2 laptop calls
    for i in range(2):
        n += 1
        records.append(event(n, eventTime=f"2026-11-03T09:0{i}:00Z"))
    return classify(frame(records))


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return build_events()


def test_tabulate_per_source(events):
    table = tabulate(events)
    assert list(table.index) == ["console", "ec2", "external"]  # vocabulary order
    assert table["events"].tolist() == [5, 3, 2]
    assert table["errors"].tolist() == [1, 0, 0]
    assert table.loc["ec2", "bytes_out"] == 15_000_000
    assert table.loc["console", "bytes_out"] == 5000
    assert table["share"].sum() == pytest.approx(1.0)
    assert table.loc["console", "vpcEndpointId_top"] == "vpce-f40dc59d ×5"
    assert table.loc["console", "sourceIPAddress_distinct"] == 2
    assert table.loc["console", "sourceIPAddress_top"] == "89.138.37.139 ×3; 89.138.37.140 ×2"
    assert table.loc["ec2", "sourceIPAddress_top"] == "3.112.5.6 (EC2 ap-northeast-1) ×3"
    assert table.loc["ec2", "vpcEndpointId_top"] == "(none) ×3"
    assert table.loc["ec2", "vpcEndpointId_distinct"] == 0
    assert table.loc["ec2", "ua_family_top"] == "Boto3 ×3"
    assert table.loc["ec2", "principal_top"] == \
        f"arn:aws:sts::{RECIPIENT}:assumed-role/web/i-0abc ×3"
    assert table.loc["external", "principal_top"] == f"arn:aws:iam::{RECIPIENT}:user/dev ×2"


def test_tabulate_classifies_when_needed_and_by_other_columns(events):
    raw = events.drop(columns=["source", "source_reason", "ua_family", "ip_service",
                               "ip_region", "ip_prefix", "cross_account",
                               "credentials_off_instance"])
    assert tabulate(raw)["events"].tolist() == [5, 3, 2]
    by_ua = tabulate(events, by="ua_family", dimensions=["sourceIPAddress"])
    assert by_ua.index[0] == "S3 console" and by_ua["events"].iloc[0] == 5


def test_top_values_tidy(events):
    tops = top_values(events, "sourceIPAddress", n=1)
    console = tops[tops["source"] == "console"].iloc[0]
    assert (console["value"], console["events"]) == ("89.138.37.139", 3)
    assert console["share"] == pytest.approx(0.6)
    ec2 = tops[tops["source"] == "ec2"].iloc[0]
    assert (ec2["ip_service"], ec2["ip_region"]) == ("AMAZON,EC2", "ap-northeast-1")


def test_crosstabs(events):
    by_endpoint = source_by_endpoint(events)
    assert by_endpoint.loc["console", "vpce-f40dc59d"] == 5
    assert by_endpoint.loc["ec2", "(none)"] == 3
    assert by_endpoint.to_numpy().sum() == len(events)
    by_ua = source_by_ua_family(events)
    assert by_ua.loc["console", "S3 console"] == 5 and by_ua.loc["external", "aws-cli"] == 2
    limited = crosstab(events, "source", "sourceIPAddress", top=1)
    # 3.112.5.6 and 89.138.37.139 both have 3 events: ties go to the smaller value
    assert set(limited.columns) == {"3.112.5.6", "(other)"}
    assert limited.loc["console", "(other)"] == 5
    assert limited.to_numpy().sum() == len(events)


def test_weighted_counts_give_the_same_table(events):
    # server-side counts: one row per distinct combination of the classify fields + a count
    cols = [c for c in CLASSIFY_FIELDS if c in events.columns]
    raw = events[cols + ["additionalEventData.bytesTransferredOut"]].astype(object)
    counts = (raw.fillna("<na>").groupby(cols + ["additionalEventData.bytesTransferredOut"])
              .size().rename("count").reset_index().replace("<na>", None))
    assert len(counts) < len(events)
    table = tabulate_counts(counts)
    direct = tabulate(events)
    assert table["events"].tolist() == direct["events"].tolist()
    assert table["bytes_out"].tolist() == direct["bytes_out"].tolist()
    assert table.loc["console", "sourceIPAddress_top"] == direct.loc["console", "sourceIPAddress_top"]
    assert table.attrs["missing_fields"] == [f for f in CLASSIFY_FIELDS if f not in cols]
    with pytest.raises(KeyError):
        tabulate_counts(counts.drop(columns="count"))


def test_baseline_round_trip_and_new_values(events, tmp_path):
    old = events[events["source"] != "ec2"]
    path = save_baseline(old, tmp_path / "baseline.json")
    doc = json.loads(path.read_text())
    assert doc["format"] == "s3audit-baseline/1" and doc["events"] == len(old)
    baseline = load_baseline(path)
    assert isinstance(baseline, Baseline)
    assert baseline.sources == {"console", "external"}
    assert baseline.vpc_endpoints == {"vpce-f40dc59d"}
    new = new_since_baseline(events, path)
    assert new[["kind", "value", "events"]].values.tolist() == [
        ["source", "ec2", 3],
        ["addresses", "3.112.5.6", 3],
        ["principals", f"arn:aws:sts::{RECIPIENT}:assumed-role/web/*", 3],
    ]
    assert (new["sources"] == "ec2").all()
    assert new["first_seen"].iloc[0] == pd.Timestamp("2026-11-02T11:00:00Z")
    assert new["last_seen"].iloc[0] == pd.Timestamp("2026-11-02T11:02:00Z")
    assert new_since_baseline(events, make_baseline(events)).empty
    # a new session of a known role is not a new principal
    later = events.copy()
    later["userIdentity.arn"] = later["userIdentity.arn"].astype(str).str.replace(
        "/i-0abc", "/i-0def")
    assert new_since_baseline(later, make_baseline(events)).empty
    with pytest.raises(ValueError):
        Baseline.from_json({"format": "other"})


def test_compare_with_baseline_creates_then_compares(events, tmp_path):
    path = tmp_path / "b.json"
    first = compare_with_baseline(events[events["source"] == "console"], path)
    assert first.empty and first.attrs["baseline"] == "created" and path.exists()
    second = compare_with_baseline(events, path)
    assert second.attrs["baseline"] == "compared"
    assert set(second.loc[second["kind"] == "source", "value"]) == {"ec2", "external"}
    third = compare_with_baseline(events, path, update=True)
    assert third.attrs["baseline"] == "compared and updated" and len(third) == len(second)
    assert compare_with_baseline(events, path).empty


def test_split_window(events):
    before, after = split_window(events)
    assert len(before) + len(after) == len(events)
    assert before["eventTime"].max() < after["eventTime"].min()
    early, late = split_window(events, "2026-11-02T10:30:00Z")
    assert (len(early), len(late)) == (5, 5)


def test_fingerprint_table(events):
    table = fingerprint_table(events)
    assert table.loc["console", "vpcEndpointId"] == "vpce-f40dc59d"
    assert table.loc["console", "sourceIPAddress"] == "internet 100%"
    assert table.loc["ec2", "sourceIPAddress"] == "AWS EC2 ap-northeast-1 100%"
    assert table.loc["ec2", "vpcEndpointId"] == "(none)"
    assert table.loc["ec2", "userAgent"] == "Boto3 100%"
    assert table.loc["console", "example userAgent"].startswith("[S3Console/0.4")


def test_fetch_summary_reads_loader_attrs(events):
    summary = fetch_summary(events)
    assert summary.loc["events", "value"] == "10"
    assert summary.loc["buckets", "value"] == "data-bucket"
    if "rows_read" in events.attrs:
        assert summary.loc["records read", "value"] == str(events.attrs["rows_read"])


def test_coverage(events):
    table = coverage(events)
    assert table["events"].tolist() == [8, 2]
    assert table.attrs["summary"]["events"] == 10
    assert table["buckets"].tolist() == [1, 1]


@pytest.mark.parametrize("make", [charts.events_over_time, charts.bytes_per_source,
                                  charts.source_endpoint_heatmap, charts.coverage_chart])
def test_charts_render_with_agg(events, make, tmp_path):
    fig = make(events)
    assert isinstance(fig, Figure)
    target = tmp_path / "chart.png"
    fig.savefig(target)
    assert target.stat().st_size > 5000
    assert fig.axes[0].get_title()


def test_chart_contents(events):
    fig = charts.bytes_per_source(events)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["external", "console", "ec2"]  # ascending bytes, biggest on top
    widths = sorted(p.get_width() for p in fig.axes[0].patches)
    assert widths[-1] == 15_000_000
    heat = charts.source_endpoint_heatmap(events)
    image = heat.axes[0].images[0].get_array()
    assert image.shape == (3, 2)
    over_time = charts.events_over_time(events, "1h")
    collections = over_time.axes[0].collections
    assert len(collections) == 3  # one band per source present
    empty = charts.events_over_time(events.iloc[:0])
    assert isinstance(empty, Figure)


def test_tabulate_counts_every_row_of_a_repeated_categorical_frame(events):
    big = pd.concat([events] * 2000, ignore_index=True)
    for c in events.columns:
        if isinstance(events[c].dtype, pd.CategoricalDtype):
            big[c] = big[c].astype(events[c].dtype)
    table = tabulate(big)
    assert table["events"].tolist() == [10_000, 6_000, 4_000]
    assert np.isclose(table.loc["ec2", "bytes_out"], 3.0e10)


def test_package_level_tabulate_is_the_function_even_after_the_submodule_import(events):
    import s3audit
    import s3audit.tables  # noqa: F401 - importing the module must not shadow the function

    assert s3audit.tabulate(events)["events"].tolist() == [5, 3, 2]
    assert s3audit.classify is classify


def test_frames_labelled_elsewhere_keep_their_labels_and_get_ua_families():
    df = pd.DataFrame({"source": ["external", "console", "console"],
                       "userAgent": [None, CONSOLE_UA, CONSOLE_UA],
                       "vpcEndpointId": [None] + ["vpce-f40dc59d"] * 2})
    table = tabulate(df)
    assert list(table.index) == ["console", "external"]
    assert table.loc["console", "ua_family_top"] == "S3 console ×2"
    assert table.loc["external", "ua_family_top"] == "(none) ×1"


def test_tabulate_agrees_with_a_pandas_groupby_on_random_frames():
    rng = np.random.default_rng(11)
    n = 3000
    sources = np.array(["console", "ec2", "external", "vpc-endpoint"])
    df = pd.DataFrame({
        "source": pd.Categorical(rng.choice(sources, n)),
        "vpcEndpointId": rng.choice(np.array(["vpce-a", "vpce-b", None], dtype=object), n),
        "sourceIPAddress": [f"198.51.100.{i}" for i in rng.integers(0, 40, n)],
        "userAgent": rng.choice(np.array(["[curl/8]", "[aws-cli/2]", None], dtype=object), n),
        "additionalEventData.bytesTransferredOut": rng.integers(0, 1000, n).astype(float),
        "errorCode": rng.choice(np.array(["AccessDenied", None], dtype=object), n, p=[0.1, 0.9]),
    })
    table = tabulate(df)
    grouped = df.groupby("source", observed=True)
    assert table["events"].to_dict() == grouped.size().to_dict()
    assert table["bytes_out"].to_dict() == \
        grouped["additionalEventData.bytesTransferredOut"].sum().to_dict()
    assert table["errors"].to_dict() == grouped["errorCode"].count().to_dict()
    assert table["sourceIPAddress_distinct"].to_dict() == grouped["sourceIPAddress"].nunique().to_dict()
    assert table["vpcEndpointId_distinct"].to_dict() == grouped["vpcEndpointId"].nunique().to_dict()
    for source, row in table.iterrows():
        counts = df.loc[df["source"] == source, "sourceIPAddress"].value_counts()
        best = counts.max()
        first = row["sourceIPAddress_top"].split(";")[0]
        value, times = first.rsplit(" ×", 1)
        assert int(times) == best and counts[value] == best
        assert value == min(v for v, c in counts.items() if c == best)  # ties: smallest text


def test_old_records_endpoint_in_additional_event_data_is_tabulated():
    # eventVersion <= 1.05 kept vpcEndpointId in additionalEventData; classify reads it there,
    # so the tables must show it too (not "(none)" for an other-vpc-endpoint source)
    old = event(1, **{"additionalEventData.vpcEndpointId": "vpce-f40dc59d"})
    new = event(2, vpcEndpointId="vpce-f40dc59d")
    out = classify(frame([old, new]))
    assert list(out["source"]) == ["other-vpc-endpoint"] * 2
    table = tabulate(out)
    assert table.loc["other-vpc-endpoint", "vpcEndpointId_top"] == "vpce-f40dc59d ×2"
    assert crosstab(out).loc["other-vpc-endpoint", "vpce-f40dc59d"] == 2
    assert fingerprint_table(out).loc["other-vpc-endpoint", "vpcEndpointId"] == "vpce-f40dc59d"
    assert make_baseline(out).vpc_endpoints == {"vpce-f40dc59d"}


def test_new_since_baseline_agrees_with_pandas_on_a_random_frame():
    rng = np.random.default_rng(3)
    n = 2000
    df = pd.DataFrame({
        "source": pd.Categorical(rng.choice(["console", "ec2", "external"], n)),
        "sourceIPAddress": [f"198.51.100.{i}" for i in rng.integers(0, 60, n)],
        "vpcEndpointId": rng.choice(np.array(["vpce-a", "vpce-b", None], dtype=object), n),
        "eventTime": pd.Timestamp("2026-11-01", tz="UTC")
        + pd.to_timedelta(rng.integers(0, 86400, n), unit="s"),
        "eventID": [f"id-{i}" for i in range(n)],
    })
    known = Baseline(sources={"console"}, addresses={f"198.51.100.{i}" for i in range(30)})
    new = new_since_baseline(df, known, kinds=["addresses"])
    fresh = df[~df["sourceIPAddress"].isin(known.addresses)]
    grouped = fresh.groupby("sourceIPAddress")
    assert set(new["value"]) == set(grouped.groups)
    for _, row in new.iterrows():
        part = grouped.get_group(row["value"])
        assert row["events"] == len(part)
        assert row["sources"] == ", ".join(sorted(part["source"].astype(str).unique()))
        assert row["first_seen"] == part["eventTime"].min()
        assert row["last_seen"] == part["eventTime"].max()
        assert row["example_eventID"] == part["eventID"].iloc[0]
    assert new["events"].is_monotonic_decreasing
