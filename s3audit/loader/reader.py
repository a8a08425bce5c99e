"""Turn every kind of input into batches: files, directories, documents, texts and dicts."""
from __future__ import annotations

import json
import logging
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from s3audit.loader.batch import Batch, batch_from_records, merge_batches
from s3audit.loader.documents import Item, read_text
from s3audit.loader.errors import LoadError, SkipLog
from s3audit.loader.fastpath import FastReader, split_lines, split_numbered_lines
from s3audit.loader.scan import flatnonzero_blocked, string_offsets

logger = logging.getLogger(__name__)

CHUNK_BYTES = 32 << 20
"""Bytes of JSON lines parsed per Arrow call (bounds memory beyond the result itself)."""
TEXT_BATCH = 20_000
"""JSON texts (iterable input, Insights messages) parsed per Arrow call."""
CAREFUL_FLUSH = 5_000

EVENT_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
"""Files picked up when a directory is loaded (CloudTrail trail files are ``*.json.gz``)."""
UNSUPPORTED_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".parquet", ".xlsx")

_DOCUMENT_START = re.compile(rb'\s*\{\s*"(Records|results|queryId|status|statistics|nextToken)"')
_GZIP_MAGIC = b"\x1f\x8b"
_TRUNCATION_ERRORS = (EOFError, zlib.error, OSError)
ITERABLE = "<iterable>"
_EMPTY_PATH = "empty path: no file or directory given"  # Path("") would be "." (the working directory)


