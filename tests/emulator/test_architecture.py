"""The package's shape: moto behind one seam, no import cycles, a pure model, and short paths
through it for a put and for the offline store."""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import fsconformance
from tests import helpers

PACKAGE = Path(fsconformance.__file__).parent
SEAM = PACKAGE / "emulator" / "moto_seam"


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path) -> list[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            module = node.module or ""
            base = f"{base}.{module}".strip(".") if node.level else module
            found.append(base)
            found.extend(f"{base}.{alias.name}" for alias in node.names)
    return found


def test_moto_is_imported_by_the_seam_only() -> None:
    offenders = [
        f"{name} imports {imported}"
        for name, path in modules().items()
        if SEAM not in path.parents
        for imported in imports_of(name, path)
        if imported == "moto" or imported.startswith("moto.")
    ]
    assert offenders == []


def test_the_package_has_no_import_cycle() -> None:
    known = modules()
    graph = {
        name: sorted({i for i in imports_of(name, path) if i in known and i != name})
        for name, path in known.items()
    }
    # A package's __init__ importing its own submodules is not a cycle of behaviour.
    for name in graph:
        graph[name] = [i for i in graph[name] if not i.startswith(f"{name}.")]
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycles.append(trail[trail.index(name) :] + [name])
            return
        if name in done:
            return
        for imported in graph[name]:
            visit(imported, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert cycles == []


def test_the_model_does_no_io_and_reads_no_environment() -> None:
    for path in (PACKAGE / "model").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for forbidden in ("os.environ", "import os", "open(", "time.time("):
            assert forbidden not in source, f"{path.name} uses {forbidden}"


def _arrows(source: str, targets: tuple[str, ...]) -> list[str]:
    return [
        f"{name} imports {imported}"
        for name, path in modules().items()
        if name == source or name.startswith(source + ".")
        for imported in imports_of(name, path)
        if any(imported == t or imported.startswith(t + ".") for t in targets)
    ]


def test_the_backends_import_nothing_from_the_pytest_face_the_reports_or_the_testing_library() -> (
    None
):
    targets = ("fsconformance.harness", "fsconformance.reporting", "fsconformance.testing")
    assert _arrows("fsconformance.backends", targets) == []


def test_the_reports_and_the_testing_library_do_not_import_the_pytest_face() -> None:
    assert _arrows("fsconformance.reporting", ("fsconformance.harness",)) == []
    assert (
        _arrows("fsconformance.testing", ("fsconformance.harness", "fsconformance.reporting")) == []
    )


def test_no_packaged_module_finds_files_from_its_own_path() -> None:
    # The packaged material is found through the import system (fsconformance.bundle); a
    # module's own path would point into a checkout that an installed package does not have.
    users = [name for name, path in modules().items() if "__file__" in path.read_text("utf-8")]
    assert users == []


def test_the_mutants_tool_is_not_in_the_package() -> None:
    assert not [name for name in modules() if name.rpartition(".")[2] == "mutants"]


# -- the two legs: a PutRecord's path, and the offline store's -------------------------------


def files_run_by(call: Callable[[], object]) -> list[str]:
    """The package's files whose code ``call`` runs, in the order first entered."""
    root = str(PACKAGE) + os.sep
    entered: dict[str, None] = {}

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code.co_filename.startswith(root):
            entered.setdefault(frame.f_code.co_filename[len(root) :], None)

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return list(entered)


def test_a_put_crosses_the_transport_routing_its_handler_and_the_model() -> None:
    """transport -> routing -> the service's handler -> the model, and back: a clean
    PutRecord under the mock runs eight files of the package: the seam and the in-process
    transport, the wire and routing, the runtime's handler, and the data plane, its value
    parsing and the control plane it finds the group in (C-001). Nothing calls back up: the
    handler gets the account's state; validation of a clean request is generated code."""
    import boto3

    from fsconformance import Delays, mock_featurestore

    with mock_featurestore(Delays(create=0, update=0, delete=0, data_plane=0, offline=0)):
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        sagemaker.create_feature_group(**helpers.create_request("leg", helpers.ID_AND_TIME))
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name="us-east-1")
        record = helpers.record(id="a", t="1700000000")
        runtime.put_record(FeatureGroupName="leg", Record=record)  # warm: models, acceptors
        files = files_run_by(lambda: runtime.put_record(FeatureGroupName="leg", Record=record))
    assert files == [
        "emulator/moto_seam/__init__.py",
        "emulator/transports/inprocess.py",
        "emulator/routing.py",
        "emulator/wire.py",
        "emulator/runtime/handlers.py",
        "model/records.py",
        "model/control_plane.py",
        "model/values.py",
    ]


def test_one_module_chooses_the_offline_writer_by_table_format() -> None:
    """The replication leg: only ``offline/flush`` imports the Iceberg writer (lazily, on the
    first Iceberg group), and nothing registers a writer by the side effect of an import."""
    importers = [
        name
        for name, path in modules().items()
        if "fsconformance.emulator.offline.iceberg" in imports_of(name, path)
    ]
    assert importers == ["fsconformance.emulator.offline.flush"]
    iceberg = (PACKAGE / "emulator/offline/iceberg.py").read_text(encoding="utf-8")
    module_level = [
        node
        for node in ast.parse(iceberg).body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, (ast.Subscript, ast.Attribute)) for t in node.targets)
    ]
    assert module_level == [], "the Iceberg module writes into another module's state"
