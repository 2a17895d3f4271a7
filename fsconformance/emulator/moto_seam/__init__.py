"""The one place that imports moto (moto has no plugin API; pyproject pins the range).

Everything the emulation needs from moto goes through this package: here the per-account
registry moto resets, the hook in front of moto's in-process request stubber, moto's server
application, moto's own handlers called by name, and moto's instance tracker; in ``stores``
the Glue, S3 and KMS backends the offline store and Athena read and write; in ``replay`` the
routing of moto's clock and random draws for a journal's replay; in ``s3_listing`` S3's
ListObjectsV2 made cheap (the same pages and bytes as moto's). A private access that changes
between moto releases is fixed here and only here.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import moto
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.base_backend import BackendDict, BaseBackend

from .replay import next_seed, route_clock, route_randomness
from .s3_listing import answer_listings_directly
from .stores import (
    StoredObject,
    fold_glue_names,
    glue_create_table,
    glue_database,
    glue_database_exists,
    glue_database_names,
    glue_delete_table,
    glue_ensure_database,
    glue_table,
    glue_table_input,
    glue_table_names,
    glue_update_table,
    kms_create_grant,
    kms_key_arn,
    kms_retire_grants,
    s3_bucket_exists,
    s3_delete,
    s3_get,
    s3_objects,
    s3_put,
    s3_read,
)

__all__ = [
    "BaseBackend",
    "mock_aws",
    "moto_version",
    "next_seed",
    "route_clock",
    "route_randomness",
    "StoredObject",
    "fold_glue_names",
    "glue_create_table",
    "glue_database",
    "glue_database_exists",
    "glue_database_names",
    "glue_delete_table",
    "glue_ensure_database",
    "glue_table",
    "glue_table_input",
    "glue_table_names",
    "glue_update_table",
    "kms_create_grant",
    "kms_key_arn",
    "kms_retire_grants",
    "s3_bucket_exists",
    "s3_delete",
    "s3_get",
    "s3_objects",
    "s3_put",
    "s3_read",
]

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
        _adjust_moto(True)
        original = BotocoreStubber.process_request
        _original_process_request = original

        def process_request(self: BotocoreStubber, request: Any) -> Any:
            response = answer(request)
            return response if response is not None else original(self, request)

        BotocoreStubber.process_request = process_request  # type: ignore[method-assign]


_adjustment_lock = threading.Lock()
_adjustment_users = 0


def _adjust_moto(on: bool) -> None:
    """Count one more (``on``) or one fewer user of the emulation's adjustments to moto, in
    force while there is any (a request hook installed, or a server app made in this
    process): Glue finds names in any case, and S3 lists without walking the whole bucket or
    moto's generic serializer (the same pages and bytes). Once there is none, moto is as it
    shipped."""
    global _adjustment_users
    with _adjustment_lock:
        _adjustment_users = max(0, _adjustment_users + (1 if on else -1))
        fold_glue_names(_adjustment_users > 0)
        answer_listings_directly(_adjustment_users > 0)


def _share_model_loader() -> None:
    """Give moto's botocore session the emulation's model loader, so each service model is
    parsed once per process: moto reads a service's whole model to list its regions when it
    first makes that service's backend (SageMaker's alone takes about 0.16 s to parse)."""
    from moto.core.base_backend import AccountSpecificBackend

    from ...model.shapes import data_loader

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
            _adjust_moto(False)


def request_hook_installed() -> bool:
    return _hook_users > 0


def server_app() -> Callable[..., Any]:
    """moto's own server WSGI application (every service, dispatched by host and path)."""
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    _share_model_loader()
    _adjust_moto(True)
    # The dispatcher lists moto's package folders (a listdir, and a stat for each) on every
    # request, while it holds its one lock; they do not change while the process runs.
    if backends.list_of_moto_modules.__module__ != __name__:
        folders = frozenset(backends.list_of_moto_modules())

        def list_of_moto_modules() -> frozenset[str]:
            return folders

        backends.list_of_moto_modules = list_of_moto_modules
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
