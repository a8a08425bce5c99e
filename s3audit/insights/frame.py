"""Helpers on pulled ``@message`` texts (the frame itself is built by
:class:`s3audit.loader.TextStream`, the loader's own code, so a pull and a file load give identical
columns and dtypes)."""
from __future__ import annotations

import json
import logging

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
