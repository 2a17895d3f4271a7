"""Nothing accepted is lost: a write answered 200 is kept, with a missing bucket and after SIGKILL."""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import os
import shutil
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest

from fsconformance.emulator import clock
from fsconformance.mock import mock_featurestore
from fsconformance.waiters import eventually
from tests.helpers import FAST, ID_AND_TIME, Wire, create_request, js_sdk, serve, wait_created
from tests.system.restarts import DataDirServer


def create(wire_or_sagemaker: object, name: str = "g") -> None:
    sagemaker = (
        wire_or_sagemaker.client("sagemaker")
        if isinstance(wire_or_sagemaker, Wire)
        else wire_or_sagemaker
    )
    sagemaker.create_feature_group(
        **create_request(name, ID_AND_TIME, offline="s3://offline/store")
    )
    wait_created(sagemaker, name)


def record(i: int) -> list[dict[str, str]]:
    return [
        {"FeatureName": "id", "ValueAsString": str(i)},
        {"FeatureName": "t", "ValueAsString": str(1000 + i)},
    ]


def offline_rows(s3: object) -> int:
    listed = s3.list_objects_v2(Bucket="offline").get("Contents", [])
    return sum(
        pq.read_table(
            io.BytesIO(s3.get_object(Bucket="offline", Key=o["Key"])["Body"].read())
        ).num_rows
        for o in listed
    )


def test_a_missing_bucket_blocks_the_offline_store_and_keeps_the_rows() -> None:
    with mock_featurestore(FAST):
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name="us-east-1")
        s3 = boto3.client("s3", region_name="us-east-1")
        create(sagemaker)
        for i in range(5):
            runtime.put_record(FeatureGroupName="g", Record=record(i))
        clock.flush_all()
        status = sagemaker.describe_feature_group(FeatureGroupName="g")["OfflineStoreStatus"]
        assert status["Status"] == "Blocked" and "offline" in status["BlockedReason"]
        listed = sagemaker.list_feature_groups(OfflineStoreStatusEquals="Blocked")
        assert [g["FeatureGroupName"] for g in listed["FeatureGroupSummaries"]] == ["g"]
        s3.create_bucket(Bucket="offline")
        clock.flush_all()
        assert offline_rows(s3) == 5
        assert sagemaker.describe_feature_group(FeatureGroupName="g")["OfflineStoreStatus"] == {
            "Status": "Active"
        }


DELAYS = ("CREATE", "UPDATE", "DELETE", "DATA_PLANE", "OFFLINE", "ATHENA")


