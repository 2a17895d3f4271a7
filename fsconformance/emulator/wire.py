"""Wire formats: the request and response as bytes, and AWS's JSON protocol details."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.model import Shape

from ..model.errors import ServiceError

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/")
_HOST_REGION = re.compile(r"\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com")


@dataclass
class WireRequest:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None

    def access_key_and_region(self) -> tuple[str | None, str]:
        match = _CREDENTIAL.search(self.header("Authorization") or "")
        if match:
            return match.group(1), match.group(2)
        host = _HOST_REGION.search(self.url)
        return None, host.group(1) if host else "us-east-1"

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


def runtime_params(request: WireRequest) -> tuple[str, dict[str, Any]] | None:
    """The Feature Store runtime operation and its members, from a REST-JSON request (C-001)."""
    url = urllib.parse.urlsplit(request.url)
    query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
    if url.path in ("/BatchGetRecord", "/BatchWriteRecord") and request.method == "POST":
        return url.path[1:], request.json_body()
    prefix = "/FeatureGroup/"
    if not url.path.startswith(prefix):
        return None
    # The name is one URI label (an ARN's "/" arrives as %2F); a second label is the operation.
    label, _, suffix = url.path[len(prefix) :].partition("/")
    params: dict[str, Any] = {"FeatureGroupName": urllib.parse.unquote(label)}
    if suffix:
        operation = {"ListRecords": "ListRecords", "Record": "UpdateRecord"}.get(suffix)
        if operation is None or request.method != "POST":
            return None
        params.update(request.json_body())
        return operation, params
    if request.method == "PUT":
        params.update(request.json_body())
        return "PutRecord", params
    for member in (
        "RecordIdentifierValueAsString",
        "EventTime",
        "ExpirationTimeResponse",
        "DeletionMode",
    ):
        if member in query:
            params[member] = query[member][0]
    if request.method == "GET":
        if "FeatureName" in query:
            params["FeatureNames"] = query["FeatureName"]
        return "GetRecord", params
    if request.method == "DELETE":
        if "TargetStores" in query:
            params["TargetStores"] = query["TargetStores"]
        return "DeleteRecord", params
    return None
