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
from tests._sources_support import RECIPIENT, event, frame, reference_ip, reference_label, role

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


# --- reference §6 normalisation: ip = ipaddress.ip_address(sourceIPAddress) or None ----------


@pytest.mark.parametrize("address", ["03.112.000.009", "3.112.0.09", "\u0663.112.0.9",
                                     "3.112.0.\uff19", "fe80::1%"])
def test_texts_python_does_not_read_as_addresses_are_not_in_aws_ranges(address):
    # leading zeros (octal in inet_aton, refused by ipaddress) and non-ASCII digits: not an IP,
    # so no AWS range and no aws-network label (rule 15 needs an address inside the ranges)
    assert reference_ip(address) is None
    out = classify(pd.DataFrame({"sourceIPAddress": [address]}))
    assert out.loc[0, "source"] == "external"
    assert pd.isna(out.loc[0, "ip_service"])
    assert "not an IP address" in out.loc[0, "source_reason"]


def test_ipv4_mapped_ipv6_is_an_ipv6_address_in_no_ipv4_range():
    # reference §6: ip = ipaddress.ip_address(...); an IPv6Address is never in an IPv4 prefix,
    # and the metric filter compares text ("3.112.*" does not match "::ffff:3.112.0.9")
    assert ipaddress.ip_address("::ffff:3.112.0.9") not in ipaddress.ip_network("3.112.0.0/14")
    df = pd.DataFrame({"sourceIPAddress": ["::ffff:3.112.0.9", "3.112.0.9"]})
    out = classify(df)
    assert list(out["source"].astype(str)) == ["external", "aws-network"]
    assert pd.isna(out.loc[0, "ip_service"]) and out.loc[1, "ip_service"] == "AMAZON,EC2"


def test_ipv6_with_zone_id_is_an_address():
    got = load_ip_ranges().lookup_arrays(["fe80::1%eth0", "2600:1f18::5%3", "2600:1f18::5"])
    assert got["ip_kind"].tolist() == ["ipv6", "ipv6", "ipv6"]
    assert got["ip_private"].tolist() == [True, False, False]
    assert got["ip_service"][1] == got["ip_service"][2] != ""


# --- rule 12: "vpcEndpointId is one of own_vpc_endpoints" — one id given as a plain string ----
def test_one_own_endpoint_or_account_given_as_a_string_is_one_value_not_its_characters():
    recs = [event(vpcEndpointId=OWN_VPCE),
            event(vpcEndpointId="vpce-f40dc59d", vpcEndpointAccountId=OTHER_ACCOUNT)]
    as_list = labels(recs, own_vpc_endpoints=[OWN_VPCE])
    assert as_list == ["vpc-endpoint", "other-vpc-endpoint"]
    assert labels(recs, own_vpc_endpoints=OWN_VPCE) == as_list
    assert labels(recs, own_accounts=OTHER_ACCOUNT) == labels(recs, own_accounts=[OTHER_ACCOUNT]) \
        == ["vpc-endpoint", "vpc-endpoint"]


# --- reference §1 (userAgent: "Strip one leading [ and trailing ] before pattern matching") and
# §6 rule 8 (X-Amz-Expires == "300"): brackets are stripped, whitespace is not --------------
@pytest.mark.parametrize("agent, expected", [
    ("[S3Console/0.4, aws-internal/3 aws-sdk-java/1.11.783]", "console"),
    ("[ S3Console/0.4]", "external"),
    (" [S3Console/0.4]", "external"),
    ("S3Console/0.4", "console"),
])
def test_console_agent_is_matched_after_stripping_brackets_only(agent, expected):
    assert labels([event(userAgent=agent)]) == [expected]


@pytest.mark.parametrize("expires, expected", [("300", "console-browser"), (300, "console-browser"),
                                               (" 300", "presigned-url"), ("300 ", "presigned-url"),
                                               ("0300", "presigned-url")])
def test_console_browser_needs_expires_exactly_300(expires, expected):
    rec = event(userAgent="[Mozilla/5.0 (X11; Linux x86_64) Chrome/129.0]",
                **{"additionalEventData.AuthenticationMethod": "QueryString",
                   "requestParameters.X-Amz-Expires": expires})
    assert labels([rec]) == [expected]


