"""Remove what s3audit deployed for a spec, and nothing else.

Only resources that prove they are s3audit's (see :mod:`s3audit.deploy.state` for the rules) are
planned for deletion; anything else with a matching name is listed as ``keep`` and never touched.
A trail log bucket that holds log files is kept too: those files are audit evidence.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from s3audit.deploy import resources as R
from s3audit.deploy import state as S
from s3audit.deploy.aws import Aws
from s3audit.deploy.plan import (
    ALARM, BUCKET, DELETE, FILTER, KEEP, NOTHING, ROLE, SUBSCRIPTION, TOPIC, TRAIL, ApiCall, Change, Plan,
    topic_deletion,
)
from s3audit.deploy.preflight import OK, SKIPPED, Check, find_log_group, metric_filters, metric_publishers
from s3audit.deploy.spec import DeploySpec, load_spec

if TYPE_CHECKING:  # pragma: no cover
    import boto3

log = logging.getLogger(__name__)


def teardown(spec: DeploySpec | Any, *, session: boto3.Session | None = None, apply: bool = False,
             offline: bool = False) -> Plan:
    """Plan (and with ``apply=True`` perform) the removal of what s3audit created for ``spec``.

    Parameters
    ----------
    spec : DeploySpec, mapping or path
    session : boto3.Session, optional
    apply : bool
        False (default): only plan. True: apply the plan at once (its result is in ``plan.result``).
    offline : bool
        Make no AWS call: show what a teardown removes when the spec is deployed exactly as
        s3audit deploys it (an online teardown still checks every resource's ownership first).
        An offline plan cannot be applied.

    Returns
    -------
    Plan
        ``kind == "teardown"``; actions are ``delete``, ``nothing`` (already gone) or ``keep``
        (exists, but not s3audit's: left untouched).

    Examples
    --------
    >>> p = teardown("alarm-spec.yaml")          # doctest: +SKIP
    >>> print(p); p.apply()                      # doctest: +SKIP
    """
    spec = load_spec(spec)
    if offline:
        return _offline_teardown(spec, session)
    aws = Aws(session)
    result = _plan_teardown(spec, aws)
    result._replan = lambda: _plan_teardown(spec, Aws(aws.session))
    if apply:
        result.apply()
    return result


def _plan_teardown(spec: DeploySpec, aws: Aws) -> Plan:
    p, region, account = aws.partition, aws.region, aws.account
    changes: list[Change] = []
    checks: list[Check] = []
    notes: list[str] = []

    # order: filter, alarm, topic. The filter goes before the alarm because the tagged alarm (or topic) is
    # what proves the untaggable filter is s3audit's: a teardown stopped half-way must still recognise it.
    # The alarm goes before the topic, so nothing fires into a topic that is going away.
    alarm = S.read_alarm(aws, spec.alarm_name)
    alarm_change: Change
    if alarm is None:
        alarm_change = Change(ALARM, spec.alarm_name, NOTHING, note="not found")
    elif alarm["_composite"] or not S.owned(alarm["_tags"], spec):
        alarm_change = Change(ALARM, spec.alarm_name, KEEP, note=_not_ours(alarm["_tags"]))
    else:
        alarm_change = Change(ALARM, spec.alarm_name, DELETE, calls=(
            ApiCall("cloudwatch", "delete_alarms", {"AlarmNames": [spec.alarm_name]}),))

    # this spec's alarms under a former names.alarm (tagged for it, watching its metric)
    alarms = S.AlarmListing(aws)  # DescribeAlarms of every alarm: listed once for all the questions below
    former = S.former_alarms(alarms, spec)
    former_changes = [Change(ALARM, n, DELETE, calls=(ApiCall("cloudwatch", "delete_alarms", {"AlarmNames": [n]}),),
                             note="this spec's alarm under a former name") for n in former]
    going = set(former) | ({spec.alarm_name} if alarm_change.action == DELETE else set())

    topic_changes: list[Change] = []
    topic_owned = False
    if spec.creates_topic:
        arn = R.topic_arn(spec, p, region, account)
        topic = S.read_topic(aws, arn)
        if topic is None:
            topic_changes.append(Change(TOPIC, spec.topic_name, NOTHING, note="not found"))
        elif not S.owned(topic["tags"], spec):
            topic_changes.append(Change(TOPIC, spec.topic_name, KEEP, note=_not_ours(topic["tags"])))
        else:
            topic_owned = True
            # another alarm (another deployment using this topic as notify.topic_arn, or one made by hand)
            # still notifies through it: deleting the topic would silence that alarm without a word
            users = [n for n in S.alarms_notifying(alarms, arn) if n not in going]
            if users:
                listed = ", ".join(repr(n) for n in users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")
                topic_changes.append(Change(TOPIC, spec.topic_name, KEEP,
                                            note=f"s3audit's, but alarm(s) {listed} still notify through it: left in place "
                                                 f"(tear down again once nothing uses it)"))
                notes.append(f"the SNS topic {arn} is kept because other alarms still use it")
            else:
                topic_changes.extend(topic_deletion(spec.topic_name, arn, topic))
    else:
        topic_changes.append(Change(TOPIC, spec.notify.topic_arn or "", KEEP, note="existing topic from notify.topic_arn: not s3audit's"))
        # the topic s3audit made while the spec still had notify.emails: s3audit's, and no longer used
        old = R.former_topic_arn(spec_name=spec.name, partition=p, region=region, account=account)
        before = None if old == spec.notify.topic_arn else S.read_topic(aws, old)
        topic_owned = before is not None and S.owned(before["tags"], spec)  # tagged: proof for the filter too
        if before is not None and topic_owned and not [n for n in S.alarms_notifying(alarms, old) if n not in going]:
            topic_changes.extend(topic_deletion(spec.name, old, before, "created by s3audit for this spec before "
                                                                       "notify.topic_arn replaced it"))

    group = find_log_group(aws, spec.log_group)
    filters = [f for f in metric_filters(aws, spec.log_group) if f.get("filterName") == spec.filter_name] if group else []
    checks.append(Check("log group exists", OK if group else SKIPPED,
                        spec.log_group if group else f"{spec.log_group!r} not found: no metric filter to remove"))
    cfn_managed = alarm is not None and S.CFN_STACK_TAG in alarm["_tags"]
    proof = topic_owned or bool(former)  # a tagged resource of this spec besides its alarm
    filter_changes: list[Change] = []
    if not filters:
        filter_changes.append(Change(FILTER, spec.filter_name, NOTHING, note="not found"))
    elif cfn_managed:
        filter_changes.append(Change(FILTER, spec.filter_name, KEEP, note="deployed by a CloudFormation stack: delete the stack"))
    else:
        for f in filters:  # each DeleteMetricFilter removes one filter
            mt = (f.get("metricTransformations") or [{}])[0]
            if S.filter_owned(f, spec, alarm, other_proof=proof):
                filter_changes.append(Change(FILTER, spec.filter_name, DELETE, calls=(
                    ApiCall("logs", "delete_metric_filter", {"logGroupName": spec.log_group, "filterName": spec.filter_name}),),
                    note=f"on {spec.log_group}; s3audit's: exact name, metric {mt['metricNamespace']}/{mt['metricName']} "
                         f"and a tagged resource of this spec ({'its alarm' if alarm_change.action == DELETE else 'topic or former alarm'})"))
            elif (mt.get("metricNamespace"), mt.get("metricName")) == (spec.metric.namespace, spec.metric.name):
                filter_changes.append(Change(FILTER, spec.filter_name, KEEP,
                                             note="publishes the spec's metric, but neither this spec's s3audit alarm nor "
                                                  "its topic exists: nothing proves s3audit made it (filters carry no tags)"))
            else:
                filter_changes.append(Change(FILTER, spec.filter_name, KEEP,
                                             note=f"publishes {mt.get('metricNamespace')}/{mt.get('metricName')}, neither "
                                                  f"the spec's metric nor its alarm's: not s3audit's"))
        if any(c.action == KEEP for c in filter_changes):
            # a same-named foreign filter would be deleted by name too: never risk it
            filter_changes = [c if c.action != DELETE else
                              Change(FILTER, c.name, KEEP, note="another filter has the same name; remove by hand")
                              for c in filter_changes]
    if not cfn_managed:
        # this spec's filter on a former log_group (same name, same metric, same tagged proof)
        for f in metric_publishers(aws, spec):
            if S.on_former_group(f, spec, alarm, other_proof=proof):
                group_name = f["logGroupName"]
                filter_changes.append(Change(FILTER, spec.filter_name, DELETE, calls=(
                    ApiCall("logs", "delete_metric_filter", {"logGroupName": group_name, "filterName": spec.filter_name}),),
                    note=f"on {group_name}, a former log group of this spec"))
    changes.extend(filter_changes)
    changes.append(alarm_change)
    changes.extend(former_changes)
    changes.extend(topic_changes)

    if spec.trail and spec.trail.create:
        _trail_teardown(spec, aws, changes, notes)
    return Plan("teardown", spec, changes, checks, region, account, False, notes, _aws=aws)


def _trail_teardown(spec: DeploySpec, aws: Aws, changes: list[Change], notes: list[str]) -> None:
    name = R.trail_name(spec)
    trail = S.read_trail(aws, name)
    if trail is None:
        changes.append(Change(TRAIL, name, NOTHING, note="not found"))
    elif not S.owned(trail["_tags"], spec):
        changes.append(Change(TRAIL, name, KEEP, note=_not_ours(trail["_tags"])))
    else:
        changes.append(Change(TRAIL, name, DELETE, calls=(
            ApiCall("cloudtrail", "stop_logging", {"Name": name}),
            ApiCall("cloudtrail", "delete_trail", {"Name": name}))))
    role = R.role_name(spec)
    cur_role = S.read_role(aws, role, R.ROLE_POLICY_NAME)
    if cur_role is None:
        changes.append(Change(ROLE, role, NOTHING, note="not found"))
    elif not S.owned(cur_role["_tags"], spec):
        changes.append(Change(ROLE, role, KEEP, note=_not_ours(cur_role["_tags"])))
    else:
        calls = [ApiCall("iam", "delete_role_policy", {"RoleName": role, "PolicyName": R.ROLE_POLICY_NAME})] if cur_role["_policy"] else []
        calls.append(ApiCall("iam", "delete_role", {"RoleName": role}))
        changes.append(Change(ROLE, role, DELETE, calls=tuple(calls)))
    bucket = R.log_bucket_name(spec, aws.account, aws.region)
    cur = S.read_bucket(aws, bucket)
    if cur is None:
        changes.append(Change(BUCKET, bucket, NOTHING, note="not found"))
    elif cur["foreign"] or not S.owned(cur["tags"], spec):
        changes.append(Change(BUCKET, bucket, KEEP, note=_not_ours(cur["tags"])))
    elif not cur["empty"]:
        changes.append(Change(BUCKET, bucket, KEEP, note="holds CloudTrail log files (audit evidence): s3audit never "
                                                         "deletes them; empty and delete the bucket yourself if you must"))
        notes.append(f"the trail log bucket {bucket} is kept because it is not empty")
    else:
        calls = (ApiCall("s3", "delete_bucket_policy", {"Bucket": bucket}),) if cur["policy"] else ()
        changes.append(Change(BUCKET, bucket, DELETE, calls=calls + (ApiCall("s3", "delete_bucket", {"Bucket": bucket}),),
                              note="empty"))


def _not_ours(tags: dict[str, str]) -> str:
    if S.CFN_STACK_TAG in tags:
        return f"deployed by CloudFormation stack {tags[S.CFN_STACK_TAG]}: delete the stack instead"
    if tags.get(S.MANAGED_TAG) == "true":
        return f"created by s3audit for {tags.get(S.NAME_TAG)!r}, not for this spec: left untouched"
    return "not created by s3audit: left untouched"


_TEARDOWN_ORDER = (FILTER, ALARM, SUBSCRIPTION, TOPIC, TRAIL, ROLE, BUCKET)


def _offline_teardown(spec: DeploySpec, session: boto3.Session | None) -> Plan:
    from s3audit.deploy.plan import plan as deploy_plan

    deployed = deploy_plan(spec, session=session, offline=True)
    changes = [Change(c.resource_type, c.name, KEEP, note=c.note) if c.action == NOTHING else  # notify.topic_arn's topic
               Change(c.resource_type, c.name, DELETE, note="assumed deployed by s3audit; online, ownership is checked first")
               for kind in _TEARDOWN_ORDER for c in deployed.changes if c.resource_type == kind]
    checks = [Check("log group exists", SKIPPED, "offline: not checked")]
    return Plan("teardown", spec, changes, checks, deployed.region, deployed.account, True, [])
