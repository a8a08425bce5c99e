"""Compact synthetic CloudTrail S3 data events for the fake Logs Insights service.

:func:`synthetic_trail` draws event times (a background rate plus bursts), gives each event a log
timestamp = ``eventTime`` + a delivery delay of minutes (CloudTrail delivers late, and CloudWatch
Logs stamps the delivery time), and returns the timestamps plus a lazy message sequence: each
``@message`` is rendered on demand from a few small numpy arrays, so a million events cost tens
of megabytes, not gigabytes.

Examples
--------
>>> from datetime import datetime, timezone
>>> t0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
>>> ts, msgs = synthetic_trail(100, t0, t0.replace(day=2), seed=1)
>>> len(ts), len(msgs), msgs.event_time_s.min() >= t0.timestamp()
(100, 100, True)
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import overload

import numpy as np

_NAMES = ("GetObject", "PutObject", "HeadObject", "ListObjects", "DeleteObject", "GetObjectAcl")
_BUCKETS = ("sensitive-data", "team-share", "audit-logs")
_ROLES = ("etl", "analyst", "backup", "webapp")
_TEMPLATE = (
    '{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:%(role)s",'
    '"arn":"arn:aws:sts::123456789012:assumed-role/%(role)s/session","accountId":"123456789012"},'
    '"eventTime":"%(time)s","eventSource":"s3.amazonaws.com","eventName":"%(name)s",'
    '"awsRegion":"us-east-1","sourceIPAddress":"10.%(ip1)d.%(ip2)d.%(ip3)d","userAgent":"[aws-sdk-python/1.44]",'
    '"requestParameters":{"bucketName":"%(bucket)s","key":"data/%(key)08d.parquet"},'
    '"additionalEventData":{"bytesTransferredOut":%(bytes)d.0},"requestID":"R%(id)012X",'
    '"eventID":"%(seed)08x-0000-4000-8000-%(id)012x","readOnly":true,"eventType":"AwsApiCall",'
    '"managementEvent":false,"recipientAccountId":"123456789012","vpcEndpointId":"vpce-0a1b2c3d",'
    '"eventCategory":"Data"}'
)


# the same template with positional fields, for render_many
_TEMPLATE_POS = _TEMPLATE.replace("%(role)s", "%s").replace("%(time)s", "%s").replace("%(name)s", "%s") \
    .replace("%(ip1)d", "%d").replace("%(ip2)d", "%d").replace("%(ip3)d", "%d").replace("%(bucket)s", "%s") \
    .replace("%(key)08d", "%08d").replace("%(bytes)d", "%d").replace("%(id)012X", "%012X") \
    .replace("%(seed)08x", "%08x").replace("%(id)012x", "%012x")


# ... and JSON-escaped (the body of a JSON string literal): every interpolated value is plain
# ASCII without quotes, backslashes or control characters, so escaping the template escapes the text
_TEMPLATE_POS_JSON = json.encoder.encode_basestring(_TEMPLATE_POS)[1:-1]  # type: ignore[attr-defined]


class SyntheticTrail(Sequence[str]):
    """A lazy sequence of CloudTrail JSON messages (one per event) built from compact arrays."""

    def __init__(self, event_time_s: np.ndarray, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        n = len(event_time_s)
        self.seed = seed
        self.event_time_s = np.asarray(event_time_s, dtype=np.int64)
        self.name = rng.integers(0, len(_NAMES), n, dtype=np.uint8)
        self.bucket = rng.integers(0, len(_BUCKETS), n, dtype=np.uint8)
        self.role = rng.integers(0, len(_ROLES), n, dtype=np.uint8)
        self.ip = rng.integers(0, 2**24, n, dtype=np.uint32)
        self.key = rng.integers(0, 10**6, n, dtype=np.uint32)

    def __len__(self) -> int:
        return len(self.event_time_s)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        t = _iso(int(self.event_time_s[i]))
        ip = int(self.ip[i])
        return _TEMPLATE % {
            "role": _ROLES[self.role[i]], "time": t, "name": _NAMES[self.name[i]],
            "ip1": ip >> 16, "ip2": (ip >> 8) & 255, "ip3": ip & 255, "bucket": _BUCKETS[self.bucket[i]],
            "key": int(self.key[i]), "bytes": int(self.key[i]) % 5000, "id": i, "seed": self.seed,
        }

    def render_many(self, idx: Sequence[int], *, json_escaped: bool = False) -> list[str]:
        """``[self[i] for i in idx]``, faster (vectorised field extraction).

        ``json_escaped=True``: each text as the inside of a JSON string literal
        (``json.dumps(self[i])[1:-1]``), for a server writing JSON without re-escaping."""
        ix = np.asarray(idx, dtype=np.int64)
        if not len(ix):
            return []
        secs = self.event_time_s[ix]
        times = [t + "Z" for t in np.datetime_as_string(secs.astype("datetime64[s]"), unit="s").tolist()]
        ip = self.ip[ix].astype(np.int64)
        key = self.key[ix].astype(np.int64)
        cols = zip(self.role[ix].tolist(), times, self.name[ix].tolist(), (ip >> 16).tolist(), ((ip >> 8) & 255).tolist(),
                   (ip & 255).tolist(), self.bucket[ix].tolist(), key.tolist(), (key % 5000).tolist(), ix.tolist())
        tpl = _TEMPLATE_POS_JSON if json_escaped else _TEMPLATE_POS
        seed = self.seed
        return [tpl % (_ROLES[r], _ROLES[r], t, _NAMES[n], a, b, c, _BUCKETS[bk], k, by, i, seed, i)
                for r, t, n, a, b, c, bk, k, by, i in cols]

    def __iter__(self) -> Iterator[str]:
        for i in range(len(self)):
            yield self[i]

    def lengths(self) -> np.ndarray:
        """Byte length of every message, computed without rendering them all."""
        base = len(_TEMPLATE % {"role": "", "time": "2026-01-01T00:00:00Z", "name": "", "ip1": 0, "ip2": 0, "ip3": 0,
                                 "bucket": "", "key": 0, "bytes": 0, "id": 0, "seed": self.seed}) - 3 - 1
        role = np.array([len(r) for r in _ROLES])[self.role] * 2
        name = np.array([len(x) for x in _NAMES])[self.name]
        bucket = np.array([len(x) for x in _BUCKETS])[self.bucket]
        ip = self.ip
        ipl = sum(_digits((ip >> s) & 255) for s in (16, 8, 0))
        nbytes = _digits(self.key.astype(np.int64) % 5000)
        return base + role + name + bucket + ipl + nbytes


def _iso(s: int) -> str:
    import time as _time

    return _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime(s))


def _digits(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.int64)
    return np.where(a >= 1000, 4, np.where(a >= 100, 3, np.where(a >= 10, 2, 1)))


def synthetic_trail(
    n_events: int,
    start: datetime,
    end: datetime,
    *,
    bursts: Sequence[tuple[datetime, int, float]] = (),
    delay_s: tuple[float, float] = (60.0, 600.0),
    seed: int = 0,
) -> tuple[np.ndarray, SyntheticTrail]:
    """Events with ``eventTime`` in ``[start, end)`` plus bursts, and their delivery timestamps.

    Parameters
    ----------
    n_events
        Background events, uniform over the window.
    bursts
        ``(at, n, seconds)``: ``n`` more events uniform over ``[at, at + seconds)``.
    delay_s
        Delivery delay range: log timestamp = eventTime + uniform(delay) (millisecond resolution).

    Returns
    -------
    (timestamps_ms, messages)
        ``timestamps_ms[i]`` is the log timestamp of ``messages[i]``.
    """
    rng = np.random.default_rng(seed)
    s, e = int(start.timestamp()), int(end.timestamp())
    parts = [rng.integers(s, e, n_events, dtype=np.int64)]
    for at, n, seconds in bursts:
        a = int(at.timestamp())
        parts.append(rng.integers(a, a + max(1, int(seconds)), n, dtype=np.int64))
    event_s = np.concatenate(parts)
    delay_ms = rng.integers(int(delay_s[0] * 1000), int(delay_s[1] * 1000) + 1, len(event_s), dtype=np.int64)
    ts_ms = event_s * 1000 + delay_ms
    return ts_ms, SyntheticTrail(event_s, seed=seed)
