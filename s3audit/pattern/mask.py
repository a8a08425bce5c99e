"""Vectorised evaluation of a pattern over an event frame: ``mask_frame(ast, frame)``.

The result must equal ``evaluate(ast, raw)`` row by row. JSON patterns are evaluated in
three-valued logic over the flattened columns: every condition yields, per row, *true*, *false* or
*unknown* (the column cannot decide exactly); ``&&``/``||`` combine them (Kleene logic, which is
sound because every unknown is really true or false). Rows still unknown at the top are settled
first with cheap raw-text facts (:mod:`.rawtext`) and then, only if needed, by parsing ``raw`` and
running the reference evaluator on those rows.

Which columns are trusted: only those the loader built from the records, as listed in
``df.attrs["record_facts"]`` (:mod:`s3audit.loader.facts`). A column not listed there
(``classify``'s ``source``, a user's own) says nothing about the record: the path is treated as the
loader saw it (no record had a scalar there). Without the facts nothing is trusted and every
condition is decided on ``raw``. With them (frame contract: s3audit/schema.py):

* a selector made only of plain keys maps to the column ``a.b.c``; indexes, wildcards, keys that
  hold a dot or are all digits, and names an odd key of the records could produce -> raw;
* a non-NA string value decides every comparison (categorical columns: each condition is evaluated
  once per category, then looked up by code);
* a number decides numeric comparisons; a string literal or regex against a number needs the
  number's text as written -> raw (``= *`` needs no text);
* a boolean decides ``IS TRUE``/``IS FALSE`` (comparisons are false);
* a column whose values did not all keep their JSON kind (mixed-kind text, coerced contract
  columns): rows whose raw shows the other kind are re-checked on raw;
* NA decides every comparison (false: missing, null and containers all fail). For
  ``IS NULL``/``NOT EXISTS`` a row with some ``a.b.*`` value holds a container; otherwise the key
  is missing - unless some record held ``null`` at that key or a hollow container at that path
  (facts), in which case rows whose raw gives the key such a value go to raw.
"""
from __future__ import annotations

import logging
import re
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
from .rawtext import RawText, Re2, raw_text, rare_suffix, re2_escape
from .values import compare_scalar, literal_number, parse_number, string_matcher
from s3audit.loader.facts import ATTRS_KEY as FACTS_KEY, FACTS_VERSION

log = logging.getLogger(__name__)



class _Facts:
    """The loader's record facts (``df.attrs["record_facts"]``, see :mod:`s3audit.loader.facts`).

    Only columns listed there were built by the loader from the records; any other column
    (``classify``'s ``source``, a user's own) says nothing about the record.
    """

    def __init__(self, facts: dict[str, Any]) -> None:
        self.columns: dict[str, bool] = dict(facts["columns"])
        self.dtypes: dict[str, str] = dict(facts.get("dtypes") or {})
        self.null_keys: frozenset[str] = frozenset(facts["null_keys"])
        self.hollow: frozenset[str] = frozenset(facts["hollow"])
        odd = [str(k) for k in facts["odd_keys"]]
        self._dotted = [k for k in odd if "." in k]
        self._empty_key = "" in odd
        self._at_key = any(k.startswith("@") for k in odd)
        self._raw_key = "raw" in odd  # a record's own top-level "raw": the column holds the JSON text

    @classmethod
    def of(cls, df: pd.DataFrame) -> "_Facts | None":
        facts = df.attrs.get(FACTS_KEY) if isinstance(df.attrs, dict) else None
        if not isinstance(facts, dict) or facts.get("version") != FACTS_VERSION:
            return None
        try:
            return cls(facts)
        except (KeyError, TypeError, ValueError):
            return None

    def ambiguous(self, col: str) -> bool:
        """A column name some odd key could also produce (``{"a.b": 1}`` vs ``{"a": {"b": 1}}``)."""
        if any(k in col for k in self._dotted):
            return True
        if self._empty_key and (".." in col or col.startswith(".") or col.endswith(".")):
            return True
        if self._raw_key and col == "raw":
            return True
        return self._at_key and col.startswith("@")

    def never_nullish(self, key: str, col: str) -> bool:
        """No record held null at ``key`` nor a hollow container at ``col``: NA means missing."""
        return "*" not in self.null_keys and key not in self.null_keys and col not in self.hollow


