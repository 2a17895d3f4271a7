"""Imported at interpreter start by ``fsconformance-activate.pth`` when
``FSCONFORMANCE_USE_ENDPOINT`` is set: every botocore client of the process, explicit endpoints
included, then talks to that endpoint (a mocking parent's emulation, or ``fsconformance serve``).
"""

from __future__ import annotations

from .emulator.transports.bridge import activate_from_environment

activate_from_environment()
