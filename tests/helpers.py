"""What the self-tests share: requests, clients, the wire to the emulation, an Athena session.

``Wire`` is one of two transports to the emulation: ``inprocess`` hands a ``WireRequest`` to
the routing core directly (inside ``mock_featurestore``), ``serve`` sends the bytes to an
``EmulatorServer`` on a loopback port. Either way ``Wire.send`` returns the status, headers
and body the client would see, or ``None`` where the in-process core leaves the request to
moto. The ``wire`` fixture (conftest.py) gives one of each.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config

from fsconformance.emulator import routing
from fsconformance.emulator.transports import bridge
from fsconformance.emulator.wire import WireRequest
from fsconformance.model.control_plane import Delays
from fsconformance.waiters import eventually

REPO = Path(__file__).resolve().parent.parent  # the checkout

FAST = Delays(create=0, update=0, delete=0, data_plane=0, offline=0)
FAKE = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
ROLE = "arn:aws:iam::123456789012:role/fs"
HOSTS = {
    "sagemaker": "api.sagemaker.us-east-1.amazonaws.com",
    "runtime": "featurestore-runtime.sagemaker.us-east-1.amazonaws.com",
    "athena": "athena.us-east-1.amazonaws.com",
}


# The record identifier and event time most self-tests' groups have.
ID_AND_TIME = {"id": "String", "t": "Fractional"}


def create_request(
    name: str = "customers",
    features: Mapping[str, str] | None = None,
    *,
    online: bool | dict[str, Any] = True,
    offline: str | None = None,
    table_format: str | None = None,
    role: str = ROLE,
    **members: Any,
) -> dict[str, Any]:
    """A valid CreateFeatureGroup request, with ``members`` over it.

    ``features`` maps each feature's name to its type, the record identifier first and the
    event time second (``customer_id`` String and ``event_time`` Fractional when omitted).
    ``online`` turns the online store on or off, or is its whole ``OnlineStoreConfig``;
    ``offline`` is the S3 URI of an offline store (in ``table_format`` if given), written with
    ``role``.
    """
    features = features or {"customer_id": "String", "event_time": "Fractional"}
    identifier, event_time = list(features)[:2]
    request: dict[str, Any] = {
        "FeatureGroupName": name,
        "RecordIdentifierFeatureName": identifier,
        "EventTimeFeatureName": event_time,
        "FeatureDefinitions": [
            {"FeatureName": feature, "FeatureType": kind} for feature, kind in features.items()
        ],
    }
    if online:
        request["OnlineStoreConfig"] = (
            online if isinstance(online, dict) else {"EnableOnlineStore": True}
        )
    if offline is not None:
        store: dict[str, Any] = {"S3StorageConfig": {"S3Uri": offline}}
        if table_format is not None:
            store["TableFormat"] = table_format
        request["OfflineStoreConfig"] = store
        request["RoleArn"] = role
    request.update(members)
    return request


def record(**values: str) -> list[dict[str, str]]:
    """A PutRecord ``Record``: each feature's value as a string, in the order given."""
    return [{"FeatureName": name, "ValueAsString": value} for name, value in values.items()]


def wait_created(
    sagemaker: BaseClient, name: str, *, timeout: float = 10, interval: float = 0.02
) -> None:
    """Poll DescribeFeatureGroup until ``name`` is Created (C-016), within ``timeout``."""
    eventually(
        lambda: (
            sagemaker.describe_feature_group(FeatureGroupName=name)["FeatureGroupStatus"]
            == "Created"
        ),
        timeout=timeout,
        interval=interval,
        what=f"{name} created",
    )


def signed_headers(service: str) -> dict[str, str]:
    """An Authorization header whose scope names ``service`` (the routing reads only that)."""
    signing = "athena" if service == "athena" else "sagemaker"
    return {
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/"
        f"{signing}/aws4_request, SignedHeaders=host, Signature=0"
    }


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Wire:
    name: str
    url: str | None = None  # the server's, for "serve"

    def client(self, service: str) -> BaseClient:
        config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
        extra = {"endpoint_url": self.url} if self.url else {}
        return boto3.client(service, region_name="us-east-1", config=config, **FAKE, **extra)

    def send(
        self,
        method: str,
        path: str,
        body: bytes | str = b"",
        *,
        service: str = "runtime",
        target: str | None = None,
        headers: Mapping[str, str] | None = None,
        signed: bool = True,
    ) -> Answer | None:
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        sent: dict[str, str] = signed_headers(service) if signed else {}
        if target is not None:
            sent["X-Amz-Target"] = target
            sent["Content-Type"] = "application/x-amz-json-1.1"
        sent.update(headers or {})
        if self.url is None:
            url = f"https://{HOSTS[service]}{path}"
            response = routing.route(WireRequest(method, url, sent, raw))
            if response is None:
                return None
            return Answer(response.status, dict(response.headers), response.body)
        host, port = self.url[len("http://") :].rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True, skip_host="Host" in sent)
            for key, value in sent.items():
                connection.putheader(key, value.encode())
            if "Content-Length" not in sent:
                connection.putheader("Content-Length", str(len(raw)))
            connection.endheaders(raw)
            reply = connection.getresponse()
            return Answer(reply.status, dict(reply.getheaders()), reply.read())
        finally:
            connection.close()