class Served(DataDirServer):
    """``fsconformance serve --data-dir`` with every delay zero, and a wire to it."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        zero = {f"FSCONFORMANCE_DELAY_{k}": "0" for k in DELAYS}
        super().__init__(data_dir, {**zero, **(env or {})})
        self.wire = Wire("serve", self.url)


def refused_start(data_dir: Path) -> tuple[int, list[str]]:
    """Start serve on ``data_dir`` expecting a refusal: its exit code and stderr lines."""
    process = serve("--data-dir", str(data_dir))
    _, errors = process.communicate(timeout=60)
    return process.returncode, errors.splitlines()


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"


def test_every_write_answered_200_survives_sigkill(data_dir: Path) -> None:
    first = Served(data_dir)
    try:
        first.wire.client("s3").create_bucket(Bucket="offline")
        create(first.wire)
        runtime = first.wire.client("sagemaker-featurestore-runtime")
        for i in range(30):
            runtime.put_record(FeatureGroupName="g", Record=record(i))
        runtime.delete_record(
            FeatureGroupName="g", RecordIdentifierValueAsString="0", EventTime="2000"
        )
        first.wire.client("sagemaker").add_tags(
            ResourceArn="arn:aws:sagemaker:us-east-1:123456789012:feature-group/g",
            Tags=[{"Key": "k", "Value": "v"}],
        )
    finally:
        first.kill()  # no shutdown, no flush: only what was journaled before each 200 remains
    second = Served(data_dir)
    try:
        assert second.replayed_exactly() == 34  # bucket, group, 30 puts, the delete, the tags
        runtime = second.wire.client("sagemaker-featurestore-runtime")
        assert (
            runtime.get_record(FeatureGroupName="g", RecordIdentifierValueAsString="0").get(
                "Record"
            )
            is None
        )
        for i in range(1, 30):
            got = runtime.get_record(FeatureGroupName="g", RecordIdentifierValueAsString=str(i))
            assert {"FeatureName": "t", "ValueAsString": str(1000 + i)} in got["Record"]
        sagemaker = second.wire.client("sagemaker")
        assert sagemaker.list_tags(
            ResourceArn="arn:aws:sagemaker:us-east-1:123456789012:feature-group/g"
        )["Tags"] == [{"Key": "k", "Value": "v"}]
        table = sagemaker.describe_feature_group(FeatureGroupName="g")["OfflineStoreConfig"][
            "DataCatalogConfig"
        ]
        second.wire.client("glue").get_table(
            DatabaseName=table["Database"], Name=table["TableName"]
        )
        eventually(
            lambda: offline_rows(second.wire.client("s3")) == 31,
            timeout=20,
            interval=0.1,
            what="31 offline rows",
        )
    finally:
        second.stop()


def seen_by_the_client(wire: Wire, held: dict[str, Any]) -> dict[str, Any]:
    """What a client reads back of everything it wrote, identifiers and times included."""
    s3, iam, glue = wire.client("s3"), wire.client("iam"), wire.client("glue")
    versions = s3.list_object_versions(Bucket="versioned")
    return {
        "objects": {
            o["Key"]: (o["ETag"], o["LastModified"], o["Size"])
            for o in s3.list_objects_v2(Bucket="plain").get("Contents", [])
        },
        "bodies": {
            key: hashlib.sha256(s3.get_object(Bucket="plain", Key=key)["Body"].read()).hexdigest()
            for key in ("a+b c/é", "copy", "12MB")
        },
        "versions": [
            (v["VersionId"], v["ETag"], v["LastModified"]) for v in versions.get("Versions", [])
        ],
        "markers": [(v["VersionId"], v["LastModified"]) for v in versions["DeleteMarkers"]],
        "tags": s3.get_object_tagging(Bucket="plain", Key="a+b c/é")["TagSet"],
        "buckets": [(b["Name"], b["CreationDate"]) for b in s3.list_buckets()["Buckets"]],
        "parts": [
            (p["PartNumber"], p["ETag"])
            for p in s3.list_parts(Bucket="plain", Key="unfinished", UploadId=held["upload"])[
                "Parts"
            ]
        ],
        "role": {
            k: v for k, v in iam.get_role(RoleName="r")["Role"].items() if k != "RoleLastUsed"
        },
        "keys": iam.list_access_keys(UserName="u")["AccessKeyMetadata"],
        "table": glue.get_table(DatabaseName="db", Name="t")["Table"],
        "caller": wire.client("sts").get_caller_identity()["Arn"],
        "assumed": boto3.client(
            "sts",
            endpoint_url=wire.url,
            region_name="us-east-1",
            aws_access_key_id=held["credentials"]["AccessKeyId"],
            aws_secret_access_key=held["credentials"]["SecretAccessKey"],
            aws_session_token=held["credentials"]["SessionToken"],
        ).get_caller_identity()["Arn"],
        "query": {
            k: v
            for k, v in wire.client("athena")
            .get_query_execution(QueryExecutionId=held["query"])["QueryExecution"]
            .items()
            if k not in ("Status", "Statistics")  # when the engine ran: derived, not kept
        },
        "group": {
            k: v
            for k, v in wire.client("sagemaker")
            .describe_feature_group(FeatureGroupName="g")
            .items()
            if k != "ResponseMetadata"
        },
        "record": wire.client("sagemaker-featurestore-runtime").get_record(
            FeatureGroupName="g", RecordIdentifierValueAsString="7"
        )["Record"],
    }


def test_identifiers_and_times_a_client_holds_are_the_same_after_sigkill(
    data_dir: Path, tmp_path: Path
) -> None:
    """Principle 12: what moto and the emulation made up (UploadId, VersionId, role and key
    ids, STS credentials, query id) and the times they stamped come back as first answered,
    and a client can go on using them."""
    first = Served(data_dir)
    held: dict[str, Any] = {}
    try:
        s3, iam = first.wire.client("s3"), first.wire.client("iam")
        s3.create_bucket(Bucket="plain")
        s3.create_bucket(Bucket="versioned")
        s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
        held["v1"] = s3.put_object(Bucket="versioned", Key="k", Body=b"one")["VersionId"]
        held["v2"] = s3.put_object(Bucket="versioned", Key="k", Body=b"two")["VersionId"]
        held["marker"] = s3.delete_object(Bucket="versioned", Key="k")["VersionId"]
        s3.put_object(Bucket="plain", Key="a+b c/é", Body=os.urandom(1000), Tagging="t=1")
        s3.put_object_tagging(
            Bucket="plain", Key="a+b c/é", Tagging={"TagSet": [{"Key": "t", "Value": "2"}]}
        )
        s3.copy_object(Bucket="plain", Key="copy", CopySource={"Bucket": "plain", "Key": "a+b c/é"})
        s3.put_object(Bucket="plain", Key="gone", Body=b"x")
        s3.delete_object(Bucket="plain", Key="gone")
        big = tmp_path / "12MB"
        big.write_bytes(os.urandom(12 * 1024 * 1024))
        s3.upload_file(str(big), "plain", "12MB")  # multipart: boto3's threshold is 8 MB
        held["upload"] = s3.create_multipart_upload(Bucket="plain", Key="unfinished")["UploadId"]
        held["part1"] = s3.upload_part(
            Bucket="plain",
            Key="unfinished",
            UploadId=held["upload"],
            PartNumber=1,
            Body=b"1" * (5 * 1024 * 1024),
        )["ETag"]
        iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        iam.create_user(UserName="u")
        iam.create_access_key(UserName="u")
        held["credentials"] = first.wire.client("sts").assume_role(
            RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="session"
        )["Credentials"]
        glue = first.wire.client("glue")
        glue.create_database(DatabaseInput={"Name": "db"})
        glue.create_table(
            DatabaseName="db",
            TableInput={
                "Name": "t",
                "StorageDescriptor": {"Columns": [{"Name": "a", "Type": "int"}]},
            },
        )
        s3.create_bucket(Bucket="offline")
        create(first.wire)
        runtime = first.wire.client("sagemaker-featurestore-runtime")
        for i in range(10):
            runtime.put_record(FeatureGroupName="g", Record=record(i))
        held["query"] = first.wire.client("athena").start_query_execution(
            QueryString="SELECT 42", ResultConfiguration={"OutputLocation": "s3://offline/q/"}
        )["QueryExecutionId"]
        before = seen_by_the_client(first.wire, held)
    finally:
        first.kill()
    second = Served(data_dir)
    try:
        assert second.replayed_exactly() > 20
        after = seen_by_the_client(second.wire, held)
        assert after == before
        assert [v[0] for v in after["versions"]] == [held["v2"], held["v1"]]
        assert [m[0] for m in after["markers"]] == [held["marker"]]
        assert after["assumed"].endswith(":assumed-role/r/session")
        s3 = second.wire.client("s3")
        part2 = s3.upload_part(
            Bucket="plain", Key="unfinished", UploadId=held["upload"], PartNumber=2, Body=b"2"
        )["ETag"]
        s3.complete_multipart_upload(
            Bucket="plain",
            Key="unfinished",
            UploadId=held["upload"],
            MultipartUpload={
                "Parts": [
                    {"PartNumber": 1, "ETag": held["part1"]},
                    {"PartNumber": 2, "ETag": part2},
                ]
            },
        )
        body = s3.get_object(Bucket="plain", Key="unfinished")["Body"].read()
        assert body == b"1" * (5 * 1024 * 1024) + b"2"
        results = second.wire.client("athena").get_query_results(QueryExecutionId=held["query"])
        assert results["ResultSet"]["Rows"][1]["Data"] == [{"VarCharValue": "42"}]
        with pytest.raises(s3.exceptions.NoSuchKey):
            s3.get_object(Bucket="plain", Key="gone")
    finally:
        second.stop()


S3_SIGNED = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=0"
}


def aws_chunked(data: bytes, checksum: str) -> bytes:
    """``data`` framed as S3's aws-chunked encoding, unsigned, with a CRC-32 trailer."""
    framed = b"".join(
        f"{len(data[i : i + 65536]):x}\r\n".encode() + data[i : i + 65536] + b"\r\n"
        for i in range(0, len(data), 65536)
    )
    return framed + f"0\r\nx-amz-checksum-crc32:{checksum}\r\n\r\n".encode()


