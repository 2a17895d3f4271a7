"""Self-tests of the requires marker and the unsupported outcome.

An older botocore is faked by deleting members from the installed service model, so the
mechanism is proven whatever boto3 this environment has; the tox cell `oldest` proves it on a
real old release.
"""

from __future__ import annotations

import copy
import textwrap

import botocore.session
import pytest
from botocore.model import ServiceModel

from fsconformance.backends import capabilities
from fsconformance.backends.capabilities import (
    Needs,
    ServiceModels,
    UnknownNeed,
    emulated_features,
    unmet,
)


def _older_models() -> ServiceModels:
    """The installed models without TTL and throughput, as botocore had them before 1.29.162."""
    loader = botocore.session.get_session().get_component("data_loader")
    models = {}
    for service in capabilities.SERVICES:
        data = copy.deepcopy(loader.load_service_model(service, "service-2"))
        shapes = data["shapes"]
        if service == "sagemaker":
            shapes["OnlineStoreConfig"]["members"].pop("TtlDuration", None)
            shapes["UpdateFeatureGroupRequest"]["members"].pop("OnlineStoreConfig", None)
            for request in ("CreateFeatureGroupRequest", "UpdateFeatureGroupRequest"):
                shapes[request]["members"].pop("ThroughputConfig", None)
        else:
            data["operations"].pop("BatchWriteRecord", None)
        models[service] = ServiceModel(data, service_name=service)
    return ServiceModels(models)


def test_installed_model_has_the_members_the_suites_need() -> None:
    models = ServiceModels.installed()
    assert models.has_operation("UpdateFeatureGroup")
    assert models.has_operation("GetRecord")
    assert models.has_member("UpdateFeatureGroup.OnlineStoreConfig.TtlDuration")
    assert models.has_member("CreateFeatureGroup.FeatureDefinitions.FeatureType")  # via a list
    assert not models.has_member("CreateFeatureGroup.NoSuchMember")
    assert not models.has_member("NoSuchOperation")


def test_a_faked_older_model_lacks_ttl_and_throughput() -> None:
    needs = Needs(
        operations=("UpdateFeatureGroup",),
        members=(
            "UpdateFeatureGroup.OnlineStoreConfig.TtlDuration",
            "CreateFeatureGroup.ThroughputConfig",
        ),
        features=("offline_store",),
    )
    problems = unmet(needs, {"online_store"}, _older_models())
    assert problems == [
        "member UpdateFeatureGroup.OnlineStoreConfig.TtlDuration (not in botocore)",
        "member CreateFeatureGroup.ThroughputConfig (not in botocore)",
        "feature offline_store (not in the backend)",
    ]
    assert unmet(needs, {"offline_store"}) == []  # the installed (newest) model has them all


def test_missing_members_walks_nested_structures_and_lists() -> None:
    request = {
        "FeatureGroupName": "g",
        "OnlineStoreConfig": {"EnableOnlineStore": True, "TtlDuration": {"Unit": "Days"}},
        "FeatureDefinitions": [{"FeatureName": "a", "FeatureType": "String", "Colour": "x"}],
        "ThroughputConfig": {"ThroughputMode": "OnDemand"},
    }
    missing = _older_models().missing_members("CreateFeatureGroup", request)
    assert missing == [
        "CreateFeatureGroup.OnlineStoreConfig.TtlDuration",
        "CreateFeatureGroup.FeatureDefinitions.Colour",
        "CreateFeatureGroup.ThroughputConfig",
    ]


def test_require_request_reports_unsupported_instead_of_sending() -> None:
    request = {"FeatureGroupName": "g", "ThroughputConfig": {"ThroughputMode": "OnDemand"}}
    with pytest.raises(pytest.skip.Exception) as raised:
        capabilities.require_request("CreateFeatureGroup", request, _older_models())
    assert capabilities.is_unsupported_reason(str(raised.value.msg))
    capabilities.require_request("CreateFeatureGroup", request)  # the installed model: fine


def test_an_unknown_feature_is_refused() -> None:
    mark = pytest.mark.requires(features=["time_travel"]).mark
    with pytest.raises(UnknownNeed, match="time_travel"):
        Needs.from_marks([mark])


def test_the_emulation_offers_arn_names_only_with_a_model_that_allows_them() -> None:
    assert "feature_group_arn" in emulated_features()
    loader = botocore.session.get_session().get_component("data_loader")
    data = copy.deepcopy(loader.load_service_model("sagemaker", "service-2"))
    name_shape = data["operations"]["DescribeFeatureGroup"]["input"]["shape"]
    member = data["shapes"][name_shape]["members"]["FeatureGroupName"]["shape"]
    data["shapes"][member]["max"] = 64
    older = ServiceModels({"sagemaker": ServiceModel(data, service_name="sagemaker")})
    assert "feature_group_arn" not in emulated_features(older)


FAKE_OLD_CONFTEST = """
import copy

import botocore.session
from botocore.model import ServiceModel

from fsconformance.backends import capabilities

loader = botocore.session.get_session().get_component("data_loader")
data = copy.deepcopy(loader.load_service_model("sagemaker", "service-2"))
data["shapes"]["OnlineStoreConfig"]["members"].pop("TtlDuration")
data["shapes"]["UpdateFeatureGroupRequest"]["members"].pop("OnlineStoreConfig")
capabilities._installed = capabilities.ServiceModels(
    {"sagemaker": ServiceModel(data, service_name="sagemaker")}
)
"""


@pytest.mark.slow
def test_unmet_needs_are_reported_as_unsupported(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FAKE_OLD_CONFTEST)
    pytester.makepyfile(
        test_needs=textwrap.dedent(
            """
            import pytest

            @pytest.mark.requires(members=["UpdateFeatureGroup.OnlineStoreConfig.TtlDuration"])
            def test_ttl():
                raise AssertionError("must not run")

            @pytest.mark.requires(operations=["UpdateFeatureGroup"])
            def test_update():
                pass

            @pytest.mark.requires(operations=["NoSuchOperation"])
            def test_newer():
                raise AssertionError("must not run")

            @pytest.mark.skip(reason="plain skip")
            def test_skipped():
                pass
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    outcomes = result.parseoutcomes()
    assert outcomes == {"passed": 1, "unsupported": 2, "skipped": 1}, result.stdout.str()
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*unsupported: 2 (needs not met)*",
            "UNSUPPORTED test_needs.py::test_ttl - needs member "
            "UpdateFeatureGroup.OnlineStoreConfig.TtlDuration (not in botocore)*",
            "UNSUPPORTED test_needs.py::test_newer - needs operation NoSuchOperation*",
        ]
    )
    result.stdout.fnmatch_lines(["test_needs.py U.Us*"])


@pytest.mark.slow
def test_a_bad_requires_marker_stops_collection(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.requires(feature=["ttl"])
        def test_typo():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*test_bad.py::test_typo: requires(...) takes only*"])


def test_a_client_package_that_is_absent_or_of_another_version_is_unsupported() -> None:
    from fsconformance.backends.capabilities import package_problem

    assert package_problem("pytest>=1") is None
    assert package_problem("fsct-no-such-client>=1") == (
        "package fsct-no-such-client>=1 (not installed)"
    )
    assert "(installed: " in str(package_problem("pytest<1"))
    needs = Needs.from_marks([pytest.mark.requires(packages=["pytest<1"]).mark])
    assert unmet(needs, capabilities=[]) == [package_problem("pytest<1")]
    with pytest.raises(UnknownNeed, match="not a requirement"):
        Needs.from_marks([pytest.mark.requires(packages=["not a requirement!"]).mark])
