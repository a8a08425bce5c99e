"""Deploy spec loading and validation, offline plans, selector coverage, TestMetricFilter agreement.

No AWS here: pure functions, and botocore Stubber with TestMetricFilter's recorded response shape.
"""
from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from hypothesis import given, settings
from hypothesis import strategies as st

from s3audit.deploy import OfflinePlanError, SpecError, load_spec, plan
from s3audit.deploy.aws import Aws, permission_error
from s3audit.deploy.preflight import (
    FAILED, FULL, NONE, OK, PARTIAL, SKIPPED, check_test_metric_filter, compare_matches, pick_test_messages,
    selector_coverage,
)

PATTERN = '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "GetObject") && ($.sourceIPAddress != "10.*") }'
BASE: dict[str, Any] = {
    "name": "payroll-unexpected-reads",
    "log_group": "aws-cloudtrail-logs-123456789012-abcd",
    "pattern": PATTERN,
    "metric": {"namespace": "S3Audit", "name": "PayrollUnexpectedReads"},
    "alarm": {"period": 300, "threshold": 1, "evaluation_periods": 1},
    "notify": {"emails": ["secops@example.com"]},
}


def spec_with(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    for path, value in changes.items():
        keys = path.split("__")
        target = doc
        for k in keys[:-1]:
            target = target.setdefault(k, {})
        if value is _DELETE:
            target.pop(keys[-1])
        else:
            target[keys[-1]] = value
    return doc


_DELETE = object()


def problems(doc: Any) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec(doc)
    return info.value.problems


# ------------------------------------------------------------------------------ loading
def test_minimal_spec_defaults_every_name_to_name() -> None:
    spec = load_spec(BASE)
    assert (spec.filter_name, spec.alarm_name, spec.topic_name) == ("payroll-unexpected-reads",) * 3
    assert spec.alarm.datapoints_to_alarm == 1
    assert spec.creates_topic and spec.notify.emails == ("secops@example.com",)
    assert spec.resource_tags() == {"s3audit:managed": "true", "s3audit:name": "payroll-unexpected-reads"}


def test_yaml_and_json_files_load_the_same_spec(tmp_path) -> None:
    import yaml

    (tmp_path / "s.json").write_text(json.dumps(BASE))
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(BASE))
    assert load_spec(tmp_path / "s.json") == load_spec(str(tmp_path / "s.yaml")) == load_spec(BASE)
    assert load_spec(tmp_path / "s.json").source == str(tmp_path / "s.json")


def test_explicit_names_tags_and_m_of_n() -> None:
    spec = load_spec(spec_with(names={"filter": "f1", "alarm": "Payroll reads!", "topic": "t_1"},
                               tags={"team": "secops"}, alarm__datapoints_to_alarm=2, alarm__evaluation_periods=3))
    assert (spec.filter_name, spec.alarm_name, spec.topic_name) == ("f1", "Payroll reads!", "t_1")
    assert spec.alarm.datapoints_to_alarm == 2 and spec.alarm.evaluation_periods == 3
    assert spec.resource_tags()["team"] == "secops"
    assert load_spec(spec.to_dict()) == spec  # round trip


def test_unknown_keys_are_rejected_by_name() -> None:
    found = problems(spec_with(colour="blue", alarm__statistic="Average", notify__sms=["+1"]))
    assert any(p.startswith("colour: unknown key") for p in found)
    assert any(p.startswith("alarm.statistic: unknown key") for p in found)
    assert any(p.startswith("notify.sms: unknown key") for p in found)