def put_streamed(url: str, path: str, chunks: list[bytes], headers: dict[str, str]) -> int:
    """A PUT whose body goes out with ``Transfer-Encoding: chunked`` (no Content-Length)."""
    host, port = url[len("http://") :].rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        signed = {**S3_SIGNED, **headers}
        connection.request("PUT", path, body=iter(chunks), headers=signed, encode_chunked=True)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_streamed_and_aws_chunked_uploads_come_back_exact(data_dir: Path) -> None:
    """A body sent chunked (as the JavaScript SDK v3 streams over http) is journaled with its
    exact length: after SIGKILL it reads back byte for byte, not empty."""
    data = os.urandom(200_000)
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    framed = aws_chunked(data, crc)
    first = Served(data_dir)
    try:
        first.wire.client("s3").create_bucket(Bucket="streams")
        trailer = {
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(data)),
            "x-amz-trailer": "x-amz-checksum-crc32",
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        }
        assert (
            put_streamed(first.url, "/streams/trailer", [framed[:999], framed[999:]], trailer)
            == 200
        )
        assert put_streamed(first.url, "/streams/chunked", [data[:7], data[7:]], {}) == 200
    finally:
        first.kill()
    second = Served(data_dir)
    try:
        assert second.replayed_exactly() == 3
        s3 = second.wire.client("s3")
        for key in ("trailer", "chunked"):
            assert s3.get_object(Bucket="streams", Key=key)["Body"].read() == data, key
    finally:
        second.stop()


