"""One emulated account per mock, whichever process asks: nothing accepted is lost.

Under ``mock_featurestore`` the test process, its threads and its children (fork, forkserver,
spawn; multiprocessing, concurrent.futures, pathos) read and write the same state; a child
that cannot reach it fails loudly instead of writing into a private copy. ``use_endpoint`` and
``FSCONFORMANCE_USE_ENDPOINT`` send every client of a process, explicit endpoints included,
to a served emulation.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config

import fsconformance
from fsconformance import Delays, mock_featurestore
from fsconformance.emulator.transports import bridge, inprocess
from tests.helpers import ID_AND_TIME, create_request, serving, wait_created
from tests.system.bridge_children import (
    BUCKET,
    GROUP,
    REGION,
    client,
    write_from_child,
    write_to_an_unreachable_emulation,
)

ZERO = Delays(create=0, update=0, delete=0, data_plane=0, offline=0)


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", REGION),
    ):
        monkeypatch.setenv(name, value)


@pytest.fixture
def mocked() -> Iterator[None]:
    with mock_featurestore(delays=ZERO):
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        features = {**ID_AND_TIME, "pid": "String"}
        sagemaker.create_feature_group(**create_request(GROUP, features))
        wait_created(sagemaker, GROUP)
        yield


def assert_parent_sees(ids: list[int], child_pids: set[int]) -> None:
    """Every record and object the children wrote, read back in the owning process."""
    runtime = boto3.client("sagemaker-featurestore-runtime", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    assert os.getpid() not in child_pids, "the pool ran in the test process itself"
    for i in ids:
        record = runtime.get_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString=str(i))
        values = {f["FeatureName"]: f["ValueAsString"] for f in record.get("Record", [])}
        assert values.get("id") == str(i), f"record {i} written by a child is missing"
        assert int(values["pid"]) in child_pids
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="child/")["Contents"]}
    assert keys == {f"child/{i}" for i in ids}


@pytest.mark.parametrize("explicit", [False, True], ids=["default-endpoints", "explicit-endpoints"])
@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_process_pool_children_write_into_the_mocks_account(
    mocked: None, method: str, explicit: bool
) -> None:
    ids = list(range(6))
    chunks = [(ids[0::2], explicit), (ids[1::2], explicit)]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method)) as pool:
        pids = set(pool.map(write_from_child, chunks))
    assert_parent_sees(ids, pids)


def test_multiprocessing_pool_and_threads_share_the_account(mocked: None) -> None:
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pids = set(pool.map(write_from_child, [([0, 1], False), ([2, 3], False)]))
    with ThreadPoolExecutor(2) as threads:
        list(threads.map(write_from_child, [([4], False), ([5], False)]))
    runtime = boto3.client("sagemaker-featurestore-runtime", region_name=REGION)
    for i in range(6):
        record = runtime.get_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString=str(i))
        pid = {f["FeatureName"]: f["ValueAsString"] for f in record["Record"]}["pid"]
        assert int(pid) in (pids if i < 4 else {os.getpid()})


@pytest.mark.requires(packages=["pathos>=0.3"])
def test_pathos_pool_as_the_sdk_uses_it(mocked: None) -> None:
    from pathos.multiprocessing import ProcessingPool

    pool = ProcessingPool(2)
    try:
        pids = set(pool.map(write_from_child, [([0, 2], False), ([1, 3], True)]))
    finally:
        pool.close()
        pool.join()
        pool.clear()
    assert_parent_sees(list(range(4)), pids)


def test_a_child_that_cannot_reach_the_emulation_fails_loudly(mocked: None) -> None:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        outcome = pool.submit(write_to_an_unreachable_emulation, 0).result()
    assert "cannot reach the emulation" in outcome
    runtime = boto3.client("sagemaker-featurestore-runtime", region_name=REGION)
    assert "Record" not in runtime.get_record(
        FeatureGroupName=GROUP, RecordIdentifierValueAsString="99"
    )


def test_the_served_emulation_refuses_requests_once_the_mock_stops() -> None:
    with mock_featurestore(delays=ZERO):
        url = inprocess.served_url()
        assert url and os.environ[bridge.USE_ENDPOINT_ENV] == url
    assert bridge.USE_ENDPOINT_ENV not in os.environ
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{url}/", timeout=10)  # noqa: S310 - loopback
    assert refused.value.code == 503
    assert b"has stopped" in refused.value.read()


def test_s3_virtual_hosted_names_become_path_style() -> None:
    assert bridge.target_path("https://bkt.s3.us-east-1.amazonaws.com/a/b?x=1") == "/bkt/a/b?x=1"
    assert bridge.target_path("https://s3.amazonaws.com/bkt/a") == "/bkt/a"
    assert bridge.target_path("https://sts.amazonaws.com/") == "/"


# -- a separate process pointed at `fsconformance serve` ------------------------------------


def keys_in(url: str) -> list[str]:
    """The keys of the bucket on the server at ``url``, read directly (no redirection)."""
    direct = boto3.client(
        "s3", region_name=REGION, endpoint_url=url, config=Config(s3={"addressing_style": "path"})
    )
    return [o["Key"] for o in direct.list_objects_v2(Bucket=BUCKET)["Contents"]]


@pytest.fixture
def served() -> Iterator[str]:
    with serving() as url:
        yield url


def test_use_endpoint_sends_every_client_to_a_served_emulation(served: str) -> None:
    with fsconformance.use_endpoint(served):
        client("s3", explicit=True).create_bucket(Bucket=BUCKET)
        client("s3", explicit=False).put_object(Bucket=BUCKET, Key="default", Body=b"1")
        identity = client("sts", explicit=True).get_caller_identity()
    assert identity["Account"] == "123456789012"  # moto's, not AWS's
    assert bridge.redirected_to() is None
    assert keys_in(served) == ["default"]


def test_the_environment_variable_redirects_a_whole_process(served: str) -> None:
    script = textwrap.dedent(
        f"""
        import boto3
        s3 = boto3.client("s3", region_name="{REGION}", endpoint_url="https://s3.elsewhere.invalid")
        s3.create_bucket(Bucket="{BUCKET}")
        s3.put_object(Bucket="{BUCKET}", Key="from-env", Body=b"1")
        print(boto3.client("sts", region_name="{REGION}").get_caller_identity()["Account"])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, bridge.USE_ENDPOINT_ENV: served},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "123456789012"
    assert keys_in(served) == ["from-env"]


def test_a_bad_endpoint_value_is_refused() -> None:
    with pytest.raises(ValueError, match="expected http://host:port"):
        bridge.redirect("sts.amazonaws.com")
