"""Helpers for the access-source tests: build CloudTrail-shaped records and event frames."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pandas as pd

REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld"
RECIPIENT = "111122223333"

# A plain IAM-user SDK call from a laptop: no rule but "external" matches it.
BASE: dict[str, Any] = {
    "eventVersion": "1.10",
    "eventSource": "s3.amazonaws.com",
    "eventName": "GetObject",
    "eventType": "AwsApiCall",
    "eventCategory": "Data",
    "awsRegion": "us-east-1",
    "recipientAccountId": RECIPIENT,
    "readOnly": True,
    "managementEvent": False,
    "eventTime": "2026-11-02T10:00:00Z",
    "sourceIPAddress": "198.51.100.23",
    "userAgent": "[aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/macos#23.6.0 md/command#s3api.get-object]",
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLEEXAMPLE01",
        "arn": f"arn:aws:iam::{RECIPIENT}:user/dev",
        "accountId": RECIPIENT,
        "accessKeyId": "AKIAEXAMPLEEXAMPLE01",
        "userName": "dev",
    },
    "requestParameters": {"bucketName": "data-bucket", "key": "a.csv",
                          "Host": "data-bucket.s3.us-east-1.amazonaws.com"},
    "additionalEventData": {"SignatureVersion": "SigV4", "AuthenticationMethod": "AuthHeader",
                            "bytesTransferredIn": 0, "bytesTransferredOut": 100},
}

DROP = object()


def event(n: int = 0, **changes: Any) -> dict[str, Any]:
    """A record from :data:`BASE` with dotted-path changes (value ``DROP`` removes a field)."""
    record = copy.deepcopy(BASE)
    record["eventID"] = f"00000000-0000-0000-0000-{n:012d}"
    for dotted, value in changes.items():
        parts = dotted.replace("__", ".").split(".")
        node = record
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if value is DROP:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    return record


def role(session: str, role_name: str = "app-role", account: str = RECIPIENT) -> dict[str, Any]:
    """An AssumedRole identity with the given session name."""
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLEROLE00001:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}",
        "accountId": account,
        "accessKeyId": "ASIAEXAMPLEEXAMPLE01",
        "sessionContext": {"sessionIssuer": {"type": "Role", "userName": role_name,
                                             "arn": f"arn:aws:iam::{account}:role/{role_name}"}},
    }


def frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Records as an event frame: the project loader when present, else a plain flatten."""
    try:
        from s3audit.loader import load_events
    except ImportError:
        load_events = None
    if load_events is not None:
        return load_events(records)
    df = pd.json_normalize(records)
    df["raw"] = [json.dumps(r) for r in records]
    if "eventTime" in df.columns:
        df["eventTime"] = pd.to_datetime(df["eventTime"], utc=True)
    return df


def realworld_records(name: str) -> list[dict[str, Any]]:
    path = REALWORLD / name
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
