"""docs/iam.md's deployment policy covers every call the deploy code makes; the analysis one only reads."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from _moto_server import CallRecorder, aws, moto_server  # noqa: F401

from s3audit.deploy import plan, teardown, verify
from s3audit.deploy.aws import IMPLIED_ACTIONS, iam_action

DOC = Path(__file__).parents[1] / "docs" / "iam.md"
GROUP = "trail-logs"
SPEC: dict[str, Any] = {
    "name": "payroll-unexpected-reads", "log_group": GROUP, "pattern": '{ $.eventName = "GetObject" }',
    "metric": {"namespace": "S3Audit", "name": "PayrollUnexpectedReads"},
    "alarm": {"period": 300, "threshold": 1, "evaluation_periods": 1},
    "notify": {"emails": ["secops@example.com"]},
    "trail": {"buckets": ["payroll-data"], "create": True, "log_bucket": "payroll-trail-logs"},
}


def _policies() -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(), flags=re.S)
    return [json.loads(b) for b in blocks]


def _actions(policy: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for st in policy["Statement"]:
        acts = st["Action"]
        out.update([acts] if isinstance(acts, str) else acts)
    return out


def test_deploy_policy_covers_every_call_of_a_full_lifecycle(aws: Any) -> None:  # noqa: F811
    aws.client("logs").create_log_group(logGroupName=GROUP)
    rec = CallRecorder(aws)
    events = ['{"eventName":"GetObject"}']
    p = plan(SPEC, session=aws, test_events=events)
    p.apply(sleep=lambda s: None)
    # an in-place update touching every resource kind (tags, a removed address, another bucket)
    changed = dict(SPEC, tags={"env": "prod"}, notify={"emails": ["oncall@example.com"]},
                   trail=dict(SPEC["trail"], buckets=["payroll-data", "hr-data"]))
    update = plan(changed, session=aws, test_events=events)
    update.apply(sleep=lambda s: None)
    assert {"sns:Unsubscribe", "sns:Subscribe", "cloudtrail:AddTags", "iam:TagRole", "s3:PutBucketTagging",
            "cloudtrail:PutEventSelectors"} <= set(update.required_actions())
    assert verify(changed, session=aws, send_test_notification=True).ok
    teardown(changed, session=aws, apply=True)
    needed: set[str] = set()
    for call in rec.calls:
        service, op = call.split(":", 1)
        if (service, op) == ("sts", "GetCallerIdentity"):
            continue  # needs no permission
        needed.add(iam_action(service, op))
        needed.update(IMPLIED_ACTIONS.get((service, op), ()))
    deploy = next(pol for pol in _policies() if any(st.get("Sid") == "PlanReads" for st in pol["Statement"]))
    missing = needed - _actions(deploy)
    assert not missing, f"docs/iam.md deployment policy lacks {sorted(missing)}"
    assert set(p.required_actions()) | set(update.required_actions()) <= _actions(deploy)


def test_analysis_policy_is_read_only() -> None:
    analysis = next(pol for pol in _policies() if any(st.get("Sid") == "QueryTheTrailLogGroup" for st in pol["Statement"]))
    writes = [a for a in _actions(analysis)
              if not re.match(r"[a-z]+:(Describe|Get|List|StartQuery|StopQuery|FilterLogEvents|TestMetricFilter)", a)]
    assert writes == []
