"""The default backend: in-process moto plus the Feature Store emulation."""

from __future__ import annotations

import json
import os
from typing import Protocol

from ..mock import mock_featurestore
from .base import FEATURE_STORE_TRUST_POLICY, Backend, Budgets
from .capabilities import emulated_features


class _Mock(Protocol):
    """What the backend needs of a mock: ``mock_featurestore``, or moto's ``mock_aws`` alone."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class MotoBackend(Backend):
    """Each pytest process (each xdist worker) has its own emulated account."""

    name = "moto"
    # The emulation validates with the installed botocore's shapes; see emulated_features().
    capabilities = emulated_features()
    budgets = Budgets(
        create=10,
        update=10,
        delete=10,
        data_plane=10,
        # The emulated steps take 0.1 s by default: polls this close find each done within
        # a few milliseconds (each costs well under a millisecond here).
        poll_interval=0.01,
        max_poll_interval=0.03,
        offline=10,
    )

    def __init__(self, region: str) -> None:
        super().__init__(region)
        self._mock: _Mock | None = None
        self._saved_env: dict[str, str | None] = {}

    def start(self) -> None:
        # Fake credentials, so no real ones on the machine can ever be used by a moto run.
        for key, value in (
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_SESSION_TOKEN", "testing"),
            ("AWS_DEFAULT_REGION", self.region),
        ):
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value

    def begin_test(self) -> None:
        """A fresh emulated account for each test, active only while the test runs.

        Keeping the mock active between tests would leave it running under other code in
        the same process (self-tests with mocks of their own, for one).
        """
        super().begin_test()
        self._mock = mock_featurestore()
        self._mock.start()
        self.provision()

    def provision(self) -> None:
        """Create what the suites expect in a fresh emulated account: bucket and role."""
        self.account_id = self.client("sts").get_caller_identity()["Account"]
        bucket = f"fsct-offline-{self.account_id}-{self.region}"
        if self.region == "us-east-1":
            self.s3.create_bucket(Bucket=bucket)
        else:
            self.s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.region}
            )
        self.offline_s3_uri = f"s3://{bucket}/offline-store"
        self.athena_output = f"s3://{bucket}/athena-results/"
        role = self.client("iam").create_role(
            RoleName="fsct-feature-store",
            AssumeRolePolicyDocument=json.dumps(FEATURE_STORE_TRUST_POLICY),
        )
        self.role_arn = role["Role"]["Arn"]

    def end_test(self, failed: bool = False) -> list[str]:
        try:
            return super().end_test(failed)
        finally:
            if self._mock is not None:
                self._mock.stop()
                self._mock = None

    def stop(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
