"""``fsconformance serve`` and its WSGI middleware: the emulation over HTTP on 127.0.0.1."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config

from fsconformance.emulator import moto_seam, settings
from fsconformance.emulator.transports.wsgi import EmulatorServer, require_loopback
from fsconformance.model.control_plane import Delays
from fsconformance.waiters import eventually
from tests.helpers import FAKE, ID_AND_TIME, create_request, record, serve, wait_created


def clients(url: str) -> dict[str, BaseClient]:
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
    return {
        name: boto3.client(name, region_name="us-east-1", endpoint_url=url, config=config, **FAKE)
        for name in ("sagemaker", "sagemaker-featurestore-runtime", "s3", "glue", "athena", "sts")
    }


def group_request(name: str) -> dict[str, Any]:
    return create_request(name, ID_AND_TIME, offline="s3://offline/store")


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    """An in-process server whose offline rows wait an hour (so only a flush writes them)."""
    instance = EmulatorServer(
        "127.0.0.1", 0, Delays(create=0, update=0, delete=0, data_plane=0, offline=3600)
    )
    instance.start()
    from fsconformance.backends.moto_server import reset_server

    reset_server(instance.url)
    try:
        yield instance
    finally:
        instance.shutdown()
        settings.configure(settings.delays_from_env())


def test_serves_the_emulation_and_moto_over_http(server: EmulatorServer) -> None:
    c = clients(server.url)
    assert c["sts"].get_caller_identity()["Account"] == "123456789012"  # moto
    c["s3"].create_bucket(Bucket="offline")  # moto, path style
    c["sagemaker"].create_feature_group(**group_request("served"))  # the emulation
    wait_created(c["sagemaker"], "served")
    runtime = c["sagemaker-featurestore-runtime"]
    runtime.put_record(
        FeatureGroupName="served",
        Record=record(id="a", t="1"),
    )
    got = runtime.get_record(FeatureGroupName="served", RecordIdentifierValueAsString="a")
    assert {"FeatureName": "id", "ValueAsString": "a"} in got["Record"]
    batch = runtime.batch_get_record(
        Identifiers=[{"FeatureGroupName": "served", "RecordIdentifiersValueAsString": ["a", "b"]}]
    )
    assert len(batch["Records"]) == 1
    table = c["sagemaker"].describe_feature_group(FeatureGroupName="served")["OfflineStoreConfig"][
        "DataCatalogConfig"
    ]
    assert c["glue"].get_table(DatabaseName=table["Database"], Name=table["TableName"])
    query = c["athena"].start_query_execution(
        QueryString=f'SELECT count(*) FROM "{table["Database"]}"."{table["TableName"]}"',
        ResultConfiguration={"OutputLocation": "s3://offline/results/"},
    )["QueryExecutionId"]
    state = eventually(
        lambda: (
            c["athena"].get_query_execution(QueryExecutionId=query)["QueryExecution"]["Status"][
                "State"
            ]
            in ("SUCCEEDED", "FAILED")
        ),
        timeout=10,
        interval=0.02,
    )
    assert state
    rows = c["athena"].get_query_results(QueryExecutionId=query)["ResultSet"]["Rows"]
    # The row waits an hour for replication and a query flushes nothing (C-060).
    assert rows[1]["Data"][0]["VarCharValue"] == "0"
    with pytest.raises(c["sagemaker"].exceptions.ResourceNotFound):
        c["sagemaker"].describe_feature_group(FeatureGroupName="absent")


def test_shutdown_writes_buffered_offline_rows(server: EmulatorServer) -> None:
    c = clients(server.url)
    c["s3"].create_bucket(Bucket="offline")
    c["sagemaker"].create_feature_group(**group_request("buffered"))
    wait_created(c["sagemaker"], "buffered")
    c["sagemaker-featurestore-runtime"].put_record(
        FeatureGroupName="buffered",
        Record=record(id="a", t="1"),
    )
    assert "Contents" not in c["s3"].list_objects_v2(Bucket="offline", Prefix="store/")
    server.shutdown()
    written = moto_seam.s3_objects("123456789012", "us-east-1", "offline", "store/")
    assert [key for key, _ in written if key.endswith(".parquet")]


def test_only_loopback_addresses_are_served() -> None:
    require_loopback("127.0.0.1")
    require_loopback("::1")
    for address in ("0.0.0.0", "192.168.1.10", "example.com"):
        with pytest.raises(ValueError, match="loopback"):
            require_loopback(address)


@pytest.mark.slow
def test_serve_command_prints_its_url_and_flushes_on_sigterm() -> None:
    delays = {"FSCONFORMANCE_DELAY_OFFLINE": "3600", "FSCONFORMANCE_DELAY_CREATE": "0"}
    process = serve("--debug", env=delays)
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.startswith("fsconformance serve: listening on http://127.0.0.1:"), ready
        url = ready.split()[-1]
        c = clients(url)
        c["s3"].create_bucket(Bucket="offline")
        c["sagemaker"].create_feature_group(**group_request("cli"))
        wait_created(c["sagemaker"], "cli")
        c["sagemaker-featurestore-runtime"].put_record(
            FeatureGroupName="cli",
            Record=record(id="a", t="1"),
        )
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped; 1 offline rows written" in out
    assert "emulated  PUT /FeatureGroup/cli" in err  # one debug line per request
    assert "moto      PUT /offline" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_serve_command_refuses_other_addresses() -> None:
    process = serve("--host", "0.0.0.0")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert err.strip().count("\n") == 0 and "loopback" in err


def signed_for(service: str) -> str:
    """An Authorization header whose SigV4 scope names ``service`` (serve checks no signature)."""
    scope = f"testing/20261207/us-east-1/{service}/aws4_request"
    return f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"


@pytest.mark.parametrize(
    ("service", "protocol"), [("s3", "rest-xml"), ("sagemaker", "json")], ids=["s3", "sagemaker"]
)
def test_a_request_after_a_stop_began_is_refused_in_its_own_protocol(
    server: EmulatorServer, service: str, protocol: str
) -> None:
    """serve's own 503 (a request that arrives once the stop began, never applied) is an
    error the client's parser reads, in the protocol the service speaks."""
    import socket

    from botocore.parsers import create_parser

    host, port = server.url.removeprefix("http://").split(":")
    server._server.stop_connections()  # type: ignore[union-attr]
    connection = socket.create_connection((host, int(port)), timeout=5)
    connection.sendall(
        f"POST / HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {signed_for(service)}\r\n"
        "Content-Length: 0\r\n\r\n".encode()
    )
    answer = b""
    while chunk := connection.recv(65536):
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert lines[0].startswith("HTTP/1.1 503")
    parsed = create_parser(protocol).parse(
        {"status_code": 503, "headers": headers, "body": body}, None
    )
    assert parsed["Error"]["Code"] == "ServiceUnavailable"
