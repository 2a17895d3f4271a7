"""The floor side of the benchmarks, in a process where no mock ever starts.

Importing moto registers its stubber with every botocore client made afterwards, so a floor
measured in the benchmark's own process would pay for a mock handler. This worker imports
only boto3 and answers commands on stdin, one per line, with one line on stdout:

* ``put <calls> [<endpoint>]`` / ``get <calls> [<endpoint>]``: seconds for ``calls``
  PutRecord/GetRecord calls (``batch``: the same records in BatchWriteRecord calls of 25;
  ``put/<k>``: the puts shared out among ``k`` threads, each with a client of its own).
  Without an endpoint the client answers every call from ``before-send`` with a canned 200
  (what botocore alone costs); with one it sends them over HTTP to that endpoint. The canned
  body is what the emulation answers (``canned_body``).
* ``quit``.

``python benchmarks/floor_worker.py --canned-server`` instead serves a canned 200 over HTTP
with the same server stack as ``fsconformance serve`` (werkzeug's threaded server with
persistent connections) and prints its URL:
for each request what the emulation would answer it, in size and shape (``canned_answer``).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

GROUP = "bench-group"
FEATURES = 10


def record(i: int) -> list[dict[str, str]]:
    """The benchmarks' 10-feature record (the same in floor and emulation)."""
    values = [
        {"FeatureName": "customer_id", "ValueAsString": f"C{i}"},
        {"FeatureName": "event_time", "ValueAsString": "1700000000.0"},
    ]
    values += [{"FeatureName": f"f{n}", "ValueAsString": str(i * n)} for n in range(FEATURES - 2)]
    return values


def definitions() -> list[dict[str, str]]:
    return [
        {"FeatureName": "customer_id", "FeatureType": "String"},
        {"FeatureName": "event_time", "FeatureType": "Fractional"},
    ] + [{"FeatureName": f"f{n}", "FeatureType": "Integral"} for n in range(FEATURES - 2)]


def canned_body(method: str) -> bytes:
    """What the emulation answers: ``{}`` for a put, the 10-feature record for a get (so the
    floor parses a response of the same size)."""
    return json.dumps({"Record": record(0)}).encode() if method == "GET" else b"{}"


def canned_answer(method: str, path: str) -> tuple[str, bytes]:
    """The canned server's answer to a request: what the emulation answers it, in size and
    shape (a put's ``{}``, a get's record, a BatchGetRecord of 10, an S3 listing)."""
    if path == "/BatchGetRecord":
        records = [
            {
                "FeatureGroupName": GROUP,
                "RecordIdentifierValueAsString": f"C{i}",
                "Record": record(i),
            }
            for i in range(10)
        ]
        body = {"Records": records, "Errors": [], "UnprocessedIdentifiers": []}
        return "application/json", json.dumps(body).encode()
    if method == "GET" and not path.startswith("/FeatureGroup/"):  # an S3 listing
        keys = "".join(
            f"<Contents><Key>offline/data/part-{i:04d}.parquet</Key><Size>4096</Size>"
            "<LastModified>2026-01-01T00:00:00.000Z</LastModified>"
            '<ETag>"0123456789abcdef0123456789abcdef"</ETag>'
            "<StorageClass>STANDARD</StorageClass></Contents>"
            for i in range(50)
        )
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<Name>bucket</Name><Prefix></Prefix><KeyCount>50</KeyCount><MaxKeys>50</MaxKeys>"
            f"<IsTruncated>false</IsTruncated>{keys}</ListBucketResult>"
        )
        return "application/xml", xml.encode()
    return "application/json", canned_body(method)


class _Body(io.BytesIO):
    def stream(self, **_: Any) -> Any:
        yield self.read()


def runtime_client(endpoint: str | None = None) -> Any:
    client = boto3.client(
        "sagemaker-featurestore-runtime",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    if endpoint is None:

        def canned(request: Any, **_: Any) -> AWSResponse:
            body = _Body(canned_body(request.method))
            return AWSResponse(request.url, 200, {"Content-Type": "application/json"}, body)

        client.meta.events.register_first("before-send.sagemaker-featurestore-runtime", canned)
    return client


def timed(client: Any, op: str, calls: int) -> float:
    start = time.perf_counter()
    if op == "put":
        for i in range(calls):
            client.put_record(FeatureGroupName=GROUP, Record=record(i))
    elif op == "batch":  # BatchWriteRecord calls of 25 entries, ``calls`` records in all
        for first in range(0, calls, 25):
            entries = [{"FeatureGroupName": GROUP, "Record": record(first + i)} for i in range(25)]
            client.batch_write_record(Entries=entries)
    else:
        for i in range(calls):
            client.get_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString=f"C{i}")
    return time.perf_counter() - start


def threaded(count: int, calls: int) -> float:
    """Seconds for ``calls`` canned PutRecords shared out among ``count`` threads."""
    clients = [runtime_client() for _ in range(count)]
    for client in clients:
        timed(client, "put", 5)  # warm each client
    each = max(calls // count, 1)
    workers = [threading.Thread(target=timed, args=(client, "put", each)) for client in clients]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return (time.perf_counter() - start) * calls / (each * count)


@contextmanager
def listening(command: list[str], env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run a server in a process of its own (``fsconformance serve``, or this worker's
    ``--canned-server``): the URL it prints as the last word of its first line, while it
    runs. It is stopped on leaving, and waited for: serve writes every buffered row first."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().split()[-1].strip()
    finally:
        process.terminate()
        process.wait(timeout=300)


def canned_server() -> None:
    # serve's own server: werkzeug's, with persistent connections (imports neither moto nor
    # botocore, so this process stays mock-free).
    from fsconformance.emulator.transports.keepalive import KeepAliveServer

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        content_type, body = canned_answer(environ["REQUEST_METHOD"], environ["PATH_INFO"])
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        return [body]

    server = KeepAliveServer("127.0.0.1", 0, app)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever(poll_interval=None)  # no wake-ups: serve does not poll either


def main() -> None:
    if sys.argv[1:] == ["--canned-server"]:
        canned_server()
        return
    assert "moto" not in sys.modules
    clients: dict[str | None, Any] = {}
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        op, calls = words[0], int(words[1])
        if op.startswith("put/"):
            print(f"{threaded(int(op[4:]), calls):.6f}", flush=True)
            continue
        endpoint = words[2] if len(words) > 2 else None
        if endpoint not in clients:
            clients[endpoint] = runtime_client(endpoint)
            timed(clients[endpoint], op, 20)  # warm the client (models, connections)
        print(f"{timed(clients[endpoint], op, calls):.6f}", flush=True)


if __name__ == "__main__":
    main()
