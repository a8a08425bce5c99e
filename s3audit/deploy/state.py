"""Read what the account holds for each resource of a spec, and who owns it.

Ownership: taggable resources (topic, alarm, trail, role, bucket) belong to s3audit when they carry
``s3audit:managed = true`` and ``s3audit:name = <spec name>``. Metric filters cannot be tagged; one
belongs to s3audit when its name is exactly the spec's filter name on the spec's log group AND its
single metric transformation publishes, with value ``1``, the spec's metric (namespace + name) or
the metric that the spec's own (tagged) alarm watches - the latter is how a deployed filter is
recognised after ``metric`` changed in the spec - AND a tagged resource proves that s3audit deployed
this spec here: its alarm, or the topic it created. Name and metric alone prove nothing (a filter
someone made by the same naming guide has both), so apply writes the alarm before the filter and
teardown deletes the filter before the alarm: the filter never exists without its proof. A CIS
filter or anyone else's filter fails these tests and is never touched.
"""
from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from s3audit.deploy.aws import Aws, error_code
from s3audit.deploy.spec import MANAGED_TAG, NAME_TAG, DeploySpec

CFN_STACK_TAG = "aws:cloudformation:stack-name"


def tag_dict(tags: Any) -> dict[str, str]:
    """``[{Key, Value}]`` (any capitalisation) or a plain dict -> dict."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    out: dict[str, str] = {}
    for t in tags or []:
        key = t.get("Key", t.get("key"))
        out[str(key)] = str(t.get("Value", t.get("value", "")))
    return out


def owned(tags: dict[str, str], spec: DeploySpec) -> bool:
    """True when the tags say this spec's s3audit deployment created the resource (not a stack)."""
    return tags.get(MANAGED_TAG) == "true" and tags.get(NAME_TAG) == spec.name and CFN_STACK_TAG not in tags


def filter_owned(f: dict[str, Any], spec: DeploySpec, alarm: dict[str, Any] | None = None, *,
                 other_proof: bool = False) -> bool:
    """A metric filter is s3audit's when its name and group match the spec, it publishes (value 1)
    the spec's metric or the metric of ``alarm`` (from :func:`read_alarm`), and this spec's own
    tagged alarm exists (``alarm``) or another tagged resource of this spec does (``other_proof``: the
    topic s3audit created for it, or its alarm under a former name)."""
    mts = f.get("metricTransformations") or []
    if not (f.get("filterName") == spec.filter_name and f.get("logGroupName", spec.log_group) == spec.log_group
            and len(mts) == 1 and str(mts[0].get("metricValue")) == "1"):
        return False
    alarm_ours = alarm is not None and not alarm["_composite"] and owned(alarm["_tags"], spec)
    if not (alarm_ours or other_proof):  # no tagged proof that this spec was deployed here
        return False
    published = (mts[0].get("metricNamespace"), mts[0].get("metricName"))
    if published == (spec.metric.namespace, spec.metric.name):
        return True
    return alarm_ours and published == (alarm.get("Namespace"), alarm.get("MetricName"))  # type: ignore[union-attr]


def on_former_group(f: dict[str, Any], spec: DeploySpec, alarm: dict[str, Any] | None = None, *,
                    other_proof: bool = False) -> bool:
    """``f`` (from any log group) is this spec's filter left on a former ``log_group``.

    What a change of ``log_group`` leaves behind: the spec's filter name on another group, passing
    the same ownership test (:func:`filter_owned`) as a filter on the spec's group would.
    """
    return (f.get("logGroupName") != spec.log_group and f.get("filterName") == spec.filter_name
            and filter_owned({**f, "logGroupName": spec.log_group}, spec, alarm, other_proof=other_proof))


