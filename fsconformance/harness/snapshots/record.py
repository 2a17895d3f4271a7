"""Capture each test's requests and responses from the boto3 clients a backend creates.

``Recorder.attach(client)`` registers botocore event handlers on one client: the API
parameters at ``before-parameter-build``, the answer at ``after-call`` (status, body, error code
and message). Calls a handler makes while another call of the same thread is in flight (the aws
backend's own Describe after a create, its slot bookkeeping) are the backend's, not the test's,
and are left out. Nothing outside the parsed request parameters and responses is kept: no
headers, so no Authorization, keys or session tokens.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from pathlib import Path
from typing import Any

from botocore.client import BaseClient

from . import FORMAT
from .normalise import Normaliser, compact

MANIFEST = "SNAPSHOTS.json"
PROJECT = "fsconformance"


class SnapshotError(Exception):
    """A snapshot file or directory that cannot be used; the message is one line naming it."""


class Recorder:
    """The exchanges of the current test, gathered from every attached client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.active = False
        self.normaliser = Normaliser()
        self.exchanges: list[dict[str, Any]] = []
        self._attached: set[int] = set()

    def begin(self, normaliser: Normaliser) -> None:
        with self._lock:
            self.normaliser = normaliser
            self.exchanges = []
            self.active = True

    def end(self) -> list[dict[str, Any]]:
        """The test's exchanges; a request repeated (a poll) keeps its last answer and a count."""
        with self._lock:
            self.active = False
            exchanges, self.exchanges = self.exchanges, []
        last: dict[str, dict[str, Any]] = {}
        for exchange in exchanges:
            key = json.dumps(
                [exchange["service"], exchange["operation"], exchange["request"]], sort_keys=True
            )
            calls = last[key]["calls"] + 1 if key in last else 1
            last[key] = {**exchange, "calls": calls}
        return list(last.values())

    # -- botocore handlers --------------------------------------------------------------------

    def attach(self, client: BaseClient) -> None:
        if id(client) in self._attached:
            return
        self._attached.add(id(client))
        events = client.meta.events
        events.register_first("before-parameter-build", self._params)
        events.register_first("before-call", self._enter)
        events.register_last("after-call", self._answered)
        events.register_last("after-call-error", self._failed)

    def _depth(self) -> int:
        return getattr(self._local, "depth", 0)

    def _params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fsconformance_params"] = params  # read once answered, after every handler

    def _enter(self, context: dict[str, Any], **_: Any) -> None:
        context["fsconformance_nested"] = self._depth() > 0
        self._local.depth = self._depth() + 1

    def _leave(self) -> None:
        self._local.depth = max(0, self._depth() - 1)

    def _answered(
        self,
        http_response: Any,
        parsed: dict[str, Any],
        model: Any,
        context: dict[str, Any],
        **_: Any,
    ) -> None:
        self._leave()
        if not self.active or context.get("fsconformance_nested"):
            return
        error = parsed.get("Error") if isinstance(parsed, dict) else None
        with self._lock:
            n = self.normaliser
            exchange: dict[str, Any] = {
                "service": model.service_model.service_name,
                "operation": model.name,
                "request": compact(n.value(context.get("fsconformance_params") or {})),
                "status": int(getattr(http_response, "status_code", 0)),
            }
            if error:
                exchange["error"] = {
                    "Code": n.text(str(error.get("Code", ""))),
                    "Message": n.text(str(error.get("Message", ""))),
                }
            else:
                exchange["response"] = n.value(
                    {k: v for k, v in (parsed or {}).items() if k != "Error"}
                )
            self.exchanges.append(exchange)

    def _failed(self, context: dict[str, Any], **_: Any) -> None:
        self._leave()  # a transport error: nothing answered, nothing to keep


# -- files ------------------------------------------------------------------------------------


def snapshot_path(directory: Path, nodeid: str) -> Path:
    """``suites/test_x.py::test_y[a-b]`` -> ``<directory>/test_x/test_y[a-b].json``."""
    module, _, rest = nodeid.partition("::")
    stem = Path(module).stem
    name = re.sub(r"[^A-Za-z0-9_.\[\]=-]", "_", rest.replace("::", "."))
    return directory / stem / f"{name}.json"


def write_manifest(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MANIFEST
    if not path.exists():
        path.write_text(json.dumps({"project": PROJECT, "format": FORMAT}, indent=2) + "\n")


def check_manifest(directory: Path) -> None:
    """Refuse a directory that is not this project's snapshot format (one line naming it)."""
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"{path}: missing; not a snapshot directory") from None
    except (OSError, ValueError) as error:
        raise SnapshotError(f"{path}: unreadable ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("project") != PROJECT:
        raise SnapshotError(f"{path}: not an fsconformance snapshot directory")
    if manifest.get("format") != FORMAT:
        raise SnapshotError(
            f"{path}: snapshot format {manifest.get('format')!r}, this version reads {FORMAT}; "
            "record the snapshots again"
        )


def write_snapshot(
    directory: Path,
    nodeid: str,
    exchanges: list[dict[str, Any]],
    observations: list[dict[str, Any]],
    *,
    backend: str,
    region: str,
    botocore_version: str,
    target: str = "aws",
) -> Path:
    """Write one test's snapshot; ``target`` is ``aws``, or ``endpoint`` when the run went to
    ``--endpoint-url`` (a local emulation: its observations are not AWS's)."""
    path = snapshot_path(directory, nodeid)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "format": FORMAT,
        "nodeid": nodeid,
        "recorded": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d"),
        "backend": backend,
        "region": region,
        "target": target,
        "botocore": botocore_version,
        "observations": observations,
        "exchanges": exchanges,
    }
    path.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    return path


def read_snapshot(path: Path) -> dict[str, Any]:
    """A snapshot file, or ``SnapshotError`` with one line naming it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"{path}: no snapshot recorded for this test") from None
    except (OSError, ValueError) as error:
        raise SnapshotError(f"{path}: corrupted ({error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("exchanges"), list):
        raise SnapshotError(f"{path}: corrupted (no list of exchanges)")
    if document.get("format") != FORMAT:
        raise SnapshotError(
            f"{path}: snapshot format {document.get('format')!r}, this version reads {FORMAT}"
        )
    return document