class _Frame:
    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self.n = len(df)
        self._raw: RawText | None = None
        self.facts = _Facts.of(df)

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
def _term_rows(t: Term, fr: _Frame, within: np.ndarray | None = None) -> np.ndarray:
    """Rows whose raw text holds the term (only rows in ``within`` are looked at, when given)."""
    if t.kind == "phrase" and t.text.strip(" ") == "":
        out = np.ones(fr.n, dtype=bool)
        return out if within is None else out & within
    if t.kind == "regex":
        rx = compile_regex(t.text)
        rows = np.arange(fr.n) if within is None else np.flatnonzero(within)
        out = np.zeros(fr.n, dtype=bool)
        for r, s in zip(rows.tolist(), fr.raw.texts(rows)):
            if s is not None and rx.search(s) is not None:
                out[r] = True
        return out
    rt = fr.raw
    # copying a subset of rows costs about as much as scanning them: scan everything (in
    # parallel, cached) unless few rows are left
    if within is None or rt.is_cached(t.text) or within.mean() > 0.15:
        out = rt.search(t.text)
        return out.copy() if within is None else out & within
    return rt.search_mask(t.text, within)


def _terms(ast: TermPattern, fr: _Frame) -> np.ndarray:
    """Plain terms all present, '-' terms absent; '?' terms count only alone [D]."""
    required = [t for t in ast.terms if t.prefix == ""]
    excluded = [t for t in ast.terms if t.prefix == "-"]
    if required or excluded:
        out = np.ones(fr.n, dtype=bool)
        for t in required:
            out = _term_rows(t, fr, None if out.all() else out)
        for t in excluded:
            out &= ~_term_rows(t, fr, None if out.all() else out)
    else:
        out = np.zeros(fr.n, dtype=bool)
        for t in ast.terms:
            out |= _term_rows(t, fr, None if not out.any() else ~out)
    if fr.n:
        out &= ~_raw_na(fr)
    return out


def _raw_na(fr: _Frame) -> np.ndarray:
    return fr.df["raw"].isna().to_numpy(dtype=bool)


# ----------------------------------------------------------------------------- JSON patterns
# Integers from 2**53 on may lose digits as floats (a Float64 column, numpy's int64-vs-float
# comparison, the loader's text of a big number) while matches() compares the digits exactly
# (Python int/float comparison): numeric verdicts at or beyond this magnitude are left to raw.
_EXACT_LIMIT = 2.0 ** 53
# JSON text may hold lone surrogates ("\\ud800"): matches() keeps them, the loader's columns hold
# U+FFFD instead (Arrow needs valid UTF-8). A value or key name with U+FFFD is decided on raw.
_REPLACEMENT = "\ufffd"
# the loader's text for a JSON number or boolean in a mixed-kind column ("Infinity": a number too
# big for a float)
_JSON_NON_STRING = re.compile(
    r"(?:true|false|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|-?Infinity|NaN)\Z")


class _Tri:
    """Per-row truth: ``t`` true, ``f`` false (unknown where neither)."""

    __slots__ = ("t", "f")

    def __init__(self, t: np.ndarray, f: np.ndarray) -> None:
        self.t = t
        self.f = f

    @property
    def u(self) -> np.ndarray:
        return ~(self.t | self.f)


