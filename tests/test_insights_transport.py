"""How s3audit reads GetQueryResults bodies whole (``fastpage.send_whole`` behind
``WholeBodySession``), against botocore's own send: the same errors, every HTTP framing, connection
reuse, sessions of the user's own kind left alone, clients shared between pulls and the user's own
calls. No network: a loopback socket server, the loopback fake Logs Insights service, or
in-process fakes."""
from __future__ import annotations

import io
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pandas as pd
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.httpsession import URLLib3Session
from urllib3.response import HTTPResponse

import s3audit
from s3audit.insights import fastpage
from _insights_support import (GROUP, T0, fake_service, load, pull_kwargs, results_when_complete, start_data_query,
                               timedelta)

FIELDS = ("@timestamp", "@message", "@ptr")


# --------------------------------------------------------------------------- fastpage: errors

class _SSLBrokenBody(io.RawIOBase):
    """A response body whose first read fails as a TLS record error does mid-body."""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        raise ssl.SSLError("DECRYPTION_FAILED_OR_BAD_RECORD_MAC")


def _session_with_broken_tls_body() -> URLLib3Session:
    class Conn:
        proxy_headers: dict[str, str] = {}

        def urlopen(self, **_: Any) -> HTTPResponse:
            return HTTPResponse(body=_SSLBrokenBody(), headers={"Content-Length": "10"}, status=200,
                                preload_content=False, decode_content=False)

    class Manager:
        def connection_from_url(self, url: str) -> Conn:
            return Conn()

    session = URLLib3Session()
    session._get_connection_manager = lambda url, proxy: Manager()  # type: ignore[method-assign]
    return session


def _request() -> Any:
    return AWSRequest(method="POST", url="http://127.0.0.1:9/", data=b"{}", headers={}).prepare()


def test_an_ssl_error_while_reading_the_body_is_botocores_ssl_error() -> None:
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import SSLError

    with pytest.raises(SSLError):  # botocore's own send (the reference)
        _session_with_broken_tls_body().send(_request())
    with pytest.raises(BotoConnectionError) as info:  # what botocore's legacy retries match
        fastpage.send_whole(_session_with_broken_tls_body(), _request())
    assert isinstance(info.value, SSLError)


# ------------------------------------------------------------------ fastpage: a custom session

class _RecordingSession(URLLib3Session):
    """A user's own HTTP session that keeps every response body (traffic recording, debugging):
    it reads ``response.content`` before handing the response back, as botocore's send does."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[bytes] = []

    def send(self, request: Any) -> Any:
        response = super().send(request)
        self.bodies.append(response.content)
        return response


def test_a_session_that_reads_the_body_itself_keeps_its_body_under_wanted() -> None:
    with fake_service(scheduled_polls=0, running_polls=0) as fake:
        load(fake, 80, T0, T0 + timedelta(hours=1), seed=3)
        client = fake.client()
        client._endpoint.http_session = _RecordingSession()
        qid = start_data_query(client)
        plain = results_when_complete(client, qid)
        uninstall = fastpage.install(client)
        try:
            with fastpage.wanted(FIELDS):
                fast = client.get_query_results(queryId=qid, maxItems=50)
        finally:
            uninstall()
        assert fast.get("status") == "Complete"
        page = fast[fastpage.KEY]
        assert page.columns["@ptr"].to_pylist() == [{c["field"]: c["value"] for c in r}["@ptr"]
                                                    for r in plain["results"]]


def test_a_pull_with_a_recording_session_equals_the_plain_pull() -> None:
    with fake_service(scheduled_polls=0, running_polls=0) as fake:
        load(fake, 300, T0, T0 + timedelta(hours=1), seed=4)
        plain = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), **pull_kwargs(fake))
        client = fake.client()
        client._endpoint.http_session = _RecordingSession()
        recorded = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1),
                                       **pull_kwargs(fake, client=client, deadline=30))
    pd.testing.assert_frame_equal(recorded, plain)


# ------------------------------------------------- fastpage: HTTP framing and pool (all correct)

_BODY = json.dumps({"status": "Complete", "results": [
    [{"field": f, "value": f"{f}-{i}"} for f in FIELDS] for i in range(3)]}).encode()


class _RawServer:
    """A loopback HTTP/1.1 server answering every request with one canned framing."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as f:
            while f.readline():
                length = 0
                while (h := f.readline()) not in (b"\r\n", b""):
                    if h.lower().startswith(b"content-length:"):
                        length = int(h.split(b":")[1])
                f.read(length)
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
                if self.mode == "chunked":
                    parts = (_BODY[:7], _BODY[7:90], _BODY[90:])
                    conn.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n"
                                 + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n")
                elif self.mode == "close":  # no Content-Length: the body ends with the connection
                    conn.sendall(head + b"Connection: close\r\n\r\n" + _BODY)
                    return
                else:
                    conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(_BODY) + _BODY)

    def close(self) -> None:
        self.sock.close()


