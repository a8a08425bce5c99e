"""Notebook 01's live branch: pull from a log group (the loopback fake Logs Insights service)."""
from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from s3audit.paths import NOTEBOOKS_DIR, SAMPLES_DIR

SAMPLES = SAMPLES_DIR / "events.jsonl.gz"
pytestmark = [pytest.mark.notebook,
              pytest.mark.skipif(not SAMPLES.exists(), reason="data/samples not generated")]


def test_notebook_01_pulls_a_log_group_and_02_classifies_it(tmp_path, monkeypatch):
    papermill = pytest.importorskip("papermill")
    from s3audit.testing import FakeLogsInsights
    from s3audit.workspace import Workspace

    lines = [line for line in gzip.decompress(SAMPLES.read_bytes()).decode().splitlines() if line]
    times = pd.to_datetime([json.loads(line)["eventTime"] for line in lines], utc=True)
    stamps = (times.as_unit("ms").asi8 + 120_000).tolist()
    start = "2026-10-14T00:00:00Z"
    end = "2026-10-15T00:00:00Z"
    expected = sum(start <= json.loads(line)["eventTime"] < end for line in lines)
    with FakeLogsInsights() as fake:
        fake.put_events("aws-cloudtrail-logs", stamps, lines)
        # the kernel inherits these: boto3 then talks to the fake with dummy credentials
        for key, value in {"AWS_ENDPOINT_URL": fake.endpoint_url, "AWS_DEFAULT_REGION": "us-east-1",
                           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"
                           }.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        workdir = tmp_path / "work"
        papermill.execute_notebook(
            str(NOTEBOOKS_DIR / "01_pull_events.ipynb"), str(tmp_path / "01.ipynb"),
            parameters={"SOURCE": "aws-cloudtrail-logs", "START": start, "END": end,
                        "WORKDIR": str(workdir)},
            cwd=str(NOTEBOOKS_DIR), kernel_name="python3", progress_bar=False)
    pulled = Workspace(workdir).load_frame("events")
    # NetworkActivity copies and management events in the log group are filtered by the loader
    data = [line for line in lines if start <= json.loads(line)["eventTime"] < end
            and json.loads(line).get("eventCategory") == "Data"]
    assert 0 < len(data) <= expected
    assert len(pulled) == len(data)
    assert set(pulled["eventID"]) == {json.loads(line)["eventID"] for line in data}
    papermill.execute_notebook(
        str(NOTEBOOKS_DIR / "02_access_sources.ipynb"), str(tmp_path / "02.ipynb"),
        parameters={"WORKDIR": str(workdir)}, cwd=str(NOTEBOOKS_DIR), kernel_name="python3",
        progress_bar=False)
    classified = Workspace(workdir).load_frame("classified")
    assert len(classified) == len(pulled)
    assert classified["source"].notna().all()
