"""Command-line options of the backends that need more than a name and a region.

Every option has an environment fallback, so a CI job can configure a run without flags.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from .aws import AwsOptions
from .endpoint import EndpointOptions

# option destination -> (flag, environment variable, help)
_AWS_OPTIONS: dict[str, tuple[str, str, str]] = {
    "aws_account_id": (
        "--aws-account-id",
        "FSCONFORMANCE_AWS_ACCOUNT_ID",
        "the only account --backend=aws may run in; required (STS must report it)",
    ),
    "aws_profile": ("--aws-profile", "FSCONFORMANCE_AWS_PROFILE", "AWS profile for the clients"),
    "offline_s3_uri": (
        "--offline-s3-uri",
        "FSCONFORMANCE_OFFLINE_S3_URI",
        "S3 URI for offline stores, e.g. s3://bucket/offline-store (infra/bootstrap.yaml)",
    ),
    "feature_store_role_arn": (
        "--feature-store-role-arn",
        "FSCONFORMANCE_ROLE_ARN",
        "the role Feature Store assumes for the offline store",
    ),
    "athena_output": (
        "--athena-output",
        "FSCONFORMANCE_ATHENA_OUTPUT",
        "s3:// URI for Athena results (default: athena-results/ in the offline bucket)",
    ),
    "athena_workgroup": (
        "--athena-workgroup",
        "FSCONFORMANCE_ATHENA_WORKGROUP",
        "Athena workgroup for the suites' queries",
    ),
    "endpoint_url": (
        "--endpoint-url",
        "FSCONFORMANCE_ENDPOINT_URL",
        "aws: send every request to this endpoint instead of AWS (CI: fsconformance serve); "
        "endpoint: the service to run the suites against",
    ),
    "aws_poll_interval": (
        "--aws-poll-interval",
        "FSCONFORMANCE_AWS_POLL_INTERVAL",
        "first interval of status polls in seconds, growing to 30 (default 5)",
    ),
}


def add_backend_options(group: Any) -> None:
    """Register the aws backend's options on a pytest option group."""
    for dest, (flag, env, text) in _AWS_OPTIONS.items():
        group.addoption(flag, dest=dest, default=None, help=f"{text} (env {env})")
    group.addoption(
        "--allow-remote-endpoint",
        action="store_true",
        default=None,
        help="endpoint: allow an --endpoint-url that is not a loopback address "
        "(env FSCONFORMANCE_ALLOW_REMOTE_ENDPOINT=1)",
    )
    group.addoption(
        "--endpoint-budget",
        default=None,
        help="endpoint: seconds every wait may take (env FSCONFORMANCE_ENDPOINT_BUDGET, "
        "default 30)",
    )
    group.addoption(
        "--keep-on-failure",
        action="store_true",
        default=None,
        help="aws: keep a failed test's resources and print their names "
        "(env FSCONFORMANCE_KEEP_ON_FAILURE=1)",
    )


def _option(config: pytest.Config, dest: str) -> Any:
    # None when the option is not registered: a run that only uses the backend fixture has
    # the --backend option alone, and reads the rest from the environment.
    return config.getoption(dest, None)


def _value(config: pytest.Config, dest: str) -> str:
    flag_value = _option(config, dest)
    if flag_value is not None:
        return str(flag_value)
    return os.environ.get(_AWS_OPTIONS[dest][1], "")


def backend_options(config: pytest.Config) -> dict[str, Any]:
    """The keyword options ``make_backend`` passes on to the chosen backend."""
    poll = _value(config, "aws_poll_interval")
    try:
        poll_interval = float(poll) if poll else 5.0
    except ValueError:
        raise pytest.UsageError(
            f"fsconformance: --aws-poll-interval {poll!r} is not a number of seconds"
        ) from None
    keep = _option(config, "keep_on_failure")
    if keep is None:
        keep = _truthy(os.environ.get("FSCONFORMANCE_KEEP_ON_FAILURE", ""))
    budget_text = _option(config, "endpoint_budget") or os.environ.get(
        "FSCONFORMANCE_ENDPOINT_BUDGET", ""
    )
    try:
        budget = float(budget_text) if budget_text else 30.0
    except ValueError:
        raise pytest.UsageError(
            f"fsconformance: --endpoint-budget {budget_text!r} is not a number of seconds"
        ) from None
    remote = _option(config, "allow_remote_endpoint")
    if remote is None:
        remote = _truthy(os.environ.get("FSCONFORMANCE_ALLOW_REMOTE_ENDPOINT", ""))
    return {
        "endpoint": EndpointOptions(
            endpoint_url=_value(config, "endpoint_url"),
            allow_remote=bool(remote),
            budget=budget,
            poll_interval=float(poll) if poll else 0.05,
        ),
        "aws": AwsOptions(
            account_id=_value(config, "aws_account_id").strip(),
            profile=_value(config, "aws_profile") or None,
            offline_s3_uri=_value(config, "offline_s3_uri"),
            role_arn=_value(config, "feature_store_role_arn"),
            athena_output=_value(config, "athena_output"),
            athena_workgroup=_value(config, "athena_workgroup"),
            endpoint_url=_value(config, "endpoint_url") or None,
            keep_on_failure=bool(keep),
            poll_interval=poll_interval,
        ),
    }


def _truthy(text: str) -> bool:
    return text not in ("", "0", "false")
