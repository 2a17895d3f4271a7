"""What a test needs, and whether this installation can give it.

A test declares its needs with ``@pytest.mark.requires(operations=[...], members=[...],
features=[...])``:

* ``operations``: API operation names, looked up in the installed botocore service models of
  ``sagemaker`` and ``sagemaker-featurestore-runtime``;
* ``members``: request members as dotted paths that start with an operation and walk its input
  shape (``UpdateFeatureGroup.OnlineStoreConfig.TtlDuration``); lists and maps are walked
  through to their element shapes; ``path=Value`` also needs ``Value`` in the member's enum
  (``CreateFeatureGroup.OnlineStoreConfig.StorageType=Standard_V2``), since botocore sends
  enum values it does not know and an emulation validating with the same model refuses them;
* ``features``: names from ``FEATURES`` that the backend must declare in ``capabilities``;
* ``packages``: requirement strings (``"sagemaker>=2.200,<3"``) the installed distributions
  must satisfy: a client that is absent, or of a version the suite does not cover, makes the
  test unsupported with the version it found.

A need that is not met makes the test **unsupported**: the plugin skips it with a reason that
starts with ``UNSUPPORTED_PREFIX`` and reports it under its own outcome.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.session
import pytest
from botocore.model import ServiceModel, Shape
from packaging.requirements import InvalidRequirement, Requirement

SERVICES = ("sagemaker", "sagemaker-featurestore-runtime")

#: Backend features a test may require; a backend declares the ones it has.
FEATURES: dict[str, str] = {
    "online_store": "GetRecord, PutRecord, BatchGetRecord and DeleteRecord",
    "offline_store": "offline rows written as Parquet to S3",
    "glue_catalog": "the Glue table Feature Store creates for the offline store",
    "athena": "Athena SQL over the offline store",
    "ttl": "online-store TTL: ExpiresAt and expired records hidden",
    "throughput": "ThroughputConfig: on-demand and provisioned modes",
    "feature_group_arn": "a feature-group ARN accepted wherever a FeatureGroupName is",
    "creation_limit": "the account's limit of 4 groups Creating at once may be reached on "
    "purpose: no other process creates groups in the test's account",
}

#: Every skip reason for an unmet need starts with this; the plugin recognises it.
UNSUPPORTED_PREFIX = "unsupported: "


class UnknownNeed(ValueError):
    """A ``requires`` marker is malformed or names a feature no backend can declare."""


@dataclass(frozen=True)
class Needs:
    """What one test needs; built from its ``requires`` markers."""

    operations: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()

    @classmethod
    def from_marks(cls, marks: Iterable[Any]) -> Needs:
        """Merge the keyword arguments of every ``requires`` mark."""
        operations: list[str] = []
        members: list[str] = []
        features: list[str] = []
        packages: list[str] = []
        for mark in marks:
            unknown = set(mark.kwargs) - {"operations", "members", "features", "packages"}
            if mark.args or unknown:
                raise UnknownNeed(
                    "requires(...) takes only operations=, members=, features= and packages= lists"
                )
            operations += list(mark.kwargs.get("operations", ()))
            members += list(mark.kwargs.get("members", ()))
            features += list(mark.kwargs.get("features", ()))
            packages += list(mark.kwargs.get("packages", ()))
        for package in packages:
            try:
                Requirement(package)
            except InvalidRequirement:
                raise UnknownNeed(
                    f"requires(packages=[{package!r}]): not a requirement string"
                ) from None
        for feature in features:
            if feature not in FEATURES:
                raise UnknownNeed(
                    f"requires(features=[{feature!r}]): not a feature; known: {', '.join(FEATURES)}"
                )
        return cls(tuple(operations), tuple(members), tuple(features), tuple(packages))

    def __bool__(self) -> bool:
        return bool(self.operations or self.members or self.features or self.packages)


@dataclass
class ServiceModels:
    """The service models requests are checked against; the installed botocore's by default."""

    models: Mapping[str, ServiceModel] = field(default_factory=dict)

    @classmethod
    def installed(cls) -> ServiceModels:
        session = botocore.session.get_session()
        return cls({name: session.get_service_model(name) for name in SERVICES})

    def operation_input(self, operation: str) -> Shape | None:
        """The input shape of ``operation`` in any of the services, or None if it is absent."""
        for model in self.models.values():
            if operation in model.operation_names:
                return model.operation_model(operation).input_shape
        return None

    def has_operation(self, operation: str) -> bool:
        return any(operation in model.operation_names for model in self.models.values())

    def has_member(self, path: str) -> bool:
        """Whether ``Operation.Member.Sub...`` names a request member of the model (and, for
        ``...=Value``, one whose enum holds ``Value``)."""
        path, equals, value = path.partition("=")
        operation, _, rest = path.partition(".")
        shape = self.operation_input(operation)
        if shape is None:
            return False
        for name in rest.split(".") if rest else []:
            shape = _through_containers(shape)
            if shape.type_name != "structure" or name not in shape.members:
                return False
            shape = shape.members[name]
        if equals:
            return value in (_through_containers(shape).enum or [])
        return True

    def missing_members(self, operation: str, request: Mapping[str, Any]) -> list[str]:
        """The dotted paths of members of ``request`` that the model's input shape lacks."""
        shape = self.operation_input(operation)
        if shape is None:
            return [operation]
        missing: list[str] = []
        _walk_request(shape, request, operation, missing)
        return missing


