"""Adversarial review of the shared report's redaction: identifiers where real CloudTrail never
puts them, in shapes it never writes them, must still never reach the written report.

Each test builds a few crafted CloudTrail records (a quiet baseline plus one odd record), runs the
real pipeline (load_events -> classify -> build_report with the leak gate) and then searches the
written HTML itself, with entities, %-escapes and the embedded SVG figures decoded, for the planted
value. A refused report (LeakError) is a failure too: the user could not share anything.
"""
from __future__ import annotations

import base64
import copy
import html
import json
import re
import urllib.parse
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from s3audit import classify, load_events
from s3audit.redaction import Redactor
from s3audit.report import ReportInputs, build_report, collect_identifiers

OTHER = "444455556666"  # an account that appears nowhere but where it is planted

BASE: dict[str, Any] = {
    "additionalEventData": {"AuthenticationMethod": "AuthHeader", "SignatureVersion": "SigV4",
                            "CipherSuite": "ECDHE-RSA-AES128-GCM-SHA256", "bytesTransferredIn": 0,
                            "bytesTransferredOut": 16, "x-amz-id-2": "UnfvBMAbZ1/R6X2qt6mS8VuUp4="},
    "awsRegion": "us-east-1", "eventCategory": "Data", "eventName": "GetObject",
    "eventSource": "s3.amazonaws.com", "eventType": "AwsApiCall", "eventVersion": "1.09",
    "managementEvent": False, "readOnly": True, "recipientAccountId": "210987654321",
    "requestID": "8B42B4836665642F",
    "requestParameters": {"Host": "quiet-bucket-one.s3.us-east-1.amazonaws.com",
                          "bucketName": "quiet-bucket-one", "key": "folder/file.csv"},
    "resources": [{"ARN": "arn:aws:s3:::quiet-bucket-one/folder/file.csv", "type": "AWS::S3::Object"},
                  {"ARN": "arn:aws:s3:::quiet-bucket-one", "accountId": "210987654321",
                   "type": "AWS::S3::Bucket"}],
    "responseElements": None, "sourceIPAddress": "198.18.0.7", "userAgent": "[aws-cli/2.0]",
    "userIdentity": {"accessKeyId": "ASIAQUIETQUIETQUIET1", "accountId": "210987654321",
                     "arn": "arn:aws:iam::210987654321:user/quietuser",
                     "principalId": "AIDAQUIETQUIETQUIET2", "type": "IAMUser", "userName": "quietuser"},
}


def record(i: int, **changes: Any) -> dict[str, Any]:
    """A data event; ``changes`` set dotted paths (``userIdentity.invokedBy``) to values."""
    r = copy.deepcopy(BASE)
    r["eventID"] = f"d18642d5-1a9d-499c-9c23-{i:012x}"
    r["eventTime"] = f"2026-10-09T14:{i % 60:02d}:18Z"
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = r
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return r


def layers(document: str) -> str:
    """The document as written, entity-decoded, %-decoded, and every base64 payload decoded."""
    out = [document, html.unescape(document), urllib.parse.unquote(html.unescape(document))]
    for m in re.finditer(r"base64,([A-Za-z0-9+/=]+)", document):
        decoded = base64.b64decode(m.group(1)).decode("utf-8", "replace")
        out += [decoded, html.unescape(decoded)]
    return "\n".join(out).lower()


def shared_report(records: list[dict[str, Any]], tmp_path: Path, *, events: pd.DataFrame | None = None,
                  **inputs: Any) -> str:
    frame = events if events is not None else classify(load_events(records))
    inputs.setdefault("design", {"pattern": '{ $.eventName = "GetObject" }'})
    result = build_report(ReportInputs(events=frame, source=inputs.pop("source", "crafted"), **inputs),
                          tmp_path, key="adversarial")
    return result.path.read_text(encoding="utf-8")


def quiet(n: int = 4) -> list[dict[str, Any]]:
    return [record(i) for i in range(n)]


# ------------------------------------------------------------------ fields that are "never" data
SERVICE = {"userIdentity": {"type": "AWSService"}}


