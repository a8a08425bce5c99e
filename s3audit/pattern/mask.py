"""Vectorised evaluation of a pattern over an event frame: ``mask_frame(ast, frame)``.

The result must equal ``evaluate(ast, raw)`` row by row. JSON patterns are evaluated in
three-valued logic over the flattened columns: every condition yields, per row, *true*, *false* or
*unknown* (the column cannot decide exactly); ``&&``/``||`` combine them (Kleene logic, which is
sound because every unknown is really true or false). Rows still unknown at the top are settled
first with cheap raw-text facts (:mod:`.rawtext`) and then, only if needed, by parsing ``raw`` and
running the reference evaluator on those rows.

What a flattened column decides on its own (frame contract: s3audit/schema.py):

* a selector made only of plain keys maps to the column ``a.b.c``; indexes, wildcards and keys that
  hold a dot or are all digits do not (``resources.0.ARN`` is ambiguous) -> raw;
* a non-NA string value decides every comparison (categorical columns: each condition is evaluated
  once per category, then looked up by code);
* a number decides numeric comparisons; a string literal or regex against a number needs the
  number's text as written -> raw (``= *`` needs no text);
* a boolean decides ``IS TRUE``/``IS FALSE`` (comparisons are false);
* NA decides every comparison (false: missing, null and containers all fail) but not
  ``IS NULL``/``NOT EXISTS``: absent and null differ. A row whose raw text never contains
  ``"key"`` (nor a ``\\u`` escape) lacks the key -> decided; others -> raw;
* a column ``a.b`` might hold the value of a key literally named ``"a.b"``: rows whose raw holds
  ``a.b`` (or ``\\u``) are re-checked on raw;
* a column absent from the frame: rows whose raw lacks ``"key"`` are decided as missing.
Datetime and other column types -> raw.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .ast import (
    And, Compare, DelimitedPattern, IsBool, IsNull, JsonPattern, Literal, MatchAll, NotExists, Or,
    Pattern, Selector, Term, TermPattern,
)
from .evaluate import evaluate, load_json
from .regex import compile_regex
from .rawtext import RawText, raw_text
from .values import compare_scalar, literal_number, parse_number, string_matcher

log = logging.getLogger(__name__)

# cost model used to decide between a whole-frame scan and parsing the undecided rows
_PARSE_SECONDS_PER_ROW = 25e-6
_SCAN_SECONDS_PER_BYTE = 0.4e-9


class _Frame:
    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self.n = len(df)
        self._raw: RawText | None = None

    @property
    def raw(self) -> RawText:
        if self._raw is None:
            if "raw" not in self.df.columns:
                raise ValueError("this pattern needs the frame's 'raw' column (the event's JSON text), "
                                 "which is missing")
            self._raw = raw_text(self.df["raw"])
        return self._raw

    @property
    def has_raw(self) -> bool:
        return "raw" in self.df.columns


def mask_frame(ast: Pattern, df: pd.DataFrame) -> pd.Series:
    """Boolean Series (index of ``df``): which rows ``ast`` matches. See the module docstring."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"mask() takes a DataFrame from s3audit.load_events, not {type(df).__name__}")
    fr = _Frame(df)
    if isinstance(ast, MatchAll):
        out = np.ones(fr.n, dtype=bool)
    elif isinstance(ast, TermPattern):
        out = _terms(ast, fr)
    elif isinstance(ast, DelimitedPattern):
        out = _per_row(ast, fr, np.arange(fr.n))
    else:
        assert isinstance(ast, JsonPattern)
        out = _json(ast, fr)
    return pd.Series(out, index=df.index, dtype=bool)


# ----------------------------------------------------------------------------- per-row fallback
def _per_row(ast: Pattern, fr: _Frame, rows: np.ndarray) -> np.ndarray:
    texts = fr.raw.texts(rows)
    out = np.zeros(len(rows), dtype=bool)
    for i, t in enumerate(texts):
        out[i] = t is not None and evaluate(ast, t)
    return out


