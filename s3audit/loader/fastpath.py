"""The fast path: a chunk of JSON lines -> Arrow's JSON reader -> flattened columns.

Design notes
------------
* The raw text column is cut out of the chunk with numpy (line offsets, newline bytes removed),
  so ``raw`` is byte-for-byte each line without its line terminator, and costs one copy.
* Arrow infers a schema per chunk. Heterogeneous records break that inference: a field that is a
  string in one record and an array or number in another (``Host``, Logstash-stringified values)
  raises ``ArrowInvalid``. The chunk is then bisected; halves that parse stay on the fast path,
  and ranges of at most ``CAREFUL_RANGE`` lines go line by line through the careful path
  (``json.loads`` + :func:`s3audit.flatten.flatten_record`). No line is ever dropped: every line
  ends up as a row or as a recorded skip.
* Arrow turns ISO-8601-looking strings into timestamps. Fields known to hold such strings are
  declared as strings up front; any other inferred timestamp makes the reader retry with that
  field declared as a string too (remembered for later chunks), so values stay their exact text.
* Rows that are not CloudTrail records (no ``eventSource`` and no ``eventName``: wrappers such as
  ``{"Records": [...]}`` on one line, or foreign JSON) are handed to the careful path, which
  expands wrappers and records a skip for the rest.
"""
from __future__ import annotations

import json
import re
import logging
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from s3audit.flatten import top_level_name
from s3audit.loader.batch import Batch, compact, to_string_array
from s3audit.loader.facts import JSON_SPACE, RecordFacts, is_odd_key

logger = logging.getLogger(__name__)

CAREFUL_RANGE = 32
FAST_MAX_DEPTH = 32
"""Records nested deeper than this (CloudTrail's go ~8 levels) take the careful path, which
flattens without recursion: the fast path's walks over Arrow types are recursive."""
PARSE_BLOCKS = 4
"""Blocks per Arrow call on the first attempt (Arrow parses blocks on its thread pool)."""
MIN_BLOCK = 2 << 20
"""Smallest block: from about 1 MB down, blocks cost more CPU per byte; at 2 MB a pulled page of
10,000 records (7-9 MB) still parses as 3-4 blocks, in about half the time of one on two cores."""
_MAX_GUIDED = 64
_ERROR_ROW = re.compile(r"in row (\d+)\s*$")
_CLASH = re.compile(r"Column\((/[^)]*)\) changed from (\w+) to (\w+) in row (\d+)")
_MAX_ODD = 4096
# Arrow's JSON reader (pyarrow <= 25 at least) builds an invalid list array for a list whose first
# element is null and that has more elements while the list's value type is still unknown
# ("x":[null,null], [null,false], [null,1]): the child array is shorter than the offsets say, and
# using it raises ArrowIndexError (or reads garbage). Tables holding lists are validated; lines
# that can trigger the bug are sent to the careful path.
_NULL_FIRST_LIST = re.compile(rb"\[\s*null\s*,")
_VALUE_START: dict[str, tuple[bytes, ...]] = {
    # (numbers would need 11 scans: left to the error-row splitting)
    "array": (b"[",), "object": (b"{",), "string": (b'"',), "boolean": (b"t", b"f"), "null": (b"n",),
}
"""Bisection stops at this many lines and hands them to the careful path."""

# JSON paths whose values look like ISO-8601 times but must stay text (eventTime is parsed later
# with an explicit format; keys and prefixes are names that may look like dates).
STRING_PATHS: tuple[str, ...] = (
    "eventTime",
    "@timestamp",
    "requestParameters.key",
    "requestParameters.prefix",
    "userIdentity.sessionContext.attributes.creationDate",
)

# (raw line text, seq) pairs that the careful path must handle
CarefulSink = Callable[[list[tuple[bytes, int]]], None]


