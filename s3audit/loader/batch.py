"""A batch of loaded events: flattened Arrow columns, the raw text and the input order."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from s3audit.flatten import flatten_record


@dataclass
class Batch:
    """Rows of one piece of input.

    ``columns`` maps Logs Insights field names to Arrow arrays of equal length; ``raw`` holds each
    row's original JSON text; ``seq`` orders rows across batches (the input position of the line
    or item the row came from; rows from one line share it and keep their order).
    """

    columns: dict[str, pa.Array]
    raw: pa.Array
    seq: np.ndarray

    def __len__(self) -> int:
        return len(self.raw)


def python_column(values: Sequence[Any]) -> pa.Array:
    """Arrow array of JSON scalars, with the same type rules as Arrow's JSON reader.

    ints -> int64, ints and floats -> float64, bools -> bool, strings -> string. A column that mixes
    kinds (``true`` in one record, ``"true"`` in another) becomes strings holding each value's JSON
    text, which is also what :func:`unify_chunks` does when batches disagree.
    """
    kinds = {type(v) for v in values if v is not None}
    try:
        if not kinds:
            return pa.nulls(len(values))
        if kinds == {str}:
            try:
                return pa.array(values, type=pa.string())
            except UnicodeEncodeError:
                return pa.array([_valid_unicode(v) for v in values], type=pa.string())
        if kinds == {bool}:
            return pa.array(values, type=pa.bool_())
        if kinds == {int}:
            return pa.array(values, type=pa.int64())
        if kinds <= {int, float}:  # an int beyond 2**53 becomes the nearest double, as on the fast path
            return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass  # e.g. an integer beyond int64
    return pa.array([_valid_unicode(_json_text(v)) for v in values], type=pa.string())


def _valid_unicode(value: str | None) -> str | None:
    """A lone surrogate (JSON ``"\\ud800"``) cannot be stored as UTF-8: it becomes U+FFFD in the
    flattened column (``raw`` keeps the escape as written)."""
    if value is None:
        return None
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _json_text(value: Any) -> str | None:
    """JSON text of a scalar; integral floats print as integers (Arrow may have widened an int)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return json.dumps(value)


def batch_from_records(rows: Iterable[tuple[str, dict[str, Any], int]], unique: set[str] | None = None,
                       facts: Any = None) -> Batch | None:
    """Build a batch with the careful path from ``(raw text, parsed record, seq)`` triples.

    ``facts`` (a :class:`s3audit.loader.facts.RecordFacts`) notes each record's null keys, hollow
    containers and odd keys, and the columns that mix JSON kinds (stored as JSON text)."""
    flats: list[dict[str, Any]] = []
    raws: list[str] = []
    seqs: list[int] = []
    names: dict[str, None] = {}
    for raw, record, seq in rows:
        if facts is not None:
            facts.note_record(record)
        flat = flatten_record(record)
        flats.append(flat)
        raws.append(raw)
        seqs.append(seq)
        for name in flat:
            names.setdefault(name)
    if not raws:
        return None
    columns = {}
    for name in names:
        values = [flat.get(name) for flat in flats]
        columns[name] = col = python_column(values)
        if facts is not None and pa.types.is_string(col.type) and \
                any(v is not None and not isinstance(v, str) for v in values):
            facts.mixed.add(name)  # JSON text of numbers/booleans among strings
    columns = _valid_names(columns, set() if facts is None else facts.mixed)
    return Batch(compact(columns, len(raws), unique), pa.array(raws, type=pa.large_string()),
                 np.asarray(seqs, dtype=np.int64))


def _valid_names(columns: dict[str, pa.Array], mixed: set[str]) -> dict[str, pa.Array]:
    """``columns`` with every name storable as UTF-8: a key holding a lone surrogate (JSON
    ``"k\\ud800"``) gets U+FFFD, as values do (:func:`_valid_unicode`). Of two names that then
    coincide, the first keeps its values where it has them; if they hold different kinds, both
    become JSON text and the name is added to ``mixed``. (Only the careful path meets such keys:
    Arrow's reader rejects the line.)"""
    if all(name.isascii() for name in columns):
        return columns
    out: dict[str, pa.Array] = {}
    for name, values in columns.items():
        fixed = _valid_unicode(name) or ""
        if fixed in out:
            first = out[fixed]
            if first.type != values.type:
                first, values = to_string_array(first), to_string_array(values)
                mixed.add(fixed)
            values = pc.coalesce(first, values)
        out[fixed] = values
    return out


DICT_STRING = pa.dictionary(pa.int32(), pa.string())


def _kind(t: pa.DataType) -> str:
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_dictionary(t) and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)):
        return "string"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    return "other"


def compact(columns: dict[str, pa.Array], n: int, unique: set[str] | None = None) -> dict[str, pa.Array]:
    """Dictionary-encode the repetitive string columns of a batch (user agents, ARNs, names...).

    Keeps the batches small while the whole input is read; values are unchanged. ``unique``
    collects columns found mostly unique (eventID, x-amz-id-2...), which later batches of the
    same load then skip: a speed hint only.
    """
    unique = set() if unique is None else unique
    if n < 64:
        return columns
    out = {}
    for name, arr in columns.items():
        if pa.types.is_string(arr.type) and arr.null_count < n and name not in unique:
            encoded = pc.dictionary_encode(arr)
            if len(encoded.dictionary) <= n // 2:
                arr = encoded
            elif len(encoded.dictionary) > n * 0.9:
                unique.add(name)
        out[name] = arr
    return out