# ----------------------------------------------------------------------------- term patterns
def _term_rows(t: Term, fr: _Frame) -> np.ndarray:
    if t.kind == "phrase" and t.text.strip(" ") == "":
        return np.ones(fr.n, dtype=bool)
    if t.kind == "regex":
        rx = compile_regex(t.text)
        rows = np.arange(fr.n)
        texts = fr.raw.texts(rows)
        return np.fromiter((s is not None and rx.search(s) is not None for s in texts), dtype=bool, count=fr.n)
    return fr.raw.contains(t.text).copy()


def _terms(ast: TermPattern, fr: _Frame) -> np.ndarray:
    required = [t for t in ast.terms if t.prefix == ""]
    excluded = [t for t in ast.terms if t.prefix == "-"]
    if required or excluded:
        out = np.ones(fr.n, dtype=bool)
        for t in required:
            out &= _term_rows(t, fr)
        for t in excluded:
            out &= ~_term_rows(t, fr)
    else:
        out = np.zeros(fr.n, dtype=bool)
        for t in ast.terms:
            out |= _term_rows(t, fr)
    if fr.n:
        out &= ~_raw_na(fr)
    return out


def _raw_na(fr: _Frame) -> np.ndarray:
    return fr.df["raw"].isna().to_numpy(dtype=bool)


# ----------------------------------------------------------------------------- JSON patterns
class _Tri:
    """Per-row truth: ``t`` true, ``u`` unknown (false where neither)."""

    __slots__ = ("t", "u")

    def __init__(self, t: np.ndarray, u: np.ndarray) -> None:
        self.t = t
        self.u = u


def _json(ast: JsonPattern, fr: _Frame) -> np.ndarray:
    if fr.n == 0:
        return np.zeros(0, dtype=bool)
    if ast.body is None:
        tri = _Tri(np.zeros(fr.n, bool), np.ones(fr.n, bool))
        leaves: list[tuple[Any, _Tri]] = []
    else:
        leaves = []
        tri = _tree(ast.body, fr, leaves)
    if tri.u.any():
        _refine(ast, fr, leaves, tri)
    t = tri.t
    if tri.u.any():
        rows = np.flatnonzero(tri.u)
        log.debug("mask: parsing raw for %d of %d rows", len(rows), fr.n)
        t = t.copy()
        t[rows] = _per_row(ast, fr, rows)
    return t


def _tree(node: Any, fr: _Frame, leaves: list) -> _Tri:
    if isinstance(node, (And, Or)):
        parts = [_tree(it, fr, leaves) for it in node.items]
        return _combine(node, parts)
    tri = _condition(node, fr)
    leaves.append((node, tri))
    return tri


def _combine(node: Any, parts: list[_Tri]) -> _Tri:
    if isinstance(node, And):
        t = parts[0].t.copy()
        f = ~(parts[0].t | parts[0].u)
        for p in parts[1:]:
            t &= p.t
            f |= ~(p.t | p.u)
    else:
        t = parts[0].t.copy()
        f = ~(parts[0].t | parts[0].u)
        for p in parts[1:]:
            t |= p.t
            f &= ~(p.t | p.u)
    return _Tri(t, ~(t | f))


