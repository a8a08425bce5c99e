"""``s3audit summary``: the short report ``make demo`` prints."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from s3audit.cli import main
from s3audit.commands.summary import DEFAULT_SOURCE
from tests._loader_support import line, management, network_copy, record


def _events_file(tmp_path: Path) -> Path:
    recs = [record(f"g-{i}") for i in range(3)]
    recs[2]["requestParameters"]["bucketName"] = "other-bucket"
    recs[2]["eventTime"] = "2026-11-03T12:30:00Z"
    put = record("p-1", eventName="PutObject")
    path = tmp_path / "events.jsonl.gz"
    lines = [line(r) for r in recs + [put, network_copy("n-1"), management("m-1"), recs[0]]] + ["{broken"]
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


def test_summary_prints_counts_span_buckets_and_filters(tmp_path: Path, capsys) -> None:
    rc = main(["summary", str(_events_file(tmp_path))])
    out = capsys.readouterr().out
    assert rc == 0
    assert "events:      4  (read 7 from 1 source(s))" in out
    assert "time span:   2026-11-02 10:00:00 .. 2026-11-03 12:30:00 UTC (1 days 02:30:00)" in out
    assert "buckets:     2" in out
    assert "         3  acme-data" in out and "         1  other-bucket" in out
    assert "         3  GetObject" in out and "         1  PutObject" in out
    assert "filtered:    network_activity 1, non_s3 0, management 1, duplicates 1" in out
    assert "skipped:     1 bad input(s)" in out and "malformed JSON" in out


def test_summary_keep_all(tmp_path: Path, capsys) -> None:
    assert main(["summary", "--keep", "all", str(_events_file(tmp_path))]) == 0
    assert "events:      7" in capsys.readouterr().out


def test_summary_strict_and_missing_path_fail_cleanly(tmp_path: Path, capsys) -> None:
    assert main(["summary", "--strict", str(_events_file(tmp_path))]) == 1
    assert "malformed JSON" in capsys.readouterr().err
    assert main(["summary", str(tmp_path / "nope.jsonl")]) == 1
    assert "no such file" in capsys.readouterr().err


@pytest.mark.skipif(not DEFAULT_SOURCE.exists(), reason="data/samples not generated yet")
def test_summary_defaults_to_samples(capsys) -> None:
    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    with gzip.open(DEFAULT_SOURCE, "rt") as f:
        recs = [json.loads(x) for x in f if x.strip()]
    data = [r for r in recs if r.get("eventCategory") == "Data" and r["eventSource"] == "s3.amazonaws.com"]
    assert f"events:      {len(data):,}" in out