# ------------------------------------------------------------------------------------ SNS
def read_topic(aws: Aws, arn: str, *, full: bool = True) -> dict[str, Any] | None:
    """``{"attributes", "tags", "subscriptions"}`` or None when the topic does not exist.

    ``full=False`` reads only the attributes (for a topic s3audit does not manage).
    """
    try:
        attrs = aws.call("sns", "get_topic_attributes", resource=arn, allow=("NotFound", "NotFoundException"),
                         TopicArn=arn)["Attributes"]
    except ClientError:
        return None
    if not full:
        return {"attributes": attrs, "tags": {}, "subscriptions": []}
    tags = tag_dict(aws.call("sns", "list_tags_for_resource", resource=arn, ResourceArn=arn).get("Tags", []))
    subs = aws.paginate("sns", "list_subscriptions_by_topic", "Subscriptions", resource=arn, TopicArn=arn)
    return {"attributes": attrs, "tags": tags, "subscriptions": subs}


def policy_of(attrs: dict[str, Any]) -> Any:
    text = attrs.get("Policy")
    return json.loads(text) if text else None


def allows_cloudwatch(policy: Any) -> bool:
    """Does a topic policy let ``cloudwatch.amazonaws.com`` publish (any statement, any condition)?"""
    for st in (policy or {}).get("Statement", []) if isinstance(policy, dict) else []:
        principal = st.get("Principal", {})
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if st.get("Effect") == "Allow" and "cloudwatch.amazonaws.com" in services and any(
                a.lower() in ("sns:publish", "sns:*", "*") for a in actions):
            return True
    return False


