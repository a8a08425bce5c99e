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

from s3audit.deploy import PreflightError, SpecError, load_spec, plan, teardown

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


# ------------------------------------------------------------------------------ one metric, two filters
def _foreign_filter(session: Any, name: str, group: str = GROUP, metric: tuple[str, str] = ("S3Audit", "PayrollUnexpectedReads"),
                    pattern: str = '{ $.eventName = "DeleteObject" }') -> None:
    logs = session.client("logs")
    if group != GROUP:
        logs.create_log_group(logGroupName=group)
    logs.put_metric_filter(logGroupName=group, filterName=name, filterPattern=pattern, metricTransformations=[
        {"metricNamespace": metric[0], "metricName": metric[1], "metricValue": "1"}])


# Attack: the spec's metric is already published by another filter (another name, or another log
# group). The alarm sums the metric, so it would fire on the other filter's matches too: the alarm
# would not mean what the spec says. Nothing may be written then.
@pytest.mark.parametrize("where", ["same group", "other group"])
def test_a_metric_published_by_another_filter_blocks_the_plan(account: Any, where: str) -> None:
    group = GROUP if where == "same group" else "other-app-logs"
    _foreign_filter(account, "someone-elses-filter", group)
    rec = CallRecorder(account)
    p = plan(SPEC, session=account, test_events=EVENTS)
    assert p.blocked and "metric used by one filter only" in failed(p), p.render()
    detail = failed(p)["metric used by one filter only"]
    assert "someone-elses-filter" in detail and group in detail and "S3Audit/PayrollUnexpectedReads" in detail
    with pytest.raises(PreflightError, match="metric used by one filter only"):
        p.apply()
    assert rec.writes == []
    # another metric: no conflict
    assert not plan(spec_with(metric={"namespace": "S3Audit", "name": "Other"}), session=account, test_events=EVENTS).blocked


# Attack: rename the filter (names.filter) of a deployed spec. The plan created a second filter
# with the new name next to the old one; both publish the same metric, so every matching event
# counted twice, and no teardown would ever remove the old filter.
def test_renaming_the_filter_does_not_leave_the_old_one_counting_too(account: Any) -> None:
    plan(SPEC, session=account, test_events=EVENTS).apply()
    renamed = spec_with(names={"filter": "payroll-reads-v2"})
    p = plan(renamed, session=account, test_events=EVENTS)
    assert p.blocked, p.render()
    assert "payroll-unexpected-reads" in failed(p)["metric used by one filter only"]
    # the way out the message gives: tear the old filter down (by hand) and plan again
    account.client("logs").delete_metric_filter(logGroupName=GROUP, filterName="payroll-unexpected-reads")
    again = plan(renamed, session=account, test_events=EVENTS)
    assert not again.blocked and ("AWS::Logs::MetricFilter", "payroll-reads-v2", "create") in actions(again)


# Two deployments side by side on one log group, each with its own metric: tearing one down
# leaves every resource of the other, and the other still plans as "nothing".
def test_two_deployments_side_by_side_teardown_of_one_leaves_the_other(account: Any) -> None:
    other = spec_with(name="hr-unexpected-reads", metric={"namespace": "S3Audit", "name": "HrUnexpectedReads"},
                      notify={"emails": ["hr-sec@example.com"]})
    plan(SPEC, session=account, test_events=EVENTS).apply()
    plan(other, session=account, test_events=EVENTS).apply()
    t = teardown(SPEC, session=account)
    assert {a for _, _, a in actions(t)} <= {"delete"}, t.render()
    assert all(n in ("payroll-unexpected-reads", "secops@example.com") for _, n, _ in actions(t))
    t.apply()
    logs, cw, sns = (account.client(s) for s in ("logs", "cloudwatch", "sns"))
    assert [f["filterName"] for f in logs.describe_metric_filters(logGroupName=GROUP)["metricFilters"]] == ["hr-unexpected-reads"]
    assert [a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]] == ["hr-unexpected-reads"]
    assert [t["TopicArn"].rsplit(":", 1)[1] for t in sns.list_topics()["Topics"]] == ["hr-unexpected-reads"]
    assert {a for _, _, a in actions(plan(other, session=account, test_events=EVENTS))} == {"nothing"}
