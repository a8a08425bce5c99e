"""Test doubles shipped with s3audit, so tests, benchmarks and users' own tests can share them.

- :class:`FakeLogsInsights`: a loopback CloudWatch Logs Insights service (real HTTP, awsJson1.1)
  with Insights semantics, paging, statistics, a concurrency limit and seeded fault injection.
- :func:`synthetic_trail`: compact synthetic CloudTrail S3 data events with delivery delays.

Importing this package does no work; the fake starts only when used.
"""
from __future__ import annotations

from s3audit.testing.fake_logs import FakeLogsInsights, Faults, ServiceError, format_timestamp
from s3audit.testing.synthetic import SyntheticTrail, synthetic_trail

__all__ = ["FakeLogsInsights", "Faults", "ServiceError", "SyntheticTrail", "format_timestamp", "synthetic_trail"]
