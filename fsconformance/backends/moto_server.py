"""The ``moto-server`` backend: the emulation over HTTP on 127.0.0.1, reached by endpoint URL.

Each pytest process (each xdist worker) serves moto plus the emulation from a thread of its
own, on a free loopback port. Clients talk to it exactly as they talk to AWS: signed HTTP
requests to an ``endpoint_url``, S3 in path style. Between tests moto's reset endpoint wipes
every account (the emulation's state with it), then the bucket and role are provisioned again.
"""

from __future__ import annotations

import urllib.request
from typing import Any

from botocore.config import Config

from ..emulator import settings
from ..emulator.transports.wsgi import EmulatorServer
from .moto import MotoBackend

FAKE_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}


def reset_server(endpoint_url: str) -> None:
    """Wipe every account on a moto server (``POST /moto-api/reset``)."""
    request = urllib.request.Request(f"{endpoint_url}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
        response.read()


class MotoServerBackend(MotoBackend):
    """moto and the emulation behind an HTTP endpoint on a loopback address."""

    name = "moto-server"

    def __init__(self, region: str) -> None:
        super().__init__(region)
        self._server: EmulatorServer | None = None
        self.endpoint_url = ""

    def start(self) -> None:
        super().start()
        self._server = EmulatorServer("127.0.0.1", 0)
        self.endpoint_url = self._server.start()

    def stop(self) -> None:
        try:
            if self._server is not None:
                self._server.shutdown()
                self._server = None
        finally:
            super().stop()

    def _client_config(self) -> Config:
        return super()._client_config().merge(Config(s3={"addressing_style": "path"}))

    def _client_kwargs(self) -> dict[str, Any]:
        return {"endpoint_url": self.endpoint_url, **FAKE_CREDENTIALS}

    def begin_test(self) -> None:
        """A fresh server-side state for each test: reset, then bucket and role again."""
        self._created = []
        # Self-tests in this process may have configured other delays for their own mocks.
        settings.configure(settings.delays_from_env())
        reset_server(self.endpoint_url)
        self.provision()

    def end_test(self, failed: bool = False) -> list[str]:
        return self.cleanup()

    def header_lines(self) -> list[str]:
        return [
            f"fsconformance backend: {self.name}, region {self.region}, "
            f"endpoint {self.endpoint_url or '(started per process)'}"
        ]
