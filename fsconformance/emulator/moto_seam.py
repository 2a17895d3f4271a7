"""The one module that imports moto (moto has no plugin API; pyproject pins the range).

Everything the emulation needs from moto goes through here: the per-account registry moto
resets, the hook in front of moto's in-process request stubber, moto's server application,
the Glue and S3 backends the offline store and Athena read and write, and the KMS keys a group
is encrypted with. A private access that changes between moto releases is fixed here and only
here.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import moto
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.base_backend import BackendDict, BaseBackend

__all__ = ["BaseBackend", "mock_aws", "moto_version"]

B = TypeVar("B", bound=BaseBackend)


def moto_version() -> str:
    return moto.__version__


def registry(backend: type[B]) -> BackendDict[B]:
    """A per-account, per-region store of ``backend`` that moto wipes whenever it resets
    (start and stop of ``mock_aws``, or the server's reset endpoint)."""
    return BackendDict(backend, "sagemaker")


def registry_get(states: BackendDict[B], account_id: str, region: str) -> B:
    """``states[account_id][region]``, without moto's locked creation path once it exists.

    Both levels are dicts; moto's ``__getitem__`` takes its backend lock and re-registers the
    store on every lookup. A reset empties them (and unregisters the store), so a miss falls
    back to moto's path, which creates and registers again.
    """
    account = dict.get(states, account_id)
    if account is not None:
        found = dict.get(account, region)
        if found is not None:
            return found
    return states[account_id][region]


def registry_values(states: BackendDict[B], kind: type[B]) -> list[B]:
    """Every state in ``states`` now, across accounts and regions, creating none."""
    found: list[B] = []
    for account in list(dict.values(states)):
        found.extend(s for s in list(dict.values(account)) if isinstance(s, kind))
    return found


# os.environ's own lookup raises and catches a KeyError for an unset variable, as this one is
# on nearly every request; its backing dict (which every change to os.environ updates)
# answers the same question several times faster.
_ACCOUNT_VARIABLE = os.environ.encodekey("MOTO_ACCOUNT_ID")
_iam_backends: Any = None


def account_id_for(account_header: str | None, access_key: str | None) -> str:
    """The account moto would attribute a request to (same order of precedence as moto),
    given its ``x-moto-account-id`` header and its access key."""
    global _iam_backends
    from_environment = os.environ._data.get(_ACCOUNT_VARIABLE)  # type: ignore[attr-defined]
    if from_environment is not None:
        return os.environ.decodevalue(from_environment)
    if account_header is not None:
        return account_header
    if _iam_backends is None:
        from moto.iam.models import iam_backends

        _iam_backends = iam_backends
    # moto's get_account_id_from, reading the IAM backends that exist rather than through
    # moto's locked lookups, which make one per partition (an IAM backend holds no key before
    # it exists); this runs on every request.
    if access_key:
        for account_id, account in list(dict.items(_iam_backends)):
            for backend in list(dict.values(account)):
                if access_key in backend.access_keys:
                    return account_id
    return DEFAULT_ACCOUNT_ID


# -- the in-process hook --------------------------------------------------------------------

Answer = Callable[[Any], "tuple[int, dict[str, str], bytes] | None"]
_hook_lock = threading.Lock()
_hook_users = 0
_original_process_request: Any = None


def install_request_hook(answer: Answer) -> None:
    """Let ``answer`` see every request moto's in-process stubber gets, before moto does.

    Counted: each call needs one ``remove_request_hook``; the last removal restores moto's
    stubber exactly as it was, so nothing of ours stays in the process once mocks stop.
    """
    global _hook_users, _original_process_request
    from moto.core.botocore_stubber import BotocoreStubber

    with _hook_lock:
        _hook_users += 1
        if _hook_users > 1:
            return
        _share_model_loader()
        _fold_glue_names(True)
        original = BotocoreStubber.process_request
        _original_process_request = original

        def process_request(self: BotocoreStubber, request: Any) -> Any:
            response = answer(request)
            return response if response is not None else original(self, request)

        BotocoreStubber.process_request = process_request  # type: ignore[method-assign]


def _share_model_loader() -> None:
    """Give moto's botocore session the emulation's model loader, so each service model is
    parsed once per process: moto reads a service's whole model to list its regions when it
    first makes that service's backend (SageMaker's alone takes about 0.16 s to parse)."""
    from moto.core.base_backend import AccountSpecificBackend

    from ..model.shapes import data_loader

    session = AccountSpecificBackend.get_session()._session
    loader = data_loader()
    if session.get_component("data_loader") is not loader:
        session.register_component("data_loader", loader)


def remove_request_hook() -> None:
    global _hook_users, _original_process_request
    from moto.core.botocore_stubber import BotocoreStubber

    with _hook_lock:
        if _hook_users == 0:
            return
        _hook_users -= 1
        if _hook_users == 0 and _original_process_request is not None:
            BotocoreStubber.process_request = _original_process_request  # type: ignore[method-assign]
            _original_process_request = None
            _fold_glue_names(False)


def request_hook_installed() -> bool:
    return _hook_users > 0


def server_app() -> Callable[..., Any]:
    """moto's own server WSGI application (every service, dispatched by host and path)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    _share_model_loader()
    _fold_glue_names(True)
    return DomainDispatcherApplication(create_backend_app)


# -- moto's handlers, whatever protocol the installed model gives a service ------------------


def call_json(
    service: str,
    target_prefix: str,
    operation: str,
    params: dict[str, Any],
    account_id: str,
    region: str,
) -> tuple[int, dict[str, Any]] | None:
    """Ask moto's own handler of ``service`` to answer ``operation``, in the ``json`` protocol.

    moto routes a request by the installed botocore model: when that model moves a service to
    another protocol (Athena to ``rest-json`` in botocore 1.44.14), moto's URL patterns and
    router no longer find handlers written for ``json``. The handler is called here by name,
    with a ``json`` request, so it answers whatever the model says. Returns the status and the
    decoded JSON answer, or ``None`` when moto has no handler for the operation.
    """
    from botocore.awsrequest import AWSPreparedRequest
    from moto.core.exceptions import HTTPException
    from moto.core.utils import camelcase_to_underscores

    try:
        urls = importlib.import_module(f"moto.{service}.urls")
    except ImportError:
        return None
    handler_class = next(iter(urls.url_paths.values())).__self__
    if not hasattr(handler_class, camelcase_to_underscores(operation)):
        return None
    url = f"https://{service}.{region}.amazonaws.com/"
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"{target_prefix}.{operation}",
        "x-moto-account-id": account_id,
    }
    request: Any = AWSPreparedRequest("POST", url, headers, json.dumps(params).encode(), False)
    try:
        from moto.core.request import normalize_request  # moto 5.2.2 and later

        request = normalize_request(request)
    except ImportError:
        pass
    handler = handler_class()
    handler._get_action = lambda: operation  # by name: moto's router follows the model
    try:
        status, _, body = handler._dispatch(request, url, request.headers)
    except HTTPException as error:
        status, body = error.code, error.get_body()
    except NotImplementedError:
        return None
    if isinstance(body, bytes):
        body = body.decode()
    try:
        payload = json.loads(body) if body else {}
    except ValueError:
        payload = {"message": str(body)[:500]}
    return int(status), payload if isinstance(payload, dict) else {}


# -- SageMaker's other resources ------------------------------------------------------------


def sagemaker_resource_exists(account_id: str, region: str, arn: str) -> bool:
    """Whether moto's SageMaker holds the resource ``arn`` names (its tag operations fail
    with an internal error for any other ARN)."""
    from moto.sagemaker.models import sagemaker_backends

    try:
        return sagemaker_backends[account_id][region]._get_resource_from_arn(arn) is not None
    except Exception:  # an ARN moto cannot even parse names nothing it holds
        return False


# -- Glue (the offline store's catalog, C-080-C-083) ----------------------------------------


def _glue(account_id: str, region: str) -> Any:
    from moto.glue.models import glue_backends

    return glue_backends[account_id][region]


# Glue folds database and table names to lower case when it stores them, so any spelling
# finds them (an Iceberg group's DataCatalogConfig says "SageMaker_FeatureStore", C-080);
# moto looks names up as given. While the emulation is active (a request hook installed, or a
# server app made in this process), moto's Glue looks a name up as given, then ignoring case.
_glue_originals: dict[str, Any] = {}
_glue_folding_users = 0


def _fold_glue_names(on: bool) -> None:
    """Count one more (``on``) or one fewer user of the folding; patch while there is any."""
    global _glue_folding_users
    from moto.glue.models import GlueBackend

    _glue_folding_users = max(0, _glue_folding_users + (1 if on else -1))
    on = _glue_folding_users > 0
    if on and not _glue_originals:
        get_database, get_table = GlueBackend.get_database, GlueBackend.get_table

        def folded_database(self: Any, database_name: str) -> Any:
            found = _find_ci(self.databases, database_name)
            return found if found is not None else get_database(self, database_name)

        def folded_table(self: Any, database_name: str, table_name: str) -> Any:
            found = _find_ci(self.get_database(database_name).tables, table_name)
            return found if found is not None else get_table(self, database_name, table_name)

        _glue_originals.update(get_database=get_database, get_table=get_table)
        GlueBackend.get_database = folded_database  # type: ignore[method-assign]
        GlueBackend.get_table = folded_table  # type: ignore[method-assign]
    elif not on and _glue_originals:
        for name, original in _glue_originals.items():
            setattr(GlueBackend, name, original)
        _glue_originals.clear()


def glue_ensure_database(account_id: str, region: str, database: str) -> None:
    """Create the Glue database unless it exists in any case; stored lowercased, as Glue does."""
    glue = _glue(account_id, region)
    if _find_ci(glue.databases, database) is None:
        glue.create_database(database.lower(), {"Name": database.lower()})


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


def glue_database(account_id: str, region: str, database: str) -> dict[str, Any] | None:
    """A Glue database as GetDatabase shows it (names case-insensitive, C-083), or ``None``."""
    found = _find_ci(_glue(account_id, region).databases, database)
    return None if found is None else found.as_dict()


def glue_table(account_id: str, region: str, database: str, table: str) -> dict[str, Any] | None:
    """A Glue table's current ``TableInput`` with its name, database and times, or ``None``."""
    found = _find_ci(_glue(account_id, region).databases, database)
    entry = None if found is None else _find_ci(found.tables, table)
    if entry is None:
        return None
    return {
        **entry.get_version(str(entry._current_version)),
        "Name": entry.name,
        "DatabaseName": found.name,
        "CreateTime": entry.created_time,
        "UpdateTime": entry.updated_time or entry.created_time,
    }


