"""Adversarial cases for the per-source tables (s3audit.tables)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from s3audit.tables import crosstab, fingerprint_table, tabulate, top_values


def _old_and_new_endpoint_frame() -> pd.DataFrame:
    # records <= 1.05 kept the endpoint in additionalEventData.vpcEndpointId
    return pd.DataFrame({
        "source": ["vpc-endpoint"] * 3,
        "vpcEndpointId": ["vpce-0a1b2c3d4e5f60718", None, None],
        "additionalEventData.vpcEndpointId": [None, "vpce-0a1b2c3d4e5f60718", "vpce-f40dc59d"],
        "sourceIPAddress": ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
    })


def test_group_by_vpc_endpoint_reads_old_records_like_the_dimension_does():
    df = _old_and_new_endpoint_frame()
    as_dimension = tabulate(df, dimensions=["vpcEndpointId"]).loc["vpc-endpoint",
                                                                 "vpcEndpointId_top"]
    assert as_dimension == "vpce-0a1b2c3d4e5f60718 ×2; vpce-f40dc59d ×1"
    by_endpoint = tabulate(df, by="vpcEndpointId", dimensions=["sourceIPAddress"])
    assert by_endpoint["events"].to_dict() == {"vpce-0a1b2c3d4e5f60718": 2, "vpce-f40dc59d": 1}
    rows = crosstab(df, "vpcEndpointId", "source")
    assert rows["vpc-endpoint"].to_dict() == {"vpce-0a1b2c3d4e5f60718": 2, "vpce-f40dc59d": 1}
    tops = top_values(df, "sourceIPAddress", by="vpcEndpointId")
    assert tops.groupby("vpcEndpointId", observed=True)["events"].sum().to_dict() == \
        {"vpce-0a1b2c3d4e5f60718": 2, "vpce-f40dc59d": 1}


def test_group_by_the_derived_principal():
    df = pd.DataFrame({"source": ["external"] * 3,
                       "userIdentity.arn": ["arn:aws:iam::111122223333:user/a",
                                            "arn:aws:iam::111122223333:user/a", None],
                       "userIdentity.accountId": ["111122223333", "111122223333", "anonymous"],
                       "sourceIPAddress": ["198.51.100.1", "198.51.100.2", "198.51.100.3"]})
    table = tabulate(df, by="principal", dimensions=["sourceIPAddress"])
    assert table["events"].to_dict() == {"arn:aws:iam::111122223333:user/a": 2, "anonymous": 1}


@pytest.mark.parametrize("call", [
    lambda df: tabulate(df, by="sourceIPAdress"),
    lambda df: top_values(df, "sourceIPAddress", by="no-such-column"),
    lambda df: crosstab(df, "no-such-column", "vpcEndpointId"),
])
def test_grouping_by_a_column_that_is_not_there_is_an_error_not_an_empty_table(call):
    with pytest.raises(KeyError, match="no-such-column|sourceIPAdress"):
        call(_old_and_new_endpoint_frame())


def test_group_order_on_ties_does_not_depend_on_row_order():
    df = pd.DataFrame({"eventName": ["GetObject", "PutObject", "HeadObject", "PutObject",
                                     "GetObject", "ListObjects"],
                       "source": ["external"] * 6})
    first = tabulate(df, by="eventName", dimensions=[])
    again = tabulate(df.iloc[::-1].reset_index(drop=True), by="eventName", dimensions=[])
    as_category = tabulate(df.astype({"eventName": pd.CategoricalDtype(
        ["PutObject", "ListObjects", "HeadObject", "GetObject", "Unused"])}), by="eventName",
        dimensions=[])
    assert list(first.index) == list(again.index) == list(as_category.index) == \
        ["GetObject", "PutObject", "HeadObject", "ListObjects"]


def test_fingerprint_address_kinds_agree_with_classify_on_private_and_public():
    # 100.64.0.0/10 is a VPC CIDR block AWS allows (reference §4.2: "the private IP of the
    # instance/ENI (RFC1918 or the VPC's CIDR)"); classify calls it private, so must the table
    df = pd.DataFrame({"sourceIPAddress": ["100.64.1.5", "::ffff:10.0.0.1", "::ffff:203.0.113.9",
                                           "fd00::1", "198.51.100.7"],
                       "vpcEndpointId": ["vpce-0a1b2c3d4e5f60718", None, None, None, None],
                       "userAgent": ["[aws-cli/2.17.60]"] * 5})
    from s3audit.sources import classify
    out = classify(df)
    kinds = []
    for i in range(len(df)):
        table = fingerprint_table(out.iloc[[i]])
        kinds.append(table["sourceIPAddress"].iloc[0])
    private_by_classify = ["private address" in r for r in out["source_reason"]]
    # row 0 is decided by its vpce; ::ffff:10.0.0.1 is IPv6 (reference §6), not RFC 1918
    assert private_by_classify == [False, False, False, True, False]
    assert kinds == ["private (VPC) 100%" if private or i == 0 else "internet 100%"
                     for i, private in enumerate(private_by_classify)]
    assert kinds[0] == "private (VPC) 100%" and kinds[2] == "internet 100%"


@pytest.mark.parametrize("by", ["source", "eventName"])
def test_top_values_groups_are_only_the_groups_present(by):
    df = pd.DataFrame({"source": pd.Categorical(["console", "console", "ec2"],
                                                categories=["anonymous", "console", "ec2", "lambda"]),
                       "eventName": pd.Categorical(["GetObject", "GetObject", "PutObject"],
                                                   categories=["GetObject", "HeadObject", "PutObject"]),
                       "vpcEndpointId": ["vpce-f40dc59d", None, None]})
    tops = top_values(df, "vpcEndpointId", by=by)
    counts = tops[by].value_counts()
    assert (counts > 0).all(), counts.to_dict()
    assert list(tops[by].cat.categories) == list(dict.fromkeys(df[by].astype(str)))


def test_baseline_folds_sessions_of_a_cross_account_role_like_own_roles():
    # the bucket owner's copy names a cross-account role only by principalId AROA…:<session>
    # (reference §4.11); a new session of a known role is not a new principal
    from s3audit.tables import make_baseline, new_since_baseline

    def frame_of(sessions):
        return pd.DataFrame({
            "source": ["external"] * len(sessions),
            "userIdentity.type": ["AWSAccount"] * len(sessions),
            "userIdentity.accountId": ["999988887777"] * len(sessions),
            "userIdentity.principalId": [f"AROAEXAMPLEROLE00009:{s}" for s in sessions],
            "sourceIPAddress": ["198.51.100.7"] * len(sessions)})

    baseline = make_baseline(frame_of(["job-1", "job-2"]))
    assert len(baseline.principals) == 1
    new = new_since_baseline(frame_of(["job-3"]), baseline)
    assert new[new["kind"] == "principals"].empty
    # a different role of that account is new
    other = frame_of(["job-3"]).assign(**{"userIdentity.principalId": "AROAEXAMPLEROLE00010:job-3"})
    assert new_since_baseline(other, baseline)["kind"].tolist() == ["principals"]


def test_zero_weight_rows_are_not_values_on_the_many_categories_path():
    # > 20M (group, value) code pairs: counted with factorize instead of one big bincount;
    # a row that stands for 0 events must not show up as a distinct or top value there either
    n = 5_000
    names = [f"p{i}" for i in range(n)] + ["p0"]  # p0 also on the last address, for 0 events
    df = pd.DataFrame({"principal_name": pd.Categorical(names),
                       "sourceIPAddress": pd.Categorical([f"198.51.{i // 250}.{i % 250}"
                                                          for i in range(n)] + ["203.0.113.9"]),
                       "count": [1] * n + [0]})
    small = df.iloc[[0, 1, n]].copy()
    for frame_ in (df, small):
        table = tabulate(frame_, by="principal_name", dimensions=["sourceIPAddress"],
                         weight="count")
        assert table.loc["p0", "events"] == 1
        assert (table["sourceIPAddress_distinct"] == 1).all()
        assert not table["sourceIPAddress_top"].str.contains("×0").any()


def test_tables_keep_the_frames_own_source_labels():
    # a frame labelled elsewhere (e.g. the samples' truth, or an earlier classify with options)
    # must be tabulated by its labels; deriving ua_family must not re-classify it
    df = pd.DataFrame({"source": ["vpc-endpoint", "vpc-endpoint", "external"],
                       "vpcEndpointId": ["vpce-f40dc59d", "vpce-f40dc59d", None],
                       "sourceIPAddress": ["10.0.0.1", "10.0.0.2", "198.51.100.7"],
                       "userAgent": ["[aws-cli/2.17.60]", "[aws-cli/2.17.60]", "[curl/8.5.0]"]})
    by_ua = crosstab(df, "source", "ua_family")
    assert by_ua.loc["vpc-endpoint", "aws-cli"] == 2 and by_ua.loc["external", "curl"] == 1
    table = fingerprint_table(df)
    assert list(table.index) == ["vpc-endpoint", "external"]
    assert table.loc["vpc-endpoint", "userAgent"] == "aws-cli 100%"