class SchemaState:
    """Explicitly typed (string) JSON paths, grown when Arrow infers a timestamp. A path is the
    tuple of its keys (a key may hold a dot: ``("event.created",)`` is not ``event`` > ``created``)."""

    def __init__(self) -> None:
        self.paths: set[tuple[str, ...]] = {tuple(p.split(".")) for p in STRING_PATHS}
        self._schema: pa.Schema | None = None

    def add(self, paths: set[tuple[str, ...]]) -> None:
        self.paths |= paths
        self._schema = None

    @property
    def schema(self) -> pa.Schema:
        if self._schema is None:
            tree: dict = {}
            for parts in sorted(self.paths):
                node = tree
                for part in parts[:-1]:
                    node = node.setdefault(part, {})
                    if not isinstance(node, dict):
                        break
                else:
                    node.setdefault(parts[-1], None)
            self._schema = pa.schema(_fields(tree))
        return self._schema


def _fields(tree: dict) -> list[pa.Field]:
    return [pa.field(k, pa.string() if v is None else pa.struct(_fields(v))) for k, v in tree.items()]


def split_lines(buf: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end byte offsets of the non-empty lines of ``buf`` (ends exclude ``\\r\\n``)."""
    starts, ends, _, _ = split_numbered_lines(buf)
    return starts, ends


def split_numbered_lines(buf: bytes, limit: int | None = None
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """:func:`split_lines` of ``buf[:limit]``, the 1-based line number of each non-empty line, and
    the number of newlines in ``buf[:limit]``.

    Newlines are found with ``bytes.find`` (memchr), faster than a numpy comparison over the
    whole buffer when lines are long, as CloudTrail records are.
    """
    if not isinstance(buf, (bytes, bytearray)):
        buf = bytes(buf)
    limit = len(buf) if limit is None else limit
    found = []
    find = buf.find
    pos = find(b"\n", 0, limit)
    while pos >= 0:
        found.append(pos)
        pos = find(b"\n", pos + 1, limit)
    nl = np.asarray(found, dtype=np.int64)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [limit]))
    b = np.frombuffer(buf, dtype=np.uint8, count=limit)
    cr = (ends > starts) & (b[np.maximum(ends - 1, 0)] == 13) if limit else np.zeros(len(ends), bool)
    ends = ends - cr
    keep = ends > starts
    if keep.all():
        return starts, ends, np.arange(1, len(starts) + 1), len(nl)
    return starts[keep], ends[keep], np.flatnonzero(keep) + 1, len(nl)


def raw_array(buf: bytes, starts: np.ndarray, ends: np.ndarray, limit: int | None = None) -> pa.Array:
    """The lines ``buf[starts[i]:ends[i]]`` (as :func:`split_numbered_lines` returns them for
    ``buf[:limit]``) as one Arrow string array: the line terminators are cut out with one
    vectorised copy, no Python loop."""
    limit = len(buf) if limit is None else limit
    b = np.frombuffer(buf, dtype=np.uint8, count=limit)
    lengths = ends - starts
    total = int(lengths.sum())
    if total == limit:
        data = b.copy()  # never a view: the reader reuses its buffer for the next chunk
    else:
        # the bytes outside the lines are their terminators: drop them with fast memchr-based
        # replaces (blank lines vanish too); anything else outside (whitespace-only lines) is
        # caught by the length check and takes the exact path. Bytes after ``limit`` hold no
        # newline, so they stay at the end and are cut off.
        text = buf if isinstance(buf, (bytes, bytearray)) else bytes(buf)
        if b"\r" in text:
            text = text.replace(b"\r\n", b"\n")
        text = text.replace(b"\n", b"")
        tail = len(buf) - limit
        data = np.frombuffer(text, dtype=np.uint8, count=len(text) - tail)
        if len(data) != total:
            data = np.concatenate([b[s:e] for s, e in zip(starts, ends)]) if len(starts) else b[:0]
    offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    # large_string: what pandas' Arrow-backed string columns hold, so no conversion copy later
    return pa.LargeStringArray.from_buffers(len(starts), pa.py_buffer(offsets), pa.py_buffer(data))


def flatten_table(table: pa.Table, facts: RecordFacts | None = None,
                  both: np.ndarray | None = None, infinite: np.ndarray | None = None) -> dict[str, pa.Array]:
    """Flatten an Arrow table of records into Logs Insights names (see :mod:`s3audit.flatten`).

    With ``facts``, also note odd keys and hollow containers (see :mod:`s3audit.loader.facts`).
    ``both`` (bool, one per row) is set for rows the careful path must read: rows that hold two
    spellings of one name with a value each (``{"a.b": 1, "a": {"b": 2}}``: which wins depends on
    the record's key order, which only the careful path sees), and rows with ``NaN`` (not JSON,
    but Arrow's reader takes it). ``infinite`` (bool, one per row) is set for rows with an
    infinite number: ``Infinity`` (not JSON either) or a valid number too big for a float.
    """
    out: dict[str, pa.Array] = {}
    for name, col in zip(table.column_names, table.columns):
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        if facts is not None and is_odd_key(name, True):
            facts.odd_keys.add(name)
        _flatten_arrow(top_level_name(name), arr, out, facts, top=True, both=both, infinite=infinite)
    return out


def _flatten_arrow(name: str, arr: pa.Array, out: dict[str, pa.Array], facts: RecordFacts | None = None,
                   top: bool = False, both: np.ndarray | None = None,
                   infinite: np.ndarray | None = None) -> np.ndarray | None:
    """Flatten ``arr`` into ``out``. With ``facts``: returns, per row, whether the value holds a
    non-null scalar (and notes containers without one as hollow); otherwise None."""
    t = arr.type
    if pa.types.is_struct(t):
        full = None if facts is None else np.zeros(len(arr), dtype=bool)
        for field, child in zip(t, arr.flatten()):
            if facts is not None and is_odd_key(field.name, False):
                facts.odd_keys.add(field.name)
            sub = _flatten_arrow(f"{name}.{field.name}", child, out, facts, both=both, infinite=infinite)
            if full is not None and sub is not None:
                full |= sub
        if full is not None:
            _note_hollow(facts, name, arr, full)
        return full
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        lengths = pc.list_value_length(arr).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        full = None if facts is None else np.zeros(len(arr), dtype=bool)
        if len(lengths) and lengths.max() > 0:
            values = arr.flatten()
            starts = np.zeros(len(lengths), dtype=np.int64)
            np.cumsum(lengths[:-1], out=starts[1:])
            for index in range(int(lengths.max())):
                valid = lengths > index
                take = pa.array(np.where(valid, starts + index, 0), mask=~valid)
                sub = _flatten_arrow(f"{name}.{index}", values.take(take), out, facts, both=both,
                                     infinite=infinite)
                if full is not None and sub is not None:
                    full |= sub
        if full is not None:
            _note_hollow(facts, name, arr, full)
        return full
    if pa.types.is_floating(t) and arr.null_count < len(arr):
        if not pc.all(pc.is_finite(arr)).as_py():
            # NaN and Infinity are not JSON, but Arrow's reader takes them (see _emit); one is_finite
            # pass rules out the common all-finite column
            if both is not None:
                both |= pc.fill_null(pc.is_nan(arr), False).to_numpy(zero_copy_only=False)
            if infinite is not None:
                infinite |= pc.fill_null(pc.is_inf(arr), False).to_numpy(zero_copy_only=False)
        if both is not None:
            # a double of 2**53 or more may be an integer Arrow could not keep: one beyond int64, or
            # one widened to a double beside a fraction in this batch ([10**16, 0.5]); the careful
            # path reads its digits exactly (the same row on every route)
            big = pc.and_(pc.is_finite(arr), pc.greater_equal(pc.abs(arr), 2.0 ** 53))
            both |= pc.fill_null(big, False).to_numpy(zero_copy_only=False)
    if name in out:
        # a key containing a dot collides with a nested name ({"a.b": 1, "a": {"b": 2}}): in a row
        # with one spelling, that one's value; a row with both is marked in ``both`` (the careful
        # path reads it, in its own key order) and its value here does not matter
        prev = out[name]
        has_prev = prev.is_valid().to_numpy(zero_copy_only=False)
        has_new = arr.is_valid().to_numpy(zero_copy_only=False)
        if both is not None:
            both |= has_prev & has_new
        if not (has_prev & ~has_new).any():
            out[name] = arr
        elif not (has_new & ~has_prev).any():
            pass
        elif prev.type == arr.type:
            out[name] = pc.coalesce(arr, prev)
        else:  # two kinds in different rows: the column holds JSON text, as when batches disagree
            out[name] = pc.coalesce(to_string_array(arr), to_string_array(prev))
            if facts is not None:
                facts.mixed.add(name)
    else:
        out[name] = arr
    if facts is None or top:
        return None
    if pa.types.is_null(t):
        return np.zeros(len(arr), dtype=bool)
    return arr.is_valid().to_numpy(zero_copy_only=False)


def _note_hollow(facts: RecordFacts, name: str, arr: pa.Array, full: np.ndarray) -> None:
    """A present container (valid struct/list: Arrow marks missing and null as invalid) with no
    non-null scalar inside, in some row: the path is hollow."""
    if arr.null_count == len(arr):
        return
    present = arr.is_valid().to_numpy(zero_copy_only=False)
    if (present & ~full).any():
        facts.hollow.add(name)


def _timestamp_paths(fields: list[pa.Field] | pa.Schema,
                     prefix: tuple[str, ...] = ()) -> tuple[set[tuple[str, ...]], bool]:
    """JSON paths (tuples of keys) Arrow inferred as timestamps; second item: one sits inside a list."""
    found: set[tuple[str, ...]] = set()
    in_list = False
    for field in fields:
        path = prefix + (field.name,)
        t = field.type
        if pa.types.is_timestamp(t) or pa.types.is_date(t):
            found.add(path)
        elif pa.types.is_struct(t):
            sub, sub_list = _timestamp_paths(list(t), path)
            found |= sub
            in_list |= sub_list
        elif pa.types.is_list(t) or pa.types.is_large_list(t):
            sub, sub_list = _timestamp_paths([t.value_field], path)
            in_list |= bool(sub) or sub_list
    return found, in_list


class FastReader:
    """Parse chunks of JSON lines with Arrow, falling back line by line where Arrow cannot."""

    def __init__(self, careful: CarefulSink, *, use_threads: bool = True) -> None:
        self.careful = careful
        self.state = SchemaState()
        self.use_threads = use_threads
        self.fallback_lines = 0
        self.unique_columns: set[str] = set()  # see batch.compact
        self.facts = RecordFacts()  # see s3audit.loader.facts
        # value shapes that clashed with the majority before, as byte patterns: "key": [
        self.signatures: dict[tuple[str, str], tuple[bytes, tuple[bytes, ...]]] = {}

    def read(self, buf: bytes, seq: np.ndarray, starts: np.ndarray, ends: np.ndarray,
             limit: int | None = None, raw: pa.Array | None = None) -> list[Batch]:
        """Batches for the non-empty lines ``buf[starts[i]:ends[i]]`` (``seq[i]`` orders them), all
        within ``buf[:limit]`` (the rest of ``buf`` is an unfinished line, not read here).
        ``raw``: the lines as an Arrow string array when the caller has them already (no copy)."""
        if not len(starts):
            return []
        if not isinstance(buf, (bytes, bytearray)) and (raw is None or self.signatures):
            buf = bytes(buf)  # raw_array's replace and _odd_lines' find need it; the rest takes any buffer
        limit = len(buf) if limit is None else limit
        if raw is None:
            raw = raw_array(buf, starts, ends, limit)
        elif len(raw) != len(starts):
            raise ValueError(f"raw holds {len(raw)} lines, starts {len(starts)}")
        else:
            raw = raw.cast(pa.large_string())
        try:
            raw.validate(full=True)
        except pa.ArrowInvalid:  # invalid UTF-8 somewhere: let the careful path find the line
            self._careful_range(buf, seq, starts, ends, 0, len(starts))
            return []
        self.facts.scan_null_keys(buf, limit)
        batches: list[Batch] = []
        odd = self._odd_lines(buf, starts, limit)
        if odd is None:
            self._read_range(buf, raw, seq, starts, ends, 0, len(starts), batches)
            return batches
        # lines with a value shape that clashed before: parse them together, apart from the
        # others; the others are parsed as the runs of lines between them (no copy)
        idx = np.flatnonzero(odd)
        view = memoryview(buf)
        sub = b"\n".join([view[int(starts[i]):int(ends[i])] for i in idx])
        sub_starts, sub_ends = split_lines(sub)
        self._read_range(sub, raw.take(pa.array(idx)), seq[idx], sub_starts, sub_ends, 0, len(idx), batches)
        bounds = np.concatenate(([-1], idx, [len(starts)]))
        for lo, hi in zip(bounds[:-1] + 1, bounds[1:]):
            if hi > lo:
                self._read_range(buf, raw, seq, starts, ends, int(lo), int(hi), batches)
        return batches

    def _odd_lines(self, buf: bytes, starts: np.ndarray, limit: int) -> np.ndarray | None:
        if not self.signatures:
            return None
        # writers use one spelling per file: compact ("k":v, CloudTrail) or spaced ("k": v)
        first = buf[: int(starts[1]) if len(starts) > 1 else len(buf)]
        sep = b": " if b'": ' in first else b":"
        odd = np.zeros(len(starts), dtype=bool)
        for quoted, shape_starts in self.signatures.values():
            positions = []
            for c in shape_starts:
                needle = quoted + sep + c
                pos = buf.find(needle, 0, limit)
                while pos >= 0:
                    positions.append(pos)
                    pos = buf.find(needle, pos + 1, limit)
            if positions:
                odd[np.searchsorted(starts, np.asarray(positions), side="right") - 1] = True
        count = int(odd.sum())
        return odd if 0 < count <= min(len(starts) // 2, _MAX_ODD) else None

    def _careful_range(self, buf: bytes, seq: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                       lo: int, hi: int) -> None:
        self.fallback_lines += hi - lo
        self.careful([(bytes(buf[int(starts[i]):int(ends[i])]), int(seq[i])) for i in range(lo, hi)])

    def _parse(self, data: bytes | memoryview) -> tuple[pa.Table | None, int | None]:
        """The table, or None and the row Arrow stopped at (when its message says).

        Large ranges are first parsed in ``PARSE_BLOCKS`` blocks (Arrow parses blocks in parallel);
        on an error the range is parsed again as one block, where Arrow's message names the row
        within the whole range.
        """
        blocks = max(1, min(PARSE_BLOCKS, len(data) // MIN_BLOCK)) if self.use_threads else 1
        for _ in range(4):
            try:
                table = self._read_json(data, blocks)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
                if blocks > 1:
                    blocks = 1
                    continue
                match = _ERROR_ROW.search(str(exc))
                self._learn(str(exc))
                return None, int(match.group(1)) if match else None
            if type_depth(table.schema) > FAST_MAX_DEPTH:
                return None, None  # bisected down to the careful path (see FAST_MAX_DEPTH)
            stamps, in_list = _timestamp_paths(table.schema)
            if in_list:
                return None, None
            if not stamps:
                return table, None
            self.state.add(stamps)
        return None, None

    def _read_json(self, data: bytes | memoryview, blocks: int) -> pa.Table:
        block_size = max(len(data) // blocks + 1, 1 << 20) if blocks > 1 else max(len(data) + 1, 1 << 20)
        return pj.read_json(
            pa.BufferReader(pa.py_buffer(data)),  # zero-copy view of the chunk
            read_options=pj.ReadOptions(use_threads=self.use_threads, block_size=block_size),
            parse_options=pj.ParseOptions(explicit_schema=self.state.schema, unexpected_field_behavior="infer"),
        )

    def _learn(self, message: str) -> None:
        """Remember a type clash (``Column(/a/Host) changed from string to array in row 7``) as a
        byte pattern for the minority shape, so later chunks parse such lines separately. The
        pattern is only a hint: every group is still verified by Arrow and the fallbacks."""
        match = _CLASH.search(message)
        # row 1 is ambiguous (the odd one may be row 0); from row 2 on, the new shape is the odd one
        if not match or int(match.group(4)) < 2 or len(self.signatures) >= 32:
            return
        key = match.group(1).rsplit("/", 1)[-1]
        shape = match.group(3)
        if not key or shape not in _VALUE_START:
            return
        quoted = b'"' + json.dumps(key)[1:-1].encode() + b'"'
        self.signatures.setdefault((key, shape), (quoted, _VALUE_START[shape]))

    def _read_range(self, buf: bytes, raw: pa.Array, seq: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                    lo: int, hi: int, batches: list[Batch]) -> None:
        """Lines ``lo:hi``. A line that is not a JSON object, or one that may nest deeper than
        Arrow's stack allows, never reaches Arrow: pyarrow's reader crashes the process on data
        starting with a top-level null, and on ~17,500 levels of nesting (pyarrow 25); the careful
        path reads them (or records them as skips). The runs between them go to
        :meth:`_parse_range` (lines are screened here once, not again on each retry or bisection)."""
        other = (~_starts_object(buf, starts, ends, lo, hi) | ~_ends_object(buf, starts, ends, lo, hi)
                 | _maybe_too_deep(buf, starts, ends, lo, hi))
        bounds = np.concatenate(([lo - 1], lo + np.flatnonzero(other), [hi]))
        for a, b in zip(bounds[:-1] + 1, bounds[1:]):
            if b > a:
                self._parse_range(buf, raw, seq, starts, ends, int(a), int(b), batches)
            if b < hi:
                self._careful_range(buf, seq, starts, ends, int(b), int(b) + 1)

    def _parse_range(self, buf: bytes, raw: pa.Array, seq: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                     lo: int, hi: int, batches: list[Batch]) -> None:
        """Lines ``lo:hi``, screened by :meth:`_read_range`. On a failure at row r, rows before r are
        parsed again on their own (they were fine up to there) and the rest restarts at r, so a rare
        odd line costs about one extra parse and stays on the fast path; repeated failures switch to
        bisection."""
        failures = 0
        while lo < hi:
            table, row = self._parse(memoryview(buf)[int(starts[lo]):int(ends[hi - 1])])
            if table is not None and table.num_rows == hi - lo:
                if _lists_valid(table):
                    self._emit(buf, table, raw, seq, starts, ends, lo, hi, batches)
                else:
                    self._null_first_lists(buf, raw, seq, starts, ends, lo, hi, batches)
                return
            failures += 1
            if table is None and row is not None and row < hi - lo and failures <= _MAX_GUIDED:
                if row == 0:
                    # the first line itself: on its own it is a parse error (careful path reports it)
                    # or parses fine (a type change against a declared type)
                    one, _ = self._parse(memoryview(buf)[int(starts[lo]):int(ends[lo])])
                    if one is not None and one.num_rows == 1:
                        self._emit(buf, one, raw, seq, starts, ends, lo, lo + 1, batches)
                    else:
                        self._careful_range(buf, seq, starts, ends, lo, lo + 1)
                    lo += 1
                else:
                    self._parse_range(buf, raw, seq, starts, ends, lo, lo + row, batches)
                    lo += row
                continue
            if hi - lo <= CAREFUL_RANGE:
                self._careful_range(buf, seq, starts, ends, lo, hi)
                return
            mid = (lo + hi) // 2
            self._parse_range(buf, raw, seq, starts, ends, lo, mid, batches)
            lo = mid

    def _null_first_lists(self, buf: bytes, raw: pa.Array, seq: np.ndarray, starts: np.ndarray,
                          ends: np.ndarray, lo: int, hi: int, batches: list[Batch]) -> None:
        """Lines ``lo:hi`` parsed into an invalid table (Arrow's null-first list bug, see
        ``_NULL_FIRST_LIST``): the lines holding ``[null,`` go to the careful path, the runs
        between them are parsed again (they are checked again, so nothing invalid gets through)."""
        base = int(starts[lo])
        hits = [base + m.start() for m in _NULL_FIRST_LIST.finditer(memoryview(buf)[base:int(ends[hi - 1])])]
        odd = np.zeros(hi - lo, dtype=bool)
        if hits:
            odd[np.searchsorted(starts[lo:hi], np.asarray(hits, dtype=np.int64), side="right") - 1] = True
        if not odd.any() or odd.all():
            # not the known pattern (or every line has it): line by line, never an invalid table
            self._careful_range(buf, seq, starts, ends, lo, hi)
            return
        idx = np.flatnonzero(odd) + lo
        self.fallback_lines += len(idx)
        self.careful([(bytes(buf[int(starts[i]):int(ends[i])]), int(seq[i])) for i in idx])
        bounds = np.concatenate(([lo - 1], idx, [hi]))
        for a, b in zip(bounds[:-1] + 1, bounds[1:]):
            if b > a:
                self._parse_range(buf, raw, seq, starts, ends, int(a), int(b), batches)

    def _emit(self, buf: bytes, table: pa.Table, raw: pa.Array, seq: np.ndarray, starts: np.ndarray,
              ends: np.ndarray, lo: int, hi: int, batches: list[Batch]) -> None:
        both = np.zeros(hi - lo, dtype=bool)
        infinite = np.zeros(hi - lo, dtype=bool)
        columns = flatten_table(table, self.facts, both, infinite)
        part_raw = raw.slice(lo, hi - lo)
        if infinite.any():
            # NaN rows are in `both` already; an infinite number is `Infinity` (not JSON: the careful
            # path reports the row) or a valid number too big for a float (kept here, as before)
            rows = np.flatnonzero(infinite)
            spelled = pc.match_substring(part_raw.take(pa.array(rows)), "Infinity")
            both[rows[pc.fill_null(spelled, False).to_numpy(zero_copy_only=False)]] = True
        part_seq = seq[lo:hi]
        is_record = _record_mask(columns, hi - lo)
        if both.any():  # two spellings of one name, or NaN/Infinity, in a row: the careful path decides
            is_record = ~both if is_record is None else is_record & ~both
        if is_record is not None:  # some rows are not records: the careful path decides what they are
            others = np.flatnonzero(~is_record)
            self.fallback_lines += len(others)
            self.careful([(bytes(buf[int(starts[lo + i]):int(ends[lo + i])]), int(part_seq[i])) for i in others])
            keep = pa.array(is_record)
            columns = {k: v.filter(keep) for k, v in columns.items()}
            part_raw = part_raw.filter(keep)
            part_seq = part_seq[is_record]
            if not len(part_seq):
                return
        batches.append(Batch(compact(columns, len(part_seq), self.unique_columns), part_raw, part_seq))


def _starts_object(buf: bytes | memoryview, starts: np.ndarray, ends: np.ndarray, lo: int, hi: int) -> np.ndarray:
    r"""Per line ``lo:hi``: whether its first byte other than JSON whitespace is ``{``.

    >>> b = b'{"a":1}\n null\n  {"b":2}\n[1]'
    >>> _starts_object(b, np.array([0, 8, 14, 23]), np.array([7, 13, 22, 26]), 0, 4).tolist()
    [True, False, True, False]
    """
    data, pos, has = _past_space(buf, starts, ends, lo, hi, from_end=False)
    has[has] = data[pos[has]] == 0x7B  # (a line of whitespace only is not an object)
    return has


def _ends_object(buf: bytes | memoryview, starts: np.ndarray, ends: np.ndarray, lo: int, hi: int) -> np.ndarray:
    r"""Per line ``lo:hi``: whether its last byte other than JSON whitespace is ``}``.

    Arrow's reader reads a newline as whitespace, so two broken lines can make two objects
    between them (``{"a":1}{"b":`` + ``{"c":3}}``) and pass the row count: such lines never
    reach it. Lines that start with ``{``, end with ``}`` and hold no line break cannot: a
    string cannot run on over a newline, and after a ``}`` inside an object only ``,`` or a
    closing bracket may follow, not the next line's ``{``.

    >>> b = b'{"a":1}\n{"b":\n{"c":3}}  \n{}\r'
    >>> _ends_object(b, np.array([0, 8, 14, 25]), np.array([7, 13, 24, 28]), 0, 4).tolist()
    [True, False, True, True]
    """
    data, pos, has = _past_space(buf, starts, ends, lo, hi, from_end=True)
    has[has] = data[pos[has]] == 0x7D
    return has


def _past_space(buf: bytes | memoryview, starts: np.ndarray, ends: np.ndarray, lo: int, hi: int, *,
                from_end: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(bytes, pos, has)`` for lines ``lo:hi``: ``pos`` is each line's first (``from_end``: last)
    byte other than JSON whitespace, ``has`` whether the line holds one at all."""
    data = np.frombuffer(buf, dtype=np.uint8)
    start, end = starts[lo:hi].astype(np.int64), ends[lo:hi].astype(np.int64)
    step = -1 if from_end else 1
    pos = end - 1 if from_end else start.copy()

    def inside(i: np.ndarray) -> np.ndarray:
        return pos[i] >= start[i] if from_end else pos[i] < end[i]

    todo = np.arange(len(pos))
    todo = todo[inside(todo)]
    todo = todo[JSON_SPACE[data[pos[todo]]]]  # lines that begin (end) in whitespace: step over it
    for _ in range(_STEPS):
        if not len(todo):
            break
        pos[todo] += step
        todo = todo[inside(todo)]
        todo = todo[JSON_SPACE[data[pos[todo]]]]
    for i in todo.tolist():  # more than _STEPS bytes of whitespace (rare): strip the rest at once
        if from_end:
            a = int(start[i])
            pos[i] = a + len(bytes(data[a:int(pos[i]) + 1]).rstrip(b" \t\r\n")) - 1
        else:
            e = int(end[i])
            pos[i] = e - len(bytes(data[int(pos[i]):e]).lstrip(b" \t\r\n"))
    return data, pos, (pos >= start) & (pos < end)


_STEPS = 64
"""Whitespace bytes :func:`_past_space` steps over with numpy at either end of a line (one pass per
byte, over all lines still in their whitespace); more is stripped per line (a megabyte of spaces
took seconds byte by byte)."""

MAX_BRACKETS = 4096
"""A line holding more ``{``/``[`` than this may nest deeper than Arrow's reader survives
(~17,500 levels): it takes the careful path. CloudTrail records hold a few dozen."""
LONG_LINE = 16 * 1024
"""Only lines longer than this are counted (a shorter one cannot nest 17,500 levels; the
tables of the others are checked by :func:`type_depth` after parsing)."""


def _maybe_too_deep(buf: bytes | memoryview, starts: np.ndarray, ends: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Per line ``lo:hi``: whether it is longer than :data:`LONG_LINE` and holds more than
    :data:`MAX_BRACKETS` opening brackets."""
    long = np.flatnonzero(ends[lo:hi] - starts[lo:hi] > LONG_LINE)
    deep = np.zeros(hi - lo, dtype=bool)
    if len(long):
        data = np.frombuffer(buf, dtype=np.uint8)
        for i in long.tolist():
            seg = data[int(starts[lo + i]):int(ends[lo + i])]
            deep[i] = np.count_nonzero((seg == 0x7B) | (seg == 0x5B)) > MAX_BRACKETS
    return deep


def _has_list(t: pa.DataType) -> bool:
    types = [t]
    while types:
        t = types.pop()
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            return True
        if pa.types.is_struct(t):
            types.extend(f.type for f in t)
    return False


def type_depth(t: pa.DataType | pa.Schema) -> int:
    """Nesting depth of an Arrow type or schema (a scalar: 0; a struct of scalars: 1).

    >>> type_depth(pa.schema([("a", pa.struct([("b", pa.list_(pa.int64()))]))]))
    3
    """
    deepest, todo = 0, [(f.type, 1) for f in t] if isinstance(t, pa.Schema) else [(t, 0)]
    while todo:
        t, depth = todo.pop()
        deepest = max(deepest, depth)
        if pa.types.is_struct(t):
            todo.extend((f.type, depth + 1) for f in t)
        elif pa.types.is_list(t) or pa.types.is_large_list(t):
            todo.append((t.value_type, depth + 1))
    return deepest


def _lists_valid(table: pa.Table) -> bool:
    """False when a column holding lists is an invalid array (see ``_NULL_FIRST_LIST``)."""
    for field, col in zip(table.schema, table.columns):
        if _has_list(field.type):
            try:
                col.validate(full=True)
            except (pa.ArrowInvalid, pa.ArrowIndexError):
                return False
    return True


def _record_mask(columns: dict[str, pa.Array], n: int) -> np.ndarray | None:
    """Rows having eventSource or eventName; None when all rows do."""
    present = np.zeros(n, dtype=bool)
    for name in ("eventSource", "eventName"):
        col = columns.get(name)
        if col is not None and not pa.types.is_null(col.type):
            present |= col.is_valid().to_numpy(zero_copy_only=False)
    return None if present.all() else present