@pytest.mark.parametrize("changes, secret", [
    ({"eventName": f"GetObject {OTHER}"}, OTHER),                     # shown in the window facts
    ({"awsRegion": "us-east-1/203.0.113.77"}, "203.0.113.77"),         # shown in the window facts
    ({"awsRegion": "arn:aws:iam::444455556666:user/mallory"}, "mallory"),
    ({**SERVICE, "userIdentity.invokedBy": f"svc-{OTHER}.example.com"}, OTHER),  # the principal
    ({**SERVICE, "userIdentity.invokedBy": "10.1.2.3"}, "10.1.2.3"),
    ({**SERVICE, "userIdentity.invokedBy": "ceo@corp-example.com"}, "ceo@corp-example.com"),
], ids=["eventName-account", "awsRegion-ip", "awsRegion-arn", "invokedBy-account", "invokedBy-ip",
        "invokedBy-email"])
def test_identifier_shapes_in_fields_that_never_hold_identifiers(tmp_path, changes, secret) -> None:
    """eventName, awsRegion, invokedBy… are skipped by the redactor as never identifying; a value
    of an identifier's shape there was shown as it was (or the gate refused the whole report)."""
    page = shared_report(quiet() + [record(9, **changes)], tmp_path)
    assert secret.lower() not in layers(page)
    assert "GetObject" in page


def test_ids_and_times_in_safe_fields_are_kept_exactly() -> None:
    """The shape check must not touch what real records hold there: an eventID whose last group is
    12 digits stays (the backtest maps alarms to rows by eventID), times and region stay."""
    frame = load_events([record(1), record(2)])
    frame["eventID"] = frame["eventID"].astype(object)
    frame.loc[frame.index[0], "eventID"] = "d18642d5-1a9d-499c-9c23-123456789012"
    red = Redactor(key="k").frame(frame)
    assert red["eventID"].tolist() == frame["eventID"].tolist()
    for col in ("eventName", "awsRegion", "eventSource", "requestID", "userIdentity.type"):
        assert red[col].astype(str).tolist() == frame[col].astype(str).tolist(), col
    raw = json.loads(red["raw"].iloc[1])
    assert raw["eventTime"] == "2026-10-09T14:02:18Z" and raw["requestID"] == "8B42B4836665642F"


# ------------------------------------------------------------------ the loader's ledger
def test_skipped_line_of_a_trail_file_named_after_the_account(tmp_path) -> None:
    """A malformed line in ``AWSLogs/<acct>/…/<acct>_CloudTrail_….json`` is listed in the ledger
    with its file: the account id in that path was not redacted (the entry's field is called
    ``source``, a name the redactor skipped), so the gate refused every such report; and the
    local folder it came from was shown although the ledger shows file names only."""
    account = BASE["recipientAccountId"]
    folder = tmp_path / "home-of-someone" / "AWSLogs" / account / "CloudTrail" / "us-east-1"
    folder.mkdir(parents=True)
    trail = folder / f"{account}_CloudTrail_us-east-1_20261009T1435Z_x.json"
    trail.write_text("\n".join(json.dumps(r) for r in quiet()) + '\n{"eventVersion": "1.09", "bad\n')
    events = classify(load_events(trail))
    assert events.attrs["skipped"]  # the malformed line is in the ledger
    page = shared_report([], tmp_path / "out", events=events)
    text = layers(page)
    assert account not in text
    assert "home-of-someone" not in text and str(tmp_path).lower() not in text
    assert "_CloudTrail_us-east-1_20261009T1435Z_x.json".lower() in text  # the file is still named


# ------------------------------------------------------------------ shapes CloudTrail does not write
@pytest.mark.parametrize("changes, secret", [
    ({"vpcEndpointId": "VPCE-0FEDCBA9876543210"}, "0fedcba9876543210"),
    ({"userAgent": "[aws-cli/2.0 via VPCE-0FEDCBA9876543210-AB12CD34.s3.us-east-1.vpce.amazonaws.com]"},
     "0fedcba9876543210"),
    ({"sourceIPAddress": "10.020.030.040"}, "10.020.030.040"),
    ({"sourceIPAddress": "203.0.113.077"}, "203.0.113.077"),
], ids=["vpce-upper", "vpce-upper-in-dns", "ip-leading-zeros-private", "ip-leading-zeros-doc"])
def test_identifiers_in_unusual_spelling(tmp_path, changes, secret) -> None:
    page = shared_report(quiet() + [record(9, **changes)], tmp_path)
    assert secret not in layers(page)


