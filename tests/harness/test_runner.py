"""``fsconformance run``: the packaged suites from any directory, and one line on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fsconformance import bundle
from fsconformance.harness import runner
from tests.helpers import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def fsconformance(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fsconformance", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_bundle_is_the_material_beside_the_suites() -> None:
    root = bundle.root()
    assert bundle.suites() == root / "suites"
    assert (bundle.suites() / "conftest.py").is_file()
    assert sorted(p.name for p in bundle.folder("fixtures").glob("*.toml"))
    assert bundle.contract().read_text("utf-8").count('<a id="C-') >= 100


def test_a_missing_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(bundle, "root", lambda: tmp_path)
    with pytest.raises(bundle.BundleError, match=r"docs/contract\.md: no such file"):
        bundle.contract()
    with pytest.raises(bundle.BundleError, match=r"fixtures: no such folder"):
        bundle.folder("fixtures")


def test_suite_paths_are_taken_inside_the_package(tmp_path: Path) -> None:
    root, ini = Path("/pkg/bundle"), Path("/pkg/bundle/pytest.ini")
    head = ["-c", str(ini), "--rootdir", str(root), "-p", runner.CONFORMANCE_PLUGIN]
    assert runner.pytest_arguments(["-k", "put"], root, ini) == [
        *head,
        "-k",
        "put",
        "/pkg/bundle/suites",
    ]
    assert runner.pytest_arguments(["suites/test_a.py::t", "-x"], root, ini) == [
        *head,
        "/pkg/bundle/suites/test_a.py::t",
        "-x",
    ]


def test_the_backend_comes_from_the_arguments_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FSCONFORMANCE_BACKEND", raising=False)
    assert runner.chosen_backend(["-q"]) == "moto"
    assert runner.chosen_backend(["--backend", "aws"]) == "aws"
    assert runner.chosen_backend(["--backend=endpoint"]) == "endpoint"
    monkeypatch.setenv("FSCONFORMANCE_BACKEND", "moto-server")
    assert runner.chosen_backend([]) == "moto-server"


def test_the_packaged_settings_are_the_checkouts(tmp_path: Path) -> None:
    checkout = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    options = checkout["tool"]["pytest"]["ini_options"]
    packaged = (REPO / "fsconformance" / "bundle" / "pytest.ini").read_text("utf-8")
    assert f"addopts = {options['addopts']}" in packaged
    assert f"xfail_strict = {str(options['xfail_strict']).lower()}" in packaged


@pytest.mark.slow
def test_an_unknown_backend_is_one_line(tmp_path: Path) -> None:
    done = fsconformance("run", "--backend=bogus", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "fsconformance run: unknown backend 'bogus'; choose one of moto, moto-server, aws, "
        "endpoint, moto-plain"
    ]


@pytest.mark.slow
def test_an_unreachable_endpoint_is_one_line(tmp_path: Path) -> None:
    # Port 9 (discard) on loopback: nothing listens there on a test machine.
    done = fsconformance(
        "run", "--backend=endpoint", "--endpoint-url", "http://127.0.0.1:9", cwd=tmp_path
    )
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith("ERROR: fsconformance: --endpoint-url http://127.0.0.1:9 ")
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.slow
def test_run_judges_the_packaged_suites_from_another_directory(tmp_path: Path) -> None:
    junit = tmp_path / "run.xml"
    done = fsconformance(
        "run",
        "--backend=moto",
        "-q",
        f"--junitxml={junit}",
        "suites/test_create.py",
        "-k",
        "second_group_with_the_same_name",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
    text = junit.read_text("utf-8")
    name = "suites/test_create.py::test_a_second_group_with_the_same_name_is_resource_in_use"
    assert f'name="fsconformance.nodeid" value="{name}"' in text
    assert list(tmp_path.iterdir()) == [junit]  # no cache or other file left in the directory
