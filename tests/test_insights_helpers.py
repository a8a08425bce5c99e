"""The vectorised helpers of a pull give the same answers as the plain definitions they replace."""
from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from s3audit.insights import planner
from s3audit.insights.planner import Bin
from s3audit.insights.pull import _looks_cut, _looks_cut_array, _order, _repeats


@pytest.mark.parametrize("seed", range(30))
def test_balanced_packing_tiles_the_window_with_no_more_slices(seed: int) -> None:
    rng = random.Random(seed)
    edges = sorted(rng.sample(range(1, 5_000), rng.randrange(1, 60)))
    starts = [0] + edges
    bins = [Bin(a, b, rng.choice([0, 1, 5, 50, 300, 2_000])) for a, b in zip(starts, edges + [5_000])]
    target = rng.choice([100, 500, 1_000, 5_000])
    greedy = planner.pack(bins, 0, 5_000, target)
    balanced = planner.pack_balanced(bins, 0, 5_000, target)
    assert balanced[0][0] == 0 and balanced[-1][1] == 5_000
    assert all(x[1] == y[0] for x, y in zip(balanced, balanced[1:]))  # no gap, no overlap
    assert all(a < b for a, b, _ in balanced)
    assert sum(n for *_, n in balanced) == sum(b.count for b in bins)
    assert len(balanced) <= len(greedy)
    assert max(n for *_, n in balanced) <= max(n for *_, n in greedy)


def test_balanced_packing_evens_out_the_slices() -> None:
    bins = [Bin(i, i + 1, 1_000) for i in range(200)]  # 200,000 events, slices of <= 99,500
    sizes = [n for *_, n in planner.pack_balanced(bins, 0, 200, 99_500)]
    assert len(sizes) == 3 and max(sizes) <= 67_000


def test_cut_detection_vectorised_matches_the_definition() -> None:
    texts = ['{"a":1}', '{"a":1}  \n', '{"a":', "plain", "", "{", "}", ' {"a":1', '{"a":"\u00e9"}\t',
             '{"a":"\u00e9"', "{\u2003}", "{x}\u2003", "{x}\u00a0", "{x}\u3000\n", "{x\u3000", '{"a":"}"',
             "{x} }", "{\U0001F600", "{}\r\n", "{}\x1c", "{}\x1f\x0b", "{}\x85", "{}x\x1c", "{}\x00"]
    for type_ in (pa.large_string(), pa.string()):
        got = _looks_cut_array(pa.array(texts, type_)).tolist()
        assert got == [_looks_cut(t) for t in texts]
    # a slice of a bigger array, and nulls (no message: not cut)
    sliced = pa.array(["{a"] + texts + [None], pa.large_string()).slice(1)
    assert _looks_cut_array(sliced).tolist() == [_looks_cut(t) for t in texts] + [False]


def test_cut_detection_vectorised_matches_the_definition_on_random_texts() -> None:
    rng = random.Random(11)
    alphabet = ["{", "}", " ", "\n", "\x1c", "\u3000", "\u00a0", "\u00e9", "a", '"', "\U0001F600"]
    texts = [rng.choice(["{", "", " {"]) + "".join(rng.choice(alphabet) for _ in range(rng.randrange(6)))
             for _ in range(5_000)]
    arr = pa.array(["pad"] + texts, pa.large_string()).slice(1)
    assert _looks_cut_array(arr).tolist() == [_looks_cut(t) for t in texts]


def test_row_order_matches_numpy_lexsort() -> None:
    rng = random.Random(4)
    ts = np.array([rng.randrange(6) for _ in range(3_000)], np.int64)
    ptr = [rng.choice(["a", "b", "\u00e9", "Z", "ab", "a\u00e9", "\U0001F600"]) + str(rng.randrange(4))
           for _ in range(3_000)]
    expect = np.lexsort((np.asarray(ptr, dtype=object).astype(str), ts))
    assert _order(ts, ptr).tolist() == expect.tolist()
    assert _order(np.zeros(0, np.int64), []).tolist() == []


def test_repeated_pointers_are_found_among_neighbours_after_ordering() -> None:
    rng = random.Random(9)
    events = [(rng.randrange(50), f"p{rng.randrange(10**6)}") for _ in range(400)]  # pointer -> its timestamp
    rows = [rng.choice(events) for _ in range(2_000)]  # the same event returned by several queries
    ts = np.array([t for t, _ in rows], np.int64)
    ptr = pa.array([p for _, p in rows], pa.string())
    order = _order(ts, ptr)
    dup = _repeats(ts[order], ptr.take(pa.array(order)))
    assert dup.tolist() == pd.Index([rows[i][1] for i in order]).duplicated().tolist()
    assert 0 < dup.sum() < len(rows)
    chunked = pa.chunked_array([ptr.slice(0, 700), ptr.slice(700)]).take(pa.array(order))
    assert _repeats(ts[order], chunked).tolist() == dup.tolist()
    assert _repeats(np.zeros(0, np.int64), pa.array([], pa.string())).tolist() == []


def test_polls_are_at_most_a_fifth_of_the_query_age_late() -> None:
    """Between the first and the longest interval, a poll waits a fifth of the query's age; so a
    query that ends at age T is seen by T + max(first, min(longest, T / 5))."""
    from s3audit.insights.runner import QueryRunner

    runner = QueryRunner(object(), poll_interval=(0.5, 5.0))
    assert runner.next_poll(0.0) == 0.5 and runner.next_poll(2.0) == 0.5
    assert runner.next_poll(10.0) == pytest.approx(2.0) and runner.next_poll(600.0) == 5.0
    for end in (0.3, 1.7, 3.5, 12.0, 40.0, 3600.0):
        age = 0.0
        while age < end:
            age += runner.next_poll(age)
        assert 0 <= age - end <= max(0.5, min(5.0, 0.2 * end)) + 1e-9


@pytest.mark.parametrize("name", ["s3audit.insights.planner", "s3audit.insights.fastpage"])
def test_docstring_examples(name: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0
