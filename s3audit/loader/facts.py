"""Facts about the records behind a frame, gathered once while loading (``df.attrs["record_facts"]``).

The flattened columns lose three things the filter-pattern engine (:mod:`s3audit.pattern.mask`)
needs to be exact: JSON ``null`` vs a missing key (both NA), a key literally named ``"a.b"`` vs
``{"a": {"b": ..}}`` (both column ``a.b``), and the JSON kind of a value (mixed-kind columns hold
JSON text, contract columns convert stringified numbers/booleans). Without help the engine scans
``raw`` to settle these, which dominates the first ``mask`` on a frame. The loader sees every
record once and records, cheaply:

* ``columns``: ``{name: exact}`` for every column the loader built from the records (and only
  those: columns added later, e.g. by :func:`s3audit.classify`, are not in it). ``exact`` is true
  when every non-NA value is the record's JSON value of the kind the dtype says (strings were JSON
  strings, numbers JSON numbers, booleans JSON booleans): no coercion, no JSON text of another kind.
* ``null_keys``: every object key (decoded, any depth) that held JSON ``null`` in some record
  read (a superset is fine: a key listed here only makes the engine look at ``raw``). Null list
  elements are not keys: a list holding only nulls is ``hollow``.
* ``hollow``: flattened paths that held a container without any non-null scalar inside
  (``{}``, ``[]``, ``[null]``, ``{"a": {}}``) in some record.
* ``odd_keys``: keys that make flattened names ambiguous: with a ``.``, all digits, empty, a
  top-level key starting with ``@`` (shown as ``@@key``), or a top-level key ``raw`` (the
  frame's ``raw`` column is the record's JSON text: such a field's value is only there).

The facts hold for every row read (filtered rows included), so they stay true for any subset of
rows: pandas carries ``attrs`` through copies, ``assign`` and boolean indexing.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from s3audit.flatten import is_position, top_level_name
from s3audit.loader.batch import _valid_unicode
from s3audit.loader.scan import flatnonzero_blocked

ATTRS_KEY = "record_facts"
"""Name of the facts in ``DataFrame.attrs``."""

FACTS_VERSION = 1
RAW_COLUMN = "raw"

_WINDOW = 64
JSON_SPACE = np.zeros(256, dtype=bool)
"""Per byte value: whether it is JSON whitespace (space, tab, LF, CR)."""
JSON_SPACE[[0x20, 0x09, 0x0A, 0x0D]] = True


_TAIL = 24
_NU = int(np.frombuffer(b"nu", dtype="<u2")[0])
_UL = int(np.frombuffer(b"ul", dtype="<u2")[0])
_NULL4 = np.frombuffer(b"null", dtype=np.uint8)


def _null_values(b: np.ndarray) -> np.ndarray:
    """Positions of every ``null`` in ``b`` (sorted), as ``re.finditer(b"null")`` gives them, found
    with numpy: a ``null`` at an even position starts with the aligned pair ``nu``, one at an odd
    position holds the aligned pair ``ul``; one comparison pass over 2-byte words finds the
    candidates, then the 4 bytes are checked (~2x faster than the regex pass it replaces)."""
    limit = len(b)
    if limit < 4:
        return np.zeros(0, dtype=np.int64)
    words = b[: limit - limit % 2].view("<u2")
    cand = flatnonzero_blocked(words, lambda w: (w == _NU) | (w == _UL)) * 2
    cand -= (words[cand // 2] == _UL)  # "ul" at q: "null" would start at q - 1
    cand = cand[(cand >= 0) & (cand <= limit - 4)]
    ok = np.ones(len(cand), dtype=bool)
    for k in range(4):
        ok &= b[cand + k] == _NULL4[k]
    return cand[ok].astype(np.int64)


def _skip_space_back(b: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """For each position, the nearest position at or before it that holds no JSON whitespace
    (-1 if none): a few vectorised steps, then one by one for long runs (column-aligned JSON).

    >>> _skip_space_back(np.frombuffer(b'a:  ' + b' ' * 20 + b'x', dtype=np.uint8), np.array([23, 24, 1])).tolist()
    [1, 24, 1]
    """
    pos = pos.copy()
    for _ in range(8):
        sp = (pos >= 0) & JSON_SPACE[b[np.maximum(pos, 0)]]
        if not sp.any():
            return pos
        pos[sp] -= 1
    for i in np.flatnonzero((pos >= 0) & JSON_SPACE[b[np.maximum(pos, 0)]]).tolist():
        p = int(pos[i])
        while p >= 0 and JSON_SPACE[b[p]]:
            p -= 1
        pos[i] = p
    return pos


def _distinct_keys(b: np.ndarray, close: np.ndarray) -> np.ndarray:
    """``close`` (closing quotes of keys followed by null) with repeats of one key dropped.

    Two positions whose ``_TAIL`` bytes before the quote are equal hold the same key when those
    bytes contain its opening quote (not first: the byte before it must be seen to be no
    backslash) and no backslash at all; only one of them needs to be read. Other positions
    (long keys, escapes, the buffer's start) are all kept."""
    if len(close) <= 16:
        return close
    ok = np.flatnonzero(close >= _TAIL)
    tails = b[(close[ok] - _TAIL)[:, None] + np.arange(_TAIL)]
    same = (tails[:, 1:] == 0x22).any(axis=1) & ~(tails == 0x5C).any(axis=1)
    rows = np.ascontiguousarray(tails[same])
    _, first = np.unique(rows.view(np.dtype((np.void, _TAIL))).ravel(), return_index=True)
    keep = np.ones(len(close), dtype=bool)
    keep[ok[same]] = False
    keep[ok[same][first]] = True
    return close[keep]


def is_odd_key(key: str, top: bool) -> bool:
    """A key whose flattened name is ambiguous (see the module docstring)."""
    return "." in key or key == "" or is_position(key) or \
        (top and (key.startswith("@") or key == RAW_COLUMN))


class FactsDict(dict):
    """The facts as stored in ``attrs``: a plain (JSON-friendly) dict that pandas does not copy.

    pandas deep-copies ``attrs`` for every frame or column it derives (``df[col]`` included);
    the facts never change after loading, so one shared object serves every copy. Read-only.
    """

    def __copy__(self) -> "FactsDict":
        return self

    def __deepcopy__(self, memo: dict) -> "FactsDict":
        return self


class RecordFacts:
    """Accumulates the facts while a load reads its input (one instance per load)."""

    def __init__(self) -> None:
        self.null_keys: set[str] = set()
        self.hollow: set[str] = set()
        self.odd_keys: set[str] = set()
        self.mixed: set[str] = set()

    # ------------------------------------------------------------------ careful path (parsed records)
    def note_record(self, record: Mapping[str, Any]) -> None:
        """Walk one parsed record (the careful path): null keys, hollow containers, odd keys."""
        for key, value in record.items():
            if is_odd_key(key, True):
                self.odd_keys.add(key)
            self._walk(top_level_name(key), key, value)

    def _walk(self, name: str, key: str | None, value: Any) -> bool:
        """True when ``value`` holds a non-null scalar somewhere (``key`` None: a list element)."""
        if value is None:
            if key is not None:
                self.null_keys.add(key)
            return False
        if isinstance(value, dict):
            items: Iterable[tuple[str, Any]] = value.items()
        elif isinstance(value, list):
            items = ((str(i), v) for i, v in enumerate(value))
        else:
            return True
        full = False
        for k, v in items:
            if isinstance(value, dict) and is_odd_key(k, False):
                self.odd_keys.add(k)
            full |= self._walk(f"{name}.{k}", k if isinstance(value, dict) else None, v)
        if not full:
            self.hollow.add(name)
        return full

    # ------------------------------------------------------------------ fast path (Arrow + bytes)
    def scan_null_keys(self, buf: bytes | bytearray, limit: int) -> None:
        """Add the keys followed by ``null`` in ``buf[:limit]`` (JSON lines): one regex pass for
        ``null``, then vectorised checks. Occurrences inside strings or list elements are never
        a problem: a key found that way is only an extra (conservative) entry."""
        if limit <= 0:
            return
        view = memoryview(buf)[:limit]
        b = np.frombuffer(buf, dtype=np.uint8, count=limit)
        pos = _null_values(b)
        if not len(pos):
            return
        # the byte before the value, skipping whitespace: must be ':' for "key": null
        prev = _skip_space_back(b, pos - 1)
        keep = prev >= 1
        keep[keep] &= b[prev[keep]] == 0x3A  # ':'
        close = _skip_space_back(b, prev[keep] - 1)
        close = close[(close >= 1) & (b[np.maximum(close, 0)] == 0x22)]  # the key's closing quote
        if not len(close):
            return
        close = _distinct_keys(b, close)
        # the key text: up to _WINDOW bytes before the closing quote, cut at the opening quote
        start = np.maximum(close - _WINDOW, 0)
        idx = start[:, None] + np.arange(_WINDOW)[None, :]
        inside = idx < close[:, None]
        win = np.where(inside, b[np.minimum(idx, limit - 1)], 0).astype(np.uint8)
        quote = (win == 0x22) & inside
        has_open = quote.any(axis=1)
        last_quote = _WINDOW - 1 - np.argmax(quote[:, ::-1], axis=1)
        before_quote = win[np.arange(len(win)), np.maximum(last_quote - 1, 0)]
        cols = np.arange(_WINDOW)[None, :]
        win[cols <= last_quote[:, None]] = 0
        # a backslash in the key, or before its opening quote (an escaped quote): one by one
        escaped = (win == 0x5C).any(axis=1) | ((before_quote == 0x5C) & (last_quote >= 1))
        simple = has_open & ~escaped
        if simple.any():
            rows = np.ascontiguousarray(win[simple])
            uniq = np.unique(rows.view(np.dtype((np.void, _WINDOW))).ravel())
            for u in uniq:
                self.null_keys.add(bytes(u).strip(b"\0").decode("utf-8", "replace"))
        for c in close[~simple].tolist():
            self._slow_key(bytes(view[max(0, c - 4096):c]))

    def _slow_key(self, before: bytes) -> None:
        """The key ending just before a closing quote (``before`` ends at it), escapes decoded."""
        i = len(before) - 1
        while i >= 0:
            if before[i] == 0x22:
                j = i - 1
                slashes = 0
                while j >= 0 and before[j] == 0x5C:
                    slashes += 1
                    j -= 1
                if slashes % 2 == 0:
                    break
            i -= 1
        if i < 0:
            self.null_keys.add("*")  # cannot tell: mark the facts as unusable for null keys
            return
        try:
            self.null_keys.add(json.loads(b'"' + before[i + 1:] + b'"'))
        except ValueError:
            self.null_keys.add(before[i + 1:].decode("utf-8", "replace"))

    # ------------------------------------------------------------------ result
    def to_attrs(self, columns: Mapping[str, bool], dtypes: Mapping[str, str] | None = None) -> FactsDict:
        """The JSON-friendly form stored in ``df.attrs[ATTRS_KEY]``; ``dtypes`` (``str(dtype)`` per
        column) lets the engine notice a record column replaced by one of another dtype."""
        return FactsDict({
            "version": FACTS_VERSION,
            "columns": dict(columns),
            "dtypes": dict(dtypes or {}),
            "null_keys": _valid_names(self.null_keys),
            "hollow": _valid_names(self.hollow),
            "odd_keys": _valid_names(self.odd_keys),
        })


def _valid_names(names: set[str]) -> list[str]:
    """``names`` sorted, a lone surrogate in one (JSON ``"k\\ud800"``, met by the careful path)
    replaced by U+FFFD as in the column names (:func:`s3audit.loader.batch._valid_names`)."""
    if all(name.isascii() for name in names):
        return sorted(names)
    return sorted({_valid_unicode(name) or "" for name in names})
