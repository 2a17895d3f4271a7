"""The ``aws`` backend: a real account, run safely.

* It refuses to run unless STS says the credentials belong to the configured account; the
  check happens before anything is created, and a refusal is one line.
* Every feature group it creates is named ``fsct-{run}-{worker}-{n}`` and tagged with the run
  id and its creation time, so ``fsconformance sweep`` can find leftovers by tag, never by name.
* Teardown deletes the group, waits until it is gone, then deletes its offline-store S3 prefix,
  its Glue table (only one the group created) and the Athena results the test wrote. Errors do
  not stop the teardown; what is left is recorded and reported when the session ends.
* At most four creations are in flight across all xdist workers (a file lock with four slots).
* Clients retry throttling only, adaptively; any other error reaches the test at once.

The same code runs against ``fsconformance serve`` in CI through ``endpoint_url``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.retries import quota, standard
from filelock import FileLock, Timeout

from ..s3_uri import split_s3_uri
from ..waiters import WaitTimeout, eventually
from .base import Backend, BackendUnavailable, Budgets
from .capabilities import FEATURES

TAG_RUN = "fsconformance:run"
TAG_CREATED = "fsconformance:created"
TAG_PREFIX = "fsconformance:"
MAX_TAGS = 50  # CreateFeatureGroup accepts at most 50 tags (the service model's TagList)
CREATION_SLOTS = 4  # concurrent CreateFeatureGroup -> Created per account (AWS quota)
THROTTLING_ATTEMPTS = 8
_ACCOUNT_ID = re.compile(r"\d{12}")


@dataclass
class AwsOptions:
    """What the ``aws`` backend needs to know; the plugin fills it from options and env."""

    account_id: str = ""
    profile: str | None = None
    offline_s3_uri: str = ""
    role_arn: str = ""
    athena_output: str = ""
    athena_workgroup: str = ""
    endpoint_url: str | None = None
    keep_on_failure: bool = False
    poll_interval: float = 5.0
    max_poll_interval: float = 30.0


def utc_now_text() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_created(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return moment.replace(tzinfo=dt.timezone.utc)


def run_dir(run_id: str) -> Path:
    """The directory all processes of one run share: creation slots and leftover records."""
    path = Path(tempfile.gettempdir()) / f"fsconformance-{run_id}"
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- retries: throttling only ----------------------------------------------------------------


class _ThrottlingOnly(standard.BaseRetryableChecker):
    def __init__(self, max_attempts: int) -> None:
        self._attempts = standard.MaxAttemptsChecker(max_attempts)
        self._throttled = standard.ThrottledRetryableChecker()

    def is_retryable(self, context: Any) -> bool:
        return self._attempts.is_retryable(context) and self._throttled.is_retryable(context)


def retry_throttling_only(client: BaseClient, max_attempts: int = THROTTLING_ATTEMPTS) -> None:
    """Replace the client's retry policy with one that retries throttling errors only.

    The adaptive mode's client-side rate limiter stays in place; only the decision of what to
    retry changes (botocore's standard conditions also retry 5xx and connection errors).
    """
    service = client.meta.service_model.service_id.hyphenize()
    try:
        backoff = standard.ExponentialBackoff(
            service_name=service,
            throttling_detector=standard.ThrottlingErrorDetector(standard.RetryEventAdapter()),
        )
    except TypeError:  # older botocore
        backoff = standard.ExponentialBackoff()
    handler = standard.RetryHandler(
        retry_policy=standard.RetryPolicy(
            retry_checker=_ThrottlingOnly(max_attempts), retry_backoff=backoff
        ),
        retry_event_adapter=standard.RetryEventAdapter(),
        retry_quota=standard.RetryQuotaChecker(quota.RetryQuota()),
    )
    unique_id = f"retry-config-{service}"
    client.meta.events.unregister(f"needs-retry.{service}", unique_id=unique_id)
    client.meta.events.register(f"needs-retry.{service}", handler.needs_retry, unique_id=unique_id)


# -- creation slots ---------------------------------------------------------------------------


class CreationSlots:
    """At most ``slots`` creations in flight across the processes that share ``directory``.

    Each slot is a lock file (``filelock``: flock on POSIX, msvcrt on Windows); the lock is held
    from CreateFeatureGroup until the group leaves ``Creating`` (or the test ends), and the
    operating system drops it if a process dies.
    """

    def __init__(self, directory: Path, slots: int = CREATION_SLOTS) -> None:
        self.directory = directory
        self.slots = slots
        self.held: dict[str, FileLock] = {}

    def try_acquire(self, name: str) -> bool:
        if name in self.held:
            return True
        for index in range(self.slots):
            lock = FileLock(self.directory / f"create-slot-{index}.lock", is_singleton=False)
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue
            self.held[name] = lock
            return True
        return False

    def release(self, name: str) -> None:
        lock = self.held.pop(name, None)
        if lock is not None:
            lock.release()

    def release_all(self) -> None:
        for name in list(self.held):
            self.release(name)


# -- deleting what a test created (shared with ``fsconformance sweep``) ----------------------


@dataclass
class Clients:
    sagemaker: BaseClient
    s3: BaseClient
    glue: BaseClient


def offline_prefix(description: dict[str, Any]) -> tuple[str, str] | None:
    """(bucket, key prefix) of a group's offline data: ResolvedOutputS3Uri minus ``/data``.

    ``None`` unless the URI has the documented shape and ends in a folder named after this
    group, so nothing outside the group's own folder can ever be selected.
    """
    storage = description.get("OfflineStoreConfig", {}).get("S3StorageConfig", {})
    resolved = storage.get("ResolvedOutputS3Uri", "")
    name = description.get("FeatureGroupName", "")
    if not (resolved.startswith("s3://") and resolved.endswith("/data") and name):
        return None
    bucket, prefix = split_s3_uri(resolved[: -len("/data")])
    if not prefix or not prefix.rsplit("/", 1)[-1].startswith(f"{name}-"):
        return None
    return bucket, prefix + "/"


def created_glue_table(description: dict[str, Any]) -> tuple[str, str] | None:
    """(database, table) of the Glue table Feature Store created for the group, if it did."""
    offline = description.get("OfflineStoreConfig")
    if not offline or offline.get("DisableGlueTableCreation"):
        return None
    catalog = offline.get("DataCatalogConfig") or {}
    if not catalog.get("Database") or not catalog.get("TableName"):
        return None
    return catalog["Database"], catalog["TableName"]


def delete_s3_prefix(s3: BaseClient, bucket: str, prefix: str) -> int:
    """Delete every object under ``prefix`` (and nothing else); return how many."""
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if not keys:
            continue
        result = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        errors = result.get("Errors", [])
        if errors:
            raise RuntimeError(f"s3://{bucket}: {len(errors)} objects not deleted: {errors[0]}")
        deleted += len(keys)
    return deleted


def delete_feature_group_resources(
    clients: Clients,
    name: str,
    known: dict[str, Any] | None,
    budgets: Budgets,
    log: Callable[[str], None] = lambda _: None,
) -> list[str]:
    """Delete a feature group, wait until it is gone, then its S3 prefix and Glue table.

    ``known`` is the last description seen (used when the group is already gone). Every step
    is tried even if an earlier one failed; the return value lists what is left, one line each.
    """
    left: list[str] = []
    description = known
    sagemaker = clients.sagemaker
    poll: dict[str, Any] = {
        "interval": budgets.poll_interval,
        "max_interval": budgets.max_poll_interval,
    }

    def current() -> dict[str, Any] | None:
        try:
            return sagemaker.describe_feature_group(FeatureGroupName=name)
        except sagemaker.exceptions.ResourceNotFound:
            return None

    try:
        found = current()
        if found is not None:
            description = found
            if found["FeatureGroupStatus"] == "Creating":
                eventually(
                    lambda: (d := current()) is None or d["FeatureGroupStatus"] != "Creating",
                    timeout=budgets.create,
                    what=f"{name} leaving Creating before deletion",
                    **poll,
                )
            if found["FeatureGroupStatus"] != "Deleting":
                with contextlib.suppress(sagemaker.exceptions.ResourceNotFound):
                    sagemaker.delete_feature_group(FeatureGroupName=name)
            eventually(
                lambda: current() is None,
                timeout=budgets.delete,
                what=f"deletion of feature group {name}",
                **poll,
            )
            log(f"deleted feature group {name}")
    except (ClientError, BotoCoreError, WaitTimeout, AssertionError) as error:
        left.append(f"feature group {name}: {error}")
    if description is None:
        return left
    prefix = offline_prefix(description)
    if prefix is not None:
        bucket, key_prefix = prefix
        try:
            count = delete_s3_prefix(clients.s3, bucket, key_prefix)
            log(f"deleted {count} objects under s3://{bucket}/{key_prefix}")
        except (ClientError, BotoCoreError, RuntimeError) as error:
            left.append(f"s3://{bucket}/{key_prefix} of {name}: {error}")
    table = created_glue_table(description)
    if table is not None:
        database, table_name = table
        try:
            clients.glue.delete_table(DatabaseName=database, Name=table_name)
            log(f"deleted Glue table {database}.{table_name}")
        except clients.glue.exceptions.EntityNotFoundException:
            pass
        except (ClientError, BotoCoreError) as error:
            left.append(f"Glue table {database}.{table_name} of {name}: {error}")
    return left


# -- the backend --------------------------------------------------------------------------


class AwsBackend(Backend):
    """A real account (or, in CI, ``fsconformance serve`` behind ``endpoint_url``)."""

    name = "aws"
    hypothesis_profile = "aws"  # every example costs real feature groups and minutes
    # Other workers (and anything else in the account) create groups too, and the creation
    # slots keep this run under the quota: the quota itself is never probed here (C-019).
    capabilities = frozenset(FEATURES) - {"creation_limit"}

    def __init__(self, region: str, options: AwsOptions) -> None:
        super().__init__(region)
        self.options = options
        # One run id for every xdist worker: the controller sets it before workers start.
        shared = re.sub(r"[^a-zA-Z0-9]", "", os.environ.get("FSCONFORMANCE_RUN_ID", ""))[:8]
        self.run_id = shared or self.run_id
        os.environ["FSCONFORMANCE_RUN_ID"] = self.run_id
        self.budgets = Budgets(
            create=600,
            update=600,
            delete=600,
            data_plane=300,
            poll_interval=options.poll_interval,
            max_poll_interval=max(options.max_poll_interval, options.poll_interval),
            offline=1200,
        )
        self.account_id = options.account_id
        self.offline_s3_uri = options.offline_s3_uri
        self.role_arn = options.role_arn
        # Each test writes its Athena results under a folder of its own, deleted after it.
        self._athena_root = options.athena_output or _default_athena_output(options.offline_s3_uri)
        self.athena_output = self._athena_root
        self._tests = 0
        self._descriptions: dict[str, dict[str, Any]] = {}
        self._queries: list[str] = []
        self._slots: CreationSlots | None = None
        self._kept: list[str] = []

    # -- preflight: before anything is created ----------------------------------------

    def preflight(self) -> None:
        """Stop the run (one line, nothing created) unless the account and settings are right."""
        expected = self.options.account_id
        if not expected:
            raise BackendUnavailable(
                "--backend=aws needs the account id it may use: pass --aws-account-id or set "
                "FSCONFORMANCE_AWS_ACCOUNT_ID (nothing was created)"
            )
        if not _ACCOUNT_ID.fullmatch(expected):
            raise BackendUnavailable(
                f"--aws-account-id {expected!r} is not a 12-digit account id (nothing was created)"
            )
        for value, option in (
            (self.options.offline_s3_uri, "--offline-s3-uri / FSCONFORMANCE_OFFLINE_S3_URI"),
            (self.options.role_arn, "--feature-store-role-arn / FSCONFORMANCE_ROLE_ARN"),
        ):
            if not value:
                raise BackendUnavailable(
                    f"--backend=aws needs {option} (see infra/bootstrap.yaml; nothing was created)"
                )
        try:
            actual = self.client("sts").get_caller_identity()["Account"]
        except (ClientError, BotoCoreError) as error:
            raise BackendUnavailable(
                f"--backend=aws cannot identify the caller with STS GetCallerIdentity: {error} "
                "(nothing was created)"
            ) from None
        if actual != expected:
            raise BackendUnavailable(
                f"--backend=aws refuses to run: the credentials belong to account {actual}, "
                f"not the configured {expected} (nothing was created)"
            )

    # -- clients -------------------------------------------------------------------------

    def _session(self) -> Any:
        import boto3

        return boto3.session.Session(profile_name=self.options.profile)

    def _client_config(self) -> Config:
        config = Config(retries={"mode": "adaptive", "max_attempts": THROTTLING_ATTEMPTS})
        if self.options.endpoint_url:
            config = config.merge(Config(s3={"addressing_style": "path"}))
        return config

    def _client_kwargs(self) -> dict[str, Any]:
        return {"endpoint_url": self.options.endpoint_url} if self.options.endpoint_url else {}

    def client(self, service: str) -> BaseClient:
        new = service not in self._clients
        client = super().client(service)
        if new:
            retry_throttling_only(client)
            if service == "athena":
                self._track_queries(client)
        return client

    def _track_creations(self, client: BaseClient) -> None:
        super()._track_creations(client)
        events = client.meta.events
        events.register("before-parameter-build.sagemaker.CreateFeatureGroup", self._add_tags)
        events.register("before-call.sagemaker.CreateFeatureGroup", self._take_slot)
        events.register("after-call.sagemaker.CreateFeatureGroup", self._after_create)
        events.register("after-call-error.sagemaker.CreateFeatureGroup", self._after_create)
        events.register("after-call.sagemaker.DescribeFeatureGroup", self._after_describe)
        events.register("after-call.sagemaker.ListTags", self._hide_own_tags)

    def _add_tags(self, params: dict[str, Any], **_: Any) -> None:
        """Tag the group with the run id and creation time, if the request leaves room.

        A request that already carries the maximum (a test of that maximum) goes untagged;
        teardown still deletes it, but ``sweep`` could not find it if teardown failed.
        """
        tags = list(params.get("Tags") or [])
        if len(tags) + 2 <= MAX_TAGS and not any(
            str(tag.get("Key", "")).startswith(TAG_PREFIX) for tag in tags
        ):
            params["Tags"] = tags + [
                {"Key": TAG_RUN, "Value": self.run_id},
                {"Key": TAG_CREATED, "Value": utc_now_text()},
            ]

    def _hide_own_tags(self, parsed: dict[str, Any], **_: Any) -> None:
        """The suites see the tags they set, not the backend's bookkeeping tags."""
        if isinstance(parsed.get("Tags"), list):
            parsed["Tags"] = [
                tag for tag in parsed["Tags"] if not tag.get("Key", "").startswith(TAG_PREFIX)
            ]

    def _take_slot(self, context: dict[str, Any], **_: Any) -> None:
        name = context.get("fsconformance_name")
        if not name or self._slots is None:
            return

        def acquired() -> bool:
            if self._slots is not None and self._slots.try_acquire(name):
                return True
            self._refresh_own_slots()
            return bool(self._slots and self._slots.try_acquire(name))

        self.poll(
            acquired,
            budget="create",
            kind="other",
            what=f"a free creation slot for {name} ({CREATION_SLOTS} in flight)",
        )

    def _refresh_own_slots(self) -> None:
        """Free the slots of this process's groups that have left ``Creating``."""
        if self._slots is None:
            return
        for name in list(self._slots.held):
            try:
                self.describe(name)  # _after_describe releases the slot
            except ClientError:
                self._slots.release(name)

    def _after_create(self, context: dict[str, Any], **kwargs: Any) -> None:
        name = context.get("fsconformance_name")
        response = kwargs.get("http_response")
        if not name:
            return
        if getattr(response, "status_code", 0) != 200:
            if self._slots is not None:
                self._slots.release(name)
            return
        # Where its offline data will go, known even if the test deletes the group itself.
        with contextlib.suppress(ClientError):
            self.describe(name)  # recorded by _after_describe

    def _after_describe(self, parsed: dict[str, Any], **_: Any) -> None:
        name = parsed.get("FeatureGroupName")
        if not name or "FeatureGroupStatus" not in parsed:
            return
        if name in self._created:
            self._descriptions[name] = parsed
        if parsed["FeatureGroupStatus"] != "Creating" and self._slots is not None:
            self._slots.release(name)

    def _track_queries(self, client: BaseClient) -> None:
        def workgroup(params: dict[str, Any], **_: Any) -> None:
            if self.options.athena_workgroup and "WorkGroup" not in params:
                params["WorkGroup"] = self.options.athena_workgroup

        def remember(parsed: dict[str, Any], **_: Any) -> None:
            if parsed.get("QueryExecutionId"):
                self._queries.append(parsed["QueryExecutionId"])

        client.meta.events.register("before-parameter-build.athena.StartQueryExecution", workgroup)
        client.meta.events.register("after-call.athena.StartQueryExecution", remember)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        if self.options.profile:  # for clients the suites make themselves (pyathena)
            os.environ["AWS_PROFILE"] = self.options.profile
        self._slots = CreationSlots(run_dir(self.run_id))

    def begin_test(self) -> None:
        super().begin_test()
        self._descriptions = {}
        self._queries = []
        self._tests += 1
        if self._athena_root:
            root = self._athena_root.rstrip("/")
            self.athena_output = f"{root}/{self.run_id}/{self.worker}-{self._tests}/"

    def end_test(self, failed: bool = False) -> list[str]:
        if self._slots is not None:
            self._slots.release_all()
        if failed and self.options.keep_on_failure:
            kept = list(self._created) + [f"Athena query {q}" for q in self._queries]
            self._kept.extend(kept)
            self._record("kept", kept)
            self._created, self._queries = [], []
            return []
        left = self.cleanup()
        self._record("leftovers", left)
        return left

    def cleanup(self) -> list[str]:
        clients = Clients(self.sagemaker, self.s3, self.glue)
        left: list[str] = []
        for name in reversed(self._created):
            left += delete_feature_group_resources(
                clients, name, self._descriptions.get(name), self.budgets
            )
        left += self._delete_query_results()
        if self.athena_output != self._athena_root and self.athena_output.startswith("s3://"):
            bucket, prefix = split_s3_uri(self.athena_output)
            try:
                delete_s3_prefix(self.s3, bucket, prefix)
            except (ClientError, BotoCoreError, RuntimeError) as error:
                left.append(f"Athena results under {self.athena_output}: {error}")
        self._created, self._queries = [], []
        return left

    def _delete_query_results(self) -> list[str]:
        left = []
        for query_id in self._queries:
            try:
                execution = self.athena.get_query_execution(QueryExecutionId=query_id)
                location = execution["QueryExecution"]["ResultConfiguration"]["OutputLocation"]
                bucket, key = split_s3_uri(location)
                if not key:
                    continue
                self.s3.delete_objects(
                    Bucket=bucket,
                    Delete={"Objects": [{"Key": key}, {"Key": key + ".metadata"}], "Quiet": True},
                )
            except (ClientError, BotoCoreError, KeyError) as error:
                left.append(f"Athena results of query {query_id}: {error}")
        return left

    def stop(self) -> None:
        # Whatever a test could not hand to end_test (an interrupted run) is deleted now.
        if self._created or self._queries:
            self._record("leftovers", self.cleanup())
        if self._slots is not None:
            self._slots.release_all()

    # -- the session's account of what is left --------------------------------------------

    def _record(self, kind: str, lines: list[str]) -> None:
        if not lines:
            return
        path = run_dir(self.run_id) / f"{kind}-{self.worker}-{os.getpid()}.txt"
        with path.open("a", encoding="utf-8") as handle:
            handle.writelines(line.replace("\n", " ") + "\n" for line in lines)

    def _read(self, kind: str) -> list[str]:
        lines: list[str] = []
        for path in sorted(run_dir(self.run_id).glob(f"{kind}-*.txt")):
            lines += path.read_text(encoding="utf-8").splitlines()
        return lines

    def session_leftovers(self) -> list[str]:
        return self._read("leftovers")

    def session_kept(self) -> list[str]:
        return self._read("kept")

    def header_lines(self) -> list[str]:
        where = self.options.endpoint_url or "AWS"
        return [
            f"fsconformance backend: {self.name}, region {self.region}, account "
            f"{self.options.account_id}, run {self.run_id}, endpoint {where}"
        ]


def _default_athena_output(offline_s3_uri: str) -> str:
    if not offline_s3_uri.startswith("s3://"):
        return ""
    bucket, _ = split_s3_uri(offline_s3_uri)
    return f"s3://{bucket}/athena-results/"
