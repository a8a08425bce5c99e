"""Notebook 04 runs headless: offline without credentials, and against moto with DRY_RUN = False."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from _moto_server import aws, moto_server  # noqa: F401

from s3audit.paths import NOTEBOOKS_DIR

NOTEBOOK = NOTEBOOKS_DIR / "04_deploy_alarm.ipynb"
pytestmark = [pytest.mark.notebook, pytest.mark.slow]


def _run(tmp_path: Path, **parameters: Any) -> str:
    papermill = pytest.importorskip("papermill")
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(str(NOTEBOOK), str(out), parameters=parameters, cwd=str(NOTEBOOKS_DIR),
                               kernel_name="python3", progress_bar=False)
    cells = json.loads(out.read_text())["cells"]
    return "\n".join("".join(o.get("text", "")) for c in cells if c["cell_type"] == "code" for o in c.get("outputs", []))


def test_dry_run_without_credentials_is_an_offline_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    work = tmp_path / "work"
    text = _run(tmp_path, WORKDIR=str(work))
    assert "OFFLINE plan: no AWS credentials found" in text and "assumes an EMPTY account" in text
    assert "bundled example" in text and "DRY_RUN = True: nothing was applied" in text
    saved = json.loads((work / "deploy-plan.json").read_text())
    assert saved["offline"] and saved["summary"] == {"create": 5} and saved["applied"] is False
    assert "AWSTemplateFormatVersion" in text and "- delete  AWS::CloudWatch::Alarm" in text


def test_apply_and_verify_against_moto_with_workspace_spec(aws: Any, tmp_path: Path) -> None:  # noqa: F811
    example = yaml.safe_load((Path(__file__).parents[1] / "s3audit/data/example-alarm-spec.yaml").read_text())
    example.pop("trail")  # moto delivers no trail events; the trail check is covered in test_deploy_moto.py
    aws.client("logs").create_log_group(logGroupName=example["log_group"])
    work = tmp_path / "work"
    work.mkdir()
    (work / "alarm-spec.json").write_text(json.dumps(example))  # as notebook 03 leaves it
    text = _run(tmp_path, WORKDIR=str(work), DRY_RUN=False, SEND_TEST_NOTIFICATION=True)
    assert "planning against the account in us-east-1" in text and "(notebook 03)" in text
    assert "APPLIED" in text and "OK, the deployment matches the spec" in text and "TEST notification" in text
    assert aws.client("cloudwatch").describe_alarms(AlarmNames=["payroll-unexpected-reads"])["MetricAlarms"]
    saved = json.loads((work / "deploy-plan.json").read_text())
    assert not saved["offline"] and saved["summary"] == {"create": 5} and "APPLIED" in saved["text"]
    assert saved["applied"] and "cloudwatch:PutMetricAlarm payroll-unexpected-reads" in saved["result"]["calls"]
    assert "- delete  AWS::CloudWatch::Alarm" in text  # the teardown plan, not applied
    assert aws.client("sns").list_topics()["Topics"]