def test_ua_family_of_blank_agents():
    from s3audit.useragent import EMPTY, strip_brackets, ua_family
    assert strip_brackets("[ S3Console/0.4]") == " S3Console/0.4"
    assert [ua_family(a) for a in ("[]", "[ ]", " ")] == [EMPTY] * 3


# --- derived categoricals hold only values that occur (value_counts shows no zero rows) -------
def _filtered_frame() -> pd.DataFrame:
    recs = [event(userAgent="[S3Console/0.4, aws-internal/3]", vpcEndpointId="vpce-f40dc59d"),
            event(userAgent="[Mozilla/5.0 (X11) Chrome/129.0]", sourceIPAddress="3.112.0.9",
                  **{"additionalEventData.AuthenticationMethod": "QueryString",
                     "requestParameters.X-Amz-Expires": "300"}),
            event(userAgent="[curl/8.5.0]", sourceIPAddress="52.94.76.114",
                  userIdentity={"type": "AssumedRole", "principalId": "AROAEXAMPLEROLE00001:x",
                                "arn": f"arn:aws:sts::{RECIPIENT}:assumed-role/r/x",
                                "accountId": RECIPIENT}),
            event(userAgent=None, sourceIPAddress="2600:1f18::5")]
    recs = [dict(r, eventID=f"00000000-0000-0000-0000-{i:012d}") for i, r in enumerate(recs)]
    df = frame(recs)
    # a slice keeps the categories of the rows it dropped
    return df[df["userAgent"].astype(str).str.startswith("[Mozilla")].copy()


@pytest.mark.parametrize("name", ["ua_family", "ip_service", "ip_region", "ip_prefix",
                                  "source_reason"])
def test_derived_columns_have_no_unused_categories(name):
    sub = _filtered_frame()
    assert len(sub["userAgent"].cat.categories) > 1  # the input does keep unused categories
    col = classify(sub)[name]
    assert isinstance(col.dtype, pd.CategoricalDtype)
    counts = col.value_counts()
    assert (counts > 0).all(), counts.to_dict()


def test_principal_has_no_unused_categories():
    from s3audit.sources import principal
    sub = _filtered_frame()
    cat = principal(sub)
    assert list(cat.categories) == [f"arn:aws:iam::{RECIPIENT}:user/dev"]


# --- every rule boundary at once: classify against a per-row reading of the reference ---------
_R, _O = RECIPIENT, OTHER_ACCOUNT
_POOL = {
    "userIdentity.accountId": [None, "", _R, _O, "ANONYMOUS_PRINCIPAL", "anonymous", "Anonymous",
                               "ANONYMOUS_PRINCIPAL "],
    "userIdentity.type": [None, "", "IAMUser", "AssumedRole", "AWSService", "AWSAccount", "Root",
                          "FederatedUser", "awsservice"],
    "userIdentity.invokedBy": [None, "", "athena.amazonaws.com", "AWS Internal", "AWS Internal/3",
                               "ATHENA.amazonaws.com", "lakeformation.amazonaws.com",
                               "ops.emr-serverless.amazonaws.com", "glue"],
    "userIdentity.arn": [None, "", f"arn:aws:sts::{_R}:assumed-role/r/",
                         f"arn:aws:sts::{_R}:assumed-role/r/AWSLF-00-GL-x",
                         f"arn:aws:sts::{_R}:assumed-role/r/SageMaker",
                         f"arn:aws:sts::{_R}:federated-user/bob",
                         f"arn:aws:sts::{_R}:assumed-role/r/GlueJobRunnerSession2",
                         f"arn:aws:iam::{_R}:user/dev"],
    "userIdentity.principalId": [None, "", "AROAEXAMPLEROLE00001:AWSLF-00-AT-x",
                                 "AROAEXAMPLEROLE00001:RedshiftIamRoleSession", "123456789012:bob",
                                 "AIDAEXAMPLEEXAMPLE01", _O],
    "userIdentity.inScopeOf.issuerType": [None, "", "AWS::EC2::Instance", "AWS::Lambda::Function",
                                          "aws::lambda::function"],
    "userIdentity.sessionContext.ec2RoleDelivery": [None, "", "1.0", "2.0"],
    "sourceIPAddress": [None, "", "3.112.0.0", "3.115.255.255", "3.116.0.0", "3.111.255.255",
                        "::ffff:3.112.0.9", "03.112.0.9", "AWS Internal", "athena.amazonaws.com",
                        "s3.amazonaws.com", "fe80::1%eth0", "2600:1f18::5", "10.0.0.1",
                        "100.64.0.1", "198.51.100.7", "Athena.amazonaws.com", "52.94.76.114"],
    "userAgent": [None, "", "[]", "[S3Console/0.4]", "[s3console/0.4]", "[Mozilla/5.0]",
                  "Mozilla/5.0", "[aws-internal/3]", "[aws-cli/2 exec-env/CloudShell]",
                  "exec-env/AWS_Lambda_python3.12",
                  "[Boto3/1 md/Botocore#1 exec-env/AWS_Lambda_python3.12 md/x]",
                  "[ S3Console/0.4]", "[[Mozilla/5.0]]", "athena.amazonaws.com", "AWS Internal"],
    "additionalEventData.AuthenticationMethod": [None, "", "QueryString", "querystring",
                                                 "AuthHeader"],
    "requestParameters.X-Amz-Expires": [None, "", "300", "3600", "300.0", " 300"],
    "vpcEndpointId": [None, "", OWN_VPCE, OWN_VPCE.upper(), OWN_VPCE + "9", "vpce-f40dc59d",
                      "AWS Internal"],
    "additionalEventData.vpcEndpointId": [None, "", "vpce-f40dc59d"],
    "vpcEndpointAccountId": [None, "", _R, _O],
    "recipientAccountId": [_R, None],
}
_RANGES = load_ip_ranges()


