"""Redaction keeps the relationships it promises: consistency, /24 sharing, address class, ARN
structure, embedded identifiers, options."""
from __future__ import annotations

import ipaddress
import json

import pandas as pd
import pytest

from s3audit import redact
from s3audit.ipranges import load_ip_ranges
from s3audit.redaction import RedactionError, Redactor

from tests._report_support import sample_events

ACCOUNT = "111122223333"
VPCE = "vpce-0a1b2c3d4e5f67890"


def _frame() -> pd.DataFrame:
    rows = [
        {"eventTime": "2026-10-05T10:00:00Z", "eventName": "GetObject", "sourceIPAddress": "10.0.1.7",
         "vpcEndpointId": VPCE, "recipientAccountId": ACCOUNT,
         "userIdentity.arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/etl-role/alice",
         "userIdentity.accessKeyId": "ASIAXYZXYZXYZXYZXYZ1",
         "userIdentity.sessionContext.sessionIssuer.userName": "etl-role",
         "requestParameters.bucketName": "payroll-prod", "requestParameters.key": "2026/01/run.csv",
         "requestParameters.Host": f"payroll-prod.{VPCE}-ab12cd34.s3.us-east-1.vpce.amazonaws.com",
         "userAgent": "[aws-cli/2.17 md/host#ip-10-0-1-8.ec2.internal]"},
        {"eventTime": "2026-10-05T10:05:00Z", "eventName": "GetObject", "sourceIPAddress": "10.0.1.8",
         "vpcEndpointId": None, "recipientAccountId": ACCOUNT,
         "userIdentity.arn": f"arn:aws:iam::{ACCOUNT}:user/bob",
         "userIdentity.accessKeyId": "AKIAABCDEFGHIJKLMNOP",
         "userIdentity.sessionContext.sessionIssuer.userName": None,
         "requestParameters.bucketName": "payroll-prod", "requestParameters.key": "2026/02/run.csv",
         "requestParameters.Host": "payroll-prod.s3.us-east-1.amazonaws.com",
         "userAgent": "S3Console/0.4"},
        {"eventTime": "2026-10-05T10:10:00Z", "eventName": "GetObject", "sourceIPAddress": "athena.amazonaws.com",
         "vpcEndpointId": None, "recipientAccountId": ACCOUNT, "userIdentity.arn": None,
         "userIdentity.accessKeyId": None, "userIdentity.sessionContext.sessionIssuer.userName": None,
         "requestParameters.bucketName": "payroll-prod", "requestParameters.key": "2026/02/other.csv",
         "requestParameters.Host": None, "userAgent": "athena.amazonaws.com"},
    ]
    df = pd.DataFrame(rows)
    df["eventTime"] = pd.to_datetime(df["eventTime"], utc=True)
    for col in ("sourceIPAddress", "vpcEndpointId", "userIdentity.arn", "requestParameters.bucketName"):
        df[col] = df[col].astype("category")
    df["raw"] = [json.dumps({"sourceIPAddress": r["sourceIPAddress"], "vpcEndpointId": r["vpcEndpointId"],
                             "recipientAccountId": ACCOUNT,
                             "userIdentity": {"arn": r["userIdentity.arn"], "accessKeyId": r["userIdentity.accessKeyId"]},
                             "requestParameters": {"bucketName": r["requestParameters.bucketName"],
                                                   "key": r["requestParameters.key"],
                                                   "Host": r["requestParameters.Host"]},
                             "userAgent": r["userAgent"]}) for r in rows]
    return df


ORIGINALS = [ACCOUNT, VPCE, "10.0.1.7", "10.0.1.8", "10-0-1-8", "etl-role", "alice", "bob", "payroll-prod",
             "2026/01/run.csv", "ASIAXYZXYZXYZXYZXYZ1", "AKIAABCDEFGHIJKLMNOP"]


def test_frame_and_raw_keep_no_original_and_agree() -> None:
    r = Redactor(key="k")
    red = r.frame(_frame())
    dump = red.astype(str).to_csv()
    for original in ORIGINALS:
        assert original not in dump, original
    for i in range(len(red)):  # the raw record says what the columns say
        record = json.loads(red["raw"].iloc[i])
        assert record["sourceIPAddress"] == red["sourceIPAddress"].iloc[i]
        assert record["requestParameters"]["bucketName"] == red["requestParameters.bucketName"].iloc[i]
        assert record["userIdentity"]["arn"] == (None if pd.isna(red["userIdentity.arn"].iloc[i])
                                                 else red["userIdentity.arn"].iloc[i])


