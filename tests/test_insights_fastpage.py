"""Column-wise GetQueryResults decoding: identical to botocore's parse, or a clean fallback."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import botocore.session
import pandas as pd
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import create_parser

import s3audit
from s3audit.insights import fastpage
from _insights_support import GROUP, T0, fake_service, load, pull_kwargs, results_when_complete, start_data_query

FIELDS = ("@timestamp", "@message", "@ptr")
_OP = botocore.session.get_session().get_service_model("logs").operation_model("GetQueryResults")

# @message texts with what JSON escaping can do to them
MESSAGES = [
    '{"eventVersion":"1.09","eventName":"GetObject","requestParameters":{"key":"a\\"b\\\\c"}}',
    '{"eventName":"PutObject","userAgent":"Boto3/1.44 \\u00e9 Python/3.11","key":"caf\u00e9 \u2603 \U0001F600"}',
    "plain text with a\ttab, a \"quote\" and a backslash \\ and \u0001 control",
    "",
    "two\nlines\r\n and </script>",
    '{"eventName":"GetObject","eventTime":"2026-10-01T00:00:00Z"',  # cut JSON
]


def _body(rows: list[list[dict[str, Any]]], **extra: Any) -> bytes:
    doc = {"queryLanguage": "CWLI", "results": rows, "statistics": {
        "recordsMatched": 6.0, "recordsScanned": 1234.0, "estimatedRecordsSkipped": 0.0, "bytesScanned": 98765.0,
        "estimatedBytesSkipped": 0.0, "logGroupsScanned": 1.0}, "status": "Complete"}
    doc.update(extra)
    return json.dumps(doc, ensure_ascii=False).encode()


def _rows(messages: list[str] = MESSAGES) -> list[list[dict[str, Any]]]:
    return [[{"field": "@timestamp", "value": f"2026-10-01 00:00:0{i}.{i:03d}"},
             {"field": "@message", "value": m},
             {"field": "@ptr", "value": f"CmQKKwonMTIzNDU2Nzg5MDEyOmF3cy1jbG91ZHRyYWlsLWxvZ3MQBxI1{i}"}]
            for i, m in enumerate(messages)]


def _botocore(body: bytes, status: int = 200) -> dict[str, Any]:
    parsed = create_parser("json").parse({"body": body, "headers": {}, "status_code": status}, _OP.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def _columns(parsed: dict[str, Any]) -> dict[str, list[str]]:
    rows = [{c["field"]: c.get("value", "") for c in row} for row in parsed["results"]]
    return {f: [r[f] for r in rows] for f in FIELDS}


@pytest.mark.parametrize("ascii_only", [False, True])
@pytest.mark.parametrize("extra", [{}, {"nextToken": "AAAA-token=="}, {"status": "Running"},
                                   {"encryptionKey": "arn:aws:kms:us-east-1:123456789012:key/x"}])
def test_decode_is_identical_to_botocore(extra: dict[str, Any], ascii_only: bool) -> None:
    doc = json.loads(_body(_rows(), **extra))
    body = json.dumps(doc, ensure_ascii=ascii_only).encode()
    if ascii_only:
        body = body.replace(b"\\ud83d\\ude00", "\U0001F600".encode())  # keep it decodable by Arrow
    expect = _botocore(body)
    out = fastpage.decode(body, FIELDS)
    assert out is not None
    rest, page = out
    assert {f: page.columns[f].to_pylist() for f in FIELDS} == _columns(expect)
    # what botocore then parses from the small body is the response without its results
    tiny = _botocore(json.dumps(rest).encode())
    assert tiny == {k: v for k, v in expect.items() if k != "results"}
    assert len(page) == len(MESSAGES)


def test_rows_in_another_field_order_and_extra_fields() -> None:
    rows = [list(reversed(r)) + [{"field": "@log", "value": "123456789012:g"}] for r in _rows()]
    body = _body(rows)
    rest, page = fastpage.decode(body, FIELDS)  # type: ignore[misc]
    assert {f: page.columns[f].to_pylist() for f in FIELDS} == _columns(_botocore(body))


def test_empty_results() -> None:
    rest, page = fastpage.decode(_body([]), FIELDS)  # type: ignore[misc]
    assert len(page) == 0 and rest["status"] == "Complete"


@pytest.mark.parametrize("body", [
    _body([r[:2] for r in _rows()]),  # a row without @ptr
    _body([r + [r[1]] for r in _rows()]),  # @message twice
    _body([[{"field": "@timestamp", "value": "x"}, {"field": "@message"}, {"field": "@ptr", "value": "p"}]]),
    _body([[{"field": "@timestamp", "value": "x"}, {"field": "@message", "value": None}, {"field": "@ptr", "value": "p"}]]),
    _body([[{"field": "@timestamp", "value": "x"}, {"field": "@message", "value": 5}, {"field": "@ptr", "value": "p"}]]),
    _body(_rows(["lone SURROGATE"])).replace(b"SURROGATE", b"\\ud800"),
    # every other lone or misordered surrogate escape: Arrow's reader fails, botocore decides
    *[_body(_rows(["x SURROGATE y"])).replace(b"SURROGATE", bad) for bad in (
        b"\\udc00", b"\\udfff", b"\\ude00\\ud83d", b"\\ud800\\u0041", b"\\ud83d\\ud83d\\ude00")],
    _body(_rows(["end SURROGATE"])).replace(b'SURROGATE"', b'\\ud800"'),  # at the end of a string
    _body(_rows(["ok"])).replace(b'"status"', b'"st\\ud800atus"'),  # in a key
    _body(_rows(["ok"])).replace(b'"ok"', b'"\xff\xfe"'),  # not UTF-8
    _body(None),  # type: ignore[arg-type]
    b'[{"results": []}]',
    b'{"status": "Complete", "results": [[{"field": "@message", "value": "a"}]]',  # cut body
    b"",
])
def test_unexpected_shapes_fall_back(body: bytes) -> None:
    assert fastpage.decode(body, FIELDS) is None


def test_surrogate_escapes_decode_as_botocore_reads_them() -> None:
    body = json.dumps(json.loads(_body(_rows())), ensure_ascii=True).encode()  # emoji as \ud83d\ude00
    assert b"\\ud83d" in body
    _, page = fastpage.decode(body, FIELDS)  # type: ignore[misc]
    assert page.columns["@message"].to_pylist() == _columns(_botocore(body))["@message"] == MESSAGES
    # an escaped escape inside a message (a CloudTrail record holding "\ud800") is plain text here
    inner = _body(_rows(['{"k":"\\ud800"}']))
    assert b"\\\\ud800" in inner
    _, page = fastpage.decode(inner, FIELDS)  # type: ignore[misc]
    assert page.columns["@message"].to_pylist() == _columns(_botocore(inner))["@message"] == ['{"k":"\\ud800"}']


# ------------------------------------------------------------------ the handler on a real client
def test_handler_only_for_the_calls_that_ask() -> None:
    with fake_service(scheduled_polls=0, running_polls=0) as fake:
        load(fake, 80, T0, T0 + timedelta(hours=1), seed=3)
        client = fake.client()
        qid = start_data_query(client)
        plain = results_when_complete(client, qid)
        uninstall = fastpage.install(client)
        uninstall_again = fastpage.install(client)  # reference-counted
        try:
            assert fastpage.KEY not in results_when_complete(client, qid)  # not asked for: untouched
            with fastpage.wanted(FIELDS):
                fast = results_when_complete(client, qid)
                # another thread's call at the same time is not touched either
                other: dict[str, Any] = {}
                t = threading.Thread(target=lambda: other.update(results_when_complete(client, qid)))
                t.start()
                t.join()
            assert fastpage.KEY not in other and other["results"] == plain["results"]
            page = fast[fastpage.KEY]
            assert "results" not in fast
            assert {f: page.columns[f].to_pylist() for f in FIELDS} == _columns(plain)
            assert fast["nextToken"] == plain["nextToken"] and fast["statistics"] == plain["statistics"]
            # errors still go through botocore's error parsing
            with fastpage.wanted(FIELDS), pytest.raises(ClientError) as info:
                client.get_query_results(queryId="no-such-query")
            assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
            uninstall()
            with fastpage.wanted(FIELDS):
                assert fastpage.KEY in results_when_complete(client, qid)  # still one user left
        finally:
            uninstall()  # a second call of the same remover does nothing
            uninstall_again()
        with fastpage.wanted(FIELDS):
            assert results_when_complete(client, qid)["results"] == plain["results"]  # removed


def test_the_calls_that_ask_are_read_whole_not_by_botocores_chunked_join(monkeypatch) -> None:
    import urllib3.response

    real_stream = urllib3.response.HTTPResponse.stream
    streamed: list[int] = []

    def stream(self: Any, *args: Any, **kwargs: Any) -> Any:  # botocore's own send reads this way
        streamed.append(1)
        return real_stream(self, *args, **kwargs)

    monkeypatch.setattr(urllib3.response.HTTPResponse, "stream", stream)
    with fake_service(scheduled_polls=0, running_polls=0) as fake:
        load(fake, 80, T0, T0 + timedelta(hours=1), seed=3)
        client = fake.client()
        qid = start_data_query(client)
        plain = results_when_complete(client, qid)
        assert streamed  # (the spy sees botocore's reads)
        uninstall = fastpage.install(client)
        try:
            streamed.clear()
            with fastpage.wanted(FIELDS):
                fast = results_when_complete(client, qid)
            assert not streamed
            assert {f: fast[fastpage.KEY].columns[f].to_pylist() for f in FIELDS} == _columns(plain)
            assert fast["ResponseMetadata"]["HTTPStatusCode"] == 200 and fast["nextToken"] == plain["nextToken"]
            with fastpage.wanted(FIELDS), pytest.raises(ClientError) as info:  # an error body, read whole too
                client.get_query_results(queryId="no-such-query")
            assert info.value.response["Error"]["Code"] == "ResourceNotFoundException" and not streamed
            results_when_complete(client, qid)  # not asked for: botocore sends it
            assert streamed
        finally:
            uninstall()


def test_under_motos_mock_aws_the_mock_still_answers_our_calls(monkeypatch) -> None:
    """moto's ``mock_aws`` answers in botocore's ``before-send`` event: s3audit's reading of
    bodies sits behind it, at the session, and never sends a call the mock answers."""
    import boto3
    from moto import mock_aws

    def no_send(session: Any, request: Any) -> Any:
        raise AssertionError(f"s3audit sent {request.url} although moto answers it")

    monkeypatch.setattr(fastpage, "send_whole", no_send)
    with mock_aws():
        client = boto3.client("logs", region_name="us-east-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing")
        client.create_log_group(logGroupName="g")
        qid = client.start_query(logGroupName="g", startTime=0, endTime=10, queryString="fields @message")["queryId"]
        uninstall = fastpage.install(client)
        try:
            assert isinstance(client._endpoint.http_session, fastpage.WholeBodySession)
            with fastpage.wanted(FIELDS):
                response = client.get_query_results(queryId=qid)
        finally:
            uninstall()
        assert not isinstance(client._endpoint.http_session, fastpage.WholeBodySession)  # put back
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200 and response["status"]


def test_a_body_cut_short_is_botocores_connection_error_and_the_pull_retries_it() -> None:
    from botocore.exceptions import ConnectionClosedError

    from s3audit.testing import Faults

    with fake_service(Faults(cut_bodies=1), scheduled_polls=0, running_polls=0) as fake:
        load(fake, 80, T0, T0 + timedelta(hours=1), seed=3)
        client = fake.client()  # botocore retries off: the error reaches the caller
        qid = start_data_query(client)
        uninstall = fastpage.install(client)
        try:
            with fastpage.wanted(FIELDS), pytest.raises(ConnectionClosedError):
                client.get_query_results(queryId=qid)
            assert fake.stats()["calls"]["cut"] == 1
        finally:
            uninstall()
    with fake_service(scheduled_polls=0, running_polls=0) as fake:
        load(fake, 600, T0, T0 + timedelta(hours=1), seed=4)
        whole = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), **pull_kwargs(fake))
        fake.faults.cut_bodies = 3
        cut = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), **pull_kwargs(fake))
        assert fake.stats()["calls"]["cut"] == 3
    assert cut.attrs["coverage"]["complete"]
    pd.testing.assert_frame_equal(cut, whole)


def test_pages_are_decoded_on_the_decoder_pool_while_installed(monkeypatch) -> None:
    threads: list[str] = []
    real = fastpage.decode

    def spy(body: bytes, fields: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(body, fields)

    monkeypatch.setattr(fastpage, "decode", spy)
    body = _body(_rows())
    with fake_service(scheduled_polls=0, running_polls=0) as fake:
        load(fake, 30, T0, T0 + timedelta(hours=1), seed=5)
        client = fake.client()
        qid = start_data_query(client)
        uninstall = fastpage.install(client)
        try:
            assert 1 <= fastpage.decoder_threads() <= fastpage.MAX_DECODERS
            with fastpage.wanted(FIELDS):
                assert fastpage.KEY in results_when_complete(client, qid)
            assert threads and all(t.startswith("s3audit-decode") for t in threads)
            pool = fastpage._pool
            assert pool is not None
            pool.shutdown(wait=True)  # a call that outlives the pool decodes in its own thread
            rest, page = fastpage._decode_in_pool(body, FIELDS)  # type: ignore[misc]
            assert page.columns["@message"].to_pylist() == MESSAGES and threads[-1] == threading.current_thread().name
        finally:
            uninstall()
    assert fastpage._pool is None  # no client has the handler: the pool is gone


def test_install_on_a_client_without_events_is_a_no_op() -> None:
    fastpage.install(object())()


# --------------------------------------------------------- end to end: the same frame either way
@pytest.mark.parametrize(("truncate", "n"), [(None, 1_500), (700, 240)])  # cut: one GetLogRecord each
def test_pull_gives_the_same_frame_with_and_without_fast_decoding(monkeypatch, truncate, n) -> None:
    with fake_service(truncate_messages_at=truncate) as fake:
        load(fake, n, T0, T0 + timedelta(hours=3), seed=21,
             bursts=[(T0 + timedelta(hours=1), n // 3, 20.0)])
        fast = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=3), **pull_kwargs(fake))
        monkeypatch.setattr(fastpage, "install", lambda client: (lambda: None))
        slow = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=3), **pull_kwargs(fake))
    pd.testing.assert_frame_equal(fast, slow)
    for key in ("events", "rows_retrieved", "get_log_record", "duplicate_ptr", "data_queries"):
        assert fast.attrs["coverage"][key] == slow.attrs["coverage"][key], key
    assert fast.attrs["coverage"]["complete"] and len(fast) > n * 2 // 3
    if truncate:
        assert fast.attrs["coverage"]["get_log_record"] > 0


@pytest.mark.parametrize("body", [b"null", b"null\n{}", b" {}", b"[]", b"1", b""])
def test_a_body_that_is_not_an_object_is_left_to_botocore(body: bytes) -> None:
    # pyarrow 25's JSON reader kills the process on data that starts with null: never call it
    # there (in a child process, so a regression fails this test instead of the run)
    import subprocess
    import sys

    code = ("from s3audit.insights.fastpage import decode; "
            f"print(decode({body!r}, ['@message']) is None)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr[-300:]
