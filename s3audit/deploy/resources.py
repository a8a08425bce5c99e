"""Desired state of every resource, derived from a spec: pure functions, no AWS calls.

The planner compares these documents with what the account holds, and the CloudFormation
template is built from the same functions, so both paths deploy the same thing.
"""
from __future__ import annotations

import re
from typing import Any

from s3audit.deploy.spec import DeploySpec

TREAT_MISSING_DATA = "notBreaching"
COMPARISON = "GreaterThanOrEqualToThreshold"
STATISTIC = "Sum"
METRIC_VALUE = "1"
DEFAULT_VALUE = 0.0


def topic_arn(spec: DeploySpec, partition: str, region: str, account: str) -> str:
    return spec.notify.topic_arn or f"arn:{partition}:sns:{region}:{account}:{spec.topic_name}"


def former_topic_arn(*, spec_name: str, partition: str, region: str, account: str) -> str:
    """The topic s3audit would have created for a spec that now uses ``notify.topic_arn``.

    ``names.topic`` cannot be combined with ``notify.topic_arn``, so only the default name (the spec's
    ``name``) is known.
    """
    return f"arn:{partition}:sns:{region}:{account}:{spec_name}"


def alarm_arn(spec: DeploySpec, partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{spec.alarm_name}"


def topic_policy(spec: DeploySpec, topic: str, partition: str, region: str, account: str) -> dict[str, Any]:
    """The topic's access policy: the account owner (SNS's default statement) plus CloudWatch alarms.

    The second statement lets ``cloudwatch.amazonaws.com`` publish, but only for this alarm of this
    account (``aws:SourceArn`` / ``aws:SourceAccount``), as in AWS's re:Post article
    "cloudwatch-receive-sns-for-alarm-trigger".
    """
    owner_actions = ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                     "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic",
                     "SNS:Publish"]
    return {
        "Version": "2012-10-17",
        "Id": f"s3audit-{spec.topic_name}",
        "Statement": [
            {"Sid": "OwnerAccount", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": owner_actions,
             "Resource": topic, "Condition": {"StringEquals": {"AWS:SourceOwner": account}}},
            {"Sid": "AllowCloudWatchAlarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
             "Action": "sns:Publish", "Resource": topic,
             "Condition": {"ArnLike": {"aws:SourceArn": alarm_arn(spec, partition, region, account)},
                           "StringEquals": {"aws:SourceAccount": account}}},
        ],
    }


def normalize_policy(doc: Any) -> Any:
    """Make two policy documents comparable: one-element lists equal their element, keys sorted."""
    if isinstance(doc, dict):
        return {k: normalize_policy(v) for k, v in sorted(doc.items())}
    if isinstance(doc, list):
        items = [normalize_policy(v) for v in doc]
        if len(items) == 1:
            return items[0]
        if all(isinstance(i, str) for i in items):
            return sorted(items)
        return items
    return doc


def metric_transformation(spec: DeploySpec) -> dict[str, Any]:
    """Value 1 per matching event, default 0 when events arrive but none match, no dimensions."""
    return {"metricName": spec.metric.name, "metricNamespace": spec.metric.namespace,
            "metricValue": METRIC_VALUE, "defaultValue": DEFAULT_VALUE}


def filter_params(spec: DeploySpec) -> dict[str, Any]:
    return {"logGroupName": spec.log_group, "filterName": spec.filter_name, "filterPattern": spec.pattern,
            "metricTransformations": [metric_transformation(spec)]}


ALARM_DESCRIPTION_MAX = 1024  # PutMetricAlarm AlarmDescription (botocore cloudwatch model)


def alarm_description(spec: DeploySpec) -> str:
    """The spec's description, or a sentence naming the filter and the log group.

    The default is cut to 1,024 characters: a filter name (<= 512) and a log group (<= 512) together
    would exceed PutMetricAlarm's limit.
    """
    if spec.alarm.description:
        return spec.alarm.description
    text = f"s3audit: {spec.name}: events matching the metric filter {spec.filter_name!r} on {spec.log_group}"
    return text if len(text) <= ALARM_DESCRIPTION_MAX else text[: ALARM_DESCRIPTION_MAX - 1] + "\u2026"