class _Leaf:
    """One condition over the frame.

    ``t`` is the verdict where the flattened column is trusted; ``hard`` rows need ``raw``;
    ``suspects`` are (rows, needles) pairs: the trusted verdict holds on those rows only when none of
    the needles occurs in the row's raw text (checked lazily, for the rows that matter).
    """

    __slots__ = ("node", "t", "hard", "suspects", "need_object", "_tri")

    def __init__(self, node: Any, t: np.ndarray, hard: np.ndarray) -> None:
        self.node = node
        self.t = t
        self.hard = hard
        self.suspects: list[tuple[np.ndarray, list[str]]] = []
        self.need_object = False  # a "missing" verdict also needs the row to be a JSON object
        self._tri: _Tri | None = None

    def suspect(self, rows: np.ndarray, needles: list[str]) -> None:
        if rows.any():
            self.suspects.append((rows, needles))

    def tri(self) -> _Tri:
        if self._tri is None:
            if not self.suspects and not self.hard.any():
                self._tri = _Tri(self.t, ~self.t)
            else:
                u = self.hard.copy()
                for rows, _needles in self.suspects:
                    u |= rows
                known = ~u
                self._tri = _Tri(self.t & known, known & ~self.t)
        return self._tri


def _json(ast: JsonPattern, fr: _Frame) -> np.ndarray:
    if fr.n == 0:
        return np.zeros(0, dtype=bool)
    if ast.body is None:  # {}: any JSON object - every row of a loaded frame, but check raw
        if fr.facts is not None:
            return np.ones(fr.n, dtype=bool)  # the loader keeps JSON objects only
        return _per_row(ast, fr, np.arange(fr.n))
    leaves: list[_Leaf] = []
    _collect(ast.body, fr, leaves)
    tri = _evaluate_tree(ast.body, iter([lf.tri() for lf in leaves]))
    unknown = tri.u
    if unknown.any() and any(lf.suspects for lf in leaves):
        tri = _settle(ast, fr, leaves, unknown)
        unknown = tri.u
    t = tri.t
    if unknown.any():
        rows = np.flatnonzero(unknown)
        log.debug("mask: parsing raw for %d of %d rows", len(rows), fr.n)
        t = t.copy()
        t[rows] = _per_row(ast, fr, rows)
    return t


def _collect(node: Any, fr: _Frame, leaves: list[_Leaf]) -> None:
    if isinstance(node, (And, Or)):
        for it in node.items:
            _collect(it, fr, leaves)
    else:
        leaves.append(_leaf(node, fr))


def _evaluate_tree(node: Any, tris: Any) -> _Tri:
    if isinstance(node, (And, Or)):
        return _combine(node, [_evaluate_tree(it, tris) for it in node.items])
    return next(tris)


def _combine(node: Any, parts: list[_Tri]) -> _Tri:
    t = parts[0].t.copy()
    f = parts[0].f.copy()
    if isinstance(node, And):
        for p in parts[1:]:
            np.logical_and(t, p.t, out=t)
            np.logical_or(f, p.f, out=f)
    else:
        for p in parts[1:]:
            np.logical_or(t, p.t, out=t)
            np.logical_and(f, p.f, out=f)
    return _Tri(t, f)


def _settle(ast: JsonPattern, fr: _Frame, leaves: list[_Leaf], unknown: np.ndarray) -> _Tri:
    """Check suspect rows that matter (still unknown at the top) against raw-text facts."""
    if not fr.has_raw:
        raise ValueError("this pattern needs the frame's 'raw' column for some rows, which is missing")
    rt = fr.raw
    object_rows: np.ndarray | None = None
    tri = _Tri(np.zeros(0, bool), np.zeros(0, bool))
    for _round in range(2):
        for lf in leaves:
            kept: list[tuple[np.ndarray, list[str]]] = []
            for rows_mask, needles in lf.suspects:
                m = rows_mask & unknown
                if not m.any():
                    kept.append((rows_mask, needles))
                    continue
                dirty = np.zeros(fr.n, dtype=bool)
                for nd in needles:
                    dirty |= rt.search_mask(nd, m)  # whole frame (cached) when m is large
                if lf.need_object:
                    if object_rows is None:
                        object_rows = _object_rows(fr)
                    dirty |= m & ~object_rows
                lf.hard = lf.hard | dirty          # raw decides these
                kept.append((rows_mask & ~m, needles))  # the others: trusted verdict confirmed
                lf._tri = None
            lf.suspects = [(mk, nd) for mk, nd in kept if mk.any()]
        tri = _evaluate_tree(ast.body, iter([lf.tri() for lf in leaves]))
        unknown = tri.u
        if not unknown.any() or not any(lf.suspects for lf in leaves):
            break
    return tri


