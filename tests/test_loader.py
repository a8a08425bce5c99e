"""load_events on small hand-made inputs: every format, every kind of bad input, filters, schema."""
from __future__ import annotations

import gzip
import json
import logging
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import s3audit
from s3audit.loader import LoadError, load_events
from s3audit.schema import EVENT_COLUMNS
from tests._loader_support import line, load_in_child, management, network_copy, record, records


def _write_lines(path: Path, lines: list[str], *, gz: bool = False) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def _assert_schema(df: pd.DataFrame) -> None:
    for name, dtype in EVENT_COLUMNS.items():
        assert name in df.columns, name
        if dtype.startswith("datetime64"):
            assert str(df[name].dtype) == "datetime64[ns, UTC]"
        elif dtype == "string":
            assert isinstance(df[name].dtype, pd.StringDtype), (name, df[name].dtype)
        else:
            assert str(df[name].dtype) == dtype, (name, df[name].dtype)


# ------------------------------------------------------------------ formats

def test_public_api_is_exported() -> None:
    assert s3audit.load_events is load_events
    assert s3audit.LoadError is LoadError
    assert issubclass(LoadError, ValueError)


def test_json_lines_file_flattened_with_insights_names(tmp_path: Path) -> None:
    recs = records(3)
    df = load_events(_write_lines(tmp_path / "e.jsonl", [line(r) for r in recs]))
    _assert_schema(df)
    assert df["eventID"].tolist() == ["e-0", "e-1", "e-2"]
    assert df["userIdentity.sessionContext.sessionIssuer.userName"].tolist() == ["reader"] * 3
    assert df["resources.0.ARN"].tolist()[2] == "arn:aws:s3:::acme-data/reports/part-2.csv"
    assert df["resources.1.accountId"].tolist() == ["111122223333"] * 3
    assert df["additionalEventData.bytesTransferredOut"].tolist() == [1000.0, 1001.0, 1002.0]
    assert df["additionalEventData.bytesTransferredIn"].dtype == "Float64"
    assert df["readOnly"].tolist() == [True, True, True]
    assert df["eventTime"].iloc[1] == pd.Timestamp("2026-11-02T10:00:01Z")
    assert df["raw"].tolist() == [line(r) for r in recs]
    assert isinstance(df["eventName"].dtype, pd.CategoricalDtype)
    # JSON null and missing are both NA; an always-null extra field makes no column
    assert "responseElements" not in df.columns


def test_raw_is_exact_line_text_including_spacing_and_crlf(tmp_path: Path) -> None:
    texts = [json.dumps(r, indent=None) for r in records(2)]  # ", " and ": " separators
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(("\r\n".join(texts) + "\r\n").encode())
    df = load_events(path)
    assert df["raw"].tolist() == texts


def test_utf8_bom_is_not_part_of_the_first_record(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (line(record("a")) + "\n" + line(record("b"))).encode())
    df = load_events(path)
    assert df["eventID"].tolist() == ["a", "b"] and df.attrs["skipped_total"] == 0
    assert df["raw"].iloc[0] == line(record("a"))


def test_gzip_jsonl_equals_plain(tmp_path: Path) -> None:
    lines = [line(r) for r in records(5)]
    plain = load_events(_write_lines(tmp_path / "a.jsonl", lines))
    gz = load_events(_write_lines(tmp_path / "a.jsonl.gz", lines, gz=True))
    pd.testing.assert_frame_equal(plain, gz)


def test_trail_file_records_keep_their_own_text(tmp_path: Path) -> None:
    recs = records(3)
    doc = json.dumps({"Records": recs}, indent=2)
    path = tmp_path / "111122223333_CloudTrail_eu-west-1_20261102T1005Z_abc.json.gz"
    path.write_bytes(gzip.compress(doc.encode()))
    df = load_events(path)
    assert df["eventID"].tolist() == ["e-0", "e-1", "e-2"]
    for text, rec in zip(df["raw"], recs):
        assert text in doc  # a slice of the file, not a re-serialisation
        assert json.loads(text) == rec
    lines_df = load_events([line(r) for r in recs])
    assert list(df.columns) == list(lines_df.columns)
    pd.testing.assert_frame_equal(df.drop(columns="raw"), lines_df.drop(columns="raw"))


def test_concatenated_trail_files_one_per_line(tmp_path: Path) -> None:
    docs = [json.dumps({"Records": records(2, "a")}), json.dumps({"Records": records(3, "b")})]
    path = _write_lines(tmp_path / "all.json", docs)
    df = load_events(path)
    assert df["eventID"].tolist() == ["a-0", "a-1", "b-0", "b-1", "b-2"]
    assert all(text in docs[0] or text in docs[1] for text in df["raw"])
    assert df.attrs["skipped_total"] == 0


def test_trail_file_with_trailing_garbage_keeps_records_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"Records": records(2)}) + " trailing")
    df = load_events(path)
    assert df["eventID"].tolist() == ["e-0", "e-1"]
    assert "extra data" in df.attrs["skipped"][0]["reason"]


def test_trail_records_key_not_first(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"digest": None, "Records": records(2), "zz": 1}))
    assert load_events(path)["eventID"].tolist() == ["e-0", "e-1"]


