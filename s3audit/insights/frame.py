"""Turn pulled ``@message`` strings into the event frame (the loader's schema).

The frame is built by :func:`s3audit.load_events` on the list of messages, so a pull and a file
load give identical columns and dtypes.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)


def event_time_ms(message: str) -> int | None:
    """``eventTime`` of a complete CloudTrail JSON message in epoch ms, None if the message does
    not parse as a complete JSON object (a truncated ``@message``)."""
    try:
        rec = json.loads(message)
    except ValueError:
        return None
    if not isinstance(rec, dict):
        return None
    t = rec.get("eventTime")
    if not isinstance(t, str):
        return -1  # complete JSON, but no usable eventTime: the loader decides
    try:
        return int(pd.Timestamp(t).timestamp() * 1000) if not t.endswith("Z") or len(t) != 20 else _fast_iso(t)
    except ValueError:
        return -1


def _fast_iso(t: str) -> int:
    # "YYYY-MM-DDTHH:MM:SSZ", CloudTrail's eventTime format
    import calendar

    return calendar.timegm((int(t[0:4]), int(t[5:7]), int(t[8:10]), int(t[11:13]), int(t[14:16]), int(t[17:19]), 0, 0, 0)) * 1000


def messages_to_frame(messages: Iterable[str], **options: Any) -> pd.DataFrame:
    """The event frame of ``messages`` via :func:`s3audit.load_events`."""
    try:
        from s3audit.loader import load_events  # noqa: PLC0415 - the loader is optional until it lands
    except ImportError:  # pragma: no cover - only while the loader is not in the tree
        log.warning("s3audit.loader is not available; using the minimal fallback frame builder")
        return _fallback_frame(messages)
    return load_events(iter(messages), **options)


def _fallback_frame(messages: Iterable[str]) -> pd.DataFrame:  # pragma: no cover - temporary
    from s3audit.flatten import flatten_record
    from s3audit.schema import EVENT_COLUMNS

    rows: list[dict[str, Any]] = []
    skipped = 0
    for m in messages:
        try:
            rec = json.loads(m)
        except ValueError:
            skipped += 1
            continue
        if not isinstance(rec, dict):
            skipped += 1
            continue
        flat = flatten_record(rec)
        flat["raw"] = m
        rows.append(flat)
    df = pd.DataFrame(rows)
    for col, dtype in EVENT_COLUMNS.items():
        if col not in df:
            df[col] = pd.NA
        if col == "eventTime":
            df[col] = pd.to_datetime(df[col], utc=True, errors="coerce").astype("datetime64[ns, UTC]")
        else:
            df[col] = df[col].astype(dtype)
    df.attrs["skipped"] = {"total": skipped}
    return df