def _object_rows(fr: _Frame) -> np.ndarray:
    """Rows whose raw starts with '{' and that have some flattened value (a JSON object record).

    Frames from load_events hold JSON objects only; this guards hand-made frames, where a row
    whose raw is not JSON has every column NA.
    """
    ok = fr.raw.first_byte_is_brace().copy()
    cols = [c for c in fr.df.columns if c != "raw"]
    if not cols:
        return np.zeros(fr.n, dtype=bool)
    seen = np.zeros(fr.n, dtype=bool)
    for c in ("eventSource", "eventName", "eventID"):
        if c in fr.df.columns:
            seen |= ~_column_na(fr.df[c])
            if seen.all():
                break
    rest = np.flatnonzero(ok & ~seen)
    if rest.size:
        seen[rest] = fr.df.iloc[rest][cols].notna().any(axis=1).to_numpy(dtype=bool)
    return ok & seen


_VALUE_STARTS = {
    "nullish": r"(?:null|[\[{])",   # JSON null or a container
    "scalar": r'[-0-9tf"]',         # a string, number or boolean
    "string": r'"',
    "other": r"[-0-9tf]",           # a number or boolean
}


def _key_value(key: str, kind: str) -> Re2:
    """Needle: the key followed by a value of ``kind`` (key spelled as a suffix: conservative)."""
    return Re2(re2_escape(rare_suffix(f'"{key}"')) + r"\s*:\s*" + _VALUE_STARTS[kind])


def _escaped_key(key: str) -> list[str]:
    """Needles for rows where ``key`` may be spelled with escapes, which the key needles miss.

    Any character can be written ``\\uXXXX`` (``"read\\u004fnly"`` is ``readOnly``); ``/`` also as
    ``\\/``, and ``"``, ``\\`` and control characters only escaped."""
    if any(c in '/"\\' or c < " " for c in key):
        return ["\\"]
    return ["\\u"]


def _leaf(node: Any, fr: _Frame) -> _Leaf:
    """One condition. Columns are trusted only when the loader's facts say it built them from the
    records; without facts (a hand-made or rebuilt frame) every condition is decided on ``raw``."""
    n = fr.n
    sel: Selector = node.selector
    col = sel.column
    facts = fr.facts
    if col is None or facts is None or facts.ambiguous(col) or _REPLACEMENT in col:
        # indexes, wildcards, keys with dots; no record facts; a name an odd key could produce; a
        # name with U+FFFD (the loader's repair of a lone surrogate such as "b\\ud800")
        return _Leaf(node, np.zeros(n, bool), np.ones(n, bool))
    key = sel.steps[-1].key
    assert key is not None
    if col not in facts.columns:
        # No record had a scalar there (the loader makes a column for every path that has one;
        # a column of that name in the frame was added later and says nothing about the record):
        # comparisons are false; the path is missing, null or a container.
        lf = _Leaf(node, np.zeros(n, bool), np.zeros(n, bool))
        if isinstance(node, (IsNull, NotExists)):
            _missing_test(lf, node, np.ones(n, bool), key, col, fr)
        return lf
    if col not in fr.df.columns:  # a record column that was dropped: raw decides
        return _Leaf(node, np.zeros(n, bool), np.ones(n, bool))
    s = fr.df[col]
    if col in facts.dtypes and str(s.dtype) != facts.dtypes[col]:  # replaced after loading
        return _Leaf(node, np.zeros(n, bool), np.ones(n, bool))
    lf = _column_leaf(node, s, facts.columns[col])
    if isinstance(node, (IsNull, NotExists)):
        _missing_test(lf, node, _column_na(s), key, col, fr)
    return lf


