"""Every malformed or hostile request gets AWS's answer, in-process and over HTTP.

Each case was once answered with an HTML 500 or accepted where AWS refuses. A refusal is
AWS-shaped: a 4xx whose JSON body names the error (``__type``) and says why (``message``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import ID_AND_TIME, Answer, Wire, create_request, make_group

RECORD = [
    {"FeatureName": "id", "ValueAsString": "a"},
    {"FeatureName": "t", "ValueAsString": "2026-01-01T00:00:00Z"},
]


def refused(answer: Answer | None, code: str | None = None, status: int = 400) -> dict[str, Any]:
    assert answer is not None, "the emulation left the request to moto"
    assert answer.status == status, (answer.status, answer.body[:300])
    body = answer.json()
    assert body.get("__type") and body.get("message"), body
    if code is not None:
        assert body["__type"] == code, body
    return body


def put(wire: Wire, record: Any, group: str = "g", extra: str = "") -> Answer | None:
    body = '{"Record": ' + (record if isinstance(record, str) else json.dumps(record)) + extra + "}"
    return wire.send("PUT", f"/FeatureGroup/{group}", body)


def get(wire: Wire, identifier: str = "a", extra: str = "") -> Answer | None:
    return wire.send("GET", f"/FeatureGroup/g?RecordIdentifierValueAsString={identifier}{extra}")


def test_json_nested_a_thousand_levels_is_a_serialization_error(wire: Wire) -> None:
    refused(put(wire, "[" * 1000 + "]" * 1000), "SerializationException")
    refused(
        wire.send(
            "POST",
            "/",
            "{" + '"a":{' * 1000 + "}" * 1001,
            service="sagemaker",
            target="SageMaker.ListFeatureGroups",
        ),
        "SerializationException",
    )


def test_brackets_and_escaped_quotes_inside_strings_are_not_nesting(wire: Wire) -> None:
    make_group(wire)
    deep_text = '\\"' + "[{" * 100  # escaped quote, then brackets: all inside the string
    answer = put(wire, [{"FeatureName": "id", "ValueAsString": deep_text}, RECORD[1]])
    assert answer is not None and answer.status == 200, answer
    refused(put(wire, '[{"FeatureName": "\\"", "x": ' + "[" * 70 + "]" * 70 + "}]"))


@pytest.mark.parametrize(
    "body",
    [
        '{"Record": [{"FeatureName": "id", "ValueAsString": "\\ud800"}]}',  # escaped
        '{"Record": [{"FeatureName": "\\udc00x", "ValueAsString": "a"}]}',
        '{"Record": [{"FeatureName": "id", "ValueAsString": "\ud800"}]}',  # raw bytes
    ],
)
def test_lone_surrogates_in_values_and_names_are_refused(wire: Wire, body: str) -> None:
    make_group(wire)
    refused(wire.send("PUT", "/FeatureGroup/g", body), "SerializationException")


def test_lone_surrogate_in_an_identifier_is_refused(wire: Wire) -> None:
    body = '{"Identifiers": [{"FeatureGroupName": "g", "RecordIdentifiersValueAsString": ["\\udfff"]}]}'
    refused(wire.send("POST", "/BatchGetRecord", body), "SerializationException")


def test_a_5000_digit_integral_is_a_validation_error(wire: Wire) -> None:
    make_group(wire)
    refused(
        put(wire, [*RECORD, {"FeatureName": "n", "ValueAsString": "9" * 5000}]), "ValidationError"
    )
    refused(put(wire, [*RECORD, {"FeatureName": "n", "ValueAsString": "9223372036854775808"}]))
    assert (
        put(wire, [*RECORD, {"FeatureName": "n", "ValueAsString": "-9223372036854775808"}]).status
        == 200
    )


def test_a_ttl_past_year_9999_is_refused_and_reads_never_fail(wire: Wire) -> None:
    make_group(wire)
    late = [RECORD[0], {"FeatureName": "t", "ValueAsString": "9999-12-31T00:00:00Z"}]
    refused(
        put(wire, late, extra=', "TtlDuration": {"Unit": "Weeks", "Value": 2}'), "ValidationError"
    )
    huge = ', "TtlDuration": {"Unit": "Weeks", "Value": ' + "9" * 400 + "}"
    refused(put(wire, RECORD, extra=huge), "ValidationError")
    assert put(wire, late).status == 200
    answer = get(wire, extra="&ExpirationTimeResponse=Enabled")
    assert answer is not None and answer.status == 200, answer


@pytest.mark.parametrize(
    ("service", "target", "body"),
    [
        ("runtime", None, '{"Record": [null]}'),
        ("runtime", None, '{"Identifiers": [null]}'),
        (
            "runtime",
            None,
            '{"Identifiers": [{"FeatureGroupName": "g", "RecordIdentifiersValueAsString": [null]}]}',
        ),
        ("sagemaker", "SageMaker.CreateFeatureGroup", None),
        ("sagemaker", "SageMaker.CreateFeatureGroup", "tags"),
        (
            "sagemaker",
            "SageMaker.UpdateFeatureGroup",
            '{"FeatureGroupName": "g", "FeatureAdditions": [null]}',
        ),
    ],
)
def test_null_inside_lists_is_a_validation_error(
    wire: Wire, service: str, target: str | None, body: str | None
) -> None:
    make_group(wire)
    if target == "SageMaker.CreateFeatureGroup":
        request = create_request("h", {"id": "String", "t": "String"})
        if body == "tags":
            request["Tags"] = [None]
        else:
            request["FeatureDefinitions"][1] = None
        body = json.dumps(request)
    if service == "runtime":
        path = "/BatchGetRecord" if "Identifiers" in body else "/FeatureGroup/g"
        answer = wire.send("POST" if "Identifiers" in body else "PUT", path, body)
    else:
        answer = wire.send("POST", "/", body, service=service, target=target)
    assert "must not be null" in refused(answer)["message"]


@pytest.mark.parametrize("wire", ["serve"], indirect=True)  # only a server reads the header
@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "٣"])
def test_a_bad_content_length_is_refused(wire: Wire, length: str) -> None:
    answer = wire.send(
        "PUT", "/FeatureGroup/g", '{"Record": []}', headers={"Content-Length": length}
    )
    refused(answer, "SerializationException")


def test_a_non_integer_max_results_is_a_validation_error(wire: Wire) -> None:
    for value in ('"abc"', "1.5", "true", "9" * 30):
        body = '{"MaxResults": ' + value + "}"
        refused(
            wire.send("POST", "/", body, service="sagemaker", target="SageMaker.ListFeatureGroups")
        )
        refused(
            wire.send(
                "POST", "/", body, service="athena", target="AmazonAthena.ListQueryExecutions"
            ),
            None,
        )


@pytest.mark.parametrize(
    ("service", "target"),
    [
        ("sagemaker", "SageMaker.NoSuchOperation"),
        ("sagemaker", "SageMaker."),
        ("athena", "AmazonAthena.DropEverything"),
        ("athena", "AmazonAthena."),
    ],
)
def test_unknown_targets_are_unknown_operations(wire: Wire, service: str, target: str) -> None:
    refused(
        wire.send("POST", "/", "{}", service=service, target=target), "UnknownOperationException"
    )


@pytest.mark.parametrize(
    "record",
    [
        [*RECORD, {"FeatureName": "n", "ValueAsString": "١٢٣"}],  # Arabic-Indic digits
        [*RECORD, {"FeatureName": "x", "ValueAsString": "١.٥"}],
        [*RECORD, {"FeatureName": "n", "ValueAsString": "１２"}],  # fullwidth
        [RECORD[0], {"FeatureName": "t", "ValueAsString": "٢٠٢٦-01-01T00:00:00Z"}],
        [{"FeatureName": "id", "ValueAsString": ""}, RECORD[1]],  # empty identifier
    ],
)
def test_what_aws_refuses_is_refused(wire: Wire, record: list[dict[str, str]]) -> None:
    make_group(wire)
    refused(put(wire, record), "ValidationError")
    assert get(wire, "a").json() == {}


def test_unicode_digits_are_no_fractional_event_time(wire: Wire) -> None:
    wire.client("sagemaker").create_feature_group(**create_request("f", ID_AND_TIME))
    record = [RECORD[0], {"FeatureName": "t", "ValueAsString": "١٧٠٠٠٠٠٠٠٠"}]
    refused(put(wire, record, group="f"), "ValidationError")
    answer = wire.send("DELETE", "/FeatureGroup/f?RecordIdentifierValueAsString=a&EventTime=%D9%A1")
    refused(answer, "ValidationError")


def test_an_athena_query_past_the_models_maximum_is_refused(wire: Wire) -> None:
    query = "SELECT 1 -- " + "x" * (262144 - 12)
    assert len(query) == 262144
    body = {
        "QueryString": query + "x",
        "ResultConfiguration": {"OutputLocation": "s3://offline/r/"},
    }
    answer = wire.send(
        "POST", "/", json.dumps(body), service="athena", target="AmazonAthena.StartQueryExecution"
    )
    assert "262144" in refused(answer, "InvalidRequestException")["message"]
    body["QueryString"] = "SELECT 1 -- " + "x" * 10_000_000
    answer = wire.send(
        "POST", "/", json.dumps(body), service="athena", target="AmazonAthena.StartQueryExecution"
    )
    refused(answer, "InvalidRequestException")


def test_the_urls_group_wins_over_a_body_member(wire: Wire) -> None:
    make_group(wire)
    body = json.dumps({"FeatureGroupName": "g", "Record": RECORD})
    answer = wire.send("PUT", "/FeatureGroup/no-such-group", body)
    assert "no-such-group" in refused(answer, "ValidationError")["message"]
    assert get(wire, "a").json() == {}


@pytest.mark.parametrize(
    "arn",
    ["", "x", "arn:aws:sagemaker:us-east-1:123456789012:training-job/none-such"],
)
def test_tags_of_an_unknown_resource_are_refused_not_a_500(wire: Wire, arn: str) -> None:
    """moto's own ListTags fails with an internal error for an ARN it does not hold."""
    answer = wire.send(
        "POST",
        "/",
        json.dumps({"ResourceArn": arn}),
        service="sagemaker",
        target="SageMaker.ListTags",
    )
    assert answer is not None and answer.status == 400
    assert json.loads(answer.body)["__type"] == "ValidationException"


