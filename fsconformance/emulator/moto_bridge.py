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
from ..model.records import DataPlane

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
        self.data_plane = DataPlane(self.control_plane)
        # The offline store's bookkeeping and Athena's query executions (emulator-side state).
        from .athena import AthenaState
        from .offline_store import OfflineProgress

        self.offline = OfflineProgress()
        self.athena = AthenaState()


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


def all_states() -> list[FeatureStoreState]:
    """Every Feature Store state that exists now, across accounts and regions (none created)."""
    states: list[FeatureStoreState] = []
    for account in list(dict.values(_states)):
        states.extend(s for s in list(dict.values(account)) if isinstance(s, FeatureStoreState))
    return states


# -- Glue (the offline store's catalog, C-080-C-083) ----------------------------------------


def _glue(account_id: str, region: str) -> Any:
    from moto.glue.models import glue_backends

    return glue_backends[account_id][region]


def glue_ensure_database(account_id: str, region: str, database: str) -> None:
    """Create the Glue database unless it exists."""
    glue = _glue(account_id, region)
    if database not in glue.databases:
        glue.create_database(database, {"Name": database})


def glue_table_input(account_id: str, region: str, database: str, table: str) -> dict | None:
    """The current ``TableInput`` of a Glue table, or ``None`` if there is no such table.

    Names are matched case-insensitively, as Athena does (C-083).
    """
    glue = _glue(account_id, region)
    found = _find_ci(glue.databases, database)
    if found is None:
        return None
    entry = _find_ci(found.tables, table)
    if entry is None:
        return None
    return entry.get_version(str(entry._current_version))


def glue_create_table(
    account_id: str, region: str, database: str, table: str, table_input: dict
) -> None:
    """Create a Glue table (the database must exist); an existing table is left alone."""
    glue = _glue(account_id, region)
    if table not in glue.get_database(database).tables:
        glue.create_table(database, table, table_input)


def glue_update_table(
    account_id: str, region: str, database: str, table: str, table_input: dict
) -> None:
    """Replace a Glue table's definition with a new version, as UpdateTable does."""
    _glue(account_id, region).get_table(database, table).update(table_input)


def glue_database_exists(account_id: str, region: str, database: str) -> bool:
    """Whether a Glue database of that name exists (case-insensitive, C-083)."""
    return _find_ci(_glue(account_id, region).databases, database) is not None


def glue_database_names(account_id: str, region: str) -> list[str]:
    """Every Glue database name, sorted."""
    return sorted(_glue(account_id, region).databases)


def glue_table_names(account_id: str, region: str, database: str) -> list[str]:
    """The table names of a Glue database, sorted; [] if there is no such database."""
    found = _find_ci(_glue(account_id, region).databases, database)
    return sorted(found.tables) if found is not None else []


def glue_delete_table(account_id: str, region: str, database: str, table: str) -> bool:
    """Delete a Glue table (names case-insensitive); False if there was none."""
    glue = _glue(account_id, region)
    for db_name, found in list(glue.databases.items()):
        if db_name.lower() != database.lower():
            continue
        for name in list(found.tables):
            if name.lower() == table.lower():
                glue.delete_table(db_name, name)
                return True
    return False


def _find_ci(mapping: dict[str, Any], name: str) -> Any:
    if name in mapping:
        return mapping[name]
    lowered = name.lower()
    for key, value in mapping.items():
        if key.lower() == lowered:
            return value
    return None


# -- S3 (the offline store's files and Athena's results) ------------------------------------


def _s3(account_id: str, region: str) -> Any:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    return s3_backends[account_id][get_partition(region)]


def s3_bucket_exists(account_id: str, region: str, bucket: str) -> bool:
    from moto.s3.exceptions import MissingBucket

    try:
        _s3(account_id, region).get_bucket(bucket)
    except MissingBucket:
        return False
    return True


def s3_put(account_id: str, region: str, bucket: str, key: str, body: bytes) -> None:
    """Store an object in moto's S3 without a request (no re-entry into the mock)."""
    _s3(account_id, region).put_object(bucket, key, body)


def s3_objects(account_id: str, region: str, bucket: str, prefix: str) -> list[tuple[str, str]]:
    """(key, etag) of every object under ``prefix``, sorted by key; [] if there is no bucket."""
    from moto.s3.exceptions import MissingBucket

    try:
        bucket_obj = _s3(account_id, region).get_bucket(bucket)
    except MissingBucket:
        return []
    found = []
    for name in list(bucket_obj.keys.keys()):
        if name.startswith(prefix):
            key = bucket_obj.keys.get(name)
            if key is not None and not getattr(key, "is_delete_marker", False):
                found.append((name, key.etag))
    return sorted(found)


def s3_get(account_id: str, region: str, bucket: str, key: str) -> bytes:
    obj = _s3(account_id, region).get_object(bucket, key)
    if obj is None:
        raise KeyError(key)
    return obj.value