def _missing_test(lf: _Leaf, node: Any, na: np.ndarray, key: str, col: str, fr: _Frame) -> None:
    """IS NULL / NOT EXISTS on the rows where the column is NA (missing, null or a container)."""
    facts = fr.facts
    assert facts is not None
    prefix = col + "."
    container = np.zeros(len(na), bool)
    doubtful = np.zeros(len(na), bool)
    complete = True
    for c in facts.columns:
        if c.startswith(prefix):
            if c in fr.df.columns:
                if facts.ambiguous(c):
                    # a value in "a.b" may come from a key "a.b" ({"a.b": 2} has no key "a"): raw decides
                    doubtful |= _notna(fr.df[c])
                else:
                    container |= _notna(fr.df[c])
            else:
                complete = False  # a dropped record column: containers may go unseen
    container &= na
    doubtful &= na & ~container
    rest = na & ~container & ~doubtful
    t = lf.t & ~na
    t[rest] = isinstance(node, NotExists)  # missing, unless the record held null / a hollow container
    lf.t = t
    if doubtful.any():
        lf.hard = lf.hard | doubtful
    if not facts.columns.get(col, True):
        # not exact: NA may also be a value the loader could not coerce to the column's type
        # ({"readOnly": 5} in a boolean column, df.attrs["coerced"]); the key exists there
        lf.suspect(rest, [_key_value(key, "scalar"), *_escaped_key(key)])
    # a container (some a.b.* value): exists and is not null (no odd key made that column: checked)
    if not (complete and facts.never_nullish(key, col)):
        # some record held null (or {} / [] / only nulls) there: the raw text decides
        lf.suspect(rest, [_key_value(key, "nullish"), *_escaped_key(key)])


def _notna(s: pd.Series) -> np.ndarray:
    return ~_column_na(s)