def control(wire: Wire, operation: str, body: str) -> Answer | None:
    return wire.send("POST", "/", body, service="sagemaker", target=f"SageMaker.{operation}")


def test_a_null_member_is_a_member_not_sent(wire: Wire) -> None:
    """AWS's JSON protocols read ``"X": null`` as X absent: UpdateFeatureGroup with null
    additions is one with nothing to update (a 400, not a 500), ListFeatureGroups with a
    null MaxResults lists with the default page size."""
    make_group(wire)
    body = '{"FeatureGroupName": "g", "FeatureAdditions": null}'
    assert "needs one of" in refused(control(wire, "UpdateFeatureGroup", body))["message"]
    body = '{"FeatureGroupName": "g", "FeatureAdditions": null, "ThroughputConfig": null}'
    refused(control(wire, "UpdateFeatureGroup", body), "ValidationException")
    listed = control(wire, "ListFeatureGroups", '{"MaxResults": null, "NextToken": null}')
    assert listed is not None and listed.status == 200, listed
    assert [g["FeatureGroupName"] for g in listed.json()["FeatureGroupSummaries"]] == ["g"]
    for value in ("0", "101", "-1", "1" + "0" * 30):
        refused(control(wire, "ListFeatureGroups", '{"MaxResults": ' + value + "}"))