def glue_create_table(
    account_id: str, region: str, database: str, table: str, table_input: dict
) -> None:
    """Create a Glue table (the database must exist); an existing table is left alone."""
    glue = _glue(account_id, region)
    found = _find_ci(glue.databases, database)
    if found is None:
        raise KeyError(f"no Glue database {database}")
    if _find_ci(found.tables, table) is None:
        glue.create_table(found.name, table, table_input)


def glue_update_table(
    account_id: str, region: str, database: str, table: str, table_input: dict
) -> None:
    """Replace a Glue table's definition with a new version, as UpdateTable does."""
    found = _find_ci(_glue(account_id, region).databases, database)
    entry = _find_ci(found.tables, table) if found is not None else None
    if entry is None:
        raise KeyError(f"no Glue table {database}.{table}")
    entry.update(table_input)


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


@dataclass(frozen=True)
class StoredObject:
    """One version of an object in moto's S3, as a handle that lives exactly as long as moto
    keeps that version (a weak reference to it tells when it is gone)."""

    handle: Any

    @property
    def etag(self) -> str:
        # moto hashes the body on the first ask and keeps it: only callers that need the
        # ETag pay for it.
        return str(self.handle.etag)


def s3_put(
    account_id: str,
    region: str,
    bucket: str,
    key: str,
    body: bytes,
    *,
    kms_key_id: str | None = None,
) -> StoredObject:
    """Store an object in moto's S3 without a request (no re-entry into the mock).

    With ``kms_key_id`` the object is encrypted SSE-KMS under that key (HeadObject and
    GetObject say ``aws:kms`` and the key); without it, the bucket's default encryption
    applies, as for any PutObject that names none.
    """
    if kms_key_id is None:
        return StoredObject(_s3(account_id, region).put_object(bucket, key, body))
    return StoredObject(
        _s3(account_id, region).put_object(
            bucket, key, body, encryption="aws:kms", kms_key_id=kms_key_id
        )
    )


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
    return s3_read(account_id, region, bucket, key)[0]