def test_leading_zero_address_keeps_its_class_and_network() -> None:
    """An address written with leading zeros is read as decimal octets (not octal) and gets the
    pseudonym of the address it spells, so it still shares its /24 with its neighbours."""
    r = Redactor(key="k")
    assert r.ip("10.020.030.040") == r.ip("10.20.30.40")
    assert r.ip("10.020.030.041").rsplit(".", 1)[0] == r.ip("10.20.30.40").rsplit(".", 1)[0]
    assert r.ip("10.020.030.040").startswith("10.")
    assert "10.020.030.040" in r.identifiers()["ip"]


# ------------------------------------------------------------------ encoded and run-together forms
@pytest.mark.parametrize("agent, secrets", [
    ("[aws-cli/2.0 arn%3Aaws%3Aiam%3A%3A444455556666%3Auser%2Fmallory]", [OTHER, "mallory"]),
    ("[aws-cli/2.0 from=203.0.113.99%2C10.1.1.1]", ["10.1.1.1", "203.0.113.99"]),
    ("[aws-cli/2.0 user=ceo.person%40corp-example.com]", ["ceo.person"]),
    ("[aws-cli/2.0 user=ceo.person%2540corp-example.com]", ["ceo.person"]),  # encoded twice
    ("[aws-cli/2.0 user=ceo.person\\u0040corp-example.com]", ["ceo.person"]),  # JSON escape as text
    ("[aws-cli/2.0 user=ceo.person&#64;corp-example.com]", ["ceo.person"]),     # HTML entity as text
    ("[aws-cli/2.0 account 2109-8765-4321]", ["2109-8765-4321", "210987654321"]),  # console spelling
    ("[aws-cli/2.0 acct210987654321 md/x]", ["210987654321"]),  # a known account run into a word
], ids=["pct-arn", "pct-ip-list", "pct-email", "pct-pct-email", "json-escaped-email",
        "entity-email", "dashed-account", "account-after-letters"])
def test_encoded_or_run_together_identifiers_in_free_text(tmp_path, agent, secrets) -> None:
    page = shared_report(quiet() + [record(9, userAgent=agent)], tmp_path)
    text = layers(page)
    for secret in secrets:
        assert secret.lower() not in text, secret


def test_decoding_only_when_it_reveals_an_identifier() -> None:
    """Encoded text that hides nothing is left exactly as it was (user agents are evidence)."""
    r = Redactor(key="k")
    agent = "Mozilla%2F5.0%20(Windows%20NT%2010.0)%20x&amp;y \\u0041"
    assert r.text(agent) == agent
    assert r.text("a%40b") == "a%40b"


def test_gate_collects_escaped_emails_and_finds_run_together_accounts() -> None:
    """The gate does not rely on the redactor alone: an e-mail written as ``%40`` in the raw
    records is collected, and a collected account id run into letters is still a finding."""
    from s3audit.leakscan import find_leaks

    frame = load_events([record(1, userAgent="[x user=ceo.person%40corp-example.com]")])
    assert "ceo.person@corp-example.com" in collect_identifiers(frame)["email"]
    leaks = find_leaks("<td>acct210987654321</td><td>2109-8765-4321</td>", {"account": ["210987654321"]})
    assert [leak.identifier for leak in leaks] == ["210987654321", "2109-8765-4321"]
    assert find_leaks("<td>1210987654321</td>", {"account": ["210987654321"]}) == []
    assert [leak.identifier for leak in find_leaks(r"<td>a\u0040b.example</td>", {"email": ["a@b.example"]})] \
        == ["a@b.example"]


