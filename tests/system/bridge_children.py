"""What the children of tests/system/test_multiprocess.py run; kept apart so that a spawned child
imports only boto3 (the test module would bring pytest, moto and the emulation with it)."""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config

REGION = "us-east-1"
GROUP = "bridge-group"
BUCKET = "bridge-bucket"
# Clients with an explicit endpoint must reach the same account too (SDK v2 pins STS's).
ELSEWHERE = {
    "sagemaker-featurestore-runtime": "https://runtime.elsewhere.invalid",
    "s3": "https://s3.elsewhere.invalid",
    "sts": "https://sts.us-east-1.amazonaws.com",
}
FAST = Config(retries={"max_attempts": 1, "mode": "standard"})


def client(service: str, explicit: bool) -> Any:
    endpoint = {"endpoint_url": ELSEWHERE[service]} if explicit else {}
    return boto3.client(service, region_name=REGION, config=FAST, **endpoint)


def write_from_child(chunk: tuple[list[int], bool]) -> int:
    """One record and one S3 object per id; returns the pid of the process that wrote them."""
    ids, explicit = chunk
    runtime = client("sagemaker-featurestore-runtime", explicit)
    s3 = client("s3", explicit)
    for i in ids:
        runtime.put_record(
            FeatureGroupName=GROUP,
            Record=[
                {"FeatureName": "id", "ValueAsString": str(i)},
                {"FeatureName": "t", "ValueAsString": "1700000000"},
                {"FeatureName": "pid", "ValueAsString": str(os.getpid())},
            ],
        )
        s3.put_object(Bucket=BUCKET, Key=f"child/{i}", Body=str(i).encode())
    client("sts", explicit).get_caller_identity()
    return os.getpid()


def write_to_an_unreachable_emulation(_: int) -> str:
    """In a forked child: the owner's server is gone (a closed port). The child must fail,
    not answer from its private copy of the state."""
    from fsconformance.emulator.transports import bridge, inprocess

    inprocess._served_url = "http://127.0.0.1:9"
    try:
        write_from_child(([99], False))
    except bridge.BridgeError as error:
        return str(error)
    return "accepted"
