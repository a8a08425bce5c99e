"""classify(): one test per rule of issue 5, the rule order, and the added columns."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from s3audit.sources import RULES, SOURCES, classify, explain_examples, principal, rules_table
from tests._sources_support import DROP, RECIPIENT, event, frame, role

OTHER_ACCOUNT = "999988887777"
OWN_VPCE = "vpce-0a1b2c3d4e5f60718"  # 17 hex digits: a customer endpoint id


def label(*records, **options) -> list[str]:
    return list(classify(frame(list(records)), **options)["source"].astype(str))


def one(record, **options) -> pd.Series:
    return classify(frame([record]), **options).iloc[0]


# --- rule 1 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("account", ["ANONYMOUS_PRINCIPAL", "anonymous"])
def test_rule1_anonymous(account):
    rec = event(userIdentity={"type": "AWSAccount", "principalId": "", "accountId": account})
    row = one(rec)
    assert row["source"] == "anonymous"
    assert row["source_reason"].startswith("Rule 1 (anonymous)")
    assert account in row["source_reason"]


def test_rule1_before_browser_presigned():
    # the console's CORS preflight: anonymous, browser agent, looks presigned otherwise
    rec = event(userIdentity={"type": "AWSAccount", "principalId": "", "accountId": "anonymous"},
                userAgent="[Mozilla/5.0 (X11; Linux x86_64) Chrome/129.0]",
                **{"additionalEventData.AuthenticationMethod": "QueryString",
                   "requestParameters.X-Amz-Expires": "300"})
    assert label(rec) == ["anonymous"]


# --- rule 2 ---------------------------------------------------------------------------------
def log_delivery(n=0, **changes):
    return event(n, userIdentity={"type": "AWSService", "invokedBy": "s3.amazonaws.com"},
                 sourceIPAddress="s3.amazonaws.com", userAgent="s3.amazonaws.com",
                 eventName="PutObject", **changes)


def test_rule2_aws_service():
    row = one(log_delivery())
    assert row["source"] == "aws-service"
    assert "AWSService" in row["source_reason"] and "s3.amazonaws.com" in row["source_reason"]


def test_rule2_before_service_names_and_endpoints():
    # rule 5 (invokedBy set) and rule 13 (a vpcEndpointId) would also match
    assert label(log_delivery(vpcEndpointId="vpce-f40dc59d")) == ["aws-service"]


# --- rule 3 ---------------------------------------------------------------------------------
def test_rule3_aws_internal_by_address_or_invoked_by():
    by_ip = event(1, sourceIPAddress="AWS Internal", userAgent="AWS Internal")
    by_invoker = event(2, **{"userIdentity.invokedBy": "AWS Internal"})
    rows = classify(frame([by_ip, by_invoker]))
    assert list(rows["source"]) == ["aws-internal", "aws-internal"]
    assert rows["source_reason"].str.startswith("Rule 3 (aws-internal)").all()


@pytest.mark.parametrize("field", ["sourceIPAddress", "userIdentity.invokedBy"])
def test_rule3_starts_with_not_equals(field):
    # CloudTrail documents the form "AWS Internal/#" too; the reason names only the deciding field
    row = one(event(**{field: "AWS Internal/3"}))
    assert row["source"] == "aws-internal"
    other = "invokedBy" if field == "sourceIPAddress" else "sourceIPAddress"
    assert "'AWS Internal/3'" in row["source_reason"] and other not in row["source_reason"]
    assert label(event(**{field: "Not AWS Internal"})) != ["aws-internal"]


def test_rule3_before_rule4():
    rec = event(userIdentity=role("AWSLF-00-AT-111122223333-1"),
                **{"userIdentity.invokedBy": "AWS Internal"})
    assert label(rec) == ["aws-internal"]


def test_rule3_before_rule5():
    # invokedBy is set (rule 5) but it is "AWS Internal"
    rec = event(sourceIPAddress="AWS Internal", **{"userIdentity.invokedBy": "AWS Internal"})
    assert label(rec) == ["aws-internal"]


# --- rule 4 ---------------------------------------------------------------------------------
def test_rule4_lake_formation_before_engine():
    rec = event(userIdentity=role("AWSLF-00-AT-111122223333-8d7bf0c1", "LFRegistrationRole"),
                sourceIPAddress="athena.amazonaws.com", userAgent="athena.amazonaws.com",
                **{"userIdentity.invokedBy": "athena.amazonaws.com"})
    row = one(rec)
    assert row["source"] == "lake-formation"
    # the engine code decides nothing but tells the engine; the per-query rest is in the ARN
    assert "'AWSLF-00-AT-…' starts with 'AWSLF-00-'" in row["source_reason"]


def test_rule4_session_from_principal_id_of_reduced_identity():
    # bucket owner's copy: AWSAccount identity, session only in principalId
    rec = event(userIdentity={"type": "AWSAccount", "accountId": OTHER_ACCOUNT,
                              "principalId": "AROAEXAMPLEROLE00001:AWSLF-00-GL-999988887777-1"})
    assert label(rec) == ["lake-formation"]


# --- rule 5 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("service,expected", [
    ("athena.amazonaws.com", "athena"),
    ("glue.amazonaws.com", "glue"),
    ("redshift.amazonaws.com", "redshift"),
    ("redshift-serverless.amazonaws.com", "redshift"),
    ("ops.emr-serverless.amazonaws.com", "emr"),
    ("elasticmapreduce.amazonaws.com", "emr"),
    ("cloudfront.amazonaws.com", "service-other"),
])
def test_rule5_service_on_behalf_label_follows_invoked_by(service, expected):
    rec = event(sourceIPAddress=service, userAgent=service,
                **{"userIdentity.invokedBy": service})
    row = one(rec)
    assert row["source"] == expected
    assert row["source_reason"].startswith(f"Rule 5 ({expected})")
    assert service in row["source_reason"]


def test_rule5_by_source_address_alone():
    rec = event(sourceIPAddress="athena.amazonaws.com", userAgent="athena.amazonaws.com")
    assert label(rec) == ["athena"]


def test_rule5_invoked_by_wins_over_address_and_beats_console():
    rec = event(sourceIPAddress="glue.amazonaws.com",
                userAgent="[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750]",
                **{"userIdentity.invokedBy": "athena.amazonaws.com"})
    assert label(rec) == ["athena"]


# --- rule 6 ---------------------------------------------------------------------------------
CONSOLE_UA = ("[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.225-191.878.amzn2int"
              ".x86_64 OpenJDK_64-Bit_Server_VM/25.412-b09 java/1.8.0_412 vendor/Oracle_Corporation]")


def test_rule6_console_backend_with_aws_owned_endpoint():
    rec = event(userAgent=CONSOLE_UA, vpcEndpointId="vpce-f40dc59d",
                sourceIPAddress="89.138.37.139")
    row = one(rec)
    assert row["source"] == "console"  # not other-vpc-endpoint (rule 13)
    assert "S3Console/0.4" in row["source_reason"] and "vpce-f40dc59d" in row["source_reason"]


def test_rule6_aws_internal_3_anywhere_in_agent():
    rec = event(userAgent="[AWSCloudTrail, aws-internal/3 aws-sdk-java/1.11.1030]")
    assert label(rec) == ["console"]


@pytest.mark.parametrize("agent,expected", [
    ("[S3Console/0.4]", "console"),              # starts with S3Console/ once brackets go
    ("S3Console/0.4", "console"),                # no brackets at all
    ("[aws-cli/2.17.60 S3Console/0.4]", "external"),  # S3Console/ not at the start
    ("[AWSCloudTrail, aws-internal/3 aws-sdk-java/1.11]", "console"),  # not at the start
    ("[aws-internal/2 x]", "external"),
])
def test_rule6_each_condition_alone(agent, expected):
    row = one(event(userAgent=agent))
    assert row["source"] == expected
    if expected == "console":
        why = "starts with 'S3Console/'" if "S3Console" in agent else "contains 'aws-internal/3'"
        assert why in row["source_reason"]


def test_rule6_before_presigned():
    rec = event(userAgent=CONSOLE_UA, **{"additionalEventData.AuthenticationMethod": "QueryString"})
    assert label(rec) == ["console"]


# --- rules 7 and 8 --------------------------------------------------------------------------
BROWSER = "[Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/129.0 Safari/537.36]"


def presigned(n=0, ua=BROWSER, expires="300", **changes):
    return event(n, userAgent=ua, **{"additionalEventData.AuthenticationMethod": "QueryString",
                                     "requestParameters.X-Amz-Expires": expires,
                                     "requestParameters.X-Amz-Algorithm": "AWS4-HMAC-SHA256"},
                 **changes)


def test_rule7_console_browser_download():
    row = one(presigned())
    assert row["source"] == "console-browser"
    assert row["source_reason"].startswith("Rule 7 (console-browser)")
    assert "'300'" in row["source_reason"]


@pytest.mark.parametrize("ua,expires", [
    (BROWSER, "3600"),                 # browser, but not the console's 300 s
    ("[curl/8.5.0]", "300"),           # 300 s, but not a browser
    ("[python-requests/2.32.3]", "604800"),
])
def test_rule8_other_presigned(ua, expires):
    row = one(presigned(ua=ua, expires=expires))
    assert row["source"] == "presigned-url"
    assert row["source_reason"].startswith("Rule 8 (presigned-url)")


def test_rule7_needs_query_string_authentication():
    # a browser agent and X-Amz-Expires 300 without QueryString auth is neither 7 nor 8
    for auth in ("AuthHeader", DROP):
        rec = event(userAgent=BROWSER, **{"additionalEventData.AuthenticationMethod": auth,
                                          "requestParameters.X-Amz-Expires": "300"})
        assert label(rec) == ["external"]


def test_rule7_agent_must_start_with_mozilla():
    assert label(presigned(ua="[Opera/9.80 Mozilla/5.0]")) == ["presigned-url"]


def test_rule8_before_cloudshell_and_lambda():
    cloudshell = presigned(1, ua="[aws-cli/2.13.5 exec-env/CloudShell]", expires="60")
    lam = presigned(2, ua="[Boto3/1.40.4 exec-env/AWS_Lambda_python3.14]", expires="60")
    assert label(cloudshell, lam) == ["presigned-url", "presigned-url"]


# --- rule 9 ---------------------------------------------------------------------------------
def test_rule9_cloudshell_from_an_ec2_address():
    rec = event(userAgent="[aws-cli/2.13.5 Python/3.11.4 Linux/4.14.255 exec-env/CloudShell "
                          "exe/x86_64.amzn.2 prompt/off command/s3.cp]",
                sourceIPAddress="3.86.208.137")
    row = one(rec)
    assert row["source"] == "cloudshell"  # not aws-network (rule 15)
    assert row["ip_service"] == "AMAZON,EC2" and row["ip_region"] == "us-east-1"


# --- rule 10 --------------------------------------------------------------------------------
def test_rule10_lambda_by_in_scope_of():
    ident = role("credsrotator", "credsrotator-role-g67nmnfk")
    ident["inScopeOf"] = {"issuerType": "AWS::Lambda::Function",
                          "credentialsIssuedTo": f"arn:aws:lambda:us-east-1:{RECIPIENT}:function:credsrotator"}
    row = one(event(userIdentity=ident, userAgent="[Boto3/1.40.4 md/Botocore#1.40.4]",
                    sourceIPAddress="52.94.76.114"))
    assert row["source"] == "lambda"
    assert "AWS::Lambda::Function" in row["source_reason"]


def test_rule10_lambda_by_agent_even_through_own_endpoint():
    rec = event(userIdentity=role("my-function"), sourceIPAddress="10.1.2.3",
                userAgent="[Boto3/1.40.4 md/Botocore#1.40.4 exec-env/AWS_Lambda_python3.14]",
                vpcEndpointId=OWN_VPCE)
    row = one(rec)
    assert row["source"] == "lambda"  # rule 10 before rule 12
    assert "exec-env/AWS_Lambda_" in row["source_reason"]


# --- rule 11 --------------------------------------------------------------------------------
@pytest.mark.parametrize("session,expected", [
    ("GlueJobRunnerSession", "glue"),
    ("SageMaker", "sagemaker"),
    ("RedshiftIamRoleSession", "redshift"),
])
def test_rule11_session_names(session, expected):
    rec = event(userIdentity=role(session), vpcEndpointId=OWN_VPCE, sourceIPAddress="10.0.8.9",
                userAgent="[aws-sdk-java/1.12.750 Linux/5.10 OpenJDK_64-Bit_Server_VM/25.412]")
    row = one(rec)
    assert row["source"] == expected  # before vpc-endpoint (rule 12)
    assert row["source_reason"].startswith(f"Rule 11 ({expected})")
    assert session in row["source_reason"]


def test_rule11_needs_the_exact_session_name():
    assert label(event(userIdentity=role("SageMakerNotebook"))) == ["external"]


# --- rules 12 and 13 ------------------------------------------------------------------------
def via(vpce, n=0, owner=None, ip="10.0.3.4", **changes):
    extra = {"vpcEndpointAccountId": owner} if owner is not None else {}
    return event(n, vpcEndpointId=vpce, sourceIPAddress=ip, **extra, **changes)


def test_rule12_full_length_customer_endpoint_without_owner():
    row = one(via(OWN_VPCE))
    assert row["source"] == "vpc-endpoint"
    assert "full-length" in row["source_reason"]


def test_rule12_owner_is_recipient_or_own_account():
    short_but_ours = via("vpce-1a2b3c4d", owner=RECIPIENT)
    partner = via(OWN_VPCE, 1, owner=OTHER_ACCOUNT)
    assert label(short_but_ours, partner) == ["vpc-endpoint", "other-vpc-endpoint"]
    assert label(short_but_ours, partner, own_accounts=[OTHER_ACCOUNT]) == \
        ["vpc-endpoint", "vpc-endpoint"]


def test_rule12_explicit_list_decides_alone():
    mine, theirs = via(OWN_VPCE, 1, owner=RECIPIENT), via("vpce-0fffffffffffffff0", 2, owner=RECIPIENT)
    assert label(mine, theirs, own_vpc_endpoints=[OWN_VPCE]) == ["vpc-endpoint", "other-vpc-endpoint"]
    rows = classify(frame([mine, theirs]), own_vpc_endpoints=[OWN_VPCE])
    assert "own_vpc_endpoints" in rows["source_reason"].iloc[0]
    assert "not one of own_vpc_endpoints" in rows["source_reason"].iloc[1]


def test_rule12_before_ec2_credentials():
    ident = role("i-0317f6c6b66ae9c40", "web-role")
    ident["sessionContext"]["ec2RoleDelivery"] = "2.0"
    row = one(via(OWN_VPCE, userIdentity=ident))
    assert row["source"] == "vpc-endpoint"
    assert not row["credentials_off_instance"]  # a private address through our endpoint


@pytest.mark.parametrize("vpce", ["vpce-f40dc59d", "AWS Internal", "emr-serverless.amazonaws.com"])
def test_rule13_other_endpoint_values(vpce):
    row = one(via(vpce, ip="198.51.100.30"))
    assert row["source"] == "other-vpc-endpoint"
    assert row["source_reason"].startswith("Rule 13 (other-vpc-endpoint)")


@pytest.mark.parametrize("vpce", ["vpce-0a1b2c3d4e5f6071", "vpce-0a1b2c3d4e5f607189",
                                  "vpce-0A1B2C3D4E5F60718"])
def test_rule12_full_length_means_exactly_17_lowercase_hex(vpce):
    assert label(via(vpce)) == ["other-vpc-endpoint"]


def test_rule12_owner_recorded_but_not_ours_beats_full_length():
    # an owner is recorded: the id's shape no longer matters
    assert label(via(OWN_VPCE, owner="AWS Internal")) == ["other-vpc-endpoint"]


def test_rule13_before_ec2_credentials():
    # rule 14 is "EC2 instance credentials and no endpoint": an AWS-owned endpoint wins
    ident = role("i-0317f6c6b66ae9c40", "web-role")
    ident["sessionContext"]["ec2RoleDelivery"] = "2.0"
    row = one(via("vpce-f40dc59d", userIdentity=ident, ip="35.169.66.138"))
    assert row["source"] == "other-vpc-endpoint"


def test_rule13_endpoint_from_old_additional_event_data():
    rec = event(**{"additionalEventData.vpcEndpointId": "vpce-f40dc59d"})
    assert label(rec) == ["other-vpc-endpoint"]


# --- rule 14 --------------------------------------------------------------------------------
def ec2_identity(delivery="2.0", in_scope=False):
    ident = role("i-0317f6c6b66ae9c40", "web-role")
    if delivery:
        ident["sessionContext"]["ec2RoleDelivery"] = delivery
    if in_scope:
        ident["inScopeOf"] = {"issuerType": "AWS::EC2::Instance",
                              "credentialsIssuedTo": f"arn:aws:ec2:us-east-1:{RECIPIENT}:instance/i-0317f6c6b66ae9c40"}
    return ident


def test_rule14_ec2_over_the_internet():
    row = one(event(userIdentity=ec2_identity(), sourceIPAddress="35.169.66.138"))
    assert row["source"] == "ec2"  # and not aws-network (rule 15)
    assert not row["credentials_off_instance"]
    assert row["ip_service"] == "AMAZON,EC2" and row["ip_prefix"] == "35.168.0.0/13"
    assert "ec2RoleDelivery" in row["source_reason"] and "35.168.0.0/13" in row["source_reason"]


def test_rule14_in_scope_of_and_credentials_used_elsewhere():
    row = one(event(userIdentity=ec2_identity(delivery=None, in_scope=True),
                    sourceIPAddress="1.2.3.4"))
    assert row["source"] == "ec2"
    assert row["credentials_off_instance"]
    assert "AWS::EC2::Instance" in row["source_reason"] and "in no AWS range" in row["source_reason"]


# --- rules 15 and 16 ------------------------------------------------------------------------
def test_rule15_aws_network_amazon_only_range():
    row = one(event(sourceIPAddress="52.94.76.114"))
    assert row["source"] == "aws-network"
    assert row["ip_service"] == "AMAZON" and row["ip_region"] == "us-west-2"
    assert "52.94.76.0/22" in row["source_reason"]


def test_rule15_ipv6():
    row = one(event(sourceIPAddress="2600:1f18:4321::17"))
    assert row["source"] == "aws-network"
    assert "EC2" in row["ip_service"].split(",")


def test_rule16_external_everything_else():
    rows = classify(frame([event(1, sourceIPAddress="198.51.100.23"),
                           event(2, sourceIPAddress=DROP), event(3, sourceIPAddress="10.9.8.7")]))
    assert list(rows["source"]) == ["external"] * 3
    assert rows["source_reason"].str.startswith("Rule 16 (external)").all()
    assert rows["ip_service"].isna().all()


# --- the table as a whole -------------------------------------------------------------------
def test_rules_are_the_issue_order_and_vocabulary():
    assert [r.number for r in RULES] == list(range(1, 17))
    labels = [lab for r in RULES for lab in r.labels]
    assert set(labels) == set(SOURCES)
    assert len(rules_table()) == 16


def test_source_is_categorical_with_exactly_the_vocabulary():
    out = classify(frame([event()]))
    assert isinstance(out["source"].dtype, pd.CategoricalDtype)
    assert list(out["source"].cat.categories) == list(SOURCES)
    for name in ("source_reason", "ip_service", "ip_region", "ua_family"):
        assert isinstance(out[name].dtype, pd.CategoricalDtype), name
    assert out["cross_account"].dtype == bool and out["credentials_off_instance"].dtype == bool


def test_cross_account():
    mine = event(1)
    theirs = event(2, userIdentity={"type": "AWSAccount", "accountId": OTHER_ACCOUNT,
                                    "principalId": "AIDAEXAMPLEEXAMPLE77"})
    anon = event(3, userIdentity={"type": "AWSAccount", "accountId": "ANONYMOUS_PRINCIPAL",
                                  "principalId": ""})
    out = classify(frame([mine, theirs, anon]))
    assert list(out["cross_account"]) == [False, True, False]
    assert list(out["source"]) == ["external", "external", "anonymous"]


def test_ua_family_column():
    out = classify(frame([event(1), event(2, userAgent=CONSOLE_UA), event(3, userAgent=BROWSER),
                          event(4, userAgent=DROP)]))
    assert list(out["ua_family"].astype(str)) == ["aws-cli", "S3 console", "browser", "(none)"]


def _all_rule_events() -> list[dict]:
    return [
        event(1, userIdentity={"type": "AWSAccount", "principalId": "", "accountId": "anonymous"}),
        log_delivery(2),
        event(3, sourceIPAddress="AWS Internal"),
        event(4, userIdentity=role("AWSLF-00-RE-111122223333-x")),
        event(5, sourceIPAddress="athena.amazonaws.com", **{"userIdentity.invokedBy": "athena.amazonaws.com"}),
        event(6, userAgent=CONSOLE_UA, vpcEndpointId="vpce-f40dc59d"),
        presigned(7), presigned(8, ua="[curl/8.5.0]"),
        event(9, userAgent="[aws-cli/2.13.5 exec-env/CloudShell]", sourceIPAddress="3.86.208.137"),
        event(10, userAgent="[Boto3/1.40.4 exec-env/AWS_Lambda_python3.14]"),
        event(11, userIdentity=role("SageMaker")),
        via(OWN_VPCE, 12), via("vpce-f40dc59d", 13),
        event(14, userIdentity=ec2_identity(), sourceIPAddress="1.2.3.4"),
        event(15, sourceIPAddress="52.94.76.114"),
        event(16),
    ]


def test_vectorised_equals_one_by_one_on_a_shuffled_repeated_frame():
    records = _all_rule_events()
    expected = [one(r)["source"] for r in records]
    assert expected == ["anonymous", "aws-service", "aws-internal", "lake-formation", "athena",
                        "console", "console-browser", "presigned-url", "cloudshell", "lambda",
                        "sagemaker", "vpc-endpoint", "other-vpc-endpoint", "ec2", "aws-network",
                        "external"]
    rng = np.random.default_rng(7)
    order = rng.integers(0, len(records), 400)
    big = [dict(records[i], eventID=f"id-{k}") for k, i in enumerate(order)]
    out = classify(frame(big))
    assert list(out["source"].astype(str)) == [expected[i] for i in order]
    reasons = {expected[i]: r for i, r in zip(order, out["source_reason"])}
    assert len(reasons) == len(set(expected))
    assert all(reasons[name].startswith("Rule ") and f"({name})" in reasons[name]
               for name in reasons)


def test_object_and_categorical_inputs_agree():
    df = frame(_all_rule_events())
    as_object = df.copy()
    for c in as_object.columns:
        if isinstance(as_object[c].dtype, pd.CategoricalDtype):
            as_object[c] = as_object[c].astype(object)
    a, b = classify(df), classify(as_object)
    for col in ("source", "source_reason", "ip_service", "ua_family", "cross_account",
                "credentials_off_instance"):
        assert list(a[col].astype(object)) == list(b[col].astype(object)), col


def test_missing_columns_and_empty_frames():
    assert classify(pd.DataFrame({"sourceIPAddress": []}))["source"].tolist() == []
    out = classify(pd.DataFrame({"x": [1, 2]}))
    assert list(out["source"]) == ["external", "external"]
    with pytest.raises(TypeError):
        classify([{"sourceIPAddress": "1.2.3.4"}])


def test_input_frame_is_not_modified_and_attrs_record_ranges():
    df = frame([event()])
    before = list(df.columns)
    out = classify(df)
    assert list(df.columns) == before
    assert out.attrs["ip_ranges"]["createDate"] >= "2026"


def test_explain_examples_and_principal():
    df = frame(_all_rule_events() * 2)
    table = explain_examples(df, per_source=1)
    assert len(table) == 16 and table["source"].is_unique
    assert {"source_reason", "principal", "sourceIPAddress", "vpcEndpointId"} <= set(table.columns)
    who = list(principal(frame([log_delivery(), event(1)])))
    assert who == ["service s3.amazonaws.com", f"arn:aws:iam::{RECIPIENT}:user/dev"]


@pytest.mark.parametrize("expires", [300, 300.0, "300"])
def test_rule7_expires_as_number_or_text(expires):
    df = pd.DataFrame({"additionalEventData.AuthenticationMethod": ["QueryString"],
                       "userAgent": [BROWSER], "requestParameters.X-Amz-Expires": [expires]})
    assert list(classify(df)["source"]) == ["console-browser"]


def test_labels_follow_rows_whatever_the_index():
    df = frame(_all_rule_events())
    expected = list(classify(df)["source"].astype(str))
    shuffled = df.iloc[::-1].set_index(pd.Index([f"r{i}" for i in range(len(df))]))
    out = classify(shuffled)
    assert list(out["source"].astype(str)) == expected[::-1]
    assert list(out.index) == list(shuffled.index)


def test_reasons_leave_out_fields_that_are_absent():
    records = [event(1, userAgent="[S3Console/0.4]"),
               event(2, userIdentity=role("AWSLF-00-AT-111122223333-1")),
               event(3, userIdentity={"type": "AWSService"})]
    reasons = list(classify(frame(records))["source_reason"])
    assert [r.split(" ", 2)[1] for r in reasons] == ["6", "4", "2"]
    assert not any("none" in r for r in reasons), reasons
    assert all(r.endswith(".") for r in reasons)