# ------------------------------------------------------------------------------------ alarm
def read_alarm(aws: Aws, name: str) -> dict[str, Any] | None:
    resp = aws.call("cloudwatch", "describe_alarms", resource=name, AlarmNames=[name],
                    AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    alarms = resp.get("MetricAlarms", []) + resp.get("CompositeAlarms", [])
    if not alarms:
        return None
    alarm = dict(alarms[0])
    alarm["_composite"] = bool(resp.get("CompositeAlarms"))
    arn = alarm["AlarmArn"]
    alarm["_tags"] = tag_dict(aws.call("cloudwatch", "list_tags_for_resource", resource=arn, ResourceARN=arn).get("Tags", []))
    return alarm


class AlarmListing:
    """Every alarm of the Region, listed by ``DescribeAlarms`` at most once per kind.

    ``DescribeAlarms`` pages through all the alarms of the account: a plan or teardown asks several
    questions of that list (former alarms of the spec, alarms still notifying a topic), so it keeps
    one listing and lists each kind only when first asked.
    """

    def __init__(self, aws: Aws) -> None:
        self.aws = aws
        self._by_kind: dict[str, list[dict[str, Any]]] = {}

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """The alarms of ``kind`` (``MetricAlarm`` or ``CompositeAlarm``)."""
        if kind not in self._by_kind:
            self._by_kind[kind] = self.aws.paginate("cloudwatch", "describe_alarms", f"{kind}s", AlarmTypes=[kind])
        return self._by_kind[kind]


def former_alarms(alarms: AlarmListing, spec: DeploySpec) -> list[str]:
    """This spec's own alarms under another name: tagged for it and watching the spec's metric.

    What a change of ``names.alarm`` leaves behind (the old alarm still watches the metric and
    notifies the topic, so every detection would be sent twice). Found with ``DescribeAlarms`` (no
    extra permission), matched on the metric, and proven by the ownership tags.
    """
    names = []
    for alarm in alarms.of_kind("MetricAlarm"):
        if (alarm.get("AlarmName") != spec.alarm_name
                and (alarm.get("Namespace"), alarm.get("MetricName")) == (spec.metric.namespace, spec.metric.name)):
            arn = alarm["AlarmArn"]
            tags = tag_dict(alarms.aws.call("cloudwatch", "list_tags_for_resource", resource=arn,
                                            ResourceARN=arn).get("Tags", []))
            if owned(tags, spec):
                names.append(alarm["AlarmName"])
    return names


def alarms_notifying(alarms: AlarmListing, topic: str) -> list[str]:
    """Names of the alarms (metric and composite) with ``topic`` among their actions.

    Every alarm is listed and the exact ARN matched in ``AlarmActions``, ``OKActions`` and
    ``InsufficientDataActions``: ``DescribeAlarms`` ``ActionPrefix`` is documented for alarm actions
    (moto matches ``AlarmActions`` only), so it could miss an alarm that uses the topic as OK action.
    """
    names: list[str] = []
    for kind in ("MetricAlarm", "CompositeAlarm"):
        for alarm in alarms.of_kind(kind):
            actions = [*alarm.get("AlarmActions", []), *alarm.get("OKActions", []), *alarm.get("InsufficientDataActions", [])]
            if topic in actions:
                names.append(alarm["AlarmName"])
    return names


# ------------------------------------------------------------------------------------ trail pieces
def read_trail(aws: Aws, name: str) -> dict[str, Any] | None:
    trails = aws.call("cloudtrail", "describe_trails", trailNameList=[name], includeShadowTrails=False).get("trailList", [])
    trails = [t for t in trails if t.get("Name") == name]
    if not trails:
        return None
    trail = dict(trails[0])
    arn = trail["TrailARN"]
    tag_lists = aws.call("cloudtrail", "list_tags", resource=arn, ResourceIdList=[arn]).get("ResourceTagList", [])
    trail["_tags"] = tag_dict(tag_lists[0].get("TagsList", []) if tag_lists else [])
    trail["_selectors"] = aws.call("cloudtrail", "get_event_selectors", resource=arn, TrailName=arn)
    trail["_logging"] = bool(aws.call("cloudtrail", "get_trail_status", resource=arn, Name=arn).get("IsLogging"))
    return trail


def read_role(aws: Aws, name: str, policy_name: str) -> dict[str, Any] | None:
    try:
        role = aws.call("iam", "get_role", resource=name, allow=("NoSuchEntity",), RoleName=name)["Role"]
    except ClientError:
        return None
    role = dict(role)
    role["_tags"] = tag_dict(aws.call("iam", "list_role_tags", resource=name, RoleName=name).get("Tags", []))
    trust = role.get("AssumeRolePolicyDocument")
    role["_trust"] = json.loads(_unquote(trust)) if isinstance(trust, str) else trust
    try:
        doc = aws.call("iam", "get_role_policy", resource=name, allow=("NoSuchEntity",), RoleName=name,
                       PolicyName=policy_name)["PolicyDocument"]
        role["_policy"] = json.loads(_unquote(doc)) if isinstance(doc, str) else doc
    except ClientError:
        role["_policy"] = None
    return role


def _unquote(text: str) -> str:
    from urllib.parse import unquote

    return unquote(text) if text.startswith("%7B") else text


def read_bucket(aws: Aws, name: str) -> dict[str, Any] | None:
    """``{"tags", "policy", "empty"}``; None when absent; ``{"foreign": True}`` when not ours to read."""
    try:
        aws.call("s3", "head_bucket", resource=name, allow=("404", "NoSuchBucket", "403", "AccessDenied", "Forbidden"),
                 Bucket=name)
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchBucket"):
            return None
        return {"foreign": True, "tags": {}, "policy": None, "empty": False}
    try:
        tags = tag_dict(aws.call("s3", "get_bucket_tagging", resource=name, allow=("NoSuchTagSet",),
                                 Bucket=name).get("TagSet", []))
    except ClientError:
        tags = {}
    try:
        policy = json.loads(aws.call("s3", "get_bucket_policy", resource=name, allow=("NoSuchBucketPolicy",),
                                     Bucket=name)["Policy"])
    except ClientError:
        policy = None
    listing = aws.call("s3", "list_objects_v2", resource=name, Bucket=name, MaxKeys=1)
    return {"foreign": False, "tags": tags, "policy": policy, "empty": not listing.get("KeyCount")}
