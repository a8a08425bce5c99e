"""The deploy spec: what to create, read from JSON or YAML and validated strictly.

A spec names one alarm deployment::

    name: payroll-unexpected-reads          # default name of the filter, the alarm and the topic
    log_group: aws-cloudtrail-logs-123456789012-0a1b2c3d
    pattern: '{ ($.eventSource = "s3.amazonaws.com") && ... }'
    metric: {namespace: S3Audit, name: PayrollUnexpectedReads}
    alarm: {period: 300, threshold: 1, evaluation_periods: 1}     # + datapoints_to_alarm, description
    notify: {emails: [secops@example.com]}                        # or {topic_arn: arn:aws:sns:...}
    # optional
    names: {filter: ..., alarm: ..., topic: ...}
    tags: {team: secops}
    trail: {buckets: [payroll-data], create: false}               # + name, log_bucket, role_name
    test_events: data/samples/events.jsonl.gz                     # events for TestMetricFilter

Unknown keys and invalid values are rejected with a :class:`SpecError` listing every problem,
each message starting with the key it is about.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s3audit.deploy.errors import SpecError

MANAGED_TAG = "s3audit:managed"
NAME_TAG = "s3audit:name"

_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LOG_GROUP = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
_FILTER_NAME = re.compile(r"^[^:*]{1,512}$")
_METRIC_PART = re.compile(r"^[\x20-\x7e]{1,255}$")  # ASCII printable ...
_METRIC_FORBIDDEN = re.compile(r"[:*$]")              # ... without ':' '*' '$' (PutMetricFilter model)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_TRAIL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_ALARM_NAME_MAX = 255  # PutMetricAlarm AlarmName: 1-255 characters (botocore cloudwatch model)
_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")


def trail_name_problem(name: str) -> str | None:
    """Why CloudTrail refuses ``name`` (CreateTrail ``Name``), or None.

    3-128 ASCII letters, digits, '.', '_' or '-', starting and ending with a letter or digit, no two
    of '.', '_', '-' next to each other, not an IP address (botocore cloudtrail model, CreateTrail).

    Examples
    --------
    >>> trail_name_problem("payroll-trail") is None, trail_name_problem("payroll--trail") is None
    (True, False)
    """
    if not _TRAIL_NAME.fullmatch(name):
        return "3-128 letters, digits, '.', '-' or '_', starting and ending with a letter or digit"
    if re.search(r"[._-]{2}", name):
        return "no two of '.', '_', '-' next to each other"
    if _IP_ADDRESS.fullmatch(name):
        return "must not be an IP address"
    return None


def bucket_name_problem(name: str) -> str | None:
    """Why S3 refuses ``name`` as a general-purpose bucket name (the basic rules), or None.

    Examples
    --------
    >>> bucket_name_problem("payroll-trail-logs") is None, bucket_name_problem("-trail-logs") is None
    (True, False)
    """
    if not _BUCKET.fullmatch(name):
        return "3-63 lower-case letters, digits, '.' or '-', starting and ending with a letter or digit"
    if ".." in name:
        return "no two adjacent periods"
    if _IP_ADDRESS.fullmatch(name):
        return "must not be an IP address"
    return None


_TOP_KEYS = {"name", "log_group", "pattern", "metric", "alarm", "notify", "names", "tags", "trail", "test_events"}
_REQUIRED = ("name", "log_group", "pattern", "metric", "alarm", "notify")


@dataclass(frozen=True)
class MetricSpec:
    """The custom metric the filter publishes (value ``1`` per match, default ``0``, no dimensions)."""

    namespace: str
    name: str


@dataclass(frozen=True)
class AlarmSpec:
    """``Sum >= threshold`` over ``period`` seconds, ``datapoints_to_alarm`` of ``evaluation_periods``."""

    period: int
    threshold: float
    evaluation_periods: int
    datapoints_to_alarm: int
    description: str


@dataclass(frozen=True)
class NotifySpec:
    """Where the alarm goes: a topic s3audit creates (with e-mail subscriptions) or an existing one."""

    emails: tuple[str, ...] = ()
    topic_arn: str | None = None


@dataclass(frozen=True)
class TrailSpec:
    """The CloudTrail trail that must feed the log group with S3 data events for ``buckets``.

    With ``create=False`` (default) a pre-flight check looks for such a trail; with ``create=True``
    s3audit plans the trail, its log bucket with bucket policy and the CloudWatch Logs role.
    """

    buckets: tuple[str, ...]
    create: bool = False
    name: str | None = None
    log_bucket: str | None = None
    role_name: str | None = None


@dataclass(frozen=True)
class DeploySpec:
    """A validated deploy spec (build it with :func:`load_spec`)."""

    name: str
    log_group: str
    pattern: str
    metric: MetricSpec
    alarm: AlarmSpec
    notify: NotifySpec
    filter_name: str
    alarm_name: str
    topic_name: str
    tags: tuple[tuple[str, str], ...] = ()
    trail: TrailSpec | None = None
    test_events: str | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def creates_topic(self) -> bool:
        """True unless the spec points at an existing topic (which s3audit never changes)."""
        return self.notify.topic_arn is None

    def resource_tags(self) -> dict[str, str]:
        """The tags put on every taggable resource: the user's plus the two ownership tags."""
        tags = dict(self.tags)
        tags[MANAGED_TAG] = "true"
        tags[NAME_TAG] = self.name
        return tags

    def to_dict(self) -> dict[str, Any]:
        """The spec as a plain document (the shape :func:`load_spec` reads)."""
        doc: dict[str, Any] = {
            "name": self.name,
            "log_group": self.log_group,
            "pattern": self.pattern,
            "metric": {"namespace": self.metric.namespace, "name": self.metric.name},
            "alarm": {
                "period": self.alarm.period,
                "threshold": self.alarm.threshold,
                "evaluation_periods": self.alarm.evaluation_periods,
                "datapoints_to_alarm": self.alarm.datapoints_to_alarm,
                **({"description": self.alarm.description} if self.alarm.description else {}),
            },
            "notify": ({"topic_arn": self.notify.topic_arn} if self.notify.topic_arn else {"emails": list(self.notify.emails)}),
            "names": {"filter": self.filter_name, "alarm": self.alarm_name, "topic": self.topic_name},
        }
        if self.tags:
            doc["tags"] = dict(self.tags)
        if self.trail:
            t = self.trail
            doc["trail"] = {"buckets": list(t.buckets), "create": t.create}
            for key in ("name", "log_bucket", "role_name"):
                if getattr(t, key):
                    doc["trail"][key] = getattr(t, key)
        if self.test_events:
            doc["test_events"] = self.test_events
        return doc


