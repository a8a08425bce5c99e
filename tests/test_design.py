"""FilterDesign on the samples and on small hand-made frames, with the real engine and classifier."""
from __future__ import annotations

import ipaddress
import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from s3audit.backtesting import backtest
from s3audit.cidr import CidrError
from s3audit.design import (
    DEFAULT_BASE,
    AlarmSettings,
    FilterDesign,
    PatternQuotaError,
    build_base,
    design_events,
)
from s3audit.loader import load_events
from s3audit.paths import SAMPLES_DIR
from s3audit.pattern import PatternError, compile_pattern
from s3audit.sources import SOURCES, classify
from s3audit.workspace import Workspace


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return classify(load_events(SAMPLES_DIR / "events.jsonl.gz"))


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return pd.read_csv(SAMPLES_DIR / "truth.csv.gz")


def frame(records: list[dict], labels: list[str] | None = None) -> pd.DataFrame:
    """A loader frame from hand-made records; classified unless labels are given."""
    loaded = load_events([dict({"eventVersion": "1.10", "eventSource": "s3.amazonaws.com",
                                "eventCategory": "Data", "eventType": "AwsApiCall",
                                "awsRegion": "us-east-1", "eventName": "GetObject",
                                "recipientAccountId": "111122223333",
                                "eventTime": f"2024-05-01T00:{i:02d}:00Z",
                                "eventID": f"e{i}", "userIdentity": {"type": "IAMUser"}}, **r)
                          for i, r in enumerate(records)])
    if labels is None:
        return classify(loaded)
    loaded["source"] = pd.Categorical(labels)
    return loaded


def assert_valid(pattern: str) -> None:
    compile_pattern(pattern)
    assert len(pattern) <= 1024
    assert pattern.count("%") // 2 <= 2


