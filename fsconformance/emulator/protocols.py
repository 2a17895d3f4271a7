"""Requests decoded, and answers encoded, from the installed botocore service model.

AWS moves services between wire protocols (Athena went from ``json`` to ``rest-json`` in
botocore 1.44.14; many services now list ``smithy-rpc-v2-cbor`` first), so nothing here knows
one service's wire shape. A request's protocol is read from the request itself:

- ``smithy-rpc-v2-cbor``: a ``smithy-protocol: rpc-v2-cbor`` header (or a CBOR body) and the path
  ``.../service/<name>/operation/<operation>``;
- ``json``: an ``X-Amz-Target: <prefix>.<operation>`` header;
- ``query``: a form-encoded body with an ``Action`` (answered only with ``InvalidAction``);
- ``rest-json``: anything else, matched on method and path against the operations' URI
  templates (``http.requestUri``), with members bound to the path, the query string, headers,
  a payload or the JSON body.

Whatever the wire, a handler sees the members as the ``json`` protocol carries them (numbers
as numbers, timestamps as epoch seconds, blobs as base64 text), and its answer goes back in the
protocol the request came in, errors included. The in-process transport and ``serve`` both
decode through here, so they cannot drift apart.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime as dt
import email.utils
import functools
import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from ..model.errors import ServiceError
from ..model.shapes import service_model
from .wire import WireRequest, WireResponse, json_error, parse_json_body, request_id

JSON = "json"
REST_JSON = "rest-json"
CBOR = "smithy-rpc-v2-cbor"
QUERY = "query"

# Models that stopped naming the ``X-Amz-Target`` prefix when the service moved to another
# protocol; clients built on the older models still send it, and AWS still answers them.
_FORMER_TARGET_PREFIXES = {"athena": "AmazonAthena"}
_CBOR_PATH = re.compile(r"/service/([^/]+)/operation/([^/?]+)$")
_LABEL = re.compile(r"\{([^}]+?)(\+?)\}")


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
    if (request.header("smithy-protocol") or "").lower() == "rpc-v2-cbor":
        return CBOR
    content_type = (request.header("Content-Type") or "").lower()
    if content_type.startswith("application/cbor"):
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


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    path: re.Pattern[str]
    labels: tuple[tuple[str, str], ...]  # (regex group, label name)
    query: tuple[tuple[str, str | None], ...]  # literal query members of the URI template
    root: str  # the path's first segment when it is literal, else ""


class _RestRoutes:
    """Every operation's URI template of one service, compiled, most specific first."""

    def __init__(self, model: ServiceModel) -> None:
        routes = []
        if REST_JSON in _protocols(model):  # an RPC model's URIs are all "POST /"
            for name in model.operation_names:
                http = model.operation_model(name).http
                if "requestUri" in http:
                    routes.append(_route(name, http.get("method", "POST"), http["requestUri"]))
        by_method: dict[str, list[tuple[tuple[int, ...], _Route]]] = {}
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

    def _find(self, method: str, path: str, query: str) -> tuple[_Route, dict[str, str]] | None:
        for route in self.by_method.get(method, ()):
            hit = route.path.fullmatch(path)
            if hit is None:
                continue
            if route.query and not _query_holds(route.query, query):
                continue
            labels = {name: urllib.parse.unquote(hit[group]) for group, name in route.labels}
            return route, labels
        return None


def _route(operation: str, method: str, uri: str) -> tuple[tuple[int, ...], _Route]:
    """A compiled URI template and its rank: literal segments first, greedy labels last."""
    path, _, literal_query = uri.partition("?")
    pattern, labels = [], []
    end = 0
    for index, label in enumerate(_LABEL.finditer(path)):
        pattern.append(re.escape(path[end : label.start()]))
        group = f"l{index}"
        pattern.append(f"(?P<{group}>.+)" if label[2] else f"(?P<{group}>[^/]+)")
        labels.append((group, label[1]))
        end = label.end()
    pattern.append(re.escape(path[end:]))
    query = tuple(
        (key, value if sep else None)
        for key, sep, value in (part.partition("=") for part in literal_query.split("&") if part)
    )
    segments = [s for s in path.split("/") if s]
    literal = sum(1 for s in segments if "{" not in s)
    greedy = sum(1 for label in _LABEL.finditer(path) if label[2])
    rank = (-len(query), -literal, greedy, -len(segments))
    root = segments[0] if segments and "{" not in segments[0] else ""
    return rank, _Route(
        operation, method.upper(), re.compile("".join(pattern)), tuple(labels), query, root
    )


def _query_holds(required: tuple[tuple[str, str | None], ...], query: str) -> bool:
    present = urllib.parse.parse_qs(query, keep_blank_values=True)
    return all(
        key in present and (value is None or value in present[key]) for key, value in required
    )


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
        return _from_cbor(request.body)
    bindings = _input_bindings(call.service, call.operation)
    if bindings.payload is not None:
        found = _payload_member(*bindings.payload, request.body)
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
                found[name] = _scalar(shape, call.labels[wire], name)
        elif location == "querystring":
            if query is None:
                query = urllib.parse.parse_qs(
                    urllib.parse.urlsplit(request.url).query, keep_blank_values=True
                )
            value = _query_member(shape, wire, query, bindings, name)
            if value is not None:
                found[name] = value
        elif location == "header":
            text = request.header(wire)
            if text is not None:
                found[name] = _header_member(shape, text, name)
        elif location == "headers":
            prefix = wire.lower()
            found[name] = {
                key[len(prefix) :]: value
                for key, value in request.headers.items()
                if key.lower().startswith(prefix)
            }
    return found