def s3_read(account_id: str, region: str, bucket: str, key: str) -> tuple[bytes, StoredObject]:
    """An object's body and the version it was read from; KeyError if there is none."""
    obj = _s3(account_id, region).get_object(bucket, key)
    if obj is None:
        raise KeyError(key)
    return obj.value, StoredObject(obj)


def s3_delete(account_id: str, region: str, bucket: str, key: str) -> None:
    """Remove an object (the Iceberg FileIO's delete); a missing one is not an error."""
    from moto.s3.exceptions import MissingBucket

    with contextlib.suppress(MissingBucket):
        _s3(account_id, region).delete_object(bucket, key)


# -- KMS (the keys a group's stores are encrypted with, C-191) -------------------------------


def _kms(account_id: str, region: str) -> Any:
    from moto.kms.models import kms_backends

    return kms_backends[account_id][region]


def _key_home(account_id: str, region: str, key_id: str) -> tuple[str, str]:
    """The account and region a key lives in: a key or alias ARN names them."""
    parts = key_id.split(":")
    if key_id.startswith("arn:") and len(parts) >= 6 and parts[2] == "kms":
        return parts[4] or account_id, parts[3] or region
    return account_id, region


def kms_key_arn(account_id: str, region: str, key_id: str) -> str | None:
    """The ARN of the key ``key_id`` names (a key id, key ARN, alias or alias ARN), or None if
    moto's KMS has no such key."""
    home = _key_home(account_id, region, key_id)
    try:
        return str(_kms(*home).describe_key(key_id).arn)
    except Exception:  # moto raises its own not-found errors, or KeyError for an unknown alias
        return None


