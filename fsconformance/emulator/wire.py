"""The wire: requests and answers as bytes, decoded from and encoded to the protocol of the
installed botocore service model (docs/emulation/protocols.md).

AWS moves services between protocols (Athena went from ``json`` to ``rest-json`` in botocore
1.44.14), so nothing here knows one service's wire shape. A request's protocol is read from the
request: ``smithy-rpc-v2-cbor`` by its ``smithy-protocol`` header or CBOR body, ``json`` by its
``X-Amz-Target``, ``query`` by a form body (answered ``InvalidAction``), else ``rest-json``,
matched on method and path against the operations' URI templates. Whatever the wire, a handler
sees the members as the ``json`` protocol carries them (timestamps as epoch seconds, blobs as
base64 text), and the answer goes back in the request's protocol, errors included. Both
transports decode through here; members that travel as text, in a payload or in CBOR are
converted by ``codecs``.
"""

from __future__ import annotations

import base64
import functools
import json
import random
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from ..model.errors import ServiceError
from ..model.shapes import service_model
from . import codecs, uri_templates

# SigV4: "Credential=<key>/<date>/<region>/<service>/aws4_request", in the Authorization header
# or (presigned URLs) the X-Amz-Credential query parameter.
_SCOPE = re.compile(r"Credential=([^/,\s&]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
# <endpoint prefix>.<region>.amazonaws.com, e.g. featurestore-runtime.sagemaker.us-east-1...
_AWS_HOST = re.compile(r"^(?:[^/]*@)?([a-z0-9.-]+?)\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com")
# The scopes of Authorization headers seen, by the header's text before its first comma.
_SCOPES: dict[str, Scope] = {}
# Endpoint prefixes whose signing name differs from the prefix.
_PREFIX_SERVICE = {"api.sagemaker": "sagemaker", "featurestore-runtime.sagemaker": "sagemaker"}


@dataclass(frozen=True)
class Scope:
    """Who a request is from and which service it is for, as its signature says."""

    access_key: str | None
    region: str
    service: str | None


@dataclass
class WireRequest:
    """A request as bytes. The body is read only when a handler asks for it, so a request
    the emulation does not own reaches moto with its body untouched."""

    method: str
    url: str
    headers: Mapping[str, str]
    read_body: Callable[[], bytes] | bytes = b""
    _lowered: dict[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def body(self) -> bytes:
        if callable(self.read_body):
            self.read_body = self.read_body()
        return self.read_body

    def header(self, name: str) -> str | None:
        """A header by its name, in any case (the first, should one repeat)."""
        if self._lowered is None:
            lowered: dict[str, str] = {}
            for key, value in self.headers.items():
                lowered.setdefault(key.lower(), value)
            self._lowered = lowered
        return self._lowered.get(name.lower())

    def scope(self) -> Scope:
        """The signing scope: from the SigV4 credential, else from an AWS host name."""
        credential = self.header("Authorization") or ""
        # A client signs every request with the same credential scope, the text up to the
        # first comma; only what follows (the signature) changes.
        key = credential.partition(",")[0]
        if "Credential=" not in key:
            return self._scope(credential)
        known = _SCOPES.get(key)
        if known is None:
            known = self._scope(credential)
            if known.access_key is None:
                return known
            if len(_SCOPES) >= 1024:  # bounded: many clients only ever cost a re-parse
                _SCOPES.clear()
            _SCOPES[key] = known
        return known

    def _scope(self, credential: str) -> Scope:
        if "Credential=" not in credential:
            credential = urllib.parse.unquote(urllib.parse.urlsplit(self.url).query)
        match = _SCOPE.search(credential)
        if match:
            return Scope(match.group(1), match.group(2), match.group(3))
        host = _AWS_HOST.match(urllib.parse.urlsplit(self.url).netloc)
        if host:
            prefix = host.group(1)
            return Scope(None, host.group(2), _PREFIX_SERVICE.get(prefix, prefix))
        return Scope(None, "us-east-1", None)

    def json_body(self) -> dict[str, Any]:
        return parse_json_body(self.body)


# A request body nested deeper than this is refused before it is walked (no service shape
# nests anywhere near it; Python's own parser would fail at about a thousand).
MAX_JSON_DEPTH = 64


def parse_json_body(raw: bytes) -> dict[str, Any]:
    """A JSON object from a request body, or AWS's SerializationException.

    The body must be UTF-8 (no lone surrogates, escaped or not), an object, and nested at most
    ``MAX_JSON_DEPTH`` levels.
    """
    if not raw:
        return {}
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
    except UnicodeDecodeError:
        raise _serialization("The request body is not valid UTF-8.") from None
    data = raw if isinstance(raw, bytes) else text.encode("utf-8", "surrogatepass")
    if _nesting(data, text) > MAX_JSON_DEPTH:
        raise _serialization(f"The request body is nested more than {MAX_JSON_DEPTH} levels deep.")
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        raise _serialization("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _serialization("The request body must be a JSON object.")
    if "\\u" in text and _has_surrogate(body):
        raise _serialization("The request body has a string with an unpaired UTF-16 surrogate.")
    return body


def _serialization(message: str) -> ServiceError:
    return ServiceError("SerializationException", message)


_BRACKETS = re.compile(r"[\[\]{}]")
# Every byte but brackets, quotes and backslashes; UTF-8 puts no byte below 0x80 inside a
# multi-byte character, so deleting these leaves a body's structure and nothing else.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"\\')


def _nesting(raw: bytes, text: str) -> int:
    """How deeply brackets nest in ``raw`` (whose text is ``text``) outside its strings; 0 when
    there are too few brackets to matter. The fast path may answer more than the depth, never
    more than ``MAX_JSON_DEPTH``; a body it cannot settle is counted exactly, in ``text``."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return 0
    # Brackets, quotes and backslashes only: a string with none of them inside is now a bare
    # pair of quotes. A string with any keeps a quote here (its opening quote can pair with
    # no neighbour), so with no quote left, what remains is the structure outside strings.
    structure = raw.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' not in structure:
        # Each pass takes away the empty pairs: one level, or two where a "{}" gone leaves a
        # "[]". So p passes bound the depth by 2p. A stray backslash never goes: not JSON.
        passes = 0
        while structure and 2 * passes <= MAX_JSON_DEPTH:
            reduced = structure.replace(b"{}", b"").replace(b"[]", b"")
            if reduced == structure:
                break  # unbalanced: not JSON; the exact count tells a deep one apart
            structure, passes = reduced, passes + 1
        if not structure and 2 * passes <= MAX_JSON_DEPTH:
            return 2 * passes
    return _exact_nesting(text)


def _exact_nesting(text: str) -> int:
    """How deeply brackets nest in ``text``, outside its strings. The strings are cut out
    with ``str`` methods (escaped backslashes, then escaped quotes, then every other piece
    between quotes), so the loop visits only the brackets, not every character."""
    outside = "".join(text.replace("\\\\", "").replace('\\"', "").split('"')[::2])
    depth = deepest = 0
    for bracket in _BRACKETS.findall(outside):
        if bracket in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        else:
            depth -= 1
    return deepest


def _has_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


@dataclass
class WireResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def request_id() -> str:
    """A request id shaped like AWS's (a version-4 UUID). It needs to be unique, not secret:
    ``random`` is reseeded in a forked child and costs a fraction of ``uuid4``'s system call."""
    digits = f"{random.getrandbits(128):032x}"
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-a{digits[17:20]}-{digits[20:]}"


def json_error(error: ServiceError, content_type: str) -> WireResponse:
    body = {"__type": error.code, "message": error.message, "Message": error.message}
    return WireResponse(
        error.status,
        json.dumps(body).encode(),
        {
            "Content-Type": content_type,
            "x-amzn-ErrorType": error.code,
            "x-amzn-RequestId": request_id(),
        },
    )


# -- protocols ----------------------------------------------------------------------------------

JSON = "json"
REST_JSON = "rest-json"
CBOR = "smithy-rpc-v2-cbor"
QUERY = "query"

# Models that stopped naming the ``X-Amz-Target`` prefix when the service moved to another
# protocol; clients built on the older models still send it, and AWS still answers them.
_FORMER_TARGET_PREFIXES = {"athena": "AmazonAthena"}
_CBOR_PATH = re.compile(r"/service/([^/]+)/operation/([^/?]+)$")


@dataclass(frozen=True)
class Call:
    """One request, decoded as far as its operation: which service, operation and protocol."""

    service: str
    operation: str
    protocol: str
    labels: Mapping[str, str]  # rest-json: the URI labels, percent-decoded

    @property
    def model(self) -> OperationModel:
        return service_model(self.service).operation_model(self.operation)


def protocol_of(request: WireRequest) -> str:
    """The wire protocol a request was sent in, from its headers alone."""
    content_type = (request.header("Content-Type") or "").lower()
    cbor = (request.header("smithy-protocol") or "").lower() == "rpc-v2-cbor"
    if cbor or content_type.startswith("application/cbor"):
        return CBOR
    if request.header("X-Amz-Target") is not None:
        return JSON
    if content_type.startswith("application/x-www-form-urlencoded"):
        return QUERY
    return REST_JSON


def unknown_operation(service: str, protocol: str, what: str, status: int = 400) -> ServiceError:
    """AWS's answer to a request that names no operation of the service."""
    model = service_model(service)
    return ServiceError(
        "InvalidAction" if protocol == QUERY else "UnknownOperationException",
        f"{model.metadata.get('serviceId', service)} has no operation for this {protocol} "
        f"request ({what[:200]}); the installed botocore model speaks "
        f"{', '.join(_protocols(model))}.",
        status,
    )


def _protocols(model: ServiceModel) -> list[str]:
    return list(model.metadata.get("protocols") or [model.protocol])


def json_target_prefix(service: str) -> str:
    """The ``X-Amz-Target`` prefix of ``service``'s operations in the ``json`` protocol."""
    found = service_model(service).metadata.get("targetPrefix")
    return found or _FORMER_TARGET_PREFIXES.get(service, service)


def target_prefixes(service: str) -> frozenset[str]:
    """The ``X-Amz-Target`` prefixes a ``json`` request for ``service`` may carry."""
    prefixes = {_FORMER_TARGET_PREFIXES.get(service, "")}
    prefixes.add(service_model(service).metadata.get("targetPrefix") or "")
    return frozenset(prefixes - {""})


def match(service: str, request: WireRequest, protocol: str) -> Call | None:
    """The operation ``request`` calls, or ``None`` when it names none of the service's.

    ``None`` for a ``rest-json`` request also means its path is none of the service's, so
    the caller can tell a foreign API signed with the same name (which is moto's) from a
    wrong method on a known path (``ServiceError``).
    """
    model = service_model(service)
    if protocol == JSON:
        target = request.header("X-Amz-Target") or ""
        prefix, _, operation = target.partition(".")
        if prefix not in target_prefixes(service):
            return None
        if operation not in model.operation_names:
            raise unknown_operation(service, protocol, f"X-Amz-Target {target}")
        return Call(service, operation, protocol, {})
    if protocol == CBOR:
        path = urllib.parse.urlsplit(request.url).path
        found = _CBOR_PATH.search(path)
        if found is None or found[1] not in target_prefixes(service):
            return None
        if found[2] not in model.operation_names:
            raise unknown_operation(service, protocol, f"{request.method} {path}")
        return Call(service, found[2], protocol, {})
    if protocol == QUERY:
        raise unknown_operation(service, protocol, f"{request.method} {request.url}")
    return _rest_routes(service).match(service, request)


# -- rest-json routing --------------------------------------------------------------------------


class _RestRoutes:
    """Every operation's URI template of one service, compiled, most specific first."""

    def __init__(self, model: ServiceModel) -> None:
        routes = []
        if REST_JSON in _protocols(model):  # an RPC model's URIs are all "POST /"
            for name in model.operation_names:
                http = model.operation_model(name).http
                if "requestUri" in http:
                    routes.append(
                        uri_templates.compile_route(
                            name, http.get("method", "POST"), http["requestUri"]
                        )
                    )
        by_method: dict[str, list[tuple[tuple[int, ...], uri_templates.Route]]] = {}
        for rank, route in routes:
            by_method.setdefault(route.method, []).append((rank, route))
        self.by_method = {
            method: [route for _, route in sorted(found, key=lambda pair: pair[0])]
            for method, found in by_method.items()
        }
        # The first segments the service's paths begin with ("FeatureGroup", "workgroups"):
        # a path under one is the service's, even when no operation matches it.
        self.roots = frozenset(
            route.root for found in self.by_method.values() for route in found if route.root
        )

    def match(self, service: str, request: WireRequest) -> Call | None:
        if not self.by_method:
            return None  # an RPC model: no path is an operation's
        url = urllib.parse.urlsplit(request.url)
        found = self._find(request.method, url.path, url.query)
        if found is not None:
            route, labels = found
            return Call(service, route.operation, REST_JSON, labels)
        methods = sorted(m for m in self.by_method if self._find(m, url.path, url.query))
        if methods:
            what = f"{request.method} {url.path}; that path takes {', '.join(methods)}"
            raise unknown_operation(service, REST_JSON, what, 405)
        if url.path.split("/")[1:2] and url.path.split("/")[1] in self.roots:
            raise unknown_operation(service, REST_JSON, f"{request.method} {url.path}", 404)
        return None  # a path of no operation of this service

    def _find(
        self, method: str, path: str, query: str
    ) -> tuple[uri_templates.Route, dict[str, str]] | None:
        for route in self.by_method.get(method, ()):
            hit = route.path.fullmatch(path)
            if hit is None:
                continue
            if route.query and not uri_templates.query_holds(route.query, query):
                continue
            labels = {name: urllib.parse.unquote(hit[group]) for group, name in route.labels}
            return route, labels
        return None


@functools.cache
def _rest_routes(service: str) -> _RestRoutes:
    return _RestRoutes(service_model(service))


# -- members ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Bindings:
    """Where an input or output shape's members travel, worked out once per operation."""

    located: tuple[tuple[str, str, str, Shape], ...]  # (member, location, wire name, shape)
    payload: tuple[str, Shape] | None
    body: frozenset[str]  # members carried in a JSON body

    @functools.cached_property
    def query_names(self) -> frozenset[str]:
        """The query-string parameters the members claim by name."""
        return frozenset(w for _, where, w, _ in self.located if where == "querystring")


def _bindings(shape: Shape | None) -> _Bindings:
    if shape is None:
        return _Bindings((), None, frozenset())
    located, body = [], set()
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        if location:
            wire = member.serialization.get("name", name)
            located.append((name, location, wire, member))
        else:
            body.add(name)
    payload_name = shape.serialization.get("payload")
    payload = (payload_name, shape.members[payload_name]) if payload_name else None
    return _Bindings(tuple(located), payload, frozenset(body))


@functools.cache
def _input_bindings(service: str, operation: str) -> _Bindings:
    return _bindings(service_model(service).operation_model(operation).input_shape)


@functools.cache
def _output_bindings(service: str, operation: str) -> _Bindings:
    return _bindings(service_model(service).operation_model(operation).output_shape)


def params(call: Call, request: WireRequest) -> dict[str, Any]:
    """The request's members, as the ``json`` protocol would carry them."""
    if call.protocol == JSON:
        return request.json_body()
    if call.protocol == CBOR:
        return codecs.from_cbor(request.body)
    bindings = _input_bindings(call.service, call.operation)
    if bindings.payload is not None:
        found = codecs.payload_member(*bindings.payload, request.body, parse_json_body)
    else:
        found = request.json_body()
        for name, *_ in bindings.located:
            found.pop(name, None)  # a bound member is the path's, query's or header's
    if not bindings.located:
        return found
    query: dict[str, list[str]] | None = None
    for name, location, wire, shape in bindings.located:
        if location == "uri":
            if wire in call.labels:
                text = call.labels[wire]
                found[name] = (
                    text if shape.type_name == "string" else codecs.scalar(shape, text, name)
                )
        elif location == "querystring":
            if query is None:
                query = urllib.parse.parse_qs(
                    urllib.parse.urlsplit(request.url).query, keep_blank_values=True
                )
            value = codecs.query_member(shape, wire, query, bindings.query_names, name)
            if value is not None:
                found[name] = value
        elif location == "header":
            sent = request.header(wire)
            if sent is not None:
                found[name] = codecs.header_member(shape, sent, name)
        elif location == "headers":
            prefix = wire.lower()
            found[name] = {
                key[len(prefix) :]: value
                for key, value in request.headers.items()
                if key.lower().startswith(prefix)
            }
    return found


# -- answers ----------------------------------------------------------------------------------


def answer(call: Call, output: Mapping[str, Any], request: WireRequest) -> WireResponse:
    """``output`` (members as the ``json`` protocol carries them) in the call's protocol."""
    if call.protocol == JSON:
        return WireResponse(
            200,
            json.dumps(output).encode() if output else b"{}",
            {"Content-Type": _json_content_type(call.service, request), **_request_id()},
        )
    if call.protocol == CBOR:
        shape = call.model.output_shape
        return WireResponse(200, codecs.to_cbor(output, shape), _cbor_headers())
    bindings = _output_bindings(call.service, call.operation)
    status = int(call.model.http.get("responseCode", 200))
    headers = {"Content-Type": "application/json", **_request_id()}
    if not bindings.located and bindings.payload is None:
        return WireResponse(status, json.dumps(output).encode() if output else b"{}", headers)
    body_members = dict(output)
    for name, location, wire, shape in bindings.located:
        value = body_members.pop(name, None)
        if value is None:
            continue
        if location == "header":
            headers[wire] = codecs.header_text(shape, value)
        elif location == "headers":
            headers.update({f"{wire}{key}": str(text) for key, text in value.items()})
        elif location == "statusCode":
            status = int(value)
    if bindings.payload is None:
        return WireResponse(status, json.dumps(body_members).encode(), headers)
    name, shape = bindings.payload
    value = body_members.get(name)
    if value is None:
        return WireResponse(status, b"", headers)
    if shape.type_name == "blob":
        headers["Content-Type"] = "application/octet-stream"
        return WireResponse(status, base64.b64decode(value), headers)
    if shape.type_name == "string":
        headers["Content-Type"] = "text/plain"
        return WireResponse(status, str(value).encode(), headers)
    return WireResponse(status, json.dumps(value).encode(), headers)


def error(service: str, protocol: str, failure: ServiceError, request: WireRequest) -> WireResponse:
    """``failure`` in the protocol the request came in: status, error code and message."""
    if protocol == CBOR:
        typed = {"__type": f"{_namespace(service)}#{failure.code}", "message": failure.message}
        return WireResponse(failure.status, codecs.to_cbor(typed, None), _cbor_headers())
    if protocol == QUERY:
        xml = codecs.query_error_body(failure.code, failure.message, request_id())
        return WireResponse(failure.status, xml, {"Content-Type": "text/xml"})
    content_type = _json_content_type(service, request) if protocol == JSON else "application/json"
    return json_error(failure, content_type)


def _json_content_type(service: str, request: WireRequest) -> str:
    sent = request.header("Content-Type") or ""
    if sent.startswith("application/x-amz-json-"):
        return sent
    version = service_model(service).metadata.get("jsonVersion") or "1.1"
    return f"application/x-amz-json-{version}"


def _request_id() -> dict[str, str]:
    return {"x-amzn-RequestId": request_id()}


def _namespace(service: str) -> str:
    return service_model(service).metadata.get("targetPrefix") or "com.amazonaws"


def _cbor_headers() -> dict[str, str]:
    return {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor", **_request_id()}