def test_a_ttl_of_null_unit_and_value_removes_the_groups_ttl(wire: Wire) -> None:
    """C-056: to remove the group's TTL, send TtlDuration with Unit and Value null."""
    make_group(wire, ttl={"Unit": "Days", "Value": 3})
    body = json.dumps(
        {
            "FeatureGroupName": "g",
            "OnlineStoreConfig": {"TtlDuration": {"Unit": None, "Value": None}},
        }
    )
    answer = control(wire, "UpdateFeatureGroup", body)
    assert answer is not None and answer.status == 200, answer
    described = wire.client("sagemaker").describe_feature_group(FeatureGroupName="g")
    assert "TtlDuration" not in described["OnlineStoreConfig"]


SIGNED = {
    service: {
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/"
        "aws4_request, SignedHeaders=host, Signature=0"
    }
    for service in ("glue", "iam", "sts", "s3", "logs")
}


def shaped(answer: Answer | None, status: int, code: str) -> None:
    """A refusal a client reads: the status, and the code in the request's own protocol."""
    assert answer is not None
    assert answer.status == status, (answer.status, answer.body[:300])
    if answer.body.startswith(b"{"):
        body = answer.json()
        assert body["__type"] == code and body["message"], body
    else:
        assert f"<Code>{code}</Code>".encode() in answer.body, answer.body
        assert b"<Message>" in answer.body and b"<RequestId>" in answer.body, answer.body