class Reader:
    """Reads sources into :class:`Batch` objects, recording every skip in ``skips``."""

    def __init__(self, skips: SkipLog, *, chunk_bytes: int = CHUNK_BYTES, progress: Any = None,
                 batch_filter: Callable[[Batch], Batch | None] | None = None) -> None:
        self.skips = skips
        self.batch_filter = batch_filter
        self.rows_read = 0
        self._settled = 0
        self.chunk_bytes = chunk_bytes
        self.batches: list[Batch] = []
        self.sources: list[str] = []
        self.ignored_files: list[str] = []
        self.progress = progress
        self._seq = 0
        self._pending: list[tuple[str, dict[str, Any], int]] = []
        # where the lines the fast path hands to the careful path come from (for skip records):
        # (source, seq of the first line, line numbers) or, for texts, a seq -> item number map
        self._context: tuple[str, int, np.ndarray | None] = (ITERABLE, 0, None)
        # (sorted seqs, their item numbers): looked up only for lines the fast path hands back
        self._context_map: tuple[np.ndarray, np.ndarray] | None = None
        self.fast = FastReader(self._careful_lines)

    # ----------------------------------------------------------------- entry points
    def read(self, source: Any) -> None:
        if isinstance(source, str) and not source.strip():
            # Path("") is "." - an unset setting must not load the working directory
            raise LoadError(_EMPTY_PATH, source=source)
        if isinstance(source, (str, os.PathLike)) and not _looks_like_json(source):
            self._read_path(Path(source), explicit=True)
        elif isinstance(source, (str, bytes, Mapping)):
            self._read_items([source])
        elif isinstance(source, (pa.Array, pa.ChunkedArray)):
            self._read_arrow_texts(source)
        elif isinstance(source, Iterable):
            self._read_items(source)
        else:
            raise LoadError(f"cannot load events from a {type(source).__name__}")
        self._flush()
        self._settle()

    def _settle(self) -> None:
        """Put the batches read since the last call in input order and apply the batch filter."""
        new = merge_batches(self.batches[self._settled:])
        self.rows_read += sum(len(b) for b in new)
        if self.batch_filter is not None:
            new = [f for f in map(self.batch_filter, new) if f is not None]
        self.batches[self._settled:] = new
        self._settled = len(self.batches)

    def _read_items(self, items: Iterable[Any]) -> None:
        if isinstance(items, (list, tuple)):  # (a generator cannot be looked ahead)
            missing_path = _missing_among_paths(items)
            if missing_path is not None:  # fail before reading the others (minutes for big files)
                raise LoadError("no such file or directory" if missing_path.strip() else _EMPTY_PATH,
                                source=missing_path)
        texts: list[tuple[str, int]] = []
        any_text = False
        other_items = False  # records, JSON texts, messages: anything but paths
        missing: str | None = None  # the first string that looks like a path but names nothing
        for index, item in enumerate(items, start=1):
            kind = _path_kind(item) if isinstance(item, str) else None
            other_items |= kind is None and not isinstance(item, os.PathLike)
            if isinstance(item, Mapping):
                try:
                    text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
                    if not text.isascii() and not _encodable(text):
                        # a lone surrogate (json.loads of "\ud800" makes one): as an escape, the
                        # text is what the record's own JSON text was, and is read like it
                        text = json.dumps(item, ensure_ascii=True, separators=(",", ":"))
                except (TypeError, ValueError, RecursionError) as exc:  # (nested ~1000 levels deep)
                    self.skips.add(ITERABLE, index, f"record is not JSON-serialisable: {exc}")
                    continue
                texts.append((text, index))
            elif isinstance(item, bytes):
                try:
                    texts.append((item.decode("utf-8"), index))
                except UnicodeDecodeError as exc:
                    self.skips.add(ITERABLE, index, f"invalid UTF-8: {exc}")
                    continue
            elif isinstance(item, str) and kind != "path":
                # JSON, or other text: a counted skip on the careful path, as in a pyarrow array
                texts.append((item, index))
                if kind == "missing" and missing is None:
                    missing = item
            elif isinstance(item, (str, os.PathLike)):
                self._read_texts(texts, ITERABLE)
                texts = []
                self._read_path(Path(item), explicit=True)
                continue
            else:
                self.skips.add(ITERABLE, index, f"not a record, JSON text or path: {type(item).__name__}")
                continue
            any_text = True
            if len(texts) >= TEXT_BATCH:
                self._read_texts(texts, ITERABLE)
                texts = []
        if missing is not None and not other_items:
            # a list of paths (the CLI's PATH...) naming a missing file: say so; among messages
            # such a text ("2026/11/02", "arn:aws:s3:::b/k") is just a message that is not JSON
            raise LoadError("no such file or directory" if missing.strip() else _EMPTY_PATH, source=missing)
        self._read_texts(texts, ITERABLE)
        if any_text and ITERABLE not in self.sources:
            self.sources.append(ITERABLE)

    def _read_arrow_texts(self, texts: pa.Array | pa.ChunkedArray) -> None:
        """A pyarrow string array of JSON texts (e.g. an Insights ``@message`` column), read as an
        iterable of the same strings would be, without making Python strings of them: one-line
        texts starting with ``{`` are joined with newlines by Arrow and go to the fast reader in
        slices of ``TEXT_BATCH``; the others (multi-line, other shapes) take the careful path one
        by one; a null is a recorded skip. Skips name ``<iterable>`` and line = index + 1."""
        t = texts.type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            raise LoadError(f"cannot load events from a pyarrow array of {t} (expected JSON texts as strings)")
        chunks = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
        base = 0
        for chunk in chunks:
            for lo in range(0, len(chunk), TEXT_BATCH):
                self.read_arrow_slice(chunk.slice(lo, TEXT_BATCH), base + lo)
            base += len(chunk)
        if ITERABLE not in self.sources:
            self.sources.append(ITERABLE)

    def read_arrow_slice(self, texts: pa.Array, first_index: int) -> None:
        """Read one slice of an Arrow string array whose first item has index ``first_index`` (lines
        in skip records are index + 1; a reader fed only such slices, in order, gives each text
        ``seq`` = its index)."""
        n = len(texts)
        if not n:
            return
        with self._skips_in_input_order():
            self._read_arrow_slice(texts, first_index)

    @contextmanager
    def _skips_in_input_order(self) -> Iterator[None]:
        """Collect the skips recorded inside the block, then record them by line: texts that are
        not simple are read before the others, and the fast path reads some lines apart, so strict
        mode and the skip list's cap would otherwise meet a later bad input first (the file route
        reads in order)."""
        real, self.skips = self.skips, SkipLog(cap=sys.maxsize)
        try:
            yield
        finally:
            mine, self.skips = self.skips, real
            for e in sorted(mine.entries, key=lambda e: int(e["line"] or 0)):  # (stable: one line's keep their order)
                real.add(str(e["source"]), e["line"], str(e["reason"]))

    def _read_arrow_slice(self, texts: pa.Array, first_index: int) -> None:
        n = len(texts)
        valid = texts.is_valid().to_numpy(zero_copy_only=False)
        simple = valid & _arrow_mask(pc.starts_with(texts, "{")) & ~_holds_line_break(texts)
        seqs = self._seq + np.arange(n, dtype=np.int64)  # one seq per item, in input order
        self._seq += n
        lines = np.arange(first_index + 1, first_index + n + 1)
        if not simple.all():
            for i in np.flatnonzero(~simple).tolist():
                if not valid[i]:
                    self.skips.add(ITERABLE, int(lines[i]), "null value in the array: no JSON text")
                else:
                    self._careful_text(texts[i].as_py(), int(seqs[i]), ITERABLE, int(lines[i]))
        if simple.any():
            picked = texts if simple.all() else texts.filter(pa.array(simple))
            # every text + "\n" in one buffer (one copy, in C++)
            joined = pc.binary_join_element_wise(picked, pa.scalar("", picked.type), pa.scalar("\n", picked.type))
            offsets = string_offsets(joined)
            lo, hi = int(offsets[0]), int(offsets[-1])
            buf = memoryview(joined.buffers()[2])[lo:hi]  # no copy: the fast reader takes a buffer
            starts = offsets[:-1].astype(np.int64) - lo
            ends = offsets[1:].astype(np.int64) - lo - 1
            seq_arr = seqs[simple].astype(np.int64)
            self._context = (ITERABLE, 0, None)
            self._context_map = (seq_arr, lines[simple])
            self.batches.extend(self.fast.read(buf, seq_arr, starts, ends, raw=picked))
            self._context_map = None
        self._flush()
        self._settle()

    # ----------------------------------------------------------------- paths
    def _read_path(self, path: Path, *, explicit: bool) -> None:
        if not path.exists():
            raise LoadError("no such file or directory", source=str(path))
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path))
            for p in files:
                if p.name.lower().endswith(EVENT_SUFFIXES):
                    self._read_file(p)
                else:
                    self.ignored_files.append(str(p))
            if self.ignored_files:
                logger.info("ignored %d files that are not JSON event files", len(self.ignored_files))
            return
        if path.name.lower().endswith(UNSUPPORTED_SUFFIXES):
            raise LoadError(
                "not CloudTrail JSON: s3audit reads CloudTrail records as JSON (JSON lines, trail "
                "files {\"Records\": [...]}, Logs Insights exports); convert other exports first",
                source=str(path),
            )
        self._read_file(path)

    def _read_file(self, path: Path) -> None:
        source = str(path)
        self.sources.append(source)
        with open(path, "rb") as raw:
            magic = raw.read(2)
            raw.seek(0)
            stream: IO[bytes] = GzipStream(raw) if magic == _GZIP_MAGIC else raw  # type: ignore[assignment]
            head, error = _read_some(stream, 1 << 16)
            if head.startswith(b"\xef\xbb\xbf"):
                head = head[3:]  # a UTF-8 byte order mark is not part of the first record
            start = head.lstrip(b" \t\r\n")
            if not start and error is None:
                return  # an empty file holds no events
            whole = len(head) < 1 << 16
            if start and start[:1] not in (b"{", b"[") and not _lines_after_partial_first(start, whole=whole):
                first = start.split(b"\n", 1)[0][:80].decode("utf-8", "replace")
                hint = " (looks like CSV)" if first.count(",") >= 2 and not first.startswith("{") else ""
                self.skips.add(source, 1, f"not JSON{hint}: first line {first!r}; whole file skipped")
                return
            if start[:1] in (b"{", b"[") and _is_document(start, whole=whole):
                self._read_document(stream, source, head, error)
            else:
                self._read_lines(stream, source, head, error, path.stat().st_size)

    def _read_lines(self, stream: IO[bytes], source: str, head: bytes, error: Exception | None, size: int) -> None:
        pending = head
        lines_before = 0
        bar = self._bar(size, source)
        spare: bytearray | None = None
        while True:
            # read straight into one buffer that starts with the unfinished line of the last one.
            # The buffer is reused from chunk to chunk (nothing keeps a reference to it: Arrow's
            # reader and the raw column copy what they keep); a fresh 32 MB bytearray is zero-filled
            # and page-faulted each time, which cost ~6% of the load's CPU.
            cap = self.chunk_bytes if len(pending) <= self.chunk_bytes // 2 else len(pending) + self.chunk_bytes
            buf = spare if spare is not None and len(spare) == cap else bytearray(cap)
            spare = None
            buf[:len(pending)] = pending
            want = cap - len(pending)
            got = 0
            if error is None:
                got, error = _read_into(stream, memoryview(buf)[len(pending):])
            if got < want:  # the end (or a break): a short copy, once per file
                buf = buf[:len(pending) + got]
            eof = got == 0
            if bar is not None:
                bar.update(min(got, size))
            if not eof or error is not None:
                cut = buf.rfind(b"\n") + 1
                if cut == 0 and not eof:
                    pending = bytes(buf)
                    continue
                pending = bytes(buf[cut:])
            else:
                cut, pending = len(buf), b""
            if cut:
                # only the first ``cut`` bytes (whole lines) are read now; no copy of the buffer
                lines_before = self._lines_chunk(buf, cut, source, lines_before)
            spare = buf
            if eof:
                break
        if bar is not None:
            bar.close()
        if error is not None:
            if pending.strip() and _parses(pending):
                # a complete last line without its newline (CloudTrail writes none), then the break
                lines_before = self._lines_chunk(pending, len(pending), source, lines_before)
                lines_before += 1
            elif pending.strip():
                self.skips.add(source, lines_before + 1, "truncated compressed stream: incomplete last line dropped")
            self.skips.add(source, lines_before + 1,
                           f"compressed stream truncated or corrupt after line {lines_before} ({error}); "
                           "earlier lines were kept, anything after the break is lost" + _damage_note(error))

    def _lines_chunk(self, buf: bytes | bytearray, cut: int, source: str, lines_before: int) -> int:
        """Read the whole lines in ``buf[:cut]``; returns the line count after them."""
        starts, ends, lines, newlines = split_numbered_lines(buf, cut)
        lines += lines_before
        seq = np.arange(self._seq, self._seq + len(starts), dtype=np.int64)
        self._context = (source, self._seq, lines)
        self._seq += len(starts)
        self.batches.extend(self.fast.read(buf, seq, starts, ends, cut))
        self._flush()
        self._settle()
        return lines_before + newlines

    def _read_document(self, stream: IO[bytes], source: str, head: bytes, error: Exception | None) -> None:
        parts = [head]
        while error is None:
            data, error = _read_some(stream, self.chunk_bytes)
            if not data:
                break
            parts.append(data)
        data = b"".join(parts)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if error is None:
                self.skips.add(source, data.count(b"\n", 0, exc.start) + 1, f"invalid UTF-8 ({exc.reason}); "
                               "the document was read with the bad bytes replaced")
            text = data.decode("utf-8", "replace")
        self._read_document_text(text, source)
        if error is not None:
            self.skips.add(source, text.count("\n") + 1,
                           f"compressed stream truncated or corrupt ({error}); records before the break were kept"
                           + _damage_note(error))

    def _read_document_text(self, text: str, source: str) -> None:
        messages: list[tuple[str, int]] = []
        counted = (0, 1)  # (offset, its line): skips come in offset order, count newlines once
        for item in _guarded(read_text(text)):
            if item.kind == "record":
                self._pending.append((item.text, item.value, self._seq))
                self._seq += 1
            elif item.kind == "message":
                messages.append((item.text, (item.index or 0) + 1))
            else:
                at, line = counted if item.offset >= counted[0] else (0, 1)
                line += text.count("\n", at, item.offset)
                counted = (item.offset, line)
                self.skips.add(source, line, item.text)
            if len(self._pending) >= CAREFUL_FLUSH:
                self._flush()
        self._read_texts(messages, source)

    # ----------------------------------------------------------------- texts
    def _read_texts(self, texts: list[tuple[str, int]], source: str) -> None:
        """JSON texts (one record each, as CloudWatch Logs delivers them); numbers are for skips."""
        if not texts:
            return
        with self._skips_in_input_order():
            self._read_text_batch(texts, source)
            self._flush()
            self._settle()

    def _read_text_batch(self, texts: list[tuple[str, int]], source: str) -> None:
        simple: list[str] = []
        simple_seq: list[int] = []
        simple_line: list[int] = []
        for text, number in texts:
            seq = self._seq
            self._seq += 1
            if text[:1] == "{" and "\n" not in text and "\r" not in text:
                simple.append(text)
                simple_seq.append(seq)
                simple_line.append(number)
            else:
                self._careful_text(text, seq, source, number)
        if simple:
            try:
                buf = "\n".join(simple).encode("utf-8")
            except UnicodeEncodeError:
                for text, seq, number in zip(simple, simple_seq, simple_line):
                    self._careful_text(text, seq, source, number)
            else:
                starts, ends = split_lines(buf)
                if len(starts) != len(simple):  # pragma: no cover - guarded by the checks above
                    raise AssertionError("text batch split mismatch")
                seq_arr = np.asarray(simple_seq, dtype=np.int64)
                # texts keep their item numbers; their seqs are not contiguous, so map them
                self._context = (source, 0, None)
                self._context_map = (seq_arr, np.asarray(simple_line, dtype=np.int64))
                self.batches.extend(self.fast.read(buf, seq_arr, starts, ends))
                self._context_map = None
        self._flush()

    def _careful_lines(self, lines: list[tuple[bytes, int]]) -> None:
        """Lines the fast path could not take (sink of :class:`FastReader`)."""
        source, base, numbers = self._context
        for data, seq in lines:
            if self._context_map is not None:
                seqs, numbers = self._context_map
                k = int(np.searchsorted(seqs, seq))
                line = int(numbers[k]) if k < len(seqs) and seqs[k] == seq else None
            else:
                line = int(numbers[seq - base]) if numbers is not None else None
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.skips.add(source, line, f"invalid UTF-8 at byte {exc.start}")
                continue
            if not text.strip():
                continue  # a blank line holds nothing
            self._careful_text(text, seq, source, line)

    def _careful_text(self, text: str, seq: int, source: str, line: int | None, depth: int = 0) -> None:
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                self.skips.add(source, line, f"text is not valid Unicode ({exc.reason} at {exc.start})")
                return
        for item in _guarded(read_text(text)):
            if item.kind == "record":
                self._pending.append((item.text, item.value, seq))
            elif item.kind == "message" and depth == 0:
                self._careful_text(item.text, seq, source, line, depth + 1)
            elif item.kind == "message":
                self.skips.add(source, line, "nested Logs Insights result inside a message")
            else:
                self.skips.add(source, line, item.text)
        if len(self._pending) >= CAREFUL_FLUSH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            # a batch must be in input order on its own (merge_batches relies on it): a multi-line
            # text queued before a fast-path line that fell back later would otherwise precede it
            self._pending.sort(key=lambda item: item[2])  # stable: a wrapper's records keep their order
            batch = batch_from_records(self._pending, self.fast.unique_columns, self.fast.facts)
            self._pending = []
            if batch is not None:
                self.batches.append(batch)

    def _bar(self, total: int, source: str) -> Any:
        if not self.progress:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, unit="B", unit_scale=True, desc=Path(source).name, leave=False)


