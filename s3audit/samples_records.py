"""Build single CloudTrail S3 records the way CloudTrail writes them.

:class:`RecordFactory` turns one described API call into a record dict whose keys come in
CloudTrail's usual order and whose optional fields are present or absent as in real records:

* ``tlsDetails`` (1.08+) only on client calls, never when a service calls on your behalf
  (``invokedBy``) or for ``AWS Internal`` calls;
* ``vpcEndpointAccountId`` (1.09+) only with a customer or service endpoint, not with the
  AWS-owned short console endpoint (real 1.10 console records lack it);
* ``userIdentity.inScopeOf`` only on 1.10 records for EC2-instance and Lambda credentials;
* unsigned (anonymous) requests carry no ``SignatureVersion`` / ``AuthenticationMethod``;
* ``sharedEventID`` when the event is also delivered to another account (service principals,
  cross-account callers, CORS preflights).

All randomness comes from the factory's seeded :class:`random.Random`.
"""
from __future__ import annotations

import base64
import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import Any

from s3audit import samples_world as w

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

READ_ONLY = {
    "GetObject": True, "HeadObject": True, "ListObjects": True, "HeadBucket": True,
    "GetObjectTagging": True, "GetObjectAcl": True, "ListObjectVersions": True,
    "GetObjectAttributes": True, "PreflightRequest": True, "PutObject": False,
    "DeleteObject": False, "CopyObject": False, "CreateMultipartUpload": False,
    "UploadPart": False, "CompleteMultipartUpload": False, "DeleteObjects": False,
}
BUCKET_LEVEL = {"ListObjects", "HeadBucket", "ListObjectVersions", "DeleteObjects"}


_DAY_PREFIX: dict[int, str] = {}


def iso(seconds: int) -> str:
    """Epoch seconds -> CloudTrail's ``2026-10-05T14:03:22Z``."""
    day, rest = divmod(seconds, 86400)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        prefix = _DAY_PREFIX[day] = (EPOCH + dt.timedelta(days=day)).strftime("%Y-%m-%dT")
    hour, rest = divmod(rest, 3600)
    return f"{prefix}{hour:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


@dataclass(frozen=True)
class Creds:
    """The credentials of one session: a principal plus the per-session values."""

    principal: w.Principal
    session: str = ""
    access_key: str = ""
    created: int = 0  # epoch seconds of the session's creationDate
    ec2_delivery: str = ""  # "1.0" / "2.0" for instance-profile credentials
    instance: str = ""


