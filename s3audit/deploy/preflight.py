"""Pre-flight checks: run before anything is written, reported in the plan.

* the pattern compiles with s3audit's local engine;
* the log group exists and has room for one more metric filter (AWS: 100 per log group);
* with a ``trail`` block: a logging trail delivers S3 data events for every bucket to this group;
* where the service offers it, ``TestMetricFilter`` on sample events agrees with the local engine.

The selector analysis (:func:`selector_coverage`) and the agreement logic
(:func:`compare_matches`) are pure functions.
"""
from __future__ import annotations

import gzip
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from s3audit.deploy.aws import Aws, error_code, http_status
from s3audit.deploy.spec import DeploySpec

log = logging.getLogger(__name__)

METRIC_FILTER_LIMIT = 100      # metric filters per log group (PutMetricFilter documentation)
TEST_EVENTS_LIMIT = 50         # TestMetricFilter accepts 1-50 messages
SCAN_LIMIT = 5000              # sample lines read to pick test events

OK, FAILED, SKIPPED, WARNING = "ok", "failed", "skipped", "warning"


@dataclass(frozen=True)
class Check:
    """One pre-flight result. ``status`` is ``ok``, ``failed`` (blocks apply), ``warning`` or ``skipped``."""

    name: str
    status: str
    detail: str

    @property
    def blocking(self) -> bool:
        """A failed check blocks :meth:`Plan.apply`."""
        return self.status == FAILED

    def to_dict(self) -> dict[str, str]:
        """JSON-ready: ``check``, ``status``, ``detail``."""
        return {"check": self.name, "status": self.status, "detail": self.detail}


# ------------------------------------------------------------------------------ local engine
def local_matcher(pattern: str) -> Callable[[str], bool]:
    """Compile ``pattern`` with :func:`s3audit.compile_pattern` and return ``message -> bool``.

    Raises the engine's ``PatternError`` when the pattern does not compile.
    """
    from s3audit import compile_pattern  # lazy: the engine lives in s3audit.pattern

    compiled = compile_pattern(pattern)

    def matches(message: str) -> bool:
        return bool(compiled.matches(message))

    return matches


def check_pattern(spec: DeploySpec) -> Check:
    """The spec's pattern compiles with the local engine (else ``failed``, with the error position)."""
    try:
        from s3audit.pattern import PatternError
    except ImportError as exc:  # the engine is part of the package; its absence is a broken install
        return Check("pattern compiles locally", FAILED, f"local filter-pattern engine unavailable: {exc}")
    try:
        local_matcher(spec.pattern)
    except PatternError as exc:  # typed, with position and caret message
        return Check("pattern compiles locally", FAILED, str(exc).replace("\n", " | "))
    return Check("pattern compiles locally", OK, f"{len(spec.pattern)} characters")


# ------------------------------------------------------------------------------ log group
def find_log_group(aws: Aws, name: str) -> dict[str, Any] | None:
    """The log group named exactly ``name``, or None."""
    for group in aws.paginate("logs", "describe_log_groups", "logGroups", resource=name, logGroupNamePrefix=name):
        if group.get("logGroupName") == name:
            return group
    return None


def metric_filters(aws: Aws, log_group: str) -> list[dict[str, Any]]:
    """Every metric filter of the group (paged)."""
    return aws.paginate("logs", "describe_metric_filters", "metricFilters", resource=log_group, logGroupName=log_group)


def check_log_group(group: dict[str, Any] | None, name: str) -> Check:
    """``failed`` with a hint when :func:`find_log_group` found nothing."""
    if group is None:
        return Check("log group exists", FAILED,
                     f"log group {name!r} not found in this account and region; check log_group, the region "
                     f"(AWS_REGION) and that the trail delivers to CloudWatch Logs")
    cls = group.get("logGroupClass")
    if cls not in (None, "STANDARD"):
        # CreateLogGroup documentation: "The Standard log class supports all CloudWatch Logs features";
        # the other classes support a subset. Which subset is not in the API model, so warn, do not block.
        return Check("log group exists", WARNING,
                     f"{name} is in the {cls} log class: only the Standard class supports all CloudWatch Logs features "
                     f"(see AWS's 'Log classes' page); metric filters may not work on it")
    return Check("log group exists", OK, name)


