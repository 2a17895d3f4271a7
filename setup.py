"""Installs fsconformance-activate.pth next to the package, in wheels and editable installs.

The file makes a process whose environment names FSCONFORMANCE_USE_ENDPOINT send every AWS
client to that endpoint from its first line (children spawned under mock_featurestore, and
any program pointed at `fsconformance serve`). It costs one environment lookup otherwise.
It also puts the conformance material in the package: the suites, their scenarios and data,
the expectations files, the snapshots and the contract stay at the repository's top level and
are mapped to ``fsconformance.bundle.*`` (``fsconformance/bundle/__init__.py`` finds them, in a
wheel and in an editable install alike). Everything else about the build is in pyproject.toml.
"""

import os

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

PTH = "fsconformance-activate.pth"
# package -> folder; their files are listed under [tool.setuptools.package-data] in pyproject.toml
BUNDLE = {
    "fsconformance.bundle.suites": "suites",
    "fsconformance.bundle.fixtures": "fixtures",
    "fsconformance.bundle.data": "data",
    "fsconformance.bundle.expectations": "expectations",
    "fsconformance.bundle.snapshots": "snapshots",
    "fsconformance.bundle.docs": "docs",
}


class BuildPyWithPth(build_py):
    def run(self) -> None:
        super().run()
        self.copy_file(PTH, os.path.join(self.build_lib, PTH))


class EditableWheelWithPth(editable_wheel):
    # setuptools writes an editable wheel through a strategy object; add the file to it.
    def _select_strategy(self, *args, **kwargs):
        strategy = super()._select_strategy(*args, **kwargs)

        class WithPth:
            def __enter__(self):
                strategy.__enter__()
                return self

            def __exit__(self, *exc):
                return strategy.__exit__(*exc)

            def __call__(self, wheel, files, mapping):
                strategy(wheel, files, mapping)
                with open(PTH, "rb") as source:
                    wheel.writestr(PTH, source.read())

        return WithPth()


setup(
    packages=find_packages(include=["fsconformance", "fsconformance.*"]) + list(BUNDLE),
    package_dir=BUNDLE,
    cmdclass={"build_py": BuildPyWithPth, "editable_wheel": EditableWheelWithPth},
)
