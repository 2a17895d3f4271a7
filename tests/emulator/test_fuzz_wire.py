"""A fuzzer over the wire formats the emulation owns, driven by the botocore service models.

For every operation the emulation answers (the feature-group control plane, the Feature Store
runtime, Athena's query operations) hypothesis builds requests from the operation's input
shape, then spoils them: wrong types, ``null``, sizes at and past every limit, unpaired
surrogates, non-ASCII digits, huge numbers, deep nesting, broken JSON and non-UTF-8 bytes. Every
answer, in-process and over HTTP, must be below 500 and, when it refuses, AWS-shaped: a JSON
``__type`` and ``message``. The server must keep answering (no hang, no crash).

The default run is short; ``FSCONFORMANCE_FUZZ_EXAMPLES`` sets the examples per transport and
operation group (e.g. 2000 for a long run).
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from typing import Any

import pytest
from botocore.model import Shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsconformance.emulator import athena
from fsconformance.emulator.controlplane import handlers as controlplane
from fsconformance.model.shapes import service_model
from tests.helpers import Wire, make_group

EXAMPLES = int(os.environ.get("FSCONFORMANCE_FUZZ_EXAMPLES", "40"))
MAX_SECONDS_PER_REQUEST = 30.0
SEEN: dict[str, int] = {"requests": 0, "refusals": 0}

KNOWN_NAMES = {
    "FeatureGroupName": st.sampled_from(["g", "G", "missing", "g" * 64]),
    "FeatureName": st.sampled_from(["id", "t", "n", "x", "is_deleted", "ID"]),
    "RecordIdentifierFeatureName": st.just("id"),
    "EventTimeFeatureName": st.just("t"),
    "ValueAsString": st.sampled_from(
        [
            "a",
            "1",
            "-9223372036854775808",
            "9223372036854775808",
            "1.5e3",
            "nan",
            "",
            "2026-01-01T00:00:00Z",
            "0000-01-01T00:00:00.000Z",
            "9999-12-31T23:59:59.999Z",
            "١٢٣",
            "１２",
            "1" * 25,
            " 1",
            "1_000",
        ]
    ),
    "EventTime": st.sampled_from(["2026-01-01T00:00:00Z", "1700000000", "٢٠٢٦", "x"]),
    "RecordIdentifierValueAsString": st.sampled_from(["a", "b", "", "é", "a" * 2049]),
    "ResourceArn": st.sampled_from(
        [
            "arn:aws:sagemaker:us-east-1:123456789012:feature-group/g",
            "arn:aws:sagemaker:us-east-1:123456789012:feature-group/missing",
        ]
    ),
    "QueryString": st.sampled_from(
        [
            "SELECT 1",
            "SELECT * FROM g",
            "",
            "SELEC",
            "SELECT '\u0000'",
            "SELECT 1 -- " + "x" * 262133,
        ]
    ),
}

SPOILERS: list[Any] = [
    None,
    0,
    -1,
    1.5,
    10**30,
    True,
    "",
    "x",
    [],
    {},
    [None],
    {"": None},
    "\ud800",
    "a\udfffb",
    "١٢٣",
    "９",
    "9" * 5000,
    "\u0000",
    "🙂" * 3,
]


def nested(depth: int) -> Any:
    value: Any = "x"
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


def limits(shape: Shape) -> st.SearchStrategy[Any]:
    """Values at and just past a shape's limits."""
    meta = shape.metadata
    found: list[Any] = []
    if shape.type_name == "string":
        for bound in ("min", "max"):
            if bound in meta:
                for n in (meta[bound] - 1, meta[bound], meta[bound] + 1):
                    if 0 <= n <= 300_000:
                        found.append("a" * n)
    elif shape.type_name in ("integer", "long"):
        for bound in ("min", "max"):
            if bound in meta:
                found += [meta[bound] - 1, meta[bound], meta[bound] + 1]
    elif shape.type_name == "list":
        for bound in ("min", "max"):
            if bound in meta and meta[bound] + 1 <= 200:
                found.append(["a"] * (meta[bound] + 1))
    return st.sampled_from(found) if found else st.nothing()


def hostile(shape: Shape) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(SPOILERS),
        limits(shape),
        st.integers(min_value=20, max_value=200).map(nested),
    )


