"""Helpers for the samples tests: an independent, per-record reading of issue 5's ordered rules.

The generator writes a truth label per event; these tests check that label against a small,
readable re-statement of the rules (first match wins), written separately from the generator
and from ``s3audit.sources`` so a slip in either shows up as a disagreement.
"""
from __future__ import annotations

import csv
import gzip
import ipaddress
import json
import re
from pathlib import Path
from typing import Any

CUSTOMER_VPCE = re.compile(r"^vpce-[0-9a-f]{17}$")
SERVICE_LABELS = {"athena": "athena", "glue": "glue", "redshift": "redshift",
                  "redshift-serverless": "redshift", "emr": "emr", "emr-serverless": "emr",
                  "ops.emr-serverless": "emr", "elasticmapreduce": "emr"}


def session_of(identity: dict[str, Any]) -> str:
    arn = identity.get("arn") or ""
    if ":assumed-role/" in arn:
        return arn.rsplit("/", 1)[1]
    pid = identity.get("principalId") or ""
    return pid.split(":", 1)[1] if ":" in pid else ""


def reference_label(rec: dict[str, Any], *, recipient: str, own_endpoints: tuple[str, ...] | None,
                    aws_lookup) -> str:
    """Issue 5's rules 1-16 for one record (``aws_lookup(ip) -> bool``)."""
    ident = rec.get("userIdentity") or {}
    ip = rec.get("sourceIPAddress") or ""
    ua = (rec.get("userAgent") or "")
    ua = ua[1:] if ua.startswith("[") else ua
    ua = ua[:-1] if ua.endswith("]") else ua
    invoked = ident.get("invokedBy") or ""
    extra = rec.get("additionalEventData") or {}
    params = rec.get("requestParameters") or {}
    session = session_of(ident)
    scope = (ident.get("inScopeOf") or {}).get("issuerType")
    vpce = rec.get("vpcEndpointId")
    if ident.get("accountId") in ("ANONYMOUS_PRINCIPAL", "anonymous"):
        return "anonymous"
    if ident.get("type") == "AWSService":
        return "aws-service"
    if ip.startswith("AWS Internal") or invoked.startswith("AWS Internal"):
        return "aws-internal"
    if session.startswith("AWSLF-00-"):
        return "lake-formation"
    service = invoked or (ip if ip.endswith(".amazonaws.com") else "")
    if service:
        name = service[: -len(".amazonaws.com")] if service.endswith(".amazonaws.com") else service
        return SERVICE_LABELS.get(name, "service-other")
    if ua.startswith("S3Console/") or "aws-internal/3" in ua:
        return "console"
    if extra.get("AuthenticationMethod") == "QueryString":
        if ua.startswith("Mozilla/") and params.get("X-Amz-Expires") == "300":
            return "console-browser"
        return "presigned-url"
    if "exec-env/CloudShell" in ua:
        return "cloudshell"
    if scope == "AWS::Lambda::Function" or "exec-env/AWS_Lambda_" in ua:
        return "lambda"
    by_session = {"GlueJobRunnerSession": "glue", "SageMaker": "sagemaker",
                  "RedshiftIamRoleSession": "redshift"}
    if session in by_session:
        return by_session[session]
    if vpce:
        if own_endpoints is not None:
            owned = vpce in own_endpoints
        elif rec.get("vpcEndpointAccountId"):
            owned = rec["vpcEndpointAccountId"] == recipient
        else:
            owned = bool(CUSTOMER_VPCE.match(vpce))
        return "vpc-endpoint" if owned else "other-vpc-endpoint"
    ec2_creds = ("ec2RoleDelivery" in (ident.get("sessionContext") or {})
                 or scope == "AWS::EC2::Instance")
    if ec2_creds:
        return "ec2"
    if aws_lookup(ip):
        return "aws-network"
    return "external"


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def is_rfc1918(text: str) -> bool:
    """A VPC / on-prem private IPv4 address (``ipaddress.is_private`` also says True for the
    documentation ranges, which the samples use for internet addresses)."""
    if not is_ip(text):
        return False
    address = ipaddress.ip_address(text)
    return any(address in net for net in RFC1918 if net.version == address.version)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def read_trail(root: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(root.rglob("*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            out.extend(json.load(fh)["Records"])
    return out


def read_truth_rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def directory_snapshot(root: Path) -> dict[str, bytes]:
    """relative path -> decompressed bytes (gzip members decompressed) for every file."""
    snap = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        snap[path.relative_to(root).as_posix()] = data
    return snap
