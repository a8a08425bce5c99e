"""The shared report, on the samples pipeline (notebooks 01-04 run once per session by the demo):
every section is there, it is self-contained, redacted consistently, and the leak gate works."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

import s3audit.report as report_mod
from s3audit.leakscan import LeakError
from s3audit.paths import PROJECT_ROOT
from s3audit.report import (INTERNAL_REPORT_NAME, REPORT_NAME, SECTIONS, ReportInputs, build_report,
                            collect_identifiers, load_inputs, render_report)

from tests._report_support import demo_run

pytestmark = [pytest.mark.slow, pytest.mark.notebook]


@pytest.fixture(scope="module")
def run():
    result = demo_run()
    assert result.exit_code == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def inputs(run) -> ReportInputs:
    return load_inputs(run.work)


def _section(html: str, anchor: str) -> str:
    m = re.search(rf'<section id="{anchor}">(.*?)</section>', html, re.S)
    assert m, f"section {anchor} missing"
    return m.group(1)


def test_every_section_is_present_and_complete(run) -> None:
    html = run.html
    for anchor in SECTIONS:
        body = _section(html, anchor)
        assert "could not be rendered" not in body, body[:500]
    assert "Some sections are incomplete" not in html


def test_window_and_source_section(run, inputs) -> None:
    body = _section(run.html, "window")
    times = pd.to_datetime(inputs.events["eventTime"], utc=True)
    assert str(times.min()) in body and str(times.max()) in body
    assert f"{len(inputs.events):,}" in body
    assert "Coverage per day" in body and "bundled samples" in body
    assert "rows_read" in body and "record_facts" not in body  # the ledger, not the loader's internals
    assert "events.jsonl.gz" in body  # input files are named ...
    assert str(PROJECT_ROOT) not in run.html  # ... without the local folders they came from


def test_per_source_table_lists_every_source(run, inputs) -> None:
    body = _section(run.html, "sources")
    assert "vpcEndpointId / sourceIPAddress / userAgent per source" in body
    for label, n in inputs.events["source"].value_counts().items():
        if n:
            assert f"<td>{label}</td>" in body, label


def test_charts_are_inline_svg_from_redacted_data(run) -> None:
    html = run.html
    images = re.findall(r'<img[^>]+src="([^"]+)"', html)
    assert len(images) >= 4  # three source charts + the backtest plot
    assert all(src.startswith("data:image/svg+xml;base64,") for src in images)


def test_self_contained_no_code_no_network(run) -> None:
    html = run.html
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<link" not in html.lower()
    assert "import s3audit" not in html and "In [" not in html


def test_exclusions_pattern_backtest_and_plan(run, inputs) -> None:
    html = run.html
    design = inputs.design
    assert design and design["exclusions"]
    excl = _section(html, "exclusions")
    for item in design["exclusions"]:
        assert json.dumps(item["justification"])[1:-1].replace("'", "&#x27;") in excl
    assert "Decisions per access source" in excl
    pattern_body = _section(html, "pattern")
    assert "matches exactly the same events" in pattern_body
    # the shown pattern is the redacted one: the original endpoint ids are not in it
    for vpce in re.findall(r"vpce-[0-9a-f]+", design["pattern"]):
        assert vpce not in pattern_body
    bt = _section(html, "backtest")
    from s3audit import backtest
    alarm = {k: v for k, v in design["alarm"].items() if k in ("period", "threshold", "evaluation_periods",
                                                               "datapoints_to_alarm", "treat_missing")}
    expected = len(backtest(design["pattern"], inputs.events, **alarm).attrs["alarms"])
    assert f"Alarms ({expected})" in bt
    deploy = _section(html, "deployment")
    assert inputs.plan is not None and inputs.plan["name"] in deploy
    assert "Pre-flight checks" in deploy


def test_no_original_identifier_in_the_shared_report(run, inputs) -> None:
    originals = collect_identifiers(inputs.events, [inputs.design, inputs.spec, inputs.plan])
    html = run.html.lower()
    assert {"account", "ip", "vpce", "bucket", "name"} <= set(originals)
    for kind in ("account", "vpce", "bucket", "access-key"):
        for value in originals.get(kind, ()):
            assert value.lower() not in html, (kind, value)
    assert "pseudonyms" in html


def test_unredacted_internal_report(run, inputs, tmp_path) -> None:
    result = build_report(inputs, tmp_path, redact=False)
    assert result.path.name == INTERNAL_REPORT_NAME and not (tmp_path / REPORT_NAME).exists()
    html = result.path.read_text()
    account = inputs.events["recipientAccountId"].dropna().iloc[0]
    assert account in html and "NOT REDACTED" in html
    assert "UNREDACTED" in "\n".join(result.summary_lines())


@pytest.mark.parametrize("plant", [
    lambda doc, v: doc.replace("</main>", f"<p>owner {v}</p></main>"),            # in text
    lambda doc, v: doc.replace("<main>", f'<main title="{v}">'),                  # in an attribute
    lambda doc, v: re.sub(r'(<section id="pattern"><h2>[^<]*</h2>\s*<pre>)', rf"\g<1>{v} ", doc),  # in the pattern
], ids=["text", "attribute", "pattern"])
def test_leak_gate_refuses_a_planted_identifier(inputs, tmp_path, monkeypatch, plant) -> None:
    account = inputs.events["recipientAccountId"].dropna().iloc[0]
    real = report_mod.render_report

    def leaky(*args, **kwargs):
        document, result = real(*args, **kwargs)
        planted = plant(document, account)
        assert planted != document
        return planted, result

    monkeypatch.setattr(report_mod, "render_report", leaky)
    small = ReportInputs(events=inputs.events.head(500), design=inputs.design, spec=inputs.spec,
                         plan=inputs.plan, source="samples")
    with pytest.raises(LeakError) as err:
        build_report(small, tmp_path)
    assert any(leak.identifier == account for leak in err.value.leaks)
    assert not (tmp_path / REPORT_NAME).exists()


def test_render_alone_writes_nothing_and_reports_findings(inputs, tmp_path) -> None:
    small = ReportInputs(events=inputs.events.head(300), design=inputs.design, source="samples")
    document, result = render_report(small)
    assert document.startswith("<!DOCTYPE html>") and not any(tmp_path.iterdir())
    assert result.findings["events"] == 300 and sum(result.findings["sources"].values()) == 300
