"""Plan first, then apply exactly the plan.

:func:`plan` reads the account (never writes) and returns a :class:`Plan`: per resource the action
(``create``, ``update`` with a field-by-field diff, ``nothing``) and the exact API calls that would
perform it. :meth:`Plan.apply` re-reads the account, refuses if anything changed since the plan
was made, and then makes exactly those calls, reading the metric filter back afterwards.
"""
from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from s3audit.deploy import resources as R
from s3audit.deploy import state as S
from s3audit.deploy.aws import IMPLIED_ACTIONS, Aws, error_code, iam_action
from s3audit.deploy.errors import (
    DeployError, OfflinePlanError, PermissionDenied, PreflightError, ReadBackError, StalePlanError,
)
from s3audit.deploy.preflight import (
    FAILED, OK, SKIPPED, WARNING, Check, check_filter_count, check_log_group, check_metric_unshared, check_pattern, metric_publishers,
    check_test_metric_filter, check_trail, find_log_group, metric_filters,
)
from s3audit.deploy.spec import DeploySpec, bucket_name_problem, load_spec, trail_name_problem

if TYPE_CHECKING:  # pragma: no cover
    import boto3
    import pandas as pd

log = logging.getLogger(__name__)

CREATE, UPDATE, NOTHING, DELETE, KEEP = "create", "update", "nothing", "delete", "keep"
_SYMBOL = {CREATE: "+", UPDATE: "~", NOTHING: "=", DELETE: "-", KEEP: "!"}

TOPIC, TOPIC_POLICY, SUBSCRIPTION = "AWS::SNS::Topic", "AWS::SNS::TopicPolicy", "AWS::SNS::Subscription"
FILTER, ALARM = "AWS::Logs::MetricFilter", "AWS::CloudWatch::Alarm"
BUCKET, BUCKET_POLICY, ROLE, TRAIL = "AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::IAM::Role", "AWS::CloudTrail::Trail"

PENDING_NOTE = ('e-mail subscriptions stay "pending confirmation" until the recipient clicks the link in the '
                'e-mail from AWS Notifications (the link expires after 2 days); no alarm e-mail is sent before that')
OFFLINE_ACCOUNT = "<account-id>"


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: what the account holds now and what the spec wants."""

    field: str
    current: Any
    desired: Any


@dataclass(frozen=True)
class ApiCall:
    """One AWS call of the plan (``operation`` is the boto3 method name)."""

    service: str
    operation: str
    params: dict[str, Any]
    retry_codes: tuple[str, ...] = ()

    @property
    def api_name(self) -> str:
        """The API operation name, e.g. ``PutMetricFilter`` for ``put_metric_filter``."""
        return "".join(p.title() for p in self.operation.split("_"))

    @property
    def action(self) -> str:
        """``service:ApiName`` as shown in plans and results, e.g. ``logs:PutMetricFilter``."""
        return f"{self.service}:{self.api_name}"


@dataclass(frozen=True)
class Change:
    """The plan for one resource."""

    resource_type: str
    name: str
    action: str
    fields: tuple[FieldChange, ...] = ()
    calls: tuple[ApiCall, ...] = ()
    note: str = ""

    def signature(self) -> tuple[Any, ...]:
        """What must be unchanged for a plan to still hold: resource, action and current values."""
        return (self.resource_type, self.name, self.action,
                tuple((f.field, json.dumps(f.current, sort_keys=True, default=str)) for f in self.fields))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``resource_type``, ``name``, ``action``, ``fields``, ``calls``, ``note``."""
        return {"resource_type": self.resource_type, "name": self.name, "action": self.action,
                "fields": [{"field": f.field, "current": f.current, "desired": f.desired} for f in self.fields],
                "calls": [c.action for c in self.calls], "note": self.note}


@dataclass
class ApplyResult:
    """What :meth:`Plan.apply` did: the calls made, in order, and what the user should know."""

    kind: str
    calls: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stopped: bool = False

    def __str__(self) -> str:
        if self.stopped:
            head = f"PARTLY APPLIED {self.kind}: {len(self.calls)} AWS call(s) made before it stopped"
        elif self.calls:
            head = f"APPLIED {self.kind}: {len(self.calls)} AWS call(s) made"
        else:
            head = f"APPLIED {self.kind}: nothing to do, no call made"
        lines = [head] + [f"  {c}" for c in self.calls] + [f"NOTE: {n}" for n in self.notes]
        return "\n".join(lines)


