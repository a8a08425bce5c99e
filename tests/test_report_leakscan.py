"""The leak scan finds planted identifiers wherever they hide, and the report refuses to be written."""
from __future__ import annotations

import base64

import pytest

from s3audit.leakscan import LeakError, check_no_leaks, find_leaks

IDS = {"account": ["111122223333"], "ip": ["10.0.1.7"], "bucket": ["payroll-prod"],
       "vpce": ["vpce-0a1b2c3d4e5f67890"], "name": ["bucket"]}


@pytest.mark.parametrize("document, kind, where", [
    ("<p>owner 111122223333</p>", "account", "text"),
    ('<img alt="from 10.0.1.7" src="x.svg">', "ip", "attribute"),
    ('<pre>{ $.vpcEndpointId != "vpce-0a1b2c3d4e5f67890" }</pre>', "vpce", "text"),
    ("<td>ip-10-0-1-7.ec2.internal</td>", "ip", "text"),
    ("<td>PAYROLL-PROD.s3.amazonaws.com</td>", "bucket", "text"),
    ("<td>payroll&#45;prod</td>", "bucket", "text"),
])
def test_finds_planted_identifiers(document: str, kind: str, where: str) -> None:
    leaks = find_leaks(document, IDS)
    assert [(leak.kind, leak.where) for leak in leaks] == [(kind, where)]


def test_finds_identifiers_inside_embedded_svg() -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><text>vpce-0a1b2c3d4e5f67890</text></svg>'
    data = base64.b64encode(svg.encode()).decode()
    leaks = find_leaks(f'<img src="data:image/svg+xml;base64,{data}">', IDS)
    assert [(leak.kind, leak.where) for leak in leaks] == [("vpce", "data-uri image/svg+xml")]


def test_raster_images_cannot_be_checked() -> None:
    data = base64.b64encode(b"\x89PNG\r\n\x1a\n....").decode()
    leaks = find_leaks(f'<img src="data:image/png;base64,{data}">', IDS)
    assert [leak.kind for leak in leaks] == ["opaque-image"]
    assert find_leaks(f'<img src="data:image/png;base64,{data}">', IDS, allow_raster=True) == []


@pytest.mark.parametrize("document", [
    "<p>10.0.1.70 and 110.0.1.7</p>",          # other addresses containing the digits
    "<p>1111222233334 bytes</p>",              # a longer number
    "<p>xpayroll-prod</p>",                     # inside a longer name
])
def test_boundaries_prevent_false_findings(document: str) -> None:
    assert find_leaks(document, IDS) == []


def test_pseudonyms_are_not_findings_but_colliding_ones_are() -> None:
    # a principal really named "bucket" is not found inside the pseudonym "bucket-1a2b3c4d"
    assert find_leaks("<td>bucket-1a2b3c4d</td>", IDS, tokens=["bucket-1a2b3c4d"]) == []
    assert [leak.kind for leak in find_leaks("<td>bucket</td>", IDS, tokens=["bucket-1a2b3c4d"])] == ["name"]
    # a pseudonym equal to an original can never be verified
    leaks = find_leaks("<p>clean</p>", IDS, tokens=["10.0.1.7"])
    assert [leak.kind for leak in leaks] == ["ambiguous-token"]


def test_check_no_leaks_raises_typed_error_naming_the_leak() -> None:
    with pytest.raises(LeakError) as err:
        check_no_leaks("<p>111122223333</p>", IDS, path="out/report.html")
    assert err.value.leaks[0].identifier == "111122223333"
    assert "111122223333" in str(err.value) and "out/report.html" in str(err.value)


def test_identifier_that_is_a_template_word_is_checked_in_the_data(tmp_path) -> None:
    """A principal named "table" cannot be searched for in HTML full of <table>: it is redacted
    and verified in the redacted data instead, so the report is still written."""
    import re

    from s3audit.report import ReportInputs, build_report
    from tests._report_support import sample_events

    events = sample_events().head(300).copy()
    col = "userIdentity.userName"
    events[col] = events[col].astype(object)
    events.loc[events.index[:50], col] = "table"
    events[col] = events[col].astype("category")
    result = build_report(ReportInputs(events=events, design={"pattern": '{ $.userIdentity.userName != "table" }'}),
                          tmp_path, key="k")
    html = result.path.read_text()
    shown = re.search(r'<section id="pattern"><h2>[^<]*</h2>\s*<pre>([^<]*)</pre>', html).group(1)
    assert "table" not in shown and "name-" in shown


