"""Fast, exact substring facts over the ``raw`` column of an event frame.

The flattened columns cannot tell a missing field from a JSON ``null`` (both NA), and a column
named ``a.b`` cannot tell ``{"a":{"b":..}}`` from a key ``"a.b"``. The mask settles such rows
with cheap facts about the raw text - "this row's raw never contains ``"vpcEndpointId"``" means
the key is absent - and parses ``raw`` only for the rows that are still undecided.

Scans run over the Arrow data buffer with :mod:`re` on a zero-copy memoryview (CPython's literal
search runs at several GB/s); matches are mapped to rows with ``numpy.searchsorted``. Results
for whole-frame scans are cached per raw array, so a design session that tests many patterns
against one frame pays for each needle once.
"""
from __future__ import annotations

import re
import threading
import weakref
from typing import Any

import numpy as np
import pyarrow as pa


class RawText:
    """The ``raw`` column as Arrow chunks, with cached whole-frame substring scans."""

    def __init__(self, array: pa.ChunkedArray) -> None:
        chunks = []
        start = 0
        for chunk in array.chunks:
            if pa.types.is_string_view(chunk.type) if hasattr(pa.types, "is_string_view") else False:
                chunk = chunk.cast(pa.large_string())
            if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
                chunk = chunk.cast(pa.large_string())
            n = len(chunk)
            bufs = chunk.buffers()
            odt = np.int32 if pa.types.is_string(chunk.type) else np.int64
            if n == 0:
                continue
            offsets = np.frombuffer(bufs[1], dtype=odt)[chunk.offset : chunk.offset + n + 1].astype(np.int64)
            data = memoryview(bufs[2]) if bufs[2] is not None else memoryview(b"")
            chunks.append((start, n, offsets, data, chunk))
            start += n
        self.n = start
        self.nbytes = int(sum(int(c[2][-1] - c[2][0]) for c in chunks))
        self._chunks = chunks
        self._cache: dict[bytes, np.ndarray] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ scans
    def cached(self, needle: str) -> np.ndarray | None:
        return self._cache.get(needle.encode("utf-8"))

    def contains(self, needle: str) -> np.ndarray:
        """Boolean array: which rows' raw text contains ``needle`` (cached)."""
        nb = needle.encode("utf-8")
        hit = self._cache.get(nb)
        if hit is not None:
            return hit
        out = np.zeros(self.n, dtype=bool)
        rx = re.compile(re.escape(nb))
        L = len(nb)
        for start, n, offsets, data, _chunk in self._chunks:
            lo, hi = int(offsets[0]), int(offsets[-1])
            pos = np.fromiter((m.start() for m in rx.finditer(data, lo, hi)), dtype=np.int64)
            if pos.size == 0:
                continue
            rows = np.searchsorted(offsets, pos, side="right") - 1
            rows = np.minimum(rows, n - 1)
            inside = pos + L <= offsets[rows + 1]
            out[start + rows[inside]] = True
            # a match that spans two rows may hide a real one (non-overlapping search): recheck
            span_end = np.searchsorted(offsets, pos[~inside] + L - 1, side="right") - 1
            for r in np.unique(np.concatenate([rows[~inside], np.minimum(span_end, n - 1)])):
                r = int(r)
                if rx.search(data, int(offsets[r]), int(offsets[r + 1])) is not None:
                    out[start + r] = True
        with self._lock:
            self._cache[nb] = out
        return out

    def contains_rows(self, needle: str, rows: np.ndarray) -> np.ndarray:
        """``contains`` for some rows only (not cached); cheaper when ``rows`` is small."""
        hit = self.cached(needle)
        if hit is not None:
            return hit[rows]
        nb = needle.encode("utf-8")
        rx = re.compile(re.escape(nb))
        out = np.zeros(len(rows), dtype=bool)
        for i, (data, a, b) in enumerate(self._spans(rows)):
            out[i] = rx.search(data, a, b) is not None
        return out

    def starts_with_brace(self, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` start with ``{`` after blanks (a necessary sign of a JSON object)."""
        out = np.zeros(len(rows), dtype=bool)
        for i, (data, a, b) in enumerate(self._spans(rows)):
            while a < b and data[a] in (32, 9, 10, 13):
                a += 1
            out[i] = a < b and data[a] == 123
        return out

    def _spans(self, rows: np.ndarray):
        starts = np.array([c[0] for c in self._chunks], dtype=np.int64)
        for r in rows:
            ci = int(np.searchsorted(starts, r, side="right") - 1)
            start, _n, offsets, data, _c = self._chunks[ci]
            k = int(r) - start
            yield data, int(offsets[k]), int(offsets[k + 1])

    def texts(self, rows: np.ndarray) -> list[str | None]:
        """The raw strings of ``rows`` (None for NA)."""
        out: list[str | None] = []
        if len(rows) == 0:
            return out
        starts = np.array([c[0] for c in self._chunks], dtype=np.int64)
        cidx = np.searchsorted(starts, rows, side="right") - 1
        result: list[Any] = [None] * len(rows)
        for ci in np.unique(cidx):
            sel = np.flatnonzero(cidx == ci)
            start, _n, _o, _d, chunk = self._chunks[int(ci)]
            vals = chunk.take(pa.array(rows[sel] - start)).to_pylist()
            for j, v in zip(sel, vals):
                result[int(j)] = v
        return result


_CACHE: dict[int, tuple[weakref.ref, RawText]] = {}
_CACHE_LOCK = threading.Lock()


def raw_text(series: Any) -> RawText:
    """A :class:`RawText` for a pandas Series of strings (cached per underlying array)."""
    key_obj = getattr(series, "array", series)
    try:
        ident = id(key_obj)
        with _CACHE_LOCK:
            hit = _CACHE.get(ident)
        if hit is not None and hit[0]() is key_obj:
            return hit[1]
    except TypeError:  # pragma: no cover
        key_obj = None
    arr = pa.chunked_array(_to_arrow(series))
    rt = RawText(arr)
    if key_obj is not None:
        try:
            ref = weakref.ref(key_obj, lambda _r, i=ident: _CACHE.pop(i, None))
            with _CACHE_LOCK:
                _CACHE[ident] = (ref, rt)
        except TypeError:  # not weak-referenceable: no caching
            pass
    return rt


def _to_arrow(series: Any) -> pa.ChunkedArray | pa.Array:
    try:
        arr = pa.array(series)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        arr = pa.array([v if isinstance(v, str) else None for v in series], type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            arr = arr.cast(pa.large_string())
        return arr
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pa.array([v if isinstance(v, str) else None for v in series], type=pa.large_string())
    return pa.chunked_array([arr])
