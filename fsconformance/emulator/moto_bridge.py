"""The one place that touches moto internals (moto has no plugin API; see pyproject's range).

The emulation's state lives in a moto ``BackendDict``, so it is kept per account and region
and is wiped whenever moto resets its own state (start and stop of ``mock_aws``, or the
server's reset endpoint).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend

from ..model.control_plane import ControlPlane, Delays

_settings_lock = threading.Lock()
_delays = Delays.from_env()


def configure(delays: Delays) -> None:
    """Set the emulated delays for feature-group state created from now on."""
    global _delays
    with _settings_lock:
        _delays = delays


def current_delays() -> Delays:
    return _delays


class FeatureStoreState(BaseBackend):
    """Feature Store's state for one account and region."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.lock = threading.RLock()
        self.control_plane = ControlPlane(account_id, region_name, current_delays())


_states: BackendDict[FeatureStoreState] = BackendDict(FeatureStoreState, "sagemaker")


def state_for(account_id: str, region: str) -> FeatureStoreState:
    return _states[account_id][region]


def account_id_for(headers: Mapping[str, str], access_key: str | None) -> str:
    """The account moto would attribute this request to (same order of precedence as moto)."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    for key, value in headers.items():
        if key.lower() == "x-moto-account-id":
            return value
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key or "")


def route_through(answer: Callable[[Any], tuple[int, dict[str, str], bytes] | None]) -> None:
    """Let ``answer`` see every mocked request before moto does (idempotent)."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.process_request
    if getattr(original, "fsconformance_answer", None) is not None:
        return

    def process_request(self: BotocoreStubber, request: Any) -> Any:
        response = answer(request)
        return response if response is not None else original(self, request)

    process_request.fsconformance_answer = answer  # type: ignore[attr-defined]
    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]