@pytest.mark.parametrize("wire", ["serve"], indirect=True)  # moto's answers are the server's
@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "code"),
    [
        ("POST", "/", {}, "", 400, "InvalidRequest"),  # no target, no signature: an HTML 500
        ("POST", "/", {"Content-Type": "application/x-amz-json-1.1"}, "{}", 400,
         "UnknownOperationException"),
        ("POST", "/", {"X-Amz-Target": "Bogus"}, "{}", 400, "UnknownOperationException"),
        ("POST", "/", {**SIGNED["glue"], "X-Amz-Target": "AWSGlue.DropEverything"}, "{}", 400,
         "UnknownOperationException"),
        ("POST", "/", SIGNED["glue"], "{}", 400, "UnknownOperationException"),
        ("POST", "/", {**SIGNED["logs"], "X-Amz-Target": "Logs_20140328.Nope"}, "{}", 400,
         "UnknownOperationException"),
        ("GET", "/no/such/path", SIGNED["glue"], "", 400, "UnknownOperationException"),
        ("POST", "/", {**SIGNED["iam"], "Content-Type": "application/x-www-form-urlencoded"},
         "Action=DropEverything&Version=2010-05-08", 400, "InvalidAction"),
        ("POST", "/", SIGNED["sts"], "{}", 400, "MissingAction"),
        ("POST", "/", SIGNED["iam"], "", 400, "MissingAction"),
    ],
)  # fmt: skip
def test_what_moto_leaves_unshaped_is_answered_as_aws_does(
    wire: Wire,
    method: str,
    path: str,
    headers: dict[str, str],
    body: str,
    status: int,
    code: str,
) -> None:
    """moto answers these with an empty 404, an HTML page or an exception."""
    shaped(wire.send(method, path, body, headers=headers, signed=False), status, code)


@pytest.mark.parametrize("wire", ["serve"], indirect=True)
def test_a_head_of_a_missing_object_stays_an_empty_404(wire: Wire) -> None:
    """HEAD answers carry no body, on AWS too: nothing to shape."""
    wire.client("s3").create_bucket(Bucket="heads")
    answer = wire.send("HEAD", "/heads/none", headers=SIGNED["s3"], signed=False)
    assert answer is not None and answer.status == 404 and answer.body == b""
