"""moto's S3 ListObjectsV2 answer, written without moto's generic response serializer.

moto's S3 builds a listing as a plain dict and hands it to a serializer that looks every
member up under several spellings and parses every timestamp with dateutil: about 0.2 ms an
object, so a 50-object page of an offline store took 10-20 ms while a PutRecord takes one.
Listing is how every offline reader (Athena's clients, awswrangler, Spark) finds the files.

This writes the same XML, byte for byte, from the same dict, in the member order and with the
timestamp format of the same model; moto still decides what the listing holds. A result with
anything this does not know (a member it has no rule for, a header member, a non-flattened
list) goes to moto's serializer as before. ``tests/emulator/test_s3_listing.py`` holds the
two answers side by side.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

_lock = threading.Lock()
_users = 0
# What S3Response.serialized was before (found through its bases), and whether S3Response
# itself defined it, so the last user leaves the class exactly as it was.
_moto_serialized: Any = None
_defined_on_class = False

_XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# The ISO 8601 spellings datetime.fromisoformat reads exactly as botocore's parser does; any
# other value (an epoch number, a datetime) takes botocore's path, as in moto's serializer.
_ISO_8601 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})\Z")


class _Unknown(Exception):
    """Something the direct writer has no rule for: moto's serializer answers instead."""


def answer_listings_directly(on: bool) -> None:
    """Count one more (``on``) or one fewer user; S3Response writes listings directly while
    there is any, and is exactly as moto shipped it once there is none."""
    global _users, _moto_serialized, _defined_on_class
    from moto.s3.responses import S3Response

    with _lock:
        _users = max(0, _users + (1 if on else -1))
        if _users and _moto_serialized is None:
            moto_serialized = _moto_serialized = S3Response.serialized
            _defined_on_class = "serialized" in S3Response.__dict__

            def serialized(self: Any, action_result: Any) -> Any:
                if self._get_action() == "ListObjectsV2":
                    body = _list_objects_v2(self.boto3_service_name, action_result.result)
                    if body is not None:
                        headers = {"Content-Type": "application/xml", **self.response_headers}
                        return 200, {**headers, "status": 200}, body
                return moto_serialized(self, action_result)

            S3Response.serialized = serialized  # type: ignore[method-assign]
        elif not _users and _moto_serialized is not None:
            if _defined_on_class:
                S3Response.serialized = _moto_serialized  # type: ignore[method-assign]
            else:
                del S3Response.serialized
            _moto_serialized = None


def _list_objects_v2(service: str, result: object) -> bytes | None:
    from moto import settings
    from moto.core.responses import get_service_model
    from moto.core.serialize import S3Serializer, TimestampSerializer

    if settings.PRETTIFY_RESPONSES or not isinstance(result, dict):
        return None
    operation = get_service_model(service).operation_model("ListObjectsV2")
    shape = operation.output_shape
    root, namespace = shape.serialization["resultWrapper"], operation.metadata["xmlNamespace"]
    timestamps = TimestampSerializer(S3Serializer.DEFAULT_TIMESTAMP_FORMAT)
    parts = [_XML_DECLARATION, f'<{root} xmlns="{namespace}">']
    try:
        _members(parts, shape, result, timestamps)
    except _Unknown:
        return None
    parts.append(f"</{root}>")
    return "".join(parts).encode("utf-8")


def _members(parts: list[str], shape: Any, value: Any, timestamps: Any) -> None:
    if not isinstance(value, dict) or not value.keys() <= shape.members.keys():
        raise _Unknown
    for name, member in shape.members.items():
        member_value = value.get(name)
        if member_value is None:
            continue
        if member.serialization.keys() - {"name", "flattened", "timestampFormat"}:
            raise _Unknown  # a header, an attribute, a namespace: moto's serializer knows
        _write(parts, member.serialization.get("name", name), member, member_value, timestamps)


def _write(parts: list[str], name: str, shape: Any, value: Any, timestamps: Any) -> None:
    kind = shape.type_name
    if kind == "structure":
        parts.append(f"<{name}>")
        _members(parts, shape, value, timestamps)
        parts.append(f"</{name}>")
    elif kind == "list":
        if not shape.serialization.get("flattened") or not isinstance(value, list):
            raise _Unknown
        for item in value:
            _write(parts, name, shape.member, item, timestamps)
    else:
        text = escape(_scalar(kind, shape, value, timestamps))
        parts.append(f"<{name}>{text}</{name}>" if text else f"<{name}/>")


def _scalar(kind: str, shape: Any, value: Any, timestamps: Any) -> str:
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return "true" if value else "false"
    if kind in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if kind == "timestamp" and isinstance(value, str) and _ISO_8601.match(value):
        spelling = shape.serialization.get("timestampFormat", timestamps.default_format)
        return getattr(timestamps, f"_timestamp_{spelling.lower()}")(datetime.fromisoformat(value))
    raise _Unknown
