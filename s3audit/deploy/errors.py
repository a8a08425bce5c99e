"""Typed errors of the deploy step. Each carries the data a caller needs to act on it."""
from __future__ import annotations

from collections.abc import Sequence


class DeployError(Exception):
    """Base class of every error raised by :mod:`s3audit.deploy`."""


class SpecError(DeployError, ValueError):
    """The deploy spec is invalid.

    Attributes
    ----------
    problems : list of str
        One message per problem, each starting with the offending key (``alarm.period: ...``).
    source : str or None
        Where the spec came from (a path), when known.
    """

    def __init__(self, problems: Sequence[str], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        where = f" ({source})" if source else ""
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid deploy spec{where}:\n{lines}")


class PreflightError(DeployError):
    """A pre-flight check failed, so the plan must not be applied.

    Attributes
    ----------
    failures : list of (check name, detail)
    """

    def __init__(self, failures: Sequence[tuple[str, str]]) -> None:
        self.failures = list(failures)
        lines = "\n".join(f"  - {name}: {detail}" for name, detail in self.failures)
        super().__init__(f"pre-flight checks failed, nothing was changed:\n{lines}")


class PermissionDenied(DeployError):
    """AWS refused a call for lack of permission.

    Attributes
    ----------
    action : str
        The IAM action that is missing, e.g. ``cloudwatch:PutMetricAlarm``.
    resource : str or None
        What the call was about (a name or an ARN), when known.
    code : str
        The AWS error code (``AccessDenied``, ``AccessDeniedException``, ``AuthorizationError``...).
    """

    def __init__(self, action: str, resource: str | None, code: str, message: str) -> None:
        self.action = action
        self.resource = resource
        self.code = code
        self.aws_message = message
        on = f" on {resource}" if resource else ""
        super().__init__(
            f"missing permission {action}{on} ({code}: {message}). "
            f"Grant {action} to this identity (see docs/iam.md) and run again."
        )


class AwsCallError(DeployError):
    """An AWS call failed for a reason other than permissions.

    Attributes
    ----------
    action : str
        ``service:Operation`` that failed.
    code : str
        AWS error code.
    """

    def __init__(self, action: str, code: str, message: str) -> None:
        self.action = action
        self.code = code
        self.aws_message = message
        super().__init__(f"{action} failed: {code}: {message}")


class ReadBackError(DeployError):
    """What AWS holds after a write is not what was written.

    Attributes
    ----------
    resource : str
    expected, actual : object
    """

    def __init__(self, resource: str, expected: object, actual: object) -> None:
        self.resource = resource
        self.expected = expected
        self.actual = actual
        super().__init__(f"read-back of {resource} differs: wrote {expected!r}, AWS holds {actual!r}")


class StalePlanError(DeployError):
    """The account changed between planning and applying; plan again and review."""

    def __init__(self, differences: Sequence[str]) -> None:
        self.differences = list(differences)
        lines = "\n".join(f"  - {d}" for d in self.differences)
        super().__init__(f"the account changed since this plan was made; nothing was applied. Plan again:\n{lines}")


class OfflinePlanError(DeployError):
    """An offline plan (made without reading any account) cannot be applied."""

    def __init__(self) -> None:
        super().__init__(
            "this is an OFFLINE plan: it assumed an empty account and read nothing from AWS, "
            "so it cannot be applied. Plan again with credentials (offline=False)."
        )
