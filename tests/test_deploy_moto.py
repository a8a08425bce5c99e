"""Deploy, idempotency, update, teardown and error paths against moto in server mode.

A real HTTP endpoint on 127.0.0.1 (tests/_moto_server.py), boto3 pointed at it. TestMetricFilter is
not implemented by moto: the plans here show it as a stated skip (agreement logic is unit-tested
with Stubber in test_deploy_spec.py).
"""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from _moto_server import ACCOUNT, REGION, CallRecorder, aws, aws_like_put_metric_filter, moto_server  # noqa: F401
from _deploy_support import refusal

from s3audit.deploy import (
    PermissionDenied, PreflightError, ReadBackError, StalePlanError, plan, teardown, verify,
)

PATTERN = '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "GetObject") && ($.sourceIPAddress != "10.*") }'
GROUP = "aws-cloudtrail-logs-123456789012-abcd"
SPEC: dict[str, Any] = {
    "name": "payroll-unexpected-reads", "log_group": GROUP, "pattern": PATTERN,
    "metric": {"namespace": "S3Audit", "name": "PayrollUnexpectedReads"},
    "alarm": {"period": 300, "threshold": 1, "evaluation_periods": 1},
    "notify": {"emails": ["secops@example.com"]}, "tags": {"team": "secops"},
}
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:payroll-unexpected-reads"
EVENTS = [json.dumps({"eventSource": "s3.amazonaws.com", "eventName": n, "sourceIPAddress": "203.0.113.9"})
          for n in ("GetObject", "PutObject")]


@pytest.fixture()
def account(aws: Any) -> Any:  # noqa: F811
    aws.client("logs").create_log_group(logGroupName=GROUP)
    return aws


def filters(session: Any, name: str | None = None) -> list[dict[str, Any]]:
    found = session.client("logs").describe_metric_filters(logGroupName=GROUP)["metricFilters"]
    return [f for f in found if name is None or f["filterName"] == name]


def alarm(session: Any, name: str = "payroll-unexpected-reads") -> dict[str, Any] | None:
    found = session.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return found[0] if found else None


def actions(p: Any) -> list[tuple[str, str, str]]:
    return [(c.resource_type, c.name, c.action) for c in p.changes]


# ------------------------------------------------------------------------------ plan / apply
def test_plan_on_empty_account_lists_creates_and_writes_nothing(account: Any) -> None:
    rec = CallRecorder(account)
    p = plan(SPEC, session=account, test_events=EVENTS)
    assert {a for _, _, a in actions(p)} == {"create"} and len(p.changes) == 5
    assert "logs:DescribeMetricFilters" in rec.calls  # the recorder sees the plan's calls ...
    assert not p.blocked and rec.writes == [], rec.writes  # ... and none of them writes
    checks = {c.name: c for c in p.checks}
    assert checks["log group exists"].status == "ok"
    assert checks["metric-filter limit"].detail.startswith("0 of 100")
    tmf = checks["TestMetricFilter agrees with local engine"]
    assert tmf.status == "skipped" and "moto does not implement it" in tmf.detail
    assert filters(account) == [] and alarm(account) is None
    assert 'pending confirmation' in p.render()


