"""moto in server mode for the deploy tests: a real HTTP endpoint on 127.0.0.1, random port.

One ThreadedMotoServer per test session (``moto_server`` fixture); every test gets a fresh account
through moto's reset API (``aws`` fixture), a boto3 Session pointing at the server, and the
environment variables the CLI reads (``AWS_ENDPOINT_URL``, region, dummy credentials).

``aws_like_put_metric_filter()`` patches moto's in-process backend so that ``PutMetricFilter`` with an
existing name *replaces* the filter, as AWS does (moto 5.2.5 appends a duplicate; see
shared/reference/aws-apis.md section 3.3). Only the update tests use it; idempotency tests run on
plain moto, where a second put would be visible as a duplicate.
"""
from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

REGION = "us-east-1"
ACCOUNT = "123456789012"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def reset(url: str) -> None:
    req = urllib.request.Request(f"{url}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback only
        assert resp.status == 200


@pytest.fixture()
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A boto3 Session on a freshly reset moto account (env set for the CLI too)."""
    import boto3

    reset(moto_server)
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    # TestMetricFilter is a 500 in moto: do not let botocore retry it with back-off
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    return boto3.Session(region_name=REGION)


@contextmanager
def aws_like_put_metric_filter() -> Iterator[None]:
    """Make moto's PutMetricFilter replace a same-named filter, as AWS does."""
    from moto.logs.metric_filters import MetricFilters

    original = MetricFilters.add_filter

    def add_filter(self: Any, filter_name: str, filter_pattern: str, log_group_name: str, metric_transformations: Any) -> None:
        self.metric_filters = [f for f in self.metric_filters
                               if not (f["filterName"] == filter_name and f["logGroupName"] == log_group_name)]
        original(self, filter_name, filter_pattern, log_group_name, metric_transformations)

    MetricFilters.add_filter = add_filter  # type: ignore[method-assign]
    try:
        yield
    finally:
        MetricFilters.add_filter = original  # type: ignore[method-assign]


class CallRecorder:
    """Record every AWS operation a session's clients make (botocore before-call event)."""

    def __init__(self, session: Any) -> None:
        self.calls: list[str] = []
        session.events.register("before-call.*.*", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.calls.append(f"{model.service_model.service_name}:{model.name}")

    @property
    def writes(self) -> list[str]:
        reads = ("Describe", "Get", "List", "Head", "TestMetricFilter")
        return [c for c in self.calls if not c.split(":", 1)[1].startswith(reads)]
