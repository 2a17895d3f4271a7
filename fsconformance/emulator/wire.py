"""Wire formats: the request and response as bytes, and AWS's JSON protocol details."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
import uuid
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

    @property
    def body(self) -> bytes:
        if callable(self.read_body):
            self.read_body = self.read_body()
        return self.read_body

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None

    def scope(self) -> Scope:
        """The signing scope: from the SigV4 credential, else from an AWS host name."""
        credential = self.header("Authorization") or ""
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
        if not self.body:
            return {}
        try:
            body = json.loads(self.body)
        except ValueError:
            raise ServiceError(
                "SerializationException", "The request body is not valid JSON."
            ) from None
        if not isinstance(body, dict):
            raise ServiceError("SerializationException", "The request body must be a JSON object.")
        return body


@dataclass
class WireResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def json_response(payload: Mapping[str, Any], content_type: str) -> WireResponse:
    return WireResponse(
        200,
        json.dumps(payload).encode(),
        {"Content-Type": content_type, "x-amzn-RequestId": str(uuid.uuid4())},
    )


def json_error(error: ServiceError, content_type: str) -> WireResponse:
    body = {"__type": error.code, "message": error.message, "Message": error.message}
    return WireResponse(
        error.status,
        json.dumps(body).encode(),
        {
            "Content-Type": content_type,
            "x-amzn-ErrorType": error.code,
            "x-amzn-RequestId": str(uuid.uuid4()),
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