def test_apply_creates_exactly_what_the_spec_says(account: Any) -> None:
    result = plan(SPEC, session=account, test_events=EVENTS).apply()
    assert [c.split()[0] for c in result.calls] == [
        "sns:CreateTopic", "sns:SetTopicAttributes", "sns:Subscribe", "cloudwatch:PutMetricAlarm", "logs:PutMetricFilter"]
    assert any("pending confirmation" in n for n in result.notes)

    sns = account.client("sns")
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=TOPIC_ARN)["Tags"]}
    assert tags == {"s3audit:managed": "true", "s3audit:name": "payroll-unexpected-reads", "team": "secops"}
    policy = json.loads(sns.get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]["Policy"])
    cw = [s for s in policy["Statement"] if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert cw and cw[0]["Action"] == "sns:Publish" and cw[0]["Resource"] == TOPIC_ARN
    assert cw[0]["Condition"]["ArnLike"]["aws:SourceArn"].endswith(":alarm:payroll-unexpected-reads")
    subs = sns.list_subscriptions_by_topic(TopicArn=TOPIC_ARN)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("email", "secops@example.com")]

    [f] = filters(account)
    assert f["filterName"] == "payroll-unexpected-reads" and f["filterPattern"] == PATTERN
    [mt] = f["metricTransformations"]
    assert (mt["metricNamespace"], mt["metricName"], mt["metricValue"], float(mt["defaultValue"])) == (
        "S3Audit", "PayrollUnexpectedReads", "1", 0.0)
    assert not mt.get("dimensions")

    a = alarm(account)
    assert a is not None
    assert (a["Statistic"], a["ComparisonOperator"], a["Threshold"], a["Period"], a["EvaluationPeriods"],
            a["DatapointsToAlarm"], a["TreatMissingData"]) == ("Sum", "GreaterThanOrEqualToThreshold", 1.0, 300, 1, 1, "notBreaching")
    assert a["AlarmActions"] == [TOPIC_ARN] and "Unit" not in a and not a.get("Dimensions")
    atags = account.client("cloudwatch").list_tags_for_resource(ResourceARN=a["AlarmArn"])["Tags"]
    assert {"Key": "s3audit:managed", "Value": "true"} in atags


def test_apply_again_changes_nothing_and_duplicates_nothing(account: Any) -> None:
    plan(SPEC, session=account, test_events=EVENTS).apply()
    rec = CallRecorder(account)
    again = plan(SPEC, session=account, test_events=EVENTS)
    assert {a for _, _, a in actions(again)} == {"nothing"} and not again.has_changes
    result = again.apply()
    assert "cloudwatch:DescribeAlarms" in rec.calls  # planned and re-checked before "applying" ...
    assert result.calls == [] and rec.writes == [], rec.writes  # ... without a single write
    assert len(filters(account, "payroll-unexpected-reads")) == 1  # plain moto would show a second one
    assert "already matches the spec" in again.render()


def test_changed_spec_updates_in_place_with_field_diff(account: Any) -> None:
    plan(SPEC, session=account, test_events=EVENTS).apply()
    changed = copy.deepcopy(SPEC)
    changed["pattern"] = PATTERN.replace("GetObject", "HeadObject")
    changed["alarm"] = {"period": 600, "threshold": 3, "evaluation_periods": 3, "datapoints_to_alarm": 2}
    changed["notify"] = {"emails": ["secops@example.com", "oncall@example.com"]}
    p = plan(changed, session=account, test_events=EVENTS)
    by = {(c.resource_type, c.name): c for c in p.changes}
    flt = by[("AWS::Logs::MetricFilter", "payroll-unexpected-reads")]
    assert flt.action == "update" and [f.field for f in flt.fields] == ["filterPattern"]
    assert (flt.fields[0].current, flt.fields[0].desired) == (PATTERN, changed["pattern"])
    alm = by[("AWS::CloudWatch::Alarm", "payroll-unexpected-reads")]
    assert alm.action == "update"
    assert {f.field: (f.current, f.desired) for f in alm.fields} == {
        "Period": (300, 600), "EvaluationPeriods": (1, 3), "DatapointsToAlarm": (1, 2), "Threshold": (1.0, 3.0)}
    assert by[("AWS::SNS::Subscription", "oncall@example.com")].action == "create"
    assert by[("AWS::SNS::Topic", "payroll-unexpected-reads")].action == "nothing"
    text = p.render()
    assert "Threshold: 1.0 -> 3.0" in text and "~ update" in text

    with aws_like_put_metric_filter():  # moto appends on a same-name put; AWS replaces
        p.apply()
    [f] = filters(account, "payroll-unexpected-reads")
    assert f["filterPattern"] == changed["pattern"]
    a = alarm(account)
    assert a is not None and (a["Threshold"], a["Period"], a["DatapointsToAlarm"]) == (3.0, 600, 2)
    assert a["AlarmActions"] == [TOPIC_ARN]
    assert {a for _, _, a in actions(plan(changed, session=account, test_events=EVENTS))} == {"nothing"}


