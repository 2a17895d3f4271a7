"""``fsconformance spark-conf`` / ``fsconformance.spark``: the settings a Spark job needs to
reach a served emulation, without a JVM (tests/system/spark runs them for real in the spark cell)."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from fsconformance import spark
from fsconformance.cli import main
from fsconformance.emulator.transports import tls
from fsconformance.emulator.transports.wsgi import EmulatorServer


def test_every_bucket_gets_its_own_endpoint_credentials_and_path_style() -> None:
    found = spark.spark_settings("http://127.0.0.1:5000/", ["b-two", "b-one", "b-one"])
    for bucket in ("b-one", "b-two"):
        prefix = f"spark.hadoop.fs.s3a.bucket.{bucket}."
        assert found[prefix + "endpoint"] == "http://127.0.0.1:5000"
        assert found[prefix + "path.style.access"] == "true"
        assert found[prefix + "connection.ssl.enabled"] == "false"
        assert found[prefix + "aws.credentials.provider"] == spark.S3A_SIMPLE_CREDENTIALS
        assert (found[prefix + "access.key"], found[prefix + "secret.key"]) == (
            "testing",
            "testing",
        )
        # SDK for Java v1 refuses SSE-KMS over HTTP: without TLS it is switched off per bucket.
        assert found[prefix + "server-side-encryption-algorithm"] == ""
    assert found["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:5000"
    java = found["spark.driver.extraJavaOptions"].split()
    assert "-Daws.endpointUrl=http://127.0.0.1:5000" in java
    assert "-Daws.region=us-east-1" in java
    assert found["spark.executor.extraJavaOptions"] == found["spark.driver.extraJavaOptions"]
    assert "spark.jars" not in found


def test_tls_keeps_sse_kms_and_trusts_the_local_ca(tmp_path: Path) -> None:
    store = tmp_path / "truststore.p12"
    found = spark.spark_settings(
        "https://localhost:5443", ["offline"], truststore=store, jars=["/j/a.jar", "/j/b.jar"]
    )
    assert "spark.hadoop.fs.s3a.bucket.offline.server-side-encryption-algorithm" not in found
    assert found["spark.hadoop.fs.s3a.bucket.offline.connection.ssl.enabled"] == "true"
    java = found["spark.driver.extraJavaOptions"].split()
    assert f"-Djavax.net.ssl.trustStore={store.resolve()}" in java
    assert f"-Djavax.net.ssl.trustStorePassword={tls.TRUSTSTORE_PASSWORD}" in java
    assert found["spark.jars"] == "/j/a.jar,/j/b.jar"


@pytest.mark.parametrize(
    ("endpoint", "buckets", "truststore", "says"),
    [
        ("127.0.0.1:5000", ["b"], None, "not an http:// or https:// URL"),
        ("https://127.0.0.1:5000", ["b"], None, "--truststore"),
        ("http://127.0.0.1:5000", [], None, "--bucket"),
    ],
)
def test_settings_that_cannot_work_are_refused_in_one_line(
    endpoint: str, buckets: list[str], truststore: Any, says: str
) -> None:
    with pytest.raises(spark.SparkConfError, match=says) as raised:
        spark.spark_settings(endpoint, buckets, truststore=truststore)
    assert "\n" not in str(raised.value)


def test_output_formats() -> None:
    settings = {"spark.a": "1", "spark.b": "x y"}
    assert spark.as_spark_defaults(settings) == "spark.a 1\nspark.b x y\n"
    assert spark.as_submit_arguments(settings) == ["--conf", "spark.a=1", "--conf", "spark.b=x y"]


def test_the_command_lists_the_served_buckets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = tls.ensure(tmp_path / "tls")
    server = EmulatorServer("127.0.0.1", 0, ssl_context=tls.server_context(files))
    url = server.start()
    try:
        boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            verify=str(files.ca_bundle),
            config=Config(s3={"addressing_style": "path"}),
        ).create_bucket(Bucket="served-offline")
        assert main(["spark-conf", "--endpoint", url, "--data-dir", str(tmp_path)]) == 0
    finally:
        server.shutdown()
    lines = dict(line.split(" ", 1) for line in capsys.readouterr().out.splitlines())
    assert lines["spark.hadoop.fs.s3a.bucket.served-offline.endpoint"] == url
    assert (
        f"-Djavax.net.ssl.trustStore={files.truststore}" in lines["spark.driver.extraJavaOptions"]
    )


def test_the_command_says_what_is_missing_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["spark-conf", "--endpoint", "https://127.0.0.1:1", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no trust store" in err
    code = main(["spark-conf", "--endpoint", "http://127.0.0.1:1"])  # nothing listens there
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--bucket" in err


def test_the_s3a_jars_come_out_of_the_source_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip is asked for the source distribution; the two jars are taken out of it, nothing
    else; a second call finds them and asks for nothing."""
    calls: list[list[str]] = []

    def download(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        archive = Path(command[command.index("--dest") + 1]) / "sagemaker_pyspark-1.4.5.tar.gz"
        with tarfile.open(archive, "w:gz") as out:
            for name in (*spark.S3A_JARS, "other-1.0.jar"):
                data = f"jar {name}".encode()
                member = tarfile.TarInfo(f"sagemaker_pyspark-1.4.5/deps/jars/{name}")
                member.size = len(data)
                out.addfile(member, io.BytesIO(data))
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(spark.subprocess, "run", download)
    found = spark.fetch_s3a_jars(tmp_path / "jars")
    assert [p.name for p in found] == list(spark.S3A_JARS)
    assert sorted(p.name for p in (tmp_path / "jars").iterdir()) == sorted(spark.S3A_JARS)
    assert found[0].read_bytes() == f"jar {spark.S3A_JARS[0]}".encode()
    assert calls[0][:3] == [sys.executable, "-m", "pip"] and spark.S3A_SOURCE in calls[0]
    spark.fetch_s3a_jars(tmp_path / "jars")
    assert len(calls) == 1


def test_a_failed_download_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution\n")

    monkeypatch.setattr(spark.subprocess, "run", fails)
    with pytest.raises(spark.SparkConfError, match="No matching distribution") as raised:
        spark.fetch_s3a_jars(tmp_path)
    assert "\n" not in str(raised.value)
