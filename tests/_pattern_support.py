"""Test helpers for the filter-pattern engine: event frames built per the loader's contract.

``make_frame`` flattens records with Logs Insights dotted names (``resources.0.ARN``), keeps the
original JSON text in ``raw``, makes numbers Float64, booleans ``boolean``, strings categorical
(or the pyarrow ``str`` dtype for the names in ``string_columns``) and missing/null NA - the
contract documented in s3audit/schema.py and TEAM.md - so mask() can be tested before (and
independently of) the real loader.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

_MISSING = object()


def flatten(record: Any, prefix: str | None = None, out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Dotted names as the loader makes them: an empty key keeps its dot (``{"": {"x": 1}}`` -> ``.x``)."""
    out = {} if out is None else out
    if isinstance(record, Mapping):
        for k, v in record.items():
            flatten(v, str(k) if prefix is None else f"{prefix}.{k}", out)
    elif isinstance(record, list):
        for i, v in enumerate(record):
            flatten(v, str(i) if prefix is None else f"{prefix}.{i}", out)
    elif record is None:
        out.setdefault(prefix or "", None)
    else:
        out[prefix or ""] = record
    return out


def make_frame(events: Iterable[str | Mapping[str, Any]], string_columns: Iterable[str] = (),
               object_columns: bool = False, facts: bool = True) -> pd.DataFrame:
    """A frame with dotted columns + ``raw`` from raw JSON strings or dicts.

    Like the loader, it stamps ``attrs["record_facts"]`` (every column built from the records,
    values of their own JSON kind) - unless ``facts=False`` or some row is not a JSON object."""
    raws: list[str] = []
    flats: list[dict[str, Any]] = []
    for e in events:
        raw = e if isinstance(e, str) else json.dumps(e, separators=(",", ":"))
        raws.append(raw)
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
        flats.append(flatten(doc) if isinstance(doc, dict) else {})
    names: list[str] = []
    seen: set[str] = set()
    for f in flats:
        for k in f:
            if k not in seen and k != "raw":
                seen.add(k)
                names.append(k)
    cols: dict[str, Any] = {}
    string_columns = set(string_columns)
    for name in names:
        vals = [f.get(name) for f in flats]
        present = [v for v in vals if v is not None]
        if object_columns:
            cols[name] = pd.Series(vals, dtype=object)
        elif present and all(isinstance(v, bool) for v in present):
            cols[name] = pd.array(vals, dtype="boolean")
        elif present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
            cols[name] = pd.array([float(v) if v is not None else None for v in vals], dtype="Float64")
        elif all(isinstance(v, str) for v in present):
            if name in string_columns:
                cols[name] = pd.array(vals, dtype="str")
            else:
                cols[name] = pd.Categorical(vals)
        else:
            cols[name] = pd.Series(vals, dtype=object)
    cols["raw"] = pd.array(raws, dtype="str")
    df = pd.DataFrame(cols, index=pd.RangeIndex(len(raws)))
    docs = []
    for raw in raws:
        try:
            docs.append(json.loads(raw))
        except ValueError:
            docs.append(None)
    if facts and all(isinstance(d, dict) for d in docs):
        from s3audit.loader.facts import ATTRS_KEY, RecordFacts

        rf = RecordFacts()
        for d in docs:
            rf.note_record(d)
        df.attrs[ATTRS_KEY] = rf.to_attrs(dict.fromkeys(names, True), {c: str(df[c].dtype) for c in names})
    return df


# ----------------------------------------------------------------------------- reference data
import os  # noqa: E402
from pathlib import Path  # noqa: E402

_SHARED = Path(__file__).resolve().parents[2] / "shared"  # shared/ sits beside the checkout
REFERENCE = Path(os.environ.get("S3AUDIT_REFERENCE", _SHARED / "reference"))
VECTORS_FILE = REFERENCE / "filter-pattern-vectors.jsonl"
CIS_FILE = REFERENCE / "cis-patterns.json"
REALWORLD = Path(os.environ.get("S3AUDIT_REALWORLD", _SHARED / "realworld"))

# The vector and CIS files are the project's compliance data. They live outside the repo; a copy
# is vendored under tests/data/ so the suite runs anywhere.
_VENDORED = Path(__file__).parent / "data" / "pattern"


def vectors() -> list[dict[str, Any]]:
    path = VECTORS_FILE if VECTORS_FILE.exists() else _VENDORED / VECTORS_FILE.name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cis_patterns() -> list[dict[str, Any]]:
    path = CIS_FILE if CIS_FILE.exists() else _VENDORED / CIS_FILE.name
    return json.loads(path.read_text(encoding="utf-8"))


def as_complete_pattern(text: str) -> str:
    """The azul fragment in cis-patterns.json is a clause for '{ ... && (clause) }': wrap it."""
    return "{ " + text + " }" if text.startswith("(") else text
