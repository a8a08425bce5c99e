"""Parquet cache of finished slices, so re-running a notebook does not re-query AWS.

Layout: ``<cache_dir>/<key>/index.json`` lists finished pieces (``a``, ``b`` epoch seconds,
half-open, plus their ledger data) and each piece's rows live in ``piece-<a>-<b>.parquet``
(columns ``ptr``, ``ts`` = epoch ms, ``message``). ``<key>`` hashes the log groups, the ``where``
clause and the query shape, so a different question never reuses another's rows. Plans (bin
counts) are cached per padded window in ``plan-<S>-<E>.json``.

Only pieces that ended well before "now" are cached: newer ones may still receive events.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from s3audit.insights.planner import Bin

log = logging.getLogger(__name__)
CACHE_VERSION = 1


def cache_key(log_groups: Sequence[str], where: str | None, query: str) -> str:
    blob = json.dumps({"v": CACHE_VERSION, "groups": sorted(log_groups), "where": where or "", "query": query})
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


class SliceCache:
    """Finished pieces of one (log groups, where) question."""

    def __init__(self, root: str | os.PathLike[str], key: str) -> None:
        self.dir = Path(root) / key
        self.dir.mkdir(parents=True, exist_ok=True)
        self._index_path = self.dir / "index.json"
        self.pieces: list[dict[str, Any]] = []
        if self._index_path.exists():
            try:
                self.pieces = json.loads(self._index_path.read_text())["pieces"]
            except (ValueError, KeyError) as exc:
                log.warning("ignoring unreadable cache index %s: %s", self._index_path, exc)
        self.pieces = [p for p in self.pieces if (self.dir / p["file"]).exists()]

    # plan
    def load_plan(self, start: int, end: int) -> list[Bin] | None:
        path = self.dir / f"plan-{start}-{end}.json"
        if not path.exists():
            return None
        return [Bin(*b) for b in json.loads(path.read_text())["bins"]]

    def save_plan(self, start: int, end: int, bins: Sequence[Bin]) -> None:
        path = self.dir / f"plan-{start}-{end}.json"
        _atomic_write(path, json.dumps({"bins": [[b.start, b.end, b.count] for b in bins]}).encode())

    # pieces
    def covering(self, a: int, b: int) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
        """Cached pieces inside ``[a, b)`` and the gaps they leave (to be queried)."""
        inside = sorted((p for p in self.pieces if p["a"] >= a and p["b"] <= b), key=lambda p: p["a"])
        used: list[dict[str, Any]] = []
        gaps: list[tuple[int, int]] = []
        t = a
        for p in inside:
            if p["a"] < t:  # overlapping piece from another plan: skip it
                continue
            if p["a"] > t:
                gaps.append((t, p["a"]))
            used.append(p)
            t = p["b"]
        if t < b:
            gaps.append((t, b))
        return used, gaps

    def load(self, piece: dict[str, Any]) -> tuple[pa.ChunkedArray, np.ndarray, pa.ChunkedArray]:
        """``(@ptr, timestamps in epoch ms, messages)`` of a cached piece (Arrow strings)."""
        table = pq.read_table(self.dir / piece["file"])
        return (table.column("ptr").cast(pa.string()), table.column("ts").to_numpy().astype(np.int64),
                table.column("message").cast(pa.large_string()))

    def save(self, a: int, b: int, ptrs: Sequence[str] | pa.Array | pa.ChunkedArray, ts: np.ndarray,
             messages: Sequence[str] | pa.Array | pa.ChunkedArray, meta: dict[str, Any]) -> None:
        name = f"piece-{a}-{b}.parquet"
        table = pa.table({"ptr": _strings(ptrs, pa.string()), "ts": pa.array(ts, pa.int64()),
                          "message": _strings(messages, pa.string())})
        tmp = self.dir / (name + ".tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, self.dir / name)
        self.pieces = [p for p in self.pieces if not (p["a"] == a and p["b"] == b)]
        self.pieces.append({"a": a, "b": b, "file": name, **meta})
        _atomic_write(self._index_path, json.dumps({"pieces": self.pieces}).encode())


def _strings(values: Sequence[str] | pa.Array | pa.ChunkedArray, type_: pa.DataType) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.cast(type_)
    return pa.array(values, type_)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
