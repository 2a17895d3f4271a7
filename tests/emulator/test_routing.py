"""Routing by service: S3 and Glue reach moto byte for byte, Athena is answered whole.

The oracle here is plain moto: every S3 round trip is made twice, once under ``mock_aws``
alone and once under ``mock_featurestore`` (or through ``fsconformance serve``), and the
bytes read back must be the ones written, in both.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from moto import mock_aws

from fsconformance import Delays, mock_featurestore
from fsconformance.emulator import moto_seam, routing
from fsconformance.emulator.transports import inprocess
from fsconformance.emulator.transports.wsgi import EmulatorServer
from fsconformance.emulator.wire import WireRequest

FAST = Delays(create=0, update=0, delete=0, data_plane=0, offline=0)
FAKE = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# Keys that look like runtime paths, or like nothing in particular.
KEYS = [
    "plain/control.txt",
    "FeatureGroup/readme.txt",
    "FeatureGroup/g",
    "BatchGetRecord",
    "FeatureGroup/g?RecordIdentifierValueAsString=1",
]
SIZES = [0, 5, 70_000, 6 * 1024 * 1024]


def payload(size: int) -> bytes:
    return bytes((i * 31 + 7) % 256 for i in range(min(size, 4096))) * (size // 4096 or 1)


def _s3(**kwargs: Any) -> Any:
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
    return boto3.client("s3", region_name="us-east-1", config=config, **FAKE, **kwargs)


def round_trips(s3: Any, bucket: str) -> list[tuple[str, bytes, bytes]]:
    """(how, written, read back) for every upload style."""
    s3.create_bucket(Bucket=bucket)
    seen = []
    for key in KEYS:
        for size in SIZES[:3]:
            body = payload(size)
            s3.put_object(Bucket=bucket, Key=f"{key}-{size}", Body=body)
            got = s3.get_object(Bucket=bucket, Key=f"{key}-{size}")["Body"].read()
            seen.append((f"put bytes {key} {size}", body, got))
        body = payload(70_000)
        s3.put_object(Bucket=bucket, Key=f"{key}-file", Body=io.BytesIO(body))
        seen.append(
            (
                f"put file {key}",
                body,
                s3.get_object(Bucket=bucket, Key=f"{key}-file")["Body"].read(),
            )
        )
        s3.upload_fileobj(io.BytesIO(payload(SIZES[3])), bucket, f"{key}-multipart")
        got = s3.get_object(Bucket=bucket, Key=f"{key}-multipart")["Body"].read()
        seen.append((f"multipart {key}", payload(SIZES[3]), got))
    return seen


def test_s3_objects_round_trip_under_the_mock_exactly_as_under_plain_moto() -> None:
    with mock_aws():
        plain = round_trips(_s3(), "plain")
    with mock_featurestore(delays=FAST):
        emulated = round_trips(_s3(), "plain")
    assert [how for how, _, _ in emulated] == [how for how, _, _ in plain]
    for (how, written, read_plain), (_, _, read_emulated) in zip(plain, emulated, strict=True):
        assert read_plain == written, f"plain moto: {how}"
        assert read_emulated == written, f"under mock_featurestore: {how}"


def test_presigned_s3_urls_work_under_the_mock() -> None:
    """A presigned URL carries its scope in the query string (s3), not in a header."""
    with mock_featurestore(delays=FAST):
        s3 = _s3()
        s3.create_bucket(Bucket="presigned")
        url = s3.generate_presigned_url(
            "put_object", Params={"Bucket": "presigned", "Key": "FeatureGroup/x"}
        )
        assert requests.put(url, data=b"hello", timeout=10).status_code == 200
        got = s3.get_object(Bucket="presigned", Key="FeatureGroup/x")["Body"].read()
        assert got == b"hello"


@pytest.fixture
def served() -> Iterator[str]:
    server = EmulatorServer("127.0.0.1", 0, FAST)
    url = server.start()
    try:
        yield url
    finally:
        server.shutdown()


def test_s3_objects_round_trip_through_serve(served: str) -> None:
    for how, written, read in round_trips(_s3(endpoint_url=served), "served"):
        assert read == written, f"through serve: {how}"


def glue_calls() -> list[Any]:
    glue = boto3.client("glue", region_name="us-east-1", **FAKE)
    glue.create_database(DatabaseInput={"Name": "FeatureGroup"})
    return [glue.get_database(Name="FeatureGroup")["Database"]["Name"]]


def test_glue_calls_reach_moto_under_the_mock() -> None:
    with mock_aws():
        plain = glue_calls()
    with mock_featurestore(delays=FAST):
        assert glue_calls() == plain


def test_athena_workgroups_are_moto_s_under_the_mock_whatever_the_protocol() -> None:
    """Workgroups are not the emulation's: moto keeps them, asked through the seam, on
    botocore models whose Athena plain moto can no longer route (rest-json)."""
    with mock_featurestore(delays=FAST):
        athena = boto3.client("athena", region_name="us-east-1", **FAKE)
        athena.create_work_group(Name="wg", Configuration={})
        # Every account has the workgroup "primary" (Athena user guide, workgroups).
        assert sorted(w["Name"] for w in athena.list_work_groups()["WorkGroups"]) == [
            "primary",
            "wg",
        ]
        assert athena.get_work_group(WorkGroup="wg")["WorkGroup"]["Name"] == "wg"


def _signed(service: str, host: str, path: str, target: str = "") -> WireRequest:
    headers = {
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/{service}/"
            "aws4_request, SignedHeaders=host, Signature=0"
        )
    }
    if target:
        headers["X-Amz-Target"] = target

    def unread() -> bytes:
        raise AssertionError("the body of a request the emulation does not own was read")

    return WireRequest("PUT", f"https://{host}{path}", headers, unread)


@pytest.mark.parametrize(
    ("service", "host", "path", "target"),
    [
        ("s3", "s3.amazonaws.com", "/bucket/FeatureGroup/readme.txt", ""),
        ("s3", "127.0.0.1:5000", "/FeatureGroup/g", ""),
        ("s3", "127.0.0.1:5000", "/BatchGetRecord", ""),
        ("glue", "glue.us-east-1.amazonaws.com", "/", "AWSGlue.GetTable"),
        ("sagemaker", "api.sagemaker.us-east-1.amazonaws.com", "/", "SageMaker.ListModels"),
    ],
)
def test_requests_of_other_services_are_not_ours_and_keep_their_body(
    service: str, host: str, path: str, target: str
) -> None:
    with mock_featurestore(delays=FAST):
        assert routing.route(_signed(service, host, path, target)) is None


def test_the_runtime_is_recognised_by_its_scope_not_its_path() -> None:
    with mock_featurestore(delays=FAST):
        request = _signed("sagemaker", "127.0.0.1:5000", "/FeatureGroup/missing")
        request.read_body = b'{"Record": []}'
        response = routing.route(request)
        assert response is not None
        assert response.status in (400, 404)


def _stubber_method() -> Callable[..., Any]:
    from moto.core.botocore_stubber import BotocoreStubber

    return BotocoreStubber.process_request


def test_the_stubber_hook_is_removed_when_the_last_mock_stops() -> None:
    before = _stubber_method()
    with mock_featurestore(delays=FAST):
        assert _stubber_method() is not before
        with mock_featurestore(delays=FAST):
            pass
        assert moto_seam.request_hook_installed()
    assert _stubber_method() is before
    assert not inprocess.is_active()


def _authorized(authorization: str) -> WireRequest:
    return WireRequest("GET", "http://127.0.0.1:5000/", {"Authorization": authorization}, b"")


@pytest.mark.parametrize("signature", ["0" * 64, "f" * 64])
def test_the_signing_scope_is_read_from_each_requests_own_credential(signature: str) -> None:
    # Scopes are remembered by the credential text; a new region, service or key is new text.
    for key, region, service in (
        ("AKIDONE", "us-east-1", "sagemaker"),
        ("AKIDONE", "eu-west-1", "sagemaker"),
        ("AKIDTWO", "eu-west-1", "athena"),
    ):
        header = (
            f"AWS4-HMAC-SHA256 Credential={key}/20261203/{region}/{service}/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature={signature}"
        )
        scope = _authorized(header).scope()
        assert (scope.access_key, scope.region, scope.service) == (key, region, service)


def test_a_credential_after_the_first_comma_is_still_its_own() -> None:
    # The remembered text is what precedes the first comma; a header whose credential comes
    # later shares that text with others and must be parsed each time.
    for region in ("us-east-1", "ap-south-1"):
        header = (
            "AWS4-HMAC-SHA256 SignedHeaders=host, "
            f"Credential=AKIDX/20261203/{region}/glue/aws4_request, Signature=00"
        )
        assert _authorized(header).scope().region == region
