"""The same deployment as a CloudFormation template (``s3audit template SPEC``).

Resources mirror what :func:`s3audit.deploy.plan` creates, built from the same functions in
:mod:`s3audit.deploy.resources`. Stack resources are tagged ``s3audit:managed = cloudformation``:
``s3audit teardown`` leaves them alone (delete the stack instead).
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from s3audit.deploy import resources as R
from s3audit.deploy.spec import MANAGED_TAG, DeploySpec, load_spec

ACCOUNT, REGION, PARTITION = "${AWS::AccountId}", "${AWS::Region}", "${AWS::Partition}"


def _sub(value: Any) -> Any:
    """Wrap strings that contain ${AWS::...} in Fn::Sub, recursively."""
    if isinstance(value, str) and "${AWS::" in value:
        return {"Fn::Sub": value}
    if isinstance(value, dict):
        return {k: _sub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub(v) for v in value]
    return value


def _escape(text: str) -> str:
    """User text inside an Fn::Sub string: ``${`` is written ``${!`` (CloudFormation reads it back as ``${``)."""
    return text.replace("${", "${!")


def _literal(value: Any) -> Any:
    """Plain strings holding ``${`` (a pattern, a description, an alarm name...) as an Fn::Join.

    CloudFormation keeps them literally, but cfn-lint reports ``${AWS::Region}`` outside Fn::Sub
    (E1029), and an escaped Fn::Sub without variables is warned about (W1020). ``Fn::Join`` of the
    text cut between ``$`` and ``{`` evaluates to the same text and is clean. Values that are already
    intrinsic functions (``Fn::Sub``, ``Ref``, ``Fn::GetAtt``) are left as they are.
    """
    if isinstance(value, str) and "${" in value:
        pieces = value.split("${")
        parts = [pieces[0] + "$"] + ["{" + p + "$" for p in pieces[1:-1]] + ["{" + pieces[-1]]
        return {"Fn::Join": ["", parts]}
    if isinstance(value, dict):
        if len(value) == 1 and (next(iter(value)).startswith("Fn::") or "Ref" in value):
            return value
        return {k: _literal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_literal(v) for v in value]
    return value


def template(spec: DeploySpec | Any) -> dict[str, Any]:
    """Build the CloudFormation template for a spec (as a dict).

    Returns
    -------
    dict
        ``AWSTemplateFormatVersion``, ``Description``, ``Resources`` (topic, topic policy,
        subscriptions, metric filter, alarm; with ``trail.create`` also bucket, bucket policy,
        role and trail) and ``Outputs``.

    Examples
    --------
    >>> t = template({"name": "payroll-reads", "log_group": "trail-logs",
    ...               "pattern": '{ $.eventName = "GetObject" }',
    ...               "metric": {"namespace": "S3Audit", "name": "PayrollReads"},
    ...               "alarm": {"period": 300, "threshold": 1, "evaluation_periods": 1},
    ...               "notify": {"emails": ["secops@example.com"]}})
    >>> sorted(t["Resources"])
    ['Alarm', 'MetricFilter', 'Subscription1', 'Topic', 'TopicPolicy']
    """
    spec = load_spec(spec)
    tags = dict(spec.resource_tags())
    tags[MANAGED_TAG] = "cloudformation"
    cfn_tags = [{"Key": k, "Value": v} for k, v in tags.items()]
    res: dict[str, Any] = {}
    outputs: dict[str, Any] = {}

    if spec.creates_topic:
        topic_ref: Any = {"Ref": "Topic"}
        res["Topic"] = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": spec.topic_name, "Tags": cfn_tags}}
        # the alarm's name (any characters) lands in an Fn::Sub string: escape it, or "${x}" breaks the
        # template and "${AWS::Region}" names another alarm than the one created
        policy = R.topic_policy(replace(spec, alarm_name=_escape(spec.alarm_name)), "__TOPIC__", PARTITION, REGION, ACCOUNT)
        policy_cfn = _sub(policy)
        for st in policy_cfn["Statement"]:
            st["Resource"] = topic_ref
        res["TopicPolicy"] = {"Type": "AWS::SNS::TopicPolicy",
                              "Properties": {"Topics": [topic_ref], "PolicyDocument": policy_cfn}}
        for i, email in enumerate(spec.notify.emails, 1):
            res[f"Subscription{i}"] = {"Type": "AWS::SNS::Subscription",
                                       "Properties": {"TopicArn": topic_ref, "Protocol": "email", "Endpoint": email}}
        outputs["TopicArn"] = {"Description": "SNS topic of the alarm (e-mail subscriptions stay pending until confirmed)",
                               "Value": topic_ref}
    else:
        topic_ref = spec.notify.topic_arn

    mt = R.metric_transformation(spec)
    res["MetricFilter"] = {"Type": "AWS::Logs::MetricFilter", "Properties": {
        "FilterName": spec.filter_name, "LogGroupName": spec.log_group, "FilterPattern": spec.pattern,
        "MetricTransformations": [{"MetricName": mt["metricName"], "MetricNamespace": mt["metricNamespace"],
                                   "MetricValue": mt["metricValue"], "DefaultValue": mt["defaultValue"]}]}}
    alarm = R.alarm_params(spec, "__TOPIC__")
    alarm["AlarmActions"] = [topic_ref]
    alarm["Tags"] = cfn_tags
    res["Alarm"] = {"Type": "AWS::CloudWatch::Alarm", "DependsOn": "MetricFilter", "Properties": alarm}
    outputs["AlarmArn"] = {"Value": {"Fn::GetAtt": ["Alarm", "Arn"]}}

    if spec.trail and spec.trail.create:
        bucket = R.log_bucket_name(spec, ACCOUNT, REGION)
        trail_arn = R.trail_arn(spec, PARTITION, REGION, ACCOUNT)
        res["TrailBucket"] = {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                              "Properties": {"BucketName": _sub(bucket), "Tags": cfn_tags}}
        res["TrailBucketPolicy"] = {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": "TrailBucket"},
            "PolicyDocument": _sub(R.bucket_policy(bucket, trail_arn, PARTITION, ACCOUNT))}}
        res["TrailRole"] = {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": R.role_name(spec), "AssumeRolePolicyDocument": R.role_trust_policy(),
            "Policies": [{"PolicyName": R.ROLE_POLICY_NAME,
                          "PolicyDocument": _sub(R.role_policy(spec, PARTITION, REGION, ACCOUNT))}],
            "Tags": cfn_tags}}
        res["Trail"] = {"Type": "AWS::CloudTrail::Trail", "DependsOn": ["TrailBucketPolicy"], "Properties": {
            "TrailName": R.trail_name(spec), "S3BucketName": {"Ref": "TrailBucket"}, "IsLogging": True,
            "IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": True, "EnableLogFileValidation": True,
            "CloudWatchLogsLogGroupArn": _sub(R.log_group_arn(spec, PARTITION, REGION, ACCOUNT)),
            "CloudWatchLogsRoleArn": {"Fn::GetAtt": ["TrailRole", "Arn"]},
            "AdvancedEventSelectors": _sub(R.advanced_selectors(spec, PARTITION)),
            "Tags": cfn_tags}}
        outputs["TrailArn"] = {"Value": {"Fn::GetAtt": ["Trail", "Arn"]}}

    return {"AWSTemplateFormatVersion": "2010-09-09",
            "Description": f"s3audit alarm {spec.name}: metric filter on {spec.log_group} -> alarm -> SNS e-mail"[:1024],
            "Resources": _literal(res), "Outputs": outputs}


def render_template(spec: DeploySpec | Any, fmt: str = "json") -> str:
    """The template of :func:`template` as JSON (default) or YAML text.

    Parameters
    ----------
    spec : DeploySpec, mapping or path
        Anything :func:`load_spec` reads.
    fmt : {"json", "yaml"}

    Returns
    -------
    str
        Text ready for ``aws cloudformation deploy --template-file`` (it passes ``cfn-lint``).

    Raises
    ------
    SpecError, ValueError
        An invalid spec; an unknown ``fmt``.

    Examples
    --------
    >>> text = render_template({"name": "payroll-reads", "log_group": "trail-logs",
    ...                         "pattern": '{ $.eventName = "GetObject" }',
    ...                         "metric": {"namespace": "S3Audit", "name": "PayrollReads"},
    ...                         "alarm": {"period": 300, "threshold": 1, "evaluation_periods": 1},
    ...                         "notify": {"emails": ["secops@example.com"]}}, "yaml")
    >>> text.splitlines()[0]
    "AWSTemplateFormatVersion: '2010-09-09'"
    """
    doc = template(spec)
    if fmt == "yaml":
        import yaml

        class _NoAliases(yaml.SafeDumper):
            def ignore_aliases(self, data: Any) -> bool:
                return True

        return yaml.dump(doc, Dumper=_NoAliases, sort_keys=False, width=120)
    if fmt != "json":
        raise ValueError(f"format must be 'json' or 'yaml', got {fmt!r}")
    return json.dumps(doc, indent=2) + "\n"