def test_same_identifier_same_token_in_frame_text_and_pattern() -> None:
    r = Redactor(key="k")
    red = r.frame(_frame())
    pattern = r.text(f'{{ $.vpcEndpointId != "{VPCE}" && $.sourceIPAddress != "10.0.1.7" }}')
    assert red["vpcEndpointId"].iloc[0] in pattern
    assert red["sourceIPAddress"].iloc[0] in pattern
    label = r.text(f"bucket payroll-prod read by arn:aws:iam::{ACCOUNT}:user/bob")
    assert red["requestParameters.bucketName"].iloc[1] in label
    assert red["userIdentity.arn"].iloc[1] in label
    # tokens are what redact() gives for the same value again
    assert r.ip("10.0.1.7") == red["sourceIPAddress"].iloc[0]
    assert r.text(label) == label  # already-redacted text is left alone


def test_embedded_identifiers_in_host_and_user_agent() -> None:
    r = Redactor(key="k")
    red = r.frame(_frame())
    host = red["requestParameters.Host"].iloc[0]
    assert host.startswith(red["requestParameters.bucketName"].iloc[0] + "." + red["vpcEndpointId"].iloc[0] + "-")
    assert host.endswith(".s3.us-east-1.vpce.amazonaws.com")
    ua = red["userAgent"].iloc[0]
    dashed = "ip-" + r.ip("10.0.1.8").replace(".", "-")
    assert dashed in ua and ua.startswith("[aws-cli/2.17")


def test_service_names_stay_readable() -> None:
    r = Redactor(key="k")
    for value in ("s3.amazonaws.com", "athena.amazonaws.com", "AWS Internal", "ANONYMOUS_PRINCIPAL",
                  "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750]"):
        assert r.text(value) == value
    assert r.field("sourceIPAddress", "athena.amazonaws.com") == "athena.amazonaws.com"
    assert r.field("vpcEndpointId", "AWS Internal") == "AWS Internal"


def test_arn_structure_readable() -> None:
    r = Redactor(key="k")
    arn = r.arn(f"arn:aws:sts::{ACCOUNT}:assumed-role/etl-role/alice")
    prefix, partition, service, region, account, resource = arn.split(":", 5)
    assert (prefix, partition, service, region) == ("arn", "aws", "sts", "")
    assert account == r.account(ACCOUNT) and account.isdigit() and len(account) == 12 and account != ACCOUNT
    kind, role, session = resource.split("/")
    assert kind == "assumed-role" and role == r.name("etl-role") and session == r.name("alice")
    s3 = r.arn("arn:aws:s3:::payroll-prod/2026/01/run.csv")
    assert s3.startswith(f"arn:aws:s3:::{r.bucket('payroll-prod')}/")
    a, b = r.key("2026/01/run.csv"), r.key("2026/02/run.csv")
    assert a.split("/")[0] == b.split("/")[0] and a.split("/")[1] != b.split("/")[1]  # shared prefix kept
    assert a.endswith(".csv") and "2026" not in a
    assert r.arn("arn:aws:iam::aws:policy/ReadOnlyAccess") == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert r.principal_id("AROAEXAMPLEID1234567:alice") == "AROAREDACTED" + r.principal_id(
        "AROAEXAMPLEID1234567:x")[12:].split(":")[0] + ":" + r.name("alice")


@pytest.mark.parametrize("a, b, shared", [
    ("10.0.1.7", "10.0.1.8", 3), ("10.0.1.7", "10.0.2.9", 2), ("10.0.1.7", "10.9.1.7", 1),
    ("8.8.8.8", "8.8.8.9", 3), ("8.8.8.8", "8.8.4.4", 2),
])
def test_addresses_sharing_a_prefix_still_share_it(a: str, b: str, shared: int) -> None:
    r = Redactor(key="k")
    ra, rb = r.ip(a).split("."), r.ip(b).split(".")
    assert ra[:shared] == rb[:shared]
    assert ra[shared] != rb[shared]
    assert r.ip(a) != a and r.ip(b) != b


