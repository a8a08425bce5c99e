"""``s3audit sources``: the per-source table on the command line."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from s3audit.cli import main
from tests._sources_support import REALWORLD

IBM = REALWORLD / "ibm-universal-connectors-s3" / "s3_cloudtrail_samples.jsonl"
pytestmark = pytest.mark.skipif(not IBM.exists(), reason="shared/realworld not present")


def test_sources_command_prints_the_table_and_writes_csv(tmp_path, capsys):
    out_csv = tmp_path / "labels.csv"
    assert main(["sources", str(IBM), "--csv", str(out_csv)]) == 0
    text = capsys.readouterr().out
    assert "== console:" in text and "== console-browser:" in text and "== aws-service:" in text
    assert "vpce-f40dc59d ×" in text
    labels = pd.read_csv(out_csv)
    assert set(labels["source"]) == {"console", "console-browser", "aws-service"}
    assert labels["source_reason"].str.startswith("Rule ").all()


def test_sources_command_baseline_created_then_compared(tmp_path, capsys):
    baseline = tmp_path / "baseline.json"
    otrf = REALWORLD / "otrf-security-datasets" / "ec2_proxy_s3_exfiltration_s3_records.jsonl"
    assert main(["sources", str(IBM), "--baseline", str(baseline)]) == 0
    assert "created" in capsys.readouterr().out
    assert json.loads(baseline.read_text())["sources"] == ["aws-service", "console",
                                                           "console-browser"]
    assert main(["sources", str(IBM), str(otrf), "--baseline", str(baseline)]) == 0
    text = capsys.readouterr().out
    assert "compared" in text and "ec2" in text and "1.2.3.4" in text
    assert "EC2 instance credentials used outside AWS: 9" in text


def test_sources_command_reports_bad_input(tmp_path, capsys):
    bad = tmp_path / "ranges.json"
    bad.write_text("not json")
    assert main(["sources", str(IBM), "--ip-ranges", str(bad)]) == 1
    assert "error:" in capsys.readouterr().err


def test_sources_command_by_a_missing_column_is_a_usage_error(capsys):
    # the bundled samples (no shared/ needed): the error names the column, no traceback, exit 2
    assert main(["sources", "--by", "vpcEndpointld"]) == 2
    captured = capsys.readouterr()
    assert "error: --by: cannot group by 'vpcEndpointld'" in captured.err
    assert "Traceback" not in captured.err and "== " not in captured.out