@dataclass
class Plan:
    """A deploy or teardown plan. Nothing has been changed until :meth:`apply` is called.

    Attributes
    ----------
    kind : {"deploy", "teardown"}
    changes : list of Change
        In the order they will be applied.
    checks : list of Check
        Pre-flight results; a ``failed`` check blocks :meth:`apply`.
    offline : bool
        True for a plan made without reading any account (it assumes an empty account and cannot
        be applied).
    """

    kind: str
    spec: DeploySpec
    changes: list[Change]
    checks: list[Check]
    region: str
    account: str
    offline: bool = False
    notes: list[str] = field(default_factory=list)
    result: ApplyResult | None = None
    _aws: Aws | None = field(default=None, repr=False)
    _replan: Callable[[], Plan] | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ reading the plan
    @property
    def blocked(self) -> bool:
        """True when a pre-flight check failed: :meth:`apply` will refuse."""
        return any(c.blocking for c in self.checks)

    @property
    def has_changes(self) -> bool:
        """True when applying would make at least one call (a create, update or delete)."""
        return any(c.action in (CREATE, UPDATE, DELETE) for c in self.changes)

    def summary(self) -> dict[str, int]:
        """Action -> number of resources, for the actions present (e.g. ``{"create": 5}``)."""
        counts = Counter(c.action for c in self.changes)
        return {a: counts.get(a, 0) for a in (CREATE, UPDATE, DELETE, NOTHING, KEEP) if counts.get(a)}

    def required_actions(self) -> list[str]:
        """The IAM actions applying this plan needs (reads for planning are in docs/iam.md)."""
        needed: set[str] = set()
        for change in self.changes:
            for call in change.calls:
                needed.add(iam_action(call.service, call.api_name))
                needed.update(IMPLIED_ACTIONS.get((call.service, call.api_name), ()))
        return sorted(needed)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (what notebook 04 saves as ``deploy-plan`` for the report).

        Keys: ``kind``, ``name``, ``region``, ``account``, ``offline``, ``blocked``, ``summary``
        (action -> count), ``checks`` (``check``/``status``/``detail``), ``changes`` (see
        :meth:`Change.to_dict`), ``notes``, ``required_actions`` (IAM actions to apply it),
        ``applied`` (bool) and ``result`` (``{"calls", "notes"}`` once applied, else None),
        ``spec`` and ``text`` (the rendered plan).
        """
        return {"kind": self.kind, "name": self.spec.name, "region": self.region, "account": self.account,
                "offline": self.offline, "blocked": self.blocked, "summary": self.summary(),
                "checks": [c.to_dict() for c in self.checks], "changes": [c.to_dict() for c in self.changes],
                "notes": list(self.notes), "required_actions": self.required_actions(),
                "applied": self.result is not None,
                "result": None if self.result is None else {"calls": list(self.result.calls), "notes": list(self.result.notes)},
                "spec": self.spec.to_dict(), "text": self.render()}

    def to_frame(self) -> pd.DataFrame:
        """One row per changed field (one row for a resource without field changes).

        Columns: ``resource_type``, ``name``, ``action``, ``field``, ``current``, ``desired``,
        ``note``; values are shown as compact JSON text.
        """
        import pandas as pd

        rows = []
        for c in self.changes:
            if not c.fields:
                rows.append({"resource_type": c.resource_type, "name": c.name, "action": c.action,
                             "field": None, "current": None, "desired": None, "note": c.note or None})
            for f in c.fields:
                rows.append({"resource_type": c.resource_type, "name": c.name, "action": c.action, "field": f.field,
                             "current": _show(f.current), "desired": _show(f.desired), "note": c.note or None})
        columns = ["resource_type", "name", "action", "field", "current", "desired", "note"]
        return pd.DataFrame(rows, columns=columns)

    def render(self) -> str:
        """The plan as readable text (what ``s3audit deploy SPEC`` prints)."""
        where = f"account {self.account}, {self.region}"
        lines = [f"s3audit {self.kind} plan for {self.spec.name!r} ({where})"]
        if self.offline and self.kind == "deploy":
            lines.append("OFFLINE PLAN: no AWS call was made; it assumes an EMPTY account (nothing exists yet) "
                         "and the log group present. It cannot be applied.")
        elif self.offline:
            lines.append("OFFLINE PLAN: no AWS call was made; it assumes the spec is deployed exactly as s3audit "
                         "deploys it (online, every resource's ownership is checked first). It cannot be applied.")
        lines.append("Pre-flight checks:")
        for c in self.checks:
            lines.append(f"  {c.status.upper():<8} {c.name}: {c.detail}")
        s = self.summary()
        counts = ", ".join(f"{n} to {a}" if a not in (NOTHING, KEEP) else f"{n} {'unchanged' if a == NOTHING else 'left untouched'}"
                           for a, n in s.items())
        lines.append(f"Resources ({counts or 'none'}):")
        for c in self.changes:
            lines.append(f"  {_SYMBOL[c.action]} {c.action:<7} {c.resource_type:<24} {c.name}")
            for f in c.fields:
                if c.action == UPDATE:
                    lines.append(f"        {f.field}: {_show(f.current)} -> {_show(f.desired)}")
                else:
                    lines.append(f"        {f.field}: {_show(f.desired if c.action == CREATE else f.current)}")
            if c.note:
                lines.append(f"        ({c.note})")
        for n in self.notes:
            lines.append(f"NOTE: {n}")
        if self.blocked:
            lines.append("BLOCKED: a pre-flight check failed; applying this plan is refused.")
        elif not self.has_changes:
            lines.append("Nothing to do: the account already matches the spec." if self.kind == "deploy"
                         else "Nothing to remove.")
        elif self.result is not None:
            lines.append(str(self.result))
        elif self.offline:
            lines.append("Nothing has been changed. Plan with AWS credentials to see what your account needs.")
        else:
            cmd = "deploy" if self.kind == "deploy" else "teardown"
            lines.append(f"Nothing has been changed. Apply with `s3audit {cmd} SPEC --apply` or plan.apply().")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()

    def _repr_html_(self) -> str:  # notebooks: the text, monospaced
        import html

        return f"<pre>{html.escape(self.render())}</pre>"

    # ------------------------------------------------------------------ applying it
    def apply(self, *, check_fresh: bool = True, sleep: Callable[[float], None] = time.sleep,
              retry_timeout: float = 90.0) -> ApplyResult:
        """Make exactly the calls of this plan.

        Parameters
        ----------
        check_fresh : bool
            Re-read the account first and refuse (:class:`StalePlanError`) if the plan would differ.
        sleep : callable
            Used between retries of calls AWS may reject while a new IAM role propagates.
        retry_timeout : float
            Seconds to keep retrying those calls.

        Returns
        -------
        ApplyResult

        Raises
        ------
        OfflinePlanError, PreflightError, StalePlanError, PermissionDenied, AwsCallError, ReadBackError
        """
        if self.offline or self._aws is None:
            raise OfflinePlanError()
        if self.blocked:
            raise PreflightError([(c.name, c.detail) for c in self.checks if c.blocking])
        if check_fresh and self._replan is not None:
            fresh = self._replan()
            ours = [c.signature() for c in self.changes]
            theirs = [c.signature() for c in fresh.changes]
            if ours != theirs or fresh.blocked:
                diffs = [f"{c[0]} {c[1]}: planned {c[2]}" for c in ours if c not in theirs]
                diffs += [f"{c[0]} {c[1]}: now {c[2]}" for c in theirs if c not in ours]
                diffs += [f"pre-flight: {c.name}: {c.detail}" for c in fresh.checks if c.blocking]
                raise StalePlanError(diffs or ["the order of changes differs"])
        result = ApplyResult(self.kind)
        aws = self._aws
        try:
            for change in self.changes:
                for call in change.calls:
                    _perform(aws, call, change, sleep, retry_timeout)
                    result.calls.append(f"{call.action} {change.name}")
                if change.resource_type == FILTER and change.action in (CREATE, UPDATE):
                    read_back_filter(aws, self.spec)
        except DeployError as exc:
            # the calls before the failure did happen: keep them visible, never pretend nothing changed
            result.stopped = True
            result.notes.append(f"STOPPED after {len(result.calls)} call(s) by: {str(exc).rstrip('.')}. "
                                f"Plan again to see what is left.")
            self.result = result
            log.error("%s", result)
            raise
        if any(c.resource_type == SUBSCRIPTION and c.action == CREATE for c in self.changes):
            result.notes.append(PENDING_NOTE)
        self.result = result
        log.info("%s", result)
        return result


def _perform(aws: Aws, call: ApiCall, change: Change, sleep: Callable[[float], None], timeout: float) -> Any:
    from botocore.exceptions import ClientError

    waited = 0.0
    delay = 2.0
    while True:
        try:
            log.info("%s %s", call.action, change.name)
            return aws.call(call.service, call.operation, resource=change.name, allow=call.retry_codes, **call.params)
        except ClientError as exc:  # only codes listed in retry_codes get here
            if waited >= timeout:
                return aws.call(call.service, call.operation, resource=change.name, **call.params)
            log.info("%s: %s, retrying in %.0f s (a new IAM role takes a moment to propagate)",
                     call.action, error_code(exc), delay)
            sleep(delay)
            waited += delay
            delay = min(delay * 2, 15.0)


def read_back_filter(aws: Aws, spec: DeploySpec) -> None:
    """After a write, the group must hold exactly one filter of that name with the exact pattern text."""
    found = [f for f in metric_filters(aws, spec.log_group) if f.get("filterName") == spec.filter_name]
    if len(found) != 1:
        raise ReadBackError(f"metric filter {spec.filter_name!r}", "exactly one filter",
                            f"{len(found)} filters with that name")
    if found[0].get("filterPattern") != spec.pattern:
        raise ReadBackError(f"metric filter {spec.filter_name!r} pattern", spec.pattern, found[0].get("filterPattern"))
    mts = found[0].get("metricTransformations") or []
    want = R.metric_transformation(spec)
    have = {k: mts[0].get(k) for k in want} if len(mts) == 1 else mts
    if len(mts) != 1 or {**have, "defaultValue": _num(have.get("defaultValue"))} != want:
        raise ReadBackError(f"metric filter {spec.filter_name!r} metric", want, mts)


def _num(v: Any) -> Any:
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _diff(current: dict[str, Any], desired: dict[str, Any]) -> tuple[FieldChange, ...]:
    out = []
    for key, want in desired.items():
        have = current.get(key)
        if isinstance(want, float) or isinstance(have, (int, float)) and not isinstance(have, bool):
            same = _num(have) == _num(want)
        else:
            same = have == want
        if not same:
            out.append(FieldChange(key, have, want))
    return tuple(out)


# ======================================================================================== plan()
def plan(spec: DeploySpec | Any, *, session: boto3.Session | None = None, offline: bool = False,
         test_events: Sequence[str] | None = None) -> Plan:
    """Plan the deployment of a spec: read the account, change nothing.

    Parameters
    ----------
    spec : DeploySpec, mapping or path
        Anything :func:`load_spec` reads.
    session : boto3.Session, optional
        Default ``boto3.Session()``: profile, region and ``AWS_ENDPOINT_URL`` as boto3 reads them.
    offline : bool
        Make no AWS call: assume an empty account (every resource ``create``), check only what can
        be checked locally, and mark the plan as offline (it cannot be applied).
    test_events : sequence of str, optional
        Log-event messages for the TestMetricFilter check (default: ``spec.test_events`` or the
        bundled ``data/samples/events.jsonl.gz``).

    Returns
    -------
    Plan
        With ``blocked`` set when a pre-flight check failed (the plan then lists the failure and
        :meth:`Plan.apply` raises :class:`PreflightError`).

    Raises
    ------
    SpecError, PermissionDenied, AwsCallError

    Examples
    --------
    >>> p = plan("alarm-spec.yaml")                      # doctest: +SKIP
    >>> print(p)                                         # doctest: +SKIP
    >>> p.apply()                                        # doctest: +SKIP
    """
    spec = load_spec(spec)
    if offline:
        return _offline_plan(spec, session)
    aws = Aws(session)
    planner = _DeployPlanner(spec, aws, test_events)
    result = planner.run()
    result._replan = lambda: _DeployPlanner(spec, Aws(aws.session), test_events, run_test_filter=False).run()
    return result


def _offline_plan(spec: DeploySpec, session: boto3.Session | None) -> Plan:
    region = (session.region_name if session is not None else None) or _env_region() or "<region>"
    planner = _DeployPlanner(spec, None, None, region=region)
    return planner.run()


def _env_region() -> str | None:
    import os

    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


class _DeployPlanner:
    def __init__(self, spec: DeploySpec, aws: Aws | None, test_events: Sequence[str] | None, *,
                 region: str | None = None, run_test_filter: bool = True) -> None:
        self.spec = spec
        self.aws = aws
        self.test_events = test_events
        self.run_test_filter = run_test_filter
        self.offline = aws is None
        self.region = region if aws is None else aws.region
        self.account = OFFLINE_ACCOUNT if aws is None else aws.account
        self.partition = "aws" if aws is None else aws.partition
        self.checks: list[Check] = []
        self.changes: list[Change] = []
        self.notes: list[str] = []
        self.other_proof = False  # a tagged resource of this spec other than its alarm exists (topic, former alarm)
        self.alarms = None if aws is None else S.AlarmListing(aws)  # DescribeAlarms of every alarm: listed once

    def fail(self, name: str, detail: str) -> None:
        self.checks.append(Check(name, FAILED, detail))

    def run(self) -> Plan:
        spec = self.spec
        self.checks.append(check_pattern(spec))
        filters: list[dict[str, Any]] = []
        if self.offline:
            self.checks.append(Check("log group exists", SKIPPED, f"offline: {spec.log_group!r} assumed to exist"))
            self.checks.append(Check("metric-filter limit", SKIPPED, "offline: not checked"))
            self.checks.append(Check("metric used by one filter only", SKIPPED, "offline: not checked"))
            if spec.trail and not spec.trail.create:
                self.checks.append(Check("trail delivers S3 data events", SKIPPED, "offline: not checked"))
            self.checks.append(Check("TestMetricFilter agrees with local engine", SKIPPED, "offline: not run"))
        else:
            assert self.aws is not None
            group = find_log_group(self.aws, spec.log_group)
            self.checks.append(check_log_group(group, spec.log_group))
            filters = metric_filters(self.aws, spec.log_group) if group else []
            if group:
                self.checks.append(check_filter_count(filters, spec.filter_name))
            if spec.trail and not spec.trail.create:
                self.checks.append(check_trail(self.aws, spec))
            if self.run_test_filter and self.checks[0].status == OK:
                self.checks.append(check_test_metric_filter(self.aws, spec, self.test_events))
        if spec.trail and spec.trail.create:
            self._trail()
        topic = R.topic_arn(spec, self.partition, self.region, self.account)
        self._topic(topic)
        alarm = None if self.offline else S.read_alarm(self.aws, spec.alarm_name)  # type: ignore[arg-type]
        # the alarm before the filter: a filter is recognised as s3audit's only next to its tagged alarm
        # (or topic), so a failure between the two writes must never leave the filter alone
        self._alarm(topic, alarm)
        if not spec.creates_topic and not self.offline:
            self._former_topic(topic)
        former = [] if self.alarms is None else S.former_alarms(self.alarms, spec)
        if former:
            self.other_proof = True
            for name in former:
                # names.alarm changed: the old alarm would report every detection a second time
                self.changes.append(Change(ALARM, name, DELETE, calls=(
                    ApiCall("cloudwatch", "delete_alarms", {"AlarmNames": [name]}),),
                    note=f"this spec's alarm under a former name (tagged {S.NAME_TAG} = {spec.name}), replaced by "
                         f"{spec.alarm_name!r}"))
        self._filter(filters, alarm)
        if not self.offline:
            self._moved_filters(alarm)
        if any(c.resource_type == SUBSCRIPTION and c.action == CREATE for c in self.changes):
            self.notes.append(PENDING_NOTE)
        return Plan("deploy", spec, self.changes, self.checks, self.region, self.account, self.offline,
                    self.notes, _aws=self.aws)

    # ---------------------------------------------------------------- SNS
    def _topic(self, arn: str) -> None:
        spec = self.spec
        if not spec.creates_topic:
            self._existing_topic(arn)
            return
        current = None if self.offline else S.read_topic(self.aws, arn)  # type: ignore[arg-type]
        tags = spec.resource_tags()
        policy = R.topic_policy(spec, arn, self.partition, self.region, self.account)
        if current is None:
            self.changes.append(Change(TOPIC, spec.topic_name, CREATE, (FieldChange("Tags", None, tags),), (
                ApiCall("sns", "create_topic", {"Name": spec.topic_name, "Tags": _kv(tags)}),)))
            self.changes.append(Change(TOPIC_POLICY, spec.topic_name, CREATE,
                                       (FieldChange("Policy", None, policy),),
                                       (ApiCall("sns", "set_topic_attributes", {"TopicArn": arn, "AttributeName": "Policy",
                                                                                "AttributeValue": json.dumps(policy)}),),
                                       note="lets this CloudWatch alarm publish"))
            for email in spec.notify.emails:
                self.changes.append(self._subscribe(arn, email))
            return
        if S.owned(current["tags"], spec):
            self.other_proof = True
        else:
            self.fail("topic ownership", f"SNS topic {arn} exists but was not created by s3audit for {spec.name!r} "
                                         f"(tags {S.MANAGED_TAG}/{S.NAME_TAG} missing); choose names.topic or use "
                                         f"notify.topic_arn")
            self.changes.append(Change(TOPIC, spec.topic_name, KEEP, note="not created by s3audit"))
            return
        tag_fields, new_tags = _tag_changes(current["tags"], tags)
        calls = (ApiCall("sns", "tag_resource", {"ResourceArn": arn, "Tags": _kv(new_tags)}),) if new_tags else ()
        self.changes.append(Change(TOPIC, spec.topic_name, UPDATE if calls else NOTHING, tag_fields, calls))
        have = S.policy_of(current["attributes"])
        if R.normalize_policy(have) != R.normalize_policy(policy):
            self.changes.append(Change(TOPIC_POLICY, spec.topic_name, UPDATE, (FieldChange("Policy", have, policy),), (
                ApiCall("sns", "set_topic_attributes", {"TopicArn": arn, "AttributeName": "Policy",
                                                        "AttributeValue": json.dumps(policy)}),)))
        else:
            self.changes.append(Change(TOPIC_POLICY, spec.topic_name, NOTHING))
        subs = {s.get("Endpoint"): s for s in current["subscriptions"] if s.get("Protocol") == "email"}
        for email in spec.notify.emails:
            sub = subs.get(email)
            if sub is None:
                self.changes.append(self._subscribe(arn, email))
            else:
                pending = sub.get("SubscriptionArn") in ("PendingConfirmation", "pending confirmation")
                self.changes.append(Change(SUBSCRIPTION, email, NOTHING,
                                           note="pending confirmation" if pending else "confirmed"))
        for endpoint, sub in subs.items():
            if endpoint in spec.notify.emails:
                continue
            sub_arn = sub.get("SubscriptionArn", "")
            if sub_arn.startswith("arn:"):
                self.changes.append(Change(SUBSCRIPTION, endpoint, DELETE, (FieldChange("Endpoint", endpoint, None),),
                                           (ApiCall("sns", "unsubscribe", {"SubscriptionArn": sub_arn}),),
                                           note="no longer in notify.emails"))
            else:
                self.changes.append(Change(SUBSCRIPTION, endpoint, KEEP,
                                           note="not in the spec any more, but unconfirmed subscriptions cannot be "
                                                "removed; AWS drops them after 3 days"))

    def _existing_topic(self, arn: str) -> None:
        """``notify.topic_arn``: used as the alarm action, never changed; checked as far as it can be."""
        keep = Change(TOPIC, arn, NOTHING, note="existing topic, not managed by s3audit: never changed")
        _, partition, _, region, account, _ = arn.split(":", 5)
        if self.offline:
            self.checks.append(Check("existing topic", SKIPPED, f"offline: {arn} assumed to exist"))
            self.changes.append(keep)
            return
        if (partition, region) != (self.partition, self.region):
            # CloudWatch alarms notify topics of their own Region only; PutMetricAlarm answers
            # "ValidationError: Invalid region <r> specified. Only <ours> is supported." (the filter,
            # written after the alarm, would not be reached, but say it before anything is written)
            self.fail("existing topic", f"notify.topic_arn {arn} is in {partition}/{region}, but the alarm is created in "
                                        f"{self.partition}/{self.region}: a CloudWatch alarm can only notify a topic in "
                                        f"its own Region; use a topic in {self.region} (or deploy in {region})")
            return
        try:
            current = S.read_topic(self.aws, arn, full=False)  # type: ignore[arg-type]
        except PermissionDenied as exc:
            if account == self.account:
                raise
            # another account's topic: reading it needs that account's topic policy, not an IAM grant here
            self.checks.append(Check("existing topic", WARNING,
                                     f"{arn} belongs to account {account} and its policy does not let this identity read "
                                     f"it ({exc.code}), so s3audit cannot check it; the alarm can publish only if that "
                                     f"topic's policy lets cloudwatch.amazonaws.com publish for account {self.account}"))
            self.changes.append(keep)
            return
        if current is None:
            self.fail("existing topic", f"notify.topic_arn {arn} does not exist")
            return
        self.changes.append(keep)
        if not S.allows_cloudwatch(S.policy_of(current["attributes"])):
            self.checks.append(Check("topic policy lets CloudWatch publish", WARNING,
                                     f"{arn}'s policy has no statement for cloudwatch.amazonaws.com; if the topic "
                                     f"has a restrictive policy or a KMS key, the alarm cannot publish (s3audit does "
                                     f"not change topics it did not create)"))

    def _subscribe(self, arn: str, email: str) -> Change:
        return Change(SUBSCRIPTION, email, CREATE, (FieldChange("Protocol", None, "email"),),
                      (ApiCall("sns", "subscribe", {"TopicArn": arn, "Protocol": "email", "Endpoint": email}),),
                      note="will stay pending confirmation until the recipient confirms")

    # ---------------------------------------------------------------- metric filter
    def _filter(self, filters: list[dict[str, Any]], alarm: dict[str, Any] | None) -> None:
        spec = self.spec
        params = R.filter_params(spec)
        same_name = [f for f in filters if f.get("filterName") == spec.filter_name]
        call = (ApiCall("logs", "put_metric_filter", params),)
        if not same_name:
            desired = {"filterPattern": spec.pattern, **R.metric_transformation(spec)}
            self.changes.append(Change(FILTER, spec.filter_name, CREATE,
                                       tuple(FieldChange(k, None, v) for k, v in desired.items()), call,
                                       note=f"on log group {spec.log_group}"))
            return
        foreign = [f for f in same_name if not S.filter_owned(f, spec, alarm, other_proof=self.other_proof)]
        if foreign:
            mt = (foreign[0].get("metricTransformations") or [{}])[0]
            published = f"{mt.get('metricNamespace')}/{mt.get('metricName')}"
            if published == f"{spec.metric.namespace}/{spec.metric.name}":
                why = ("publishing the spec's metric, but neither this spec's s3audit alarm nor its topic exists, so "
                       "nothing proves s3audit made it (filters carry no tags)")
            else:
                why = (f"publishing {published}, not {spec.metric.namespace}/{spec.metric.name} nor the metric of this "
                       f"spec's alarm")
            self.fail("metric filter ownership",
                      f"log group {spec.log_group} already has a filter named {spec.filter_name!r} {why}: it is not "
                      f"s3audit's; choose names.filter (or delete that filter yourself if it is a leftover)")
            self.changes.append(Change(FILTER, spec.filter_name, KEEP, note="not created by s3audit"))
            return
        current = same_name[0]
        mt = current["metricTransformations"][0]
        have = {"filterPattern": current.get("filterPattern"), "metricNamespace": mt.get("metricNamespace"),
                "metricName": mt.get("metricName"), "metricValue": mt.get("metricValue"),
                "defaultValue": mt.get("defaultValue"), "dimensions": mt.get("dimensions") or None,
                "unit": mt.get("unit") if mt.get("unit") not in (None, "None") else None}
        want = {"filterPattern": spec.pattern, **R.metric_transformation(spec), "dimensions": None, "unit": None}
        diff = _diff(have, want)
        note = f"on log group {spec.log_group}"
        if len(same_name) > 1:
            note += f"; {len(same_name)} filters share this name (not possible on AWS)"
        self.changes.append(Change(FILTER, spec.filter_name, UPDATE if diff else NOTHING, diff, call if diff else (), note))

    def _moved_filters(self, alarm: dict[str, Any] | None) -> None:
        """Check that no other filter publishes the spec's metric, replacing this spec's own on a former log group.

        A filter with the spec's filter name on another log group, publishing the spec's metric, next to
        this spec's tagged alarm or topic, is what a change of ``log_group`` leaves behind (it passes the
        same ownership test as the filter on the current group): it is deleted after the new filter is
        written. Any other publisher of the metric blocks the plan.
        """
        spec = self.spec
        others, moved = [], []
        for f in metric_publishers(self.aws, spec):  # type: ignore[arg-type]
            if f.get("logGroupName") == spec.log_group and f.get("filterName") == spec.filter_name:
                continue
            if S.on_former_group(f, spec, alarm, other_proof=self.other_proof):
                moved.append(f)
            else:
                others.append(f)
        self.checks.append(check_metric_unshared(spec, others))
        for f in moved:
            group = f["logGroupName"]
            self.changes.append(Change(FILTER, spec.filter_name, DELETE, calls=(
                ApiCall("logs", "delete_metric_filter", {"logGroupName": group, "filterName": spec.filter_name}),),
                note=f"on {group}, the spec's former log group: replaced by the filter on {spec.log_group}"))

    # ---------------------------------------------------------------- alarm
    def _alarm(self, topic: str, current: dict[str, Any] | None) -> None:
        spec = self.spec
        params = R.alarm_params(spec, topic)
        tags = spec.resource_tags()
        if current is None:
            shown = {k: v for k, v in params.items() if k != "AlarmName"}
            self.changes.append(Change(ALARM, spec.alarm_name, CREATE,
                                       tuple(FieldChange(k, None, v) for k, v in shown.items()),
                                       (ApiCall("cloudwatch", "put_metric_alarm", {**params, "Tags": _kv(tags)}),)))
            return
        if current["_composite"] or not S.owned(current["_tags"], spec):
            self.fail("alarm ownership", f"alarm {spec.alarm_name!r} exists but was not created by s3audit for "
                                         f"{spec.name!r}; choose names.alarm")
            self.changes.append(Change(ALARM, spec.alarm_name, KEEP, note="not created by s3audit"))
            return
        have = {k: current.get(k) for k in params}
        want = dict(params)
        # fields s3audit never sets must be absent
        have.update({"Dimensions": current.get("Dimensions") or None, "Unit": current.get("Unit"),
                     "OKActions": current.get("OKActions") or None,
                     "InsufficientDataActions": current.get("InsufficientDataActions") or None})
        want.update({"Dimensions": None, "Unit": None, "OKActions": None, "InsufficientDataActions": None})
        if have.get("DatapointsToAlarm") is None:  # AWS omits it when M = N
            have["DatapointsToAlarm"] = have.get("EvaluationPeriods")
        diff = _diff(have, want)
        tag_fields, new_tags = _tag_changes(current["_tags"], tags)
        calls: list[ApiCall] = []
        if diff:
            calls.append(ApiCall("cloudwatch", "put_metric_alarm", params))  # replaces the whole configuration
        if new_tags:  # PutMetricAlarm ignores Tags on an existing alarm
            calls.append(ApiCall("cloudwatch", "tag_resource", {"ResourceARN": current["AlarmArn"], "Tags": _kv(new_tags)}))
        fields = diff + tag_fields
        self.changes.append(Change(ALARM, spec.alarm_name, UPDATE if calls else NOTHING, fields, tuple(calls)))
        self._replaced_topics(topic, current)

    def _replaced_topics(self, topic: str, current: dict[str, Any]) -> None:
        """Delete the topics of this spec that the updated alarm no longer notifies.

        A changed ``names.topic``, or ``notify.emails`` replaced by ``notify.topic_arn``, moves the alarm
        to another topic; the old one (found among the alarm's current actions) would stay behind with
        its subscriptions, out of teardown's reach. Deleted only when it carries this spec's tags and no
        other alarm notifies through it; planned after the alarm's update.
        """
        prefix = f"arn:{self.partition}:sns:{self.region}:{self.account}:"
        actions = [*current.get("AlarmActions", []), *current.get("OKActions", []), *current.get("InsufficientDataActions", [])]
        for old in dict.fromkeys(a for a in actions if a.startswith(prefix) and a != topic):
            before = S.read_topic(self.aws, old)  # type: ignore[arg-type]
            if before is None or not S.owned(before["tags"], self.spec):
                continue
            if [n for n in S.alarms_notifying(self.alarms, old) if n != self.spec.alarm_name]:  # type: ignore[arg-type]
                continue
            self.changes.extend(topic_deletion(old.removeprefix(prefix), old, before,
                                               f"this spec's former topic: the alarm now notifies {topic}"))

    def _former_topic(self, topic: str) -> None:
        """The topic s3audit created for this spec before ``notify.topic_arn`` replaced it, found by
        its name even when no alarm points to it any more (the alarm was deleted, or an earlier
        version left it): tagged for this spec, it proves the spec was deployed here, for the filter
        as in teardown; unused by any alarm, it is deleted (unless :meth:`_replaced_topics` already
        plans that)."""
        assert self.aws is not None and self.alarms is not None
        old = R.former_topic_arn(spec_name=self.spec.name, partition=self.partition, region=self.region,
                                 account=self.account)
        if old == topic:
            return
        before = S.read_topic(self.aws, old)
        if before is None or not S.owned(before["tags"], self.spec):
            return
        self.other_proof = True
        planned = any(c.resource_type == TOPIC and c.action == DELETE and any(
            call.params.get("TopicArn") == old for call in c.calls) for c in self.changes)
        if planned or [n for n in S.alarms_notifying(self.alarms, old) if n != self.spec.alarm_name]:
            return
        self.changes.extend(topic_deletion(self.spec.name, old, before,
                                           "created by s3audit for this spec before notify.topic_arn replaced it"))

    # ---------------------------------------------------------------- trail (create: true)
    def _trail(self) -> None:
        spec = self.spec
        assert spec.trail is not None
        p, region, account = self.partition, self.region, self.account
        tags = spec.resource_tags()
        bucket = R.log_bucket_name(spec, account, region)
        trail = R.trail_name(spec)
        trail_arn = R.trail_arn(spec, p, region, account)
        role = R.role_name(spec)
        role_arn = f"arn:{p}:iam::{account}:role/{role}"
        # the defaults are built from the spec's name: check them as CreateBucket/CreateTrail would, before
        # anything is written (a refusal at CreateTrail came after the bucket, its policy and the role)
        # (offline the account/region are unknown: the default bucket name is a placeholder)
        bucket_problem = None if self.offline and "<" in bucket else bucket_name_problem(bucket)
        if bucket_problem:
            self.fail("trail log bucket name", f"default bucket name {bucket!r}: {bucket_problem}; set trail.log_bucket")
        trail_problem = trail_name_problem(trail)
        if trail_problem:
            self.fail("trail name", f"trail name {trail!r}: {trail_problem}; set trail.name")
        if len(role) > 64:
            self.fail("trail role name", f"role name {role!r} is longer than 64 characters; set trail.role_name")

        # bucket + policy
        cur_bucket = None if self.offline else S.read_bucket(self.aws, bucket)  # type: ignore[arg-type]
        bpolicy = R.bucket_policy(bucket, trail_arn, p, account)
        if cur_bucket is None:
            create = {"Bucket": bucket}
            if region not in ("us-east-1", "<region>"):
                create["CreateBucketConfiguration"] = {"LocationConstraint": region}
            self.changes.append(Change(BUCKET, bucket, CREATE, (FieldChange("Tags", None, tags),), (
                ApiCall("s3", "create_bucket", create),
                ApiCall("s3", "put_bucket_tagging", {"Bucket": bucket, "Tagging": {"TagSet": _kv(tags)}})),
                note="CloudTrail log files"))
            self.changes.append(Change(BUCKET_POLICY, bucket, CREATE, (FieldChange("Policy", None, bpolicy),), (
                ApiCall("s3", "put_bucket_policy", {"Bucket": bucket, "Policy": json.dumps(bpolicy)}),)))
        elif cur_bucket["foreign"] or not S.owned(cur_bucket["tags"], spec):
            self.fail("trail log bucket ownership", f"bucket {bucket!r} exists but was not created by s3audit for "
                                                    f"{spec.name!r}; set trail.log_bucket")
            self.changes.append(Change(BUCKET, bucket, KEEP, note="not created by s3audit"))
        else:
            tag_fields, new_tags = _tag_changes(cur_bucket["tags"], tags)
            if new_tags:  # PutBucketTagging replaces the whole set: keep the tags already there
                tag_set = _kv({**cur_bucket["tags"], **new_tags})
                self.changes.append(Change(BUCKET, bucket, UPDATE, tag_fields, (
                    ApiCall("s3", "put_bucket_tagging", {"Bucket": bucket, "Tagging": {"TagSet": tag_set}}),)))
            else:
                self.changes.append(Change(BUCKET, bucket, NOTHING))
            if R.normalize_policy(cur_bucket["policy"]) != R.normalize_policy(bpolicy):
                self.changes.append(Change(BUCKET_POLICY, bucket, UPDATE, (FieldChange("Policy", cur_bucket["policy"], bpolicy),),
                                           (ApiCall("s3", "put_bucket_policy", {"Bucket": bucket, "Policy": json.dumps(bpolicy)}),)))
            else:
                self.changes.append(Change(BUCKET_POLICY, bucket, NOTHING))

        # role
        trust = R.role_trust_policy()
        rpolicy = R.role_policy(spec, p, region, account)
        cur_role = None if self.offline else S.read_role(self.aws, role, R.ROLE_POLICY_NAME)  # type: ignore[arg-type]
        put_policy = ApiCall("iam", "put_role_policy", {"RoleName": role, "PolicyName": R.ROLE_POLICY_NAME,
                                                        "PolicyDocument": json.dumps(rpolicy)})
        if cur_role is None:
            self.changes.append(Change(ROLE, role, CREATE, (FieldChange("AssumeRolePolicyDocument", None, trust),
                                                            FieldChange(f"Policy.{R.ROLE_POLICY_NAME}", None, rpolicy)), (
                ApiCall("iam", "create_role", {"RoleName": role, "AssumeRolePolicyDocument": json.dumps(trust),
                                               "Description": f"s3audit {spec.name}: CloudTrail writes to CloudWatch Logs",
                                               "Tags": _kv(tags)}), put_policy), note="CloudTrail -> CloudWatch Logs"))
        elif not S.owned(cur_role["_tags"], spec):
            self.fail("trail role ownership", f"IAM role {role!r} exists but was not created by s3audit; set trail.role_name")
            self.changes.append(Change(ROLE, role, KEEP, note="not created by s3audit"))
        else:
            fields: list[FieldChange] = []
            calls: list[ApiCall] = []
            if R.normalize_policy(cur_role["_trust"]) != R.normalize_policy(trust):
                fields.append(FieldChange("AssumeRolePolicyDocument", cur_role["_trust"], trust))
                calls.append(ApiCall("iam", "update_assume_role_policy", {"RoleName": role, "PolicyDocument": json.dumps(trust)}))
            if R.normalize_policy(cur_role["_policy"]) != R.normalize_policy(rpolicy):
                fields.append(FieldChange(f"Policy.{R.ROLE_POLICY_NAME}", cur_role["_policy"], rpolicy))
                calls.append(put_policy)
            tag_fields, new_tags = _tag_changes(cur_role["_tags"], tags)
            if new_tags:
                fields.extend(tag_fields)
                calls.append(ApiCall("iam", "tag_role", {"RoleName": role, "Tags": _kv(new_tags)}))
            self.changes.append(Change(ROLE, role, UPDATE if calls else NOTHING, tuple(fields), tuple(calls)))

        # trail
        group_arn = R.log_group_arn(spec, p, region, account)
        selectors = R.advanced_selectors(spec, p)
        want = {"S3BucketName": bucket, "CloudWatchLogsLogGroupArn": group_arn, "CloudWatchLogsRoleArn": role_arn,
                "IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": True, "LogFileValidationEnabled": True}
        settings = {"Name": trail, "S3BucketName": bucket, "CloudWatchLogsLogGroupArn": group_arn,
                    "CloudWatchLogsRoleArn": role_arn, "IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": True,
                    "EnableLogFileValidation": True}
        cur_trail = None if self.offline else S.read_trail(self.aws, trail)  # type: ignore[arg-type]
        sel_call = ApiCall("cloudtrail", "put_event_selectors", {"TrailName": trail, "AdvancedEventSelectors": selectors})
        if cur_trail is None:
            self.changes.append(Change(TRAIL, trail, CREATE, tuple(FieldChange(k, None, v) for k, v in want.items()) + (
                FieldChange("AdvancedEventSelectors", None, selectors), FieldChange("IsLogging", None, True)), (
                # a new role takes seconds to be usable by CloudTrail: retry that specific refusal
                ApiCall("cloudtrail", "create_trail", {**settings, "TagsList": _kv(tags)},
                        retry_codes=("InvalidCloudWatchLogsRoleArnException", "InsufficientS3BucketPolicyException")),
                sel_call, ApiCall("cloudtrail", "start_logging", {"Name": trail})),
                note=f"S3 data events for {', '.join(spec.trail.buckets)} -> {spec.log_group}"))
            return
        if not S.owned(cur_trail["_tags"], spec):
            self.fail("trail ownership", f"trail {trail!r} exists but was not created by s3audit; set trail.name, or "
                                         f"set trail.create: false to only check it")
            self.changes.append(Change(TRAIL, trail, KEEP, note="not created by s3audit"))
            return
        have = {k: cur_trail.get(k) for k in want}
        diff = list(_diff(have, want))
        calls = []
        if diff:
            calls.append(ApiCall("cloudtrail", "update_trail", settings, retry_codes=("InvalidCloudWatchLogsRoleArnException",)))
        cur_sel = cur_trail["_selectors"].get("AdvancedEventSelectors") or None
        if R.normalize_policy(cur_sel) != R.normalize_policy(selectors):
            diff.append(FieldChange("AdvancedEventSelectors", cur_sel, selectors))
            calls.append(sel_call)
        if not cur_trail["_logging"]:
            diff.append(FieldChange("IsLogging", False, True))
            calls.append(ApiCall("cloudtrail", "start_logging", {"Name": trail}))
        tag_fields, new_tags = _tag_changes(cur_trail["_tags"], tags)
        if new_tags:
            diff.extend(tag_fields)
            calls.append(ApiCall("cloudtrail", "add_tags", {"ResourceId": cur_trail["TrailARN"], "TagsList": _kv(new_tags)}))
        self.changes.append(Change(TRAIL, trail, UPDATE if calls else NOTHING, tuple(diff), tuple(calls)))


def topic_deletion(name: str, arn: str, topic: dict[str, Any], note: str = "") -> list[Change]:
    """A topic's deletion, its subscriptions listed as going with it (DeleteTopic removes them).

    ``topic`` is what :func:`s3audit.deploy.state.read_topic` returned.
    """
    subs = [Change(SUBSCRIPTION, sub.get("Endpoint", "?"), DELETE, note="removed with the topic")
            for sub in topic["subscriptions"]]
    return subs + [Change(TOPIC, name, DELETE, calls=(ApiCall("sns", "delete_topic", {"TopicArn": arn}),), note=note)]


def _kv(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _tag_changes(current: dict[str, str], desired: dict[str, str]) -> tuple[tuple[FieldChange, ...], dict[str, str]]:
    """``Tags.<key>`` field changes and the tags to add or overwrite (tags are never removed)."""
    diff = _diff(current, desired)
    return tuple(FieldChange(f"Tags.{f.field}", f.current, f.desired) for f in diff), {f.field: f.desired for f in diff}