# ------------------------------------------------------------------ the design, pattern and plan
@pytest.mark.parametrize("pattern, secret", [
    ('{ $.eventName = "GetObject" && $.userIdentity.userName != "departed-admin" }', "departed-admin"),
    ('{ $.requestParameters.bucketName = "crown-jewels-prod" }', "crown-jewels-prod"),
    ('{ $.requestParameters.key = "hr/salaries-2026.xlsx" }', "salaries-2026"),
    ('{ $.userIdentity.principalId = "AROAQQQQQQQQQQQQQQQQ1:jsmith" }', "jsmith"),
    ('{ $.userIdentity.sessionContext.sessionIssuer.userName = "BreakGlassRole" }', "breakglassrole"),
], ids=["userName", "bucketName", "key", "principalId-session", "issuer-userName"])
def test_identifiers_only_in_the_pattern(tmp_path, pattern, secret) -> None:
    """A pattern names a bucket, user or key that no event of the window has: the value of a
    clause on an identifying field is an identifier however the data looks (it was shown, and the
    gate did not know it)."""
    page = shared_report(quiet(), tmp_path, design={"pattern": pattern})
    assert secret.lower() not in layers(page)


def test_pattern_values_keep_matching_after_redaction(tmp_path) -> None:
    """Clause values are redacted with the same tokens as the data, so the redacted pattern still
    matches the same events (the report's own consistency check says so)."""
    pattern = '{ $.userIdentity.userName = "quietuser" && $.requestParameters.bucketName = "quiet-bucket-one" }'
    page = shared_report(quiet(), tmp_path, design={"pattern": pattern})
    assert "matches exactly the same events" in page
    assert "quietuser" not in page.lower() and "quiet-bucket-one" not in page.lower()


def test_identifiers_only_in_the_design_document(tmp_path) -> None:
    """Exclusions list values per field (and may key them by value): those are identifiers of that
    field even when the window has no event with them."""
    design = {"pattern": '{ $.eventName = "GetObject" }', "exclusions": [
        {"id": "value:user", "field": "userIdentity.userName", "values": ["departed-admin"],
         "justification": "left the company"},
        {"id": "source:ec2", "source": "ec2", "justification": "j",
         "match": {"field": "requestParameters.bucketName", "equals": "crown-jewels-prod"}},
        {"id": "value:ip", "field": "sourceIPAddress", "values": {"10.44.55.66": "bastion host"},
         "justification": "the bastion"},
    ]}
    page = shared_report(quiet(), tmp_path, design=design)
    text = layers(page)
    for secret in ("departed-admin", "crown-jewels-prod", "10.44.55.66"):
        assert secret not in text, secret
    assert "left the company" in text and "bastion host" in text


def test_gate_collects_values_named_in_patterns_and_exclusions() -> None:
    """Independently of the redactor, the gate knows the identifiers a design names."""
    frame = load_events(quiet(1))
    design = {"pattern": '{ $.userIdentity.userName != "departed-admin" && '
                         '$.userIdentity.principalId != "AROAQQQQQQQQQQQQQQQQ1:jsmith" && '
                         '$.requestParameters.bucketName = "crown-*" }',
              "exclusions": [{"field": "sourceIPAddress", "values": {"10.44.55.66": "bastion"}},
                             {"match": {"field": "requestParameters.bucketName", "equals": "crown-jewels-prod"}}]}
    found = collect_identifiers(frame, [design])
    assert {"departed-admin", "jsmith"} <= found["name"]
    assert "AROAQQQQQQQQQQQQQQQQ1" in found["principal-id"]
    assert "10.44.55.66" in found["ip"]
    assert "crown-jewels-prod" in found["bucket"] and "crown-*" not in found["bucket"]


@pytest.mark.parametrize("pattern, secret", [
    ('{ $.userIdentity.userName = "departed-admin" && }', "departed-admin"),
    ('{ $.sourceIPAddress = "10.77.1.2" && $.x = }', "10.77.1.2"),
    ('{ $.userIdentity.arn = %arn:aws:iam::444455556666:user/mallory% || }', OTHER),
], ids=["name", "address", "arn-in-regex"])
def test_a_pattern_that_does_not_compile_is_reported_redacted(tmp_path, pattern, secret) -> None:
    """The backtest's error message quotes the pattern: it was put in the report unredacted, so
    the gate refused the whole report (a user with a broken pattern could share nothing)."""
    page = shared_report(quiet(), tmp_path, design={"pattern": pattern})
    assert secret not in layers(page)
    assert "Some sections are incomplete" in page and "backtest:" in page


