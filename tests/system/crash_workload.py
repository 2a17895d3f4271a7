"""The crash-consistency workload behind ``tests/system/test_crash_consistency.py``
(docs/durability.md).

Writers of every kind the journal keeps (S3 objects put whole, streamed with aws-chunked
trailers, uploaded in parts, copied, tagged and deleted; versioned buckets; multipart uploads
held across restarts; Feature Store records and groups; Glue tables; Athena queries; IAM
roles; STS credentials) write concurrently to ``fsconformance serve --data-dir`` until SIGKILL
lands, round after round on one data directory. After each restart every writer reads back
what it wrote.

Each writer owns its names, so what it expects of them follows from its own acknowledged
writes alone. The write it had in flight when the server died may have been kept or not:
the writer accepts either outcome, exactly, and goes on from the one it finds. Anything else
(an acknowledged write missing or different, a write half applied, a deleted thing back) is
a lost write. The writers' choices and the kill moments (counted in acknowledged writes) come
from one seed; how the threads interleave is the machine's.

Run it alone, from the checkout:
``python -m tests.system.crash_workload [--seed N] [--rounds N] [--data-dir DIR]``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import random
import sys
import tempfile
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.helpers import ID_AND_TIME, create_request
from tests.system.restarts import DataDirServer

REGION = "us-east-1"
ACCOUNT = "123456789012"
RECORDS_GROUP = "crash-records"
STS_ROLE = "crash-sts-role"
# Small parts keep a multipart upload cheap; moto's minimum part size follows.
PART = 256 * 1024
SERVER_ENV = {
    **{
        f"FSCONFORMANCE_DELAY_{step}": "0"
        for step in ("CREATE", "UPDATE", "DELETE", "DATA_PLANE", "OFFLINE", "ATHENA")
    },
    "S3_UPLOAD_PART_MIN_SIZE": str(PART),
    "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": str(16 * 1024 * 1024),
}
# Reads compare bodies by SHA-256 themselves; botocore's own check of a stored checksum is
# off, since moto gives a copy of an object uploaded in parts the parts' checksum (a gap of
# moto's, with or without a restart).
CONFIG = Config(
    response_checksum_validation="when_required",
    s3={"addressing_style": "path"},
    retries={"max_attempts": 1, "mode": "standard"},
    connect_timeout=10,
    read_timeout=60,
)
TRANSFER = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=2)


class Dead(Exception):
    """The server stopped answering (it was killed)."""


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def absent(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    return code in (
        "NoSuchKey",
        "NoSuchBucket",
        "404",
        "NoSuchUpload",
        "ResourceNotFound",
        "EntityNotFoundException",
        "NoSuchEntity",
    )


class Clients:
    """One writer's clients of one server (a restart listens on a new port)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._made: dict[str, Any] = {}

    def __getattr__(self, service: str) -> Any:
        name = {"runtime": "sagemaker-featurestore-runtime"}.get(service, service)
        if service not in self._made:
            self._made[service] = boto3.client(
                name,
                endpoint_url=self.url,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=CONFIG,
            )
        return self._made[service]

    def streamed_put(self, bucket: str, key: str, data: bytes) -> None:
        """A PUT as the JavaScript SDK streams one over http: Transfer-Encoding chunked, the
        body aws-chunked with a CRC-32 trailer."""
        checksum = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        framed = (
            b"".join(
                f"{len(data[i : i + 8192]):x}\r\n".encode() + data[i : i + 8192] + b"\r\n"
                for i in range(0, len(data), 8192)
            )
            + f"0\r\nx-amz-checksum-crc32:{checksum}\r\n\r\n".encode()
        )
        host, port = self.url[len("http://") :].rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        headers = {
            "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/s3/"
            "aws4_request, SignedHeaders=host, Signature=0",
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(data)),
            "x-amz-trailer": "x-amz-checksum-crc32",
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        }
        try:
            path = f"/{bucket}/{key}"
            chunks = iter([framed[:100], framed[100:]])
            connection.request("PUT", path, body=chunks, headers=headers, encode_chunked=True)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as error:
            raise Dead(str(error)) from None
        finally:
            connection.close()
        if response.status != 200:
            raise AssertionError(f"streamed PUT {path}: {response.status}")


