"""Check a deployment against its spec, optionally with a clearly labelled test notification."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from s3audit.deploy import state as S
from s3audit.deploy.aws import Aws
from s3audit.deploy.errors import ReadBackError
from s3audit.deploy.plan import KEEP, NOTHING, SUBSCRIPTION, Plan, plan, read_back_filter
from s3audit.deploy.preflight import WARNING
from s3audit.deploy.spec import DeploySpec, load_spec

if TYPE_CHECKING:  # pragma: no cover
    import boto3

log = logging.getLogger(__name__)

TEST_REASON = ("s3audit verify: TEST NOTIFICATION - this is a test of the alarm's e-mail path, "
               "not a detection. The alarm state is restored right after.")


@dataclass
class VerifyReport:
    """``ok`` is True when every resource matches the spec; ``problems`` says what does not."""

    name: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    info: list[str] = field(default_factory=list)
    plan: Plan | None = None

    def __str__(self) -> str:
        head = f"verify {self.name!r}: " + ("OK, the deployment matches the spec" if self.ok else "MISMATCH")
        return "\n".join([head] + [f"  problem: {p}" for p in self.problems] + [f"  {i}" for i in self.info])

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "problems": self.problems, "info": self.info}


def verify(spec: DeploySpec | Any, *, session: boto3.Session | None = None,
           send_test_notification: bool = False) -> VerifyReport:
    """Check that what is deployed matches the spec.

    Every resource must plan as ``nothing`` (present and equal to the spec), the metric filter's
    pattern text must read back exactly, and pre-flight checks must pass. E-mail subscriptions
    that are still pending confirmation are reported (they receive nothing yet).

    Parameters
    ----------
    send_test_notification : bool
        Also set the alarm to ``ALARM`` with a reason that says TEST, so the topic sends an e-mail,
        then set it back to its previous state. This is a test: it sends a real e-mail to every
        confirmed subscriber. (moto does not publish on SetAlarmState.)

    Returns
    -------
    VerifyReport

    Examples
    --------
    >>> print(verify("alarm-spec.yaml"))             # doctest: +SKIP
    """
    spec = load_spec(spec)
    aws = Aws(session)
    current = plan(spec, session=aws.session)
    report = VerifyReport(spec.name, True, plan=current)
    for check in current.checks:
        if check.blocking:
            report.problems.append(f"pre-flight {check.name}: {check.detail}")
        elif check.status == WARNING:
            report.info.append(f"warning: {check.name}: {check.detail}")
    for change in current.changes:
        if change.resource_type == SUBSCRIPTION and change.action == KEEP:
            # an unconfirmed address no longer in the spec: it receives nothing, Unsubscribe cannot take
            # its "PendingConfirmation" ARN and AWS drops it after 3 days - not a defect of the deployment
            report.info.append(f"subscription {change.name} is pending confirmation and no longer in the spec: "
                               f"it receives nothing, and AWS removes it after 3 days")
        elif change.action != NOTHING:
            detail = "; ".join(f"{f.field}: {f.current!r} (spec: {f.desired!r})" for f in change.fields)
            report.problems.append(f"{change.resource_type} {change.name}: would {change.action}"
                                   + (f" ({detail})" if detail else ""))
        elif change.resource_type == SUBSCRIPTION and change.note == "pending confirmation":
            report.info.append(f"subscription {change.name} is pending confirmation: it receives nothing until confirmed")
    if not any(c.action != NOTHING for c in current.changes if c.resource_type == "AWS::Logs::MetricFilter"):
        try:
            read_back_filter(aws, spec)
            report.info.append("metric filter pattern reads back exactly as in the spec")
        except ReadBackError as exc:
            report.problems.append(str(exc))
    report.ok = not report.problems
    if send_test_notification:
        if not report.ok:
            report.info.append("test notification NOT sent: the deployment does not match the spec")
        else:
            report.info.append(send_test(aws, spec))
    return report


def send_test(aws: Aws, spec: DeploySpec) -> str:
    """Set the alarm to ALARM (reason says TEST), then restore its previous state.

    An alarm already in ``ALARM`` is left alone: a real detection is in progress, setting ALARM
    again is no state change (AWS sends nothing) and "restoring" it to OK would hide the detection.

    Returns
    -------
    str
        One line saying what was done (or why nothing was), for :class:`VerifyReport` ``info``.
    """
    alarm = S.read_alarm(aws, spec.alarm_name)
    previous = None if alarm is None else alarm.get("StateValue")
    if previous not in ("OK", "INSUFFICIENT_DATA"):
        return (f"test notification NOT sent: alarm {spec.alarm_name!r} is in state {previous} now (a real "
                f"detection?); its state was left unchanged")
    aws.call("cloudwatch", "set_alarm_state", resource=spec.alarm_name, AlarmName=spec.alarm_name,
             StateValue="ALARM", StateReason=TEST_REASON)
    aws.call("cloudwatch", "set_alarm_state", resource=spec.alarm_name, AlarmName=spec.alarm_name,
             StateValue=previous, StateReason="s3audit verify: test notification over, state restored")
    return (f"TEST notification: alarm {spec.alarm_name!r} set to ALARM (reason marked TEST) and restored to {previous}; "
            f"confirmed subscribers get a test e-mail (the alarm re-evaluates normally at its next period)")