def test_classify_matches_a_per_record_reading_of_the_reference_on_edge_values():
    import random

    rng = random.Random(20261127)
    for trial in range(40):
        records = [{k: rng.choice(v) for k, v in _POOL.items()} for _ in range(40)]
        own = rng.choice([None, ["vpce-f40dc59d"]])
        accounts = rng.choice([[], [_O]])
        df = pd.DataFrame(records)
        if trial % 2:
            df = df.astype("category")
        got = list(classify(df, own_vpc_endpoints=own, own_accounts=accounts,
                            ip_ranges=_RANGES)["source"].astype(str))
        want = [reference_label(r, own, accounts) for r in records]
        mismatches = [(r, g, w) for r, g, w in zip(records, got, want) if g != w]
        assert not mismatches, mismatches[:2]


# --- ua_family names the client, not the rule: other console backends are not the S3 console --
@pytest.mark.parametrize("agent, family", [
    ("[S3Console/0.4, aws-internal/3 aws-sdk-java/1.11.783 Linux/4.9.217]", "S3 console"),
    ("[AWS-Support-TrustedAdvisor, aws-internal/3 aws-sdk-java/1.12.1]", "Trusted Advisor"),
    ("[AWSCloudTrail, aws-internal/3 aws-sdk-java/1.12.1]", "AWS console backend"),
    ("[aws-internal/3 aws-sdk-java/1.12.1]", "AWS console backend"),
])
def test_console_backends_other_than_s3_are_their_own_family(agent, family):
    from s3audit.useragent import ua_family
    assert ua_family(agent) == family
    # the access source is still rule 6's (reference §6 rule 7: "or contains aws-internal/3")
    assert labels([event(userAgent=agent)]) == ["console"]


# --- ip-ranges documents: a prefix of the wrong family is a typed error, not a crash or a miss --
@pytest.mark.parametrize("doc", [
    {"prefixes": [{"ip_prefix": "2600:1f18::/32", "service": "EC2", "region": "us-east-1"}]},
    {"prefixes": [], "ipv6_prefixes": [{"ipv6_prefix": "3.112.0.0/14", "service": "EC2",
                                        "region": "ap-northeast-1"}]},
])
def test_prefix_in_the_wrong_list_is_an_ip_ranges_error(doc):
    from s3audit.ipranges import AwsIpRanges, IpRangesError
    with pytest.raises(IpRangesError, match="prefix"):
        AwsIpRanges(doc)