_UNSET = object()


@dataclass
class Pending:
    """The write in flight: what it was, and the state it leaves if it was kept (None when
    it makes up an identifier the writer never saw; ``accept`` then judges)."""

    what: str
    after: Any = None


class Writer:
    """One writer: its own names, its expected state, its write in flight."""

    kind = "writer"

    def __init__(self, index: int, rng: random.Random) -> None:
        self.index = index
        self.rng = rng
        self.state: Any = self.initial()
        self.pending: Pending | None = None
        self.acknowledged = 0

    def initial(self) -> Any:
        return {}

    def write(self, what: str, after: Any, call: Callable[[], Any], if_kept: Any = _UNSET) -> Any:
        """Send one write; once it is acknowledged its state is the expected one.

        ``after`` is that state, or a function of the answer giving it when the write makes
        up an identifier; ``if_kept`` is what ``accept`` knows of the write's outcome should
        the answer never come back (by default ``after``, or None if that needs the answer).
        """
        if if_kept is _UNSET:
            if_kept = None if callable(after) else after
        self.pending = Pending(what, if_kept)
        try:
            result = call()
        except ClientError:
            raise
        except (BotoCoreError, OSError, http.client.HTTPException, S3UploadFailedError) as error:
            raise Dead(f"{what}: {error}") from None
        if callable(after):
            after = after(result)
        self.state = after
        self.pending = None
        self.acknowledged += 1
        return result

    def step(self, c: Clients) -> None:
        raise NotImplementedError

    def observe(self, c: Clients) -> Any:
        raise NotImplementedError

    def accept(self, found: Any) -> bool:
        """Whether ``found`` is what the write in flight leaves, if it was kept."""
        return self.pending is not None and found == self.pending.after

    def check(self, c: Clients, report: Report) -> None:
        """After a restart: the expected state, or the in-flight write's outcome on it."""
        found = self.observe(c)
        if self.pending is not None:
            report.in_flight += 1
        if found == self.state:
            self.pending = None
            return
        if self.pending is not None and self.accept(found):
            report.in_flight_kept += 1
            self.state = found
            self.pending = None
            return
        report.lost.append(
            f"{self.kind} {self.index}: expected {short(self.state)}, found {short(found)}"
            + (f" (in flight: {self.pending.what})" if self.pending else "")
        )
        self.state = found  # go on from what is there, so one loss is reported once
        self.pending = None


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 600 else text[:600] + "..."


# -- S3 ---------------------------------------------------------------------------------------


