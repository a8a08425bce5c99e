"""The careful path: one JSON text -> CloudTrail records with their exact text, or reasons to skip.

A JSON text may be a single record (a CloudWatch Logs message, a JSON line), a trail file
``{"Records": [...]}``, a Logs Insights ``GetQueryResults`` response (``{"results": [[{"field",
"value"}, ...], ...]}``), or a JSON array of any of these. Records inside a document are cut
out of the text by position (``json.JSONDecoder.raw_decode``), so ``raw`` is the record's own
text, never a re-serialisation.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_DECODER = json.JSONDecoder()
_WS = " \t\n\r"

INSIGHTS_KEYS = ("results",)
_WRAPPER_START = re.compile(r'\{\s*"(Records|results)"\s*:\s*\[')


@dataclass
class Item:
    """One outcome of reading a JSON text.

    kind ``"record"``: ``text`` is the record's JSON text and ``value`` the parsed record.
    kind ``"message"``: ``text`` is a Logs Insights ``@message`` (to be read as a JSON text).
    kind ``"skip"``: ``text`` is the reason.
    ``offset`` is the character position in the document (for line numbers), ``index`` the
    record/row number inside the document when there is one.
    """

    kind: str
    text: str
    value: Any = None
    offset: int = 0
    index: int | None = None


def is_record(value: Any) -> bool:
    """A CloudTrail record: a JSON object with an ``eventSource`` or an ``eventName``."""
    return isinstance(value, dict) and (value.get("eventSource") is not None or value.get("eventName") is not None)


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in _WS:
        pos += 1
    return pos


class _Truncated(Exception):
    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


def _decode(text: str, pos: int) -> tuple[Any, int]:
    """One JSON value at ``pos``: ``(value, end)``; a malformed one raises :class:`_Truncated`."""
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise _Truncated(f"malformed JSON: {exc.msg} (char {exc.pos})", exc.pos) from None


def _walk_array(text: str, pos: int) -> Iterator[tuple[int, int, Any]]:
    """Elements ``(start, end, value)`` of the array starting at ``text[pos] == "["``."""
    pos = _skip_ws(text, pos + 1)
    if pos < len(text) and text[pos] == "]":
        return
    while True:
        value, end = _decode(text, pos)
        yield pos, end, value
        pos = _skip_ws(text, end)
        if pos >= len(text):
            raise _Truncated("document ends inside an array (truncated?)", pos)
        if text[pos] == "]":
            return
        if text[pos] != ",":
            raise _Truncated(f"malformed JSON: expected ',' or ']' (char {pos})", pos)
        pos = _skip_ws(text, pos + 1)


def _walk_object(text: str, pos: int, walk_keys: tuple[str, ...], done: dict[str, int] | None = None
                 ) -> Iterator[tuple[str, int, Any]]:
    """Members of the object at ``text[pos] == "{"``: ``(key, value_start, value)``.

    For keys in ``walk_keys`` whose value is an array, ``value`` is an iterator over
    :func:`_walk_array` instead of the parsed value, so large arrays are not parsed twice.
    """
    done = {} if done is None else done
    pos = _skip_ws(text, pos + 1)
    if pos < len(text) and text[pos] == "}":
        done["end"] = pos + 1
        return
    while True:
        key, pos = _decode(text, pos)
        pos = _skip_ws(text, pos)
        if pos >= len(text) or text[pos] != ":":
            raise _Truncated(f"malformed JSON: expected ':' (char {pos})", pos)
        pos = _skip_ws(text, pos + 1)
        if key in walk_keys and text.startswith("[", pos):
            holder: dict[str, int] = {}

            def elements(start: int = pos, holder: dict[str, int] = holder) -> Iterator[tuple[int, int, Any]]:
                last = start
                for s, e, v in _walk_array(text, start):
                    last = e
                    yield s, e, v
                close = _skip_ws(text, last) if last != start else _skip_ws(text, start + 1)
                holder["end"] = close + 1

            yield key, pos, elements()
            if "end" not in holder:
                raise RuntimeError("array walker not consumed")  # pragma: no cover - programming error
            pos = holder["end"]
        else:
            value, pos = _decode(text, pos)
            yield key, pos, value
        pos = _skip_ws(text, pos)
        if pos >= len(text):
            raise _Truncated("document ends inside an object (truncated?)", pos)
        if text[pos] == "}":
            done["end"] = pos + 1
            return
        if text[pos] != ",":
            raise _Truncated(f"malformed JSON: expected ',' or '}}' (char {pos})", pos)
        pos = _skip_ws(text, pos + 1)


def read_text(text: str) -> Iterator[Item]:
    """Everything one JSON text holds, in order (see the module docstring)."""
    start = _skip_ws(text, 0)
    if start >= len(text):
        yield Item("skip", "empty JSON text")
        return
    first = text[start]
    if first not in "{[":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            yield Item("skip", f"malformed JSON: {exc.msg} (char {exc.pos})", offset=exc.pos)
        else:
            yield Item("skip", "not a CloudTrail record: JSON " + type(json.loads(text)).__name__)
        return
    if first == "{":
        if _WRAPPER_START.match(text, start):
            # a trail file / Insights export: walk it once, cutting records out by position
            yield from _read_object_positionally(text, start)
            return
        try:
            record, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            # truncated or malformed: maybe a wrapper whose leading records are intact
            items = list(_read_object_positionally(text, start))
            if any(item.kind != "skip" for item in items):
                yield from items
            else:
                yield Item("skip", f"malformed JSON: {exc.msg} (char {exc.pos})", offset=exc.pos)
            return
        if _skip_ws(text, end) != len(text):
            yield Item("skip", f"malformed JSON: extra data after the object (char {end})", offset=end)
            return
        if is_record(record):
            yield Item("record", text[start:end], record, start)
        elif isinstance(record, dict) and ("Records" in record or any(k in record for k in INSIGHTS_KEYS)):
            yield from _read_object_positionally(text, start)
        else:
            yield Item("skip", _not_cloudtrail(record), offset=start)
        return
    items = list(_read_array(text, start))
    if items and all(item.kind == "skip" for item in items) and len(items) > 1:
        yield Item("skip", f"no CloudTrail record in a JSON array ({len(items)} problems; first: {items[0].text})",
                   offset=items[0].offset)
    else:
        yield from items


def _not_cloudtrail(value: Any) -> str:
    if isinstance(value, dict):
        keys = ", ".join(sorted(map(str, value))[:6])
        return f"not a CloudTrail record: JSON object without eventSource/eventName (keys: {keys})"
    return f"not a CloudTrail record: JSON {type(value).__name__}"


def _read_object_positionally(text: str, start: int) -> Iterator[Item]:
    seen_wrapper = False
    done: dict[str, int] = {}
    try:
        for key, vstart, value in _walk_object(text, start, ("Records", "results"), done):
            if key == "Records" and isinstance(value, Iterator):
                seen_wrapper = True
                for index, (s, e, element) in enumerate(value):
                    if is_record(element):
                        yield Item("record", text[s:e], element, s, index)
                    else:
                        yield Item("skip", f"Records[{index}]: " + _not_cloudtrail(element), offset=s, index=index)
            elif key == "results" and isinstance(value, Iterator):
                seen_wrapper = True
                for index, (s, _e, row) in enumerate(value):
                    yield _insights_row(row, s, index)
    except _Truncated as exc:
        yield Item("skip", exc.reason + " - records before this point were kept", offset=exc.offset)
        return
    end = done.get("end", len(text))
    if _skip_ws(text, end) != len(text):
        yield Item("skip", f"malformed JSON: extra data after the object (char {end})", offset=end)
    if not seen_wrapper:
        yield Item("skip", "not a CloudTrail record or document: JSON object without eventSource/eventName, "
                           "Records or results", offset=start)


def _insights_row(row: Any, offset: int, index: int) -> Item:
    """A GetQueryResults row: a list of ``{"field", "value"}`` (a plain dict is accepted too)."""
    fields: dict[str, Any] | None = None
    if isinstance(row, list) and all(isinstance(c, dict) and "field" in c for c in row):
        fields = {c["field"]: c.get("value") for c in row}
    elif isinstance(row, dict):
        fields = row
    if fields is None:
        return Item("skip", f"results[{index}]: not a Logs Insights result row", offset=offset, index=index)
    message = fields.get("@message")
    if not isinstance(message, str):
        return Item("skip", f"results[{index}]: Logs Insights row without @message (query must return "
                            "@message to rebuild the event)", offset=offset, index=index)
    return Item("message", message, offset=offset, index=index)


def _read_array(text: str, start: int) -> Iterator[Item]:
    try:
        for index, (s, e, element) in enumerate(_walk_array(text, start)):
            if is_record(element):
                yield Item("record", text[s:e], element, s, index)
            elif isinstance(element, list) and element and all(isinstance(c, dict) and "field" in c for c in element):
                yield _insights_row(element, s, index)
            elif isinstance(element, (dict, list)) and not (isinstance(element, dict) and not element):
                # a nested document (a GetQueryResults page, a Records wrapper): read it in place
                for item in read_text(text[s:e]):
                    item.offset += s
                    if item.kind == "skip" and item.index is None:
                        item.text = f"[{index}]: " + item.text
                    yield item
            else:
                yield Item("skip", f"[{index}]: " + _not_cloudtrail(element), offset=s, index=index)
    except _Truncated as exc:
        yield Item("skip", exc.reason + " - records before this point were kept", offset=exc.offset)
