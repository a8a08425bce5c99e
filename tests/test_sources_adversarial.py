"""Adversarial cases for classify(): records at the edges of the reference's rules.

Each test names the rule of ``shared/reference/cloudtrail-s3-sources.md`` it relies on and
failed before the fix it accompanies.
"""
from __future__ import annotations

import ipaddress

import numpy as np
import pandas as pd
import pytest

from s3audit.ipranges import load_ip_ranges
from s3audit.sources import classify
from tests._sources_support import RECIPIENT, event, frame, role

OWN_VPCE = "vpce-0a1b2c3d4e5f60718"
OTHER_ACCOUNT = "999988887777"


def labels(records, **options) -> list[str]:
    records = [dict(r, eventID=f"00000000-0000-0000-0000-{i:012d}") for i, r in enumerate(records)]
    return list(classify(frame(records), **options)["source"].astype(str))


# --- reference §6 rule 1: "(or type AWSAccount with empty principalId)" ---------------------
def test_rule1_aws_account_with_empty_principal_id_is_anonymous_whatever_the_account():
    anonymous_shape = {"type": "AWSAccount", "principalId": "", "accountId": OTHER_ACCOUNT}
    reduced_cross_account = {"type": "AWSAccount", "principalId": "AIDAEXAMPLEEXAMPLE02",
                             "accountId": OTHER_ACCOUNT}
    got = labels([event(userIdentity=anonymous_shape), event(userIdentity=reduced_cross_account),
                  # an IAM user with an empty principalId is not the anonymous shape
                  event(userIdentity={"type": "IAMUser", "principalId": "",
                                      "accountId": RECIPIENT})])
    assert got == ["anonymous", "external", "external"]


def test_rule1_empty_principal_id_reason_and_order():
    # the anonymous shape wins over every later rule (here: browser presigned, rule 7)
    rec = event(userIdentity={"type": "AWSAccount", "principalId": "", "accountId": OTHER_ACCOUNT},
                userAgent="[Mozilla/5.0 (X11; Linux x86_64) Chrome/129.0]",
                vpcEndpointId=OWN_VPCE,
                **{"additionalEventData.AuthenticationMethod": "QueryString",
                   "requestParameters.X-Amz-Expires": "300"})
    row = classify(frame([rec])).iloc[0]
    assert row["source"] == "anonymous"
    assert "AWSAccount" in row["source_reason"] and "empty principalId" in row["source_reason"]


@pytest.mark.parametrize("dtype", ["category", "str", "object"])
def test_rule1_empty_principal_id_in_plain_frames(dtype):
    df = pd.DataFrame({"userIdentity.type": ["AWSAccount", "AWSAccount", "AWSAccount"],
                       "userIdentity.principalId": ["", None, "111122223333"],
                       "userIdentity.accountId": [OTHER_ACCOUNT] * 3,
                       "sourceIPAddress": ["198.51.100.7"] * 3}).astype(dtype)
    # missing/null principalId is not "empty": only the unsigned-request shape is anonymous
    assert list(classify(df)["source"].astype(str)) == ["anonymous", "external", "external"]