class S3Objects(Writer):
    """Objects put whole, streamed, uploaded in parts, copied, tagged, deleted."""

    kind = "s3"
    keys = ("k0", "k1", "a+b c/é")

    def initial(self) -> Any:
        return {"bucket": False, "objects": {}}

    @property
    def bucket(self) -> str:
        return f"crash-s3-{self.index}"

    def step(self, c: Clients) -> None:
        state = self.state
        if not state["bucket"]:
            self.write(
                "create bucket",
                {**state, "bucket": True},
                lambda: c.s3.create_bucket(Bucket=self.bucket),
            )
            return
        objects = state["objects"]
        key = self.rng.choice(self.keys)
        choice = self.rng.random()

        def keep(entry: tuple[str, tuple] | None, at: str = key) -> dict:
            changed = dict(objects)
            if entry is None:
                changed.pop(at, None)
            else:
                changed[at] = entry
            return {**state, "objects": changed}

        if choice < 0.3:
            data = self.rng.randbytes(self.rng.choice([0, 10, 1000, 70_000]))
            self.write(
                f"put {key}",
                keep((sha(data), ())),
                lambda: c.s3.put_object(Bucket=self.bucket, Key=key, Body=data),
            )
        elif choice < 0.45:
            data = self.rng.randbytes(self.rng.choice([1, 20_000]))
            self.write(
                f"streamed put {key}",
                keep((sha(data), ())),
                lambda: c.streamed_put(self.bucket, urllib.parse.quote(key), data),
            )
        elif choice < 0.55:
            data = self.rng.randbytes(2 * PART + 1000)
            self.write(
                f"upload in parts {key}",
                keep((sha(data), ())),
                lambda: c.s3.upload_fileobj(_Reader(data), self.bucket, key, Config=TRANSFER),
            )
        elif choice < 0.7 and set(objects) - {key}:
            source = self.rng.choice(sorted(set(objects) - {key}))
            self.write(
                f"copy {source} to {key}",
                keep((objects[source][0], (("copied", "yes"),))),
                lambda: c.s3.copy_object(
                    Bucket=self.bucket,
                    Key=key,
                    CopySource={"Bucket": self.bucket, "Key": source},
                    TaggingDirective="REPLACE",
                    Tagging="copied=yes",
                ),
            )
        elif choice < 0.85 and key in objects:
            value = str(self.rng.randrange(1000))
            self.write(
                f"tag {key}",
                keep((objects[key][0], (("t", value),))),
                lambda: c.s3.put_object_tagging(
                    Bucket=self.bucket, Key=key, Tagging={"TagSet": [{"Key": "t", "Value": value}]}
                ),
            )
        else:
            self.write(
                f"delete {key}",
                keep(None),
                lambda: c.s3.delete_object(Bucket=self.bucket, Key=key),
            )

    def observe(self, c: Clients) -> Any:
        try:
            listed = c.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        except ClientError as error:
            if absent(error):
                return {"bucket": False, "objects": {}}
            raise
        objects = {}
        for item in listed:
            key = item["Key"]
            body = c.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            tags = c.s3.get_object_tagging(Bucket=self.bucket, Key=key)["TagSet"]
            objects[key] = (sha(body), tuple(sorted((t["Key"], t["Value"]) for t in tags)))
        return {"bucket": True, "objects": objects}


