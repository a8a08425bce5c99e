"""classify() against a plain per-row reading of issue 5's rules (tests._sources_support.reference_label),
on generated frames."""
from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3audit.ipranges import load_ip_ranges
from s3audit.sources import classify
from tests._sources_support import reference_label

RECIPIENT = "111122223333"
RANGES = load_ip_ranges()

FIELDS = {
    "userIdentity.accountId": [None, RECIPIENT, "999988887777", "ANONYMOUS_PRINCIPAL", "anonymous"],
    "userIdentity.type": [None, "IAMUser", "AssumedRole", "AWSService", "AWSAccount"],
    "userIdentity.invokedBy": [None, "athena.amazonaws.com", "glue.amazonaws.com",
                               "redshift-serverless.amazonaws.com", "ops.emr-serverless.amazonaws.com",
                               "cloudfront.amazonaws.com", "AWS Internal"],
    "userIdentity.arn": [None, f"arn:aws:iam::{RECIPIENT}:user/dev",
                         f"arn:aws:sts::{RECIPIENT}:assumed-role/r/AWSLF-00-AT-{RECIPIENT}-x",
                         f"arn:aws:sts::{RECIPIENT}:assumed-role/r/GlueJobRunnerSession",
                         f"arn:aws:sts::{RECIPIENT}:assumed-role/r/SageMaker",
                         f"arn:aws:sts::{RECIPIENT}:assumed-role/r/RedshiftIamRoleSession",
                         f"arn:aws:sts::{RECIPIENT}:assumed-role/r/i-0abc"],
    "userIdentity.principalId": [None, "AROAEXAMPLEROLE00001:SageMaker", "AIDAEXAMPLEEXAMPLE01"],
    "userIdentity.inScopeOf.issuerType": [None, "AWS::EC2::Instance", "AWS::Lambda::Function"],
    "userIdentity.sessionContext.ec2RoleDelivery": [None, "1.0", "2.0"],
    "sourceIPAddress": [None, "198.51.100.7", "10.1.2.3", "3.112.0.9", "52.94.76.114",
                        "2600:1f18::5", "athena.amazonaws.com", "AWS Internal", "1.2.3.4"],
    "userAgent": [None, "[]", "[aws-cli/2.17.60 md/command#s3.cp]",
                  "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750]",
                  "[Mozilla/5.0 (X11) Chrome/129.0]", "[aws-cli/2.13.5 exec-env/CloudShell]",
                  "[Boto3/1.40.4 exec-env/AWS_Lambda_python3.14]", "athena.amazonaws.com"],
    "additionalEventData.AuthenticationMethod": [None, "AuthHeader", "QueryString"],
    "requestParameters.X-Amz-Expires": [None, "300", "3600"],
    "vpcEndpointId": [None, "vpce-0a1b2c3d4e5f60718", "vpce-f40dc59d", "AWS Internal"],
    "additionalEventData.vpcEndpointId": [None, None, "vpce-f40dc59d", "vpce-0a1b2c3d4e5f60718"],
    "vpcEndpointAccountId": [None, RECIPIENT, "999988887777"],
    "recipientAccountId": [RECIPIENT],
}


rows = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in FIELDS.items()})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows, min_size=1, max_size=40), st.booleans(), st.booleans())
def test_classify_matches_the_per_row_reference(records, with_own_list, with_own_accounts):
    own = ["vpce-f40dc59d"] if with_own_list else None
    accounts = ["999988887777"] if with_own_accounts else []
    frame = pd.DataFrame(records)
    for col in frame.columns:  # as the loader gives them: categoricals
        frame[col] = frame[col].astype("category")
    got = list(classify(frame, own_vpc_endpoints=own, own_accounts=accounts,
                        ip_ranges=RANGES)["source"].astype(str))
    assert got == [reference_label(r, own, accounts, RANGES) for r in records]