def kms_create_grant(
    account_id: str, region: str, key_id: str, name: str, grantee: str, operations: list[str]
) -> bool:
    """Create a grant on a key unless one of that name exists; False if there is no such key."""
    home = _key_home(account_id, region, key_id)
    kms = _kms(*home)
    try:
        key = kms.describe_key(key_id)
    except Exception:
        return False
    if any(grant.name == name for grant in key.grants.values()):
        return True
    kms.create_grant(key.id, grantee, list(operations), name, {}, grantee)
    return True


def kms_retire_grants(account_id: str, region: str, key_id: str, name: str) -> int:
    """Retire every grant of that name on a key; how many were retired."""
    home = _key_home(account_id, region, key_id)
    kms = _kms(*home)
    try:
        key = kms.describe_key(key_id)
    except Exception:
        return 0
    named = [grant_id for grant_id, grant in key.grants.items() if grant.name == name]
    for grant_id in named:
        kms.retire_grant(key.id, grant_id, "")
    return len(named)


# -- moto's instance tracker ----------------------------------------------------------------

_tracked_at_last_release = 0


def _tracked_lists() -> list[tuple[object, list[Any]]]:
    from moto.core.model_instances import model_data

    found = []
    for models in list(model_data.values()):
        for model in list(models.values()):
            tracked = getattr(model, "instances_tracked", None)
            if isinstance(tracked, list):
                found.append((model, tracked))
    return found


def tracked_model_count() -> int:
    """How many model instances moto's tracker holds, across every service."""
    return sum(len(tracked) for _, tracked in _tracked_lists())


