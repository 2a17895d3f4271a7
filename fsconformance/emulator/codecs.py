"""Member values where they do not travel as JSON: text in a header or a query string (typed
by the model, timestamps in each of their formats), a payload, a CBOR body (the
smithy-rpc-v2-cbor protocol), and the ``query`` protocol's XML error. ``wire`` hands them here;
nothing here knows a request.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime as dt
import email.utils
from collections.abc import Callable, Mapping
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import Shape

from ..model.errors import ServiceError


def query_member(
    shape: Shape, wire: str, query: dict[str, list[str]], claimed: frozenset[str], name: str
) -> Any:
    """A query-string member: a map takes every parameter no other member ``claimed``."""
    if shape.type_name == "map":
        return {
            key: values if shape.value.type_name == "list" else values[0]
            for key, values in query.items()
            if key not in claimed
        } or None
    values = query.get(wire)
    if values is None:
        return None
    if shape.type_name == "list":
        return [scalar(shape.member, value, name) for value in values]
    return scalar(shape, values[0], name)


def header_member(shape: Shape, text: str, name: str) -> Any:
    if shape.type_name == "list":
        return [scalar(shape.member, part.strip(), name) for part in text.split(",")]
    if shape.type_name == "timestamp":
        return timestamp(text, shape.serialization.get("timestampFormat", "rfc822"), name)
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        try:
            return base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise serialization(name, text) from None
    return scalar(shape, text, name)


def scalar(shape: Shape, text: str, name: str) -> Any:
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
            return timestamp(text, shape.serialization.get("timestampFormat", "iso8601"), name)
    except ValueError:
        raise serialization(name, text) from None
    return text


def timestamp(text: str, form: str, name: str) -> float:
    try:
        if form == "unixTimestamp":
            return float(text)
        if form == "rfc822":
            parsed = email.utils.parsedate_to_datetime(text)
        else:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise serialization(name, text) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


def serialization(name: str, text: str) -> ServiceError:
    return ServiceError(
        "SerializationException", f"Value '{text[:100]}' is not valid for the member {name}."
    )


def payload_member(
    name: str, shape: Shape, body: bytes, parse_json: Callable[[bytes], Any]
) -> dict[str, Any]:
    if not body:
        return {}
    if shape.type_name == "blob":
        return {name: base64.b64encode(body).decode()}
    if shape.type_name == "string":
        return {name: body.decode("utf-8", "replace")}
    return {name: parse_json(body)}


def header_text(shape: Shape, value: Any) -> str:
    if shape.type_name == "list":
        return ",".join(header_text(shape.member, item) for item in value)
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


def query_error_body(code: str, message: str, request_id: str) -> bytes:
    """An error as the ``query`` protocol carries it (XML)."""
    return (
        "<ErrorResponse><Error><Type>Sender</Type>"
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()


# -- CBOR -------------------------------------------------------------------------------------


def from_cbor(body: bytes) -> dict[str, Any]:
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


def to_cbor(value: Mapping[str, Any], shape: Shape | None) -> bytes:
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
