"""Plan a pull: count events per time bin with a cheap stats query, then pack bins into slices.

Pure functions (no AWS): :func:`choose_bin`, :func:`plan_query`, :func:`parse_bins`,
:func:`pack`. The orchestrator (:mod:`s3audit.insights.pull`) runs the queries.

Slices are half-open in *ownership* ``[a, b)`` (epoch seconds) and are queried as the inclusive
StartQuery range ``[a, b]``: AWS converts seconds straight to milliseconds and includes both
ends, so the query also returns events at exactly ``b.000``; those belong to the next slice and
are dropped by the owner rule (and any duplicate is removed on ``@ptr`` as well). Consecutive
slices share their boundary second: there is no gap and no owned overlap.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from s3audit.insights.timeutil import parse_timestamp_ms

# bin widths Insights accepts, in seconds, with their QL spelling
NICE_BINS: tuple[tuple[int, str], ...] = (
    (1, "1s"), (2, "2s"), (5, "5s"), (10, "10s"), (15, "15s"), (30, "30s"), (60, "1m"), (120, "2m"),
    (300, "5m"), (600, "10m"), (900, "15m"), (1800, "30m"), (3600, "1h"), (7200, "2h"), (10800, "3h"),
    (21600, "6h"), (43200, "12h"), (86400, "1d"),
)


@dataclass(frozen=True)
class Bin:
    """Events counted in ``[start, end)`` (epoch seconds)."""

    start: int
    end: int
    count: int


def choose_bin(span_s: int, max_rows: int) -> tuple[int, str]:
    """The smallest nice bin width giving at most ``max_rows`` bins over ``span_s`` seconds."""
    for width, text in NICE_BINS:
        if -(-span_s // width) + 1 <= max_rows:
            return width, text
    return NICE_BINS[-1]


def split_range(start: int, end: int, width: int, parts: int) -> list[tuple[int, int]]:
    """``[start, end)`` cut into at most ``parts`` consecutive ranges of about as many bins of
    ``width`` seconds each; inner boundaries are multiples of ``width`` (Insights' bins are
    aligned to the epoch, so no bin straddles two ranges).

    Planning queries over the parts run at once: a Logs Insights query takes a fixed time plus
    time in proportion to what it scans, so four quarters of a month are counted sooner than
    the month, for the same bytes scanned.

    >>> split_range(0, 3600, 60, 4)
    [(0, 900), (900, 1800), (1800, 2700), (2700, 3600)]
    >>> split_range(30, 200, 60, 4)  # 4 bins touched: [0,60) [60,120) [120,180) [180,240)
    [(30, 60), (60, 120), (120, 180), (180, 200)]
    >>> split_range(0, 100, 60, 4)  # two bins: two parts at most
    [(0, 60), (60, 100)]
    >>> split_range(0, 3600, 60, 1)
    [(0, 3600)]
    """
    first, last = start // width, -(-end // width)  # bins touched: [first, last)
    per = -(-(last - first) // max(1, parts))
    edges = [start] + [c * width for c in range(first + per, last, per) if start < c * width < end] + [end]
    return list(zip(edges[:-1], edges[1:]))


def plan_query(where: str | None, bin_text: str) -> str:
    """``[filter <where> |] stats count(*) as n by bin(<w>)``."""
    head = f"filter {where} | " if where else ""
    return f"{head}stats count(*) as n by bin({bin_text}) as t"


def parse_bins(rows: Iterable[dict[str, str]], width: int, start: int, end: int) -> list[Bin]:
    """Rows of :func:`plan_query` as bins clipped to ``[start, end)``, sorted, zero bins omitted."""
    out: dict[int, int] = {}
    for row in rows:
        t = row.get("t")
        n = row.get("n")
        if t is None or n is None:
            continue
        b = parse_timestamp_ms(t) // 1000
        b -= b % width if width <= 86400 else 0
        out[b] = out.get(b, 0) + int(float(n))
    bins = []
    for b in sorted(out):
        lo, hi = max(b, start), min(b + width, end)
        if lo < hi and out[b] > 0:
            bins.append(Bin(lo, hi, out[b]))
    return bins


def replace_bins(bins: Sequence[Bin], finer: Sequence[Bin], start: int, end: int) -> list[Bin]:
    """``bins`` with everything in ``[start, end)`` replaced by ``finer``."""
    kept = [b for b in bins if b.end <= start or b.start >= end]
    return sorted(kept + list(finer), key=lambda b: b.start)


def hot_ranges(bins: Sequence[Bin], target: int) -> list[tuple[int, int]]:
    """Merged ``[start, end)`` ranges of bins holding more than ``target`` events that are still
    wider than one second (they need a finer count)."""
    out: list[tuple[int, int]] = []
    for b in bins:
        if b.count > target and b.end - b.start > 1:
            if out and out[-1][1] == b.start:
                out[-1] = (out[-1][0], b.end)
            else:
                out.append((b.start, b.end))
    return out


def pack(bins: Sequence[Bin], start: int, end: int, target: int) -> list[tuple[int, int, int]]:
    """Consecutive slices ``(a, b, expected)`` tiling ``[start, end)`` with at most ``target``
    expected events each (a single bin above ``target`` gets a slice of its own).

    Boundaries fall on bin edges; empty stretches join the neighbouring slice, so the slices
    cover the whole window with no gap.
    """
    slices: list[tuple[int, int, int]] = []
    a = start
    acc = 0
    for b in bins:
        if acc and acc + b.count > target and b.start > a:
            slices.append((a, b.start, acc))
            a, acc = b.start, 0
        acc += b.count
        if acc > target and b.end - a >= 1 and b.end < end:
            slices.append((a, b.end, acc))
            a, acc = b.end, 0
    if a < end or not slices:
        slices.append((a, end, acc))
    return slices


def pack_balanced(bins: Sequence[Bin], start: int, end: int, target: int) -> list[tuple[int, int, int]]:
    """:func:`pack` with as few slices, but the largest slice as small as the bins allow.

    Slices run concurrently and a slice's pages are read one after another, so the largest
    slice sets the wall time: 200,000 events packed greedily as 99,500 + 84,000 + 16,500 take
    10 pages in a row; balanced, 7. Found by bisecting the greedy cap (greedy packing uses the
    fewest slices for a cap, and the count only grows as the cap shrinks).

    Examples
    --------
    >>> bins = [Bin(i, i + 1, 10) for i in range(10)]
    >>> [n for _, _, n in pack(bins, 0, 10, 60)], [n for _, _, n in pack_balanced(bins, 0, 10, 60)]
    ([60, 40], [50, 50])
    """
    best = pack(bins, start, end, target)
    k = len(best)
    total = sum(x.count for x in bins)
    if k <= 1 or total <= 0:
        return best
    lo, hi = max(1, -(-total // k)), target  # the answer lies in [lo, hi]
    while lo < hi:
        mid = (lo + hi) // 2
        trial = pack(bins, start, end, mid)
        if len(trial) <= k:
            hi, best = mid, trial
        else:
            lo = mid + 1
    return best if len(best) <= k else pack(bins, start, end, target)


def expected_between(bins: Sequence[Bin], a: int, b: int) -> int:
    """Events the plan expects in ``[a, b)`` (a partially covered bin counts in full)."""
    return int(sum(x.count for x in bins if x.end > a and x.start < b))


def split_counts(bins: Sequence[Bin], a: int, b: int) -> int:
    """A boundary inside ``(a, b)`` that halves the expected events (midpoint when unknown)."""
    inside = [x for x in bins if x.end > a and x.start < b]
    total = sum(x.count for x in inside)
    if total > 0:
        acc = 0
        for x in inside:
            acc += x.count
            if acc * 2 >= total:
                cut = min(max(x.end, a + 1), b - 1)
                if a < cut < b:
                    return cut
                break
    return a + (b - a) // 2


def ms_array(values: Sequence[str]) -> np.ndarray:
    """Insights ``@timestamp`` strings as int64 epoch milliseconds (vectorised)."""
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    if values[0].isdigit():
        return np.asarray([int(v) for v in values], dtype=np.int64)
    try:
        return np.asarray(values, dtype="datetime64[ms]").astype(np.int64)
    except ValueError:
        return np.asarray([parse_timestamp_ms(v) for v in values], dtype=np.int64)
