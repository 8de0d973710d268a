"""What the app's start loads: not what it never uses on the way to its first book.

Every import on that path is CPU before the first painted book (issue 16's cold start). An
app on the simulator, or with keys from the environment, never touches a keyring.
"""

from __future__ import annotations

import os
import subprocess
import sys


def test_the_services_and_the_ui_load_no_keyring() -> None:
    code = (
        "import sys; import workstation.services.facade, workstation.ui.app, "
        "workstation.cli_trading; from workstation.cli_keys import KeysUnavailableError; "
        "sys.exit(1 if 'keyring' in sys.modules else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_services_and_the_ui_load_no_command_line_client_of_httpx() -> None:
    """httpx imports its own command-line client (click, pygments' lexers) whenever click is
    installed, as it is in a developer's venv (import-linter brings it): 0.19 s on every
    start that the app never uses."""
    code = (
        "import sys; import workstation.services.facade, workstation.ui.app, "
        "workstation.cli_trading; import httpx; "
        "loaded = [m for m in ('click', 'httpx._main') if sys.modules.get(m) is not None]; "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


WAITS = (
    "workstation.ui.screens.ticket",
    "workstation.ui.screens.ask",
    "workstation.ui.screens.help",
    "workstation.ui.screens.key_test",
    "workstation.ui.screens.pair_picker",
    "workstation.ui.screens.kill_confirm",
    "workstation.ui.screens.kill_outcome",
    "workstation.domain.ticket",
    "workstation.domain.sizing",
    "workstation.domain.preview",
    "workstation.domain.order_request",
    "workstation.domain.orders",
    "workstation.bitstamp.orders",
    "workstation.services.journal",
    "workstation.services.trading",
    "workstation.services.valuation",
    "sqlite3",
    "tomllib",
)
"""Imported when used: the screens a key opens, trading (opened once the book is live), the
order wire and domain (trading imports them, before any order is sent), and the TOML parser
(a start without a config file, the default, never parses one)."""


def test_the_screens_a_key_opens_and_trading_wait_until_they_are_used() -> None:
    """Each was part of the cold start's CPU (docs/decisions.md, "Cold start"); a top-level
    import added back would quietly put it back on the path to the first book."""
    assert loaded_of(WAITS) == []


START = (
    "import sys; import workstation.services.facade, workstation.ui.app, "
    "workstation.cli_trading, workstation.cli\n"
)


def loaded_of(modules: tuple[str, ...], then: str = "") -> list[str]:
    """Which of ``modules`` a fresh interpreter has loaded after the start's imports (and
    ``then``, more lines run after them)."""
    code = START + then + f"print(' '.join(m for m in {modules!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_command_line_start_loads_none_of_them_before_the_app_runs() -> None:
    """``workstation --sim-url`` from the command line to the app's start (``start_app``,
    replaced here by a probe): the checks, the config, the keys from the environment, the
    journal's path. The journal itself (sqlite3) opens with trading, once the book is on
    screen; the start only needs where it is."""
    code = (
        "import sys, workstation.cli_trading as ct, workstation.cli as cli\n"
        "def probe(**_):\n"
        f"    print(' '.join(m for m in {WAITS!r} if m in sys.modules)); return 0\n"
        "ct.start_app = probe\n"
        "sys.exit(cli.main(['--sim-url', 'http://127.0.0.1:9']))\n"
    )
    env = {
        **os.environ,
        "BITSTAMP_API_KEY": "k" * 32,
        "BITSTAMP_API_SECRET": "s" * 32,
    }
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.split() == []


DATACLASSES_ON_THE_START = {
    "workstation.bitstamp.auth.Credentials",
    "workstation.services.venue.Venue",
}
"""The only dataclasses outside the domain that a start defines: the two records holding API
keys, which hide them from their repr field by field (a Struct has no per-field repr)."""


def test_the_start_defines_its_records_outside_the_domain_as_structs() -> None:
    """A frozen dataclass costs ~1 ms to define in Python 3.11 (six generated methods, each
    compiled at import), a ``msgspec.Struct`` ~0.04 ms: with ~50 records of the wire, the
    services and the UI on the start's path that was ~45 ms of a cold start's CPU
    (docs/decisions.md, "Cold start: records are Structs"). The domain keeps its
    dataclasses (no wire library there: the import contracts)."""
    code = (
        "import dataclasses, sys, inspect\n"
        "import workstation.services.facade, workstation.ui.app, workstation.cli\n"
        "found = set()\n"
        "for name, module in list(sys.modules.items()):\n"
        "    if not name.startswith('workstation.') or name.startswith('workstation.domain'):\n"
        "        continue\n"
        "    for _, cls in inspect.getmembers(module, inspect.isclass):\n"
        "        if cls.__module__ == name and dataclasses.is_dataclass(cls):\n"
        "            found.add(f'{name}.{cls.__qualname__}')\n"
        "print('\\n'.join(sorted(found)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) == DATACLASSES_ON_THE_START


def test_a_warmed_up_client_imports_nothing_more_for_its_first_request() -> None:
    """The app waiting for its embedded simulator imports what the HTTP client's first
    request would (``bitstamp.transport.warm_up``, in a worker thread). A library update
    that loads more on first use would put that back after the simulator's ready line: a
    real request to a loopback server after the warm-up must load no new module."""
    code = (
        "import asyncio, sys, threading\n"
        "from http.server import BaseHTTPRequestHandler, HTTPServer\n"
        "class H(BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(200); self.send_header('Content-Length', '2')\n"
        "        self.end_headers(); self.wfile.write(b'{}')\n"
        "    def log_message(self, *a): pass\n"
        "server = HTTPServer(('127.0.0.1', 0), H)\n"
        "threading.Thread(target=server.handle_request, daemon=True).start()\n"
        "from workstation.bitstamp.transport import Transport, warm_up\n"
        "warm_up()\n"
        "before = set(sys.modules)\n"
        "async def first():\n"
        "    t = Transport(f'http://127.0.0.1:{server.server_port}')\n"
        "    try:\n"
        "        return await t.get_public('/api/v2/markets/')\n"
        "    finally:\n"
        "        await t.aclose()\n"
        "body = asyncio.run(first())\n"
        "new = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in\n"
        "             ('httpx', 'httpcore', 'h11', 'anyio', 'sniffio'))\n"
        "print(body, ' '.join(new))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["b'{}'"]


HTTP_CLIENT = ("httpx", "httpcore", "anyio", "h11", "workstation.bitstamp.request_auth")
"""The HTTP client and the signer: imported with the first REST request. A start from the
cached markets draws its first book from the WebSocket before any (``services/session.py``),
so their ~0.1 s of imports come after it."""


def test_a_session_with_keys_loads_no_http_client_until_its_first_request() -> None:
    session_with_keys = (
        "from workstation.bitstamp.secret import Secret\n"
        "from workstation.services.session import Session\n"
        "from workstation.services.venue import Venue\n"
        "Session(Venue('sim', 'http://127.0.0.1:1', 'ws://127.0.0.1:1', "
        "api_key=Secret('k'), api_secret=Secret('s')))\n"
    )
    assert loaded_of(HTTP_CLIENT, session_with_keys) == []
