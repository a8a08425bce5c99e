"""Compliance: every vector of filter-pattern-vectors.jsonl and every pattern of cis-patterns.json.

Vectors: the pattern compiles (or is rejected with PatternError when the vector says
InvalidParameterException), ``matches`` gives the recorded answer on the raw event and on the parsed
dict, ``mask`` gives it on a frame of all vector events, documented ``extractedValues`` are
reproduced, and the canonical rendering behaves the same. CIS patterns: parse, round-trip through
``str``, and behave on hand-made CloudTrail events as their intent says.
"""
from __future__ import annotations

import json

import pytest

from s3audit.pattern import FilterPattern, PatternError, compile_pattern
from tests._pattern_support import as_complete_pattern, cis_patterns, make_frame, vectors

VECTORS = vectors()
CIS = cis_patterns()


def _vid(i_v):
    i, v = i_v
    return f"{i}-{v['pattern'][:40]}"


def test_vector_file_is_complete():
    assert len(VECTORS) == 138
    assert len(CIS) == 38


@pytest.mark.parametrize("i_v", list(enumerate(VECTORS)), ids=_vid)
def test_vector(i_v):
    _i, v = i_v
    if "error" in v:
        with pytest.raises(PatternError) as info:
            compile_pattern(v["pattern"])
        assert 0 <= info.value.position <= len(v["pattern"])
        assert info.value.pattern == v["pattern"]
        return
    p = compile_pattern(v["pattern"])
    assert isinstance(p, FilterPattern)
    assert p.matches(v["event"]) is v["match"], v["note"]
    try:
        doc = json.loads(v["event"])
    except ValueError:
        doc = None
    if isinstance(doc, dict):  # the same answer on the parsed event
        assert p.matches(doc) is v["match"]
    # the canonical rendering compiles to the same tree and gives the same answer
    again = compile_pattern(str(p))
    assert again.ast == p.ast
    assert again.matches(v["event"]) is v["match"]
    if "extracted" in v:
        got = p.extract(v["event"])
        assert got.matched is True
        assert got.extracted_values == v["extracted"]


FRAME = make_frame([v["event"] for v in VECTORS])
STRING_FRAME = make_frame([v["event"] for v in VECTORS], string_columns=list(FRAME.columns))


@pytest.mark.parametrize("i_v", [(i, v) for i, v in enumerate(VECTORS) if "error" not in v], ids=_vid)
def test_vector_mask_equals_matches_on_all_vector_events(i_v):
    _i, v = i_v
    p = compile_pattern(v["pattern"])
    expected = [p.matches(e) for e in FRAME["raw"]]
    assert p.mask(FRAME).tolist() == expected
    assert p.mask(STRING_FRAME).tolist() == expected
    # and the vector's own row carries the recorded answer
    assert expected[_i] is v["match"]


# ----------------------------------------------------------------------------- CIS patterns
@pytest.mark.parametrize("c", CIS, ids=[c["id"] for c in CIS])
def test_cis_pattern_parses_and_round_trips(c):
    text = as_complete_pattern(c["pattern"])
    p = compile_pattern(text)
    assert p.kind == "json"
    rendered = str(p)
    again = compile_pattern(rendered)
    assert again.ast == p.ast
    assert str(again) == rendered  # canonical form is a fixed point


def ct(**fields):
    """A hand-made CloudTrail record (only the fields a case needs, nested by dots)."""
    rec: dict = {"eventVersion": "1.09", "eventTime": "2026-10-05T00:00:00Z", "awsRegion": "us-east-1",
                 "eventType": "AwsApiCall", "sourceIPAddress": "198.51.100.7",
                 "userIdentity": {"type": "IAMUser", "accountId": "111122223333",
                                  "arn": "arn:aws:iam::111122223333:user/bob"}}
    for key, value in fields.items():
        parts = key.split("__")
        node = rec
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if value is _DROP:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    return rec


_DROP = object()

