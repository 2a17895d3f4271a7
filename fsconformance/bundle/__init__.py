"""Where the conformance material is: the suites, their scenarios and datasets, the
expectations files, the recorded snapshots and the contract.

The repository keeps them at its top level (``suites/``, ``fixtures/``, ``data/``,
``expectations/``, ``snapshots/``, ``docs/contract.md``, ``docs/evidence.toml``); the build puts the same tree in the
wheel under ``fsconformance/bundle/`` (setup.py maps the packages). Either way they sit side
by side, so the folder that holds the suites package holds the rest: in an installed package
that is ``fsconformance/bundle/``, in an editable install the checkout itself. The suites
package is found through the import system, never from a module's own path.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["BundleError", "contract", "folder", "root", "suites"]

SUITES_PACKAGE = "fsconformance.bundle.suites"
CONTRACT = "docs/contract.md"
EVIDENCE = "docs/evidence.toml"  # the public evidence of what AWS did, beside the contract


class BundleError(FileNotFoundError):
    """Part of the conformance material is missing; the message is one line naming it."""


def root() -> Path:
    """The folder holding ``suites/`` and the rest of the material."""
    spec = importlib.util.find_spec(SUITES_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise BundleError(
            f"fsconformance: the package {SUITES_PACKAGE} is not installed; reinstall "
            "fsconformance (a wheel built from a checkout carries the suites)"
        )
    return Path(locations[0]).parent


def folder(name: str) -> Path:
    """``suites``, ``fixtures``, ``data``, ``expectations`` or ``snapshots``: that folder."""
    path = root() / name
    if not path.is_dir():
        raise BundleError(f"fsconformance: {path}: no such folder in the installed package")
    return path


def file(relative: str) -> Path:
    """A file of the material, e.g. ``fixtures/customers.toml``; missing, it is named."""
    path = root() / relative
    if not path.is_file():
        raise BundleError(f"fsconformance: {path}: no such file in the installed package")
    return path


def suites() -> Path:
    return folder("suites")


def contract() -> Path:
    """The contract, ``docs/contract.md``: clause ids, titles and the UNCERTAIN ledger."""
    return file(CONTRACT)
