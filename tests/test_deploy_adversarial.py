"""Adversarial tests of the deploy path: try to break plan-first, dry-run, idempotency, ownership and teardown.

Against moto in server mode (tests/_moto_server.py: a real HTTP endpoint on 127.0.0.1) where moto
implements the calls; each test states the attack it makes. moto gaps are named where they matter
(no TestMetricFilter, PutMetricFilter appends a same-named filter, e-mail subscriptions confirmed at
once: a pending one is simulated by the recorded AWS shape).
"""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from _moto_server import ACCOUNT, REGION, CallRecorder, aws, aws_like_put_metric_filter, moto_server  # noqa: F401

from s3audit.deploy import SpecError, load_spec, plan, teardown

PATTERN = '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "GetObject") }'
GROUP = "aws-cloudtrail-logs-123456789012-abcd"
SPEC: dict[str, Any] = {
    "name": "payroll-unexpected-reads", "log_group": GROUP, "pattern": PATTERN,
    "metric": {"namespace": "S3Audit", "name": "PayrollUnexpectedReads"},
    "alarm": {"period": 300, "threshold": 1, "evaluation_periods": 1},
    "notify": {"emails": ["secops@example.com"]},
}
EVENTS = [json.dumps({"eventSource": "s3.amazonaws.com", "eventName": n}) for n in ("GetObject", "PutObject")]


def spec_with(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(SPEC)
    doc.update(changes)
    return doc


@pytest.fixture()
def account(aws: Any) -> Any:  # noqa: F811
    aws.client("logs").create_log_group(logGroupName=GROUP)
    return aws


def actions(p: Any) -> list[tuple[str, str, str]]:
    return [(c.resource_type, c.name, c.action) for c in p.changes]


def failed(p: Any) -> dict[str, str]:
    return {c.name: c.detail for c in p.checks if c.status == "failed"}


# ------------------------------------------------------------------------------ spec: values AWS refuses
# Attack: a value with a trailing newline. Python's `$` also matches before a final "\n", so
# `^[A-Za-z0-9_-]{1,256}$` accepted "payroll\n" as a topic name; the first write would fail on AWS.
@pytest.mark.parametrize("key, value", [
    ("name", "payroll-reads\n"),
    ("log_group", GROUP + "\n"),
    ("notify", {"emails": ["secops@example.com\n"]}),
    ("notify", {"topic_arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:secops\n"}),
    ("names", {"topic": "secops\n"}),
])
def test_a_trailing_newline_is_not_a_valid_name(key: str, value: Any) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(spec_with(**{key: value}))
    assert any(p.startswith(key) for p in info.value.problems), info.value.problems


# Attack: a 256-character name is a valid topic name, but an alarm name may have at most 255
# characters (botocore cloudwatch model, AlarmName max 255): PutMetricAlarm would fail after the
# topic, its subscriptions and the filter were created - a partial apply the spec check can prevent.
def test_a_name_too_long_for_the_alarm_is_rejected_unless_the_alarm_is_named() -> None:
    long_name = "a" * 256
    with pytest.raises(SpecError) as info:
        load_spec(spec_with(name=long_name))
    assert any(p.startswith("name:") and "255" in p for p in info.value.problems), info.value.problems
    spec = load_spec(spec_with(name=long_name, names={"alarm": "payroll-alarm"}))
    assert (spec.topic_name, spec.alarm_name) == (long_name, "payroll-alarm")
    assert load_spec(spec_with(name="a" * 255)).alarm_name == "a" * 255