def alarm_params(spec: DeploySpec, topic: str) -> dict[str, Any]:
    """PutMetricAlarm parameters (without Tags): Sum >= threshold, M of N, notBreaching, no Unit.

    ``Unit`` is left out on purpose: a unit the metric is not published with keeps an alarm in
    INSUFFICIENT_DATA (PutMetricAlarm documentation).
    """
    a = spec.alarm
    return {
        "AlarmName": spec.alarm_name, "AlarmDescription": alarm_description(spec), "ActionsEnabled": True,
        "AlarmActions": [topic], "Namespace": spec.metric.namespace, "MetricName": spec.metric.name,
        "Statistic": STATISTIC, "Period": a.period, "EvaluationPeriods": a.evaluation_periods,
        "DatapointsToAlarm": a.datapoints_to_alarm, "Threshold": a.threshold,
        "ComparisonOperator": COMPARISON, "TreatMissingData": TREAT_MISSING_DATA,
    }


# ------------------------------------------------------------------------------------- trail
def trail_name(spec: DeploySpec) -> str:
    assert spec.trail is not None
    return spec.trail.name or spec.name


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")


def log_bucket_name(spec: DeploySpec, account: str, region: str) -> str:
    """``trail.log_bucket`` or ``<name>-trail-logs-<account>-<region>`` (bucket names are global)."""
    assert spec.trail is not None
    return spec.trail.log_bucket or f"{_slug(spec.name)[:20].strip('-')}-trail-logs-{account}-{region}"


def role_name(spec: DeploySpec) -> str:
    assert spec.trail is not None
    return spec.trail.role_name or f"{spec.name[:40]}-cloudtrail-to-logs"


def trail_arn(spec: DeploySpec, partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:cloudtrail:{region}:{account}:trail/{trail_name(spec)}"


def log_group_arn(spec: DeploySpec, partition: str, region: str, account: str) -> str:
    """The group ARN with the ``:*`` suffix, as CloudTrail examples and ``GetAtt LogGroup.Arn`` give it."""
    return f"arn:{partition}:logs:{region}:{account}:log-group:{spec.log_group}:*"


def bucket_policy(bucket: str, trail: str, partition: str, account: str) -> dict[str, Any]:
    """CloudTrail may read the bucket ACL and write ``AWSLogs/<account>/*``, for this trail only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:GetBucketAcl", "Resource": f"arn:{partition}:s3:::{bucket}",
             "Condition": {"StringEquals": {"aws:SourceArn": trail}}},
            {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:PutObject", "Resource": f"arn:{partition}:s3:::{bucket}/AWSLogs/{account}/*",
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail}}},
        ],
    }


def role_trust_policy() -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


ROLE_POLICY_NAME = "s3audit-cloudtrail-to-logs"


def role_policy(spec: DeploySpec, partition: str, region: str, account: str) -> dict[str, Any]:
    """CreateLogStream + PutLogEvents on the trail's streams of this log group only.

    The trail is multi-Region, so streams are ``<account>_CloudTrail_<any region>``.
    """
    group = f"arn:{partition}:logs:{region}:{account}:log-group:{spec.log_group}"
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "CloudTrailToCloudWatchLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{group}:log-stream:{account}_CloudTrail_*"}]}


def advanced_selectors(spec: DeploySpec, partition: str) -> list[dict[str, Any]]:
    """S3 object-level data events (reads and writes) for the spec's buckets; no management events."""
    assert spec.trail is not None
    return [{"Name": f"s3audit {spec.name}: S3 data events", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": [f"arn:{partition}:s3:::{b}/" for b in spec.trail.buckets]},
    ]}]