@contextmanager
def _raw_client(mode: str) -> Iterator[tuple[Any, _RawServer]]:
    server = _RawServer(mode)
    client = boto3.client("logs", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{server.port}",
                          aws_access_key_id="x", aws_secret_access_key="x",
                          config=Config(retries={"max_attempts": 1}))
    try:
        yield client, server
    finally:
        server.close()


@pytest.mark.parametrize("mode", ["chunked", "close", "keep-alive"])
def test_whole_body_reads_every_framing_as_botocore_and_reuses_connections(mode: str) -> None:
    with _raw_client(mode) as (client, server):
        plain = [client.get_query_results(queryId="q") for _ in range(3)]
        before = server.connections
        uninstall = fastpage.install(client)
        try:
            with fastpage.wanted(FIELDS):
                fast = [client.get_query_results(queryId="q") for _ in range(3)]
        finally:
            uninstall()
        assert type(client._endpoint.http_session) is URLLib3Session
    want = [[{c["field"]: c["value"] for c in r}["@ptr"] for r in p["results"]] for p in plain]
    assert [p[fastpage.KEY].columns["@ptr"].to_pylist() for p in fast] == want
    # the pooled connection is released and reused exactly as botocore's own send does
    assert server.connections - before == (3 if mode == "close" else 0)


def test_two_pulls_sharing_one_client_and_a_users_own_calls_meanwhile() -> None:
    with fake_service(scheduled_polls=0, running_polls=0) as fake:
        load(fake, 300, T0, T0 + timedelta(hours=1), seed=4)
        client = fake.client()
        base = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), **pull_kwargs(fake, client=client))
        qid = start_data_query(client)
        out: dict[int, pd.DataFrame] = {}
        user: list[tuple[bool, int]] = []
        stop = threading.Event()

        def pull(k: int) -> None:
            out[k] = s3audit.pull_events(GROUP, T0, T0 + timedelta(hours=1), **pull_kwargs(fake, client=client))

        def users_own_calls() -> None:
            while not stop.is_set() or not user:
                r = client.get_query_results(queryId=qid, maxItems=50)
                user.append((fastpage.KEY in r, len(r.get("results", []))))

        threads = [threading.Thread(target=pull, args=(k,)) for k in range(2)]
        other = threading.Thread(target=users_own_calls)
        other.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        other.join()
    for df in out.values():
        pd.testing.assert_frame_equal(df, base)
    assert type(client._endpoint.http_session) is URLLib3Session and not fastpage._installed
    assert user and all(not decoded and n > 0 for decoded, n in user)  # botocore's own parse, untouched


def test_a_wrapper_from_a_reloaded_module_is_recognised_not_wrapped_again() -> None:
    """``%autoreload`` makes a new ``WholeBodySession`` class while a client is still wrapped by an
    instance of the old one: install must recognise it by its mark (an ``isinstance`` check wrapped
    it twice, and the outer wrapper's removal left the inner one on the client for good)."""
    reloaded = type("WholeBodySession", (), dict(fastpage.WholeBodySession.__dict__))  # same code, other class
    with fake_service(scheduled_polls=0, running_polls=0) as fake:
        client = fake.client()
        plain = client._endpoint.http_session
        earlier = reloaded(plain)
        earlier.users = 1  # a pull that began before the reload is still running
        client._endpoint.http_session = earlier
        uninstall = fastpage.install(client)
        assert client._endpoint.http_session is earlier and earlier.users == 2
        uninstall()
        assert client._endpoint.http_session is earlier and earlier.users == 1  # the earlier pull's still
