"""The loader on damaged or unusual files and texts: nothing silent, no exception but LoadError.

Concatenated documents, text after a JSON array, partial first lines, damaged gzip streams,
values Python's JSON decoder cannot take, byte order marks, empty paths and non-JSON strings in
an iterable. Every record is a row or a counted skip; the same records give the same rows on
every route.
"""
from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from s3audit.loader import LoadError, load_events
from tests._loader_support import line, record, records


def _ids(df: pd.DataFrame) -> list[str]:
    return df["eventID"].tolist()


def _reasons(df: pd.DataFrame) -> list[str]:
    return [s["reason"] for s in df.attrs["skipped"]]


# ------------------------------------------------------------------ several JSON values in one text

def test_jq_style_pretty_records_one_after_another_all_load(tmp_path: Path) -> None:
    """`jq '.Records[]' trail.json > events.json`: pretty-printed objects one after another."""
    texts = [json.dumps(r, indent=2) for r in records(40)]
    path = tmp_path / "events.json"
    path.write_text("\n".join(texts) + "\n")
    df = load_events(path)
    assert _ids(df) == [f"e-{i}" for i in range(40)]
    assert df["raw"].tolist() == texts
    assert df.attrs["skipped_total"] == 0


def test_cat_of_trail_files_reads_every_member(tmp_path: Path) -> None:
    """`cat a.json.gz b.json.gz c.json.gz`: one gzip member each, no newline between documents."""
    recs = records(9)
    path = tmp_path / "all.json.gz"
    path.write_bytes(b"".join(gzip.compress(json.dumps({"Records": recs[i:i + 3]}).encode()) for i in (0, 3, 6)))
    df = load_events(path)
    assert _ids(df) == [f"e-{i}" for i in range(9)]
    assert df.attrs["skipped_total"] == 0


def test_text_after_a_json_array_is_read_not_dropped() -> None:
    r0, r1 = line(record("a-0")), line(record("a-1"))
    df = load_events([f"[{r0}][{r1}]"])
    assert _ids(df) == ["a-0", "a-1"]
    df = load_events([f"[{r0}] trailing"])
    assert _ids(df) == ["a-0"]
    assert df.attrs["skipped_total"] == 1 and "extra data after the array" in _reasons(df)[0]


@pytest.mark.parametrize("first", ["[]", "[FIRST]"])
def test_jsonl_file_whose_first_line_is_an_array(tmp_path: Path, first: str) -> None:
    first = first.replace("FIRST", line(record("first")))
    rest = [line(r) for r in records(5)]
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join([first, *rest]) + "\n")
    df = load_events(path)
    expected = (["first"] if first != "[]" else []) + [f"e-{i}" for i in range(5)]
    assert _ids(df) == expected
    assert df["raw"].tolist()[-5:] == rest
    assert df.attrs["skipped_total"] == 0


def test_a_broken_value_in_a_document_is_one_skip_and_reading_goes_on(tmp_path: Path) -> None:
    texts = [json.dumps(r, indent=2) for r in records(5)]
    texts[2] = texts[2].replace('"eventName": "GetObject",', '"eventName": "GetObject"', 1)  # a missing comma
    path = tmp_path / "events.json"
    path.write_text("\n".join(texts) + "\n")
    df = load_events(path)
    assert _ids(df) == ["e-0", "e-1", "e-3", "e-4"]
    assert df.attrs["skipped_total"] == 1 and "malformed JSON" in _reasons(df)[0]
    assert df.attrs["skipped"][0]["line"] > texts[0].count("\n") * 2  # the line of the bad record


def test_a_truncated_array_resumes_after_the_break_without_duplicates(tmp_path: Path) -> None:
    lines = [line(r) for r in records(3)]
    path = tmp_path / "cut.json"
    path.write_text("[\n" + ",\n".join(lines)[:-10])  # one record per line, the last one cut
    df = load_events(path)
    assert _ids(df) == ["e-0", "e-1"]
    assert df.attrs["skipped_total"] == 1 and "records before this point were kept" in _reasons(df)[0]


# ------------------------------------------------------------------ values the decoder cannot take

