"""The ``endpoint`` and ``moto-plain`` backends.

``endpoint`` runs against a local ``fsconformance serve`` (an in-process server on 127.0.0.1):
its bucket and role are created and removed, and bad input stops a run with one line before
any test runs. ``moto-plain`` is checked to be moto alone: no emulated operation answers.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fsconformance.backends import BackendUnavailable, make_backend
from fsconformance.backends.endpoint import EndpointBackend, EndpointOptions, is_loopback_url
from fsconformance.backends.moto_plain import MotoPlainBackend
from fsconformance.backends.moto_server import reset_server
from fsconformance.emulator import settings
from fsconformance.emulator.transports.wsgi import EmulatorServer
from fsconformance.model.control_plane import Delays
from tests.helpers import REPO

PASSING = """
def test_nothing(backend):
    assert backend.account_id
"""


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("FSCONFORMANCE_RUN_ID", uuid.uuid4().hex[:6])
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    server = EmulatorServer(
        "127.0.0.1", 0, Delays(create=0.02, update=0.02, delete=0, data_plane=0, offline=0)
    )
    url = server.start()
    reset_server(url)  # servers of one process share moto's state: start from none of it
    try:
        yield url
    finally:
        server.shutdown()
        settings.configure(settings.delays_from_env())


def _plain(url: str, service: str):
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@pytest.fixture
def sts_only() -> Iterator[str]:
    """A loopback server that answers STS like AWS and 404 to everything else."""
    identity = (
        b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        b"<GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/x</Arn>"
        b"<UserId>X</UserId><Account>111122223333</Account></GetCallerIdentityResult>"
        b"<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
        b"</GetCallerIdentityResponse>"
    )

    def app(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        if b"GetCallerIdentity" in body:
            start_response("200 OK", [("Content-Type", "text/xml")])
            return [identity]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such thing here"]

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


# -- the URL and the preflight -------------------------------------------------------------


def test_loopback_urls() -> None:
    assert is_loopback_url("http://127.0.0.1:5000")
    assert is_loopback_url("http://localhost:4566")
    assert is_loopback_url("http://[::1]:5000")
    assert not is_loopback_url("http://10.1.2.3:4566")
    assert not is_loopback_url("http://192.0.2.1")


def test_a_remote_url_is_refused_without_the_flag_and_before_any_request() -> None:
    # 192.0.2.1 is TEST-NET-1: nothing answers there, so a request would hang, not pass.
    options = {"endpoint": EndpointOptions(endpoint_url="http://192.0.2.1:4566")}
    with pytest.raises(BackendUnavailable, match="not a loopback address.*--allow-remote"):
        make_backend("endpoint", "us-east-1", options)


def test_the_flag_allows_a_remote_url_which_then_must_answer() -> None:
    options = {"endpoint": EndpointOptions(endpoint_url="http://127.0.0.1:1", allow_remote=True)}
    with pytest.raises(BackendUnavailable, match="does not answer STS"):
        make_backend("endpoint", "us-east-1", options)


def test_an_endpoint_without_feature_store_is_refused(sts_only: str) -> None:
    options = {"endpoint": EndpointOptions(endpoint_url=sts_only)}
    with pytest.raises(BackendUnavailable, match="is not a Feature Store"):
        make_backend("endpoint", "us-east-1", options)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://192.0.2.1:4566", "is not a loopback address"),
        ("http://127.0.0.1:1", "does not answer STS GetCallerIdentity"),
        ("", "needs --endpoint-url"),
    ],
    ids=["remote", "unreachable", "missing"],
)
def test_bad_input_stops_the_run_with_one_line(
    pytester: pytest.Pytester, url: str, message: str
) -> None:
    pytester.makepyfile(test_one=PASSING)
    args = ["-p", "no:cacheprovider", "--backend=endpoint"]
    if url:
        args += ["--endpoint-url", url]
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if line.strip()]
    assert len(errors) == 1, result.outlines + result.errlines
    assert errors[0].startswith("ERROR: fsconformance: ") and message in errors[0]
    assert "passed" not in "\n".join(result.outlines)


@pytest.mark.slow
def test_a_run_against_serve_creates_and_removes_its_bucket_and_role(
    pytester: pytest.Pytester, serve: str
) -> None:
    pytester.makepyfile(
        test_one="""
def test_offline_group(backend):
    backend.create_and_wait(backend.feature_group_request())
    assert backend.offline_s3_uri.startswith("s3://fsct-")
    assert backend.role_arn.startswith("arn:aws:iam::123456789012:role/fsct-")
"""
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--backend=endpoint", "--endpoint-url", serve
    )
    result.assert_outcomes(passed=1)
    assert any("backend: endpoint" in line for line in result.outlines)
    assert _plain(serve, "s3").list_buckets()["Buckets"] == []
    assert _plain(serve, "iam").list_roles()["Roles"] == []
    assert _plain(serve, "sagemaker").list_feature_groups()["FeatureGroupSummaries"] == []


def test_the_account_is_the_one_sts_reports(serve: str) -> None:
    backend = make_backend("endpoint", "us-east-1", {"endpoint": EndpointOptions(serve)})
    assert isinstance(backend, EndpointBackend)
    assert backend.account_id == "123456789012"
    assert backend.budgets.create == 30


# -- moto-plain ------------------------------------------------------------------------------


def test_moto_plain_answers_with_moto_alone() -> None:
    backend = make_backend("moto-plain", "us-east-1")
    assert isinstance(backend, MotoPlainBackend)
    backend.start()
    try:
        backend.begin_test()
        request = backend.feature_group_request()
        backend.sagemaker.create_feature_group(**request)
        # moto's own answer: Created at once (the emulation would say Creating first).
        described = backend.describe(request["FeatureGroupName"])
        assert described["FeatureGroupStatus"] == "Created"
        with pytest.raises(ClientError) as raised:
            backend.runtime.get_record(
                FeatureGroupName=request["FeatureGroupName"], RecordIdentifierValueAsString="1"
            )
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert backend.end_test() == []
    finally:
        backend.stop()
    assert backend.budgets.offline <= 1


def test_moto_plain_expectations_have_a_reason_each() -> None:
    from fsconformance.harness import expectations

    entries = expectations.load(REPO / "expectations" / "moto-plain.toml")
    assert entries
    for entry in entries:
        assert entry.reason.startswith(("moto ", "moto's ")), entry
        assert "TODO" not in entry.reason
        assert len(json.dumps(entry.reason)) < 200
