"""The event frame: the one place that documents the columns the kit relies on.

Every event source (trail files, CloudWatch Logs exports, Logs Insights pulls, samples) becomes
the same pandas DataFrame: one row per CloudTrail record, the record flattened with the dotted
names Logs Insights uses (``userIdentity.arn``, ``additionalEventData.bytesTransferredOut``,
``resources.0.ARN``), plus ``raw``, the record's original JSON text.

The columns below always exist (NA where a record lacks the field); any other field present in
the data appears as an extra column with its dotted name. Missing and JSON ``null`` are both NA in
the flattened columns: code that must tell them apart (the filter-pattern engine's ``NOT EXISTS``
vs ``IS NULL``) reads ``raw``.
"""
from __future__ import annotations

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
