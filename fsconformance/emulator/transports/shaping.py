"""AWS-shaped answers where moto gives none: its empty 404s, its HTML pages, its exceptions.

moto answers a request that names no operation it knows with an empty 404, a path no service
of it routes with werkzeug's HTML 404 page, and a request it cannot parse (no target and no
signature, a body without ``Action``) with an exception, which werkzeug turns into an HTML
500 page that botocore then retries. A client sees no error code in any of them. The server
answers each as AWS answers such requests: a 4xx whose body names the error and says why, in
the protocol the request itself used (the JSON protocols' ``__type`` and ``message``, the
query protocol's ``ErrorResponse``, S3's ``Error``), and logs it. An operation the service
model has but moto does not implement is a 501 ``NotImplemented``, which clients do not
retry; a bad request is never answered with a 5xx.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable
from xml.sax.saxutils import escape

from ...model.shapes import service_model
from .. import moto_seam
from ..wire import WireRequest, WireResponse, request_id

JSON_CONTENT = "application/x-amz-json-1.1"
# S3's and the REST services' error codes by status, for an answer moto left without one.
_REST_CODES = {
    400: "InvalidRequest",
    403: "AccessDenied",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    411: "MissingContentLength",
    412: "PreconditionFailed",
    413: "EntityTooLarge",
    416: "InvalidRange",
}


def unshaped(method: str, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> bool:
    """Whether an error answer of moto's carries nothing a client can read as an AWS error:
    no body, or an HTML page. A HEAD answer has no body by definition."""
    if status < 400 or method == "HEAD":
        return False
    if not body.strip():
        return True
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    return "html" in content_type.lower() or body.lstrip()[:15].lower().startswith(
        (b"<!doctype html", b"<html")
    )


def _protocol(request: WireRequest) -> str:
    """The request's own protocol: ``json``, ``query`` (form-encoded ``Action``) or ``rest``;
    what the request does not say, the service model of the service it is signed for does."""
    content_type = (request.header("Content-Type") or "").lower()
    if request.header("X-Amz-Target") is not None or "json" in content_type:
        return "json"
    if "x-www-form-urlencoded" in content_type or "Action=" in request.url:
        return "query"
    service = request.scope().service
    if service:
        try:
            protocol = service_model(service).metadata.get("protocol", "")
        except Exception:  # noqa: BLE001 - a signing name no model is known by
            protocol = ""
        if protocol in ("query", "ec2"):
            return "query"
        if "json" in protocol:
            return "json"
    return "rest"


def _action(request: WireRequest) -> str | None:
    query = urllib.parse.urlsplit(request.url).query
    found = urllib.parse.parse_qs(query).get("Action")
    if not found:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        found = urllib.parse.parse_qs(text).get("Action")
    return found[0] if found else None


def _known_operation(request: WireRequest, operation: str) -> bool:
    """Whether the service the request is signed for has ``operation`` in its model."""
    service = request.scope().service
    if not service:
        return False
    try:
        return operation in service_model(service).operation_names
    except Exception:  # noqa: BLE001 - no model of that name: nothing to know it by
        return False


def moto_failure(
    request: WireRequest, status: int | None, error: BaseException | None
) -> WireResponse:
    """The AWS-shaped answer to a request moto failed (``error``) or answered unshaped."""
    protocol = _protocol(request)
    # What moto raised, named so a moto bug on a good request can be told from a bad one.
    failed = f" (moto raised {type(error).__name__})" if error is not None else ""
    target = request.header("X-Amz-Target") or ""
    operation = target.rpartition(".")[2] if protocol == "json" else _action(request)
    unimplemented = isinstance(error, NotImplementedError) or (
        error is None and status is not None and status >= 500
    )
    if unimplemented and operation and _known_operation(request, operation):
        return _shaped(
            request,
            protocol,
            501,
            "NotImplemented",
            f"moto {moto_seam.moto_version()} does not implement {operation}.",
        )
    if protocol == "json":
        if not target:
            return _shaped(
                request,
                protocol,
                400,
                "UnknownOperationException",
                "The request names no operation (it has no X-Amz-Target header).",
            )
        if error is not None and operation and _known_operation(request, operation):
            return _shaped(
                request,
                protocol,
                400,
                "SerializationException",
                f"The request could not be read as {operation}'s input{failed}.",
            )
        return _shaped(
            request, protocol, 400, "UnknownOperationException", f"Unknown operation: {target}"
        )
    if protocol == "query":
        if not operation:
            return _shaped(request, protocol, 400, "MissingAction", "The request names no Action.")
        if error is not None and _known_operation(request, operation):
            return _shaped(
                request,
                protocol,
                400,
                "MalformedInput",
                f"The request could not be read as {operation}'s input{failed}.",
            )
        return _shaped(
            request,
            protocol,
            400,
            "InvalidAction",
            f"The action {operation} is not valid for this web service.",
        )
    if request.scope().service is None:
        return _shaped(
            request,
            protocol,
            400,
            "InvalidRequest",
            "The request names no service: it has no SigV4 credential scope, X-Amz-Target "
            "header or AWS host name.",
        )
    if error is not None or status is None or status >= 500:
        return _shaped(
            request, protocol, 400, "InvalidRequest", f"The request could not be processed{failed}."
        )
    return _shaped(
        request,
        protocol,
        status,
        _REST_CODES.get(status, "InvalidRequest"),
        "No such resource or operation." if status == 404 else "The request was refused.",
    )


def error(request: WireRequest, status: int, code: str, message: str) -> WireResponse:
    """An error answer to ``request`` in the protocol it speaks (XML for S3)."""
    return _shaped(request, _protocol(request), status, code, message)


def _shaped(
    request: WireRequest, protocol: str, status: int, code: str, message: str
) -> WireResponse:
    identifier = request_id()
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message, "Message": message}).encode()
        return WireResponse(
            status,
            body,
            {
                "Content-Type": JSON_CONTENT,
                "x-amzn-ErrorType": code,
                "x-amzn-RequestId": identifier,
            },
        )
    if protocol == "query":
        text = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{identifier}</RequestId></ErrorResponse>"
        )
        return WireResponse(
            status, text.encode(), {"Content-Type": "text/xml", "x-amzn-RequestId": identifier}
        )
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{identifier}</RequestId></Error>"
    )
    return WireResponse(
        status,
        text.encode(),
        {"Content-Type": "application/xml", "x-amz-request-id": identifier},
    )
