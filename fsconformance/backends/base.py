"""The Backend interface every test body talks to: one test, any backend.

A backend gives clients, region, account, unique names, timing budgets and cleanup of what
the test created. Tests never ask which backend they run on.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

from ..model import shapes
from ..waiters import eventually
from .capabilities import FEATURES, require_request

T = TypeVar("T")

SERVICES = ("sagemaker", "sagemaker-featurestore-runtime", "s3", "glue", "athena", "sts", "iam")


# The role Feature Store assumes to write the offline store: trusted by SageMaker alone.
FEATURE_STORE_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


class BackendUnavailable(Exception):
    """The backend cannot run; the message is one line saying why and what to do."""


@dataclass(frozen=True)
class Budgets:
    """How long each wait may take on a backend, in seconds (C-002, appendix 7.1)."""

    create: float
    update: float
    delete: float
    data_plane: float  # until PutRecord accepts features added by an update (C-055)
    poll_interval: float
    max_poll_interval: float
    offline: float = 1200.0  # until offline rows are queryable in Athena (C-060: 15 min + margin)


class Backend:
    """Clients, naming, waiting and cleanup for one backend."""

    name: str = "abstract"
    budgets: Budgets
    # Backend features tests may require (fsconformance.backends.capabilities.FEATURES); a backend
    # lacking one narrows this set, and tests requiring it are reported unsupported.
    capabilities: frozenset[str] = frozenset(FEATURES)
    # The hypothesis settings profile for property and stateful tests (registered in the
    # repository's conftest.py): "moto" runs many examples, "aws" a few.
    hypothesis_profile: str = "moto"

    def __init__(self, region: str) -> None:
        self.region = region
        self.run_id = uuid.uuid4().hex[:6]
        # Only letters and digits, so every name stays valid under the name pattern.
        worker = re.sub(r"[^a-zA-Z0-9]", "", os.environ.get("PYTEST_XDIST_WORKER", "main"))
        self.worker = worker[:8] or "main"
        self._counter = itertools.count(1)
        self._clients: dict[str, BaseClient] = {}
        # Called with every client this backend creates (snapshot recording attaches here).
        self.client_hooks: list[Callable[[BaseClient], None]] = []
        self._created: list[str] = []
        self.account_id = ""
        self.offline_s3_uri = ""
        self.athena_output = ""  # s3:// URI under which Athena writes query results (C-090)
        self.role_arn = ""

    # -- lifecycle, per session and per test ---------------------------------------------

    def start(self) -> None:
        """Prepare the session: credentials, account, offline bucket and role."""

    def stop(self) -> None:
        """End the session."""

    def begin_test(self) -> None:
        self._created = []

    def end_test(self, failed: bool = False) -> list[str]:
        """Clean up after a test (``failed`` if it did not pass); return what was left."""
        return self.cleanup()

    def session_leftovers(self) -> list[str]:
        """What cleanup left behind in the whole run (asked in the controller process)."""
        return []

    def session_kept(self) -> list[str]:
        """Resources kept on purpose for inspection (``--keep-on-failure``)."""
        return []

    def cleanup(self) -> list[str]:
        """Delete every feature group this test created; return the ones left behind."""
        leftovers = []
        for name in reversed(self._created):
            try:
                self.sagemaker.delete_feature_group(FeatureGroupName=name)
            except ClientError as error:
                if error.response["Error"]["Code"] != "ResourceNotFound":
                    leftovers.append(f"{name}: {error}")
        self._created = []
        return leftovers

    # -- clients ------------------------------------------------------------------------

    def _session(self) -> boto3.session.Session:
        """The boto3 session clients are made from (a backend may name a profile).

        It shares the validation's model loader, so the SageMaker model and the endpoint
        rules (megabytes of JSON) are parsed once per process, not once per client.
        """
        core = botocore.session.get_session()
        core.register_component("data_loader", shapes.data_loader())
        return boto3.session.Session(botocore_session=core)

    def _client_config(self) -> Config:
        # Few retries: a gap in an emulation must fail fast, not be retried.
        return Config(retries={"max_attempts": 2, "mode": "standard"})

    def _client_kwargs(self) -> dict[str, Any]:
        """Extra keyword arguments for every client (``endpoint_url``, credentials, ...)."""
        return {}

    def client_options(self) -> dict[str, Any]:
        """Extra keyword arguments every client of this backend is made with (e.g. endpoint)."""
        return self._client_kwargs()

    def adopt(self, name: str) -> None:
        """Delete ``name`` at teardown too: a group created by a client the backend did not
        make (an SDK's). Call it before the create, so a failed test still cleans up."""
        if name not in self._created:
            self._created.append(name)

    def every_client(self) -> contextlib.AbstractContextManager[Any]:
        """While entered, clients the test does not make itself (an SDK's, a query library's)
        reach this backend too. In-process and on AWS they already do."""
        endpoint = self._client_kwargs().get("endpoint_url")
        if not endpoint:
            return contextlib.nullcontext()
        from ..emulator.transports.bridge import use_endpoint

        return use_endpoint(endpoint)

    def client(self, service: str) -> BaseClient:
        if service not in self._clients:
            client = self._session().client(
                service,
                region_name=self.region,
                config=self._client_config(),
                **self._client_kwargs(),
            )
            if service == "sagemaker":
                self._track_creations(client)
            for hook in self.client_hooks:
                hook(client)
            self._clients[service] = client
        return self._clients[service]

    def _track_creations(self, client: BaseClient) -> None:
        """Remember every feature group created through this client, for cleanup."""

        def remember_name(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            context["fsconformance_name"] = params.get("FeatureGroupName")

        def track(http_response: Any, context: dict[str, Any], **_: Any) -> None:
            if http_response.status_code == 200 and context.get("fsconformance_name"):
                self._created.append(context["fsconformance_name"])

        events = client.meta.events
        events.register("before-parameter-build.sagemaker.CreateFeatureGroup", remember_name)
        events.register("after-call.sagemaker.CreateFeatureGroup", track)

    @property
    def sagemaker(self) -> BaseClient:
        return self.client("sagemaker")

    @property
    def runtime(self) -> BaseClient:
        return self.client("sagemaker-featurestore-runtime")

    @property
    def s3(self) -> BaseClient:
        return self.client("s3")

    @property
    def glue(self) -> BaseClient:
        return self.client("glue")

    @property
    def athena(self) -> BaseClient:
        return self.client("athena")

    # -- naming and requests ------------------------------------------------------------

    def unique_name(self) -> str:
        """A feature-group name no other test, worker or run uses: fsct-{run}-{worker}-{n}."""
        return f"fsct-{self.run_id}-{self.worker}-{next(self._counter)}"

    def feature_group_request(
        self,
        name: str | None = None,
        *,
        definitions: list[dict[str, Any]] | None = None,
        record_identifier: str = "customer_id",
        event_time: str = "event_time",
        online: bool = True,
        offline: bool = True,
        **members: Any,
    ) -> dict[str, Any]:
        """A valid CreateFeatureGroup request; ``members`` add or replace top-level members."""
        request: dict[str, Any] = {
            "FeatureGroupName": name or self.unique_name(),
            "RecordIdentifierFeatureName": record_identifier,
            "EventTimeFeatureName": event_time,
            "FeatureDefinitions": definitions
            or [
                {"FeatureName": record_identifier, "FeatureType": "String"},
                {"FeatureName": event_time, "FeatureType": "Fractional"},
                {"FeatureName": "n_days_active", "FeatureType": "Fractional"},
                {"FeatureName": "is_married", "FeatureType": "Integral"},
            ],
        }
        if online:
            request["OnlineStoreConfig"] = {"EnableOnlineStore": True}
        if offline:
            request["OfflineStoreConfig"] = {"S3StorageConfig": {"S3Uri": self.offline_s3_uri}}
            request["RoleArn"] = self.role_arn
        request.update(members)
        # Never send what the installed botocore cannot express: the test is unsupported.
        require_request("CreateFeatureGroup", request)
        return request

    # -- waiting ------------------------------------------------------------------------

    def poll(
        self, probe: Callable[[], T | None], *, budget: str, what: str, kind: str | None = None
    ) -> T:
        """``eventually(probe)`` with this backend's poll intervals, within the named budget
        (create, update, delete, data_plane, offline); the wait is recorded as ``kind``,
        by default the budget's name."""
        return eventually(
            probe,
            timeout=getattr(self.budgets, budget),
            interval=self.budgets.poll_interval,
            max_interval=self.budgets.max_poll_interval,
            what=what,
            kind=kind or budget,
        )

    def describe(self, name: str) -> dict[str, Any]:
        return self.sagemaker.describe_feature_group(FeatureGroupName=name)

    def wait_until_created(self, name: str) -> dict[str, Any]:
        """Poll while the group is ``Creating`` (C-016); return the final description."""
        description = self.poll(
            lambda: _unless(self.describe(name), "FeatureGroupStatus", "Creating"),
            budget="create",
            what=f"feature group {name} leaving Creating",
        )
        assert description["FeatureGroupStatus"] == "Created", (
            f"{name} ended {description['FeatureGroupStatus']}: {description.get('FailureReason')}"
        )
        return description

    def create_and_wait(self, request: dict[str, Any]) -> dict[str, Any]:
        self.sagemaker.create_feature_group(**request)
        return self.wait_until_created(request["FeatureGroupName"])

    def wait_for_update(self, name: str) -> dict[str, Any]:
        """Poll while ``LastUpdateStatus`` is ``InProgress`` (C-051); return the description."""
        description = self.poll(
            lambda: _unless_update_in_progress(self.describe(name)),
            budget="update",
            what=f"update of feature group {name}",
        )
        status = description["LastUpdateStatus"]
        assert status["Status"] == "Successful", f"update of {name} ended {status}"
        return description

    def wait_until_deleted(self, name: str) -> None:
        """Poll until Describe answers ResourceNotFound (C-130)."""

        def gone() -> bool:
            try:
                description = self.describe(name)
            except self.sagemaker.exceptions.ResourceNotFound:
                return True
            assert description["FeatureGroupStatus"] != "DeleteFailed", description
            return False

        self.poll(
            gone,
            budget="delete",
            what=f"deletion of feature group {name}",
        )

    def put_when_accepted(
        self, name: str, record: list[dict[str, str]], added: Iterable[str], **members: Any
    ) -> None:
        """PutRecord using features an update added, once the data plane accepts them (C-055).

        Only a 400 whose message names one of the ``added`` features is tried again, up to the
        data-plane budget; any other refusal ends the wait at once.
        """
        added = list(added)

        def accepted() -> bool:
            try:
                self.runtime.put_record(FeatureGroupName=name, Record=record, **members)
            except ClientError as error:
                status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                message = error.response.get("Error", {}).get("Message", "")
                if status != 400 or not any(feature in message for feature in added):
                    raise RuntimeError(f"PutRecord refused for another reason: {error}") from error
                raise AssertionError(f"added features not accepted yet: {error}") from None
            return True

        self.poll(
            accepted,
            budget="data_plane",
            what=f"PutRecord into {name} accepting {', '.join(added)}",
        )

    def header_lines(self) -> list[str]:
        return [f"fsconformance backend: {self.name}, region {self.region}"]


def _unless(description: dict[str, Any], member: str, transient: str) -> dict[str, Any] | None:
    return None if description.get(member) == transient else description


def _unless_update_in_progress(description: dict[str, Any]) -> dict[str, Any] | None:
    status = description.get("LastUpdateStatus", {}).get("Status")
    return None if status in (None, "InProgress") else description