def test_range_edges_network_broadcast_and_one_outside_agree_with_a_brute_force_scan():
    import gzip
    import json
    import random

    from s3audit.ipranges import BUNDLED_PATH

    doc = json.loads(gzip.decompress(BUNDLED_PATH.read_bytes()))
    nets = [(ipaddress.ip_network(p["ip_prefix"]), p["service"], p["region"])
            for p in doc["prefixes"]]
    nets += [(ipaddress.ip_network(p["ipv6_prefix"]), p["service"], p["region"])
             for p in doc["ipv6_prefixes"]]
    rng = random.Random(11)
    probes = []
    for net, _, _ in rng.sample(nets, 60):
        top = 2 ** (32 if net.version == 4 else 128) - 1
        for value in (int(net.network_address) - 1, int(net.network_address),
                      int(net.broadcast_address), int(net.broadcast_address) + 1):
            if 0 <= value <= top:
                probes.append(str(ipaddress.ip_address(value)))
    info = _RANGES.lookup_arrays(probes)
    for i, probe in enumerate(probes):
        addr = ipaddress.ip_address(probe)
        hits = [(n, s, r) for n, s, r in nets if n.version == addr.version and addr in n]
        services = sorted({s for _, s, _ in hits} | {"AMAZON"}) if hits else []
        assert info["ip_service"][i] == ",".join(services), probe
        assert info["ip_region"][i] == ",".join(sorted({r for _, _, r in hits})), probe
        best = max((n for n, _, _ in hits), key=lambda n: n.prefixlen, default=None)
        assert info["ip_prefix"][i] == (str(best) if best else None), probe


# --- role sessions are parsed once per distinct ARN / principal id ---------------------------
def test_session_names_are_parsed_once_per_distinct_identity_value(monkeypatch):
    import s3audit.sources as sources

    k = 50
    arns = [f"arn:aws:sts::{RECIPIENT}:assumed-role/LF/AWSLF-00-AT-{RECIPIENT}-{i:04x}"
            for i in range(k)] + [f"arn:aws:sts::{RECIPIENT}:assumed-role/G/GlueJobRunnerSession"]
    pids = [f"AROAEXAMPLEROLE00001:{a.rsplit('/', 1)[1]}" for a in arns]
    codes = np.arange(4 * (k + 1)) % (k + 1)
    df = pd.DataFrame({"userIdentity.arn": pd.Categorical.from_codes(codes, arns),
                       "userIdentity.principalId": pd.Categorical.from_codes(codes, pids)})
    calls = []
    real = sources.session_name
    monkeypatch.setattr(sources, "session_name", lambda t: calls.append(t) or real(t))
    out = classify(df)
    assert (out["source"] == "lake-formation").sum() == 4 * k
    assert (out["source"] == "glue").sum() == 4
    assert len(calls) <= 2 * (k + 1), len(calls)  # was 8x (rules 4, 11 x3) plus per reason


def test_lake_formation_reasons_are_one_per_engine_not_one_per_vended_session():
    sessions = [f"AWSLF-00-AT-{RECIPIENT}-{i:08x}" for i in range(30)] + \
        [f"AWSLF-00-RE-{RECIPIENT}-{i:08x}" for i in range(30)] + ["AWSLF-00-x"]
    recs = [event(i, userIdentity=role(s, "LFRegistrationRole"),
                  **{"userIdentity.invokedBy": "athena.amazonaws.com"})
            for i, s in enumerate(sessions)]
    out = classify(frame(recs))
    assert (out["source"] == "lake-formation").all()
    reasons = sorted(out["source_reason"].cat.categories)
    assert len(reasons) == 3, reasons
    assert any("'AWSLF-00-RE-…'" in r for r in reasons)
    assert any("'AWSLF-00-…'" in r for r in reasons)


@pytest.mark.parametrize("doc", [
    {"prefixes": ["3.112.0.0/14"]},
    {"prefixes": [], "ipv6_prefixes": {"ipv6_prefix": "2600:1f18::/32"}},
])
def test_malformed_prefix_entries_are_ip_ranges_errors(doc, tmp_path):
    # a corrupted live file must take refresh's fallback (it catches IpRangesError / ValueError)
    from s3audit.ipranges import AwsIpRanges, IpRangesError, load_ip_ranges
    with pytest.raises(IpRangesError):
        AwsIpRanges(doc)
    import json
    ranges = load_ip_ranges(refresh=True, cache_dir=tmp_path,
                            fetch=lambda url, timeout: json.dumps(doc).encode())
    assert ranges.origin in ("bundled", "cache")
