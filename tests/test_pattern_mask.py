"""mask(frame) == matches(raw) row by row: hand-made frames, the loader's frames, real-world records."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import s3audit
from s3audit.pattern import compile_pattern
from s3audit.paths import SAMPLES_DIR
from tests._pattern_support import REALWORLD, cis_patterns, make_frame, as_complete_pattern, vectors

PATTERNS = [
    '{ ($.eventName = "GetObject") && ($.additionalEventData.bytesTransferredOut > 1000 ) && '
    '( ($.sourceIPAddress!="123.123.123.123") && ( ($.vpcEndpointId != "vpce-xxxxxxxx" ) || '
    '($.vpcEndpointId NOT EXISTS) ) ) }',
    '{ $.vpcEndpointId != "vpce-0c3f5a9e1b7d24680" }',
    "{ $.vpcEndpointId NOT EXISTS }",
    "{ $.vpcEndpointId IS NULL }",
    "{ $.responseElements IS NULL }",
    "{ $.responseElements NOT EXISTS }",
    "{ $.errorCode NOT EXISTS && $.userAgent = *Mozilla* }",
    '{ $.userIdentity.accountId != "anonymous" }',
    '{ $.userIdentity.invokedBy NOT EXISTS || $.userIdentity.invokedBy != "athena.amazonaws.com" }',
    '{ $.eventVersion = "1.09" }',
    "{ $.eventVersion > 1.08 }",
    "{ $.readOnly IS TRUE && $.managementEvent IS FALSE }",
    "{ $.readOnly = true }",
    '{ $.eventTime = "2026-10-1*" }',
    "{ $.resources[1].accountId = 111122223333 }",
    '{ $.resources[*].type = "AWS::S3::Bucket" }',
    "{ $.requestParameters.X-Amz-Expires > 300 }",
    '{ $.requestParameters.key = %emp-10[0-9]% }',
    '{ $.requestParameters.key = "payslips/*" || $.requestParameters.bucketName = *datalake* }',
    "{ $.additionalEventData.bytesTransferredIn = 0 }",
    '{ $.additionalEventData.bytesTransferredIn != "0" }',
    "{ $.additionalEventData.bytesTransferredOut = * }",
    '{ $.tlsDetails.tlsVersion != "TLSv1.3" }',
    '{ $.sourceIPAddress = %^10\\.% || $.sourceIPAddress = "198.51.100.*" }',
    "{ $.nosuchfield = 1 || $.nosuch.nested IS NULL }",
    "{ $.* = %^s3\\.% }",
    "{}",
    "GetObject -vpce",
    '"acme-payroll-prod" ?nothing',
    "?AccessDenied ?NoSuchKey",
    "%vpce-0[0-9a-f]+%",
    "",
    "[version, ...]",
]


@pytest.fixture(scope="module")
def samples() -> pd.DataFrame:
    path = SAMPLES_DIR / "events.jsonl.gz"
    if not path.exists():
        pytest.skip(reason="data/samples/events.jsonl.gz not generated yet")
    return s3audit.load_events(path)


def _check(frame: pd.DataFrame, pattern: str) -> None:
    p = compile_pattern(pattern)
    got = p.mask(frame)
    assert isinstance(got, pd.Series) and got.dtype == bool
    assert got.index.equals(frame.index)
    expected = [p.matches(r) for r in frame["raw"]]
    assert got.tolist() == expected, pattern


@pytest.mark.parametrize("pattern", PATTERNS)
def test_mask_equals_matches_on_samples(samples, pattern):
    _check(samples, pattern)


@pytest.mark.parametrize("pattern", PATTERNS[:8])
def test_mask_on_a_filtered_frame_with_another_index(samples, pattern):
    sub = samples[samples["eventName"] == "GetObject"].iloc[::3]
    assert not sub.index.equals(pd.RangeIndex(len(sub)))
    _check(sub, pattern)


@pytest.mark.parametrize("source", ["trail", "insights-export.json"])
def test_mask_on_other_sample_sources(source):
    path = SAMPLES_DIR / source
    if not path.exists():
        pytest.skip(reason=f"{path} not generated yet")
    frame = s3audit.load_events(path)
    for pattern in PATTERNS[:12]:
        _check(frame, pattern)


def test_mask_on_real_world_records():
    files = sorted(REALWORLD.glob("*/*.jsonl"))
    if not files:
        pytest.skip(reason="shared real-world records not available here")
    frame = s3audit.load_events(files, keep="all")
    assert len(frame) >= 60
    pats = PATTERNS + [as_complete_pattern(c["pattern"]) for c in cis_patterns()] + [
        '{ $.additionalEventData.vpcEndpointId = "vpce-f40dc59d" }',
        '{ $.requestParameters.host[0] = "s3.amazonaws.com" }',
        "{ $.requestParameters.host NOT EXISTS }",
    ]
    for pattern in pats:
        _check(frame, pattern)


def test_mask_on_vector_events_with_every_column_dtype():
    events = [v["event"] for v in vectors()]
    frames = [make_frame(events), make_frame(events, object_columns=True)]
    frames.append(make_frame(events, string_columns=[c for c in frames[0].columns if c != "raw"]))
    for v in vectors():
        if "error" in v:
            continue
        for frame in frames:
            _check(frame, v["pattern"])


# ----------------------------------------------------------------------------- what columns cannot say
def test_null_versus_missing_versus_container():
    events = [{"eventSource": "s3", "v": None}, {"eventSource": "s3"}, {"eventSource": "s3", "v": {"x": 1}},
              {"eventSource": "s3", "v": {}}, {"eventSource": "s3", "v": []}, {"eventSource": "s3", "v": "a"},
              {"eventSource": "s3", "w": {"v": None}}]
    frame = make_frame(events)
    for pattern in ("{ $.v NOT EXISTS }", "{ $.v IS NULL }", '{ $.v != "b" }', "{ $.v = * }",
                    "{ $.w.v IS NULL }", "{ $.w.v NOT EXISTS }", "{ $.v.x NOT EXISTS }"):
        _check(frame, pattern)
    assert compile_pattern("{ $.v NOT EXISTS }").mask(frame).tolist() == [False, True, False, False, False,
                                                                          False, True]


def test_a_dotted_key_does_not_fool_the_flattened_column():
    events = ['{"eventSource":"s3","a":{"b":"nested"}}', '{"eventSource":"s3","a.b":"dotted"}',
              '{"eventSource":"s3","a.b":"dotted","a":{"b":"nested"}}', '{"eventSource":"s3","a":{"b":null}}']
    frame = make_frame(events)  # make_frame gives both spellings the column "a.b", as Logs Insights does
    for pattern in ('{ $.a.b = "dotted" }', '{ $.a.b = "nested" }', "{ $.a.b NOT EXISTS }",
                    "{ $.a.b IS NULL }", "{ $.['a.b'] = dotted }"):
        _check(frame, pattern)
    assert compile_pattern('{ $.a.b = "dotted" }').mask(frame).sum() == 0


def test_strings_that_look_like_numbers_or_booleans():
    events = ['{"eventSource":"s3","n":"true"}', '{"eventSource":"s3","n":true}', '{"eventSource":"s3","n":"1e3"}',
              '{"eventSource":"s3","n":1e3}', '{"eventSource":"s3","n":"1000"}', '{"eventSource":"s3","n":1000}']
    frame = make_frame(events)  # a mixed column -> object dtype
    # the loader writes mixed-kind columns as text (JSON text of non-strings): mimic that too
    text = frame.copy()
    text["n"] = pd.Categorical(["true", "true", "1e3", "1000.0", "1000", "1000"])
    facts = frame.attrs["record_facts"]  # shared read-only by copies: build a new one
    text.attrs = {"record_facts": {**facts, "columns": {**facts["columns"], "n": False}}}  # as the loader says
    for f in (frame, text):
        for pattern in ('{ $.n = "true" }', "{ $.n IS TRUE }", "{ $.n = 1000 }", '{ $.n = "1e3" }',
                        '{ $.n = "1000" }', "{ $.n > 999 }", '{ $.n != "x" }', "{ $.n = 1* }"):
            _check(f, pattern)


def test_loader_coerced_contract_columns(tmp_path):
    """readOnly / bytesTransferredOut given as strings: the loader coerces them; mask must not be fooled."""
    base = {"eventVersion": "1.09", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
            "eventCategory": "Data", "managementEvent": False, "eventTime": "2026-11-02T10:00:00Z"}
    rows = []
    for i, (ro, out) in enumerate([(True, 5000), ("true", "5000"), ("yes", "abc"), (False, 10), (None, None)]):
        rec = dict(base, eventID=f"e{i}", readOnly=ro)
        if out is not None:
            rec["additionalEventData"] = {"bytesTransferredOut": out}
        rows.append(json.dumps(rec))
    frame = s3audit.load_events(rows)
    assert len(frame) == 5
    # the situation under test: the frame's typed columns hide that the JSON held strings
    assert frame["readOnly"].tolist()[:2] == [True, True]
    assert frame["additionalEventData.bytesTransferredOut"].tolist()[:2] == [5000.0, 5000.0]
    for pattern in ("{ $.readOnly IS TRUE }", '{ $.readOnly = "true" }', "{ $.readOnly NOT EXISTS }",
                    "{ $.additionalEventData.bytesTransferredOut > 1000 }",
                    '{ $.additionalEventData.bytesTransferredOut != "abc" }',
                    '{ $.additionalEventData.bytesTransferredOut = "5000" }',
                    "{ $.additionalEventData.bytesTransferredOut != 10 }"):
        _check(frame, pattern)


def test_rows_whose_raw_is_not_a_json_object():
    frame = make_frame(['{"a":1}', "not json", "[1]", '{"a":2}'])
    for pattern in ("{ $.b NOT EXISTS }", "{ $.a NOT EXISTS }", "{}", "json", "{ $.a = 1 }"):
        _check(frame, pattern)


def test_empty_frame_and_missing_raw():
    empty = make_frame([])
    assert compile_pattern("{ $.a = 1 }").mask(empty).tolist() == []
    assert compile_pattern("x").mask(empty).tolist() == []
    no_raw = make_frame([{"eventName": "GetObject"}, {"eventName": "PutObject"}]).drop(columns="raw")
    assert compile_pattern('{ $.eventName = "GetObject" }').mask(no_raw).tolist() == [True, False]
    with pytest.raises(ValueError, match="raw"):
        compile_pattern("GetObject").mask(no_raw)
    # without the loader's facts no column is trusted: raw decides, and there is none
    no_raw.attrs.clear()
    with pytest.raises(ValueError, match="raw"):
        compile_pattern('{ $.eventName = "GetObject" }').mask(no_raw)
    with pytest.raises(TypeError):
        compile_pattern("x").mask(["not", "a", "frame"])  # type: ignore[arg-type]


def test_repeated_masks_reuse_raw_facts(samples):
    p = compile_pattern(PATTERNS[0])
    first = p.mask(samples)
    assert p.mask(samples).equals(first)
    assert p.mask(samples.copy()).equals(first)  # a copy is a new frame: recomputed, same answer


def test_mask_is_vectorised_for_column_patterns(samples, monkeypatch):
    """The issue's pattern must not parse raw for any row of the samples."""
    import s3audit.pattern.mask as mask_mod

    calls = []
    original = mask_mod._per_row
    monkeypatch.setattr(mask_mod, "_per_row", lambda ast, fr, rows: calls.append(len(rows)) or original(ast, fr, rows))
    compile_pattern(PATTERNS[0]).mask(samples)
    compile_pattern('{ $.eventName = "GetObject" && $.userIdentity.type = "AssumedRole" }').mask(samples)
    assert sum(calls) == 0
    compile_pattern("{ $.resources[0].type = x }").mask(samples)  # an index: raw, by design
    assert sum(calls) == len(samples)


