"""Wire formats: the request and response as bytes, and AWS's JSON protocol details."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.model import Shape

from ..model.errors import ServiceError

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


def json_response(payload: Mapping[str, Any], content_type: str) -> WireResponse:
    return WireResponse(
        200,
        json.dumps(payload).encode() if payload else b"{}",
        {"Content-Type": content_type, "x-amzn-RequestId": request_id()},
    )


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


def epoch_seconds(value: Any) -> float:
    """A timestamp member as epoch seconds: numbers as sent by botocore, or ISO-8601 text."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return float(value)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


def normalise_timestamps(shape: Shape | None, params: dict[str, Any]) -> None:
    """Turn the top-level timestamp members of a request into epoch seconds, in place."""
    if shape is None:
        return
    for name, member in shape.members.items():
        if member.type_name == "timestamp" and params.get(name) is not None:
            try:
                params[name] = epoch_seconds(params[name])
            except ValueError:
                raise ServiceError(
                    "ValidationException", f"Value '{params[name]}' for {name} is not a timestamp."
                ) from None
