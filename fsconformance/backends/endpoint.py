"""The ``endpoint`` backend: any service that speaks the AWS APIs, reached by one URL.

moto's server, ``fsconformance serve``, LocalStack or another emulator: the suites run against
it with fake credentials, exactly as the ``aws`` backend runs against an account (naming, tags,
creation slots, throttling-only retries and the full teardown are that backend's code). What
differs:

* no account guard: the account id is whatever STS GetCallerIdentity on the endpoint reports;
* the offline-store bucket and the role Feature Store assumes are created for the run (one of
  each per pytest process) and deleted, with everything in the bucket, when the process ends;
* the URL must be a loopback address unless ``--allow-remote-endpoint`` is given;
* before any test runs, the endpoint must answer STS and know the Feature Store operations;
  otherwise the run stops with one line.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import socket
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .aws import AwsBackend, AwsOptions, delete_s3_prefix
from .base import FEATURE_STORE_TRUST_POLICY, BackendUnavailable, Budgets

FAKE_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}
# Answers meaning "this service has no such operation" rather than "no such feature group".
_UNKNOWN_OPERATION_CODES = {
    "UnknownOperationException",
    "UnknownOperation",
    "InvalidAction",
    "NotImplemented",
    "NotImplementedException",
    "404",
    "501",
}


@dataclass
class EndpointOptions:
    """What the ``endpoint`` backend needs; the plugin fills it from options and env."""

    endpoint_url: str = ""
    allow_remote: bool = False
    budget: float = 30.0  # seconds for every kind of wait
    poll_interval: float = 0.05


def is_loopback_url(url: str) -> bool:
    """Whether ``url``'s host is a loopback address (``localhost`` or every address it has)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if host == "localhost":
        return True
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


class EndpointBackend(AwsBackend):
    """The aws backend's code path against an endpoint URL, with its own bucket and role."""

    name = "endpoint"
    hypothesis_profile = "aws"  # an unknown service: few examples, each costs feature groups

    def __init__(self, region: str, options: EndpointOptions) -> None:
        self.endpoint = options
        super().__init__(
            region,
            AwsOptions(
                endpoint_url=options.endpoint_url,
                poll_interval=options.poll_interval,
                max_poll_interval=max(1.0, options.poll_interval),
            ),
        )
        budget = options.budget
        self.budgets = Budgets(
            create=budget,
            update=budget,
            delete=budget,
            data_plane=budget,
            poll_interval=options.poll_interval,
            max_poll_interval=max(1.0, options.poll_interval),
            offline=budget,
        )
        self._bucket = ""
        self._role_name = ""

    # -- preflight: before any test runs -------------------------------------------------

    def preflight(self) -> None:
        """Stop the run with one line unless the URL is allowed and the endpoint answers."""
        url = self.endpoint.endpoint_url
        if not url:
            raise BackendUnavailable(
                "--backend=endpoint needs --endpoint-url URL (env FSCONFORMANCE_ENDPOINT_URL)"
            )
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BackendUnavailable(f"--endpoint-url {url!r} is not an http(s) URL")
        if not self.endpoint.allow_remote and not is_loopback_url(url):
            raise BackendUnavailable(
                f"--endpoint-url {url} is not a loopback address; pass --allow-remote-endpoint "
                "to run the suites against another host"
            )
        probe = Config(
            connect_timeout=3,
            read_timeout=10,
            retries={"total_max_attempts": 1, "mode": "standard"},
        )
        try:
            identity = self._probe_client("sts", probe).get_caller_identity()
        except (ClientError, BotoCoreError, ValueError) as error:
            raise BackendUnavailable(
                f"--endpoint-url {url} does not answer STS GetCallerIdentity: {_one_line(error)}"
            ) from None
        self.account_id = str(identity.get("Account", ""))
        try:
            self._probe_client("sagemaker", probe).describe_feature_group(
                FeatureGroupName="fsct-preflight-no-such-group"
            )
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _UNKNOWN_OPERATION_CODES or status in (404, 501):
                raise BackendUnavailable(
                    f"--endpoint-url {url} is not a Feature Store: DescribeFeatureGroup answered "
                    f"{status} {code}: {_one_line(error)}"
                ) from None
        except BotoCoreError as error:
            raise BackendUnavailable(
                f"--endpoint-url {url} is not a Feature Store: DescribeFeatureGroup failed: "
                f"{_one_line(error)}"
            ) from None

    def _probe_client(self, service: str, config: Config) -> BaseClient:
        return boto3.session.Session().client(
            service, region_name=self.region, config=config, **self._client_kwargs()
        )

    # -- clients: fake credentials, path-style S3 ----------------------------------------

    def _session(self) -> Any:
        return boto3.session.Session()

    def _client_kwargs(self) -> dict[str, Any]:
        return {"endpoint_url": self.endpoint.endpoint_url, **FAKE_CREDENTIALS}

    @contextlib.contextmanager
    def every_client(self) -> Iterator[Any]:
        """An SDK builds its clients from the environment (the SDK v3 makes one while it is
        imported): while entered, the environment names this backend's region and the fake
        credentials, as it does for a moto backend, and every client reaches the endpoint."""
        wanted = {"AWS_DEFAULT_REGION": self.region}
        wanted.update({key.upper(): value for key, value in FAKE_CREDENTIALS.items()})
        saved = {key: os.environ.get(key) for key in wanted}
        os.environ.update(wanted)
        try:
            with super().every_client() as endpoint:
                yield endpoint
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    # -- lifecycle: the bucket and role of this process ------------------------------------

    def start(self) -> None:
        super().start()
        self.account_id = self.client("sts").get_caller_identity()["Account"]
        self._bucket = f"fsct-{self.run_id}-{self.worker}-offline".lower()
        if self.region == "us-east-1":
            self.s3.create_bucket(Bucket=self._bucket)
        else:
            self.s3.create_bucket(
                Bucket=self._bucket,
                CreateBucketConfiguration={"LocationConstraint": self.region},
            )
        self._role_name = f"fsct-{self.run_id}-{self.worker}-feature-store"
        role = self.client("iam").create_role(
            RoleName=self._role_name,
            AssumeRolePolicyDocument=json.dumps(FEATURE_STORE_TRUST_POLICY),
        )
        self.role_arn = role["Role"]["Arn"]
        self.offline_s3_uri = f"s3://{self._bucket}/offline-store"
        self._athena_root = f"s3://{self._bucket}/athena-results/"
        self.athena_output = self._athena_root

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            self._record("leftovers", self._delete_bucket_and_role())

    def _delete_bucket_and_role(self) -> list[str]:
        left: list[str] = []
        if self._bucket:
            try:
                delete_s3_prefix(self.s3, self._bucket, "")
                self.s3.delete_bucket(Bucket=self._bucket)
            except (ClientError, BotoCoreError, RuntimeError) as error:
                left.append(f"bucket {self._bucket}: {_one_line(error)}")
            self._bucket = ""
        if self._role_name:
            try:
                self.client("iam").delete_role(RoleName=self._role_name)
            except (ClientError, BotoCoreError) as error:
                left.append(f"role {self._role_name}: {_one_line(error)}")
            self._role_name = ""
        return left

    def header_lines(self) -> list[str]:
        return [
            f"fsconformance backend: {self.name}, region {self.region}, endpoint "
            f"{self.endpoint.endpoint_url}, account {self.account_id or '(from STS)'}, "
            f"run {self.run_id}, budget {self.endpoint.budget:g} s per wait"
        ]


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]