def _through_containers(shape: Shape) -> Shape:
    while shape.type_name in ("list", "map"):
        shape = shape.member if shape.type_name == "list" else shape.value
    return shape


def _walk_request(shape: Shape, value: Any, path: str, missing: list[str]) -> None:
    if shape.type_name == "structure" and isinstance(value, Mapping):
        for name, item in value.items():
            if name not in shape.members:
                missing.append(f"{path}.{name}")
            else:
                _walk_request(shape.members[name], item, f"{path}.{name}", missing)
    elif shape.type_name == "list" and isinstance(value, list | tuple):
        for item in value:
            _walk_request(shape.member, item, path, missing)
    elif shape.type_name == "map" and isinstance(value, Mapping):
        for item in value.values():
            _walk_request(shape.value, item, path, missing)


_installed: ServiceModels | None = None


def installed_models() -> ServiceModels:
    """The installed botocore's models, loaded once per process."""
    global _installed
    if _installed is None:
        _installed = ServiceModels.installed()
    return _installed


def emulated_features(models: ServiceModels | None = None) -> frozenset[str]:
    """The features an emulation that validates with the installed service model can offer.

    The emulation checks requests against the installed botocore's shapes, as AWS checks them
    against its own; botocore releases before 1.34 cap FeatureGroupName at 64 characters, so an
    emulation on them refuses ARNs in its place.
    """
    models = models or installed_models()
    features = set(FEATURES)
    shape = models.operation_input("DescribeFeatureGroup")
    name = shape.members.get("FeatureGroupName") if shape is not None else None
    if name is None or int(name.metadata.get("max", 0)) < 64 + len("arn:aws:sagemaker:"):
        features.discard("feature_group_arn")
    return frozenset(features)


def unmet(
    needs: Needs, capabilities: Iterable[str], models: ServiceModels | None = None
) -> list[str]:
    """Every need that is not met, one short phrase each; empty when the test can run."""
    models = models or installed_models()
    have = set(capabilities)
    problems = [
        f"operation {op} (not in botocore)"
        for op in needs.operations
        if not models.has_operation(op)
    ]
    problems += [f"member {m} (not in botocore)" for m in needs.members if not models.has_member(m)]
    problems += [f"feature {f} (not in the backend)" for f in needs.features if f not in have]
    problems += [p for p in (package_problem(r) for r in needs.packages) if p]
    return problems


def package_problem(requirement: str) -> str | None:
    """Why the installed distributions do not satisfy ``requirement``; None if they do."""
    wanted = Requirement(requirement)
    try:
        found = importlib.metadata.version(wanted.name)
    except importlib.metadata.PackageNotFoundError:
        return f"package {requirement} (not installed)"
    if wanted.specifier and not wanted.specifier.contains(found, prereleases=True):
        return f"package {requirement} (installed: {found})"
    return None


def unsupported_reason(problems: list[str]) -> str:
    """The skip reason the plugin reports as unsupported."""
    import botocore

    return f"{UNSUPPORTED_PREFIX}needs {', '.join(problems)}; botocore {botocore.__version__}"


def is_unsupported_reason(text: str) -> bool:
    """Whether a skip message (possibly prefixed with ``Skipped: ``) is an unsupported one."""
    return text.removeprefix("Skipped: ").startswith(UNSUPPORTED_PREFIX)


def require_request(
    operation: str, request: Mapping[str, Any], models: ServiceModels | None = None
) -> None:
    """Report the running test unsupported if ``request`` uses members the model lacks.

    Library code that builds requests calls this before sending, so an old botocore is met
    with an unsupported outcome instead of a ParamValidationError.
    """
    missing = (models or installed_models()).missing_members(operation, request)
    if missing:
        pytest.skip(unsupported_reason([f"member {m} (not in botocore)" for m in missing]))


class RequiresPlugin:
    """Pytest hooks: unmet ``requires`` needs become the **unsupported** outcome."""

    def __init__(self, capabilities: Iterable[str]) -> None:
        self.capabilities = frozenset(capabilities)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        problems = []
        for item in items:
            try:
                Needs.from_marks(item.iter_markers("requires"))
            except UnknownNeed as error:
                problems.append(f"{item.nodeid}: {error}")
        if problems:
            raise pytest.UsageError(
                "fsconformance: bad requires marker:\n  " + "\n  ".join(problems)
            )

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        needs = Needs.from_marks(item.iter_markers("requires"))
        if needs:
            problems = unmet(needs, self.capabilities)
            if problems:
                pytest.skip(unsupported_reason(problems))

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        if report.skipped and is_unsupported_reason(skip_message(report)):
            return "unsupported", "U", "UNSUPPORTED"
        return None

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        reports = terminalreporter.stats.get("unsupported", [])
        if not reports:
            return
        terminalreporter.write_sep("=", f"unsupported: {len(reports)} (needs not met)")
        for report in reports:
            reason = skip_message(report).removeprefix("Skipped: ").removeprefix(UNSUPPORTED_PREFIX)
            terminalreporter.write_line(f"UNSUPPORTED {report.nodeid} - {reason}")


def skip_message(report: Any) -> str:
    """The message of a skipped report ('' for any other)."""
    longrepr = getattr(report, "longrepr", None)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return ""
