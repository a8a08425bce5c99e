"""Helpers shared by the deploy tests: an AWS refusal to inject, and a template evaluated as
CloudFormation would evaluate it (in the moto account of tests/_moto_server.py)."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from _moto_server import ACCOUNT, REGION


def refusal(message: str = "denied", code: str = "AccessDenied") -> Callable[..., Any]:
    """A botocore ``before-call`` handler answering as AWS does when a call is refused (HTTP 403).

    Register (and unregister) the returned handler itself, e.g.
    ``session.events.register("before-call.cloudwatch.PutMetricAlarm", handler)``.
    """
    class Refused:
        status_code = 403
        headers: dict[str, str] = {}

    def handler(**_: Any) -> Any:
        return Refused(), {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 403}}

    return handler


def resolve(value: Any, refs: dict[str, str]) -> Any:
    """Evaluate the template's Fn::Sub / Fn::Join / Ref the way CloudFormation does, for this account and Region."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, **refs}

        def one(m: re.Match[str]) -> str:
            if m.group(1).startswith("!"):
                return "${" + m.group(1)[1:] + "}"  # ${!Literal} is the literal ${Literal}
            return pseudo[m.group(1)]  # KeyError = a variable CloudFormation could not resolve

        return re.sub(r"\$\{([^}]*)\}", one, value["Fn::Sub"])
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        sep, parts = value["Fn::Join"]
        return sep.join(resolve(p, refs) for p in parts)
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return refs[value["Ref"]]
    if isinstance(value, dict):
        return {k: resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, refs) for v in value]
    return value
