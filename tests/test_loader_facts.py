"""The record facts the loader leaves in ``df.attrs["record_facts"]`` for the pattern engine."""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3audit.loader import load_events
from s3audit.loader.facts import ATTRS_KEY, RecordFacts, _null_values
from tests._loader_support import line, record
from tests.test_loader_flatten import any_values


def _records() -> list[dict]:
    out = []
    for i, extra in enumerate([
        {"vpcEndpointId": None},
        {"requestParameters": {"bucketName": "b", "Host": "h", "key": "k", "opt": None}},
        {"empty": {}, "list": [], "nulls": [None], "deep": {"a": {"b": None}}},
        {"a.b": 1, "@x": "y", "weird": {"0": "z"}},
        {"n\u00e9": None, 'q"k': None},
        {"readOnly": "true", "mixed": 1},
        {"mixed": "one"},
    ]):
        r = record(f"f-{i}")
        r.update(extra)
        out.append(r)
    return out


def _check_facts(facts: dict) -> None:
    assert {"vpcEndpointId", "opt", "b", "n\u00e9", 'q"k', "responseElements"} <= set(facts["null_keys"])
    assert {"empty", "list", "nulls", "deep", "deep.a"} <= set(facts["hollow"])
    assert {"a.b", "@x", "0"} <= set(facts["odd_keys"])
    cols = facts["columns"]
    assert cols["eventName"] is True and cols["requestParameters.key"] is True
    assert cols["readOnly"] is False  # "true" converted to a boolean
    assert cols["mixed"] is False     # 1 and "one": JSON text
    assert cols["additionalEventData.bytesTransferredOut"] is True
    assert cols["eventTime"] is False  # parsed to datetime: text gone
    assert "raw" not in cols
    assert set(cols) == set(facts["dtypes"])


def test_facts_from_json_lines_fast_path() -> None:
    texts = [line(r) for r in _records()] * 20  # long enough for Arrow
    texts = [t.replace('"eventID":"f-', f'"eventID":"{i}-f-') for i, t in enumerate(texts)]
    df = load_events(texts, keep="all")
    _check_facts(df.attrs[ATTRS_KEY])


def test_facts_from_trail_file_careful_path(tmp_path: Path) -> None:
    path = tmp_path / "trail.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"Records": _records()}, indent=2).encode()))
    df = load_events(path, keep="all")
    _check_facts(df.attrs[ATTRS_KEY])


def test_spaced_json_and_escaped_keys() -> None:
    texts = [json.dumps(record(f"s-{i}") | {"k\\u0031": None, "x": {"y": None}}) for i in range(100)]
    texts += ['{"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":"z","v\\u0061l" :  null}']
    facts = load_events(texts, keep="all").attrs[ATTRS_KEY]
    assert {"k\\u0031", "y", "val"} <= set(facts["null_keys"])


@pytest.mark.parametrize("gap, before", [(10, 0), (1, 12), (300, 300)])
def test_a_null_far_from_its_key_is_still_found(gap: int, before: int) -> None:
    # column-aligned JSON: many spaces between the key, the colon and null; a missed key made
    # the pattern mask answer NOT EXISTS for a record whose field is JSON null
    from s3audit.pattern import compile_pattern

    bare = [record(f"e{i}") for i in range(2)]
    for r in bare:
        r.pop("vpcEndpointId", None)
    lines = [json.dumps(bare[0])[:-1] + ', "vpcEndpointId"' + " " * before + ":" + " " * gap + "null}",
             json.dumps(bare[1])]
    df = load_events(lines)
    assert "vpcEndpointId" in df.attrs[ATTRS_KEY]["null_keys"]
    pattern = compile_pattern("{ $.vpcEndpointId NOT EXISTS }")
    assert pattern.mask(df).tolist() == [pattern.matches(json.loads(t)) for t in lines] == [False, True]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["x", "requestParameters", "additionalEventData"]), any_values),
                min_size=1, max_size=8))
def test_fast_path_facts_cover_the_exact_facts(fields: list[tuple[str, object]]) -> None:
    """Whatever path the lines take, the facts include what a walk of each record finds (a
    superset is safe: an extra entry only sends the engine to raw)."""
    texts, walk = [], RecordFacts()
    for i, (name, value) in enumerate(fields):
        r = record(f"p-{i}")
        r[name] = value
        texts.append(line(r))
        walk.note_record(json.loads(texts[-1]))
    facts = load_events(texts, keep="all").attrs[ATTRS_KEY]
    assert walk.null_keys <= set(facts["null_keys"]) or "*" in facts["null_keys"]
    assert walk.hollow <= set(facts["hollow"])
    assert walk.odd_keys <= set(facts["odd_keys"])


@given(st.lists(st.sampled_from([b"null", b"nu", b"ul", b"l", b"n", b":", b" ", b'"k"', b"x", b"nnull"]),
                max_size=40))
def test_null_positions_are_the_regex_matches(parts: list[bytes]) -> None:
    """The numpy search for ``null`` (aligned 2-byte words) finds exactly what a regex finds, at
    even and odd offsets and at the very end of the buffer."""
    buf = b"".join(parts)
    expected = [m.start() for m in re.finditer(rb"null", buf)]
    assert _null_values(np.frombuffer(buf, dtype=np.uint8)).tolist() == expected


def test_null_keys_at_the_start_and_keys_sharing_a_tail() -> None:
    """A key within the first bytes of a chunk is read whole (it once kept NUL padding), and keys
    read once per distinct spelling are not confused when long keys share their last bytes."""
    long_a, long_b = "a" * 30 + "responseElements", "b" * 30 + "responseElements"
    rec = json.dumps({long_a: None, "responseElements": None, 'q"responseElements': None, "n": 1},
                     separators=(",", ":"))
    lines = ['{"k":null}'] + [rec] * 20 + [json.dumps({long_b: None})]
    buf = bytearray(("\n".join(lines) + "\n").encode())
    facts = RecordFacts()
    facts.scan_null_keys(buf, len(buf))
    assert facts.null_keys == {"k", long_a, long_b, "responseElements", 'q"responseElements'}