def release_forgotten_models(*, force: bool = False) -> int:
    """Drop moto's tracker references to model instances nothing else holds; the count dropped.

    Every moto model (an S3 ``FakeKey`` with its body buffer, a Glue table, ...) is appended,
    when created, to a class-level list that only moto's reset empties (it feeds the server's
    dashboard). A deleted object therefore stays in memory until the mock stops: every
    create/ingest/delete cycle left its S3 keys and Glue tables behind. An
    instance whose only reference is that list is gone from moto's state; it is released
    here (an S3 key's buffer closed first, as moto's ``dispose`` does). Amortised: without
    ``force`` the lists are walked only once they have grown by 200 instances, or by half
    if that is more, since the last walk.
    """
    global _tracked_at_last_release
    lists = _tracked_lists()
    total = sum(len(tracked) for _, tracked in lists)
    if not force and total < _tracked_at_last_release + max(200, _tracked_at_last_release // 2):
        return 0
    from moto.s3.models import FakeKey

    dropped = 0
    for _ in range(4):  # a released key frees its ACL on the next pass
        dropped_now = 0
        for _, tracked in lists:
            kept = []
            for instance in tracked:
                # References: the list's slot, the loop variable and getrefcount's argument.
                if sys.getrefcount(instance) > 3:
                    kept.append(instance)
                    continue
                if isinstance(instance, FakeKey) and not instance.disposed:
                    instance.dispose()
                dropped_now += 1
            instance = None
            tracked[:] = kept
        dropped += dropped_now
        if not dropped_now:
            break
    _tracked_at_last_release = total - dropped
    return dropped


# -- replayable writes (determinism.py) -----------------------------------------------------

_clock_routed: set[str] = set()
_modules_seen = 0
# The services a data directory journals (docs/durability.md), imported before the clock is
# routed so their first write already reads it; any other service's modules are routed the
# first time ``route_clock`` runs after moto imported them.
_JOURNALED_SERVICE_MODULES = (
    "moto.core.utils",
    "moto.core.responses",
    "moto.s3.models",
    "moto.iam.models",
    "moto.sts.models",
    "moto.glue.models",
    "moto.athena.models",
    "moto.sagemaker.models",
    "moto.moto_api._internal.managed_state_model",
)


def route_randomness(
    current: Callable[[], Any], unseeded: Callable[[], contextlib.AbstractContextManager[None]]
) -> None:
    """Let moto's shared random generator draw from ``current()`` when that gives one.

    moto draws every identifier from one ``random.Random`` (``mock_random``); its every
    method rests on ``random``, ``getrandbits`` and ``randbytes``, which are routed here
    through the instance, so a thread with a generator of its own draws from that one and
    every other thread from moto's as before.

    moto makes a service's backend for an account and region on the first request that
    needs it, and some draw then (IAM gives each of AWS's managed policies an id). Whether
    that first request was a read or a write must not change what a write draws, so a
    backend is made ``unseeded``, outside the thread's generator.
    """
    from moto.core.base_backend import AccountSpecificBackend
    from moto.moto_api._internal import mock_random

    make_region = AccountSpecificBackend.__getitem__
    make_account = BackendDict.__getitem__

    def region_backend(self: AccountSpecificBackend, region_name: str) -> Any:
        found = dict.get(self, "aws" if region_name == "global" else region_name)
        if found is not None:
            return found
        with unseeded():
            return make_region(self, region_name)

    def account_backends(self: BackendDict, account_id: str) -> Any:
        found = dict.get(self, account_id)
        if found is not None:
            return found
        with unseeded():  # an account's backends get a uuid4 of their own
            return make_account(self, account_id)

    AccountSpecificBackend.__getitem__ = region_backend  # type: ignore[method-assign]
    BackendDict.__getitem__ = account_backends  # type: ignore[method-assign]

    base = type(mock_random)

    def random_() -> float:
        rng = current()
        return rng.random() if rng is not None else base.random(mock_random)

    def getrandbits(k: int) -> int:
        rng = current()
        return rng.getrandbits(k) if rng is not None else base.getrandbits(mock_random, k)

    def randbytes(n: int) -> bytes:
        rng = current()
        return rng.randbytes(n) if rng is not None else base.randbytes(mock_random, n)

    # On the instance, where every method of random.Random looks them up.
    vars(mock_random).update(random=random_, getrandbits=getrandbits, randbytes=randbytes)


class _ClockedDatetime:
    """``datetime.datetime`` as moto's modules see it: ``now``, ``utcnow`` and ``today``
    read ``clock`` (None: the real clock); everything else, construction and
    ``isinstance`` included, is the real class's."""

    def __init__(self, real: Any, clock: Callable[[], float | None]) -> None:
        self._real = real
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._real(*args, **kwargs)

    def __instancecheck__(self, instance: Any) -> bool:
        return isinstance(instance, self._real)

    def __subclasscheck__(self, subclass: type) -> bool:
        return issubclass(subclass, self._real)

    def now(self, tz: Any = None) -> Any:
        at = self._clock()
        return self._real.now(tz) if at is None else self._real.fromtimestamp(at, tz)

    def utcnow(self) -> Any:
        import datetime

        at = self._clock()
        moment = self._real.now(datetime.timezone.utc) if at is None else None
        if moment is None:
            moment = self._real.fromtimestamp(at, datetime.timezone.utc)
        return moment.replace(tzinfo=None)

    def today(self) -> Any:
        return self.now()


def route_clock(clock: Callable[[], float | None]) -> None:
    """Make the times moto's modules take read ``clock`` when it holds a moment.

    moto takes the time with ``datetime.datetime.now``/``utcnow`` (through
    ``moto.core.utils.utcnow`` mostly), which no patch of ``time.time`` reaches; each moto
    module's ``datetime`` name (the module or the class) is pointed at a stand-in whose
    ``now`` reads ``clock``. Cheap to call again: only modules imported since are visited.
    """
    import datetime
    import importlib
    import types

    global _modules_seen
    if not _clock_routed:
        for name in _JOURNALED_SERVICE_MODULES:
            importlib.import_module(name)
    if len(sys.modules) == _modules_seen:
        return
    clocked = _ClockedDatetime(datetime.datetime, clock)
    shim = types.ModuleType("datetime")
    shim.__dict__.update(datetime.__dict__)
    shim.datetime = clocked  # type: ignore[attr-defined]
    for name, module in list(sys.modules.items()):
        if name in _clock_routed or not (name == "moto" or name.startswith("moto.")):
            continue
        if module is None:
            continue
        found = getattr(module, "datetime", None)
        if found is datetime:
            module.datetime = shim  # type: ignore[attr-defined]
        elif found is datetime.datetime:
            module.datetime = clocked  # type: ignore[attr-defined]
        _clock_routed.add(name)
    _modules_seen = len(sys.modules)


def next_seed() -> int:
    """The seed of the next journaled write's random draws, from moto's own generator: a
    server seeded through moto's ``/moto-api/seed`` makes the same identifiers run after run."""
    from moto.moto_api._internal import mock_random

    return type(mock_random).getrandbits(mock_random, 63)