class RecordFactory:
    """Make CloudTrail S3 records from call descriptions (see module docstring)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    # ---- identifiers ---------------------------------------------------------------------
    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def request_id(self) -> str:
        return f"{self.rng.getrandbits(64):016X}"

    def amz_id_2(self) -> str:
        return base64.b64encode(self.rng.randbytes(56)).decode("ascii")

    def temp_key(self) -> str:
        return "ASIA" + base64.b32encode(self.rng.getrandbits(80).to_bytes(10, "big")).decode("ascii")

    def pick_version(self) -> str:
        """The mix seen on one trail: mostly 1.10, some 1.09, a few 1.08 (minute by minute)."""
        r = self.rng.random()
        return "1.08" if r < 0.12 else ("1.09" if r < 0.45 else "1.10")

    def creds(self, principal: w.Principal, t: int, session: str = "", *,
              instance: str = "") -> Creds:
        """Session credentials for ``principal`` first issued a little before ``t``."""
        session = session or principal.session
        created = t - self.rng.randrange(60, 3 * 3600)
        if principal.kind == "iam-user":
            return Creds(principal, access_key=principal.access_key, created=created)
        instance = instance or principal.ec2_instance
        delivery = ("2.0" if self.rng.random() < 0.85 else "1.0") if instance else ""
        return Creds(principal, session=session or instance, access_key=self.temp_key(),
                     created=created, ec2_delivery=delivery, instance=instance)

    # ---- userIdentity --------------------------------------------------------------------
    def identity(self, c: Creds, version: str) -> dict[str, Any]:
        p = c.principal
        if p.kind == "service":
            return {"type": "AWSService", "invokedBy": p.invoked_by}
        if p.kind == "anonymous":
            return {"type": "AWSAccount", "principalId": "", "accountId": p.account}
        if p.kind == "other-account":
            return {"type": "AWSAccount", "principalId": p.principal_id, "accountId": p.account}
        if p.kind == "iam-user":
            ident: dict[str, Any] = {
                "type": "IAMUser", "principalId": p.principal_id,
                "arn": f"arn:aws:iam::{p.account}:user/{p.name}", "accountId": p.account,
                "accessKeyId": c.access_key, "userName": p.name,
            }
            return ident
        ident = {
            "type": "AssumedRole",
            "principalId": f"{p.principal_id}:{c.session}",
            "arn": f"arn:aws:sts::{p.account}:assumed-role/{p.name}/{c.session}",
            "accountId": p.account,
            "accessKeyId": c.access_key,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role", "principalId": p.principal_id,
                    "arn": f"arn:aws:iam::{p.account}:role{p.role_path}{p.name}",
                    "accountId": p.account, "userName": p.name,
                },
                # federated (Identity Center) and service sessions report "false" even when
                # the person signed in with MFA
                "attributes": {"creationDate": iso(c.created), "mfaAuthenticated": "false"},
            },
        }
        if c.ec2_delivery:
            ident["sessionContext"]["ec2RoleDelivery"] = c.ec2_delivery
        if p.invoked_by:
            ident["invokedBy"] = p.invoked_by
        if version == "1.10":
            if c.ec2_delivery:
                ident["inScopeOf"] = {
                    "issuerType": "AWS::EC2::Instance",
                    "credentialsIssuedTo": f"arn:aws:ec2:{w.REGION}:{p.account}:instance/{c.instance}",
                }
            elif p.lambda_function:
                ident["inScopeOf"] = {
                    "issuerType": "AWS::Lambda::Function",
                    "credentialsIssuedTo": f"arn:aws:lambda:{w.REGION}:{p.account}:function:"
                                           f"{p.lambda_function}",
                }
        return ident

    # ---- the record ----------------------------------------------------------------------

    def record_head(self, creds: Any, version: str, t: int, event_name: str, ip: str, ua: str,
                    error: tuple[str, str] | None) -> dict[str, Any]:
        """The fields every S3 record starts with, in CloudTrail's order (and the error, if any)."""
        rec: dict[str, Any] = {
            "eventVersion": version,
            "userIdentity": self.identity(creds, version),
            "eventTime": iso(t),
            "eventSource": "s3.amazonaws.com",
            "eventName": event_name,
            "awsRegion": w.REGION,
            "sourceIPAddress": ip,
            "userAgent": ua,
        }
        if error:
            rec["errorCode"], rec["errorMessage"] = error
        return rec

    def data_event(
        self,
        t: int,
        creds: Creds,
        event_name: str,
        bucket: str,
        *,
        key: str | None = None,
        prefix: str | None = None,
        ip: str,
        ua: str,
        host: str | None = None,
        vpce: str | None = None,
        vpce_account: str | None = None,
        bytes_in: int = 0,
        bytes_out: int = 0,
        error: tuple[str, str] | None = None,
        presign: dict[str, str] | None = None,
        version: str | None = None,
        shared: bool = False,
        sse: str | None = None,
        extra_params: dict[str, Any] | None = None,
        tls13: bool | None = None,
    ) -> dict[str, Any]:
        """One S3 data event (eventCategory ``Data``)."""
        rng = self.rng
        version = version or self.pick_version()
        p = creds.principal
        service_call = bool(p.invoked_by) or ip == "AWS Internal"
        unsigned = p.kind == "anonymous"
        host = host or f"{bucket}.s3.{w.REGION}.amazonaws.com"

        params: dict[str, Any] = {"bucketName": bucket, "Host": host}
        if event_name == "ListObjects":
            params.update({"list-type": "2", "encoding-type": "url",
                           "prefix": prefix or "", "delimiter": "/"})
            if rng.random() < 0.4:
                params["max-keys"] = "1000"
        elif event_name == "ListObjectVersions":
            params.update({"versions": "", "prefix": prefix or "", "encoding-type": "url"})
        elif key is not None:
            params["key"] = key
        if presign:
            params.update(presign)
        if extra_params:
            params.update(extra_params)

        response: dict[str, Any] | None = None
        if event_name in ("PutObject", "CompleteMultipartUpload", "CopyObject") and not error:
            response = {"x-amz-server-side-encryption": "aws:kms" if sse == "kms" else "AES256"}
            if sse == "kms":
                response["x-amz-server-side-encryption-aws-kms-key-id"] = (
                    f"arn:aws:kms:{w.REGION}:{w.ACCOUNT_ID}:key/5c2e7a91-3f4d-4b8e-9a6c-1d2e3f4a5b6c")
                response["x-amz-server-side-encryption-bucket-key-enabled"] = "true"

        if tls13 is None:
            tls13 = rng.random() < 0.8
        cipher = "TLS_AES_128_GCM_SHA256" if tls13 else "ECDHE-RSA-AES128-GCM-SHA256"
        extra: dict[str, Any] = {}
        if not unsigned:
            extra["SignatureVersion"] = "SigV4"
        extra["CipherSuite"] = cipher
        extra["bytesTransferredIn"] = bytes_in
        if response and not unsigned:
            extra["SSEApplied"] = "Default_SSE_KMS" if sse == "kms" else "Default_SSE_S3"
        if not unsigned:
            extra["AuthenticationMethod"] = "QueryString" if presign else "AuthHeader"
        extra["x-amz-id-2"] = self.amz_id_2()
        extra["bytesTransferredOut"] = bytes_out

        if event_name in BUCKET_LEVEL:
            obj = {"type": "AWS::S3::Object", "ARNPrefix": f"arn:aws:s3:::{bucket}/{prefix or ''}"}
        else:
            obj = {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"}
        resources = [obj, {"accountId": w.ACCOUNT_ID, "type": "AWS::S3::Bucket",
                           "ARN": f"arn:aws:s3:::{bucket}"}]
        if event_name == "HeadBucket":
            resources = resources[1:]

        rec = self.record_head(creds, version, t, event_name, ip, ua, error)
        rec["requestParameters"] = params
        rec["responseElements"] = response
        rec["additionalEventData"] = extra
        rec["requestID"] = self.request_id()
        rec["eventID"] = self.uuid4()
        rec["readOnly"] = READ_ONLY.get(event_name, True)
        rec["resources"] = resources
        rec["eventType"] = "AwsApiCall"
        rec["managementEvent"] = False
        rec["recipientAccountId"] = w.ACCOUNT_ID
        if shared:
            rec["sharedEventID"] = self.uuid4()
        if vpce:
            rec["vpcEndpointId"] = vpce
            if vpce_account and version != "1.08":
                rec["vpcEndpointAccountId"] = vpce_account
        rec["eventCategory"] = "Data"
        if not service_call:
            tls: dict[str, Any] = {"tlsVersion": "TLSv1.3" if tls13 else "TLSv1.2",
                                   "cipherSuite": cipher, "clientProvidedHostHeader": host}
            if version == "1.10" and tls13 and rng.random() < 0.6:
                tls["keyExchange"] = rng.choice(("X25519MLKEM768", "x25519"))
            rec["tlsDetails"] = tls
        return rec

    def network_activity(self, data: dict[str, Any], *, denied: bool = False) -> dict[str, Any]:
        """The ``NetworkActivity`` copy (``AwsVpceEvent``) of a call through an endpoint.

        It has no userAgent, request parameters or resources, and its own eventID.
        """
        ident = data["userIdentity"]
        slim = {k: ident[k] for k in ("type", "principalId", "arn", "accountId", "accessKeyId")
                if k in ident}
        rec: dict[str, Any] = {
            "eventVersion": "1.10" if data["eventVersion"] == "1.10" else "1.09",
            "userIdentity": slim,
            "eventTime": data["eventTime"],
            "eventSource": "s3.amazonaws.com",
            "eventName": data["eventName"],
            "awsRegion": w.REGION,
            "sourceIPAddress": data["sourceIPAddress"],
        }
        if denied:
            rec["errorCode"] = "VpceAccessDenied"
            rec["errorMessage"] = "The request was denied due to a VPC endpoint policy"
        rec["requestID"] = data["requestID"]
        rec["eventID"] = self.uuid4()
        rec["eventType"] = "AwsVpceEvent"
        rec["recipientAccountId"] = w.ACCOUNT_ID
        rec["sharedEventID"] = self.uuid4()
        rec["vpcEndpointId"] = data["vpcEndpointId"]
        rec["vpcEndpointAccountId"] = w.ACCOUNT_ID
        rec["eventCategory"] = "NetworkActivity"
        return rec

    def management_event(self, t: int, creds: Creds, event_name: str, bucket: str | None, *,
                         ip: str, ua: str, error: tuple[str, str] | None = None) -> dict[str, Any]:
        """A bucket-level S3 management event (GetBucketPolicy, ListBuckets, ...)."""
        version = "1.10" if self.rng.random() < 0.7 else "1.09"
        host = f"{bucket}.s3.{w.REGION}.amazonaws.com" if bucket else f"s3.{w.REGION}.amazonaws.com"
        params: dict[str, Any] = {"Host": host}
        if bucket:
            params = {"bucketName": bucket, "Host": host}
            sub = {"GetBucketPolicy": "policy", "GetBucketAcl": "acl", "GetBucketLocation": "location",
                   "GetBucketVersioning": "versioning", "GetBucketEncryption": "encryption",
                   "GetBucketPublicAccessBlock": "publicAccessBlock"}.get(event_name)
            if sub:
                params[sub] = ""
        service_call = creds.principal.kind == "service"
        tls13 = self.rng.random() < 0.8
        cipher = "TLS_AES_128_GCM_SHA256" if tls13 else "ECDHE-RSA-AES128-GCM-SHA256"
        rec = self.record_head(creds, version, t, event_name, ip, ua, error)
        rec["requestParameters"] = params
        rec["responseElements"] = None
        rec["additionalEventData"] = {
            "SignatureVersion": "SigV4", "CipherSuite": cipher, "bytesTransferredIn": 0,
            "AuthenticationMethod": "AuthHeader", "x-amz-id-2": self.amz_id_2(),
            "bytesTransferredOut": self.rng.randrange(300, 4000),
        }
        rec["requestID"] = self.request_id()
        rec["eventID"] = self.uuid4()
        rec["readOnly"] = True
        if bucket:
            rec["resources"] = [{"accountId": w.ACCOUNT_ID, "type": "AWS::S3::Bucket",
                                 "ARN": f"arn:aws:s3:::{bucket}"}]
        rec["eventType"] = "AwsApiCall"
        rec["managementEvent"] = True
        rec["recipientAccountId"] = w.ACCOUNT_ID
        if service_call:
            rec["sharedEventID"] = self.uuid4()
        rec["eventCategory"] = "Management"
        if not service_call:
            rec["tlsDetails"] = {"tlsVersion": "TLSv1.3" if tls13 else "TLSv1.2",
                                 "cipherSuite": cipher, "clientProvidedHostHeader": host}
        return rec