def check_filter_count(filters: Sequence[dict[str, Any]], filter_name: str) -> Check:
    """Room for one more filter, unless ours already exists (an update adds none)."""
    existing = sum(1 for f in filters if f.get("filterName") == filter_name)
    count = len(filters)
    if existing or count < METRIC_FILTER_LIMIT:
        return Check("metric-filter limit", OK, f"{count} of {METRIC_FILTER_LIMIT} metric filters on the log group")
    return Check("metric-filter limit", FAILED,
                 f"the log group already has {count} metric filters (AWS limit {METRIC_FILTER_LIMIT}); remove one first")


def metric_publishers(aws: Aws, spec: DeploySpec) -> list[dict[str, Any]]:
    """Every metric filter of this Region (any name, any log group) that publishes the spec's metric.

    ``DescribeMetricFilters`` with ``metricName`` + ``metricNamespace`` searches every log group.
    """
    return aws.paginate("logs", "describe_metric_filters", "metricFilters",
                        resource=f"{spec.metric.namespace}/{spec.metric.name}",
                        metricNamespace=spec.metric.namespace, metricName=spec.metric.name)


def check_metric_unshared(spec: DeploySpec, others: Sequence[dict[str, Any]]) -> Check:
    """No filter but the spec's own publishes its metric (``others``: the publishers that are not ours).

    The alarm sums the metric, so a second filter publishing it would make the alarm fire on that
    filter's matches too (and a filter left behind by a rename of ``names.filter`` would count every
    event twice).
    """
    name = "metric used by one filter only"
    metric = f"{spec.metric.namespace}/{spec.metric.name}"
    if others:
        listed = ", ".join(f"{f.get('filterName')!r} on {f.get('logGroupName')}" for f in others[:5])
        more = f" and {len(others) - 5} more" if len(others) > 5 else ""
        return Check(name, FAILED, f"{metric} is already published by {listed}{more}: the alarm would count that "
                                   f"filter's matches too. Remove it (e.g. the filter of an old names.filter) or "
                                   f"choose another metric")
    return Check(name, OK, f"{metric} is published by no other filter")


# ------------------------------------------------------------------------------ trail coverage
FULL, PARTIAL, NONE = "full", "partial", "none"


def selector_coverage(selectors: dict[str, Any], bucket: str, partition: str = "aws") -> tuple[str, str]:
    """How a trail's event selectors cover *reads* of objects in ``bucket``.

    Parameters
    ----------
    selectors : dict
        A ``GetEventSelectors`` response (``EventSelectors`` or ``AdvancedEventSelectors``).

    Returns
    -------
    (coverage, reason)
        ``coverage`` is ``"full"``, ``"partial"`` (a prefix, some event names, ...) or ``"none"``.

    Examples
    --------
    >>> selector_coverage({"EventSelectors": [{"ReadWriteType": "All", "DataResources": [
    ...     {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::payroll/"]}]}]}, "payroll")
    ('full', 'basic selector: arn:aws:s3:::payroll/ (All)')
    """
    root = f"arn:{partition}:s3:::{bucket}/"
    best: tuple[str, str] = (NONE, "no selector logs S3 object data events for this bucket")
    rank = {NONE: 0, PARTIAL: 1, FULL: 2}

    def consider(result: tuple[str, str]) -> None:
        nonlocal best
        if rank[result[0]] > rank[best[0]]:
            best = result

    for sel in selectors.get("EventSelectors") or []:
        rw = sel.get("ReadWriteType", "All")
        for res in sel.get("DataResources") or []:
            if res.get("Type") != "AWS::S3::Object":
                continue
            for value in res.get("Values") or []:
                if value in (f"arn:{partition}:s3", f"arn:{partition}:s3:::") or root.startswith(value) and value.endswith("/"):
                    cov = FULL
                elif value.startswith(root):
                    cov = PARTIAL
                else:
                    continue
                if rw == "WriteOnly":
                    consider((NONE, f"basic selector {value} logs writes only"))
                    continue
                consider((cov, f"basic selector: {value} ({rw})" if cov == FULL else f"basic selector covers only the prefix {value}"))
    for sel in selectors.get("AdvancedEventSelectors") or []:
        consider(_advanced_coverage(sel, root, partition))
    return best