def test_changed_metric_updates_the_filter_recognised_through_its_own_alarm(account: Any) -> None:
    plan(SPEC, session=account, test_events=EVENTS).apply()
    changed = dict(SPEC, metric={"namespace": "S3Audit", "name": "PayrollReadsV2"})
    p = plan(changed, session=account, test_events=EVENTS)
    assert not p.blocked, p.render()
    by = {c.resource_type: c for c in p.changes}
    assert {f.field: (f.current, f.desired) for f in by["AWS::Logs::MetricFilter"].fields} == {
        "metricName": ("PayrollUnexpectedReads", "PayrollReadsV2")}
    assert {f.field: (f.current, f.desired) for f in by["AWS::CloudWatch::Alarm"].fields} == {
        "MetricName": ("PayrollUnexpectedReads", "PayrollReadsV2")}
    with aws_like_put_metric_filter():
        p.apply()
    [f] = filters(account)
    assert f["metricTransformations"][0]["metricName"] == "PayrollReadsV2"
    assert alarm(account)["MetricName"] == "PayrollReadsV2"  # type: ignore[index]
    assert {a for _, _, a in actions(plan(changed, session=account, test_events=EVENTS))} == {"nothing"}
    teardown(changed, session=account, apply=True)
    assert filters(account) == [] and alarm(account) is None


def test_same_named_filter_on_another_metric_than_our_alarm_is_still_foreign(account: Any) -> None:
    plan(SPEC, session=account, test_events=EVENTS).apply()
    # someone replaces our filter with theirs (same name, their metric): it is no longer ours to change or delete
    logs = account.client("logs")
    logs.delete_metric_filter(logGroupName=GROUP, filterName="payroll-unexpected-reads")
    logs.put_metric_filter(logGroupName=GROUP, filterName="payroll-unexpected-reads", filterPattern="ERROR",
                           metricTransformations=[{"metricName": "Errors", "metricNamespace": "App", "metricValue": "1"}])
    changed = dict(SPEC, metric={"namespace": "S3Audit", "name": "PayrollReadsV2"})
    p = plan(changed, session=account, test_events=EVENTS)
    assert [c.name for c in p.checks if c.status == "failed"] == ["metric filter ownership"]
    t = teardown(changed, session=account)
    assert ("AWS::Logs::MetricFilter", "keep") in [(r, a) for r, _, a in actions(t)]
    t.apply()
    assert [f["metricTransformations"][0]["metricName"] for f in filters(account)] == ["Errors"]


def test_read_back_catches_a_filter_that_is_not_what_was_written(account: Any) -> None:
    plan(SPEC, session=account, test_events=EVENTS).apply()
    changed = dict(SPEC, pattern=PATTERN.replace("GetObject", "HeadObject"))
    # plain moto keeps the old filter next to the new one: the read-back must notice
    with pytest.raises(ReadBackError, match="2 filters with that name"):
        plan(changed, session=account, test_events=EVENTS).apply()


def test_apply_refuses_a_stale_plan(account: Any) -> None:
    someone_else = account.client("sns")  # made before the recorder: its calls are not recorded
    rec = CallRecorder(account)  # clients copy the session's event hooks when they are made
    p = plan(SPEC, session=account, test_events=EVENTS)
    someone_else.create_topic(Name="payroll-unexpected-reads")  # meanwhile
    with pytest.raises(StalePlanError, match="AWS::SNS::Topic"):
        p.apply()
    assert "sns:GetTopicAttributes" in rec.calls and rec.writes == []


# ------------------------------------------------------------------------------ safety
def _foreign_cis(session: Any) -> None:
    logs, cw, sns = session.client("logs"), session.client("cloudwatch"), session.client("sns")
    logs.put_metric_filter(logGroupName=GROUP, filterName="CIS-UnauthorizedAPICalls",
                           filterPattern='{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
                           metricTransformations=[{"metricName": "UnauthorizedAPICalls", "metricNamespace": "CISBenchmark",
                                                   "metricValue": "1"}])
    topic = sns.create_topic(Name="cis-alarms")["TopicArn"]
    cw.put_metric_alarm(AlarmName="CIS-UnauthorizedAPICalls", Namespace="CISBenchmark", MetricName="UnauthorizedAPICalls",
                        Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[topic])


