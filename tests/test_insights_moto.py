"""What moto can check for the Insights client: the session path, AWS_ENDPOINT_URL and the
unknown-log-group error (moto implements ResourceNotFound on StartQuery and DescribeLogGroups;
it does not implement Insights semantics, which the fake service covers)."""
from __future__ import annotations

from datetime import timedelta

import pytest

import s3audit
from s3audit.insights import LogGroupNotFound
from _insights_support import T0
from _moto_server import aws, moto_server  # noqa: F401


def test_unknown_log_group_via_a_session_on_moto(aws) -> None:  # noqa: F811
    logs = aws.client("logs")
    logs.create_log_group(logGroupName="present")
    with pytest.raises(LogGroupNotFound) as info:
        s3audit.pull_events(["present", "absent"], T0, T0 + timedelta(hours=1), session=aws, progress=False,
                            deadline=30)
    assert info.value.missing == ["absent"]
    assert info.value.code == "ResourceNotFoundException"
