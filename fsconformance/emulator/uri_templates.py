"""The URI templates of ``rest-json`` operations (``http.requestUri``), compiled to patterns.

A label ``{Name}`` is one path segment, ``{Name+}`` the rest of the path; a template's literal
query (``?uploads``, ``?list-type=2``) must be in the request's query string. Templates rank
as Smithy's matching does: literal segments before labels, greedy labels last.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

_LABEL = re.compile(r"\{([^}]+?)(\+?)\}")


@dataclass(frozen=True)
class Route:
    """One operation's URI template, compiled."""

    operation: str
    method: str
    path: re.Pattern[str]
    labels: tuple[tuple[str, str], ...]  # (regex group, label name)
    query: tuple[tuple[str, str | None], ...]  # literal query members of the URI template
    root: str  # the path's first segment when it is literal, else ""


def compile_route(operation: str, method: str, uri: str) -> tuple[tuple[int, ...], Route]:
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
    return rank, Route(
        operation, method.upper(), re.compile("".join(pattern)), tuple(labels), query, root
    )


def query_holds(required: tuple[tuple[str, str | None], ...], query: str) -> bool:
    """Whether the request's query string has a template's literal query members."""
    present = urllib.parse.parse_qs(query, keep_blank_values=True)
    return all(
        key in present and (value is None or value in present[key]) for key, value in required
    )
