"""Self-tests of ``mock_featurestore``: transports, state scoping and fall-through to moto."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from fsconformance import Delays, mock_featurestore
from fsconformance.emulator import routing
from fsconformance.emulator.transports import inprocess
from fsconformance.emulator.wire import WireRequest
from fsconformance.waiters import eventually
from tests.helpers import create_request

FAST = Delays(create=0.01, update=0.01, delete=0.01)
AUTH = (
    "AWS4-HMAC-SHA256 Credential=FOOBARKEY/20240101/us-east-1/sagemaker/aws4_request, "
    "SignedHeaders=host, Signature=abc"
)


@pytest.fixture(autouse=True)
def _default_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def test_context_manager_creates_and_describes() -> None:
    with mock_featurestore(delays=FAST):
        sm = boto3.client("sagemaker", region_name="us-east-1")
        arn = sm.create_feature_group(**create_request("customers"))["FeatureGroupArn"]
        assert arn.endswith(":feature-group/customers")
        assert arn.startswith("arn:aws:sagemaker:us-east-1:123456789012:")

        def created() -> dict[str, Any] | None:
            description = sm.describe_feature_group(FeatureGroupName="customers")
            return description if description["FeatureGroupStatus"] == "Created" else None

        description = eventually(
            created,
            timeout=5,
            interval=0.005,
            what="customers Created",
        )
        assert description["FeatureGroupArn"] == arn
        assert description["OnlineStoreConfig"] == {
            "EnableOnlineStore": True,
            "StorageType": "Standard",
        }


def test_decorator() -> None:
    @mock_featurestore(delays=FAST)
    def pipeline() -> str:
        sm = boto3.client("sagemaker", region_name="us-east-1")
        sm.create_feature_group(**create_request("decorated"))
        return sm.describe_feature_group(FeatureGroupName="decorated")["FeatureGroupName"]

    assert pipeline.__name__ == "pipeline"
    assert pipeline() == "decorated"
    # The decorator's mock is stopped again after the call.
    assert not inprocess._active


def test_emulation_validates_what_botocore_does_not() -> None:
    with mock_featurestore(delays=FAST):
        sm = boto3.client("sagemaker", region_name="us-east-1")
        with pytest.raises(ClientError) as info:
            sm.create_feature_group(**create_request("abc-"))
        assert error_code(info) == "ValidationException"
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_fresh_mock_starts_empty() -> None:
    with mock_featurestore(delays=FAST):
        sm = boto3.client("sagemaker", region_name="us-east-1")
        sm.create_feature_group(**create_request("leftover"))
    with mock_featurestore(delays=FAST):
        sm = boto3.client("sagemaker", region_name="us-east-1")
        with pytest.raises(ClientError) as info:
            sm.describe_feature_group(FeatureGroupName="leftover")
        assert error_code(info) == "ResourceNotFound"
        assert sm.list_feature_groups()["FeatureGroupSummaries"] == []


def test_state_is_kept_per_region() -> None:
    with mock_featurestore(delays=FAST):
        east = boto3.client("sagemaker", region_name="us-east-1")
        west = boto3.client("sagemaker", region_name="eu-west-1")
        east.create_feature_group(**create_request("regional"))
        with pytest.raises(ClientError) as info:
            west.describe_feature_group(FeatureGroupName="regional")
        assert error_code(info) == "ResourceNotFound"
        assert west.list_feature_groups()["FeatureGroupSummaries"] == []
        # The same name is free in the other region.
        arn = west.create_feature_group(**create_request("regional"))["FeatureGroupArn"]
        assert ":eu-west-1:" in arn
        assert east.describe_feature_group(FeatureGroupName="regional")["FeatureGroupArn"] != arn


def test_state_is_kept_per_account(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_featurestore(delays=FAST):
        sm = boto3.client("sagemaker", region_name="us-east-1")
        monkeypatch.setenv("MOTO_ACCOUNT_ID", "111111111111")
        arn = sm.create_feature_group(**create_request("accounted"))["FeatureGroupArn"]
        assert ":111111111111:" in arn
        monkeypatch.setenv("MOTO_ACCOUNT_ID", "222222222222")
        with pytest.raises(ClientError) as info:
            sm.describe_feature_group(FeatureGroupName="accounted")
        assert error_code(info) == "ResourceNotFound"
        with pytest.raises(ClientError) as info:
            sm.describe_feature_group(FeatureGroupName=arn)
        assert error_code(info) == "ResourceNotFound"
        monkeypatch.setenv("MOTO_ACCOUNT_ID", "111111111111")
        assert sm.describe_feature_group(FeatureGroupName=arn)["FeatureGroupName"] == "accounted"


def test_other_services_fall_through_to_moto() -> None:
    with mock_featurestore(delays=FAST):
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="fsct-fall-through")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["fsct-fall-through"]
        account = boto3.client("sts", region_name="us-east-1").get_caller_identity()
        assert account["Account"] == "123456789012"


def test_non_feature_store_sagemaker_operations_fall_through_to_moto() -> None:
    with mock_featurestore(delays=FAST):
        sm = boto3.client("sagemaker", region_name="us-east-1")
        model_arn = sm.create_model(
            ModelName="m1",
            ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
            PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/i:1"},
        )["ModelArn"]
        sm.add_tags(ResourceArn=model_arn, Tags=[{"Key": "team", "Value": "ml"}])
        assert sm.list_tags(ResourceArn=model_arn)["Tags"] == [{"Key": "team", "Value": "ml"}]


def test_tags_on_feature_group_arns_are_answered_by_the_emulation() -> None:
    with mock_featurestore(delays=FAST):
        sm = boto3.client("sagemaker", region_name="us-east-1")
        arn = sm.create_feature_group(
            **create_request("tagged"), Tags=[{"Key": "a", "Value": "1"}]
        )["FeatureGroupArn"]
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}])
        assert sm.list_tags(ResourceArn=arn)["Tags"] == [
            {"Key": "a", "Value": "1"},
            {"Key": "b", "Value": "2"},
        ]


def sagemaker_request(operation: str, body: dict[str, Any]) -> WireRequest:
    return WireRequest(
        "POST",
        "https://api.sagemaker.us-east-1.amazonaws.com/",
        {
            "X-Amz-Target": f"SageMaker.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": AUTH,
        },
        json.dumps(body).encode(),
    )


def test_core_leaves_tags_of_moto_resources_to_moto() -> None:
    with mock_featurestore(delays=FAST):
        model = boto3.client("sagemaker", region_name="us-east-1").create_model(
            ModelName="m1",
            ExecutionRoleArn="arn:aws:iam::123456789012:role/fs",
            PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/i:1"},
        )
        request = sagemaker_request(
            "AddTags", {"ResourceArn": model["ModelArn"], "Tags": [{"Key": "k", "Value": "v"}]}
        )
        assert routing.route(request) is None


def test_core_refuses_tags_of_resources_nobody_holds() -> None:
    """moto fails with a 500 for an ARN it does not hold; the answer is AWS-shaped instead."""
    with mock_featurestore(delays=FAST):
        for arn in (
            "arn:aws:sagemaker:us-east-1:123456789012:model/none-such",
            "arn:aws:s3:::some-bucket",
        ):
            request = sagemaker_request(
                "AddTags", {"ResourceArn": arn, "Tags": [{"Key": "k", "Value": "v"}]}
            )
            response = routing.route(request)
            assert response is not None and response.status == 400
            assert json.loads(response.body)["__type"] == "ValidationException"


def test_core_answers_add_tags_on_feature_group_arns() -> None:
    with mock_featurestore(delays=FAST):
        request = sagemaker_request(
            "AddTags",
            {
                "ResourceArn": "arn:aws:sagemaker:us-east-1:123456789012:feature-group/none",
                "Tags": [{"Key": "k", "Value": "v"}],
            },
        )
        response = routing.route(request)
        assert response is not None
        assert response.status == 400
        assert json.loads(response.body)["__type"] == "ValidationException"


def test_core_does_not_answer_other_operations_or_services() -> None:
    assert routing.route(sagemaker_request("ListModels", {})) is None
    s3 = WireRequest("GET", "https://s3.amazonaws.com/", {"Authorization": AUTH})
    assert routing.route(s3) is None


def test_outside_the_mock_the_emulation_answers_nothing() -> None:
    with mock_featurestore(delays=FAST):
        pass
    assert not inprocess._active

    class Prepared:
        method = "POST"
        url = "https://api.sagemaker.us-east-1.amazonaws.com/"
        headers = {"X-Amz-Target": "SageMaker.ListFeatureGroups", "Authorization": AUTH}
        body = b"{}"

    assert inprocess.answer(Prepared()) is None
    with mock_featurestore(delays=FAST):
        answered = inprocess.answer(Prepared())
        assert answered is not None
        assert answered[0] == 200
        assert json.loads(answered[2]) == {"FeatureGroupSummaries": []}


def test_nested_mocks_keep_the_emulation_active_until_the_outer_one_stops() -> None:
    with mock_featurestore(delays=FAST):
        with mock_featurestore(delays=FAST):
            pass
        assert inprocess._active
    assert not inprocess._active


def test_start_and_stop() -> None:
    mock = mock_featurestore(delays=FAST)
    mock.start()
    try:
        sm = boto3.client("sagemaker", region_name="us-east-1")
        assert sm.list_feature_groups()["FeatureGroupSummaries"] == []
    finally:
        mock.stop()
    assert not inprocess._active


def test_configured_delays_apply() -> None:
    slow = Delays(create=3600, update=3600, delete=3600)
    with mock_featurestore(delays=slow):
        sm = boto3.client("sagemaker", region_name="us-east-1")
        sm.create_feature_group(**create_request("slow"))
        assert sm.describe_feature_group(FeatureGroupName="slow")["FeatureGroupStatus"] == (
            "Creating"
        )
