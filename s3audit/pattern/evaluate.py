"""Per-event evaluation: ``evaluate(pattern, event) -> bool`` (the reference semantics).

``mask`` must agree with this module on every event; the type rules live in :mod:`.values`.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from functools import singledispatch
from typing import Any

from .ast import (
    And, Compare, DelimitedPattern, IsBool, IsNull, JsonPattern, MatchAll, NotExists, Or, Selector,
    Term, TermPattern,
)
from .regex import compile_regex
from .values import _float_number, _int_number, compare_scalar, scalar, string_matcher


class _Reject(Exception):
    pass


def _reject_constant(name: str) -> Any:  # NaN / Infinity are not JSON
    raise _Reject(name)


_decoder = json.JSONDecoder(parse_int=_int_number, parse_float=_float_number, parse_constant=_reject_constant)


def load_json(text: str) -> Any:
    """Parse an event's text as AWS would see it; return ``_NOT_JSON`` if it is not JSON.

    Numbers keep their original text (:class:`.values.JsonNumber`). D-> (OQ-20) duplicate keys:
    the last one wins, as Python's ``json`` does.
    """
    try:
        return _decoder.decode(text)
    except (ValueError, _Reject, RecursionError):
        return _NOT_JSON


class _NotJson:
    def __repr__(self) -> str:
        return "<not JSON>"


_NOT_JSON = _NotJson()
NOT_JSON = _NOT_JSON


def event_text(event: str | Mapping[str, Any]) -> str:
    """The raw message: ``event`` itself, or a dict serialised compactly as CloudTrail delivers it."""
    if isinstance(event, str):
        return event
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _json_default(obj: Any) -> Any:
    from .values import JsonNumber

    if isinstance(obj, JsonNumber):
        return obj.value
    raise TypeError(f"cannot serialise {type(obj).__name__} as JSON")


def event_document(event: str | Mapping[str, Any]) -> Any:
    """The parsed JSON document of ``event`` (``NOT_JSON`` when the text is not JSON)."""
    if isinstance(event, str):
        return load_json(event)
    return event


# ----------------------------------------------------------------------------- selectors
def resolve(selector: Selector, doc: Any) -> list[Any]:
    """The nodes ``selector`` lands on (empty when a step fails)."""
    nodes = [doc]
    for step in selector.steps:
        nxt: list[Any] = []
        kind = step.kind
        for n in nodes:
            if kind == "key":
                if isinstance(n, Mapping) and step.key in n:
                    nxt.append(n[step.key])
            elif kind == "index":
                if isinstance(n, list) and step.index < len(n):  # type: ignore[operator]
                    nxt.append(n[step.index])  # type: ignore[index]
            elif kind == "any_key":
                # D-> (inferred): .* takes the fields of an object (one level); on an array it selects nothing.
                if isinstance(n, Mapping):
                    nxt.extend(n.values())
            else:  # any_index: [*] takes the elements of an array
                if isinstance(n, list):
                    nxt.extend(n)
        nodes = nxt
        if not nodes:
            break
    return nodes


def condition_on_nodes(cond: Any, nodes: list[Any]) -> bool:
    """Truth of one JSON condition given the nodes its selector selected."""
    if isinstance(cond, NotExists):
        return not nodes
    if isinstance(cond, IsNull):
        return any(n is None for n in nodes)
    if isinstance(cond, IsBool):
        return any(isinstance(n, bool) and n is cond.value for n in nodes)
    assert isinstance(cond, Compare)
    for n in nodes:
        sv = scalar(n)
        if sv is not None and compare_scalar(cond.op, cond.value, sv[0], sv[1]):
            return True
    return False


def eval_json(node: Any, doc: Any) -> bool:
    if isinstance(node, And):
        return all(eval_json(it, doc) for it in node.items)
    if isinstance(node, Or):
        return any(eval_json(it, doc) for it in node.items)
    return condition_on_nodes(node, resolve(node.selector, doc))


# ----------------------------------------------------------------------------- terms
def term_present(term: Term, text: str) -> bool:
    if term.kind == "regex":
        return compile_regex(term.text).search(text) is not None
    if term.kind == "phrase" and term.text.strip(" ") == "":
        # [D FPS] '" "' matches every event; D-> (OQ-16) '""' too (lint warns).
        return True
    return term.text in text


def eval_terms(pattern: TermPattern, text: str) -> bool:
    """Plain terms must all be present, '-' terms absent; '?' terms count only when alone [D]."""
    required = [t for t in pattern.terms if t.prefix == ""]
    excluded = [t for t in pattern.terms if t.prefix == "-"]
    if required or excluded:
        return all(term_present(t, text) for t in required) and not any(term_present(t, text) for t in excluded)
    return any(term_present(t, text) for t in pattern.terms)


# ----------------------------------------------------------------------------- space-delimited
def split_fields(text: str) -> list[tuple[str, int, int]]:
    """Tokenise a message into fields: (value, start, end).

    Fields are separated by spaces; text between ``[`` ``]`` or between double quotes is one field
    and the delimiters are stripped [D]. D-> (OQ-13) runs of spaces count as one separator; a
    missing closing delimiter extends the field to the end of the line.
    """
    out: list[tuple[str, int, int]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == " ":
            i += 1
            continue
        if c == '"' or c == "[":
            close = text.find('"' if c == '"' else "]", i + 1)
            if close < 0:
                out.append((text[i + 1 :], i, n))
                break
            out.append((text[i + 1 : close], i, close + 1))
            i = close + 1
        else:
            j = text.find(" ", i)
            if j < 0:
                j = n
            out.append((text[i:j], i, j))
            i = j
    return out


def bind_fields(pattern: DelimitedPattern, text: str) -> dict[int, tuple[str, int]] | None:
    """Bind pattern slots to message fields: {slot index: (value, 1-based position)}.

    Returns None when the message has too few fields. Slots covered by ``...`` are not in the
    result; see :func:`positional` for them. D-> (OQ-13) without ``...`` the last slot absorbs the
    rest of the line.
    """
    toks = split_fields(text)
    fields = pattern.fields
    k = len(fields)
    ell = pattern.ellipsis_index
    bound: dict[int, tuple[str, int]] = {}
    if ell is None:
        if len(toks) < k:
            return None
        for i in range(k - 1):
            bound[i] = (toks[i][0], i + 1)
        if k:
            last = toks[k - 1]
            if len(toks) > k:
                bound[k - 1] = (text[last[1]:].rstrip(" "), k)
            else:
                bound[k - 1] = (last[0], k)
        return bound
    before, after = ell, k - ell - 1
    if len(toks) < before + after:
        return None
    for i in range(before):
        bound[i] = (toks[i][0], i + 1)
    for j in range(after):
        pos = len(toks) - after + j
        bound[ell + 1 + j] = (toks[pos][0], pos + 1)
    return bound


def eval_delimited(pattern: DelimitedPattern, text: str) -> bool:
    bound = bind_fields(pattern, text)
    if bound is None:
        return False
    for idx, (value, _pos) in bound.items():
        f = pattern.fields[idx]
        if f.conditions and not field_ok(f.conditions, value):
            return False
    return True


def field_ok(conditions: tuple, value: str) -> bool:
    return any(all(compare_scalar(c.op, c.value, value, None) for c in ands) for ands in conditions)


# ----------------------------------------------------------------------------- entry point
@singledispatch
def evaluate(pattern: Any, event: str | Mapping[str, Any]) -> bool:
    """True when ``pattern`` (an AST) matches ``event`` (raw message text or a parsed dict)."""
    raise TypeError(f"not a pattern: {pattern!r}")


@evaluate.register
def _(pattern: MatchAll, event: str | Mapping[str, Any]) -> bool:
    return True


@evaluate.register
def _(pattern: TermPattern, event: str | Mapping[str, Any]) -> bool:
    return eval_terms(pattern, event_text(event))


@evaluate.register
def _(pattern: DelimitedPattern, event: str | Mapping[str, Any]) -> bool:
    return eval_delimited(pattern, event_text(event))


@evaluate.register
def _(pattern: JsonPattern, event: str | Mapping[str, Any]) -> bool:
    doc = event_document(event)
    # A JSON pattern never matches a message that is not a JSON object [I; D-> OQ-19/OQ-20].
    if not isinstance(doc, Mapping):
        return False
    if pattern.body is None:
        return True
    return eval_json(pattern.body, doc)


__all__ = ["evaluate", "resolve", "load_json", "event_text", "event_document", "split_fields",
           "bind_fields", "string_matcher", "NOT_JSON"]
