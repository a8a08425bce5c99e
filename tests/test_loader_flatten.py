"""Flattening: round trip, Insights names, and the fast (Arrow) path agreeing with the careful path."""
from __future__ import annotations

import json

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3audit.flatten import flatten_record, unflatten_record
from s3audit.loader import load_events
from s3audit.loader.errors import SkipLog
from s3audit.loader.reader import Reader
from tests._loader_support import line, record

# keys without dots and not all digits (those are the only ambiguous names); no leading "@"
keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ-_:", min_size=1, max_size=6)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**53, 2**53),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8))
# no empty containers: they produce no field (documented), so they cannot round-trip
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, min_size=1, max_size=3), st.dictionaries(keys, inner, min_size=1, max_size=3)), max_leaves=12)
documents = st.dictionaries(keys, values, min_size=1, max_size=5)


@given(documents)
def test_flatten_round_trip(doc: dict) -> None:
    flat = flatten_record(doc)
    assert all(not isinstance(v, (dict, list)) for v in flat.values())
    assert unflatten_record(flat) == doc


def test_insights_names() -> None:
    flat = flatten_record({"@timestamp": "t", "a": {"b": [{"c": 1}, 2]}, "e": [], "f": {}, "g": None})
    assert flat == {"@@timestamp": "t", "a.b.0.c": 1, "a.b.1": 2, "g": None}


def _fast_and_careful(texts: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    fast = load_events(texts, keep="all")
    # the careful path alone: every line through json.loads + flatten_record
    reader = Reader(SkipLog())
    reader.fast.careful([(t.encode(), i) for i, t in enumerate(texts)])
    reader._flush()
    from s3audit.loader.frame import assemble

    careful = assemble(reader.batches, {})
    return fast, careful


field_values = st.one_of(st.none(), st.booleans(), st.integers(0, 10**12), st.floats(0, 1e9),
                         st.text(alphabet="abc-2026T:Z0", max_size=12),
                         st.lists(st.text(alphabet="xyz", max_size=3), min_size=1, max_size=2),
                         st.dictionaries(st.sampled_from(["p", "q"]), st.integers(0, 9), min_size=1))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(st.sampled_from(["Host", "key", "extra", "bytes"]), field_values, max_size=4),
                min_size=1, max_size=12))
def test_fast_path_equals_careful_path(params: list[dict]) -> None:
    """Heterogeneous requestParameters (lists vs strings, numbers vs strings, timestamp-like text)
    give the same frame through Arrow as through json.loads, row for row."""
    texts = []
    for i, p in enumerate(params):
        r = record(f"e-{i}")
        r["requestParameters"] = {"bucketName": "b", **p}
        texts.append(line(r))
    fast, careful = _fast_and_careful(texts)
    assert list(fast.columns) == list(careful.columns)
    assert fast["raw"].tolist() == texts
    pd.testing.assert_frame_equal(fast, careful, check_categorical=False)


def test_fast_path_handles_one_odd_line_among_many() -> None:
    texts = [line(record(f"e-{i}")) for i in range(3000)]
    odd = record("odd")
    odd["requestParameters"]["Host"] = ["s3.amazonaws.com"]
    texts[1234] = line(odd)
    df = load_events(texts)
    assert len(df) == 3000 and df["eventID"].iloc[1234] == "odd"
    assert df["requestParameters.Host.0"].notna().sum() == 1
    assert json.loads(df["raw"].iloc[1234]) == odd


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(max_size=20), min_size=1, max_size=8), st.booleans())
def test_unicode_values_and_raw_text_are_exact(keys: list[str], ascii_only: bool) -> None:
    """Any string value (quotes, backslashes, line separators, astral characters, escapes) comes
    back unchanged, and ``raw`` is the text as given."""
    texts = []
    for i, key in enumerate(keys):
        r = record(f"u-{i}")
        r["requestParameters"]["key"] = key
        texts.append(json.dumps(r, ensure_ascii=ascii_only))
    df = load_events(texts)
    assert df["raw"].tolist() == texts
    assert df["requestParameters.key"].tolist() == keys


# any JSON value: nulls anywhere in lists (Arrow's null-first list bug), empty containers,
# mixed kinds, keys with dots, digits, "@" and escapes
any_keys = st.text(alphabet="abxy.0@_\u00e9\"\\", min_size=0, max_size=4)
any_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(any_keys, inner, max_size=3)),
    max_leaves=10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["x", "requestParameters", "additionalEventData", "y.z"]), any_values),
                min_size=1, max_size=8))
def test_arbitrary_nested_values_never_raise_and_fast_equals_careful(fields: list[tuple[str, object]]) -> None:
    """Arbitrary JSON values in otherwise valid records: load_events (non-strict) never raises,
    every record is a row or a counted skip, and the Arrow path equals the careful path."""
    texts = []
    for i, (name, value) in enumerate(fields):
        r = record(f"v-{i}")
        r[name] = value
        texts.append(line(r))
    fast, careful = _fast_and_careful(texts)
    assert len(fast) + fast.attrs["skipped_total"] == len(texts)
    assert list(fast.columns) == list(careful.columns)
    # Known, documented difference (docs/loading.md): Arrow gives all elements of one list one
    # type, so in [0, 0.5] the element column x.0 is Float64 on the fast path, Int64 on the
    # careful one. Same values; compare such columns as Float64.
    for c in fast.columns:
        if {str(fast[c].dtype), str(careful[c].dtype)} == {"Int64", "Float64"}:
            fast[c] = fast[c].astype("Float64")
            careful[c] = careful[c].astype("Float64")
    pd.testing.assert_frame_equal(fast, careful, check_categorical=False)


def test_lists_starting_with_null_load() -> None:
    """Arrow builds an invalid array for [null, ...]: those lines take the careful path."""
    values = [[None, None], [None, False], [1, 2], {"a": [None, 3]}, [[None, "s"]], [None]]
    texts = []
    for i, v in enumerate(values):
        r = record(f"n-{i}")
        r["x"] = v
        texts.append(line(r))
    texts += [line(record(f"plain-{i}")) for i in range(50)]
    df = load_events(texts, keep="all")
    assert len(df) == len(texts) and df.attrs["skipped_total"] == 0
    assert df["x.a.1"].tolist()[3] == 3
    assert df["x.0.1"].tolist()[4] == "s"
    assert pd.isna(df["x.1"].iloc[0]) and df["x.1"].iloc[1] == "false" and df["x.1"].iloc[2] == "2"
