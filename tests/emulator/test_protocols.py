"""One decoder for every protocol: Athena answered over json, rest-json and smithy-rpc-v2-cbor,
in-process and over ``serve``, and every request naming no operation answered with a body.

The clients here are real botocore clients built on synthetic model variants: the installed
Athena model copied and switched to another protocol, so botocore itself serialises each
request and parses each answer. Expected values come from the SQL (``SELECT 1 AS x``), the
contract (C-184's states) and Athena's API reference (error codes), never from the emulation.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fsconformance.emulator import wire as decoder
from fsconformance.emulator.transports.wsgi import EmulatorServer
from fsconformance.emulator.wire import WireRequest
from tests.helpers import FAKE, FAST, Wire, js_sdk, query_ended

# Athena's json-protocol target prefix, as botocore's models up to 1.44.13 name it.
ATHENA_JSON_PREFIX = "AmazonAthena"
PROTOCOLS = ("json", "rest-json", "smithy-rpc-v2-cbor")
# A model speaking json has no rest-json bindings to decode with (botocore up to 1.44.13).
REST_ATHENA = "rest-json" in (
    botocore.session.get_session().get_service_model("athena").metadata.get("protocols", [])
)
needs_rest_athena = pytest.mark.skipif(
    not REST_ATHENA,
    reason=f"unsupported: botocore {botocore.__version__}'s Athena model has no rest-json "
    "bindings (it speaks json)",
)


def athena_variant(directory: Path, protocol: str) -> Path:
    """The installed Athena model, switched to ``protocol``, in a botocore data directory."""
    loader = botocore.loaders.create_loader()
    model = copy.deepcopy(loader.load_service_model("athena", "service-2"))
    metadata = model["metadata"]
    metadata.update(protocol=protocol, protocols=[protocol])
    if protocol != "rest-json":
        metadata.update(targetPrefix=ATHENA_JSON_PREFIX, jsonVersion="1.1")
        for operation in model["operations"].values():  # RPC protocols: one path, POST
            operation["http"] = {"method": "POST", "requestUri": "/"}
            for shape_name in (operation.get("input") or {}).values():
                for member in model["shapes"][shape_name].get("members", {}).values():
                    member.pop("location", None)
                    member.pop("locationName", None)
    folder = directory / "athena" / metadata["apiVersion"]
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    return directory


def athena_client(data: Path, url: str | None) -> Any:
    session = botocore.session.Session()
    session.register_component(
        "data_loader", botocore.loaders.Loader(extra_search_paths=[str(data)])
    )
    extra = {"endpoint_url": url} if url else {}
    return boto3.Session(botocore_session=session).client(
        "athena",
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}),
        **FAKE,
        **extra,
    )


@pytest.fixture(
    params=[
        pytest.param(p, marks=[needs_rest_athena] if p == "rest-json" else []) for p in PROTOCOLS
    ]
)
def athena(request: pytest.FixtureRequest, wire: Wire, tmp_path: Path) -> Iterator[Any]:
    client = athena_client(athena_variant(tmp_path, request.param), wire.url)
    assert client.meta.service_model.protocol == request.param
    wire.client("s3").create_bucket(Bucket="results")
    yield client


@pytest.mark.clause("C-001", "C-184")
def test_a_query_runs_to_its_rows_whatever_the_protocol(athena: Any) -> None:
    query_id = athena.start_query_execution(
        QueryString="SELECT 1 AS x UNION ALL SELECT 2",
        ResultConfiguration={"OutputLocation": "s3://results/q/"},
    )["QueryExecutionId"]
    assert query_ended(athena, query_id)["Status"]["State"] == "SUCCEEDED"
    # MaxResults travels in the query string over rest-json: an integer either way.
    first = athena.get_query_results(QueryExecutionId=query_id, MaxResults=2)
    assert [r["Data"] for r in first["ResultSet"]["Rows"]] == [
        [{"VarCharValue": "x"}],
        [{"VarCharValue": "1"}],
    ]
    rest = athena.get_query_results(QueryExecutionId=query_id, NextToken=first["NextToken"])
    assert [r["Data"] for r in rest["ResultSet"]["Rows"]] == [[{"VarCharValue": "2"}]]
    listed = athena.batch_get_query_execution(QueryExecutionIds=[query_id])
    assert [e["QueryExecutionId"] for e in listed["QueryExecutions"]] == [query_id]


@pytest.mark.clause("C-001", "C-090")
def test_catalogue_workgroups_and_errors_whatever_the_protocol(athena: Any) -> None:
    catalog = athena.get_data_catalog(Name="AwsDataCatalog")["DataCatalog"]
    assert (catalog["Name"], catalog["Type"]) == ("AwsDataCatalog", "GLUE")
    with pytest.raises(ClientError) as missing:
        athena.get_table_metadata(
            CatalogName="AwsDataCatalog", DatabaseName="none_such", TableName="t"
        )
    assert missing.value.response["Error"]["Code"] == "MetadataException"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Workgroups are moto's, reached through the seam in any protocol.
    athena.create_work_group(Name="team", Description="d")
    assert athena.get_work_group(WorkGroup="team")["WorkGroup"]["Description"] == "d"
    with pytest.raises(ClientError) as unknown:
        athena.get_query_execution(QueryExecutionId="4f1e1c56-0000-4000-a000-000000000000")
    assert unknown.value.response["Error"]["Code"] == "InvalidRequestException"


def test_the_emulations_own_model_may_speak_another_protocol(
    wire: Wire, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decoder reads the protocol from the model it is given: switch the emulation's own
    Athena model to CBOR and a CBOR client is answered, a rest-json one told why not."""
    data = athena_variant(tmp_path / "cbor", "smithy-rpc-v2-cbor")
    variant = botocore.session.Session()
    variant.register_component(
        "data_loader", botocore.loaders.Loader(extra_search_paths=[str(data)])
    )
    model = variant.get_service_model("athena")
    installed = decoder.service_model

    def switched(service: str) -> Any:
        return model if service == "athena" else installed(service)

    monkeypatch.setattr(decoder, "service_model", switched)
    for cache in (decoder._rest_routes, decoder._input_bindings, decoder._output_bindings):
        cache.cache_clear()
    try:
        cbor = athena_client(data, wire.url)
        assert cbor.get_data_catalog(Name="AwsDataCatalog")["DataCatalog"]["Type"] == "GLUE"
        answer = wire.send("GET", "/data-catalogs/AwsDataCatalog", service="athena")
        assert answer is not None and answer.status == 404
        message = answer.json()["message"]
        assert "rest-json" in message and "smithy-rpc-v2-cbor" in message
    finally:
        monkeypatch.undo()
        for cache in (
            decoder._rest_routes,
            decoder._input_bindings,
            decoder._output_bindings,
        ):
            cache.cache_clear()