def test_insights_export_uses_message_text(tmp_path: Path) -> None:
    texts = [line(r) for r in records(3)]
    export = {"queryId": "q", "status": "Complete", "statistics": {"recordsMatched": 3.0},
              "results": [[{"field": "@timestamp", "value": "2026-11-02 10:05:00.000"},
                           {"field": "@message", "value": t}, {"field": "@ptr", "value": "p"}] for t in texts]}
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export, indent=1))
    df = load_events(path)
    assert df["raw"].tolist() == texts
    pd.testing.assert_frame_equal(df, load_events(texts))


def test_insights_row_without_message_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"results": [[{"field": "eventName", "value": "GetObject"}]]}))
    df = load_events(path)
    assert len(df) == 0 and df.attrs["skipped_total"] == 1
    assert "@message" in df.attrs["skipped"][0]["reason"]


def test_iterable_of_strings_dicts_and_generators() -> None:
    recs = records(4)
    texts = [line(r) for r in recs]
    from_strings = load_events(texts)
    assert from_strings["raw"].tolist() == texts
    from_dicts = load_events(iter(recs))
    assert from_dicts["raw"].tolist() == texts  # compact re-serialisation of dicts
    pd.testing.assert_frame_equal(from_strings, from_dicts)
    assert load_events(texts[0])["eventID"].tolist() == ["e-0"]  # a single JSON text
    assert load_events(recs[1])["eventID"].tolist() == ["e-1"]  # a single dict


def test_message_text_with_newlines_is_kept_verbatim() -> None:
    pretty = json.dumps(record("p-1"), indent=2)
    df = load_events([pretty, line(record("p-2"))])
    assert df["raw"].tolist() == [pretty, line(record("p-2"))]


def test_directory_list_of_paths_and_ignored_files(tmp_path: Path) -> None:
    day = tmp_path / "AWSLogs" / "111122223333" / "CloudTrail" / "eu-west-1" / "2026" / "11" / "02"
    day.mkdir(parents=True)
    (day / "a.json.gz").write_bytes(gzip.compress(json.dumps({"Records": records(2, "a")}).encode()))
    (day / "b.json.gz").write_bytes(gzip.compress(json.dumps({"Records": records(2, "b")}).encode()))
    (tmp_path / "notes.txt").write_text("not events")
    df = load_events(tmp_path)
    assert sorted(df["eventID"]) == ["a-0", "a-1", "b-0", "b-1"]
    assert df.attrs["ignored_files"] == [str(tmp_path / "notes.txt")]
    assert len(df.attrs["sources"]) == 2
    both = load_events([day / "a.json.gz", str(day / "b.json.gz")])
    assert both["eventID"].tolist() == ["a-0", "a-1", "b-0", "b-1"]


def test_missing_path_raises() -> None:
    with pytest.raises(LoadError, match="no such file"):
        load_events("/nonexistent/events.jsonl")


def test_unsupported_source_type_raises() -> None:
    with pytest.raises(LoadError):
        load_events(42)


# ------------------------------------------------------------------ bad input

def test_malformed_and_non_cloudtrail_lines_are_skipped_and_recorded(tmp_path: Path, caplog) -> None:
    lines = [line(record("ok-1")), '{"eventName": "GetObject", "eventSource": ', '{"hello": "world"}',
             "[1, 2]", '"just a string"', line(record("ok-2"))]
    path = _write_lines(tmp_path / "bad.jsonl", lines)
    with caplog.at_level(logging.WARNING, logger="s3audit.loader"):
        df = load_events(path)
    assert df["eventID"].tolist() == ["ok-1", "ok-2"]
    skipped = df.attrs["skipped"]
    assert df.attrs["skipped_total"] == 4
    by_line = {s["line"]: s["reason"] for s in skipped}
    assert set(by_line) == {2, 3, 4, 5}
    assert "malformed JSON" in by_line[2]
    assert "not a CloudTrail record" in by_line[3]
    assert all(s["source"] == str(path) for s in skipped)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "skipped 4" in warnings[0].getMessage()


def test_strict_raises_load_error_with_location(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "bad.jsonl", [line(record("ok")), "{not json"])
    with pytest.raises(LoadError) as info:
        load_events(path, strict=True)
    assert info.value.source == str(path) and info.value.line == 2
    assert "malformed JSON" in info.value.reason


def test_skipped_list_is_capped_but_counted() -> None:
    df = load_events(["{bad"] * 30 + [line(record())], max_skipped=5)
    assert len(df) == 1
    assert len(df.attrs["skipped"]) == 5 and df.attrs["skipped_total"] == 30


def test_truncated_gzip_keeps_earlier_lines(tmp_path: Path) -> None:
    lines = [line(r) for r in records(400)]
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    df = load_events(path)
    n = len(df)
    assert 0 < n < 400
    assert df["eventID"].tolist() == [f"e-{i}" for i in range(n)]  # a prefix, nothing invented
    assert df["raw"].tolist() == lines[:n]
    assert any("truncated" in s["reason"] for s in df.attrs["skipped"])
    with pytest.raises(LoadError, match="truncated"):
        load_events(path, strict=True)


def test_truncated_gzip_trail_file_keeps_complete_records(tmp_path: Path) -> None:
    doc = json.dumps({"Records": records(200)}).encode()
    data = gzip.compress(doc)
    path = tmp_path / "cut.json.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    df = load_events(path)
    assert 0 < len(df) < 200
    assert df["eventID"].tolist() == [f"e-{i}" for i in range(len(df))]
    reasons = " ".join(s["reason"] for s in df.attrs["skipped"])
    assert "records before" in reasons and "truncated" in reasons


