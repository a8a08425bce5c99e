"""Build the event frame from JSON texts that arrive in pieces, parsing them while they arrive.

A Logs Insights pull receives its ``@message`` texts page by page over several seconds. Parsing
each page as it arrives (in one background thread; Arrow's JSON reader works on its own threads
and releases the GIL) leaves only the assembly for the end, instead of the whole parse.

Texts get consecutive *arrival numbers* from 0. The caller decides at the end which texts make
the frame, and in which order (:meth:`TextStream.finish`): a text left out (a row the pull finds
it does not own, a repeat) leaves no trace - no row, no skip record, no filter count - because
the filters run at the end over the selection, and skip records are kept only for selected
texts (their ``line`` becomes the 1-based position in the selection).
"""
from __future__ import annotations

import bisect
import queue
import sys
import threading
from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from s3audit.loader.batch import Batch, merge_batches
from s3audit.loader.errors import LoadError, SkipLog
from s3audit.loader.reader import ITERABLE, TEXT_BATCH, Reader
from s3audit.loader.result import finish_frame, keep_set, source_set
from s3audit.schema import DEFAULT_EVENT_SOURCES

__all__ = ["TextStream"]


class TextStream:
    """JSON texts parsed as they arrive; :meth:`finish` builds the frame of a selection of them.

    Parameters
    ----------
    keep, event_sources
        As for :func:`s3audit.load_events` (applied in :meth:`finish`).
    background : bool, default True
        Parse in a background thread (``add`` returns at once); False parses inside ``add``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> def rec(i, t):
    ...     return ('{"eventVersion":"1.09","eventSource":"s3.amazonaws.com","eventName":"GetObject",'
    ...             f'"eventCategory":"Data","eventTime":"2026-11-02T10:00:0{t}Z","eventID":"e{i}"}}')
    >>> stream = TextStream()
    >>> stream.add(pa.array([rec(0, 5), rec(1, 1)]))
    0
    >>> stream.add(pa.array([rec(2, 3), "{cut"]))
    2
    >>> df = stream.finish([1, 2, 0, 3])  # arrival numbers, in the frame's order
    >>> df["eventID"].tolist(), df.attrs["skipped"]
    (['e1', 'e2', 'e0'], [{'source': '<iterable>', 'line': 4, 'reason': 'malformed JSON: ...'}])
    """

    def __init__(self, *, keep: str | Collection[str] = (),
                 event_sources: str | Collection[str] = DEFAULT_EVENT_SOURCES, background: bool = True) -> None:
        self._keep = keep_set(keep)
        self._event_sources = source_set(event_sources)
        self._skips = SkipLog(cap=sys.maxsize)  # every skip is listed until finish() selects
        self._reader = Reader(self._skips)  # no batch filter: every filter runs in finish()
        self._firsts: list[int] = []
        self._pieces: list[pa.Array] = []
        self._count = 0
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[int, pa.Array] | None] = queue.Queue()
        self._error: BaseException | None = None
        self._background = background
        self._thread: threading.Thread | None = None
        self._finished = False

    def __len__(self) -> int:
        """Texts added so far."""
        return self._count

    def add(self, texts: pa.Array | pa.ChunkedArray) -> int:
        """Queue ``texts`` (a pyarrow string array) for parsing; returns the arrival number of the
        first (the others follow consecutively)."""
        if isinstance(texts, pa.ChunkedArray):
            texts = texts.combine_chunks() if texts.num_chunks != 1 else texts.chunk(0)
        if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
            raise LoadError(f"cannot load events from a pyarrow array of {texts.type} (expected JSON texts as strings)")
        with self._lock:  # numbers and queue order agree
            if self._finished:
                raise RuntimeError("TextStream.add after finish()")
            first = self._count
            self._count += len(texts)
            self._firsts.append(first)
            self._pieces.append(texts)
            if not len(texts):
                return first
            if self._background:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._work, name="s3audit-parse", daemon=True)
                    self._thread.start()
                self._queue.put((first, texts))
            else:
                self._parse(first, texts)
        return first

    def text(self, number: int) -> str | None:
        """The text with arrival number ``number``."""
        if not 0 <= number < self._count:
            raise IndexError(f"no text number {number} (0..{self._count - 1})")
        k = bisect.bisect_right(self._firsts, number) - 1
        while not len(self._pieces[k]) or number - self._firsts[k] >= len(self._pieces[k]):
            k += 1  # (empty pieces share their first number with the next one)
        value = self._pieces[k][number - self._firsts[k]].as_py()
        return value  # type: ignore[no-any-return]

    def skipped(self) -> list[dict[str, object]]:
        """Skip records of the texts parsed so far (waits for the queue); ``line`` is the arrival
        number + 1."""
        self._drain()
        return [dict(e) for e in self._skips.entries]

    def finish(self, select: Sequence[int] | np.ndarray, *, max_skipped: int = 100) -> pd.DataFrame:
        """The event frame of the texts numbered ``select``, in that order (each at most once).

        The frame is what :func:`s3audit.load_events` returns for the same texts in that order:
        same columns, dtypes, filters and ``attrs`` (sources: ``["<iterable>"]``; skip lines are
        positions in ``select`` + 1).
        """
        try:
            self._drain()  # re-raises a parse error of the background thread
        finally:
            with self._lock:
                self._finished = True
            self._stop()
        order = np.asarray(select, dtype=np.int64).reshape(-1)
        if len(order) and (order.min() < 0 or order.max() >= self._count):
            raise IndexError(f"select holds numbers outside 0..{self._count - 1}")
        rank = np.full(self._count, -1, dtype=np.int64)
        rank[order] = np.arange(len(order), dtype=np.int64)
        if len(order) and int((rank >= 0).sum()) != len(order):
            raise ValueError("select holds a number more than once")
        selected: list[Batch] = []
        for b in self._reader.batches:
            r = rank[b.seq]
            keep = r >= 0
            if not keep.all():
                if not keep.any():
                    continue
                mask = pa.array(keep)
                b = Batch({k: v.filter(mask) for k, v in b.columns.items()}, b.raw.filter(mask), b.seq[keep])
                r = r[keep]
            if not bool(np.all(r[1:] >= r[:-1])):  # put the batch in frame order on its own (one small take)
                local = np.argsort(r, kind="stable")
                take = pa.array(local)
                b = Batch({k: v.take(take) for k, v in b.columns.items()}, b.raw.take(take), b.seq[local])
                r = r[local]
            selected.append(Batch(b.columns, b.raw, r))
        selected.sort(key=lambda b: int(b.seq[0]))
        # batches in order on their own, interleaving at few places (pages of concurrent queries):
        # merge_batches cuts them into zero-copy runs, so assemble needs no take over the frame
        selected = merge_batches(selected, max_runs=max(256, 4 * len(selected)))
        self._reader.batches = selected
        self._reader.rows_read = sum(len(b) for b in selected)
        if self._count:
            self._reader.sources = [ITERABLE]
        skips = SkipLog(cap=max_skipped)
        kept = [(int(rank[e["line"] - 1]), e) for e in self._skips.entries
                if e.get("line") and rank[int(e["line"]) - 1] >= 0]
        for position, e in sorted(kept, key=lambda x: x[0]):
            skips.add(str(e["source"]), position + 1, str(e["reason"]))
        # every filter runs on the assembled selection (one pass, exact counts)
        return finish_frame(self._reader, skips, keep=self._keep, event_sources=self._event_sources, counts={},
                            filtered_while_reading=False)

    def close(self) -> None:
        """Stop the background thread (texts still queued are dropped); idempotent."""
        with self._lock:
            self._finished = True
        if self._thread is not None and self._thread.is_alive():
            while True:  # drop what is still queued
                try:
                    self._queue.get_nowait()
                    self._queue.task_done()
                except queue.Empty:
                    break
        self._stop()

    # ------------------------------------------------------------------ internals
    def _parse(self, first: int, texts: pa.Array) -> None:
        for lo in range(0, len(texts), TEXT_BATCH):
            self._reader.read_arrow_slice(texts.slice(lo, TEXT_BATCH), first + lo)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if self._error is None:
                    self._parse(*item)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                self._error = exc
            finally:
                self._queue.task_done()

    def _drain(self) -> None:
        if self._thread is not None:
            self._queue.join()
        if self._error is not None:
            raise self._error

    def _stop(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join()
        self._thread = None