def _payload_member(name: str, shape: Shape, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if shape.type_name == "blob":
        return {name: base64.b64encode(body).decode()}
    if shape.type_name == "string":
        return {name: body.decode("utf-8", "replace")}
    return {name: parse_json_body(body)}


def _query_member(
    shape: Shape, wire: str, query: dict[str, list[str]], bindings: _Bindings, name: str
) -> Any:
    if shape.type_name == "map":  # every query parameter no other member claims
        claimed = {w for _, loc, w, _ in bindings.located if loc == "querystring"}
        return {
            key: values if shape.value.type_name == "list" else values[0]
            for key, values in query.items()
            if key not in claimed
        } or None
    values = query.get(wire)
    if values is None:
        return None
    if shape.type_name == "list":
        return [_scalar(shape.member, value, name) for value in values]
    return _scalar(shape, values[0], name)


def _header_member(shape: Shape, text: str, name: str) -> Any:
    if shape.type_name == "list":
        return [_scalar(shape.member, part.strip(), name) for part in text.split(",")]
    if shape.type_name == "timestamp":
        return _timestamp(text, shape.serialization.get("timestampFormat", "rfc822"), name)
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        try:
            return base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _serialization(name, text) from None
    return _scalar(shape, text, name)


def _scalar(shape: Shape, text: str, name: str) -> Any:
    """A member carried as text in a path, query string or header, as JSON would carry it."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
        if kind == "boolean":
            if text not in ("true", "false"):
                raise ValueError(text)
            return text == "true"
        if kind == "timestamp":
            return _timestamp(text, shape.serialization.get("timestampFormat", "iso8601"), name)
    except ValueError:
        raise _serialization(name, text) from None
    return text


def _timestamp(text: str, form: str, name: str) -> float:
    try:
        if form == "unixTimestamp":
            return float(text)
        if form == "rfc822":
            parsed = email.utils.parsedate_to_datetime(text)
        else:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise _serialization(name, text) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


def _serialization(name: str, text: str) -> ServiceError:
    return ServiceError(
        "SerializationException", f"Value '{text[:100]}' is not valid for the member {name}."
    )


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
        return WireResponse(200, _to_cbor(output, shape), _cbor_headers())
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
            headers[wire] = _header_text(shape, value)
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


def _header_text(shape: Shape, value: Any) -> str:
    if shape.type_name == "list":
        return ",".join(_header_text(shape.member, item) for item in value)
    if shape.type_name == "timestamp":
        form = shape.serialization.get("timestampFormat", "rfc822")
        seconds = float(value)
        if form == "unixTimestamp":
            return str(seconds)
        if form == "iso8601":
            stamp = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
            return stamp.isoformat().replace("+00:00", "Z")
        return email.utils.formatdate(seconds, usegmt=True)
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        return base64.b64encode(str(value).encode()).decode()
    return str(value)


def error(service: str, protocol: str, failure: ServiceError, request: WireRequest) -> WireResponse:
    """``failure`` in the protocol the request came in: status, error code and message."""
    if protocol == CBOR:
        body = {"__type": f"{_namespace(service)}#{failure.code}", "message": failure.message}
        return WireResponse(failure.status, _to_cbor(body, None), _cbor_headers())
    if protocol == QUERY:
        return query_error(failure)
    content_type = _json_content_type(service, request) if protocol == JSON else "application/json"
    return json_error(failure, content_type)


def query_error(failure: ServiceError) -> WireResponse:
    """An error as the ``query`` protocol carries it (XML)."""
    from xml.sax.saxutils import escape

    body = (
        "<ErrorResponse><Error><Type>Sender</Type>"
        f"<Code>{escape(failure.code)}</Code><Message>{escape(failure.message)}</Message>"
        f"</Error><RequestId>{request_id()}</RequestId></ErrorResponse>"
    )
    return WireResponse(failure.status, body.encode(), {"Content-Type": "text/xml"})


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


# -- CBOR -------------------------------------------------------------------------------------


def _cbor_headers() -> dict[str, str]:
    return {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor", **_request_id()}


def _from_cbor(body: bytes) -> dict[str, Any]:
    """A CBOR request body as JSON members: byte strings as base64 text, tagged times as
    epoch seconds."""
    if not body:
        return {}
    import cbor2

    try:
        decoded = cbor2.loads(body)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError):
        raise ServiceError(
            "SerializationException", "The request body is not valid CBOR."
        ) from None
    if not isinstance(decoded, dict):
        raise ServiceError("SerializationException", "The request body must be a CBOR map.")
    return _jsonable(decoded)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        return calendar.timegm(stamp.utctimetuple()) + stamp.microsecond / 1e6
    return value


def _to_cbor(value: Mapping[str, Any], shape: Shape | None) -> bytes:
    import cbor2

    return cbor2.dumps(_cbor_value(dict(value), shape), datetime_as_timestamp=True)


def _cbor_value(value: Any, shape: Shape | None) -> Any:
    """JSON members as CBOR carries them: blobs as byte strings, timestamps tagged (tag 1)."""
    kind = shape.type_name if shape is not None else None
    if isinstance(value, dict):
        if kind == "structure":
            members = shape.members  # type: ignore[union-attr]
            return {k: _cbor_value(v, members.get(k)) for k, v in value.items()}
        inner = shape.value if kind == "map" else None  # type: ignore[union-attr]
        return {k: _cbor_value(v, inner) for k, v in value.items()}
    if isinstance(value, list):
        inner = shape.member if kind == "list" else None  # type: ignore[union-attr]
        return [_cbor_value(item, inner) for item in value]
    if kind == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    if kind == "timestamp" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    return value