@pytest.mark.parametrize("name", ["山田太郎", "Ωmega", "jürgen"])
def test_non_ascii_names_seen_in_structured_fields_are_replaced_in_free_text(tmp_path, name) -> None:
    """Known names were indexed by their first ASCII letter-or-digit run: a name without one was
    never replaced in free text, and the gate did not search for it either."""
    saml = {"userIdentity": {"type": "SAMLUser", "principalId": f"SAML:{name}", "userName": name},
            "userAgent": f"[app/1.0 user={name}]"}
    page = shared_report(quiet() + [record(9, **saml)], tmp_path)
    assert name.lower() not in layers(page)


def test_gate_searches_identifiers_without_ascii_letters() -> None:
    from s3audit.leakscan import find_leaks

    leaks = find_leaks("<td>[app/1.0 user=山田太郎]</td>", {"name": ["山田太郎"]})
    assert [leak.identifier for leak in leaks] == ["山田太郎"]
    assert find_leaks("<td>山田太郎x</td>", {"name": ["山田太郎"]}) == []  # still on word boundaries


def test_text_whose_lower_case_is_longer_keeps_offsets() -> None:
    """``"İ".lower()`` is two characters: offsets found in the lower-cased text were applied to
    the original, so a known name after a few of them was cut wrongly and left readable."""
    r = Redactor(key="k")
    token = r.name("quietuser")
    out = r.text("İİİİİİİİİİİİ user=quietuser end")
    assert out == f"İİİİİİİİİİİİ user={token} end"


@pytest.mark.parametrize("arn, secret", [
    ("10.1.2.3", "10.1.2.3"),
    ("AKIAZZZZYYYYXXXXWWWW", "AKIAZZZZYYYYXXXXWWWW"),
    ("vpce-0fedcba9876543210", "0fedcba9876543210"),
    ("user bob@corp-example.com", "bob@corp-example.com"),
    ("quietuser", "quietuser"),
    ("arn:aws:iam::aws:user/mallory", "mallory"),
], ids=["address", "access-key", "endpoint", "email", "known-name", "aws-account-not-a-policy"])
def test_an_arn_field_that_holds_no_arn(tmp_path, arn, secret) -> None:
    """``userIdentity.arn`` is shown as the principal: a value there that is not an ARN was
    returned as it was (addresses and key ids reached the report; other values made the gate
    refuse it); only AWS-managed policies keep the ``aws`` account readable."""
    identity = {"type": "IAMUser", "accountId": "210987654321", "arn": arn,
                "principalId": "AIDAQUIETQUIETQUIET2", "userName": "quietuser"}
    page = shared_report(quiet() + [record(9, userIdentity=identity)], tmp_path)
    assert secret.lower() not in layers(page)


def test_aws_managed_policy_arns_stay_readable() -> None:
    r = Redactor(key="k")
    assert r.arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess") == "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


@pytest.mark.parametrize("agent, secret", [
    ("[app/1 key_AKIAZZZZYYYYXXXXWWWW_end]", "AKIAZZZZYYYYXXXXWWWW"),
    ("[app/1 client_203.0.113.88_x]", "203.0.113.88"),
    ("[app/1 endpoint_vpce-0fedcba9876543210]", "0fedcba9876543210"),
    ("[app/1 host_ip-10-9-8-7.ec2.internal]", "10-9-8-7"),
    ("[app/1 net_subnet-0123456789abcdef0]", "0123456789abcdef0"),
], ids=["access-key", "address", "endpoint", "dashed-address", "subnet"])
def test_identifier_shapes_next_to_an_underscore(tmp_path, agent, secret) -> None:
    """``\\b`` and ``(?<!\\w)`` treat ``_`` as part of a word, so ``key_AKIA…`` or
    ``client_203.0.113.88`` was not recognised (and unknown to the gate)."""
    page = shared_report(quiet() + [record(9, userAgent=agent)], tmp_path)
    assert secret.lower() not in layers(page)


def test_shapes_inside_words_are_still_not_identifiers() -> None:
    """The boundaries stay letter/digit boundaries: a version or a longer hex run is left alone."""
    r = Redactor(key="k")
    for text in ("Python/3.10.1.2.3", "sha256AKIAZZZZYYYYXXXXWWWWx", "myvpce-0fedcba9876543210"):
        assert r.text(text) == text, text