class GzipStream:
    """Streaming gzip decompression that keeps every byte decoded before a truncation or corruption.

    (``gzip.GzipFile.read`` can lose the data decoded in the call that hits the break.) Handles
    multi-member files; raises ``EOFError``/``zlib.error`` only once the good data is consumed.
    """

    def __init__(self, raw: IO[bytes], block: int = 1 << 20) -> None:
        self.raw = raw
        self.block = block
        self._d = zlib.decompressobj(31)
        self._buf = bytearray()
        self._error: Exception | None = None
        self._done = False

    def _fill(self, n: int) -> None:
        while len(self._buf) < n and not self._done:
            comp = self.raw.read(self.block)
            if not comp:
                if not self._d.eof:
                    self._error = EOFError("compressed file ended before the end-of-stream marker was reached")
                self._done = True
                break
            try:
                self._feed(comp)
                while self._d.eof and self._d.unused_data:
                    rest = self._d.unused_data
                    if not rest.strip(b"\x00"):
                        break  # zero padding after the last member (allowed by gzip)
                    self._d = zlib.decompressobj(31)
                    self._feed(rest)
            except zlib.error as exc:
                self._error = exc
                self._done = True

    def _feed(self, comp: bytes) -> None:
        """Decompress ``comp`` into the buffer. zlib's ``decompress`` raises at a corrupt spot and
        returns nothing of what it decoded before it in that call: then the block is fed again from
        the state before it in ever smaller pieces (down to single bytes), so every byte decoded
        before the corruption is kept, and the error is raised after. Input past the end of a
        gzip member goes to ``unused_data`` (read as the next member by the caller)."""
        saved = self._d.copy()
        try:
            self._buf += self._d.decompress(comp)
            return
        except zlib.error:
            if len(comp) <= 1:
                raise
        self._d = saved
        step = max(1, len(comp) // 64)
        for lo in range(0, len(comp), step):
            self._feed(comp[lo:lo + step])  # raises at the piece holding the corruption

    def read(self, n: int = -1) -> bytes:
        self._fill(n if n >= 0 else 1 << 62)
        size = len(self._buf) if n < 0 else min(n, len(self._buf))
        data = bytes(self._buf[:size])
        del self._buf[:size]
        if not data and self._error is not None:
            error, self._error = self._error, None
            raise error
        return data


def _damage_note(error: Exception) -> str:
    """What a user must know about the data kept before a gzip error: a truncation loses only
    what follows, but damaged data is found only where zlib trips over it (often at the member's
    checksum, at its end), so what was decoded before may hold altered bytes."""
    if isinstance(error, EOFError):
        return ""
    if "header check" in str(error):  # bytes after a complete member: what was kept passed its check
        return "; the bytes after the last complete gzip member are not gzip"
    return ("; the damage may lie before that point (gzip checks a member as a whole, at its end): "
            "records read from this member may hold altered bytes")


def _guarded(items: Iterator[Item]) -> Iterator[Item]:
    """``items``, ending in a skip instead of a ``RecursionError`` (a last resort: documents.py
    catches the decoder's own and bounds its nesting)."""
    try:
        yield from items
    except RecursionError:
        yield Item("skip", "JSON nested too deeply to read; the rest of this text is lost", offset=0)


def _read_into(stream: IO[bytes], view: memoryview) -> tuple[int, Exception | None]:
    """Fill ``view`` from the stream (``readinto`` when it has one); bytes read and any
    truncation/corruption error of a compressed stream (what was read before it is kept)."""
    got = 0
    readinto = getattr(stream, "readinto", None)
    while got < len(view):
        try:
            if readinto is not None:
                n = readinto(view[got:])
            else:
                data = stream.read(len(view) - got)
                n = len(data)
                view[got:got + n] = data
        except _TRUNCATION_ERRORS as exc:
            return got, exc.with_traceback(None)
        if not n:
            break
        got += n
    return got, None


def _read_some(stream: IO[bytes], n: int) -> tuple[bytes, Exception | None]:
    """Up to ``n`` bytes; a truncated/corrupt compressed stream returns what was read plus the error."""
    parts: list[bytes] = []
    got = 0
    while got < n:
        try:
            data = stream.read(n - got)
        except _TRUNCATION_ERRORS as exc:
            return b"".join(parts), exc
        if not data:
            break
        parts.append(data)
        got += len(data)
    return b"".join(parts), None


def _is_document(start: bytes, *, whole: bool) -> bool:
    """One JSON document (pretty-printed record, trail file, Insights export, array, several of
    these one after another) rather than JSON lines. A first line that is a complete JSON value
    means JSON lines (unless a pretty-printed value follows), even when it is a ``{"Records":
    [...]}`` wrapper (concatenated trail files) or an array: those lines are expanded one by one."""
    first_line, newline, rest = start.partition(b"\n")
    if first_line.strip() in (b"{", b"["):
        return True
    if rest.lstrip(b" \t\r\n").partition(b"\n")[0].strip() in (b"{", b"["):
        return True  # a one-line value, then pretty-printed ones: values one after another
    if start[:1] == b"[":
        # a one-line array (`[]` page, `[record]`) followed by JSON lines is JSON lines; so is a
        # partial first line (a file cut at a byte offset) followed by whole lines
        return not ((newline or whole) and (_parses(first_line) or _parses(rest.partition(b"\n")[0])))
    if newline or whole:
        if not _parses(first_line):
            return bool(_DOCUMENT_START.match(start))
        return False
    return bool(_DOCUMENT_START.match(start))  # the first line is longer than the sniffed head


def _parses(line: bytes) -> bool:
    """Whether ``line`` is one whole JSON value (a sniff: deep nesting counts as whole)."""
    try:
        json.loads(line)
    except RecursionError:
        return True
    except ValueError:  # JSONDecodeError, invalid UTF-8, an over-long integer
        return False
    return True


def _lines_after_partial_first(start: bytes, *, whole: bool = True) -> bool:
    """A file that does not start with JSON but whose second line is a JSON object: JSON lines
    whose first line was cut (``split -b``, ``tail -c``, a byte-range GET). A second line longer
    than the sniffed head counts when it starts like a record (``{"``)."""
    _, newline, rest = start.partition(b"\n")
    second, complete, _ = rest.partition(b"\n")
    second = second.strip()
    if not newline or second[:1] != b"{":
        return False
    return _parses(second) if complete or whole else second.startswith(b'{"')


def _looks_like_json(value: Any) -> bool:
    if isinstance(value, str):
        return value.lstrip().lstrip("\ufeff").lstrip()[:1] in ("{", "[")  # a byte order mark may lead
    return False


def _path_kind(value: str) -> str | None:
    """What a string item of an iterable is: ``"path"`` (names an existing file or directory),
    ``"missing"`` (not JSON-looking, one line without a URL scheme, ending like an event file or
    holding a separator but no space: a path if the iterable holds only paths, else a message),
    or ``None`` (a JSON text or a message such as "GET /bucket/key HTTP/1.1", "s3://b/k.json.gz":
    a counted skip when it is not JSON). A blank string is ``"missing"`` too: an unset setting
    among paths (``s3audit summary "$UNSET"``) is an error, among messages an empty message."""
    if not value.strip():
        return "missing"
    if _looks_like_json(value) or "\n" in value or "\0" in value:
        return None
    try:
        if os.path.exists(value):
            return "path"
    except (OSError, ValueError):
        return None
    if "://" in value:
        return None
    if value.lower().endswith(EVENT_SUFFIXES + UNSUPPORTED_SUFFIXES + (".gz",)) or (
            os.sep in value and not any(c.isspace() for c in value)):
        return "missing"
    return None


def _missing_among_paths(items: list[Any] | tuple[Any, ...]) -> str | None:
    """The first item naming no file or directory, when every item is a path (a string that
    names one or looks like one, see :func:`_path_kind`, or a path object); None otherwise, so
    among records and messages such a string stays a message, as :meth:`Reader._read_items` reads it."""
    first: str | None = None
    for item in items:
        if isinstance(item, os.PathLike):
            if first is None and not os.path.exists(item):
                first = str(item)
        elif not isinstance(item, str):
            return None
        else:
            kind = _path_kind(item)
            if kind is None:
                return None
            if kind == "missing" and first is None:
                first = item
    return first


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _encodable(text: str) -> bool:
    """Whether ``text`` is valid Unicode (no lone surrogate), i.e. encodes as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _arrow_mask(values: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, nulls as False."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def _holds_line_break(texts: pa.Array) -> np.ndarray:
    """Per string of ``texts``: whether it holds ``\\n`` or ``\\r`` (one numpy pass over the data
    buffer; Arrow's substring kernels are ten times slower on long strings)."""
    hit = np.zeros(len(texts), dtype=bool)
    data_buffer = texts.buffers()[2]
    if not len(texts) or data_buffer is None:
        return hit
    offsets = string_offsets(texts)
    lo = int(offsets[0])
    data = np.frombuffer(data_buffer, dtype=np.uint8)[lo:int(offsets[-1])]
    positions = flatnonzero_blocked(data, lambda block: (block == 10) | (block == 13))
    if len(positions):
        hit[np.searchsorted(offsets, positions + lo, side="right") - 1] = True
    return hit