def _refine(ast: JsonPattern, fr: _Frame, leaves: list, tri: _Tri) -> None:
    """Settle unknown rows of NOT EXISTS / IS NULL / absent columns with raw-text facts, in place."""
    if not fr.has_raw:
        raise ValueError("this pattern needs the frame's 'raw' column for some rows, which is missing")
    unknown = np.flatnonzero(tri.u)
    candidates = [(node, ltri) for node, ltri in leaves if getattr(ltri, "_absent_key", None)]
    if not candidates:
        return
    rt = fr.raw
    scan = len(unknown) * _PARSE_SECONDS_PER_ROW > rt.nbytes * _SCAN_SECONDS_PER_BYTE
    changed = False
    for node, ltri in candidates:
        rows = unknown[ltri.u[unknown]]
        if rows.size == 0:
            continue
        key = ltri._absent_key  # type: ignore[attr-defined]
        needles = [f'"{key}"', "\\u"]
        if scan or all(rt.cached(nd) is not None for nd in needles):
            present = rt.contains(needles[0])[rows] | rt.contains(needles[1])[rows]
        else:
            present = rt.contains_rows(needles[0], rows) | rt.contains_rows(needles[1], rows)
        absent_rows = rows[~present]
        if absent_rows.size:
            absent_rows = absent_rows[rt.starts_with_brace(absent_rows)]
        if absent_rows.size == 0:
            continue
        ltri.u[absent_rows] = False
        ltri.t[absent_rows] = isinstance(node, NotExists)  # the path is missing
        changed = True
    if changed:
        new = _tree_from_leaves(ast.body, iter(leaves))
        tri.t, tri.u = new.t, new.u


def _tree_from_leaves(node: Any, it: Any) -> _Tri:
    if isinstance(node, (And, Or)):
        return _combine(node, [_tree_from_leaves(x, it) for x in node.items])
    _node, tri = next(it)
    return tri


class _LeafTri(_Tri):
    __slots__ = ("_absent_key",)

    def __init__(self, t: np.ndarray, u: np.ndarray, absent_key: str | None = None) -> None:
        super().__init__(t, u)
        self._absent_key = absent_key


def _condition(node: Any, fr: _Frame) -> _Tri:
    n = fr.n
    sel: Selector = node.selector
    col = sel.column
    if col is None:
        return _LeafTri(np.zeros(n, bool), np.ones(n, bool))
    last_key = sel.steps[-1].key
    if col not in fr.df.columns:
        # No row has a scalar there (per the frame contract) - but the path may hold null or a
        # container, or the frame may be a projection: rows whose raw lacks "key" are settled as
        # missing by _refine; everything else goes to raw.
        return _LeafTri(np.zeros(n, bool), np.ones(n, bool), last_key)
    series = fr.df[col]
    t, u, na = _column_condition(node, series)
    absent_key = None
    if isinstance(node, (IsNull, NotExists)):
        u = u | na
        absent_key = last_key
    if len(sel.steps) > 1 and fr.has_raw:
        # a key spelled "a.b" would also flatten to column a.b: re-check rows whose raw holds it
        rt = fr.raw
        risky = np.zeros(n, bool)
        keys = [s.key for s in sel.steps]
        for a, b in zip(keys, keys[1:]):
            risky |= rt.contains(f"{a}.{b}")
        risky |= rt.contains("\\u")
        if risky.any():
            u = u | risky
            t = t & ~risky
    return _LeafTri(t, u, absent_key)


