"""Fast substring facts over the ``raw`` column of an event frame.

The flattened columns cannot tell a missing field from a JSON ``null`` (both NA), and a column
named ``a.b`` cannot tell ``{"a":{"b":..}}`` from a key ``"a.b"``. The mask settles such rows
with cheap facts about the raw text - "this row's raw never contains ``"vpcEndpointId"``" means
the key is absent - and parses ``raw`` only for the rows that are still undecided.

Scans run in Arrow's compute kernels (RE2, per row, GIL released): a needle with a literal prefix
that starts with a rare byte is searched at several GB/s. Needles are plain text or
:class:`Re2` patterns written in the common subset of RE2 and Python ``re``. A fact only ever
makes a row *suspect* (then ``raw`` decides), so needles may be looser than the thing they stand
for. Results are cached per raw array (whole frame) and per row (subsets), so a design session
that tests many patterns against one frame pays for each needle once.
"""
from __future__ import annotations

import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class Re2(str):
    """A regex needle (valid for RE2 and Python ``re``); a plain ``str`` needle is literal text."""


Needle = "str | Re2"

def re2_escape(text: str) -> str:
    """Escape ``text`` for RE2 and Python alike (a backslash before ASCII punctuation only)."""
    return "".join("\\" + c if (c.isascii() and not c.isalnum() and c not in " _") else c for c in text)

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
    """The ``raw`` column as Arrow chunks, with cached substring/regex facts per row."""

    def __init__(self, array: pa.ChunkedArray) -> None:
        chunks = []
        start = 0
        for chunk in array.chunks:
            if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
                chunk = chunk.cast(pa.large_string())
            n = len(chunk)
            if n == 0:
                continue
            bufs = chunk.buffers()
            odt = np.int32 if pa.types.is_string(chunk.type) else np.int64
            offsets = np.frombuffer(bufs[1], dtype=odt)[chunk.offset : chunk.offset + n + 1].astype(np.int64)
            data = memoryview(bufs[2]) if bufs[2] is not None else memoryview(b"")
            chunks.append((start, n, offsets, data, chunk))
            start += n
        self.n = start
        self.nbytes = int(sum(int(c[2][-1] - c[2][0]) for c in chunks))
        self._chunks = chunks
        self._array = pa.chunked_array([c[4] for c in chunks], type=chunks[0][4].type) if chunks else None
        self._cache: dict[str, np.ndarray] = {}
        self._partial: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ scans
    @staticmethod
    def _key(needle: "Needle") -> str:
        return ("re:" if isinstance(needle, Re2) else "lit:") + needle

    @staticmethod
    def _pattern(needle: "Needle") -> str:
        return str(needle) if isinstance(needle, Re2) else re2_escape(needle)

    def _scan(self, array: pa.ChunkedArray | pa.Array, needle: "Needle") -> np.ndarray:
        if len(array) == 0:
            return np.zeros(0, dtype=bool)
        pattern = self._pattern(needle)
        pieces = _pieces(array)
        if len(pieces) > 1:  # Arrow releases the GIL: scan slices on the cores in parallel
            parts = list(_pool().map(lambda a: _match(a, pattern), pieces))
            return np.concatenate(parts)
        return _match(array, pattern)

    def contains(self, needle: str) -> np.ndarray:
        """Boolean array: which rows' raw text contains the literal ``needle`` (cached)."""
        return self.search(needle)

    def search(self, needle: "Needle") -> np.ndarray:
        """Whole frame: rows whose raw text holds ``needle`` (cached)."""
        key = self._key(needle)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        out = self._scan(self._array, needle) if self._array is not None else np.zeros(0, dtype=bool)
        with self._lock:
            self._cache[key] = out
        return out

    def search_rows(self, needle: "Needle", rows: np.ndarray) -> np.ndarray:
        """``search`` for some rows only; results are remembered per row (and reused)."""
        mask = np.zeros(self.n, dtype=bool)
        mask[rows] = True
        return self.search_mask(needle, mask)[rows]

    def search_mask(self, needle: "Needle", mask: np.ndarray) -> np.ndarray:
        """Full-length boolean: rows in ``mask`` whose raw holds ``needle`` (remembered per row)."""
        key = self._key(needle)
        full = self._cache.get(key)
        if full is not None:
            return full & mask
        if mask.sum() * 8 > self.n:  # a whole-frame scan costs little more, and is cached
            return self.search(needle) & mask
        with self._lock:
            part = self._partial.get(key)
            if part is None:
                part = self._partial[key] = (np.zeros(self.n, dtype=bool), np.zeros(self.n, dtype=bool))
        checked, hit = part
        todo = np.flatnonzero(mask & ~checked)
        if todo.size and self._array is not None:
            hit[todo] = self._scan(self._take(todo), needle)
            checked[todo] = True
        return hit & mask

    def is_cached(self, needle: "Needle") -> bool:
        return self._key(needle) in self._cache

    def first_byte_is_brace(self) -> np.ndarray:
        """Whole frame: rows whose raw text starts with '{' after blanks (cached)."""
        return self.search(Re2(r"^[ \t\r\n]*\{"))

    def _take(self, rows: np.ndarray) -> pa.ChunkedArray:
        """The raw strings of sorted ``rows``, chunk by chunk (ChunkedArray.take is slow on big chunks)."""
        rows = np.asarray(rows, dtype=np.int64)
        starts = np.array([c[0] for c in self._chunks], dtype=np.int64)
        cidx = np.searchsorted(starts, rows, side="right") - 1
        parts = []
        bounds = np.flatnonzero(np.diff(cidx)) + 1
        for seg in np.split(np.arange(len(rows)), bounds):
            if seg.size == 0:
                continue
            ci = int(cidx[seg[0]])
            start, _n, _o, _d, chunk = self._chunks[ci]
            parts.append(chunk.take(pa.array(rows[seg] - start)))
        return pa.chunked_array(parts, type=self._chunks[0][4].type)

    def texts(self, rows: np.ndarray) -> list[str | None]:
        """The raw strings of ``rows`` (None for NA), in the order given."""
        if len(rows) == 0 or self._array is None:
            return []
        rows = np.asarray(rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        got = self._take(rows[order]).to_pylist()
        out: list[str | None] = [None] * len(rows)
        for i, v in zip(order.tolist(), got):
            out[i] = v
        return out


_PIECE_BYTES = 64 << 20
_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)),
                                   thread_name_prefix="s3audit-rawscan")
    return _POOL


def _match(array: pa.ChunkedArray | pa.Array, pattern: str) -> np.ndarray:
    hit = pc.match_substring_regex(array, pattern)
    return pc.fill_null(hit, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _pieces(array: pa.ChunkedArray | pa.Array) -> list[pa.Array]:
    """Zero-copy slices of about ``_PIECE_BYTES`` of text each (one piece when small or 1 core)."""
    if (os.cpu_count() or 1) < 2:
        return [array]
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    total = sum(c.nbytes for c in chunks)
    if total < 2 * _PIECE_BYTES:
        return [array]
    out: list[pa.Array] = []
    for c in chunks:
        k = max(1, int(c.nbytes // _PIECE_BYTES))
        step = -(-len(c) // k)
        out.extend(c.slice(i, step) for i in range(0, len(c), step))
    return out


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