def make_group(wire: Wire, name: str = "g", *, ttl: dict[str, Any] | None = None) -> None:
    """A created group ``name`` with an online and an offline store, and its bucket."""
    wire.client("s3").create_bucket(Bucket="offline")
    online: dict[str, Any] = {"EnableOnlineStore": True}
    if ttl is not None:
        online["TtlDuration"] = ttl
    features = {"id": "String", "t": "String", "n": "Integral", "x": "Fractional"}
    wire.client("sagemaker").create_feature_group(
        **create_request(name, features, online=online, offline="s3://offline/store")
    )


ATHENA_TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


def query_ended(
    athena: BaseClient, query_id: str, states: tuple[str, ...] = ATHENA_TERMINAL
) -> dict[str, Any]:
    """The query's execution once its state is one of ``states`` (by default, once it has
    left QUEUED and RUNNING), polled as users poll, with a deadline."""

    def probe() -> dict[str, Any] | None:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        return execution if execution["Status"]["State"] in states else None

    return eventually(probe, timeout=30, interval=0.01, what=f"query {query_id} in {states}")


class AthenaSession:
    """Clients of one emulated account with a bucket of its own for Athena's results."""

    database = "default"

    def __init__(self, account_id: str, bucket_prefix: str) -> None:
        region = "us-east-1"
        self.athena = boto3.client("athena", region_name=region)
        self.s3 = boto3.client("s3", region_name=region)
        self.sm = boto3.client("sagemaker", region_name=region)
        self.rt = boto3.client("sagemaker-featurestore-runtime", region_name=region)
        self.bucket = f"{bucket_prefix}-{account_id}"
        self.s3.create_bucket(Bucket=self.bucket)

    def start(self, sql: str, **kwargs: Any) -> str:
        return self.athena.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": self.database},
            ResultConfiguration={"OutputLocation": f"s3://{self.bucket}/out/"},
            **kwargs,
        )["QueryExecutionId"]

    def status(self, query_id: str) -> dict[str, Any]:
        return self.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]

    def wait(self, query_id: str, states: tuple[str, ...] = ATHENA_TERMINAL) -> dict[str, Any]:
        return query_ended(self.athena, query_id, states)


def serve(*args: str, env: Mapping[str, str] | None = None, stderr: Any = subprocess.PIPE) -> Any:
    """``fsconformance serve`` on a free loopback port in a child process, as a user starts it,
    with ``env`` over this process's environment. The server itself is never redirected to
    an endpoint (``FSCONFORMANCE_USE_ENDPOINT``, docs/multi-process.md)."""
    environment = {k: v for k, v in os.environ.items() if k != bridge.USE_ENDPOINT_ENV}
    return subprocess.Popen(
        [sys.executable, "-m", "fsconformance", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**environment, **(env or {})},
    )


@contextmanager
def serving(*args: str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """The URL of ``serve(*args)``, stopped with SIGTERM afterwards."""
    process = serve(*args, env=env)
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        listening = ready.startswith("fsconformance serve: listening on ")
        assert listening, ready or process.communicate(timeout=30)[1]
        yield ready.split()[-1]
    finally:
        process.terminate()
        process.communicate(timeout=30)


def js_sdk(client: str = "client-s3") -> Path:
    """A directory whose node_modules hold the AWS SDK for JavaScript v3 (its S3 and Athena
    clients and lib-storage: ``FSCONFORMANCE_JS_SDK``); CI installs one (.ci/run)."""
    found = os.environ.get("FSCONFORMANCE_JS_SDK")
    if shutil.which("node") and found and (Path(found) / "node_modules/@aws-sdk" / client).is_dir():
        return Path(found)
    reason = (
        "node and the JavaScript SDK v3 are needed (npm install --prefix DIR "
        "@aws-sdk/client-s3 @aws-sdk/lib-storage @aws-sdk/client-athena; "
        "FSCONFORMANCE_JS_SDK=DIR)"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and CI must have them (.ci/run installs them)")
    pytest.skip(reason)