def _deep(event_id: str, depth: int) -> str:
    return line(record(event_id))[:-1] + ',"x":' + '{"a":' * depth + "1" + "}" * depth + "}"


def _long_int(event_id: str) -> str:
    return line(record(event_id))[:-1] + ',"y":' + "1" * 5000 + "}"


def test_too_deep_and_too_long_values_in_a_trail_file_are_counted_skips(tmp_path: Path) -> None:
    texts = [line(record("ok-0")), _deep("deep", 1500), line(record("ok-1")), _long_int("long"), line(record("ok-2"))]
    path = tmp_path / "t.json.gz"
    path.write_bytes(gzip.compress(('{"Records":[' + ",".join(texts) + "]}").encode()))
    df = load_events(path)
    assert _ids(df) == ["ok-0", "ok-1", "ok-2"]
    reasons = _reasons(df)
    assert df.attrs["skipped_total"] == 2
    assert "Records[1]" in reasons[0] and "nested too deeply" in reasons[0]
    assert "Records[3]" in reasons[1] and "digits" in reasons[1]
    # the same wrapper as an in-memory text
    df = load_events(['{"Records":[' + ",".join(texts) + "]}"])
    assert _ids(df) == ["ok-0", "ok-1", "ok-2"] and df.attrs["skipped_total"] == 2


def test_a_too_deep_pretty_record_among_others_is_one_skip(tmp_path: Path) -> None:
    texts = [json.dumps(record("ok-0"), indent=1), _deep("deep", 1500), json.dumps(record("ok-1"), indent=1)]
    path = tmp_path / "events.json"
    path.write_text("\n".join(texts) + "\n")
    df = load_events(path)
    assert _ids(df) == ["ok-0", "ok-1"]
    assert df.attrs["skipped_total"] == 1 and "nested too deeply" in _reasons(df)[0]


def test_arrays_nested_hundreds_deep_are_one_skip_not_a_recursion_error(tmp_path: Path) -> None:
    text = "[" * 400 + line(record("deep")) + "]" * 400
    path = tmp_path / "deep.json"
    path.write_text(text + "\n" + json.dumps(record("ok"), indent=1) + "\n")
    for source, rows in (([text, line(record("ok"))], ["ok"]), (path, ["ok"])):
        df = load_events(source)
        assert _ids(df) == rows
        assert df.attrs["skipped_total"] == 1 and "nested" in _reasons(df)[0]
    # a few levels are pages of pages: read
    assert _ids(load_events(["[[[" + line(record("p")) + "]]]"])) == ["p"]


# ------------------------------------------------------------------ byte order marks

def test_a_byte_order_mark_before_a_record_loads_on_every_route(tmp_path: Path) -> None:
    texts = [line(record("b-1")), "\ufeff" + line(record("b-2"))]
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    frames = [load_events(source) for source in (path, texts, pa.array(texts))]
    for df in frames:
        assert _ids(df) == ["b-1", "b-2"]
        assert df.attrs["skipped_total"] == 0
        assert df["raw"].tolist() == [line(record("b-1")), line(record("b-2"))]  # the mark is not JSON
        pd.testing.assert_frame_equal(df, frames[0])


def test_a_text_with_a_byte_order_mark_in_a_list_is_a_text_not_a_path() -> None:
    bom = "\ufeff" + json.dumps(record("b-1", userAgent="a/b"), separators=(",", ":"))  # no space anywhere
    assert " " not in bom
    assert _ids(load_events([bom])) == ["b-1"]


# ------------------------------------------------------------------ empty path (bug 11)