def plausible(shape: Shape, name: str, depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if name in KNOWN_NAMES and kind == "string":
        return KNOWN_NAMES[name]
    if kind == "structure":
        members = {m: member_values(s, m, depth + 1) for m, s in shape.members.items()}
        required = {m: v for m, v in members.items() if m in shape.required_members}
        optional = {} if depth > 4 else {m: v for m, v in members.items() if m not in required}
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "list":
        low = shape.metadata.get("min", 0)
        return st.lists(
            member_values(shape.member, name, depth + 1), min_size=low, max_size=low + 3
        )
    if kind == "map":
        return st.dictionaries(
            plausible(shape.key, "", depth + 1),
            member_values(shape.value, "", depth + 1),
            max_size=2,
        )
    if kind == "string":
        if shape.enum:
            return st.sampled_from(list(shape.enum))
        return st.text(max_size=20)
    if kind in ("integer", "long"):
        return st.integers(
            min_value=shape.metadata.get("min", -(2**63)),
            max_value=shape.metadata.get("max", 2**63),
        )
    if kind == "boolean":
        return st.booleans()
    if kind in ("double", "float"):
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "timestamp":
        return st.one_of(
            st.floats(min_value=-1e12, max_value=1e12),
            st.sampled_from(["2026-01-01T00:00:00Z", "not a time", "99999-01-01"]),
        )
    return st.text(max_size=10)


def member_values(shape: Shape, name: str, depth: int) -> st.SearchStrategy[Any]:
    if depth > 6:
        return st.sampled_from(SPOILERS)
    return st.one_of(plausible(shape, name, depth), plausible(shape, name, depth), hostile(shape))


def owned_operations() -> list[tuple[str, str]]:
    runtime = service_model("sagemaker-featurestore-runtime").operation_names
    return (
        [("runtime", op) for op in runtime]
        + [
            ("sagemaker", op)
            for op in sorted({*controlplane.OPERATIONS, *controlplane.TAG_OPERATIONS})
        ]
        + [("athena", op) for op in athena.OPERATIONS]
    )


MODELS = {"runtime": "sagemaker-featurestore-runtime", "sagemaker": "sagemaker", "athena": "athena"}
TARGETS = {"sagemaker": "SageMaker", "athena": "AmazonAthena"}


def quote(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return urllib.parse.quote(text.encode("utf-8", "surrogatepass"), safe="")


def encode(service: str, operation: str, params: Any) -> tuple[str, str, bytes]:
    """Method, path and body of a request, laid out as the operation's protocol does."""
    model = service_model(MODELS[service]).operation_model(operation)
    if service != "runtime" or not isinstance(params, dict):
        body = json.dumps(params) if not isinstance(params, bytes) else params
        body = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        if service == "runtime":
            path = model.http["requestUri"].split("?")[0].replace("{FeatureGroupName}", "g")
            return model.http["method"], path, body
        return "POST", "/", body
    path = model.http["requestUri"].split("?")[0]
    query: list[str] = []
    body_members: dict[str, Any] = {}
    for name, value in params.items():
        member = model.input_shape.members.get(name)
        where = member.serialization.get("location") if member is not None else None
        if where == "uri":
            path = path.replace("{" + name + "}", quote(value))
        elif where == "querystring":
            key = member.serialization.get("name", name)
            for item in value if isinstance(value, list) else [value]:
                query.append(f"{key}={quote(item)}")
        else:
            body_members[name] = value
    path = path.replace("{FeatureGroupName}", "g")
    if query:
        path += "?" + "&".join(query)
    body = json.dumps(body_members).encode("utf-8", "surrogatepass") if body_members else b""
    return model.http["method"], path, body


def raw_bodies() -> st.SearchStrategy[bytes]:
    return st.sampled_from(
        [
            b"{",
            b"[]",
            b"null",
            b'"x"',
            b"\xff\xfe",
            b'{"a": "\xed\xa0\x80"}',
            b"{" * 5000,
            b"[" * 100_000,
            b'{"Record": 1e999}',
            b'{"MaxResults": 1' + b"0" * 5000 + b"}",
            b"\x00" * 10,
        ]
    )


REQUESTS = st.sampled_from(owned_operations()).flatmap(
    lambda so: st.tuples(
        st.just(so),
        st.one_of(
            *[plausible(service_model(MODELS[so[0]]).operation_model(so[1]).input_shape, "", 0)]
            * 4,
            st.sampled_from(SPOILERS),
            raw_bodies(),
        ),
    )
)


def check(wire: Wire, service: str, operation: str, params: Any) -> None:
    method, path, body = encode(service, operation, params)
    target = f"{TARGETS[service]}.{operation}" if service in TARGETS else None
    started = time.monotonic()
    answer = wire.send(method, path, body, service=service, target=target)
    assert time.monotonic() - started < MAX_SECONDS_PER_REQUEST, "no hang"
    SEEN["requests"] += 1
    if answer is None:  # left to moto: a tag operation on an ARN that is no feature group's
        return
    assert answer.status < 500, (operation, answer.status, answer.body[:500], body[:300])
    if answer.status >= 400:
        SEEN["refusals"] += 1
        shaped = answer.json()
        assert isinstance(shaped.get("__type"), str) and shaped["__type"], shaped
        assert isinstance(shaped.get("message"), str) and shaped["message"], shaped


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
@given(request=REQUESTS)
def test_no_request_gets_a_5xx_or_an_unshaped_refusal(wire: Wire, request: Any) -> None:
    (service, operation), params = request
    if not getattr(wire, "grouped", False):
        make_group(wire)
        wire.grouped = True  # type: ignore[attr-defined]
    check(wire, service, operation, params)


@pytest.mark.parametrize("wire", ["serve"], indirect=True)
def test_the_server_still_answers_after_the_fuzzing(wire: Wire) -> None:
    make_group(wire)
    for (service, operation), params in [(("runtime", "PutRecord"), b"[" * 100_000)] * 3:
        check(wire, service, operation, params)
    answer = wire.send("GET", "/FeatureGroup/g?RecordIdentifierValueAsString=a")
    assert answer is not None and answer.status == 200


# -- the services moto answers ---------------------------------------------------------------

# Signing names of services moto answers, and their X-Amz-Target prefixes (None: not JSON).
MOTO_SERVICES = {
    "glue": "AWSGlue",
    "logs": "Logs_20140328",
    "dynamodb": "DynamoDB_20120810",
    "iam": None,
    "sts": None,
    "s3": None,
}


def moto_operation_names(service: str) -> list[str]:
    return sorted(service_model(service).operation_names)[:40]


@st.composite
def moto_requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], bytes]:
    """A request to a service moto answers (or to none): any method and path, a real or
    made-up operation, signed or not, with any body."""
    service = draw(st.sampled_from([*MOTO_SERVICES, None]))
    headers: dict[str, str] = {}
    if service is not None and draw(st.booleans()):
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0"
        )
    operation = draw(
        st.one_of(
            st.sampled_from(moto_operation_names(service) if service else ["ListThings"]),
            st.sampled_from(["", "Bogus", "DropEverything", "x" * 300, "Ünïcode", "a.b.c"]),
        )
    )
    prefix = MOTO_SERVICES.get(service or "") if service else None
    shape = draw(st.sampled_from(["target", "form", "rest"]))
    body = draw(st.one_of(raw_bodies(), st.just(b"")))
    if shape == "target":
        headers["X-Amz-Target"] = f"{prefix or draw(st.sampled_from(['Nope', '']))}.{operation}"
        headers["Content-Type"] = "application/x-amz-json-1.1"
    elif shape == "form":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        version = draw(st.sampled_from(["2010-05-08", "2011-06-15", "", "x"]))
        body = f"Action={urllib.parse.quote(operation)}&Version={version}".encode() + (
            b"&" + body if draw(st.booleans()) else b""
        )
    method = draw(st.sampled_from(["POST", "PUT", "GET", "DELETE", "PATCH"]))
    path = draw(
        st.sampled_from(
            [
                "/",
                "/x",
                "/no/such/path",
                "/fuzz-bucket",
                "/fuzz-bucket/key?tagging",
                "/%ff%00",
                "/?Action=Bogus",
            ]
        )
    )
    return method, path, headers, body


