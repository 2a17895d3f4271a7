"""serve's connections persist between requests (RFC 9112 §9.3), and nothing is taken for a
request that is not one: a body the application left unread, a chunked body, a stop."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from fsconformance.emulator.transports.keepalive import KeepAliveServer


def echo_path(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers with the request's path and method; reads the body only when asked to
    (``?read``), so an unread body is left for the server to deal with."""
    read = environ["wsgi.input"].read() if environ.get("QUERY_STRING") == "read" else b""
    body = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {len(read)}".encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


@pytest.fixture
def server() -> Iterator[KeepAliveServer]:
    served = KeepAliveServer("127.0.0.1", 0, echo_path)
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    yield served
    served.stop_connections()
    served.shutdown()
    served.server_close()
    thread.join(5)


def connect(server: KeepAliveServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)


def exchange(server: KeepAliveServer, requests: bytes) -> bytes:
    """Everything the server sends back for ``requests`` until it closes the connection."""
    with socket.create_connection(server.server_address[:2], timeout=5) as raw:
        raw.sendall(requests)
        received = b""
        while chunk := raw.recv(65536):
            received += chunk
    return received


def ask(
    connection: http.client.HTTPConnection, method: str, path: str, body: Any = None, **kw: Any
) -> tuple[int, str, http.client.HTTPResponse]:
    connection.request(method, path, body=body, **kw)
    response = connection.getresponse()
    return response.status, response.read().decode(), response


def test_requests_follow_one_another_on_one_connection(server: KeepAliveServer) -> None:
    connection = connect(server)
    status, text, response = ask(connection, "GET", "/first")
    first_socket = connection.sock

    assert (status, text) == (200, "GET /first 0")
    assert response.getheader("Connection") is None  # HTTP/1.1: the connection stays
    assert response.getheader("Content-Length") == str(len(text))
    assert ask(connection, "POST", "/second", b"abc")[:2] == (200, "POST /second 0")
    assert connection.sock is first_socket and first_socket is not None


def test_a_body_left_unread_is_not_taken_for_the_next_request(server: KeepAliveServer) -> None:
    # The body looks like a request line: read as one it would answer "GET /smuggled".
    smuggled = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    unread = b"PUT /unread HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(smuggled)
    last = b"GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

    # Raw, as a client reads every byte the server sends (http.client drops what follows a
    # response in its buffer, and with it the answer to a smuggled request).
    answers = exchange(server, unread + smuggled + last)

    assert answers.count(b"HTTP/1.1 200 OK") == 2
    assert answers.endswith(b"GET /next 0")
    assert b"/smuggled" not in answers


def test_a_chunked_body_is_read_whole_and_the_connection_goes_on(
    server: KeepAliveServer,
) -> None:
    connection = connect(server)
    parts = iter([b"x" * 1000, b"y" * 24])

    status, text, _ = ask(
        connection,
        "PUT",
        "/chunked?read",
        parts,
        headers={"Transfer-Encoding": "chunked"},
        encode_chunked=True,
    )

    assert (status, text) == (200, "PUT /chunked 1024")
    assert ask(connection, "GET", "/after")[:2] == (200, "GET /after 0")


def test_a_head_answer_has_no_body_and_the_connection_goes_on(server: KeepAliveServer) -> None:
    connection = connect(server)

    status, text, response = ask(connection, "HEAD", "/head")

    assert (status, text) == (200, "")
    assert ask(connection, "GET", "/after")[:2] == (200, "GET /after 0")


def test_a_client_that_asks_to_close_is_closed(server: KeepAliveServer) -> None:
    connection = connect(server)

    status, _, response = ask(connection, "GET", "/bye", headers={"Connection": "close"})

    assert status == 200
    assert response.getheader("Connection") == "close"


def test_after_a_stop_an_late_is_refused_and_an_idle_one_is_ended(
    server: KeepAliveServer,
) -> None:
    busy = connect(server)
    assert ask(busy, "GET", "/before")[0] == 200
    idle = socket.create_connection(server.server_address[:2], timeout=5)
    idle.sendall(b"GET /idle HTTP/1.1\r\nHost: x\r\n\r\n")
    assert idle.recv(4096).startswith(b"HTTP/1.1 200")

    server.stop_connections()

    assert idle.recv(4096) == b""  # the server ended it
    # A request already on its way when the stop came is refused, never applied.
    refused = socket.create_connection(server.server_address[:2], timeout=5)
    refused.sendall(b"POST /late HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    answer = refused.recv(4096)
    assert answer.startswith(b"HTTP/1.1 503")
    assert b"Connection: close" in answer
    assert b'"__type": "ServiceUnavailable"' in answer


def failing_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise RuntimeError("a defect: nothing answered this request")


def xml_error(environ: dict[str, Any], status: int, code: str, message: str) -> Any:
    return [("Content-Type", "application/xml")], f"<Error><Code>{code}</Code></Error>".encode()


def test_the_servers_own_answers_come_from_its_error_answer() -> None:
    """A 500 for a failure nothing answered and a 503 after a stop, both in the shape the
    server was given (serve gives the request's protocol's); one that fails falls back to JSON."""
    served = KeepAliveServer("127.0.0.1", 0, failing_app, error_answer=xml_error)
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    try:
        status, body, _ = ask(connect(served), "GET", "/bucket")
        assert (status, body) == (500, "<Error><Code>InternalFailure</Code></Error>")
        served.stop_connections()
        late = socket.create_connection(served.server_address[:2], timeout=5)
        late.sendall(b"GET /late HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = late.recv(4096)
        assert answer.startswith(b"HTTP/1.1 503")
        assert answer.endswith(b"<Error><Code>ServiceUnavailable</Code></Error>")

        served.stopping = False
        served.error_answer = failing_app  # type: ignore[assignment]  # raises on any call
        status, body, _ = ask(connect(served), "GET", "/bucket")
        assert status == 500
        assert json.loads(body)["__type"] == "InternalFailure"
    finally:
        served.shutdown()
        served.server_close()
        thread.join(5)
