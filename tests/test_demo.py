"""`make demo` end to end: `s3audit demo --out DIR` runs notebooks 01-04 on the samples and prints
where the report is and what it found."""
from __future__ import annotations

import json
import re

import pytest

from s3audit.cli import main

from tests._report_support import demo_run

pytestmark = [pytest.mark.slow, pytest.mark.notebook]


def test_demo_runs_all_four_notebooks_and_writes_the_report() -> None:
    run = demo_run()
    assert run.exit_code == 0, run.stdout + run.stderr
    for stem in ("01_pull_events", "02_access_sources", "03_design_filter", "04_deploy_alarm"):
        nb = json.loads((run.out / f"{stem}.ipynb").read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(c.get("execution_count") for c in code), stem
        assert not [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"], stem
    produced = {p.name for p in run.work.iterdir()}
    assert {"events.parquet", "classified.parquet", "design.json", "alarm-spec.json", "deploy-plan.json"} <= produced
    assert (run.out / "report.html").stat().st_size > 10_000
    plan = json.loads((run.work / "deploy-plan.json").read_text())
    assert plan["kind"] == "deploy"  # notebook 04 ran as a dry run: a plan, nothing applied


def test_demo_prints_where_and_what() -> None:
    run = demo_run()
    out = run.stdout
    assert f"report: {run.out / 'report.html'}" in out
    assert re.search(r"events: [\d,]+ from ", out)
    assert re.search(r"access sources \(\d+\): ", out)
    assert "designed pattern (" in out
    assert re.search(r"the alarm would have fired \d+ time", out)
    assert "none remain in the file" in out


def test_report_command_rerenders_from_a_workspace(tmp_path, capsys) -> None:
    run = demo_run()
    code = main(["report", "--from-workspace", str(run.work), "--out", str(tmp_path), "--key", "test-key"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert (tmp_path / "report.html").exists() and "report:" in out
    # same key, same data: the same pseudonyms as the demo's report
    tokens = set(re.findall(r"bucket-[0-9a-f]{8}", run.html))
    assert tokens and tokens == set(re.findall(r"bucket-[0-9a-f]{8}", (tmp_path / "report.html").read_text()))


def test_report_command_usage_errors(capsys) -> None:
    assert main(["report", "--log-group", "g", "--out", "x"]) == 2
    assert "--start" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", "--out", "x"])  # a data source is required


def test_missing_notebooks_are_reported_not_hidden(tmp_path) -> None:
    from s3audit.demo import run_notebooks

    runs = run_notebooks(tmp_path / "out", tmp_path / "work", notebooks_dir=tmp_path / "none", progress=False)
    assert [(r.notebook, r.status) for r in runs] == [
        ("01_pull_events", "missing"), ("02_access_sources", "missing"),
        ("03_design_filter", "missing"), ("04_deploy_alarm", "missing")]


def test_unknown_parameters_are_refused_before_running(tmp_path) -> None:
    from s3audit.demo import run_notebooks

    with pytest.raises(ValueError, match="NOT_A_PARAMETER"):
        run_notebooks(tmp_path / "out", tmp_path / "work", progress=False,
                      parameters={"01_pull_events": {"NOT_A_PARAMETER": 1}})
    assert not list((tmp_path / "out").glob("*.ipynb"))


def test_log_group_needs_a_window(tmp_path) -> None:
    from s3audit.demo import run_pipeline

    with pytest.raises(ValueError, match="start and end"):
        run_pipeline(tmp_path, source="aws-cloudtrail-logs-s3")


def test_notebook_04_is_always_a_dry_run() -> None:
    from s3audit.demo import SAFE_PARAMETERS, _declared_parameters
    from s3audit.paths import NOTEBOOKS_DIR

    assert SAFE_PARAMETERS["04_deploy_alarm"] == {"DRY_RUN": True}
    assert "DRY_RUN" in _declared_parameters(NOTEBOOKS_DIR / "04_deploy_alarm.ipynb")
    nb = json.loads((demo_run().out / "04_deploy_alarm.ipynb").read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert injected and "DRY_RUN = True" in "".join(injected[0]["source"])


def test_internal_demo_does_not_call_itself_shareable(tmp_path, capsys, monkeypatch) -> None:
    import s3audit.commands.report as command

    monkeypatch.setattr(command, "_run", lambda args, source: 0)
    assert main(["demo", "--out", str(tmp_path), "--no-redact"]) == 0
    out = capsys.readouterr().out
    assert "report-internal.html" in out and "NOT redacted" in out and "can be shared" not in out
    assert main(["demo", "--out", str(tmp_path)]) == 0
    assert "can be shared" in capsys.readouterr().out


def test_redaction_failure_is_a_failure_not_a_usage_error(tmp_path, capsys, monkeypatch) -> None:
    import s3audit.report as report_mod
    from s3audit.redaction import RedactionError

    def fail(*args, **kwargs):
        raise RedactionError("no free pseudonym in the aws /32 space for an address", kind="ip")

    monkeypatch.setattr(report_mod, "build_report", fail)
    assert main(["report", "--from-workspace", str(tmp_path), "--out", str(tmp_path)]) == 1
    assert "no free pseudonym" in capsys.readouterr().err


def test_a_log_group_run_designs_the_filter_for_that_log_group(tmp_path, monkeypatch) -> None:
    import s3audit.demo as demo

    seen = {}

    def fake_run_notebooks(out, work, *, parameters, progress):
        seen.update(parameters)
        return []

    monkeypatch.setattr(demo, "run_notebooks", fake_run_notebooks)
    monkeypatch.setattr(demo, "build_report", lambda *a, **k: demo.ReportResult(tmp_path, True, {}, [], []))
    demo.run_pipeline(tmp_path, source="aws-cloudtrail-logs-111122223333-1a2b", start="2026-10-01T00:00Z",
                      end="2026-10-02T00:00Z", profile="audit", progress=False)
    assert seen["01_pull_events"] == {"SOURCE": "aws-cloudtrail-logs-111122223333-1a2b", "START": "2026-10-01T00:00Z",
                                      "END": "2026-10-02T00:00Z", "PROFILE": "audit"}
    assert seen["03_design_filter"] == {"LOG_GROUP": "aws-cloudtrail-logs-111122223333-1a2b"}
    assert seen["02_access_sources"] == seen["04_deploy_alarm"] == {"PROFILE": "audit"}
