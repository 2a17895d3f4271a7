"""DeleteFeatureGroup and ListFeatureGroups.

Listing tests create their groups under a prefix no other test uses and filter on it with
NameContains, so groups from other tests and workers never show up in the results.
"""

from __future__ import annotations

import datetime

import pytest

from .helpers import (
    FEATURE_GROUP_ARN,
    NOT_FOUND,
    U2,
    create_groups,
    expect_client_error,
    listed_names,
)

pytestmark = pytest.mark.control_plane

MINUTE = datetime.timedelta(minutes=1)


@pytest.mark.clause("C-130", "C-018")
def test_a_deleted_group_is_deleting_and_then_gone(backend):
    request = backend.feature_group_request()
    name = request["FeatureGroupName"]
    backend.create_and_wait(request)

    response = backend.sagemaker.delete_feature_group(FeatureGroupName=name)
    status_right_after = backend.describe(name)["FeatureGroupStatus"]

    assert set(response) - {"ResponseMetadata"} == set()
    assert status_right_after == "Deleting"
    backend.wait_until_deleted(name)
    expect_client_error(lambda: backend.describe(name), status=400, codes=NOT_FOUND)


@pytest.mark.clause("C-131")
def test_name_contains_finds_the_group_by_its_unique_name(backend):
    request = backend.feature_group_request()
    name = request["FeatureGroupName"]
    arn = backend.sagemaker.create_feature_group(**request)["FeatureGroupArn"]
    backend.wait_until_created(name)

    summaries = backend.sagemaker.list_feature_groups(NameContains=name)["FeatureGroupSummaries"]

    assert [s["FeatureGroupName"] for s in summaries] == [name]
    summary = summaries[0]
    assert summary["FeatureGroupArn"] == arn
    assert FEATURE_GROUP_ARN.fullmatch(summary["FeatureGroupArn"])
    assert isinstance(summary["CreationTime"], datetime.datetime)
    assert summary["FeatureGroupStatus"] == "Created"
    assert summary["OfflineStoreStatus"]["Status"] == "Active"


@pytest.mark.clause("C-131")
@pytest.mark.parametrize(
    ("sort_by", "sort_order", "expected"),
    [
        ("Name", "Ascending", ["a", "b", "c"]),
        ("Name", "Descending", ["c", "b", "a"]),
        ("CreationTime", "Ascending", ["b", "c", "a"]),
        ("CreationTime", "Descending", ["a", "c", "b"]),
    ],
)
def test_list_sorts_by_name_or_creation_time(backend, sort_by, sort_order, expected):
    prefix = backend.unique_name()
    create_groups(backend, [f"{prefix}-b", f"{prefix}-c", f"{prefix}-a"])  # in this order

    names = listed_names(backend, NameContains=prefix, SortBy=sort_by, SortOrder=sort_order)

    assert names == [f"{prefix}-{suffix}" for suffix in expected]


@pytest.mark.clause("C-131", "C-130")
def test_list_filters_on_feature_group_status(backend):
    prefix = backend.unique_name()
    create_groups(backend, [f"{prefix}-kept", f"{prefix}-dropped"])

    backend.sagemaker.delete_feature_group(FeatureGroupName=f"{prefix}-dropped")

    assert listed_names(backend, NameContains=prefix, FeatureGroupStatusEquals="Deleting") == [
        f"{prefix}-dropped"
    ]
    assert listed_names(backend, NameContains=prefix, FeatureGroupStatusEquals="Created") == [
        f"{prefix}-kept"
    ]
    assert listed_names(backend, NameContains=prefix, FeatureGroupStatusEquals="Creating") == []


@pytest.mark.clause("C-131")
def test_list_filters_on_offline_store_status(backend):
    prefix = backend.unique_name()
    create_groups(backend, [f"{prefix}-offline"])
    create_groups(backend, [f"{prefix}-online"], offline=False)

    active = listed_names(backend, NameContains=prefix, OfflineStoreStatusEquals="Active")
    disabled = listed_names(backend, NameContains=prefix, OfflineStoreStatusEquals="Disabled")

    assert active == [f"{prefix}-offline"]
    assert disabled == []


@pytest.mark.clause("C-131")
def test_list_filters_on_creation_time(backend):
    name = backend.unique_name()
    created = create_groups(backend, [name])[0]["CreationTime"]

    def listed(**window: datetime.datetime) -> bool:
        return name in listed_names(backend, NameContains=name, **window)

    assert listed(CreationTimeAfter=created - MINUTE)
    assert not listed(CreationTimeAfter=created + MINUTE)
    assert listed(CreationTimeBefore=created + MINUTE)
    assert not listed(CreationTimeBefore=created - MINUTE)
    assert listed(CreationTimeAfter=created - MINUTE, CreationTimeBefore=created + MINUTE)


@pytest.mark.clause("C-131")
def test_max_results_and_next_token_page_through_every_group(backend):
    prefix = backend.unique_name()
    names = [
        d["FeatureGroupName"] for d in create_groups(backend, [f"{prefix}-{i}" for i in "xyz"])
    ]
    query = {"NameContains": prefix, "SortBy": "Name", "SortOrder": "Ascending"}

    pages = [backend.sagemaker.list_feature_groups(MaxResults=2, **query)]
    while "NextToken" in pages[-1]:
        pages.append(
            backend.sagemaker.list_feature_groups(
                MaxResults=2, NextToken=pages[-1]["NextToken"], **query
            )
        )

    assert [len(page["FeatureGroupSummaries"]) for page in pages] == [2, 1]
    listed = [s["FeatureGroupName"] for page in pages for s in page["FeatureGroupSummaries"]]
    assert listed == sorted(names)


@pytest.mark.clause("C-131", "C-002")
def test_the_boto3_paginator_returns_every_group(backend):
    prefix = backend.unique_name()
    names = [
        d["FeatureGroupName"] for d in create_groups(backend, [f"{prefix}-{i}" for i in "xyz"])
    ]
    paginator = backend.sagemaker.get_paginator("list_feature_groups")

    pages = list(
        paginator.paginate(
            NameContains=prefix,
            SortBy="Name",
            SortOrder="Ascending",
            PaginationConfig={"PageSize": 1},
        )
    )

    assert len(pages) == 3
    listed = [s["FeatureGroupName"] for page in pages for s in page["FeatureGroupSummaries"]]
    assert listed == sorted(names)


@pytest.mark.clause("C-131", "C-004")
@U2
def test_max_results_above_100_is_refused(backend):
    expect_client_error(lambda: backend.sagemaker.list_feature_groups(MaxResults=101))
