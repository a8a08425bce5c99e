"""Real CloudTrail records (shared/realworld) classify as their SOURCE.md describes."""
from __future__ import annotations

import ast
import csv

import pandas as pd
import pytest

from s3audit.sources import classify
from s3audit.tables import crosstab, tabulate
from tests._sources_support import REALWORLD, frame, realworld_records

pytestmark = pytest.mark.skipif(not REALWORLD.exists(), reason="shared/realworld not present")


def data_events(name: str) -> pd.DataFrame:
    records = [r for r in realworld_records(name) if r.get("eventCategory") == "Data"]
    return frame(records)


@pytest.fixture(scope="module")
def ibm() -> pd.DataFrame:
    return classify(data_events("ibm-universal-connectors-s3/s3_cloudtrail_samples.jsonl"))


@pytest.fixture(scope="module")
def otrf() -> pd.DataFrame:
    return classify(data_events("otrf-security-datasets/ec2_proxy_s3_exfiltration_s3_records.jsonl"))


def test_ibm_has_the_documented_data_events(ibm):
    records = realworld_records("ibm-universal-connectors-s3/s3_cloudtrail_samples.jsonl")
    data = [r for r in records if r.get("eventCategory") == "Data"]
    assert len(data) == 53  # SOURCE.md; some test records repeat an eventID
    assert len(ibm) == len({r["eventID"] for r in data})


def test_ibm_console_backend_calls_are_console(ibm):
    backend = ibm[ibm["userAgent"].astype(str).str.startswith("[S3Console/")]
    assert len(backend) > 30
    assert set(backend["source"]) == {"console"}
    assert set(backend["vpcEndpointId"].astype(str)) == {"vpce-f40dc59d"}
    assert (backend["ua_family"] == "S3 console").all()


def test_ibm_console_downloads_are_console_browser(ibm):
    downloads = ibm[ibm["additionalEventData.AuthenticationMethod"] == "QueryString"]
    assert len(downloads) >= 1
    assert set(downloads["eventName"]) == {"GetObject"}
    assert set(downloads["source"]) == {"console-browser"}
    assert downloads["vpcEndpointId"].isna().all()


def test_ibm_log_delivery_is_aws_service(ibm):
    delivery = ibm[ibm["userIdentity.type"] == "AWSService"]
    assert len(delivery) >= 2
    assert set(delivery["source"]) == {"aws-service"}
    # some deliveries went through the AWS-owned endpoint: still aws-service (rule 2 first)
    assert delivery["vpcEndpointId"].notna().any() and delivery["vpcEndpointId"].isna().any()


def test_ibm_every_event_is_one_of_the_three(ibm):
    console = ibm["userAgent"].astype(str).str.startswith("[S3Console/")
    presigned = ibm["additionalEventData.AuthenticationMethod"] == "QueryString"
    service = ibm["userIdentity.type"] == "AWSService"
    assert (console.astype(int) + presigned.astype(int) + service.astype(int) == 1).all()
    counts = ibm["source"].value_counts()
    assert counts[counts > 0].to_dict() == {"console": console.sum(), "aws-service": service.sum(),
                                            "console-browser": presigned.sum()}
    assert not ibm["cross_account"].any()


def test_otrf_instance_role_keys_used_outside_are_ec2_off_instance(otrf):
    assert len(otrf) == 9  # 7 ListObjects + 2 GetObject
    assert set(otrf["source"]) == {"ec2"}
    assert otrf["credentials_off_instance"].all()
    assert otrf["ip_service"].isna().all()
    reason = otrf["source_reason"].iloc[0]
    assert "ec2RoleDelivery '1.0'" in reason and "public address in no AWS range" in reason
    assert set(otrf["ua_family"]) == {"aws-cli"}


def test_realworld_tables(ibm, otrf):
    both = pd.concat([ibm, otrf], ignore_index=True)
    both["source"] = pd.Categorical(both["source"].astype(str),
                                    categories=ibm["source"].cat.categories)
    table = tabulate(both)
    n_console = int((both["source"] == "console").sum())
    assert table.loc["console", "vpcEndpointId_top"] == f"vpce-f40dc59d ×{n_console}"
    assert table.loc["console", "vpcEndpointId_distinct"] == 1
    assert table.loc["ec2", "sourceIPAddress_top"] == "1.2.3.4 ×9"
    n_browser = int((both["source"] == "console-browser").sum())
    assert table.loc["console-browser", "vpcEndpointId_top"] == f"(none) ×{n_browser}"
    assert table["events"].sum() == len(both)
    service = both[both["source"] == "aws-service"]
    endpoints = crosstab(both)
    assert endpoints.loc["aws-service", "vpce-f40dc59d"] == service["vpcEndpointId"].notna().sum()
    assert endpoints.loc["aws-service", "(none)"] == service["vpcEndpointId"].isna().sum()


def test_honey_bucket_csv_anonymous_probes():
    """The CSV export (not raw JSON): rebuild the identity fields it has and classify them."""
    path = REALWORLD / "otrf-security-datasets" / "AWS_S3_HoneyBucketLogs.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 301
    records = []
    for row in rows:
        identity = ast.literal_eval(row["User ID"])
        records.append({"userIdentity.type": identity.get("type"),
                        "userIdentity.accountId": identity.get("accountId"),
                        "userIdentity.principalId": identity.get("principalId"),
                        "sourceIPAddress": row["Source IP"],
                        "userAgent": row["Request User Agent"]})
    out = classify(pd.DataFrame(records))
    assert (out["source"] == "anonymous").sum() == 284
    others = out[out["source"] != "anonymous"]
    assert len(others) == 17
    # authenticated callers from other accounts over the internet or from AWS addresses
    assert set(others["source"]) <= {"external", "aws-network"}
    in_aws = others["ip_service"].notna()
    assert (others.loc[in_aws, "source"] == "aws-network").all()
    assert (others.loc[~in_aws, "source"] == "external").all()