def test_address_class_is_kept() -> None:
    ranges = load_ip_ranges()
    r = Redactor(key="k", ip_ranges=ranges)
    for private in ("10.1.2.3", "172.16.9.9", "192.168.7.1"):
        block = next(n for n in (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("172.16.0.0/12"),
                                 ipaddress.ip_network("192.168.0.0/16")) if ipaddress.ip_address(private) in n)
        assert ipaddress.ip_address(r.ip(private)) in block
    for aws in ("3.112.10.20", "52.216.10.1", "44.214.199.43"):
        before, after = ranges.lookup(aws), ranges.lookup(r.ip(aws))
        assert after.found and after.services == before.services and after.regions == before.regions
        assert after.prefix == before.prefix and r.ip(aws) != aws
    for external in ("8.8.8.8", "1.1.1.1", "81.2.69.160"):
        token = ipaddress.ip_address(r.ip(external))
        assert token.is_global and not ranges.lookup(str(token)).found
        assert r.ip_class(external) == r.ip_class(str(token)) == "external"


def test_wildcards_and_cidrs_follow_the_addresses() -> None:
    r = Redactor(key="k")
    token = r.ip("10.0.1.7")
    assert r.text('"10.0.1.*"') == '"' + token.rsplit(".", 1)[0] + '.*"'
    assert r.text("10.0.*") == ".".join(token.split(".")[:2]) + ".*"
    assert r.text("10.0.1.0/24") == token.rsplit(".", 1)[0] + ".0/24"


def test_no_pseudonym_equals_an_original_address() -> None:
    originals = [f"192.168.{i}.{j}" for i in range(8) for j in range(1, 30)]
    r = Redactor(key="k")
    r.learn_ips(originals)
    tokens = {r.ip(a) for a in originals}
    assert len(tokens) == len(originals)
    assert not tokens & set(originals)


def test_same_key_same_tokens_other_key_other_tokens() -> None:
    a, b, c = Redactor(key="one"), Redactor(key="one"), Redactor(key="two")
    assert a.account(ACCOUNT) == b.account(ACCOUNT) != c.account(ACCOUNT)
    assert a.name("alice") == b.name("alice") != c.name("alice")
    assert a.ip("10.0.1.7") == b.ip("10.0.1.7")


def test_options_keep_buckets_and_full_keys() -> None:
    r = Redactor(key="k", buckets=False, keys="full")
    assert r.bucket("payroll-prod") == "payroll-prod"
    token = r.key("2026/01/run.csv")
    assert "/" not in token and token.startswith("key-")
    with pytest.raises(ValueError):
        Redactor(keys="sometimes")


def test_redact_function_accepts_frame_text_and_document() -> None:
    r = Redactor(key="k")
    assert isinstance(redact(_frame(), redactor=r), pd.DataFrame)
    doc = redact({"notify": {"emails": ["secops@example.com"]}, "account": ACCOUNT,
                  "text": f"account {ACCOUNT}"}, redactor=r)
    assert "secops@example.com" not in json.dumps(doc) and ACCOUNT not in json.dumps(doc)
    assert doc["account"] == r.account(ACCOUNT) and doc["text"] == f"account {r.account(ACCOUNT)}"


def test_redacted_pattern_matches_the_same_sample_events() -> None:
    from s3audit import compile_pattern

    events = sample_events().head(3000)
    vpces = [v for v in events["vpcEndpointId"].dropna().unique() if str(v).startswith("vpce-")][:2]
    ip = str(events["sourceIPAddress"].dropna().iloc[0])
    pattern = ('{ $.eventName = "GetObject" && ($.vpcEndpointId NOT EXISTS || ('
               + " && ".join(f'$.vpcEndpointId != "{v}"' for v in vpces)
               + f')) && $.sourceIPAddress != "{ip.rsplit(".", 1)[0]}.*" }}')
    r = Redactor(key="k")
    red = r.frame(events)
    red_pattern = r.text(pattern)
    assert all(v not in red_pattern for v in vpces)
    before = compile_pattern(pattern).mask(events).to_numpy()
    after = compile_pattern(red_pattern).mask(red).to_numpy()
    assert before.sum() > 0 and (before == after).all()


def test_exhausted_space_is_a_typed_error() -> None:
    r = Redactor(key="k", ip_ranges=lambda addrs: ["52.95.110.0/30" if a.startswith("52.95.110.") else None
                                                   for a in addrs])
    originals = ["52.95.110.1", "52.95.110.2", "52.95.110.3"]
    r.learn_ips(originals)
    with pytest.raises(RedactionError) as err:
        for a in originals:
            r.ip(a)
    assert err.value.kind == "ip"