def test_addresses_named_only_in_documents_are_never_a_pseudonym(tmp_path) -> None:
    """Addresses were registered from the events only: an address that only the design names
    could be the pseudonym already given to an event's address (in a /24 one chance in ~250),
    and then the gate refused the report. Plant exactly that: the design names the address the
    events' address would become."""
    records = quiet()
    probe = Redactor(key="adversarial")
    taken = probe.ip(BASE["sourceIPAddress"])
    design = {"pattern": f'{{ $.eventName = "GetObject" && $.sourceIPAddress != "{taken}" }}',
              "exclusions": [{"id": "value:ip", "field": "sourceIPAddress", "values": [taken],
                              "justification": "the build server"}]}
    page = shared_report(records, tmp_path, design=design)
    assert taken not in layers(page) and BASE["sourceIPAddress"] not in layers(page)


def test_zero_padded_addresses_are_registered_as_originals() -> None:
    """``learn_ips`` skipped ``10.020.030.040`` (not parseable), so another address could be given
    ``10.20.30.40`` as its pseudonym although the data holds it (padded)."""
    taken = Redactor(key="k").ip("10.20.30.1")  # what 10.20.30.1 becomes when nothing is in the way
    padded = ".".join(f"{int(octet):03d}" for octet in taken.split("."))
    r = Redactor(key="k")
    r.learn_ips([padded, "10.20.30.1"])
    assert r.ip("10.20.30.1") != taken


# ------------------------------------------------------------------ HTML and real records
def test_html_in_the_data_is_escaped_everywhere(tmp_path) -> None:
    agent = '"><img src=x onerror=alert(1)><script>alert(2)</script><!--'
    records = quiet() + [record(9, userAgent=agent, vpcEndpointId="</td><script>x</script>",
                                awsRegion="<b>us-east-1</b>")]
    page = shared_report(records, tmp_path, design={"pattern": '{ $.userAgent = "<script>*" }'})
    assert "<script" not in page.lower() and "<img src=x" not in page and "<!--" not in page
    assert "&lt;script&gt;" in page


REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld"


def _leaves(obj: Any, path: str = ""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, f"{path}.{i}")
    elif isinstance(obj, str):
        yield path, obj


@pytest.mark.parametrize("name", ["ibm-universal-connectors-s3/s3_cloudtrail_samples.jsonl",
                                  "otrf-security-datasets/ec2_proxy_s3_exfiltration_s3_records.jsonl"])
def test_real_records_no_identifying_value_survives(tmp_path, name) -> None:
    """Independent of the gate's own collector: every string of an identifying field of the real
    records (by field name), and every address-, key- or account-shaped string anywhere in them."""
    from s3audit.redaction import PROTECTED, field_handler

    path = REALWORLD / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    events = classify(load_events(path))
    page = shared_report([], tmp_path, events=events, source=path.name)
    text = layers(page)
    values = set()
    for rec in records:
        for field, value in _leaves(rec):
            if value.lower() in PROTECTED or value.endswith(".amazonaws.com") or value.startswith("<") \
                    or value.isalpha():  # a plain word (a key named VERSION) is a word of the page too
                continue
            if field_handler(field) or re.fullmatch(r"\d{12}|(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}", value):
                values.add(value)
            values.update(re.findall(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])", value))
    assert len(values) > 10
    leaked = {v for v in values if re.search(rf"(?<![a-z0-9]){re.escape(v.lower())}(?![a-z0-9])", text)}
    assert not leaked


@pytest.mark.parametrize("address", ["jürgen.müller@firma.de", "josé@bücher.example", "ops@例え.jp"])
def test_internationalised_email_addresses(tmp_path, address) -> None:
    """E-mail shapes were ASCII only: a subscription to ``jürgen.müller@firma.de`` in the
    deployment plan (or the data-source text) was shown and unknown to the gate."""
    plan = {"kind": "deploy", "name": "s3-unexpected-reads", "region": "us-east-1",
            "changes": [{"resource_type": "AWS::SNS::Subscription", "name": address, "action": "create"}],
            "text": f"subscribe {address}"}
    page = shared_report(quiet(), tmp_path, plan=plan, source=f"export by {address}")
    text = layers(page)
    assert address not in text and address.split("@")[1] not in text
    assert address.split("@")[0] not in text or len(address.split("@")[0]) < 5  # "ops" is a word
    assert "@redacted.invalid" in page