@pytest.mark.parametrize(("change", "key", "words"), [
    ({"name": "has space"}, "name", "invalid value"),
    ({"log_group": "bad group!"}, "log_group", "invalid value"),
    ({"pattern": "   "}, "pattern", "must not be empty"),
    ({"pattern": "x" * 1025}, "pattern", "1025 characters"),
    ({"metric__namespace": "AWS/S3"}, "metric.namespace", "reserved"),
    ({"metric__name": "a:b"}, "metric.name", "not allowed"),
    ({"alarm__period": 45}, "alarm.period", "must be >= 60"),
    ({"alarm__period": 90}, "alarm.period", "multiple of 60"),
    ({"alarm__threshold": 0}, "alarm.threshold", "must be > 0"),
    ({"alarm__threshold": "1"}, "alarm.threshold", "must be a number"),
    ({"alarm__evaluation_periods": 0}, "alarm.evaluation_periods", ">= 1"),
    ({"alarm__evaluation_periods": 300}, "alarm.evaluation_periods", "exceeds AWS's limit of 86400"),
    ({"alarm__datapoints_to_alarm": 2}, "alarm.datapoints_to_alarm", "<= evaluation_periods"),
    ({"notify__emails": ["not-an-address"]}, "notify.emails[0]", "not an e-mail"),
    ({"notify__emails": ["a@b.co", "a@b.co"]}, "notify.emails[1]", "duplicate"),
    ({"notify": {}}, "notify", "needs emails"),
    ({"notify__topic_arn": "arn:aws:sns:us-east-1:123456789012:t"}, "notify", "not both"),
    ({"tags": {"s3audit:name": "x"}}, "tags.s3audit:name", "reserved"),
    ({"names": {"alarm": "tab\there"}}, "names.alarm", "no control characters"),
    ({"names": {"alarm": "x" * 256}}, "names.alarm", "1-255 characters"),
    ({"names": {"filter": "a:b"}}, "names.filter", "without ':'"),
    ({"trail": {"buckets": []}}, "trail.buckets", "non-empty"),
    ({"trail": {"buckets": ["Bad_Bucket"]}}, "trail.buckets[0]", "not an S3 bucket"),
    ({"trail": {"buckets": ["ok-bucket"], "log_bucket": "logs-bucket"}}, "trail.log_bucket", "only used with create"),
    ({"trail": {"buckets": ["ok-bucket"], "create": "yes"}}, "trail.create", "true or false"),
])
def test_invalid_values_are_rejected_with_their_key(change: dict[str, Any], key: str, words: str) -> None:
    found = problems(spec_with(**change))
    assert any(p.startswith(f"{key}:") and words in p for p in found), found


def test_missing_required_keys_are_all_listed() -> None:
    found = problems({"name": "x"})
    for key in ("log_group", "pattern", "metric", "alarm", "notify"):
        assert f"{key}: required key is missing" in found


def test_spec_error_message_names_file(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(SpecError, match="bad.yaml"):
        load_spec(path)


def test_existing_topic_arn_is_accepted_and_never_created() -> None:
    spec = load_spec(spec_with(notify={"topic_arn": "arn:aws:sns:us-east-1:123456789012:secops"}))
    assert not spec.creates_topic


# ------------------------------------------------------------------------------ offline plan
def test_offline_plan_assumes_empty_account_and_cannot_be_applied() -> None:
    p = plan(BASE, offline=True)
    assert p.offline and not p.blocked
    assert [(c.resource_type, c.action) for c in p.changes] == [
        ("AWS::SNS::Topic", "create"), ("AWS::SNS::TopicPolicy", "create"), ("AWS::SNS::Subscription", "create"),
        ("AWS::CloudWatch::Alarm", "create"), ("AWS::Logs::MetricFilter", "create")]
    assert "OFFLINE PLAN" in p.render() and "EMPTY account" in p.render()
    assert {c.name: c.status for c in p.checks}["pattern compiles locally"] == OK
    with pytest.raises(OfflinePlanError):
        p.apply()
    doc = p.to_dict()
    json.dumps(doc)  # JSON-ready for the workspace
    assert doc["offline"] and doc["summary"] == {"create": 5}
    frame = p.to_frame()
    assert list(frame.columns) == ["resource_type", "name", "action", "field", "current", "desired", "note"]
    alarm_rows = frame[frame.resource_type == "AWS::CloudWatch::Alarm"].set_index("field")
    assert alarm_rows.loc["TreatMissingData", "desired"] == "notBreaching"
    assert alarm_rows.loc["ComparisonOperator", "desired"] == "GreaterThanOrEqualToThreshold"
    assert "Unit" not in alarm_rows.index


def test_plan_blocks_a_pattern_that_does_not_compile() -> None:
    p = plan(spec_with(pattern='{ $.eventName = "GetObject" '), offline=True)
    assert p.blocked
    failed = [c for c in p.checks if c.status == FAILED]
    assert failed and failed[0].name == "pattern compiles locally" and "position" in failed[0].detail
    assert "BLOCKED" in p.render()


# ------------------------------------------------------------------------------ selectors
def _s3_data(*extra: dict[str, Any]) -> dict[str, Any]:
    return {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                               {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}, *extra]}


