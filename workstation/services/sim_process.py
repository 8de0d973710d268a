"""The embedded simulator's child process, started with the standard library alone.

:class:`~workstation.services.venue.EmbeddedSim` runs the simulator through one of these;
:mod:`workstation.launch` starts one before the command line's own imports (see there), which
is why this module imports nothing but the standard library.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

__all__ = ["NO_CA_STORE", "SimProcess"]

NO_CA_STORE = {"SSL_CERT_FILE": os.devnull, "SSL_CERT_DIR": os.devnull}
"""The embedded simulator's environment: no CA store. It serves plain HTTP on loopback and
never opens a TLS connection, but importing ``aiohttp`` builds two client SSL contexts that
load the system's CA bundle (about 50 ms of its start, measured), which these make empty."""


class SimProcess:
    """``workstation sim --port 0 --embedded [--seed N]``, started when this is made (as
    ``python -m workstation.cli_sim``, the same command without the app's parser).

    The child prints one JSON line (its URLs and demo keys) when it listens, and exits by
    itself when our end of its stdin closes: one never used still ends with this process.
    """

    def __init__(self, seed: int | None) -> None:
        self.seed = seed
        self.run_id = secrets.token_hex(4)
        """A fresh 8-hex id per start: the journal scope of this run's orders."""
        args = [sys.executable, "-m", "workstation.cli_sim", "--port", "0", "--embedded"]
        if seed is not None:
            args += ["--seed", str(seed)]
        self.process: subprocess.Popen[bytes] = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **NO_CA_STORE},
        )

    def end(self) -> None:
        """Stop the child if it still runs (stdin closed, then killed after 2 s), blocking;
        safe to call again."""
        process = self.process
        if process.stdin is not None and not process.stdin.closed:
            process.stdin.close()
        try:
            process.wait(2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None and not process.stdout.closed:
            process.stdout.close()

    def discard(self) -> None:
        """Kill the child at once and reap it: one that was never used has nothing to finish
        (a start that went another way, a seed not asked for). Safe once it has ended."""
        self.process.kill()  # nothing once it has been reaped
        self.end()
