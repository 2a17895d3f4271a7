"""The one transformer for volatile values, shared by recording, replay and the ledger.

Whatever differs between two runs of the same test (account, region, the backend's bucket and
role, ARNs' ids, times, request ids, epoch suffixes, UUIDs, generated names
``fsct-{run}-{worker}-{n}``) becomes a placeholder such as ``<account>`` or ``<name:1>``.
Generated names are numbered in the order a test first shows them, so a recording still says
which group is which. Anything that could be a credential is dropped, not normalised.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...s3_uri import split_s3_uri

# Keys never written, whatever their value (credentials and transport details).
SECRET_KEYS = frozenset(
    {
        "authorization",
        "accesskeyid",
        "aws_access_key_id",
        "secretaccesskey",
        "aws_secret_access_key",
        "sessiontoken",
        "aws_session_token",
        "credentials",
        "x-amz-security-token",
    }
)
DROPPED_KEYS = frozenset({"ResponseMetadata"}) | SECRET_KEYS
BACKEND_TAG_PREFIX = "fsconformance:"  # the aws backend's bookkeeping tags

_NAME = re.compile(r"fsct[-_]([a-z0-9]{1,8})[-_]([a-zA-Z0-9]{1,8})[-_](\d+)")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
# A random (version 4) UUID written without dashes, as pyarrow and pandas name the files they
# write (``uuid4().hex``). The version and variant digits keep content hashes such as ETags
# from matching, but for one in 64.
_UUID4_HEX = re.compile(r"(?<![0-9a-f])[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}(?![0-9a-f])")
_ACCOUNT_IN_ARN = re.compile(r"(arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:)\d{12}(?=:)")
_EPOCH_SUFFIX = re.compile(r"(?<=[-_])1[5-9]\d{8}(?!\d)")  # 2017 .. 2033, seconds
_PARQUET_FILE = re.compile(r"\d{8}T\d{6}Z_[A-Za-z0-9]{16}\.parquet")
_ICEBERG_DATA_FOLDER = re.compile(r"(?<=/data/)[A-Za-z0-9]{8}(?=/)")  # C-064's random folder
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
_NOW_WINDOW = 3 * 24 * 3600.0  # a time within three days of now is the run's, not the test's


def _is_secret(key: str) -> bool:
    return key.lower() in SECRET_KEYS


@dataclass
class Normaliser:
    """Normalise values for one test; ``known`` maps literal volatile strings to placeholders."""

    known: Mapping[str, str] = field(default_factory=dict)
    names: dict[str, int] = field(default_factory=dict)
    now: float = field(default_factory=time.time)
    backend: Any = None  # read for its volatile values at each use (they are set on start)

    @classmethod
    def for_backend(cls, backend: Any) -> Normaliser:
        """A transformer that also replaces the backend's account, bucket, role, ..."""
        return cls(backend=backend)

    @staticmethod
    def backend_values(backend: Any) -> dict[str, str]:
        """The literal volatile values a backend knows: account, bucket, role, Athena output."""
        known: dict[str, str] = {}
        for attribute, placeholder in (
            ("athena_output", "<athena-output>"),
            ("offline_s3_uri", "<offline-s3-uri>"),
            ("role_arn", "<role-arn>"),
            ("account_id", "<account>"),
        ):
            value = str(getattr(backend, attribute, "") or "")
            if value:
                known[value] = placeholder
                if value.endswith("/"):
                    known[value.rstrip("/")] = placeholder.rstrip(">") + "-without-slash>"
        output = str(getattr(backend, "athena_output", "") or "")
        if output.startswith("s3://"):
            # S3 calls name the output as a key: its prefix differs between backends.
            key_prefix = split_s3_uri(output)[1]
            if key_prefix:
                known.setdefault(key_prefix, "<athena-output-key>/")
        uri = str(getattr(backend, "offline_s3_uri", "") or "")
        if uri.startswith("s3://"):  # tests that list the files name the bucket on its own
            bucket = split_s3_uri(uri)[0]
            if bucket:
                known.setdefault(bucket, "<offline-bucket>")
        return known

    # -- strings ------------------------------------------------------------------------------

    def _name(self, match: re.Match[str]) -> str:
        key = f"{match[1].lower()}-{match[2].lower()}-{match[3]}"
        number = self.names.setdefault(key, len(self.names) + 1)
        separator = "_" if "_" in match[0] else "-"
        return f"<name{separator}{number}>"

    def _near_now(self, seconds: float) -> bool:
        return abs(seconds - self.now) < _NOW_WINDOW

    def text(self, value: str) -> str:
        """One string with its volatile parts replaced."""
        known = dict(self.known)
        if self.backend is not None:
            known.update(self.backend_values(self.backend))
        for literal in sorted(known, key=len, reverse=True):
            if literal and literal in value:
                value = value.replace(literal, known[literal])
        value = _NAME.sub(self._name, value)
        value = _UUID.sub("<uuid>", value)
        value = _UUID4_HEX.sub("<uuid>", value)
        value = _ACCOUNT_IN_ARN.sub(r"\1<account>", value)
        value = _PARQUET_FILE.sub("<T>_<random16>.parquet", value)
        value = _ICEBERG_DATA_FOLDER.sub("<random8>", value)
        value = _EPOCH_SUFFIX.sub(
            lambda m: "<epoch>" if self._near_now(float(m[0])) else m[0], value
        )
        whole = _ISO.fullmatch(value)
        if whole:
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return value
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.timezone.utc)
            if self._near_now(parsed.timestamp()):
                return "<now:iso>"
        elif re.fullmatch(r"1[5-9]\d{8}(\.\d+)?", value) and self._near_now(float(value)):
            return "<now:epoch>"
        return value

    # -- any value ----------------------------------------------------------------------------

    def value(self, value: Any) -> Any:
        """A JSON-ready copy of ``value`` with volatile parts replaced and secrets dropped."""
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, item in value.items():
                key = str(key)
                if key in DROPPED_KEYS or _is_secret(key):
                    continue
                if key == "NextToken" or key == "ContinuationToken":
                    out[key] = "<token>"
                    continue
                if key == "Tags" and isinstance(item, list):
                    own = [
                        tag
                        for tag in item
                        if not (
                            isinstance(tag, Mapping)
                            and str(tag.get("Key", "")).startswith(BACKEND_TAG_PREFIX)
                        )
                    ]
                    if item and not own:
                        continue  # only the backend's bookkeeping tags: the test sent none
                    item = own
                out[self.text(key)] = self.value(item)
            return out
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        if isinstance(value, dt.datetime):
            return "<datetime>"
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (bytes, bytearray)):
            return "<bytes>"
        return f"<{type(value).__name__}>"  # streams and other objects are never read


LONG_TEXT = 256
LONG_LIST = 20


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def compact(value: Any) -> Any:
    """A normalised request, with long strings and long lists cut down to a digest.

    Both sides of a comparison compact the same way, so requests still pair up; the snapshot
    stays readable (a 2,500-feature request is three features and a digest).
    """
    if isinstance(value, dict):
        return {key: compact(item) for key, item in value.items()}
    if isinstance(value, list):
        if len(value) > LONG_LIST:
            rest = len(value) - 3
            return [compact(item) for item in value[:3]] + [
                f"<{rest} more, sha256 {_digest(value)}>"
            ]
        return [compact(item) for item in value]
    if isinstance(value, str) and len(value) > LONG_TEXT:
        return f"<{len(value)} characters, sha256 {_digest(value)}>"
    return value


def normalise(value: Any, normaliser: Normaliser | None = None) -> Any:
    """Normalise ``value`` with a fresh transformer unless one is given."""
    return (normaliser or Normaliser()).value(value)
