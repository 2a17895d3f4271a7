"""While the emulation is active, moto's S3 finds a ListObjectsV2 page by bisection and
writes its answer directly: the same page, token, status, headers and bytes as moto's own
listing and serializer, which are the oracle here, for the same listing of the same bucket;
and moto is left exactly as it was when the last user leaves."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.handlers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsconformance.emulator.moto_seam import mock_aws, s3_listing
from fsconformance.emulator.moto_seam.s3_listing import _list_page, answer_listings_directly

BUCKET = "listing-bucket"
# Keys as an offline store writes them, and keys with what XML must escape or a client must
# percent-encode.
KEYS = [
    "offline/year=2026/month=12/part-0001.parquet",
    "offline/year=2026/month=12/part-0002.parquet",
    "offline/year=2027/part 3 & <4>.parquet",
    "other/\"quoted\" 'key'",
    "é/ünïcode",
    "top-level",
]
LISTINGS: list[dict[str, Any]] = [
    {},
    {"MaxKeys": 2},
    {"MaxKeys": 0},
    {"Prefix": "offline/"},
    {"Prefix": "nothing-here/"},
    {"Delimiter": "/"},
    {"Delimiter": "/", "Prefix": "offline/year=2026/"},
    {"StartAfter": "offline/year=2027", "FetchOwner": True},
    {"FetchOwner": True, "MaxKeys": 3},
]


class Captured:
    """The raw answers a client received, as the transport gave them."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str], bytes]] = []

    def __call__(self, response_dict: dict[str, Any] | None = None, **_: Any) -> None:
        if response_dict is not None:
            headers = {
                name.lower(): value
                for name, value in response_dict["headers"].items()
                if name.lower() not in ("x-amzn-requestid", "date")  # differ call to call
            }
            self.answers.append((response_dict["status_code"], headers, response_dict["body"]))


@pytest.fixture
def moto_s3() -> Iterator[Any]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield s3


def unencoded(s3: Any) -> Any:
    """A client that does not ask for url-encoded keys (boto3 asks by default), so the XML
    itself must escape them."""
    client = boto3.client("s3", region_name="us-east-1")
    client.meta.events.unregister(
        "before-parameter-build.s3.ListObjectsV2",
        botocore.handlers.set_list_objects_encoding_type_url,
    )
    return client


@contextmanager
def listing_as(direct: bool) -> Iterator[None]:
    """moto's S3 listing as moto shipped it, or as the seam adjusts it, whatever this process
    holds (a server made here keeps the adjustment on); then as it was."""
    was = bool(s3_listing._moto)
    answer_listings_directly(direct)
    try:
        yield
    finally:
        answer_listings_directly(was)


def both_answers(client: Any, listing: dict[str, Any]) -> tuple[Any, Any]:
    """The same listing answered by moto's serializer, then by the direct writer (and checked
    to be each's: moto's generic serializer runs for the first only)."""
    from moto.core.responses import ActionResult

    captured = Captured()
    client.meta.events.register("response-received.s3.ListObjectsV2", captured)
    generic = ActionResult.execute_result
    calls: list[bool] = []

    def counted(self: Any, context: Any) -> Any:
        calls.append(bool(s3_listing._moto))
        return generic(self, context)

    ActionResult.execute_result = counted  # type: ignore[method-assign]
    try:
        for direct in (False, True):
            with listing_as(direct):
                client.list_objects_v2(Bucket=BUCKET, **listing)
    finally:
        ActionResult.execute_result = generic  # type: ignore[method-assign]
    client.meta.events.unregister("response-received.s3.ListObjectsV2", captured)
    assert calls == [False], "moto's serializer ran for the direct answer, or not for moto's"
    moto_answer, direct_answer = captured.answers
    return moto_answer, direct_answer


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda listing: repr(listing))
@pytest.mark.parametrize("encoded", [True, False], ids=["url-encoded", "plain"])
def test_a_listing_is_the_bytes_moto_writes(moto_s3: Any, listing: dict, encoded: bool) -> None:
    for key in KEYS:
        moto_s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    client = moto_s3 if encoded else unencoded(moto_s3)
    moto_answer, direct_answer = both_answers(client, listing)
    assert direct_answer == moto_answer


