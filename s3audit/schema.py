"""The event frame: the one place that documents the columns the kit relies on.

Every event source (trail files, CloudWatch Logs exports, Logs Insights pulls, samples) becomes
the same pandas DataFrame: one row per CloudTrail record, the record flattened with the dotted
names Logs Insights uses (``userIdentity.arn``, ``additionalEventData.bytesTransferredOut``,
``resources.0.ARN``), plus ``raw``, the record's original JSON text.

The columns below always exist (NA where a record lacks the field); any other field present in
the data appears as an extra column with its dotted name. Missing and JSON ``null`` are both NA in
the flattened columns: code that must tell them apart (the filter-pattern engine's ``NOT EXISTS``
vs ``IS NULL``) reads ``raw``.

Typing rules (implemented in :mod:`s3audit.loader.frame`, documented in docs/loading.md):

- The columns below always have the dtype given here, whatever the input held. Values that
  other tools stringified (Logstash: ``"89.0"``, ``"true"``) are converted to the declared
  numeric/boolean dtype; a value that cannot be converted becomes NA and is counted in
  ``df.attrs["coerced"]`` (``{column: n}``) and logged.
- ``eventTime`` is parsed as ISO-8601 into UTC. A record without it (a Logstash copy) takes its
  ``@timestamp`` (column ``@@timestamp``, the Logs Insights name of a record key starting with
  ``@``); those rows are counted in ``df.attrs["time_from_timestamp"]``.
- Any other column keeps its JSON type: integers ``Int64``, other numbers ``Float64``, booleans
  ``boolean``, strings ``category`` when distinct values are at most half of the values, else
  ``string``. A field whose JSON type differs between records holds each value's JSON text.
  Columns that are NA in every row are dropped (they carry no information).
- ``requestParameters.Host`` is the field exactly as Logs Insights names it: records that spell
  it ``host`` or hold a list (``["s3.amazonaws.com"]``, older records) have
  ``requestParameters.host.0`` / ``requestParameters.Host.0`` instead. Read them through
  :func:`request_host` when you need one value.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas

# column -> pandas dtype. "category" for low-cardinality strings, "string" for free text.
EVENT_COLUMNS: dict[str, str] = {
    "eventTime": "datetime64[ns, UTC]",
    "eventVersion": "category",
    "eventSource": "category",
    "eventName": "category",
    "eventType": "category",
    "eventCategory": "category",
    "awsRegion": "category",
    "recipientAccountId": "category",
    "eventID": "string",
    "requestID": "string",
    "sharedEventID": "string",
    "readOnly": "boolean",
    "managementEvent": "boolean",
    "sourceIPAddress": "category",
    "userAgent": "category",
    "vpcEndpointId": "category",
    "vpcEndpointAccountId": "category",
    "errorCode": "category",
    "errorMessage": "category",
    "userIdentity.type": "category",
    "userIdentity.principalId": "category",
    "userIdentity.arn": "category",
    "userIdentity.accountId": "category",
    "userIdentity.accessKeyId": "category",
    "userIdentity.userName": "category",
    "userIdentity.invokedBy": "category",
    "userIdentity.sessionContext.sessionIssuer.userName": "category",
    "userIdentity.sessionContext.sessionIssuer.arn": "category",
    "userIdentity.sessionContext.ec2RoleDelivery": "category",
    "userIdentity.inScopeOf.issuerType": "category",
    "userIdentity.inScopeOf.credentialsIssuedTo": "category",
    "requestParameters.bucketName": "category",
    "requestParameters.key": "string",
    "requestParameters.Host": "category",
    "requestParameters.X-Amz-Expires": "category",
    "additionalEventData.AuthenticationMethod": "category",
    "additionalEventData.SignatureVersion": "category",
    "additionalEventData.bytesTransferredIn": "Float64",
    "additionalEventData.bytesTransferredOut": "Float64",
    "tlsDetails.tlsVersion": "category",
    "tlsDetails.clientProvidedHostHeader": "category",
    "raw": "string",
}

REQUIRED_COLUMNS: tuple[str, ...] = tuple(EVENT_COLUMNS)

DEFAULT_EVENT_SOURCES: tuple[str, ...] = ("s3.amazonaws.com",)
"""Event sources kept by default. Directory buckets (``s3express.amazonaws.com``), S3 Tables and
S3 on Outposts log under their own event sources with different request shapes (session-based
auth for directory buckets) and are not what the kit's metric-filter recipe watches; pass
``event_sources=`` to :func:`s3audit.load_events` to include them."""

S3_DATA_EVENT_NAMES: frozenset[str] = frozenset({
    # object-level (data-plane) S3 API calls that CloudTrail logs as data events
    "AbortMultipartUpload", "CompleteMultipartUpload", "CopyObject", "CreateMultipartUpload",
    "DeleteObject", "DeleteObjects", "DeleteObjectTagging", "GetObject", "GetObjectAcl",
    "GetObjectAttributes", "GetObjectLegalHold", "GetObjectRetention", "GetObjectTagging",
    "GetObjectTorrent", "HeadBucket", "HeadObject", "ListMultipartUploads", "ListObjects",
    "ListObjectsV2", "ListObjectVersions", "ListParts", "PostObject", "PreflightRequest",
    "PutObject", "PutObjectAcl", "PutObjectLegalHold", "PutObjectRetention", "PutObjectTagging",
    "RestoreObject", "SelectObjectContent", "UploadPart", "UploadPartCopy",
    "WriteGetObjectResponse", "RenameObject", "UpdateObjectEncryption",
})
"""Used only for records that carry neither ``managementEvent`` nor ``eventCategory`` (before
eventVersion 1.06): an eventName outside this set is taken as a management event."""


def request_host(df: pandas.DataFrame) -> pandas.Series:
    """The request's Host header whichever way the record spelled it.

    Coalesces ``requestParameters.Host``, ``requestParameters.host`` and the first element of
    either when it was a list.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"requestParameters.Host": [None, "b.s3.amazonaws.com"],
    ...                    "requestParameters.host.0": ["s3.amazonaws.com", None]})
    >>> request_host(df).tolist()
    ['s3.amazonaws.com', 'b.s3.amazonaws.com']
    """
    import pandas as pd

    out = pd.Series(pd.NA, index=df.index, dtype="string")
    for name in ("requestParameters.Host", "requestParameters.host",
                 "requestParameters.Host.0", "requestParameters.host.0"):
        if name in df.columns:
            out = out.fillna(df[name].astype("string"))
    return out