# ----------------------------------------------------------------------------- one column
def _column_condition(node: Any, s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(true, unknown, isna) arrays for a condition on one flattened column."""
    n = len(s)
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        cats = s.cat.categories
        tt = np.zeros(len(cats) + 1, dtype=bool)
        uu = np.zeros(len(cats) + 1, dtype=bool)
        for i, v in enumerate(cats.tolist()):
            tt[i], uu[i] = _scalar_condition(node, v)
        # code -1 (NA) indexes the extra last slot: false, and never unknown here
        return tt[codes], uu[codes], codes < 0
    na = s.isna().to_numpy(dtype=bool)
    if pd.api.types.is_bool_dtype(dtype):
        vals = s.to_numpy(dtype=bool, na_value=False)
        if isinstance(node, IsBool):
            t = (vals == node.value) & ~na
        else:
            t = np.zeros(n, bool)
        return t, np.zeros(n, bool), na
    if pd.api.types.is_numeric_dtype(dtype):
        return _numeric_condition(node, s, na)
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return _string_condition(node, s, na)
    if pd.api.types.is_object_dtype(dtype):
        t = np.zeros(n, bool)
        u = np.zeros(n, bool)
        for i, v in enumerate(s.tolist()):
            if na[i]:
                continue
            t[i], u[i] = _scalar_condition(node, v)
        return t, u, na
    # datetime (eventTime) and anything else: the text as written is gone -> raw
    return np.zeros(n, bool), ~na | True, na


def _scalar_condition(node: Any, v: Any) -> tuple[bool, bool]:
    """(true, unknown) of a condition on one non-NA flattened value."""
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return False, False  # NA: comparisons false; IS NULL / NOT EXISTS handled by caller
    if isinstance(v, (bool, np.bool_)):
        if isinstance(node, IsBool):
            return bool(v) is node.value, False
        return False, False
    if isinstance(v, np.generic):
        v = v.item()
    if not isinstance(node, Compare):
        if isinstance(v, (str, int, float)):
            return False, False  # a scalar: not null, exists, not boolean
        return False, True
    lit = node.value
    if isinstance(v, str):
        return compare_scalar(node.op, lit, v, None), False
    if isinstance(v, (int, float)):
        if lit.kind == "number":
            return compare_scalar(node.op, lit, "", v), False
        if lit.kind == "string" and string_matcher(lit.text)[0] == "any":
            return node.op == "=", False
        return False, True  # needs the number's text as written
    return False, True


def _numeric_condition(node: Any, s: pd.Series, na: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(s)
    zeros = np.zeros(n, bool)
    if not isinstance(node, Compare):
        return zeros, zeros.copy(), na
    lit = node.value
    if lit.kind == "number":
        ref = literal_number(lit)
        if pd.api.types.is_integer_dtype(s.dtype) and isinstance(ref, int):
            vals = s.to_numpy(dtype=np.int64, na_value=0)
        else:
            vals = s.to_numpy(dtype=np.float64, na_value=np.nan)
            ref = float(ref)
            na = na | np.isnan(vals)
        op = node.op
        with np.errstate(invalid="ignore"):
            if op == "=":
                t = vals == ref
            elif op == "!=":
                t = vals != ref
            elif op == "<":
                t = vals < ref
            elif op == "<=":
                t = vals <= ref
            elif op == ">":
                t = vals > ref
            else:
                t = vals >= ref
        return t & ~na, zeros, na
    if lit.kind == "string" and string_matcher(lit.text)[0] == "any":
        return (~na if node.op == "=" else zeros), zeros.copy(), na
    return zeros, ~na, na  # string/regex literal against a number: needs the text as written


def _string_condition(node: Any, s: pd.Series, na: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(s)
    zeros = np.zeros(n, bool)
    if not isinstance(node, Compare):
        return zeros, zeros.copy(), na
    lit: Literal = node.value
    arr = pa.chunked_array(pa.array(s)) if not isinstance(pa.array(s), pa.ChunkedArray) else pa.array(s)
    if lit.kind == "string":
        mode, core = string_matcher(lit.text)
        if mode == "any":
            hit = ~na
        else:
            if mode == "exact":
                r = pc.equal(arr, core)
            elif mode == "prefix":
                r = pc.starts_with(arr, core)
            elif mode == "suffix":
                r = pc.ends_with(arr, core)
            else:
                r = pc.match_substring(arr, core)
            hit = r.to_numpy(zero_copy_only=False)
            hit = np.where(na, False, hit).astype(bool)
        if node.op == "=":
            return hit & ~na, zeros, na
        if node.op == "!=":
            return ~hit & ~na, zeros, na
        return zeros, zeros.copy(), na
    # regex or number literal: evaluate once per distinct value
    enc = pc.dictionary_encode(arr).combine_chunks()
    uniq = enc.dictionary.to_pylist()
    table = np.array([compare_scalar(node.op, lit, v, None) for v in uniq] + [False], dtype=bool)
    idx = enc.indices.to_numpy(zero_copy_only=False)
    idx = np.where(na, len(uniq), np.nan_to_num(idx, nan=len(uniq))).astype(np.int64)
    return table[idx], zeros, na