@pytest.mark.parametrize(("selectors", "expected"), [
    ({"EventSelectors": [{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::payroll/"]}]}]}, FULL),
    ({"EventSelectors": [{"ReadWriteType": "ReadOnly", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]}, FULL),
    ({"EventSelectors": [{"ReadWriteType": "WriteOnly", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::payroll/"]}]}]}, NONE),
    ({"EventSelectors": [{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::payroll/hr/"]}]}]}, PARTIAL),
    ({"EventSelectors": [{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::payroll-archive/"]}]}]}, NONE),
    ({"EventSelectors": [{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}]}]}, NONE),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                                      {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}]}, FULL),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                                      {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                                      {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::payroll/"]}]}]}, FULL),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                                      {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                                      {"Field": "readOnly", "Equals": ["false"]}]}]}, NONE),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                                      {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                                      {"Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::payroll/"]}]}]}, NONE),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                                      {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                                      {"Field": "eventName", "Equals": ["PutObject"]}]}]}, PARTIAL),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]}, NONE),
    # conditions that narrow the logged events: never "full" coverage of the bucket's reads
    ({"AdvancedEventSelectors": [_s3_data({"Field": "eventName", "NotEquals": ["GetObject"]})]}, PARTIAL),
    ({"AdvancedEventSelectors": [_s3_data({"Field": "resources.ARN", "EndsWith": [".csv"]})]}, PARTIAL),
    ({"AdvancedEventSelectors": [_s3_data({"Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::payroll/hr/"]})]}, PARTIAL),
    ({"AdvancedEventSelectors": [_s3_data({"Field": "userIdentity.arn", "NotStartsWith": ["arn:aws:iam::1:role/etl"]})]}, PARTIAL),
    # ... and conditions that do not: every S3 object data event has this eventSource; other buckets' prefixes
    ({"AdvancedEventSelectors": [_s3_data({"Field": "eventSource", "Equals": ["s3.amazonaws.com"]})]}, FULL),
    ({"AdvancedEventSelectors": [_s3_data({"Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::other/"]})]}, FULL),
    # selectors are ORed: a narrow one does not spoil a full one
    ({"AdvancedEventSelectors": [_s3_data({"Field": "eventName", "Equals": ["PutObject"]}), _s3_data()]}, FULL),
])
def test_selector_coverage_of_bucket_reads(selectors: dict[str, Any], expected: str) -> None:
    assert selector_coverage(selectors, "payroll")[0] == expected


# ------------------------------------------------------------------------------ TestMetricFilter
MESSAGES = [
    json.dumps({"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "sourceIPAddress": "203.0.113.9"}),
    json.dumps({"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "sourceIPAddress": "10.1.2.3"}),
    json.dumps({"eventSource": "s3.amazonaws.com", "eventName": "PutObject", "sourceIPAddress": "203.0.113.9"}),
]


def _stubbed_aws() -> tuple[Aws, Stubber]:
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    aws = Aws(session)
    client = session.client("logs", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    aws._clients["logs"] = client
    return aws, Stubber(client)


def test_local_engine_matches_the_expected_messages() -> None:
    from s3audit.deploy.preflight import local_matcher

    m = local_matcher(PATTERN)
    assert [m(x) for x in MESSAGES] == [True, False, False]


def test_test_metric_filter_agreement_uses_recorded_response_shape() -> None:
    aws, stub = _stubbed_aws()
    # recorded shape: matches[] with eventNumber, eventMessage, extractedValues
    stub.add_response("test_metric_filter", {"matches": [{"eventNumber": 1, "eventMessage": MESSAGES[0], "extractedValues": {}}]},
                      {"filterPattern": PATTERN, "logEventMessages": ANY})
    with stub:
        check = check_test_metric_filter(aws, load_spec(BASE), MESSAGES)
    stub.assert_no_pending_responses()
    assert check.status == OK and "3 sample events, 1 matching" in check.detail


def test_test_metric_filter_disagreement_fails_the_check() -> None:
    aws, stub = _stubbed_aws()
    stub.add_response("test_metric_filter", {"matches": [
        {"eventNumber": 1, "eventMessage": MESSAGES[0], "extractedValues": {}},
        {"eventNumber": 2, "eventMessage": MESSAGES[1], "extractedValues": {}}]})
    with stub:
        check = check_test_metric_filter(aws, load_spec(BASE), MESSAGES)
    assert check.status == FAILED and "1 matched only by CloudWatch, 0 only locally" in check.detail


def test_service_without_test_metric_filter_is_a_stated_skip() -> None:
    aws, stub = _stubbed_aws()
    stub.add_client_error("test_metric_filter", service_error_code="500", http_status_code=500)
    with stub:
        check = check_test_metric_filter(aws, load_spec(BASE), MESSAGES)
    assert check.status == SKIPPED and "does not offer TestMetricFilter" in check.detail


def test_compare_matches_and_pick() -> None:
    only_service, only_local = compare_matches(MESSAGES, {"matches": [{"eventMessage": MESSAGES[2]}]}, lambda m: m == MESSAGES[0])
    assert only_service == [MESSAGES[2]] and only_local == [MESSAGES[0]]
    many = [f"m{i}" for i in range(200)]
    picked = pick_test_messages(many, lambda m: m.endswith("7"))
    assert len(picked) == 50 and len(set(picked)) == 50
    assert sum(m.endswith("7") for m in picked) == 20  # all 20 local matches fit in the first half


def test_access_denied_names_the_action() -> None:
    from botocore.exceptions import ClientError

    exc = ClientError({"Error": {"Code": "AccessDenied", "Message": "User: arn:aws:iam::1:user/u is not authorized to "
                                 "perform: cloudwatch:PutMetricAlarm on resource: arn:aws:cloudwatch:us-east-1:1:alarm:a"}},
                      "PutMetricAlarm")
    denied = permission_error("cloudwatch", "PutMetricAlarm", exc, "a")
    assert denied is not None and denied.action == "cloudwatch:PutMetricAlarm"
    bare = ClientError({"Error": {"Code": "AuthorizationError", "Message": "denied"}}, "CreateTopic")
    assert permission_error("sns", "CreateTopic", bare).action == "sns:CreateTopic"
    assert permission_error("sns", "CreateTopic", ClientError({"Error": {"Code": "Throttling"}}, "CreateTopic")) is None


def test_missing_explicit_test_events_file_fails_without_calling_aws(tmp_path) -> None:
    aws, stub = _stubbed_aws()  # no response queued: any call would raise
    with stub:
        check = check_test_metric_filter(aws, load_spec(dict(BASE, test_events=str(tmp_path / "nope.jsonl"))))
    assert check.status == FAILED and "nope.jsonl" in check.detail


def test_sample_file_feeds_test_metric_filter(tmp_path) -> None:
    import gzip

    path = tmp_path / "events.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(MESSAGES * 3) + "\n")
    aws, stub = _stubbed_aws()
    stub.add_response("test_metric_filter", {"matches": [{"eventNumber": 1, "eventMessage": MESSAGES[0], "extractedValues": {}}]},
                      {"filterPattern": PATTERN, "logEventMessages": MESSAGES[:1] + MESSAGES[1:]})
    with stub:
        check = check_test_metric_filter(aws, load_spec(dict(BASE, test_events=str(path))))
    assert check.status == OK  # duplicates dropped, matching events first


# ------------------------------------------------------------------------------ property

_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10, 10_000), st.floats(allow_nan=True), st.text(max_size=20))
_value = st.recursive(_leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                    st.dictionaries(st.text(max_size=10), inner, max_size=3)), max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(BASE) + ["names", "tags", "trail", "test_events", "junk"]), _value, max_size=9))
def test_any_document_is_a_spec_or_a_spec_error(doc: dict[str, Any]) -> None:
    merged = {**BASE, **doc}
    try:
        spec = load_spec(merged)
    except SpecError as exc:
        assert exc.problems and all(":" in p for p in exc.problems)
        return
    assert load_spec(spec.to_dict()) == spec


# ------------------------------------------------------------------------------ read-back
@pytest.mark.parametrize(("stored", "words"), [
    ({"filterPattern": PATTERN.replace(" && ", "&&")}, "pattern"),        # whitespace differs: not "the same"
    ({"metricValue": "$.bytes"}, "metric"),
    ({"defaultValue": 1.0}, "metric"),
])
def test_read_back_compares_the_stored_filter_exactly(stored: dict[str, Any], words: str) -> None:
    from s3audit.deploy import ReadBackError
    from s3audit.deploy.plan import read_back_filter

    spec = load_spec(BASE)
    mt = {"metricName": "PayrollUnexpectedReads", "metricNamespace": "S3Audit", "metricValue": "1", "defaultValue": 0.0}
    mt.update({k: v for k, v in stored.items() if k != "filterPattern"})
    good = {"filterName": spec.filter_name, "logGroupName": spec.log_group, "filterPattern": PATTERN,
            "metricTransformations": [dict(mt, metricValue="1", defaultValue=0.0)]}
    bad = dict(good, filterPattern=stored.get("filterPattern", PATTERN), metricTransformations=[mt])
    aws, stub = _stubbed_aws()
    stub.add_response("describe_metric_filters", {"metricFilters": [good]}, {"logGroupName": spec.log_group})
    stub.add_response("describe_metric_filters", {"metricFilters": [bad]}, {"logGroupName": spec.log_group})
    with stub:
        read_back_filter(aws, spec)  # the exact filter passes
        with pytest.raises(ReadBackError, match=words):
            read_back_filter(aws, spec)
    stub.assert_no_pending_responses()


# ------------------------------------------------------------------------------ docstring examples
@pytest.mark.parametrize("module", ["s3audit.deploy.spec", "s3audit.deploy.template", "s3audit.deploy.session",
                                    "s3audit.deploy.preflight"])
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted and not result.failed
