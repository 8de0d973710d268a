"""What the app's start loads: not what it never uses on the way to its first book.

Every import on that path is CPU before the first painted book (issue 16's cold start). An
app on the simulator, or with keys from the environment, never touches a keyring.
"""

from __future__ import annotations

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
)
"""Imported when used: the screens a key opens, trading (opened once the book is live), and
the order wire and domain (trading imports them, before any order is sent)."""


def test_the_screens_a_key_opens_and_trading_wait_until_they_are_used() -> None:
    """Each was part of the cold start's CPU (docs/decisions.md, "Cold start"); a top-level
    import added back would quietly put it back on the path to the first book."""
    code = (
        "import sys; import workstation.services.facade, workstation.ui.app, "
        "workstation.cli_trading, workstation.cli; "
        f"print(' '.join(m for m in {WAITS!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
