"""Spark and Hadoop settings that point a Spark job at a served emulation (docs/spark.md).

The Feature Store Spark connector writes offline rows through S3A and online rows through the
AWS SDK for Java v2. Three things about it decide the settings:

* At ingest time it sets ``fs.s3a.endpoint`` to the region's AWS endpoint, the credential
  providers and SSE-KMS, for every bucket. S3A's per-bucket options
  (``fs.s3a.bucket.<bucket>.*``) win over those, so the endpoint, path-style access and
  credentials are given per bucket.
* The SDK for Java v1 inside S3A refuses SSE-KMS over plain HTTP. Against ``serve --tls`` the
  connector's SSE-KMS goes through (the JVM trusts the local CA's trust store); against plain
  HTTP the per-bucket encryption setting is emptied, so S3A writes unencrypted objects.
* The SDK for Java v2 (DescribeFeatureGroup, PutRecord) takes its endpoint, region and
  credentials from JVM system properties (``aws.endpointUrl``, ``aws.region``,
  ``aws.accessKeyId``, ``aws.secretAccessKey``), given in the driver's and executors' Java
  options.

The S3A classes are not in pyspark's wheel; :func:`fetch_s3a_jars` takes ``hadoop-aws`` and
the AWS SDK bundle it was built with out of the ``sagemaker-pyspark`` source distribution,
which carries both, for machines where Maven is out of reach.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .emulator.transports.tls import TRUSTSTORE_PASSWORD

S3A_SIMPLE_CREDENTIALS = "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
# The source distribution that carries the S3A jars, and the two it carries (hadoop-aws
# 3.3.1 was built against that SDK bundle; pyspark 3.5 ships Hadoop 3.3 client libraries).
S3A_SOURCE = "sagemaker-pyspark==1.4.5"
S3A_JARS = ("hadoop-aws-3.3.1.jar", "aws-java-sdk-bundle-1.11.901.jar")


class SparkConfError(ValueError):
    """A setting cannot be made as asked; the message is one plain line."""


def spark_settings(
    endpoint: str,
    buckets: Iterable[str],
    *,
    region: str = "us-east-1",
    access_key: str = "testing",
    secret_key: str = "testing",
    truststore: str | Path | None = None,
    jars: Iterable[str | Path] = (),
) -> dict[str, str]:
    """The Spark configuration (``spark.*`` keys) for jobs against ``endpoint``.

    ``buckets``: the buckets the job reads or writes through S3A (the offline store's and any
    source's). ``truststore``: the PKCS#12 trust store of ``serve --tls`` (needed when the
    endpoint is ``https``). ``jars``: jar files to put on the classpath (``spark.jars``).
    """
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SparkConfError(f"--endpoint {endpoint!r} is not an http:// or https:// URL")
    tls = parts.scheme == "https"
    trust = Path(truststore).resolve() if truststore is not None else None
    if tls and trust is None:
        raise SparkConfError(
            f"--endpoint {endpoint} is HTTPS: give the trust store serve --tls printed "
            "(--truststore DIR/tls/truststore.p12)"
        )
    names = sorted(set(buckets))
    if not names:
        raise SparkConfError("no bucket: name the offline store's bucket with --bucket")
    endpoint = endpoint.rstrip("/")
    settings: dict[str, str] = {}
    jar_list = [str(Path(j)) for j in jars]
    if jar_list:
        settings["spark.jars"] = ",".join(jar_list)
    s3a = {
        "endpoint": endpoint,
        "path.style.access": "true",
        "connection.ssl.enabled": str(tls).lower(),
        "aws.credentials.provider": S3A_SIMPLE_CREDENTIALS,
        "access.key": access_key,
        "secret.key": secret_key,
    }
    # The defaults, for what reads S3 before the connector runs (a feature processor's
    # CSV source), then each bucket's own, which the connector's settings cannot override.
    for key, value in s3a.items():
        settings[f"spark.hadoop.fs.s3a.{key}"] = value
    for bucket in names:
        for key, value in s3a.items():
            settings[f"spark.hadoop.fs.s3a.bucket.{bucket}.{key}"] = value
        if not tls:
            # SSE-KMS needs HTTPS in the SDK for Java v1: without TLS, no encryption.
            settings[f"spark.hadoop.fs.s3a.bucket.{bucket}.server-side-encryption-algorithm"] = ""
    java = [
        f"-Daws.endpointUrl={endpoint}",
        f"-Daws.region={region}",
        f"-Daws.accessKeyId={access_key}",
        f"-Daws.secretAccessKey={secret_key}",
    ]
    if tls and trust is not None:
        java += [
            f"-Djavax.net.ssl.trustStore={trust}",
            "-Djavax.net.ssl.trustStoreType=PKCS12",
            f"-Djavax.net.ssl.trustStorePassword={TRUSTSTORE_PASSWORD}",
        ]
    options = " ".join(java)
    settings["spark.driver.extraJavaOptions"] = options
    settings["spark.executor.extraJavaOptions"] = options
    return settings


def as_spark_defaults(settings: Mapping[str, str]) -> str:
    """``spark-defaults.conf`` lines: key, whitespace, value."""
    return "".join(f"{key} {value}\n" for key, value in settings.items())


def as_submit_arguments(settings: Mapping[str, str]) -> list[str]:
    """``spark-submit`` arguments: ``--conf key=value`` for each setting."""
    arguments: list[str] = []
    for key, value in settings.items():
        arguments += ["--conf", f"{key}={value}"]
    return arguments


def served_buckets(endpoint: str, ca_bundle: str | Path | None = None) -> list[str]:
    """The buckets the served emulation holds now."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        verify=str(ca_bundle) if ca_bundle else None,  # None: AWS_CA_BUNDLE or the system's
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )
    return [b["Name"] for b in client.list_buckets().get("Buckets", [])]