def _advanced_coverage(sel: dict[str, Any], root: str, partition: str) -> tuple[str, str]:
    """Coverage by one advanced selector (its field selectors are ANDed; selectors are ORed)."""
    fields: dict[str, list[dict[str, Any]]] = {}
    for fs in sel.get("FieldSelectors") or []:
        fields.setdefault(fs.get("Field", ""), []).append(fs)
    name = sel.get("Name") or "advanced selector"

    def values(field: str, op: str) -> list[str]:
        return [v for fs in fields.get(field, []) for v in fs.get(op) or []]

    if "Data" not in values("eventCategory", "Equals"):
        return NONE, f"{name}: not a data-event selector"
    if "AWS::S3::Object" not in values("resources.type", "Equals"):
        return NONE, f"{name}: does not select AWS::S3::Object"
    if values("readOnly", "Equals") == ["false"]:
        return NONE, f"{name}: logs writes only (readOnly = false)"
    if any(root.startswith(v) for v in values("resources.ARN", "NotStartsWith")):
        return NONE, f"{name}: excludes the bucket (resources.ARN NotStartsWith)"
    coverage, why = FULL, f"{name}: all S3 objects"
    starts = values("resources.ARN", "StartsWith")
    equals = values("resources.ARN", "Equals")
    if starts or equals:
        if any(root.startswith(v) for v in starts):
            why = f"{name}: StartsWith {next(v for v in starts if root.startswith(v))}"
        elif any(v.startswith(root) for v in starts + equals):
            coverage, why = PARTIAL, f"{name}: only some objects of the bucket (resources.ARN condition)"
        else:
            return NONE, f"{name}: resources.ARN does not include the bucket"
    # anything else that narrows the events: an excluded prefix or object of this bucket, a suffix
    # condition, or any condition on another field (eventName NotEquals GetObject, userIdentity.arn, ...)
    narrowing = [f"resources.ARN {op}" for op in ("NotStartsWith", "NotEquals")
                 if any(v.startswith(root) for v in values("resources.ARN", op))]
    narrowing += [f"resources.ARN {op}" for op in ("EndsWith", "NotEndsWith") if values("resources.ARN", op)]
    narrowing += [f for f in fields if f not in ("eventCategory", "resources.type", "readOnly", "resources.ARN")
                  and not (f == "eventSource" and values(f, "Equals") == ["s3.amazonaws.com"] and len(fields[f]) == 1)]
    if narrowing and coverage == FULL:
        coverage, why = PARTIAL, f"{name}: limited by {', '.join(narrowing)}"
    return coverage, why


def check_trail(aws: Aws, spec: DeploySpec) -> Check:
    """A logging trail in this Region delivers S3 data events for every bucket to the log group."""
    assert spec.trail is not None
    name = "trail delivers S3 data events"
    trails = aws.call("cloudtrail", "describe_trails", includeShadowTrails=False).get("trailList", [])
    # the exact group ARN (with or without ":*"): a group of the same name in another account or Region
    # receives the events, this one does not
    group_arn = f"arn:{aws.partition}:logs:{aws.region}:{aws.account}:log-group:{spec.log_group}"
    feeding = [t for t in trails if (t.get("CloudWatchLogsLogGroupArn") or "").removesuffix(":*") == group_arn]
    if not feeding:
        return Check(name, FAILED, f"no trail in this Region delivers to log group {spec.log_group!r}; "
                                   f"set trail.create: true to have s3audit create one, or configure it yourself")
    uncovered: list[str] = []
    partial: list[str] = []
    covered_by: dict[str, str] = {}
    for trail in feeding:
        arn = trail.get("TrailARN") or trail["Name"]
        status = aws.call("cloudtrail", "get_trail_status", resource=arn, Name=arn)
        if not status.get("IsLogging"):
            continue
        selectors = aws.call("cloudtrail", "get_event_selectors", resource=arn, TrailName=arn)
        for bucket in spec.trail.buckets:
            cov, why = selector_coverage(selectors, bucket, aws.partition)
            if cov == FULL:
                covered_by[bucket] = f"{trail['Name']} ({why})"
            elif cov == PARTIAL:
                partial.append(f"{bucket}: {why}")
    for bucket in spec.trail.buckets:
        if bucket not in covered_by:
            uncovered.append(bucket)
    names = ", ".join(t["Name"] for t in feeding)
    if uncovered:
        extra = f" (partly: {'; '.join(partial)})" if partial else ""
        return Check(name, FAILED, f"trail(s) {names} deliver to the group, but no logging trail records S3 object "
                                   f"reads for {', '.join(uncovered)}{extra}")
    return Check(name, OK, "; ".join(f"{b}: {w}" for b, w in covered_by.items()))