ROOT = [
    (ct(userIdentity__type="Root", eventName="ConsoleLogin"), True),
    (ct(userIdentity__type="Root", userIdentity__invokedBy="support.amazonaws.com"), False),
    (ct(userIdentity__type="Root", eventType="AwsServiceEvent"), False),
    (ct(userIdentity__type="IAMUser"), False),
]
UNAUTHORIZED = [
    (ct(errorCode="Client.UnauthorizedOperation", eventName="RunInstances"), True),
    (ct(errorCode="AccessDenied", eventName="GetObject"), True),
    (ct(errorCode="AccessDeniedException", eventName="Decrypt"), True),
    (ct(errorCode="NoSuchKey", eventName="GetObject"), False),
    (ct(eventName="GetObject"), False),
]
CONSOLE_NO_MFA = [
    (ct(eventName="ConsoleLogin", additionalEventData__MFAUsed="No",
        responseElements__ConsoleLogin="Success"), True),
    (ct(eventName="ConsoleLogin", additionalEventData__MFAUsed="Yes",
        responseElements__ConsoleLogin="Success"), False),
    # the != trap: without MFAUsed the condition is false, so no alarm
    (ct(eventName="ConsoleLogin", responseElements__ConsoleLogin="Success"), False),
    (ct(eventName="GetObject", additionalEventData__MFAUsed="No"), False),
]
CONSOLE_FAILURES = [
    (ct(eventName="ConsoleLogin", errorMessage="Failed authentication"), True),
    (ct(eventName="ConsoleLogin", responseElements__ConsoleLogin="Success"), False),
]
EC2_LARGE = [
    (ct(eventName="RunInstances", requestParameters__instanceType="c5.8xlarge"), True),
    (ct(eventName="RunInstances", requestParameters__instanceType="m6i.4xlarge"), True),
    (ct(eventName="RunInstances", requestParameters__instanceType="t3.micro"), False),
    (ct(eventName="StopInstances", requestParameters__instanceType="c5.8xlarge"), False),
]
SPECIAL: dict[str, list] = {
    "SecurityHub CloudWatch.1": ROOT,
    "CIS v1.4+ 4.3 (spaced)": ROOT,
    "SecurityHub CloudWatch.2": UNAUTHORIZED,
    "CloudTrail-doc AuthorizationFailures": UNAUTHORIZED,
    "SecurityHub CloudWatch.3": CONSOLE_NO_MFA + [
        (ct(eventName="ConsoleLogin", additionalEventData__MFAUsed="No",
            responseElements__ConsoleLogin="Failure"), False),
        (ct(eventName="ConsoleLogin", userIdentity__type="Root", additionalEventData__MFAUsed="No",
            responseElements__ConsoleLogin="Success"), False)],
    "CIS v1.2.0 3.2 (earlier Security Hub text)": CONSOLE_NO_MFA,
    "CIS v1.2.0 3.2 (variant)": CONSOLE_NO_MFA,
    "SecurityHub CloudWatch.6": CONSOLE_FAILURES,
    "CloudTrail-doc ConsoleSignInFailures": CONSOLE_FAILURES,
    "CloudTrail-doc EC2LargeInstanceChanges": EC2_LARGE,
    "CIS v1.4+/v1.5 4.1 (benchmark text)": [
        (ct(errorCode="AccessDenied", eventName="GetObject"), True),
        # precedence: a || (b && c && d) - the exclusions only apply to AccessDenied*
        (ct(errorCode="AccessDenied", eventName="HeadBucket"), False),
        (ct(errorCode="Client.UnauthorizedOperation", eventName="HeadBucket"), True),
        (ct(errorCode="AccessDenied", sourceIPAddress="delivery.logs.amazonaws.com"), False),
    ],
    "CIS v1.3.0 4.1 (as printed by some audits)": [
        # the all-|| variant matches almost everything: any event with a sourceIPAddress not delivery.logs
        (ct(eventName="GetObject"), True),
        (ct(eventName="HeadBucket", sourceIPAddress="delivery.logs.amazonaws.com"), False),
    ],
    "CIS 4.1 (nozaq secure-baseline)": [
        (ct(errorCode="AccessDenied", eventName="GetObject"), True),
        (ct(errorCode="AccessDenied", eventName="HeadBucket"), False),
        (ct(errorCode="Client.UnauthorizedOperation", eventName="HeadBucket"), False),
    ],
    "nozaq IAMUserConsoleSignin": [
        (ct(eventName="ConsoleLogin", responseElements__ConsoleLogin="Success"), True),
        (ct(eventName="ConsoleLogin", responseElements__ConsoleLogin="Failure"), False),
        (ct(eventName="ConsoleLogin", userIdentity__type="Root", responseElements__ConsoleLogin="Success"), False),
    ],
    "azul api_unauthorized (before fix)": [
        (ct(errorCode="AccessDenied", eventSource="ec2.amazonaws.com", eventName="DescribeInstances"), True),
        (ct(errorCode="AccessDenied", eventSource="s3.amazonaws.com", eventName="GetObject",
            userIdentity__invokedBy="cloudfront.amazonaws.com"), False),
        (ct(errorCode="AccessDenied", eventSource="s3.amazonaws.com", eventName="GetObject",
            userIdentity__invokedBy="athena.amazonaws.com"), True),
        # the bug azul hit: no invokedBy -> every invokedBy != clause is false -> never counted
        (ct(errorCode="AccessDenied", eventSource="s3.amazonaws.com", eventName="GetObject",
            userIdentity__accountId="anonymous"), False),
        (ct(errorCode="AccessDenied", eventSource="ec2.amazonaws.com", eventName="CreateNetworkInterface"), False),
    ],
    "azul anonymous-S3 exclusion clause (after fix)": [
        (ct(eventSource="s3.amazonaws.com", userIdentity__accountId="anonymous",
            requestParameters__bucketName="<qualified-bucket-prefix>-public"), False),
        (ct(eventSource="s3.amazonaws.com", userIdentity__accountId="anonymous",
            requestParameters__bucketName="private-bucket"), True),
        (ct(eventSource="s3.amazonaws.com", userIdentity__accountId="444455556666",
            requestParameters__bucketName="<qualified-bucket-prefix>-public"), True),
        (ct(eventSource="s3.amazonaws.com", userIdentity__accountId=_DROP,
            requestParameters__bucketName="<qualified-bucket-prefix>-public"), True),
        (ct(eventSource="kms.amazonaws.com", userIdentity__accountId="anonymous"), True),
    ],
    "S3-AUDIT-1 (template, not published)": [
        (ct(eventSource="s3.amazonaws.com", eventName="GetObject"), True),
        (ct(eventSource="s3.amazonaws.com", eventName="GetObject", vpcEndpointId="vpce-0a1b2c3d4e5f67890"), False),
        (ct(eventSource="s3.amazonaws.com", eventName="GetObject", vpcEndpointId="vpce-11111111111111111"), False),
        (ct(eventSource="s3.amazonaws.com", eventName="GetObject", vpcEndpointId="vpce-99999999999999999"), True),
        (ct(eventSource="s3.amazonaws.com", eventName="PutObject"), False),
    ],
    "S3-AUDIT-2 (template, not published)": [
        (ct(eventSource="s3.amazonaws.com", eventName="GetObject", sourceIPAddress="192.0.2.10"), True),
        (ct(eventSource="s3.amazonaws.com", eventName="GetObject", sourceIPAddress="198.51.100.10"), False),
        (ct(eventSource="s3.amazonaws.com", eventName="GetObject", sourceIPAddress="203.0.113.99"), False),
        (ct(eventSource="s3.amazonaws.com", eventName="GetObject", sourceIPAddress="192.0.2.10",
            vpcEndpointId="vpce-0a1b2c3d4e5f67890"), False),
    ],
    "S3-AUDIT-3 (template, not published)": [
        (ct(eventSource="s3.amazonaws.com", eventName="GetObject",
            additionalEventData__bytesTransferredOut=209715200), True),
        (ct(eventSource="s3.amazonaws.com", eventName="GetObject", additionalEventData__bytesTransferredOut=1024), False),
        (ct(eventSource="s3.amazonaws.com", eventName="GetObject"), False),
    ],
}