def test_the_model_imports_no_widget_library():
    code = ("import sys, pandas as pd; import s3audit.design as d, s3audit.backtesting; "
            "ev = pd.DataFrame({'eventName': ['GetObject'], 'source': ['athena'], "
            "'raw': ['{\"eventName\":\"GetObject\"}']}); "
            "x = d.FilterDesign(ev); x.pattern; x.alerts(); x.backtest; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('ipywidgets', 'traitlets', 'IPython', 'matplotlib')); "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------------------- sources
@pytest.mark.parametrize("label", SOURCES)
def test_excluding_a_source_removes_its_reads_or_reports_what_it_cannot(events, label):
    if not (events["source"] == label).any():
        pytest.skip(f"no {label} events in the samples")
    design = FilterDesign(events)
    design.exclude_source(label, "test")
    try:
        pattern = design.pattern
    except PatternQuotaError as exc:
        # too many values to fit: the error names the exclusion and what to merge
        assert f"source:{label}" in str(exc) and exc.suggestions
        return
    assert_valid(pattern)
    base = design.base_mask()
    alerts = design.alert_mask()
    # only fields of the CloudTrail record itself: the raw JSON alone gives the same verdicts
    # (a derived column such as `source` or `ip_prefix` is missing there)
    assert (compile_pattern(pattern).mask(events[["raw"]]).to_numpy(dtype=bool) == alerts).all()
    is_label = (events["source"] == label).to_numpy()
    problems = design.discrepancies()
    still = set(problems.index[problems["problem"] == "still alarms"])
    silenced = set(problems.index[problems["problem"] == "silenced"])
    # every read of the excluded source is silenced, except those reported as "still alarms"
    assert set(events.index[base & is_label & alerts]) == still
    # every other read still alarms, except those reported as "silenced"
    assert set(events.index[base & ~is_label & ~alerts]) == silenced
    assert not (alerts & ~base).any()
    removed = design.excluded().set_index("id").loc[f"source:{label}", "removes"]
    assert removed == int((base & ~alerts).sum())


def test_samples_sources_are_told_apart_exactly(events):
    exact = []
    for label in events["source"].astype(str).unique():
        design = FilterDesign(events)
        design.exclude_source(label)
        if design.try_pattern()[0] and design.discrepancies().empty:
            exact.append(label)
    # the samples' access paths differ in fields a metric filter sees (external: too many addresses)
    assert set(events["source"].astype(str).unique()) - set(exact) == {"external"}


def test_athena_exclusion_keeps_lake_formation_reads_alarming(events, truth):
    design = FilterDesign(events)
    design.exclude_source("athena", "BI queries")
    lf_via_athena = events["eventID"].isin(truth.loc[truth["story"] == "lakeformation-athena", "eventID"])
    base = design.base_mask()
    assert (lf_via_athena.to_numpy() & base).any()
    assert design.alert_mask()[lf_via_athena.to_numpy() & base].all()
    assert '$.userIdentity.arn = "*/AWSLF-00-*"' in design.pattern
    short_before = len(design.pattern)
    design.exclude_source("lake-formation", "governed queries")
    # both excluded: the carve-out is pointless and dropped
    assert "AWSLF-00-*\" ||" not in design.pattern and not design.alert_mask()[lf_via_athena.to_numpy()].any()
    assert len(design.pattern) < short_before + 80
    assert design.discrepancies().empty


def test_optional_fields_are_guarded_and_reads_without_them_still_alarm(events):
    design = FilterDesign(events)
    design.exclude_source("vpc-endpoint")
    pattern = design.pattern
    assert "($.vpcEndpointId NOT EXISTS || ($.vpcEndpointId != " in pattern
    no_endpoint = events["vpcEndpointId"].isna().to_numpy() & design.base_mask()
    assert no_endpoint.any() and design.alert_mask()[no_endpoint].all()
    # sourceIPAddress is always present in CloudTrail: no guard
    design.exclude_value("sourceIPAddress", "198.51.100.0/24")
    assert "$.sourceIPAddress NOT EXISTS" not in design.pattern
    assert '$.sourceIPAddress != "198.51.100.*"' in design.pattern


def test_explicit_null_gets_an_is_null_guard():
    events = frame([{"sourceIPAddress": "198.51.100.1", "vpcEndpointId": None},
                    {"sourceIPAddress": "198.51.100.2", "vpcEndpointId": "vpce-0123456789abcdef0"},
                    {"sourceIPAddress": "198.51.100.3"}])
    design = FilterDesign(events)
    design.exclude_value("vpcEndpointId", "vpce-0123456789abcdef0")
    assert "$.vpcEndpointId IS NULL" in design.pattern
    assert design.alerts()["eventID"].tolist() == ["e0", "e2"]
    assert design.discrepancies().empty


def test_unknown_source_and_source_without_data():
    events = frame([{"sourceIPAddress": "198.51.100.1"}])
    design = FilterDesign(events)
    with pytest.raises(ValueError, match="unknown access source"):
        design.exclude_source("martians")
    with pytest.raises(ValueError, match="needs values seen in the data"):
        design.exclude_source("vpc-endpoint")
    # a fingerprint with fixed values works without data, and says so
    exclusion = design.exclude_source("athena")
    assert any("no 'athena' events" in n for n in exclusion.notes)
    assert 'athena.amazonaws.com' in design.pattern


def test_discrepancies_report_what_the_fields_cannot_tell_apart():
    # an analyst relabelled two reads that look identical to a metric filter
    records = [{"sourceIPAddress": "198.51.100.7", "userAgent": "[curl/8.5.0]"},
               {"sourceIPAddress": "198.51.100.7", "userAgent": "[curl/8.5.0]"},
               {"sourceIPAddress": "203.0.113.9", "userAgent": "[curl/8.5.0]"}]
    events = frame(records, labels=["external", "ec2", "external"])
    design = FilterDesign(events)
    design.exclude_source("external", "partner")
    problems = design.discrepancies()
    assert problems["problem"].tolist() == ["silenced"]
    assert problems["source"].astype(str).tolist() == ["ec2"]
    assert problems["caught_by"].tolist() == ["source:external"]
    summary = design.discrepancy_summary()
    assert summary.to_dict("records") == [{"problem": "silenced", "source": "ec2",
                                           "caught_by": "source:external", "events": 1}]


# ---------------------------------------------------------------------------------- values
def test_exclude_value_cidr_matches_ipaddress_membership(events):
    design = FilterDesign(events)
    design.exclude_value("sourceIPAddress", ["198.51.100.0/25", "203.0.113.0/24"], "office + VPN")
    assert_valid(design.pattern)
    assert design.pattern.count("%") == 2  # the /25 needs the regex, the /24 a wildcard
    nets = [ipaddress.ip_network("198.51.100.0/25"), ipaddress.ip_network("203.0.113.0/24")]

    def inside(text):
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return False
        return any(address in n for n in nets)

    expected = design.base_mask() & ~events["sourceIPAddress"].astype(str).map(inside).to_numpy()
    assert (design.alert_mask() == expected).all()
    assert design.discrepancies().empty


def test_exclude_value_wildcards_and_short_names(events):
    design = FilterDesign(events)
    design.exclude_value("user_agent", "[aws-cli/*", "ops laptops")
    assert '($.userAgent NOT EXISTS || $.userAgent != "[aws-cli/*")' in design.pattern
    cli = events["userAgent"].astype(str).str.startswith("[aws-cli/").to_numpy()
    assert cli.any() and not design.alert_mask()[cli].any()
    assert design.alert_mask()[~cli & design.base_mask()].all()
    assert design.values("userAgent") == ["[aws-cli/*"]


@pytest.mark.parametrize("value, message", [
    ("arn:aws:iam::*:role/x", "in the middle"),
    ('say "hi"', "escape"),
    ("", "empty"),
    (float("nan"), "finite"),
    (float("inf"), "finite"),
])
def test_values_cloudwatch_would_misread_are_refused(value, message):
    design = FilterDesign(frame([{"sourceIPAddress": "198.51.100.1"}]))
    with pytest.raises(ValueError, match=message):
        design.exclude_value("userIdentity.arn", value)
    assert design.exclusions == ()


def test_wildcard_selectors_are_refused_in_exclusions():
    design = FilterDesign(frame([{"sourceIPAddress": "198.51.100.1"}]))
    for name in ("resources.*.ARN", "$.resources[*].ARN"):
        with pytest.raises(ValueError, match="wildcard selector"):
            design.exclude_value(name, "arn:aws:s3:::b/tmp/*")
    assert design.exclusions == ()
    design.exclude_value("resources.0.ARN", "arn:aws:s3:::b/tmp/*")
    assert "$.resources[0].ARN NOT EXISTS" in design.pattern


def test_a_field_with_a_non_ascii_digit_part_is_a_valid_selector():
    from s3audit.exclusions import selector

    sel = selector("a.\u00b2")  # "\u00b2".isdigit() is true, but it is a key, not a list position
    assert sel == "$.a.['\u00b2']"
    pattern = compile_pattern('{ %s = "x" }' % sel)
    assert pattern.matches({"a": {"\u00b2": "x"}}) and not pattern.matches({"a": ["x", "x", "x"]})


def test_cidr_refusal_explains(events):
    design = FilterDesign(events)
    with pytest.raises(CidrError, match="compressed form"):
        design.exclude_value("sourceIPAddress", "2001:db8::/32")


def test_set_values_replaces_and_is_all_or_nothing(events):
    design = FilterDesign(events)
    changes = []
    design.observe(lambda d: changes.append(len(d.exclusions)))
    design.set_values("vpcEndpointId", ["vpce-0f9e8d7c6b5a43210", "vpce-0c3f5a9e1b7d24680"], "ours")
    assert [e.id for e in design.exclusions] == ["vpcEndpointId=vpce-0f9e8d7c6b5a43210",
                                                 "vpcEndpointId=vpce-0c3f5a9e1b7d24680"]
    with pytest.raises(CidrError):
        design.set_values("sourceIPAddress", ["10.0.0.0/8", "::/64"])
    assert len(design.exclusions) == 2
    design.set_values("vpcEndpointId", ["vpce-0c3f5a9e1b7d24680"])
    assert [e.id for e in design.exclusions] == ["vpcEndpointId=vpce-0c3f5a9e1b7d24680"]
    assert changes == [2, 1]  # one notification per change


def test_unclassified_events_are_classified_on_demand_with_the_options():
    loaded = load_events(SAMPLES_DIR / "events.jsonl.gz")
    assert "source" not in loaded.columns
    design = FilterDesign(loaded)
    assert design.events["source"].astype(str).tolist() == \
        classify(loaded)["source"].astype(str).tolist()
    # options reach classify: with one own endpoint, the other endpoints become "other"
    own = loaded["vpcEndpointId"].dropna().astype(str).value_counts().index[0]
    scoped = FilterDesign(loaded, classify_options={"own_vpc_endpoints": [own]})
    ids = scoped.events.loc[scoped.events["source"] == "vpc-endpoint", "vpcEndpointId"]
    assert set(ids.astype(str)) == {own}
    assert scoped.to_dict()["classify"] == {"own_vpc_endpoints": [own]}


def test_adding_an_exclusion_again_only_updates_its_justification(events):
    design = FilterDesign(events)
    calls = []
    design.observe(lambda d: calls.append(len(d.exclusions)))
    first = design.exclude_source("athena", "BI")
    design.exclude_value("address", "198.51.100.0/24", "office")
    assert design.exclude_source("athena") is design.exclusions[0]  # no text: unchanged
    assert design.exclude_source("athena", "BI queries").justification == "BI queries"
    assert design.exclude_value("sourceIPAddress", "198.51.100.0/24", "HQ").justification == "HQ"
    assert [e.justification for e in design.exclusions] == ["BI queries", "HQ"]
    assert design.exclusions[0].condition == first.condition and calls == [1, 2, 2, 2]


def test_remove_by_id_label_position_and_object(events):
    design = FilterDesign(events)
    a = design.exclude_source("athena")
    design.exclude_source("glue")
    design.exclude_value("sourceIPAddress", "203.0.113.10")
    design.remove("glue")
    design.remove("sourceIPAddress=203.0.113.10")
    assert [e.id for e in design.exclusions] == ["source:athena"]
    design.remove(a)
    assert design.exclusions == ()
    with pytest.raises(KeyError, match="no exclusion"):
        design.remove(0)
    assert design.pattern == '{ $.eventName = "GetObject" }'


# ---------------------------------------------------------------------------------- quotas
def test_too_long_raises_naming_what_to_merge(events):
    design = FilterDesign(events)
    design.exclude_source("external")
    with pytest.raises(PatternQuotaError) as caught:
        design.pattern
    error = caught.value
    assert error.length > 1024 and error.contributions[0][0] == "source:external"
    assert "198.51.100.0/24" in str(error) and "CloudWatch allows 1024" in str(error)
    assert design.try_pattern()[0] is None
    # following the advice fits
    design.remove("external")
    design.exclude_value("sourceIPAddress", ["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24"])
    assert_valid(design.pattern)


def test_too_many_regexes_raises():
    events = frame([{"sourceIPAddress": "198.51.100.1", "requestParameters": {"key": "a.csv"}}])
    design = FilterDesign(events, base='{ ($.eventName = %^Get%) && ($.requestParameters.key = %csv$%) }')
    design.exclude_value("sourceIPAddress", "10.0.16.0/20")
    with pytest.raises(PatternQuotaError, match="3 regexes") as caught:
        design.pattern
    assert caught.value.regex_count == 3


def test_compact_rendering_is_used_when_it_is_what_fits(events):
    addresses = sorted(set(events.loc[events["source"] == "external", "sourceIPAddress"].astype(str)))
    v4 = [a for a in addresses if ":" not in a]
    for n in range(10, len(v4)):
        design = FilterDesign(events)
        design.exclude_value("sourceIPAddress", v4[:n])
        pattern = design.pattern  # never raises before the compact form is tried
        assert_valid(pattern)
        if " && " not in pattern:
            assert '!="' in pattern  # compact: no spaces
            break
    else:
        pytest.fail("the compact rendering was never needed")
    # with spaces it would not have fitted
    assert len(pattern.replace("&&", " && ").replace("!=", " != ")) > 1024


def test_build_base_from_choices(events):
    assert build_base() == DEFAULT_BASE
    bucket = events["requestParameters.bucketName"].dropna().astype(str).value_counts().index[0]
    base = build_base(["GetObject", "HeadObject"], buckets=[bucket], min_bytes=1000)
    design = FilterDesign(events, base=base)
    size = pd.to_numeric(events["additionalEventData.bytesTransferredOut"], errors="coerce")
    expected = (events["eventName"].astype(str).isin(["GetObject", "HeadObject"])
                & (events["requestParameters.bucketName"].astype(str) == bucket)
                & (size >= 1000).fillna(False)).to_numpy(dtype=bool)
    assert expected.any() and (design.base_mask() == expected).all()
    with pytest.raises(ValueError, match="event name"):
        build_base([])
    with pytest.raises(ValueError, match="in the middle"):
        build_base(buckets=["pay*roll"])
    with pytest.raises(ValueError, match="min_bytes"):
        build_base(min_bytes=-1)


def test_base_must_be_a_valid_json_pattern(events):
    with pytest.raises(ValueError, match="JSON pattern"):
        FilterDesign(events, base="GetObject")
    with pytest.raises(PatternError):
        FilterDesign(events, base='{ $.eventName = "GetObject" && }')


# ------------------------------------------------------------------------------- measuring
def test_alerts_are_the_engine_mask_of_the_pattern(events):
    design = FilterDesign(events)
    design.exclude_sources({"vpc-endpoint": "app", "athena": "bi"})
    expected = compile_pattern(design.pattern).mask(events)
    assert design.alerts().index.equals(events.index[expected.to_numpy()])


def test_excluded_counts_per_exclusion():
    records = [{"sourceIPAddress": "athena.amazonaws.com", "userIdentity": {"type": "IAMUser", "invokedBy": "athena.amazonaws.com"}},
               {"sourceIPAddress": "198.51.100.7"},
               {"sourceIPAddress": "198.51.100.8"},
               {"sourceIPAddress": "198.51.100.9", "eventName": "PutObject"}]
    design = FilterDesign(frame(records))
    design.exclude_source("athena", "bi")
    design.exclude_value("sourceIPAddress", "198.51.100.0/24", "office")
    design.exclude_value("sourceIPAddress", "198.51.100.7", "my laptop")
    table = design.excluded().set_index("id")
    assert table.loc["source:athena", ["removes", "only_this"]].tolist() == [1, 1]
    assert table.loc["sourceIPAddress=198.51.100.0/24", ["removes", "only_this"]].tolist() == [2, 1]
    assert table.loc["sourceIPAddress=198.51.100.7", ["removes", "only_this"]].tolist() == [1, 0]
    assert table.loc["sourceIPAddress=198.51.100.7", "justification"] == "my laptop"
    assert len(design.alerts()) == 0


def test_sources_table_counts(events):
    design = FilterDesign(events)
    design.exclude_source("athena")
    table = design.sources().set_index("source")
    counts = events["source"].astype(str).value_counts()
    assert table["events"].to_dict() == {k: int(v) for k, v in counts.items()}
    assert table.loc["athena", "alarming"] == 0 and bool(table.loc["athena", "excluded"])
    gets = events["eventName"].astype(str) == "GetObject"
    assert table.loc["glue", "reads"] == int((gets & (events["source"] == "glue")).sum())


def test_backtest_uses_the_pattern_and_the_alarm_settings(events):
    design = FilterDesign(events, alarm=AlarmSettings(period=600, evaluation_periods=2,
                                                      datapoints_to_alarm=2))
    design.exclude_source("vpc-endpoint")
    result = design.backtest()
    direct = backtest(pd.Series(design.alert_mask(), index=events.index), events, period=600,
                      evaluation_periods=2, datapoints_to_alarm=2)
    assert result["state"].tolist() == direct["state"].tolist()
    assert result["matches"].sum() == design.alert_mask().sum()
    assert len(result.attrs["alarms"]) == len(direct.attrs["alarms"])


def test_alarm_settings_are_validated():
    with pytest.raises(ValueError, match="datapoints_to_alarm"):
        AlarmSettings(evaluation_periods=1, datapoints_to_alarm=2)


# ----------------------------------------------------------------------------------- files
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_file_round_trip(events, tmp_path, suffix):
    design = FilterDesign(events, name="payroll-unexpected-reads",
                          alarm=AlarmSettings(period=900, threshold=3))
    design.exclude_sources({"athena": "BI queries", "vpc-endpoint": "the payroll app"})
    design.exclude_value("sourceIPAddress", "198.51.100.0/25", "VPN pool")
    path = design.to_file(tmp_path / f"design{suffix}")
    text = path.read_text()
    doc = yaml.safe_load(text) if suffix == ".yaml" else json.loads(text)
    assert doc["exclusions"][0]["justification"] == "BI queries"
    assert doc["pattern"] == design.pattern
    again = FilterDesign.from_file(path, events)
    assert again.pattern == design.pattern
    assert again.exclusions == design.exclusions
    assert again.alarm == design.alarm and again.name == "payroll-unexpected-reads"
    assert (again.alert_mask() == design.alert_mask()).all()


def test_from_file_rejects_what_it_does_not_know(events, tmp_path):
    path = tmp_path / "design.json"
    path.write_text(json.dumps({"version": 1, "base": '{ $.eventName = "GetObject" }',
                                "exclusions": [{"id": "x", "source": "athena", "match":
                                                {"field": "sourceIPAddress", "like": "a"}}]}))
    with pytest.raises(ValueError, match="unknown condition"):
        FilterDesign.from_file(path, events)
    path.write_text(json.dumps({"version": 1, "colour": "red"}))
    with pytest.raises(ValueError, match="unknown keys"):
        FilterDesign.from_file(path, events)


def test_alarm_spec_is_what_the_deploy_step_accepts(events, tmp_path):
    from s3audit.deploy import load_spec

    design = FilterDesign(events, name="payroll-unexpected-reads")
    design.exclude_source("vpc-endpoint")
    spec = design.alarm_spec(log_group="aws-cloudtrail-logs-111122223333-0a1b2c3d",
                             emails=["secops@example.com"])
    assert set(spec) == {"name", "log_group", "pattern", "metric", "alarm", "notify"}
    assert spec["pattern"] == design.pattern
    assert spec["metric"] == {"namespace": "S3Audit", "name": "PayrollUnexpectedReads"}
    loaded = load_spec(spec)
    assert loaded.pattern == design.pattern and loaded.alarm.datapoints_to_alarm == 1
    written = design.write_alarm_spec(tmp_path / "alarm-spec.yaml", log_group="lg",
                                      topic_arn="arn:aws:sns:us-east-1:111122223333:secops")
    assert load_spec(written).notify.topic_arn.endswith(":secops")
    with pytest.raises(ValueError, match="exactly one"):
        design.alarm_spec(log_group="lg")
    design.alarm = AlarmSettings(treat_missing="breaching")
    with pytest.raises(ValueError, match="notBreaching"):
        design.alarm_spec(log_group="lg", emails=["a@example.com"])


def test_design_events_falls_back_to_samples_and_reads_the_workspace(tmp_path, events):
    frame_, origin = design_events(tmp_path)
    assert "samples" in origin and len(frame_) == len(events) and "source" in frame_.columns
    ws = Workspace(tmp_path)
    ws.save_frame("events", events.drop(columns=["source"]).head(50))
    frame_, origin = design_events(tmp_path)
    assert "events.parquet" in origin and len(frame_) == 50 and "source" in frame_.columns
    ws.save_frame("classified", events.head(20))
    frame_, origin = design_events(tmp_path)
    assert "classified.parquet" in origin and len(frame_) == 20
    design = FilterDesign(frame_)
    design.exclude_source(str(frame_["source"].iloc[0]))
    assert_valid(design.pattern)


def test_redundant_exclusions_are_left_out_of_the_pattern(events):
    design = FilterDesign(events)
    design.exclude_source("presigned-url", "partner links")
    with_carve_out = design.pattern
    assert '$.userAgent = "[Mozilla/*"' in with_carve_out  # console downloads keep alarming
    design.exclude_source("console-browser", "console downloads")
    # every console download is a presigned request: one condition covers both
    assert design.pattern == ('{ ($.eventName = "GetObject") && ($.additionalEventData.AuthenticationMethod'
                              ' NOT EXISTS || $.additionalEventData.AuthenticationMethod != "QueryString") }')
    assert design.discrepancies().empty
    table = design.excluded().set_index("id")
    assert table.loc["source:console-browser", "only_this"] == 0
    assert table.loc["source:console-browser", "removes"] > 0


def test_generated_patterns_pass_the_engine_lint(events):
    design = FilterDesign(events)
    design.exclude_sources(["vpc-endpoint", "athena", "console", "lambda", "ec2", "aws-network"])
    design.exclude_value("principal", "*/ops-admin")
    codes = {w.code for w in design.lint()}
    assert "ne-missing" not in codes, [str(w) for w in design.lint()]
    # and the same conditions written naively would be flagged
    naive = compile_pattern('{ $.eventName = "GetObject" && $.vpcEndpointId != "vpce-0c3f5a9e1b7d24680" }')
    assert "ne-missing" in {w.code for w in naive.lint(events)}


def test_excluded_table_says_which_carve_outs_apply(events):
    design = FilterDesign(events)
    design.exclude_source("athena")
    row = design.excluded().set_index("id").loc["source:athena"]
    assert "unless lake-formation" in row["excludes"]
    assert row["notes"].startswith("reads of lake-formation that look like athena keep alarming")
    design.exclude_source("lake-formation")
    row = design.excluded().set_index("id").loc["source:athena"]
    assert "unless" not in row["excludes"]
    assert row["notes"].startswith("no carve-out needed for lake-formation (excluded too)")


def test_a_console_agent_logged_with_two_brackets_is_caught_by_its_aws_internal_part():
    """exclusions strips one bracket pair as classify and the compiled filter do: the agent
    '[[S3Console/0.4, aws-internal/3]' does not start with '[S3Console/', so the console
    fingerprint's '*aws-internal/3*' candidate is the one that catches it (lstrip('[') read it as
    an S3Console agent and offered only '[S3Console/*', which misses it)."""
    events = frame([{"userAgent": "[[S3Console/0.4, aws-internal/3]"},
                    {"userAgent": "[S3Console/0.4, aws-internal/3]"}], labels=["console", "console"])
    t = FilterDesign(events).translate("console")
    assert (t.covered, t.total) == (2, 2), t.notes