@pytest.mark.parametrize("options", [{"buckets": False}, {"keys": False}], ids=["keep-buckets", "keep-keys"])
def test_kept_bucket_and_key_names_still_lose_the_account_id(tmp_path, options) -> None:
    """--keep-buckets kept ``sagemaker-us-east-1-210987654321`` whole, account id included, so the
    gate refused every report of a bucket named the way AWS names its own; the name stays, the
    account id in it is redacted (and a pattern on it still matches)."""
    bucket = "sagemaker-us-east-1-210987654321"
    records = [record(i, requestParameters={"bucketName": bucket, "key": f"AWSLogs/210987654321/x{i}.json",
                                            "Host": f"{bucket}.s3.amazonaws.com"}) for i in range(4)]
    events = classify(load_events(records))
    design = {"pattern": f'{{ $.requestParameters.bucketName = "{bucket}" && '
                         f'$.requestParameters.key = "AWSLogs/210987654321/x1.json" }}'}
    result = build_report(ReportInputs(events=events, design=design), tmp_path, key="k", redaction=options)
    page = result.path.read_text(encoding="utf-8")
    assert "210987654321" not in layers(page)
    assert "matches exactly the same events" in page
    if options == {"buckets": False}:
        assert "sagemaker-us-east-1-" in page


def test_many_external_addresses_all_get_pseudonyms() -> None:
    """An external /16 was mapped without asking whether the pseudonym /16 is AWS space; when it
    was entirely AWS (52.17.0.0/16…), no /24 under it was acceptable and ``ip`` raised
    RedactionError: the report of any window with a few hundred external callers failed (about
    one external address in 25). Every external address gets an external, non-AWS pseudonym."""
    import random

    rnd = random.Random(7)
    r = Redactor(key="k")
    addresses: list[str] = []
    while len(addresses) < 400:
        a = f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
        if r.ip_class(a) == "external":
            addresses.append(a)
    r.learn_ips(addresses)
    tokens = {a: r.ip(a) for a in addresses}
    assert all(r.ip_class(t) == "external" for t in tokens.values())
    for a, b in zip(addresses, addresses[1:]):  # prefixes still shared exactly as the originals do
        for octets in (1, 2, 3):
            same = a.split(".")[:octets] == b.split(".")[:octets]
            assert (tokens[a].split(".")[:octets] == tokens[b].split(".")[:octets]) == same


@pytest.mark.parametrize("agent, secret", [
    ("[x,609145835630}y]", "609145835630"),
    ("[host.609145835630]", "609145835630"),
    ("[x.203.0.113.121/y]", "203.0.113.121"),
    ("[x.203.0.113.1&#50;1/y]", "203.0.113.121"),
    ("[x.2a05:d018:eaa5:1b8c:e351:affb:8bac:30f2?y]", "eaa5:1b8c"),
    ("[x&2a05:d018:878e:6968:3ecf:9b2b:ecbb:8816:y]", "878e:6968"),
    ("[x:2a05:d018:e98a:771c:149b:bde4:a7d1:73d7[y]", "e98a:771c"),
], ids=["account-after-comma", "account-after-dot", "address-after-dot", "address-after-dot-escaped",
        "ipv6-after-dot", "ipv6-before-colon", "ipv6-after-colon"])
def test_identifiers_after_punctuation(tmp_path, agent, secret) -> None:
    """Found by fuzzing: a 12-digit id after ',' or '.' and an address after 'x.' were taken for
    parts of longer numbers; only a digit before the separator makes them that."""
    page = shared_report(quiet() + [record(9, userAgent=agent)], tmp_path)
    assert secret not in layers(page)


