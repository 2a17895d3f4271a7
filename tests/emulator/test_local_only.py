"""A web page can neither read nor change the served emulation.

The requests are the ones a browser sends for a page on another origin: an ``Origin`` header on
every cross-origin fetch and form post, ``Sec-Fetch-Site: cross-site`` even where ``Origin`` is
left out (a no-cors GET), a preflight ``OPTIONS`` before any request with ``X-Amz-Target``, and a
foreign ``Host`` for a DNS-rebinding page whose own name resolves to 127.0.0.1.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from fsconformance.backends.moto_server import reset_server
from fsconformance.emulator import settings
from fsconformance.emulator.transports.policy import is_loopback_host
from fsconformance.emulator.transports.wsgi import EmulatorServer
from tests.helpers import Answer, Wire, make_group

served = pytest.mark.parametrize("wire", ["serve"], indirect=True)

PAGE = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}
RECORD = {
    "Record": [
        {"FeatureName": "id", "ValueAsString": "a"},
        {"FeatureName": "t", "ValueAsString": "2026-01-01T00:00:00Z"},
    ]
}


def forbidden(answer: Answer | None) -> None:
    assert answer is not None and answer.status == 403, answer
    assert answer.json()["__type"] == "AccessDeniedException"
    assert not any(k.lower().startswith("access-control-") for k in answer.headers), answer.headers


def groups(wire: Wire) -> list[str]:
    listed = wire.client("sagemaker").list_feature_groups()["FeatureGroupSummaries"]
    return [g["FeatureGroupName"] for g in listed]


@served
def test_a_cross_origin_page_cannot_reset_anything(wire: Wire) -> None:
    make_group(wire)
    # A form post: a "simple" request the browser sends without a preflight.
    form = {
        "Origin": "https://evil.example",
        "Sec-Fetch-Site": "cross-site",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    forbidden(wire.send("POST", "/moto-api/reset", "", headers=form, signed=False))
    # Without Origin (some browsers leave it out of a navigation), Sec-Fetch-Site still tells.
    nav = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    forbidden(wire.send("POST", "/moto-api/reset", "", headers=nav, signed=False))
    forbidden(wire.send("POST", "/moto-api/reset", "", headers={"Origin": "null"}, signed=False))
    assert groups(wire) == ["g"]


@served
def test_a_cross_origin_page_cannot_read_anything(wire: Wire) -> None:
    make_group(wire)
    assert wire.send("PUT", "/FeatureGroup/g", json.dumps(RECORD)).status == 200
    forbidden(wire.send("GET", "/FeatureGroup/g?RecordIdentifierValueAsString=a", headers=PAGE))
    forbidden(wire.send("GET", "/moto-api/data.json", headers=PAGE, signed=False))
    forbidden(wire.send("GET", "/offline?list-type=2", headers=PAGE, signed=False))
    body = json.dumps(
        {"Identifiers": [{"FeatureGroupName": "g", "RecordIdentifiersValueAsString": ["a"]}]}
    )
    simple = PAGE | {"Content-Type": "text/plain"}
    forbidden(wire.send("POST", "/BatchGetRecord", body, headers=simple))
    # The preflight the browser needs before any X-Amz-Target request fails.
    preflight = PAGE | {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-amz-target,content-type",
    }
    forbidden(wire.send("OPTIONS", "/", headers=preflight, signed=False))


@served
def test_a_cross_origin_page_cannot_write(wire: Wire) -> None:
    make_group(wire)
    forbidden(wire.send("PUT", "/FeatureGroup/g", json.dumps(RECORD), headers=PAGE))
    forbidden(
        wire.send(
            "POST",
            "/",
            json.dumps({"FeatureGroupName": "g"}),
            service="sagemaker",
            target="SageMaker.DeleteFeatureGroup",
            headers=PAGE,
        )
    )
    answer = wire.send("GET", "/FeatureGroup/g?RecordIdentifierValueAsString=a")
    assert answer.status == 200 and answer.json() == {}
    assert groups(wire) == ["g"]


@served
@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:5000", "10.0.0.1", "127.0.0.1.nip.io"]
)
def test_a_wrong_host_is_refused(wire: Wire, host: str) -> None:
    make_group(wire)
    forbidden(
        wire.send("GET", "/FeatureGroup/g?RecordIdentifierValueAsString=a", headers={"Host": host})
    )
    forbidden(wire.send("POST", "/moto-api/reset", "", headers={"Host": host}, signed=False))
    assert groups(wire) == ["g"]


@served
def test_programs_and_loopback_names_are_served(wire: Wire) -> None:
    port = wire.url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "app.localhost"):
        answer = wire.send(
            "GET", "/FeatureGroup/none?RecordIdentifierValueAsString=a", headers={"Host": host}
        )
        assert answer.status == 404, (host, answer)
    make_group(wire)
    reset_server(wire.url)  # the moto-server backend's reset still works
    assert groups(wire) == []
    assert all(is_loopback_host(h) for h in ("[::1]:80", "127.8.9.1", "LOCALHOST"))


def test_cors_origin_lets_exactly_one_origin_in() -> None:
    server = EmulatorServer("127.0.0.1", 0, cors_origins=["http://localhost:3000"])
    url = server.start()
    try:

        def preflight(origin: str) -> tuple[int, dict[str, str]]:
            request = urllib.request.Request(
                url + "/",
                method="OPTIONS",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "x-amz-target",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as reply:
                    return reply.status, dict(reply.headers)
            except urllib.error.HTTPError as error:
                return error.code, dict(error.headers)

        status, headers = preflight("http://localhost:3000")
        assert status == 200 and headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        assert "x-amz-target" in headers["Access-Control-Allow-Headers"]
        status, headers = preflight("http://localhost:3001")
        assert status == 403 and "Access-Control-Allow-Origin" not in headers
    finally:
        server.shutdown()
        settings.configure(settings.delays_from_env())