@pytest.mark.parametrize("source", ["", "  ", "\n"])
def test_an_empty_path_is_a_load_error_not_the_working_directory(tmp_path: Path, monkeypatch, source: str) -> None:
    (tmp_path / "stray.jsonl").write_text(line(record("stray")) + "\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LoadError):
        load_events(source)


def test_an_empty_path_in_a_list_of_paths_is_a_load_error_too(tmp_path: Path, monkeypatch) -> None:
    # the CLI passes its PATH arguments as a list: `s3audit summary "$UNSET"` must fail, not
    # answer with an empty frame
    path = tmp_path / "a.jsonl"
    path.write_text(line(record("p-1")) + "\n")
    monkeypatch.chdir(tmp_path)
    for sources in ([""], ["  "], [str(path), ""]):
        with pytest.raises(LoadError, match="empty path"):
            load_events(sources)
    df = load_events(["", line(record("m-1"))])  # among messages: an empty message, one skip
    assert _ids(df) == ["m-1"] and df.attrs["skipped_total"] == 1


# ------------------------------------------------------------------ strings in an iterable (bug 17)

def test_non_json_messages_in_a_list_are_skips_like_in_an_arrow_array() -> None:
    texts = ["GET /bucket/key HTTP/1.1", "s3://bucket/k.jsonl.gz", line(record("m-1")), "plain text"]
    df = load_events(texts)
    assert _ids(df) == ["m-1"]
    assert [(s["source"], s["line"]) for s in df.attrs["skipped"]] == [("<iterable>", 1), ("<iterable>", 2),
                                                                       ("<iterable>", 4)]
    pd.testing.assert_frame_equal(df, load_events(pa.array(texts)))
    assert df.attrs["skipped"] == load_events(pa.array(texts)).attrs["skipped"]


def test_one_word_messages_with_a_slash_among_json_texts_are_skips_not_missing_files() -> None:
    texts = [line(record("m-1")), "2026/11/02", "arn:aws:s3:::bucket/key", "/aws/lambda/x", "events.json.gz"]
    df = load_events(texts)
    assert _ids(df) == ["m-1"]
    assert [s["line"] for s in df.attrs["skipped"]] == [2, 3, 4, 5]
    assert df.attrs["skipped"] == load_events(pa.array(texts)).attrs["skipped"]
    assert _ids(load_events(["/aws/lambda/x", line(record("m-2"))])) == ["m-2"]  # the order does not matter


def test_paths_in_a_list_still_load_and_a_missing_one_still_fails(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(line(record("p-1")) + "\n")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "b.jsonl").write_text(line(record("p-2")) + "\n")
    df = load_events([str(path), str(tmp_path / "dir"), line(record("p-3"))])
    assert _ids(df) == ["p-1", "p-2", "p-3"]
    with pytest.raises(LoadError, match="no such file"):
        load_events([str(tmp_path / "nope.jsonl"), str(path)])
    with pytest.raises(LoadError, match="no such file"):
        load_events([str(tmp_path / "no-such-dir")])
    with pytest.raises(LoadError, match="no such file"):
        load_events([path, str(tmp_path / "nope.json.gz")])  # a Path object and a string


# ------------------------------------------------------------------ a partial first line (bug 16)

def _split_parts(tmp_path: Path, n: int = 50) -> tuple[Path, Path, list[str]]:
    lines = [line(r) for r in records(n)]
    data = ("\n".join(lines) + "\n").encode()
    half = len(data) // 2 + 7  # inside a record, not at a line start
    first, second = tmp_path / "part-aa.jsonl", tmp_path / "part-ab.jsonl"
    first.write_bytes(data[:half])  # what `split -b` makes
    second.write_bytes(data[half:])
    return first, second, lines


def test_a_file_cut_at_a_byte_offset_keeps_its_whole_lines(tmp_path: Path) -> None:
    first, second, lines = _split_parts(tmp_path)
    df = load_events(second)
    cut = first.read_bytes().count(b"\n")  # the record split in two
    assert df["raw"].tolist() == lines[cut + 1:]
    assert df.attrs["skipped_total"] == 1
    assert df.attrs["skipped"][0]["line"] == 1 and "malformed JSON" in df.attrs["skipped"][0]["reason"]
    both = load_events([first, second])
    assert both["raw"].tolist() == lines[:cut] + lines[cut + 1:]
    assert both.attrs["skipped_total"] == 2  # the two halves of the cut record


def test_a_partial_first_line_starting_inside_a_list_keeps_the_rest(tmp_path: Path) -> None:
    lines = [line(r) for r in records(20)]
    data = "\n".join(lines) + "\n"
    start = data.index('[{"type"', len(data) // 2)
    path = tmp_path / "part.jsonl"
    path.write_text(data[start:])
    df = load_events(path)
    complete = data[start:].count("\n") - 1
    assert df["raw"].tolist() == lines[-complete:]
    assert df.attrs["skipped_total"] >= 1 and {s["line"] for s in df.attrs["skipped"]} == {1}


def test_a_file_that_is_not_json_is_still_one_skip(tmp_path: Path) -> None:
    path = tmp_path / "notes.json"
    path.write_text("these are notes\nnot events\n{ neither is this\n")
    df = load_events(path)
    assert len(df) == 0 and df.attrs["skipped_total"] == 1 and "whole file skipped" in _reasons(df)[0]
# ------------------------------------------------------------------ a gzip stream that ends early (bug 5)

@pytest.mark.parametrize("damage", ["trailer cut", "trailing garbage"])
def test_a_trail_file_whose_gzip_ends_early_after_the_document_keeps_its_records(tmp_path: Path, damage: str) -> None:
    gz = gzip.compress(json.dumps({"Records": records(30)}).encode())  # one line, no final newline
    path = tmp_path / "trail.json.gz"
    path.write_bytes(gz[:-8] if damage == "trailer cut" else gz + b"garbage!")
    df = load_events(path)
    assert _ids(df) == [f"e-{i}" for i in range(30)]
    assert df.attrs["skipped_total"] == 1 and "truncated or corrupt" in _reasons(df)[0]
    assert ("altered" in _reasons(df)[0]) is False  # the member itself was whole


def test_a_complete_last_line_without_newline_before_a_gzip_break_is_a_row(tmp_path: Path) -> None:
    lines = [line(r) for r in records(3)]
    path = tmp_path / "l.jsonl.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode())[:-8])
    df = load_events(path)
    assert df["raw"].tolist() == lines
    assert df.attrs["skipped_total"] == 1 and "after line 3" in _reasons(df)[0]
    # an incomplete last line is still dropped, and said so
    path.write_bytes(gzip.compress("\n".join(lines)[:-20].encode())[:-8])
    df = load_events(path)
    assert df["raw"].tolist() == lines[:2]
    assert any("incomplete last line" in r for r in _reasons(df))
# ------------------------------------------------------------------ corruption inside a gzip block (bug 4)

def _decodable_prefix(data: bytes) -> bytes:
    """What zlib decodes from ``data`` before its error, fed byte by byte (the most there is)."""
    d, out = zlib.decompressobj(31), b""
    for i in range(len(data)):
        try:
            out += d.decompress(data[i:i + 1])
        except zlib.error:
            break
    return out


def test_lines_decoded_before_a_corrupt_spot_in_a_gzip_block_are_kept(tmp_path: Path) -> None:
    lines = [line(r) for r in records(300)]
    data = ("\n".join(lines) + "\n").encode()
    gz = gzip.compress(data)
    mid = len(gz) // 2
    bad = gz[:mid] + b"\x00" * 20 + gz[mid + 20:]
    prefix = _decodable_prefix(bad)
    intact = 0
    for got, want in zip(prefix.split(b"\n")[:-1], lines):
        if got.decode("utf-8", "replace") != want:
            break
        intact += 1
    assert intact > 50  # the test makes sense: many lines lie before the damage
    path = tmp_path / "c.jsonl.gz"
    path.write_bytes(bad)
    df = load_events(path)
    assert df["raw"].tolist()[:intact] == lines[:intact]
    assert any("truncated or corrupt" in r for r in _reasons(df))
    # zlib may find damage only well after it (at the checksum): the reason says what that means
    assert any("may hold altered bytes" in r for r in _reasons(df))


def test_corruption_in_a_later_gzip_member_keeps_the_earlier_members(tmp_path: Path) -> None:
    lines = [line(r) for r in records(200)]
    first = gzip.compress(("\n".join(lines[:100]) + "\n").encode())
    second = gzip.compress(("\n".join(lines[100:]) + "\n").encode())
    mid = len(second) // 2
    path = tmp_path / "two.jsonl.gz"
    path.write_bytes(first + second[:mid] + b"\xff" * 16 + second[mid + 16:])
    df = load_events(path, max_skipped=100_000)  # the damaged deflate data decodes to junk lines first
    raw = df["raw"].tolist()
    assert raw[:100] == lines[:100] and len(raw) > 100 and raw[100] == lines[100]
    assert any("truncated or corrupt" in r for r in _reasons(df))


def test_a_one_line_record_then_pretty_printed_ones_all_load(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text(line(record("one")) + "\n" + json.dumps(record("two"), indent=2) + "\n"
                    + json.dumps(record("three"), indent=2) + "\n")
    df = load_events(path)
    assert _ids(df) == ["one", "two", "three"]
    assert df.attrs["skipped_total"] == 0


def test_several_values_on_one_line_give_the_same_frame_on_every_route(tmp_path: Path) -> None:
    texts = [line(record("a")) + line(record("b")), line(record("c")) + " " + line(record("d")),
             line(record("e")), line(record("f")) + " junk"]
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(texts) + "\n")
    frames = [load_events(source) for source in (path, texts, pa.array(texts))]
    assert _ids(frames[0]) == ["a", "b", "c", "d", "e", "f"]
    assert frames[0]["raw"].tolist() == [line(record(i)) for i in "abcdef"]
    for df in frames[1:]:
        pd.testing.assert_frame_equal(df, frames[0])
        assert [(s["line"], s["reason"]) for s in df.attrs["skipped"]] == [
            (s["line"], s["reason"]) for s in frames[0].attrs["skipped"]]
    assert frames[0].attrs["skipped"][0]["line"] == 4 and "extra data" in frames[0].attrs["skipped"][0]["reason"]


def test_two_broken_lines_that_make_two_objects_together_are_not_read_as_two_records(tmp_path: Path) -> None:
    """Line 1 ends inside a second object (``"x":``) and line 2 has one ``}`` too many: Arrow's
    reader took the pair as two objects (line 2 became line 1's ``x``), the right row count, and
    nothing was skipped. Each line is read on its own, on every route."""
    first = line(record("a")) + line(record("b"))[:-1] + ',"x":'
    second = line(record("c")) + "}"
    texts = [first, second] + [line(r) for r in records(3000)]  # many lines: the fast path's size
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(texts) + "\n")
    for source in (path, texts, pa.array(texts)):
        df = load_events(source)
        assert _ids(df)[:3] == ["a", "c", "e-0"] and len(df) == 3002
        assert "x" not in df.columns and df["raw"].tolist()[:2] == [line(record("a")), line(record("c"))]
        assert [s["line"] for s in df.attrs["skipped"]] == [1, 2]
        assert "extra data" in _reasons(df)[1]


def test_a_partial_first_line_before_records_longer_than_the_sniffed_head(tmp_path: Path) -> None:
    big = [line(record(f"big-{i}", requestParameters={"bucketName": "b", "key": "k" * 70_000})) for i in range(3)]
    path = tmp_path / "part.jsonl"
    path.write_text('Version":"1.09"}\n' + "\n".join(big) + "\n")
    df = load_events(path)
    assert _ids(df) == ["big-0", "big-1", "big-2"]
    assert df.attrs["skipped_total"] == 1 and df.attrs["skipped"][0]["line"] == 1


def test_a_broken_element_of_an_array_written_one_per_line_is_one_skip(tmp_path: Path) -> None:
    # after the break, reading resumes at the next element: its ',' and the closing ']' are
    # separators, not "extra data" (each was a skip of its own)
    body = [json.dumps(record(f"r{i}")) for i in range(3)] + ['{"eventSource": "s3.amazonaws.com", bad}']
    body += [json.dumps(record(f"r{i}")) for i in range(3, 6)]
    path = tmp_path / "array.json"
    path.write_text("[\n" + ",\n".join(body) + "\n]\n")
    df = load_events(path)
    assert sorted(df["eventID"]) == [f"r{i}" for i in range(6)]
    assert df.attrs["skipped_total"] == 1 and df.attrs["skipped"][0]["line"] == 5


def test_object_lines_are_found_past_any_indentation() -> None:
    # _starts_object / _ends_object step over short whitespace with numpy and strip long whitespace
    # per line: both must agree with the definition (first/last non-whitespace byte is "{"/"}")
    import random

    import numpy as np

    from s3audit.loader.fastpath import _ends_object, _starts_object

    rng = random.Random(3)
    lines = []
    for _ in range(400):
        indent = "".join(rng.choice(" \t\r") for _ in range(rng.choice([0, 1, 5, 63, 64, 65, 200, 5_000])))
        lines.append(indent + rng.choice(['{"a":1}', "null", "[1]", "", " ", "{"]))
    buf = "\n".join(lines).encode()
    lengths = np.array([len(x.encode()) for x in lines])
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    got = _starts_object(buf, starts, starts + lengths, 0, len(lines)).tolist()
    assert got == [x.lstrip(" \t\r\n").startswith("{") for x in lines]
    # the same for the last byte, with the whitespace after it
    trailed = [x.lstrip(" \t\r") + x[: len(x) - len(x.lstrip(" \t\r"))] for x in lines]
    buf = "\n".join(trailed).encode()
    got = _ends_object(buf, starts, starts + lengths, 0, len(lines)).tolist()
    assert got == [x.rstrip(" \t\r\n").endswith("}") for x in trailed]
    # an empty line at the very end of the buffer is no object at either end (and no IndexError)
    assert _starts_object(b"{}\n", np.array([0, 3]), np.array([2, 3]), 0, 2).tolist() == [True, False]
    assert _ends_object(b"{}\n", np.array([0, 3]), np.array([2, 3]), 0, 2).tolist() == [True, False]


def test_a_missing_path_in_a_list_of_paths_fails_before_any_file_is_read(tmp_path: Path, monkeypatch) -> None:
    """`s3audit summary big-1.json.gz typo.json.gz`: the typo is reported at once, not after the
    other files were read (which can take minutes); the same error as before."""
    from s3audit.loader import reader

    path = tmp_path / "a.jsonl"
    path.write_text(line(record("p-1")) + "\n")
    read: list[str] = []
    real = reader.Reader._read_path
    monkeypatch.setattr(reader.Reader, "_read_path", lambda self, p, **kw: (read.append(str(p)), real(self, p, **kw)))
    for items in ([str(path), str(tmp_path / "nope.jsonl")], (path, str(tmp_path / "nope.json.gz")),
                  [str(path), tmp_path / "nope.jsonl"], [str(path), "  "]):
        read.clear()
        with pytest.raises(LoadError, match="no such file|empty path") as err:
            load_events(items)
        assert read == [], items
        assert err.value.source.strip() in ("", str(tmp_path / "nope.jsonl"), str(tmp_path / "nope.json.gz"))
    # among messages such a string is just a message (a counted skip), and nothing changes
    read.clear()
    df = load_events([str(path), line(record("p-2")), "dir/no-such.json.gz"])
    assert _ids(df) == ["p-1", "p-2"] and read == [str(path)]
    assert [s["line"] for s in df.attrs["skipped"]] == [3]


def test_nan_and_infinity_are_not_json_and_are_counted_skips(tmp_path: Path) -> None:
    """Python's json and Arrow's reader both take NaN/Infinity, JSON has no such value (and the
    pattern engine's matches() calls such a text not JSON): one skip each, on every route; a
    valid number too big for a float (1e999) stays a row."""
    good = line(record("ok-1"))
    texts = [good[:-1] + ',"a":NaN,"b":1}', line(record("bad-2"))[:-1] + ',"c":{"d":[1,-Infinity]}}',
             line(record("big-3"))[:-1] + ',"a":1e999}', good.replace("ok-1", "ok-4"),
             line(record("bad-5"))[:-1] + ',"e":Infinity}']
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(texts) + "\n")
    pretty = tmp_path / "trail.json"
    pretty.write_text('{"Records": [\n' + ",\n".join(texts) + "\n]}\n")
    for source in (texts, pa.array(texts), path, pretty):
        df = load_events(source)
        assert _ids(df) == ["big-3", "ok-4"], source
        skipped = df.attrs["skipped"]
        assert len(skipped) == 3, (source, skipped)
        reasons = [s["reason"] for s in skipped]
        assert all("is not a JSON value" in r for r in reasons), reasons
        assert {r.split(" is not")[0].split(": ")[-1] for r in reasons} == {"NaN", "-Infinity", "Infinity"}
