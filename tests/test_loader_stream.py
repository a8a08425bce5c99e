"""TextStream: texts parsed as they arrive give the frame load_events gives for the selection."""
from __future__ import annotations

import doctest
import json
import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import s3audit.loader
import s3audit.loader.frame
import s3audit.loader.scan
import s3audit.loader.stream
from s3audit.loader import LoadError, TextStream, load_events
from tests._loader_support import line, management, network_copy, record, records


def _mixed_texts() -> list[str | None]:
    """Good records plus every kind of input the loader treats specially."""
    texts: list[str | None] = [line(r) for r in records(60)]
    texts[3] = line(network_copy("net-1"))
    texts[8] = line(management("mgmt-1"))
    texts[11] = json.dumps(record("pretty"), indent=2)  # multi-line: careful path
    texts[15] = "{broken"
    texts[19] = None
    texts[23] = line(record("e-5"))  # a duplicate eventID of texts[5]
    texts[27] = json.dumps({"Records": [record("wrapped-1"), record("wrapped-2")]})  # a trail file on one line
    texts[31] = line(record("host-list", requestParameters={"bucketName": "acme-data", "Host": ["a", "b"]}))
    texts[40] = '{"foo": 1}'  # JSON, not CloudTrail
    return texts


def _pieces(texts: list[str | None], seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(texts)), 6))
    bounds = [0, *cuts, len(texts)]
    return list(zip(bounds[:-1], bounds[1:]))


@pytest.mark.parametrize("background", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_selection_in_any_order_gives_the_frame_load_events_gives(background: bool, seed: int) -> None:
    texts = _mixed_texts()
    rng = random.Random(seed)
    stream = TextStream(background=background)
    pieces = _pieces(texts, seed)
    rng.shuffle(pieces)  # pieces arrive out of order, as pages of concurrent queries do
    number: dict[int, int] = {}
    for lo, hi in pieces:
        first = stream.add(pa.array(texts[lo:hi], pa.large_string()))
        number.update({lo + k: first + k for k in range(hi - lo)})
    assert len(stream) == len(texts)
    assert all(stream.text(number[i]) == texts[i] for i in range(len(texts)))
    # keep a shuffled subset: the rest must leave no trace (rows, skips, filter counts)
    special = [3, 5, 8, 11, 15, 19, 23, 27, 31, 40]  # every special text is selected
    chosen = special + rng.sample([i for i in range(len(texts)) if i not in special], 35)
    rng.shuffle(chosen)
    df = stream.finish([number[i] for i in chosen], max_skipped=100)
    expected = load_events(pa.array([texts[i] for i in chosen], pa.large_string()))
    pd.testing.assert_frame_equal(df, expected)
    for key in ("filtered", "skipped_total", "rows_read", "coerced", "sources", "record_facts"):
        assert df.attrs[key] == expected.attrs[key], key
    # the same skip records (the stream lists them by position; load_events as it met them)
    assert df.attrs["skipped"] == sorted(expected.attrs["skipped"], key=lambda e: e["line"])
    assert df.attrs["skipped_total"] >= 1 and df.attrs["filtered"]["management"] + df.attrs["filtered"]["network_activity"] >= 1


def test_texts_left_out_leave_no_skip_record_and_no_filter_count() -> None:
    texts = [line(r) for r in records(5)] + ["{cut", line(management("m")), line(network_copy("n"))]
    stream = TextStream()
    stream.add(pa.array(texts))
    assert [s["line"] for s in stream.skipped()] == [6]  # arrival number + 1, before selection
    df = stream.finish([4, 0, 1])
    assert df["eventID"].tolist() == ["e-4", "e-0", "e-1"]
    assert df.attrs["skipped"] == [] and df.attrs["skipped_total"] == 0
    assert df.attrs["filtered"] == {"network_activity": 0, "non_s3": 0, "management": 0, "duplicates": 0}
    assert df.attrs["rows_read"] == 3


def test_skip_lines_are_positions_in_the_selection_and_capped() -> None:
    texts = ["{bad-%d" % i for i in range(6)] + [line(record("ok"))]
    stream = TextStream()
    stream.add(pa.array(texts[:3]))
    stream.add(pa.array(texts[3:]))
    df = stream.finish([6, 5, 4, 3, 2, 1, 0], max_skipped=4)
    assert df["eventID"].tolist() == ["ok"]
    assert [s["line"] for s in df.attrs["skipped"]] == [2, 3, 4, 5] and df.attrs["skipped_total"] == 6


def test_selection_errors_and_misuse() -> None:
    stream = TextStream()
    stream.add(pa.array([line(record("a")), line(record("b"))]))
    with pytest.raises(IndexError):
        stream.text(2)
    with pytest.raises(LoadError):
        stream.add(pa.array([1, 2]))
    with pytest.raises(IndexError):
        TextStream().finish([0])
    twice = TextStream()
    twice.add(pa.array([line(record("a")), line(record("b"))]))
    with pytest.raises(ValueError, match="more than once"):
        twice.finish([1, 1])
    df = stream.finish(np.array([1]))
    assert df["eventID"].tolist() == ["b"]
    with pytest.raises(RuntimeError):
        stream.add(pa.array([line(record("c"))]))
    empty = TextStream().finish([])
    assert len(empty) == 0 and "eventTime" in empty.columns


def test_a_parse_error_in_the_background_thread_reaches_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = TextStream()

    def boom(*args: object) -> None:
        raise MemoryError("simulated")

    monkeypatch.setattr(stream._reader, "read_arrow_slice", boom)
    stream.add(pa.array([line(record("a"))]))
    with pytest.raises(MemoryError, match="simulated"):
        stream.finish([0])
    assert stream._thread is None  # the background thread is stopped all the same


def test_close_stops_the_thread_and_drops_queued_work() -> None:
    stream = TextStream()
    stream.add(pa.array([line(r) for r in records(50)]))
    stream.close()
    assert stream._thread is None
    with pytest.raises(RuntimeError):
        stream.add(pa.array([line(record("late"))]))


@pytest.mark.parametrize("module", [s3audit.loader, s3audit.loader.stream, s3audit.loader.scan, s3audit.loader.frame])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)  # type: ignore[arg-type]
    assert result.failed == 0 and result.attempted > 0
