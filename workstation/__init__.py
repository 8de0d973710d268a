"""A terminal trading workstation for Bitstamp, with a Bitstamp-compatible simulator."""

import sys

__version__ = "0.1.0"

# httpx imports its own command-line client, and with it click and pygments' lexers (about
# 0.2 s of CPU on every start), whenever click is installed, as it is in a developer's venv
# (import-linter brings it). The app never runs that client: marked absent, httpx takes the
# fallback it has for exactly this case (a stub ``httpx.main``). No effect once httpx is
# loaded. Tested by tests/unit/test_start_imports.py.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type] # None: "not importable"
