"""Installs fsconformance-activate.pth next to the package, in wheels and editable installs.

The file makes a process whose environment names FSCONFORMANCE_USE_ENDPOINT send every AWS
client to that endpoint from its first line (children spawned under mock_featurestore, and
any program pointed at `fsconformance serve`). It costs one environment lookup otherwise.
Everything else about the build is in pyproject.toml.
"""

import os

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

PTH = "fsconformance-activate.pth"


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


setup(cmdclass={"build_py": BuildPyWithPth, "editable_wheel": EditableWheelWithPth})