# -- requests that name no operation ------------------------------------------------------------


def refusal(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer is not None, "left to moto, which answers these with an empty 404"
    assert answer.status == status, answer.body
    assert answer.body, "an error without a body"
    body = answer.json()
    assert body["__type"] == code
    assert answer.headers.get("x-amzn-ErrorType", answer.headers.get("X-Amzn-Errortype")) == code
    return body


def test_an_unknown_rest_path_is_named(wire: Wire) -> None:
    """Named whatever the installed model speaks: it says which protocols that is."""
    body = refusal(
        wire.send("GET", "/no-such-resource", service="athena"),
        404,
        "Unknown" + "OperationException",
    )
    assert "Athena" in body["message"] and "/no-such-resource" in body["message"]


@needs_rest_athena
def test_a_wrong_method_on_a_known_path_is_named(wire: Wire) -> None:
    answer = wire.send("DELETE", "/query-executions", service="athena")
    body = refusal(answer, 405, "UnknownOperationException")
    assert "DELETE" in body["message"] and "GET" in body["message"]


def test_an_unknown_cbor_operation_is_named(wire: Wire) -> None:
    answer = wire.send(
        "POST",
        f"/service/{ATHENA_JSON_PREFIX}/operation/DropEverything",
        b"\xa0",  # an empty CBOR map
        service="athena",
        headers={"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"},
    )
    assert answer is not None and answer.status == 400
    assert answer.headers.get("smithy-protocol") == "rpc-v2-cbor"
    import cbor2

    body = cbor2.loads(answer.body)
    assert body["__type"].endswith("#UnknownOperationException")
    assert "DropEverything" in body["message"]


def test_a_query_protocol_request_is_an_invalid_action(wire: Wire) -> None:
    answer = wire.send(
        "POST",
        "/",
        "Action=ListWorkGroups&Version=2017-05-18",
        service="athena",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer is not None and answer.status == 400
    assert b"<Code>InvalidAction</Code>" in answer.body and b"query" in answer.body


@needs_rest_athena
def test_a_bad_integer_in_the_query_string_is_a_serialization_error(wire: Wire) -> None:
    answer = wire.send("GET", "/query-executions?MaxResults=many", service="athena")
    body = refusal(answer, 400, "SerializationException")
    assert "MaxResults" in body["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/FeatureGroup/g/extra"), ("PATCH", "/FeatureGroup/g"), ("GET", "/BatchGetRecord")],
)
def test_a_runtime_path_with_no_operation_is_named(wire: Wire, method: str, path: str) -> None:
    answer = wire.send(method, path, "{}")
    assert answer is not None and 400 <= answer.status < 500 and answer.body
    assert answer.json()["__type"] == "UnknownOperationException"