class _Reader:
    """A file-like body, so boto3's transfer manager uploads it in parts."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._at + size
        chunk = self._data[self._at : end]
        self._at += len(chunk)
        return chunk


class Versioned(Writer):
    """A versioned bucket: every put and delete makes a version id the writer holds."""

    kind = "versioned"

    def initial(self) -> Any:
        return {"bucket": False, "versioning": False, "versions": frozenset()}

    @property
    def bucket(self) -> str:
        return f"crash-ver-{self.index}"

    def step(self, c: Clients) -> None:
        state = self.state
        if not state["bucket"]:
            self.write(
                "create bucket",
                {**state, "bucket": True},
                lambda: c.s3.create_bucket(Bucket=self.bucket),
            )
        elif not state["versioning"]:
            self.write(
                "enable versioning",
                {**state, "versioning": True},
                lambda: c.s3.put_bucket_versioning(
                    Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"}
                ),
            )
        elif self.rng.random() < 0.75 or not state["versions"]:
            # (moto makes no delete marker for a key that never had a version)
            data = self.rng.randbytes(self.rng.choice([5, 3000]))
            self.write(
                "put a version",
                lambda answer: {
                    **state,
                    "versions": state["versions"] | {(answer["VersionId"], sha(data))},
                },
                lambda: c.s3.put_object(Bucket=self.bucket, Key="k", Body=data),
                if_kept=("put", sha(data)),
            )
        else:
            self.write(
                "delete (a marker)",
                lambda answer: {
                    **state,
                    "versions": state["versions"] | {(answer["VersionId"], None)},
                },
                lambda: c.s3.delete_object(Bucket=self.bucket, Key="k"),
                if_kept=("delete", None),
            )

    def observe(self, c: Clients) -> Any:
        try:
            versioning = c.s3.get_bucket_versioning(Bucket=self.bucket).get("Status") == "Enabled"
        except ClientError as error:
            if absent(error):
                return self.initial()
            raise
        listed = c.s3.list_object_versions(Bucket=self.bucket, Prefix="k")
        versions = {(m["VersionId"], None) for m in listed.get("DeleteMarkers", [])}
        for v in listed.get("Versions", []):
            body = c.s3.get_object(Bucket=self.bucket, Key="k", VersionId=v["VersionId"])
            versions.add((v["VersionId"], sha(body["Body"].read())))
        return {"bucket": True, "versioning": versioning, "versions": frozenset(versions)}

    def accept(self, found: Any) -> bool:
        pending = self.pending
        if pending is None:
            return False
        if isinstance(pending.after, dict):
            return found == pending.after
        extra = found["versions"] - self.state["versions"]
        return (
            {k: v for k, v in found.items() if k != "versions"}
            == {k: v for k, v in self.state.items() if k != "versions"}
            and found["versions"] >= self.state["versions"]
            and len(extra) == 1
            and next(iter(extra))[1] == pending.after[1]
        )


class HeldUpload(Writer):
    """A multipart upload whose UploadId the writer holds across restarts, part by part."""

    kind = "multipart"

    def initial(self) -> Any:
        return {"bucket": False, "upload": None, "parts": (), "done": {}}

    @property
    def bucket(self) -> str:
        return f"crash-mp-{self.index}"

    def step(self, c: Clients) -> None:
        state = self.state
        if not state["bucket"]:
            self.write(
                "create bucket",
                {**state, "bucket": True},
                lambda: c.s3.create_bucket(Bucket=self.bucket),
            )
        elif state["upload"] is None:
            key = f"m{len(state['done'])}"
            self.write(
                "create multipart upload",
                lambda answer: {**state, "upload": (key, answer["UploadId"]), "parts": ()},
                lambda: c.s3.create_multipart_upload(Bucket=self.bucket, Key=key),
            )
        elif len(state["parts"]) < 3:
            key, upload = state["upload"]
            number = len(state["parts"]) + 1
            data = self.rng.randbytes(PART if number < 3 else 777)
            etag = f'"{hashlib.md5(data).hexdigest()}"'
            after = {**state, "parts": (*state["parts"], (number, etag, data))}
            self.write(
                f"upload part {number}",
                after,
                lambda: c.s3.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload, PartNumber=number, Body=data
                ),
            )
        else:
            key, upload = state["upload"]
            body = b"".join(part[2] for part in state["parts"])
            parts = [{"PartNumber": n, "ETag": etag} for n, etag, _ in state["parts"]]
            self.write(
                "complete the upload",
                {**state, "upload": None, "parts": (), "done": {**state["done"], key: sha(body)}},
                lambda: c.s3.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload,
                    MultipartUpload={"Parts": parts},
                ),
            )

    def observe(self, c: Clients) -> Any:
        state = self.state
        try:
            c.s3.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            if absent(error):
                return self.initial()
            raise
        done = {}
        for key in [*state["done"], *([state["upload"][0]] if state["upload"] else [])]:
            try:
                done[key] = sha(c.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
            except ClientError as error:
                if not absent(error):
                    raise
        upload, parts = state["upload"], ()
        if upload is not None:
            try:
                listed = c.s3.list_parts(Bucket=self.bucket, Key=upload[0], UploadId=upload[1])
                known = {n: data for n, _, data in state["parts"]}
                pending = self.pending.after if self.pending else None
                if isinstance(pending, dict):
                    known.update({n: data for n, _, data in pending["parts"]})
                parts = tuple(
                    (p["PartNumber"], p["ETag"], known.get(p["PartNumber"], b"?"))
                    for p in listed.get("Parts", [])
                )
            except ClientError as error:
                if not absent(error):
                    raise
                upload = None  # completed: the upload is gone
        return {"bucket": True, "upload": upload, "parts": parts, "done": done}

    def accept(self, found: Any) -> bool:
        pending = self.pending
        if pending is None:
            return False
        if pending.after is None:  # a create whose UploadId never came back
            return found == self.state
        return found == pending.after


# -- Feature Store ----------------------------------------------------------------------------


class Records(Writer):
    """Records of a shared group, put and deleted, with rising event times."""

    kind = "records"

    def initial(self) -> Any:
        return {}

    def step(self, c: Clients) -> None:
        record_id = f"w{self.index}-{self.rng.randrange(4)}"
        # Every write a later event time than any before, sent or kept: a delete must be
        # later than the record it deletes (C-102).
        self.moment = getattr(self, "moment", 1_700_000_000) + 1
        moment = self.moment
        if self.rng.random() < 0.8:
            value = str(self.rng.randrange(10**9))
            record = {"id": record_id, "t": str(moment), "v": value}
            self.write(
                f"put {record_id}",
                {**self.state, record_id: record},
                lambda: c.runtime.put_record(
                    FeatureGroupName=RECORDS_GROUP,
                    Record=[{"FeatureName": k, "ValueAsString": v} for k, v in record.items()],
                ),
            )
        else:
            self.write(
                f"delete {record_id}",
                {**self.state, record_id: None},
                lambda: c.runtime.delete_record(
                    FeatureGroupName=RECORDS_GROUP,
                    RecordIdentifierValueAsString=record_id,
                    EventTime=str(moment),
                ),
            )

    def observe(self, c: Clients) -> Any:
        found = {}
        for record_id in {*self.state, *((self.pending.after or {}) if self.pending else {})}:
            got = c.runtime.get_record(
                FeatureGroupName=RECORDS_GROUP, RecordIdentifierValueAsString=record_id
            ).get("Record")
            found[record_id] = {f["FeatureName"]: f["ValueAsString"] for f in got} if got else None
        # A record never put reads as None either way.
        return {k: v for k, v in found.items() if v is not None or k in self.state}


class Groups(Writer):
    """Feature groups created, given features and tags, and deleted."""

    kind = "groups"

    def initial(self) -> Any:
        return {"made": 0, "groups": {}}

    def arn(self, name: str) -> str:
        return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:feature-group/{name}"

    def step(self, c: Clients) -> None:
        state, groups = self.state, self.state["groups"]
        live = sorted(name for name, g in groups.items() if g is not None)
        choice = self.rng.random()
        if not live or choice < 0.3:
            name = f"crash-g{self.index}-{state['made']}"
            self.write(
                f"create {name}",
                {"made": state["made"] + 1, "groups": {**groups, name: (("id", "t"), ())}},
                lambda: c.sagemaker.create_feature_group(**create_request(name, ID_AND_TIME)),
            )
            return
        name = self.rng.choice(live)
        features, tags = groups[name]
        if choice < 0.55:
            feature = f"f{len(features)}"
            self.write(
                f"add {feature} to {name}",
                {**state, "groups": {**groups, name: ((*features, feature), tags)}},
                lambda: c.sagemaker.update_feature_group(
                    FeatureGroupName=name,
                    FeatureAdditions=[{"FeatureName": feature, "FeatureType": "Integral"}],
                ),
            )
        elif choice < 0.8:
            value = str(self.rng.randrange(100))
            self.write(
                f"tag {name}",
                {**state, "groups": {**groups, name: (features, (("k", value),))}},
                lambda: c.sagemaker.add_tags(
                    ResourceArn=self.arn(name), Tags=[{"Key": "k", "Value": value}]
                ),
            )
        else:
            self.write(
                f"delete {name}",
                {**state, "groups": {**groups, name: None}},
                lambda: c.sagemaker.delete_feature_group(FeatureGroupName=name),
            )

    def observe(self, c: Clients) -> Any:
        state = self.state
        names = set(state["groups"])
        if self.pending and isinstance(self.pending.after, dict):
            names |= set(self.pending.after["groups"])
        found: dict[str, Any] = {}
        for name in sorted(names):
            try:
                described = c.sagemaker.describe_feature_group(FeatureGroupName=name)
            except ClientError as error:
                if not absent(error):
                    raise
                if name in state["groups"]:
                    found[name] = None
                continue
            tags = c.sagemaker.list_tags(ResourceArn=self.arn(name))["Tags"]
            found[name] = (
                tuple(d["FeatureName"] for d in described["FeatureDefinitions"]),
                tuple(sorted((t["Key"], t["Value"]) for t in tags)),
            )
        made = state["made"]
        creating = self.pending is not None and isinstance(self.pending.after, dict)
        if creating and self.pending.after["made"] > made:  # type: ignore[union-attr]
            made += 1 if found.get(f"crash-g{self.index}-{made}") else 0
        return {"made": made, "groups": found}


# -- Glue, Athena, IAM, STS -------------------------------------------------------------------


class GlueTables(Writer):
    """Tables of the writer's own database, created, changed and deleted."""

    kind = "glue"

    def initial(self) -> Any:
        return {"database": False, "tables": {}}

    @property
    def database(self) -> str:
        return f"crashdb{self.index}"

    def step(self, c: Clients) -> None:
        state = self.state
        if not state["database"]:
            self.write(
                "create database",
                {**state, "database": True},
                lambda: c.glue.create_database(DatabaseInput={"Name": self.database}),
            )
            return
        table = f"t{self.rng.randrange(3)}"
        tables = state["tables"]
        columns = tuple(f"c{i}" for i in range(self.rng.randrange(1, 5)))
        table_input = {
            "Name": table,
            "StorageDescriptor": {"Columns": [{"Name": n, "Type": "int"} for n in columns]},
        }
        if table not in tables:
            call = lambda: c.glue.create_table(DatabaseName=self.database, TableInput=table_input)  # noqa: E731
            self.write(f"create {table}", {**state, "tables": {**tables, table: columns}}, call)
        elif self.rng.random() < 0.6:
            call = lambda: c.glue.update_table(DatabaseName=self.database, TableInput=table_input)  # noqa: E731
            self.write(f"update {table}", {**state, "tables": {**tables, table: columns}}, call)
        else:
            kept = {k: v for k, v in tables.items() if k != table}
            self.write(
                f"delete {table}",
                {**state, "tables": kept},
                lambda: c.glue.delete_table(DatabaseName=self.database, Name=table),
            )

    def observe(self, c: Clients) -> Any:
        try:
            listed = c.glue.get_tables(DatabaseName=self.database)["TableList"]
        except ClientError as error:
            if absent(error):
                return self.initial()
            raise
        return {
            "database": True,
            "tables": {
                t["Name"]: tuple(col["Name"] for col in t["StorageDescriptor"]["Columns"])
                for t in listed
            },
        }


