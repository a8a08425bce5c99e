"""A batch of loaded events: flattened Arrow columns, the raw text and the input order."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

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
            return pa.array(values, type=pa.string())
        if kinds == {bool}:
            return pa.array(values, type=pa.bool_())
        if kinds == {int}:
            return pa.array(values, type=pa.int64())
        if kinds <= {int, float}:
            return pa.array(values, type=pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass  # e.g. an integer beyond int64
    return pa.array([_json_text(v) for v in values], type=pa.string())


def _json_text(value: Any) -> str | None:
    """JSON text of a scalar; integral floats print as integers (Arrow may have widened an int)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return json.dumps(value)


def batch_from_records(rows: Iterable[tuple[str, dict[str, Any], int]]) -> Batch | None:
    """Build a batch with the careful path from ``(raw text, parsed record, seq)`` triples."""
    flats: list[dict[str, Any]] = []
    raws: list[str] = []
    seqs: list[int] = []
    names: dict[str, None] = {}
    for raw, record, seq in rows:
        flat = flatten_record(record)
        flats.append(flat)
        raws.append(raw)
        seqs.append(seq)
        for name in flat:
            names.setdefault(name)
    if not raws:
        return None
    columns = {name: python_column([flat.get(name) for flat in flats]) for name in names}
    return Batch(columns, pa.array(raws, type=pa.string()), np.asarray(seqs, dtype=np.int64))


def to_string_array(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Strings as they are; any other JSON scalar as its JSON text (``true``, ``89.0``)."""
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return arr
    if pa.types.is_null(t):
        return arr.cast(pa.string())
    return pa.array([_json_text(v) for v in arr.to_pylist()], type=pa.string())


def unify_chunks(chunks: list[pa.Array]) -> pa.ChunkedArray:
    """Concatenate one column's chunks, resolving type differences between batches.

    Null chunks take the other chunks' type; int64 with float64 gives float64; any other mix
    gives strings (JSON text of non-string values).
    """
    types = {c.type for c in chunks if not pa.types.is_null(c.type)}
    if not types:
        return pa.chunked_array(chunks, type=pa.null())
    if len(types) == 1:
        target = types.pop()
    elif all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in types):
        target = pa.float64()
    elif all(pa.types.is_string(t) or pa.types.is_large_string(t) for t in types):
        target = pa.string()
    else:
        return pa.chunked_array([to_string_array(c).cast(pa.string()) for c in chunks], type=pa.string())
    return pa.chunked_array([c.cast(target) for c in chunks], type=target)
