"""``fsconformance serve --data-dir`` in a child process, to be killed and started again on the
same directory (docs/durability.md): what the durability and crash-consistency tests share."""

from __future__ import annotations

import signal
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tests.helpers import serve


class DataDirServer:
    """One start of ``serve --data-dir``; ``notices`` are the lines it printed about the data
    directory before listening (set aside, damaged, restored)."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None) -> None:
        # A file rather than a pipe: nothing reads stderr while the server runs.
        self.errors = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by kill or stop
        self.process = serve("--data-dir", str(data_dir), env=env, stderr=self.errors)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        said = self.stderr()
        if "listening on" not in line:
            raise AssertionError(f"serve did not start: {line}{said[-3000:]}")
        self.url = line.rsplit(" ", 1)[1].strip()
        self.notices = [n for n in said.splitlines() if n.startswith("fsconformance serve: ")]

    def stderr(self) -> str:
        self.errors.seek(0)
        return self.errors.read()

    def restored(self) -> tuple[int, int]:
        """How many writes this start replayed, and how many of them answered differently."""
        found = [n for n in self.notices if " restored " in n]
        if len(found) != 1:
            raise AssertionError(f"not one restore line in {self.notices}")
        (notice,) = found
        count = int(notice.split(" restored ")[1].split()[0])
        differed = notice.split(", ")[-1]
        return count, int(differed.split()[0]) if "differently" in differed else 0

    def replayed_exactly(self) -> int:
        """How many writes this start replayed; a write that answered differently fails."""
        count, differed = self.restored()
        assert differed == 0, self.notices
        return count

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; only what was journaled remains."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=60)
        self.errors.close()

    def stop(self) -> None:
        """SIGTERM, as an operator stops it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)
        self.errors.close()
