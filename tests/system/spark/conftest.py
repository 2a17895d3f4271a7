"""The Spark cell (``tox -e spark``): the Feature Store Spark connector and the SDK's feature
processor against ``fsconformance serve --tls``, as a Spark user runs them (docs/spark.md).

It needs pyspark, the connector, the SageMaker SDK v2, Java and the S3A jars, so it runs only
where the cell set ``FSCONFORMANCE_SPARK_JARS`` (the jars' directory, filled by
``fsconformance spark-jars``); elsewhere nothing here is collected.

One server for the session, started as a user starts it; one SparkSession made from what
``fsconformance spark-conf`` prints, before any feature processor runs (the processor reuses
a running session instead of asking Ivy for hadoop-aws).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from .cell import OFFLINE_BUCKET, REGION, SOURCE_BUCKET, Served, client

JARS = os.environ.get("FSCONFORMANCE_SPARK_JARS")
if not JARS:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("serve-data")
    env = {
        **os.environ,
        "FSCONFORMANCE_DELAY_CREATE": "0",
        "FSCONFORMANCE_DELAY_UPDATE": "0",
        "FSCONFORMANCE_DELAY_OFFLINE": "0.2",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "fsconformance", "serve", "--port", "0", "--tls"]
        + ["--data-dir", str(data)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines: dict[str, str] = {}
    for _ in range(3):
        line = process.stdout.readline().strip()
        assert line, "fsconformance serve --tls exited before it printed its URL"
        key, _, value = line.removeprefix("fsconformance serve: ").rpartition(" ")
        lines[key] = value
    try:
        yield Served(lines["listening on"], lines["CA bundle"], lines["Java trust store"])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture(scope="session")
def aws_env(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The environment every Python client (boto3, pyathena, the SDK) takes: the served
    endpoint, its CA bundle, fake credentials; and the SDK's documented telemetry opt-out,
    so nothing it sends leaves the machine."""
    defaults = tmp_path_factory.mktemp("sdk-config") / "config.yaml"
    defaults.write_text(
        "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n"
        "      TelemetryOptOut: true\n"
    )
    patch = pytest.MonkeyPatch()
    patch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(defaults))
    for key, value in {
        "AWS_ENDPOINT_URL": served.url,
        "AWS_CA_BUNDLE": served.ca_bundle,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }.items():
        patch.setenv(key, value)
    patch.delenv("AWS_SESSION_TOKEN", raising=False)
    patch.delenv("AWS_PROFILE", raising=False)
    try:
        yield
    finally:
        patch.undo()


@pytest.fixture(scope="session")
def buckets(aws_env: None) -> None:
    s3 = client("s3")
    for bucket in (OFFLINE_BUCKET, SOURCE_BUCKET):
        s3.create_bucket(Bucket=bucket)


def spark_conf(served: Served) -> dict[str, str]:
    """What ``fsconformance spark-conf`` prints for the served endpoint (every bucket)."""
    done = subprocess.run(
        [sys.executable, "-m", "fsconformance", "spark-conf", "--endpoint", served.url]
        + ["--truststore", served.truststore, "--jars-dir", str(JARS)],
        capture_output=True,
        text=True,
        check=True,
    )
    settings = {}
    for line in done.stdout.splitlines():
        key, _, value = line.partition(" ")
        settings[key] = value
    return settings


@pytest.fixture(scope="session")
def spark(served: Served, buckets: None) -> Iterator[Any]:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]").appName("fsconformance-spark-cell")
    for key, value in spark_conf(served).items():
        builder = builder.config(key, value)
    builder = builder.config("spark.ui.enabled", "false").config(
        "spark.sql.shuffle.partitions", "2"
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture
def name() -> str:
    return f"spark-{time.monotonic_ns() % 10**12}"