def test_mask_result_is_plain_bool_numpy_backed(samples):
    got = compile_pattern(PATTERNS[0]).mask(samples)
    assert got.dtype == np.dtype(bool)
    assert 0 < got.sum() < len(samples)


# ----------------------------------------------------------------------------- trusted columns
def test_classified_frame_derived_columns_are_not_the_record(samples):
    """classify() adds columns CloudWatch never sees: the mask must answer what matches() answers
    on raw (no such key in the record), not what the derived column holds."""
    from s3audit.sources import ADDED_COLUMNS, classify

    frame = classify(samples)
    assert "record_facts" in frame.attrs and "source" in frame.columns
    for name in ADDED_COLUMNS:
        for pattern in (f'{{ $.{name} != "athena" }}', f'{{ $.{name} = "athena" }}', f"{{ $.{name} = * }}",
                        f"{{ $.{name} NOT EXISTS }}", f"{{ $.{name} IS NULL }}", f"{{ $.{name} IS TRUE }}",
                        f'{{ $.eventName = "GetObject" && $.{name} != "x" }}',
                        f'{{ $.{name} NOT EXISTS || $.eventName = "PutObject" }}'):
            _check(frame, pattern)
    assert compile_pattern('{ $.source != "athena" }').mask(frame).sum() == 0
    assert compile_pattern("{ $.source NOT EXISTS }").mask(frame).all()