def test_teardown_removes_only_what_s3audit_created(account: Any) -> None:
    _foreign_cis(account)
    plan(SPEC, session=account, test_events=EVENTS).apply()
    t = teardown(SPEC, session=account)
    assert {(r, a) for r, _, a in actions(t)} == {
        ("AWS::CloudWatch::Alarm", "delete"), ("AWS::Logs::MetricFilter", "delete"),
        ("AWS::SNS::Subscription", "delete"), ("AWS::SNS::Topic", "delete")}
    assert filters(account, "payroll-unexpected-reads")  # planning removed nothing
    t.apply()
    assert [f["filterName"] for f in filters(account)] == ["CIS-UnauthorizedAPICalls"]
    assert alarm(account) is None and alarm(account, "CIS-UnauthorizedAPICalls") is not None
    topics = [t["TopicArn"] for t in account.client("sns").list_topics()["Topics"]]
    assert topics == [f"arn:aws:sns:{REGION}:{ACCOUNT}:cis-alarms"]
    again = teardown(SPEC, session=account)
    assert {a for _, _, a in actions(again)} == {"nothing"} and "Nothing to remove" in again.render()


def test_same_named_foreign_resources_block_deploy_and_survive_teardown(account: Any) -> None:
    logs, cw, sns = account.client("logs"), account.client("cloudwatch"), account.client("sns")
    logs.put_metric_filter(logGroupName=GROUP, filterName="payroll-unexpected-reads", filterPattern="ERROR",
                           metricTransformations=[{"metricName": "Errors", "metricNamespace": "App", "metricValue": "1"}])
    cw.put_metric_alarm(AlarmName="payroll-unexpected-reads", Namespace="App", MetricName="Errors", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold")
    sns.create_topic(Name="payroll-unexpected-reads", Tags=[{"Key": "owner", "Value": "someone-else"}])
    p = plan(SPEC, session=account, test_events=EVENTS)
    assert p.blocked
    failed = {c.name for c in p.checks if c.status == "failed"}
    assert failed == {"metric filter ownership", "alarm ownership", "topic ownership"}
    with pytest.raises(PreflightError, match="not s3audit's"):
        p.apply()
    t = teardown(SPEC, session=account)
    assert {a for _, _, a in actions(t)} == {"keep"}
    t.apply()
    assert len(filters(account)) == 1 and alarm(account) is not None
    assert account.client("sns").list_topics()["Topics"]


def test_existing_topic_arn_is_used_but_never_changed(account: Any) -> None:
    sns = account.client("sns")
    topic = sns.create_topic(Name="secops-existing")["TopicArn"]
    before = sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]
    spec = dict(SPEC, notify={"topic_arn": topic})
    p = plan(spec, session=account, test_events=EVENTS)
    assert ("AWS::SNS::Topic", topic, "nothing") in actions(p)
    warn = [c for c in p.checks if c.status == "warning"]
    assert warn and "cloudwatch.amazonaws.com" in warn[0].detail
    p.apply()
    a = alarm(account)
    assert a is not None and a["AlarmActions"] == [topic]
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"] == before
    report = verify(spec, session=account)
    assert report.ok and any(i.startswith("warning: topic policy lets CloudWatch publish") for i in report.info)
    teardown(spec, session=account, apply=True)
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [topic]


# ------------------------------------------------------------------------------ error paths
def test_missing_log_group_blocks_with_a_clear_message(aws: Any) -> None:  # noqa: F811
    rec = CallRecorder(aws)
    p = plan(SPEC, session=aws, test_events=EVENTS)
    assert p.blocked
    [failed] = [c for c in p.checks if c.status == "failed"]
    assert failed.name == "log group exists" and GROUP in failed.detail
    with pytest.raises(PreflightError, match=GROUP):
        p.apply()
    assert "sns:GetTopicAttributes" in rec.calls and rec.writes == []


def test_metric_filter_limit_blocks(account: Any) -> None:
    logs = account.client("logs")
    for i in range(100):
        logs.put_metric_filter(logGroupName=GROUP, filterName=f"other-{i:03d}", filterPattern="ERROR",
                               metricTransformations=[{"metricName": f"M{i}", "metricNamespace": "App", "metricValue": "1"}])
    p = plan(SPEC, session=account, test_events=EVENTS)
    failed = [c for c in p.checks if c.status == "failed"]
    assert [c.name for c in failed] == ["metric-filter limit"] and "100 metric filters" in failed[0].detail


