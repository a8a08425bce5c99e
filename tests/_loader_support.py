"""Small hand-made CloudTrail records for the loader tests."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

ACCOUNT = "111122223333"


def record(event_id: str = "e-1", **overrides: Any) -> dict[str, Any]:
    """A realistic S3 GetObject data event (eventVersion 1.09); ``overrides`` replace top-level keys."""
    base: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:alice",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/alice",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
                                  "arn": f"arn:aws:iam::{ACCOUNT}:role/reader", "accountId": ACCOUNT,
                                  "userName": "reader"},
                "attributes": {"creationDate": "2026-11-02T09:00:00Z", "mfaAuthenticated": "false"},
            },
        },
        "eventTime": "2026-11-02T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "10.0.1.5",
        "userAgent": "[aws-cli/2.17.60 md/command#s3.cp]",
        "requestParameters": {"bucketName": "acme-data", "Host": "acme-data.s3.eu-west-1.amazonaws.com",
                              "key": "reports/q3.csv"},
        "responseElements": None,
        "additionalEventData": {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
                                "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader",
                                "x-amz-id-2": "abc=", "bytesTransferredOut": 1234},
        "requestID": "REQ1",
        "eventID": event_id,
        "readOnly": True,
        "resources": [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::acme-data/reports/q3.csv"},
                      {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::acme-data"}],
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": ACCOUNT,
        "vpcEndpointId": "vpce-0a1b2c3d4e5f60789",
        "vpcEndpointAccountId": ACCOUNT,
        "eventCategory": "Data",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": "acme-data.s3.eu-west-1.amazonaws.com"},
    }
    base.update(copy.deepcopy(overrides))
    return base


def records(n: int, prefix: str = "e") -> list[dict[str, Any]]:
    """``n`` distinct GetObject events with varied keys, sizes and times."""
    out = []
    for i in range(n):
        r = record(f"{prefix}-{i}")
        r["eventTime"] = f"2026-11-02T10:{i // 60 % 60:02d}:{i % 60:02d}Z"
        r["requestParameters"]["key"] = f"reports/part-{i}.csv"
        r["resources"][0]["ARN"] = f"arn:aws:s3:::acme-data/reports/part-{i}.csv"
        r["additionalEventData"]["bytesTransferredOut"] = 1000 + i
        out.append(r)
    return out


def network_copy(event_id: str) -> dict[str, Any]:
    return record(event_id, eventCategory="NetworkActivity", eventType="AwsVpceEvent")


def management(event_id: str) -> dict[str, Any]:
    return record(event_id, eventName="GetBucketPolicy", managementEvent=True, eventCategory="Management")


def line(rec: dict[str, Any]) -> str:
    return json.dumps(rec, separators=(",", ":"))


def load_in_child(path: Path, *, as_arrow: bool = False) -> tuple[list[str], int]:
    """``(sorted eventIDs, skipped_total)`` of ``load_events`` on the JSON-lines file ``path`` (or
    on its lines as a pyarrow array), run in a child process: input that could crash pyarrow
    then fails the calling test (non-zero exit) instead of killing the test run."""
    import subprocess
    import sys

    source = (f"__import__('pyarrow').array(open({str(path)!r}).read().splitlines())" if as_arrow
              else repr(str(path)))
    code = ("import s3audit, json; df = s3audit.load_events(%s); "
            "print(json.dumps([sorted(df['eventID']), df.attrs['skipped_total']]))" % source)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"child exited {done.returncode}: {done.stderr[-500:]}"
    ids, skipped = json.loads(done.stdout.strip().splitlines()[-1])
    return ids, skipped
