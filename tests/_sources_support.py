"""Helpers for the access-source tests: build CloudTrail-shaped records and event frames."""
from __future__ import annotations

import copy
import functools
import ipaddress
import json
import re
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


# --- issue 5 / reference §6, one record at a time, for tests that compare classify() with it --------
SESSION_LABELS = {"GlueJobRunnerSession": "glue", "SageMaker": "sagemaker",
                  "RedshiftIamRoleSession": "redshift"}


@functools.cache
def _bundled_ranges() -> Any:
    from s3audit.ipranges import load_ip_ranges

    return load_ip_ranges()


def reference_ip(text: str) -> Any:
    """Reference §6 normalisation: the address ``ipaddress`` reads, or None."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def reference_label(r, own=None, accounts=(), ranges=None):
    """Reference §6 / issue 5, one record at a time (""/None are absent; ua loses one pair of
    brackets; ip is what ipaddress reads), written independently of the package. ``r`` maps the
    flattened column names to values; ``ranges``: an ``IpRanges`` (default: the bundled one)."""

    def get(name):
        return r[name] if r[name] not in (None, "") else None

    acct, typ, inv, ip = (get("userIdentity.accountId"), get("userIdentity.type"),
                          get("userIdentity.invokedBy"), get("sourceIPAddress"))
    ua = r["userAgent"] or ""
    ua = ua[1:] if ua.startswith("[") else ua
    ua = ua[:-1] if ua.endswith("]") else ua
    arn, pid = get("userIdentity.arn"), get("userIdentity.principalId")
    m = (arn and re.search(r":assumed-role/[^/]+/(.+)$", arn)) or \
        (pid and re.match(r"^[A-Z0-9]{16,}:(.+)$", pid))
    session = m.group(1) if m else None
    vpce = get("vpcEndpointId") or get("additionalEventData.vpcEndpointId")
    owner, issuer = get("vpcEndpointAccountId"), get("userIdentity.inScopeOf.issuerType")
    query = r["additionalEventData.AuthenticationMethod"] == "QueryString"

    def service(name):
        head = name.lower().removesuffix(".amazonaws.com").removeprefix("ops.").split(".")[0]
        if head in ("athena", "glue"):
            return head
        if head.startswith("redshift"):
            return "redshift"
        return "emr" if head in ("elasticmapreduce", "emr") or head.startswith("emr-") \
            else "service-other"

    if acct in ("ANONYMOUS_PRINCIPAL", "anonymous") or \
            (typ == "AWSAccount" and r["userIdentity.principalId"] == ""):
        return "anonymous"
    if typ == "AWSService":
        return "aws-service"
    if (ip or "").startswith("AWS Internal") or (inv or "").startswith("AWS Internal"):
        return "aws-internal"
    if session and session.startswith("AWSLF-00-"):
        return "lake-formation"
    if inv:
        return service(inv)
    if ip and ip.endswith(".amazonaws.com"):
        return service(ip)
    if ua.startswith("S3Console/") or "aws-internal/3" in ua:
        return "console"
    if query and ua.startswith("Mozilla/") and r["requestParameters.X-Amz-Expires"] == "300":
        return "console-browser"
    if query:
        return "presigned-url"
    if "exec-env/CloudShell" in ua:
        return "cloudshell"
    if issuer == "AWS::Lambda::Function" or "exec-env/AWS_Lambda_" in ua:
        return "lambda"
    if session in SESSION_LABELS:
        return SESSION_LABELS[session]
    if vpce:
        if own is not None:
            mine = vpce in own
        elif owner:
            mine = owner == get("recipientAccountId") or owner in accounts
        else:
            mine = re.fullmatch(r"vpce-[0-9a-f]{17}", vpce) is not None
        return "vpc-endpoint" if mine else "other-vpc-endpoint"
    if get("userIdentity.sessionContext.ec2RoleDelivery") or issuer == "AWS::EC2::Instance":
        return "ec2"
    address = reference_ip(ip or "")
    if address is None:
        return "external"
    ranges = ranges or _bundled_ranges()
    return "aws-network" if ranges.lookup(str(address)).found else "external"