def test_notebook_parameters_naming_the_log_group_are_redacted(tmp_path) -> None:
    """CloudTrail's default log group name holds the account id; `s3audit report --log-group`
    passes it to notebook 01, and the report lists the notebook parameters."""
    from s3audit.redaction import Redactor
    from s3audit.report import ReportInputs, build_report
    from tests._report_support import sample_events

    events = sample_events().head(300)
    account = events["recipientAccountId"].dropna().iloc[0]
    group = f"aws-cloudtrail-logs-{account}-1a2b3c4d"
    pipeline = [{"notebook": "01_pull_events", "status": "ok", "seconds": 1.0,
                 "parameters": f"SOURCE={group!r}, START='2026-10-05T00:00Z'"}]
    result = build_report(ReportInputs(events=events, design={"pattern": '{ $.eventName = "GetObject" }'},
                                       source=f"CloudWatch Logs {group}", pipeline=pipeline), tmp_path, key="k")
    html = result.path.read_text()
    assert account not in html
    assert f"aws-cloudtrail-logs-{Redactor(key='k').account(account)}-" in html


def test_a_raster_image_nested_in_an_svg_is_refused_and_report_figures_have_none() -> None:
    """matplotlib embeds imshow images in SVG as PNG data URIs; nested payloads are decoded too."""
    import re

    import numpy as np
    from matplotlib.figure import Figure

    from s3audit.report_html import figure

    png = base64.b64encode(b"\x89PNG\r\n\x1a\n....").decode()
    svg = f'<svg xmlns="http://www.w3.org/2000/svg"><image xlink:href="data:image/png;base64,\n{png}"/></svg>'
    outer = f'<img src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}">'
    assert [leak.kind for leak in find_leaks(outer, IDS)] == ["opaque-image"]
    nested_text = base64.b64encode(f'<svg><image href="data:image/svg+xml;base64,{base64.b64encode(b"<svg><text>payroll-prod</text></svg>").decode()}"/></svg>'.encode()).decode()
    assert [leak.kind for leak in find_leaks(f'<img src="data:image/svg+xml;base64,{nested_text}">', IDS)] == ["bucket"]

    fig = Figure()
    ax = fig.subplots()
    fig.colorbar(ax.imshow(np.arange(6.0).reshape(2, 3)), ax=ax)
    html_img = figure(fig, "heatmap")
    svg_text = base64.b64decode(re.search(r"base64,([^\"]+)", html_img).group(1)).decode()
    assert "image/png" not in svg_text and find_leaks(html_img, IDS) == []


def test_field_names_of_the_ledger_are_not_data(tmp_path) -> None:
    """A principal named like a ledger field ("version") is checked in the data's values only."""
    from s3audit.report import ReportInputs, build_report
    from tests._report_support import sample_events

    events = sample_events().head(200).copy()
    col = "userIdentity.userName"
    events[col] = events[col].astype(object)
    events.loc[events.index[:20], col] = "version"
    events.attrs = {"record_facts": {"version": 1}}
    result = build_report(ReportInputs(events=events), tmp_path, key="k")
    assert result.path.exists()


@pytest.mark.parametrize("options, kept", [({"buckets": False}, "acme-payroll-prod"), ({"keys": False}, None),
                                           ({"keys": "full"}, None)])
def test_redaction_options_reach_the_report_and_the_gate(tmp_path, options, kept) -> None:
    """--keep-buckets / --keys: a kind the user keeps is shown and not a leak; the rest still goes."""
    from s3audit.report import ReportInputs, build_report
    from tests._report_support import sample_events

    events = sample_events().head(500)
    design = {"pattern": '{ $.requestParameters.bucketName = "acme-payroll-prod" }'}
    html = build_report(ReportInputs(events=events, design=design), tmp_path, key="k",
                        redaction=options).path.read_text()
    assert ("acme-payroll-prod" in html) == (kept == "acme-payroll-prod")
    assert events["recipientAccountId"].dropna().iloc[0] not in html