def _list_cases(p: FilterPattern) -> list:
    """For 'eventName in [...]' patterns (optionally with an eventSource): one hit per name, misses."""
    from s3audit.pattern.ast import Compare

    names, sources = [], []
    for c in p.conditions():
        assert isinstance(c, Compare) and c.op == "=", "not a list-style pattern"
        key = c.selector.column
        (names if key == "eventName" else sources).append(c.value.text)
    assert names and len(sources) <= 1
    src = sources[0] if sources else "iam.amazonaws.com"
    cases = [(ct(eventSource=src, eventName=n), True) for n in names]
    cases.append((ct(eventSource=src, eventName="DescribeSomething"), False))
    cases.append((ct(eventSource=src), False))
    if sources:
        cases.append((ct(eventSource="other.amazonaws.com", eventName=names[0]), False))
    return cases


@pytest.mark.parametrize("c", CIS, ids=[c["id"] for c in CIS])
def test_cis_pattern_intent(c):
    p = compile_pattern(as_complete_pattern(c["pattern"]))
    cases = SPECIAL.get(c["id"]) or _list_cases(p)
    rendered = compile_pattern(str(p))
    events = []
    for event, expected in cases:
        raw = json.dumps(event, separators=(",", ":"))
        assert p.matches(event) is expected, (c["id"], event)
        assert p.matches(raw) is expected
        assert rendered.matches(raw) is expected
        events.append(raw)
    frame = make_frame(events)
    assert p.mask(frame).tolist() == [e for _ev, e in cases]