def test_numbers_and_versions_are_not_identifiers() -> None:
    r = Redactor(key="k")
    for text in ("rate 0.609145835630", "1,609145835630", "kernel 4.14.255.1.2", "v3.10.0.1.7",
                 "12:34:56", "00:1a:2b:3c:4d:5e"):
        assert r.text(text) == text, text


def test_external_ipv6_addresses_in_a_partly_aws_prefix() -> None:
    """Found by fuzzing: external addresses in 2a05:d018::/32, whose first part is AWS space
    (2a05:d018::/35…) and whose /32 an AWS address there keeps, were looked for a free /48 in
    4,096 *consecutive* candidates: starting inside the AWS part, none was acceptable and
    ``ip`` raised RedactionError (the report failed). Candidates are now spread over the space."""
    import random

    rnd = random.Random(3)
    r = Redactor(key="k")
    addresses = ["2a05:d018:1d1e:a9b8:4224:18e0:fdda:d072"]  # AWS: pins the /32
    while len(addresses) < 200:
        a = "2a05:d018:" + ":".join("%x" % rnd.randint(0, 0xFFFF) for _ in range(6))
        if r.ip_class(a) == "external":
            addresses.append(a)
    r.learn_ips(addresses)
    tokens = [r.ip(a) for a in addresses]
    assert r.ip_class(tokens[0]) == "aws"
    assert all(r.ip_class(t) == "external" for t in tokens[1:])
    assert len(set(tokens)) == len(tokens)


def test_pattern_inside_a_json_string_of_a_document(tmp_path) -> None:
    """A CloudFormation template kept as JSON text in the plan writes the pattern's quotes as
    ``\\"``: clause values there were not recognised (by the redactor nor by the gate)."""
    template = json.dumps({"Resources": {"Filter": {"Type": "AWS::Logs::MetricFilter", "Properties": {
        "FilterPattern": '{ $.userIdentity.userName != "departed-admin" }'}}}})
    plan = {"kind": "deploy", "name": "s3-unexpected-reads", "region": "us-east-1", "text": template}
    page = shared_report(quiet(), tmp_path, plan=plan)
    assert "departed-admin" not in layers(page)
    assert "departed-admin" in collect_identifiers(load_events(quiet(1)), [plan])["name"]


def test_cut_excerpts_of_skipped_input_are_not_shared(tmp_path) -> None:
    """The loader quotes the first 80 characters of a file that is not JSON; cut there, an
    account id keeps 10 of its 12 digits (``arn:aws:iam::4444555566``), which no shape recognises.
    The shared report names the skip without the excerpt."""
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(json.dumps(r) for r in quiet()) + "\n")
    bad = tmp_path / "export.jsonl"
    bad.write_text("2022-02-18T10:00:00Z,HeadBucket,curl/7.1,x,yyyyyyyyyyyyy,"
                   "arn:aws:iam::444455556666:user/mallory-admin,x\nmore,rows\n")
    events = classify(load_events([good, bad]))
    assert "4444555566" in events.attrs["skipped"][0]["reason"]  # the loader's excerpt, cut
    page = shared_report([], tmp_path / "out", events=events)
    assert "4444555566" not in layers(page)
    assert "not JSON" in page and "export.jsonl" in page


def test_custom_suffix_of_a_service_linked_role_is_redacted(tmp_path) -> None:
    """``AWSServiceRoleFor<Service>`` is AWS's name and stays; the custom suffix a customer may add
    (``AWSServiceRoleForAutoScaling_payroll-batch``) is the customer's and was kept with it."""
    r = Redactor(key="k")
    assert r.name("AWSServiceRoleForAutoScaling") == "AWSServiceRoleForAutoScaling"
    shown = r.name("AWSServiceRoleForAutoScaling_payroll-batch")
    assert shown.startswith("AWSServiceRoleForAutoScaling_") and "payroll" not in shown
    arn = "arn:aws:sts::210987654321:assumed-role/AWSServiceRoleForAutoScaling_payroll-batch/AutoScaling"
    identity = {"type": "AssumedRole", "accountId": "210987654321", "arn": arn,
                "principalId": "AROAQQQQQQQQQQQQQQQQ1:AutoScaling"}
    page = shared_report(quiet() + [record(9, userIdentity=identity)], tmp_path)
    assert "payroll-batch" not in layers(page)
