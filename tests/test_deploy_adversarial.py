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
from _deploy_support import refusal, resolve

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
def _spec_notifying(account: Any, notify: str) -> dict[str, Any]:
    """SPEC with its own topic (``"emails"``) or an existing one made here (``"topic_arn"``)."""
    if notify == "topic_arn":
        topic = account.client("sns").create_topic(Name="secops-existing")["TopicArn"]
        return spec_with(notify={"topic_arn": topic})
    return SPEC


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


# ------------------------------------------------------------------------------ dry run: not one write
# Every operation a dry run may make. An allowlist (not "starts with Describe/Get/List"): a new write
# with a reading name, or any operation nobody thought about, fails the test.
READ_ONLY = {
    "sts:GetCallerIdentity", "logs:DescribeLogGroups", "logs:DescribeMetricFilters", "logs:TestMetricFilter",
    "monitoring:DescribeAlarms", "monitoring:ListTagsForResource", "sns:GetTopicAttributes", "sns:ListTagsForResource",
    "sns:ListSubscriptionsByTopic", "cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors", "cloudtrail:ListTags", "iam:GetRole", "iam:ListRoleTags", "iam:GetRolePolicy",
    "s3:HeadBucket", "s3:GetBucketTagging", "s3:GetBucketPolicy", "s3:ListObjectsV2",
}