def load_spec(source: DeploySpec | Mapping[str, Any] | str | os.PathLike[str]) -> DeploySpec:
    """Read and validate a deploy spec.

    Parameters
    ----------
    source : DeploySpec, mapping, or path
        A path to a ``.json``, ``.yaml`` or ``.yml`` file, an already-parsed document (for instance
        ``Workspace().load_json("alarm-spec")``), or a :class:`DeploySpec` (returned unchanged).

    Returns
    -------
    DeploySpec

    Raises
    ------
    SpecError
        Listing every unknown key and invalid value, each named by its key path.
    FileNotFoundError
        When the path does not exist.

    Examples
    --------
    >>> spec = load_spec({"name": "payroll-reads", "log_group": "trail-logs",
    ...                   "pattern": '{ $.eventName = "GetObject" }',
    ...                   "metric": {"namespace": "S3Audit", "name": "PayrollReads"},
    ...                   "alarm": {"period": 300, "threshold": 1, "evaluation_periods": 1},
    ...                   "notify": {"emails": ["secops@example.com"]}})
    >>> spec.alarm_name, spec.alarm.datapoints_to_alarm
    ('payroll-reads', 1)
    """
    if isinstance(source, DeploySpec):
        return source
    origin: str | None = None
    if isinstance(source, Mapping):
        doc: Any = dict(source)
    else:
        path = Path(source)
        origin = str(path)
        text = path.read_text(encoding="utf-8")
        doc = _parse_text(text, path)
    return _validate(doc, origin)


def _parse_text(text: str, path: Path) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError([f"not valid JSON: {exc}"], str(path)) from exc
    import yaml  # lazy: YAML is a superset of JSON, so any other suffix is read as YAML

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError([f"not valid YAML: {exc}"], str(path)) from exc