# -- the decoder alone --------------------------------------------------------------------------


def signed(method: str, url: str, **headers: str) -> WireRequest:
    return WireRequest(method, url, headers, b"")


@needs_rest_athena
def test_uri_labels_are_percent_decoded_and_typed() -> None:
    request = signed(
        "GET",
        "https://athena.us-east-1.amazonaws.com/data-catalogs/Aws%20Cat/databases/d%2Fx/tables"
        "?MaxResults=7&Expression=a%2A",
    )
    call = decoder.match("athena", request, decoder.protocol_of(request))
    assert call is not None and call.operation == "ListTableMetadata"
    assert decoder.params(call, request) == {
        "CatalogName": "Aws Cat",
        "DatabaseName": "d/x",
        "MaxResults": 7,
        "Expression": "a*",
    }


def test_a_foreign_path_signed_as_sagemaker_is_not_the_runtimes() -> None:
    request = signed(
        "POST", "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/e/invocations"
    )
    runtime = "sagemaker-featurestore-runtime"
    assert decoder.match(runtime, request, decoder.protocol_of(request)) is None


JS_ATHENA = r"""
const sdk = process.argv[2];
const athena = require(`${sdk}/node_modules/@aws-sdk/client-athena`);
const s3 = require(`${sdk}/node_modules/@aws-sdk/client-s3`);
const endpoint = process.argv[3];
const options = { endpoint, region: "us-east-1",
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" } };
(async () => {
  await new s3.S3Client({ ...options, forcePathStyle: true })
    .send(new s3.CreateBucketCommand({ Bucket: "js-results" }));
  const client = new athena.AthenaClient(options);
  const { QueryExecutionId } = await client.send(new athena.StartQueryExecutionCommand({
    QueryString: "SELECT 41 + 1 AS answer",
    ResultConfiguration: { OutputLocation: "s3://js-results/q/" } }));
  let state;
  for (let i = 0; i < 600; i++) {
    const got = await client.send(new athena.GetQueryExecutionCommand({ QueryExecutionId }));
    state = got.QueryExecution.Status.State;
    if (state !== "QUEUED" && state !== "RUNNING") break;
    await new Promise((done) => setTimeout(done, 50));
  }
  const results = await client.send(new athena.GetQueryResultsCommand({ QueryExecutionId }));
  const rows = results.ResultSet.Rows.map((row) => row.Data.map((d) => d.VarCharValue));
  const catalog = await client.send(new athena.GetDataCatalogCommand({ Name: "AwsDataCatalog" }));
  let missing = "none";
  try {
    await client.send(new athena.GetTableMetadataCommand({
      CatalogName: "AwsDataCatalog", DatabaseName: "none_such", TableName: "t" }));
  } catch (e) { missing = `${e.name} ${e.$metadata.httpStatusCode}`; }
  console.log(JSON.stringify({ state, rows, type: catalog.DataCatalog.Type, missing }));
})().catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.mark.slow
@pytest.mark.clause("C-001", "C-184")
def test_the_js_sdk_v3_queries_athena_through_serve(tmp_path: Path) -> None:
    """A client nobody here wrote, in its own protocol for Athena, against ``serve``."""

    sdk = js_sdk("client-athena")
    script = tmp_path / "athena.js"
    script.write_text(JS_ATHENA)
    server = EmulatorServer("127.0.0.1", 0, FAST)
    url = server.start()
    try:
        done = subprocess.run(
            ["node", str(script), str(sdk), url], capture_output=True, text=True, timeout=120
        )
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "state": "SUCCEEDED",
        "rows": [["answer"], ["42"]],
        "type": "GLUE",
        "missing": "MetadataException 400",
    }