class Queries(Writer):
    """Athena queries whose ids the writer holds; each must answer its own number."""

    kind = "athena"

    def initial(self) -> Any:
        return {"bucket": False, "queries": {}}

    def step(self, c: Clients) -> None:
        state = self.state
        if not state["bucket"]:
            self.write(
                "create bucket",
                {**state, "bucket": True},
                lambda: c.s3.create_bucket(Bucket=f"crash-athena-{self.index}"),
            )
            return
        number = self.rng.randrange(10**6)
        self.write(
            f"query {number}",
            lambda answer: {
                **state,
                "queries": {**state["queries"], answer["QueryExecutionId"]: str(number)},
            },
            lambda: c.athena.start_query_execution(
                QueryString=f"SELECT {number}",
                ResultConfiguration={"OutputLocation": f"s3://crash-athena-{self.index}/q/"},
            ),
        )

    def observe(self, c: Clients) -> Any:
        found = {}
        for query_id in self.state["queries"]:
            deadline = time.monotonic() + 60
            while True:
                try:
                    status = c.athena.get_query_execution(QueryExecutionId=query_id)
                except ClientError:
                    break
                if status["QueryExecution"]["Status"]["State"] not in ("QUEUED", "RUNNING"):
                    break
                if time.monotonic() > deadline:
                    break
                threading.Event().wait(0.02)  # a query is still running: poll
            try:
                rows = c.athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
                found[query_id] = rows[1]["Data"][0]["VarCharValue"]
            except (ClientError, IndexError, KeyError):
                found[query_id] = None
        try:
            c.s3.head_bucket(Bucket=f"crash-athena-{self.index}")
            bucket = True
        except ClientError:
            bucket = False
        return {"bucket": bucket, "queries": found}

    def accept(self, found: Any) -> bool:
        if self.pending is None:
            return False
        # A query whose id never came back is invisible to the writer: nothing changed.
        return found == (self.state if self.pending.after is None else self.pending.after)