# ------------------------------------------------------------------------------ TestMetricFilter
def read_sample_messages(path: str | Path, limit: int = SCAN_LIMIT) -> list[str]:
    """Log-event messages, one JSON document per line (``.jsonl`` or ``.jsonl.gz``), first ``limit``."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    out: list[str] = []
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        for line in fh:
            line = line.strip()
            if line:
                out.append(line)
            if len(out) >= limit:
                break
    return out


def pick_test_messages(messages: Iterable[str], matches: Callable[[str], bool],
                       limit: int = TEST_EVENTS_LIMIT) -> list[str]:
    """Up to ``limit`` distinct messages, half (at most) matching locally, the rest not matching."""
    hit: list[str] = []
    miss: list[str] = []
    seen: set[str] = set()
    for m in messages:
        if m in seen:
            continue
        seen.add(m)
        (hit if matches(m) else miss).append(m)
    take_hit = hit[: limit // 2]
    picked = take_hit + miss[: limit - len(take_hit)]
    if len(picked) < limit:
        picked += hit[len(take_hit): len(take_hit) + limit - len(picked)]
    return picked


def compare_matches(messages: Sequence[str], service_response: dict[str, Any],
                    matches: Callable[[str], bool]) -> tuple[list[str], list[str]]:
    """Messages matched only by the service, and only by the local engine.

    ``service_response`` is a ``TestMetricFilter`` response: ``{"matches": [{"eventNumber",
    "eventMessage", "extractedValues"}]}``. Matches are identified by message text, so the
    numbering base of ``eventNumber`` does not matter.
    """
    service = Counter(m.get("eventMessage", "") for m in service_response.get("matches", []))
    local = Counter(m for m in messages if matches(m))
    only_service = sorted((service - local).elements())
    only_local = sorted((local - service).elements())
    return only_service, only_local


def default_test_events(spec: DeploySpec) -> Path | None:
    """``spec.test_events``, else the bundled ``data/samples/events.jsonl.gz`` when present."""
    from s3audit.paths import SAMPLES_DIR

    if spec.test_events:
        return Path(spec.test_events)
    candidate = SAMPLES_DIR / "events.jsonl.gz"
    return candidate if candidate.exists() else None


def check_test_metric_filter(aws: Aws, spec: DeploySpec, messages: Sequence[str] | None = None) -> Check:
    """Run TestMetricFilter on sample events and compare with the local engine.

    A service without TestMetricFilter (moto answers HTTP 500 / not implemented) gives a
    ``skipped`` check that says so; disagreement is ``failed`` and lists what differs.
    """
    name = "TestMetricFilter agrees with local engine"
    from s3audit.pattern import PatternError

    try:
        matches = local_matcher(spec.pattern)
    except PatternError as exc:
        return Check(name, SKIPPED, f"pattern does not compile locally ({exc})")
    if messages is None:
        source = default_test_events(spec)
        if source is None:
            return Check(name, SKIPPED, "no sample events to test with (set test_events in the spec)")
        if not source.exists():  # only an explicit test_events path can be missing
            return Check(name, FAILED, f"test_events file {str(source)!r} not found")
        messages = read_sample_messages(source)
    picked = pick_test_messages(messages, matches)
    if not picked:
        return Check(name, SKIPPED, "no sample events to test with")
    try:
        response = aws.call("logs", "test_metric_filter", allow=_NOT_OFFERED,
                            filterPattern=spec.pattern, logEventMessages=list(picked))
    except ClientError as exc:
        return Check(name, SKIPPED, f"the service does not offer TestMetricFilter here "
                                    f"({error_code(exc) or 'HTTP ' + str(http_status(exc))}; moto does not implement it), "
                                    f"so only the local engine checked the pattern")
    only_service, only_local = compare_matches(picked, response, matches)
    n_local = sum(1 for m in picked if matches(m))
    if only_service or only_local:
        return Check(name, FAILED, f"on {len(picked)} sample events: {len(only_service)} matched only by CloudWatch, "
                                   f"{len(only_local)} only locally; first: {(only_service + only_local)[0][:200]}")
    return Check(name, OK, f"{len(picked)} sample events, {n_local} matching, identical results")


_NOT_OFFERED = ("InternalFailure", "InternalServerError", "InternalError", "NotImplemented", "NotImplementedError",
                "UnknownOperationException", "InvalidAction", "500")