def _deny(session: Any, service_event: str, action: str) -> None:
    session.events.register(f"before-call.{service_event}", refusal(
        f"User: arn:aws:iam::{ACCOUNT}:user/analyst is not authorized to perform: {action} on resource: x"))


def test_denied_write_names_the_missing_action(account: Any) -> None:
    _deny(account, "cloudwatch.PutMetricAlarm", "cloudwatch:PutMetricAlarm")  # before plan makes its clients
    p = plan(SPEC, session=account, test_events=EVENTS)
    with pytest.raises(PermissionDenied) as info:
        p.apply()
    assert info.value.action == "cloudwatch:PutMetricAlarm" and "docs/iam.md" in str(info.value)
    # the calls before it did happen; the filter comes after the alarm (its proof of ownership), so it was not written
    assert alarm(account) is None and filters(account) == []
    assert account.client("sns").list_topics()["Topics"]
    assert p.result is not None and len(p.result.calls) == 3 and "STOPPED after 3 call(s)" in p.render()
    assert "PARTLY APPLIED deploy: 3 AWS call(s) made before it stopped" in p.render()


def test_denied_read_during_plan_names_the_missing_action(account: Any) -> None:
    _deny(account, "cloudwatch-logs.DescribeMetricFilters", "logs:DescribeMetricFilters")
    with pytest.raises(PermissionDenied) as info:
        plan(SPEC, session=account, test_events=EVENTS)
    assert info.value.action == "logs:DescribeMetricFilters"


def test_invalid_spec_raises_before_any_call(aws: Any) -> None:  # noqa: F811
    from s3audit.deploy import SpecError

    rec = CallRecorder(aws)
    with pytest.raises(SpecError, match="alarm.period"):
        plan(dict(SPEC, alarm={"period": 45, "threshold": 1, "evaluation_periods": 1}), session=aws)
    assert rec.calls == []


