"""Decode large ``GetQueryResults`` pages column-wise, outside botocore's per-cell parser.

Why: botocore parses every result cell into a ``{"field", "value"}`` dict with the GIL held
(about 25 ns a byte, i.e. 25-35 s for a million CloudTrail rows), and the pull then copies the
dicts into columns again. For the pages of *data* queries s3audit reads, a handler on the
client's ``before-parse.cloudwatch-logs.GetQueryResults`` event decodes the JSON body once with
Arrow's JSON reader (C++, releases the GIL, ~4 ns a byte), takes the wanted fields as Arrow
string arrays, hands them over in ``customized_response_dict`` (botocore merges it into the
parsed response under :data:`KEY`) and replaces the body botocore goes on to parse with the
small rest of the response (``status``, ``statistics``, ``nextToken``...).

Exactness rules (any doubt -> the body is left alone and botocore parses it as usual):

- only for calls made by s3audit's runner on the current thread, for the fields it asked for
  (:func:`wanted`); a user's own calls on the same client are never touched;
- only 2xx responses: errors go through botocore's normal error parsing;
- every row must hold each wanted field exactly once, with a string value (no nulls, no
  numbers); other fields of a row are ignored, as the dict path ignores them;
- the body must be valid UTF-8 (checked before decoding);
- a ``\\uD800``-``\\uDFFF`` escape that is not half of a valid pair makes Arrow's reader fail
  (``json`` would keep the lone surrogate), so such a body falls back; valid pairs decode to
  the same character in both;
- any Arrow error, or a body whose top level is not one JSON object, falls back.

:func:`install` registers the handler on one client (reference-counted, with a unique id, never
globally); the returned function removes it again.

The same calls also have their body read in one piece (:func:`send_whole`): botocore reads a
response body as 64 KiB pieces and joins them, a second copy of every ~10 MB page in fresh
memory. While installed, the client's HTTP session is wrapped (:class:`WholeBodySession`): calls
made under :func:`wanted` go through the same session (connection pool, proxies, TLS, timeouts)
with one read of the body; all others pass through untouched. The wrapper sits where botocore
sends, after its ``before-send`` event, so whatever answers there instead of the network (moto's
``mock_aws``) still does. Transport errors become the exceptions botocore's own send raises, so
retries work as before. On the 1,000,000-event benchmark (8 interleaved fresh-process pairs) this
cut a pull's wall time by ~0.2 s at the median (shorter in 7 of the 8 pairs) and its system time
by ~0.25 s. It needs two botocore internals (the client's ``_endpoint.http_session`` and ``AWSResponse._content``);
without them the session is left alone and botocore reads bodies as usual.

Bodies are decoded on a small pool of threads (one per core, at most :data:`MAX_DECODERS`), not
in each of the up to 25 query threads that receive them: every thread has its own allocator heap,
and 25 threads decoding 10 MB pages at once keep touching fresh memory and oversubscribe the
cores. On the 1,000,000-event benchmark (2 cores), over 11 paired runs, this cut a pull's page
faults by ~15-20 % and its wall time by ~0.6 s (median; better in 9 of the 11 pairs; the VM's noise
is +-1 s). The pool exists while some client has the handler installed.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

log = logging.getLogger(__name__)

KEY = "s3auditResultColumns"
"""Key of the decoded columns in the parsed response (a :class:`ColumnPage`)."""
_UNIQUE_ID = "s3audit-insights-fastpage"
_CELL = pa.struct([("field", pa.string()), ("value", pa.string())])
_SCHEMA = pa.schema([pa.field("results", pa.list_(pa.list_(_CELL)))])
_PARSE = pj.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="infer", newlines_in_values=True)

MAX_DECODERS = 4
"""Most threads that decode pages at once (fewer on machines with fewer cores)."""

_local = threading.local()
_lock = threading.Lock()
_installed: dict[int, int] = {}  # id(client.meta.events) -> users
_pool: ThreadPoolExecutor | None = None  # the decoders, while some client has the handler


def decoder_threads() -> int:
    """Threads of the decoding pool: one per core this process may use, 1..:data:`MAX_DECODERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_DECODERS, cores))


@dataclass
class ColumnPage:
    """The wanted fields of one page's rows, as Arrow string arrays of equal length."""

    columns: dict[str, pa.Array]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


@contextmanager
def wanted(fields: Sequence[str] | None) -> Iterator[None]:
    """Ask for column decoding of the ``GetQueryResults`` calls this thread makes inside the block."""
    before = getattr(_local, "fields", None)
    _local.fields = tuple(fields) if fields else None
    try:
        yield
    finally:
        _local.fields = before


def decode(body: bytes, fields: Sequence[str]) -> tuple[dict[str, Any], ColumnPage] | None:
    """``(rest of the response, columns)`` of a ``GetQueryResults`` JSON body, or None when the body
    is not of the expected shape (the caller then lets botocore parse it).

    Examples
    --------
    >>> rest, page = decode(b'{"status":"Complete","results":[[{"field":"@message","value":"m"},'
    ...                     b'{"field":"@ptr","value":"p"}]]}', ["@message", "@ptr"])
    >>> rest, page.columns["@message"].to_pylist(), len(page)
    ({'status': 'Complete'}, ['m'], 1)
    >>> decode(b'{"results":[[{"field":"@ptr","value":"p"}]]}', ["@message"]) is None
    True
    """
    if not fields or body[:1] != b"{":  # (pyarrow's reader crashes the process on a body like `null`)
        return None
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        table = pj.read_json(pa.BufferReader(body), parse_options=_PARSE, read_options=pj.ReadOptions(
            use_threads=False, block_size=max(len(body) + 1, 1 << 16)))
        if table.num_rows != 1:
            return None
        rest = {name: table.column(name)[0].as_py() for name in table.column_names if name != "results"}
        results = table.column("results").chunk(0)
        if results.null_count:  # "results": null
            return None
        rows = results.flatten()
        if rows.null_count:
            return None
        cells = rows.flatten()
        n = len(rows)
        if cells.null_count:
            return None
        offsets = rows.offsets.to_numpy()
        row_of = np.repeat(np.arange(n), np.diff(offsets)) if n else np.zeros(0, np.int64)
        names = cells.field("field")
        values = cells.field("value")
        columns: dict[str, pa.Array] = {}
        for f in fields:
            idx = np.flatnonzero(pc.fill_null(pc.equal(names, f), False).to_numpy(zero_copy_only=False))
            if len(idx) != n or (n and not np.array_equal(row_of[idx], np.arange(n))):
                return None  # a row without the field, or with it twice
            col = values.take(pa.array(idx, pa.int64()))
            if col.null_count:
                return None
            columns[f] = col
    except (pa.ArrowException, KeyError, IndexError, ValueError) as exc:
        log.debug("GetQueryResults page left to botocore: %s", exc)
        return None
    return {k: v for k, v in rest.items() if v is not None}, ColumnPage(columns)


def _before_parse(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    fields = getattr(_local, "fields", None)
    if not fields:
        return
    if not 200 <= int(response_dict.get("status_code") or 0) < 300:
        return
    body = response_dict.get("body")
    if not isinstance(body, (bytes, bytearray)):
        return
    out = _decode_in_pool(bytes(body), fields)
    if out is None:
        return
    rest, page = out
    response_dict["body"] = json.dumps(rest).encode()
    customized_response_dict[KEY] = page


def _decode_in_pool(body: bytes, fields: Sequence[str]) -> tuple[dict[str, Any], ColumnPage] | None:
    """:func:`decode` on the decoding pool (in this thread when there is none: a call that
    outlives its pull, e.g. after Ctrl-C)."""
    pool = _pool
    if pool is not None:
        try:
            return pool.submit(decode, body, fields).result()
        except RuntimeError:  # the pool was shut down meanwhile
            pass
    return decode(body, fields)


def event_name(client: Any) -> str:
    """``before-parse.<service id>.GetQueryResults`` for ``client`` (``cloudwatch-logs``)."""
    return f"before-parse.{client.meta.service_model.service_id.hyphenize()}.GetQueryResults"


def send_whole(session: Any, request: Any) -> Any:
    """Send ``request`` with ``session`` (botocore's ``URLLib3Session``) and read the response body
    with one read: the ``AWSResponse`` botocore's own send returns, without its chunked join.

    Errors while reading are raised as botocore's own send raises them (``SSLError``,
    ``ReadTimeoutError``, ``ConnectionClosedError``, ``HTTPClientError``), so retries see what they
    know. A body shorter than its ``Content-Length`` is a ``ConnectionClosedError`` here (botocore's
    send hands such a body on, and its parser fails on the cut JSON). A body the session has read
    already is left as it is.
    """
    from botocore.exceptions import ConnectionClosedError, HTTPClientError, ReadTimeoutError, SSLError
    from urllib3.exceptions import ProtocolError
    from urllib3.exceptions import ReadTimeoutError as URLLib3ReadTimeoutError
    from urllib3.exceptions import SSLError as URLLib3SSLError

    request.stream_output = True  # the session leaves the body unread
    response = session.send(request)
    if getattr(response, "_content", None) is not None:  # read by the session after all
        return response
    try:
        body = response.raw.read()
    except URLLib3SSLError as exc:
        raise SSLError(endpoint_url=request.url, error=exc) from exc
    except URLLib3ReadTimeoutError as exc:
        raise ReadTimeoutError(endpoint_url=request.url, error=exc) from exc
    except ProtocolError as exc:
        raise ConnectionClosedError(error=exc, request=request, endpoint_url=request.url) from exc
    except Exception as exc:  # noqa: BLE001 - as botocore's send wraps them
        raise HTTPClientError(error=exc) from exc
    response._content = body or b""
    return response


class WholeBodySession:
    """A client's HTTP session while s3audit pulls with it: calls made under :func:`wanted` are sent
    by :func:`send_whole`, every other call by the session itself (other attributes too)."""

    s3audit_whole_body = True  # (found by this mark, not by class: a reloaded module makes another class)

    def __init__(self, session: Any) -> None:
        self.session = session
        self.users = 0

    def send(self, request: Any) -> Any:
        if getattr(_local, "fields", None):
            return send_whole(self.session, request)
        return self.session.send(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)


def _wrapped(session: Any) -> bool:
    return bool(getattr(session, "s3audit_whole_body", False))


def _endpoint(client: Any) -> Any:
    """The client's endpoint when its session can be wrapped (:class:`WholeBodySession`), else None:
    only botocore's own ``URLLib3Session`` (a session of the user's own kind, e.g. one that records
    traffic, is left alone) or s3audit's wrapper of it."""
    endpoint = getattr(client, "_endpoint", None)
    session = getattr(endpoint, "http_session", None)
    try:
        from botocore.awsrequest import AWSResponse
        from botocore.httpsession import URLLib3Session

        if not (_wrapped(session) or type(session) is URLLib3Session):
            return None
        probe = AWSResponse("http://127.0.0.1/", 200, {}, None)
        probe._content = b"{}"
        if probe.content != b"{}":  # the attribute no longer backs .content
            return None
    except Exception:  # noqa: BLE001 - another botocore: read bodies as usual
        return None
    return endpoint


def install(client: Any) -> Callable[[], None]:
    """Register the decoder on ``client`` (not globally) and wrap its HTTP session
    (:class:`WholeBodySession`); returns the function that undoes both.

    A client without botocore's event system (a test double) gets nothing and works as before.
    """
    try:
        events = client.meta.events
        name = event_name(client)
    except AttributeError:
        return lambda: None
    endpoint = _endpoint(client)
    global _pool
    key = id(events)
    with _lock:
        if _installed.get(key, 0) == 0:
            events.register(name, _before_parse, unique_id=_UNIQUE_ID)
        if endpoint is not None:
            if not _wrapped(endpoint.http_session):
                endpoint.http_session = WholeBodySession(endpoint.http_session)
            endpoint.http_session.users += 1
        _installed[key] = _installed.get(key, 0) + 1
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=decoder_threads(), thread_name_prefix="s3audit-decode")

    done = threading.Event()

    def uninstall() -> None:
        global _pool
        if done.is_set():
            return
        done.set()
        with _lock:
            _installed[key] -= 1
            if _installed[key] == 0:
                del _installed[key]
                events.unregister(name, unique_id=_UNIQUE_ID)
            if endpoint is not None and _wrapped(endpoint.http_session):
                endpoint.http_session.users -= 1
                if endpoint.http_session.users <= 0:
                    endpoint.http_session = endpoint.http_session.session
            if not _installed and _pool is not None:
                _pool.shutdown(wait=False)  # its threads end once idle
                _pool = None

    return uninstall
