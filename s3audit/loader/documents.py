"""The careful path: one JSON text -> CloudTrail records with their exact text, or reasons to skip.

A JSON text may be a single record (a CloudWatch Logs message, a JSON line), a trail file
``{"Records": [...]}``, a Logs Insights ``GetQueryResults`` response (``{"results": [[{"field",
"value"}, ...], ...]}``), or a JSON array of any of these - or several of these one after another (``jq`` output,
``cat``-ed trail files: ``{"Records": [...]}{"Records": [...]}``), each read in turn. Records inside
a document are cut out of the text by position (``json.JSONDecoder.raw_decode``), so ``raw`` is the
record's own text, never a re-serialisation.

Nothing is dropped silently: text after a value that is not JSON is one skip, and reading resumes
at the next line that starts (in its first column) with ``{`` or ``[``; a value Python's JSON
decoder cannot take although it may be valid (nested more than ~1000 levels, an integer of more
than 4300 digits) is one skip and the values after it are read.
"""
from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any


class _NonJsonConstant(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity``: Python's decoder (and Arrow's reader) take them,
    JSON (RFC 8259) has no such value, and a metric filter does not see such a text as JSON."""


def _reject_constant(name: str) -> Any:
    raise _NonJsonConstant(f"{name} is not a JSON value (JSON has no NaN or Infinity)")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_WS = " \t\n\r\ufeff"  # a byte order mark before a value (texts/files joined with cat) is ignored
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)
_SCALAR = re.compile(r'[^\s,\]}]+')
_NEXT_VALUE_LINE = re.compile(r"\n(?=[{\[])")

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


class Unreadable:
    """A JSON value the decoder cannot take (too deep, too long an integer): its reason; its
    extent was found by :func:`_value_end`."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _unreadable_reason(exc: BaseException) -> str:
    if isinstance(exc, _NonJsonConstant):
        return f"malformed JSON: {exc}"
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply to read (more levels than Python's JSON decoder takes)"
    if "digits" in str(exc):
        return f"integer with more digits than Python's JSON decoder takes ({exc})"[:200]
    return f"JSON value the decoder cannot take: {exc}"[:200]


def _value_end(text: str, pos: int) -> int | None:
    """End of the (well-bracketed) JSON value at ``pos`` found without decoding it, for values
    the decoder cannot take; ``None`` when the text ends first."""
    if text[pos] not in "{[":
        m = _SCALAR.match(text, pos)
        return m.end() if m else None
    depth = 0
    for m in _TOKEN.finditer(text, pos):
        c = text[m.start()]
        if c == '"':
            continue
        depth += 1 if c in "{[" else -1
        if depth == 0:
            return m.end()
    return None


def _decode(text: str, pos: int) -> tuple[Any, int]:
    """One JSON value at ``pos``: ``(value, end)``; a malformed one raises :class:`_Truncated`;
    a valid one the decoder cannot take gives ``(Unreadable(reason), end)``."""
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise _Truncated(f"malformed JSON: {exc.msg} (char {exc.pos})", exc.pos) from None
    except (RecursionError, ValueError) as exc:  # ValueError: an integer over sys.get_int_max_str_digits()
        end = _value_end(text, pos)
        if end is None:
            raise _Truncated(f"malformed JSON: {_unreadable_reason(exc)}, and the text ends inside it", pos) from None
        return Unreadable(_unreadable_reason(exc)), end


def _walk_array(text: str, pos: int, done: dict[str, int] | None = None) -> Iterator[tuple[int, int, Any]]:
    """Elements ``(start, end, value)`` of the array starting at ``text[pos] == "["``; ``done["end"]``
    is set to the position after its ``]``."""
    done = {} if done is None else done
    pos = _skip_ws(text, pos + 1)
    if pos < len(text) and text[pos] == "]":
        done["end"] = pos + 1
        return
    while True:
        value, end = _decode(text, pos)
        yield pos, end, value
        pos = _skip_ws(text, end)
        if pos >= len(text):
            raise _Truncated("document ends inside an array (truncated?)", pos)
        if text[pos] == "]":
            done["end"] = pos + 1
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


MAX_NESTED_DOCUMENTS = 16
"""Arrays inside arrays read as nested documents (pages of pages); deeper ones are a skip."""


def read_text(text: str, depth: int = 0) -> Iterator[Item]:
    """Everything one JSON text holds, in order (see the module docstring): the JSON values in it
    one after another (usually one). ``depth``: how many arrays this text is nested in."""
    pos = _skip_ws(text, 0)
    if pos >= len(text):
        yield Item("skip", "empty JSON text")
        return
    after = ""
    recovering = False  # after a break: the values read since may be elements of a broken array
    while pos < len(text):
        if recovering and text[pos] in ",]":  # their separators and closing bracket are no data
            pos = _skip_ws(text, pos + 1)
            after = ""
            continue
        end = yield from _read_value(text, pos, after, depth)
        if isinstance(end, _Broken):  # not JSON from here: resume at the next line starting a value
            m = _NEXT_VALUE_LINE.search(text, max(end.at, pos + 1))
            if m is None:
                return
            end = m.end()
            after = ""
            recovering = True
        else:
            after = text[pos]
        pos = _skip_ws(text, end)


class _Broken:
    """Where a value broke off (what :func:`_read_value` returns instead of its end)."""

    def __init__(self, at: int) -> None:
        self.at = at


def _read_value(text: str, start: int, after: str, depth: int = 0) -> Generator[Item, None, int | _Broken]:
    """The items of the JSON value at ``start``; returns its end, or :class:`_Broken` when the text
    there is not JSON (one skip recorded). ``after``: the first character of the value before it."""
    first = text[start]
    if after and first not in "{[":
        what = "object" if after == "{" else "array" if after == "[" else "value"
        yield Item("skip", f"malformed JSON: extra data after the {what} (char {start}): {text[start:start + 40]!r}",
                   offset=start)
        return _Broken(start)
    if first not in "{[":
        try:
            value, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            yield Item("skip", f"malformed JSON: {exc.msg} (char {exc.pos})", offset=exc.pos)
            return _Broken(exc.pos)
        except (RecursionError, ValueError) as exc:
            yield Item("skip", _unreadable_reason(exc), offset=start)
            return _Broken(start)
        rest = _skip_ws(text, end)
        if rest < len(text) and text[rest] not in "{[":  # "2026/11/02", "1 2": one text, one skip
            yield Item("skip", f"malformed JSON: extra data (char {rest})", offset=start)
            return _Broken(rest)
        yield Item("skip", "not a CloudTrail record: JSON " + type(value).__name__, offset=start)
        return end
    if first == "[":
        done: dict[str, int] = {}
        items = list(_read_array(text, start, done, depth))
        if items and all(item.kind == "skip" for item in items) and len(items) > 1:
            yield Item("skip", f"no CloudTrail record in a JSON array ({len(items)} problems; first: {items[0].text})",
                       offset=items[0].offset)
        else:
            yield from items
        return done.get("end", _Broken(done.get("broken", len(text))))
    if _WRAPPER_START.match(text, start):
        # a trail file / Insights export: walk it once, cutting records out by position
        return (yield from _read_object_positionally(text, start))
    try:
        record, end = _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        # truncated or malformed: maybe a wrapper whose leading records are intact
        items: list[Item] = []
        gen = _read_object_positionally(text, start)
        wrapper_end: int | _Broken = _Broken(exc.pos)
        try:
            while True:
                items.append(next(gen))
        except StopIteration as stop:
            wrapper_end = stop.value
        if any(item.kind != "skip" for item in items):
            yield from items
            return wrapper_end
        yield Item("skip", f"malformed JSON: {exc.msg} (char {exc.pos})", offset=exc.pos)
        return _Broken(exc.pos)
    except (RecursionError, ValueError) as exc:
        value_end = _value_end(text, start)
        yield Item("skip", _unreadable_reason(exc), offset=start)
        return _Broken(len(text)) if value_end is None else value_end
    if is_record(record):
        yield Item("record", text[start:end], record, start)
    elif isinstance(record, dict) and ("Records" in record or any(k in record for k in INSIGHTS_KEYS)):
        return (yield from _read_object_positionally(text, start))
    else:
        yield Item("skip", _not_cloudtrail(record), offset=start)
    return end


def _not_cloudtrail(value: Any) -> str:
    if isinstance(value, dict):
        keys = ", ".join(sorted(map(str, value))[:6])
        return f"not a CloudTrail record: JSON object without eventSource/eventName (keys: {keys})"
    return f"not a CloudTrail record: JSON {type(value).__name__}"


def _read_object_positionally(text: str, start: int) -> Generator[Item, None, int | _Broken]:
    """The records/rows of the wrapper object at ``start``; returns its end (:class:`_Broken` when
    the text breaks inside it)."""
    seen_wrapper = False
    done: dict[str, int] = {}
    try:
        for key, vstart, value in _walk_object(text, start, ("Records", "results"), done):
            if key == "Records" and isinstance(value, Iterator):
                seen_wrapper = True
                for index, (s, e, element) in enumerate(value):
                    if is_record(element):
                        yield Item("record", text[s:e], element, s, index)
                    elif isinstance(element, Unreadable):
                        yield Item("skip", f"Records[{index}]: {element.reason}", offset=s, index=index)
                    else:
                        yield Item("skip", f"Records[{index}]: " + _not_cloudtrail(element), offset=s, index=index)
            elif key == "results" and isinstance(value, Iterator):
                seen_wrapper = True
                for index, (s, _e, row) in enumerate(value):
                    yield _insights_row(row, s, index)
    except _Truncated as exc:
        yield Item("skip", exc.reason + " - records before this point were kept", offset=exc.offset)
        return _Broken(exc.offset)
    if not seen_wrapper:
        yield Item("skip", "not a CloudTrail record or document: JSON object without eventSource/eventName, "
                           "Records or results", offset=start)
    return done.get("end", _Broken(len(text)))


def _insights_row(row: Any, offset: int, index: int) -> Item:
    """A GetQueryResults row: a list of ``{"field", "value"}`` (a plain dict is accepted too)."""
    fields: dict[str, Any] | None = None
    if isinstance(row, Unreadable):
        return Item("skip", f"results[{index}]: {row.reason}", offset=offset, index=index)
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


def _read_array(text: str, start: int, done: dict[str, int], depth: int = 0) -> Iterator[Item]:
    try:
        for index, (s, e, element) in enumerate(_walk_array(text, start, done)):
            if is_record(element):
                yield Item("record", text[s:e], element, s, index)
            elif isinstance(element, Unreadable):
                yield Item("skip", f"[{index}]: {element.reason}", offset=s, index=index)
            elif isinstance(element, list) and element and all(isinstance(c, dict) and "field" in c for c in element):
                yield _insights_row(element, s, index)
            elif isinstance(element, list) and depth >= MAX_NESTED_DOCUMENTS:
                yield Item("skip", f"[{index}]: JSON arrays nested more than {MAX_NESTED_DOCUMENTS} deep",
                           offset=s, index=index)
            elif isinstance(element, (dict, list)) and not (isinstance(element, dict) and not element):
                # a nested document (a GetQueryResults page, a Records wrapper): read it in place
                for item in read_text(text[s:e], depth + 1):
                    item.offset += s
                    if item.kind == "skip" and item.index is None:
                        item.text = f"[{index}]: " + item.text
                    yield item
            else:
                yield Item("skip", f"[{index}]: " + _not_cloudtrail(element), offset=s, index=index)
    except _Truncated as exc:
        done.pop("end", None)
        done["broken"] = exc.offset
        yield Item("skip", exc.reason + " - records before this point were kept", offset=exc.offset)
