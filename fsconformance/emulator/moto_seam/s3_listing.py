"""moto's S3 ListObjectsV2, made cheap: the page found without walking the whole bucket, and
the answer written without moto's generic response serializer.

Listing is how every offline reader (Athena's clients, awswrangler, Spark) finds the files,
and the offline store adds files all day. moto's S3 visits every key of the bucket, builds
and sorts the whole result and only then cuts the page (about 1.1 us a key: 5.5 ms for a
50-key page of a 5,000-object bucket); its serializer then looks every member up under
several spellings and parses every timestamp with dateutil (about 0.2 ms an object).

Here the bucket's key names are sorted in C, the page starts at a bisection and stops one
key past MaxKeys; moto's own truncation makes the continuation token. The answer is the same
XML, byte for byte, written from the dict moto's S3 built, in the member order and with the
timestamp format of the same model. Anything this does not know (a table bucket, an unknown
continuation token, a member it has no rule for) goes to moto's own code as before.
``tests/emulator/test_s3_listing.py`` holds both side by side.
"""

from __future__ import annotations

import bisect
import itertools
import re
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

# moto's own, while patched: S3Backend.list_objects_v2, S3Response.serialized as found
# through its bases, and whether S3Response itself defined it (so it is left as it was).
_moto: dict[str, Any] = {}

_XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# The ISO 8601 spellings datetime.fromisoformat reads exactly as botocore's parser does; any
# other value (an epoch number, a datetime) leaves the answer to moto's serializer.
_ISO_8601 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})\Z")


class _Unknown(Exception):
    """Something the direct writer has no rule for: moto's serializer answers instead."""


def answer_listings_directly(on: bool) -> None:
    """Patch moto's S3 to list as here (``on``), or leave it exactly as moto shipped it. The
    seam counts the users (``_adjust_moto``)."""
    from moto.s3.models import S3Backend
    from moto.s3.responses import S3Response

    if on and not _moto:
        moto_serialized = S3Response.serialized
        _moto.update(
            listing=S3Backend.list_objects_v2,
            serialized=moto_serialized,
            own_serialized="serialized" in S3Response.__dict__,
        )

        def serialized(self: Any, action_result: Any) -> Any:
            if self._get_action() == "ListObjectsV2":
                body = _list_objects_v2(self.boto3_service_name, action_result.result)
                if body is not None:
                    headers = {"Content-Type": "application/xml", **self.response_headers}
                    return 200, {**headers, "status": 200}, body
            return moto_serialized(self, action_result)

        S3Backend.list_objects_v2 = _list_page  # type: ignore[method-assign]
        S3Response.serialized = serialized  # type: ignore[method-assign]
    elif not on and _moto:
        S3Backend.list_objects_v2 = _moto["listing"]  # type: ignore[method-assign]
        if _moto["own_serialized"]:
            S3Response.serialized = _moto["serialized"]  # type: ignore[method-assign]
        else:
            del S3Response.serialized  # the one its bases define shows again
        _moto.clear()


def _list_page(*args: Any, **kwargs: Any) -> Any:
    """``S3Backend.list_objects_v2`` while patched (moto passes its arguments by name): the
    page ``_page`` finds, else moto's own, in the order and with the quirks of moto's (a
    folder shows even if its only key is deleted)."""
    try:
        found = _page(*args, **kwargs)
    except AttributeError:  # a moto whose internals moved: its own listing answers
        found = None
    return found if found is not None else _moto["listing"](*args, **kwargs)


def _page(
    backend: Any,
    bucket: Any,
    prefix: str | None,
    delimiter: str | None,
    continuation_token: str | None,
    start_after: str | None,
    max_keys: int,
) -> Any:
    """The page by bisection, or None where moto's own listing must answer."""
    from moto.s3.models import FakeBucket, FakeDeleteMarker

    limit = (
        backend._pagination_tokens.get(continuation_token) if continuation_token else start_after
    )
    if type(bucket) is not FakeBucket or (continuation_token and limit is None):
        return None
    prefix = prefix or ""
    keys = bucket.keys
    names = sorted(dict.keys(keys))
    start = bisect.bisect_left(names, prefix)
    if limit:
        start = max(start, bisect.bisect_right(names, limit))
    page: list[Any] = []
    for name in itertools.islice(names, start, None):
        if not name.startswith(prefix):
            break
        rest = name[len(prefix) :]
        if delimiter and delimiter in rest:
            folder = f"{prefix}{rest.split(delimiter)[0]}{delimiter}"
            if (limit and folder <= limit) or (page and page[-1] == folder):
                continue  # moto drops a folder at or before the token; keys of one are adjacent
            page.append(folder)
        else:
            key = keys[name]  # the newest version
            if isinstance(key, FakeDeleteMarker):
                continue
            page.append(key)
        if len(page) > max_keys:
            break
    return backend._truncate_result(page, max_keys)


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
    except (_Unknown, AttributeError):  # AttributeError: a moto whose internals moved
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
