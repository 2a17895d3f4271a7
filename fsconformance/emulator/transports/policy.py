"""Local means local: who may talk to ``serve``, and the address it may listen on.

Only loopback clients, and no web page: a foreign Host (DNS rebinding), a browser's
cross-origin request and a page's call of moto's management endpoints are refused with
AWS-shaped errors, and CORS headers are given only to the origins named with
``--cors-origin``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ...model.errors import ServiceError
from ..wire import WireResponse, json_error


def refusal(status: int, code: str, message: str) -> WireResponse:
    return json_error(ServiceError(code, message, status), "application/json")


def is_loopback_host(host: str) -> bool:
    """Whether a Host header's name (port removed) is a loopback address or name."""
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1:].partition("]")[0]
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    if name == "localhost" or name.endswith(".localhost"):  # RFC 6761: always loopback
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class LocalPolicy:
    """Who may talk to the server: loopback clients only, and no web page.

    ``hosts`` are the Host values it answers besides loopback names (its own address);
    ``cors_origins`` the browser origins it gives cross-origin access to (none by default).
    """

    hosts: frozenset[str] = frozenset()
    cors_origins: frozenset[str] = frozenset()

    def refusal(self, environ: dict[str, Any]) -> WireResponse | None:
        """The AWS-shaped refusal of a request the server must not answer, else ``None``."""
        length = environ.get("CONTENT_LENGTH")
        if length and not (length.isascii() and length.isdigit()):
            return refusal(
                400, "SerializationException", "Content-Length must be a non-negative integer."
            )
        host = environ.get("HTTP_HOST", "")
        if host and host.lower() not in self.hosts and not is_loopback_host(host):
            # DNS rebinding: a page's own name resolving to this address.
            return refusal(
                403, "AccessDeniedException", "This server answers only its own loopback address."
            )
        origin = environ.get("HTTP_ORIGIN")
        fetch_site = environ.get("HTTP_SEC_FETCH_SITE", "").lower()
        own_page = origin is not None and origin.lower() in self.own_origins
        if origin is not None and not own_page and origin not in self.cors_origins:
            return refusal(
                403, "AccessDeniedException", "Requests from web pages are not answered."
            )
        if fetch_site in ("cross-site", "same-site") and origin not in self.cors_origins:
            return refusal(
                403, "AccessDeniedException", "Requests from web pages are not answered."
            )
        if environ.get("PATH_INFO", "").startswith("/moto-api/"):
            method = environ.get("REQUEST_METHOD", "GET")
            browser = origin is not None or fetch_site not in ("", "none", "same-origin")
            changes = method not in ("GET", "HEAD") and (
                origin is not None or fetch_site not in ("", "none")
            )
            if browser or changes:
                # moto's management endpoints (reset, state): for programs, never for a page.
                return refusal(
                    403,
                    "AccessDeniedException",
                    "moto's management endpoints take no request from a web page.",
                )
        return None

    @property
    def own_origins(self) -> frozenset[str]:
        return frozenset(f"http://{host}" for host in self.hosts if ":" in host)

    def cors_headers(self, environ: dict[str, Any], headers: list[tuple[str, str]]) -> list:
        """``headers`` without moto's CORS answers, plus ours for an allowed origin."""
        kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and origin in self.cors_origins:
            kept.append(("Access-Control-Allow-Origin", origin))
            kept.append(("Vary", "Origin"))
            if environ.get("REQUEST_METHOD") == "OPTIONS":
                kept.append(("Access-Control-Allow-Methods", "GET, PUT, POST, DELETE, HEAD"))
                asked = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
                if asked:
                    kept.append(("Access-Control-Allow-Headers", asked))
            kept.append(("Access-Control-Expose-Headers", "x-amzn-RequestId, x-amzn-ErrorType"))
        return kept


def require_loopback(host: str) -> None:
    """Refuse any address that is not a loopback one: the emulation never listens outside."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ValueError(f"{host} is not a loopback address; the server binds only 127.0.0.1/::1")
