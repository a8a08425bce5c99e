"""Deploy the alarm safely: plan first, apply exactly the plan, verify, tear down, export to CloudFormation.

Examples
--------
>>> from s3audit.deploy import load_spec, plan, teardown   # doctest: +SKIP
>>> p = plan("alarm-spec.yaml"); print(p)                   # doctest: +SKIP
>>> p.apply()                                               # doctest: +SKIP
>>> teardown("alarm-spec.yaml", apply=True)                 # doctest: +SKIP
"""
from __future__ import annotations

from s3audit.deploy.errors import (
    AwsCallError, DeployError, OfflinePlanError, PermissionDenied, PreflightError,
    ReadBackError, SpecError, StalePlanError,
)
from s3audit.deploy.plan import ApiCall, ApplyResult, Change, FieldChange, Plan, plan
from s3audit.deploy.preflight import Check, selector_coverage
from s3audit.deploy.session import make_session, offline_reason, resolve_spec
from s3audit.deploy.spec import DeploySpec, load_spec
from s3audit.deploy.teardown import teardown
from s3audit.deploy.template import render_template, template
from s3audit.deploy.verify import VerifyReport, verify

__all__ = [
    "ApiCall", "ApplyResult", "AwsCallError", "Change", "Check", "DeployError", "DeploySpec", "FieldChange",
    "OfflinePlanError", "PermissionDenied", "Plan", "PreflightError", "ReadBackError",
    "SpecError", "StalePlanError", "VerifyReport", "load_spec", "make_session", "offline_reason", "plan",
    "render_template", "resolve_spec", "selector_coverage", "teardown", "template", "verify",
]