# ------------------------------------------------------------------------------ verify
def test_verify_matches_then_reports_drift(account: Any) -> None:
    plan(SPEC, session=account, test_events=EVENTS).apply()
    report = verify(SPEC, session=account)
    assert report.ok, report.problems
    assert "reads back exactly" in str(report)
    account.client("cloudwatch").put_metric_alarm(
        AlarmName="payroll-unexpected-reads", Namespace="S3Audit", MetricName="PayrollUnexpectedReads", Statistic="Sum",
        Period=300, EvaluationPeriods=1, Threshold=10, ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching", AlarmActions=[TOPIC_ARN])
    drift = verify(SPEC, session=account)
    assert not drift.ok and any("Threshold" in p for p in drift.problems)


def test_verify_test_notification_sets_alarm_and_restores_it(account: Any) -> None:
    plan(SPEC, session=account, test_events=EVENTS).apply()
    before = alarm(account)["StateValue"]  # type: ignore[index]
    seen: list[dict[str, Any]] = []
    account.events.register("before-parameter-build.cloudwatch.SetAlarmState", lambda params, **_: seen.append(dict(params)))
    report = verify(SPEC, session=account, send_test_notification=True)
    assert report.ok and any("TEST notification" in i for i in report.info)
    assert [s["StateValue"] for s in seen] == ["ALARM", before]
    assert "TEST NOTIFICATION" in seen[0]["StateReason"]
    assert alarm(account)["StateValue"] == before  # type: ignore[index]


def test_verify_test_notification_leaves_an_alarm_in_alarm_state_alone(account: Any) -> None:
    plan(SPEC, session=account, test_events=EVENTS).apply()
    account.client("cloudwatch").set_alarm_state(AlarmName="payroll-unexpected-reads", StateValue="ALARM",
                                                  StateReason="a real detection")
    seen: list[dict[str, Any]] = []
    account.events.register("before-parameter-build.cloudwatch.SetAlarmState", lambda params, **_: seen.append(dict(params)))
    report = verify(SPEC, session=account, send_test_notification=True)
    assert report.ok and any("NOT sent" in i and "ALARM" in i for i in report.info), report.info
    assert seen == []  # no ALARM -> ALARM non-transition, and above all no "restore" to OK hiding the detection
    assert alarm(account)["StateValue"] == "ALARM"  # type: ignore[index]


# ------------------------------------------------------------------------------ trail
def _trail(session: Any, selectors: dict[str, Any], logging: bool = True) -> None:
    session.client("s3").create_bucket(Bucket="org-trail-logs")
    ct = session.client("cloudtrail")
    ct.create_trail(Name="org-trail", S3BucketName="org-trail-logs",
                    CloudWatchLogsLogGroupArn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:*",
                    CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/ct")
    ct.put_event_selectors(TrailName="org-trail", **selectors)
    if logging:
        ct.start_logging(Name="org-trail")


def test_trail_check_finds_a_trail_logging_the_buckets(account: Any) -> None:
    spec = dict(SPEC, trail={"buckets": ["payroll-data"]})
    p = plan(spec, session=account, test_events=EVENTS)
    [c] = [c for c in p.checks if c.name == "trail delivers S3 data events"]
    assert c.status == "failed" and "no trail" in c.detail
    _trail(account, {"AdvancedEventSelectors": [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::payroll-data/"]}]}]})
    [c] = [c for c in plan(spec, session=account, test_events=EVENTS).checks if c.name == "trail delivers S3 data events"]
    assert c.status == "ok" and "org-trail" in c.detail


def test_trail_check_fails_for_an_uncovered_bucket_with_basic_selectors(account: Any) -> None:
    _trail(account, {"EventSelectors": [{"ReadWriteType": "All", "DataResources": [
        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::other-bucket/"]}]}]})
    spec = dict(SPEC, trail={"buckets": ["payroll-data"]})
    [c] = [c for c in plan(spec, session=account, test_events=EVENTS).checks if c.name == "trail delivers S3 data events"]
    assert c.status == "failed" and "payroll-data" in c.detail


def test_trail_check_accepts_basic_selectors_and_ignores_a_stopped_trail(account: Any) -> None:
    spec = dict(SPEC, trail={"buckets": ["payroll-data"]})
    _trail(account, {"EventSelectors": [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": False, "DataResources": [
        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::payroll-data/"]}]}]}, logging=False)

    def check() -> Any:
        [c] = [c for c in plan(spec, session=account, test_events=EVENTS).checks if c.name == "trail delivers S3 data events"]
        return c

    stopped = check()
    assert stopped.status == "failed" and "no logging trail" in stopped.detail
    account.client("cloudtrail").start_logging(Name="org-trail")
    logging = check()
    assert logging.status == "ok" and "basic selector: arn:aws:s3:::payroll-data/ (ReadOnly)" in logging.detail


def test_trail_create_plans_applies_and_tears_down(account: Any) -> None:
    spec = dict(SPEC, trail={"buckets": ["payroll-data"], "create": True, "log_bucket": "payroll-trail-logs"})
    p = plan(spec, session=account, test_events=EVENTS)
    kinds = [(r, a) for r, _, a in actions(p)]
    for kind in ("AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::IAM::Role", "AWS::CloudTrail::Trail"):
        assert (kind, "create") in kinds
    p.apply(sleep=lambda s: None)
    ct = account.client("cloudtrail")
    [trail] = ct.describe_trails(trailNameList=["payroll-unexpected-reads"])["trailList"]
    assert trail["S3BucketName"] == "payroll-trail-logs" and trail["CloudWatchLogsLogGroupArn"].endswith(f"{GROUP}:*")
    assert ct.get_trail_status(Name="payroll-unexpected-reads")["IsLogging"]
    sel = ct.get_event_selectors(TrailName="payroll-unexpected-reads")["AdvancedEventSelectors"]
    assert {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::payroll-data/"]} in sel[0]["FieldSelectors"]
    policy = json.loads(account.client("s3").get_bucket_policy(Bucket="payroll-trail-logs")["Policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {"AWSCloudTrailAclCheck", "AWSCloudTrailWrite"}
    again = plan(spec, session=account, test_events=EVENTS)
    assert {a for _, _, a in actions(again)} == {"nothing"}, again.render()

    account.client("s3").put_object(Bucket="payroll-trail-logs", Key=f"AWSLogs/{ACCOUNT}/x.json.gz", Body=b"{}")
    t = teardown(spec, session=account)
    assert ("AWS::S3::Bucket", "keep") in [(r, a) for r, _, a in actions(t)]
    t.apply()
    assert ct.describe_trails(trailNameList=["payroll-unexpected-reads"])["trailList"] == []
    assert account.client("iam").list_roles()["Roles"] == []
    assert account.client("s3").head_bucket(Bucket="payroll-trail-logs")  # evidence kept


def test_trail_spec_change_updates_every_resource_in_place(account: Any) -> None:
    spec = dict(SPEC, notify={"emails": ["secops@example.com", "oncall@example.com"]},
                trail={"buckets": ["payroll-data"], "create": True, "log_bucket": "payroll-trail-logs"})
    plan(spec, session=account, test_events=EVENTS).apply(sleep=lambda s: None)
    changed = dict(spec, tags={"team": "audit", "env": "prod"}, notify={"emails": ["secops@example.com"]},
                   trail=dict(spec["trail"], buckets=["payroll-data", "hr-data"]))
    p = plan(changed, session=account, test_events=EVENTS)
    by = {(c.resource_type, c.name): c for c in p.changes}
    tagged = [("AWS::S3::Bucket", "payroll-trail-logs"), ("AWS::IAM::Role", "payroll-unexpected-reads-cloudtrail-to-logs"),
              ("AWS::CloudTrail::Trail", "payroll-unexpected-reads"), ("AWS::SNS::Topic", "payroll-unexpected-reads"),
              ("AWS::CloudWatch::Alarm", "payroll-unexpected-reads")]
    for key in tagged:
        fields = {f.field: (f.current, f.desired) for f in by[key].fields}
        assert by[key].action == "update" and fields["Tags.team"] == ("secops", "audit") and fields["Tags.env"] == (None, "prod"), key
    assert "AdvancedEventSelectors" in {f.field for f in by[("AWS::CloudTrail::Trail", "payroll-unexpected-reads")].fields}
    assert by[("AWS::SNS::Subscription", "oncall@example.com")].action == "delete"
    assert by[("AWS::Logs::MetricFilter", "payroll-unexpected-reads")].action == "nothing"

    p.apply(sleep=lambda s: None)
    s3, iam, ct, sns = (account.client(n) for n in ("s3", "iam", "cloudtrail", "sns"))
    trail_arn = ct.get_trail(Name="payroll-unexpected-reads")["Trail"]["TrailARN"]
    tag_sets = [s3.get_bucket_tagging(Bucket="payroll-trail-logs")["TagSet"],
                iam.list_role_tags(RoleName="payroll-unexpected-reads-cloudtrail-to-logs")["Tags"],
                ct.list_tags(ResourceIdList=[trail_arn])["ResourceTagList"][0]["TagsList"],
                sns.list_tags_for_resource(ResourceArn=TOPIC_ARN)["Tags"],
                account.client("cloudwatch").list_tags_for_resource(ResourceARN=alarm(account)["AlarmArn"])["Tags"]]  # type: ignore[index]
    for tags in tag_sets:
        assert {t["Key"]: t["Value"] for t in tags} == {
            "s3audit:managed": "true", "s3audit:name": "payroll-unexpected-reads", "team": "audit", "env": "prod"}
    sel = ct.get_event_selectors(TrailName="payroll-unexpected-reads")["AdvancedEventSelectors"]
    assert {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::payroll-data/", "arn:aws:s3:::hr-data/"]} in sel[0]["FieldSelectors"]
    assert [s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=TOPIC_ARN)["Subscriptions"]] == ["secops@example.com"]
    assert {a for _, _, a in actions(plan(changed, session=account, test_events=EVENTS))} == {"nothing"}

    teardown(changed, session=account, apply=True)  # the log bucket is still empty: removed too
    assert s3.list_buckets()["Buckets"] == [] and iam.list_roles()["Roles"] == []


def test_denied_paged_read_names_the_missing_action(account: Any) -> None:
    plan(SPEC, session=account, test_events=EVENTS).apply()
    _deny(account, "sns.ListSubscriptionsByTopic", "SNS:ListSubscriptionsByTopic")
    with pytest.raises(PermissionDenied) as info:
        plan(SPEC, session=account, test_events=EVENTS)
    assert info.value.action == "sns:ListSubscriptionsByTopic" and info.value.resource == TOPIC_ARN
