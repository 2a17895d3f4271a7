"""The SageMaker SDK v2's telemetry stays on the machine under ``mock_featurestore``.

SDK v2 methods such as ``FeatureGroup.describe`` end with a telemetry GET, sent with
``requests`` (outside botocore) to an S3 object URL of the SDK team's. The mock's moto patches
``requests`` for AWS URLs, so that GET is answered in-process and no socket leaves loopback.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

import boto3
import pytest

from fsconformance import Delays, mock_featurestore

pytest.importorskip("sagemaker.telemetry.telemetry_logging")
if not getattr(pytest.importorskip("sagemaker"), "__version__", "").startswith("2."):
    pytest.skip(
        "the SDK v2's telemetry (another SDK major version is installed)", allow_module_level=True
    )


def _is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if not isinstance(host, str):
        return True  # a Unix socket path is local
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@pytest.fixture
def outbound(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every connection attempt to a non-loopback address; each is refused."""
    attempts: list[Any] = []
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            attempts.append(address)
            raise OSError("test_sdk_telemetry: no connection leaves the machine")
        return connect(self, address)

    real_getaddrinfo = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and not _is_loopback(host):
            try:
                ipaddress.ip_address(host)
            except ValueError:
                attempts.append(host)  # a name lookup is already traffic
                raise socket.gaierror("test_sdk_telemetry: no name lookups") from None
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return attempts


def test_sdk_telemetry_is_answered_in_process(
    outbound: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    import sagemaker
    from sagemaker.feature_store.feature_group import FeatureGroup
    from sagemaker.telemetry import telemetry_logging

    sent: list[tuple[str, Any]] = []
    helper = telemetry_logging._requests_helper

    def spy(url: str, timeout: Any) -> Any:
        response = helper(url, timeout)
        sent.append((url, response))
        return response

    monkeypatch.setattr(telemetry_logging, "_requests_helper", spy)
    with mock_featurestore(delays=Delays(create=0, update=0, delete=0)):
        session = sagemaker.Session(
            boto3.Session(region_name="us-east-1"), default_bucket="fsct-telemetry"
        )
        with pytest.raises(Exception, match="ResourceNotFound|not found"):
            FeatureGroup(name="fsct-telemetry-missing", sagemaker_session=session).describe()
    assert sent, "the SDK sent no telemetry: this test no longer sees what it checks"
    assert all(response is not None for _, response in sent)  # answered, not a network error
    assert outbound == []


def test_the_sdks_documented_opt_out_sends_no_telemetry(
    outbound: list[Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # What docs/sdk.md advises beside `fsconformance serve`, where requests is not redirected.
    config = tmp_path / "config.yaml"
    config.write_text(
        "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n"
    )
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(config))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    import sagemaker
    from sagemaker.feature_store.feature_group import FeatureGroup
    from sagemaker.telemetry import telemetry_logging

    sent: list[str] = []
    monkeypatch.setattr(telemetry_logging, "_requests_helper", lambda url, _: sent.append(url))
    with mock_featurestore(delays=Delays(create=0, update=0, delete=0)):
        session = sagemaker.Session(
            boto3.Session(region_name="us-east-1"), default_bucket="fsct-telemetry"
        )
        with pytest.raises(Exception, match="ResourceNotFound|not found"):
            FeatureGroup(name="fsct-telemetry-missing", sagemaker_session=session).describe()
    assert sent == []
    assert outbound == []
