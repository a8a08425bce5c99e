"""The CLI (`s3audit deploy|teardown|template|verify SPEC`) and the CloudFormation template.

CLI runs go through moto in server mode via AWS_ENDPOINT_URL, as a user's shell would.
The template is linted with cfn-lint's Python API (offline, real CloudFormation schemas).
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from _moto_server import ACCOUNT, REGION, aws, moto_server  # noqa: F401
from _deploy_support import refusal, resolve

from s3audit.cli import main
from s3audit.deploy import render_template, template

GROUP = "aws-cloudtrail-logs-123456789012-abcd"
SPEC: dict[str, Any] = {
    "name": "payroll-unexpected-reads", "log_group": GROUP,
    "pattern": '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "GetObject") }',
    "metric": {"namespace": "S3Audit", "name": "PayrollUnexpectedReads"},
    "alarm": {"period": 300, "threshold": 1, "evaluation_periods": 2, "datapoints_to_alarm": 1},
    "notify": {"emails": ["secops@example.com", "oncall@example.com"]},
}


@pytest.fixture()
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "alarm-spec.yaml"
    path.write_text(yaml.safe_dump(SPEC))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------------ CLI against moto
def test_cli_deploy_plan_apply_verify_teardown(aws: Any, spec_file: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    aws.client("logs").create_log_group(logGroupName=GROUP)
    code, out, _ = run(capsys, "deploy", str(spec_file))
    assert code == 0 and "+ create  AWS::CloudWatch::Alarm" in out and "Nothing has been changed" in out
    assert aws.client("cloudwatch").describe_alarms()["MetricAlarms"] == []

    code, out, _ = run(capsys, "deploy", str(spec_file), "--apply")
    assert code == 0 and "APPLIED" in out and "cloudwatch:PutMetricAlarm" in out and "pending confirmation" in out
    assert len(aws.client("cloudwatch").describe_alarms()["MetricAlarms"]) == 1

    code, out, _ = run(capsys, "deploy", str(spec_file), "--apply")
    assert code == 0 and "already matches the spec" in out

    code, out, _ = run(capsys, "verify", str(spec_file))
    assert code == 0 and "OK, the deployment matches the spec" in out

    code, out, _ = run(capsys, "verify", str(spec_file), "--send-test-notification")
    assert code == 0 and "TEST notification" in out

    code, out, _ = run(capsys, "teardown", str(spec_file))
    assert code == 0 and "- delete  AWS::CloudWatch::Alarm" in out
    assert len(aws.client("cloudwatch").describe_alarms()["MetricAlarms"]) == 1
    code, out, _ = run(capsys, "teardown", str(spec_file), "--apply")
    assert code == 0 and "APPLIED" in out
    assert aws.client("cloudwatch").describe_alarms()["MetricAlarms"] == []

    code, out, _ = run(capsys, "verify", str(spec_file))
    assert code == 1 and "MISMATCH" in out and "would create" in out


def test_cli_missing_log_group_exits_1(aws: Any, spec_file: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    code, out, _ = run(capsys, "deploy", str(spec_file), "--apply")
    assert code == 1 and "BLOCKED" in out and GROUP in out
    assert aws.client("sns").list_topics()["Topics"] == []


def test_cli_invalid_spec_exits_2_and_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = copy.deepcopy(SPEC)
    bad["alarm"]["treat_missing"] = "breaching"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    for command in ("deploy", "teardown", "template", "verify"):
        code, _, err = run(capsys, command, str(path))
        assert code == 2 and "alarm.treat_missing: unknown key" in err, (command, err)
    code, _, err = run(capsys, "deploy", str(tmp_path / "missing.yaml"))
    assert code == 2 and "spec not found" in err


def test_cli_offline_plan_needs_no_aws(spec_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: any call would fail
    code, out, _ = run(capsys, "deploy", str(spec_file), "--offline")
    assert code == 0 and "OFFLINE PLAN" in out
    code, _, err = run(capsys, "deploy", str(spec_file), "--offline", "--apply")
    assert code == 2 and "cannot be applied" in err


def test_cli_denied_call_exits_3_naming_the_action(aws: Any, spec_file: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    aws.client("logs").create_log_group(logGroupName=GROUP)
    real = boto3.Session

    class DeniedSession(real):  # type: ignore[misc, valid-type]
        def __init__(self, *a: Any, **k: Any) -> None:
            super().__init__(*a, **k)

            self.events.register("before-call.sns.CreateTopic", refusal("not allowed", "AuthorizationError"))

    monkeypatch.setattr(boto3, "Session", DeniedSession)
    code, _, err = run(capsys, "deploy", str(spec_file), "--apply")
    assert code == 3 and "missing permission sns:CreateTopic" in err


# ------------------------------------------------------------------------------ template
def _lint(text: str) -> list[Any]:
    from cfnlint.api import lint

    return lint(text, regions=[REGION])


def test_template_has_the_same_resources_and_passes_cfn_lint(spec_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "template", str(spec_file))
    assert code == 0
    doc = json.loads(out)
    types = {k: v["Type"] for k, v in doc["Resources"].items()}
    assert types == {"Topic": "AWS::SNS::Topic", "TopicPolicy": "AWS::SNS::TopicPolicy",
                     "Subscription1": "AWS::SNS::Subscription", "Subscription2": "AWS::SNS::Subscription",
                     "MetricFilter": "AWS::Logs::MetricFilter", "Alarm": "AWS::CloudWatch::Alarm"}
    mf = doc["Resources"]["MetricFilter"]["Properties"]
    assert mf["FilterPattern"] == SPEC["pattern"] and mf["MetricTransformations"] == [
        {"MetricName": "PayrollUnexpectedReads", "MetricNamespace": "S3Audit", "MetricValue": "1", "DefaultValue": 0.0}]
    alarm = doc["Resources"]["Alarm"]["Properties"]
    assert (alarm["Statistic"], alarm["TreatMissingData"], alarm["DatapointsToAlarm"], alarm["EvaluationPeriods"]) == (
        "Sum", "notBreaching", 1, 2)
    assert alarm["AlarmActions"] == [{"Ref": "Topic"}] and "Unit" not in alarm
    assert _lint(out) == []


def test_template_with_trail_and_yaml_passes_cfn_lint(tmp_path: Path) -> None:
    spec = dict(SPEC, trail={"buckets": ["payroll-data", "hr-data"], "create": True})
    text = render_template(spec, "yaml")
    doc = yaml.safe_load(text)
    assert {"TrailBucket", "TrailBucketPolicy", "TrailRole", "Trail"} <= set(doc["Resources"])
    assert doc["Resources"]["Trail"]["DependsOn"] == ["TrailBucketPolicy"]
    assert _lint(text) == []


def test_template_with_existing_topic_creates_no_topic() -> None:
    doc = template(dict(SPEC, notify={"topic_arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:secops"}))
    assert set(doc["Resources"]) == {"MetricFilter", "Alarm"}
    assert doc["Resources"]["Alarm"]["Properties"]["AlarmActions"] == [f"arn:aws:sns:{REGION}:{ACCOUNT}:secops"]
    assert _lint(json.dumps(doc)) == []


def test_cfn_lint_really_checks_the_template() -> None:
    """Negative control: the lint used above does catch a bad alarm property."""
    doc = template(SPEC)
    doc["Resources"]["Alarm"]["Properties"]["TreatMissingData"] = "banana"
    assert any("banana" in str(m) for m in _lint(json.dumps(doc)))


def test_template_refuses_a_pattern_that_does_not_compile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(dict(SPEC, pattern='{ $.eventName = "GetObject"')))
    code, out, err = run(capsys, "template", str(path))
    assert code == 1 and out == "" and "pattern compiles locally" in err


def test_template_matches_what_the_direct_api_deployed(aws: Any) -> None:  # noqa: F811
    """Same properties both ways, read from moto after a direct apply (not from the shared builder)."""
    from s3audit.deploy import plan

    aws.client("logs").create_log_group(logGroupName=GROUP)
    plan(SPEC, session=aws, test_events=['{"eventName":"GetObject"}']).apply()
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{SPEC['name']}"
    res = resolve(template(SPEC)["Resources"], {"Topic": topic_arn})

    [f] = aws.client("logs").describe_metric_filters(logGroupName=GROUP)["metricFilters"]
    mf = res["MetricFilter"]["Properties"]
    assert (mf["FilterName"], mf["LogGroupName"], mf["FilterPattern"]) == (f["filterName"], f["logGroupName"], f["filterPattern"])
    [mt] = f["metricTransformations"]
    [cmt] = mf["MetricTransformations"]
    assert (cmt["MetricName"], cmt["MetricNamespace"], cmt["MetricValue"], float(cmt["DefaultValue"])) == (
        mt["metricName"], mt["metricNamespace"], mt["metricValue"], float(mt["defaultValue"])) == (
        "PayrollUnexpectedReads", "S3Audit", "1", 0.0)
    assert not {"Unit", "Dimensions"} & set(cmt) and not mt.get("dimensions") and mt.get("unit") in (None, "None")

    [a] = aws.client("cloudwatch").describe_alarms(AlarmNames=[SPEC["name"]])["MetricAlarms"]
    props = res["Alarm"]["Properties"]
    assert not {"Unit", "Dimensions", "OKActions", "InsufficientDataActions"} & set(props) and "Unit" not in a
    for key, value in props.items():
        if key == "Tags":
            cfn = {t["Key"]: t["Value"] for t in value}
            direct = {t["Key"]: t["Value"] for t in aws.client("cloudwatch").list_tags_for_resource(
                ResourceARN=a["AlarmArn"])["Tags"]}
            assert cfn == {**direct, "s3audit:managed": "cloudformation"}
        else:
            assert a[key] == value, key
    assert (props["Statistic"], props["ComparisonOperator"], props["TreatMissingData"], props["AlarmActions"]) == (
        "Sum", "GreaterThanOrEqualToThreshold", "notBreaching", [topic_arn])

    sns = aws.client("sns")
    stored = json.loads(sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"])
    assert res["TopicPolicy"]["Properties"]["PolicyDocument"] == stored
    assert res["TopicPolicy"]["Properties"]["Topics"] == [topic_arn]
    subs = sorted(s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"])
    assert sorted(v["Properties"]["Endpoint"] for k, v in res.items() if k.startswith("Subscription")) == subs
    assert res["Topic"]["Properties"]["TopicName"] == SPEC["name"]
