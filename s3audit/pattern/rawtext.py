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


Needle = "str | bytes"  # literal text, or a compiled-on-demand bytes regex

# byte frequencies in CloudTrail JSON (measured on the samples): scans are fastest when a needle
# starts with a rare byte, because the search skips ahead to candidates for its first byte.
_COMMON = {'"': 9.5, "e": 7.2, "a": 5.5, ":": 4.4, "t": 4.2, "s": 4.0, "r": 3.5, "n": 3.3, "o": 2.9,
           "2": 2.6, "1": 2.6, "c": 2.5, "3": 2.4, "d": 2.4, ",": 2.3, "-": 2.2, "i": 2.2, "m": 1.9,
           "l": 1.9, "u": 1.8, "p": 1.7, "A": 1.5, "0": 1.5, ".": 1.4, "S": 1.3, "y": 1.2}


def rare_suffix(text: str, min_len: int = 8) -> str:
    """The suffix of ``text`` (at least ``min_len`` long, or all of it) that starts with the rarest byte.

    Finding a suffix is a necessary condition for finding ``text``: rows where the suffix is absent
    certainly lack ``text``; rows where it is present are treated as "may contain" (conservative).
    """
    min_len = max(min_len, (len(text) * 2) // 3)  # stay selective: "...Time\"" would hit eventTime
    if len(text) <= min_len:
        return text
    best, score = 0, _COMMON.get(text[0], 0.5)
    for i in range(1, len(text) - min_len + 1):
        sc = _COMMON.get(text[i], 0.5)
        if sc < score:
            best, score = i, sc
    return text[best:]


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
        self._partial: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ scans
    def contains(self, needle: str) -> np.ndarray:
        """Boolean array: which rows' raw text contains ``needle`` (cached)."""
        return self.search(needle)

    def search(self, needle: "Needle") -> np.ndarray:
        """Whole-frame rows where ``needle`` (literal text, or a bytes regex) occurs (cached)."""
        key = needle.encode("utf-8", "surrogatepass") if isinstance(needle, str) else needle
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        rx = re.compile(re.escape(key) if isinstance(needle, str) else key)
        out = np.zeros(self.n, dtype=bool)
        for start, n, offsets, data, _chunk in self._chunks:
            lo, hi = int(offsets[0]), int(offsets[-1])
            spans = [(m.start(), m.end()) for m in rx.finditer(data, lo, hi)]
            if not spans:
                continue
            se = np.array(spans, dtype=np.int64)
            pos, end = se[:, 0], se[:, 1]
            rows = np.minimum(np.searchsorted(offsets, pos, side="right") - 1, n - 1)
            inside = end <= offsets[rows + 1]
            out[start + rows[inside]] = True
            if not inside.all():
                # a match across a row boundary may hide real ones (the search does not overlap):
                # re-check every row it touches on its own
                last = np.minimum(np.searchsorted(offsets, np.maximum(end[~inside] - 1, pos[~inside]),
                                                  side="right") - 1, n - 1)
                todo: set[int] = set()
                for a, b in zip(rows[~inside], last):
                    todo.update(range(int(a), int(b) + 1))
                for r in todo:
                    if rx.search(data, int(offsets[r]), int(offsets[r + 1])) is not None:
                        out[start + r] = True
        with self._lock:
            self._cache[key] = out
        return out

    def search_rows(self, needle: "Needle", rows: np.ndarray) -> np.ndarray:
        """``search`` for some rows only; results are remembered per row (and reused)."""
        key = needle.encode("utf-8", "surrogatepass") if isinstance(needle, str) else needle
        full = self._cache.get(key)
        if full is not None:
            return full[rows]
        with self._lock:
            part = self._partial.get(key)
            if part is None:
                part = self._partial[key] = (np.zeros(self.n, dtype=bool), np.zeros(self.n, dtype=bool))
        checked, hit = part
        todo = rows[~checked[rows]]
        if todo.size:
            rx = re.compile(re.escape(key) if isinstance(needle, str) else key)
            for data, los, his, idx in self._row_spans(todo):
                search = rx.search
                for r, a, b in zip(idx.tolist(), los.tolist(), his.tolist()):
                    if a < b and search(data, a, b) is not None:
                        hit[r] = True
            checked[todo] = True
        return hit[rows]

    def search_mask(self, needle: "Needle", mask: np.ndarray) -> np.ndarray:
        """Full-length boolean: rows in ``mask`` whose raw contains ``needle`` (remembered per row)."""
        key = needle.encode("utf-8", "surrogatepass") if isinstance(needle, str) else needle
        full = self._cache.get(key)
        if full is not None:
            return full & mask
        with self._lock:
            part = self._partial.get(key)
            if part is None:
                part = self._partial[key] = (np.zeros(self.n, dtype=bool), np.zeros(self.n, dtype=bool))
        checked, hit = part
        todo = mask & ~checked
        if todo.any():
            self.search_rows(needle, np.flatnonzero(todo))
        return hit & mask

    def _row_spans(self, rows: np.ndarray):
        """Per chunk: (data, starts, ends, global row numbers) for ``rows``."""
        starts = np.array([c[0] for c in self._chunks], dtype=np.int64)
        cidx = np.searchsorted(starts, rows, side="right") - 1
        for ci in np.unique(cidx):
            sel = rows[cidx == ci]
            start, _n, offsets, data, _c = self._chunks[int(ci)]
            local = sel - start
            yield data, offsets[local], offsets[local + 1], sel

    def is_cached(self, needle: "Needle") -> bool:
        key = needle.encode("utf-8", "surrogatepass") if isinstance(needle, str) else needle
        return key in self._cache

    def first_byte_is_brace(self) -> np.ndarray:
        """Whole frame: rows whose raw text starts with '{' after blanks (cached)."""
        key = b"\x00first-brace"
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        out = np.zeros(self.n, dtype=bool)
        for start, n, offsets, data, _chunk in self._chunks:
            buf = np.frombuffer(data, dtype=np.uint8)
            nonempty = offsets[1:] > offsets[:-1]
            first = np.zeros(n, dtype=np.uint8)
            first[nonempty] = buf[offsets[:-1][nonempty]]
            out[start : start + n] = first == 123
            blank = np.flatnonzero(nonempty & np.isin(first, (32, 9, 10, 13)))
            if blank.size:
                out[start + blank] = self.starts_with_brace(start + blank)
        self._cache[key] = out
        return out

    def starts_with_brace(self, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` start with ``{`` after blanks (a necessary sign of a JSON object)."""
        out = np.zeros(len(rows), dtype=bool)
        pos = {int(r): i for i, r in enumerate(rows)}
        for data, los, his, idx in self._row_spans(np.asarray(rows, dtype=np.int64)):
            for r, a, b in zip(idx.tolist(), los.tolist(), his.tolist()):
                while a < b and data[a] in (32, 9, 10, 13):
                    a += 1
                out[pos[r]] = a < b and data[a] == 123
        return out

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