def test_a_damaged_journal_still_starts_and_keeps_what_came_before(data_dir: Path) -> None:
    """A crash mid-append leaves a torn record, a disk can leave garbage: the server starts,
    says in one line where the journal ended and how much it kept, restores that, and keeps
    the rest on disk."""
    first = Served(data_dir)
    try:
        s3 = first.wire.client("s3")
        s3.create_bucket(Bucket="kept")
        for i in range(5):
            s3.put_object(Bucket="kept", Key=f"k{i}", Body=f"body {i}".encode())
    finally:
        first.kill()
    journal = data_dir / "journal.log"
    end = journal.stat().st_size
    garbage = b"\x07torn record, then noise" + os.urandom(300)
    with journal.open("ab") as file:
        file.write(garbage)
    second = Served(data_dir)
    try:
        aside = data_dir / "journal.log.damaged-1"
        assert [n for n in second.notices if "damaged record at" in n] == [
            f"fsconformance serve: {journal}: damaged record at byte {end}; kept 6 entries, "
            f"set aside {len(garbage)} bytes in {aside}"
        ]
        assert aside.read_bytes() == garbage
        assert second.replayed_exactly() == 6
        s3 = second.wire.client("s3")
        for i in range(5):
            assert s3.get_object(Bucket="kept", Key=f"k{i}")["Body"].read() == f"body {i}".encode()
        s3.put_object(Bucket="kept", Key="after", Body=b"after")  # the journal goes on
    finally:
        second.kill()
    third = Served(data_dir)
    try:
        assert third.replayed_exactly() == 7
        assert [n for n in third.notices if "damaged record at" in n] == []
    finally:
        third.stop()


def test_a_journal_from_a_newer_version_is_refused_in_one_line(data_dir: Path) -> None:
    data_dir.mkdir()
    journal = data_dir / "journal.log"
    journal.write_bytes(b"fsconformance journal 9\nfrom the future")
    code, lines = refused_start(data_dir)
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith(f"fsconformance serve: {journal}: ")
    assert "format 9" in lines[0]
    assert journal.read_bytes() == b"fsconformance journal 9\nfrom the future"


