"""The thin AWS shell of the deploy step: one place that makes clients and calls them.

Every AWS call of :mod:`s3audit.deploy` goes through :meth:`Aws.call`, which turns a refused call
into :class:`PermissionDenied` naming the IAM action, and any other failure into
:class:`AwsCallError`. Region, profile and ``AWS_ENDPOINT_URL`` are read by boto3 as usual.
"""
from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from s3audit.deploy.errors import AwsCallError, PermissionDenied

if TYPE_CHECKING:  # pragma: no cover
    import boto3

log = logging.getLogger(__name__)

# operations whose IAM action is not ``<service>:<OperationName>`` (the botocore service names the
# deploy step uses - logs, cloudwatch, sns, cloudtrail, iam, s3, sts - are also their IAM prefixes)
_IAM_ACTION = {("s3", "HeadBucket"): "s3:ListBucket", ("s3", "ListObjectsV2"): "s3:ListBucket"}
_DENIED_CODES = {"AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation",
                 "UnauthorizedAccess", "AuthorizationErrorException", "NotAuthorized"}
_NOT_AUTHORIZED = re.compile(r"not authorized to perform:?\s+([A-Za-z0-9-]+):([A-Za-z0-9]+)")


# calls that need more than their own action (tags on create, passing a role)
IMPLIED_ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("sns", "CreateTopic"): ("sns:TagResource",),
    ("cloudwatch", "PutMetricAlarm"): ("cloudwatch:TagResource",),
    ("iam", "CreateRole"): ("iam:TagRole",),
    ("cloudtrail", "CreateTrail"): ("cloudtrail:AddTags", "iam:PassRole"),
    ("cloudtrail", "UpdateTrail"): ("iam:PassRole",),
}


def iam_action(service: str, operation: str) -> str:
    """The IAM action behind a botocore operation, e.g. ``("cloudwatch", "PutMetricAlarm")``."""
    return _IAM_ACTION.get((service, operation), f"{service}:{operation}")


def permission_error(service: str, operation: str, exc: Exception, resource: str | None = None) -> PermissionDenied | None:
    """Map a botocore ``ClientError`` to :class:`PermissionDenied` when it is a refusal, else None."""
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", ""))
    if code not in _DENIED_CODES:
        return None
    named = _NOT_AUTHORIZED.search(message)  # AWS names the action in the message; trust it first
    # IAM action prefixes are case-insensitive; SNS writes "SNS:Publish", docs/iam.md uses "sns:"
    action = f"{named.group(1).lower()}:{named.group(2)}" if named else iam_action(service, operation)
    return PermissionDenied(action, resource, code, message)


def error_code(exc: Exception) -> str:
    """The AWS error code of a ``ClientError`` ('' for anything else)."""
    return str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))


def http_status(exc: Exception) -> int:
    """The HTTP status of a ``ClientError`` (0 when unknown)."""
    return int((getattr(exc, "response", None) or {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


class Aws:
    """Lazily made boto3 clients for one session, plus the error-mapping call helper.

    Parameters
    ----------
    session : boto3.Session, optional
        Default: ``boto3.Session()`` (profile, region, credentials and ``AWS_ENDPOINT_URL`` from the
        environment and config files, as boto3 reads them).
    """

    def __init__(self, session: boto3.Session | None = None) -> None:
        if session is None:
            import boto3

            session = boto3.Session()
        self.session = session
        self._clients: dict[str, Any] = {}
        self._account: str | None = None

    @property
    def region(self) -> str:
        """The session's Region (:class:`AwsCallError` ``NoRegion`` when none is configured)."""
        region = self.session.region_name
        if not region:
            raise AwsCallError("config", "NoRegion", "no AWS region configured: set AWS_REGION, AWS_DEFAULT_REGION, "
                                                     "a profile region, or pass --region")
        return region

    @property
    def partition(self) -> str:
        """``aws``, ``aws-cn``, ``aws-us-gov``... for ARNs in this Region."""
        return self.session.get_partition_for_region(self.region)

    def client(self, service: str) -> Any:
        """The session's client for ``service`` in :attr:`region`, made once."""
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    def call(self, service: str, operation: str, *, resource: str | None = None,
             allow: tuple[str, ...] = (), **params: Any) -> Any:
        """Call ``operation`` (snake_case boto3 method name) on ``service``.

        Parameters
        ----------
        allow : tuple of str
            Error codes that are an expected answer (e.g. ``ResourceNotFoundException``); the
            botocore ``ClientError`` is re-raised unchanged for them.

        Raises
        ------
        PermissionDenied
            The call was refused; names the IAM action.
        AwsCallError
            Any other AWS error not in ``allow``.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client(service)
        method = getattr(client, operation)
        op_name = client.meta.method_to_api_mapping.get(operation, operation)
        log.debug("%s.%s %s", service, op_name, params)
        try:
            return method(**params)
        except ClientError as exc:
            if error_code(exc) in allow:
                raise
            raise _mapped(service, op_name, exc, resource) from exc
        except BotoCoreError as exc:
            raise _mapped(service, op_name, exc, resource) from exc

    def paginate(self, service: str, operation: str, key: str, *, resource: str | None = None,
                 **params: Any) -> list[Any]:
        """All items under ``key`` of every page of ``operation``, with the same error mapping as :meth:`call`."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client(service)
        op_name = client.meta.method_to_api_mapping.get(operation, operation)
        items: list[Any] = []
        try:
            for page in client.get_paginator(operation).paginate(**params):
                items.extend(page.get(key, []))
        except (ClientError, BotoCoreError) as exc:
            raise _mapped(service, op_name, exc, resource) from exc
        return items

    @property
    def account(self) -> str:
        """The caller's account id (``sts:GetCallerIdentity``, asked once)."""
        if self._account is None:
            self._account = self.call("sts", "get_caller_identity")["Account"]
        return self._account


def _mapped(service: str, op_name: str, exc: Exception, resource: str | None) -> PermissionDenied | AwsCallError:
    """The typed error for a failed call: a refusal names the IAM action, anything else its code."""
    denied = permission_error(service, op_name, exc, resource)
    if denied is not None:
        return denied
    action = iam_action(service, op_name)
    if hasattr(exc, "response"):  # ClientError
        message = str(exc.response.get("Error", {}).get("Message", exc))  # type: ignore[attr-defined]
        return AwsCallError(action, error_code(exc) or str(http_status(exc)), message)
    hint = " (configure credentials, or plan with offline=True / --offline)" if type(exc).__name__ == "NoCredentialsError" else ""
    return AwsCallError(action, type(exc).__name__, f"{exc}{hint}")