class Roles(Writer):
    """IAM roles whose ids the writer holds, tagged and deleted."""

    kind = "iam"

    def initial(self) -> Any:
        return {"made": 0, "roles": {}}

    def step(self, c: Clients) -> None:
        state, roles = self.state, self.state["roles"]
        live = sorted(name for name, role in roles.items() if role is not None)
        choice = self.rng.random()
        if not live or choice < 0.4:
            name = f"crash-r{self.index}-{state['made']}"
            self.write(
                f"create {name}",
                lambda answer: {
                    "made": state["made"] + 1,
                    "roles": {**roles, name: (answer["Role"]["RoleId"], ())},
                },
                lambda: c.iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}"),
                if_kept=("create", name),
            )
            return
        name = self.rng.choice(live)
        role_id, _ = roles[name]
        if choice < 0.75:
            value = str(self.rng.randrange(100))
            self.write(
                f"tag {name}",
                {**state, "roles": {**roles, name: (role_id, (("k", value),))}},
                lambda: c.iam.tag_role(RoleName=name, Tags=[{"Key": "k", "Value": value}]),
            )
        else:
            self.write(
                f"delete {name}",
                {**state, "roles": {**roles, name: None}},
                lambda: c.iam.delete_role(RoleName=name),
            )

    def observe(self, c: Clients) -> Any:
        state = self.state
        names = list(state["roles"])
        pending = self.pending.after if self.pending else None
        if isinstance(pending, tuple):
            names.append(pending[1])
        found: dict[str, Any] = {}
        for name in names:
            try:
                role = c.iam.get_role(RoleName=name)["Role"]
            except ClientError as error:
                if not absent(error):
                    raise
                if name in state["roles"]:
                    found[name] = None
                continue
            tags = c.iam.list_role_tags(RoleName=name)["Tags"]
            found[name] = (role["RoleId"], tuple(sorted((t["Key"], t["Value"]) for t in tags)))
        made = state["made"] + (1 if isinstance(pending, tuple) and found.get(pending[1]) else 0)
        return {"made": made, "roles": found}

    def accept(self, found: Any) -> bool:
        pending = self.pending
        if pending is None:
            return False
        if isinstance(pending.after, tuple):  # a create: the role exists with a new id
            name = pending.after[1]
            rest = {k: v for k, v in found["roles"].items() if k != name}
            return (
                rest == self.state["roles"]
                and found["roles"].get(name) is not None
                and found["made"] == self.state["made"] + 1
            )
        return found == pending.after