def test_user_added_and_replaced_columns(samples):
    frame = samples.copy()
    frame["my_flag"] = "x"
    frame["my.nested"] = 1.0
    frame = frame[frame["eventName"].notna()]  # boolean indexing keeps the facts
    assert "record_facts" in frame.attrs
    for pattern in ('{ $.my_flag = "x" }', "{ $.my_flag NOT EXISTS }", "{ $.my.nested = 1 }",
                    "{ $.my NOT EXISTS }", "{ $.my IS NULL }"):
        _check(frame, pattern)
    assert compile_pattern('{ $.my_flag = "x" }').mask(frame).sum() == 0
    # a record column replaced by one of another dtype is not trusted either
    frame["eventName"] = np.where(frame["eventName"] == "GetObject", "PutObject", "GetObject")
    _check(frame, '{ $.eventName = "GetObject" }')


def test_frames_without_facts_are_decided_on_raw(samples):
    frame = samples.iloc[:300].copy()
    frame.attrs = {}
    frame["eventName"] = frame["eventName"].cat.rename_categories(lambda c: c + "X")  # same dtype
    for pattern in PATTERNS[:3] + ['{ $.eventName = "GetObject" }', "{ $.vpcEndpointId NOT EXISTS }"]:
        _check(frame, pattern)