def fetch_s3a_jars(directory: str | Path) -> list[Path]:
    """``hadoop-aws`` and the AWS SDK bundle in ``directory``, taken from the
    ``sagemaker-pyspark`` source distribution (pip downloads it once; about 180 MB)."""
    target = Path(directory)
    wanted = [target / name for name in S3A_JARS]
    if all(path.is_file() for path in wanted):
        return wanted
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fsconformance-s3a-") as scratch:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        command += ["--no-binary", ":all:", "--dest", scratch, S3A_SOURCE]
        done = subprocess.run(command, capture_output=True, text=True)
        archives = list(Path(scratch).glob("*.tar.gz"))
        if done.returncode != 0 or not archives:
            last = (done.stderr.strip().splitlines() or ["no archive downloaded"])[-1]
            raise SparkConfError(f"pip download {S3A_SOURCE} failed: {last}")
        with tarfile.open(archives[0]) as archive:
            for member in archive.getmembers():
                name = member.name.rsplit("/", 1)[-1]
                if member.isfile() and name in S3A_JARS:
                    source = archive.extractfile(member)
                    assert source is not None
                    partial = target / f"{name}.part"
                    with source, partial.open("wb") as out:
                        shutil.copyfileobj(source, out)
                    partial.replace(target / name)
    missing = [path.name for path in wanted if not path.is_file()]
    if missing:
        raise SparkConfError(f"{S3A_SOURCE} did not carry {', '.join(missing)}")
    return wanted


# -- the command line ------------------------------------------------------------------------


def add_commands(commands: Any) -> None:
    """``fsconformance spark-conf`` and ``spark-jars``, on the command line's subparsers."""
    conf = commands.add_parser(
        "spark-conf",
        help="print the Spark settings for Spark jobs against a served emulation",
        description="Print the Spark and Hadoop settings (S3A per bucket, path style, "
        "credentials, TLS trust, the SDK for Java's endpoint) with which the Feature Store "
        "Spark connector and the SDK's feature processor run against `fsconformance serve`.",
    )
    conf.add_argument("--endpoint", required=True, metavar="URL", help="what serve printed")
    conf.add_argument(
        "--bucket",
        action="append",
        default=[],
        metavar="NAME",
        help="a bucket the job reads or writes (repeatable); default: every bucket the "
        "endpoint holds now",
    )
    conf.add_argument("--region", default="us-east-1", help="the groups' region (us-east-1)")
    conf.add_argument(
        "--data-dir",
        metavar="DIR",
        help="serve's --data-dir, where serve --tls keeps its trust store (DIR/tls)",
    )
    conf.add_argument(
        "--truststore", metavar="FILE", help="the Java trust store serve --tls printed"
    )
    conf.add_argument(
        "--jars-dir",
        metavar="DIR",
        help="put every jar in DIR on the classpath (spark.jars), and the connector's own "
        "jar when feature_store_pyspark is installed",
    )
    conf.add_argument(
        "--format",
        choices=("defaults", "submit"),
        default="defaults",
        help="spark-defaults.conf lines (default) or spark-submit --conf arguments",
    )
    conf.set_defaults(handler=_cmd_spark_conf)
    jars = commands.add_parser(
        "spark-jars",
        help="put the S3A jars (hadoop-aws, the AWS SDK bundle) into a directory",
        description="Take hadoop-aws-3.3.1.jar and aws-java-sdk-bundle-1.11.901.jar out of the "
        "sagemaker-pyspark source distribution (pip downloads it) into DIR, for machines where "
        "Maven is out of reach. Nothing is fetched when both are there.",
    )
    jars.add_argument("directory", metavar="DIR")
    jars.set_defaults(handler=_cmd_spark_jars)


def _cmd_spark_conf(args: argparse.Namespace) -> int:
    import shlex

    from .emulator.transports import tls

    truststore = args.truststore
    ca_bundle = None
    if truststore is not None and (Path(truststore).parent / "ca.pem").is_file():
        ca_bundle = Path(truststore).parent / "ca.pem"  # serve --tls keeps both together
    if args.endpoint.startswith("https://") and truststore is None:
        files = tls.TlsFiles(tls.default_directory(args.data_dir))
        truststore, ca_bundle = str(files.truststore), files.ca_bundle
        if not files.truststore.is_file():
            print(
                f"fsconformance spark-conf: no trust store at {files.truststore}; give "
                "--truststore or serve's --data-dir",
                file=sys.stderr,
            )
            return 2
    jars: list[str] = []
    if args.jars_dir:
        jars = sorted(str(p) for p in Path(args.jars_dir).glob("*.jar"))
        try:
            import feature_store_pyspark

            jars = list(feature_store_pyspark.classpath_jars()) + jars
        except ImportError:
            pass
    try:
        buckets = args.bucket or served_buckets(args.endpoint, ca_bundle)
        settings = spark_settings(
            args.endpoint, buckets, region=args.region, truststore=truststore, jars=jars
        )
    except SparkConfError as error:
        print(f"fsconformance spark-conf: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # the endpoint did not answer ListBuckets
        print(
            f"fsconformance spark-conf: cannot list the buckets of {args.endpoint} "
            f"({type(error).__name__}); name them with --bucket",
            file=sys.stderr,
        )
        return 2
    if args.format == "submit":
        print(shlex.join(as_submit_arguments(settings)))
    else:
        print(as_spark_defaults(settings), end="")
    return 0


def _cmd_spark_jars(args: argparse.Namespace) -> int:

    try:
        for path in fetch_s3a_jars(args.directory):
            print(path)
    except SparkConfError as error:
        print(f"fsconformance spark-jars: {error}", file=sys.stderr)
        return 1
    return 0