JS_UPLOADS = r"""
const sdk = process.argv[2];
const { S3Client, PutObjectCommand, GetObjectCommand, CreateBucketCommand } =
  require(`${sdk}/node_modules/@aws-sdk/client-s3`);
const { Upload } = require(`${sdk}/node_modules/@aws-sdk/lib-storage`);
const { Readable } = require("node:stream");
const { createHash } = require("node:crypto");
const [endpoint, mode] = process.argv.slice(3);
const s3 = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true,
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
function bytes(n, seed) {
  const b = Buffer.alloc(n); let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) & 0x7fffffff; b[i] = x & 0xff; }
  return b;
}
const objects = { small: bytes(1000, 1), streamed: bytes(1 << 20, 2), multipart: bytes(11 << 20, 3) };
(async () => {
  if (mode === "write") {
    await s3.send(new CreateBucketCommand({ Bucket: "js-uploads" }));
    for (const key of ["small", "streamed"]) {
      const body = objects[key];
      await s3.send(new PutObjectCommand({ Bucket: "js-uploads", Key: key, ContentLength: body.length,
        Body: Readable.from([body.subarray(0, 100), body.subarray(100)]) }));
    }
    await new Upload({ client: s3, partSize: 5 << 20,
      params: { Bucket: "js-uploads", Key: "multipart", Body: Readable.from([objects.multipart]) } }).done();
  }
  const found = {};
  for (const key of Object.keys(objects)) {
    const got = await (await s3.send(new GetObjectCommand({ Bucket: "js-uploads", Key: key }))).Body
      .transformToByteArray();
    found[key] = createHash("sha256").update(got).digest("hex") ===
      createHash("sha256").update(objects[key]).digest("hex") ? "exact" : `${got.length} bytes`;
  }
  console.log(JSON.stringify(found));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_the_js_sdk_v3s_streamed_uploads_come_back_exact(data_dir: Path, tmp_path: Path) -> None:
    """The JavaScript SDK streams over http as aws-chunked with Transfer-Encoding: chunked,
    and uploads big bodies in parts: each reads back exact after SIGKILL."""
    sdk = js_sdk()
    script = tmp_path / "uploads.js"
    script.write_text(JS_UPLOADS)

    def run(url: str, mode: str) -> dict[str, str]:
        done = subprocess.run(
            ["node", str(script), str(sdk), url, mode], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    exact = {"small": "exact", "streamed": "exact", "multipart": "exact"}
    first = Served(data_dir)
    try:
        assert run(first.url, "write") == exact
    finally:
        first.kill()
    second = Served(data_dir)
    try:
        second.replayed_exactly()
        assert run(second.url, "read") == exact
    finally:
        second.stop()


@pytest.mark.requires(packages=["awscli>=1.33"])
def test_the_aws_clis_uploads_come_back_exact(data_dir: Path, tmp_path: Path) -> None:
    """``aws s3 cp`` uploads a big file in parts and a small one whole: both read back exact
    after SIGKILL."""
    big, small = tmp_path / "big", tmp_path / "small"
    big.write_bytes(os.urandom(10 * 1024 * 1024))
    small.write_bytes(os.urandom(1000))
    executable = shutil.which("aws", path=str(Path(sys.executable).parent)) or "aws"
    credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }

    def aws(url: str, *args: str) -> None:
        done = subprocess.run(
            [executable, *args, "--endpoint-url", url],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **credentials},
        )
        assert done.returncode == 0, done.stderr

    first = Served(data_dir)
    try:
        aws(first.url, "s3", "mb", "s3://cli")
        aws(first.url, "s3", "cp", str(big), "s3://cli/big")
        aws(first.url, "s3", "cp", str(small), "s3://cli/small")
    finally:
        first.kill()
    second = Served(data_dir)
    try:
        second.replayed_exactly()
        for path in (big, small):
            copy = tmp_path / f"{path.name}.back"
            aws(second.url, "s3", "cp", f"s3://cli/{path.name}", str(copy))
            assert copy.read_bytes() == path.read_bytes()
    finally:
        second.stop()


def test_a_read_that_readies_a_service_changes_no_identifier(data_dir: Path) -> None:
    """moto readies an account's IAM on its first request, drawing ids for AWS's managed
    policies then. A read that comes first is not journaled, so a replay readies IAM inside
    the first write instead: the role id that write makes must not depend on which came."""
    first = Served(data_dir)
    try:
        iam = first.wire.client("iam")
        iam.list_roles()
        role_id = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["RoleId"]
        iam.create_user(UserName="u")
        key_id = iam.create_access_key(UserName="u")["AccessKey"]["AccessKeyId"]
    finally:
        first.kill()
    second = Served(data_dir)
    try:
        assert second.replayed_exactly() == 3
        iam = second.wire.client("iam")
        assert iam.get_role(RoleName="r")["Role"]["RoleId"] == role_id
        keys = iam.list_access_keys(UserName="u")["AccessKeyMetadata"]
        assert [k["AccessKeyId"] for k in keys] == [key_id]
    finally:
        second.stop()