def test_first_mask_on_loaded_samples_scans_no_raw(samples, monkeypatch):
    """With the loader's facts, the issue's pattern needs no raw-text scan and no parse."""
    import s3audit.pattern.mask as mask_mod
    from s3audit.pattern import rawtext

    fresh = samples.copy()
    called = []
    monkeypatch.setattr(rawtext.RawText, "search_mask", lambda *a, **k: called.append(a) or 1 / 0)
    monkeypatch.setattr(rawtext.RawText, "search", lambda *a, **k: called.append(a) or 1 / 0)
    monkeypatch.setattr(mask_mod, "_per_row", lambda *a, **k: called.append(a) or 1 / 0)
    for pattern in (PATTERNS[0], "{ $.vpcEndpointId NOT EXISTS }", "{ $.vpcEndpointId IS NULL }",
                    '{ $.additionalEventData.bytesTransferredOut > 1000 && $.userIdentity.type = "AssumedRole" }'):
        compile_pattern(pattern).mask(fresh)
    assert called == []


@pytest.mark.parametrize("text", ['{ $.raw NOT EXISTS }', '{ $.raw = "x" }', '{ $.raw = * }', '{ $.raw IS NULL }',
                                  '{ $.raw.a = 1 }'])
def test_a_record_field_named_raw_is_not_the_frame_raw_column(text: str) -> None:
    # the frame's "raw" column is the record's JSON text; a record's own top-level "raw" field
    # was invisible to the mask (NOT EXISTS answered true for it)
    from tests._loader_support import record

    with_raw, without, nested, null = record("a"), record("b"), record("c"), record("d")
    with_raw["raw"], nested["raw"], null["raw"] = "x", {"a": 1}, None
    records = [with_raw, without, nested, null]
    pattern = compile_pattern(text)
    expected = [pattern.matches(r) for r in records]
    for source in (records, [json.dumps(r) for r in records]):
        df = s3audit.load_events(source)
        assert pattern.mask(df).tolist() == expected


@pytest.mark.parametrize(("text", "column"), [("{ $.a.['\u00b2'] = \"x\" }", "a.\u00b2"), ("{ $.a.['7'] = \"x\" }", None),
                                              ('{ $.a[2] = "x" }', None)])
def test_a_key_of_non_ascii_digits_has_its_column(text: str, column: str | None) -> None:
    # "\u00b2".isdigit() is true, but no list position is spelled so: the column "a.\u00b2" is unique
    from s3audit.pattern.parser import parse

    assert parse(text).body.selector.column == column