def test_the_next_page_and_an_empty_bucket_are_the_bytes_moto_writes(moto_s3: Any) -> None:
    assert both_answers(moto_s3, {})[1] == both_answers(moto_s3, {})[0]
    for key in KEYS:
        moto_s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    token = moto_s3.list_objects_v2(Bucket=BUCKET, MaxKeys=2)["NextContinuationToken"]
    moto_answer, direct_answer = both_answers(moto_s3, {"ContinuationToken": token, "MaxKeys": 2})
    assert direct_answer == moto_answer


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    keys=st.lists(
        st.text(
            st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=40
        ),
        min_size=1,
        max_size=8,
        unique=True,
    ),
    delimiter=st.sampled_from([None, "/", "a"]),
)
def test_any_keys_are_listed_in_the_bytes_moto_writes(
    moto_s3: Any, keys: list[str], delimiter: str | None
) -> None:
    for key in keys:
        moto_s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    listing = {"Delimiter": delimiter} if delimiter else {}
    for client in (moto_s3, unencoded(moto_s3)):
        moto_answer, direct_answer = both_answers(client, listing)
        assert direct_answer == moto_answer
    for key in keys:
        moto_s3.delete_object(Bucket=BUCKET, Key=key)


NAMES = st.text("ab/-é", min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(
    keys=st.lists(NAMES, min_size=0, max_size=30, unique=True),
    deleted=st.sets(st.integers(0, 29), max_size=6),
    prefix=st.sampled_from(["", "a", "a/", "b/a", "é"]),
    delimiter=st.sampled_from([None, "/", "a", "/-"]),
    start_after=st.one_of(st.none(), st.text("ab/-", max_size=4)),
    max_keys=st.integers(0, 8),
)
def test_a_page_is_the_page_moto_finds(
    keys: list[str],
    deleted: set[int],
    prefix: str,
    delimiter: str | None,
    start_after: str | None,
    max_keys: int,
) -> None:
    """Pages, folders, deleted keys (a versioned bucket's delete markers), StartAfter and the
    continuation tokens moto hands out, page after page."""
    from moto.s3.models import S3Backend, s3_backends

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        for key in keys:
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
        for index in sorted(deleted):
            if index < len(keys):
                s3.delete_object(Bucket=BUCKET, Key=keys[index])
        backend = next(iter(dict.values(s3_backends[s3_account()])))
        bucket = backend.get_bucket(BUCKET)
        with listing_as(True):
            moto_listing = s3_listing._moto["listing"]
            assert S3Backend.list_objects_v2 is not moto_listing
            token, after = None, start_after
            for _ in range(len(keys) + 2):
                expected = moto_listing(backend, bucket, prefix, delimiter, token, after, max_keys)
                found = _list_page(backend, bucket, prefix, delimiter, token, after, max_keys)
                assert named(found) == named(expected)
                token, after = found[2], None
                if token is None:
                    break


def s3_account() -> str:
    from moto.core import DEFAULT_ACCOUNT_ID

    return DEFAULT_ACCOUNT_ID


def named(listing: tuple[list[Any], bool, str | None]) -> tuple[list[str], bool, str | None]:
    """A page with its keys by name (folders are names already)."""
    page, truncated, token = listing
    return (
        [entry if isinstance(entry, str) else f"key:{entry.name}" for entry in page],
        truncated,
        token,
    )


def test_moto_is_as_it_was_once_the_last_user_leaves() -> None:
    """In a process of its own: this one may hold a server, whose use lasts the process."""
    check = """
from moto.glue.models import GlueBackend
from moto.s3.models import S3Backend
from moto.s3.responses import S3Response
from fsconformance.emulator.moto_seam import _adjust_moto
def patched():
    return S3Response.serialized, S3Backend.list_objects_v2, GlueBackend.get_table
before = patched()
_adjust_moto(True)
_adjust_moto(True)
_adjust_moto(False)
assert all(now is not then for now, then in zip(patched(), before)), "one user is still there"
_adjust_moto(False)
assert patched() == before
assert "serialized" not in S3Response.__dict__
"""
    subprocess.run([sys.executable, "-c", check], check=True, timeout=120)
