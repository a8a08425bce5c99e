"""The FilterDesigner view, headless: controls call the model, the model drives the screen."""
from __future__ import annotations

import html

import pandas as pd
import pytest

from s3audit.design import FilterDesign
from s3audit.loader import load_events
from s3audit.paths import SAMPLES_DIR
from s3audit.sources import classify
from s3audit.widgets import FilterDesigner


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return classify(load_events(SAMPLES_DIR / "events.jsonl.gz"))


def shown_pattern(view: FilterDesigner) -> str:
    text = view.controls.pattern.value
    return html.unescape(text.split("<pre", 1)[1].split(">", 1)[1].split("</pre>", 1)[0])


def shown_count(view: FilterDesigner) -> int:
    return int(view.controls.count.value.split("data-alerts='", 1)[1].split("'", 1)[0])


def test_one_checkbox_per_source_with_counts(events):
    view = FilterDesigner(FilterDesign(events), plot=False)
    counts = events["source"].astype(str).value_counts()
    assert set(view.controls.sources) == set(counts.index)
    box = view.controls.sources["athena"]
    assert box.description.startswith(f"athena ({counts['athena']:,} events")
    assert "s3audit-source-athena" in box._dom_classes


def test_ticking_a_source_updates_pattern_count_and_table(events):
    design = FilterDesign(events)
    view = FilterDesigner(design, plot=False)
    before = shown_count(view)
    assert before == int(design.base_mask().sum())
    view.controls.sources["vpc-endpoint"].value = True
    assert design.excluded_sources == ["vpc-endpoint"]
    assert shown_pattern(view) == design.pattern == view.value
    assert shown_count(view) == len(design.alerts()) < before
    assert "vpce-0c3f5a9e1b7d24680" not in view.controls.table.value.split("<tbody>", 1)[1]
    view.controls.sources["vpc-endpoint"].value = False
    assert design.exclusions == () and shown_count(view) == before


def test_changes_made_in_code_show_up_in_the_controls(events):
    design = FilterDesign(events)
    view = FilterDesigner(design, plot=False)
    design.exclude_source("glue", "ETL")
    assert view.controls.sources["glue"].value is True
    design.set_values("sourceIPAddress", ["203.0.113.0/24"])
    assert view.controls.inputs["addresses"].value == "203.0.113.0/24"
    assert shown_pattern(view) == design.pattern


def test_value_inputs_call_the_model_and_errors_are_shown_not_lost(events):
    design = FilterDesign(events)
    view = FilterDesigner(design, plot=False)
    view.controls.inputs["addresses"].value = "198.51.100.0/25\n203.0.113.10"
    assert design.values("sourceIPAddress") == ["198.51.100.0/25", "203.0.113.10"]
    assert "%^198" in shown_pattern(view)
    view.controls.inputs["addresses"].value = "2001:db8::/32"
    assert "CidrError" in view.error.value and "compressed form" in view.error.value
    assert design.values("sourceIPAddress") == ["198.51.100.0/25", "203.0.113.10"]  # unchanged
    view.controls.inputs["endpoints"].value = "vpce-0f9e8d7c6b5a43210"
    assert view.error.value == ""
    assert design.values("vpcEndpointId") == ["vpce-0f9e8d7c6b5a43210"]


def test_a_design_that_does_not_fit_shows_the_reason(events):
    design = FilterDesign(events)
    view = FilterDesigner(design, plot=False)
    view.controls.sources["external"].value = True
    assert view.value is None
    assert "CloudWatch allows 1024" in html.unescape(view.controls.pattern.value)
    assert "No valid pattern" in view.controls.count.value
    view.controls.sources["external"].value = False
    assert view.value == design.pattern


def test_backtest_plot_and_tables(events):
    design = FilterDesign(events)
    design.exclude_source("vpc-endpoint")
    view = FilterDesigner(design)
    assert view.controls.backtest.value[:8] == b"\x89PNG\r\n\x1a\n"
    alarms = len(design.backtest().attrs["alarms"])
    assert f"fired <b>{alarms}</b> time(s)" in view.controls.backtest_text.value
    assert "source:vpc-endpoint" in view.controls.excluded.value
    assert "None: the pattern does exactly" in view.controls.discrepancies.value


def test_the_engines_lint_warnings_are_shown_with_the_pattern(events):
    view = FilterDesigner(FilterDesign(events), plot=False)
    assert view.controls.lint.value == ""  # generated exclusions lint clean
    risky = FilterDesign(events, base='{ $.eventName = "GetObject" && $.vpcEndpointId != "vpce-x" }')
    view = FilterDesigner(risky, plot=False)
    shown = html.unescape(view.controls.lint.value)
    assert [w.code for w in risky.lint()] == ["ne-missing"]
    assert "[ne-missing]" in shown and "$.vpcEndpointId NOT EXISTS" in shown
