"""Write generated records in the three shapes AWS delivers them, byte-for-byte reproducibly.

* :func:`write_jsonl_gz` - one bare record per line, as CloudTrail sends them to CloudWatch Logs.
* :func:`write_trail_files` - CloudTrail's S3 log files: ``{"Records": [...]}`` gzip files under
  ``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`` named
  ``<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16 chars>.json.gz``.
* :func:`write_insights_export` - a Logs Insights ``GetQueryResults`` response.

Gzip members are written with ``mtime=0`` and no file name, JSON compactly with keys in record
order, so the same records always give the same bytes (for a given zlib).
"""
from __future__ import annotations

import base64
import csv
import datetime as dt
import gzip
import io
import json
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def dumps(record: dict[str, Any]) -> str:
    """Compact JSON as CloudTrail writes it (keys in insertion order, non-ASCII kept)."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def _gzip_bytes(text: str) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    return buf.getvalue()


def write_gzip_text(path: Path, text: str) -> int:
    """Write ``text`` gzip-compressed and deterministically; return the bytes written."""
    data = _gzip_bytes(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)


def write_jsonl_gz(path: Path, records: Iterable[dict[str, Any]]) -> int:
    """One bare record JSON per line (the CloudWatch Logs message), gzip-compressed."""
    return write_gzip_text(path, "".join(dumps(r) + "\n" for r in records))


def _parse(ts: str) -> dt.datetime:
    return dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def write_trail_files(root: Path, records: Sequence[dict[str, Any]], *, account: str, region: str,
                      rng: random.Random, batch_minutes: int = 60) -> list[Path]:
    """CloudTrail S3 log files, one per ``batch_minutes`` of eventTime.

    CloudTrail delivers a file every ~5 minutes; the samples batch per hour to keep the file
    count small (documented in the samples README). Each file is named after its delivery time
    (end of batch + 2..9 minutes) and filed under that UTC date, as CloudTrail does; records
    inside a file are not in time order (CloudTrail does not order them either).
    """
    batches: dict[int, list[dict[str, Any]]] = {}
    order: list[int] = []
    width = batch_minutes * 60
    for rec in records:
        ts = int(_parse(rec["eventTime"]).timestamp())
        key = ts // width
        if key not in batches:
            batches[key] = []
            order.append(key)
        batches[key].append(rec)
    paths: list[Path] = []
    for key in sorted(order):
        batch = list(batches[key])
        rng.shuffle(batch)
        delivered = dt.datetime.fromtimestamp((key + 1) * width + rng.randrange(120, 540),
                                              tz=dt.timezone.utc)
        suffix = "".join(rng.choice(_ALNUM) for _ in range(16))
        name = (f"{account}_CloudTrail_{region}_{delivered:%Y%m%dT%H%MZ}_{suffix}.json.gz")
        path = (root / "AWSLogs" / account / "CloudTrail" / region /
                f"{delivered:%Y}" / f"{delivered:%m}" / f"{delivered:%d}" / name)
        write_gzip_text(path, '{"Records":[' + ",".join(dumps(r) for r in batch) + "]}")
        paths.append(path)
    return paths


def insights_timestamp(event_time: str, delay_ms: int) -> str:
    """Logs Insights ``@timestamp`` (``YYYY-MM-DD HH:MM:SS.mmm``): the log event's ingestion
    time, which for CloudTrail is the delivery time, a little after ``eventTime``."""
    t = _parse(event_time) + dt.timedelta(milliseconds=delay_ms)
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def insights_export(records: Sequence[dict[str, Any]], *, scanned: Sequence[dict[str, Any]],
                    rng: random.Random, query_id: str) -> dict[str, Any]:
    """A ``GetQueryResults`` response for ``fields @timestamp, @message, @ptr | sort @timestamp
    desc`` holding ``records`` (every value a string, as the API returns).

    ``scanned`` are the records the query scanned (for ``statistics``).
    """
    rows = []
    for rec in records:
        message = dumps(rec)
        stamp = insights_timestamp(rec["eventTime"], rng.randrange(60_000, 300_000))
        ptr = base64.b64encode(rng.randbytes(96)).decode("ascii")
        rows.append((stamp, [{"field": "@timestamp", "value": stamp},
                             {"field": "@message", "value": message},
                             {"field": "@ptr", "value": ptr}]))
    rows.sort(key=lambda r: r[0], reverse=True)  # stable: ties keep input order
    scanned_bytes = sum(len(dumps(r).encode("utf-8")) for r in scanned)
    return {
        "queryId": query_id,
        "status": "Complete",
        "statistics": {
            "recordsMatched": float(len(records)),
            "recordsScanned": float(len(scanned)),
            "estimatedRecordsSkipped": 0.0,
            "bytesScanned": float(scanned_bytes),
            "estimatedBytesSkipped": 0.0,
            "logGroupsScanned": 1.0,
        },
        "results": [row for _, row in rows],
    }


def write_json(path: Path, obj: Any) -> int:
    """Pretty-printed (2-space) JSON with a trailing newline, as a saved API response."""
    text = json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    return len(text.encode("utf-8"))


def write_truth(path: Path, rows: Iterable[tuple[str, str, str]]) -> int:
    """``truth.csv.gz``: eventID, source, story."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("eventID", "source", "story"))
    writer.writerows(rows)
    return write_gzip_text(path, buf.getvalue())