def test_corrupt_gzip_is_recorded(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(("\n".join(line(r) for r in records(50)) + "\n").encode()))
    data[len(data) // 2: len(data) // 2 + 8] = b"\x00" * 8
    path = tmp_path / "corrupt.jsonl.gz"
    path.write_bytes(bytes(data))
    df = load_events(path)
    assert df.attrs["skipped_total"] >= 1
    assert len(df) < 50


def test_invalid_utf8_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bin.jsonl"
    path.write_bytes(line(record("a")).encode() + b"\n{\"eventName\": \"\xff\xfe\"}\n" + line(record("b")).encode())
    df = load_events(path)
    assert df["eventID"].tolist() == ["a", "b"]
    assert df.attrs["skipped"][0]["line"] == 2 and "UTF-8" in df.attrs["skipped"][0]["reason"]


def test_lone_surrogates() -> None:
    escaped = line(record("esc")).replace("reports/q3.csv", "\\ud800q3")  # JSON escape of a lone surrogate
    broken = line(record("bad")).replace("reports/q3.csv", "\ud800")  # a Python str that is not Unicode
    df = load_events([escaped, broken, line(record("ok"))])
    assert df["eventID"].tolist() == ["esc", "ok"]
    assert df["raw"].iloc[0] == escaped
    assert df["requestParameters.key"].iloc[0] == "\ufffdq3"
    assert df.attrs["skipped"][0]["line"] == 2 and "not valid Unicode" in df.attrs["skipped"][0]["reason"]


def test_csv_export_is_a_clear_load_error(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Event Type,Event Name\nAwsApiCall,ListObjects\n")
    with pytest.raises(LoadError, match="not CloudTrail JSON"):
        load_events(path)


def test_non_json_content_skips_whole_file_once(tmp_path: Path) -> None:
    path = tmp_path / "looks.json"
    path.write_text("Event Type,Event Name,Request ID\nAwsApiCall,ListObjects,X\n")
    df = load_events(path)
    assert len(df) == 0 and df.attrs["skipped_total"] == 1
    assert "looks like CSV" in df.attrs["skipped"][0]["reason"]


def test_empty_inputs_give_full_schema(tmp_path: Path) -> None:
    empty_file = tmp_path / "empty.jsonl"
    empty_file.write_text("")
    for source in ([], empty_file, tmp_path):
        df = load_events(source)
        assert len(df) == 0
        _assert_schema(df)
        assert df.attrs["skipped_total"] == 0


def test_blank_lines_are_not_events_and_not_errors(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "b.jsonl", ["", line(record("a")), "   ", "", line(record("b"))])
    df = load_events(path)
    assert df["eventID"].tolist() == ["a", "b"] and df.attrs["skipped_total"] == 0


# ------------------------------------------------------------------ filters

def test_default_filters_and_counts(caplog) -> None:
    recs = [record("d-1"), network_copy("n-1"), management("m-1"), record("x-1", eventSource="ec2.amazonaws.com"),
            record("z-1", eventSource="s3express.amazonaws.com"), record("d-1"), record("d-2")]
    df = load_events(recs)
    assert df["eventID"].tolist() == ["d-1", "d-2"]
    assert df.attrs["filtered"] == {"network_activity": 1, "non_s3": 2, "management": 1, "duplicates": 1}
    assert df.attrs["rows_read"] == 7


def test_keep_options() -> None:
    recs = [record("d-1"), network_copy("n-1"), management("m-1"), record("x-1", eventSource="ec2.amazonaws.com"),
            record("d-1")]
    assert len(load_events(recs, keep="all")) == 5
    kept = load_events(recs, keep={"network_activity", "duplicates"})
    assert kept["eventID"].tolist() == ["d-1", "n-1", "d-1"]
    assert kept.attrs["filtered"] == {"network_activity": 0, "non_s3": 1, "management": 1, "duplicates": 0}
    with pytest.raises(ValueError, match="unknown filter"):
        load_events(recs, keep={"managment"})


def test_event_sources_option_includes_directory_buckets() -> None:
    recs = [record("a"), record("b", eventSource="s3express.amazonaws.com")]
    df = load_events(recs, event_sources={"s3.amazonaws.com", "s3express.amazonaws.com"})
    assert df["eventID"].tolist() == ["a", "b"]


def test_network_activity_by_event_type_prefix_only() -> None:
    df = load_events([record("a", eventType="AwsVpceEvents", eventCategory="Data")])
    assert len(df) == 0 and df.attrs["filtered"]["network_activity"] == 1


def test_old_records_without_management_fields_use_event_name() -> None:
    old_data = record("a", eventVersion="1.05")
    old_mgmt = record("b", eventVersion="1.05", eventName="DeleteBucket")
    for r in (old_data, old_mgmt):
        del r["managementEvent"], r["eventCategory"]
    df = load_events([old_data, old_mgmt])
    assert df["eventID"].tolist() == ["a"] and df.attrs["filtered"]["management"] == 1


@pytest.mark.parametrize("ids, distinct", [(["a", "b", None, None], True), (["a", "b", "a"], False),
                                            ([None], True)])
def test_assemble_tells_whether_event_ids_are_distinct(ids, distinct) -> None:
    from s3audit.loader.errors import SkipLog
    from s3audit.loader.frame import assemble
    from s3audit.loader.reader import Reader

    reader = Reader(SkipLog())
    recs = [record(i) if i is not None else {k: v for k, v in record("x").items() if k != "eventID"} for i in ids]
    reader.read(recs)
    found: dict[str, bool] = {}
    assemble(reader.batches, {}, distinct=found)
    assert found == {"eventID": distinct}


def test_a_repeat_of_an_event_id_only_among_dropped_rows_is_not_a_duplicate() -> None:
    mgmt = record("m", eventCategory="Management", managementEvent=True, eventName="DeleteBucket")
    df = load_events([record("a"), mgmt, dict(mgmt), record("b"), record("b")])
    assert df["eventID"].tolist() == ["a", "b"]
    assert df.attrs["filtered"]["management"] == 2 and df.attrs["filtered"]["duplicates"] == 1


def test_duplicates_of_fast_and_careful_rows() -> None:
    odd = record("dup")
    odd["requestParameters"]["Host"] = ["s3.amazonaws.com"]  # forces the careful/split path
    df = load_events([line(record("dup"))] * 3 + [line(odd)])
    assert df["eventID"].tolist() == ["dup"] and df.attrs["filtered"]["duplicates"] == 3


# ------------------------------------------------------------------ types and other tools' copies

def test_logstash_copy_falls_back_to_timestamp(caplog) -> None:
    r = record("ls-1")
    del r["eventTime"]
    r["@timestamp"] = "2020-09-14T01:00:33.000Z"
    r["@version"] = "1"
    with caplog.at_level(logging.WARNING, logger="s3audit.loader"):
        df = load_events([r, record("ok")])
    assert df["eventTime"].tolist() == [pd.Timestamp("2020-09-14T01:00:33Z"), pd.Timestamp("2026-11-02T10:00:00Z")]
    assert df.attrs["time_from_timestamp"] == 1
    assert df["@@timestamp"].tolist()[0] == "2020-09-14T01:00:33.000Z"  # Insights name for a record's @-key
    assert any("@timestamp" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_stringified_numbers_and_booleans_are_typed() -> None:
    r = record("s-1", readOnly="true", managementEvent="false")
    r["additionalEventData"]["bytesTransferredOut"] = "89.0"
    df = load_events([r, record("n-1")])
    assert df["readOnly"].tolist() == [True, True]
    assert df["additionalEventData.bytesTransferredOut"].tolist() == [89.0, 1234.0]
    assert df.attrs["coerced"] == {}


def test_unconvertible_values_are_na_and_counted() -> None:
    r = record("s-1", eventTime="yesterday", readOnly="maybe")
    r["additionalEventData"]["bytesTransferredOut"] = "lots"
    df = load_events([r])
    assert df["eventTime"].isna().all() and df["readOnly"].isna().all()
    assert df["additionalEventData.bytesTransferredOut"].isna().all()
    assert df.attrs["coerced"] == {"eventTime": 1, "readOnly": 1, "additionalEventData.bytesTransferredOut": 1}


def test_times_outside_the_nanosecond_range_are_na_and_counted() -> None:
    # pandas would raise OutOfBoundsDatetime on the cast to ns: one odd record must not sink a load
    df = load_events([record("far", eventTime="3000-01-01T00:00:00Z"), record("old", eventTime="1600-01-01T00:00:00Z"),
                      record("ok")])
    assert df["eventTime"].isna().tolist() == [True, True, False]
    assert df.attrs["coerced"] == {"eventTime": 2}
    r = record("ts")
    del r["eventTime"]
    r["@timestamp"] = "2900-01-01T00:00:00.000Z"
    r["@version"] = "1"
    df = load_events([r])
    assert df["eventTime"].isna().all() and df.attrs["time_from_timestamp"] == 0


@pytest.mark.parametrize("texts", [
    ["2026-11-02T10:00:05Z", "2024-02-29T23:59:59Z", None, "1677-09-21T00:12:44Z", "2262-04-11T23:47:16Z"],
    ["2026-11-02T10:00:05Z", "2024-02-30T00:00:00Z"],  # no such day
    ["2026-11-02T10:00:05Z", "2024-01-01T23:59:60Z"],  # leap second
    ["2026-11-02T10:00:05Z", "2024-01-01T24:00:00Z"],
    ["2026-11-02T10:00:05Z", "2300-01-01T00:00:00Z"],  # beyond ns
    ["2026-11-02T10:00:05Z", "2024-01-01T00:00:00.5Z", "2024-01-01T00:00:00+01:00", "2024-01-01 00:00:00Z"],
    ["2026-11-02T10:00:05Z", "x", "\u0662024-01-01T00:00:00Z", "2024-1-01T00:00:00Z"],
])
def test_canonical_times_parse_as_pandas_would(texts: list[str | None]) -> None:
    from s3audit.loader.frame import _canonical_utc_times, _typed, parse_utc_times

    chunked = pa.chunked_array([pa.array(texts[:1], pa.string()), pa.array(texts[1:], pa.string())])
    coerced: dict[str, int] = {}
    got = _typed("eventTime", chunked, "datetime64[ns, UTC]", coerced)
    expected = parse_utc_times(pd.Series(texts, dtype="string"))
    pd.testing.assert_series_equal(got, expected, check_names=False)
    assert coerced.get("eventTime", 0) == int((pd.Series(texts).notna() & expected.isna()).sum())
    canonical = all(t is None or (len(t) == 20 and t[10] == "T" and t.endswith("Z")) for t in texts)
    # the Arrow path answers exactly when every text is canonical and valid
    assert (_canonical_utc_times(chunked) is not None) == (canonical and not expected[pd.Series(texts).notna()].isna().any())


def test_the_words_now_and_today_are_not_times() -> None:
    # pandas reads "now" and "today" as the current time: here they are unparseable, counted
    df = load_events([record("a", eventTime="now"), record("b", eventTime="today"), record("c")])
    assert df["eventTime"].isna().tolist() == [True, True, False]
    assert df.attrs["coerced"] == {"eventTime": 2}


def test_integers_beyond_double_precision_do_not_sink_a_load() -> None:
    # a float in one batch and an integer beyond 2**53 in another (the mixed list splits the
    # chunk into batches); and a declared Float64 column holding 2**63 - 1
    lines = [json.dumps(record("e0", x=0.5)), json.dumps(record("e1", y=[1, "a"])),
             json.dumps(record("e2", x=2**53 + 1))]
    df = load_events(lines)
    assert df["x"].tolist()[0] == 0.5 and df["x"].tolist()[2] == float(2**53 + 1)
    r = record("big")
    r["additionalEventData"]["bytesTransferredOut"] = 2**63 - 1
    df = load_events([r])
    assert df["additionalEventData.bytesTransferredOut"].tolist() == [float(2**63 - 1)]


@pytest.mark.parametrize("key", ["\u2460", "\u00b2", "1" * 5000, "007"])
def test_keys_that_look_like_positions_but_are_not_ascii_numbers(key: str) -> None:
    r = record("k")
    r["requestParameters"][key] = "x"
    df = load_events([r, record("other")])
    column = df[f"requestParameters.{key}"]
    assert column.iloc[0] == "x" and column.isna().tolist() == [False, True]


def test_event_sources_may_name_one_source() -> None:
    r = record("x", eventSource="s3express.amazonaws.com")
    df = load_events([r, record("s3")], event_sources="s3express.amazonaws.com")
    assert df["eventID"].tolist() == ["x"] and df.attrs["filtered"]["non_s3"] == 1
    with pytest.raises(TypeError):
        load_events([r], event_sources=[1])


@pytest.mark.parametrize("depth", [40, 400, 900])
def test_a_deeply_nested_record_is_a_row_on_every_route(depth: int) -> None:
    deep = record("deep")
    node = deep["requestParameters"]
    for _ in range(depth):
        node["n"] = {}
        node = node["n"]
    node["leaf"] = 1
    name = "requestParameters." + "n." * depth + "leaf"
    for source in ([deep, record("x")], [json.dumps(deep), json.dumps(record("x"))],
                   pa.array([json.dumps(deep), json.dumps(record("x"))])):
        df = load_events(source)
        assert df["eventID"].tolist() == ["deep", "x"] and df[name].tolist()[0] == 1


def test_a_dict_nested_too_deeply_to_serialise_is_one_skip() -> None:
    deep = record("deep")
    node = deep["requestParameters"]
    for _ in range(5000):  # a dict can nest deeper than json.dumps (or any JSON text) goes
        node["n"] = {}
        node = node["n"]
    df = load_events([deep, record("x")])
    assert df["eventID"].tolist() == ["x"] and df.attrs["skipped_total"] == 1
    assert "not JSON-serialisable" in df.attrs["skipped"][0]["reason"]


def _fast_and_careful(recs: list[dict], tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same records read by the fast path (JSON lines) and the careful one (a trail file)."""
    trail = tmp_path / "trail.json.gz"
    with gzip.open(trail, "wt") as f:
        json.dump({"Records": recs}, f)
    return load_events([json.dumps(r) for r in recs]), load_events(trail)


def test_a_key_with_a_dot_keeps_its_values_after_holding_a_time(tmp_path: Path) -> None:
    # a time-like value makes the fast path declare the path a string; "event.created" is one
    # key, not "event" > "created" (the values after it were NA on the fast path)
    recs = [record("e0", **{"event.created": "2026-11-02T10:00:01Z"}), record("e1", **{"event.created": 1762077601}),
            record("e2", **{"event.created": True})]
    fast, careful = _fast_and_careful(recs, tmp_path)
    assert fast["event.created"].tolist() == careful["event.created"].tolist() == \
        ["2026-11-02T10:00:01Z", "1762077601", "true"]


@pytest.mark.parametrize("first, second, expected", [
    ({"a.b": None}, {"a": {"b": 2}}, 2),  # a null never replaces a value
    ({"a": {"b": 2}}, {"a.b": 1}, 1),  # the later spelling wins
    ({"a": {"b": 2}}, {"a.b": "x"}, "x"),  # two kinds: JSON text
])
def test_two_spellings_of_one_name_give_the_same_value_on_every_route(first: dict, second: dict, expected: object,
                                                                      tmp_path: Path) -> None:
    recs = [record(f"e{i}", **first, **second) for i in range(3)]
    fast, careful = _fast_and_careful(recs, tmp_path)
    assert fast["a.b"].tolist() == careful["a.b"].tolist()
    assert str(fast["a.b"].tolist()[0]) == str(expected)


@pytest.mark.parametrize("lines", [
    ["R1", "[1]", "null", "R2"],  # the range restarts after a rejected line, at the null
    ["null", "R1", "R2"],  # `jq .Records` prints null for a file without records
    ["R1", "  null", "\t{\"eventID\": \"x\"}", "R2"],
])
def test_lines_that_are_not_objects_never_reach_arrow(lines: list[str], tmp_path: Path) -> None:
    # pyarrow 25's JSON reader kills the process (SIGSEGV) on data starting with a null line
    texts = [json.dumps(record(x)) if x.startswith("R") else x for x in lines]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(texts) + "\n")
    ids, skipped = load_in_child(path)
    assert ids == sorted(x for x in lines if x.startswith("R"))
    assert skipped == sum(1 for x in lines if not x.startswith("R"))  # (the indented object is no record)


def test_a_key_with_a_lone_surrogate_is_repaired_like_values() -> None:
    text = json.dumps(record("e0"))[:-1] + ', "k\\ud800": 1, "v": "x\\udc00"}'
    for source in ([text], pa.array([text])):
        df = load_events(source)
        assert df["k\ufffd"].tolist() == [1] and df["v"].tolist() == ["x\ufffd"]


def test_keys_with_a_lone_surrogate_are_repaired_in_the_record_facts_too() -> None:
    text = json.dumps(record("e0"))[:-1] + ', "k\\ud800": null, "a": {"q\\udc00": {}}, "x.\\ud800": 1}'
    df = load_events([text])
    facts = df.attrs["record_facts"]
    assert "k\ufffd" in facts["null_keys"] and "a.q\ufffd" in facts["hollow"] and "x.\ufffd" in facts["odd_keys"]
    assert "x.\ufffd" in df.columns
    json.dumps(dict(facts), ensure_ascii=False).encode("utf-8")  # (a lone surrogate cannot be encoded)


def test_two_keys_repaired_to_one_name_keep_both_values_as_text() -> None:
    a = json.dumps(record("e0"))[:-1] + ', "k\\ud800": 1}'
    b = json.dumps(record("e1"))[:-1] + ', "k\\udc00": "s"}'
    df = load_events([a, b])
    assert df["k\ufffd"].tolist() == ["1", "s"]  # (was: "s" dropped silently)
    assert df.attrs["record_facts"]["columns"]["k\ufffd"] is False  # JSON text of two kinds


def test_a_column_that_only_ever_holds_numbers_stays_numeric(tmp_path: Path) -> None:
    # ["a", null] lists make x.1 an all-null *string* column in their batch; numbers elsewhere
    recs = [record(f"s{i}", x=["a", None]) for i in range(3)] + [record(f"n{i}", x=[1, 2.5]) for i in range(3)]
    fast, careful = _fast_and_careful(recs, tmp_path)
    for df in (fast, careful):
        assert str(df["x.1"].dtype) == "Float64" and df["x.1"].tolist()[3:] == [2.5] * 3
    assert fast.attrs["record_facts"]["columns"]["x.1"] is True


@pytest.mark.parametrize("route", ["jsonl", "arrow"])
def test_a_record_nested_deeper_than_arrow_survives_is_one_skip(route: str, tmp_path: Path) -> None:
    # pyarrow 25's JSON reader overflows its stack at ~17,500 levels (35 KB of text, well within
    # a CloudWatch event): such lines never reach it
    deep = json.dumps(record("deep"))[:-1] + ', "x": ' + '{"a":' * 20_000 + "1" + "}" * 20_000 + "}"
    texts = [json.dumps(record("a")), deep, json.dumps(record("b"))]
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join(texts) + "\n")
    assert load_in_child(path, as_arrow=route == "arrow") == (["a", "b"], 1)


def test_an_integer_beyond_double_precision_next_to_floats_is_the_same_double_on_every_route(tmp_path: Path) -> None:
    recs = [record("a", x=2**60 + 1), record("b", x=1.5)]
    fast, careful = _fast_and_careful(recs, tmp_path)
    for df in (fast, careful):
        assert str(df["x"].dtype) == "Float64" and df["x"].tolist() == [float(2**60 + 1), 1.5]


def test_two_spellings_in_different_key_orders_resolve_per_record(tmp_path: Path) -> None:
    # the later spelling in each record's own key order (the fast path alone sees one order)
    recs = [record("r1", **{"a.b": 1, "a": {"b": 2}}), record("r2", **{"a": {"b": 3}, "a.b": 4}),
            record("r3", **{"x.y": "s", "x": {"y": 4}}), record("r4", x={"y": 5})]
    fast, careful = _fast_and_careful(recs, tmp_path)
    for df in (fast, careful):
        assert df["a.b"].tolist()[:2] == [2, 4]
        assert [str(v) for v in df["x.y"].tolist()[2:]] == ["4", "5"]
    pd.testing.assert_series_equal(fast["x.y"], careful["x.y"])


def test_host_as_list_or_lowercase() -> None:
    a = record("a")
    b = record("b")
    b["requestParameters"] = {"bucketName": "acme-data", "host": ["s3.amazonaws.com"]}
    c = record("c")
    c["requestParameters"]["Host"] = ["s3.amazonaws.com"]
    df = load_events([a, b, c])
    assert df["requestParameters.Host"].tolist()[0] == "acme-data.s3.eu-west-1.amazonaws.com"
    assert pd.isna(df["requestParameters.Host"].tolist()[1])
    assert df["requestParameters.host.0"].tolist()[1] == "s3.amazonaws.com"
    assert df["requestParameters.Host.0"].tolist()[2] == "s3.amazonaws.com"
    from s3audit.schema import request_host

    assert request_host(df).tolist() == ["acme-data.s3.eu-west-1.amazonaws.com", "s3.amazonaws.com",
                                         "s3.amazonaws.com"]


def test_mixed_json_types_in_extra_field_become_json_text() -> None:
    a = record("a")
    a["additionalEventData"]["aclRequired"] = True
    b = record("b")
    b["additionalEventData"]["aclRequired"] = "Yes"
    df = load_events([a, b])
    assert df["additionalEventData.aclRequired"].astype("string").tolist() == ["true", "Yes"]


def test_extra_column_types() -> None:
    recs = records(10)
    for i, r in enumerate(recs):
        r["additionalEventData"]["count"] = i
        r["additionalEventData"]["ratio"] = i / 2
        r["additionalEventData"]["flag"] = i % 2 == 0
    df = load_events(recs)
    assert df["additionalEventData.count"].dtype == "Int64"
    assert df["additionalEventData.ratio"].dtype == "Float64"
    assert df["additionalEventData.flag"].dtype == "boolean"
    assert isinstance(df["tlsDetails.cipherSuite"].dtype, pd.CategoricalDtype)  # one value, 10 rows
    assert isinstance(df["requestParameters.key"].dtype, pd.StringDtype)  # contract column


def test_timestamp_looking_strings_stay_text() -> None:
    r = record("a")
    r["requestParameters"]["versionId"] = "2026-11-02"
    r["additionalEventData"]["objectRetentionInfo"] = {"retainUntil": "2027-01-01T00:00:00Z"}
    df = load_events([r, record("b")])
    assert df["requestParameters.versionId"].astype("string").tolist()[0] == "2026-11-02"
    assert df["additionalEventData.objectRetentionInfo.retainUntil"].astype("string").tolist()[0] == \
        "2027-01-01T00:00:00Z"
    assert df["userIdentity.sessionContext.attributes.creationDate"].astype("string").tolist()[0] == \
        "2026-11-02T09:00:00Z"


def test_input_order_is_kept_across_fast_and_careful_rows() -> None:
    recs = records(100)
    recs[37]["requestParameters"]["Host"] = ["odd"]
    texts = [line(r) for r in recs]
    texts[60] = json.dumps({"Records": [record("w-0"), record("w-1")]})  # a wrapper on one line
    df = load_events(texts)
    expected = [f"e-{i}" for i in range(100)]
    expected[60:61] = ["w-0", "w-1"]
    assert df["eventID"].tolist() == expected


@pytest.mark.parametrize("chunk_bytes", [500, 1700, 4096, 16384])  # 16384: the read buffer is reused
def test_chunk_boundaries_do_not_change_the_result(tmp_path: Path, chunk_bytes: int) -> None:
    recs = records(40)
    odd = record("odd")
    odd["requestParameters"]["Host"] = ["s3.amazonaws.com"]
    lines = [line(r) for r in recs[:20]] + ["", "{broken", line(odd)] + [line(r) for r in recs[20:]]
    path = tmp_path / "c.jsonl.gz"
    path.write_bytes(gzip.compress(("\r\n".join(lines)).encode()))  # CRLF, no final newline
    small = load_events(path, chunk_bytes=chunk_bytes)
    whole = load_events(path)
    pd.testing.assert_frame_equal(small, whole)
    assert len(whole) == 41 and whole["raw"].iloc[-1] == lines[-1]
    assert small.attrs["skipped"] == whole.attrs["skipped"] == [
        {"source": str(path), "line": 22, "reason": small.attrs["skipped"][0]["reason"]}]


def test_a_pyarrow_array_of_json_texts_loads_like_the_strings() -> None:
    """The Insights client hands over its @message column as a pyarrow (chunked) string array."""
    import pyarrow as pa

    texts = [line(r) for r in records(30)]
    texts[5] = json.dumps(record("pretty"), indent=2)  # a multi-line text: careful path
    texts[7] = "{broken"
    texts[9] = None
    arr = pa.chunked_array([pa.array(texts[:12], type=pa.large_string()),
                            pa.array(texts[12:], type=pa.large_string())])
    df = load_events(arr)
    expected = load_events([t for t in texts if t is not None])
    pd.testing.assert_frame_equal(df, expected)
    pd.testing.assert_frame_equal(load_events(pa.array(texts)), expected)  # a plain string array
    assert len(df) == 28 and df["eventID"].iloc[5] == "pretty"
    assert sorted((s["source"], s["line"]) for s in df.attrs["skipped"]) == [("<iterable>", 8), ("<iterable>", 10)]
    assert df.attrs["sources"] == ["<iterable>"]
    with pytest.raises(LoadError):
        load_events(pa.array([1, 2]))


def test_a_multi_line_text_before_a_line_the_fast_path_hands_back_is_not_lost() -> None:
    """Regression: the careful path queued the multi-line text (input 4) before the good line after
    a broken one (input 3, handed back by the fast path), and the batch out of input order made
    merge_batches drop a row silently."""
    texts = [line(record("a")), "{broken", line(record("b")), json.dumps(record("pretty"), indent=2),
             json.dumps({"Records": [record("w1"), record("w2")]})]
    for source in (texts, __import__("pyarrow").array(texts)):
        df = load_events(source)
        assert df["eventID"].tolist() == ["a", "b", "pretty", "w1", "w2"]
        assert df.attrs["rows_read"] == 5 and df.attrs["skipped_total"] == 1


def test_columns_built_on_several_threads_equal_the_one_thread_build(monkeypatch) -> None:
    """frame.assemble builds the columns of big frames on threads: same frame, same counts."""
    from s3audit.loader import frame

    recs = records(40)
    bad = record("s-1", eventTime="yesterday", readOnly="maybe")
    bad["additionalEventData"]["bytesTransferredOut"] = "lots"
    odd = record("x-1", readOnly="true", extraField={"nested": [1, "two"]})
    odd["additionalEventData"]["bytesTransferredOut"] = "89.0"
    inputs = recs + [bad, odd, management("m-1"), network_copy("e-3")]
    monkeypatch.setattr(frame, "PARALLEL_ROWS", 10**9)
    one = load_events(inputs)
    monkeypatch.setattr(frame, "PARALLEL_ROWS", 1)
    monkeypatch.setattr(frame, "_usable_cpus", lambda: 4)
    calls: list[str] = []
    real_typed = frame._typed

    def typed(*args):
        calls.append(threading.current_thread().name)
        return real_typed(*args)

    monkeypatch.setattr(frame, "_typed", typed)
    many = load_events(inputs)
    assert any(name.startswith("s3audit-frame") for name in calls)  # the threaded path ran
    pd.testing.assert_frame_equal(many, one)
    assert list(many.columns) == list(one.columns)
    for key in ("coerced", "filtered", "skipped_total", "rows_read"):
        assert many.attrs[key] == one.attrs[key]
    assert one.attrs["coerced"] == {"eventTime": 1, "readOnly": 1, "additionalEventData.bytesTransferredOut": 1}


@pytest.mark.parametrize("chunks", [
    [["b", None, "a"], [], ["a", "c", None], ["b"]],  # repeats across chunks, nulls, an empty chunk
    [[None, None], [None]],
    [["x"]],
])
def test_categorical_columns_equal_pandas_own_categorical(chunks) -> None:
    from s3audit.loader.frame import _categorical

    col = pa.chunked_array([pa.array(c, pa.string()) for c in chunks], type=pa.string())
    values = [v for c in chunks for v in c]
    got = _categorical(col)
    as_list = [None if pd.isna(v) else v for v in got.tolist()]
    assert as_list == values
    assert sorted(got.cat.categories) == sorted({v for v in values if v is not None})
    dict_col = pa.chunked_array([pa.array(c, pa.string()).dictionary_encode() for c in chunks])
    assert [None if pd.isna(v) else v for v in _categorical(dict_col).tolist()] == values
    # the dtype built without pandas' check is the one its public constructor builds
    for series in (got, _categorical(dict_col)):
        assert series.cat.categories.dtype == object and series.cat.categories.is_unique
        public = pd.Categorical(values, categories=pd.Index(list(series.cat.categories), dtype=object))
        pd.testing.assert_series_equal(series, pd.Series(public))


def test_select_rows_equals_pandas_selection_on_a_many_chunk_frame() -> None:
    """select_rows (Arrow filter per chunk) gives what loc[mask].reset_index(drop=True) gives."""
    import random

    from s3audit.loader import TextStream
    from s3audit.loader.frame import select_rows

    stream = TextStream(background=False)
    recs = records(300)
    for lo in range(0, 300, 37):  # many pieces: the raw column has many chunks
        stream.add(pa.array([line(r) for r in recs[lo:lo + 37]], pa.large_string()))
    df = stream.finish(list(range(300)))
    assert df["raw"].array.__arrow_array__().num_chunks > 1
    rng = random.Random(3)
    for keep in (np.array([rng.random() < 0.7 for _ in range(len(df))]), np.zeros(len(df), bool),
                 np.ones(len(df), bool)):
        got = select_rows(df, keep)
        pd.testing.assert_frame_equal(got, df.loc[keep].reset_index(drop=True))
        assert got.attrs == df.attrs


# ------------------------------------------------------------ eventIDs and categoricals on real loads

def test_event_ids_equal_only_after_typing_are_duplicates_on_every_route(tmp_path: Path) -> None:
    """1, "1" and 1.0/"1.0" differ in Arrow (int, string, float) but are the same eventID text;
    some lines take the careful path (a trailing comma, a missing brace): the ``ids_distinct``
    shortcut must not skip those repeats on any route."""
    rows = [line(r) for r in records(200)]
    rows += [json.dumps(record(1)), json.dumps(record("1")), json.dumps(record(1.0)), json.dumps(record("1.0")),
             json.dumps(record("careful")) + " ,", json.dumps(record("careful")), "  " + json.dumps(record(1)) + " " * 80]
    path = tmp_path / "ids.jsonl"
    path.write_text("\n".join(rows) + "\n")
    frames = [load_events(source) for source in (path, rows, pa.array(rows))]
    for df in frames:
        assert df["eventID"].tolist()[-3:] == ["1", "1.0", "careful"]
        assert df.attrs["filtered"]["duplicates"] == 4 and df.attrs["skipped_total"] == 1  # "1", "1.0", "careful", 1
        pd.testing.assert_frame_equal(df.drop(columns="raw"), frames[1].drop(columns="raw"))


def test_categorical_columns_match_the_public_constructor_on_a_real_load() -> None:
    df = load_events([record(f"e{i}", userAgent=None if i % 3 else "ua", sourceIPAddress=f"10.0.0.{i % 5}")
                      for i in range(300)])
    for name in df.columns:
        col = df[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            public = pd.CategoricalDtype(pd.Index(list(col.cat.categories), dtype=object), ordered=False)
            assert col.dtype == public and hash(col.dtype) == hash(public) and col.cat.categories.is_unique
            pd.testing.assert_series_equal(col, pd.Series(pd.Categorical(col.tolist(), dtype=public), name=name))