@pytest.fixture()
def every_call(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AWS operation made by any botocore client of any session (the CLI makes its own)."""
    from botocore.client import BaseClient

    seen: list[str] = []
    original = BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: Any) -> Any:
        seen.append(f"{self.meta.service_model.endpoint_prefix}:{operation_name}")
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return seen


def snapshot(session: Any) -> dict[str, Any]:
    """What the moto account holds, as data (compared before and after a dry run)."""
    logs, cw, sns, ct, iam, s3 = (session.client(s) for s in ("logs", "cloudwatch", "sns", "cloudtrail", "iam", "s3"))
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    alarms = cw.describe_alarms()["MetricAlarms"]
    return {
        "filters": sorted(json.dumps(f, sort_keys=True, default=str)
                          for g in logs.describe_log_groups()["logGroups"]
                          for f in logs.describe_metric_filters(logGroupName=g["logGroupName"])["metricFilters"]),
        "alarms": [json.dumps({k: v for k, v in a.items() if "Timestamp" not in k}, sort_keys=True, default=str) for a in alarms],
        "alarm_tags": [cw.list_tags_for_resource(ResourceARN=a["AlarmArn"])["Tags"] for a in alarms],
        "topics": {t: (sns.get_topic_attributes(TopicArn=t)["Attributes"], sns.list_tags_for_resource(ResourceArn=t)["Tags"],
                       sns.list_subscriptions_by_topic(TopicArn=t)["Subscriptions"]) for t in topics},
        "trails": ct.describe_trails()["trailList"], "roles": [r["RoleName"] for r in iam.list_roles()["Roles"]],
        "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"]],
    }


# Attack: a dry run (the CLI without --apply, plan(), teardown() without apply, verify) against an
# account where the spec is deployed and then changed (so the plan has updates, a delete, a trail).
# Not one operation outside the read-only list, and the account is byte-for-byte the same after.
def test_dry_runs_make_no_write_call_at_all(account: Any, every_call: list[str], tmp_path: Any,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    from s3audit.cli import main
    from s3audit.deploy import verify

    deployed = spec_with(notify={"emails": ["secops@example.com", "oncall@example.com"]})
    plan(deployed, session=account, test_events=EVENTS).apply()
    changed = spec_with(pattern=PATTERN.replace("GetObject", "HeadObject"), alarm={"period": 600, "threshold": 2,
                        "evaluation_periods": 1}, tags={"team": "secops"},
                        trail={"buckets": ["payroll-data"], "create": True, "log_bucket": "payroll-trail-logs"})
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(changed))
    before = snapshot(account)
    every_call.clear()

    p = plan(changed, session=account, test_events=EVENTS)
    assert {"update", "delete", "create"} <= {c.action for c in p.changes}, p.render()  # the dry run has work to show
    teardown(changed, session=account)
    verify(changed, session=account)
    for argv in (["deploy", str(path)], ["teardown", str(path)], ["verify", str(path)], ["template", str(path)]):
        main(argv)
    capsys.readouterr()

    assert every_call, "the recorder saw nothing"
    assert "logs:DescribeMetricFilters" in every_call and "monitoring:DescribeAlarms" in every_call
    assert sorted(set(every_call) - READ_ONLY) == []
    assert snapshot(account) == before


# ------------------------------------------------------------------------------ a look-alike filter
# Attack: before any deployment, someone made a filter with the spec's name that publishes the
# spec's very metric (same naming guide, or a hand-made trial). Metric filters carry no tags, so
# name + metric were taken as proof: the plan overwrote its pattern and teardown deleted it. With
# no tagged alarm or topic of this spec in the account, nothing proves it is s3audit's.
@pytest.mark.parametrize("notify", ["emails", "topic_arn"])
def test_a_look_alike_filter_without_an_s3audit_deployment_is_neither_taken_over_nor_deleted(account: Any, notify: str) -> None:
    spec = _spec_notifying(account, notify)
    _foreign_filter(account, "payroll-unexpected-reads", pattern='{ $.eventName = "GetObject" }')
    rec = CallRecorder(account)
    p = plan(spec, session=account, test_events=EVENTS)
    assert "metric filter ownership" in failed(p), p.render()
    assert ("AWS::Logs::MetricFilter", "payroll-unexpected-reads", "keep") in actions(p)
    t = teardown(spec, session=account)
    assert ("AWS::Logs::MetricFilter", "payroll-unexpected-reads", "keep") in actions(t), t.render()
    t.apply()
    assert rec.writes == []
    [f] = account.client("logs").describe_metric_filters(logGroupName=GROUP)["metricFilters"]
    assert f["filterPattern"] == '{ $.eventName = "GetObject" }'


# Partial apply, then re-apply and teardown. The alarm is written before the filter, so whatever
# step fails, the filter never exists without the tagged alarm that proves it is s3audit's.
@pytest.mark.parametrize("notify", ["emails", "topic_arn"])
@pytest.mark.parametrize("denied", ["cloudwatch.PutMetricAlarm", "cloudwatch-logs.PutMetricFilter"])
def test_partial_apply_then_apply_again_and_teardown(account: Any, notify: str, denied: str) -> None:
    from s3audit.deploy import PermissionDenied

    spec = _spec_notifying(account, notify)

    deny = refusal("not authorized to perform: x:Y")

    account.events.register(f"before-call.{denied}", deny)
    p = plan(spec, session=account, test_events=EVENTS)
    with pytest.raises(PermissionDenied):
        p.apply()
    assert p.result is not None and p.result.stopped
    account.events.unregister(f"before-call.{denied}", deny)

    logs, cw = account.client("logs"), account.client("cloudwatch")
    again = plan(spec, session=account, test_events=EVENTS)
    assert not again.blocked, again.render()
    assert sorted(c.resource_type for c in again.changes if c.action == "create") == (
        ["AWS::CloudWatch::Alarm", "AWS::Logs::MetricFilter"] if "PutMetricAlarm" in denied else ["AWS::Logs::MetricFilter"])
    again.apply()
    assert len(logs.describe_metric_filters(logGroupName=GROUP)["metricFilters"]) == 1
    assert {a for _, _, a in actions(plan(spec, session=account, test_events=EVENTS))} == {"nothing"}
    teardown(spec, session=account, apply=True)
    assert logs.describe_metric_filters(logGroupName=GROUP)["metricFilters"] == []
    assert cw.describe_alarms()["MetricAlarms"] == []


# Partial teardown: the first delete after the filter's is refused. Teardown again must still
# recognise the filter (or find it gone) and finish - the proof (the alarm) goes last of the two.
@pytest.mark.parametrize("notify", ["emails", "topic_arn"])
def test_partial_teardown_then_teardown_again_finishes(account: Any, notify: str) -> None:
    from s3audit.deploy import PermissionDenied

    spec = _spec_notifying(account, notify)
    plan(spec, session=account, test_events=EVENTS).apply()

    deny = refusal("denied")

    account.events.register("before-call.cloudwatch-logs.DeleteMetricFilter", deny)
    with pytest.raises(PermissionDenied):
        teardown(spec, session=account, apply=True)
    account.events.unregister("before-call.cloudwatch-logs.DeleteMetricFilter", deny)
    t = teardown(spec, session=account)
    assert ("AWS::Logs::MetricFilter", "payroll-unexpected-reads", "delete") in actions(t), t.render()
    t.apply()
    assert account.client("logs").describe_metric_filters(logGroupName=GROUP)["metricFilters"] == []
    assert account.client("cloudwatch").describe_alarms()["MetricAlarms"] == []


# ------------------------------------------------------------------------------ pending e-mail subscriptions
def _make_pending(endpoint: str) -> None:
    """Show a subscription as AWS lists an unconfirmed one: SubscriptionArn "PendingConfirmation".

    moto confirms e-mail subscriptions at once (aws-apis.md 3.5); its server runs in this process, so
    the backend object is changed directly (its dict key stays the real ARN, as moto needs).
    """
    from moto.sns.models import sns_backends

    subs = [s for s in sns_backends[ACCOUNT][REGION].subscriptions.values() if s.endpoint == endpoint]
    assert len(subs) == 1
    subs[0].arn = "PendingConfirmation"


# Attack: an address leaves the spec while its subscription is still pending. Unsubscribe cannot
# take "PendingConfirmation" (AWS: InvalidParameter), so the plan keeps it with a note, apply makes
# no call for it, and verify does not call the deployment broken for something only AWS can remove.
def test_a_pending_subscription_removed_from_the_spec_is_kept_and_verify_still_passes(account: Any) -> None:
    from s3audit.deploy import verify

    two = spec_with(notify={"emails": ["secops@example.com", "oncall@example.com"]})
    plan(two, session=account, test_events=EVENTS).apply()
    _make_pending("oncall@example.com")
    listed = account.client("sns").list_subscriptions_by_topic(
        TopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:payroll-unexpected-reads")["Subscriptions"]
    assert {s["Endpoint"]: s["SubscriptionArn"] for s in listed}["oncall@example.com"] == "PendingConfirmation"

    assert verify(two, session=account).ok  # pending, still in the spec: reported as info only
    p = plan(SPEC, session=account, test_events=EVENTS)
    [sub] = [c for c in p.changes if c.name == "oncall@example.com"]
    assert sub.action == "keep" and sub.calls == () and "unconfirmed" in sub.note
    rec = CallRecorder(account)
    p.apply()
    assert rec.writes == []
    report = verify(SPEC, session=account)
    assert report.ok, report.problems
    assert any("oncall@example.com" in i and "pending" in i for i in report.info), report.info

    rec = CallRecorder(account)
    teardown(SPEC, session=account, apply=True)
    assert "sns:Unsubscribe" not in rec.calls and "sns:DeleteTopic" in rec.calls
    assert account.client("sns").list_topics()["Topics"] == []


# ------------------------------------------------------------------------------ the log group is gone
# Attack: the log group was deleted (AWS deletes its metric filters with it; moto leaves them
# behind, aws-apis.md 3.3). Teardown must still remove the alarm and the topic, and plan nothing
# against the group.
def test_teardown_when_the_log_group_is_gone(account: Any) -> None:
    plan(SPEC, session=account, test_events=EVENTS).apply()
    account.client("logs").delete_log_group(logGroupName=GROUP)
    rec = CallRecorder(account)
    t = teardown(SPEC, session=account)
    by = {c.resource_type: c for c in t.changes}
    assert by["AWS::Logs::MetricFilter"].action == "nothing"
    assert by["AWS::CloudWatch::Alarm"].action == "delete" and by["AWS::SNS::Topic"].action == "delete"
    assert {c.name: c.status for c in t.checks}["log group exists"] == "skipped"
    t.apply()
    assert "logs:DeleteMetricFilter" not in rec.calls
    assert account.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert account.client("sns").list_topics()["Topics"] == []
    assert {a for _, _, a in actions(teardown(SPEC, session=account))} == {"nothing"}


# ------------------------------------------------------------------------------ notify.topic_arn elsewhere
# Attack: an offline plan (no credentials, notebook 04's default) of a spec that uses an existing
# topic. It claimed the topic "does not exist" without asking anyone and BLOCKED the plan; an
# offline teardown must not list that topic for deletion either.
def test_an_offline_plan_with_an_existing_topic_is_not_blocked_and_never_deletes_it() -> None:
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:secops"
    spec = spec_with(notify={"topic_arn": arn})
    p = plan(spec, offline=True)
    assert not p.blocked, p.render()
    assert ("AWS::SNS::Topic", arn, "nothing") in actions(p)
    assert {c.name: c.status for c in p.checks}["existing topic"] == "skipped"
    t = teardown(spec, offline=True)
    assert ("AWS::SNS::Topic", arn, "keep") in actions(t)
    assert {a for r, _, a in actions(t) if r != "AWS::SNS::Topic"} == {"delete"}


# Attack: notify.topic_arn in another Region. A CloudWatch alarm notifies only topics of its own
# Region (PutMetricAlarm: "Invalid region eu-west-1 specified. Only us-east-1 is supported.",
# quoted in cds-snc/notification-terraform#128). The plan must say so - the topic does exist.
def test_a_topic_in_another_region_blocks_with_the_reason(account: Any) -> None:
    import boto3

    west = boto3.Session(region_name="eu-west-1").client("sns").create_topic(Name="secops")["TopicArn"]
    p = plan(spec_with(notify={"topic_arn": west}), session=account, test_events=EVENTS)
    detail = failed(p)["existing topic"]
    assert "eu-west-1" in detail and "own Region" in detail, detail
    with pytest.raises(PreflightError):
        p.apply()


# Attack: notify.topic_arn of another account (allowed by AWS when that topic's policy lets
# CloudWatch publish). Its policy, not an IAM grant here, decides whether it can be read: a refused
# read is a warning naming the other account, not "grant sns:GetTopicAttributes to this identity".
def test_a_topic_of_another_account_that_cannot_be_read_is_a_warning(account: Any) -> None:
    theirs = f"arn:aws:sns:{REGION}:210987654321:org-secops"

    def refuse(params: dict[str, Any], **_: Any) -> Any:
        from urllib.parse import quote

        body = str(params.get("body"))  # the serialized request (query protocol)
        if theirs not in body and quote(theirs, safe="") not in body:
            return None

        class Refused:
            status_code = 403
            headers: dict[str, str] = {}
        return Refused(), {"Error": {"Code": "AuthorizationError", "Message": f"User: arn:aws:iam::{ACCOUNT}:user/a is not "
                                     f"authorized to perform: SNS:GetTopicAttributes on resource: {theirs}"},
                           "ResponseMetadata": {"HTTPStatusCode": 403}}

    account.events.register("before-call.sns.GetTopicAttributes", refuse)
    p = plan(spec_with(notify={"topic_arn": theirs}), session=account, test_events=EVENTS)
    assert not p.blocked, p.render()
    [warn] = [c for c in p.checks if c.name == "existing topic"]
    assert warn.status == "warning" and "210987654321" in warn.detail
    p.apply()
    [a] = account.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert a["AlarmActions"] == [theirs]
    teardown(spec_with(notify={"topic_arn": theirs}), session=account, apply=True)
    assert account.client("cloudwatch").describe_alarms()["MetricAlarms"] == []


# ------------------------------------------------------------------------------ emails -> topic_arn
# Attack: a deployed spec switches from notify.emails (s3audit made the topic) to notify.topic_arn,
# or renames its topic (names.topic). The alarm moves to the other topic; s3audit's old topic was left
# without a publisher, and teardown with the current spec never looked at it: it stayed forever.
@pytest.mark.parametrize("switch", ["topic_arn", "names.topic"])
def test_moving_the_alarm_to_another_topic_leaves_no_s3audit_topic_behind(account: Any, switch: str) -> None:
    sns = account.client("sns")
    old = f"arn:aws:sns:{REGION}:{ACCOUNT}:payroll-unexpected-reads"
    plan(SPEC, session=account, test_events=EVENTS).apply()
    if switch == "topic_arn":
        new = sns.create_topic(Name="secops-existing")["TopicArn"]
        switched = spec_with(notify={"topic_arn": new})
    else:
        new = f"arn:aws:sns:{REGION}:{ACCOUNT}:payroll-alerts"
        switched = spec_with(names={"topic": "payroll-alerts"})
    p = plan(switched, session=account, test_events=EVENTS)
    kinds = [(r, n, a) for r, n, a in actions(p) if r in ("AWS::CloudWatch::Alarm", "AWS::SNS::Topic")]
    assert kinds[-2:] == [("AWS::CloudWatch::Alarm", "payroll-unexpected-reads", "update"),
                          ("AWS::SNS::Topic", "payroll-unexpected-reads", "delete")], p.render()
    p.apply()
    assert sorted(x["TopicArn"] for x in sns.list_topics()["Topics"]) == [new]
    [a] = account.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert a["AlarmActions"] == [new]
    assert {a for _, _, a in actions(plan(switched, session=account, test_events=EVENTS))} == {"nothing"}
    teardown(switched, session=account, apply=True)
    assert [x["TopicArn"] for x in sns.list_topics()["Topics"]] == ([new] if switch == "topic_arn" else [])
    assert old not in [x["TopicArn"] for x in sns.list_topics()["Topics"]]


def _moved_to_an_existing_topic_after_the_alarm_went(account: Any) -> tuple[Any, str, dict[str, Any]]:
    """SPEC deployed (with its own topic), its alarm deleted by hand, the spec switched to
    ``notify.topic_arn``: (sns client, the existing topic, the switched spec)."""
    sns = account.client("sns")
    plan(SPEC, session=account, test_events=EVENTS).apply()
    account.client("cloudwatch").delete_alarms(AlarmNames=["payroll-unexpected-reads"])
    existing = sns.create_topic(Name="secops-existing")["TopicArn"]
    return sns, existing, spec_with(notify={"topic_arn": existing})


# A leftover of an earlier version (the old topic still there after the switch): teardown removes it.
def test_teardown_removes_the_former_topic_of_a_spec_that_now_uses_an_existing_one(account: Any) -> None:
    sns, existing, switched = _moved_to_an_existing_topic_after_the_alarm_went(account)
    t = teardown(switched, session=account)
    assert ("AWS::SNS::Topic", "payroll-unexpected-reads", "delete") in actions(t), t.render()
    assert ("AWS::SNS::Topic", existing, "keep") in actions(t)
    assert ("AWS::Logs::MetricFilter", "payroll-unexpected-reads", "delete") in actions(t)  # the tagged topic proves it
    t.apply()
    assert [x["TopicArn"] for x in sns.list_topics()["Topics"]] == [existing]
    assert account.client("logs").describe_metric_filters(logGroupName=GROUP)["metricFilters"] == []


# The same leftover seen by plan: the spec moved to notify.topic_arn after its alarm was deleted.
# plan called the filter foreign (no tagged alarm, and it did not look at the former topic) while
# teardown took the tagged topic as proof: one spec, two verdicts. Now plan reads it as teardown does,
# keeps the filter as this spec's and removes the unused former topic.
def test_plan_takes_the_former_topic_as_proof_as_teardown_does_and_removes_it(account: Any) -> None:
    sns, existing, switched = _moved_to_an_existing_topic_after_the_alarm_went(account)
    p = plan(switched, session=account, test_events=EVENTS)
    assert not failed(p), p.render()
    assert ("AWS::SNS::Topic", "payroll-unexpected-reads", "delete") in actions(p), p.render()
    assert ("AWS::Logs::MetricFilter", "payroll-unexpected-reads", "nothing") in actions(p), p.render()
    p.apply()
    assert [x["TopicArn"] for x in sns.list_topics()["Topics"]] == [existing]
    [a] = account.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert a["AlarmActions"] == [existing]
    assert {a for _, _, a in actions(plan(switched, session=account, test_events=EVENTS))} == {"nothing"}
    # a topic of that name made by hand (untagged) proves nothing and is never touched
    sns.create_topic(Name="payroll-unexpected-reads")
    account.client("cloudwatch").delete_alarms(AlarmNames=["payroll-unexpected-reads"])
    again = plan(switched, session=account, test_events=EVENTS)
    assert ("AWS::SNS::Topic", "payroll-unexpected-reads", "delete") not in actions(again)
    assert "metric filter ownership" in failed(again), again.render()
    assert ("AWS::Logs::MetricFilter", "payroll-unexpected-reads", "keep") in actions(again)


# ------------------------------------------------------------------------------ names AWS refuses late
# Attack: with trail.create the trail is named after the spec. "payroll-reads-" and "payroll--reads"
# are valid topic names but not trail names (CreateTrail: start and end with a letter or number, no
# adjacent '.', '_' or '-', not an IP address). Only the length was checked, so apply created the
# log bucket, its policy and the role, then CreateTrail failed: a partial apply the plan can prevent.
@pytest.mark.parametrize("name", ["payroll-reads-", "payroll--reads", "payroll_-reads", "_payroll-reads"])
def test_a_spec_name_that_cannot_name_the_trail_blocks_before_anything_is_written(account: Any, name: str) -> None:
    spec = spec_with(name=name, trail={"buckets": ["payroll-data"], "create": True, "log_bucket": "payroll-trail-logs"})
    rec = CallRecorder(account)
    p = plan(spec, session=account, test_events=EVENTS)
    assert "trail name" in failed(p), p.render()
    with pytest.raises(PreflightError):
        p.apply()
    assert rec.writes == [] and account.client("s3").list_buckets()["Buckets"] == []


@pytest.mark.parametrize("trail_name", ["payroll--trail", "payroll.-trail", "192.168.5.4"])
def test_an_invalid_trail_name_in_the_spec_is_rejected(trail_name: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(spec_with(trail={"buckets": ["payroll-data"], "create": True, "name": trail_name}))
    assert any(p.startswith("trail.name") for p in info.value.problems), info.value.problems


# A spec name with no letter or digit gives the default log bucket a name that starts with '-'.
def test_a_default_log_bucket_name_that_s3_refuses_blocks(account: Any) -> None:
    spec = spec_with(name="___", names={"filter": "f", "alarm": "a", "topic": "t"},
                     trail={"buckets": ["payroll-data"], "create": True, "name": "payroll-trail"})
    p = plan(spec, session=account, test_events=EVENTS)
    assert "trail log bucket name" in failed(p), p.render()


# ------------------------------------------------------------------------------ template == apply
# Attack: user text that looks like CloudFormation syntax. names.alarm may hold any character, and
# the alarm's ARN sits in the topic policy inside an Fn::Sub: "${x}" made the template invalid, and
# "${AWS::Region}" was substituted, so the policy named another alarm than the one created (the
# alarm could not publish). A '${' in the pattern or description failed cfn-lint (E1029).
# Then: the template, evaluated as CloudFormation would, equals what apply created, field by field.
def test_the_template_evaluates_to_what_apply_creates_even_with_template_syntax_in_names(account: Any) -> None:
    from cfnlint.api import lint

    from s3audit.deploy import render_template
    from s3audit.deploy import resources as R

    spec = spec_with(names={"alarm": "payroll ${x} reads ${AWS::Region}"},
                     pattern='{ ($.eventName = "GetObject") && ($.userAgent != "${AWS::AccountId}") }',
                     alarm={"period": 300, "threshold": 2, "evaluation_periods": 3, "datapoints_to_alarm": 2,
                            "description": "reads in ${AWS::Region}"},
                     tags={"team": "sec ${ops}"}, notify={"emails": ["secops@example.com", "oncall@example.com"]})
    text = render_template(spec)
    assert [str(m) for m in lint(text, regions=[REGION])] == []
    doc = json.loads(text)
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:payroll-unexpected-reads"
    res = resolve(doc["Resources"], {"Topic": topic_arn})

    plan(spec, session=account, test_events=EVENTS).apply()
    logs, cw, sns = (account.client(s) for s in ("logs", "cloudwatch", "sns"))
    [f] = logs.describe_metric_filters(logGroupName=GROUP)["metricFilters"]
    mf = res["MetricFilter"]["Properties"]
    assert (mf["FilterName"], mf["LogGroupName"], mf["FilterPattern"]) == (f["filterName"], f["logGroupName"], f["filterPattern"])
    [mt] = f["metricTransformations"]
    assert mf["MetricTransformations"] == [{"MetricName": mt["metricName"], "MetricNamespace": mt["metricNamespace"],
                                            "MetricValue": mt["metricValue"], "DefaultValue": float(mt["defaultValue"])}]
    [a] = cw.describe_alarms()["MetricAlarms"]
    props = res["Alarm"]["Properties"]
    assert {k: v for k, v in props.items() if k != "Tags"} == {k: a.get(k) for k in props if k != "Tags"}
    alarm_tags = {t["Key"]: t["Value"] for t in cw.list_tags_for_resource(ResourceARN=a["AlarmArn"])["Tags"]}
    cfn_tags = {t["Key"]: t["Value"] for t in props["Tags"]}
    assert cfn_tags == {**alarm_tags, "s3audit:managed": "cloudformation"}  # the one intended difference
    applied = json.loads(sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"])
    assert R.normalize_policy(res["TopicPolicy"]["Properties"]["PolicyDocument"]) == R.normalize_policy(applied)
    cw_statement = [s for s in applied["Statement"] if s.get("Sid") == "AllowCloudWatchAlarms"][0]
    assert cw_statement["Condition"]["ArnLike"]["aws:SourceArn"] == a["AlarmArn"]
    assert res["Topic"]["Properties"]["TopicName"] == topic_arn.rsplit(":", 1)[1]
    subs = sorted(s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"])
    assert sorted(r["Properties"]["Endpoint"] for k, r in res.items() if k.startswith("Subscription")) == subs


# ------------------------------------------------------------------------------ a topic others rely on
# Attack: two deployments side by side, the second notifying through the first's topic
# (notify.topic_arn = the topic s3audit made for the first). Tearing the first down deleted that
# topic: the second alarm kept running with an action pointing nowhere, and nobody was told.
def test_teardown_keeps_an_s3audit_topic_that_another_alarm_still_notifies(account: Any) -> None:
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:payroll-unexpected-reads"
    hr = spec_with(name="hr-unexpected-reads", metric={"namespace": "S3Audit", "name": "HrUnexpectedReads"},
                   notify={"topic_arn": topic})
    plan(SPEC, session=account, test_events=EVENTS).apply()
    plan(hr, session=account, test_events=EVENTS).apply()

    t = teardown(SPEC, session=account)
    [tc] = [c for c in t.changes if c.resource_type == "AWS::SNS::Topic"]
    assert tc.action == "keep" and "hr-unexpected-reads" in tc.note, t.render()
    assert not any(c.resource_type == "AWS::SNS::Subscription" and c.action == "delete" for c in t.changes)
    t.apply()
    sns, cw = account.client("sns"), account.client("cloudwatch")
    assert [x["TopicArn"] for x in sns.list_topics()["Topics"]] == [topic]
    assert [a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]] == ["hr-unexpected-reads"]
    assert {a for _, _, a in actions(plan(hr, session=account, test_events=EVENTS))} == {"nothing"}

    teardown(hr, session=account, apply=True)  # the second one goes; the topic is not its to delete
    assert [x["TopicArn"] for x in sns.list_topics()["Topics"]] == [topic]
    teardown(SPEC, session=account, apply=True)  # now nothing relies on it
    assert sns.list_topics()["Topics"] == []


# ------------------------------------------------------------------------------ renamed alarm
# Attack: rename the alarm of a deployed spec (names.alarm). The plan created the new alarm and left
# the old one - tagged for this spec, watching the same metric, notifying the same topic: every
# detection e-mailed twice, and teardown (looking only for the new name) never removed the old one.
def test_renaming_the_alarm_replaces_it_and_teardown_leaves_no_old_alarm(account: Any) -> None:
    cw = account.client("cloudwatch")
    plan(SPEC, session=account, test_events=EVENTS).apply()
    renamed = spec_with(names={"alarm": "payroll-reads-alarm"})
    p = plan(renamed, session=account, test_events=EVENTS)
    alarm_changes = [(n, a) for r, n, a in actions(p) if r == "AWS::CloudWatch::Alarm"]
    assert alarm_changes == [("payroll-reads-alarm", "create"), ("payroll-unexpected-reads", "delete")], p.render()
    p.apply()
    assert [a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]] == ["payroll-reads-alarm"]
    assert {a for _, _, a in actions(plan(renamed, session=account, test_events=EVENTS))} == {"nothing"}

    # an old alarm left by an earlier version: teardown finds it too; a stranger's alarm on the metric stays
    cw.put_metric_alarm(AlarmName="payroll-old", Namespace="S3Audit", MetricName="PayrollUnexpectedReads", Statistic="Sum",
                        Period=300, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
                        Tags=[{"Key": "s3audit:managed", "Value": "true"}, {"Key": "s3audit:name", "Value": "payroll-unexpected-reads"}])
    cw.put_metric_alarm(AlarmName="someone-watching", Namespace="S3Audit", MetricName="PayrollUnexpectedReads",
                        Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=5,
                        ComparisonOperator="GreaterThanOrEqualToThreshold")
    t = teardown(renamed, session=account)
    assert {n for r, n, a in actions(t) if r == "AWS::CloudWatch::Alarm" and a == "delete"} == {
        "payroll-reads-alarm", "payroll-old"}, t.render()
    t.apply()
    assert [a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]] == ["someone-watching"]


def test_renaming_the_alarm_of_a_spec_with_an_existing_topic_keeps_the_filter_recognised(account: Any) -> None:
    topic = account.client("sns").create_topic(Name="secops-existing")["TopicArn"]
    spec = spec_with(notify={"topic_arn": topic})
    plan(spec, session=account, test_events=EVENTS).apply()
    renamed = spec_with(notify={"topic_arn": topic}, names={"alarm": "payroll-reads-alarm"},
                        pattern=PATTERN.replace("GetObject", "HeadObject"))
    p = plan(renamed, session=account, test_events=EVENTS)  # the old alarm (tagged) proves the filter is ours
    assert not p.blocked, p.render()
    assert ("AWS::Logs::MetricFilter", "payroll-unexpected-reads", "update") in actions(p)
    with aws_like_put_metric_filter():
        p.apply()
    teardown(renamed, session=account, apply=True)
    assert account.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert account.client("logs").describe_metric_filters(logGroupName=GROUP)["metricFilters"] == []


# Attack: an alarm name with IAM wildcards. The topic policy allows CloudWatch to publish for
# aws:SourceArn ArnLike "...:alarm:<name>": with names.alarm "payroll*", every alarm of the account
# whose name starts with "payroll" could publish to the topic.
@pytest.mark.parametrize("alarm_name", ["payroll*", "payroll-?-reads"])
def test_an_alarm_name_with_policy_wildcards_is_rejected(alarm_name: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(spec_with(names={"alarm": alarm_name}))
    assert any(p.startswith("names.alarm") and "wildcard" in p for p in info.value.problems), info.value.problems
    assert load_spec(spec_with(names={"alarm": "payroll reads (S3) #1"})).alarm_name == "payroll reads (S3) #1"


# ------------------------------------------------------------------------------ limits, at the edge
# PutMetricFilter: at most 100 metric filters per log group (aws-apis.md 4.1); an update of ours adds none.
@pytest.mark.parametrize("others, ours, blocked", [(99, False, False), (100, False, True), (99, True, False)])
def test_the_metric_filter_limit_at_its_edge(account: Any, others: int, ours: bool, blocked: bool) -> None:
    logs = account.client("logs")
    if ours:
        plan(SPEC, session=account, test_events=EVENTS).apply()
    for i in range(others):
        logs.put_metric_filter(logGroupName=GROUP, filterName=f"other-{i:03d}", filterPattern="ERROR",
                               metricTransformations=[{"metricName": f"M{i}", "metricNamespace": "App", "metricValue": "1"}])
    p = plan(spec_with(pattern=PATTERN.replace("GetObject", "HeadObject")), session=account, test_events=EVENTS)
    assert ("metric-filter limit" in failed(p)) is blocked, p.render()


# FilterPattern: 0-1024 characters (botocore logs model).
def test_the_pattern_length_limit_at_its_edge() -> None:
    head, tail = '{ $.eventName = "', '" }'
    exact = head + "A" * (1024 - len(head) - len(tail)) + tail
    assert len(load_spec(spec_with(pattern=exact)).pattern) == 1024
    with pytest.raises(SpecError, match="1025 characters"):
        load_spec(spec_with(pattern=exact.replace('"A', '"AA')))


# Attack: a log group in a cheaper log class (moto does not keep logGroupClass, so the recorded
# DescribeLogGroups field is added to its answer). The API documents only that the Standard class
# supports every feature: the plan warns (not verified here which features the others lack).
def test_a_log_group_outside_the_standard_class_is_a_warning(account: Any) -> None:
    def infrequent(parsed: dict[str, Any], **_: Any) -> None:
        for g in parsed.get("logGroups", []):
            g["logGroupClass"] = "INFREQUENT_ACCESS"

    account.events.register("after-call.cloudwatch-logs.DescribeLogGroups", infrequent)
    p = plan(SPEC, session=account, test_events=EVENTS)
    check = {c.name: c for c in p.checks}["log group exists"]
    assert check.status == "warning" and "INFREQUENT_ACCESS" in check.detail and not p.blocked
    account.events.unregister("after-call.cloudwatch-logs.DescribeLogGroups", infrequent)
    assert {c.name: c for c in plan(SPEC, session=account, test_events=EVENTS).checks}["log group exists"].status == "ok"


# Found by test_deploy_spec's property test: test_events "" was accepted, then ignored (the bundled
# samples were used instead) and dropped by to_dict.
def test_an_empty_test_events_path_is_rejected() -> None:
    with pytest.raises(SpecError, match="test_events"):
        load_spec(spec_with(test_events=""))


# ------------------------------------------------------------------------------ moved log group
# Attack: the spec's log_group changes (a new trail delivers elsewhere). The old filter stayed on
# the old group publishing the same metric: double counting, and teardown never looked there. It
# passes the same ownership test as the filter on the current group (name, metric, tagged alarm),
# so the plan replaces it; a different filter name there still blocks.
def test_moving_the_log_group_replaces_the_filter_on_the_old_group(account: Any) -> None:
    logs = account.client("logs")
    plan(SPEC, session=account, test_events=EVENTS).apply()
    logs.create_log_group(logGroupName="new-trail-logs")
    moved = spec_with(log_group="new-trail-logs")
    p = plan(moved, session=account, test_events=EVENTS)
    assert not p.blocked, p.render()
    flt = [(c.action, c.calls[0].params["logGroupName"] if c.calls else None) for c in p.changes
           if c.resource_type == "AWS::Logs::MetricFilter"]
    assert flt == [("create", "new-trail-logs"), ("delete", GROUP)], flt
    p.apply()
    assert logs.describe_metric_filters(logGroupName=GROUP)["metricFilters"] == []
    assert [f["filterName"] for f in logs.describe_metric_filters(logGroupName="new-trail-logs")["metricFilters"]] == [
        "payroll-unexpected-reads"]
    assert {a for _, _, a in actions(plan(moved, session=account, test_events=EVENTS))} == {"nothing"}


def test_teardown_removes_this_specs_filter_left_on_a_former_log_group(account: Any) -> None:
    logs = account.client("logs")
    plan(SPEC, session=account, test_events=EVENTS).apply()
    _foreign_filter(account, "payroll-unexpected-reads", "new-trail-logs", pattern=PATTERN)  # as an older version left it
    _foreign_filter(account, "someone-elses", "third-logs", metric=("S3Audit", "Other"))
    moved = spec_with(log_group="new-trail-logs")
    t = teardown(moved, session=account)
    deleted = sorted(c.calls[0].params["logGroupName"] for c in t.changes
                     if c.resource_type == "AWS::Logs::MetricFilter" and c.action == "delete")
    assert deleted == sorted([GROUP, "new-trail-logs"]), t.render()
    t.apply()
    left = [f["filterName"] for g in (GROUP, "new-trail-logs", "third-logs")
            for f in logs.describe_metric_filters(logGroupName=g)["metricFilters"]]
    assert left == ["someone-elses"]


# An alarm that uses s3audit's topic only as its OK action relies on it too (DescribeAlarms'
# ActionPrefix is documented for "alarm actions"; moto matches AlarmActions only).
def test_teardown_keeps_the_topic_for_an_alarm_that_uses_it_only_as_ok_action(account: Any) -> None:
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:payroll-unexpected-reads"
    plan(SPEC, session=account, test_events=EVENTS).apply()
    account.client("cloudwatch").put_metric_alarm(
        AlarmName="ops-recovered", Namespace="App", MetricName="Errors", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold", OKActions=[topic])
    t = teardown(SPEC, session=account)
    [tc] = [c for c in t.changes if c.resource_type == "AWS::SNS::Topic"]
    assert tc.action == "keep" and "ops-recovered" in tc.note, t.render()


# ------------------------------------------------------------------------------ trail check
# Attack: a logging trail that covers the bucket but delivers to a log group of the same NAME in
# another account (or Region). The check compared only the ARN's ending ":log-group:<name>", so it
# said the spec's log group is fed when it is not: the alarm would never see an event.
@pytest.mark.parametrize("where", ["another account", "another region"])
def test_a_trail_feeding_a_same_named_group_elsewhere_does_not_count(account: Any, where: str) -> None:
    acct, region = ("999999999999", REGION) if where == "another account" else (ACCOUNT, "eu-west-1")
    account.client("s3").create_bucket(Bucket="org-trail-logs")
    ct = account.client("cloudtrail")
    ct.create_trail(Name="org-trail", S3BucketName="org-trail-logs",
                    CloudWatchLogsLogGroupArn=f"arn:aws:logs:{region}:{acct}:log-group:{GROUP}:*",
                    CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/ct")
    ct.put_event_selectors(TrailName="org-trail", EventSelectors=[{"ReadWriteType": "All", "DataResources": [
        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::payroll-data/"]}]}])
    ct.start_logging(Name="org-trail")
    p = plan(spec_with(trail={"buckets": ["payroll-data"]}), session=account, test_events=EVENTS)
    assert "trail delivers S3 data events" in failed(p), p.render()


# ------------------------------------------------------------------------------ tags tampered with
# Attack: someone strips the ownership tags from the deployed alarm (or re-tags the topic for another
# spec). Neither may be changed or deleted any more; what still proves it is s3audit's goes, and a
# topic the untagged alarm still notifies stays.
def test_resources_whose_tags_were_removed_or_changed_are_left_alone(account: Any) -> None:
    cw, sns, logs = (account.client(s) for s in ("cloudwatch", "sns", "logs"))
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:payroll-unexpected-reads"
    plan(SPEC, session=account, test_events=EVENTS).apply()
    [a] = cw.describe_alarms()["MetricAlarms"]
    cw.untag_resource(ResourceARN=a["AlarmArn"], TagKeys=["s3audit:managed", "s3audit:name"])
    p = plan(SPEC, session=account, test_events=EVENTS)
    assert "alarm ownership" in failed(p), p.render()
    t = teardown(SPEC, session=account)
    by = {r: a for r, _, a in actions(t) if r != "AWS::SNS::Subscription"}
    assert by == {"AWS::Logs::MetricFilter": "delete", "AWS::CloudWatch::Alarm": "keep", "AWS::SNS::Topic": "keep"}, t.render()
    t.apply()
    assert [x["AlarmName"] for x in cw.describe_alarms()["MetricAlarms"]] == ["payroll-unexpected-reads"]
    assert [x["TopicArn"] for x in sns.list_topics()["Topics"]] == [topic]
    assert logs.describe_metric_filters(logGroupName=GROUP)["metricFilters"] == []  # the tagged topic proved it

    sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "s3audit:name", "Value": "someone-else"}])
    cw.delete_alarms(AlarmNames=["payroll-unexpected-reads"])
    t = teardown(SPEC, session=account)
    [tc] = [c for c in t.changes if c.resource_type == "AWS::SNS::Topic"]
    assert tc.action == "keep" and "someone-else" in tc.note
    t.apply()
    assert [x["TopicArn"] for x in sns.list_topics()["Topics"]] == [topic]


# Attack: long names. The default alarm description names the filter (<= 512 characters) and the log
# group (<= 512): together over PutMetricAlarm's 1,024-character AlarmDescription limit, so the alarm
# write failed after the topic was created.
def test_the_default_alarm_description_fits_with_the_longest_names() -> None:
    from s3audit.deploy import resources as R
    from s3audit.deploy import template

    spec = load_spec(spec_with(name="n" * 255, log_group="g" * 512, names={"filter": "f" * 512}))
    params = R.alarm_params(spec, f"arn:aws:sns:{REGION}:{ACCOUNT}:t")
    assert len(params["AlarmDescription"]) <= 1024
    assert params["AlarmDescription"].startswith(f"s3audit: {'n' * 255}: ")
    assert template(spec)["Resources"]["Alarm"]["Properties"]["AlarmDescription"] == params["AlarmDescription"]
