"""Time helpers, one per unit: StartQuery takes epoch *seconds*, results carry milliseconds."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any


def require_aware(value: Any, name: str) -> datetime:
    """``value`` as a tz-aware UTC datetime; naive datetimes are rejected (``ValueError``).

    A naive datetime would be read as local time and shift the window by the UTC offset
    (aws/aws-sdk-pandas#3438), so s3audit refuses to guess.
    """
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a timezone-aware datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} is a naive datetime; pass a timezone-aware one, e.g. "
                         f"datetime(..., tzinfo=timezone.utc)")
    return value.astimezone(timezone.utc)


def floor_epoch_seconds(dt: datetime) -> int:
    """Whole epoch seconds at or before ``dt`` (StartQuery's unit)."""
    return math.floor(dt.timestamp())


def ceil_epoch_seconds(dt: datetime) -> int:
    """Whole epoch seconds at or after ``dt``."""
    return math.ceil(dt.timestamp())


def from_epoch_seconds(s: int | float) -> datetime:
    return datetime.fromtimestamp(s, tz=timezone.utc)


def from_epoch_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms // 1000, tz=timezone.utc) + timedelta(milliseconds=ms % 1000)


def parse_timestamp_ms(value: str) -> int:
    """An Insights ``@timestamp`` value as epoch milliseconds.

    AWS returns ``"YYYY-MM-DD HH:MM:SS.mmm"`` (UTC); moto returns epoch milliseconds as a string;
    both are accepted.
    """
    if value.isdigit():
        return int(value)
    date, _, clock = value.partition(" ")
    hms, _, frac = clock.partition(".")
    y, mo, d = (int(x) for x in date.split("-"))
    h, mi, s = (int(x) for x in hms.split(":"))
    base = datetime(y, mo, d, h, mi, s, tzinfo=timezone.utc)
    ms = int((frac + "000")[:3]) if frac else 0
    return int(base.timestamp()) * 1000 + ms


def as_seconds(value: float | timedelta | None, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return float(value)


def iso(dt: datetime) -> str:
    """ISO 8601 text of a UTC datetime (the ledger stores text so ``df.to_parquet`` keeps it)."""
    return dt.astimezone(timezone.utc).isoformat()


def iso_seconds(s: int) -> str:
    return iso(from_epoch_seconds(s))


def iso_ms(ms: int) -> str:
    return iso(from_epoch_ms(ms))