class _Checker:
    """Collects problems instead of stopping at the first one."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def mapping(self, doc: Any, key: str, allowed: set[str], required: tuple[str, ...] = ()) -> dict[str, Any]:
        if not isinstance(doc, Mapping):
            self.add(key, f"must be a mapping, got {type(doc).__name__}")
            return {}
        for k in doc:
            if k not in allowed:
                self.add(f"{key}.{k}" if key else str(k), f"unknown key (allowed: {', '.join(sorted(allowed))})")
        for k in required:
            if k not in doc or doc[k] is None:
                self.add(f"{key}.{k}" if key else k, "required key is missing")
        return {k: v for k, v in doc.items() if k in allowed and v is not None}

    def string(self, value: Any, key: str, regex: re.Pattern[str] | None = None, hint: str = "") -> str | None:
        if not isinstance(value, str):
            self.add(key, f"must be a string, got {type(value).__name__} {value!r}")
            return None
        # fullmatch: with re.match, `$` also matches before a final newline ("payroll\n" was a valid name)
        if regex is not None and not regex.fullmatch(value):
            self.add(key, f"invalid value {value!r}{': ' + hint if hint else ''}")
            return None
        return value

    def named(self, value: Any, key: str, problem: Callable[[str], str | None]) -> str | None:
        """A string that ``problem`` (e.g. :func:`trail_name_problem`) finds nothing wrong with."""
        text = self.string(value, key)
        why = None if text is None else problem(text)
        if why:
            self.add(key, f"invalid value {text!r}: {why}")
            return None
        return text

    def integer(self, value: Any, key: str, minimum: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(key, f"must be an integer, got {type(value).__name__} {value!r}")
            return None
        if value < minimum:
            self.add(key, f"must be >= {minimum}, got {value}")
            return None
        return value


def _validate(doc: Any, origin: str | None) -> DeploySpec:
    c = _Checker()
    top = c.mapping(doc, "", _TOP_KEYS, _REQUIRED)
    if not isinstance(doc, Mapping):
        raise SpecError(c.problems, origin)

    name = c.string(top.get("name", ""), "name", _TOPIC_NAME,
                    "1-256 letters, digits, '-' or '_' (it names the SNS topic too)") if "name" in top else None
    log_group = c.string(top["log_group"], "log_group", _LOG_GROUP,
                         "1-512 characters from letters, digits and . - _ / #") if "log_group" in top else None
    pattern: str | None = None
    if "pattern" in top:
        pattern = c.string(top["pattern"], "pattern")
        if pattern is not None:
            if not pattern.strip():
                c.add("pattern", "must not be empty (an empty pattern matches every event)")
                pattern = None
            elif len(pattern) > 1024:
                c.add("pattern", f"is {len(pattern)} characters; CloudWatch allows at most 1024")
                pattern = None

    metric = None
    if "metric" in top:
        m = c.mapping(top["metric"], "metric", {"namespace", "name"}, ("namespace", "name"))
        parts = {}
        for k in ("namespace", "name"):
            if k in m:
                v = c.string(m[k], f"metric.{k}", _METRIC_PART, "1-255 printable ASCII characters")
                if v is not None and _METRIC_FORBIDDEN.search(v):
                    c.add(f"metric.{k}", f"invalid value {v!r}: ':', '*' and '$' are not allowed")
                    v = None
                if v is not None and k == "namespace" and v.startswith("AWS/"):
                    c.add("metric.namespace", f"invalid value {v!r}: the AWS/ prefix is reserved for AWS")
                    v = None
                parts[k] = v
        if all(parts.get(k) for k in ("namespace", "name")):
            metric = MetricSpec(parts["namespace"], parts["name"])

    alarm = _alarm(c, top["alarm"]) if "alarm" in top else None
    notify = _notify(c, top["notify"]) if "notify" in top else None

    names = c.mapping(top.get("names", {}), "names", {"filter", "alarm", "topic"})
    filter_name = alarm_name = topic_name = name
    if "filter" in names:
        filter_name = c.string(names["filter"], "names.filter", _FILTER_NAME, "1-512 characters without ':' or '*'")
    if "alarm" in names:
        alarm_name = c.string(names["alarm"], "names.alarm")
        if alarm_name is not None and (not 1 <= len(alarm_name) <= _ALARM_NAME_MAX or any(ord(ch) < 32 for ch in alarm_name)):
            c.add("names.alarm", f"invalid value {alarm_name!r}: 1-255 characters, no control characters")
            alarm_name = None
        elif alarm_name is not None and ("*" in alarm_name or "?" in alarm_name):
            # the topic policy lets CloudWatch publish for this alarm's ARN with ArnLike, where '*' and '?'
            # are wildcards: "pay*" would let every alarm of the account named pay... publish
            c.add("names.alarm", f"invalid value {alarm_name!r}: '*' and '?' would be wildcards in the topic "
                                 f"policy's aws:SourceArn condition")
            alarm_name = None
    if "topic" in names:
        topic_name = c.string(names["topic"], "names.topic", _TOPIC_NAME, "1-256 letters, digits, '-' or '_'")
        if notify is not None and notify.topic_arn:
            c.add("names.topic", "cannot be combined with notify.topic_arn (that topic already has a name)")
    if name is not None and "filter" not in names and not _FILTER_NAME.fullmatch(name):
        c.add("name", "cannot name the metric filter; set names.filter")
    if name is not None and "alarm" not in names and len(name) > _ALARM_NAME_MAX:
        # a valid topic name (<= 256) can be too long for the alarm: PutMetricAlarm would fail after the
        # topic and the filter were written
        c.add("name", f"is {len(name)} characters, too long to name the alarm (at most {_ALARM_NAME_MAX}); "
                      f"set names.alarm")

    tags = _tags(c, top.get("tags", {}))
    trail = _trail(c, top["trail"]) if "trail" in top else None
    test_events = c.string(top["test_events"], "test_events") if "test_events" in top else None
    if test_events is not None and not test_events.strip():
        # an empty path would silently fall back to the bundled samples (and not survive to_dict)
        c.add("test_events", "must be a path to a .jsonl[.gz] file, got an empty string")
        test_events = None

    if c.problems:
        raise SpecError(c.problems, origin)
    assert name and log_group and pattern and metric and alarm and notify and filter_name and alarm_name and topic_name
    return DeploySpec(
        name=name, log_group=log_group, pattern=pattern, metric=metric, alarm=alarm, notify=notify,
        filter_name=filter_name, alarm_name=alarm_name, topic_name=topic_name, tags=tags, trail=trail,
        test_events=test_events, source=origin,
    )


def _number(c: _Checker, value: Any, key: str) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        c.add(key, f"must be a number, got {type(value).__name__} {value!r}")
        return None
    if value != value or value in (float("inf"), float("-inf")):
        c.add(key, f"must be a finite number, got {value!r}")
        return None
    return float(value)


def _alarm(c: _Checker, doc: Any) -> AlarmSpec | None:
    a = c.mapping(doc, "alarm", {"period", "threshold", "evaluation_periods", "datapoints_to_alarm", "description"},
                  ("period", "threshold", "evaluation_periods"))
    period = c.integer(a["period"], "alarm.period", 60) if "period" in a else None
    if period is not None and period % 60:
        # Metric filters publish one-minute (standard resolution) data, so 10/20/30 s periods never fill.
        c.add("alarm.period", f"must be a multiple of 60 seconds (metric-filter metrics have one-minute resolution), got {period}")
        period = None
    threshold = _number(c, a["threshold"], "alarm.threshold") if "threshold" in a else None
    if threshold is not None and threshold <= 0:
        c.add("alarm.threshold", f"must be > 0 (Sum >= {threshold:g} is always true with default value 0), got {threshold:g}")
        threshold = None
    n = c.integer(a["evaluation_periods"], "alarm.evaluation_periods", 1) if "evaluation_periods" in a else None
    m = n
    if "datapoints_to_alarm" in a:
        m = c.integer(a["datapoints_to_alarm"], "alarm.datapoints_to_alarm", 1)
        if m is not None and n is not None and m > n:
            c.add("alarm.datapoints_to_alarm", f"must be <= evaluation_periods ({n}), got {m}")
            m = None
    if period is not None and n is not None:
        # PutMetricAlarm: Period x EvaluationPeriods <= 7 days, and <= 1 day when Period < 1 hour.
        limit = 86_400 if period < 3600 else 604_800
        if period * n > limit:
            c.add("alarm.evaluation_periods", f"period x evaluation_periods = {period * n} s exceeds AWS's limit of {limit} s")
            n = None
    description = None
    if "description" in a:
        description = c.string(a["description"], "alarm.description")
        if description is not None and len(description) > 1024:
            c.add("alarm.description", f"is {len(description)} characters; at most 1024")
            description = None
    if None in (period, threshold, n, m) or "description" in a and description is None:
        return None
    assert period is not None and threshold is not None and n is not None and m is not None
    return AlarmSpec(period, threshold, n, m, description or "")


def _notify(c: _Checker, doc: Any) -> NotifySpec | None:
    n = c.mapping(doc, "notify", {"emails", "topic_arn"})
    if isinstance(doc, Mapping) and not n.get("emails") and not n.get("topic_arn"):
        c.add("notify", "needs emails (s3audit creates a topic) or topic_arn (an existing topic)")
        return None
    if n.get("emails") and n.get("topic_arn"):
        c.add("notify", "give emails or topic_arn, not both: s3audit never changes a topic it did not create, "
                        "so subscribe addresses to an existing topic yourself")
        return None
    if "topic_arn" in n:
        arn = c.string(n["topic_arn"], "notify.topic_arn", _SNS_ARN, "expected arn:aws:sns:<region>:<account>:<name>")
        return NotifySpec((), arn) if arn else None
    emails = n.get("emails")
    if not isinstance(emails, list):
        c.add("notify.emails", f"must be a list of addresses, got {type(emails).__name__}")
        return None
    good: list[str] = []
    for i, e in enumerate(emails):
        v = c.string(e, f"notify.emails[{i}]", _EMAIL, "not an e-mail address")
        if v is not None:
            if v in good:
                c.add(f"notify.emails[{i}]", f"duplicate address {v!r}")
            else:
                good.append(v)
    if len(good) != len(emails):
        return None
    return NotifySpec(tuple(good), None)


def _tags(c: _Checker, doc: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(doc, Mapping):
        c.add("tags", f"must be a mapping of key: value, got {type(doc).__name__}")
        return ()
    out: list[tuple[str, str]] = []
    for k, v in doc.items():
        if not isinstance(k, str) or not 1 <= len(k) <= 128:
            c.add(f"tags.{k}", "tag keys are strings of 1-128 characters")
        elif k.startswith(("s3audit:", "aws:")):
            c.add(f"tags.{k}", "the s3audit: and aws: prefixes are reserved")
        elif not isinstance(v, str) or len(v) > 256:
            c.add(f"tags.{k}", f"tag values are strings of at most 256 characters, got {v!r}")
        else:
            out.append((k, v))
    if len(doc) > 48:
        c.add("tags", f"{len(doc)} tags; at most 48 (AWS allows 50, s3audit adds 2)")
    return tuple(sorted(out))


def _trail(c: _Checker, doc: Any) -> TrailSpec | None:
    t = c.mapping(doc, "trail", {"buckets", "create", "name", "log_bucket", "role_name"}, ("buckets",))
    buckets = t.get("buckets")
    ok = True
    if not isinstance(buckets, list) or not buckets:
        if "buckets" in t:
            c.add("trail.buckets", "must be a non-empty list of bucket names")
        return None
    for i, b in enumerate(buckets):
        if c.string(b, f"trail.buckets[{i}]", _BUCKET, "not an S3 bucket name") is None:
            ok = False
    create = t.get("create", False)
    if not isinstance(create, bool):
        c.add("trail.create", f"must be true or false, got {create!r}")
        ok = False
    name = c.named(t["name"], "trail.name", trail_name_problem) if "name" in t else None
    log_bucket = c.named(t["log_bucket"], "trail.log_bucket", bucket_name_problem) if "log_bucket" in t else None
    role = c.string(t["role_name"], "trail.role_name", _ROLE_NAME, "not an IAM role name") if "role_name" in t else None
    if create is False:
        for key in ("log_bucket", "role_name"):
            if key in t:
                c.add(f"trail.{key}", "only used with create: true")
                ok = False
    if not ok or ("name" in t and name is None) or ("log_bucket" in t and log_bucket is None) or ("role_name" in t and role is None):
        return None
    return TrailSpec(tuple(buckets), create, name, log_bucket, role)
