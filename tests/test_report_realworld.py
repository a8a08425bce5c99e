"""Real CloudTrail records (shared/realworld: test input only) produce a clean shared report."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from s3audit import classify, load_events
from s3audit.report import ReportInputs, build_report, collect_identifiers

REALWORLD = Path(os.environ.get("S3AUDIT_REALWORLD", Path(__file__).resolve().parents[2] / "shared" / "realworld"))
FILES = ["ibm-universal-connectors-s3/s3_cloudtrail_samples.jsonl",
         "otrf-security-datasets/ec2_proxy_s3_exfiltration_s3_records.jsonl"]


@pytest.mark.parametrize("name", FILES)
def test_real_records_report_is_clean(name: str, tmp_path: Path) -> None:
    path = REALWORLD / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    events = classify(load_events(path))
    originals = collect_identifiers(events)
    assert originals.get("account") and originals.get("bucket")
    result = build_report(ReportInputs(events=events, design={"pattern": '{ $.eventName = "GetObject" }'},
                                       source=name), tmp_path, key="k")
    html = result.path.read_text().lower()
    for kind in ("account", "bucket", "ip", "name", "arn"):
        for value in originals.get(kind, ()):
            assert value.lower() not in html, (kind, value)
    assert result.identifiers_checked >= sum(len(v) for v in originals.values())