@pytest.mark.parametrize("wire", ["serve"], indirect=True)  # moto's answers are the server's
@settings(
    max_examples=EXAMPLES * 3,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=moto_requests())
def test_no_request_to_moto_gets_a_5xx_or_an_empty_refusal(wire: Wire, request: Any) -> None:
    """What moto answers unshaped (an empty 404, an HTML page, an exception) reaches the
    client AWS-shaped, never as a 5xx, except a 501 for an operation moto does not
    implement; a HEAD answer alone has no body."""
    method, path, headers, body = request
    started = time.monotonic()
    answer = wire.send(method, path, body, headers=headers, signed=False)
    assert time.monotonic() - started < MAX_SECONDS_PER_REQUEST, "no hang"
    assert answer is not None
    if answer.status >= 500:
        assert answer.status == 501 and b"NotImplemented" in answer.body, (
            answer.status,
            answer.body[:300],
            request,
        )
    if answer.status >= 400:
        assert answer.body.strip(), (answer.status, request)
        assert b"<html" not in answer.body[:200].lower(), (answer.body[:200], request)
        if answer.body.lstrip().startswith(b"{"):
            shaped = json.loads(answer.body)
            assert shaped.get("__type") or shaped.get("code") or shaped.get("Code"), shaped
        else:
            assert b"<Code>" in answer.body, (answer.body[:300], request)