def _lookup(table: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``table[codes]`` (categorical codes, -1 -> last slot), skipping the work for constant tables."""
    if not table[:-1].any() and not table[-1]:
        return np.zeros(len(codes), dtype=bool)
    if table[:-1].all() and table[-1]:
        return np.ones(len(codes), dtype=bool)
    # a few categories decide: comparisons with the codes beat a gather (np.take) several times
    on = np.flatnonzero(table[:-1])
    if len(on) <= 4 or len(table) - 1 - len(on) <= 4:
        invert = len(on) > 4
        picks = np.flatnonzero(~table[:-1]) if invert else on
        out = np.zeros(len(codes), dtype=bool)
        for k in picks.tolist():
            out |= codes == k
        if bool(table[-1]) != invert:  # the NA slot (code -1)
            out |= codes < 0
        return ~out if invert else out
    return np.take(table, codes)


def _column_na(s: pd.Series) -> np.ndarray:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return np.asarray(s.array.codes) < 0
    return _isna(s)


def _isna(s: pd.Series) -> np.ndarray:
    mask = getattr(s.array, "_mask", None)  # masked arrays keep their NA mask as a numpy array
    if isinstance(mask, np.ndarray) and mask.dtype == bool and len(mask) == len(s):
        return mask
    return s.isna().to_numpy(dtype=bool)


def _column_leaf(node: Any, s: pd.Series, exact: bool = False) -> _Leaf:
    """``exact``: every value kept its JSON kind (loader facts) - no kind suspects."""
    lf = _column_leaf_any(node, s, exact)
    if exact:
        lf.suspects = []
    return lf


def _column_leaf_any(node: Any, s: pd.Series, exact: bool) -> _Leaf:
    n = len(s)
    dtype = s.dtype
    key = s.name.rsplit(".", 1)[-1] if isinstance(s.name, str) else str(s.name)
    as_string = [_key_value(key, "string"), *_escaped_key(key)]  # the key holds a JSON string somewhere
    as_other = [_key_value(key, "other"), *_escaped_key(key)]    # ... a JSON number or boolean
    if isinstance(dtype, pd.CategoricalDtype):
        cat = s.array
        codes = np.asarray(cat.codes)
        cats = cat.categories.tolist()
        tt = np.zeros(len(cats) + 1, dtype=bool)
        hh = np.zeros(len(cats) + 1, dtype=bool)
        kk = np.zeros(len(cats) + 1, dtype=bool)
        for i, v in enumerate(cats):
            tt[i], hh[i], kk[i] = _value_verdict(node, v)
        # code -1 (NA) takes the extra last slot: false, never unknown here
        lf = _Leaf(node, _lookup(tt, codes), _lookup(hh, codes))
        if kk.any():
            lf.suspect(_lookup(kk, codes), as_other)
        return lf
    na = _isna(s)
    if pd.api.types.is_bool_dtype(dtype):
        vals = s.to_numpy(dtype=bool, na_value=False)
        t = (vals == node.value) & ~na if isinstance(node, IsBool) else np.zeros(n, bool)
        lf = _Leaf(node, t, np.zeros(n, bool))
        if isinstance(node, Compare):
            # the loader turns the strings "true"/"yes"/"1" into booleans: check the text
            lf.suspect(np.ones(n, bool), as_string)
        elif isinstance(node, IsBool):
            lf.suspect(t, as_string)
        return lf
    if pd.api.types.is_numeric_dtype(dtype):
        lf = _numeric_leaf(node, s, na)
        if isinstance(node, Compare):
            # numbers may come from numeric strings (or be NA for strings that are not numbers)
            lf.suspect(~na, as_string)
            if not (node.value.kind == "number" and node.op != "!="):
                lf.suspect(na, as_string)
        return lf
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return _string_leaf(node, s, na, as_other)
    # datetime (eventTime) and anything else: the text as written is gone -> raw
    return _Leaf(node, np.zeros(n, bool), np.ones(n, bool))


def _value_verdict(node: Any, v: Any) -> tuple[bool, bool, bool]:
    """(verdict, needs raw, suspect) for one non-NA flattened value.

    "suspect": the value is a string that may be the JSON text of a number or boolean (the loader
    writes mixed-kind columns as text) and the verdict would differ for that kind.
    """
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or (isinstance(v, float) and v != v):
        return False, False, False
    if isinstance(v, bool):
        return (isinstance(node, IsBool) and v is node.value), False, False
    if isinstance(v, (int, float)):
        if not isinstance(node, Compare):
            return False, False, False
        lit = node.value
        if lit.kind == "number":
            if isinstance(v, float) and abs(v) >= _EXACT_LIMIT:
                return False, True, False  # maybe a rounded big integer: raw has the digits
            return compare_scalar(node.op, lit, "", v), False, False
        if lit.kind == "string" and string_matcher(lit.text)[0] == "any":
            return node.op == "=", False, False
        return False, True, False  # needs the number's text as written
    if not isinstance(v, str):
        return False, True, False
    if not isinstance(node, Compare):
        if isinstance(node, IsBool) and v in ("true", "false"):
            return False, False, (v == "true") is node.value
        return False, False, False
    if _REPLACEMENT in v:
        return False, True, False  # maybe a lone surrogate the loader repaired: raw has the escape
    verdict = compare_scalar(node.op, node.value, v, None)
    if _JSON_NON_STRING.match(v):
        if v in ("true", "false"):
            other = False  # a boolean fails every comparison
        else:
            other = _number_verdict(node, v)
        return verdict, False, other is None or other != verdict
    return verdict, False, False


def _number_verdict(node: Compare, text: str) -> bool | None:
    """Verdict if ``text`` were the loader's rendering of a JSON number (None: cannot tell)."""
    lit = node.value
    if lit.kind == "number":
        num = parse_number(text)
        if num is None or abs(num) >= _EXACT_LIMIT:
            return None  # the loader may have rounded a big integer when it wrote the text
        return compare_scalar(node.op, lit, text, None)  # same value, numeric comparison
    if lit.kind == "string":
        mode, core = string_matcher(lit.text)
        if mode == "any":
            return node.op == "="
        if mode == "exact" and not _JSON_NON_STRING.match(core):
            return node.op == "!="  # no number's text equals a non-number
    return None


def _as_float(ref: int | float) -> float:
    """``float(ref)``, or +-inf for an integer beyond the float range (10**400). Exact enough: rows
    whose value is at or beyond 2**53 are left to raw, and below that the order against ``ref``
    is the order against its float."""
    try:
        return float(ref)
    except OverflowError:
        return float("inf") if ref > 0 else float("-inf")


def _numeric_leaf(node: Any, s: pd.Series, na: np.ndarray) -> _Leaf:
    n = len(s)
    zeros = np.zeros(n, bool)
    if not isinstance(node, Compare):
        return _Leaf(node, zeros, zeros.copy())
    lit = node.value
    if lit.kind == "number":
        ref = literal_number(lit)
        data = getattr(s.array, "_data", None)  # masked Float64/Int64: values without a copy
        if isinstance(data, np.ndarray) and data.dtype.kind in "iuf" and len(data) == n:
            vals = data
            if vals.dtype.kind == "f":
                ref = _as_float(ref)
        elif pd.api.types.is_integer_dtype(s.dtype) and isinstance(ref, int):
            vals = s.to_numpy(dtype=np.int64, na_value=0)
        else:
            vals = s.to_numpy(dtype=np.float64, na_value=np.nan)
            ref = _as_float(ref)
        if vals.dtype.kind == "f":
            na = na | np.isnan(vals)
        inexact = zeros
        if vals.dtype.kind == "f" or not isinstance(ref, int):
            with np.errstate(invalid="ignore"):  # (no np.abs: it wraps int64's minimum)
                inexact = ~na & ((vals >= _EXACT_LIMIT) | (vals <= -_EXACT_LIMIT))
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
        return _Leaf(node, t & ~na & ~inexact, inexact)
    if lit.kind == "string" and string_matcher(lit.text)[0] == "any":
        return _Leaf(node, (~na if node.op == "=" else zeros), zeros.copy())
    return _Leaf(node, zeros, ~na)  # string/regex literal against a number: needs the text


def _string_leaf(node: Any, s: pd.Series, na: np.ndarray, as_other: list[str]) -> _Leaf:
    n = len(s)
    zeros = np.zeros(n, bool)
    if pd.api.types.is_object_dtype(s.dtype):
        t = np.zeros(n, bool)
        h = np.zeros(n, bool)
        k = np.zeros(n, bool)
        for i, v in enumerate(s.tolist()):
            if not na[i]:
                t[i], h[i], k[i] = _value_verdict(node, v)
        lf = _Leaf(node, t, h)
        lf.suspect(k, as_other)
        return lf
    arr = pa.array(s)
    if not isinstance(arr, pa.ChunkedArray):
        arr = pa.chunked_array([arr])
    # evaluate once per distinct value (exact: the same code as matches())
    enc = pc.dictionary_encode(arr).combine_chunks()
    uniq = enc.dictionary.to_pylist()
    m = len(uniq)
    tt = np.zeros(m + 1, bool)
    hh = np.zeros(m + 1, bool)
    kk = np.zeros(m + 1, bool)
    for i, v in enumerate(uniq):
        tt[i], hh[i], kk[i] = _value_verdict(node, v)
    idx = enc.indices.fill_null(m).to_numpy(zero_copy_only=False).astype(np.int64)
    lf = _Leaf(node, tt[idx], hh[idx])
    lf.suspect(kk[idx], as_other)
    return lf