def to_string_array(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Strings as they are; any other JSON scalar as its JSON text (``true``, ``89``)."""
    if isinstance(arr, pa.ChunkedArray):
        return pa.chunked_array([to_string_array(c) for c in arr.chunks], type=pa.string())
    t = arr.type
    if pa.types.is_dictionary(t):
        return arr.dictionary_decode().cast(pa.string())
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return arr.cast(pa.string())
    if pa.types.is_null(t):
        return arr.cast(pa.string())
    return pa.array([_json_text(v) for v in arr.to_pylist()], type=pa.string())


def to_dictionary(arr: pa.Array) -> pa.Array:
    """A string (or null, or dictionary) array as ``dictionary<int32, string>``."""
    if arr.type == DICT_STRING:
        return arr
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return pc.dictionary_encode(to_string_array(arr))


def unify_chunks(chunks: list[pa.Array]) -> pa.ChunkedArray:
    """Concatenate one column's chunks, resolving type differences between batches.

    Null chunks take the other chunks' type; int64 with float64 gives float64; strings stay
    strings (dictionary-encoded if any batch was); any other mix gives strings holding the JSON
    text of non-string values.
    """
    # a chunk holding only nulls (a string-typed one, say, from ["a", null] lists) has no kind
    chunks = [pa.nulls(len(c)) if len(c) and c.null_count == len(c) and not pa.types.is_null(c.type) else c
              for c in chunks]
    types = {c.type for c in chunks}
    nonnull = [t for t in types if not pa.types.is_null(t)]
    if len(nonnull) == 1 and nonnull[0] in (DICT_STRING, pa.string(), pa.int64(), pa.float64(), pa.bool_()):
        # the common case: one type, maybe batches without the field (null chunks)
        target = nonnull[0]
        return pa.chunked_array([c if c.type == target else pa.nulls(len(c), type=target) for c in chunks],
                                type=target)
    kinds = {_kind(t) for t in types} - {"null"}
    if not kinds:
        return pa.chunked_array(chunks, type=pa.null())
    if kinds == {"string"}:
        if any(pa.types.is_dictionary(c.type) for c in chunks):
            return pa.chunked_array([to_dictionary(c) for c in chunks], type=DICT_STRING)
        return pa.chunked_array([c.cast(pa.string()) for c in chunks], type=pa.string())
    if len(kinds) == 1 and kinds != {"other"}:
        target = next(c.type for c in chunks if not pa.types.is_null(c.type))
    elif kinds <= {"int", "float"}:
        target = pa.float64()
    else:
        return pa.chunked_array([to_string_array(c) for c in chunks], type=pa.string())
    # int64 -> float64: an integer beyond 2**53 becomes the nearest double (as Arrow does when
    # one batch holds both kinds); a safe cast would refuse it and sink the whole load
    return pa.chunked_array([c.cast(target, safe=not pa.types.is_floating(target)) for c in chunks], type=target)


def merge_batches(batches: list[Batch], max_runs: int = 256) -> list[Batch]:
    """Batches of one chunk of input, put back in input order when their rows interleave.

    Each batch is in order on its own; the merged order is cut into runs of consecutive rows of
    one batch, returned as zero-copy slices. Only when the rows interleave into more than
    ``max_runs`` runs is one reordered batch built with ``take`` (bounded by the chunk size).
    """
    batches = [b for b in batches if len(b)]
    if len(batches) <= 1:
        return batches
    seq = np.concatenate([b.seq for b in batches])
    if np.all(seq[1:] >= seq[:-1]):
        return batches
    order = np.argsort(seq, kind="stable")
    owner = np.repeat(np.arange(len(batches)), [len(b) for b in batches])[order]
    bounds = np.flatnonzero(np.diff(owner)) + 1
    in_order = all(bool(np.all(b.seq[1:] >= b.seq[:-1])) for b in batches)  # runs are slices only then
    if in_order and len(bounds) + 1 <= max_runs:
        firsts = np.concatenate(([0], np.cumsum([len(b) for b in batches])))
        out = []
        for start, stop in zip(np.concatenate(([0], bounds)), np.concatenate((bounds, [len(order)]))):
            b = batches[owner[start]]
            lo = int(order[start] - firsts[owner[start]])
            n = int(stop - start)
            out.append(Batch({k: v.slice(lo, n) for k, v in b.columns.items()}, b.raw.slice(lo, n),
                             b.seq[lo:lo + n]))
        return out
    take = pa.array(order)
    names: dict[str, None] = {}
    for b in batches:
        names.update(dict.fromkeys(b.columns))
    columns = {}
    for name in names:
        col = unify_chunks([b.columns.get(name, pa.nulls(len(b))) for b in batches])
        if pa.types.is_dictionary(col.type):
            col = col.unify_dictionaries()
        columns[name] = col.combine_chunks().take(take)
    raw = pa.chunked_array([b.raw.cast(pa.large_string()) for b in batches], type=pa.large_string()).combine_chunks()
    return [Batch(columns, raw.take(take), seq[order])]