def test_every_sample_address_keeps_class_aws_prefix_and_shared_networks() -> None:
    """On all addresses of the samples: the token is of the same class (private / special-purpose /
    AWS with the same most specific prefix, services and regions / external), never an original,
    and two addresses share a /8, /16, /24 exactly when their tokens do (also across nested AWS
    prefixes of different lengths, and for documentation addresses, which stay non-global)."""
    ranges = load_ip_ranges()
    events = sample_events()
    r = Redactor(key="k", ip_ranges=ranges)
    red = r.frame(events[["sourceIPAddress"]])
    pairs = {o: t for o, t in zip(events["sourceIPAddress"].astype(object), red["sourceIPAddress"].astype(object))
             if isinstance(o, str) and r.ip_class(o)}
    assert len(pairs) > 500 and not set(pairs.values()) & set(pairs)

    def kind(a: str) -> tuple:
        addr = ipaddress.ip_address(a)
        if not addr.is_global:
            return ("special", addr.is_private)
        hit = ranges.lookup(a)
        return ("aws", hit.prefix, hit.services, hit.regions) if hit.found else ("external",)

    assert {o: kind(o) for o in pairs} == {o: kind(t) for o, t in pairs.items()}
    v4 = sorted(o for o in pairs if "." in o)
    for level in (1, 2, 3):
        groups: dict[tuple, set] = {}
        for o in v4:
            groups.setdefault(tuple(o.split(".")[:level]), set()).add(tuple(pairs[o].split(".")[:level]))
        assert all(len(g) == 1 for g in groups.values()), level  # same original prefix -> same token prefix
        assert len({next(iter(g)) for g in groups.values()}) == len(groups), level  # and only those


def test_account_in_trail_file_names_is_redacted_and_collected() -> None:
    """S3 trail files are named ``<account>_CloudTrail_<region>_…``: the underscore is no boundary
    for a word regex, and a deployment account that is only in a document is known from nowhere else."""
    from s3audit.report import collect_identifiers

    other = "999988887777"
    path = f"AWSLogs/{other}/CloudTrail/us-east-1/2026/10/05/{other}_CloudTrail_us-east-1_20261005T0010Z_a1.json.gz"
    assert other not in Redactor(key="k").text(path)
    name = path.rsplit("/", 1)[1]
    found = collect_identifiers(pd.DataFrame({"eventName": ["GetObject"]}), [{"files": [name]}])
    assert found["account"] == {other}


def test_key_folders_in_a_pattern_are_redacted_and_still_match() -> None:
    """A folder known only as a part of keys (not a key, not a listed prefix) in a pattern."""
    from s3audit import compile_pattern

    keys = ["payslips/2026/09/emp-1.pdf", "payslips/2026/08/emp-2.pdf", "public/logo.png"]
    events = pd.DataFrame({"eventName": ["GetObject"] * 3, "requestParameters.key": keys,
                           "raw": [json.dumps({"eventName": "GetObject", "requestParameters": {"key": k}})
                                   for k in keys]})
    pattern = '{ $.requestParameters.key = "payslips/2026/09/*" }'
    r = Redactor(key="k")
    red = r.frame(events)
    shown = r.text(pattern)
    assert "payslips" not in shown and "09" not in shown, shown
    before = compile_pattern(pattern).mask(events).to_numpy()
    after = compile_pattern(shown).mask(red).to_numpy()
    assert before.tolist() == after.tolist() == [True, False, False]


def test_s3audit_redact_is_the_function_even_after_the_report_was_imported() -> None:
    """The module is s3audit.redaction: a submodule named like the exported function would
    replace it on the package once imported (s3audit.redact(df) raised TypeError)."""
    import subprocess
    import sys

    code = ("import s3audit.report, s3audit; "
            "out = s3audit.redact('GetObject from 10.0.1.7 in 111122223333', key='k'); "
            "assert '10.0.1.7' not in out and '111122223333' not in out, out; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr


def test_kept_prefixes_keep_only_the_prefix() -> None:
    r = Redactor(key="k")
    lf = r.name(f"AWSLF-00-AT-{ACCOUNT}-34x1cpk8uk")
    assert lf.startswith("AWSLF-00-") and ACCOUNT not in lf and "34x1cpk8uk" not in lf
    sso = r.name("AWSReservedSSO_PayrollAdmin_4e1c2b3a5d6f7089")
    assert sso.startswith("AWSReservedSSO_") and "PayrollAdmin" not in sso and "4e1c2b3a" not in sso
    assert r.name("AWSServiceRoleForLakeFormationDataAccess") == "AWSServiceRoleForLakeFormationDataAccess"