class Credentials(Writer):
    """STS credentials from AssumeRole, still good for the session they named."""

    kind = "sts"

    def initial(self) -> Any:
        return {}

    def step(self, c: Clients) -> None:
        session = f"s{self.index}-{self.acknowledged}"
        self.write(
            f"assume {session}",
            lambda answer: {
                **{k: v for k, v in self.state.items() if k in sorted(self.state)[-3:]},
                session: (
                    answer["Credentials"]["AccessKeyId"],
                    answer["Credentials"]["SecretAccessKey"],
                    answer["Credentials"]["SessionToken"],
                ),
            },
            lambda: c.sts.assume_role(
                RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{STS_ROLE}", RoleSessionName=session
            ),
        )

    def observe(self, c: Clients) -> Any:
        found = {}
        for session, held in self.state.items():
            if not isinstance(held, tuple):  # reported lost already: what was found then
                found[session] = held
                continue
            key, secret, token = held
            arn = boto3.client(
                "sts",
                endpoint_url=c.url,
                region_name=REGION,
                aws_access_key_id=key,
                aws_secret_access_key=secret,
                aws_session_token=token,
                config=CONFIG,
            ).get_caller_identity()["Arn"]
            expected = f"arn:aws:sts::{ACCOUNT}:assumed-role/{STS_ROLE}/{session}"
            found[session] = (key, secret, token) if arn == expected else arn
        return found

    def accept(self, found: Any) -> bool:
        # Credentials whose answer never came back are invisible to the writer.
        return self.pending is not None and found == self.state


KINDS: list[type[Writer]] = [
    S3Objects,
    Versioned,
    HeldUpload,
    Records,
    Groups,
    GlueTables,
    Queries,
    Roles,
    Credentials,
]


# -- the server and the rounds ----------------------------------------------------------------


@dataclass
class Report:
    seed: int
    rounds: int = 0
    acknowledged: int = 0
    in_flight: int = 0
    in_flight_kept: int = 0
    replayed: int = 0
    replayed_differently: int = 0
    lost: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"crash test, seed {self.seed}: {self.rounds} rounds, {self.acknowledged} writes "
            f"acknowledged, {len(self.lost)} lost; {self.in_flight} in flight at a kill "
            f"({self.in_flight_kept} kept, {self.in_flight - self.in_flight_kept} not); "
            f"{self.replayed} writes replayed at restarts, {self.replayed_differently} "
            "differently"
        )


def setup(c: Clients) -> None:
    """What every round's writers share: the records' group and the role STS assumes."""
    features = {**ID_AND_TIME, "v": "String"}
    c.sagemaker.create_feature_group(**create_request(RECORDS_GROUP, features))
    c.iam.create_role(RoleName=STS_ROLE, AssumeRolePolicyDocument="{}")


def run(data_dir: Path, seed: int, rounds: int) -> Report:
    """``rounds`` rounds of writing until SIGKILL, each checked after the restart."""
    rng = random.Random(seed)
    writers = [kind(i, random.Random(rng.random())) for i, kind in enumerate(KINDS)]
    report = Report(seed)
    for number in range(rounds + 1):
        server = DataDirServer(data_dir, SERVER_ENV)
        try:
            replayed, differed = server.restored()
            report.replayed += replayed
            report.replayed_differently += differed
            report.notices.extend(n for n in server.notices if " restored " not in n)
            if number == 0:
                setup(Clients(server.url))
            for writer in writers:
                writer.check(Clients(server.url), report)
        except BaseException:
            server.kill()
            raise
        if number == rounds:  # the last restart only checks
            server.stop()
            break
        report.rounds += 1
        _write_until_killed(server, writers, rng.randint(3, 40), report)
    report.acknowledged = sum(w.acknowledged for w in writers) + 2  # and the setup's two
    return report


def _write_until_killed(
    server: DataDirServer, writers: list[Writer], kill_after: int, report: Report
) -> None:
    """Every writer writes in a thread of its own; SIGKILL once ``kill_after`` more writes
    are acknowledged (or a writer fails)."""
    progress = threading.Condition()
    killed = threading.Event()
    counts = {"acknowledged": 0, "stopped": 0}

    def work(writer: Writer) -> None:
        c = Clients(server.url)
        try:
            while not killed.is_set():
                writer.step(c)
                with progress:
                    counts["acknowledged"] += 1
                    progress.notify_all()
        except Dead as error:
            if not killed.is_set():
                report.failures.append(
                    f"{writer.kind} {writer.index}: no answer before the kill: {error}"
                )
        except Exception as error:  # noqa: BLE001 - a refused write is a finding
            if not killed.is_set():
                report.failures.append(
                    f"{writer.kind} {writer.index}: {type(error).__name__}: {error}"
                )
                writer.pending = None
        finally:
            with progress:
                counts["stopped"] += 1
                progress.notify_all()

    threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in writers]
    for thread in threads:
        thread.start()
    with progress:
        progress.wait_for(
            lambda: counts["acknowledged"] >= kill_after or counts["stopped"] > 0, timeout=120
        )
    killed.set()
    server.kill()
    for thread in threads:
        thread.join(timeout=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(args.data_dir or Path(scratch) / "data")
        report = run(data_dir, args.seed, args.rounds)
    print(report.summary())
    for line in [*report.notices, *report.failures, *report.lost]:
        print(f"  {line}")
    return 0 if not report.lost and not report.failures and not report.replayed_differently else 1


if __name__ == "__main__":
    sys.exit(main())
